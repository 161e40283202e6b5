#!/bin/sh
# local: aliases of every kind of value (/file, |command, user@remote
# forwarded through cleanup, other local names, :include:, owner-
# aliases), commands' exit codes and environment, loops (alias cycles and
# Delivered-To:), ~/.forward, mailbox_command, and the rights commands
# and files run with (default_privs for a root-owned alias table, the
# user for a .forward with the user's supplementary groups, never root).
. "$(dirname "$0")/support/lib.sh"
. "$(dirname "$0")/support/local_lib.sh"

out_dir=$work/out
mkdir -p "$out_dir"
chmod 1777 "$out_dir"
if [ "$is_root" -eq 1 ]; then privs=nobody; else privs=$user; fi
cat > "$work/include" <<EOF
# an :include: file
$user
EOF
printf '%s/out/included-file\n' "$work" > "$work/include2"
chmod 644 "$work/include" "$work/include2"
cat > "$etc/aliases" <<EOF
filebox: $out_dir/filebox
piped: "|/bin/sh -c 'env > $out_dir/env; cat > $out_dir/piped'"
remote: someone@elsewhere.example, other@elsewhere.example
team: $user, filebox, piped, remote
incl: :include:$work/include
incl2: :include:$work/include2
loopa: loopb
loopb: loopa, $user
list: $user
owner-list: $user
tempfail: "|/bin/sh -c 'exit 75'"
nouser: "|/bin/sh -c 'exit 67'"
crash: "|kill -9 \$\$"
maildirbox: $out_dir/maildir/
chatty: "|/bin/sh -c 'head -c 300000 /dev/zero | tr x x; wc -c > $out_dir/chatty'"
EOF
start_daemons
message() {
	printf 'Subject: %s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-Id: <%s@example.org>\n' "$1" "$1"
	printf 'From: sender@example.org\n%s\nbody of %s\n' "${2:-}" "$1"
}
mbox=$work/spool/$user
count_mbox() { grep -c '^From ' "$mbox" 2> /dev/null || echo 0; }

# --- a list: mailbox, /file, |command and a remote forward ---
id=$(message team | submit_message sender@example.org team@host.example)
out=$(deliver "$id")
expect_output "team result" "0 delivered 2.0.0 delivered to mailbox" "$out"
expect_output "team marked" "D" "$(recipient_states "$id")"
expect_output "team: mailbox" 1 "$(count_mbox)"
log=$(cat "$work/maillog")
expect_contains "log: mailbox via alias" "to=<$user@host.example>, orig_to=<team@host.example>, relay=local" "$log"
expect_contains "log: file" "to=<filebox@host.example>, orig_to=<team@host.example>, relay=local, delay=" "$log"
expect_contains "log: file status" "status=sent (delivered to file: $out_dir/filebox)" "$log"
expect_contains "log: command" "status=sent (delivered to command: /bin/sh -c 'env > $out_dir/env; cat > $out_dir/piped')" "$log"
expect_contains "log: forward" "to=<someone@elsewhere.example>, orig_to=<team@host.example>, relay=local" "$log"
# The file: mbox format, written as default_privs (the alias table is root's).
expect_contains "file From line" "From sender@example.org " "$(head -1 "$out_dir/filebox")"
expect_output "file content" "Return-Path: <sender@example.org>
X-Original-To: team@host.example
Delivered-To: team@host.example
Subject: team" "$(sed -n '2,5p' "$out_dir/filebox")"
expect_output "file owner" "$privs" "$(stat -c %U "$out_dir/filebox")"
# The command: the message on standard input, Postfix's environment.
expect_contains "command input" "Return-Path: <sender@example.org>" "$(cat "$out_dir/piped")"
expect_contains "command input body" "body of team" "$(cat "$out_dir/piped")"
expect_output "command owner" "$privs" "$(stat -c %U "$out_dir/piped")"
env=$(cat "$out_dir/env")
expect_contains "SENDER" "SENDER=sender@example.org" "$env"
expect_contains "RECIPIENT" "RECIPIENT=piped@host.example" "$env"
expect_contains "ORIGINAL_RECIPIENT" "ORIGINAL_RECIPIENT=team@host.example" "$env"
expect_contains "LOCAL" "LOCAL=piped" "$env"
expect_contains "DOMAIN" "DOMAIN=host.example" "$env"
expect_contains "USER" "USER=$privs" "$env"
expect_contains "PATH" "PATH=/usr/bin:/bin" "$env"
# The forward: one new message through cleanup, original sender, Delivered-To first.
new=$(grep -o 'forwarded as [0-9A-V]*' "$work/maillog" | head -1 | cut -d' ' -f3)
[ -n "$new" ] && pass || fail "no forwarded queue ID in the log"
dump=$("$submit" -d "$(find "$queue/incoming" -name "$new")")
expect_contains "forward sender" "sender: sender@example.org" "$dump"
expect_contains "forward recipient 1" "recipient: - someone@elsewhere.example original=team@host.example" "$dump"
expect_contains "forward recipient 2" "recipient: - other@elsewhere.example original=team@host.example" "$dump"
expect_contains "forward Delivered-To" "--
Delivered-To: team@host.example
Subject: team" "$dump"

# --- commands' exit codes: EX_TEMPFAIL defers, EX_NOUSER bounces, a signal defers ---
id=$(message codes | submit_message sender@example.org tempfail@host.example nouser@host.example crash@host.example)
out=$(deliver "$id")
expect_output "exit codes" "0 deferred 4.3.0 command \"/bin/sh -c 'exit 75'\" failed: temporary failure (status 75)
1 bounced 5.1.1 command \"/bin/sh -c 'exit 67'\" failed: user unknown (status 67)
2 deferred 4.3.0 command \"kill -9 \$\$\" killed by signal 9" "$out"
expect_output "exit codes: none marked" "---" "$(recipient_states "$id")"

