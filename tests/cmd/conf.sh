#!/bin/sh
# hikyaku conf: show, expand and edit main.cf; list master.cf; as a
# Postfix administrator would use postconf.
. "$(dirname "$0")/support/lib.sh"

dir=$work/etc
mkdir -p "$dir"
: > "$dir/main.cf"
cat > "$dir/master.cf" <<'CF'
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       n       -       -       smtpd
submission inet n      -       n       -       -       smtpd
  -o syslog_name=hikyaku/submission
  -o { smtpd_relay_restrictions = permit_sasl_authenticated, reject }
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300?    1       qmgr
local     unix  -       n       n       -       -       local
CF

# Defaults, as postconf -d prints them.
out=$("$HIKYAKU" -c "$dir" conf -d myorigin mydestination maillog_file inet_interfaces)
expect_output "conf -d" 'myorigin = $myhostname
mydestination = $myhostname, localhost.$mydomain, localhost
maillog_file =
inet_interfaces = all' "$out"

# Every known parameter is printed once, sorted.
all=$("$HIKYAKU" -c "$dir" conf -d)
sorted=$(printf '%s\n' "$all" | LC_ALL=C sort -u)
expect_output "conf -d sorted and unique" "$sorted" "$all"
expect_contains "conf -d lists myhostname" "myhostname = " "$all"

cat > "$dir/main.cf" <<'CF'
# Site settings
myhostname = mail.example.com
# the domain
mydomain = example.com

myorigin = $mydomain
mynetworks = 127.0.0.0/8,
    [::1]/128
relay_note = ${relayhost?{via $relayhost}:{direct}}
CF

out=$("$HIKYAKU" -c "$dir" conf -n)
expect_output "conf -n" 'mydomain = example.com
myhostname = mail.example.com
mynetworks = 127.0.0.0/8, [::1]/128
myorigin = $mydomain
relay_note = ${relayhost?{via $relayhost}:{direct}}' "$out"

out=$("$HIKYAKU" -c "$dir" conf -h myorigin)
expect_output "conf -h" '$mydomain' "$out"
out=$("$HIKYAKU" -c "$dir" conf -x myorigin mydestination relay_note)
expect_output "conf -x" 'myorigin = example.com
mydestination = mail.example.com, localhost.example.com, localhost
relay_note = direct' "$out"
out=$("$HIKYAKU" -c "$dir" conf -hx relay_note)
expect_output "conf -hx" 'direct' "$out"

# RAW parameters keep their $ under -x, as with postconf -x.
out=$("$HIKYAKU" -c "$dir" conf -x smtpd_banner)
expect_output "conf -x keeps RAW" 'smtpd_banner = $myhostname ESMTP $mail_name' "$out"
# Every other default expands cleanly.
"$HIKYAKU" -c "$dir" conf -x > /dev/null
expect_status "conf -x of everything" 0 $?

# The environment selects the instance as -c does.
out=$(MAIL_CONFIG=$dir "$HIKYAKU" conf -h myhostname)
expect_output "MAIL_CONFIG" 'mail.example.com' "$out"

# An unknown name is a warning and a failure.
out=$("$HIKYAKU" -c "$dir" conf no_such_parameter 2>&1)
expect_status "unknown parameter" 1 $?
expect_contains "unknown parameter" "warning: unknown parameter: no_such_parameter" "$out"

# -e replaces in place and appends what is new; comments and order stay.
"$HIKYAKU" -c "$dir" conf -e 'myorigin = $myhostname' relayhost=[smtp.isp.example]:587
expect_status "conf -e" 0 $?
expect_output "conf -e file" '# Site settings
myhostname = mail.example.com
# the domain
mydomain = example.com

myorigin = $myhostname
mynetworks = 127.0.0.0/8,
    [::1]/128
relay_note = ${relayhost?{via $relayhost}:{direct}}
relayhost = [smtp.isp.example]:587' "$(cat "$dir/main.cf")"
out=$("$HIKYAKU" -c "$dir" conf -hx relay_note)
expect_output "conf -x after -e" 'via [smtp.isp.example]:587' "$out"

# -e replaces a multi-line entry whole.
"$HIKYAKU" -c "$dir" conf -e "mynetworks = 10.0.0.0/8"
out=$(grep -c '::1' "$dir/main.cf")
expect_output "conf -e multi-line" 0 "$out"
out=$("$HIKYAKU" -c "$dir" conf -h mynetworks)
expect_output "conf -e multi-line value" '10.0.0.0/8' "$out"

# -# comments an entry out, -X removes one.
"$HIKYAKU" -c "$dir" conf -# mydomain
"$HIKYAKU" -c "$dir" conf -X relay_note
expect_output "conf -# and -X file" '# Site settings
myhostname = mail.example.com
# the domain
#mydomain = example.com

myorigin = $myhostname
mynetworks = 10.0.0.0/8
relayhost = [smtp.isp.example]:587' "$(cat "$dir/main.cf")"

# Bad edits change nothing.
before=$(cat "$dir/main.cf")
"$HIKYAKU" -c "$dir" conf -e 'bad name = x' 2>/dev/null
expect_status "conf -e bad name" 1 $?
"$HIKYAKU" -c "$dir" conf -e 'novalue' 2>/dev/null
expect_status "conf -e without =" 1 $?
expect_output "bad edits leave the file" "$before" "$(cat "$dir/main.cf")"

# master.cf entries in postconf -M form.
out=$("$HIKYAKU" -c "$dir" conf -M smtp/inet pickup)
expect_output "conf -M" 'smtp       inet  n       -       n       -       -       smtpd
pickup     unix  n       -       n       60      1       pickup' "$out"

# The same lines as Postfix's own postconf prints for the same file.
if [ -x /usr/sbin/postconf ]; then
	mkdir -p "$work/postfix"
	: > "$work/postfix/main.cf"
	cp "$dir/master.cf" "$work/postfix/master.cf"
	expected=$(/usr/sbin/postconf -c "$work/postfix" -M 2>/dev/null)
	out=$("$HIKYAKU" -c "$dir" conf -M)
	expect_output "conf -M equals postconf -M" "$expected" "$out"
else
	fail "postconf (Debian package postfix) is not installed: tools/packages-test.txt lists it"
fi

finish
