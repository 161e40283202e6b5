#!/bin/sh
# Local submission throughput, hikyaku against Postfix in the same run:
#
#   sendmail -> postdrop -> maildrop/ -> pickup -> cleanup -> incoming/
#
#   sh bench/submit_bench.sh [BUILD_DIR]       # default BUILD_DIR: build
#   N=500 PARALLEL=2 sh bench/submit_bench.sh  # a smaller run
#   KEEP=1 sh bench/submit_bench.sh             # keep the instances and logs
#
# Each MTA runs as a private instance in a temporary directory (on disk,
# under /var/tmp: a flush on tmpfs would cost nothing), started through
# its own master with only the services this path needs (no queue
# manager: the messages stay in incoming/). N messages of SIZE bytes are
# submitted with the MTA's own sendmail from PARALLEL submitters; the
# rate is N divided by the time from the first submission until all N
# files are in incoming/. A second pass of the same submission runs under
# `strace -f -c -e trace=fsync,fdatasync,syncfs` (the master and its
# children, and the submitters apart) to count the sync calls per message.
#
# Postfix: Debian's postfix package (its daemons in /usr/lib/postfix/sbin).
# Its sendmail, postdrop (and the other commands of its
# command_directory) are taken from the package file itself (apt's
# cache, else `apt-get download`), because /usr/sbin/sendmail may be
# hikyaku's. Needs root (Postfix's master does) and strace.
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

