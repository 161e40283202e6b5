#!/bin/sh
# hikyaku map, as a Postfix administrator uses postmap: build, query, list,
# delete, insert; bad sources refused with file and line and the table left
# as it was; concurrent runs; and the same answers as Postfix's own postmap
# (Debian's postfix and postfix-lmdb) on the same tables.
. "$(dirname "$0")/support/lib.sh"

etc=$work/etc
mkdir -p "$etc" "$work/h" "$work/p"
: > "$etc/main.cf"
map() { "$HIKYAKU" -c "$etc" map "$@"; }

# The reference: postmap with its own empty configuration.
postmap=$(command -v postmap || echo /usr/sbin/postmap)
has_postmap=no
if [ -x "$postmap" ] && postconf -m 2>/dev/null | grep -qx lmdb; then
	has_postmap=yes
	mkdir -p "$work/pf"
	: > "$work/pf/main.cf"
	pmap() { "$postmap" -c "$work/pf" "$@"; }
else
	fail "no postmap with lmdb support (packages postfix, postfix-lmdb): reference comparisons not run"
fi

# A table with what real tables hold: comments, mixed case, continuation
# lines, duplicates, tabs, long and UTF-8 values, CRLF lines.
long=$(printf '%0500d' 7)
cat > "$work/h/src" <<EOF
# transport-like table
example.com        smtp:[mail.example.com]:587
.Example.ORG       relay:[relay.example.net]
User@Example.COM   local:user
alias              first,
    second,
	third
# a comment between continuation lines
    fourth
duplicate          kept
DUPLICATE          dropped
tabbed	value	with	tabs
spaces   inner   blanks   kept   
long               $long
utf8-keyÜ          wert ü
ünïcode@例え.jp     unicode key
percent%key        100%
crlf key
EOF
printf 'crlf-line value\r\nlast no-newline' >> "$work/h/src"
cp "$work/h/src" "$work/p/src"

map lmdb:"$work/h/src" 2> "$work/err"
expect_status "build" 0 $?
expect_contains "duplicate warned with file and line" \
	"warning: $work/h/src, line 11: duplicate entry: \"duplicate\"" "$(cat "$work/err")"
[ -f "$work/h/src.lmdb" ] && pass || fail "build makes src.lmdb"
out=$(ls "$work/h")
expect_output "no temporary file left" "src
src.lmdb
src.lmdb.lock" "$out"

out=$(map -q EXAMPLE.COM lmdb:"$work/h/src")
expect_status "query found" 0 $?
expect_output "query value" "smtp:[mail.example.com]:587" "$out"
out=$(map -q nothing.example lmdb:"$work/h/src")
expect_status "query not found" 1 $?
expect_output "query not found prints nothing" "" "$out"
out=$(map -q alias hash:"$work/h/src")
expect_output "hash: is lmdb:, continuation joined" "first,    second,	third    fourth" "$out"

queries="example.com EXAMPLE.COM .example.org .Example.ORG user@example.com alias
duplicate DUPLICATE tabbed spaces long utf8-keyÜ utf8-keyü ünïcode@例え.jp percent%key crlf
crlf-line last nothing # fourth"

