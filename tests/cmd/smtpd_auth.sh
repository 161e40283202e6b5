#!/bin/sh
# smtpd's AUTH command with a Cyrus sasldb backend: the sequence rules
# (EHLO first, not in a transaction, not twice), "*" cancel, a malformed
# base64 response, AUTH=<> on MAIL FROM, ESMTPA/ESMTPSA in Received:, and
# smtpd_tls_auth_only (no AUTH before STARTTLS). Every failure is followed
# by a transaction that works.
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
chown "$(hk conf -h mail_owner 2> /dev/null || echo hikyaku)" "$sasl/sasldb2"
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
	"$sasl/sasldb2" > "$sasl/smtpd.conf"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.example \
	-keyout "$etc/key.pem" -out "$etc/cert.pem" > /dev/null 2>&1
chmod 644 "$etc/key.pem"
cat >> "$etc/main.cf" << CF
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = mx.example
cyrus_sasl_config_path = $sasl
smtpd_tls_cert_file = $etc/cert.pem
smtpd_tls_key_file = $etc/key.pem
smtpd_tls_security_level = may
CF
port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
port3=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
port4=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
smtpd_master_cf smtpd_tls_auth_only=no
printf '127.0.0.1:%s inet n - n - - smtpd\n' "$port2" >> "$etc/master.cf"
# The shipped submission and smtps entries, uncommented, on free ports.
sed -n '/^#submission inet/,/^[^#]/p' "$SOURCE_DIR/conf/master.cf" | grep '^#' | sed 's/^#//' |
	sed "s/^submission inet/127.0.0.1:$port3 inet/; s/^smtps  *inet/127.0.0.1:$port4 inet/" \
	>> "$etc/master.cf"
expect_contains "shipped submission entry" "127.0.0.1:$port3 inet n" "$(cat "$etc/master.cf")"
expect_contains "shipped smtps entry" "127.0.0.1:$port4 inet" "$(cat "$etc/master.cf")"
smtpd_start || { finish; exit 1; }
plain=$(printf 'alice\0alice\0secret' | base64)
normal() {
	out=$(swaks_run --from sender@example.org --to "$rcpt" --body "after $1")
	expect_contains "normal mail after $1" "250 2.0.0 Ok: queued as" "$out"
}

# Sequence rules, "*" and a malformed response.
cat > "$work/rules" << EOF
AUTH PLAIN $plain\r\n
--
EHLO client.example\r\n
--
MAIL FROM:<a@example.org>\r\n
--
AUTH PLAIN $plain\r\n
--
RSET\r\n
--
AUTH PLAIN !!not*base64!!\r\n
--
AUTH LOGIN\r\n
--
*\r\n
--
AUTH PLAIN $plain\r\n
--
AUTH PLAIN $plain\r\n
--
MAIL FROM:<a@example.org> AUTH=<>\r\nRCPT TO:<$rcpt>\r\nDATA\r\n
--
Subject: authenticated\r\n\r\nhello\r\n.\r\nQUIT\r\n
EOF
out=$($talk steps "$port" "$work/rules" 0.5)
expect_contains "AUTH before EHLO" "503 5.5.1 Error: send EHLO first" "$out"
expect_contains "AUTH offered" "250-AUTH PLAIN LOGIN" "$out"
expect_contains "AUTH in a transaction" "503 5.5.1 Error: MAIL transaction in progress" "$out"
expect_contains "malformed base64" "501 5.5.2 Cannot decode response" "$out"
expect_contains "cancel" "501 5.7.0 Authentication aborted" "$out"
expect_contains "AUTH works" "235 2.7.0 Authentication successful" "$out"
expect_contains "AUTH twice" "503 5.5.1 Error: already authenticated" "$out"
expect_contains "AUTH=<> accepted" "250 2.1.0 Ok" "$out"
expect_contains "queued" "250 2.0.0 Ok: queued as" "$out"
id=$(queue_id_of "$out")
expect_contains "ESMTPA" "with ESMTPA id $id" "$(header_of "$id")"
wait_log "$id: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=alice@mx.example" &&
	pass || fail "no sasl_username in the client= line"
wait_log "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: malformed response" &&
	pass || fail "no warning for the malformed response"
wait_log "warning: localhost[127.0.0.1]: SASL LOGIN authentication aborted" &&
	pass || fail "no warning for the cancel"
wait_log "ehlo=1 auth=1/6 mail=2 rcpt=1 data=1 rset=1 quit=1 commands=13" && pass || fail "AUTH counts in the disconnect line"
normal "AUTH errors"

# smtpd_tls_auth_only = yes (the default): no AUTH before STARTTLS.
printf '%s\n--\n%s\n' 'EHLO client.example\r\n' "AUTH PLAIN $plain\\r\\nQUIT\\r\\n" > "$work/plain"
out=$($talk steps "$port2" "$work/plain" 0.5)
case "$out" in *"AUTH"*PLAIN*LOGIN*) fail "AUTH offered without TLS" ;; *) pass ;; esac
expect_contains "AUTH refused without TLS" "503 5.5.1 Error: authentication not enabled" "$out"
out=$(swaks --server "127.0.0.1:$port2" --helo client.example --tls -a PLAIN --auth-user alice \
	--auth-password secret --from a@example.org --to "$rcpt" --body "submission" 2>&1)
expect_contains "AUTH after STARTTLS" "235 2.7.0 Authentication successful" "$out"
expect_contains "queued after AUTH over TLS" "250 2.0.0 Ok: queued as" "$out"
id=$(queue_id_of "$out")
expect_contains "ESMTPSA" "with ESMTPSA id $id" "$(header_of "$id")"
normal "TLS AUTH"

# submission (587) as shipped: STARTTLS required, AUTH, then relaying.
printf '%s\n--\n%s\n' 'EHLO client.example\r\n' 'MAIL FROM:<a@example.org>\r\nQUIT\r\n' > "$work/sub"
out=$($talk steps "$port3" "$work/sub" 0.5)
expect_contains "submission: TLS first" "530 5.7.0 Must issue a STARTTLS command first" "$out"
out=$(swaks --server "127.0.0.1:$port3" --helo client.example --tls -a PLAIN --auth-user alice \
	--auth-password secret --from alice@mx.example --to friend@elsewhere.example --body "sub" 2>&1)
expect_contains "submission: relayed" "250 2.0.0 Ok: queued as" "$out"
out=$(swaks --server "127.0.0.1:$port3" --helo client.example --tls --from a@example.org \
	--to friend@elsewhere.example --body "no auth" 2>&1)
expect_contains "submission: no relay without AUTH" "554 5.7.1" "$out"
# smtps (465) as shipped: implicit TLS, AUTH, relaying.
out=$(swaks --server "127.0.0.1:$port4" --helo client.example --tlsc -a LOGIN --auth-user alice \
	--auth-password secret --from alice@mx.example --to friend@elsewhere.example --body "smtps" 2>&1)
expect_contains "smtps: relayed" "250 2.0.0 Ok: queued as" "$out"
wait_log "hikyaku/submission/smtpd[" && pass || fail "submission: syslog_name"

smtpd_finish
