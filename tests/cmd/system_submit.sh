#!/bin/sh
# The whole local submission path through the master, as an administrator
# runs it with the shipped master.cf: set-permissions, start, the SMTP
# server answering, sendmail, the message in the queue, stop. Only the
# smtpd's port is changed (a free loopback port instead of 25).
# As root (CI) the daemons run as mail_owner; as an ordinary user nobody
# changes identity. Mail sent while the system is down waits in maildrop/.
. "$(dirname "$0")/support/lib.sh"
build=$(dirname "$(dirname "$HIKYAKU")")
chmod 755 "$work"
etc=$work/etc
queue=$work/queue
mkdir -p "$etc" "$work/daemon" "$work/bin"
ln -s "$MASTER" "$work/daemon/master"
ln -s "$CLEANUP" "$work/daemon/cleanup"
ln -s "$PICKUP" "$work/daemon/pickup"
ln -s "$LOCAL" "$work/daemon/local"
ln -s "$QMGR" "$work/daemon/qmgr"
ln -s "$SMTPD" "$work/daemon/smtpd"
ln -s "$SMTP" "$work/daemon/smtp"
ln -s "$ANVIL" "$work/daemon/anvil"
ln -s "$build/cmd/sendmail" "$work/bin/sendmail"
cp "$build/cmd/postdrop" "$work/bin/postdrop"
ln -s "$HIKYAKU" "$work/bin/hikyaku"
cat > "$etc/main.cf" <<CF
queue_directory = $queue
data_directory = $work/data
daemon_directory = $work/daemon
command_directory = $work/bin
maillog_file = $work/maillog
myhostname = host.example
# Keep the test's mail in the queue: the queue manager defers it.
transport_maps = inline:{ example.org=retry:held for the test }
CF
port=$(/usr/bin/python3 "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
sed "s/^smtp      inet /127.0.0.1:$port inet /" "$SOURCE_DIR/conf/master.cf" > "$etc/master.cf"
expect_contains "shipped master.cf runs smtpd" "127.0.0.1:$port inet" "$(cat "$etc/master.cf")"
hk() { "$HIKYAKU" -c "$etc" "$@"; }
stop_all() {
	hk abort > /dev/null 2>&1
	[ "$failed" -gt 0 ] && cat "$work/maillog" >&2
	rm -rf "$work"
}
trap stop_all EXIT

queued() { find "$queue/incoming" "$queue/active" "$queue/deferred" -type f 2>/dev/null | wc -l; }
# wait_queued N: up to 10 s for N messages in the queue.
wait_queued() {
	tries=0
	while [ "$(queued)" -lt "$1" ] && [ "$tries" -lt 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	[ "$(queued)" -ge "$1" ]
}

out=$(hk set-permissions 2>&1)
expect_status "set-permissions" 0 $?
[ -n "$out" ] && echo "$out" >&2
if [ "$(id -u)" -eq 0 ]; then
	# The one set-group-ID program, as Postfix's postdrop.
	expect_output "postdrop set-group-ID" "2755 $(hk conf -h setgid_group)" \
		"$(stat -c '%a %G' "$work/bin/postdrop")"
fi
out=$(hk start 2>&1)
expect_status "start" 0 $?
expect_contains "start says so" "starting the hikyaku mail system" "$out"
greeting=$(/usr/bin/python3 "$SOURCE_DIR/tests/cmd/support/client.py" greet "$port" 2>&1)
expect_contains "smtpd answers" "220 host.example ESMTP" "$greeting"

printf 'To: someone@example.org\nSubject: through the master\n\nbody line\n' |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -t -f sender@example.org
expect_status "sendmail" 0 $?
if wait_queued 1; then pass; else fail "message not queued within 10 s"; fi
file=$(find "$queue/incoming" "$queue/active" "$queue/deferred" -type f | head -1)
content=$(cat "$file" 2>/dev/null)
expect_contains "queued content" "Subject: through the master" "$content"
expect_contains "queued recipient" "someone@example.org" "$content"
expect_contains "log" "uid=$(id -u) from=<sender@example.org>" "$(cat "$work/maillog")"
if [ "$(id -u)" -eq 0 ]; then
	owner=$(stat -c %U "$file")
	expect_output "queue file owned by mail_owner" "$(hk conf -h mail_owner)" "$owner"
fi

# Down: the message waits in maildrop/ and is queued at the next start.
out=$(hk stop 2>&1)
expect_status "stop" 0 $?
printf 'Subject: while down\n\nwaiting\n' |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -f sender@example.org rcpt@example.org
expect_status "sendmail while down" 0 $?
expect_output "waits in maildrop" 1 "$(find "$queue/maildrop" -type f | wc -l)"
hk start > /dev/null 2>&1
if wait_queued 2; then pass; else fail "maildrop message not queued after start"; fi
expect_output "maildrop emptied" 0 "$(find "$queue/maildrop" -type f | wc -l)"
hk stop > /dev/null 2>&1

finish
