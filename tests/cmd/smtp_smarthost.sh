#!/bin/sh
# The "Internet with smarthost" setup against a real Postfix (Debian's
# postfix, started with `postfix -c DIR`) on loopback ports, acting as
# the ISP's submission server: it demands STARTTLS
# (smtpd_tls_security_level = encrypt) and AUTH (Cyrus SASL, a sasldb
# made by saslpasswd2; smtpd_relay_restrictions = permit_sasl_authenticated,
# reject) and delivers into a Maildir that the test reads. hikyaku relays
# through it with relayhost, smtp_sasl_password_maps and
# smtp_tls_security_level = verify with the test CA in smtp_tls_CAfile
# (secure, from smtp_tls_policy_maps, for the main smarthost):
#   - a wrong password: deferred with Postfix's 535 reply, in the log and
#     in `hikyaku queue`; sasl_passwd fixed, `hikyaku map`, `hikyaku
#     flush`: delivered, byte-exact, with a "Verified TLS connection" line;
#   - a smarthost with a self-signed certificate: deferred (not trusted);
#   - a smarthost that offers no STARTTLS: deferred ("TLS is required,
#     but was not offered"), and Postfix saw no MAIL FROM or AUTH;
#   - smtp_sender_dependent_authentication: the sender's entry in
#     sasl_passwd wins over the next hop's.
# Root only: Postfix's master must start as root.
. "$(dirname "$0")/support/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root (postfix)"; exit 77; fi
. "$(dirname "$0")/support/smtp_lib.sh"
for program in /usr/sbin/postfix /usr/sbin/saslpasswd2 /usr/lib/postfix/sbin/smtpd; do
	[ -x "$program" ] || { echo "missing $program" >&2; exit 1; }
done

pf_etc=$work/postfix/etc
pf_queue=$work/postfix/queue
pf_mail=$work/postfix/mail
pf() { timeout 60 /usr/sbin/postfix -c "$pf_etc" "$@"; }
port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
good_port=$(port)
selfsigned_port=$(port)
plain_port=$(port)
mkdir -p "$pf_etc/sasl" "$work/postfix/data" "$pf_queue" "$pf_mail"
chown postfix "$work/postfix/data"
chown nobody "$pf_mail"
sh "$SOURCE_DIR/tests/cmd/support/make_test_certs.sh" "$work/certs" || exit 1
chmod 755 "$work/certs"
cat > "$pf_etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf_queue
data_directory = $work/postfix/data
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $work/postfix/maillog
maillog_file_prefixes = $work
myhostname = smarthost.test
mydomain = smarthost.test
mydestination =
mynetworks = 192.0.2.1/32
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = example.test
virtual_mailbox_base = $pf_mail
virtual_mailbox_maps = texthash:$pf_etc/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
smtpd_tls_security_level = encrypt
smtpd_tls_cert_file = $work/certs/server.pem
smtpd_tls_key_file = $work/certs/server.key
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $pf_etc/sasl
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
biff = no
CF
echo "@example.test example.test/all/" > "$pf_etc/vmailbox"
cat > "$pf_etc/sasl/smtpd.conf" <<CF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $pf_etc/sasl/sasldb2
CF
echo "s3cret" | /usr/sbin/saslpasswd2 -p -c -f "$pf_etc/sasl/sasldb2" -u smarthost.test relayuser
chown postfix "$pf_etc/sasl/sasldb2"
cat > "$pf_etc/master.cf" <<CF
127.0.0.1:$good_port inet n - n - - smtpd
127.0.0.1:$selfsigned_port inet n - n - - smtpd
  -o smtpd_tls_cert_file=$work/certs/selfsigned.pem
  -o smtpd_tls_key_file=$work/certs/selfsigned.key
127.0.0.1:$plain_port inet n - n - - smtpd
  -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
retry     unix  -       -       n       -       -       error
error     unix  -       -       n       -       -       error
virtual   unix  -       n       n       -       -       virtual
postlog   unix-dgram n  -       n       -       1       postlogd
CF
pf check > "$work/postfix/check.log" 2>&1 || { cat "$work/postfix/check.log" "$work/postfix/maillog" >&2; exit 1; }
pf start > "$work/postfix/start.log" 2>&1 || { cat "$work/postfix/start.log" >&2; exit 1; }
postfix_stop() { pf abort > /dev/null 2>&1 || pf stop > /dev/null 2>&1; }

make_smtp_instance \
	"relayhost = [localhost]:$good_port" \
	"transport_maps = inline:{ {selfsigned@example.test = smtp:[localhost]:$selfsigned_port}, {plain@example.test = smtp:[localhost]:$plain_port}, {mismatch@example.test = smtp:[127.0.0.1]:$good_port} }" \
	"smtp_sasl_auth_enable = yes" \
	"smtp_sasl_password_maps = hash:$etc/sasl_passwd" \
	"smtp_sasl_security_options = noanonymous" \
	"smtp_tls_security_level = verify" \
	"smtp_tls_policy_maps = inline:{ {[localhost]:$good_port = secure match=nexthop:dot-nexthop}, {[127.0.0.1]:$good_port = secure match=wrong.example} }" \
	"smtp_tls_CAfile = $work/certs/ca.pem" \
	"smtp_host_lookup = dns, native"
