#!/bin/sh
# Routing and pacing parameters of the queue manager, through the master:
#   defer_transports: mail for a listed transport is not delivered by the
#     ordinary queue runs ("status=deferred (deferred transport)", 4.3.2),
#     only after `hikyaku flush` or `sendmail -q` (Postfix's behaviour);
#   sender_dependent_relayhost_maps: the next hop by envelope sender, then
#     @domain, else relayhost (seen in qmgr's "TRANSPORT/NEXTHOP:
#     destination failed" line for a destination that is down);
#   TRANSPORT_destination_rate_delay / default_destination_rate_delay: a
#     pause between deliveries to one destination, one at a time.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/qmgr_lib.sh"

make_qmgr_instance "minimal_backoff_time = 1s" "maximal_backoff_time = 1s" \
	"queue_run_delay = 1s" "defer_transports = held" \
	"transport_maps = inline:{ {held.example = held:}, {slow.example = slow:} }" \
	"slow_destination_rate_delay = 1s"
cat >> "$etc/master.cf" <<CF
held      unix  -       n       n       -       -       testagent $control_file $record
slow      unix  -       n       n       -       -       testagent $control_file $record
CF
start_system

sent() { grep -c "^[^ ]* $1\$" "$record" | tr -d ' '; }
is_sent() { [ "$(sent "$1")" -ge 1 ]; }
count_logged() { grep -c -- "$1" "$log" | tr -d ' '; }

# 1. defer_transports: held, the queue runs do not deliver it.
submit a@held.example
submit b@other.example
if wait_for 10 is_sent b@other.example; then pass; else fail "mail for another transport not delivered"; fi
if wait_for 10 logged "to=<a@held.example>, relay=none, .*dsn=4.3.2, status=deferred (deferred transport)"; then pass; else fail "not deferred as a deferred transport"; fi
more_runs() { [ "$(count_logged "to=<a@held.example>.*deferred transport")" -ge 3 ]; }
if wait_for 10 more_runs; then pass; else fail "not retried by the queue runs"; fi
expect_output "held mail not delivered by queue runs" 0 "$(sent a@held.example)"
hk flush > /dev/null 2>&1
expect_status "flush" 0 $?
if wait_for 10 is_sent a@held.example; then pass; else fail "flush did not deliver the deferred transport's mail"; fi
# sendmail -q does the same.
submit c@held.example
if wait_for 10 logged "to=<c@held.example>.*deferred transport"; then pass; else fail "c not deferred"; fi
MAIL_CONFIG=$etc "$work/bin/sendmail" -q
expect_status "sendmail -q" 0 $?
if wait_for 10 is_sent c@held.example; then pass; else fail "sendmail -q did not deliver the deferred transport's mail"; fi
if wait_for 5 queue_empty; then pass; else fail "queue not empty after the flushes"; fi
expect_output "each held message once" 1 "$(sent a@held.example)"

# 2. default_destination_rate_delay via slow_destination_rate_delay = 1s:
# four messages to one destination take at least 3 s, one at a time;
# four to another destination go at once.
start=$(date +%s.%N)
for i in 1 2 3 4; do submit "r$i@slow.example"; submit "f$i@fast.example"; done
all_fast() { for i in 1 2 3 4; do is_sent "f$i@fast.example" || return 1; done; }
all_slow() { for i in 1 2 3 4; do is_sent "r$i@slow.example" || return 1; done; }
if wait_for 10 all_fast; then pass; else fail "fast destination not delivered"; fi
fast_end=$(date +%s.%N)
expect_output "slow destination still has mail when the fast one is done" no \
	"$(all_slow && echo yes || echo no)"
if wait_for 20 all_slow; then pass; else fail "rate-delayed destination not delivered"; fi
slow_end=$(date +%s.%N)
expect_output "rate delay spaces the deliveries (>= 3 s)" yes \
	"$(echo "$start $slow_end" | awk '{ print ($2 - $1 >= 3.0) ? "yes" : "no" }')"
expect_output "the other destination is not paced (done 1.5 s sooner at least)" yes \
	"$(echo "$fast_end $slow_end" | awk '{ print ($2 - $1 >= 1.5) ? "yes" : "no" }')"

# 3. sender_dependent_relayhost_maps (a reload brings the new settings).
cat >> "$etc/main.cf" <<CF
relayhost = [relay-default.example]
sender_dependent_relayhost_maps = inline:{ {alice@example.org = [relay-alice.example]:2525}, {@example.net = [relay-net.example]}, {dunno@example.net = DUNNO} }
initial_destination_concurrency = 1
CF
hk reload > /dev/null 2>&1
expect_status "reload" 0 $?
sleep 1
control "remote site"
send_from() { printf 'Subject: relay\n\nbody\n' | MAIL_CONFIG=$etc "$work/bin/sendmail" -f "$1" "$2"; }
send_from alice@example.org x1@remote.example
if wait_for 10 logged "testagent/\[relay-alice.example\]:2525: destination failed"; then pass; else fail "sender address not routed by the map"; fi
send_from bob@example.net x2@remote.example
if wait_for 10 logged "testagent/\[relay-net.example\]: destination failed"; then pass; else fail "sender domain not routed by the map"; fi
send_from carol@example.com x3@remote.example
if wait_for 10 logged "testagent/\[relay-default.example\]: destination failed"; then pass; else fail "other senders do not use relayhost"; fi
expect_output "DUNNO not yet tried" 1 "$(count_logged "relay-default.example\]: destination failed")"
send_from dunno@example.net x4@remote.example
if wait_for 10 logged "to=<x4@remote.example>.*status=deferred"; then pass; else fail "DUNNO sender's mail not tried"; fi
expect_output "DUNNO is not a relayhost" 0 "$(count_logged "testagent/DUNNO")"
control
hk flush > /dev/null 2>&1
all_remote() { for i in 1 2 3 4; do is_sent "x$i@remote.example" || return 1; done; }
if wait_for 10 all_remote; then pass; else fail "relayed mail not delivered after flush"; fi
if wait_for 5 queue_empty; then pass; else fail "queue not empty at the end"; fi

stop_system
check_sanitizer
finish
