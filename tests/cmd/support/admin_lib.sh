# Helpers for the queue administration and bounce tests (sourced after
# lib.sh). An instance in $work: etc/main.cf, queue/, maillog; the real
# cleanup runs alone (-S) on queue/public/cleanup and makes every queue
# file (cleanup_submit, the client code pickup and smtpd use); notice_tool
# plays the queue manager's calls of lib/bounce and lib/recipient_log.
: "${CLEANUP:?CLEANUP must name the cleanup binary}"
PYTHON=/usr/bin/python3
build=$(dirname "$(dirname "$HIKYAKU")")
submit="$build/cleanup/cleanup_submit"
tool="$build/tests/notice_tool"
etc=$work/etc
queue=$work/queue
mkdir -p "$etc" "$queue/public" "$queue/private"
cat > "$etc/main.cf" <<CF
queue_directory = $queue
data_directory = $work/data
maillog_file = $work/maillog
myhostname = host.example
mydomain = example
myorigin = host.example
command_directory = $build/cmd
CF
hk() { "$HIKYAKU" -c "$etc" "$@"; }

cleanup_pid=""
admin_cleanup() {
	[ -n "$cleanup_pid" ] && kill "$cleanup_pid" 2>/dev/null && wait "$cleanup_pid" 2>/dev/null
	[ "$failed" -gt 0 ] && [ -f "$work/maillog" ] && cat "$work/maillog" >&2
	rm -rf "$work"
}
trap admin_cleanup EXIT

start_cleanup() {
	"$CLEANUP" -c "$etc" -S "$queue/public/cleanup" 2>> "$work/cleanup.stderr" &
	cleanup_pid=$!
	tries=0
	while [ ! -S "$queue/public/cleanup" ] && [ "$tries" -lt 100 ]; do
		sleep 0.05
		tries=$((tries + 1))
	done
}

# queue_message ARGS... < message: cleanup_submit; prints the queue ID.
queue_message() {
	out=$("$submit" "$@" "$queue/public/cleanup")
	case "$out" in
	"OK "*) echo "${out#OK }" ;;
	*) echo "submit failed: $out" >&2; return 1 ;;
	esac
}

# path_of QUEUE ID: the queue file's path (H is the ID's 11th character).
path_of() { echo "$queue/$1/$(echo "$2" | cut -c11)/$2"; }
# move ID FROM TO: as the queue manager would (rename).
move() { mv "$(path_of "$2" "$1")" "$(path_of "$3" "$1")"; }
