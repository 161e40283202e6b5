# cleanup, run alone (-S): what ends up in the queue file for a given
# submission: header fix-ups, address rewriting, -t, Bcc removal, limits,
# odd input, group commit counts. The driver is tests/cmd/support/
# cleanup_submit.c, which speaks through lib/cleanup_client like pickup.
. "$SOURCE_DIR/tests/cmd/support/lib.sh"
bin=$(dirname "$HIKYAKU")/..
CLEANUP=$bin/cleanup/cleanup
SUBMIT=$bin/cleanup/cleanup_submit

mkdir -p "$work/etc" "$work/q"
write_config() {
	cat > "$work/etc/main.cf" <<CF
queue_directory = $work/q
myhostname = host.example.com
mydomain = example.com
$*
CF
}
pid=
start_cleanup() {
	"$CLEANUP" -c "$work/etc" -S "$work/cleanup.sock" -v "$@" 2>>"$work/cleanup.log" &
	pid=$!
	i=0
	while [ ! -S "$work/cleanup.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
stop_cleanup() {
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$work/cleanup.sock"
}
trap 'stop_cleanup; rm -rf "$work"' EXIT
# The content of the newest queue file without the lines that hold the
# date or the queue ID.
queued() {
	f=$(ls -t $(find "$work/q/incoming" -type f) | head -1)
	"$SUBMIT" -d "$f" | grep -a -i -v -e '^queue_id:' -e '^header_size' -e '^content_size' \
	    -e '^	id ' -e '^Date:' -e '^Message-Id:' -e '^Received: by'
}
count_files() { find "$work/q/$1" -type f | wc -l | tr -d ' '; }

write_config
start_cleanup

# 1. A local submission: From:, Date:, Message-ID:, Received: added;
# unqualified addresses get @$myorigin in the envelope and the header.
out=$(printf 'Subject: hi\nTo: bob, "Joe X" <joe@other.example>\n\nbody\n' |
	"$SUBMIT" -l -f alice -F "Alice Liddell" -u 1000 -r bob "$work/cleanup.sock")
expect_contains "local submission accepted" "OK " "$out"
expect_output "local submission queue file" "sender: alice@host.example.com
attribute: full_name=Alice Liddell
attribute: uid=1000
attribute: protocol=test
recipient: - bob@host.example.com original=bob orcpt= notify=0
--
Subject: hi
To: bob@host.example.com, \"Joe X\" <joe@other.example>
From: Alice Liddell <alice@host.example.com>

body" "$(queued)"
f=$(ls -t $(find "$work/q/incoming" -type f) | head -1)
expect_contains "Received header" "Received: by host.example.com (hikyaku, from userid 1000)" \
	"$("$SUBMIT" -d "$f")"
expect_contains "Message-Id uses myhostname" "@host.example.com>" \
	"$("$SUBMIT" -d "$f" | grep '^Message-Id:')"

# 2. -t: recipients from To/Cc/Bcc, Bcc removed, existing headers kept.
out=$(printf 'From: Me <me@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\nTo: a@example.org,\n  b@example.org\nCc: c\nBcc: hidden@example.org\n\nbody\n' |
	"$SUBMIT" -l -t -f me@example.org "$work/cleanup.sock")
expect_contains "-t accepted" "OK " "$out"
expect_output "-t queue file" "sender: me@example.org
attribute: protocol=test
recipient: - a@example.org original=a@example.org orcpt= notify=0
recipient: - b@example.org original=b@example.org orcpt= notify=0
recipient: - c@host.example.com original=c orcpt= notify=0
recipient: - hidden@example.org original=hidden@example.org orcpt= notify=0
--
From: Me <me@example.org>
To: a@example.org,
  b@example.org
Cc: c@host.example.com

body" "$(queued)"

# 3. -t with Resent- headers takes only the Resent- recipients.
out=$(printf 'To: old@example.org\nResent-To: new@example.org\nResent-Bcc: rb@example.org\n\nx\n' |
	"$SUBMIT" -t -f me@example.org "$work/cleanup.sock")
expect_output "-t with Resent-" "recipient: - new@example.org original=new@example.org orcpt= notify=0
recipient: - rb@example.org original=rb@example.org orcpt= notify=0" "$(queued | grep '^recipient')"
expect_output "Resent-Bcc removed" "" "$(queued | grep -i '^Resent-Bcc')"

# 4. DSN attributes and a null sender; a remote (non-local) submission
# gets no From: and no Received: from cleanup.
out=$(printf 'Subject: dsn\n\nx\n' | "$SUBMIT" -f '' -r rcpt@example.org -n 3 \
	-o 'rfc822;Rcpt@Example.org' "$work/cleanup.sock")
expect_output "DSN and null sender" "sender: 
attribute: protocol=test
recipient: - rcpt@example.org original=rcpt@example.org orcpt=rfc822;Rcpt@Example.org notify=3
--
Subject: dsn

x" "$(queued)"

# 5. No recipients: a permanent error, nothing queued.
before=$(count_files incoming)
out=$(printf 'Subject: x\n\nx\n' | "$SUBMIT" -f a@example.org "$work/cleanup.sock")
expect_status "no recipients exit" 65 $?
expect_contains "no recipients reason" "5.1.0" "$out"
expect_output "no recipients: nothing queued" "$before" "$(count_files incoming)"

# 6. Odd input: NUL bytes, 8-bit header, a 100,000-byte body line, CRLF,
# no header/body separator, no final newline.
long=$(head -c 100000 /dev/zero | tr '\0' 'x')
out=$(printf 'Subject: caf\303\251\r\nX-Nul: a\000b\r\nthis is not a header\r\n%s\r\nnul\000body\r\nlast' "$long" |
	"$SUBMIT" -f a@example.org -r b@example.org "$work/cleanup.sock")
expect_contains "odd input accepted" "OK " "$out"
expect_output "odd input content" "$(printf 'Subject: caf\303\251\nX-Nul: a b\n\nthis is not a header\n%s\nnul\000body\nlast\n' "$long" | cksum)" \
	"$(queued | sed '1,/^--$/d' | cksum)"
expect_contains "missing separator logged" "missing header/body separator" "$(cat "$work/cleanup.log")"

# 7. A header over header_size_limit is cut; too many hops is refused.
stop_cleanup
write_config "header_size_limit = 1000
hopcount_limit = 3
message_size_limit = 20000"
start_cleanup
big=$(head -c 5000 /dev/zero | tr '\0' 'y')
out=$(printf 'X-Big: %s\n\nbody\n' "$big" | "$SUBMIT" -f a@example.org -r b@example.org "$work/cleanup.sock")
expect_contains "long header accepted" "OK " "$out"
expect_output "long header cut at the limit" "1000" "$(queued | grep '^X-Big' | tr -d '\n' | wc -c | tr -d ' ')"
out=$(printf 'Received: a\nReceived: b\nReceived: c\nReceived: d\n\nx\n' |
	"$SUBMIT" -f a@example.org -r b@example.org "$work/cleanup.sock")
expect_contains "too many hops" "PERMFAIL 5.4.6" "$out"

# 8. message_size_limit: a clear permanent error, nothing in incoming/ or tmp/.
before=$(count_files incoming)
out=$(head -c 50000 /dev/zero | tr '\0' 'z' | "$SUBMIT" -f a@example.org -r b@example.org "$work/cleanup.sock")
expect_status "size limit exit" 65 $?
expect_contains "size limit reason" "5.3.4 message size exceeds fixed limit" "$out"
expect_output "size limit: nothing queued" "$before" "$(count_files incoming)"
expect_output "size limit: no temp file" "0" "$(count_files tmp)"

# 9. Canonical maps and masquerading.
stop_cleanup
write_config "sender_canonical_maps = inline:{ alice=alice.liddell@example.com }
recipient_canonical_maps = inline:{ @old.example=@new.example }
canonical_maps = inline:{ carol@host.example.com=caroline@example.net }
masquerade_domains = example.com
masquerade_exceptions = root"
start_cleanup
out=$(printf 'From: alice\nTo: x@old.example, carol\nCc: root@sub.example.com, u@sub.example.com\n\nx\n' |
	"$SUBMIT" -l -f alice -r y@old.example -r carol "$work/cleanup.sock")
expect_output "canonical and masquerade" "sender: alice.liddell@example.com
attribute: protocol=test
recipient: - y@new.example original=y@old.example orcpt= notify=0
recipient: - caroline@example.net original=carol orcpt= notify=0
--
From: alice.liddell@example.com
To: x@new.example, caroline@example.net
Cc: root@sub.example.com, u@example.com" "$(queued | sed '/^$/,$d')"

# 10. Group commit: 40 clients that finish at the same moment share
# flushes. The statistics line (at exit) counts the sync calls.
stop_cleanup
: > "$work/cleanup.log"
start_cleanup
# The 40 clients connect and send while cleanup is stopped (SIGSTOP), so
# all their messages wait in the sockets when it goes on: what it then
# does with them is batching, whatever the speed of the machine (clients
# released one by one from a shell loop would arrive a fork apart, about
# cleanup's batching window on a loaded machine).
kill -STOP "$pid"
i=0
pids=
while [ $i -lt 40 ]; do
	printf 'Subject: %s\n\nx\n' $i > "$work/message.$i"
	"$SUBMIT" -f a@example.org -r b@example.org "$work/cleanup.sock" < "$work/message.$i" > "$work/out.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 1
kill -CONT "$pid"
for p in $pids; do wait "$p"; done
stop_cleanup
expect_output "40 concurrent submissions accepted" "40" "$(cat "$work"/out.* | grep -c '^OK ')"
stats=$(grep 'statistics:' "$work/cleanup.log")
echo "$stats"
# With syncfs a flush is one call; the POSIX fallback (HIKYAKU_POSIX_FALLBACK)
# fsyncs each file and directory, so count flushes, which batch either way.
flushes=$(echo "$stats" | sed 's/.* queued, \([0-9]*\) flushes.*/\1/')
if [ "$flushes" -lt 40 ]; then pass; else fail "group commit: $flushes flushes for 40 messages"; fi

# 11. A stale temporary file from a dead cleanup is removed at start; a
# queue manager that is not running does not block (public/qmgr a FIFO
# without a reader).
touch "$work/q/tmp/999999999.1"
mkfifo "$work/q/public/qmgr"
start_cleanup
out=$(printf 'Subject: x\n\nx\n' | "$SUBMIT" -f a@example.org -r b@example.org "$work/cleanup.sock")
expect_contains "accepted with a dead qmgr" "OK " "$out"
expect_output "stale temp file removed" "0" "$(count_files tmp)"

# 12. A protocol error (garbage) drops the client without a file.
printf 'garbage that is not a frame at all, far too long a length' |
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); s.shutdown(1); print(len(s.recv(100)))' "$work/cleanup.sock" > "$work/garbage.out" 2>&1
expect_output "garbage gets no reply" "0" "$(cat "$work/garbage.out")"
expect_output "no temp file after garbage" "0" "$(count_files tmp)"
stop_cleanup

finish
