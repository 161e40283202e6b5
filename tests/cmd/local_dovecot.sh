#!/bin/sh
# local -> Maildir -> a real Dovecot IMAP server -> Python's imaplib: the
# message a user reads is byte for byte the one local wrote, and Dovecot
# takes local's Maildir (names, new/, ownership) as its own.
# Needs root (a test user with a home): otherwise it exits 77, which ctest
# reports as skipped. Missing Dovecot is a failure: tools/packages-test.txt
# installs it.
. "$(dirname "$0")/support/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root to make a test user"
	exit 77
fi
if [ ! -x /usr/sbin/dovecot ] || [ ! -x /usr/lib/dovecot/imap ] ||
	! getent passwd dovenull > /dev/null; then
	fail "dovecot-core and dovecot-imapd are not installed (tools/packages-test.txt lists them)"
	finish
	exit 1
fi
. "$(dirname "$0")/support/local_lib.sh"

printf 'home_mailbox = Maildir/\n' >> "$etc/main.cf"
start_daemons
printf 'Subject: for imap\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-Id: <imap@example.org>\nFrom: sender@example.org\n\nFrom the start\nline two\n' |
	submit_message sender@example.org "$user@host.example" > "$work/id"
id=$(cat "$work/id")
out=$(deliver "$id")
expect_output "maildir delivery" "0 delivered 2.0.0 delivered to maildir" "$out"
file=$(find "$home/Maildir/new" -type f)
expect_output "one message" 1 "$(echo "$file" | grep -c .)"
cp "$file" "$work/delivered"

# A private Dovecot on a free loopback port, plain-text login from a passwd-file.
dove=$work/dovecot
mkdir -p "$dove/run" "$dove/state"
chmod 755 "$dove"
port=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
printf '%s:{PLAIN}secret\n' "$user" > "$dove/passwd"
cat > "$dove/dovecot.conf" <<CF
base_dir = $dove/run
state_dir = $dove/state
log_path = $dove/log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dove/passwd
}
userdb {
  driver = static
  args = uid=$user gid=$user home=$home
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
CF
/usr/sbin/dovecot -c "$dove/dovecot.conf"
expect_status "dovecot started" 0 $?
trap '/usr/sbin/dovecot -c "$dove/dovecot.conf" stop 2> /dev/null; local_cleanup' EXIT
tries=0
while ! "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2> /dev/null &&
	[ "$tries" -lt 50 ]; do
	sleep 0.1
	tries=$((tries + 1))
done

"$PYTHON" - "$port" "$user" "$work/delivered" > "$work/imap.out" 2>&1 <<'PY'
import imaplib, sys
port, user, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
imap = imaplib.IMAP4("127.0.0.1", port)
imap.login(user, "secret")
typ, data = imap.select("INBOX")
print("count", data[0].decode())
typ, data = imap.fetch("1", "(RFC822)")
fetched = data[0][1]
on_disk = open(path, "rb").read()
# IMAP gives CRLF line ends; the file has LF.
print("same bytes", fetched == on_disk.replace(b"\n", b"\r\n"))
typ, data = imap.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT DELIVERED-TO RETURN-PATH)])")
print(data[0][1].decode().replace("\r\n", "|"))
imap.logout()
PY
out=$(cat "$work/imap.out")
expect_contains "imap: one message" "count 1" "$out"
expect_contains "imap: exact bytes" "same bytes True" "$out"
expect_contains "imap: headers" "Return-Path: <sender@example.org>|Delivered-To: $user@host.example|Subject: for imap|" "$out"
[ "$failed" -gt 0 ] && cat "$dove/log" >&2
# Dovecot moved it from new/ to cur/ on reading: local's names are valid.
expect_output "dovecot took the message into cur/" 1 "$(find "$home/Maildir/cur" -type f | wc -l)"

stop_daemons
finish
