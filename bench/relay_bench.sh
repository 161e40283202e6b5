#!/bin/sh
# Relaying, hikyaku against Postfix in the same run:
#
#   smtp-source -> smtpd -> cleanup -> qmgr -> smtp -> smtp-sink
#
#   sh bench/relay_bench.sh [BUILD_DIR]        # default BUILD_DIR: build
#   N=1000 sh bench/relay_bench.sh             # a smaller run
#   MTAS=postfix sh bench/relay_bench.sh       # one side only
#   KEEP=1 sh bench/relay_bench.sh             # keep the instances and logs
#   FS=dir sh bench/relay_bench.sh             # in /var/tmp itself, no loop device
#
# Each MTA runs as a private instance in one temporary directory on disk,
# by default (FS=loop) a fresh journaled ext4 in an image under /var/tmp
# mounted through a loop device (bench/support/fs.sh says why), through
# its own master, smtpd on its own port of 127.0.0.1
# and every message relayed by its smtp client through
# "relayhost = [127.0.0.1]:SINK" to Postfix's smtp-sink (Debian package
# postfix) on another port, which accepts everything and stores nothing.
# Both MTAs keep their default durability (the queue file is flushed
# before the 250 after the dot) and log to a file. For each MTA, alone:
# smtp-source sends N messages of SIZE bytes over SESSIONS sessions; the
# run ends when the log holds N "status=sent" lines (at most LIMIT s). It
# prints messages per second end to end (N over the time from the start
# of smtp-source to the last relayed message), the ratio, and the peak
# memory: the largest sum of Pss (and of VmRSS) over the master and all
# its descendants, sampled every 0.2 s during the run; and the CPU time
# (user and system) per message by program over the run, with the
# daemons that exited during it (max_use) summed under "exited".
#
# Needs root (Postfix's master) and Debian's postfix. Every process
# started here is stopped by its pid or through its instance; the
# directory is removed.
set -u

BUILD=$(cd "${1:-build}" 2> /dev/null && pwd) || { echo "no build directory ${1:-build}" >&2; exit 2; }
N=${N:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
LIMIT=${LIMIT:-300}
MTAS=${MTAS:-hikyaku postfix}
POSTFIX_DAEMONS=${POSTFIX_DAEMONS:-/usr/lib/postfix/sbin}
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "relay_bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (Postfix's master needs it)"
smtp_source=$(command -v smtp-source || echo /usr/sbin/smtp-source)
smtp_sink=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$smtp_source" ] && [ -x "$smtp_sink" ] || die "smtp-source/smtp-sink missing (Debian package postfix)"
command -v cc > /dev/null || die "cc is missing"
for f in master/master cleanup/cleanup pickup/pickup qmgr/qmgr smtpd/smtpd smtp/smtp cmd/hikyaku; do
	case " $MTAS " in *" hikyaku "*) [ -x "$BUILD/$f" ] || die "hikyaku: $BUILD/$f: not built" ;; esac
done

# shellcheck source=bench/support/fs.sh
. "$here/support/fs.sh"
work=""
fs_setup relay_bench
hk_etc=$work/hikyaku/etc
hk_queue=$work/hikyaku/queue
pf_etc=$work/postfix/etc
pf_queue=$work/postfix/queue
sink_pid=""

hk() { timeout 60 "$BUILD/cmd/hikyaku" -c "$hk_etc" "$@"; }
pf() { timeout 60 /usr/sbin/postfix -c "$pf_etc" "$@"; }

# shellcheck disable=SC2317 # called by the trap
cleanup_all() {
	case " $MTAS " in *" hikyaku "*) hk abort > /dev/null 2>&1 ;; esac
	case " $MTAS " in *" postfix "*) pf abort > /dev/null 2>&1 || pf stop > /dev/null 2>&1 ;; esac
	[ -n "$sink_pid" ] && { kill "$sink_pid" 2> /dev/null; wait "$sink_pid" 2> /dev/null; }
	fs_teardown
}
trap cleanup_all EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }
hz=$(getconf CLK_TCK)
probe=$work/smtp_probe
cc -O2 -std=c11 -o "$probe" "$here/support/smtp_probe.c" || die "cannot build $here/support/smtp_probe.c"
sender=bench@example.org
rcpt=user@remote.example

