# Helpers for the master tests (sourced after lib.sh). An instance lives
# in $work: etc/ (main.cf, master.cf), daemon/ (links to the built master
# and the test daemon under its names), queue/, data/, maillog.
: "${MASTER:?MASTER must name the master binary}"
: "${TESTD:?TESTD must name the test daemon}"
PYTHON=/usr/bin/python3
client="$SOURCE_DIR/tests/cmd/support/client.py"

# Daemons run as mail_owner when we are root: let them reach the files.
chmod 755 "$work"

# make_instance: the directories and links; main.cf gets the basics.
make_instance() {
	mkdir -p "$work/etc" "$work/daemon"
	ln -sf "$MASTER" "$work/daemon/master"
	for name in echo multi trigger crash qmgr; do
		ln -sf "$TESTD" "$work/daemon/$name"
	done
	cat > "$work/etc/main.cf" <<CF
queue_directory = $work/queue
daemon_directory = $work/daemon
data_directory = $work/data
maillog_file = $work/maillog
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
service_throttle_time = 2s
CF
}

free_port() { "$PYTHON" "$client" freeport; }
greet() { "$PYTHON" "$client" greet "$1" 2>&1; }
hk() { "$HIKYAKU" -c "$work/etc" "$@"; }
master_pid() { hk status 2>&1 | sed -n 's/.*PID: \([0-9]*\).*/\1/p'; }

# wait_for COMMAND...: retry for up to 10 s until the command succeeds.
wait_for() {
	tries=0
	while ! "$@" > /dev/null 2>&1; do
		tries=$((tries + 1))
		[ "$tries" -ge 100 ] && return 1
		sleep 0.1
	done
	return 0
}

# log_count TEXT: lines of the maillog holding TEXT.
log_count() { grep -c -F -- "$1" "$work/maillog" 2>/dev/null || true; }
log_has() { grep -q -F -- "$1" "$work/maillog" 2>/dev/null; }

# children_of PID: the pids whose parent is PID.
children_of() {
	for status in /proc/[0-9]*/status; do
		awk -v parent="$1" '/^PPid:/ && $2 == parent { found = 1 }
			/^Pid:/ { pid = $2 } END { if (found) print pid }' "$status" 2>/dev/null
	done
}

process_alive() { kill -0 "$1" 2>/dev/null; }
process_gone() { ! kill -0 "$1" 2>/dev/null; }

# Stop whatever is left, whatever happened.
cleanup_instance() {
	pid=$(master_pid)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	for child in $(cat "$work"/children.* 2>/dev/null); do kill -9 "$child" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup_instance EXIT
