# Shared helpers for the TLS command tests (sourced after lib.sh):
# test certificates in $certs, and tls_echo servers started by pid.
: "${TLS_ECHO:?TLS_ECHO must name the tls_echo test program}"
certs=$work/certs
sh "$SOURCE_DIR/tests/cmd/support/make_test_certs.sh" "$certs" || exit 1
started_pids=""
trap 'for pid in $started_pids; do kill "$pid" 2>/dev/null; done; rm -rf "$work"' EXIT

# start_echo NAME ARGUMENTS...: a tls_echo server; sets $port, logs to $work/NAME.log.
start_echo() {
	name=$1
	shift
	"$TLS_ECHO" server "$@" "$work/$name.port" 2> "$work/$name.log" &
	started_pids="$started_pids $!"
	tries=0
	while [ ! -s "$work/$name.port" ] && [ "$tries" -lt 50 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	port=$(cat "$work/$name.port" 2> /dev/null)
	if [ -z "$port" ]; then
		fail "tls_echo $name did not start: $(cat "$work/$name.log")"
		finish
		exit 1
	fi
}

# start_s_server NAME ARGUMENTS...: openssl s_server on a free port; sets $port.
start_s_server() {
	name=$1
	shift
	openssl s_server -accept 127.0.0.1:0 "$@" > "$work/$name.log" 2>&1 &
	started_pids="$started_pids $!"
	tries=0
	port=""
	while [ -z "$port" ] && [ "$tries" -lt 50 ]; do
		sleep 0.1
		tries=$((tries + 1))
		port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.log")
	done
	if [ -z "$port" ]; then
		fail "openssl s_server $name did not start: $(cat "$work/$name.log")"
		finish
		exit 1
	fi
}

# check_sanitizer_logs: no tls_echo process reported a memory error or
# undefined behaviour (in an ASan/UBSan build they report on stderr).
check_sanitizer_logs() {
	if grep -l -e 'Sanitizer' -e 'runtime error' "$work"/*.log > /dev/null 2>&1; then
		fail "sanitizer report in $(grep -l -e 'Sanitizer' -e 'runtime error' "$work"/*.log)"
	else
		pass
	fi
}
