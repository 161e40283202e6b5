#!/bin/sh
# smtpd with real clients: swaks (plain and pipelined), Python's smtplib,
# and BDAT (CHUNKING) over a raw socket. Each message must be queued with
# the exact bytes sent, under a Received: header naming the HELO name, the
# client, the protocol, the queue ID and the recipient; the log lines are
# Postfix's (connect, client=, disconnect with the command counts).
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtpd_lib.sh"

port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
smtpd_master_cf
printf '127.0.0.1:%s inet n - n - - smtpd\n  -o %s\n  -o %s\n  -o %s\n' "$port2" \
	'smtpd_discard_ehlo_keywords=chunking,dsn' disable_vrfy_command=yes \
	'smtpd_banner=$myhostname' >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }

# The greeting and the EHLO keywords.
printf '%s\n--\n%s\n' 'EHLO client.example\r\n' 'QUIT\r\n' > "$work/ehlo"
out=$($talk steps "$port" "$work/ehlo" 0.5)
expect_contains "greeting" "220 mx.example ESMTP hikyaku" "$out"
for keyword in PIPELINING "SIZE 10240000" VRFY ETRN ENHANCEDSTATUSCODES 8BITMIME DSN \
	SMTPUTF8 CHUNKING; do
	expect_contains "EHLO $keyword" "250-$keyword" "$(printf '%s\n' "$out" | sed 's/^250 /250-/')"
done
case "$out" in *STARTTLS* | *AUTH*) fail "STARTTLS or AUTH offered without TLS/SASL setup" ;; *) pass ;; esac
expect_contains "QUIT" "221 2.0.0 Bye" "$out"
# smtpd_discard_ehlo_keywords, disable_vrfy_command, smtpd_banner.
printf '%s\n--\n%s\n' 'EHLO client.example\r\n' "VRFY <$rcpt>\\r\\nQUIT\\r\\n" > "$work/ehlo2"
out=$($talk steps "$port2" "$work/ehlo2" 0.5)
expect_output "banner expanded" "220 mx.example" "$(printf '%s\n' "$out" | head -1)"
case "$out" in *CHUNKING* | *DSN* | *250-VRFY*) fail "discarded keywords still announced" ;; *) pass ;; esac
expect_contains "other keywords kept" "250-PIPELINING" "$out"
expect_contains "VRFY disabled" "502 5.5.1 VRFY command is disabled" "$out"

# 1. swaks, one message.
out=$(swaks_run --from sender@example.org --to "$rcpt" \
	--header "Subject: plain" --body "first line
second line")
expect_contains "swaks queued" "<-  250 2.0.0 Ok: queued as " "$out"
id=$(queue_id_of "$out")
[ -n "$id" ] && pass || fail "no queue ID in the swaks output"
header=$(header_of "$id")
expect_contains "Received from" "Received: from client.example (localhost [127.0.0.1])" "$header"
expect_contains "Received by" "by mx.example (hikyaku) with ESMTP id $id" "$header"
expect_contains "Received for" "for <$rcpt>;" "$header"
expect_contains "subject kept" "Subject: plain" "$header"
expect_output "body bytes" "first line
second line" "$(body_of "$id")"
wait_log "$id: client=localhost[127.0.0.1]" && pass || fail "no client= log line"
wait_log "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5" &&
	pass || fail "no disconnect line with counts"
expect_contains "connect line" "connect from localhost[127.0.0.1]" "$(cat "$work/maillog")"
# No anvil service here: the connection limits are not enforced, with a warning.
expect_contains "anvil unreachable" "warning: localhost[127.0.0.1]: connection limits not enforced: anvil" \
	"$(cat "$work/maillog")"

# 2. swaks with pipelining, two recipients, dot-stuffed lines.
out=$(swaks_run --pipeline --from sender@example.org --to "$rcpt,other@mx.example" \
	--body "..leading dot
.
end")
expect_contains "pipelined queued" "250 2.0.0 Ok: queued as " "$out"
id=$(queue_id_of "$out")
# swaks stuffs the dots; smtpd must give back exactly the body swaks was given.
expect_output "dot-unstuffed" "..leading dot
.
end" "$(body_of "$id")"
header=$(header_of "$id")
case "$header" in *"for <"*) fail "Received: names a recipient of two" ;; *) pass ;; esac
expect_contains "two recipients" "other@mx.example" "$(hk cat "$id")"

