#!/bin/sh
# SMTP reception and delivery, hikyaku against Postfix in the same run:
#
#   smtp-source -> smtpd -> cleanup -> qmgr -> local -> ~/Maildir/new/
#
#   sh bench/smtpd_bench.sh [BUILD_DIR]        # default BUILD_DIR: build
#   N=1000 TRIES=50 ROUNDS=1 sh bench/smtpd_bench.sh   # a smaller run
#   MTAS=postfix sh bench/smtpd_bench.sh       # one side only
#   KEEP=1 sh bench/smtpd_bench.sh             # keep the instances and logs
#   FS=dir sh bench/smtpd_bench.sh             # in /var/tmp itself, no loop device
#
# Each MTA runs as a private instance in one temporary directory on disk
# (under /var/tmp: on tmpfs a flush would cost nothing), through its own
# master, with smtpd on its own port of 127.0.0.1, cleanup, qmgr, local and
# pickup (Postfix also the helpers its smtpd, cleanup and qmgr need:
# trivial-rewrite, proxymap for local_recipient_maps, anvil, bounce/defer/
# trace, error/retry, postlogd for maillog_file), the same main.cf
# settings (mydestination, mynetworks = 127.0.0.0/8, home_mailbox =
# Maildir/, empty alias_maps, log to a file) and each its default
# durability (both flush the queue file before the 250 after the dot).
# The recipient is one user made here with useradd, its home in the
# temporary directory (removed at the end). Only one MTA is ever sent mail
# at a time, and each pass waits until all its mail is delivered:
#
# 1. memory: each MTA alone (started, 5 messages, idle 2 s): the master
#    and all its descendants, the sums of VmRSS (/proc/PID/status) and Pss
#    (/proc/PID/smaps_rollup), and how many processes. Alone, because
#    running side by side they would share the pages of common libraries
#    (libc, libcrypto) and both PSS would drop.
# 2. latency: then both run side by side. TRIES single messages (after 5
#    unmeasured ones), one at a time on an idle server (each waits until
#    the previous one is in Maildir/new/), timed from connect() to the
#    reply to the dot (bench/support/smtp_probe.c); median and p99 in ms.
#    The tries are spread over ROUNDS turns, the MTAs taking turns.
# 3. throughput, ROUNDS times, the MTAs taking turns (first the one, then
#    the other, in the next round the other way): Postfix's smtp-source
#    sends N messages of SIZE bytes over SESSIONS parallel sessions (one
#    connection per message); accepted/s is N over the time until
#    smtp-source exits, delivered/s N over the time until N files are in
#    Maildir/new/ (at most LIMIT seconds, else the run fails). The table
#    gives the median round; the rounds are listed under it. Taking turns
#    keeps a machine whose load changes from favouring one side. Also
#    CPU ms/msg: the user and system time of the instance's processes
#    over the round (with the daemons that exited, from the master's
#    cutime/cstime), divided by N.
# 4. syncs: a separate run of SYNC_N messages with the master (in the
#    foreground) and its children under `strace -f -e
#    trace=execve,clone,...,fsync,fdatasync,syncfs`, received and
#    delivered; sync calls per message, in all and per program (strace
#    slows the run, so it is not timed).
#
# The directory is, by default (FS=loop), a fresh ext4 file system with a
# journal, made in an image file next to it (FS_SIZE, sparse) and mounted
# through a loop device; a flush on it still reaches the disk (the loop
# device syncs its image file). Why not /var/tmp itself: where that is
# ext4 without a journal (this development machine's root), ext4 will not
# reuse an inode freed in the last 5 s (5 min while its inode table block
# is dirty) and every file creation walks past all such inodes of its
# block group, one buffer cache lookup each. Each message creates two
# files (queue file, Maildir file) and frees them, so creation got slower
# with every round, for both MTAs (0.02 ms per file on a fresh group, up
# to 0.8 ms after a few rounds): the rounds measured the file system's
# recent history, not the MTA. A journaled ext4 (what a mail server runs
# on) skips that check. FS=dir, or a failed mount, uses /var/tmp itself
# and says so, with a warning when that is ext4 without a journal. The
# code is bench/support/fs.sh, shared with bench/relay_bench.sh.
#
# Needs root (Postfix's master and local delivery to another user do),
# Debian's postfix (smtp-source, daemons in /usr/lib/postfix/sbin), strace
# and cc. Everything is bounded by `timeout`; every process started here is
# stopped by its pid or through its instance, and the directory is removed.
set -u

