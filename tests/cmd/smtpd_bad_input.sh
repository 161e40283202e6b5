#!/bin/sh
# Hostile and broken clients: garbage bytes, NUL bytes, a 10,000-byte
# command line, an idle client, a 1,000-character address, 10,000 RCPT
# commands, a client that stops reading, 50 idle connections. Each gets
# the right reply or a timeout, and a normal transaction works right after.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtpd_lib.sh"

port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
smtpd_master_cf smtpd_timeout=2s smtpd_recipient_limit=5 smtpd_recipient_overshoot_limit=10
printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_timeout=2s\n  -o smtpd_forbid_unauth_pipelining=no\n' \
	"$port2" >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }

# normal NAME: a plain transaction must work.
normal() {
	out=$(swaks_run --from sender@example.org --to "$rcpt" --body "after $1")
	expect_contains "normal mail after $1" "250 2.0.0 Ok: queued as" "$out"
}

# Garbage: random bytes with NUL, CR and LF among them.
"$PYTHON" -c 'import random, sys
random.seed(8)
sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(20000)))' > "$work/garbage"
out=$(talk_send "$work/garbage")
# The errors add up to smtpd_hard_error_limit (or pipelining before EHLO
# is refused). The server closes with unread input, so the client may lose
# the last replies to a reset: the log tells.
expect_contains "garbage: refused" "5.5." "$out"
wait_log "too many errors after CONNECT from localhost[127.0.0.1]" ||
	wait_log "improper command pipelining after" && pass || fail "garbage: not dropped"
normal garbage

# NUL bytes inside commands.
printf '%s\n--\n%s\n--\n%s\n' 'EHLO client.example\r\n' 'MAIL FROM:<a\0b@example.org>\r\n' \
	'NO\0OP\r\nQUIT\r\n' > "$work/nul"
out=$($talk steps "$port" "$work/nul" 0.5)
expect_output "NUL: two refusals" 2 "$(printf '%s\n' "$out" | grep -c '^500 5.5.2 Error: bad syntax')"
expect_contains "NUL: session goes on" "221 2.0.0 Bye" "$out"
normal NUL

# A 10,000-byte command line; the session goes on.
long=$("$PYTHON" -c 'print("X" * 10000)')
printf '%s\n--\n%s\n' 'EHLO client.example\r\n' "NOOP $long\\r\\nNOOP\\r\\nQUIT\\r\\n" > "$work/long"
out=$($talk steps "$port" "$work/long" 0.5)
expect_contains "long line" "500 5.5.2 Error: line too long" "$out"
expect_contains "after the long line" "250 2.0.0 Ok" "$out"
normal "long line"

# A client that says nothing: 421 after smtpd_timeout (2 s).
start=$(date +%s)
out=$($talk idle "$port" 6)
expect_contains "idle: timeout" "421 4.4.2 mx.example Error: timeout exceeded" "$out"
[ $(($(date +%s) - start)) -lt 6 ] && pass || fail "idle: the timeout took too long"
wait_log "timeout after CONNECT from localhost[127.0.0.1]" && pass || fail "idle: no timeout log"
normal idle

# A client that stops in the middle of DATA: timeout, nothing queued; one
# that goes away there: nothing queued either.
before=$(queued)
printf '%s\n--\n%s\n--\n%s\n' 'EHLO client.example\r\n' \
	"MAIL FROM:<a@example.org>\\r\\nRCPT TO:<$rcpt>\\r\\nDATA\\r\\n" \
	'Subject: half\r\n\r\nhalf a message\r\n' > "$work/half"
out=$($talk steps "$port" "$work/half" 0.5 4)
expect_contains "DATA timeout" "421 4.4.2 mx.example Error: timeout exceeded" "$out"
wait_log "timeout after DATA from localhost[127.0.0.1]" && pass || fail "no DATA timeout log"
expect_output "half message not queued" "$before" "$(queued)"
printf '%s\n--\n%s\n--\n%s\n' 'EHLO client.example\r\n' \
	"MAIL FROM:<a@example.org>\\r\\nRCPT TO:<$rcpt>\\r\\nDATA\\r\\n" \
	'Subject: cut\r\n\r\ncut short\r\n' > "$work/cut"
$talk steps "$port" "$work/cut" 0.3 > /dev/null
wait_log "lost connection after DATA from localhost[127.0.0.1]" && pass || fail "no lost connection log"
expect_output "cut message not queued" "$before" "$(queued)"
normal "an unfinished DATA"

# A 1,000-character address.
local_part=$("$PYTHON" -c 'print("a" * 1000)')
printf '%s\n--\n%s\n--\n%s\n--\n%s\n' 'EHLO client.example\r\n' "MAIL FROM:<$local_part@example.org>\\r\\n" \
	'MAIL FROM:<s@example.org>\r\n' "RCPT TO:<$local_part@mx.example>\\r\\nQUIT\\r\\n" > "$work/address"
out=$($talk steps "$port" "$work/address" 0.5)
expect_contains "long sender" "501 5.1.7 Bad sender address syntax" "$out"
expect_contains "long recipient" "501 5.1.3 Bad recipient address syntax" "$out"
normal "long address"

# 10,000 RCPT commands with smtpd_recipient_limit = 5: five accepted, then
# 452; past the overshoot limit they count as errors and the client is
# dropped with 421.
"$PYTHON" -c 'import sys
sys.stdout.write("EHLO client.example\\r\\n\n--\nMAIL FROM:<s@example.org>\\r\\n")
for i in range(10000):
    sys.stdout.write("RCPT TO:<r%d@mx.example>\\r\\n" % i)
sys.stdout.write("\n")' > "$work/rcpts"
out=$($talk steps "$port" "$work/rcpts" 1)
expect_output "five recipients" 5 "$(printf '%s\n' "$out" | grep -c '^250 2.1.5 Ok')"
expect_contains "too many recipients" "452 4.5.3 Error: too many recipients" "$out"
wait_log "too many errors after RCPT from localhost[127.0.0.1]" && pass || fail "RCPT flood: not dropped"
normal "10,000 RCPT"

# A client that sends many commands and never reads the replies: the
# server's write times out (smtpd_timeout) and the session ends.
"$PYTHON" - "$port2" <<'PY' > "$work/stuck.out"
import socket, sys, time
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
sock.settimeout(6)
sock.recv(1024)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
payload = b"EHLO client.example\r\n" * 200000
start = time.monotonic()
try:
    sock.sendall(payload)
    time.sleep(8)
    print("sent all")
except OSError as error:
    print("send failed: %s" % type(error).__name__)
print("seconds %d" % (time.monotonic() - start))
PY
wait_log "timeout after EHLO from localhost[127.0.0.1]" && pass ||
	fail "stuck reader: no timeout log ($(cat "$work/stuck.out"))"
normal "a client that stops reading"

# 50 idle connections: each is greeted; a normal transaction works meanwhile.
$talk many "$port" 50 3 > "$work/many.out" &
many_pid=$!
sleep 1
normal "50 idle connections (during)"
wait "$many_pid"
expect_output "50 greeted" 50 "$(cat "$work/many.out")"
normal "50 idle connections (after)"

smtpd_finish
