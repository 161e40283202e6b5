# Helpers for the smtpd tests (sourced after lib.sh): an instance with the
# master, cleanup and smtpd listening on a free port of 127.0.0.1; no queue
# manager, so accepted mail stays in queue/incoming for `hikyaku cat`.
: "${MASTER:?MASTER must name the master binary}"
: "${CLEANUP:?CLEANUP must name the cleanup binary}"
: "${SMTPD:?SMTPD must name the smtpd binary}"
PYTHON=/usr/bin/python3
talk="$PYTHON $SOURCE_DIR/tests/cmd/support/smtp_talk.py"
chmod 755 "$work"
etc=$work/etc
queue=$work/queue
mkdir -p "$etc" "$work/daemon" "$work/data"
ln -s "$MASTER" "$work/daemon/master"
ln -s "$CLEANUP" "$work/daemon/cleanup"
ln -s "$SMTPD" "$work/daemon/smtpd"
port=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
user=$(id -un)
rcpt="$user@mx.example"
cat > "$etc/main.cf" <<CF
queue_directory = $queue
data_directory = $work/data
daemon_directory = $work/daemon
maillog_file = $work/maillog
myhostname = mx.example
mydomain = example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.2/32
smtpd_error_sleep_time = 0
# Any local part of mx.example is a recipient (the user table is not the
# subject of these tests).
local_recipient_maps =
# In a sanitizer build the daemons' reports (their stderr is /dev/null) go
# to files that smtpd_finish looks at.
import_environment = MAIL_CONFIG TZ LANG=C ASAN_OPTIONS=log_path=$work/sanitizer/report:detect_leaks=0 UBSAN_OPTIONS=log_path=$work/sanitizer/report:print_stacktrace=1
CF
mkdir -p "$work/sanitizer"
chmod 1777 "$work/sanitizer"
# smtpd_master_cf [SMTPD_ARGS...]: the services; extra -o lines for smtpd.
smtpd_master_cf() {
	{
		printf '127.0.0.1:%s inet n - n - - smtpd\n' "$port"
		for option in "$@"; do printf '  -o %s\n' "$option"; done
		printf 'cleanup unix n - n - 0 cleanup\n'
	} > "$etc/master.cf"
}
hk() { "$HIKYAKU" -c "$etc" "$@"; }
smtpd_stop() {
	hk abort > /dev/null 2>&1
	[ "$failed" -gt 0 ] && [ -f "$work/maillog" ] && tail -50 "$work/maillog" >&2
	# For debugging: SMTPD_TEST_LOG=FILE keeps the whole maillog.
	[ -n "${SMTPD_TEST_LOG:-}" ] && cp "$work/maillog" "$SMTPD_TEST_LOG"
	rm -rf "$work"
}
trap smtpd_stop EXIT

# smtpd_start: start the master; wait (10 s at most) for the port to answer.
smtpd_start() {
	out=$(hk start 2>&1)
	expect_status "start" 0 $?
	tries=0
	until $talk idle "$port" 0.1 2> /dev/null | grep -q '^220 '; do
		tries=$((tries + 1))
		[ "$tries" -ge 100 ] && { fail "smtpd does not answer on $port"; return 1; }
		sleep 0.1
	done
	return 0
}

# queued: how many messages are in the queue.
queued() { find "$queue/incoming" "$queue/active" "$queue/deferred" -type f 2>/dev/null | wc -l; }

# queue_id_of TEXT: the ID in the last "queued as ID" of TEXT.
queue_id_of() { printf '%s\n' "$1" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' | tail -1; }

# body_of ID: the message content of a queued message.
body_of() { hk cat -b "$1"; }
header_of() { hk cat -h "$1"; }

# swaks_run ARGS...: swaks against the instance, quiet about its own banner.
swaks_run() { swaks --server "127.0.0.1:$port" --helo client.example "$@" 2>&1; }

# talk_send FILE [IDLE]: send FILE's bytes pipelined, print the replies.
talk_send() { $talk send "$port" "$@"; }

# wait_log TEXT: up to 5 s for TEXT to appear in the maillog.
wait_log() {
	tries=0
	until grep -q -F -- "$1" "$work/maillog" 2>/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -ge 50 ] && return 1
		sleep 0.1
	done
	return 0
}

# smtpd_finish: no daemon reported a memory error or undefined behaviour;
# then the counts and the exit status (lib.sh's finish).
smtpd_finish() {
	reports=$(cat "$work"/sanitizer/report* 2> /dev/null | head -60)
	expect_output "no sanitizer reports" "" "$reports"
	finish
}