BUILD=$(cd "${1:-build}" 2> /dev/null && pwd) || { echo "no build directory ${1:-build}" >&2; exit 2; }
N=${N:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
TRIES=${TRIES:-200}
ROUNDS=${ROUNDS:-3}
SYNC_N=${SYNC_N:-500}
LIMIT=${LIMIT:-300}
MTAS=${MTAS:-hikyaku postfix}
FS=${FS:-loop}
FS_SIZE=${FS_SIZE:-4G}
POSTFIX_DAEMONS=${POSTFIX_DAEMONS:-/usr/lib/postfix/sbin}
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "smtpd_bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (Postfix's master and local delivery need it)"
smtp_source=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$smtp_source" ] || die "smtp-source is missing (Debian package postfix)"
command -v strace > /dev/null || die "strace is missing (tools/install-packages.sh test)"
command -v cc > /dev/null || die "cc is missing"
for mta in $MTAS; do
	case $mta in
	hikyaku)
		for f in master/master cleanup/cleanup pickup/pickup qmgr/qmgr local/local cmd/hikyaku; do
			[ -x "$BUILD/$f" ] || die "hikyaku: $BUILD/$f: not built"
		done
		[ -x "$BUILD/smtpd/smtpd" ] ||
			die "hikyaku: $BUILD/smtpd/smtpd: smtpd not built (MTAS=postfix measures Postfix alone)"
		;;
	postfix)
		[ -x "$POSTFIX_DAEMONS/master" ] || die "$POSTFIX_DAEMONS/master: Debian's postfix is not installed"
		;;
	*) die "MTAS: unknown MTA $mta" ;;
	esac
done

# shellcheck source=bench/support/fs.sh
. "$here/support/fs.sh"
work=""
fs_setup smtpd_bench
hk_etc=$work/hikyaku/etc
hk_queue=$work/hikyaku/queue
pf_etc=$work/postfix/etc
pf_queue=$work/postfix/queue
pids=""
user=""

hk() { timeout 60 "$BUILD/cmd/hikyaku" -c "$hk_etc" "$@"; }
pf() { timeout 60 /usr/sbin/postfix -c "$pf_etc" "$@"; }

# shellcheck disable=SC2317 # called by the trap
cleanup_all() {
	case " $MTAS " in *" hikyaku "*) hk abort > /dev/null 2>&1 ;; esac
	case " $MTAS " in *" postfix "*) pf abort > /dev/null 2>&1 || pf stop > /dev/null 2>&1 ;; esac
	for pid in $pids; do kill "$pid" 2> /dev/null; done
	for pid in $pids; do wait "$pid" 2> /dev/null; done
	[ -n "$user" ] && userdel "$user" 2> /dev/null
	fs_teardown
}
trap cleanup_all EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }

probe=$work/smtp_probe
hz=$(getconf CLK_TCK)
cc -O2 -std=c11 -o "$probe" "$here/support/smtp_probe.c" || die "cannot build $here/support/smtp_probe.c"

# The recipient: a user whose home is in the work directory.
user=hkb$$
home=$work/home/$user
mkdir -p "$work/home"
chmod 755 "$work/home"
useradd -M -d "$home" -s /bin/sh "$user" || { user=""; die "useradd failed"; }
mkdir -p "$home"
chown "$user:" "$home"
chmod 755 "$home"
maildir=$home/Maildir
rcpt=$user@host.example
sender=bench@example.org

# --- hikyaku: daemon_directory with links to the built daemons.
hk_port=$("$probe" port) || die "no free port"
mkdir -p "$hk_etc" "$work/hikyaku/daemon" "$work/hikyaku/bin"
for d in master cleanup pickup qmgr local smtpd; do
	[ -x "$BUILD/$d/$d" ] && ln -s "$BUILD/$d/$d" "$work/hikyaku/daemon/$d"