# A command that writes much before it reads a big message: no deadlock.
id=$({ message chatty; head -c 300000 /dev/zero | tr '\0' 'x' | fold -w 100; } |
	submit_message sender@example.org chatty@host.example)
out=$(deliver "$id")
expect_output "chatty command" "0 delivered 2.0.0 delivered to command: /bin/sh -c 'head -c 300000 /dev/zero | tr x x; wc -c > $out_dir/chatty'" "$out"
[ "$(cat "$out_dir/chatty")" -gt 300000 ] && pass || fail "chatty command read $(cat "$out_dir/chatty") bytes"

# --- :include:, loops, owner- alias ---
id=$(message include | submit_message sender@example.org incl@host.example incl2@host.example)
out=$(deliver "$id")
expect_output "include" "0 delivered 2.0.0 delivered to mailbox
1 bounced 5.7.1 mail to file is restricted" "$out"
before=$(count_mbox)
id=$(message loop | submit_message sender@example.org loopa@host.example)
out=$(deliver "$id")
expect_output "alias cycle" "0 bounced 5.1.1 unknown user: \"loopa\"" "$out"
expect_output "alias cycle: the user in the cycle still gets it" "$((before + 1))" "$(count_mbox)"
id=$(message looped "Delivered-To: $user@host.example" | submit_message sender@example.org "$user@host.example")
out=$(deliver "$id")
expect_output "Delivered-To loop" "0 bounced 5.4.6 mail forwarding loop for $user@host.example" "$out"
id=$(message looped2 "Delivered-To: team@host.example" | submit_message sender@example.org team@host.example)
out=$(deliver "$id")
expect_output "Delivered-To loop via alias" "0 bounced 5.4.6 mail forwarding loop for team@host.example" "$out"
id=$(message owned | submit_message sender@example.org list@host.example)
out=$(deliver "$id")
expect_output "owner alias" "0 delivered 2.0.0 delivered to mailbox" "$out"
expect_output "owner alias as Return-Path" "Return-Path: <owner-list@host.example>" \
	"$(grep -B1 -A0 'X-Original-To: list@host.example' "$mbox" | head -1)"

# --- /dir/ in an alias: a Maildir ---
id=$(message maildir | submit_message sender@example.org maildirbox@host.example)
out=$(deliver "$id")
expect_output "maildir alias" "0 delivered 2.0.0 delivered to file: $out_dir/maildir/" "$out"
expect_contains "maildir alias content" "body of maildir" "$(cat "$out_dir"/maildir/new/*)"

# --- ~/.forward and mailbox_command (need a home of our own: root) ---
if [ "$is_root" -eq 1 ]; then
	# A supplementary group of the user's, which the command must have.
	extra_group=hkg$$
	groupadd "$extra_group" && usermod -a -G "$extra_group" "$user" ||
		fail "cannot add group $extra_group"
	trap 'groupdel "$extra_group" 2> /dev/null; local_cleanup' EXIT
	printf '\\%s, "|/bin/sh -c '"'"'cat > %s/forwarded; id -G > %s/groups'"'"'"\n# comment\n' \
		"$user" "$home" "$home" > "$home/.forward"
	chown "$user" "$home/.forward"
	chmod 644 "$home/.forward"
	before=$(count_mbox)
	id=$(message forward | submit_message sender@example.org "$user@host.example")
	out=$(deliver "$id")
	expect_output ".forward" "0 delivered 2.0.0 delivered to mailbox" "$out"
	expect_output ".forward: mailbox too" "$((before + 1))" "$(count_mbox)"
	expect_contains ".forward command ran" "body of forward" "$(cat "$home/forwarded")"
	expect_output ".forward command as the user" "$user" "$(stat -c %U "$home/forwarded")"
	expect_output ".forward command with the user's groups" \
		"$(id -G "$user" | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
		"$(tr ' ' '\n' < "$home/groups" | sort -n | tr '\n' ' ')"
	expect_contains ".forward command in the supplementary group" \
		" $(getent group "$extra_group" | cut -d: -f3) " " $(cat "$home/groups") "
	rm -f "$home/forwarded" "$home/groups"
	# A .forward anyone in the group may write is not trusted.
	chmod 664 "$home/.forward"
	id=$(message untrusted | submit_message sender@example.org "$user@host.example")
	out=$(deliver "$id")
	expect_output "untrusted .forward ignored" "0 delivered 2.0.0 delivered to mailbox" "$out"
	[ -f "$home/forwarded" ] && fail "untrusted .forward was used" || pass
	expect_contains "untrusted .forward logged" "ignoring forward file: $home/.forward is group or world writable" "$(cat "$work/maillog")"
	rm -f "$home/.forward"

	printf 'mailbox_command = /usr/bin/tee %s/mailbox-command\n' "$home" >> "$etc/main.cf"
	restart_local
	id=$(message command | submit_message sender@example.org "$user@host.example")
	out=$(deliver "$id")
	expect_output "mailbox_command" "0 delivered 2.0.0 delivered to command: /usr/bin/tee $home/mailbox-command" "$out"
	expect_contains "mailbox_command input" "Delivered-To: $user@host.example" "$(cat "$home/mailbox-command")"
	expect_output "mailbox_command as the user" "$user" "$(stat -c %U "$home/mailbox-command")"
fi

stop_daemons
finish
