#!/bin/sh
# hikyaku check: a clean configuration passes; every problem is named with
# its file and line; hostile files give errors, never a crash.
. "$(dirname "$0")/support/lib.sh"

dir=$work/etc
mkdir -p "$dir"
cp "$SOURCE_DIR/conf/main.cf" "$SOURCE_DIR/conf/master.cf" "$dir/"
# The shipped files, with the daemons of this build.
mkdir -p "$work/libexec"
ln -s "$CLEANUP" "$work/libexec/cleanup"
ln -s "$PICKUP" "$work/libexec/pickup"
ln -s "$QMGR" "$work/libexec/qmgr"
ln -s "$LOCAL" "$work/libexec/local"
ln -s "$SMTPD" "$work/libexec/smtpd"
ln -s "$SMTP" "$work/libexec/smtp"
ln -s "$ANVIL" "$work/libexec/anvil"
printf 'daemon_directory = %s/libexec\n' "$work" >> "$dir/main.cf"

out=$("$HIKYAKU" -c "$dir" check 2>&1)
expect_status "shipped configuration" 0 $?
expect_output "shipped configuration is quiet" "" "$out"

# A service whose program does not exist is named with its line.
printf 'extra     unix  n       -       n       -       1       nosuchdaemon\n' >> "$dir/master.cf"
out=$("$HIKYAKU" -c "$dir" check 2>&1)
expect_status "missing program" 1 $?
expect_contains "missing program" "$dir/master.cf, line $(wc -l < "$dir/master.cf"): service extra: $work/libexec/nosuchdaemon: No such file or directory" "$out"
cp "$SOURCE_DIR/conf/master.cf" "$dir/master.cf"

cat > "$dir/main.cf" <<'CF'
myhostname = mail.example.com
# comment
maximal_queue_lifetime = 5x
smtputf8_enable = perhaps
typo_parametr = 1
a = $b
b = $a
myorigin = $a
CF
cat > "$dir/master.cf" <<'CF'
smtp      inet  n       -       n       -       -       smtpd
bogus     tcp   n       -       n       -       -       smtpd
submission inet n       -       n       -       -       smtpd
  -o smtpd_timeout=forever
CF
out=$("$HIKYAKU" -c "$dir" check 2>&1)
expect_status "broken configuration" 1 $?
expect_contains "bad time" "$dir/main.cf, line 3: bad time value \"5x\" for maximal_queue_lifetime" "$out"
expect_contains "bad boolean" "$dir/main.cf, line 4: bad boolean value \"perhaps\" for smtputf8_enable" "$out"
expect_contains "unused" "$dir/main.cf, line 5: unused parameter: typo_parametr=1" "$out"
expect_contains "loop" "$dir/main.cf, line 8: parameter a: loop in expansion" "$out"
expect_contains "master.cf type" "$dir/master.cf, line 2:" "$out"
expect_contains "master.cf -o value" "$dir/master.cf, line 3: -o smtpd_timeout: bad time value \"forever\" for smtpd_timeout" "$out"

# Missing files.
rm "$dir/main.cf"
out=$("$HIKYAKU" -c "$dir" check 2>&1)
expect_status "missing main.cf" 1 $?
expect_contains "missing main.cf" "open $dir/main.cf: No such file or directory" "$out"
out=$("$HIKYAKU" -c "$work/nowhere" check 2>&1)
expect_status "missing directory" 1 $?

# Binary junk and a huge line: errors, not a crash (status 1, not a signal).
head -c 65536 /dev/urandom > "$dir/main.cf"
head -c 65536 /dev/urandom > "$dir/master.cf"
"$HIKYAKU" -c "$dir" check > /dev/null 2>&1
expect_status "binary junk" 1 $?
{ printf 'mynetworks = '; head -c 1048576 /dev/zero | tr '\0' a; printf '\n'; } > "$dir/main.cf"
cp "$SOURCE_DIR/conf/master.cf" "$dir/master.cf"
out=$("$HIKYAKU" -c "$dir" check 2>&1)
expect_status "1 MiB line" 1 $?
expect_contains "1 MiB line" "$dir/main.cf, line 1: entry is longer than" "$out"

# start refuses a broken configuration before doing anything.
printf 'maximal_queue_lifetime = 5x\n' > "$dir/main.cf"
out=$("$HIKYAKU" -c "$dir" start 2>&1)
expect_status "start with errors" 1 $?
expect_contains "start with errors" "has errors: not starting" "$out"

# status and stop on an instance that is not running.
printf 'queue_directory = %s/queue\n' "$work" > "$dir/main.cf"
out=$("$HIKYAKU" -c "$dir" status 2>&1)
expect_status "status when stopped" 1 $?
expect_contains "status when stopped" "not running" "$out"
out=$("$HIKYAKU" -c "$dir" stop 2>&1)
expect_status "stop when stopped" 1 $?

finish
