# Shared helpers for the command tests (sourced, not run).
# Each test gets its own instance directory, removed at exit.
set -u
: "${HIKYAKU:?HIKYAKU must name the hikyaku binary}"
work=$(mktemp -d "${TMPDIR:-/tmp}/hikyaku-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect_output NAME EXPECTED_TEXT ACTUAL_TEXT
expect_output() {
	if [ "$2" = "$3" ]; then pass; else
		fail "$1"
		printf '%s\n' "--- expected" "$2" "--- actual" "$3" >&2
	fi
}

# expect_status NAME EXPECTED ACTUAL
expect_status() {
	if [ "$2" -eq "$3" ]; then pass; else fail "$1: exit status $3, expected $2"; fi
}

# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
	case "$3" in
	*"$2"*) pass ;;
	*) fail "$1: output lacks \"$2\""; printf '%s\n' "--- output" "$3" >&2 ;;
	esac
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
