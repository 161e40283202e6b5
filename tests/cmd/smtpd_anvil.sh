#!/bin/sh
# smtpd_client_connection_count_limit and smtpd_client_connection_rate_limit,
# counted by the anvil daemon for all smtpd processes: the client over a
# limit gets "421 4.7.0 HOST Error: too many connections from ADDR" and
# Postfix's warning; a client in smtpd_client_event_limit_exceptions
# ($mynetworks: 127.0.0.2 here) is not limited.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtpd_lib.sh"
: "${ANVIL:?ANVIL must name the anvil binary}"
ln -s "$ANVIL" "$work/daemon/anvil"

port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
smtpd_master_cf smtpd_client_connection_count_limit=2
{
	printf '127.0.0.1:%s inet n - n - - smtpd\n' "$port2"
	printf '  -o smtpd_client_connection_count_limit=0\n  -o smtpd_client_connection_rate_limit=3\n'
	printf 'anvil unix - - n - 1 anvil\n'
} >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }
sleep 1

# Two connections held open; the third is refused.
$talk many "$port" 2 4 > "$work/held" &
held_pid=$!
sleep 1.5
out=$($talk idle "$port" 1)
expect_contains "count limit" "421 4.7.0 mx.example Error: too many connections from 127.0.0.1" "$out"
wait_log "warning: Connection concurrency limit exceeded: 3 from localhost[127.0.0.1] for service" &&
	pass || fail "no concurrency warning"
# 127.0.0.2 is in mynetworks, the default exceptions: served meanwhile.
out=$(swaks --server "127.0.0.1:$port" --local-interface 127.0.0.2 --helo client.example \
	--from a@example.org --to "$rcpt" --body "exempt" 2>&1)
expect_contains "exception served" "250 2.0.0 Ok: queued as" "$out"
wait "$held_pid"
expect_output "two held" 2 "$(cat "$work/held")"
# Once they are gone, the client is served again.
out=$(swaks_run --from a@example.org --to "$rcpt" --body "after")
expect_contains "served after" "250 2.0.0 Ok: queued as" "$out"

# Rate limit 3 on the second service: the fourth connection is refused.
for n in 1 2 3; do
	out=$($talk idle "$port2" 0.2)
	expect_contains "rate: connection $n" "220 mx.example" "$out"
done
out=$($talk idle "$port2" 1)
expect_contains "rate limit" "421 4.7.0 mx.example Error: too many connections from 127.0.0.1" "$out"
wait_log "warning: Connection rate limit exceeded: 4 from localhost[127.0.0.1] for service" &&
	pass || fail "no rate warning"

smtpd_finish
