/*
 * testd - a tiny daemon on the server skeleton, for the master's tests
 * only (installed nowhere). Its behaviour follows the name it runs under
 * (the tests link it into a daemon directory under several names):
 *
 *   echo     SERVER_SINGLE: greets "hello SERVICE PID", then echoes each
 *            line; "quit" ends the session, "sleep N" waits N seconds.
 *   multi    SERVER_MULTI: greets like echo and closes the connection.
 *   trigger  SERVER_TRIGGER: logs "trigger: BYTES" for every request
 *            (also as "qmgr", to receive `hikyaku flush`).
 *   crash    exits with status 1 before it serves anything.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dstring.h"
#include "event.h"
#include "log.h"
#include "server.h"
#include "stream.h"

static void
echo_serve(int fd)
{
	struct stream *stream = stream_open(fd);
	struct dstring line;

	dstring_init(&line, 4096);
	stream_set_timeout(stream, 30000);
	stream_printf(stream, "hello %s %ld\n", server_service_name(), (long)getpid());
	stream_flush(stream);
	for (int lines = 0; lines < 10000; lines++) {
		dstring_reset(&line);
		if (stream_gets(stream, &line, 1024) != STREAM_OK)
			break;
		dstring_trim(&line);
		if (strcmp(dstring_str(&line), "quit") == 0)
			break;
		if (strncmp(dstring_str(&line), "sleep ", 6) == 0)
			sleep((unsigned)atoi(dstring_str(&line) + 6));
		stream_printf(stream, "%s\n", dstring_str(&line));
		stream_flush(stream);
	}
	stream_puts(stream, "bye\n");
	stream_flush(stream);
	stream_free(stream);
	dstring_fini(&line);
}

static void
multi_serve(int fd)
{
	char greeting[128];
	int length = snprintf(greeting, sizeof(greeting), "hello %s %ld\n", server_service_name(),
			      (long)getpid());

	if (write(fd, greeting, (size_t)length) < 0)
		log_warning("write: %m");
	server_client_done(fd);
}

static void
trigger_request(const char *data, size_t length)
{
	log_info("trigger: %.*s", (int)length, data);
}

static void
crash_pre_jail(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_error("crashing at start, as designed");
	exit(1);
}

int
main(int argc, char **argv)
{
	const char *name = basename(argv[0]);
	struct server_callbacks callbacks = {0};

	if (strcmp(name, "multi") == 0) {
		callbacks.serve = multi_serve;
		return server_main(argc, argv, name, SERVER_MULTI, &callbacks);
	}
	if (strcmp(name, "trigger") == 0 || strcmp(name, "qmgr") == 0) {
		callbacks.trigger = trigger_request;
		return server_main(argc, argv, name, SERVER_TRIGGER, &callbacks);
	}
	if (strcmp(name, "crash") == 0)
		callbacks.pre_jail = crash_pre_jail;
	callbacks.serve = echo_serve;
	return server_main(argc, argv, name, SERVER_SINGLE, &callbacks);
}
