#!/bin/sh
# The smtp delivery agent against a real SMTP server (Python's aiosmtpd)
# on a loopback port, through the master and the queue manager, mail
# routed by transport_maps "example.test smtp:[127.0.0.1]:PORT":
#   - a message arrives byte-exact (dot-stuffing undone by the server,
#     CR LF on the wire), with MAIL FROM and RCPT TO as submitted;
#   - a line longer than smtp_line_length_limit is broken with CR LF SPACE;
#   - a 5xx to RCPT TO bounces that recipient, with the remote reply in the
#     log line and in the delivery status notification the sender gets;
#   - a 4xx defers with the reply in the log and in `hikyaku queue`; once
#     the server accepts again, `hikyaku flush` delivers;
#   - a server that refuses connections defers ("Connection refused").
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtp_lib.sh"

start_peer sink sink
port=$peer_port
sink=$peer_dir
make_smtp_instance \
	"transport_maps = inline:{ {example.test = smtp:[127.0.0.1]:$port}, {bounce.test = smtp:[127.0.0.1]:$port}, {down.test = smtp:[127.0.0.1]:1} }"
start_system

# 1. Byte-exact arrival.
long=$(printf '%01500d' 0 | tr 0 x)
cat > "$work/message" <<MSG
From: Sender <sender@bounce.test>
To: user@example.test
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <relay-test-1@host.example>
Subject: byte-exact

first line
.a line starting with a dot
..two dots

.
last line without break: $long
MSG
MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@bounce.test user@example.test < "$work/message"
expect_status "sendmail" 0 $?
if wait_for 20 test -f "$sink/1.env"; then pass; else fail "message did not reach the sink"; fi
expect_contains "mail from" "MAIL FROM:<sender@bounce.test> SIZE=" "$(cat "$sink/1.env")"
expect_contains "rcpt to" "RCPT TO:<user@example.test>" "$(cat "$sink/1.env")"
# The server got the submitted message (after the Received: header
# cleanup adds), CR LF line ends, dots unstuffed; the long line broken
# at 998 with CR LF SPACE.
result=$("$PYTHON" - "$work/message" "$sink/1.eml" <<'PY'
import sys
original = open(sys.argv[1], "rb").read()
received = open(sys.argv[2], "rb").read()
lines = original.split(b"\n")[:-1]
expected = b""
for line in lines:
    while len(line) > 998:
        expected += line[:998] + b"\r\n"
        line = b" " + line[998:]
    expected += line + b"\r\n"
if not received.endswith(expected):
    print("mismatch")
    sys.exit(0)
prefix = received[: len(received) - len(expected)]
for line in prefix.split(b"\r\n")[:-1]:
    if not (line.startswith(b"Received:") or line[:1] in (b" ", b"\t")):
        print("unexpected header: %r" % line)
        sys.exit(0)
print("ok")
PY
)
expect_output "byte-exact content" ok "$result"
if wait_for 10 logged "to=<user@example.test>, relay=127.0.0.1\[127.0.0.1\]:$port, .*dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as SINK1)"; then pass; else fail "no sent log line"; fi

# 2. 5xx to RCPT TO: bounced, the reply in the log and in the DSN.
echo "nosuch 550 5.1.1 <nosuch@example.test>: Recipient address rejected: no such user" > "$sink/control"
MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@bounce.test nosuch@example.test < "$work/message"
if wait_for 20 logged "to=<nosuch@example.test>, .*dsn=5.1.1, status=bounced (host 127.0.0.1\[127.0.0.1\] said: 550 5.1.1 <nosuch@example.test>: Recipient address rejected: no such user (in reply to RCPT TO command))"; then pass; else fail "no bounced log line"; fi
# The notice comes back to sender@bounce.test through the same server.
if wait_for 20 test -f "$sink/2.env"; then pass; else fail "no bounce notice at the sink"; fi
expect_contains "notice to the sender" "RCPT TO:<sender@bounce.test>" "$(cat "$sink/2.env" 2>/dev/null)"
unfolded=$(tr -d '\r' < "$sink/2.eml" 2>/dev/null | tr '\n' ' ' | tr -s ' ')
expect_contains "notice has the remote reply" "Diagnostic-Code: smtp; 550 5.1.1 <nosuch@example.test>: Recipient address rejected: no such user" "$unfolded"
expect_contains "notice names the server" "host 127.0.0.1[127.0.0.1] said: 550 5.1.1" "$unfolded"
expect_contains "notice has the status" "Status: 5.1.1" "$(cat "$sink/2.eml" 2>/dev/null)"

# 3. 4xx: deferred, visible in the queue; fixed and flushed: delivered.
echo "later 450 4.2.0 <later@example.test>: mailbox busy, try again" > "$sink/control"
submit later@example.test
if wait_for 20 logged "to=<later@example.test>, .*dsn=4.2.0, status=deferred (host 127.0.0.1\[127.0.0.1\] said: 450 4.2.0 <later@example.test>: mailbox busy, try again (in reply to RCPT TO command))"; then pass; else fail "no deferred log line"; fi
expect_contains "queue listing shows the reason" "mailbox busy, try again" "$(hk queue 2>&1)"
: > "$sink/control"
hk flush > /dev/null 2>&1
if wait_for 20 test -f "$sink/3.env"; then pass; else fail "flush did not deliver"; fi
expect_contains "delivered after flush" "RCPT TO:<later@example.test>" "$(cat "$sink/3.env" 2>/dev/null)"
if wait_for 10 queue_empty; then pass; else fail "queue not empty"; fi

# 4. A server that is down: deferred, connection refused.
submit someone@down.test
if wait_for 20 logged "to=<someone@down.test>, relay=none, .*status=deferred (connect to 127.0.0.1\[127.0.0.1\]:1: Connection refused)"; then pass; else fail "no connection refused line"; fi
check_sanitizer
finish
