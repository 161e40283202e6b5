"""Raw SMTP conversations for the smtpd tests (run with /usr/bin/python3).

  smtp_talk.py send PORT FILE [IDLE]   connect to 127.0.0.1:PORT, read the
        greeting, send FILE's bytes exactly (all at once: pipelined), then
        print every reply line until the server closes or stays silent for
        IDLE seconds (default 2). Lines are printed without CR.
  smtp_talk.py steps PORT FILE [IDLE [FINAL]]  the same, but FILE holds
        chunks separated by the line "--": each chunk is sent after the
        replies to the previous one (IDLE seconds of silence; FINAL after
        the last chunk, default IDLE); "\\r" and
        "\\n" and "\\0" in FILE are the bytes CR, LF, NUL.
  smtp_talk.py bdat PORT SENDER RCPT FILE CHUNK  EHLO, MAIL, RCPT, then
        FILE's bytes in BDAT chunks of CHUNK bytes, the last with LAST;
        prints the replies.
  smtp_talk.py idle PORT SECONDS       connect, read the greeting, send
        nothing, print what comes (the timeout reply) within SECONDS.
  smtp_talk.py many PORT COUNT SECONDS  open COUNT connections, keep them
        idle for SECONDS, print how many got a greeting.

Every wait is bounded; the exit status is 0 unless the connection failed.
"""
import socket
import sys
import time


def connect(port):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    return sock


def read_until_quiet(sock, idle, limit=60):
    data = b""
    deadline = time.monotonic() + limit
    sock.settimeout(idle)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_line(sock, limit=20):
    data = b""
    sock.settimeout(limit)
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def read_reply(sock):
    lines = []
    while True:
        line = read_line(sock)
        if not line:
            break
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            break
    return b"".join(lines)


def show(data):
    sys.stdout.write(data.decode("utf-8", "replace").replace("\r", ""))
    sys.stdout.flush()


def unescape(text):
    return (text.replace(b"\\r", b"\r").replace(b"\\n", b"\n").replace(b"\\0", b"\0"))


def main():
    command, port = sys.argv[1], sys.argv[2]
    if command == "send":
        payload = open(sys.argv[3], "rb").read()
        idle = float(sys.argv[4]) if len(sys.argv) > 4 else 2
        sock = connect(port)
        show(read_reply(sock))
        sock.sendall(payload)
        show(read_until_quiet(sock, idle))
    elif command == "steps":
        chunks = open(sys.argv[3], "rb").read().split(b"\n--\n")
        idle = float(sys.argv[4]) if len(sys.argv) > 4 else 1
        final = float(sys.argv[5]) if len(sys.argv) > 5 else idle
        sock = connect(port)
        show(read_reply(sock))
        for number, chunk in enumerate(chunks):
            try:
                sock.sendall(unescape(chunk.rstrip(b"\n")))
            except (BrokenPipeError, ConnectionResetError):
                break
            show(read_until_quiet(sock, final if number == len(chunks) - 1 else idle))
    elif command == "bdat":
        sender, recipient, path, size = sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
        content = open(path, "rb").read()
        sock = connect(port)
        show(read_reply(sock))
        for line in (b"EHLO client.example", b"MAIL FROM:<" + sender.encode() + b">",
                     b"RCPT TO:<" + recipient.encode() + b">"):
            sock.sendall(line + b"\r\n")
            show(read_reply(sock))
        offset = 0
        while True:
            piece = content[offset:offset + size]
            offset += len(piece)
            last = offset >= len(content)
            sock.sendall(b"BDAT %d%s\r\n" % (len(piece), b" LAST" if last else b"") + piece)
            show(read_reply(sock))
            if last:
                break
        sock.sendall(b"QUIT\r\n")
        show(read_reply(sock))
    elif command == "idle":
        sock = connect(port)
        show(read_until_quiet(sock, float(sys.argv[3]), float(sys.argv[3]) + 5))
    elif command == "many":
        count, seconds = int(sys.argv[3]), float(sys.argv[4])
        socks, greeted = [], 0
        for _ in range(count):
            try:
                socks.append(connect(port))
            except OSError:
                pass
        for sock in socks:
            try:
                if read_reply(sock).startswith(b"220"):
                    greeted += 1
            except OSError:
                pass
        time.sleep(seconds)
        for sock in socks:
            sock.close()
        print(greeted)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as error:
        print("error: %s" % error)
        sys.exit(1)