# The sink: accepts every message, keeps none (-c counts, -u drops privileges).
sink_port=$("$probe" port) || die "no free port"
"$smtp_sink" -u nobody -c "127.0.0.1:$sink_port" 256 > "$work/sink.log" 2>&1 &
sink_pid=$!

hk_port=$("$probe" port) || die "no free port"
pf_port=$("$probe" port) || die "no free port"
common="myhostname = host.example
mydomain = example
mydestination = host.example, localhost
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
relayhost = [127.0.0.1]:$sink_port"

case " $MTAS " in *" hikyaku "*)
	mkdir -p "$hk_etc" "$work/hikyaku/daemon" "$work/hikyaku/bin"
	for d in master cleanup pickup qmgr smtpd smtp; do ln -s "$BUILD/$d/$d" "$work/hikyaku/daemon/$d"; done
	ln -s "$BUILD/cmd/hikyaku" "$work/hikyaku/bin/hikyaku"
	cat > "$hk_etc/main.cf" << CF
queue_directory = $hk_queue
data_directory = $work/hikyaku/data
daemon_directory = $work/hikyaku/daemon
command_directory = $work/hikyaku/bin
maillog_file = $work/hikyaku/maillog
$common
CF
	cat > "$hk_etc/master.cf" << CF
127.0.0.1:$hk_port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
CF
	hk set-permissions > "$work/hikyaku/set-permissions.log" 2>&1 ||
		{ cat "$work/hikyaku/set-permissions.log" >&2; die "hikyaku set-permissions failed"; }
	;;
esac
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
maillog_file_prefixes = /var/tmp
$common
alias_database =
biff = no
CF
	cat > "$pf_etc/master.cf" << CF
127.0.0.1:$pf_port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
retry     unix  -       -       n       -       -       error
error     unix  -       -       n       -       -       error
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
postlog   unix-dgram n  -       n       -       1       postlogd
CF
	pf check > "$work/postfix/check.log" 2>&1 || { cat "$work/postfix/check.log" >&2; die "postfix check failed"; }
	;;
esac

# memory PID: "PSS_KIB RSS_KIB" summed over PID and its descendants.
memory() {
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ parent[$1] = $2; order[NR] = $1 }
		END {
			keep[root] = 1; changed = 1
			while (changed) {
				changed = 0
				for (i = 1; i <= NR; i++) {
					p = order[i]
					if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
				}
			}
			for (p in keep) print p
		}' | while read -r p; do
		s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2> /dev/null)
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2> /dev/null)
		echo "${s:-0} ${r:-0}"
	done | awk '{ s += $1; r += $2 } END { print s + 0, r + 0 }'
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

# cpu_sample PID: for PID and each descendant a line "pid program
# run_ms reaped_ms": its CPU time (user and system) from
# /proc/PID/schedstat (nanoseconds: the clock ticks of /proc/PID/stat
# would round a short-lived daemon's few milliseconds to 0), and that of
# its reaped children (ticks, summed by the kernel); then "--".
cpu_sample() {
	for p in $(tree "$1"); do
		line=$(cat "/proc/$p/stat" 2> /dev/null) || continue
		run=$(cut -d' ' -f1 "/proc/$p/schedstat" 2> /dev/null) || continue
		echo "$line $run"
	done | awk -v hz="$hz" 'NF { pid = $1; program = $2; gsub(/[()]/, "", program); sub(/^.*\) /, "")
		printf "%s %s %.3f %.3f\n", pid, program, $NF / 1e6, ($14 + $15) * 1000 / hz }'
	echo --
}

# cpu_by_program SAMPLES N: from cpu_sample output (the first sample taken
# before the run, the last after it), the CPU ms per message by program
# over the run, "total T (smtpd S, ...)". A process alive at the end
# counts from the first sample (or from its start, if it started during
# the run); one that exited (max_use, max_idle) counts whole in its
# parent's reaped-children time, under "exited".
cpu_by_program() {
	awk -v n="$2" '
		$1 == "--" { sample++; next }
		!($1 in first) { first[$1] = sample == 0 ? $3 : 0; firstc[$1] = sample == 0 ? $4 : 0 }
		{ last[$1] = $3; lastc[$1] = $4; name[$1] = $2; seen[$1] = sample }
		END {
			for (p in last) {
				if (seen[p] < sample - 1)
					continue
				used[name[p]] += last[p] - first[p]
				used["exited"] += lastc[p] - firstc[p]
			}
			for (k in used) total += used[k]
			printf "total %.2f (", total / n
			sep = ""
			for (k in used) if (used[k] / n >= 0.005) { printf "%s%s %.2f", sep, k, used[k] / n; sep = ", " }
			printf ")"
		}' "$1"
}

