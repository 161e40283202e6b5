#!/bin/sh
# pflogsumm (Debian's package) on the log of a real run: sendmail ->
# pickup -> cleanup -> qmgr -> local, through the master, as an
# administrator runs it. Three messages delivered to a mailbox, one to an
# unknown user (bounced, with the non-delivery notice delivered back to
# the sender), one deferred (transport_maps "retry:"). pflogsumm's
# "Grand Totals" must count them: received, delivered, deferred, bounced.
. "$(dirname "$0")/support/lib.sh"
: "${MASTER:?}" "${CLEANUP:?}" "${PICKUP:?}" "${QMGR:?}" "${LOCAL:?}"
command -v pflogsumm > /dev/null || { echo "pflogsumm is not installed (tools/packages-test.txt)"; exit 1; }
build=$(dirname "$(dirname "$HIKYAKU")")
chmod 755 "$work"
etc=$work/etc
queue=$work/queue
mkdir -p "$etc" "$work/daemon" "$work/bin" "$work/spool"
chmod 1777 "$work/spool"
for d in master cleanup pickup qmgr local; do
	ln -s "$(eval echo "\$$(echo "$d" | tr a-z A-Z)")" "$work/daemon/$d"
done
ln -s "$build/cmd/sendmail" "$work/bin/sendmail"
cp "$build/cmd/postdrop" "$work/bin/postdrop"
ln -s "$HIKYAKU" "$work/bin/hikyaku"
user=$(id -un)
cat > "$etc/main.cf" <<CF
queue_directory = $queue
data_directory = $work/data
daemon_directory = $work/daemon
command_directory = $work/bin
maillog_file = $work/maillog
myhostname = host.example
mydomain = example
mydestination = host.example, localhost
mail_spool_directory = $work/spool
alias_maps =
transport_maps = inline:{ {remote.example = retry:4.4.1 destination is down} }
CF
grep -E '^(pickup|cleanup|local) ' "$SOURCE_DIR/conf/master.cf" > "$etc/master.cf"
# The queue manager's entry (commented out in conf/master.cf until qmgr ships).
echo "qmgr      unix  n       -       n       300     1       qmgr" >> "$etc/master.cf"
hk() { "$HIKYAKU" -c "$etc" "$@"; }
trap 'hk abort > /dev/null 2>&1; [ "$failed" -gt 0 ] && cat "$work/maillog" >&2; rm -rf "$work"' EXIT
hk set-permissions > /dev/null 2>&1
out=$(hk start 2>&1)
expect_status "start" 0 $?

send() { printf 'Subject: %s\n\nbody\n' "$2" | MAIL_CONFIG=$etc "$work/bin/sendmail" -f "$user@host.example" "$1"; }
for n in 1 2 3; do send "$user@host.example" "hello $n"; done
send "nosuchuser@host.example" "to nobody"
send "someone@remote.example" "to a down site"

# Wait (up to 20 s) for 4 mailbox deliveries (3 + the notice) and the deferral.
tries=0
while [ "$tries" -lt 200 ]; do
	sent=$(grep -c 'status=sent' "$work/maillog" 2>/dev/null)
	deferred=$(grep -c 'status=deferred' "$work/maillog" 2>/dev/null)
	[ "${sent:-0}" -ge 4 ] && [ "${deferred:-0}" -ge 1 ] && break
	sleep 0.1
	tries=$((tries + 1))
done
expect_output "delivered to the mailbox" 4 "$(grep -c '^From ' "$work/spool/$user" 2>/dev/null)"
expect_contains "the notice came back" "Undelivered Mail Returned to Sender" "$(cat "$work/spool/$user" 2>/dev/null)"
hk stop > /dev/null 2>&1
cp "$work/maillog" "${PFLOGSUMM_KEEP_LOG:-/dev/null}" 2>/dev/null

report=$(pflogsumm --syslog-name=hikyaku -e "$work/maillog" 2>&1)
printf '%s\n' "$report" > "$work/report"
total() { awk -v what="$1" '$0 ~ "^ *[0-9]+ +" what "( |$)" { print $1; exit }' "$work/report"; }
# received: the 5 submitted (pickup's uid= lines; a notice made by the
# mail system is not "received", as with Postfix's bounce daemon);
# delivered: 3 + the notice.
expect_output "pflogsumm received" 5 "$(total received)"
expect_output "pflogsumm delivered" 4 "$(total delivered)"
expect_output "pflogsumm deferred" 1 "$(total deferred)"
expect_output "pflogsumm bounced" 1 "$(total bounced)"
expect_contains "pflogsumm deferrals" "1   deferred  (1  deferrals)" "$report"
expect_contains "pflogsumm bounce detail" "unknown user" "$report"
[ "$failed" -gt 0 ] && cat "$work/report" >&2
finish
