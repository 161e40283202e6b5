#!/bin/sh
# lib/tls against the real OpenSSL programs, without the SMTP server:
# - the server side (tests/cmd/support/tls_echo.c) against openssl s_client:
#   a verified TLS 1.3 session carries lines both ways; TLS 1.1, RSA key
#   transport and DHE are refused; a session resumes with its ticket, on
#   the same server and on another server sharing the ticket key file;
#   STARTTLS in a minimal SMTP dialogue;
# - the client side (tls_echo client) against openssl s_server: verified
#   and resumed sessions, an untrusted certificate, a name mismatch and a
#   TLS 1.1-only server are refused with clear reasons.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/tls_lib.sh"

s_client() { # s_client PORT ARGUMENTS... < INPUT
	client_port=$1
	shift
	timeout 20 openssl s_client -connect "127.0.0.1:$client_port" -CAfile "$certs/ca.pem" \
		-servername localhost -ign_eof "$@" 2>&1
}

# --- Our server, openssl s_client. ---
start_echo plain -C "$certs/server.pem" -K "$certs/server.key"
plain_port=$port
out=$(printf 'hello\nQUIT\n' | s_client "$plain_port" -verify_return_error \
	-verify_hostname localhost -brief)
expect_contains "s_client verifies the chain and name" "Verification: OK" "$out"
expect_contains "TLS 1.3 by default" "Protocol version: TLSv1.3" "$out"
expect_contains "forward-secret key exchange" "Server Temp Key: X25519" "$out"
expect_contains "a line goes there and back" "echo: hello" "$out"
expect_contains "QUIT answered" "bye" "$out"

out=$(printf 'hello\nQUIT\n' | s_client "$plain_port" -tls1_2 -brief)
expect_contains "TLS 1.2 allowed" "Protocol version: TLSv1.2" "$out"
expect_contains "server's cipher preference: AES-256-GCM first" \
	"Ciphersuite: ECDHE-RSA-AES256-GCM-SHA384" "$out"
expect_contains "TLS 1.2 carries lines" "echo: hello" "$out"

out=$(printf 'hello\nQUIT\n' | s_client "$plain_port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
expect_status "TLS 1.1 refused" 1 "$?"
case $out in *"echo: hello"*) fail "TLS 1.1 session carried data" ;; *) pass ;; esac
out=$(printf 'hello\nQUIT\n' | s_client "$plain_port" -tls1_2 -cipher AES128-GCM-SHA256)
expect_status "RSA key transport refused" 1 "$?"
out=$(printf 'hello\nQUIT\n' | s_client "$plain_port" -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256)
expect_status "finite-field DHE refused" 1 "$?"
out=$(printf 'hello\nQUIT\n' | s_client "$plain_port" -tls1_2 -cipher ECDHE-RSA-AES128-SHA)
expect_status "SHA-1 MAC suites refused" 1 "$?"
sleep 0.3
log=$(cat "$work/plain.log")
expect_contains "server logs the refused protocol" "unsupported protocol" "$log"
expect_contains "server logs the refused cipher" "no shared cipher" "$log"

# Resumption with the session ticket, TLS 1.3 and TLS 1.2.
for version in tls1_3 tls1_2; do
	rm -f "$work/session"
	printf 'one\nQUIT\n' | s_client "$plain_port" "-$version" -sess_out "$work/session" > /dev/null
	out=$(printf 'two\nQUIT\n' | s_client "$plain_port" "-$version" -sess_in "$work/session")
	expect_contains "$version session resumed" "Reused, TLSv1." "$out"
	expect_contains "$version resumed session carries lines" "echo: two" "$out"
done
sleep 0.3
expect_contains "server sees the resumption" "resumed=1" "$(cat "$work/plain.log")"

# Two servers (two smtpd processes) sharing one ticket key file.
start_echo first -H "$certs/server-chain.pem" -k "$work/ticket.key"
first_port=$port
start_echo second -C "$certs/server.pem" -K "$certs/server.key" -k "$work/ticket.key"
second_port=$port
expect_output "ticket key file private" "600 80" "$(stat -c '%a %s' "$work/ticket.key")"
rm -f "$work/session"
printf 'one\nQUIT\n' | s_client "$first_port" -sess_out "$work/session" > /dev/null
out=$(printf 'two\nQUIT\n' | s_client "$second_port" -sess_in "$work/session")
expect_contains "resumed on the other server" "Reused, TLSv1.3" "$out"
out=$(printf 'two\nQUIT\n' | s_client "$plain_port" -sess_in "$work/session")
expect_contains "not resumed on a server with another key" "New, TLSv1.3" "$out"