sent_count() { cat "$1" 2> /dev/null | grep -c 'status=sent'; true; }

echo "relay benchmark: $N messages of $SIZE bytes over $SESSIONS sessions, through smtp-sink" \
	"($(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)); on $file_system"
results=""
for mta in $MTAS; do
	if [ "$mta" = hikyaku ]; then
		port=$hk_port queue=$hk_queue log=$work/hikyaku/maillog
		hk start > "$work/$mta.start.log" 2>&1 || { cat "$work/$mta.start.log" >&2; die "hikyaku did not start"; }
	else
		port=$pf_port queue=$pf_queue log=$work/postfix/maillog
		pf start > "$work/$mta.start.log" 2>&1 || { cat "$work/$mta.start.log" >&2; die "postfix did not start"; }
	fi
	i=0
	until ss -Hltn "sport = :$port" 2> /dev/null | grep -q .; do
		i=$((i + 1)); [ "$i" -ge 100 ] && die "$mta: port $port not listening"; sleep 0.1
	done
	# Warm up: a few messages start the processes.
	timeout 60 "$smtp_source" -s 2 -m 5 -l "$SIZE" -f "$sender" -t "$rcpt" "127.0.0.1:$port" > /dev/null 2>&1
	i=0
	until [ "$(sent_count "$log")" -ge 5 ]; do
		i=$((i + 1)); [ "$i" -ge 300 ] && { tail -20 "$log" >&2; die "$mta: warm-up messages not relayed"; }
		sleep 0.1
	done
	base=$(sent_count "$log")
	master=$(tr -d ' \n' < "$queue/pid/master.pid")
	peak_pss=0 peak_rss=0
	cpu_sample "$master" > "$work/$mta.cpu"
	start=$(now)
	timeout "$LIMIT" "$smtp_source" -s "$SESSIONS" -m "$N" -l "$SIZE" -f "$sender" -t "$rcpt" \
		"127.0.0.1:$port" > "$work/$mta.source.log" 2>&1 &
	source_pid=$!
	deadline=$(( $(date +%s) + LIMIT ))
	while [ $(( $(sent_count "$log") - base )) -lt "$N" ]; do
		[ "$(date +%s)" -ge "$deadline" ] && { tail -20 "$log" >&2; die "$mta: not all messages relayed in ${LIMIT}s"; }
		set -- $(memory "$master")
		cpu_sample "$master" >> "$work/$mta.cpu"
		[ "$1" -gt "$peak_pss" ] && peak_pss=$1
		[ "$2" -gt "$peak_rss" ] && peak_rss=$2
		sleep 0.2
	done
	end=$(now)
	cpu_sample "$master" >> "$work/$mta.cpu"
	wait "$source_pid" || die "$mta: smtp-source failed"
	rate=$(echo "$N $start $end" | awk '{ printf "%.0f", $1 / ($3 - $2) }')
	echo "$mta: $rate msg/s, peak memory Pss $((peak_pss / 1024)) MiB, RSS $((peak_rss / 1024)) MiB"
	echo "$mta: CPU ms/msg $(cpu_by_program "$work/$mta.cpu" "$N")"
	results="$results $mta=$rate:$peak_pss"
	if [ "$mta" = hikyaku ]; then hk stop; else pf stop; fi > /dev/null 2>&1
done
echo "$results" | tr ' ' '\n' | awk -F'[=:]' '
	/=/ { rate[$1] = $2; pss[$1] = $3 }
	END {
		if (("hikyaku" in rate) && ("postfix" in rate) && rate["postfix"] > 0)
			printf "ratio hikyaku/postfix: throughput %.2fx, peak memory %.2fx\n",
				rate["hikyaku"] / rate["postfix"], pss["hikyaku"] / pss["postfix"]
	}'
