#!/bin/sh
# lib/sasl_server against the real backends, driven by sasl_probe (smtpd's
# side of the interface):
# - Cyrus SASL with a sasldb made by saslpasswd2 and an smtpd.conf in a
#   private cyrus_sasl_config_path;
# - a private Dovecot (passwd-file) with an auth listener in the temp dir,
#   then Dovecot stopped under an open session;
# - a fake, hostile Dovecot auth server (support/fake_dovecot_auth.py).
# Each: PLAIN with an initial response, LOGIN in two 334 steps, a wrong
# password, malformed base64, a mechanism not offered, and mechanism
# filtering by the security options (noplaintext removes PLAIN and LOGIN).
# The Dovecot parts need root (Dovecot drops to its own users): without
# root the Cyrus part runs alone and the test exits 77 if it passed.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/dovecot_auth.sh"
: "${SASL_PROBE:?SASL_PROBE must name the sasl_probe binary}"
PYTHON=/usr/bin/python3

if ! command -v saslpasswd2 > /dev/null && [ ! -x /usr/sbin/saslpasswd2 ]; then
	fail "saslpasswd2 is not installed (sasl2-bin, tools/packages-test.txt)"
	finish
	exit 1
fi
PATH=$PATH:/usr/sbin

b64() { printf "$1" | base64 | tr -d '\n'; }
plain_ok=$(b64 'alice\0alice\0secret')
plain_bad=$(b64 'alice\0alice\0wrong')
login_user=$(b64 'alice')
login_password=$(b64 'secret')
username_prompt=$(b64 'Username:')
password_prompt=$(b64 'Password:')

# run_probe NAME TYPE PATH [PROBE OPTIONS...] < commands: output in $work/NAME.out,
# log lines in $work/NAME.err.
run_probe() {
	name=$1
	shift
	timeout 60 "$SASL_PROBE" -t "$@" > "$work/$name.out" 2> "$work/$name.err"
	expect_status "$name: probe exit status" 0 $?
}

# The cases every backend must pass. $1 prefix, then the probe options;
# $expected_user is the name the backend reports.
common_cases() {
	prefix=$1
	shift
	printf 'open\nmechanisms noplaintext, noanonymous\nmechanisms noanonymous\nstart PLAIN %s\n' \
		"$plain_ok" | run_probe "$prefix-plain" "$@"
	expect_output "$prefix: PLAIN with initial response" "open OK
mechanisms: $offered_noplaintext
mechanisms: $offered
DONE $expected_user" "$(cat "$work/$prefix-plain.out")"

	printf 'open\nmechanisms noanonymous\nstart login\nstep %s\nstep %s\n' \
		"$login_user" "$login_password" | run_probe "$prefix-login" "$@"
	expect_output "$prefix: LOGIN in two steps" "open OK
mechanisms: $offered
CONTINUE $username_prompt
CONTINUE $password_prompt
DONE $expected_user" "$(cat "$work/$prefix-login.out")"

	printf 'open\nmechanisms noanonymous\nstart PLAIN %s\nstart PLAIN ab$c\nstart PLAIN\nstep %s\n' \
		"$plain_bad" "abc" | run_probe "$prefix-bad" "$@"
	out=$(cat "$work/$prefix-bad.out")
	expect_contains "$prefix: wrong password fails" "
FAIL " "$out"
	expect_contains "$prefix: malformed initial response" "
BAD_INPUT malformed base64 in initial response" "$out"
	expect_contains "$prefix: malformed step response" "
BAD_INPUT malformed base64 in response" "$out"
	# No password or response in any log line.
	if grep -q -e secret -e wrong -e "$plain_bad" -e "$plain_ok" "$work/$prefix-bad.err" \
		"$work/$prefix-plain.err" "$work/$prefix-login.err"; then
		fail "$prefix: a password or response was logged"
	else
		pass
	fi

	# With noplaintext, PLAIN is no longer accepted either.
	printf 'open\nmechanisms noplaintext\nstart PLAIN %s\nstart XFOO\nstart TOO-LONG-MECHANISM-NAME-X\n' \
		"$plain_ok" | run_probe "$prefix-filter" "$@"
	expect_output "$prefix: filtered and unknown mechanisms refused" "open OK
mechanisms: $offered_noplaintext
BAD_MECHANISM mechanism not offered
BAD_MECHANISM mechanism not offered
BAD_MECHANISM mechanism name too long" "$(cat "$work/$prefix-filter.out")"
}

# --- Cyrus SASL: sasldb and smtpd.conf in our own config path ---------------
cyrus=$work/cyrus
mkdir -p "$cyrus"
echo secret | saslpasswd2 -c -p -f "$cyrus/sasldb2" -u example.org alice
expect_status "saslpasswd2" 0 $?
cat > "$cyrus/smtpd.conf" << CF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $cyrus/sasldb2
mech_list: PLAIN LOGIN CRAM-MD5
CF
offered="PLAIN LOGIN CRAM-MD5"
offered_noplaintext="CRAM-MD5"
expected_user=alice@example.org
common_cases cyrus cyrus -p smtpd -c "$cyrus" -r example.org

# Another application name reads another file: hikyaku.conf lists LOGIN only.
sed 's/^mech_list:.*/mech_list: LOGIN/' "$cyrus/smtpd.conf" > "$cyrus/hikyaku.conf"
printf 'open\nmechanisms noanonymous\n' | run_probe cyrus-appname cyrus -p hikyaku -c "$cyrus" -r example.org
expect_output "cyrus: smtpd_sasl_path names the .conf file" "open OK
mechanisms: LOGIN" "$(cat "$work/cyrus-appname.out")"