die() { echo "submit_bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (Postfix's master needs it)"
command -v strace > /dev/null || die "strace is missing (tools/install-packages.sh test)"
for f in master/master cleanup/cleanup pickup/pickup cmd/sendmail cmd/postdrop cmd/hikyaku; do
	[ -x "$BUILD/$f" ] || die "$BUILD/$f: not built"
done
[ -x "$POSTFIX_DAEMONS/master" ] || die "$POSTFIX_DAEMONS/master: Debian's postfix is not installed"

work=$(mktemp -d /var/tmp/submit_bench.XXXXXX) || die "mktemp failed"
chmod 755 "$work"
hk_etc=$work/hikyaku/etc
hk_queue=$work/hikyaku/queue
pf_etc=$work/postfix/etc
pf_queue=$work/postfix/queue
pids=""

hk() { timeout 60 "$BUILD/cmd/hikyaku" -c "$hk_etc" "$@"; }
pf() { timeout 60 /usr/sbin/postfix -c "$pf_etc" "$@"; }

cleanup_all() {
	hk abort > /dev/null 2>&1
	pf abort > /dev/null 2>&1 || pf stop > /dev/null 2>&1
	for pid in $pids; do kill "$pid" 2> /dev/null; done
	for pid in $pids; do wait "$pid" 2> /dev/null; done
	if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup_all EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }

# The message: SIZE bytes of header and body.
{
	printf 'From: bench@example.org\nTo: rcpt@example.org\nSubject: submit bench\n\n'
	line=$(printf '%075d' 0 | tr 0 x)
	while :; do echo "$line"; done | head -c "$SIZE"
} | head -c "$SIZE" > "$work/message"

# --- hikyaku: daemon_directory with the built daemons, command_directory
# with sendmail and a copied postdrop (set-group-ID by set-permissions).
mkdir -p "$hk_etc" "$work/hikyaku/daemon" "$work/hikyaku/bin"
for d in master cleanup pickup; do ln -s "$BUILD/$d/$d" "$work/hikyaku/daemon/$d"; done
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
CF
cat > "$hk_etc/master.cf" << CF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
CF
hk set-permissions > /dev/null 2>&1 || die "hikyaku set-permissions failed"

# --- Postfix: its sendmail and postdrop from the package file.
version=$(dpkg-query -W -f '${Version}' postfix 2> /dev/null) || die "postfix is not installed"
deb=$(ls /var/cache/apt/archives/postfix_"$(echo "$version" | sed 's/:/%3a/')"_*.deb 2> /dev/null | head -1)
if [ -z "$deb" ]; then
	(cd "$work" && timeout 120 apt-get download "postfix=$version" > /dev/null 2>&1)
	deb=$(ls "$work"/postfix_*.deb 2> /dev/null | head -1)
fi
[ -n "$deb" ] || die "cannot find or download the postfix $version package"
mkdir -p "$work/postfix/package" "$work/postfix/bin" "$pf_etc" "$work/postfix/data"
dpkg-deb -x "$deb" "$work/postfix/package" || die "cannot unpack $deb"
# postfix-script runs postconf, postlog, ... from command_directory too.
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
mydestination =
inet_interfaces = loopback-only
# No queue manager hands out mail flow tokens here: without this, cleanup
# would pause a second before each message.
in_flow_delay = 0
CF
# pickup and cleanup as hikyaku's; trivial-rewrite does cleanup's address
# rewriting; postlogd writes maillog_file. No queue manager.
cat > "$pf_etc/master.cf" << CF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
rewrite   unix  -       -       n       -       -       trivial-rewrite
postlog   unix-dgram n  -       n       -       1       postlogd
CF
mkdir -p "$pf_queue"
pf check > "$work/postfix/check.log" 2>&1 || { cat "$work/postfix/check.log" >&2; die "postfix check failed"; }
# cleanup pokes the queue manager through public/qmgr after each message
# and logs a warning when that is missing: a FIFO nobody reads stands in
# (opening it fails at once, quietly, as hikyaku's cleanup does when no
# queue manager listens).
mkfifo -m 622 "$pf_queue/public/qmgr" && chown postfix:postdrop "$pf_queue/public/qmgr"

# The submitters: PARALLEL loops of sendmail, N messages in all.
cat > "$work/submit.sh" << 'SH'
# submit.sh SENDMAIL CONFIG_DIR N PARALLEL MESSAGE LIMIT
per=$(($3 / $4))
i=1
pids=""
while [ "$i" -le "$4" ]; do
	count=$per
	[ "$i" -eq "$4" ] && count=$(($3 - per * ($4 - 1)))
	timeout "$6" sh -c '
		j=0; failed=0
		while [ "$j" -lt "$1" ]; do
			"$2" -C "$3" -f bench@example.org rcpt@example.org < "$4" || failed=$((failed + 1))
			j=$((j + 1))
		done
		[ "$failed" -eq 0 ] || echo "$failed submissions failed" >&2' \
		submitter "$count" "$1" "$2" "$5" &
	pids="$pids $!"
	i=$((i + 1))
done
for pid in $pids; do wait "$pid"; done
SH

queued() { find "$1/incoming" "$1/active" "$1/deferred" "$1/hold" -type f 2> /dev/null | wc -l; }

# wait_queued QUEUE: until N files are queued, at most LIMIT seconds.
wait_queued() {
	deadline=$(($(date +%s) + LIMIT))
	while [ "$(queued "$1")" -lt "$N" ]; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# empty_queue QUEUE: remove what the previous pass queued.
empty_queue() {
	find "$1/incoming" "$1/active" "$1/deferred" "$1/hold" "$1/maildrop" -type f \
		-exec rm -f {} + 2> /dev/null
	rm -f "$1"/public/*.strace 2> /dev/null
}

# mta_vars MTA: sendmail, config and queue of the MTA.
mta_vars() {
	if [ "$1" = hikyaku ]; then
		sendmail=$work/hikyaku/bin/sendmail etc=$hk_etc queue=$hk_queue
	else
		sendmail=$work/postfix/bin/sendmail etc=$pf_etc queue=$pf_queue
	fi
}

# timed_pass MTA: prints the seconds from the first submission until all
# N messages are queued.
timed_pass() {
	mta_vars "$1"
	empty_queue "$queue"
	if [ "$1" = hikyaku ]; then hk start; else pf start; fi > /dev/null 2>&1 || die "$1 did not start"
	sleep 1 # the master starts pickup
	start=$(now)
	sh "$work/submit.sh" "$sendmail" "$etc" "$N" "$PARALLEL" "$work/message" "$LIMIT"
	wait_queued "$queue" || echo "$1: only $(queued "$queue") of $N queued within ${LIMIT}s" >&2
	end=$(now)
	if [ "$1" = hikyaku ]; then hk stop; else pf stop; fi > /dev/null 2>&1
	echo "$start $end" | awk '{ printf "%.3f\n", $2 - $1 }'
}

# total_syncs FILE: the calls in a strace -c summary (column 4: calls).
total_syncs() {
	awk '$NF ~ /^(fsync|fdatasync|syncfs)$/ { n += $4 } END { print n + 0 }' "$1" 2> /dev/null
}

# strace_pass MTA: the same submission with the master (kept in the
# foreground) and its children traced, and the submitters traced apart.
# Prints "DAEMON_SYNCS SUBMITTER_SYNCS".
strace_pass() {
	mta_vars "$1"
	empty_queue "$queue"
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
		sh "$work/submit.sh" "$sendmail" "$etc" "$N" "$PARALLEL" "$work/message" "$LIMIT"
	wait_queued "$queue" || echo "$mta (strace): only $(queued "$queue") of $N queued" >&2
	if [ "$mta" = hikyaku ]; then hk stop; else pf stop; fi > /dev/null 2>&1
	wait "$tracer" 2> /dev/null
	pids=""
	echo "$(total_syncs "$work/$mta.daemons.strace") $(total_syncs "$work/$mta.submit.strace")"
}

echo "submit benchmark: $N messages of $SIZE bytes from $PARALLEL sendmail loops ($(nproc) CPUs, $(uname -r))"
hk_seconds=$(timed_pass hikyaku)
pf_seconds=$(timed_pass postfix)
hk_syncs=$(strace_pass hikyaku)
pf_syncs=$(strace_pass postfix)
hk_stats=$(grep 'statistics:' "$work/hikyaku/maillog" | tail -1 | sed 's/.*statistics: //')

printf '%-10s %10s %12s %18s %18s\n' "" "seconds" "messages/s" "daemon syncs/msg" "submit syncs/msg"
for mta in hikyaku postfix; do
	if [ "$mta" = hikyaku ]; then s=$hk_seconds y=$hk_syncs; else s=$pf_seconds y=$pf_syncs; fi
	echo "$mta $s $y $N" | awk '{ printf "%-10s %10.2f %12.0f %18.2f %18.2f\n",
		$1, $2, $5 / $2, $3 / $5, $4 / $5 }'
done
echo "$hk_seconds $pf_seconds" | awk '{ printf "hikyaku / postfix: %.2fx\n", $2 / $1 }'
[ -n "$hk_stats" ] && echo "hikyaku cleanup (last process, traced pass): $hk_stats"
