#!/bin/sh
# ESMTP of the smtp delivery agent, seen from the server's side
# (tests/cmd/support/smtp_peer.py "record": a server offering PIPELINING,
# SIZE, DSN, SMTPUTF8 and 8BITMIME that logs every command):
#   - DSN: RET, ENVID (xtext), NOTIFY passed on from sendmail -R -V -N;
#   - SIZE= with the message size;
#   - PIPELINING with 150 recipients in one transaction: the commands go
#     in batches, each recipient gets its own reply, the rejected ones
#     bounce, the others are delivered by the one DATA;
#   - an address with UTF-8 adds SMTPUTF8 to MAIL FROM;
#   - connection reuse: messages one after the other to the same next hop
#     share one connection (one EHLO, an RSET before each reuse), which is
#     closed with QUIT after smtp_connection_cache_time_limit;
#   - smtp_tls_security_level = may: a server whose TLS handshake fails
#     gets the mail in clear on a second connection, as with Postfix.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtp_lib.sh"

start_peer badtls badtls
badtls=$peer_dir
badtls_port=$peer_port
start_peer record record
peer=$peer_dir
make_smtp_instance "transport_maps = inline:{ {esmtp.test = smtp:[127.0.0.1]:$peer_port}, {badtls.test = smtp:[127.0.0.1]:$badtls_port} }" \
	"smtp_tls_security_level = may" \
	"smtp_destination_recipient_limit = 200" "smtp_connection_cache_time_limit = 3s"
start_system
commands() { cat "$peer/log" 2>/dev/null; }

# 1. DSN and SIZE.
printf 'Subject: dsn\n\nbody\n' |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@host.example -R hdrs -V 'id+1=x' \
		-N success,delay dsn@esmtp.test
expect_status "sendmail" 0 $?
if wait_for 20 logged "to=<dsn@esmtp.test>, .*status=sent (250 2.0.0 Ok: queued as RAW)"; then pass; else fail "dsn message not sent"; fi
mail_line=$(commands | grep '^MAIL FROM:<sender@host.example>' | head -1)
case "$mail_line" in
"MAIL FROM:<sender@host.example> SIZE="[0-9]*" RET=HDRS ENVID=id+2B1+3Dx") pass ;;
*) fail "MAIL FROM parameters: $mail_line" ;;
esac
expect_contains "NOTIFY passed on" "RCPT TO:<dsn@esmtp.test> NOTIFY=SUCCESS,DELAY" "$(commands)"

# 2. 150 recipients, pipelined; those with "bad" in them are refused.
echo "bad 550 5.1.1 no such user" > "$peer/control"
: > "$peer/log"
recipients=""
i=1
while [ "$i" -le 150 ]; do
	if [ $((i % 10)) -eq 0 ]; then recipients="$recipients bad$i@esmtp.test"
	else recipients="$recipients user$i@esmtp.test"; fi
	i=$((i + 1))
done
# shellcheck disable=SC2086
printf 'Subject: many\n\nbody\n' | MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@host.example $recipients
many_done() { [ "$(grep -c 'to=<[a-z]*[0-9]*@esmtp.test>, .*status=\(sent\|bounced\)' "$log")" -ge 151 ]; }
if wait_for 30 many_done; then pass; else fail "not all 150 recipients answered"; fi
expect_output "sent" 135 "$(grep -c 'to=<user[0-9]*@esmtp.test>, .*status=sent (250 2.0.0 Ok: queued as RAW)' "$log")"
expect_output "bounced" 15 "$(grep -c 'to=<bad[0-9]*@esmtp.test>, .*dsn=5.1.1, status=bounced (host 127.0.0.1\[127.0.0.1\] said: 550 5.1.1 no such user (in reply to RCPT TO command))' "$log")"
expect_output "one transaction" "1 150 1" "$(commands | grep -c '^MAIL FROM') $(commands | grep -c '^RCPT TO') $(commands | grep -c '^DATA$')"

# 3. SMTPUTF8 for a UTF-8 address.
: > "$peer/control"
printf 'Subject: utf8\n\nbody\n' | MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@host.example 'jöran@esmtp.test'
if wait_for 20 logged "to=<jöran@esmtp.test>, .*status=sent"; then pass; else fail "utf-8 recipient not sent"; fi
expect_contains "SMTPUTF8" " SMTPUTF8" "$(commands | grep '^MAIL FROM' | tail -1)"

# 4. Connection reuse.
sleep 4
: > "$peer/log"
for n in 1 2 3; do
	printf 'Subject: reuse %s\n\nbody\n' "$n" |
		MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f sender@host.example "reuse$n@esmtp.test"
	if wait_for 20 logged "to=<reuse$n@esmtp.test>, .*status=sent"; then pass; else fail "reuse message $n not sent"; fi
done
expect_output "one connection for three messages" "1 3 2" \
	"$(commands | grep -c '^EHLO') $(commands | grep -c '^MAIL FROM') $(commands | grep -c '^RSET')"
if wait_for 10 grep -q '^QUIT' "$peer/log"; then pass; else fail "cached connection not closed after the time limit"; fi

# 5. "may" and a broken TLS server: the mail goes in clear.
submit user@badtls.test
if wait_for 20 logged "to=<user@badtls.test>, .*status=sent (250 2.0.0 Ok: queued as RAW)"; then pass; else fail "may: not delivered in clear after a failed handshake"; fi
expect_contains "retry logged" "TLS handshake with 127.0.0.1[127.0.0.1] failed" "$(cat "$log")"
expect_output "STARTTLS once, then two EHLOs" "1 2" "$(grep -c '^STARTTLS' "$badtls/log") $(grep -c '^EHLO' "$badtls/log")"
check_sanitizer
finish