done
ln -s "$BUILD/cmd/hikyaku" "$work/hikyaku/bin/hikyaku"
[ -x "$BUILD/cmd/sendmail" ] && ln -s "$BUILD/cmd/sendmail" "$work/hikyaku/bin/sendmail"
[ -x "$BUILD/cmd/postdrop" ] && cp "$BUILD/cmd/postdrop" "$work/hikyaku/bin/postdrop"
cat > "$hk_etc/main.cf" << CF
queue_directory = $hk_queue
data_directory = $work/hikyaku/data
daemon_directory = $work/hikyaku/daemon
command_directory = $work/hikyaku/bin
maillog_file = $work/hikyaku/maillog
myhostname = host.example
mydomain = example
mydestination = host.example, localhost
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
alias_maps =
home_mailbox = Maildir/
CF
cat > "$hk_etc/master.cf" << CF
127.0.0.1:$hk_port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
local     unix  -       n       n       -       -       local
CF
case " $MTAS " in *" hikyaku "*)
	hk set-permissions > "$work/hikyaku/set-permissions.log" 2>&1 ||
		{ cat "$work/hikyaku/set-permissions.log" >&2; die "hikyaku set-permissions failed"; }
	;;
esac

# --- Postfix: Debian's daemons and commands, its own queue and data.
pf_port=$("$probe" port) || die "no free port"
while [ "$pf_port" = "$hk_port" ]; do pf_port=$("$probe" port); done
case " $MTAS " in *" postfix "*)
	mkdir -p "$pf_etc" "$work/postfix/data" "$pf_queue"
	chown postfix "$work/postfix/data"
	cat > "$pf_etc/main.cf" << CF
compatibility_level = 3.6
queue_directory = $pf_queue
data_directory = $work/postfix/data
daemon_directory = $POSTFIX_DAEMONS
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $work/postfix/maillog
myhostname = host.example
mydomain = example
mydestination = host.example, localhost
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
alias_maps =
alias_database =
home_mailbox = Maildir/
biff = no
CF
	# The services as in Debian's master.cf (not chrooted) that this path
	# uses: smtpd on its port; trivial-rewrite for smtpd, cleanup and
	# qmgr; proxymap for smtpd's local_recipient_maps (its default,
	# proxy:unix:passwd.byname); anvil for smtpd's client limits;
	# bounce/defer/trace and error/retry for qmgr; postlogd for
	# maillog_file.
	cat > "$pf_etc/master.cf" << CF
127.0.0.1:$pf_port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
retry     unix  -       -       n       -       -       error
error     unix  -       -       n       -       -       error
local     unix  -       n       n       -       -       local
postlog   unix-dgram n  -       n       -       1       postlogd
CF
	pf check > "$work/postfix/check.log" 2>&1 || { cat "$work/postfix/check.log" >&2; die "postfix check failed"; }
	;;
esac

# mta_vars MTA: the MTA's port, queue and log.
mta_vars() {
	if [ "$1" = hikyaku ]; then
		port=$hk_port queue=$hk_queue log=$work/hikyaku/maillog
	else
		port=$pf_port queue=$pf_queue log=$work/postfix/maillog
	fi
}

start_mta() { if [ "$1" = hikyaku ]; then hk start; else pf start; fi > "$work/$1.start.log" 2>&1 ||
	{ cat "$work/$1.start.log" >&2; die "$1 did not start"; }; }