if [ "$has_postmap" = yes ]; then
	pmap lmdb:"$work/p/src" 2> /dev/null
	expect_status "postmap builds the reference" 0 $?
	# The same answer and exit status for every query, from each program's
	# own table and from the other's.
	for key in $queries; do
		want=$(pmap -q "$key" lmdb:"$work/p/src"); want_status=$?
		got=$(map -q "$key" lmdb:"$work/h/src"); got_status=$?
		expect_output "-q $key" "$want" "$got"
		expect_status "-q $key exit" "$want_status" "$got_status"
		cross=$(pmap -q "$key" lmdb:"$work/h/src"); cross_status=$?
		expect_output "postmap reads our table: $key" "$want" "$cross"
		expect_status "postmap reads our table: $key exit" "$want_status" "$cross_status"
		cross=$(map -q "$key" lmdb:"$work/p/src"); cross_status=$?
		expect_output "we read postmap's table: $key" "$want" "$cross"
		expect_status "we read postmap's table: $key exit" "$want_status" "$cross_status"
	done
	want=$(pmap -s lmdb:"$work/p/src" | LC_ALL=C sort)
	got=$(map -s lmdb:"$work/h/src" | LC_ALL=C sort)
	expect_output "-s same entries" "$want" "$got"
	got=$(map -s lmdb:"$work/p/src" | LC_ALL=C sort)
	expect_output "-s of postmap's table" "$want" "$got"
	keys=$(printf '%s\n' $queries "" "  spaced")
	want=$(printf '%s\n' "$keys" | pmap -q - lmdb:"$work/p/src"); want_status=$?
	got=$(printf '%s\n' "$keys" | map -q - lmdb:"$work/h/src"); got_status=$?
	expect_output "-q - same output" "$want" "$got"
	expect_status "-q - same exit" "$want_status" "$got_status"
	want=$(printf 'no\nnone\n' | pmap -q - lmdb:"$work/p/src"); want_status=$?
	got=$(printf 'no\nnone\n' | map -q - lmdb:"$work/h/src"); got_status=$?
	expect_status "-q - nothing found exit" "$want_status" "$got_status"
	# Several tables: the first that has the key answers.
	printf 'example.com first-table\nonly-here x\n' > "$work/h/first"
	cp "$work/h/first" "$work/p/first"
	map lmdb:"$work/h/first"
	pmap lmdb:"$work/p/first"
	for key in example.com only-here alias nothing; do
		want=$(pmap -q "$key" lmdb:"$work/p/first" lmdb:"$work/p/src"); want_status=$?
		got=$(map -q "$key" lmdb:"$work/h/first" lmdb:"$work/h/src"); got_status=$?
		expect_output "-q $key in two tables" "$want" "$got"
		expect_status "-q $key in two tables exit" "$want_status" "$got_status"
	done
	# -f keeps the case of keys: queries then must match it.
	pmap -f lmdb:"$work/p/src" 2> /dev/null
	map -f lmdb:"$work/h/src" 2> /dev/null
	for key in example.com .Example.ORG .example.org User@Example.COM duplicate DUPLICATE; do
		want=$(pmap -f -q "$key" lmdb:"$work/p/src"); want_status=$?
		got=$(map -f -q "$key" lmdb:"$work/h/src"); got_status=$?
		expect_output "-f -q $key" "$want" "$got"
		expect_status "-f -q $key exit" "$want_status" "$got_status"
		want=$(pmap -q "$key" lmdb:"$work/p/src"); want_status=$?
		got=$(map -q "$key" lmdb:"$work/h/src"); got_status=$?
		expect_output "folded -q $key on -f table" "$want" "$got"
		expect_status "folded -q $key on -f table exit" "$want_status" "$got_status"
	done
	want=$(pmap -s lmdb:"$work/p/src" | LC_ALL=C sort)
	got=$(map -s lmdb:"$work/h/src" | LC_ALL=C sort)
	expect_output "-f -s same entries" "$want" "$got"
	# -n: no trailing NULs; both still read it.
	pmap -n lmdb:"$work/p/src" 2> /dev/null
	map -n lmdb:"$work/h/src" 2> /dev/null
	for key in example.com alias nothing; do
		want=$(pmap -q "$key" lmdb:"$work/p/src"); want_status=$?
		got=$(map -q "$key" lmdb:"$work/h/src"); got_status=$?
		expect_output "-n -q $key" "$want" "$got"
		expect_status "-n -q $key exit" "$want_status" "$got_status"
		cross=$(pmap -q "$key" lmdb:"$work/h/src")
		expect_output "-n postmap reads ours: $key" "$want" "$cross"
	done
	# Deleting and inserting, the same way.
	pmap lmdb:"$work/p/src" 2> /dev/null
	map lmdb:"$work/h/src" 2> /dev/null
	for key in EXAMPLE.COM example.com nothing; do
		pmap -d "$key" lmdb:"$work/p/src"; want_status=$?
		map -d "$key" lmdb:"$work/h/src"; got_status=$?
		expect_status "-d $key exit" "$want_status" "$got_status"
	done
	printf 'alias\nnone\n' | pmap -d - lmdb:"$work/p/src"; want_status=$?
	printf 'alias\nnone\n' | map -d - lmdb:"$work/h/src"; got_status=$?
	expect_status "-d - exit" "$want_status" "$got_status"
	input='New.Key   new value
