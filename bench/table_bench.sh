#!/bin/sh
# table_bench - build a 1,000,000-entry table and run 1,000,000 random
# lookups with `hikyaku map` and with Postfix's postmap (lmdb: and hash:),
# in the same run on the same machine, and print the times and ratios.
#
#   sh bench/table_bench.sh [BUILD_DIR]      (default: build)
#   HIKYAKU=/path/to/hikyaku sh bench/table_bench.sh
#   COUNT=100000 sh bench/table_bench.sh     (a smaller run)
#
# Needs Debian's postfix and postfix-lmdb. Every command is bounded by
# `timeout`; the whole run takes well under two minutes here.
set -eu

build_dir=${1:-build}
HIKYAKU=${HIKYAKU:-$build_dir/cmd/hikyaku}
COUNT=${COUNT:-1000000}
LIMIT=${LIMIT:-300} # seconds, per command
postmap=$(command -v postmap || echo /usr/sbin/postmap)

[ -x "$HIKYAKU" ] || { echo "no hikyaku at $HIKYAKU (give a build directory)" >&2; exit 2; }
[ -x "$postmap" ] || { echo "no postmap: apt-get install postfix postfix-lmdb" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/table-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/etc" "$work/pf" "$work/hikyaku" "$work/lmdb" "$work/hash"
: > "$work/etc/main.cf"
: > "$work/pf/main.cf"

# Unique keys in scrambled order (i * 999983 mod COUNT is a permutation
# when COUNT has no factor 999983), like real address tables.
awk -v count="$COUNT" 'BEGIN {
	for (i = 0; i < count; i++) {
		n = (i * 999983) % count
		printf "user%07d@example%d.com smtp:[relay%d.example.net]:587\n", n, n % 1000, n % 97
	}
}' > "$work/hikyaku/source"
cp "$work/hikyaku/source" "$work/lmdb/source"
cp "$work/hikyaku/source" "$work/hash/source"
# Lookups: random keys, one in ten absent, mixed case as mail brings them.
awk -v count="$COUNT" 'BEGIN {
	srand(42)
	for (i = 0; i < count; i++) {
		n = int(rand() * count)
		if (i % 10 == 9)
			printf "nobody%07d@example%d.com\n", n, n % 1000
		else if (i % 10 == 5)
			printf "USER%07d@Example%d.COM\n", n, n % 1000
		else
			printf "user%07d@example%d.com\n", n, n % 1000
	}
}' > "$work/keys"

# seconds COMMAND...: run it (bounded), print the elapsed seconds.
seconds() {
	start=$(date +%s.%N)
	timeout "$LIMIT" "$@" || [ $? -eq 1 ] # -q - exits 1 when nothing was found
	end=$(date +%s.%N)
	echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }'
}

sync
build_hikyaku=$(seconds "$HIKYAKU" -c "$work/etc" map lmdb:"$work/hikyaku/source")
build_lmdb=$(seconds "$postmap" -c "$work/pf" lmdb:"$work/lmdb/source")
build_hash=$(seconds "$postmap" -c "$work/pf" hash:"$work/hash/source")
query_hikyaku=$(seconds sh -c '"$1" -c "$2" map -q - lmdb:"$3" < "$4" > /dev/null' sh \
	"$HIKYAKU" "$work/etc" "$work/hikyaku/source" "$work/keys")
query_lmdb=$(seconds sh -c '"$1" -c "$2" -q - lmdb:"$3" < "$4" > /dev/null' sh \
	"$postmap" "$work/pf" "$work/lmdb/source" "$work/keys")
query_hash=$(seconds sh -c '"$1" -c "$2" -q - hash:"$3" < "$4" > /dev/null' sh \
	"$postmap" "$work/pf" "$work/hash/source" "$work/keys")

# The answers must agree (checked outside the timings).
found_hikyaku=$("$HIKYAKU" -c "$work/etc" map -q - lmdb:"$work/hikyaku/source" < "$work/keys" | cksum)
found_lmdb=$("$postmap" -c "$work/pf" -q - lmdb:"$work/lmdb/source" < "$work/keys" | cksum)
[ "$found_hikyaku" = "$found_lmdb" ] && agree=yes || agree=NO

size() { ls -l "$1" | awk '{ printf "%.0f MB", $5 / 1000000 }'; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2fx", $1 / $2; else print "-" }'; }

echo "table benchmark: $COUNT entries, $COUNT lookups ($(nproc) CPUs, $(uname -r))"
printf '%-28s %10s %10s %12s\n' "" "build s" "lookups s" "file"
printf '%-28s %10s %10s %12s\n' "hikyaku map lmdb:" "$build_hikyaku" "$query_hikyaku" \
	"$(size "$work/hikyaku/source.lmdb")"
printf '%-28s %10s %10s %12s\n' "postmap lmdb:" "$build_lmdb" "$query_lmdb" \
	"$(size "$work/lmdb/source.lmdb")"
printf '%-28s %10s %10s %12s\n' "postmap hash:" "$build_hash" "$query_hash" \
	"$(size "$work/hash/source.db")"
echo "speed-up over postmap lmdb: build $(ratio "$build_lmdb" "$build_hikyaku")," \
	"lookups $(ratio "$query_lmdb" "$query_hikyaku")"
echo "speed-up over postmap hash: build $(ratio "$build_hash" "$build_hikyaku")," \
	"lookups $(ratio "$query_hash" "$query_hikyaku")"
echo "same answers as postmap lmdb: $agree"