# stop_mta MTA: stop it and wait (at most 10 s) until its master is gone.
stop_mta() {
	stopping=$(master_pid "$(if [ "$1" = hikyaku ]; then echo "$hk_queue"; else echo "$pf_queue"; fi)")
	if [ "$1" = hikyaku ]; then hk stop; else pf stop; fi > /dev/null 2>&1
	i=0
	while [ -n "$stopping" ] && kill -0 "$stopping" 2> /dev/null && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# master_pid QUEUE: the pid in the master's pid file (both MTAs keep it in
# $queue_directory/pid/master.pid).
master_pid() { tr -d ' \n' < "$1/pid/master.pid" 2> /dev/null; }

# wait_port PORT: until something listens on 127.0.0.1:PORT (at most 10 s).
wait_port() {
	i=0
	while [ "$i" -lt 100 ]; do
		awk -v port="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == port { found = 1 }
			END { exit !found }' /proc/net/tcp && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# fresh_maildir: an empty Maildir for the recipient.
fresh_maildir() {
	rm -rf "$maildir"
	mkdir -p "$maildir/new" "$maildir/cur" "$maildir/tmp"
	chown -R "$user:" "$maildir"
	chmod 700 "$maildir"
}

# tree PID: PID and all its descendants.
tree() {
	cat /proc/[0-9]*/stat 2> /dev/null | awk -v root="$1" '
		NF { pid = $1; sub(/^.*\) /, ""); parent[pid] = $2; order[++count] = pid }
		END {
			keep[root] = 1; changed = 1
			while (changed) {
				changed = 0
				for (i = 1; i <= count; i++) {
					p = order[i]
					if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
				}
			}
			for (p in keep) print p
		}'
}

# memory PID: "RSS_KIB PSS_KIB PROCESSES" of PID and all its descendants.
memory() {
	rss=0 pss=0 count=0
	for p in $(tree "$1"); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2> /dev/null)
		s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2> /dev/null)
		[ -n "$r" ] || continue
		rss=$((rss + r)) pss=$((pss + ${s:-0})) count=$((count + 1))
		echo "$p $r ${s:-0} $(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-60)" >> "$work/$mta.processes"
	done
	echo "$rss $pss $count"
}

# cpu_ticks PID: the CPU time (user and system, clock ticks) used so far by
# PID and its descendants, and by their children that have been reaped
# (a daemon that exits is counted in the master's cutime and cstime).
cpu_ticks() {
	for p in $(tree "$1"); do
		cat "/proc/$p/stat" 2> /dev/null
		echo
	done | awk '{ sub(/^.*\) /, ""); n += $12 + $13 + $14 + $15 } END { print n + 0 }'
}

# run_source COUNT: smtp-source sends COUNT messages; fails loudly.
run_source() {
	timeout "$LIMIT" "$smtp_source" -s "$SESSIONS" -m "$1" -l "$SIZE" -f "$sender" -t "$rcpt" \
		"127.0.0.1:$port" > "$work/$mta.source.log" 2>&1 ||
		{ tail -5 "$work/$mta.source.log" >&2; tail -20 "$log" >&2; die "$mta: smtp-source failed"; }
}

# wait_delivered COUNT: until COUNT files are in Maildir/new/; fails loudly.
wait_delivered() {
	"$probe" wait "$maildir/new" "$1" "$LIMIT" ||
		{ tail -20 "$log" >&2; die "$mta: not all $1 messages delivered within ${LIMIT}s"; }
}

# problem_lines LOG: the log's warnings and errors, less two that Postfix
# logs in every run here and that do not concern this path: its
# postfix-script finds /usr/sbin/postdrop not its own when hikyaku's is
# installed, and its master in the foreground (the traced run) cannot kill
# a process group it does not lead when it stops.
problem_lines() {
	grep -iE 'warning|error|fatal|panic' "$1" 2> /dev/null |
		grep -vE 'not owned by group postdrop|master_sigdeath: kill process group'
}