duplicate  not replaced
added      one
   continued'
	printf '%s\n' "$input" | pmap -i lmdb:"$work/p/src" 2> /dev/null; want_status=$?
	printf '%s\n' "$input" | map -i lmdb:"$work/h/src" 2> "$work/err"; got_status=$?
	expect_status "-i exit" "$want_status" "$got_status"
	expect_contains "-i duplicate warned" 'stdin, line 2: duplicate entry: "duplicate"' \
		"$(cat "$work/err")"
	printf 'duplicate replaced\n' | pmap -i -r lmdb:"$work/p/src"
	printf 'duplicate replaced\n' | map -i -r lmdb:"$work/h/src"
	printf 'added not-again\n' | pmap -i -w lmdb:"$work/p/src"
	printf 'added not-again\n' | map -i -w lmdb:"$work/h/src" 2> "$work/err"
	expect_output "-w is quiet" "" "$(cat "$work/err")"
	want=$(pmap -s lmdb:"$work/p/src" | LC_ALL=C sort)
	got=$(map -s lmdb:"$work/h/src" | LC_ALL=C sort)
	expect_output "-s after -d and -i" "$want" "$got"
	# -i on a table that does not exist makes it.
	printf 'a b\n' | pmap -i lmdb:"$work/p/fresh"
	printf 'a b\n' | map -i lmdb:"$work/h/fresh"
	expect_output "-i creates" "$(pmap -s lmdb:"$work/p/fresh")" "$(map -s lmdb:"$work/h/fresh")"
else
	map -s lmdb:"$work/h/src" > /dev/null
	expect_status "-s" 0 $?
fi

# Tables are replaced, never changed in place: a reader that opened the
# old file keeps a consistent view, and the inode changes.
printf 'a 1\n' > "$work/h/swap"
map lmdb:"$work/h/swap"
before=$(ls -i "$work/h/swap.lmdb" | cut -d' ' -f1)
printf 'a 2\n' > "$work/h/swap"
map lmdb:"$work/h/swap"
after=$(ls -i "$work/h/swap.lmdb" | cut -d' ' -f1)
[ "$before" != "$after" ] && pass || fail "rebuild makes a new file"
expect_output "rebuilt value" "2" "$(map -q a lmdb:"$work/h/swap")"

# A bad source: every bad line named, exit 2, the table untouched.
cp "$work/h/swap.lmdb" "$work/swap.before"
cat > "$work/h/swap" <<'EOF'
good value
keyonly
  # a comment
another good
   leading-blank-continues another
EOF
printf 'nul\000byte here\n' >> "$work/h/swap"
err=$(map lmdb:"$work/h/swap" 2>&1)
expect_status "bad source exit" 2 $?
expect_contains "bad line named" "$work/h/swap, line 2: expected format: key whitespace value" "$err"
expect_contains "NUL named" "$work/h/swap, line 6: NUL byte in line" "$err"
expect_contains "bad source fatal" "fatal: $work/h/swap: 2 bad lines; $work/h/swap.lmdb not changed" "$err"
cmp -s "$work/swap.before" "$work/h/swap.lmdb" && pass || fail "bad source leaves the table"
expect_output "bad source: old value still there" "2" "$(map -q a lmdb:"$work/h/swap")"
printf 'x y\nbad\n' | map -i lmdb:"$work/h/swap" 2> "$work/err"
expect_status "bad -i input exit" 2 $?
cmp -s "$work/swap.before" "$work/h/swap.lmdb" && pass || fail "bad -i input leaves the table"
printf '%0600d value\n' 1 > "$work/h/longkey"
err=$(map lmdb:"$work/h/longkey" 2>&1)
expect_status "key too long for lmdb" 2 $?
expect_contains "key too long named" "$work/h/longkey, line 1: key of 600 bytes" "$err"

# A missing table is an error, never "not found".
err=$(map -q a lmdb:"$work/h/missing" 2>&1)
expect_status "missing table exit" 2 $?
expect_output "missing table message" \
	"hikyaku: fatal: open $work/h/missing.lmdb: No such file or directory" "$err"
err=$(map lmdb:"$work/h/missing" 2>&1)
expect_status "missing source exit" 2 $?
expect_output "missing source message" \
	"hikyaku: fatal: open $work/h/missing: No such file or directory" "$err"
err=$(map -d a lmdb:"$work/h/missing" 2>&1)
expect_status "-d on missing table" 2 $?
[ ! -e "$work/h/missing.lmdb" ] && pass || fail "-d does not create a table"
err=$(map -s lmdb:"$work/h/missing" 2>&1)
expect_status "-s on missing table" 2 $?
printf 'a b\n' > "$work/h/pcre"
err=$(map pcre:"$work/h/pcre" 2>&1)
expect_status "build of a type without index" 2 $?
expect_contains "build of a type without index says so" "building pcre tables is not supported" "$err"
map -q a -s lmdb:"$work/h/swap" 2> /dev/null
expect_status "-q with -s" 2 $?
map > /dev/null 2>&1
expect_status "no table named" 2 $?

