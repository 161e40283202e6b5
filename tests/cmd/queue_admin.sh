#!/bin/sh
# Queue administration as an administrator sees it: `hikyaku queue` (and
# sendmail -bp / mailq) in Postfix's mailq format, checked line by line;
# `-j` parsed as JSON; `hikyaku super` -d/-h/-H/-r and their effects in the
# queue directories and the mail log; `hikyaku cat`. Queue files are made
# by the real cleanup; defer logs by lib/recipient_log (notice_tool).
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/admin_lib.sh"
start_cleanup

expect_output "empty" "Mail queue is empty" "$(hk queue)"
expect_output "empty -j" "" "$(hk queue -j)"

# Three messages: a deferred one with reasons, a bounce in active, one on hold.
a=$(printf 'From: alice@example.org\nSubject: deferred one\n\nbody a\n' |
	queue_message -f alice@example.org -r bob@example.com -r carol@example.com \
		-r dave@example.net -r erin@example.org)
b=$(printf 'Subject: a notice\n\nbody b\n' | queue_message -f '' -r postmaster@host.example)
c=$(printf 'Subject: held\n\nbody c\n' | queue_message -f 'x y@example.org' -r frank@example.com)
[ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] && pass || fail "messages not queued"
move "$a" incoming deferred
move "$b" incoming active
move "$c" incoming hold
fa=$(path_of deferred "$a")
reason_x="connect to mx.example.com[192.0.2.1]:25: Connection refused"
reason_y="host mx.example.net[192.0.2.7] said: 450 4.2.0 greylisted, try again later (in reply to RCPT TO command)"
"$tool" -c "$etc" defer "$fa" 0 4.4.1 none "$reason_x" > /dev/null
"$tool" -c "$etc" defer "$fa" 2 4.2.0 "mx.example.net[192.0.2.7]:25" "$reason_y" > /dev/null
"$tool" -c "$etc" defer "$fa" 1 4.4.1 none "$reason_x" > /dev/null
[ -f "$(path_of defer "$a")" ] && pass || fail "defer log not written"

# The sizes and arrival times, independently: cleanup_submit -d reads the file.
size_of() { "$submit" -d "$1" | sed -n 's/^content_size: //p'; }
# cleanup_submit -d does not print the arrival time: -j's is checked
# against the queue ID's time part instead (below).
json=$(hk queue -j)
expect_status "queue -j" 0 $?
printf '%s\n' "$json" > "$work/json"
out=$("$PYTHON" - "$work/json" "$a" "$b" "$c" "$reason_x" "$reason_y" <<'PY'
import json, sys
path, a, b, c, rx, ry = sys.argv[1:]
lines = open(path).read().splitlines()
objs = [json.loads(l) for l in lines]
by = {o["queue_id"]: o for o in objs}
assert [o["queue_id"] for o in objs] == [c, b, a], [o["queue_id"] for o in objs]
assert by[a]["queue_name"] == "deferred" and by[b]["queue_name"] == "active"
assert by[c]["queue_name"] == "hold"
assert by[a]["sender"] == "alice@example.org" and by[b]["sender"] == ""
assert by[c]["sender"] == "x y@example.org"
assert by[a]["forced_expire"] is False
assert set(by[a]) == {"queue_name", "queue_id", "arrival_time", "message_size",
                      "forced_expire", "sender", "recipients"}
r = by[a]["recipients"]
assert [x["address"] for x in r] == ["bob@example.com", "carol@example.com",
                                     "dave@example.net", "erin@example.org"]
assert r[0]["delay_reason"] == rx and r[1]["delay_reason"] == rx
assert r[2]["delay_reason"] == ry and "delay_reason" not in r[3]
for o in objs:
    assert isinstance(o["arrival_time"], int) and isinstance(o["message_size"], int)
# The arrival time is the queue ID's time part (base 32, microseconds).
def id_time(i):
    return int(i[:11], 32) // 1000000
for o in objs:
    assert o["arrival_time"] == id_time(o["queue_id"]), o
    print(o["queue_id"], o["arrival_time"], o["message_size"])
PY
)
expect_status "json fields" 0 $?
printf '%s\n' "$out" > "$work/facts"
fact() { awk -v id="$1" -v n="$2" '$1 == id { print $n }' "$work/facts"; }
expect_output "size of a" "$(size_of "$fa")" "$(fact "$a" 3)"
expect_output "size of b" "$(size_of "$(path_of active "$b")")" "$(fact "$b" 3)"
expect_output "size of c" "$(size_of "$(path_of hold "$c")")" "$(fact "$c" 3)"