if [ "$(id -u)" -ne 0 ]; then
	echo "Dovecot parts skipped: need root"
	finish || exit 1
	exit 77
fi

# --- a real Dovecot with an auth listener in the temp dir -------------------
if [ ! -x /usr/sbin/dovecot ] || ! getent passwd dovenull > /dev/null; then
	fail "dovecot-core is not installed (tools/packages-test.txt lists it)"
	finish
	exit 1
fi
dove=$work/dovecot
chmod 755 "$work"
dovecot_auth_start "$dove" "$dove/auth"
expect_status "dovecot started" 0 $?
trap 'dovecot_auth_stop "$dove"; rm -rf "$work"' EXIT

offered="PLAIN LOGIN"
offered_noplaintext=""
expected_user=alice
common_cases dovecot dovecot -p "$dove/auth"

# A relative smtpd_sasl_path is relative to the current directory (smtpd:
# the queue directory, so "private/auth").
(cd "$dove" && printf 'open\nmechanisms\n' | run_probe dovecot-relative dovecot -p auth)
expect_output "dovecot: relative socket path" "open OK
mechanisms: PLAIN LOGIN" "$(cat "$work/dovecot-relative.out")"

# Dovecot stopped under an open session: TEMPFAIL, with a log line.
{
	printf 'open\nsignal %s\nwait %s\nstart PLAIN %s\n' "$work/opened" "$work/stopped" "$plain_ok"
} | run_probe dovecot-stopped dovecot -p "$dove/auth" &
probe=$!
tries=0
while [ ! -e "$work/opened" ] && [ "$tries" -lt 100 ]; do
	sleep 0.1
	tries=$((tries + 1))
done
# Kill the master and its children (the auth process holds our
# connection), all by pid: processes this test started.
pid=$(cat "$dove/run/master.pid")
children=$(ps -o pid= --ppid "$pid")
kill -9 "$pid" $children
tries=0
while [ "$tries" -lt 100 ]; do
	alive=0
	for process in $pid $children; do
		kill -0 "$process" 2> /dev/null && alive=1
	done
	[ "$alive" -eq 0 ] && break
	sleep 0.1
	tries=$((tries + 1))
done
rm -f "$dove/run/master.pid" # nothing left for the exit trap to kill
touch "$work/stopped"
wait "$probe"
# Writing the request fails (EPIPE) or reading the reply sees the end.
expect_contains "dovecot stopped: TEMPFAIL" "open OK
TEMPFAIL Dovecot auth: " "$(cat "$work/dovecot-stopped.out")"
expect_contains "dovecot stopped: logged" "warning: Dovecot auth socket $dove/auth: " \
	"$(cat "$work/dovecot-stopped.err")"
printf 'open\n' | run_probe dovecot-down dovecot -p "$dove/auth"
expect_contains "dovecot down: open fails" "open FAIL cannot connect to Dovecot auth socket $dove/auth" \
	"$(cat "$work/dovecot-down.out")"

# --- a hostile auth server ----------------------------------------------------
# fake SCENARIO EXPECTED_OUTPUT [LOG_TEXT]
fake() {
	socket=$work/fake-$1
	rm -f "$socket.ready"
	"$PYTHON" "$SOURCE_DIR/tests/cmd/support/fake_dovecot_auth.py" "$socket" "$1" &
	server=$!
	tries=0
	while [ ! -e "$socket.ready" ] && [ "$tries" -lt 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	printf 'open\nstart PLAIN %s\n' "$plain_ok" | run_probe "fake-$1" dovecot -p "$socket"
	wait "$server"
	expect_output "hostile $1" "$2" "$(cat "$work/fake-$1.out")"
	if [ $# -ge 3 ]; then
		expect_contains "hostile $1: logged" "$3" "$(cat "$work/fake-$1.err")"
	fi
}
fake version2 "open FAIL Dovecot auth socket $work/fake-version2: auth server does not speak protocol version 1
ERROR not open"
fake overlong_handshake "open FAIL Dovecot auth socket $work/fake-overlong_handshake: auth server sent an overlong line
ERROR not open"
fake many_mechs "open FAIL Dovecot auth socket $work/fake-many_mechs: auth server sent too many MECH lines
ERROR not open"
fake no_done "open FAIL Dovecot auth socket $work/fake-no_done: auth server handshake too long
ERROR not open"
fake ok_without_user "open OK
TEMPFAIL Dovecot auth: OK without a usable user=" "OK without a usable user="
fake ok_user_with_newline "open OK
TEMPFAIL Dovecot auth: OK without a usable user=" "OK without a usable user="
fake nul_in_reply "open OK
TEMPFAIL Dovecot auth: malformed reply: NUL byte in reply" "malformed reply"
fake cont_bad_base64 "open OK
TEMPFAIL Dovecot auth: malformed base64 in CONT" "malformed base64 in CONT"
fake bad_id "open OK
TEMPFAIL Dovecot auth: malformed reply: bad request id" "bad request id"
fake close_after_auth "open OK
TEMPFAIL Dovecot auth: auth server closed the connection" "closed the connection"
fake temp_fail "open OK
TEMPFAIL passdb down"
fake stale_then_ok "open OK
DONE alice"
fake endless_stale "open OK
TEMPFAIL Dovecot auth: no reply to our request" "no reply to our request"

[ "$failed" -gt 0 ] && cat "$dove/log" >&2
finish
