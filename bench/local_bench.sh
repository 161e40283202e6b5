#!/bin/sh
# Local delivery throughput, hikyaku against Postfix in the same run:
#
#   sendmail -> postdrop -> pickup -> cleanup -> qmgr -> local -> ~/Maildir/new/
#
#   sh bench/local_bench.sh [BUILD_DIR]       # default BUILD_DIR: build
#   N=500 PARALLEL=2 sh bench/local_bench.sh  # a smaller run
#   KEEP=1 sh bench/local_bench.sh            # keep the instances and logs
#
# Each MTA runs as a private instance in a temporary directory (on disk,
# under /var/tmp), started through its own master with the services this
# path needs. N messages of SIZE bytes are submitted with the MTA's own
# sendmail from PARALLEL submitters to one local user with
# home_mailbox = Maildir/; the rate is N divided by the time from the
# first submission until N files are in that user's Maildir/new/. A
# second pass of the same run goes under
# `strace -f -c -e trace=fsync,fdatasync,syncfs` (the master and its
# children, and the submitters apart) to count sync calls per message.
#
# The recipient: as root a user made here with useradd, its home in the
# temporary directory (removed at the end); otherwise ourselves (our real
# ~/Maildir would be used: refused unless ALLOW_OWN_HOME=1). Postfix's
# master needs root, so as an ordinary user only hikyaku is measured.
#
# Postfix: Debian's postfix package (daemons in /usr/lib/postfix/sbin);
# its sendmail and postdrop are taken from the package file itself
# (apt's cache, else `apt-get download`), because /usr/sbin/sendmail may
# be hikyaku's. Needs strace for the second pass.
#
# Everything is bounded by `timeout` (LIMIT seconds per pass); every
# process started here is stopped by its pid or through its instance.
set -u

BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "no build directory ${1:-build}" >&2; exit 2; }
N=${N:-2000}
PARALLEL=${PARALLEL:-4}
SIZE=${SIZE:-4096}
LIMIT=${LIMIT:-300}
POSTFIX_DAEMONS=${POSTFIX_DAEMONS:-/usr/lib/postfix/sbin}
# CLEANUP_MAX_USE: cleanup's max_use in both instances (default: theirs, 100).
cleanup_opt=${CLEANUP_MAX_USE:+ -o max_use=$CLEANUP_MAX_USE}

die() { echo "local_bench: $*" >&2; exit 1; }
command -v strace > /dev/null || die "strace is missing (tools/install-packages.sh test)"
for f in master/master cleanup/cleanup pickup/pickup qmgr/qmgr local/local cmd/sendmail cmd/postdrop cmd/hikyaku; do
	[ -x "$BUILD/$f" ] || die "$BUILD/$f: not built"
done
if [ "$(id -u)" -eq 0 ]; then
	is_root=1
	[ -x "$POSTFIX_DAEMONS/master" ] || die "$POSTFIX_DAEMONS/master: Debian's postfix is not installed"
else
	is_root=0
	[ -n "${ALLOW_OWN_HOME:-}" ] || die "not root: would deliver to your own ~/Maildir (set ALLOW_OWN_HOME=1)"
fi

work=$(mktemp -d /var/tmp/local_bench.XXXXXX) || die "mktemp failed"
chmod 755 "$work"
hk_etc=$work/hikyaku/etc
hk_queue=$work/hikyaku/queue
pf_etc=$work/postfix/etc
pf_queue=$work/postfix/queue
pids=""
user=""

hk() { timeout 60 "$BUILD/cmd/hikyaku" -c "$hk_etc" "$@"; }
pf() { timeout 60 /usr/sbin/postfix -c "$pf_etc" "$@"; }

cleanup_all() {
	hk abort > /dev/null 2>&1
	[ "$is_root" -eq 1 ] && { pf abort > /dev/null 2>&1 || pf stop > /dev/null 2>&1; }
	for pid in $pids; do kill "$pid" 2> /dev/null; done
	for pid in $pids; do wait "$pid" 2> /dev/null; done
	[ "$is_root" -eq 1 ] && [ -n "$user" ] && userdel "$user" 2> /dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup_all EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }

# The recipient.
if [ "$is_root" -eq 1 ]; then
	user=hkb$$
	home=$work/home/$user
	mkdir -p "$work/home"
	chmod 755 "$work/home"
	useradd -M -d "$home" -s /bin/sh "$user" || { user=""; die "useradd failed"; }
	mkdir -p "$home"
	chown "$user:" "$home"
	chmod 755 "$home"
else
	user=$(id -un)
	home=$(getent passwd "$user" | cut -d: -f6)
fi
maildir=$home/Maildir
rcpt=$user@host.example

