#!/bin/sh
# Deferral and retry through the master: an agent's temporary failure puts
# the message in deferred/ with its next attempt as the file's mtime; the
# backoff timer retries it; `hikyaku flush` retries it at once; an agent
# that crashes defers the recipients it did not answer; a destination
# that keeps failing is suspended; a message past maximal_queue_lifetime
# is returned ("status=expired").
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/qmgr_lib.sh"

make_qmgr_instance "minimal_backoff_time = 2s" "maximal_backoff_time = 4s" "queue_run_delay = 1s"
start_system

# 1. Deferred, waits (mtime in the future), then flush delivers it.
control "slow defer"
submit one@slow.example
if wait_for 10 logged "to=<one@slow.example>, relay=testagent.*dsn=4.2.0, status=deferred (test deferral)"; then pass; else fail "not deferred"; fi
if wait_for 5 test "$(count_in deferred)" -eq 1; then pass; else fail "not in deferred/"; fi
file=$(find "$queue/deferred" -type f | head -1)
if [ -n "$file" ] && [ "$(stat -c %Y "$file")" -gt "$(date +%s)" ]; then pass; else fail "retry time not in the future"; fi
expect_output "nothing delivered yet" 0 "$(delivered)"
control
hk flush > /dev/null 2>&1
expect_status "flush" 0 $?
if wait_for 5 delivered_at_least 1; then pass; else fail "flush did not deliver"; fi
if wait_for 5 queue_empty; then pass; else fail "queue not empty after flush"; fi

# 2. The backoff timer alone retries (2 s backoff, 1 s queue runs).
control "later defer"
submit two@later.example
if wait_for 10 logged "to=<two@later.example>.*status=deferred"; then pass; else fail "second not deferred"; fi
control
if wait_for 10 delivered_at_least 2; then pass; else fail "not retried by the backoff timer"; fi
if wait_for 5 queue_empty; then pass; else fail "queue not empty after retry"; fi

# 3. An agent that crashes: the recipient is deferred, never lost.
control "crashy crash"
submit three@crashy.example
if wait_for 10 logged "to=<three@crashy.example>, relay=none.*status=deferred (delivery agent testagent: lost connection"; then pass; else fail "crash not deferred"; fi
control
hk flush > /dev/null 2>&1
if wait_for 10 delivered_at_least 3; then pass; else fail "not delivered after the crash"; fi
expect_output "delivered once" 1 "$(grep -c three@crashy.example "$record")"

# 4. A destination that keeps failing is suspended; its mail waits.
control "down site"
for i in 1 2 3 4 5 6 7 8; do submit "u$i@down.example"; done
if wait_for 10 logged "testagent/down.example: destination failed"; then pass; else fail "destination not suspended"; fi
# Each of the 8 was deferred and none delivered; while the destination stays
# down, messages move between deferred/ and active/ as their backoff ends, so
# the test counts deferral log lines, not a snapshot of one directory.
all_down_deferred() {
	for i in 1 2 3 4 5 6 7 8; do
		logged "to=<u$i@down.example>.*status=deferred" || return 1
	done
	! grep -q "down.example" "$record" 2>/dev/null
}
if wait_for 10 all_down_deferred; then pass; else fail "mail for a dead destination not deferred"; fi
# The two directories are read one after the other: retry a torn count.
queued_eight() { [ "$(( $(count_in deferred) + $(count_in active) ))" -eq 8 ]; }
if wait_for 5 queued_eight; then pass; else fail "dead destination's mail not all queued"; fi
control
hk flush > /dev/null 2>&1
if wait_for 10 delivered_at_least 11; then pass; else fail "dead destination not retried by flush"; fi
if wait_for 5 queue_empty; then pass; else fail "queue not empty after the dead destination"; fi

# 5. Expiry: past maximal_queue_lifetime a deferred message is returned.
sed -i 's/^queue_run_delay.*/queue_run_delay = 1s\nmaximal_queue_lifetime = 1s/' "$etc/main.cf"
hk reload > /dev/null 2>&1
expect_status "reload" 0 $?
control "old defer"
submit four@old.example
if wait_for 15 logged "from=<sender@example.org>, status=expired, returned to sender"; then pass; else fail "not expired"; fi
if wait_for 5 queue_empty; then pass; else fail "expired message still queued"; fi
expect_output "expired not delivered" 0 "$(grep -c four@old.example "$record")"

stop_system
check_sanitizer
finish
