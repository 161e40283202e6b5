#!/bin/sh
# SMTP AUTH as a user sees it, with Dovecot as the backend: a private
# Dovecot whose auth listener is $queue_directory/private/auth, a chrooted
# smtpd with smtpd_sasl_path = private/auth, and swaks. AUTH PLAIN and
# LOGIN give 235 and the message is queued with the user logged; a wrong
# password gives 535 and Postfix's warning line (for fail2ban); with
# Dovecot gone, AUTH is no longer offered and a warning says why.
# Needs root (Dovecot, chroot): otherwise exits 77.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/dovecot_auth.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root for Dovecot and the chroot"
	exit 77
fi
. "$(dirname "$0")/support/smtpd_lib.sh"
if [ ! -x /usr/sbin/dovecot ] || ! getent passwd dovenull > /dev/null; then
	fail "dovecot-core is not installed (tools/packages-test.txt lists it)"
	finish
	exit 1
fi

dove=$work/dovecot
mkdir -p "$queue/private"
dovecot_auth_start "$dove" "$queue/private/auth"
expect_status "dovecot started" 0 $?
trap 'dovecot_auth_stop "$dove"; smtpd_stop' EXIT

cat >> "$etc/main.cf" << CF
smtpd_sasl_auth_enable = yes
smtpd_tls_auth_only = no
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
CF
smtpd_master_cf
# Chrooted in the queue directory: the relative socket path still works.
sed 's/ inet n - n - - smtpd$/ inet n - y - - smtpd/' "$etc/master.cf" > "$etc/master.cf.new" &&
	mv "$etc/master.cf.new" "$etc/master.cf"
smtpd_start || { finish; exit 1; }

out=$(swaks_run --from a@example.org --to someone@elsewhere.example \
	-a PLAIN --auth-user alice --auth-password secret)
expect_contains "AUTH offered" "<-  250-AUTH PLAIN LOGIN" "$out"
expect_contains "PLAIN accepted" "<-  235 2.7.0 Authentication successful" "$out"
expect_contains "relayed after AUTH" "<-  250 2.0.0 Ok: queued as " "$out"
id=$(queue_id_of "$out")
wait_log "$id: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=alice" &&
	pass || fail "no sasl_username in the client= line"

out=$(swaks_run --from a@example.org --to someone@elsewhere.example \
	-a LOGIN --auth-user alice --auth-password secret)
expect_contains "LOGIN accepted" "<-  235 2.7.0 Authentication successful" "$out"

out=$(swaks_run --from a@example.org --to someone@elsewhere.example \
	-a LOGIN --auth-user alice --auth-password wrong)
expect_contains "wrong password" "<** 535 5.7.8 Error: authentication failed" "$out"
wait_log "warning: localhost[127.0.0.1]: SASL LOGIN authentication failed" &&
	pass || fail "no warning for the failed attempt"
if grep -q -e wrong -e secret -e "$(printf wrong | base64)" "$work/maillog"; then
	fail "a password was logged"
else
	pass
fi

# Dovecot gone: no AUTH in EHLO, and the log says why.
pid=$(cat "$dove/run/master.pid")
kill "$pid"
rm -f "$dove/run/master.pid"
tries=0
while kill -0 "$pid" 2> /dev/null && [ "$tries" -lt 100 ]; do
	sleep 0.1
	tries=$((tries + 1))
done
out=$(swaks_run --quit-after EHLO)
case "$out" in *"250-AUTH"* | *"250 AUTH"*) fail "AUTH offered without a backend" ;; *) pass ;; esac
wait_log "warning: localhost[127.0.0.1]: SASL authentication is not available: cannot connect to Dovecot auth socket private/auth" &&
	pass || fail "no warning about the unreachable backend"

[ "$failed" -gt 0 ] && cat "$dove/log" >&2
finish
