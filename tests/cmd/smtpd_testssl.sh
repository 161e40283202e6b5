#!/bin/sh
# testssl.sh (Debian package testssl.sh) audits smtpd's STARTTLS as
# configured by a plain main.cf (a certificate and
# smtpd_tls_security_level = may, every other TLS parameter at its
# default): protocols (-p), cipher categories (-s) and the known
# vulnerabilities (-U). No finding may be rated HIGH or CRITICAL, and
# SSLv2/SSLv3 must not be offered. DNS is not used (--nodns min).
. "$(dirname "$0")/support/lib.sh"
testssl=$(command -v testssl || command -v testssl.sh)
if [ -z "$testssl" ]; then
	fail "testssl is not installed (tools/packages-test.txt lists testssl.sh)"
	finish
	exit 1
fi
. "$(dirname "$0")/support/smtpd_lib.sh"
certs=$work/certs
sh "$SOURCE_DIR/tests/cmd/support/make_test_certs.sh" "$certs" > /dev/null 2>&1 || exit 1
chmod 644 "$certs"/*
cat >> "$etc/main.cf" <<CF
smtpd_tls_cert_file = $certs/server.pem
smtpd_tls_key_file = $certs/server.key
smtpd_tls_security_level = may
CF
smtpd_master_cf
smtpd_start || { finish; exit 1; }

HOME=$work timeout 110 "$testssl" --quiet --color 0 --warnings off --nodns min \
	--add-ca "$certs/ca.pem" --jsonfile "$work/testssl.json" --starttls smtp \
	-p -s -U "127.0.0.1:$port" > "$work/testssl.out" 2>&1
status=$?
if [ "$status" -ge 124 ] || [ ! -s "$work/testssl.json" ]; then
	fail "testssl did not finish (status $status)"
	tail -20 "$work/testssl.out" >&2
fi
out=$(/usr/bin/python3 - "$work/testssl.json" <<'PY'
import json, sys
findings = {item["id"]: item for item in json.load(open(sys.argv[1]))}
for name in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "cipherlist_NULL",
             "cipherlist_aNULL", "cipherlist_EXPORT", "heartbleed", "secure_client_renego"):
    item = findings.get(name)
    print("%s: %s" % (name, item["finding"] if item else "missing"))
for item in findings.values():
    if item["severity"] in ("HIGH", "CRITICAL"):
        print("%s finding %s: %s" % (item["severity"], item["id"], item["finding"]))
PY
)
expect_contains "SSLv2 not offered" "SSLv2: not offered" "$out"
expect_contains "SSLv3 not offered" "SSLv3: not offered" "$out"
expect_contains "TLS 1.2 offered" "TLS1_2: offered" "$out"
expect_contains "TLS 1.3 offered" "TLS1_3: offered" "$out"
expect_contains "no NULL ciphers" "cipherlist_NULL: not offered" "$out"
expect_contains "no anonymous ciphers" "cipherlist_aNULL: not offered" "$out"
expect_contains "no export ciphers" "cipherlist_EXPORT: not offered" "$out"
expect_contains "no heartbleed" "heartbleed: not vulnerable" "$out"
case $out in
*"HIGH finding"* | *"CRITICAL finding"*)
	fail "testssl reports HIGH or CRITICAL findings"
	printf '%s\n' "$out" >&2
	;;
*) pass ;;
esac
# The server stayed sane through all of testssl's probes.
out=$(swaks_run --tls --from a@example.org --to "$rcpt" --body "after testssl")
expect_contains "mail after testssl" "250 2.0.0 Ok: queued as" "$out"
[ "$failed" -gt 0 ] && printf '%s\n' "$out" >&2
smtpd_finish
