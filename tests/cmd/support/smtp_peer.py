#!/usr/bin/python3
"""smtp_peer.py MODE PORTFILE DIR [ADDRESS:PORT] - an SMTP server on
127.0.0.1 for the smtp client's tests (tests/cmd/smtp_*.sh). It picks a
free port (or listens on ADDRESS:PORT), writes the port to PORTFILE, and
serves until killed.

MODE "sink": the real aiosmtpd server (Debian python3-aiosmtpd). Each
message is saved as DIR/N.eml (the DATA bytes as received, CR LF, dots
unstuffed) and DIR/N.env (MAIL FROM, then one RCPT TO per line, with the
ESMTP parameters). DIR/control, read at each RCPT, holds lines
"WORD CODE TEXT": a recipient containing WORD gets that reply.

MODE "maildir": aiosmtpd's own Mailbox handler, a mailbox owner's
Maildir at DIR/Maildir (Python's mailbox module reads it); aiosmtpd adds
X-MailFrom and X-RcptTo headers with the envelope.

Other modes are misbehaving servers written here, raw on a socket:
  garbage     answers the greeting with bytes that are no SMTP reply
  longreply   answers EHLO with a 10,000-line reply
  stall       sends half a reply line to RCPT TO, then nothing
  dropdata    accepts DATA and closes the connection in the middle of it
  early250    after "354" sends "250 ok" at once, before the final dot
  longline    sends a reply line of 100,000 bytes to EHLO
  badtls      like record, but offers STARTTLS and answers the handshake
              with garbage
  record      a well-behaved server offering PIPELINING, SIZE, DSN, SMTPUTF8
              and 8BITMIME; RCPT TO replies from DIR/control as for "sink"
  plain       like record, but offering only PIPELINING and SIZE (no
              8BITMIME, DSN or SMTPUTF8); each message's DATA bytes (as
              received, CR LF, dots still stuffed) go to DIR/N.raw
Each connection of these modes is recorded in DIR/log (commands seen).
"""
import os
import socket
import sys
import threading
import time

mode, port_file, directory = sys.argv[1], sys.argv[2], sys.argv[3]
listen_address, listen_port = "127.0.0.1", 0
if len(sys.argv) > 4:
    listen_address, _, port_text = sys.argv[4].rpartition(":")
    listen_port = int(port_text)
os.makedirs(directory, exist_ok=True)
counter = [0]
lock = threading.Lock()


def free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def write_port(port):
    with open(port_file + ".tmp", "w") as out:
        out.write("%d\n" % port)
    os.rename(port_file + ".tmp", port_file)


def control_reply(address):
    try:
        with open(os.path.join(directory, "control")) as control:
            for line in control:
                parts = line.split(None, 2)
                if len(parts) >= 2 and parts[0] in address:
                    return parts[1] + " " + (parts[2].strip() if len(parts) > 2 else "")
    except FileNotFoundError:
        pass
    return None


def run_sink():
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, options):
            reply = control_reply(address)
            if reply is not None:
                return reply
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.append(options)
            return "250 2.1.5 Ok"

        async def handle_DATA(self, server, session, envelope):
            with lock:
                counter[0] += 1
                number = counter[0]
            base = os.path.join(directory, "%d" % number)
            with open(base + ".env.tmp", "w") as env:
                env.write("MAIL FROM:<%s> %s\n" % (envelope.mail_from, " ".join(envelope.mail_options)))
                for address, options in zip(envelope.rcpt_tos, envelope.rcpt_options):
                    env.write("RCPT TO:<%s> %s\n" % (address, " ".join(options)))
            with open(base + ".eml", "wb") as eml:
                eml.write(envelope.original_content)
            os.rename(base + ".env.tmp", base + ".env")
            return "250 2.0.0 Ok: queued as SINK%d" % number

    port = listen_port or free_port()
    controller = Controller(Handler(), hostname=listen_address, port=port,
                            decode_data=False, enable_SMTPUTF8=True)
    controller.start()
    write_port(port)
    while True:
        time.sleep(3600)


