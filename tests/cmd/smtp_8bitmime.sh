#!/bin/sh
# The declared body type (RFC 6152 BODY=8BITMIME) and SMTPUTF8 from the
# submission to the next server:
#   - sendmail -B 8BITMIME (also with -t): aiosmtpd (offering 8BITMIME) sees
#     "BODY=8BITMIME" in MAIL FROM and the 8-bit body byte for byte;
#   - sendmail without -B: no BODY= (an undeclared body is sent as is);
#   - sendmail -B 7BIT, -B bogus: no BODY=8BITMIME / a usage error;
#   - smtpd: a client's MAIL FROM BODY=8BITMIME SMTPUTF8 (Python smtplib)
#     is recorded (queue file attributes body and smtputf8, seen with
#     hikyaku cat) and passed on to aiosmtpd;
#   - a server without 8BITMIME gets the 8-bit body unconverted and no
#     BODY= (Postfix's default, disable_mime_output_conversion aside);
#   - sendmail -bs: MAIL FROM BODY=8BITMIME is recorded too.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtp_lib.sh"

start_peer sink sink
sink=$peer_dir
sink_port=$peer_port
start_peer plain plain
plain=$peer_dir
plain_port=$peer_port
smtpd_port=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
make_smtp_instance \
	"transport_maps = inline:{ {sink.test = smtp:[127.0.0.1]:$sink_port}, {plain.test = smtp:[127.0.0.1]:$plain_port}, {down.test = smtp:[127.0.0.1]:1} }" \
	"mynetworks = 127.0.0.0/8"
ln -s "$SMTPD" "$work/daemon/smtpd"
printf '127.0.0.1:%s inet n - n - - smtpd\n' "$smtpd_port" >> "$etc/master.cf"
start_system

# The message: 8-bit UTF-8 in the header and the body.
printf 'From: sender@host.example\nSubject: =?utf-8?q?caf=C3=A9?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nCaf\303\251 cr\303\250me br\303\273l\303\251e\n.dot line\nend\n' > "$work/message"
# What a server must receive: CR LF line ends, nothing converted.
sed 's/$/\r/' "$work/message" > "$work/expected"

# body FILE: the lines after the first empty one (CR LF ends).
body() { sed '1,/^\r$/d' "$1"; }
body "$work/expected" > "$work/expected.body"

