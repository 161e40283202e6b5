/*
 * sasl_probe - a test driver for lib/sasl_server: plays smtpd's side of
 * the interface against a real backend (a Dovecot auth socket, or Cyrus
 * SASL with a sasldb), one command per line on standard input:
 *
 *   open                     sasl_server_open; prints "open OK" or
 *                            "open FAIL reason"
 *   mechanisms OPTIONS...    prints "mechanisms: LIST" for those security
 *                            options (the rest of the line)
 *   start MECH [RESPONSE]    sasl_server_begin (RESPONSE as on the AUTH line)
 *   step [RESPONSE]          sasl_server_continue (no RESPONSE: an empty line)
 *   close                    sasl_server_close
 *   signal FILE              create FILE (tell the test script we got here)
 *   wait FILE                wait up to 30 seconds until FILE exists
 *
 * start and step print the status and the output: "CONTINUE <base64>",
 * "DONE <user>", "FAIL <reason>", "TEMPFAIL <reason>", "BAD_INPUT ...",
 * "BAD_MECHANISM ...". Standard output is flushed after each line.
 *
 *   sasl_probe -t cyrus|dovecot -p PATH [-c CONFIG_PATH] [-r REALM]
 *              [-a CLIENT_ADDRESS] [-s] (the session is over TLS)
 *
 * Exit status: 0 after reading all input, 2 for bad usage, 1 when
 * sasl_server_setup fails (the reason on standard error).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "sasl_server.h"

static const char *const status_names[] = {
    [SASL_SERVER_CONTINUE] = "CONTINUE",   [SASL_SERVER_DONE] = "DONE",
    [SASL_SERVER_FAIL] = "FAIL",           [SASL_SERVER_TEMPFAIL] = "TEMPFAIL",
    [SASL_SERVER_BAD_INPUT] = "BAD_INPUT", [SASL_SERVER_BAD_MECHANISM] = "BAD_MECHANISM",
};

static void
print_status(struct sasl_server *server, enum sasl_server_status status,
             const struct dstring *output)
{
	if (status == SASL_SERVER_DONE)
		printf("DONE %s\n", sasl_server_username(server));
	else
		printf("%s %s\n", status_names[status], dstring_str(output));
}

static void
wait_for_file(const char *path)
{
	struct timespec pause = {0, 50 * 1000 * 1000};

	for (int tries = 0; tries < 600 && access(path, F_OK) != 0; tries++)
		nanosleep(&pause, NULL);
}

int
main(int argc, char **argv)
{
	struct sasl_server_settings settings = {
	    .service = "smtp", .client_address = "127.0.0.1", .server_address = "127.0.0.1"};
	const char *type = NULL, *path = NULL, *config_path = NULL;
	struct sasl_server *server = NULL;
	struct dstring *output = dstring_new(DSTRING_NO_LIMIT);
	char line[65536];
	int option;

	log_open("sasl_probe", LOG_SINK_STDERR);
	while ((option = getopt(argc, argv, "t:p:c:r:a:s")) != -1) {
		switch (option) {
		case 't':
			type = optarg;
			break;
		case 'p':
			path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'r':
			settings.local_domain = optarg;
			break;
		case 'a':
			settings.client_address = optarg;
			break;
		case 's':
			settings.is_tls = true;
			break;
		default:
			return 2;
		}
	}
	if (type == NULL || path == NULL) {
		fprintf(stderr, "usage: sasl_probe -t cyrus|dovecot -p PATH [-c DIR] [-r REALM]\n");
		return 2;
	}
	if (sasl_server_setup(type, path, config_path, output) < 0) {
		fprintf(stderr, "sasl_server_setup: %s\n", dstring_str(output));
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *argument;

		line[strcspn(line, "\r\n")] = '\0';
		argument = strchr(line, ' ');
		if (argument != NULL)
			*argument++ = '\0';
		dstring_reset(output);
		if (strcmp(line, "open") == 0) {
			sasl_server_close(server);
			server = sasl_server_open(&settings, output);
			if (server != NULL)
				printf("open OK\n");
			else
				printf("open FAIL %s\n", dstring_str(output));
		} else if (strcmp(line, "close") == 0) {
			sasl_server_close(server);
			server = NULL;
			printf("closed\n");
		} else if (strcmp(line, "signal") == 0 && argument != NULL) {
			int fd = open(argument, O_WRONLY | O_CREAT, 0644);

			if (fd >= 0)
				close(fd);
		} else if (strcmp(line, "wait") == 0 && argument != NULL) {
			wait_for_file(argument);
		} else if (server == NULL) {
			printf("ERROR not open\n");
		} else if (strcmp(line, "mechanisms") == 0) {
			sasl_server_mechanisms(server, argument != NULL ? argument : "", output);
			printf("mechanisms: %s\n", dstring_str(output));
		} else if (strcmp(line, "start") == 0 && argument != NULL) {
			char *response = strchr(argument, ' ');

			if (response != NULL)
				*response++ = '\0';
			print_status(server, sasl_server_begin(server, argument, response, output),
			             output);
		} else if (strcmp(line, "step") == 0) {
			print_status(
			    server,
			    sasl_server_continue(server, argument != NULL ? argument : "", output),
			    output);
		} else {
			printf("ERROR unknown command\n");
		}
		fflush(stdout);
	}
	sasl_server_close(server);
	dstring_free(output);
	return 0;
}
