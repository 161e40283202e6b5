# anvil, run alone (-S): connection counts and rates per (service, client
# address) as smtpd sees them through lib/anvil_client; a killed client's
# counts released; garbage requests refused without harm to the daemon.
# The driver is tests/cmd/support/anvil_probe.c; raw frames come from
# /usr/bin/python3.
. "$SOURCE_DIR/tests/cmd/support/lib.sh"
bin=$(dirname "$HIKYAKU")/..
ANVIL=$bin/anvil/anvil
PROBE=$bin/anvil/anvil_probe
PYTHON=/usr/bin/python3

mkdir -p "$work/etc" "$work/q"
cat > "$work/etc/main.cf" <<CF
queue_directory = $work/q
anvil_rate_time_unit = 3600s
CF
socket=$work/anvil.sock
pid=
holders=
cleanup() {
	for holder in $holders; do kill "$holder" 2>/dev/null; done
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
"$ANVIL" -c "$work/etc" -S "$socket" 2>>"$work/anvil.log" &
pid=$!
i=0
while [ ! -S "$socket" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

# gone PID: wait (bounded) until our child PID has exited.
gone() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	wait "$1" 2>/dev/null
}

# hold NAME SERVICE ADDRESS FD: a client that connects and keeps its anvil
# connection open until its fifo is closed or it is killed.
hold() {
	mkfifo "$work/$1.fifo"
	# Without the other holders' fifo descriptors, so closing one ends one.
	"$PROBE" "$socket" connect "$2" "$3" hold <"$work/$1.fifo" >"$work/$1.out" 2>&1 \
		4>&- 5>&- 6>&- &
	eval "holder_$1=\$!"
	holders="$holders $!"
	eval "exec $4>\"\$work/\$1.fifo\""
	i=0
	until grep -q holding "$work/$1.out" 2>/dev/null; do
		[ $i -ge 100 ] && break
		sleep 0.05
		i=$((i + 1))
	done
}

# 1. Counts and rates for one address grow with each client; another
# address and another service are counted apart.
hold a smtp 192.0.2.1 4
expect_output "first client" "count 1 rate 1
holding" "$(cat "$work/a.out")"
hold b smtp 192.0.2.1 5
expect_output "second client" "count 2 rate 2
holding" "$(cat "$work/b.out")"
hold c smtp 192.0.2.1 6
expect_output "third client" "count 3 rate 3
holding" "$(cat "$work/c.out")"
expect_output "other address" "count 1 rate 1" "$("$PROBE" "$socket" connect smtp 2001:db8::7)"
expect_output "other service" "count 1 rate 1" \
	"$("$PROBE" "$socket" connect submission 192.0.2.1)"

# 2. A client that disconnects gives its count back; the rate stays.
expect_output "connect then disconnect" "count 4 rate 4
disconnected
count 4 rate 5" "$("$PROBE" "$socket" connect smtp 192.0.2.1 disconnect smtp 192.0.2.1 \
	connect smtp 192.0.2.1)"

# 3. A client that ends without disconnecting (fifo closed), and one that
# is killed: anvil releases their counts when their connections close.
exec 4>&-
gone "$holder_a"
kill -9 "$holder_b"
gone "$holder_b"
sleep 0.2
expect_output "counts released" "count 2 rate 6" "$("$PROBE" "$socket" connect smtp 192.0.2.1)"

# 4. A disconnect for a connection this client never counted is refused.
out=$("$PROBE" "$socket" disconnect smtp 192.0.2.1)
expect_status "foreign disconnect refused" 1 $?
expect_output "foreign disconnect" "error" "$out"

# 5. One connection may hold at most 16 connects.
set --
for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do set -- "$@" connect smtp 198.51.100.9; done
out=$("$PROBE" "$socket" "$@")
expect_output "holds limit" "count 16 rate 16" "$(printf '%s\n' "$out" | sed -n 16p)"
expect_contains "17th connect refused" "error: anvil refused the connect request" \
	"$(printf '%s\n' "$out" | sed -n 17p)"

# 6. The rate window: after anvil_rate_time_unit the rate starts again
# (a second anvil, with a short unit given as a master.cf -o would).
"$ANVIL" -c "$work/etc" -S "$work/short.sock" -o anvil_rate_time_unit=2s \
	2>>"$work/short.log" &
short_pid=$!
holders="$holders $short_pid"
i=0
while [ ! -S "$work/short.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_output "rate within the window" "count 1 rate 1
count 2 rate 2" "$("$PROBE" "$work/short.sock" connect smtp 192.0.2.1 connect smtp 192.0.2.1)"
sleep 2.2
expect_output "rate window restarts" "count 1 rate 1" \
	"$("$PROBE" "$work/short.sock" connect smtp 192.0.2.1)"
kill "$short_pid"
gone "$short_pid"

# 7. Garbage: each kind refused or dropped, and the daemon still serves.
out=$("$PYTHON" - "$socket" <<'PY'
import socket, struct, sys

def frame(*attributes):
    payload = b""
    for kind, name, value in attributes:
        if kind == "s":
            value = value.encode() + b"\0"
        elif kind == "i":
            value = struct.pack(">q", value)
        payload += kind.encode() + bytes([len(name)]) + name.encode()
        payload += struct.pack(">I", len(value)) + value
    return struct.pack(">I", len(payload)) + payload

def exchange(data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(sys.argv[1])
    reply = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return "closed" if not reply else reply_text(reply)
            reply += chunk
            if len(reply) >= 4 and len(reply) >= 4 + struct.unpack(">I", reply[:4])[0]:
                return reply_text(reply)
    except socket.timeout:
        return "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    finally:
        s.close()

def reply_text(reply):
    # The first attribute: 'i', 6, "status", length 8, the value.
    offset = 4 + 1 + 1 + 6 + 4
    return "status %d" % struct.unpack(">q", reply[offset:offset + 8])[0]

print("unknown request:", exchange(frame(("s", "request", "explode"), ("s", "service", "smtp"),
                                         ("s", "address", "192.0.2.1"))))
print("missing attribute:", exchange(frame(("s", "request", "connect"), ("s", "service", "smtp"))))
print("wrong type:", exchange(frame(("s", "request", "connect"), ("i", "service", 5),
                                    ("s", "address", "192.0.2.1"))))
print("trailing attribute:", exchange(frame(("s", "request", "connect"), ("s", "service", "smtp"),
                                            ("s", "address", "192.0.2.1"), ("s", "extra", "x"))))
print("control characters:", exchange(frame(("s", "request", "connect"), ("s", "service", "smtp"),
                                            ("s", "address", "192.0.2.1\r\nX"))))
print("huge frame:", exchange(struct.pack(">I", 1 << 20) + b"x" * 2000))
print("text:", exchange(b"connect smtp 192.0.2.1\r\n" * 100))
print("length lie:", exchange(struct.pack(">I", 500) + b"\x01\x02"))
PY
)
expect_output "garbage" "unknown request: status 1
missing attribute: status 1
wrong type: status 1
trailing attribute: status 1
control characters: status 1
huge frame: closed
text: closed
length lie: timeout" "$out"
if kill -0 "$pid" 2>/dev/null; then pass; else fail "anvil died on garbage"; fi
expect_output "still counting" "count 2 rate 7" "$("$PROBE" "$socket" connect smtp 192.0.2.1)"
expect_contains "garbage logged" "bad request from client" "$(cat "$work/anvil.log")"

# 8. Bounded memory: 25,000 different clients come and go; the table
# stays at its 20,000 entries by evicting idle ones, never the client
# still connected (holder c), whose count survives.
out=$("$PYTHON" - "$socket" <<'PY'
import socket, struct, sys

def frame(request, address):
    payload = b""
    for name, value in (("request", request), ("service", "smtp"), ("address", address)):
        value = value.encode() + b"\0"
        payload += b"s" + bytes([len(name)]) + name.encode() + struct.pack(">I", len(value)) + value
    return struct.pack(">I", len(payload)) + payload

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
reader = s.makefile("rb")
ok = 0
for batch in range(250):
    data = b""
    for i in range(100):
        address = "10.%d.%d.%d" % (batch // 100, batch % 100, i)
        data += frame("connect", address) + frame("disconnect", address)
    s.sendall(data)
    for i in range(200):
        length = struct.unpack(">I", reader.read(4))[0]
        reply = reader.read(length)
        if struct.unpack(">q", reply[12:20])[0] == 0:
            ok += 1
print("replies ok:", ok)
PY
)
expect_output "flood of clients" "replies ok: 50000" "$out"
expect_output "busy entry kept" "count 2 rate 8" "$("$PROBE" "$socket" connect smtp 192.0.2.1)"

# 9. anvil unreachable: the client reports it (smtpd then goes on).
out=$("$PROBE" "$work/nothing.sock" connect smtp 192.0.2.1)
expect_status "unreachable status" 2 $?
expect_contains "unreachable" "error: connect $work/nothing.sock" "$out"

# 9b. Message, recipient and AUTH rates: per held (service, address),
# each kind apart; refused for a client this connection never counted
# (so no request makes a new table entry).
out=$("$PROBE" "$socket" connect submission 203.0.113.5 message submission 203.0.113.5 \
	message submission 203.0.113.5 recipient submission 203.0.113.5 auth submission 203.0.113.5)
expect_output "event rates" "count 1 rate 1
rate 1
rate 2
rate 1
rate 1" "$out"
out=$("$PROBE" "$socket" connect submission 203.0.113.5 message submission 203.0.113.5)
expect_output "event rates across connections" "count 1 rate 2
rate 3" "$out"
out=$("$PROBE" "$socket" message submission 203.0.113.6)
expect_contains "event without connect refused" "error: anvil refused the message request" "$out"

# 10. SIGTERM with clients still connected: they are served to the end;
# the statistics lines, in Postfix's form, when it exits.
exec 5>&- 6>&-
gone "$holder_c"
kill "$pid"
wait "$pid"
expect_status "anvil exit status" 0 $?
pid=
expect_contains "statistics rate" "statistics: max connection rate 16/3600s for (smtp:198.51.100.9)" \
	"$(cat "$work/anvil.log")"
expect_contains "statistics count" "statistics: max connection count 16 for (smtp:198.51.100.9)" \
	"$(cat "$work/anvil.log")"
expect_contains "statistics message rate" \
	"statistics: max message rate 3/3600s for (submission:203.0.113.5)" "$(cat "$work/anvil.log")"
expect_contains "statistics cache size" "statistics: max cache size 20000 at" \
	"$(cat "$work/anvil.log")"
if grep -q "runtime error\|AddressSanitizer" "$work/anvil.log"; then
	fail "sanitizer report"; cat "$work/anvil.log" >&2
else pass; fi

finish
