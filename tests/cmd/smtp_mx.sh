#!/bin/sh
# MX routing of the smtp delivery agent against a real DNS server:
# dnsmasq serves a test zone inside a network namespace this test makes
# (its /etc/resolv.conf comes from /etc/netns/NAME/), and the whole
# hikyaku instance and the receiving servers (aiosmtpd) run in there,
# on 127.0.0.x port 25. transport_maps sends the test domains to
# "smtp:" (next hop: the recipient domain, so MX lookups apply):
#   - the lowest preference is used first;
#   - when the primary MX refuses connections, the backup gets the mail;
#   - a domain without MX records gets it at its A record;
#   - a null MX (RFC 7505) bounces; a domain that does not exist bounces;
#   - the MX hosts' addresses come from DNS (lib/dns): a temporary DNS
#     failure on the only MX host's address defers (4.4.3) with the name
#     service error; with a backup MX whose address is known, the backup
#     gets the mail;
#   - smtp_host_lookup = dns (the default): a [host] next hop known only
#     from /etc/hosts bounces (5.4.4 Host not found), as with Postfix;
#     with "dns, native" (a master.cf -o override) it is delivered.
# Root only (namespaces); exits 77 otherwise.
. "$(dirname "$0")/support/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root for ip netns"; exit 77; fi
. "$(dirname "$0")/support/smtp_lib.sh"
dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$dnsmasq" ] || { echo "FAIL: dnsmasq is not installed" >&2; exit 1; }

namespace=hk-smtp-mx-$$
dnsmasq_pid=
mx_cleanup() {
	hk abort > /dev/null 2>&1
	[ -n "$dnsmasq_pid" ] && { kill "$dnsmasq_pid" 2>/dev/null; wait "$dnsmasq_pid" 2>/dev/null; }
	smtp_cleanup
	ip netns del "$namespace" 2>/dev/null
	rm -rf "/etc/netns/$namespace"
}
trap mx_cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$namespace" || { echo "FAIL: ip netns add" >&2; exit 1; }
ip -n "$namespace" link set lo up
mkdir -p "/etc/netns/$namespace"
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' > "/etc/netns/$namespace/resolv.conf"
# The namespace's /etc/hosts: a name the DNS does not know.
printf '127.0.0.1 localhost\n127.0.0.4 hostsonly.test\n' > "/etc/netns/$namespace/hosts"
in_ns() { ip netns exec "$namespace" "$@"; }

ip netns exec "$namespace" "$dnsmasq" --no-daemon --no-resolv --no-hosts --listen-address=127.0.0.1 \
	--bind-interfaces --port=53 --log-facility="$work/dnsmasq.log" \
	--local=/test/ \
	--mx-host=order.test,high.order.test,20 --mx-host=order.test,low.order.test,10 \
	--host-record=high.order.test,127.0.0.3 --host-record=low.order.test,127.0.0.4 \
	--mx-host=backup.test,down.backup.test,10 --mx-host=backup.test,up.backup.test,20 \
	--host-record=down.backup.test,127.0.0.2 --host-record=up.backup.test,127.0.0.3 \
	--host-record=amx.test,127.0.0.4 \
	--mx-host=nullmx.test,.,0 \
	--server=/tempfail.test/127.0.0.9 \
	--mx-host=tempmx.test,mx.tempfail.test,10 \
	--mx-host=mixmx.test,mx.tempfail.test,10 --mx-host=mixmx.test,up.backup.test,20 \
	> "$work/dnsmasq.out" 2>&1 &
dnsmasq_pid=$!

peer_prefix="ip netns exec $namespace"
start_peer sink three 127.0.0.3:25
three=$peer_dir
start_peer sink four 127.0.0.4:25
four=$peer_dir
make_smtp_instance "transport_maps = inline:{ {order.test = smtp:}, {backup.test = smtp:}, {amx.test = smtp:}, {nullmx.test = smtp:}, {nosuch.test = smtp:}, {tempmx.test = smtp:}, {mixmx.test = smtp:}, {dnsonly.test = smtp:[hostsonly.test]}, {native.test = native:[hostsonly.test]} }" \
	"maximal_backoff_time = 600s" "minimal_backoff_time = 600s"
