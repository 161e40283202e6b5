"""A DNS server that answers with hostile replies, for tests/cmd/dns_netns.sh.

Run inside a network namespace: python3 dns_hostile.py ADDRESS PORT.
The reply keeps the query's ID and question (so the resolver passes it
on) and breaks the answer section according to the first label:
  loop.*     an MX whose exchange is a compression pointer to itself
  rdlength.* an A record with rdlength 5
  short.*    the answer count says 2, one record present
  overrun.*  a record whose rdlength runs past the message
  truncated.* the TC bit (the resolver then tries TCP, which is refused)
  control.*  a PTR name with CR, LF, a space and a dot in a label (valid DNS)
  good.*     a well-formed A record 192.0.2.9
Exits after 60 seconds or 1000 queries, whichever comes first.
"""
import socket
import struct
import sys
import time


def question_end(query):
    offset = 12
    while query[offset] != 0:
        offset += 1 + query[offset]
    return offset + 5


def reply(query):
    end = question_end(query)
    question = query[12:end]
    first = query[13:13 + query[12]].decode("ascii", "replace").lower()
    qtype = struct.unpack(">H", query[end - 4:end - 2])[0]
    flags = 0x8180
    answers = []
    count = None
    if first == "loop":
        rdata_offset = end + 12 + 2
        rdata = struct.pack(">H", 10) + struct.pack(">H", 0xC000 | rdata_offset)
        answers.append((15, rdata))
    elif first == "rdlength":
        answers.append((1, b"\xc0\x00\x02\x01\x05"))
    elif first == "short":
        answers.append((qtype, b"\xc0\x00\x02\x01"))
        count = 2
    elif first == "overrun":
        record = b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 60, 300) + b"\x01\x02"
        header = struct.pack(">HHHHHH", struct.unpack(">H", query[:2])[0], flags, 1, 1, 0, 0)
        return header + question + record
    elif first == "truncated":
        flags |= 0x0200
    elif first == "control":
        answers.append((12, b"\x07a\r\nb c.\x03com\x00"))
    elif first == "good":
        answers.append((1, b"\xc0\x00\x02\x09"))
    body = b""
    for rtype, rdata in answers:
        body += b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 60, len(rdata)) + rdata
    header = struct.pack(">HHHHHH", struct.unpack(">H", query[:2])[0], flags, 1,
                         len(answers) if count is None else count, 0, 0)
    return header + question + body


def main():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((sys.argv[1], int(sys.argv[2])))
    deadline = time.monotonic() + 60
    for _ in range(1000):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        server.settimeout(remaining)
        try:
            query, peer = server.recvfrom(4096)
        except socket.timeout:
            break
        try:
            server.sendto(reply(query), peer)
        except (IndexError, struct.error):
            continue


main()
