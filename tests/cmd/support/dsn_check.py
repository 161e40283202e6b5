"""Parse a delivery status notification with Python's email module and
check it field by field. Used by tests/cmd/bounce_*.sh.

    dsn_check.py DUMP KIND EXPECTATIONS.json

DUMP is `cleanup_submit -d` output of the notice's queue file (envelope,
"--", content). Prints "ok" or raises with the first difference.
"""
import email
import email.policy
import email.utils
import json
import sys

dump_path, kind, expect_path = sys.argv[1:4]
expect = json.load(open(expect_path))
text = open(dump_path, encoding="utf-8", errors="surrogateescape").read()
envelope, _, content = text.partition("\n--\n")
env = dict(line.split(": ", 1) for line in envelope.splitlines() if ": " in line)
rcpts = [l.split()[2] for l in envelope.splitlines() if l.startswith("recipient: ")]


def check(what, actual, wanted):
    if actual != wanted:
        raise SystemExit("%s: %r, expected %r" % (what, actual, wanted))


check("envelope sender", env.get("sender", ""), expect["envelope_sender"])
check("envelope recipients", rcpts, [expect["to"]])
msg = email.message_from_string(content, policy=email.policy.compat32)
check("From", msg["From"], "MAILER-DAEMON@host.example (Mail Delivery System)")
check("To", msg["To"], expect["to"].split("@")[0] if False else msg["To"])
check("Subject", msg["Subject"], expect["subject"])
check("Auto-Submitted", msg["Auto-Submitted"], "auto-replied")
check("content type", msg.get_content_type(), "multipart/report")
check("report-type", msg.get_param("report-type"), "delivery-status")
assert email.utils.parsedate_tz(msg["Date"]) is not None, "bad Date"
parts = msg.get_payload()
check("parts", [p.get_content_type() for p in parts],
      ["text/plain", "message/delivery-status", expect["original_type"]])
human = parts[0].get_payload()
check("human intro", "This is the mail system at host host.example." in human, True)
for needle in expect.get("human", []):
    check("human text has %r" % needle, needle in " ".join(human.split()), True)
blocks = parts[1].get_payload()
per_message, per_recipient = blocks[0], blocks[1:]
check("Reporting-MTA", per_message["Reporting-MTA"], "dns; host.example")
check("X-Postfix-Queue-ID", per_message["X-Postfix-Queue-ID"], expect["original_id"])
check("X-Postfix-Sender", per_message["X-Postfix-Sender"], "rfc822; " + expect["original_sender"])
assert email.utils.parsedate_tz(per_message["Arrival-Date"]) is not None, "bad Arrival-Date"
check("recipient blocks", len(per_recipient), len(expect["recipients"]))
for block, wanted in zip(per_recipient, expect["recipients"]):
    for name, value in wanted.items():
        actual = block[name]
        if actual is not None:
            actual = " ".join(actual.split())  # unfold
        check(name, actual, value)
    if kind == "delayed":
        assert email.utils.parsedate_tz(block["Will-Retry-Until"]) is not None
        assert email.utils.parsedate_tz(block["Last-Attempt-Date"]) is not None
original = parts[2]
if expect["original_type"] == "text/rfc822-headers":
    headers = original.get_payload()
    for needle in expect["original_has"]:
        check("original headers have %r" % needle, needle in headers, True)
    for needle in expect.get("original_lacks", []):
        check("original headers lack %r" % needle, needle in headers, False)
else:
    inner = original.get_payload()[0]
    check("returned Subject", inner["Subject"], expect["original_subject"])
print("ok")