# The type comes from default_database_type; hash means lmdb.
printf 'k v\n' > "$work/h/plain"
printf 'default_database_type = hash\n' > "$etc/main.cf"
map "$work/h/plain"
expect_status "default type build" 0 $?
expect_output "default type query" "v" "$(map -q k "$work/h/plain")"
: > "$etc/main.cf"

# Modes: a new table takes its source's; -p gives 0644; a table that exists keeps its own.
printf 'k v\n' > "$work/h/secret"
chmod 600 "$work/h/secret"
map lmdb:"$work/h/secret"
expect_output "mode from source" "-rw-------" "$(ls -l "$work/h/secret.lmdb" | cut -c1-10)"
chmod 640 "$work/h/secret.lmdb"
map lmdb:"$work/h/secret"
expect_output "mode kept on rebuild" "-rw-r-----" "$(ls -l "$work/h/secret.lmdb" | cut -c1-10)"
rm "$work/h/secret.lmdb"
map -p lmdb:"$work/h/secret"
expect_output "-p mode" "-rw-r--r--" "$(ls -l "$work/h/secret.lmdb" | cut -c1-10)"

# Run by root on a user's source, the table belongs to that user (-o: root).
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
	chmod 711 "$work"
	mkdir "$work/user"
	printf 'k v\n' > "$work/user/table"
	chown -R nobody "$work/user"
	map lmdb:"$work/user/table"
	expect_output "built as the source's owner" "nobody" \
		"$(ls -l "$work/user/table.lmdb" | awk '{print $3}')"
	printf 'k2 v2\n' | map -i lmdb:"$work/user/table"
	expect_output "-i as the source's owner" "nobody" \
		"$(ls -l "$work/user/table.lmdb" | awk '{print $3}')"
	rm "$work/user/table.lmdb"
	map -o lmdb:"$work/user/table"
	expect_output "-o stays root" "root" "$(ls -l "$work/user/table.lmdb" | awk '{print $3}')"
	# A reader that is not the owner reads the table without writing anything.
	chmod 755 "$work/user"
	out=$(su nobody -s /bin/sh -c "'$HIKYAKU' -c '$etc' map -q k lmdb:'$work/user/table'" 2>&1)
	expect_output "another user reads" "v" "$out"
fi

# Concurrent writers: two loops adding different keys with -i, a loop
# rebuilding, and a reader that must always find its key. With the lock
# no update is lost; with the rename no reader sees a half-built table.
printf 'stable here\n' > "$work/h/busy"
i=0
while [ $i -lt 2000 ]; do echo "filler$i value $i"; i=$((i + 1)); done >> "$work/h/busy"
map lmdb:"$work/h/busy"
writer() {
	n=0
	while [ $n -lt 40 ]; do
		printf '%s%d value\n' "$1" "$n" | map -i lmdb:"$work/h/busy" || echo "writer $1 failed"
		n=$((n + 1))
	done
}
reader() {
	n=0
	while [ $n -lt 150 ]; do
		out=$(map -q stable lmdb:"$work/h/busy") || echo "reader failed: $out"
		[ "$out" = here ] || echo "reader saw: $out"
		n=$((n + 1))
	done
}
writer a > "$work/writer-a" 2>&1 &
pid_a=$!
writer b > "$work/writer-b" 2>&1 &
pid_b=$!
reader > "$work/reader" 2>&1 &
pid_r=$!
wait $pid_a $pid_b $pid_r
expect_output "writer a clean" "" "$(cat "$work/writer-a")"
expect_output "writer b clean" "" "$(cat "$work/writer-b")"
expect_output "reader always found its key" "" "$(cat "$work/reader")"
count=$(map -s lmdb:"$work/h/busy" | grep -c '^[ab][0-9]*	value$')
expect_output "no update lost" "80" "$count"
count=$(map -s lmdb:"$work/h/busy" | wc -l)
expect_output "table whole" "2081" "$count"
# Two builds at once, with a -d between: the table is one of them, whole.
map lmdb:"$work/h/busy" & pid_a=$!
map lmdb:"$work/h/busy" & pid_b=$!
map -d filler7 lmdb:"$work/h/busy" & pid_r=$!
wait $pid_a $pid_b $pid_r
count=$(map -s lmdb:"$work/h/busy" | wc -l)
case $count in 2000 | 2001) pass ;; *) fail "concurrent builds: $count entries" ;; esac
out=$(ls "$work/h" | grep -c '\.tmp\.')
expect_output "no temporary files after concurrent runs" "0" "$out"

finish
