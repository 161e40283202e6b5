#!/bin/sh
# hikyaku alias and newaliases, as an administrator uses postalias and
# newaliases; answers compared with Postfix's own postalias.
. "$(dirname "$0")/support/lib.sh"

etc=$work/etc
mkdir -p "$etc" "$work/ref"
: > "$etc/main.cf"
: > "$work/ref/main.cf"

# A realistic aliases file with every kind of value.
cat > "$etc/aliases" <<'EOF'
# /etc/aliases
MAILER-DAEMON: postmaster
postmaster:    root
abuse: postmaster
Root:	alice, bob@example.org,
	/var/mail/root-copy,
	"|/usr/local/bin/archive --folder root"
# a comment between continuation lines

	, carol
bob: bob@EXAMPLE.net
pipe: |/usr/bin/procmail -t
staff: :include:/etc/mail/staff.list
"support desk": alice, bob
files: /tmp/file one, "/tmp/file two"
odd: a,b ,c
commented: dave (Dave D.), erin
literal: root@[192.0.2.1]
owner-staff: alice
staff-request: alice
dup: first
Dup: second
quoted: "\"x\""
EOF
names='mailer-daemon
postmaster
abuse
root
ROOT
bob
pipe
staff
support desk
Support Desk
files
odd
commented
literal
owner-staff
staff-request
dup
quoted
nosuch'

cp "$etc/aliases" "$work/ref/aliases"
out=$("$HIKYAKU" -c "$etc" alias "$etc/aliases" 2>&1)
expect_status "build" 0 $?
expect_contains "duplicate warning" "$etc/aliases, line 22: duplicate entry: \"dup\"" "$out"
[ -f "$etc/aliases.lmdb" ] && pass || fail "aliases.lmdb was not made"

out=$("$HIKYAKU" -c "$etc" alias -q root "lmdb:$etc/aliases")
expect_output "query root" 'alice, bob@example.org, /var/mail/root-copy, "|/usr/local/bin/archive --folder root", carol' "$out"
"$HIKYAKU" -c "$etc" alias -q nosuch "$etc/aliases" > /dev/null
expect_status "query missing" 1 $?
out=$("$HIKYAKU" -c "$etc" alias -q '"support desk"' "hash:$etc/aliases"; echo "rc=$?")
expect_output "query unquoted name only" "rc=1" "$out"

# The reference: Postfix's postalias on the same text.
postalias=$(command -v postalias || echo /usr/sbin/postalias)
if [ -x "$postalias" ]; then
	"$postalias" -c "$work/ref" "lmdb:$work/ref/aliases" 2>/dev/null
	expect_status "postalias build" 0 $?
	ours=$(printf '%s\n' "$names" | while IFS= read -r name; do
		[ -n "$name" ] || continue
		value=$("$HIKYAKU" -c "$etc" alias -q "$name" "lmdb:$etc/aliases")
		printf '%s -> %s (%s)\n' "$name" "$value" "$?"
	done)
	theirs=$(printf '%s\n' "$names" | while IFS= read -r name; do
		[ -n "$name" ] || continue
		value=$("$postalias" -c "$work/ref" -q "$name" "lmdb:$work/ref/aliases")
		printf '%s -> %s (%s)\n' "$name" "$value" "$?"
	done)
	expect_output "hikyaku alias -q = postalias -q" "$theirs" "$ours"

	# Each program reads the other's table.
	crossed=$(printf '%s\n' "$names" | while IFS= read -r name; do
		[ -n "$name" ] || continue
		value=$("$postalias" -c "$work/ref" -q "$name" "lmdb:$etc/aliases")
		printf '%s -> %s (%s)\n' "$name" "$value" "$?"
	done)
	expect_output "postalias -q reads our table" "$theirs" "$crossed"

	# -s lists what postalias lists, less its sendmail/NIS marker entries.
	ours=$("$HIKYAKU" -c "$etc" alias -s "lmdb:$etc/aliases" | LC_ALL=C sort)
	theirs=$("$postalias" -c "$work/ref" -s "lmdb:$work/ref/aliases" |
		grep -v -e '^@:' -e '^YP_' | LC_ALL=C sort)
	expect_output "hikyaku alias -s = postalias -s" "$theirs" "$ours"

	# -q - reads keys from standard input and prints "key:<TAB>value".
	keys='root
