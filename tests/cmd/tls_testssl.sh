#!/bin/sh
# testssl.sh (Debian package testssl.sh) audits lib/tls's default server
# settings over STARTTLS in a minimal SMTP dialogue (tests/cmd/support/
# tls_echo.c -s): protocols (-p), cipher categories (-s: NULL, anonymous,
# export, LOW, 3DES would be HIGH or CRITICAL) and the known
# vulnerabilities (-U). No finding may be rated HIGH or CRITICAL; TLS 1.0
# and 1.1 must not be offered. (-S and -P take a minute each on a loaded
# machine; tests/cmd/tls_openssl.sh checks the preference and key exchange.)
# The test CA is added to testssl's trust store (--add-ca), and DNS is not
# used (--nodns min), so only 127.0.0.1 is contacted.
. "$(dirname "$0")/support/lib.sh"
testssl=$(command -v testssl || command -v testssl.sh)
if [ -z "$testssl" ]; then
	fail "testssl is not installed (tools/packages-test.txt lists testssl.sh)"
	finish
	exit 1
fi
. "$(dirname "$0")/support/tls_lib.sh"

start_echo smtp -s -C "$certs/server.pem" -K "$certs/server.key"
HOME=$work timeout 110 "$testssl" --quiet --color 0 --warnings off --nodns min \
	--add-ca "$certs/ca.pem" --jsonfile "$work/testssl.json" --starttls smtp \
	-p -s -U "127.0.0.1:$port" > "$work/testssl.out" 2>&1
status=$?
# testssl's exit status counts findings and failures alike; judge the JSON.
if [ "$status" -ge 124 ] || [ ! -s "$work/testssl.json" ]; then
	fail "testssl did not finish (status $status)"
	tail -20 "$work/testssl.out" >&2
fi
out=$(/usr/bin/python3 - "$work/testssl.json" <<'EOF'
import json, sys
findings = {item["id"]: item for item in json.load(open(sys.argv[1]))}
def show(name):
    item = findings.get(name)
    print("%s: %s" % (name, item["finding"] if item else "missing"))
for name in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "cipherlist_NULL",
             "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA",
             "secure_client_renego", "heartbleed", "CRIME_TLS", "SWEET32", "LOGJAM", "BEAST"):
    show(name)
for item in findings.values():
    if item["severity"] in ("HIGH", "CRITICAL"):
        print("%s finding %s: %s" % (item["severity"], item["id"], item["finding"]))
EOF
)
expect_contains "SSLv2 not offered" "SSLv2: not offered" "$out"
expect_contains "SSLv3 not offered" "SSLv3: not offered" "$out"
expect_contains "TLS 1.0 not offered" "TLS1: not offered" "$out"
expect_contains "TLS 1.1 not offered" "TLS1_1: not offered" "$out"
expect_contains "TLS 1.2 offered" "TLS1_2: offered" "$out"
expect_contains "TLS 1.3 offered" "TLS1_3: offered" "$out"
expect_contains "no NULL ciphers" "cipherlist_NULL: not offered" "$out"
expect_contains "no anonymous ciphers" "cipherlist_aNULL: not offered" "$out"
expect_contains "no export ciphers" "cipherlist_EXPORT: not offered" "$out"
expect_contains "no 3DES" "cipherlist_3DES_IDEA: not offered" "$out"
expect_contains "no client renegotiation" "secure_client_renego: not vulnerable" "$out"
expect_contains "no heartbleed" "heartbleed: not vulnerable" "$out"
case $out in
*"HIGH finding"* | *"CRITICAL finding"*)
	fail "testssl reports HIGH or CRITICAL findings"
	printf '%s\n' "$out" >&2
	;;
*) pass ;;
esac
check_sanitizer_logs
finish
