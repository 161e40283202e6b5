#!/bin/sh
# lib/dns against a real DNS server: dnsmasq serving a test zone inside a
# network namespace this test makes, where /etc/netns/NAME/resolv.conf
# becomes the resolver's /etc/resolv.conf. Checks MX order (equal
# preferences in random order), the A fallback case, a null MX, NXDOMAIN,
# a refused name as a temporary failure, TXT, PTR and forward-confirmed
# names; then a hostile server's broken replies, each a temporary failure.
# Root only (namespaces); exits 77 otherwise.
. "$SOURCE_DIR/tests/cmd/support/lib.sh"
: "${DNS_PROBE:?DNS_PROBE must name the dns_probe driver}"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root for ip netns"
	exit 77
fi
dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$dnsmasq" ] || { echo "FAIL: dnsmasq is not installed" >&2; exit 1; }

namespace=hk-dns-$$
hostile_namespace=hk-dnsbad-$$
dnsmasq_pid=
hostile_pid=
cleanup() {
	for server in $dnsmasq_pid $hostile_pid; do
		kill "$server" 2>/dev/null
		wait "$server" 2>/dev/null
	done
	ip netns del "$namespace" 2>/dev/null
	ip netns del "$hostile_namespace" 2>/dev/null
	rm -rf "/etc/netns/$namespace" "/etc/netns/$hostile_namespace" "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$namespace" || { echo "FAIL: ip netns add" >&2; exit 1; }
ip -n "$namespace" link set lo up
mkdir -p "/etc/netns/$namespace"
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' \
	>"/etc/netns/$namespace/resolv.conf"

# --local makes dnsmasq answer NXDOMAIN itself for names it lacks in those
# zones; any other name is refused (no upstream servers).
ip netns exec "$namespace" "$dnsmasq" --no-daemon --no-resolv --no-hosts \
	--listen-address=127.0.0.1 --bind-interfaces --port=53 \
	--pid-file="$work/dnsmasq.pid" --log-facility="$work/dnsmasq.log" \
	--local=/example.test/ --local=/in-addr.arpa/ --local=/ip6.arpa/ \
	--mx-host=example.test,mx1.example.test,10 \
	--mx-host=example.test,mx2.example.test,20 \
	--mx-host=example.test,mx3.example.test,10 \
	--host-record=mx1.example.test,192.0.2.1,2001:db8::1 \
	--host-record=mx2.example.test,192.0.2.2 \
	--host-record=mx3.example.test,192.0.2.3 \
	--host-record=nomx.example.test,192.0.2.50 \
	--mx-host=nullmx.example.test,.,0 \
	--dns-rr=rawnullmx.example.test,15,000000 \
	--txt-record=2.0.0.127.rbl.example.test,"Listed by the test list" \
	--host-record=2.0.0.127.rbl.example.test,127.0.0.2 \
	--ptr-record=99.2.0.192.in-addr.arpa,liar.example.test \
	--host-record=liar.example.test,192.0.2.98 >"$work/dnsmasq.out" 2>&1 &
dnsmasq_pid=$!

probe() {
	ip netns exec "$namespace" "$DNS_PROBE" "$@" 2>&1
}

# Wait (bounded) until dnsmasq answers.
tries=0
until probe a mx1.example.test >/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -ge 50 ] || ! kill -0 "$dnsmasq_pid" 2>/dev/null; then
		echo "FAIL: dnsmasq did not start" >&2
		cat "$work/dnsmasq.out" "$work/dnsmasq.log" >&2
		exit 1
	fi
	sleep 0.1
done

# MX: lowest preference first, the two equal ones in either order.
first_mx1=0
first_mx3=0
for round in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24; do
	output=$(probe mx example.test)
	case "$output" in
	"MX 10 mx1.example.test
MX 10 mx3.example.test
MX 20 mx2.example.test") first_mx1=$((first_mx1 + 1)) ;;
	"MX 10 mx3.example.test
MX 10 mx1.example.test
MX 20 mx2.example.test") first_mx3=$((first_mx3 + 1)) ;;
	*) fail "MX order in round $round"; printf '%s\n' "$output" >&2 ;;
	esac
done
if [ "$first_mx1" -gt 0 ] && [ "$first_mx3" -gt 0 ]; then pass; else
	fail "equal preferences not shuffled: mx1 first $first_mx1 times, mx3 $first_mx3"
fi

# No MX: NOTFOUND, and the A record the caller falls back to.
output=$(probe mx nomx.example.test)
expect_status "no MX status" 1 $?
expect_output "no MX" "NOTFOUND: no MX record" "$output"
output=$(probe a nomx.example.test)
expect_status "A fallback status" 0 $?
expect_output "A fallback" "A 192.0.2.50" "$output"