def run_maildir():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox

    port = listen_port or free_port()
    controller = Controller(Mailbox(os.path.join(directory, "Maildir")),
                            hostname=listen_address, port=port)
    controller.start()
    write_port(port)
    while True:
        time.sleep(3600)


def log(text):
    with lock:
        with open(os.path.join(directory, "log"), "a") as out:
            out.write(text + "\n")


def serve_raw(connection):
    connection.settimeout(30)
    reader = connection.makefile("rb")

    def send(data):
        connection.sendall(data)

    def command():
        line = reader.readline(65536)
        if not line:
            raise EOFError()
        log(line.decode("latin-1").rstrip("\r\n"))
        return line.decode("latin-1").rstrip("\r\n").upper()

    try:
        if mode == "garbage":
            send(b"\x00\xffHELLO THIS IS NOT SMTP\r\n")
            command()
            return
        send(b"220 peer.test ESMTP\r\n")
        line = command()
        if mode == "longreply":
            # Sent in one piece so the client sees all of it at once.
            send(b"".join(b"250-line %d\r\n" % i for i in range(10000)) + b"250 end\r\n")
            command()
            return
        if mode == "longline":
            send(b"250-" + b"x" * 100000 + b"\r\n250 end\r\n")
            command()
            return
        if mode == "plain":
            send(b"250-peer.test\r\n250-SIZE 10000000\r\n250 PIPELINING\r\n")
        else:
            send(b"250-peer.test\r\n250-SIZE 10000000\r\n250-DSN\r\n250-SMTPUTF8\r\n"
                 + (b"250-STARTTLS\r\n" if mode == "badtls" else b"")
                 + b"250-8BITMIME\r\n250 PIPELINING\r\n")
        while True:
            line = command()
            if line.startswith("MAIL"):
                send(b"250 2.1.0 Ok\r\n")
            elif line.startswith("RCPT"):
                if mode == "stall":
                    send(b"250 2.1")
                    time.sleep(30)
                    return
                reply = control_reply(line.lower())
                send((reply.encode() if reply else b"250 2.1.5 Ok") + b"\r\n")
            elif line.startswith("DATA"):
                if mode == "early250":
                    send(b"354 go ahead\r\n250 2.0.0 Ok: queued early\r\n")
                    while True:
                        data = reader.readline(65536)
                        if not data or data == b".\r\n":
                            break
                    log("dot received")
                    send(b"250 2.0.0 Ok: queued after the dot\r\n")
                    continue
                send(b"354 go ahead\r\n")
                if mode == "dropdata":
                    reader.readline(65536)
                    connection.shutdown(socket.SHUT_RDWR)
                    return
                size = 0
                received = []
                while True:
                    data = reader.readline(65536)
                    if not data:
                        raise EOFError()
                    if data == b".\r\n":
                        break
                    size += len(data)
                    received.append(data)
                log("data %d bytes" % size)
                if mode == "plain":
                    with lock:
                        counter[0] += 1
                        number = counter[0]
                    base = os.path.join(directory, "%d" % number)
                    with open(base + ".tmp", "wb") as raw:
                        raw.write(b"".join(received))
                    os.rename(base + ".tmp", base + ".raw")
                send(b"250 2.0.0 Ok: queued as RAW\r\n")
            elif line.startswith("STARTTLS") and mode == "badtls":
                send(b"220 2.0.0 Ready to start TLS\r\n")
                send(b"this is not a TLS server hello\r\n" * 4)
                return
            elif line.startswith("QUIT"):
                send(b"221 bye\r\n")
                return
            else:
                send(b"250 Ok\r\n")
    except (EOFError, OSError):
        return
    finally:
        connection.close()


def run_raw():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((listen_address, listen_port))
    listener.listen(16)
    write_port(listener.getsockname()[1])
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve_raw, args=(connection,), daemon=True).start()


if mode == "sink":
    run_sink()
elif mode == "maildir":
    run_maildir()
else:
    run_raw()
