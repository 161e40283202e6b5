#!/bin/sh
# What smtpd puts in the Received: header and its TLS log line, as Postfix
# does: with smtpd_tls_received_header = yes the protocol, cipher, key
# exchange and server signature ("(using TLSv1.3 with cipher ...\n\t
# key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest
# SHA256)" and "(No client certificate requested)"); with
# smtpd_sasl_authenticated_header = yes "(Authenticated sender: USER)";
# neither by default. smtpd_sasl_exceptions_networks: EHLO does not
# announce AUTH to those clients (the command still works, as Postfix's).
# Clients: swaks, openssl s_client, Python's smtplib; a Cyrus sasldb.
# Needs root (smtpd runs as mail_owner, which must read the sasldb).
. "$(dirname "$0")/support/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (smtpd as mail_owner)"
	exit 77
fi
. "$(dirname "$0")/support/smtpd_lib.sh"
PATH=$PATH:/usr/sbin
command -v saslpasswd2 > /dev/null || { fail "saslpasswd2 is not installed (sasl2-bin)"; finish; exit 1; }

sasl=$work/sasl
mkdir -p "$sasl"
chmod 755 "$sasl"
echo secret | saslpasswd2 -c -p -f "$sasl/sasldb2" -u mx.example alice
chown "$(hk conf -h mail_owner 2> /dev/null || echo hikyaku)" "$sasl/sasldb2"
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
	"$sasl/sasldb2" > "$sasl/smtpd.conf"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.example \
	-keyout "$etc/key.pem" -out "$etc/cert.pem" > /dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=mx.example -keyout "$etc/eckey.pem" -out "$etc/eccert.pem" > /dev/null 2>&1
chmod 644 "$etc/key.pem" "$etc/eckey.pem"
cat >> "$etc/main.cf" << CF
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = mx.example
cyrus_sasl_config_path = $sasl
smtpd_tls_cert_file = $etc/cert.pem
smtpd_tls_key_file = $etc/key.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
CF
port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
port3=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
# port: both headers on, no AUTH announced to $mynetworks (127.0.0.2);
# port2: the defaults; port3: an ECDSA certificate.
smtpd_master_cf smtpd_tls_received_header=yes smtpd_sasl_authenticated_header=yes \
	'smtpd_sasl_exceptions_networks=$mynetworks'
{
	printf '127.0.0.1:%s inet n - n - - smtpd\n' "$port2"
	printf '127.0.0.1:%s inet n - n - - smtpd\n' "$port3"
	printf '  -o smtpd_tls_received_header=yes\n'
	printf '  -o smtpd_tls_cert_file=%s\n  -o smtpd_tls_key_file=%s\n' "$etc/eccert.pem" "$etc/eckey.pem"
} >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }

# Postfix's lines (4 lines of the header; the first names the client).
tls_lines='	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
	 key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)
	(No client certificate requested)
	(Authenticated sender: alice@mx.example)
	by mx.example (hikyaku) with ESMTPSA id'

# 1. STARTTLS (TLS 1.3, X25519 by default) and AUTH, both headers on.
out=$(swaks_run --tls -a PLAIN --auth-user alice --auth-password secret \
	--from alice@mx.example --to "$rcpt" --body "both headers")
expect_contains "queued (TLS, AUTH)" "250 2.0.0 Ok: queued as" "$out"
id=$(queue_id_of "$out")
header=$(header_of "$id")
expect_contains "Received: TLS and AUTH lines" "$tls_lines $id" "$header"
expect_contains "Received: first line" "Received: from client.example (localhost [127.0.0.1])" "$header"
wait_log "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256" &&
	pass || fail "TLS log line with key exchange and signature"

# 2. AUTH without TLS: only the authenticated sender.
out=$(swaks_run -a LOGIN --auth-user alice --auth-password secret \
	--from alice@mx.example --to "$rcpt" --body "auth only")
id=$(queue_id_of "$out")
header=$(header_of "$id")
expect_contains "Received: AUTH only" "Received: from client.example (localhost [127.0.0.1])
	(Authenticated sender: alice@mx.example)
	by mx.example (hikyaku) with ESMTPA id $id" "$header"

# 3. TLS 1.2 with P-256 (openssl s_client): ECDHE (P-256), no AUTH.
out=$( (sleep 1; echo 'EHLO tls12.example'; sleep 0.5
	printf 'MAIL FROM:<a@example.org>\nRCPT TO:<%s>\nDATA\n' "$rcpt"; sleep 0.5
	printf 'Subject: tls12\n\nhello\n.\n'; sleep 0.5; echo QUIT; sleep 1) |
	timeout 20 openssl s_client -starttls smtp -crlf \
	-quiet -tls1_2 -groups P-256 -connect "127.0.0.1:$port" 2>&1)
expect_contains "s_client TLS 1.2 queued" "250 2.0.0 Ok: queued as" "$out"
id=$(queue_id_of "$out")
expect_contains "Received: TLS 1.2 ECDHE" "	(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)
	 key-exchange ECDHE (P-256) server-signature RSA-PSS (2048 bits) server-digest SHA256)
	(No client certificate requested)
	by mx.example (hikyaku) with ESMTPS id $id" "$(header_of "$id")"

# 4. An ECDSA certificate.
out=$(swaks --server "127.0.0.1:$port3" --helo client.example --tls --from a@example.org \
	--to "$rcpt" --body "ecdsa" 2>&1)
id=$(queue_id_of "$out")
expect_contains "Received: ECDSA" "key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256)
	(No client certificate requested)
	by mx.example (hikyaku) with ESMTPS id $id" "$(header_of "$id")"

# 5. The defaults (both no): "with ESMTPSA", nothing else.
out=$(swaks --server "127.0.0.1:$port2" --helo client.example --tls -a PLAIN --auth-user alice \
	--auth-password secret --from alice@mx.example --to "$rcpt" --body "defaults" 2>&1)
id=$(queue_id_of "$out")
header=$(header_of "$id")
expect_contains "Received: defaults" "Received: from client.example (localhost [127.0.0.1])
	by mx.example (hikyaku) with ESMTPSA id $id" "$header"

# 6. smtpd_sasl_exceptions_networks = $mynetworks: 127.0.0.2 is not
# offered AUTH, 127.0.0.1 is; AUTH sent anyway still works.
cat > "$work/exception.py" << 'PY'
import base64, smtplib, sys
port, source = int(sys.argv[1]), sys.argv[2]
smtp = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example",
                    source_address=(source, 0), timeout=20)
smtp.ehlo()
print("announced" if smtp.has_extn("auth") else "not announced")
code, text = smtp.docmd("AUTH", "PLAIN " + base64.b64encode(b"alice\0alice\0secret").decode())
print(code, text.decode())
smtp.quit()
PY
out=$($PYTHON "$work/exception.py" "$port" 127.0.0.2 2>&1)
expect_contains "exception: AUTH not announced" "not announced" "$out"
expect_contains "exception: AUTH still works" "235 2.7.0 Authentication successful" "$out"
out=$($PYTHON "$work/exception.py" "$port" 127.0.0.1 2>&1)
expect_output "others: AUTH announced" "announced
235 2.7.0 Authentication successful" "$out"
out=$(swaks --server "127.0.0.1:$port" --local-interface 127.0.0.2 --helo client.example \
	--quit-after EHLO 2>&1)
expect_contains "exception: swaks sees EHLO" "250-mx.example" "$out"
case "$out" in *"250-AUTH"*|*"250 AUTH"*) fail "swaks: AUTH offered to an exception" ;; *) pass ;; esac

smtpd_finish