echo "native    unix  -       -       n       -       -       smtp -o smtp_host_lookup=dns,native" >> "$etc/master.cf"
hk() { ip netns exec "$namespace" "$HIKYAKU" -c "$etc" "$@"; }
start_system

# 1. Lowest preference first: low.order.test (127.0.0.4).
submit user@order.test
if wait_for 20 logged "to=<user@order.test>, relay=low.order.test\[127.0.0.4\]:25, .*status=sent"; then pass; else fail "order.test not delivered to the lowest preference"; fi
expect_contains "at the low MX" "RCPT TO:<user@order.test>" "$(cat "$four"/*.env 2>/dev/null)"

# 2. The primary is down: the backup MX gets it.
submit user@backup.test
if wait_for 20 logged "to=<user@backup.test>, relay=up.backup.test\[127.0.0.3\]:25, .*status=sent"; then pass; else fail "backup MX not used"; fi
expect_contains "primary tried first" "connect to down.backup.test[127.0.0.2]:25: Connection refused" "$(cat "$log")"
expect_contains "at the backup" "RCPT TO:<user@backup.test>" "$(cat "$three"/*.env 2>/dev/null)"

# 3. No MX: the A record.
submit user@amx.test
if wait_for 20 logged "to=<user@amx.test>, relay=amx.test\[127.0.0.4\]:25, .*status=sent"; then pass; else fail "A fallback not used"; fi

# 4. Null MX and a domain that does not exist: bounced.
submit user@nullmx.test
if wait_for 20 logged "to=<user@nullmx.test>, relay=none, .*dsn=5.1.0, status=bounced (Domain nullmx.test does not accept mail (nullMX))"; then pass; else fail "null MX not bounced"; fi
submit user@nosuch.test
if wait_for 20 logged "to=<user@nosuch.test>, relay=none, .*dsn=5.4.4, status=bounced (Host or domain name not found."; then pass; else fail "missing domain not bounced"; fi

# 5. The only MX host's address lookup fails temporarily (its zone's
# server does not answer): deferred with the name service error.
submit user@tempmx.test
if wait_for 40 logged "to=<user@tempmx.test>, relay=none, .*dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=mx.tempfail.test type=A: "; then pass; else fail "DNS temporary failure on the MX host not deferred"; fi
expect_output "deferred, not bounced" 0 "$(grep -c 'to=<user@tempmx.test>, .*status=bounced' "$log")"

# 6. The same broken primary with a working backup MX: the backup.
submit user@mixmx.test
if wait_for 40 logged "to=<user@mixmx.test>, relay=up.backup.test\[127.0.0.3\]:25, .*status=sent"; then pass; else fail "backup MX not used after the primary's DNS failure"; fi
expect_contains "primary's failure logged" "MX host mx.tempfail.test: Host or domain name not found" "$(cat "$log")"

# 7. smtp_host_lookup: dns alone does not see /etc/hosts; dns,native does.
submit user@dnsonly.test
if wait_for 20 logged "to=<user@dnsonly.test>, relay=none, .*dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name=hostsonly.test type=A: Host not found"; then pass; else fail "/etc/hosts name used with smtp_host_lookup = dns"; fi
submit user@native.test
if wait_for 20 logged "to=<user@native.test>, relay=hostsonly.test\[127.0.0.4\]:25, .*status=sent"; then pass; else fail "smtp_host_lookup = dns, native did not use /etc/hosts"; fi
expect_contains "at hostsonly.test" "RCPT TO:<user@native.test>" "$(cat "$four"/*.env 2>/dev/null)"
check_sanitizer
finish
