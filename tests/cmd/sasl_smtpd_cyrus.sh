#!/bin/sh
# SMTP AUTH as a user sees it, with Cyrus SASL as the backend: a sasldb
# made by saslpasswd2, smtpd.conf in a private cyrus_sasl_config_path,
# smtpd_sasl_local_domain as the realm, and swaks. PLAIN, LOGIN and
# CRAM-MD5 give 235 with the user as Cyrus names it (alice@mx.example); a
# wrong password gives 535; with noplaintext only CRAM-MD5 is offered and
# AUTH PLAIN is refused with 504.
# Needs root (smtpd runs as mail_owner, which must read the sasldb).
. "$(dirname "$0")/support/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (smtpd as mail_owner)"
	exit 77
fi
. "$(dirname "$0")/support/smtpd_lib.sh"
PATH=$PATH:/usr/sbin
if ! command -v saslpasswd2 > /dev/null; then
	fail "saslpasswd2 is not installed (sasl2-bin, tools/packages-test.txt)"
	finish
	exit 1
fi

sasl=$work/sasl
mkdir -p "$sasl"
chmod 755 "$sasl"
echo secret | saslpasswd2 -c -p -f "$sasl/sasldb2" -u mx.example alice
expect_status "saslpasswd2" 0 $?
# smtpd runs as mail_owner: it must read the sasldb.
owner=$(hk conf -h mail_owner 2> /dev/null || echo hikyaku)
chown "$owner" "$sasl/sasldb2"
cat > "$sasl/smtpd.conf" << CF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $sasl/sasldb2
mech_list: PLAIN LOGIN CRAM-MD5
CF
cat >> "$etc/main.cf" << CF
smtpd_sasl_auth_enable = yes
smtpd_tls_auth_only = no
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = mx.example
cyrus_sasl_config_path = $sasl
CF
# A second service on another port, with noplaintext.
port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
smtpd_master_cf
printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_sasl_security_options=noanonymous,noplaintext\n' \
	"$port2" >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }

for mechanism in PLAIN LOGIN CRAM-MD5; do
	out=$(swaks_run --from a@example.org --to someone@elsewhere.example \
		-a "$mechanism" --auth-user alice --auth-password secret)
	expect_contains "$mechanism: AUTH offered" "<-  250-AUTH PLAIN LOGIN CRAM-MD5" "$out"
	expect_contains "$mechanism: accepted" "<-  235 2.7.0 Authentication successful" "$out"
	expect_contains "$mechanism: relayed" "<-  250 2.0.0 Ok: queued as " "$out"
	id=$(queue_id_of "$out")
	wait_log "$id: client=localhost[127.0.0.1], sasl_method=$mechanism, sasl_username=alice@mx.example" &&
		pass || fail "$mechanism: no sasl_username in the client= line"
done

out=$(swaks_run --from a@example.org --to someone@elsewhere.example \
	-a PLAIN --auth-user alice --auth-password wrong)
expect_contains "wrong password" "<** 535 5.7.8 Error: authentication failed" "$out"
wait_log "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed" &&
	pass || fail "no warning for the failed attempt"
if grep -q -e wrong -e secret "$work/maillog"; then
	fail "a password was logged"
else
	pass
fi

# noplaintext: only CRAM-MD5 is offered, and PLAIN is refused.
out=$(swaks --server "127.0.0.1:$port2" --helo client.example --from a@example.org \
	--to someone@elsewhere.example -a CRAM-MD5 --auth-user alice --auth-password secret 2>&1)
expect_contains "noplaintext: CRAM-MD5 only" "<-  250-AUTH CRAM-MD5
" "$out"
expect_contains "noplaintext: CRAM-MD5 accepted" "<-  235 2.7.0 Authentication successful" "$out"
printf '%s\n--\n%s\n--\n%s\n' 'EHLO client.example\r\n' \
	"AUTH PLAIN $(printf 'alice\0alice\0secret' | base64)\r\n" 'QUIT\r\n' > "$work/plain"
out=$($talk steps "$port2" "$work/plain" 0.5)
expect_contains "noplaintext: AUTH PLAIN refused" "504 5.5.4" "$out"
case "$out" in *"235 "*) fail "noplaintext: PLAIN accepted" ;; *) pass ;; esac

finish
