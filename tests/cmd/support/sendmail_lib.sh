# Shared helpers for the sendmail_*.sh tests (sourced after lib.sh).
#
# Each test makes a private instance in $work: main.cf with its own
# queue_directory and maillog_file, and command_directory pointing at the
# built sendmail and postdrop. cleanup and pickup run standalone (-S) on
# the instance's public sockets; start_mail_system / stop_mail_system are
# the one place to switch to `hikyaku -c DIR start` once the master runs
# these daemons from the build tree. Standalone, nobody restarts a daemon
# that retires after max_use requests, hence the large max_use.
build=$(dirname "$(dirname "$HIKYAKU")")
SENDMAIL=$build/cmd/sendmail
PICKUP=$build/pickup/pickup
CLEANUP=$build/cleanup/cleanup
PYTHON=/usr/bin/python3
etc=$work/etc
queue=$work/queue
log=$work/maillog
cleanup_pid=""
pickup_pid=""

# make_instance [EXTRA_MAIN_CF_LINE...]
make_instance() {
	mkdir -p "$etc" "$queue/maildrop" "$queue/public" "$queue/private"
	{
		echo "queue_directory = $queue"
		echo "data_directory = $work/data"
		echo "command_directory = $build/cmd"
		echo "daemon_directory = $build"
		echo "maillog_file = $log"
		echo "myhostname = host.example"
		echo "mydomain = example"
		for line in "$@"; do echo "$line"; done
	} > "$etc/main.cf"
	: > "$log"
}

# wait_until SECONDS COMMAND...: poll every 0.05 s until COMMAND succeeds.
wait_until() {
	limit=$(( $1 * 20 )); shift
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.05
	done
}

is_socket() { [ -S "$1" ]; }

start_cleanup() {
	"$CLEANUP" -c "$etc" -n cleanup -t unix -o max_use=1000000 -S "$queue/public/cleanup" 2>>"$work/cleanup.err" &
	cleanup_pid=$!
	wait_until 10 is_socket "$queue/public/cleanup" || fail "cleanup did not start"
}

start_pickup() {
	rm -f "$queue/public/pickup"
	"$PICKUP" -c "$etc" -n pickup -t unix -w 2 -o max_use=1000000 -S "$queue/public/pickup" 2>>"$work/pickup.err" &
	pickup_pid=$!
	wait_until 10 is_socket "$queue/public/pickup" || fail "pickup did not start"
}

stop_pickup() {
	if [ -n "$pickup_pid" ]; then
		kill "$pickup_pid" 2>/dev/null
		wait "$pickup_pid" 2>/dev/null
		pickup_pid=""
	fi
}

start_mail_system() { start_cleanup; start_pickup; }

stop_mail_system() {
	stop_pickup
	if [ -n "$cleanup_pid" ]; then
		kill "$cleanup_pid" 2>/dev/null
		wait "$cleanup_pid" 2>/dev/null
		cleanup_pid=""
	fi
}
trap 'stop_mail_system; rm -rf "$work"' EXIT

# check_daemon_reports: after stop_mail_system, the daemons' standard error
# holds no sanitizer report (in an ASan/UBSan build they report there).
check_daemon_reports() {
	for f in "$work/pickup.err" "$work/cleanup.err"; do
		if [ -f "$f" ] && grep -q 'Sanitizer\|runtime error' "$f"; then
			fail "sanitizer report in $f"
			cat "$f" >&2
		else
			pass
		fi
	done
}

# count_files DIR: regular files below DIR.
count_files() { find "$1" ! -type d 2>/dev/null | wc -l | tr -d ' '; }

maildrop_is_empty() { [ "$(count_files "$queue/maildrop")" -eq 0 ]; }

# queued_count: messages in the queue (incoming/ and the later queues).
queued_count() {
	n=0
	for q in incoming active deferred hold; do
		n=$((n + $(count_files "$queue/$q")))
	done
	echo "$n"
}

has_queued() { [ "$(queued_count)" -ge "$1" ]; }

# dump_queue: every queue file under incoming/ (and later queues) as text,
# read through the format of lib/queue_file.h: "sender: S", "recipient: R"
# lines, "attribute NAME=VALUE" lines, a blank line, then the content.
# Files are separated by a line "=== ID".
dump_queue() {
	"$PYTHON" - "$queue" <<'PY'
import os, struct, sys
root = sys.argv[1]
for q in ("incoming", "active", "deferred", "hold"):
    base = os.path.join(root, q)
    for dirpath, _, names in sorted(os.walk(base)):
        for name in sorted(names):
            data = open(os.path.join(dirpath, name), "rb").read()
            at, out, content = 0, ["=== " + name], b""
            while at + 5 <= len(data):
                kind, length = data[at:at + 1], struct.unpack(">I", data[at + 1:at + 5])[0]
                payload = data[at + 5:at + 5 + length]
                at += 5 + length
                if kind == b"S":
                    out.append("sender: " + payload.decode("utf-8", "replace"))
                elif kind == b"A":
                    n, v = payload.split(b"\0", 1)
                    out.append("attribute %s=%s" % (n.decode(), v.decode("utf-8", "replace")))
                elif kind == b"R":
                    address = payload[2:].split(b"\0")[0].decode("utf-8", "replace")
                    notify = payload[1:2].decode()
                    out.append("recipient: " + address + ("" if notify == "0" else " notify=" + notify))
                elif kind == b"C":
                    content = payload
            sys.stdout.write("\n".join(out) + "\n\n")
            sys.stdout.write(content.decode("utf-8", "replace"))
PY
}