# The message: SIZE bytes of header and body.
{
	printf 'From: bench@example.org\nTo: %s\nSubject: local bench\n\n' "$rcpt"
	line=$(printf '%075d' 0 | tr 0 x)
	while :; do echo "$line"; done | head -c "$SIZE"
} | head -c "$SIZE" > "$work/message"

# --- hikyaku: daemon_directory with the built daemons, command_directory
# with sendmail and a copied postdrop (set-group-ID by set-permissions).
mkdir -p "$hk_etc" "$work/hikyaku/daemon" "$work/hikyaku/bin"
for d in master cleanup pickup qmgr local; do ln -s "$BUILD/$d/$d" "$work/hikyaku/daemon/$d"; done
ln -s "$BUILD/cmd/sendmail" "$work/hikyaku/bin/sendmail"
cp "$BUILD/cmd/postdrop" "$work/hikyaku/bin/postdrop"
ln -s "$BUILD/cmd/hikyaku" "$work/hikyaku/bin/hikyaku"
cat > "$hk_etc/main.cf" << CF
queue_directory = $hk_queue
data_directory = $work/hikyaku/data
daemon_directory = $work/hikyaku/daemon
command_directory = $work/hikyaku/bin
maillog_file = $work/hikyaku/maillog
myhostname = host.example
mydomain = example
mydestination = host.example, localhost
alias_maps =
home_mailbox = Maildir/
CF
cat > "$hk_etc/master.cf" << CF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup$cleanup_opt
qmgr      unix  n       -       n       300     1       qmgr
local     unix  -       n       n       -       -       local
CF
hk set-permissions > /dev/null 2>&1 || die "hikyaku set-permissions failed"

