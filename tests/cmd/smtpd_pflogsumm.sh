#!/bin/sh
# smtpd's log lines read by the administrator's tools, as Postfix's are:
# pflogsumm (Debian's package) on the maillog of a real run with mail
# received over SMTP (port 25 and submission with AUTH) and delivered to a
# mailbox, rejected RCPTs (relay access, unknown user, sender not fully
# qualified, HELO), a MAIL FROM over the size limit, and failed AUTH
# attempts. pflogsumm must count
# "received", "delivered" and "rejected" and name each reject reason; its
# smtpd warnings must list the SASL failures. Then fail2ban-regex with
# fail2ban's own postfix filter (mode=auth, and the default mode for the
# rejects) must find the failing client's address in those lines.
# Needs root (smtpd runs as mail_owner, which must read the sasldb).
. "$(dirname "$0")/support/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (smtpd as mail_owner)"
	exit 77
fi
. "$(dirname "$0")/support/smtpd_lib.sh"
: "${QMGR:?}" "${LOCAL:?}" "${ANVIL:?}"
PATH=$PATH:/usr/sbin
for program in pflogsumm saslpasswd2 swaks; do
	command -v "$program" > /dev/null ||
		{ fail "$program is not installed (tools/packages-test.txt)"; finish; exit 1; }
done
ln -s "$QMGR" "$work/daemon/qmgr"
ln -s "$LOCAL" "$work/daemon/local"
ln -s "$ANVIL" "$work/daemon/anvil"
mkdir -p "$work/spool"
chmod 1777 "$work/spool"

sasl=$work/sasl
mkdir -p "$sasl"
chmod 755 "$sasl"
echo secret | saslpasswd2 -c -p -f "$sasl/sasldb2" -u mx.example alice
chown "$(hk conf -h mail_owner 2> /dev/null || echo hikyaku)" "$sasl/sasldb2"
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
	"$sasl/sasldb2" > "$sasl/smtpd.conf"
printf '%s x\n' "$user" > "$etc/users"
cat >> "$etc/main.cf" << CF
mydestination = mx.example
mail_spool_directory = $work/spool
alias_maps =
local_recipient_maps = texthash:$etc/users
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = mx.example
cyrus_sasl_config_path = $sasl
smtpd_tls_auth_only = no
smtpd_helo_restrictions = reject_invalid_helo_hostname
smtpd_sender_restrictions = reject_non_fqdn_sender
CF
port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
smtpd_master_cf
{
	# A submission entry with its own syslog_name, as Postfix's.
	printf '127.0.0.1:%s inet n - n - - smtpd\n' "$port2"
	printf '  -o syslog_name=hikyaku/submission\n'
	printf '  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n'
	grep -E '^(qmgr|local|anvil) ' "$SOURCE_DIR/conf/master.cf"
} >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }

# Three messages delivered: two on port 25, one authenticated on submission.
for n in 1 2; do
	out=$(swaks_run --from "sender$n@example.org" --to "$rcpt" --body "hello $n")
	expect_contains "message $n queued" "250 2.0.0 Ok: queued as" "$out"
done
out=$(swaks --server "127.0.0.1:$port2" --helo client.example -a PLAIN --auth-user alice \
	--auth-password secret --from alice@mx.example --to "$rcpt" --body "submitted" 2>&1)
expect_contains "submission queued" "250 2.0.0 Ok: queued as" "$out"

# Four RCPT rejects, each in its own session.
reject() { swaks_run --quit-after RCPT "$@" > /dev/null; }
reject --from s@example.org --to x@example.net
reject --from s@example.org --to "nosuch@mx.example"
reject --from bob --to "$rcpt"
swaks --server "127.0.0.1:$port" --helo 'bad..helo' --from s@example.org --to "$rcpt" \
	--quit-after RCPT > /dev/null 2>&1
# A MAIL FROM with a SIZE over message_size_limit.
out=$($PYTHON - "$port" << 'PY'
import smtplib, sys
smtp = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.example", timeout=20)
smtp.ehlo()
print(smtp.mail("big@example.org", ["SIZE=999999999"])[0])
smtp.quit()
PY
)
expect_output "SIZE refused" 552 "$out"
# Two failed AUTH attempts (a wrong password, on each service).
out=$(swaks_run -a PLAIN --auth-user alice --auth-password wrong --quit-after AUTH)
expect_contains "wrong password refused" "535 5.7.8 Error: authentication failed" "$out"
out=$(swaks --server "127.0.0.1:$port2" --helo client.example -a LOGIN --auth-user alice \
	--auth-password wrong --quit-after AUTH 2>&1)
