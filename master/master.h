/*
 * master - the supervisor: shared declarations of its files.
 *
 *   master.c   options, lock and pid file, signals, start, reload, stop
 *   services.c main.cf + master.cf into a list of services (no side effects)
 *   listen.c   the listening sockets: inet, unix, fifo
 *   spawn.c    starting children, their status messages, reaping, throttle
 *   wakeup.c   wakeup timers ("W" to a service's own socket)
 *
 * docs/master.md describes the protocol between the master and its
 * children. Everything here runs in one thread on one event loop; signal
 * handlers only write to a self-pipe.
 */
#ifndef HIKYAKU_MASTER_H
#define HIKYAKU_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "master_cf.h"
#include "strlist.h"

struct event_loop;
struct service;

/* One child process. */
struct child {
	pid_t pid;
	struct service *service;
	unsigned use_count; /* clients it reported taking */
	bool is_available;
	bool is_retiring; /* told to finish and exit (reload, stop) */
	struct child *next;
};

/* One master.cf entry as the master runs it. */
struct service {
	char *name;  /* master.cf service column */
	char *label; /* for logs: "NAME/TYPE" */
	enum master_cf_type type;
	char *key; /* what it listens on; equal keys share sockets across reload */
	char *command_path;
	struct strlist arguments; /* argv for execve, without the -s count */
	int max_process;	  /* 0: no limit */
	unsigned wakeup_seconds;
	bool wakeup_only_if_used;
	bool is_private, is_unprivileged, is_chroot;
	char *origin; /* "master.cf, line N" */
	/* inet: addresses to bind, as "host port" pairs resolved later. */
	struct strlist inet_hosts;
	unsigned inet_port;
	bool use_ipv4, use_ipv6; /* inet_protocols */
	char *socket_path; /* unix, fifo: absolute path */

	int *listen_fds;
	int listen_count;
	bool is_listen_watched;
	int status_pipe[2]; /* read end watched here; write end is fd 3 of children */
	char status_pending[64];
	size_t status_pending_length;

	int total_processes;
	int available_processes;
	bool has_been_used;
	bool is_throttled;
	bool is_retired; /* gone from the configuration; waits for its children */
	bool has_warned_limit;
	uint64_t throttle_timer;
	uint64_t wakeup_timer;
	bool has_wakeup_timer;
	struct service *next;
};

/* What the master keeps from one reading of the configuration. */
struct master_settings {
	char *config_directory;
	char *queue_directory;
	char *daemon_directory;
	char *mail_owner;
	int throttle_seconds;
	char **environment; /* for children: import_environment + MAIL_CONFIG */
	struct service *services;
};

/* Global state of the running master. */
extern struct event_loop *master_loop;
extern struct master_settings *master_settings;
extern struct service *master_retired_services;
extern bool master_is_root;
extern bool master_is_stopping;
extern int master_verbose;

/* services.c */
/*
 * master_settings_load: read DIR/main.cf and DIR/master.cf into new
 * settings, checking everything the master needs (each problem logged
 * with its file and line). Returns NULL when there was any problem.
 * Nothing is opened or started.
 */
struct master_settings *master_settings_load(const char *config_directory);
void master_settings_free(struct master_settings *settings);
void master_service_free(struct service *service);
/* master_find_service: the service in list with key, or NULL. */
struct service *master_find_service(struct service *list, const char *key);

/* listen.c */
/* master_listen_open: open the sockets of service. 0, or -1 (logged). */
int master_listen_open(struct service *service);
/* master_listen_close: close them (unix and fifo files are removed). */
void master_listen_close(struct service *service);
/* master_listen_take: move the open sockets of from to to (same key). */
void master_listen_take(struct service *to, struct service *from);

/* spawn.c */
/* master_service_start: set up the status channel and listen on demand. */
void master_service_start(struct service *service);
/* master_service_retire: stop listening, tell its children to finish. */
void master_service_retire(struct service *service);
/* master_update_listen: watch the sockets only when a child is wanted. */
void master_update_listen(struct service *service);
/* master_spawn: start one child of service now. */
void master_spawn(struct service *service);
/* master_reap: collect exited children (after SIGCHLD). */
void master_reap(void);
/* master_signal_children: send signal to every child (retired ones too). */
void master_signal_children(int signal_number);
/* master_child_count: children alive. */
int master_child_count(void);

/* wakeup.c */
void master_wakeup_start(struct service *service);
void master_wakeup_stop(struct service *service);

/* master.c: called when the last child is gone during a stop. */
void master_stopped(void);

#endif
