#!/bin/sh
# The smtp delivery agent against misbehaving servers (written in Python,
# tests/cmd/support/smtp_peer.py): garbage instead of a greeting, a
# 10,000-line reply, a 100,000-byte reply line, a stall in the middle of
# a reply, a connection dropped during DATA, a "250" sent before the
# final dot. Each message is deferred with a clear reason, nothing is
# reported delivered, and the agent goes on to deliver the next message
# to a good server.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtp_lib.sh"

maps=""
for mode in garbage longreply longline stall dropdata early250; do
	start_peer "$mode" "$mode"
	maps="$maps {$mode.test = smtp:[127.0.0.1]:$peer_port},"
done
start_peer sink sink
sink=$peer_dir
maps="$maps {good.test = smtp:[127.0.0.1]:$peer_port}"
make_smtp_instance "transport_maps = inline:{ $maps }" "smtp_rcpt_timeout = 2s" \
	"maximal_backoff_time = 600s" "minimal_backoff_time = 600s"
start_system

for mode in garbage longreply longline stall dropdata early250; do
	submit "user@$mode.test"
done
server='127.0.0.1\[127.0.0.1\]'
expect_line() { # NAME PATTERN
	if wait_for 20 logged "$2"; then pass; else fail "$1: no line matching $2"; fi
}
expect_line garbage "to=<user@garbage.test>, .*status=deferred ($server sent a bad reply while receiving the initial server greeting: malformed reply: \"??HELLO THIS IS NOT SMTP\")"
expect_line longreply "to=<user@longreply.test>, .*status=deferred ($server sent a bad reply while performing the EHLO handshake: reply has more than 200 lines)"
expect_line longline "to=<user@longline.test>, .*status=deferred ($server sent a bad reply while performing the EHLO handshake: reply line longer than 4096 bytes)"
expect_line stall "to=<user@stall.test>, .*dsn=4.4.2, status=deferred (conversation with $server timed out while sending RCPT TO)"
expect_line dropdata "to=<user@dropdata.test>, .*dsn=4.4.2, status=deferred (lost connection with $server while sending"
expect_line early250 "to=<user@early250.test>, .*dsn=4.5.0, status=deferred (host $server sent a reply before the end of the message data)"
expect_output "nothing reported sent" "" "$(grep 'status=sent' "$log")"
expect_output "all six still queued" 6 "$(count_in deferred)"

# The agent survived: the next message goes out.
submit user@good.test
if wait_for 20 test -f "$sink/1.env"; then pass; else fail "good server did not get the next message"; fi
expect_line good "to=<user@good.test>, .*status=sent (250 2.0.0 Ok: queued as SINK1)"
expect_output "no daemon crashed" "" "$(grep -E 'signal|dumped|abnormal' "$log" | grep -v 'terminating on signal')"
check_sanitizer
finish
