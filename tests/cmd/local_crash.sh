#!/bin/sh
# kill -9 of local at random moments while 200 messages go through the
# master (sendmail -> pickup -> cleanup -> qmgr -> local -> Maildir): every
# message ends in the Maildir, none is lost, a message is there twice at
# most once per kill (the one in flight), and the queue ends empty. Each
# killed delivery is deferred by qmgr ("lost connection") and retried.
# As root into a test user's ~/Maildir (home_mailbox = Maildir/); as an
# ordinary user into a Maildir named by an alias ($work/box/Maildir/).
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/local_lib.sh"
: "${MASTER:?MASTER must name the master binary}"
: "${QMGR:?QMGR must name the qmgr binary}"
: "${PICKUP:?PICKUP must name the pickup binary}"

mkdir -p "$work/daemon" "$work/bin"
for d in master cleanup pickup qmgr local; do
	ln -s "$(eval echo "\$$(echo "$d" | tr a-z A-Z)")" "$work/daemon/$d"
done
ln -s "$build/cmd/sendmail" "$work/bin/sendmail"
cp "$build/cmd/postdrop" "$work/bin/postdrop"
ln -s "$HIKYAKU" "$work/bin/hikyaku"
cat >> "$etc/main.cf" <<CF
daemon_directory = $work/daemon
command_directory = $work/bin
minimal_backoff_time = 1s
maximal_backoff_time = 1s
queue_run_delay = 1s
import_environment = MAIL_CONFIG TZ LANG=C ASAN_OPTIONS=log_path=$work/sanitizer/report:detect_leaks=0 UBSAN_OPTIONS=log_path=$work/sanitizer/report:print_stacktrace=1
CF
mkdir -p "$work/sanitizer"
chmod 1777 "$work/sanitizer"
if [ "$is_root" -eq 1 ]; then
	printf 'home_mailbox = Maildir/\n' >> "$etc/main.cf"
	maildir=$home/Maildir
	rcpt=$user@host.example
else
	maildir=$work/box/Maildir
	mkdir -p "$work/box"
	printf 'box: %s/\n' "$maildir" > "$etc/aliases"
	rcpt=box@host.example
fi
build_aliases
{
	grep -E '^(pickup|cleanup|local) ' "$SOURCE_DIR/conf/master.cf"
	echo "qmgr      unix  n       -       n       300     1       qmgr"
} > "$etc/master.cf"
hk() { "$HIKYAKU" -c "$etc" "$@"; }
trap 'hk abort > /dev/null 2>&1; kill "$killer" 2> /dev/null; local_cleanup' EXIT
killer=""
hk set-permissions > /dev/null 2>&1
out=$(hk start 2>&1)
expect_status "start" 0 $?

total=200
in_maildir() { find "$maildir/new" -type f 2> /dev/null | wc -l | tr -d ' '; }
queue_empty() { [ -z "$(find "$queue/maildrop" "$queue/incoming" "$queue/active" "$queue/deferred" -type f 2> /dev/null)" ]; }

# The killer: up to 10 kill -9 of a local process that is delivering (it
# has a queue file of active/ open: the daemon, or its delivery child),
# found by polling every 2-16 ms, so the kills land at random points of
# deliveries; each kill is one line in $work/kills.
: > "$work/kills"
(
	kills=0 rounds=0
	while [ "$kills" -lt 10 ] && [ "$rounds" -lt 3000 ] && [ ! -f "$work/stop" ]; do
		rounds=$((rounds + 1))
		sleep "0.0$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 15 + 2 ))"
		for pid in $(pgrep -f -- "-c $etc -n local "); do
			if ls -l "/proc/$pid/fd" 2> /dev/null | grep -q -- "$queue/active/" &&
				kill -9 "$pid" 2> /dev/null; then
				kills=$((kills + 1))
				echo "$pid" >> "$work/kills"
				break
			fi
		done
	done
) &
killer=$!

i=0
while [ "$i" -lt "$total" ]; do
	i=$((i + 1))
	printf 'Subject: crash %d\nMessage-ID: <crash%d@example.org>\n\nmessage %d\n' "$i" "$i" "$i" |
		MAIL_CONFIG=$etc "$work/bin/sendmail" -f sender@example.org "$rcpt" ||
		fail "sendmail $i"
	# Pace the submissions a little so that the kills land during the run.
	[ $((i % 10)) -eq 0 ] && sleep 0.1
done

# The killer stops at 10 kills, 400 rounds, or when the run is over.
done_all() { [ "$(in_maildir)" -ge "$total" ] && queue_empty; }
tries=0
while ! done_all && [ "$tries" -lt 600 ]; do
	[ $((tries % 20)) -eq 19 ] && hk flush > /dev/null 2>&1
	sleep 0.1
	tries=$((tries + 1))
done
touch "$work/stop"
wait "$killer"
killer=""
# What the last kills deferred may still be on its way: bounded wait.
tries=0
while ! done_all && [ "$tries" -lt 300 ]; do
	[ $((tries % 10)) -eq 9 ] && hk flush > /dev/null 2>&1
	sleep 0.1
	tries=$((tries + 1))
done
kills=$(wc -l < "$work/kills" | tr -d ' ')
if [ "$kills" -ge 1 ]; then pass; else fail "no local process was killed"; fi
if queue_empty; then pass; else fail "queue not empty: $(find "$queue" -path '*/[iad]*/*' -type f | head -5)"; fi

# Every message, by its Message-ID, read with Python's email module.
report=$(/usr/bin/python3 - "$maildir/new" "$total" <<'PY'
import collections, email, os, sys
directory, total = sys.argv[1], int(sys.argv[2])
ids = collections.Counter()
for name in os.listdir(directory):
    with open(os.path.join(directory, name), "rb") as f:
        msg = email.message_from_binary_file(f)
    ids[msg["Message-ID"]] += 1
wanted = {"<crash%d@example.org>" % i for i in range(1, total + 1)}
missing = sorted(wanted - set(ids))
extra = sorted(set(ids) - wanted)
print("missing=%d extra=%d duplicates=%d" % (len(missing), len(extra),
      sum(n - 1 for n in ids.values())))
PY
)
missing=$(echo "$report" | sed -n 's/.*missing=\([0-9]*\).*/\1/p')
duplicates=$(echo "$report" | sed -n 's/.*duplicates=\([0-9]*\).*/\1/p')
expect_output "no message lost" 0 "$missing"
expect_contains "nothing foreign" "extra=0" "$report"
if [ -n "$duplicates" ] && [ "$duplicates" -le "$kills" ]; then pass; else fail "$duplicates duplicates for $kills kills"; fi
expect_output "nothing corrupt" 0 "$(find "$queue/corrupt" -type f 2> /dev/null | wc -l | tr -d ' ')"
deferred=$(grep -c "status=deferred (delivery agent local" "$work/maillog")
echo "kills: $kills, duplicates: $duplicates, deliveries deferred by a kill: $deferred"
hk stop > /dev/null 2>&1
# In a sanitizer build the daemons' reports go to files (not a kill's doing).
expect_output "no sanitizer reports" "" "$(cat "$work"/sanitizer/report* 2> /dev/null | head -60)"
finish