# 3. Python's smtplib (its own EHLO, 8BITMIME body).
cat > "$work/smtp_client_test.py" <<'PY'
import smtplib, sys
port, rcpt = int(sys.argv[1]), sys.argv[2]
with smtplib.SMTP("127.0.0.1", port, local_hostname="py.example", timeout=20) as client:
    message = "Subject: smtplib\r\n\r\nfrom smtplib \xe2\x9c\x93\r\n".encode("latin-1")
    client.ehlo()
    print("mail", client.mail("py@example.org", ["BODY=8BITMIME"]))
    print("rcpt", client.rcpt(rcpt, ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;" + rcpt]))
    print("data", client.data(message))
    print("noop", client.noop())
PY
out=$("$PYTHON" "$work/smtp_client_test.py" "$port" "$rcpt" 2>&1)
expect_contains "smtplib MAIL" "mail (250, b'2.1.0 Ok')" "$out"
expect_contains "smtplib RCPT" "rcpt (250, b'2.1.5 Ok')" "$out"
expect_contains "smtplib DATA" "data (250, b'2.0.0 Ok: queued as" "$out"
expect_contains "smtplib noop" "(250, b'2.0.0 Ok')" "$out"
id=$(printf '%s\n' "$out" | sed -n "s/.*queued as \([0-9A-Za-z]*\)'.*/\1/p")
expect_contains "DSN kept" "rfc822;$rcpt" "$(hk cat "$id")"
expect_output "8-bit body" "$(printf 'from smtplib \342\234\223')" "$(body_of "$id")"
expect_contains "helo recorded" "Received: from py.example (localhost [127.0.0.1])" "$(header_of "$id")"

# 4. BDAT in three chunks; a dot at a line start stays as sent.
printf 'Subject: chunks\r\n\r\nline one\r\n.not stuffed\r\nline three\r\n' > "$work/chunked"
out=$($talk bdat "$port" bdat@example.org "$rcpt" "$work/chunked" 20)
expect_contains "BDAT chunk" "250 2.0.0 Ok: 20 bytes" "$out"
expect_contains "BDAT LAST" "250 2.0.0 Ok: queued as" "$out"
id=$(queue_id_of "$out")
expect_output "BDAT body" "line one
.not stuffed
line three" "$(body_of "$id")"

# 5. Sequence and syntax errors, then a transaction on the same session.
cat > "$work/errors" <<EOF
RCPT TO:<a@mx.example>\r\n
--
DATA\r\n
--
MAIL FROM:<a@example.org> FOO=bar\r\n
--
MAIL FROM:<bad address@example.org>\r\n
--
MAIL FROM:<a@example.org> SIZE=99999999999\r\n
--
FROB\r\n
--
HELO\r\n
--
EHLO client.example\r\n
--
MAIL FROM:<a@example.org>\r\n
--
MAIL FROM:<a@example.org>\r\n
--
RCPT TO:<>\r\n
--
RCPT TO:<@relay.example,@b.example:$rcpt>\r\n
--
DATA\r\n
--
Subject: after errors\r\n\r\nstill works\r\n.\r\n
--
QUIT\r\n
EOF
out=$($talk steps "$port" "$work/errors" 0.5)
expect_contains "RCPT before MAIL" "503 5.5.1 Error: need MAIL command" "$out"
expect_contains "DATA before MAIL" "503 5.5.1 Error: need MAIL command" "$out"
expect_contains "unknown option" "555 5.5.4 Unsupported option: FOO=bar" "$out"
expect_contains "bad sender" "501 5.1.7 Bad sender address syntax" "$out"
expect_contains "SIZE too big" "552 5.3.4 Message size exceeds fixed limit" "$out"
expect_contains "unknown command" "502 5.5.2 Error: command not recognized" "$out"
expect_contains "HELO syntax" "501 Syntax: HELO hostname" "$out"
expect_contains "nested MAIL" "503 5.5.1 Error: nested MAIL command" "$out"
expect_contains "null recipient" "501 5.1.3 Bad recipient address syntax" "$out"
expect_contains "source route" "250 2.1.5 Ok" "$out"
expect_contains "queued after errors" "250 2.0.0 Ok: queued as" "$out"
id=$(queue_id_of "$out")
expect_contains "route stripped" "$rcpt" "$(hk cat "$id")"
wait_log "disconnect from localhost[127.0.0.1] helo=0/1 ehlo=1 mail=1/5 rcpt=1/3 data=1/2 quit=1 unknown=0/1" &&
	pass || fail "disconnect counts with failures"

# 6. VRFY, NOOP, RSET, ETRN answers.
printf '%s\n--\n%s\n' 'EHLO c.example\r\n' \
	"VRFY <$rcpt>\\r\\nNOOP\\r\\nRSET\\r\\nETRN mx.example\\r\\nQUIT\\r\\n" > "$work/misc"
out=$($talk steps "$port" "$work/misc" 0.5)
expect_contains "VRFY" "252 2.0.0 $rcpt" "$out"
expect_contains "RSET" "250 2.0.0 Ok" "$out"
expect_contains "ETRN" "458 4.3.0 Unable to queue messages for node mx.example" "$out"

smtpd_finish
