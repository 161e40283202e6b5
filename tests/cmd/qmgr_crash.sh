#!/bin/sh
# kill -9 of qmgr at random moments while 200 messages go through the
# master: every message is delivered in the end, none is lost, and a
# recipient is delivered twice at most once per kill (an agent locks a
# recipient while it delivers it: delivery_recipient_lock). After each
# kill the master starts a new qmgr, which takes up what is in active/.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/qmgr_lib.sh"

make_qmgr_instance "minimal_backoff_time = 1s" "maximal_backoff_time = 2s" "queue_run_delay = 1s"
start_system
# Slow some deliveries down so that kills land while agents are busy.
control "slow sleep"

total=200
kills=0
i=0
while [ "$i" -lt "$total" ]; do
	i=$((i + 1))
	case $((i % 10)) in
	0) rcpt="r$i@slow.example" ;;
	*) rcpt="r$i@fast.example" ;;
	esac
	submit "$rcpt" "message $i" || fail "sendmail $i"
	if [ $((i % 25)) -eq 0 ]; then
		pid=$(pgrep -f -- "-c $etc -n qmgr " | head -1)
		if [ -n "$pid" ]; then
			kill -9 "$pid" && kills=$((kills + 1))
		fi
		# The master replaces it at the next trigger; wake it.
		sleep 0.$(( (i * 7) % 5 ))
		hk flush > /dev/null 2>&1
	fi
done
# One more kill while the queue drains.
sleep 0.3
pid=$(pgrep -f -- "-c $etc -n qmgr " | head -1)
[ -n "$pid" ] && kill -9 "$pid" && kills=$((kills + 1))
hk flush > /dev/null 2>&1

done_all() {
	hk flush > /dev/null 2>&1
	[ "$(sort -u "$record" | grep -vc ' sender@example.org$')" -ge "$total" ] && queue_empty
}
if wait_for 60 done_all; then pass; else fail "not all delivered within 60 s"; fi
unique=$(awk '{print $2}' "$record" | sort -u | wc -l | tr -d ' ')
expect_output "every recipient delivered" "$total" "$unique"
duplicates=$(awk '{print $2}' "$record" | sort | uniq -d | wc -l | tr -d ' ')
if [ "$duplicates" -le "$kills" ]; then pass; else fail "$duplicates duplicates for $kills kills"; fi
expect_output "nothing corrupt" 0 "$(count_in corrupt)"
echo "kills: $kills, duplicates: $duplicates"
stop_system
check_sanitizer
finish
