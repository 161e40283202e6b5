"""Small socket client for the master tests (run with /usr/bin/python3).

  client.py freeport                 print a free loopback TCP port
  client.py greet ADDRESS            connect, print the greeting, say quit
  client.py hold ADDRESS READY GO    connect, print the greeting, create
                                     READY, wait (at most 60 s) for GO to
                                     exist, then echo "ping", quit; prints
                                     "completed" when every reply came back
  client.py trigger PATH TEXT        write TEXT to the UNIX socket PATH

ADDRESS is PORT (on 127.0.0.1) or a UNIX socket path. Every wait is
bounded; a failure prints "error: ..." and exits 1.
"""
import os
import socket
import sys
import time


def connect(address):
    if address.isdigit():
        sock = socket.create_connection(("127.0.0.1", int(address)), timeout=20)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(20)
        sock.connect(address)
    return sock, sock.makefile("rw")


def main():
    command = sys.argv[1]
    try:
        if command == "freeport":
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            print(sock.getsockname()[1])
            return 0
        if command == "trigger":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(10)
            sock.connect(sys.argv[2])
            sock.sendall(sys.argv[3].encode())
            sock.close()
            return 0
        sock, stream = connect(sys.argv[2])
        print(stream.readline().strip(), flush=True)
        if command == "hold":
            open(sys.argv[3], "w").close()
            deadline = time.monotonic() + 60
            while not os.path.exists(sys.argv[4]):
                if time.monotonic() > deadline:
                    print("error: timeout waiting for", sys.argv[4])
                    return 1
                time.sleep(0.05)
            stream.write("ping\n")
            stream.flush()
            if stream.readline().strip() != "ping":
                print("error: no echo")
                return 1
        stream.write("quit\n")
        stream.flush()
        if stream.readline().strip() != "bye":
            print("error: no bye")
            return 1
        if command == "hold":
            print("completed")
        return 0
    except OSError as error:
        print("error:", error)
        return 1


sys.exit(main())
