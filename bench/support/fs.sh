# The work directory of a benchmark, sourced by bench/smtpd_bench.sh and
# bench/relay_bench.sh (POSIX sh):
#
#   . "$here/support/fs.sh"
#   fs_setup NAME        # sets work, image, mounted, file_system; or dies
#   ...
#   fs_teardown          # in the EXIT trap: unmounts and removes it all
#
# With FS=loop (the default) the directory is a fresh ext4 file system
# with a journal, made in a sparse image file of FS_SIZE (default 4G)
# next to it in /var/tmp and mounted through a loop device; a flush on it
# still reaches the disk (the loop device syncs its image file). Why not
# /var/tmp itself: where that is ext4 without a journal (this development
# machine's root), ext4 will not reuse an inode freed in the last 5 s
# (5 min while its inode table block is dirty) and every file creation
# walks past all such inodes of its block group, so creating files gets
# slower with every message deleted before: a run would measure the file
# system's recent history, not the MTA. A journaled ext4 (what a mail
# server runs on) skips that check. FS=dir, or a failed mount, uses
# /var/tmp itself and says so, with a warning when that is ext4 without a
# journal. Not on tmpfs: there a flush would cost nothing.
#
# Trusts: the caller is root (mount) and defines die(); KEEP set keeps
# the directory (and the mount) and says where it is.

# fs_setup NAME: make $work (/var/tmp/NAME.XXXXXX), on a loop file system
# unless FS=dir; sets work, image, mounted and file_system.
fs_setup() {
	FS=${FS:-loop}
	FS_SIZE=${FS_SIZE:-4G}
	case $FS in loop | dir) ;; *) die "FS: loop or dir, not $FS" ;; esac
	work=$(mktemp -d "/var/tmp/$1.XXXXXX") || die "mktemp failed"
	image=""
	mounted=""
	if [ "$FS" = loop ]; then
		image=$work.ext4
		if truncate -s "$FS_SIZE" "$image" 2> /dev/null &&
			mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$image" > /dev/null 2>&1 &&
			timeout 60 mount -o loop "$image" "$work" 2> /dev/null; then
			mounted=1
			file_system="a fresh journaled ext4 on a loop device ($FS_SIZE image in /var/tmp)"
		else
			rm -f "$image"
			image=""
			echo "$1: cannot mount an ext4 image through a loop device; using /var/tmp itself" >&2
			FS=dir
		fi
	fi
	if [ "$FS" = dir ]; then
		file_system="$(findmnt -n -o FSTYPE -T "$work") in /var/tmp"
		fs_source=$(findmnt -n -o SOURCE -T "$work")
		fs_journal=""
		for entry in /proc/fs/jbd2/"${fs_source##*/}"-*; do [ -e "$entry" ] && fs_journal=1; done
		if [ "$(findmnt -n -o FSTYPE -T "$work")" = ext4 ] && [ -z "$fs_journal" ]; then
			file_system="$file_system (ext4 without a journal)"
			echo "$1: warning: /var/tmp is ext4 without a journal: file creation slows" \
				"with every message deleted (see bench/support/fs.sh)" >&2
		fi
	fi
	chmod 755 "$work"
}

# fs_teardown: remove $work (unmount it and its image first), or keep it
# with KEEP set. Safe to call before fs_setup finished.
fs_teardown() {
	[ -n "${work:-}" ] || return 0
	if [ -n "${KEEP:-}" ]; then
		echo "kept $work${mounted:+ (mounted from $image: umount it, then remove both)}" >&2
		return 0
	fi
	if [ -n "${mounted:-}" ]; then
		fs_try=0
		while ! timeout 60 umount "$work" 2> /dev/null && [ "$fs_try" -lt 20 ]; do
			sleep 0.5
			fs_try=$((fs_try + 1))
		done
		findmnt "$work" > /dev/null 2>&1 && timeout 60 umount -l "$work"
		rm -f "$image"
		rmdir "$work"
	else
		rm -rf "$work"
	fi
}