nosuch
Support Desk
pipe'
	ours=$(printf '%s\n' "$keys" | "$HIKYAKU" -c "$etc" alias -q - "lmdb:$etc/aliases")
	theirs=$(printf '%s\n' "$keys" | "$postalias" -c "$work/ref" -q - "lmdb:$work/ref/aliases")
	expect_output "-q - like postalias" "$theirs" "$ours"
else
	fail "postalias (Debian package postfix) is needed for the reference comparison"
fi

# Malformed input: every bad line named with file and line, non-zero exit,
# the table on disk untouched.
before=$(cksum < "$etc/aliases.lmdb")
cp "$etc/aliases" "$etc/aliases.good"
cat >> "$etc/aliases" <<'EOF'
missing colon here
nobody@example.com: x
emptyvalue:
EOF
out=$("$HIKYAKU" -c "$etc" alias "$etc/aliases" 2>&1)
expect_status "malformed" 2 $?
expect_contains "missing colon" "$etc/aliases, line 24: need name:value pair (no ':'" "$out"
expect_contains "non-local name" "$etc/aliases, line 25: name must be local" "$out"
expect_contains "empty value" "$etc/aliases, line 26: need name:value pair (no value" "$out"
expect_contains "table unchanged message" "table lmdb:$etc/aliases not changed" "$out"
expect_output "table file unchanged" "$before" "$(cksum < "$etc/aliases.lmdb")"
out=$("$HIKYAKU" -c "$etc" alias -q postmaster "$etc/aliases")
expect_output "old table still answers" "root" "$out"
mv "$etc/aliases.good" "$etc/aliases"

# A NUL byte and a line of 2 MiB are errors too.
printf 'a: b\nnul: x\000y\n' > "$work/nul"
out=$("$HIKYAKU" -c "$etc" alias "$work/nul" 2>&1)
expect_status "NUL byte" 2 $?
expect_contains "NUL byte message" "$work/nul, line 2: NUL byte in line" "$out"
[ ! -f "$work/nul.lmdb" ] && pass || fail "a table was made from bad input"
{ printf 'long: '; head -c 2200000 /dev/zero | tr '\0' 'x'; printf '\nok: y\n'; } > "$work/long"
out=$("$HIKYAKU" -c "$etc" alias "$work/long" 2>&1)
expect_status "long line" 2 $?
expect_contains "long line message" "$work/long, line 1: line longer than" "$out"

# A name over LMDB's key limit is a bad line too.
{ printf 'ok: x\n'; head -c 600 /dev/zero | tr '\0' n; printf ': y\n'; } > "$work/longname"
out=$("$HIKYAKU" -c "$etc" alias "$work/longname" 2>&1)
expect_status "long name" 2 $?
expect_contains "long name message" "$work/longname, line 2: key of 600 bytes" "$out"

# Other failures.
out=$("$HIKYAKU" -c "$etc" alias "$work/none" 2>&1)
expect_status "missing source" 2 $?
expect_contains "missing source message" "open $work/none: No such file or directory" "$out"
out=$("$HIKYAKU" -c "$etc" alias "texthash:$etc/aliases" 2>&1)
expect_status "unwritable type" 2 $?
expect_contains "unwritable type message" "cannot build or change a table of type \"texthash\"" "$out"
out=$("$HIKYAKU" -c "$etc" alias -q root "$work/none" 2>&1)
expect_status "query of a missing table" 2 $?
out=$("$HIKYAKU" -c "$etc" alias -q root -s "$etc/aliases" 2>&1)
expect_status "-q with -s" 2 $?

