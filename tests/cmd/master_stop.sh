#!/bin/sh
# stop: the master stops accepting at once, lets a client session in
# progress finish, then exits; status then says it is not running. Also:
# an inet service on [::1] listens on IPv6 when inet_protocols allows it.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/master.sh"

make_instance
port=$(free_port)
cat > "$work/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - - echo
CF
[ "$(id -u)" -eq 0 ] && hk set-permissions > /dev/null 2>&1
hk start > /dev/null 2>&1
expect_status "start" 0 $?

"$PYTHON" "$client" hold "$port" "$work/ready" "$work/go" > "$work/session" 2>&1 &
session=$!
wait_for test -e "$work/ready"
pid=$(master_pid)

hk stop > "$work/stop.out" 2>&1 &
stopper=$!
# Stopping means no new clients, while the old one is still served.
if wait_for sh -c "\"$PYTHON\" \"$client\" greet $port | grep -q error:"; then pass; else
	fail "new connections still accepted after stop"
fi
expect_output "master still running for the session" 0 "$(process_alive "$pid"; echo $?)"
touch "$work/go"
wait "$session"
expect_contains "session in progress completed" "completed" "$(cat "$work/session")"
wait "$stopper"
expect_status "stop" 0 $?
if wait_for process_gone "$pid"; then pass; else fail "master did not exit"; fi
out=$(hk status 2>&1)
expect_status "status after stop" 1 $?
expect_contains "status after stop" "not running" "$out"

# IPv6: the same service on [::1], where the machine has IPv6 loopback.
if "$PYTHON" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	port6=$(free_port)
	printf 'inet_interfaces = ::1\ninet_protocols = ipv6\n' >> "$work/etc/main.cf"
	printf '[::1]:%s inet n - n - - echo\n' "$port6" > "$work/etc/master.cf"
	hk start > /dev/null 2>&1
	expect_status "start on ::1" 0 $?
	greeting=$("$PYTHON" - "$port6" <<'PY'
import socket, sys
sock = socket.create_connection(("::1", int(sys.argv[1])), timeout=10)
print(sock.makefile().readline().strip())
PY
)
	case "$greeting" in
	""|*rror*) fail "no greeting over IPv6: $greeting" ;;
	*) pass ;;
	esac
	hk stop > /dev/null 2>&1
else
	echo "note: no IPv6 loopback on this machine; IPv6 case not run"
fi

finish
