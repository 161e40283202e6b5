# Helpers for the local delivery agent's tests (sourced after lib.sh).
#
# An instance in $work: etc/main.cf, queue/ with cleanup and local running
# alone (-S), spool/ for mbox. Messages are made by the real cleanup
# (cleanup_submit) and handed to local by deliver_request, which plays
# the queue manager's side of lib/delivery.h.
#
# The recipient: as root (CI) a fresh user made with useradd whose home is
# $work/home/$user (removed at exit); as an ordinary user, ourselves (then
# only the spool mailbox and /file tests make sense: our real home is not
# touched, and tests needing a home are skipped).
: "${LOCAL:?LOCAL must name the local binary}"
: "${CLEANUP:?CLEANUP must name the cleanup binary}"
PYTHON=/usr/bin/python3
build=$(dirname "$(dirname "$HIKYAKU")")
submit="$build/cleanup/cleanup_submit"
deliver="$build/local/deliver_request"
etc=$work/etc
queue=$work/queue
chmod 755 "$work"
mkdir -p "$etc" "$queue/public" "$queue/private" "$work/spool" "$work/home"
chmod 1777 "$work/spool"

if [ "$(id -u)" -eq 0 ]; then
	is_root=1
	user=hkl$$
	home=$work/home/$user
	useradd -M -d "$home" -s /bin/sh "$user" || { echo "useradd failed" >&2; exit 1; }
	mkdir -p "$home"
	chown "$user:" "$home"
	chmod 755 "$work/home" "$home"
else
	is_root=0
	user=$(id -un)
	home=$(getent passwd "$user" | cut -d: -f6)
fi

cat > "$etc/main.cf" <<CF
queue_directory = $queue
data_directory = $work/data
maillog_file = $work/maillog
myhostname = host.example
mydestination = host.example, localhost
mail_spool_directory = $work/spool
alias_maps = lmdb:$etc/aliases
deliver_lock_attempts = 2
CF
: > "$etc/aliases"

pids=""
local_cleanup() {
	for pid in $pids; do kill "$pid" 2> /dev/null; done
	for pid in $pids; do wait "$pid" 2> /dev/null; done
	[ "$failed" -gt 0 ] && [ -f "$work/maillog" ] && cat "$work/maillog" >&2
	[ "$is_root" -eq 1 ] && userdel "$user" 2> /dev/null
	rm -rf "$work"
}
trap local_cleanup EXIT

# wait_socket PATH: up to 5 s for a daemon's socket.
wait_socket() {
	tries=0
	while [ ! -S "$1" ] && [ "$tries" -lt 50 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
}

# start_daemons: cleanup and local, each alone on its socket.
start_daemons() {
	[ -f "$etc/aliases.lmdb" ] || build_aliases
	"$CLEANUP" -c "$etc" -S "$queue/public/cleanup" 2>> "$work/stderr" &
	pids="$pids $!"
	"$LOCAL" -c "$etc" -S "$queue/private/local" 2>> "$work/stderr" &
	pids="$pids $!"
	wait_socket "$queue/public/cleanup"
	wait_socket "$queue/private/local"
}

# restart_local: after a main.cf change.
restart_local() {
	for pid in $pids; do kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null; done
	pids=""
	rm -f "$queue/public/cleanup" "$queue/private/local"
	start_daemons
}

# stop_daemons: stop them and check that no sanitizer complained (ASan builds).
stop_daemons() {
	for pid in $pids; do kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null; done
	pids=""
	if grep -q "Sanitizer" "$work/stderr" 2> /dev/null; then
		fail "a daemon reported a sanitizer error"
		cat "$work/stderr" >&2
	else
		pass
	fi
}

# build_aliases: the aliases file as written into $etc/aliases.
build_aliases() { "$HIKYAKU" -c "$etc" alias "lmdb:$etc/aliases"; }

# submit_message SENDER RCPT... < message: queue it; prints the queue ID.
submit_message() {
	sender=$1
	shift
	args=""
	for rcpt in "$@"; do args="$args -r $rcpt"; done
	# shellcheck disable=SC2086
	"$submit" -f "$sender" $args "$queue/public/cleanup" | sed -n 's/^OK //p'
}

# deliver ID [-r N]...: one request; prints "INDEX ACTION DSN REASON" lines.
deliver() {
	id=$1
	shift
	"$deliver" "$@" "$queue/private/local" "$queue" "$id"
}

# recipient_states ID: the status byte of each recipient, in order ("D-").
recipient_states() {
	"$submit" -d "$(find "$queue/incoming" -name "$1")" |
		sed -n 's/^recipient: \(.\) .*/\1/p' | tr -d '\n'
}

# as_user COMMAND...: run as the test user (root) or as ourselves.
as_user() {
	if [ "$is_root" -eq 1 ]; then su -s /bin/sh "$user" -c "$*"; else sh -c "$*"; fi
}