# The listing, line by line, as Postfix's showq/postqueue print it.
line() { printf '%-17s %8s %19.19s %s\n' "$1" "$2" "$(date -d "@$3" '+%a %b %e %H:%M:%S')" "$4"; }
rcpt() { printf '%47s%s\n' "" "$1"; }
reason() { n=$((76 - ${#1})); [ "$n" -lt 0 ] && n=0; printf "%${n}s(%s)\n" "" "$1"; }
total=$(( ($(fact "$a" 3) + $(fact "$b" 3) + $(fact "$c" 3)) / 1024 ))
expected=$(
	printf '%-17s %8s %-19s %s\n' "----Queue ID-----" "--Size--" "---Arrival Time----" "--Sender/Recipient------"
	line "$c!" "$(fact "$c" 3)" "$(fact "$c" 2)" '"x y"@example.org'
	rcpt frank@example.com
	echo
	line "$b*" "$(fact "$b" 3)" "$(fact "$b" 2)" MAILER-DAEMON
	rcpt postmaster@host.example
	echo
	line "$a" "$(fact "$a" 3)" "$(fact "$a" 2)" alice@example.org
	reason "$reason_x"
	rcpt bob@example.com
	rcpt carol@example.com
	reason "$reason_y"
	rcpt dave@example.net
	rcpt erin@example.org
	echo
	echo "-- $total Kbytes in 3 Requests."
)
listing=$(hk queue -p)
expect_output "mailq format" "$expected" "$listing"
expect_output "queue without -p" "$listing" "$(hk queue)"
expect_output "sendmail -bp" "$listing" "$("$build/cmd/sendmail" -C "$etc" -bp)"
ln -s "$build/cmd/sendmail" "$work/mailq"
expect_output "mailq" "$listing" "$(MAIL_CONFIG=$etc "$work/mailq")"

# cat: every section; -h, -b, -e alone.
out=$(hk cat "$a")
expect_status "cat" 0 $?
expect_contains "cat envelope" "*** ENVELOPE RECORDS deferred/$(echo "$a" | cut -c11)/$a ***" "$out"
expect_contains "cat sender" "sender: alice@example.org" "$out"
expect_contains "cat recipient" "recipient: dave@example.net" "$out"
expect_contains "cat contents" "*** MESSAGE CONTENTS deferred/" "$out"
expect_contains "cat body" "body a" "$out"
expect_contains "cat end" "*** MESSAGE FILE END deferred/" "$out"
header=$(hk cat -h "$a")
expect_contains "cat -h header" "Subject: deferred one" "$header"
case "$header" in *"body a"* | *"***"*) fail "cat -h shows more than the header" ;; *) pass ;; esac
expect_output "cat -b" "body a" "$(hk cat -b "$a")"
out=$(hk cat -e -q "$c")
expect_contains "cat -e" "sender: x y@example.org" "$out"
case "$out" in *"Subject: held"*) fail "cat -e shows content" ;; *) pass ;; esac
expect_output "cat by file name" "body c" "$(hk cat -b "$(path_of hold "$c")")"
hk cat 1J0UUC7K0VLAEOGH 2> "$work/err"
expect_status "cat unknown ID" 1 $?
expect_contains "cat unknown ID says so" "no such message" "$(cat "$work/err")"
printf 'garbage' > "$work/bad"
hk cat "$work/bad" 2> "$work/err"
expect_status "cat corrupt file" 1 $?

# super -h / -H: hold and release.
out=$(hk super -h "$a" 2>&1)
expect_output "super -h summary" "postsuper: Placed on hold: 1 message" "$out"
[ -f "$(path_of hold "$a")" ] && [ ! -f "$fa" ] && pass || fail "-h did not move to hold/"
expect_contains "held shows !" "$a!" "$(hk queue)"
expect_contains "hold logged" "$a: placed on hold" "$(cat "$work/maillog")"
out=$(hk super -H ALL 2>&1)
expect_output "super -H ALL summary" "postsuper: Released from hold: 2 messages" "$out"
[ -f "$fa" ] && [ -f "$(path_of deferred "$c")" ] && pass || fail "-H did not move to deferred/"
expect_contains "release logged" "$c: released from hold" "$(cat "$work/maillog")"

# super -r: back to incoming/, defer log gone, recipients and marks unchanged.
out=$(hk super -r "$a" 2>&1)
expect_output "super -r summary" "postsuper: Requeued: 1 message" "$out"
[ -f "$(path_of incoming "$a")" ] && pass || fail "-r did not move to incoming/"
[ ! -f "$(path_of defer "$a")" ] && pass || fail "-r left the defer log"
case "$(hk queue)" in *"Connection refused"*) fail "reasons listed after requeue" ;; *) pass ;; esac

# super -d: one ID from standard input, then ALL of one queue, then ALL.
out=$(echo "$b" | hk super -d - 2>&1)
expect_output "super -d - summary" "postsuper: Deleted: 1 message" "$out"
[ ! -f "$(path_of active "$b")" ] && pass || fail "-d - did not delete"
expect_contains "delete logged" "postsuper[" "$(grep "$b: removed" "$work/maillog")"
out=$(hk super -d ALL incoming 2>&1)
expect_output "super -d ALL incoming" "postsuper: Deleted: 1 message" "$out"
[ -f "$(path_of deferred "$c")" ] && pass || fail "-d ALL incoming touched deferred/"
"$tool" -c "$etc" defer "$(path_of deferred "$c")" 0 4.4.1 none "x" > /dev/null
out=$(hk super -d ALL 2>&1)
expect_output "super -d ALL" "postsuper: Deleted: 1 message" "$out"
[ ! -f "$(path_of defer "$c")" ] && pass || fail "-d left the defer log"
expect_output "all gone" "Mail queue is empty" "$(hk queue)"

# Refusals.
hk super -d nonsense 2> /dev/null
expect_status "bad ID refused" 2 $?
hk super -d ALL nosuchqueue 2> /dev/null
expect_status "bad queue refused" 2 $?
hk super 2> /dev/null
expect_status "no action" 2 $?
out=$(hk super -d 1J0UUC7K0VLAEOGH 2>&1)
expect_status "unknown ID is not an error" 0 $?
expect_output "nothing deleted, nothing said" "" "$out"
finish
