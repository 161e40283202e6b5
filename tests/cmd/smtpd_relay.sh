#!/bin/sh
# Open-relay probes from a client outside mynetworks (127.0.0.1 here;
# mynetworks = 127.0.0.2/32): every classic trick is refused by the
# default smtpd_relay_restrictions, or names a local address of ours (the
# domain after the last '@' decides; '%' and '!' never route). From
# 127.0.0.2 (in mynetworks) relaying is allowed.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtpd_lib.sh"

smtpd_master_cf
smtpd_start || { finish; exit 1; }

# probe RCPT: the reply to one RCPT TO:<RCPT> from 127.0.0.1.
probe() {
	printf '%s\n--\n%s\n' 'EHLO probe.example\r\n' \
		"MAIL FROM:<spammer@example.net>\\r\\nRCPT TO:$1\\r\\nQUIT\\r\\n" > "$work/probe"
	$talk steps "$port" "$work/probe" 0.5 | sed -n '/^250 2.1.0/{n;p;}'
}

# Refused outright: another domain, in every spelling.
for address in '<victim@elsewhere.example>' '<@mx.example:victim@elsewhere.example>' \
	'<@mx.example,@mx.example:victim@elsewhere.example>' '<victim@elsewhere.example.>' \
	'<victim@[192.0.2.1]>' '<"victim"@elsewhere.example>' 'victim@elsewhere.example' \
	'<VICTIM@ELSEWHERE.EXAMPLE>'; do
	out=$(probe "$address")
	case "$out" in
	4[0-9][0-9]\ 4.7.1*"Relay access denied"* | 5[0-9][0-9]\ 5.7.1*"Relay access denied"*) pass ;;
	*) fail "relay probe $address: $out" ;;
	esac
done
# Not an address at all.
for address in '<victim@elsewhere.example@mx.example>' '<victim@elsewhere.example>@mx.example' \
	'<victim@[192.0.2.1@mx.example]>' '<@elsewhere.example>' '<"victim@elsewhere.example">'; do
	out=$(probe "$address")
	case "$out" in 501\ 5.1.3*) pass ;; *) fail "syntax probe $address: $out" ;; esac
done
# '%', '!' and a quoted '@' stay in the local part of a local address: no relay.
for address in '<victim%elsewhere.example@mx.example>' '<elsewhere.example!victim@mx.example>' \
	'<"victim@elsewhere.example"@mx.example>'; do
	out=$(probe "$address")
	case "$out" in 250\ 2.1.5*) pass ;; *) fail "local probe $address: $out" ;; esac
done
out=$(swaks_run --from a@example.org --to 'victim%elsewhere.example@mx.example' --body "percent")
id=$(queue_id_of "$out")
expect_contains "percent stays local" "victim%elsewhere.example@mx.example" "$(hk cat "$id")"
wait_log "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: " && pass || fail "no reject log line"
expect_contains "reject log form" "Relay access denied; from=<spammer@example.net> to=<victim@elsewhere.example>" \
	"$(cat "$work/maillog")"

# From mynetworks, relaying is allowed.
out=$(swaks --server "127.0.0.1:$port" --local-interface 127.0.0.2 --helo inside.example \
	--from a@example.org --to friend@elsewhere.example --body "relayed" 2>&1)
expect_contains "mynetworks relays" "250 2.0.0 Ok: queued as" "$out"

smtpd_finish
