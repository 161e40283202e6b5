# Shared helpers for the qmgr_*.sh tests (sourced after lib.sh): a private
# instance run by the master with pickup, cleanup, qmgr and the test
# delivery agent (tests/daemons/testagent.c) as the only transport.
#
#   make_qmgr_instance [EXTRA_MAIN_CF_LINE...]
#   start_system / stop_system
#   submit RECIPIENT [SUBJECT]        sendmail, as a user would
#   control "WORD ACTION" ...         what testagent does per address
#   delivered / count_in QUEUE        counts
#   wait_for SECONDS COMMAND...       poll until COMMAND succeeds
: "${QMGR:?QMGR must name the qmgr binary}"
: "${TESTAGENT:?TESTAGENT must name the testagent binary}"
build=$(dirname "$(dirname "$HIKYAKU")")
chmod 755 "$work"
etc=$work/etc
queue=$work/queue
log=$work/maillog
record=$work/delivered
control_file=$work/control

make_qmgr_instance() {
	mkdir -p "$etc" "$work/daemon" "$work/bin"
	ln -s "$MASTER" "$work/daemon/master"
	ln -s "$CLEANUP" "$work/daemon/cleanup"
	ln -s "$PICKUP" "$work/daemon/pickup"
	ln -s "$QMGR" "$work/daemon/qmgr"
	ln -s "$TESTAGENT" "$work/daemon/testagent"
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
		echo "default_transport = testagent"
		echo "local_transport = testagent"
		# In a sanitizer build the daemons' reports (their stderr is
		# /dev/null) go to files that check_sanitizer looks at.
		echo "import_environment = MAIL_CONFIG TZ LANG=C ASAN_OPTIONS=log_path=$work/sanitizer/report:detect_leaks=0 UBSAN_OPTIONS=log_path=$work/sanitizer/report:print_stacktrace=1"
		for line in "$@"; do echo "$line"; done
	} > "$etc/main.cf"
	cat > "$etc/master.cf" <<CF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
testagent unix  -       n       n       -       -       testagent $control_file $record
CF
	: > "$control_file"
	: > "$record"
	mkdir -p "$work/sanitizer"
	chmod 1777 "$work/sanitizer"
}

# check_sanitizer: no daemon reported a memory error or undefined behaviour.
check_sanitizer() {
	reports=$(cat "$work"/sanitizer/report* 2>/dev/null | head -60)
	expect_output "no sanitizer reports" "" "$reports"
}

hk() { "$HIKYAKU" -c "$etc" "$@"; }

start_system() {
	out=$(hk start 2>&1)
	expect_status "start" 0 $?
}

stop_system() { hk stop > /dev/null 2>&1; }

qmgr_cleanup() {
	hk abort > /dev/null 2>&1
	[ "$failed" -gt 0 ] && tail -n 200 "$log" >&2
	rm -rf "$work"
}
trap qmgr_cleanup EXIT

submit() {
	printf 'Subject: %s\n\nbody\n' "${2:-test}" |
		MAIL_CONFIG=$etc "$work/bin/sendmail" -f sender@example.org "$1"
}

control() {
	: > "$control_file.new"
	for line in "$@"; do echo "$line" >> "$control_file.new"; done
	mv "$control_file.new" "$control_file"
}

# Deliveries to recipients other than the sender (bounce notices go to it).
delivered() { grep -vc ' sender@example.org$' "$record" | tr -d ' '; }
count_in() { find "$queue/$1" -type f 2>/dev/null | wc -l | tr -d ' '; }
queue_empty() {
	[ "$(count_in maildrop)" -eq 0 ] && [ "$(count_in incoming)" -eq 0 ] &&
		[ "$(count_in active)" -eq 0 ] && [ "$(count_in deferred)" -eq 0 ]
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

delivered_at_least() { [ "$(delivered)" -ge "$1" ]; }
logged() { grep -q -- "$1" "$log"; }
