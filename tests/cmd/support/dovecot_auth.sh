# A private Dovecot serving only its authentication protocol, for the SASL
# tests (sourced after lib.sh). One user, alice / secret, in a passwd-file;
# PLAIN and LOGIN; no TLS, no mail protocols.
#
#   dovecot_auth_start DIR SOCKET   config and state in DIR, the auth
#                                   listener at SOCKET; waits (at most
#                                   10 s) for it; 0 when it is there
#   dovecot_auth_stop DIR           stop that Dovecot (by its pid file)

dovecot_auth_start() {
	mkdir -p "$1/run" "$1/state"
	chmod 755 "$1"
	printf 'alice:{PLAIN}secret\n' > "$1/passwd"
	cat > "$1/dovecot.conf" << CF
base_dir = $1/run
state_dir = $1/state
log_path = $1/log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $1/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $2 {
    mode = 0666
  }
}
service anvil {
  chroot =
}
CF
	/usr/sbin/dovecot -c "$1/dovecot.conf" || return 1
	dovecot_tries=0
	while [ ! -S "$2" ] && [ "$dovecot_tries" -lt 100 ]; do
		sleep 0.1
		dovecot_tries=$((dovecot_tries + 1))
	done
	[ -S "$2" ]
}

dovecot_auth_stop() {
	if [ -s "$1/run/master.pid" ]; then
		kill "$(cat "$1/run/master.pid")" 2> /dev/null
	fi
}
