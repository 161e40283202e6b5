#!/bin/sh
# smtpd's DNS restrictions against a real DNS server: dnsmasq serving a
# test zone inside a network namespace this test makes (its
# /etc/netns/NAME/resolv.conf is the resolver's). reject_rbl_client with
# and without a filter and its TXT reason, reject_rhsbl_sender,
# reject_unknown_sender_domain / _recipient_domain (MX, A only, null MX,
# NXDOMAIN, a temporary failure as defer_if_permit), and
# reject_unknown_helo_hostname. The replies are Postfix's, checked whole.
# Root only (namespaces); exits 77 otherwise.
. "$SOURCE_DIR/tests/cmd/support/lib.sh"
: "${SMTPD_CHECK_PROBE:?SMTPD_CHECK_PROBE must name the smtpd_check_probe driver}"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root for ip netns"
	exit 77
fi
dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$dnsmasq" ] || { echo "FAIL: dnsmasq is not installed" >&2; exit 1; }

namespace=hk-check-$$
dnsmasq_pid=
cleanup() {
	if [ -n "$dnsmasq_pid" ]; then
		kill "$dnsmasq_pid" 2>/dev/null
		wait "$dnsmasq_pid" 2>/dev/null
	fi
	ip netns del "$namespace" 2>/dev/null
	rm -rf "/etc/netns/$namespace" "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$namespace" || { echo "FAIL: ip netns add" >&2; exit 1; }
ip -n "$namespace" link set lo up
mkdir -p "/etc/netns/$namespace"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
	>"/etc/netns/$namespace/resolv.conf"

ip netns exec "$namespace" "$dnsmasq" --no-daemon --no-resolv --no-hosts \
	--listen-address=127.0.0.1 --bind-interfaces --port=53 \
	--pid-file="$work/dnsmasq.pid" --log-facility="$work/dnsmasq.log" \
	--local=/example.test/ --local=/in-addr.arpa/ \
	--mx-host=good.example.test,mx.good.example.test,10 \
	--host-record=mx.good.example.test,192.0.2.1 \
	--host-record=aonly.example.test,192.0.2.2 \
	--host-record=helo.example.test,192.0.2.3 \
	--mx-host=nullmx.example.test,.,0 \
	--host-record=2.0.0.127.rbl.example.test,127.0.0.2 \
	--txt-record=2.0.0.127.rbl.example.test,"Listed by the test list" \
	--host-record=3.0.0.127.rbl.example.test,127.0.0.10 \
	--host-record=bad.example.test.rhsbl.example.test,127.0.0.2 \
	>"$work/dnsmasq.out" 2>&1 &
dnsmasq_pid=$!

cat >"$work/main.cf" <<CONF
myhostname = mail.example.org
mydestination = \$myhostname
mynetworks = 127.0.0.1/32
local_recipient_maps =
alias_maps =
CONF

# probe SETTINGS... -- STAGE ADDRESS NAME HELO SENDER RECIPIENT
probe() {
	ip netns exec "$namespace" "$SMTPD_CHECK_PROBE" -c "$work" "$@" 2>"$work/probe.err"
}

# Wait (bounded) until dnsmasq answers.
tries=0
until [ "$(probe -o smtpd_client_restrictions='reject_rbl_client rbl.example.test' \
	rcpt 127.0.0.2 unknown h s@good.example.test u@mail.example.org)" != "0" ]; do
	tries=$((tries + 1))
	if [ "$tries" -ge 50 ] || ! kill -0 "$dnsmasq_pid" 2>/dev/null; then
		echo "FAIL: dnsmasq did not start" >&2
		cat "$work/dnsmasq.out" "$work/dnsmasq.log" "$work/probe.err" >&2
		exit 1
	fi
	sleep 0.1
done

rbl() {
	probe -o smtpd_client_restrictions="reject_rbl_client $1" rcpt "$2" unknown h \
		s@good.example.test u@mail.example.org
}
expect_output "listed client" \
	"554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.example.test; Listed by the test list" \
	"$(rbl rbl.example.test 127.0.0.2)"
expect_contains "log line" \
	"reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.example.test;" \
	"$(cat "$work/probe.err")"
expect_output "unlisted client" "0" "$(rbl rbl.example.test 127.0.0.4)"
expect_output "filter that matches" \
	"554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.example.test; Listed by the test list" \
	"$(rbl rbl.example.test=127.0.0.2 127.0.0.2)"
expect_output "filter that does not match" "0" "$(rbl rbl.example.test=127.0.0.2 127.0.0.3)"
expect_output "filter range" \
	"554 5.7.1 Service unavailable; Client host [127.0.0.3] blocked using rbl.example.test" \
	"$(rbl 'rbl.example.test=127.0.0.[2..11]' 127.0.0.3)"
expect_output "maps_rbl_reject_code" \
	"450 4.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.example.test; Listed by the test list" \
	"$(probe -o smtpd_client_restrictions='reject_rbl_client rbl.example.test' \
		-o maps_rbl_reject_code=450 rcpt 127.0.0.2 unknown h s@good.example.test \
		u@mail.example.org)"
printf '%s\n' 'rbl.example.test $rbl_code 5.7.9 go away, $rbl_what is listed${rbl_reason?: $rbl_reason}' \
	>"$work/rbl_replies"
expect_output "rbl_reply_maps" \
	"554 5.7.9 go away, 127.0.0.2 is listed: Listed by the test list" \
	"$(probe -o smtpd_client_restrictions='reject_rbl_client rbl.example.test' \
		-o rbl_reply_maps="texthash:$work/rbl_replies" rcpt 127.0.0.2 unknown h \
		s@good.example.test u@mail.example.org)"
# A block list that cannot answer lets mail through.
expect_output "RBL temporary failure" "0" "$(rbl rbl.outside.invalid 127.0.0.2)"

expect_output "rhsbl sender" \
	"554 5.7.1 Service unavailable; Sender address [bad.example.test] blocked using rhsbl.example.test" \
	"$(probe -o smtpd_sender_restrictions='reject_rhsbl_sender rhsbl.example.test' \
		rcpt 127.0.0.9 unknown h u@bad.example.test u@mail.example.org)"
expect_output "rhsbl sender not listed" "0" \
	"$(probe -o smtpd_sender_restrictions='reject_rhsbl_sender rhsbl.example.test' \
		rcpt 127.0.0.9 unknown h u@good.example.test u@mail.example.org)"

sender() {
	probe -o smtpd_sender_restrictions=reject_unknown_sender_domain "$@" rcpt 127.0.0.9 \
		unknown h "$sender" u@mail.example.org
}
sender=u@good.example.test
expect_output "sender with MX" "0" "$(sender)"
sender=u@aonly.example.test
expect_output "sender with A only" "0" "$(sender)"
sender=u@nx.example.test
expect_output "sender NXDOMAIN" \
	"450 4.1.8 <u@nx.example.test>: Sender address rejected: Domain not found" "$(sender)"
expect_output "sender NXDOMAIN 550" \
	"550 5.1.8 <u@nx.example.test>: Sender address rejected: Domain not found" \
	"$(sender -o unknown_address_reject_code=550)"
sender=u@nullmx.example.test
expect_output "sender null MX" \
	"550 5.7.27 <u@nullmx.example.test>: Sender address rejected: Domain nullmx.example.test does not accept mail (nullMX)" \
	"$(sender)"
sender=u@outside.invalid
expect_output "sender temporary failure" \
	"450 4.1.8 <u@outside.invalid>: Sender address rejected: Domain not found" "$(sender)"
sender='<>'
expect_output "null sender" "0" "$(sender)"
sender=u@mail.example.org
expect_output "our own domain is not looked up" "0" "$(sender)"
# defer_if_permit: a later reject wins over the temporary doubt.
expect_output "defer_if_permit loses to a reject" \
	"554 5.7.1 <u@mail.example.org>: Recipient address rejected: Access denied" \
	"$(probe -o smtpd_sender_restrictions=reject_unknown_sender_domain \
		-o smtpd_recipient_restrictions=reject rcpt 127.0.0.9 unknown h u@outside.invalid \
		u@mail.example.org)"

expect_output "recipient NXDOMAIN" \
	"450 4.1.2 <u@nx.example.test>: Recipient address rejected: Domain not found" \
	"$(probe -o smtpd_recipient_restrictions=reject_unknown_recipient_domain \
		rcpt 127.0.0.1 unknown h s@good.example.test u@nx.example.test)"
expect_output "recipient null MX" \
	"556 5.1.10 <u@nullmx.example.test>: Recipient address rejected: Domain nullmx.example.test does not accept mail (nullMX)" \
	"$(probe -o smtpd_recipient_restrictions=reject_unknown_recipient_domain \
		rcpt 127.0.0.1 unknown h s@good.example.test u@nullmx.example.test)"

helo() {
	probe -o smtpd_helo_restrictions=reject_unknown_helo_hostname rcpt 127.0.0.9 unknown \
		"$1" s@good.example.test u@mail.example.org
}
expect_output "HELO that resolves" "0" "$(helo helo.example.test)"
expect_output "HELO that does not" \
	"450 4.7.1 <nohost.example.test>: Helo command rejected: Host not found" \
	"$(helo nohost.example.test)"
expect_output "HELO address literal" "0" "$(helo '[192.0.2.9]')"

finish
