# Helpers for the smtp client's tests (sourced after lib.sh): a private
# instance run by the master with pickup, cleanup, qmgr and the smtp
# delivery agent; mail for the local domain (host.example, where the
# bounce notices go) is handed to tests/daemons/testagent, which records
# it. Remote SMTP servers are tests/cmd/support/smtp_peer.py processes on
# loopback ports (aiosmtpd, or misbehaving servers written in Python).
#
#   make_smtp_instance [EXTRA_MAIN_CF_LINE...]
#   start_peer MODE NAME      starts smtp_peer.py; sets peer_port, peer_dir
#   submit RECIPIENT [FILE]   sendmail -f sender@host.example, message from FILE
#   wait_for SECONDS COMMAND...
: "${SMTP:?SMTP must name the smtp binary}"
: "${QMGR:?QMGR must name the qmgr binary}"
: "${TESTAGENT:?TESTAGENT must name the testagent binary}"
PYTHON=/usr/bin/python3
build=$(dirname "$(dirname "$HIKYAKU")")
chmod 755 "$work"
etc=$work/etc
queue=$work/queue
log=$work/maillog
record=$work/delivered
peer_pids=""

make_smtp_instance() {
	mkdir -p "$etc" "$work/daemon" "$work/bin"
	for daemon in master cleanup pickup qmgr smtp testagent; do
		eval "ln -s \"\$$(echo "$daemon" | tr a-z A-Z)\" \"$work/daemon/$daemon\""
	done
	ln -s "$build/cmd/sendmail" "$work/bin/sendmail"
	cp "$build/cmd/postdrop" "$work/bin/postdrop"
	ln -s "$HIKYAKU" "$work/bin/hikyaku"
	{
		echo "queue_directory = $queue"
		echo "data_directory = $work/data"
		echo "daemon_directory = $work/daemon"
		echo "command_directory = $work/bin"
		echo "maillog_file = $log"
		echo "myhostname = host.example"
		echo "mydomain = example"
		echo "local_transport = testagent"
		echo "inet_protocols = ipv4"
		echo "minimal_backoff_time = 1s"
		echo "maximal_backoff_time = 2s"
		echo "queue_run_delay = 1s"
		echo "import_environment = MAIL_CONFIG TZ LANG=C ASAN_OPTIONS=log_path=$work/sanitizer/report:detect_leaks=0 UBSAN_OPTIONS=log_path=$work/sanitizer/report:print_stacktrace=1"
		for line in "$@"; do echo "$line"; done
	} > "$etc/main.cf"
	{
		grep -E '^(pickup|cleanup|qmgr) ' "$SOURCE_DIR/conf/master.cf"
		echo "smtp      unix  -       -       n       -       -       smtp"
		echo "testagent unix  -       n       n       -       -       testagent $work/control $record"
	} > "$etc/master.cf"
	: > "$work/control"
	: > "$record"
	mkdir -p "$work/sanitizer"
	chmod 1777 "$work/sanitizer"
}

hk() { "$HIKYAKU" -c "$etc" "$@"; }

smtp_cleanup() {
	hk abort > /dev/null 2>&1
	for pid in $peer_pids; do kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null; done
	[ "$failed" -gt 0 ] && tail -n 60 "$log" >&2
	[ -n "${KEEP:-}" ] && { echo "kept $work" >&2; return; }
	rm -rf "$work"
}
trap smtp_cleanup EXIT

start_system() {
	out=$(hk start 2>&1)
	expect_status "start" 0 $?
}

# start_peer MODE NAME [ADDRESS:PORT]: an SMTP server in $work/NAME; its
# port in peer_port. $peer_prefix (for example "ip netns exec NS") runs it
# elsewhere.
start_peer() {
	peer_dir=$work/$2
	mkdir -p "$peer_dir"
	${peer_prefix:-} "$PYTHON" "$SOURCE_DIR/tests/cmd/support/smtp_peer.py" "$1" "$peer_dir/port" \
		"$peer_dir" ${3:+"$3"} 2>> "$peer_dir/stderr" &
	peer_pids="$peer_pids $!"
	tries=0
	while [ ! -s "$peer_dir/port" ] && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
	peer_port=$(cat "$peer_dir/port")
}

# submit RECIPIENT [FILE]: as a user would, from sender@host.example.
submit() {
	if [ $# -ge 2 ]; then
		MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@host.example "$1" < "$2"
	else
		printf 'Subject: test\n\nbody\n' |
			MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@host.example "$1"
	fi
}

wait_for() {
	limit=$(( $1 * 20 )); shift
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.05
	done
}

logged() { grep -q -- "$1" "$log"; }
count_in() { find "$queue/$1" -type f 2>/dev/null | wc -l | tr -d ' '; }
queue_empty() {
	[ "$(count_in maildrop)" -eq 0 ] && [ "$(count_in incoming)" -eq 0 ] &&
		[ "$(count_in active)" -eq 0 ] && [ "$(count_in deferred)" -eq 0 ]
}

# check_sanitizer: no daemon reported a memory error or undefined behaviour.
check_sanitizer() {
	reports=$(cat "$work"/sanitizer/report* 2>/dev/null | head -60)
	expect_output "no sanitizer reports" "" "$reports"
}