expect_contains "wrong password refused (submission)" "535 5.7.8" "$out"
# An aborted AUTH and an unknown mechanism: warnings, but no failed
# password for fail2ban (Postfix's words).
out=$($PYTHON - "$port" << 'PY'
import smtplib, sys
smtp = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.example", timeout=20)
smtp.ehlo()
print(smtp.docmd("AUTH", "LOGIN")[0], smtp.docmd("*")[0], smtp.docmd("AUTH", "NOSUCH")[0])
smtp.quit()
PY
)
expect_output "abort and unknown mechanism" "334 501 504" "$out"

# Wait (up to 20 s) for the three deliveries.
tries=0
while [ "$tries" -lt 200 ]; do
	[ "$(grep -c 'status=sent' "$work/maillog" 2> /dev/null)" -ge 3 ] && break
	sleep 0.1
	tries=$((tries + 1))
done
expect_output "delivered to the mailbox" 3 "$(grep -c '^From ' "$work/spool/$user" 2> /dev/null)"
hk stop > /dev/null 2>&1

report=$(pflogsumm --syslog-name=hikyaku "$work/maillog" 2>&1)
total() { printf '%s\n' "$report" | awk -v what="$1" '$0 ~ "^ *[0-9]+ +" what "( |$)" { print $1; exit }'; }
expect_output "pflogsumm received" 3 "$(total received)"
expect_output "pflogsumm delivered" 3 "$(total delivered)"
expect_output "pflogsumm rejected" 5 "$(total rejected)"
# The reject detail: per command, the reason, the sender or client.
detail=$(printf '%s\n' "$report" | sed -n '/^message reject detail/,/^message reject warning detail/p')
expect_contains "reject: relay" "Relay access denied (total: 1)" "$detail"
expect_contains "reject: unknown user" \
	"Recipient address rejected: User unknown in local recipient table (total: 1)" "$detail"
expect_contains "reject: unknown user's address" "nosuch@mx.example" "$detail"
expect_contains "reject: sender" "Sender address rejected: need fully-qualified address (total: 1)" "$detail"
expect_contains "reject: HELO" "Helo command rejected: Invalid name (total: 1)" "$detail"
expect_contains "reject: SIZE" "Message size exceeds fixed limit (total: 1)" "$detail"
# The SASL failures are smtpd warnings naming the client, for both services.
warnings=$(printf '%s\n' "$report" | sed -n '/^ *smtpd (total: /,/^$/p')
expect_contains "warnings: SASL PLAIN" "localhost[127.0.0.1]: SASL PLAIN authentication failed" "$warnings"
expect_contains "warnings: SASL LOGIN" "localhost[127.0.0.1]: SASL LOGIN authentication failed" "$warnings"
# Those two, the abort and the unknown mechanism: nothing else.
expect_contains "warnings: 4" "smtpd (total: 4)" "$warnings"
# Senders and recipients by domain: the received mail's senders.
expect_contains "senders" "example.org" "$report"

# fail2ban's postfix filter, told the daemon name is hikyaku's (as an
# administrator sets _daemon in a jail.local).
if command -v fail2ban-regex > /dev/null; then
	daemon='hikyaku(-\w+)?/(?:submission/|smtps/)?\w+'
	out=$(fail2ban-regex "$work/maillog" "postfix[mode=auth, _daemon=$daemon]" 2>&1)
	expect_contains "fail2ban: SASL failures matched" "Lines: " "$out"
	expect_contains "fail2ban: 2 SASL failures" "Failregex: 2 total" "$out"
	out=$(fail2ban-regex "$work/maillog" "postfix[mode=normal, _daemon=$daemon]" 2>&1)
	# Of the four rejects the filter's normal mode counts, as for Postfix,
	# the relay (450, defer_unauth_destination) and the unknown user
	# (550), not the 504 for a non-FQDN sender nor the 501 for the HELO.
	expect_contains "fail2ban: rejects matched" "Failregex: 2 total" "$out"
	[ "$failed" -gt 0 ] && printf '%s\n' "$out" >&2
else
	fail "fail2ban-regex is not installed (fail2ban, tools/packages-test.txt)"
fi
[ "$failed" -gt 0 ] && printf '%s\n' "$report" >&2
smtpd_finish
