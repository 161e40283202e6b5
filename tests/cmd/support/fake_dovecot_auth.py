"""fake_dovecot_auth - a hostile or broken Dovecot auth server, for
tests/cmd/sasl_server.sh: what lib/sasl_server_dovecot.c must survive
(a TEMPFAIL or a failed open with a log line, never a crash or a hang).

    fake_dovecot_auth.py SOCKET_PATH SCENARIO

Listens on SOCKET_PATH, writes SOCKET_PATH.ready, serves one connection
with the scenario's handshake and reply to the first AUTH, then exits.
Each scenario is a handshake (a list of lines) and a reply template
("{id}" is the client's request id; None: close the connection).
"""
import os
import socket
import sys

GOOD = ["VERSION\t1\t2", "SPID\t1", "CUID\t1", "COOKIE\tabc",
        "MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext", "DONE"]

SCENARIOS = {
    "version2": (["VERSION\t2\t0", "DONE"], None),
    "overlong_handshake": (["VERSION\t1\t2", "SPID\t" + "x" * 70000, "DONE"], None),
    "many_mechs": (["VERSION\t1\t2"] + ["MECH\tM%d" % i for i in range(100)] + ["DONE"], None),
    "no_done": (["VERSION\t1\t2"] + ["SPID\t1"] * 300, None),
    "ok_without_user": (GOOD, "OK\t{id}"),
    "ok_user_with_newline": (GOOD, "OK\t{id}\tuser=evil\x01nRCPT TO:<x>"),
    "cont_bad_base64": (GOOD, "CONT\t{id}\t!!!notbase64"),
    "bad_id": (GOOD, "OK\tabc\tuser=alice"),
    "close_after_auth": (GOOD, None),
    "temp_fail": (GOOD, "FAIL\t{id}\ttemp\treason=passdb down"),
    "stale_then_ok": (GOOD, "OK\t99\tuser=mallory\nFAIL\t98\nOK\t{id}\tuser=alice"),
    "endless_stale": (GOOD, "\n".join("OK\t%d\tuser=x" % (1000 + i) for i in range(200))),
    "nul_in_reply": (GOOD, "OK\t{id}\tuser=al\x00ice"),
}


def main():
    path, scenario = sys.argv[1], sys.argv[2]
    handshake, reply = SCENARIOS[scenario]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    listener.settimeout(30)
    open(path + ".ready", "w").close()
    connection, _ = listener.accept()
    connection.settimeout(30)
    try:
        connection.sendall("".join(line + "\n" for line in handshake).encode("latin-1"))
        received = b""
        while b"\nAUTH\t" not in b"\n" + received and len(received) < 100000:
            data = connection.recv(4096)
            if not data:
                return
            received += data
        start = (b"\n" + received).index(b"\nAUTH\t")
        request_id = received[start:].split(b"\t")[1].decode()
        if reply is not None:
            connection.sendall((reply.format(id=request_id) + "\n").encode("latin-1"))
            # Wait for the client to hang up.
            while connection.recv(4096):
                pass
    except (OSError, ValueError):
        pass
    finally:
        connection.close()
        listener.close()
        os.unlink(path)


if __name__ == "__main__":
    main()
