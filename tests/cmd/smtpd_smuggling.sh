#!/bin/sh
# SMTP smuggling probes: only <CR><LF>.<CR><LF> ends DATA. A bare LF,
# <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF> and <CR>.<CR> never do; with the
# default smtpd_forbid_bare_newline = yes a bare LF gets "550 5.5.2 Error:
# bare <LF> received" and nothing is queued. In no case does the text after
# the fake end become a second message. Each probe is followed by a normal
# transaction that works.
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/smtpd_lib.sh"

port2=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
port3=$("$PYTHON" "$SOURCE_DIR/tests/cmd/support/client.py" freeport)
smtpd_master_cf
{
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_forbid_bare_newline=normalize\n' "$port2"
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_forbid_bare_newline_exclusions=127.0.0.1/32\n' "$port3"
} >> "$etc/master.cf"
smtpd_start || { finish; exit 1; }

# probe NAME FAKE_END: a message whose body holds FAKE_END followed by a
# whole second transaction, then the real end.
# The steps are sent as a pipelining client may: EHLO alone, then MAIL,
# RCPT and DATA, then the content with the probe, then QUIT.
probe() {
	{
		printf '%s\n--\n' 'EHLO client.example\r\n'
		printf '%s\n--\n' "MAIL FROM:<victim@example.org>\\r\\nRCPT TO:<$rcpt>\\r\\nDATA\\r\\n"
		printf '%s%s%s\n--\n' "Subject: probe $1\\r\\n\\r\\nbody" "$2" \
			"MAIL FROM:<evil@example.org>\\r\\nRCPT TO:<$rcpt>\\r\\nDATA\\r\\nSubject: smuggled\\r\\n\\r\\nsmuggled\\r\\n.\\r\\n"
		printf '%s\n' 'QUIT\r\n'
	} > "$work/probe"
}
# send_probe PORT: the replies to the probe.
send_probe() { $talk steps "$1" "$work/probe" 0.5; }

for variant in 'LF.LF:\n.\n' 'LF.CRLF:\n.\r\n' 'CRLF.LF:\r\n.\n' 'bare-LF-lines:\nline\n.\n'; do
	name=${variant%%:*}
	fake=${variant#*:}
	before=$(queued)
	probe "$name" "$fake"
	out=$(send_probe "$port")
	expect_contains "$name: refused" "550 5.5.2 Error: bare <LF> received" "$out"
	expect_output "$name: one 354 only" 1 "$(printf '%s\n' "$out" | grep -c '^354')"
	expect_output "$name: nothing queued" "$before" "$(queued)"
	case "$out" in *"queued as"*) fail "$name: a message was queued" ;; *) pass ;; esac
done

# <CR>.<CR> is no end either; with no bare LF the whole is ONE message.
before=$(queued)
probe "CR.CR" '\r.\r'
out=$(send_probe "$port")
expect_output "CR.CR: one 354" 1 "$(printf '%s\n' "$out" | grep -c '^354')"
expect_output "CR.CR: one message" $((before + 1)) "$(queued)"
id=$(queue_id_of "$out")
body=$(body_of "$id" | tr '\r' '#')
expect_contains "CR.CR: the rest is content" "body#.#MAIL FROM:<evil@example.org>" "$body"
expect_contains "CR.CR: smuggled text is content" "smuggled" "$body"
case "$(grep -c 'from=<evil@example.org>' "$work/maillog")" in 0) pass ;; *) fail "CR.CR: evil sender reached cleanup" ;; esac

# A bare LF in a command: refused, the transaction is dropped.
printf '%s\n--\n%s\n' 'EHLO client.example\r\n' \
	"MAIL FROM:<a@example.org>\\nRCPT TO:<$rcpt>\\r\\nQUIT\\r\\n" > "$work/command"
out=$($talk steps "$port" "$work/command" 0.5)
expect_contains "command bare LF" "550 5.5.2 Error: bare <LF> received" "$out"
expect_contains "no transaction after it" "503 5.5.1 Error: need MAIL command" "$out"

# normalize: a bare LF is a line end, but only CRLF.CRLF ends DATA: one
# message, the fake second transaction is content.
before=$(queued)
probe "normalize" '\n.\n'
out=$(send_probe "$port2")
expect_output "normalize: one 354" 1 "$(printf '%s\n' "$out" | grep -c '^354')"
expect_output "normalize: one message" $((before + 1)) "$(queued)"
expect_contains "normalize: smuggled text is content" "MAIL FROM:<evil@example.org>" \
	"$(body_of "$(queue_id_of "$out")")"

# smtpd_forbid_bare_newline_exclusions: the excluded client is not refused.
probe "excluded" '\n.\n'
out=$(send_probe "$port3")
expect_contains "excluded: accepted" "250 2.0.0 Ok: queued as" "$out"
expect_output "excluded: one 354" 1 "$(printf '%s\n' "$out" | grep -c '^354')"

# After all that, a normal transaction.
out=$(swaks_run --from sender@example.org --to "$rcpt" --body "normal")
expect_contains "normal mail" "250 2.0.0 Ok: queued as" "$out"

smtpd_finish
