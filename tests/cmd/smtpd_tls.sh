#!/bin/sh
# STARTTLS and implicit TLS with real clients (swaks, openssl s_client,
# Python's ssl): the handshake, the session reset after it, the Received:
# header (ESMTPS) and log line naming the protocol and cipher, STARTTLS command
# injection (nothing sent before the handshake is executed after it),
# smtpd_tls_security_level = encrypt, smtpd_tls_wrappermode for port 465.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtpd_lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.example \
	-keyout "$etc/key.pem" -out "$etc/cert.pem" > /dev/null 2>&1
expect_status "certificate" 0 $?
port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
port3=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
cat >> "$etc/main.cf" <<CF
smtpd_tls_cert_file = $etc/cert.pem
smtpd_tls_key_file = $etc/key.pem
smtpd_tls_security_level = may
CF
smtpd_master_cf
{
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_tls_security_level=encrypt\n' "$port2"
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n' "$port3"
} >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }

# swaks with STARTTLS.
out=$(swaks_run --tls --from sender@example.org --to "$rcpt" --body "over TLS")
expect_contains "STARTTLS offered" "250-STARTTLS" "$out"
expect_contains "STARTTLS" "220 2.0.0 Ready to start TLS" "$out"
expect_contains "queued over TLS" "250 2.0.0 Ok: queued as" "$out"
id=$(queue_id_of "$out")
header=$(header_of "$id")
# smtpd_tls_received_header = no (Postfix's default): the protocol says
# ESMTPS, the TLS details stay out (smtpd_received.sh tests them).
case "$header" in *"(using TLS"*) fail "TLS details in Received: by default" ;; *) pass ;; esac
expect_contains "Received: ESMTPS" "with ESMTPS id $id" "$header"
wait_log "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1." &&
	pass || fail "no TLS log line"
expect_output "body" "over TLS" "$(body_of "$id")"

# openssl s_client: after the handshake EHLO is needed again and STARTTLS
# is no longer offered.
out=$( (sleep 1; printf 'EHLO again.example\n'; sleep 1; printf 'QUIT\n'; sleep 1) |
	timeout 20 openssl s_client -starttls smtp -crlf -quiet -connect "127.0.0.1:$port" 2>&1)
expect_contains "s_client: EHLO after TLS" "250-mx.example" "$out"
case "$out" in *STARTTLS*) fail "STARTTLS offered again inside TLS" ;; *) pass ;; esac
expect_contains "s_client: QUIT" "221 2.0.0 Bye" "$out"

# STARTTLS injection: a command pipelined after STARTTLS in plaintext must
# not run once TLS is up.
cat > "$work/inject.py" <<'PY'
import socket, ssl, sys
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
stream = sock.makefile("rb")
def reply(f):
    lines = []
    while True:
        line = f.readline()
        lines.append(line.decode().rstrip())
        if len(line) < 4 or line[3:4] != b"-":
            return lines
print(reply(stream)[0])
sock.sendall(b"EHLO inject.example\r\n")
reply(stream)
sock.sendall(b"STARTTLS\r\nMAIL FROM:<evil@example.org>\r\n")
print(reply(stream)[0])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
tls = context.wrap_socket(sock, server_hostname="mx.example")
tstream = tls.makefile("rb")
tls.sendall(b"EHLO inject.example\r\n")
print("after TLS:", reply(tstream)[0])
tls.sendall(b"RCPT TO:<" + sys.argv[2].encode() + b">\r\n")
print("RCPT:", reply(tstream)[0])
tls.sendall(b"QUIT\r\n")
print(reply(tstream)[0])
PY
out=$("$PYTHON" "$work/inject.py" "$port" "$rcpt" 2>&1)
expect_contains "injection: STARTTLS" "220 2.0.0 Ready to start TLS" "$out"
expect_contains "injection: first reply is to EHLO" "after TLS: 250-mx.example" "$out"
expect_contains "injected MAIL not executed" "RCPT: 503 5.5.1 Error: need MAIL command" "$out"
case "$(cat "$work/maillog")" in *"evil@example.org"*) fail "injected command reached the log" ;; *) pass ;; esac

# smtpd_tls_security_level = encrypt: no mail before STARTTLS.
printf '%s\n--\n%s\n' 'EHLO client.example\r\n' 'MAIL FROM:<a@example.org>\r\nQUIT\r\n' > "$work/plain"
out=$($talk steps "$port2" "$work/plain" 0.5)
expect_contains "encrypt: refused" "530 5.7.0 Must issue a STARTTLS command first" "$out"
out=$(swaks --server "127.0.0.1:$port2" --helo client.example --tls --from a@example.org \
	--to "$rcpt" --body "encrypt" 2>&1)
expect_contains "encrypt: queued with TLS" "250 2.0.0 Ok: queued as" "$out"

# smtpd_tls_wrappermode (465): TLS from the first byte.
out=$(swaks --server "127.0.0.1:$port3" --helo client.example --tlsc --from a@example.org \
	--to "$rcpt" --body "wrapper" 2>&1)
expect_contains "wrapper: greeting" "220 mx.example ESMTP hikyaku" "$out"
expect_contains "wrapper: queued" "250 2.0.0 Ok: queued as" "$out"
case "$out" in *"250-STARTTLS"*) fail "wrapper: STARTTLS offered" ;; *) pass ;; esac
id=$(queue_id_of "$out")
expect_contains "wrapper: ESMTPS" "with ESMTPS id $id" "$(header_of "$id")"

# A plaintext client on the wrapper port gets nothing and is dropped.
out=$($talk idle "$port3" 3)
case "$out" in *220*) fail "wrapper: plaintext greeting" ;; *) pass ;; esac

smtpd_finish