# STARTTLS: the SMTP dialogue continues over TLS.
start_echo smtp -s -C "$certs/server-ec.pem" -K "$certs/server-ec.key" -l 2
out=$(printf 'EHLO client.test\r\nQUIT\r\n' | s_client "$port" -starttls smtp \
	-verify_return_error -verify_hostname localhost -brief)
expect_contains "STARTTLS verified" "Verification: OK" "$out"
expect_contains "ECDSA certificate" "Signature type: ECDSA" "$out"
expect_contains "EHLO over TLS" "250 PIPELINING" "$out"
expect_contains "QUIT over TLS" "221 2.0.0 Bye" "$out"
# A command pipelined after STARTTLS, in plaintext, is never read over TLS.
out=$(/usr/bin/python3 - "$port" "$certs/ca.pem" <<'EOF'
import socket, ssl, sys
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
reader = sock.makefile("rb")
reader.readline()
sock.sendall(b"EHLO client.test\r\nSTARTTLS\r\nINJECTED\r\n")
while True:
    line = reader.readline()
    if not line or line.startswith(b"220"):
        break
context = ssl.create_default_context(cafile=sys.argv[2])
tls = context.wrap_socket(sock, server_hostname="localhost")
tls.sendall(b"AFTER\r\nQUIT\r\n")
print(tls.makefile("rb").read().decode(), end="")
EOF
)
expect_output "plaintext sent before the handshake is discarded" \
	"$(printf 'echo: AFTER\r\n221 2.0.0 Bye\r')" "$out"
sleep 0.3
log=$(cat "$work/smtp.log")
expect_contains "loglevel 2 logs handshake steps" "SSL_accept:" "$log"
expect_contains "loglevel 1 logs the discarded plaintext" \
	"TLS server handshake: discarded 10 bytes of plaintext sent before it" "$log"

# --- Our client, openssl s_server. ---
start_s_server good -cert "$certs/server.pem" -key "$certs/server.key" -naccept 2 -rev
out=$("$TLS_ECHO" client -A "$certs/ca.pem" -n localhost -m localhost -v -r 2 "$port" hello world)
expect_output "client verifies, resumes, and reads s_server's replies" \
	"protocol=TLSv1.3 resumed=0 trusted=1 verified=1 peer=localhost
olleh
dlrow
protocol=TLSv1.3 resumed=1 trusted=1 verified=1 peer=localhost
olleh
dlrow" "$out"

start_s_server twelve -cert "$certs/server.pem" -key "$certs/server.key" -naccept 1 -rev -tls1_2
out=$("$TLS_ECHO" client -A "$certs/ca.pem" -n localhost -m 127.0.0.1 -v "$port" abc)
expect_output "client over TLS 1.2, matching the IP address" \
	"protocol=TLSv1.2 resumed=0 trusted=1 verified=1 peer=127.0.0.1
cba" "$out"

start_s_server self -cert "$certs/selfsigned.pem" -key "$certs/selfsigned.key" -naccept 2 -rev
out=$("$TLS_ECHO" client -A "$certs/ca.pem" -n localhost -m localhost -v "$port" abc)
expect_contains "self-signed refused with verify" \
	"failed: server certificate not trusted: self-signed certificate" "$out"
out=$("$TLS_ECHO" client -A "$certs/ca.pem" -n localhost -m localhost "$port" abc)
expect_output "self-signed accepted without verify, known untrusted" \
	"protocol=TLSv1.3 resumed=0 trusted=0 verified=0 peer=localhost
cba" "$out"

start_s_server mismatch -cert "$certs/server.pem" -key "$certs/server.key" -naccept 1 -rev
out=$("$TLS_ECHO" client -A "$certs/ca.pem" -n mail.example.com -m mail.example.com -v "$port" abc)
expect_contains "name mismatch refused" "failed: hostname mismatch" "$out"

start_s_server old -cert "$certs/server.pem" -key "$certs/server.key" -naccept 1 -rev \
	-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
out=$("$TLS_ECHO" client -A "$certs/ca.pem" -n localhost "$port" abc)
expect_contains "client refuses TLS 1.1" "failed: TLS client handshake failed" "$out"

check_sanitizer_logs
finish