# --- Postfix: its sendmail and postdrop from the package file.
if [ "$is_root" -eq 1 ]; then
	version=$(dpkg-query -W -f '${Version}' postfix 2> /dev/null) || die "postfix is not installed"
	deb=$(ls /var/cache/apt/archives/postfix_"$(echo "$version" | sed 's/:/%3a/')"_*.deb 2> /dev/null | head -1)
	if [ -z "$deb" ]; then
		(cd "$work" && timeout 120 apt-get download "postfix=$version" > /dev/null 2>&1)
		deb=$(ls "$work"/postfix_*.deb 2> /dev/null | head -1)
	fi
	[ -n "$deb" ] || die "cannot find or download the postfix $version package"
	mkdir -p "$work/postfix/package" "$work/postfix/bin" "$pf_etc" "$work/postfix/data"
	dpkg-deb -x "$deb" "$work/postfix/package" || die "cannot unpack $deb"
	cp "$work"/postfix/package/usr/sbin/* "$work/postfix/bin/"
	chgrp postdrop "$work/postfix/bin/postdrop" "$work/postfix/bin/postqueue" &&
		chmod 2755 "$work/postfix/bin/postdrop" "$work/postfix/bin/postqueue"
	chown postfix "$work/postfix/data"
	cat > "$pf_etc/main.cf" << CF
compatibility_level = 3.6
queue_directory = $pf_queue
data_directory = $work/postfix/data
command_directory = $work/postfix/bin
daemon_directory = $POSTFIX_DAEMONS
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $work/postfix/maillog
myhostname = host.example
mydomain = example
mydestination = host.example, localhost
inet_interfaces = loopback-only
alias_maps =
alias_database =
home_mailbox = Maildir/
biff = no
CF
	# The services of this path as in Debian's master.cf (not chrooted):
	# trivial-rewrite for cleanup and qmgr, bounce/defer/trace for qmgr's
	# reports, postlogd for maillog_file.
	cat > "$pf_etc/master.cf" << CF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup$cleanup_opt
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
retry     unix  -       -       n       -       -       error
error     unix  -       -       n       -       -       error
local     unix  -       n       n       -       -       local
postlog   unix-dgram n  -       n       -       1       postlogd
CF
	mkdir -p "$pf_queue"
	pf check > "$work/postfix/check.log" 2>&1 || { cat "$work/postfix/check.log" >&2; die "postfix check failed"; }
fi

# The submitters: PARALLEL loops of sendmail, N messages in all.
cat > "$work/submit.sh" << 'SH'
# submit.sh SENDMAIL CONFIG_DIR N PARALLEL MESSAGE LIMIT RCPT
per=$(($3 / $4))
i=1
pids=""
while [ "$i" -le "$4" ]; do
	count=$per
	[ "$i" -eq "$4" ] && count=$(($3 - per * ($4 - 1)))
	timeout "$6" sh -c '
		j=0; failed=0
		while [ "$j" -lt "$1" ]; do
			"$2" -C "$3" -f bench@example.org "$5" < "$4" || failed=$((failed + 1))
			j=$((j + 1))
		done
		[ "$failed" -eq 0 ] || echo "$failed submissions failed" >&2' \
		submitter "$count" "$1" "$2" "$5" "$7" &
	pids="$pids $!"
	i=$((i + 1))
done
for pid in $pids; do wait "$pid"; done
SH

delivered() { find "$maildir/new" -type f 2> /dev/null | wc -l; }

# wait_delivered: until N files are in Maildir/new/, at most LIMIT seconds.
wait_delivered() {
	deadline=$(($(date +%s) + LIMIT))
	while [ "$(delivered)" -lt "$N" ]; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# fresh: an empty Maildir and queue before a pass.
fresh() {
	rm -rf "$maildir"
	mkdir -p "$maildir/new" "$maildir/cur" "$maildir/tmp"
	[ "$is_root" -eq 1 ] && chown -R "$user:" "$maildir"
	chmod 700 "$maildir"
	for d in incoming active deferred hold maildrop bounce defer trace; do
		find "$1/$d" -type f -exec rm -f {} + 2> /dev/null
	done
}

mta_vars() {
	if [ "$1" = hikyaku ]; then
		sendmail=$work/hikyaku/bin/sendmail etc=$hk_etc queue=$hk_queue
	else
		sendmail=$work/postfix/bin/sendmail etc=$pf_etc queue=$pf_queue
	fi
}

# timed_pass MTA: the seconds from the first submission until N files are
# in Maildir/new/.
timed_pass() {
	mta_vars "$1"
	fresh "$queue"
	if [ "$1" = hikyaku ]; then hk start; else pf start; fi > /dev/null 2>&1 || die "$1 did not start"
	sleep 1 # the master starts pickup and qmgr
	start=$(now)
	sh "$work/submit.sh" "$sendmail" "$etc" "$N" "$PARALLEL" "$work/message" "$LIMIT" "$rcpt"
	wait_delivered || echo "$1: only $(delivered) of $N delivered within ${LIMIT}s" >&2
	end=$(now)
	if [ "$1" = hikyaku ]; then hk stop; else pf stop; fi > /dev/null 2>&1
	echo "$start $end" | awk '{ printf "%.3f\n", $2 - $1 }'
}

total_syncs() {
	awk '$NF ~ /^(fsync|fdatasync|syncfs)$/ { n += $4 } END { print n + 0 }' "$1" 2> /dev/null
}

# strace_pass MTA: the same run with the master (in the foreground) and
# its children traced, and the submitters traced apart.
# Prints "DAEMON_SYNCS SUBMITTER_SYNCS".
strace_pass() {
	mta_vars "$1"
	fresh "$queue"
	if [ "$1" = hikyaku ]; then
		set -- "$1" "$BUILD/cmd/hikyaku" -c "$hk_etc" start-fg
	else
		set -- "$1" "$POSTFIX_DAEMONS/master" -c "$pf_etc" -d
	fi
	mta=$1
	shift
	MAIL_CONFIG=$etc timeout "$LIMIT" strace -f -c -e trace=fsync,fdatasync,syncfs \
		-o "$work/$mta.daemons.strace" "$@" > /dev/null 2>&1 &
	tracer=$!
	pids="$pids $tracer"
	sleep 1
	strace -f -c -e trace=fsync,fdatasync,syncfs -o "$work/$mta.submit.strace" \
		sh "$work/submit.sh" "$sendmail" "$etc" "$N" "$PARALLEL" "$work/message" "$LIMIT" "$rcpt"
	wait_delivered || echo "$mta (strace): only $(delivered) of $N delivered" >&2
	if [ "$mta" = hikyaku ]; then hk stop; else pf stop; fi > /dev/null 2>&1
	wait "$tracer" 2> /dev/null
	pids=""
	echo "$(total_syncs "$work/$mta.daemons.strace") $(total_syncs "$work/$mta.submit.strace")"
}

mtas=hikyaku
[ "$is_root" -eq 1 ] && mtas="hikyaku postfix"
echo "local delivery benchmark: $N messages of $SIZE bytes from $PARALLEL sendmail loops to $rcpt, Maildir/ ($(nproc) CPUs, $(uname -r))"
for mta in $mtas; do eval "${mta}_seconds=\$(timed_pass $mta)"; done
for mta in $mtas; do eval "${mta}_syncs=\$(strace_pass $mta)"; done

printf '%-10s %10s %12s %18s %18s\n' "" "seconds" "messages/s" "daemon syncs/msg" "submit syncs/msg"
for mta in $mtas; do
	eval "s=\$${mta}_seconds y=\$${mta}_syncs"
	echo "$mta $s $y $N" | awk '{ printf "%-10s %10.2f %12.0f %18.2f %18.2f\n",
		$1, $2, $5 / $2, $3 / $5, $4 / $5 }'
done
[ "$is_root" -eq 1 ] &&
	echo "$hikyaku_seconds $postfix_seconds" | awk '{ printf "hikyaku / postfix: %.2fx\n", $2 / $1 }'
exit 0