# sync_calls FILE: from `strace -f -e trace=execve,clone,...` output, the sync
# calls per program and call ("cleanup:fsync=500 local:fdatasync=500"),
# each process named after the program it last executed.
sync_calls() {
	awk '
		$2 ~ /^execve\(/ && $0 !~ /= -1/ {
			program = $2
			sub(/^execve\("/, "", program); sub(/".*/, "", program); sub(/.*\//, "", program)
			name[$1] = program
		}
		$2 ~ /^(fsync|fdatasync|syncfs)\(/ {
			call = $2; sub(/\(.*/, "", call)
			key = (($1 in name) ? name[$1] : "?") ":" call
			if (!(key in count)) keys[++n] = key
			count[key]++
		}
		# A child is named after its parent until it executes a program
		# (its execve may be printed before the parent returns from clone).
		$0 ~ /(clone|clone3|fork|vfork)(\(| resumed)/ && $NF ~ /^[0-9]+$/ && ($1 in name) &&
			!($NF in name) { name[$NF] = name[$1] }
		$2 == "+++" { delete name[$1] }
		END { for (i = 1; i <= n; i++) printf "%s%s=%d", (i > 1 ? " " : ""), keys[i], count[keys[i]] }
	' "$1" 2> /dev/null
}

# total_syncs CALLS: the sum of a sync_calls line.
total_syncs() { echo "$1" | tr ' ' '\n' | awk -F= '{ n += $2 } END { print n + 0 }'; }

# order ROUND: the MTAs in their order on odd rounds, reversed on even
# ones, so that neither always runs first.
order() {
	if [ $(($1 % 2)) -eq 1 ]; then echo "$MTAS"; else echo "$MTAS" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }'; fi
}

# median FILE COLUMN: the median of a column of numbers.
median() {
	sort -n -k "$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "smtpd benchmark: $N messages of $SIZE bytes over $SESSIONS sessions, $ROUNDS rounds;" \
	"$TRIES latency tries; $SYNC_N messages traced ($(nproc) CPUs, $(uname -r)," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)); on $file_system"

# warm_up MTA: 5 messages that start the processes on the way.
warm_up() {
	"$probe" latency 127.0.0.1 "$port" 5 "$SIZE" "$sender" "$rcpt" "$maildir/new" > /dev/null ||
		{ tail -20 "$log" >&2; die "$1: the warm-up messages failed"; }
}

# 1. Memory, each MTA alone (they would share pages of common libraries
# such as libc and libcrypto, which lowers both their PSS), idle 2 s
# after 5 messages.
fresh_maildir
for mta in $MTAS; do
	mta_vars "$mta"
	start_mta "$mta"
	wait_port "$port" || die "$mta: nothing listens on 127.0.0.1:$port"
	sleep 1
	warm_up "$mta"
	sleep 2
	pid=$(master_pid "$queue")
	{ [ -n "$pid" ] && [ -d "/proc/$pid" ]; } || die "$mta: no master pid in $queue/pid/master.pid"
	: > "$work/$mta.processes"
	memory "$pid" > "$work/$mta.memory"
	stop_mta "$mta"
done

# From here both instances run side by side; only one is ever sent mail
# at a time.
for mta in $MTAS; do
	mta_vars "$mta"
	start_mta "$mta"
	wait_port "$port" || die "$mta: nothing listens on 127.0.0.1:$port"
	: > "$work/$mta.latency"
	: > "$work/$mta.rounds"
done
sleep 1

# 2. Latency on an idle server, after 5 tries that start the processes;
# the tries are spread over the rounds, the MTAs taking turns.
for mta in $MTAS; do
	mta_vars "$mta"
	warm_up "$mta"
done
round=1
while [ "$round" -le "$ROUNDS" ]; do
	tries=$((TRIES * round / ROUNDS - TRIES * (round - 1) / ROUNDS))
	for mta in $(order "$round"); do
		mta_vars "$mta"
		"$probe" latency 127.0.0.1 "$port" "$tries" "$SIZE" "$sender" "$rcpt" "$maildir/new" \
			>> "$work/$mta.latency" || { tail -20 "$log" >&2; die "$mta: the latency probe failed"; }
	done
	round=$((round + 1))
done

# 3. Throughput, ROUNDS times, the MTAs taking turns.
round=1
while [ "$round" -le "$ROUNDS" ]; do
	for mta in $(order "$round"); do
		mta_vars "$mta"
		fresh_maildir
		pid=$(master_pid "$queue")
		ticks=$(cpu_ticks "$pid")
		start=$(now)
		run_source "$N"
		accepted=$(now)
		wait_delivered "$N"
		delivered=$(now)
		# The last file is in new/ a moment before local reports to
		# the queue manager: wait for that before the next pass.
		sleep 1
		ticks=$(($(cpu_ticks "$pid") - ticks))
		echo "$start $accepted $delivered $ticks" | awk -v n="$N" -v hz="$hz" \
			'{ printf "%.1f %.1f %.3f\n", n / ($2 - $1), n / ($3 - $1), $4 * 1000 / hz / n }' \
			>> "$work/$mta.rounds"
	done
	round=$((round + 1))
done
for mta in $MTAS; do stop_mta "$mta"; done

# 4. Syncs per message, traced, with the master in the foreground.
for mta in $MTAS; do
	mta_vars "$mta"
	fresh_maildir
	if [ "$mta" = hikyaku ]; then
		set -- "$BUILD/cmd/hikyaku" -c "$hk_etc" start-fg
		etc=$hk_etc
	else
		set -- "$POSTFIX_DAEMONS/master" -c "$pf_etc" -d
		etc=$pf_etc
	fi
	MAIL_CONFIG=$etc timeout "$LIMIT" strace -f -o "$work/$mta.strace" \
		-e trace=execve,clone,clone3,fork,vfork,fsync,fdatasync,syncfs \
		"$@" > "$work/$mta.foreground.log" 2>&1 &
	tracer=$!
	pids="$pids $tracer"
	wait_port "$port" || die "$mta (strace): nothing listens on 127.0.0.1:$port"
	sleep 1
	run_source "$SYNC_N"
	wait_delivered "$SYNC_N"
	sleep 1
	stop_mta "$mta"
	wait "$tracer" 2> /dev/null
	pids=""
	sync_calls "$work/$mta.strace" > "$work/$mta.sync_calls"
done

# The table.
for mta in $MTAS; do
	sort -n "$work/$mta.latency" > "$work/$mta.latency.sorted"
	# p99 by nearest rank: the smallest time with 99% of the tries at or below it.
	latency=$(awk '{ v[NR] = $1 } END { p = int((99 * NR + 99) / 100); if (p < 1) p = 1
		print ((NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[p] }' \
		"$work/$mta.latency.sorted")
	syncs=$(total_syncs "$(cat "$work/$mta.sync_calls")")
	echo "$mta $(median "$work/$mta.rounds" 1) $(median "$work/$mta.rounds" 2) $latency" \
		"$(cat "$work/$mta.memory") $syncs $(median "$work/$mta.rounds" 3)" >> "$work/results"
done
# Each line: name accepted/s delivered/s median p99 rss pss processes
# syncs cpu.
awk -v sn="$SYNC_N" '
	{
		for (i = 2; i <= 8; i++) value[$1, i - 1] = $i
		value[$1, 8] = $9 / sn
		value[$1, 9] = $10
		has[$1] = 1
	}
	END {
		split("accepted msg/s|delivered msg/s|latency median ms|latency p99 ms|" \
		      "idle RSS KiB|idle PSS KiB|idle processes|syncs/msg|CPU ms/msg", label, "|")
		split("%12.0f|%12.0f|%12.2f|%12.2f|%12.0f|%12.0f|%12.0f|%12.2f|%12.2f", format, "|")
		printf "%-20s %12s %12s %10s\n", "", "hikyaku", "postfix", "ratio"
		for (i = 1; i <= 9; i++) {
			printf "%-20s", label[i]
			if ("hikyaku" in has) printf " " format[i], value["hikyaku", i]; else printf " %12s", "-"
			if ("postfix" in has) printf " " format[i], value["postfix", i]; else printf " %12s", "-"
			if (("hikyaku" in has) && ("postfix" in has) && value["postfix", i] != 0)
				printf " %9.2fx", value["hikyaku", i] / value["postfix", i]
			printf "\n"
		}
	}' "$work/results"
echo "ratio = hikyaku / postfix: above 1 is better for msg/s, below 1 for latency, memory and syncs"
echo "msg/s and CPU are the medians of the rounds; each round (accepted/delivered msg/s, CPU ms/msg):"
for mta in $MTAS; do
	echo "  $mta: $(awk '{ printf "%s%.0f/%.0f %.2f", (NR > 1 ? "   " : ""), $1, $2, $3 }' "$work/$mta.rounds")"
done
for mta in $MTAS; do
	echo "$mta sync calls for $SYNC_N messages: $(cat "$work/$mta.sync_calls")"
done
for mta in $MTAS; do
	problems=$(problem_lines "$work/$mta/maillog" | wc -l)
	[ "$problems" -eq 0 ] && continue
	echo "$mta: $problems warning/error lines in its log, the first ones:"
	problem_lines "$work/$mta/maillog" | head -5
done
exit 0
