# cleanup and kill -9: 200 submissions from 8 concurrent clients while
# cleanup is killed at random moments and restarted. Afterwards every
# acknowledged message is in incoming/ exactly once with its own content,
# every file under a final name is a complete, valid queue file, and the
# temporary files of killed processes are gone after a restart
# (docs/queue.md, "Commit protocol").
. "$SOURCE_DIR/tests/cmd/support/lib.sh"
bin=$(dirname "$HIKYAKU")/..
CLEANUP=$bin/cleanup/cleanup
SUBMIT=$bin/cleanup/cleanup_submit

# On the disk, not tmpfs: the flushes must be real.
work_disk=$(mktemp -d "$SOURCE_DIR/.cleanup-crash.XXXXXX")
mkdir -p "$work_disk/etc" "$work_disk/q"
cat > "$work_disk/etc/main.cf" <<CF
queue_directory = $work_disk/q
myhostname = host.example.com
CF
sock=$work/cleanup.sock
pid=
start_cleanup() {
	rm -f "$sock"
	"$CLEANUP" -c "$work_disk/etc" -S "$sock" -o max_use=100000 2>>"$work/cleanup.log" &
	pid=$!
	# Let it come up, so that each process serves some clients.
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 200 ]; do sleep 0.01; i=$((i + 1)); done
}
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work" "$work_disk"' EXIT
random_below() { echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 )); }

start_cleanup
sleep 0.3
workers=
w=0
while [ $w -lt 8 ]; do
	(
		i=0
		while [ $i -lt 25 ]; do
			printf 'Subject: message %s-%s\n\nbody %s-%s\n' $w $i $w $i |
				"$SUBMIT" -f a@example.org -r b@example.org "$sock" |
				sed "s/\$/ $w-$i/" >> "$work/results.$w"
			i=$((i + 1))
		done
	) &
	workers="$workers $!"
	w=$((w + 1))
done
# Kill cleanup at random moments while the workers run.
kills=0
while :; do
	alive=0
	for p in $workers; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ $alive -eq 1 ] || break
	sleep "0.$(random_below 2)$(random_below 10)"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	kills=$((kills + 1))
	start_cleanup
done
for p in $workers; do wait "$p"; done
# One more restart: it removes the dead processes' temporary files.
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
start_cleanup
sleep 0.5
kill "$pid"
wait "$pid" 2>/dev/null
pid=

total=$(cat "$work"/results.* | wc -l | tr -d ' ')
acked=$(cat "$work"/results.* | grep -c '^OK ')
echo "submissions $total, acknowledged $acked, kills $kills"
expect_output "every submission answered" "200" "$total"
if [ "$acked" -gt 0 ]; then pass; else fail "nothing was acknowledged"; fi

# Every acknowledged message: exactly one file, with its own content.
missing=0
cat "$work"/results.* | grep '^OK ' | while read -r ok id tag; do
	n=$(find "$work_disk/q/incoming" -name "$id" | wc -l | tr -d ' ')
	if [ "$n" != 1 ]; then echo "MISSING $id ($n files)"; continue; fi
	f=$(find "$work_disk/q/incoming" -name "$id")
	"$SUBMIT" -d "$f" | grep -q "^body $tag\$" || echo "WRONG CONTENT $id $tag"
done > "$work/check.out"
expect_output "acknowledged messages present once with their content" "" "$(cat "$work/check.out")"

# Every file under a final name is complete and valid.
bad=0
for f in $(find "$work_disk/q/incoming" -type f); do
	"$SUBMIT" -d "$f" > /dev/null || { echo "INVALID $f"; bad=$((bad + 1)); }
done > "$work/invalid.out"
expect_output "no partial file under a final name" "" "$(cat "$work/invalid.out")"
expect_output "temporary files removed after restart" "0" \
	"$(find "$work_disk/q/tmp" -type f | wc -l | tr -d ' ')"
# Messages in the queue are acknowledged ones, or ones whose client saw
# the connection break after the file was renamed (resubmitted = a
# possible duplicate, never a loss).
queued=$(find "$work_disk/q/incoming" -type f | wc -l | tr -d ' ')
echo "queue files $queued"
if [ "$queued" -ge "$acked" ]; then pass; else fail "fewer files than acknowledgements"; fi
finish
