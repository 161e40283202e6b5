#!/bin/sh
# smtpd's access control over SMTP with swaks: the open-relay probes from
# a client outside mynetworks (bound to 127.0.0.2, mynetworks =
# 127.0.0.1/32), every classic trick refused with Postfix's reply and log
# line; relaying from mynetworks; unknown local users; a check_client_access
# table and smtpd_delay_reject; DISCARD. docs/access.md.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtpd_lib.sh"

command -v swaks > /dev/null || { fail "swaks is not installed"; finish; exit 1; }
cat >> "$etc/main.cf" <<CF
mynetworks = 127.0.0.1/32
relay_domains = relay.example
local_recipient_maps = texthash:$etc/users
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
CF
printf 'alice x\n%s x\n' "$user" > "$etc/users"
smtpd_master_cf
smtpd_start || { finish; exit 1; }

# probe FROM_ADDRESS RCPT [SWAKS_ARGS...]: the reply to RCPT TO.
probe() {
	local_address=$1 to=$2
	shift 2
	swaks --server "127.0.0.1:$port" --local-interface "$local_address" \
		--helo probe.example --from s@example.org --to "$to" --quit-after RCPT "$@" 2>&1 |
		awk '/^ *-> RCPT TO/ { rcpt = 1; next }
			rcpt && /^<[-*]/ { sub(/^<[-*]+ +/, ""); print; exit }' 
}

denied() { printf '554 5.7.1 <%s>: Relay access denied' "$1"; }
unknown() {
	printf '550 5.1.1 <%s>: Recipient address rejected: User unknown in local recipient table' "$1"
}

# From outside: our users yes, strangers no.
expect_output "outside to a local user" "250 2.1.5 Ok" "$(probe 127.0.0.2 alice@mx.example)"
expect_output "outside to a relay domain" "250 2.1.5 Ok" "$(probe 127.0.0.2 x@relay.example)"
expect_output "outside to elsewhere" "$(denied x@example.net)" "$(probe 127.0.0.2 x@example.net)"
expect_output "outside, unknown local user" "$(unknown nosuch@mx.example)" \
	"$(probe 127.0.0.2 nosuch@mx.example)"
# The classic tricks: routing in the local part stays here, and fails there.
expect_output "percent hack" "$(unknown 'alice%example.net@mx.example')" \
	"$(probe 127.0.0.2 'alice%example.net@mx.example')"
expect_output "quoted address" "$(unknown 'alice@example.net@mx.example')" \
	"$(probe 127.0.0.2 '"alice@example.net"@mx.example')"
expect_output "bang path" "$(unknown 'example.net!alice@mx.example')" \
	"$(probe 127.0.0.2 'example.net!alice@mx.example')"
expect_output "source route" "$(denied alice@example.net)" \
	"$(probe 127.0.0.2 '@mx.example:alice@example.net')"
expect_output "source route through a relay domain" "$(denied alice@example.net)" \
	"$(probe 127.0.0.2 '@relay.example:alice@example.net')"
expect_output "percent towards us at a stranger" "$(denied 'alice%mx.example@example.net')" \
	"$(probe 127.0.0.2 'alice%mx.example@example.net')"
expect_output "our name as a subdomain" "$(denied x@mx.example.example.net)" \
	"$(probe 127.0.0.2 x@mx.example.example.net)"
expect_output "foreign address literal" "$(denied 'x@[192.0.2.1]')" \
	"$(probe 127.0.0.2 'x@[192.0.2.1]')"
expect_output "routing through a relay domain" "$(denied 'x%example.net@relay.example')" \
	"$(probe 127.0.0.2 'x%example.net@relay.example')"
expect_output "our own address literal" "250 2.1.5 Ok" "$(probe 127.0.0.2 'alice@[127.0.0.1]')"
wait_log "reject: RCPT from " && pass || fail "no reject line"
expect_contains "reject log line" \
	"[127.0.0.2]: 554 5.7.1 <x@example.net>: Relay access denied; from=<s@example.org> to=<x@example.net>" \
	"$(grep -F 'NOQUEUE: reject: RCPT from ' "$work/maillog")"

# From mynetworks: relaying is allowed, and the message is queued.
expect_output "inside to elsewhere" "250 2.1.5 Ok" "$(probe 127.0.0.1 x@example.net)"
out=$(swaks --server "127.0.0.1:$port" --local-interface 127.0.0.2 --helo probe.example \
	--from s@example.org --to x@example.net 2>&1)
expect_contains "relay attempt with DATA" "554 5.7.1 <x@example.net>: Relay access denied" "$out"
case "$out" in *"queued as"*) fail "a relay attempt was queued" ;; *) pass ;; esac
expect_output "nothing queued" "0" "$(queued)"

# The default relay restrictions defer instead (defer_unauth_destination),
# a client access table rejects with its text, and DISCARD accepts and drops.
hk stop > /dev/null 2>&1
sleep 0.5
cat >> "$etc/main.cf" <<CF
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination
smtpd_client_restrictions = check_client_access cidr:$etc/clients.cidr
CF
printf '127.0.0.3/32 REJECT no mail from you\n127.0.0.4/32 DISCARD\n' > "$etc/clients.cidr"
smtpd_start || { finish; exit 1; }
expect_output "default: defer" "450 4.7.1 <x@example.net>: Relay access denied" \
	"$(probe 127.0.0.2 x@example.net)"
expect_output "client table" \
	"554 5.7.1 <unknown[127.0.0.3]>: Client host rejected: no mail from you" \
	"$(probe 127.0.0.3 alice@mx.example | sed 's/<[^[]*\[127/<unknown[127/')"
out=$(swaks --server "127.0.0.1:$port" --local-interface 127.0.0.4 --helo probe.example \
	--from s@example.org --to alice@mx.example 2>&1)
expect_contains "DISCARD answers 250" "250 2.0.0 Ok" "$out"
wait_log "discard: RCPT from " && pass || fail "no discard log line"

finish