# Null MX, from dnsmasq's own MX syntax and from raw rdata 0000 00.
expect_output "null MX" "NULLMX" "$(probe mx nullmx.example.test)"
expect_output "null MX from raw rdata" "NULLMX" "$(probe mx rawnullmx.example.test)"

# NXDOMAIN is NOTFOUND; a refused query is a temporary failure.
output=$(probe mx nowhere.example.test)
expect_status "NXDOMAIN status" 1 $?
expect_output "NXDOMAIN" "NOTFOUND: Host not found" "$output"
output=$(probe a outside.invalid)
expect_status "refused status" 2 $?
expect_contains "refused" "TEMPFAIL:" "$output"

# A, AAAA and TXT (the DNSBL pair: A 127.0.0.2 and its TXT reason).
expect_output "AAAA" "AAAA 2001:db8::1" "$(probe aaaa mx1.example.test)"
expect_output "DNSBL A" "A 127.0.0.2" "$(probe a 2.0.0.127.rbl.example.test)"
expect_output "TXT" "TXT Listed by the test list" "$(probe txt 2.0.0.127.rbl.example.test)"
output=$(probe txt mx2.example.test)
expect_status "no TXT status" 1 $?

# PTR and forward confirmation.
expect_output "PTR" "PTR mx1.example.test" "$(probe ptr 1.2.0.192.in-addr.arpa)"
expect_output "reverse" "NAME mx1.example.test" "$(probe reverse 192.0.2.1)"
expect_output "confirmed IPv4" "NAME mx1.example.test" "$(probe confirmed 192.0.2.1)"
expect_output "confirmed IPv6" "NAME mx1.example.test" "$(probe confirmed 2001:db8::1)"
expect_output "reverse of a liar" "NAME liar.example.test" "$(probe reverse 192.0.2.99)"
output=$(probe confirmed 192.0.2.99)
expect_status "not confirmed status" 1 $?
expect_output "not confirmed" \
	"NOTFOUND: hostname liar.example.test does not resolve to address 192.0.2.99" "$output"
output=$(probe confirmed 192.0.2.77)
expect_status "no PTR status" 1 $?
expect_output "no PTR" "NOTFOUND: Host not found" "$output"

# A hostile server (its own namespace and resolv.conf): every broken reply
# is a temporary failure with a reason, a name with control characters
# comes back escaped, and a good reply still works.
ip netns add "$hostile_namespace" || { echo "FAIL: ip netns add" >&2; exit 1; }
ip -n "$hostile_namespace" link set lo up
mkdir -p "/etc/netns/$hostile_namespace"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
	>"/etc/netns/$hostile_namespace/resolv.conf"
ip netns exec "$hostile_namespace" /usr/bin/python3 \
	"$SOURCE_DIR/tests/cmd/support/dns_hostile.py" 127.0.0.1 53 >"$work/hostile.out" 2>&1 &
hostile_pid=$!
hostile() {
	ip netns exec "$hostile_namespace" "$DNS_PROBE" "$@" 2>&1
}
tries=0
until hostile a good.bad.test >/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -ge 50 ] || ! kill -0 "$hostile_pid" 2>/dev/null; then
		echo "FAIL: the hostile server did not start" >&2
		cat "$work/hostile.out" >&2
		exit 1
	fi
	sleep 0.1
done
expect_output "hostile: good reply" "A 192.0.2.9" "$(hostile a good.bad.test)"
output=$(hostile mx loop.bad.test)
expect_status "hostile: pointer loop status" 2 $?
expect_output "hostile: pointer loop" "TEMPFAIL: malformed DNS reply: compression pointer loop" \
	"$output"
output=$(hostile a rdlength.bad.test)
expect_status "hostile: rdlength status" 2 $?
expect_output "hostile: rdlength" \
	"TEMPFAIL: malformed DNS reply: wrong rdata length 5 for A record" "$output"
output=$(hostile a short.bad.test)
expect_status "hostile: short status" 2 $?
expect_contains "hostile: short" "TEMPFAIL: malformed DNS reply" "$output"
output=$(hostile a overrun.bad.test)
expect_status "hostile: overrun status" 2 $?
expect_contains "hostile: overrun" "TEMPFAIL: malformed DNS reply: rdata length 300" "$output"
output=$(hostile a truncated.bad.test)
expect_status "hostile: truncated status" 2 $?
expect_contains "hostile: truncated" "TEMPFAIL:" "$output"
expect_output "hostile: control characters escaped" 'PTR a\013\010b\032c\..com' \
	"$(hostile ptr control.bad.test)"
if kill -0 "$hostile_pid" 2>/dev/null; then pass; else fail "the hostile server died early"; fi

finish