sink_env() { grep -l "RCPT TO:<$1>" "$sink"/*.env 2>/dev/null | head -1; }
arrived() { [ -n "$(sink_env "$1")" ]; }

# 1. sendmail -B 8BITMIME to a server offering 8BITMIME.
MAIL_CONFIG=$etc "$work/bin/sendmail" -i -B 8BITMIME -f sender@host.example eight@sink.test < "$work/message"
expect_status "sendmail -B 8BITMIME" 0 $?
if wait_for 20 arrived eight@sink.test; then pass; else fail "-B 8BITMIME message not delivered"; fi
env=$(sink_env eight@sink.test)
expect_contains "BODY=8BITMIME in MAIL FROM" "MAIL FROM:<sender@host.example> " "$(head -1 "$env" 2>/dev/null)"
expect_contains "BODY=8BITMIME in MAIL FROM" "BODY=8BITMIME" "$(head -1 "$env" 2>/dev/null)"
eml=${env%.env}.eml
# cleanup adds Received:, Date: and Message-Id:; the body is exact.
if body "$eml" | cmp -s - "$work/expected.body"; then pass
else fail "8-bit body not byte-exact at the server"; fi
expect_contains "8-bit header kept" "Content-Transfer-Encoding: 8bit" "$(cat "$eml" 2>/dev/null)"

# 1b. -t with -B8BITMIME (attached): both flags words in the maildrop file.
{ printf 'To: extracted@sink.test\n'; cat "$work/message"; } |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -i -t -B8BITMIME -f sender@host.example
expect_status "sendmail -t -B8BITMIME" 0 $?
if wait_for 20 arrived extracted@sink.test; then pass; else fail "-t -B8BITMIME message not delivered"; fi
expect_contains "-t -B8BITMIME: BODY=8BITMIME" "BODY=8BITMIME" "$(head -1 "$(sink_env extracted@sink.test)" 2>/dev/null)"

# 2. No -B: no BODY= parameter.
MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@host.example nobody-type@sink.test < "$work/message"
expect_status "sendmail without -B" 0 $?
if wait_for 20 arrived nobody-type@sink.test; then pass; else fail "undeclared message not delivered"; fi
line=$(head -1 "$(sink_env nobody-type@sink.test)" 2>/dev/null)
case "$line" in
*BODY=*) fail "undeclared body sent with BODY=: $line" ;;
"MAIL FROM:<sender@host.example>"*) pass ;;
*) fail "MAIL FROM: $line" ;;
esac

# 3. -B 7BIT is kept but gives no BODY=8BITMIME; a bad -B is a usage error.
MAIL_CONFIG=$etc "$work/bin/sendmail" -i -B 7bit -f sender@host.example seven@sink.test < "$work/message"
expect_status "sendmail -B 7bit" 0 $?
if wait_for 20 arrived seven@sink.test; then pass; else fail "-B 7BIT message not delivered"; fi
expect_output "no BODY=8BITMIME for 7BIT" 0 "$(grep -c 'BODY=8BITMIME' "$(sink_env seven@sink.test)" 2>/dev/null)"
out=$(MAIL_CONFIG=$etc "$work/bin/sendmail" -i -B binarymime -f sender@host.example x@sink.test < "$work/message" 2>&1)
expect_status "sendmail -B binarymime" 64 $?
expect_contains "-B error" "-B option needs 8BITMIME or 7BIT" "$out"

# 4. Through smtpd: BODY=8BITMIME and SMTPUTF8 from a real client.
out=$("$PYTHON" - "$smtpd_port" "$work/message" <<'PY' 2>&1
import smtplib, sys
with open(sys.argv[2], "rb") as f:
    message = f.read()
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20) as client:
    client.ehlo("client.example")
    assert client.has_extn("8bitmime") and client.has_extn("smtputf8"), client.esmtp_features
    client.sendmail("sender@host.example", ["viasmtpd@sink.test"], message,
                    mail_options=["BODY=8BITMIME", "SMTPUTF8"])
    client.sendmail("sender@host.example", ["kept@down.test"], message,
                    mail_options=["BODY=8BITMIME", "SMTPUTF8"])
print("sent")
PY
)
expect_output "smtplib through smtpd" "sent" "$out"
if wait_for 20 arrived viasmtpd@sink.test; then pass; else fail "message through smtpd not delivered"; fi
line=$(head -1 "$(sink_env viasmtpd@sink.test)" 2>/dev/null)
expect_contains "smtpd's BODY=8BITMIME passed on" "BODY=8BITMIME" "$line"
expect_contains "smtpd's SMTPUTF8 passed on" "SMTPUTF8" "$line"
# The queue file keeps both (hikyaku cat of the deferred copy).
if wait_for 20 logged "to=<kept@down.test>, .*status=deferred"; then pass; else fail "kept@down.test not deferred"; fi
kept_id=$(sed -n 's/.*: \([0-9A-V]*\): to=<kept@down.test>.*/\1/p' "$log" | head -1)
queued=$(hk cat "$kept_id" 2>&1)
expect_contains "queue file: body" "named_attribute: body=8BITMIME" "$queued"
expect_contains "queue file: smtputf8" "named_attribute: smtputf8=yes" "$queued"

# 5. A server without 8BITMIME: the body goes as is, without BODY=.
MAIL_CONFIG=$etc "$work/bin/sendmail" -i -B 8BITMIME -f sender@host.example eight@plain.test < "$work/message"
expect_status "sendmail to plain" 0 $?
if wait_for 20 logged "to=<eight@plain.test>, .*status=sent (250 2.0.0 Ok: queued as RAW)"; then pass
else fail "message to the server without 8BITMIME not sent"; fi
mail_line=$(grep '^MAIL FROM' "$plain/log" | head -1)
case "$mail_line" in
"MAIL FROM:<sender@host.example> SIZE="[0-9]*) pass ;;
*) fail "MAIL FROM to a server without 8BITMIME: $mail_line" ;;
esac
# dots stuffed on the wire: ".dot line" arrives as "..dot line".
sed 's/^\.dot line/..dot line/' "$work/expected.body" > "$work/expected.raw"
if body "$plain/1.raw" | cmp -s - "$work/expected.raw"; then pass
else fail "8-bit body converted or damaged for a server without 8BITMIME"; fi

# 6. sendmail -bs: MAIL FROM BODY=8BITMIME is recorded as well.
out=$({ printf 'EHLO client.example\r\nMAIL FROM:<sender@host.example> BODY=8BITMIME\r\nRCPT TO:<bs@sink.test>\r\nDATA\r\n'
	sed 's/^\./../; s/$/\r/' "$work/message"; printf '.\r\nQUIT\r\n'; } |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -bs 2>&1)
expect_contains "sendmail -bs accepted" "250 2.0.0 Ok" "$out"
if wait_for 20 arrived bs@sink.test; then pass; else fail "-bs message not delivered"; fi
expect_contains "-bs BODY=8BITMIME passed on" "BODY=8BITMIME" "$(head -1 "$(sink_env bs@sink.test)" 2>/dev/null)"

check_sanitizer
finish