# -d deletes, -i adds from standard input (existing names are kept, as
# postalias does without -r).
"$HIKYAKU" -c "$etc" alias -d Abuse "$etc/aliases"
expect_status "delete" 0 $?
"$HIKYAKU" -c "$etc" alias -q abuse "$etc/aliases"
expect_status "deleted is gone" 1 $?
"$HIKYAKU" -c "$etc" alias -d abuse "$etc/aliases"
expect_status "delete again" 1 $?
printf 'New: added\npostmaster: changed\n' | "$HIKYAKU" -c "$etc" alias -i "$etc/aliases" 2>/dev/null
expect_status "insert" 0 $?
out=$("$HIKYAKU" -c "$etc" alias -q new "$etc/aliases")
expect_output "inserted" "added" "$out"
out=$("$HIKYAKU" -c "$etc" alias -q postmaster "$etc/aliases")
expect_output "insert keeps existing" "root" "$out"
printf 'bad line\n' | "$HIKYAKU" -c "$etc" alias -i "$etc/aliases" 2>/dev/null
expect_status "insert of bad input" 2 $?

# The table is no more readable than its source.
printf 'secret: x\n' > "$work/private"
chmod 600 "$work/private"
"$HIKYAKU" -c "$etc" alias "$work/private"
mode=$(stat -c %a "$work/private.lmdb")
expect_output "mode follows source" "600" "$mode"

# newaliases: every table in alias_database of the instance, chosen with
# -C or MAIL_CONFIG; sendmail options are accepted.
mkdir -p "$work/bin" "$work/mail"
ln -s "$HIKYAKU" "$work/bin/newaliases"
printf 'root: admin\n' > "$work/mail/aliases"
printf 'list: a, b\n' > "$work/mail/lists"
cat > "$etc/main.cf" <<EOF
alias_database = hash:$work/mail/aliases, lmdb:$work/mail/lists
alias_maps = \$alias_database
EOF
out=$("$work/bin/newaliases" -C "$etc" 2>&1)
expect_status "newaliases -C" 0 $?
expect_output "newaliases is quiet" "" "$out"
out=$("$HIKYAKU" -c "$etc" alias -q root "$work/mail/aliases")
expect_output "first table" "admin" "$out"
out=$("$HIKYAKU" -c "$etc" alias -q list "$work/mail/lists")
expect_output "second table" "a, b" "$out"

printf 'root: admin2\n' > "$work/mail/aliases"
printf 'list: c\n' > "$work/mail/lists"
MAIL_CONFIG=$etc "$work/bin/newaliases" -oAignored -oi
expect_status "newaliases with MAIL_CONFIG" 0 $?
out=$("$HIKYAKU" -c "$etc" alias -q root "$work/mail/aliases")$("$HIKYAKU" -c "$etc" alias -q list "$work/mail/lists")
expect_output "both rebuilt" "admin2c" "$out"

# One bad table: named with file and line, left as it was; the other is
# still rebuilt; the exit status says it failed.
printf 'root admin3\n' > "$work/mail/aliases"
printf 'list: d\n' > "$work/mail/lists"
out=$(MAIL_CONFIG=$etc "$work/bin/newaliases" 2>&1)
expect_status "newaliases with a bad table" 1 $?
expect_contains "bad table named" "$work/mail/aliases, line 1: need name:value pair" "$out"
out=$("$HIKYAKU" -c "$etc" alias -q root "$work/mail/aliases")$("$HIKYAKU" -c "$etc" alias -q list "$work/mail/lists")
expect_output "bad kept, good rebuilt" "admin2d" "$out"

out=$("$work/bin/newaliases" -C "$etc" extra 2>&1)
expect_status "newaliases with an argument" 64 $?
printf 'alias_database =\n' > "$etc/main.cf"
"$work/bin/newaliases" -C "$etc" 2>/dev/null
expect_status "newaliases with no alias_database" 0 $?
printf 'alias_database = texthash:%s\n' "$work/mail/aliases" > "$etc/main.cf"
out=$("$work/bin/newaliases" -C "$etc" 2>&1)
expect_status "newaliases with a type it cannot build" 1 $?
expect_contains "type named" "cannot build or change a table of type \"texthash\"" "$out"

finish
