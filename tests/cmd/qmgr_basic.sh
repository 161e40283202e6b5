#!/bin/sh
# The queue manager's main path through the master: sendmail → pickup →
# cleanup → incoming/ → active/ → the delivery agent → removed, with
# Postfix's log lines; then a corrupt queue file, which goes to corrupt/
# while the queue goes on; pseudo transports from transport_maps.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/qmgr_lib.sh"

make_qmgr_instance "transport_maps = inline:{ {dead.example = error:5.1.1 no such domain here}, {void.example = discard:dropped}, {later.example = retry:4.3.2 not now} }"
start_system

submit one@remote.example "first"
expect_status "sendmail" 0 $?
if wait_for 10 delivered_at_least 1; then pass; else fail "not delivered within 10 s"; fi
id=$(awk '{print $1}' "$record")
expect_output "delivered recipient" "$id one@remote.example" "$(cat "$record")"
if wait_for 5 logged "$id: removed"; then pass; else fail "no removed line"; fi
expect_contains "from= line" "$id: from=<sender@example.org>, size=" "$(cat "$log")"
expect_contains "nrcpt" "nrcpt=1 (queue active)" "$(grep "$id: from=" "$log")"
expect_contains "agent's to= line" "$id: to=<one@remote.example>, relay=testagent, delay=" "$(cat "$log")"
expect_contains "status=sent" "dsn=2.0.0, status=sent (delivered to the test record)" "$(grep "$id: to=" "$log")"
if wait_for 5 queue_empty; then pass; else fail "queue not empty"; fi

# Several recipients of one message, one request (recipient limit 50).
printf 'Subject: many\n\nbody\n' |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -f sender@example.org a@x.example b@x.example c@x.example
if wait_for 10 delivered_at_least 4; then pass; else fail "3 recipients not delivered"; fi
if wait_for 5 queue_empty; then pass; else fail "queue not empty after 3 recipients"; fi

# Pseudo transports: error bounces, discard drops, retry defers.
submit a@dead.example
submit b@void.example
submit c@later.example
if wait_for 10 logged "to=<a@dead.example>.*status=bounced (no such domain here)"; then pass; else fail "error: not bounced"; fi
if wait_for 10 logged "to=<b@void.example>.*status=sent (dropped)"; then pass; else fail "discard: not logged"; fi
if wait_for 10 logged "to=<c@later.example>.*dsn=4.3.2, status=deferred (not now)"; then pass; else fail "retry: not deferred"; fi
if wait_for 5 test "$(count_in deferred)" -eq 1; then pass; else fail "retry: not in deferred/"; fi
expect_output "nothing reached the agent" 4 "$(delivered)"
expect_contains "bounce notice handed on" "sender non-delivery notification" "$(grep "$(grep -o '[0-9A-V]*: to=<a@dead.example>' "$log" | cut -d: -f1)" "$log")"

# A corrupt file in incoming/: moved to corrupt/, logged; the queue goes on.
mkdir -p "$queue/incoming/0"
printf 'garbage' > "$queue/incoming/0/1J0UUC7K0V0AEOGH"
[ "$(id -u)" -eq 0 ] && chown "$(hk conf -h mail_owner)" "$queue/incoming/0/1J0UUC7K0V0AEOGH"
hk flush > /dev/null 2>&1
submit after@remote.example "after corrupt"
if wait_for 10 delivered_at_least 5; then pass; else fail "queue stopped after a corrupt file"; fi
if wait_for 5 test "$(count_in corrupt)" -eq 1; then pass; else fail "corrupt file not in corrupt/"; fi
expect_contains "corrupt logged" "1J0UUC7K0V0AEOGH: corrupt queue file active/1J0UUC7K0V0AEOGH: record g at offset 0" "$(cat "$log")"

stop_system
check_sanitizer
finish
