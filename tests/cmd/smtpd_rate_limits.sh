#!/bin/sh
# smtpd_client_message_rate_limit, smtpd_client_recipient_rate_limit and
# smtpd_client_auth_rate_limit, counted by anvil for all smtpd processes
# per service and client address, with Postfix's replies and warnings:
#   450 4.7.1 Error: too much mail from ADDR
#   450 4.7.1 Error: too many recipients from ADDR
#   450 4.7.1 Error: too many AUTH commands from ADDR
# A client in smtpd_client_event_limit_exceptions ($mynetworks, 127.0.0.2
# here) is not limited; anvil logs the peaks when it stops. Clients: swaks
# and Python's smtplib; a Cyrus sasldb for AUTH.
# Needs root (smtpd runs as mail_owner, which must read the sasldb).
. "$(dirname "$0")/support/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (smtpd as mail_owner)"
	exit 77
fi
. "$(dirname "$0")/support/smtpd_lib.sh"
: "${ANVIL:?ANVIL must name the anvil binary}"
PATH=$PATH:/usr/sbin
command -v saslpasswd2 > /dev/null || { fail "saslpasswd2 is not installed (sasl2-bin)"; finish; exit 1; }
ln -s "$ANVIL" "$work/daemon/anvil"
sasl=$work/sasl
mkdir -p "$sasl"
chmod 755 "$sasl"
echo secret | saslpasswd2 -c -p -f "$sasl/sasldb2" -u mx.example alice
chown "$(hk conf -h mail_owner 2> /dev/null || echo hikyaku)" "$sasl/sasldb2"
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
	"$sasl/sasldb2" > "$sasl/smtpd.conf"
cat >> "$etc/main.cf" << CF
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = mx.example
cyrus_sasl_config_path = $sasl
smtpd_tls_auth_only = no
CF
port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
port3=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
smtpd_master_cf smtpd_client_message_rate_limit=2
{
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_client_recipient_rate_limit=3\n' "$port2"
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_client_auth_rate_limit=2\n' "$port3"
	printf 'anvil unix - - n - 1 anvil\n'
} >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }

# Messages: two per minute, the third MAIL FROM is deferred.
for n in 1 2; do
	out=$(swaks_run --from a@example.org --to "$rcpt" --body "message $n")
	expect_contains "message $n" "250 2.0.0 Ok: queued as" "$out"
done
out=$(swaks_run --from a@example.org --to "$rcpt" --body "message 3")
expect_contains "message rate limit" "450 4.7.1 Error: too much mail from 127.0.0.1" "$out"
wait_log "warning: Message delivery request rate limit exceeded: 3 from localhost[127.0.0.1] for service" &&
	pass || fail "no message rate warning"
# The exception (mynetworks) is not counted.
for n in 1 2 3; do
	out=$(swaks --server "127.0.0.1:$port" --local-interface 127.0.0.2 --helo client.example \
		--from a@example.org --to "$rcpt" --body "exempt $n" 2>&1)
	expect_contains "exempt message $n" "250 2.0.0 Ok: queued as" "$out"
done

# Recipients: three per minute over sessions; the fourth RCPT gets 452,
# the message goes to the three accepted.
out=$(swaks --server "127.0.0.1:$port2" --helo client.example --from a@example.org \
	--to "r1@mx.example,r2@mx.example" --body "two" 2>&1)
expect_contains "two recipients" "250 2.0.0 Ok: queued as" "$out"
out=$(swaks --server "127.0.0.1:$port2" --helo client.example --from a@example.org \
	--to "r3@mx.example,r4@mx.example" --body "one more" 2>&1)
expect_contains "recipient rate limit" "450 4.7.1 Error: too many recipients from 127.0.0.1" "$out"
expect_contains "the accepted one gets it" "250 2.0.0 Ok: queued as" "$out"
id=$(queue_id_of "$out")
envelope=$(hk cat -e "$id" 2>&1)
expect_contains "r3 queued" "r3@mx.example" "$envelope"
case "$envelope" in *r4@mx.example*) fail "r4 queued over the limit" ;; *) pass ;; esac
wait_log "warning: Recipient address rate limit exceeded: 4 from localhost[127.0.0.1] for service" &&
	pass || fail "no recipient rate warning"

# AUTH: two per minute; the third is refused before the password is read.
cat > "$work/auth.py" << 'PY'
import base64, smtplib, sys
smtp = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.example", timeout=20)
smtp.ehlo()
for password in (b"wrong", b"wrong", b"secret"):
    token = base64.b64encode(b"alice\0alice\0" + password).decode()
    code, text = smtp.docmd("AUTH", "PLAIN " + token)
    print(code, text.decode())
smtp.quit()
PY
out=$($PYTHON "$work/auth.py" "$port3" 2>&1)
expect_output "auth rate limit" "535 5.7.8 Error: authentication failed: authentication failure
535 5.7.8 Error: authentication failed: authentication failure
450 4.7.1 Error: too many AUTH commands from 127.0.0.1" "$out"
wait_log "warning: AUTH command rate limit exceeded: 3 from localhost[127.0.0.1] for service" &&
	pass || fail "no AUTH rate warning"
# Other services count apart: port 25's AUTH still works.
out=$(swaks_run -a PLAIN --auth-user alice --auth-password secret --quit-after AUTH)
expect_contains "AUTH on another service" "235 2.7.0 Authentication successful" "$out"

# anvil's peaks, in Postfix's form, when it stops.
hk stop > /dev/null 2>&1
wait_log "statistics: max message rate 3/60s for (" && pass || fail "no message rate statistics"
wait_log "statistics: max recipient rate 4/60s for (" && pass || fail "no recipient rate statistics"
wait_log "statistics: max auth rate 3/60s for (" && pass || fail "no auth rate statistics"

smtpd_finish