# localhost is in /etc/hosts, not in DNS: "dns, native", as with Postfix.
printf '[localhost]:%s relayuser:wrong\nlocalhost relayuser:s3cret\n' "$good_port" > "$etc/sasl_passwd"
hk map "hash:$etc/sasl_passwd"
expect_status "map" 0 $?
trap 'postfix_stop; smtp_cleanup' EXIT
start_system
wait_for 10 test -S "$pf_queue/public/pickup"

cat > "$work/message" <<MSG
From: Sender <sender@host.example>
To: user@example.test
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <smarthost-test-1@host.example>
Subject: through the smarthost

hello through Postfix
.a dot line
MSG
submit user@example.test "$work/message"
expect_status "sendmail" 0 $?

# 1. A wrong password: deferred with the 535 reply.
if wait_for 30 logged "to=<user@example.test>, relay=localhost\[127.0.0.1\]:$good_port, .*dsn=4.7.8, status=deferred (SASL authentication failed; server localhost\[127.0.0.1\] said: 535 5.7.8 Error: authentication failed"; then pass; else fail "no deferral with the 535 reply"; fi
expect_contains "TLS before AUTH" "Verified TLS connection established to localhost[127.0.0.1]:$good_port: TLSv1.3 with cipher" "$(cat "$log")"
expect_contains "mailq shows the 535" "535 5.7.8 Error: authentication failed" "$(hk queue 2>&1)"
expect_output "nothing delivered yet" 0 "$(find "$pf_mail" -type f | wc -l | tr -d ' ')"

# 2. Fixed password, map, flush: delivered byte-exact.
printf '[localhost]:%s relayuser:s3cret\n' "$good_port" > "$etc/sasl_passwd"
hk map "hash:$etc/sasl_passwd"
hk flush > /dev/null 2>&1
delivered_file() { find "$pf_mail/example.test/all/new" -type f 2>/dev/null | head -1 | grep .; }
if wait_for 30 delivered_file; then pass; else fail "not delivered after the fix"; tail -20 "$work/postfix/maillog" >&2; fi
file=$(delivered_file)
expect_output "byte-exact" yes "$("$PYTHON" -c '
import sys
got = open(sys.argv[1], "rb").read()
want = open(sys.argv[2], "rb").read()
print("yes" if got.endswith(b"\n" + want) else "no")' "$file" "$work/message" 2>&1)"
expect_contains "hikyaku's Received header" "by host.example (hikyaku" "$(cat "$file")"
if wait_for 10 logged "to=<user@example.test>, relay=localhost\[127.0.0.1\]:$good_port, .*dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as"; then pass; else fail "no sent line"; fi
expect_contains "Postfix saw the login" "sasl_method=PLAIN, sasl_username=relayuser" "$(cat "$work/postfix/maillog")"

# 3. A self-signed certificate with smtp_tls_security_level = verify: deferred.
submit selfsigned@example.test
if wait_for 30 logged "to=<selfsigned@example.test>, .*status=deferred (TLS is required, but our TLS engine failed with localhost\[127.0.0.1\]: .*certificate"; then pass; else fail "self-signed certificate not refused"; fi

# 3b. secure with a name the certificate does not carry: deferred.
submit mismatch@example.test
if wait_for 30 logged "to=<mismatch@example.test>, .*status=deferred (TLS is required, but our TLS engine failed with 127.0.0.1\[127.0.0.1\]: hostname mismatch"; then pass; else fail "secure match= not enforced"; fi

# 4. No STARTTLS offered: deferred, nothing sent in clear.
submit plain@example.test
if wait_for 30 logged "to=<plain@example.test>, .*dsn=4.7.4, status=deferred (TLS is required, but was not offered by host localhost\[127.0.0.1\])"; then pass; else fail "missing STARTTLS not deferred"; fi
plain_session=$(grep "smtpd.*disconnect from localhost\[127.0.0.1\] ehlo=1 quit=1 commands=2" "$work/postfix/maillog")
[ -n "$plain_session" ] && pass || fail "the plain session did more than EHLO and QUIT"
expect_output "nothing else delivered" 1 "$(find "$pf_mail" -type f | wc -l | tr -d ' ')"

# 5. Sender-dependent credentials: the right password only under the sender.
printf 'special@host.example relayuser:s3cret\n[localhost]:%s relayuser:wrong\n' "$good_port" > "$etc/sasl_passwd"
hk map "hash:$etc/sasl_passwd"
echo "smtp_sender_dependent_authentication = yes" >> "$etc/main.cf"
hk reload > /dev/null 2>&1
sleep 1
printf 'Subject: special\n\nfrom the special sender\n' |
	MAIL_CONFIG=$etc "$work/bin/sendmail" -i -f special@host.example special@example.test
submit other@example.test
if wait_for 30 logged "to=<special@example.test>, .*status=sent"; then pass; else fail "sender-dependent credentials not used"; fi
if wait_for 30 logged "to=<other@example.test>, .*status=deferred (SASL authentication failed; server localhost\[127.0.0.1\] said: 535"; then pass; else fail "next-hop credentials not used for another sender"; fi
check_sanitizer
finish
