/*
 * server - the skeleton every daemon runs in, so a daemon's own file holds
 * only its service callbacks (Postfix's single_server/multi_server/
 * trigger_server; OpenSMTPD's per-process dispatchers).
 *
 * The master starts a daemon as
 *
 *   $daemon_directory/NAME -c CONFIG_DIR -n SERVICE -t TYPE [-u] [-r]
 *       [-s COUNT] [-w SECONDS] [-v] [-o name=value ...] [args ...]
 *
 * with descriptor 3 the write end of the status channel to the master and
 * descriptors 4 .. 4+COUNT-1 the service's listening sockets (COUNT is 1
 * unless an inet service listens on several addresses). -u: run as
 * $mail_owner; -r: chroot to $queue_directory; -w: the wakeup period.
 * The skeleton:
 *   1. reads main.cf from CONFIG_DIR, applies the -o overrides on top (they
 *      win), and opens logging as "hikyaku/SERVICE" (or $syslog_name);
 *   2. calls pre_jail (still root when the master is: open tables, keys);
 *   3. chroots and drops to mail_owner when told to (never when started by
 *      an ordinary user), then calls post_jail;
 *   4. serves: accepts connections on the listening sockets and hands them
 *      to the callbacks; tells the master through the status channel when
 *      it is busy and when it is idle again, so the master starts another
 *      process only when all are busy (within maxproc);
 *   5. exits after $max_use served clients or $max_idle seconds without
 *      one, when the master goes away (the status channel breaks), or on
 *      SIGTERM after the clients in progress are done.
 *
 * For tests and debugging a daemon also runs alone: -S PATH listens on the
 * UNIX socket PATH itself (no master, no status channel).
 *
 * Details the daemons rely on (docs/master.md has the whole protocol):
 * - Logging goes to syslog as "$syslog_name/NAME" ("hikyaku/cleanup"; with
 *   -o syslog_name=hikyaku/submission, "hikyaku/submission/smtpd") and to
 *   $maillog_file; with -S also to standard error.
 * - The working directory is $queue_directory (or "/" in the chroot), so
 *   "private/cleanup" names a socket whether or not the daemon is jailed.
 * - SIGPIPE is ignored. SIGTERM (also sent when the master dies, where
 *   the system can) makes the skeleton stop accepting and exit once the
 *   clients in progress are done.
 * - pre_jail gets the arguments after the options (master.cf's args past
 *   its leading options); unknown options are a fatal error.
 * - A wakeup period (-w) makes the skeleton call wakeup() that often.
 *   SERVER_TRIGGER daemons are woken by the master instead: it writes "W"
 *   to their socket, which reaches trigger(); they are not retired by
 *   max_idle when they have a wakeup period.
 */
#ifndef HIKYAKU_SERVER_H
#define HIKYAKU_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct event_loop;

enum server_kind {
	/* One client at a time: serve() returns when the client is done. */
	SERVER_SINGLE,
	/*
	 * Many clients at once on one event loop: serve() registers the
	 * connection and returns; the daemon calls server_client_done(fd)
	 * when the client is finished. The process tells the master it is
	 * busy (so the master may start another, within maxproc) while it
	 * serves SERVER_MULTI_BUSY_CLIENTS clients or more.
	 */
	SERVER_MULTI,
	/*
	 * Wake-up requests: each connection (or fifo write) carries a few
	 * bytes of trigger ("W" from the master's timer, other letters from
	 * other daemons); trigger() gets them.
	 */
	SERVER_TRIGGER,
};

struct server_callbacks {
	/* Before the jail: still root when started by root. May be NULL. */
	void (*pre_jail)(int argc, char **argv);
	/* After chroot and the identity change. May be NULL. */
	void (*post_jail)(void);
	/*
	 * SERVER_SINGLE and SERVER_MULTI: a new client on descriptor fd
	 * (close-on-exec; blocking for SINGLE, non-blocking for MULTI). The
	 * skeleton owns fd and closes it: for SINGLE when serve() returns,
	 * for MULTI in server_client_done(). A daemon that wraps fd in a
	 * stream ends with stream_flush() and stream_free(), not
	 * stream_close().
	 */
	void (*serve)(int fd);
	/* SERVER_TRIGGER: the bytes of one trigger request. */
	void (*trigger)(const char *data, size_t length);
	/* Called every wakeup period (-w) if not NULL. */
	void (*wakeup)(void);
	/* Called before the process exits of its own accord. May be NULL. */
	void (*pre_exit)(void);
};

/*
 * server_main: parse the master's arguments, run the steps above, and
 * return the exit status for main(). name is the program ("cleanup").
 */
int server_main(int argc, char **argv, const char *name, enum server_kind kind,
		const struct server_callbacks *callbacks);

/*
 * The descriptors and status messages shared with the master. A status
 * message is one line "PID LETTER\n" written with one write(2) (atomic on
 * a pipe): 'B' the process took a client and is busy, 'A' it is available
 * again. A new process counts as available from its start.
 */
#define SERVER_STATUS_FD 3
#define SERVER_LISTEN_FD 4
#define SERVER_STATUS_BUSY 'B'
#define SERVER_STATUS_AVAILABLE 'A'
/* The most bytes of one trigger request. */
#define SERVER_TRIGGER_MAX 1024

/* SERVER_MULTI: clients at which a process counts as busy. */
#define SERVER_MULTI_BUSY_CLIENTS 16

/* The event loop the skeleton runs on (for SERVER_MULTI daemons' clients). */
struct event_loop *server_event_loop(void);

/*
 * server_has_waiting_clients: whether a connection waits to be accepted
 * on a listening socket now (the skeleton accepts one per turn of the
 * event loop): for a daemon that would rather let it join a batch.
 */
bool server_has_waiting_clients(void);

/* SERVER_MULTI: the client on fd is finished; the skeleton stops watching
 * fd in the event loop and closes it. */
void server_client_done(int fd);

/* The service name from -n ("smtp", "submission"), for logging. */
const char *server_service_name(void);

#endif
