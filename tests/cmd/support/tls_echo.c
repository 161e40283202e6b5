/*
 * tls_echo - a test driver for lib/tls against real TLS programs
 * (openssl s_client, openssl s_server, testssl.sh), without the SMTP
 * server. Built for the tests only; installed nowhere.
 *
 * tls_echo server [-s] -C cert [-K key] [-H chain_files] [-p protocols]
 *          [-c grade] [-k ticket_key_file] [-l loglevel] PORT_FILE
 *   Listen on 127.0.0.1 (a free port, written to PORT_FILE), and serve
 *   each connection in a child: the TLS handshake at once, or with -s
 *   after a minimal SMTP greeting, EHLO and STARTTLS. Over TLS, each line
 *   is answered "echo: LINE"; "QUIT" ends it with "bye" and close_notify.
 *   Each established session is logged to standard error as
 *   "established PROTOCOL CIPHER BITS resumed=0|1"; a failure as
 *   "failed: REASON". Runs until killed, or for at most 300 s.
 *
 * tls_echo client [-A CAfile] [-n servername] [-m match_name] [-v]
 *          [-p protocols] [-r repeat] PORT LINE...
 *   Connect to 127.0.0.1:PORT repeat times; each time start TLS (verify
 *   chain and name with -v), print "protocol=P resumed=R trusted=T
 *   verified=V peer=NAME", send each LINE and print the reply line.
 *   Exit 1 with "failed: REASON" when a handshake fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "stream.h"
#include "tls.h"

#define LINE_LIMIT 2048
#define TIMEOUT_MS 10000
#define MAX_CONNECTIONS 20000
#define MAX_LINES 1000
#define LIFETIME_SECONDS 300

static void
usage(void)
{
	fprintf(stderr, "usage: tls_echo server [-s] -C cert [-K key] [-H chain_files] "
	                "[-p protocols] [-c grade] [-k ticket_key_file] [-l loglevel] PORT_FILE\n"
	                "       tls_echo client [-A CAfile] [-n servername] [-m match_name] [-v] "
	                "[-p protocols] [-r repeat] PORT LINE...\n");
	exit(2);
}

/* The minimal SMTP dialogue before STARTTLS; false when the client left. */
static bool
smtp_until_starttls(struct stream *stream)
{
	struct dstring line;
	bool is_ready = false;

	dstring_init(&line, LINE_LIMIT * 2);
	stream_puts(stream, "220 tls_echo ESMTP\r\n");
	for (int i = 0; i < 20 && !is_ready; i++) {
		dstring_reset(&line);
		if (stream_gets(stream, &line, LINE_LIMIT) != STREAM_OK)
			break;
		if (strncasecmp(dstring_str(&line), "EHLO", 4) == 0)
			stream_puts(stream, "250-tls_echo\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
		else if (strncasecmp(dstring_str(&line), "STARTTLS", 8) == 0) {
			stream_puts(stream, "220 2.0.0 Ready to start TLS\r\n");
			is_ready = true;
		} else if (strncasecmp(dstring_str(&line), "QUIT", 4) == 0) {
			stream_puts(stream, "221 2.0.0 Bye\r\n");
			break;
		} else
			stream_puts(stream, "502 5.5.2 Error: command not recognized\r\n");
	}
	dstring_fini(&line);
	return is_ready;
}

static void
serve_one(int fd, struct tls_context *context, bool is_smtp)
{
	struct stream *stream = stream_open(fd);
	struct dstring line, error;
	struct tls_session *session;

	dstring_init(&line, LINE_LIMIT * 2);
	dstring_init(&error, DSTRING_NO_LIMIT);
	stream_set_timeout(stream, TIMEOUT_MS);
	if (is_smtp && !smtp_until_starttls(stream)) {
		stream_close(stream);
		_exit(0);
	}
	session = tls_server_start(context, stream, &error);
	if (session == NULL) {
		fprintf(stderr, "failed: %s\n", dstring_str(&error));
		stream_close(stream);
		_exit(1);
	}
	fprintf(stderr, "established %s %s %d resumed=%d\n", tls_session_protocol(session),
	        tls_session_cipher(session), tls_session_cipher_bits(session, NULL),
	        tls_session_resumed(session) ? 1 : 0);
	for (int i = 0; i < MAX_LINES; i++) {
		dstring_reset(&line);
		if (stream_gets(stream, &line, LINE_LIMIT) != STREAM_OK)
			break;
		dstring_trim(&line);
		if (strcasecmp(dstring_str(&line), "QUIT") == 0) {
			stream_puts(stream, is_smtp ? "221 2.0.0 Bye\r\n" : "bye\r\n");
			break;
		}
		if (is_smtp && strncasecmp(dstring_str(&line), "EHLO", 4) == 0)
			stream_puts(stream, "250-tls_echo\r\n250 PIPELINING\r\n");
		else
			stream_printf(stream, "echo: %s\r\n", dstring_str(&line));
	}
	tls_session_end(session, stream);
	stream_close(stream);
	_exit(0);
}

static int
run_server(int argc, char **argv)
{
	struct tls_server_settings settings = {.ciphers = "medium", .session_cache_timeout = 3600};
	struct dstring error;
	struct tls_context *context;
	struct sockaddr_in address;
	socklen_t length = sizeof(address);
	bool is_smtp = false;
	int option, listener, one = 1;
	FILE *port_file;

	while ((option = getopt(argc, argv, "sC:K:H:p:c:k:l:")) != -1) {
		switch (option) {
		case 's':
			is_smtp = true;
			break;
		case 'C':
			settings.cert_file = optarg;
			break;
		case 'K':
			settings.key_file = optarg;
			break;
		case 'H':
			settings.chain_files = optarg;
			break;
		case 'p':
			settings.protocols = optarg;
			break;
		case 'c':
			settings.ciphers = optarg;
			break;
		case 'k':
			settings.ticket_key_file = optarg;
			break;
		case 'l':
			settings.loglevel = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	dstring_init(&error, DSTRING_NO_LIMIT);
	context = tls_server_context_new(&settings, &error);
	if (context == NULL) {
		fprintf(stderr, "tls_echo: %s\n", dstring_str(&error));
		return 1;
	}
	listener = socket(AF_INET, SOCK_STREAM, 0);
	memset(&address, 0, sizeof(address));
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof(address)) < 0 ||
	    listen(listener, 64) < 0 ||
	    getsockname(listener, (struct sockaddr *)&address, &length) < 0) {
		perror("tls_echo: listen");
		return 1;
	}
	port_file = fopen(argv[optind], "w");
	if (port_file == NULL || fprintf(port_file, "%d\n", ntohs(address.sin_port)) < 0 ||
	    fclose(port_file) != 0) {
		perror(argv[optind]);
		return 1;
	}
	alarm(LIFETIME_SECONDS);
	for (int served = 0; served < MAX_CONNECTIONS; served++) {
		int fd = accept(listener, NULL, NULL);
		pid_t pid;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			continue;
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("tls_echo: accept");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(listener);
			alarm(60);
			serve_one(fd, context, is_smtp);
		}
		close(fd);
	}
	tls_context_free(context);
	dstring_fini(&error);
	return 0;
}

static int
connect_port(int port)
{
	struct sockaddr_in address;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&address, 0, sizeof(address));
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	address.sin_port = htons((unsigned short)port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		perror("tls_echo: connect");
		exit(1);
	}
	return fd;
}

static int
run_client(int argc, char **argv)
{
	struct tls_client_settings settings = {.ciphers = "medium"};
	const char *servername = NULL;
	const char *match_names[2] = {NULL, NULL};
	enum tls_verify verify = TLS_VERIFY_NONE;
	struct dstring line, error;
	int option, repeat = 1, status = 0;
	struct tls_context *context;

	while ((option = getopt(argc, argv, "A:n:m:vp:r:")) != -1) {
		switch (option) {
		case 'A':
			settings.CAfile = optarg;
			break;
		case 'n':
			servername = optarg;
			break;
		case 'm':
			match_names[0] = optarg;
			break;
		case 'v':
			verify = TLS_VERIFY_CHAIN_AND_NAME;
			break;
		case 'p':
			settings.protocols = optarg;
			break;
		case 'r':
			repeat = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || repeat < 1 || repeat > 10)
		usage();
	dstring_init(&line, LINE_LIMIT * 2);
	dstring_init(&error, DSTRING_NO_LIMIT);
	context = tls_client_context_new(&settings, &error);
	if (context == NULL) {
		fprintf(stderr, "tls_echo: %s\n", dstring_str(&error));
		return 1;
	}
	for (int round = 0; round < repeat && status == 0; round++) {
		struct stream *stream = stream_open(connect_port(atoi(argv[optind])));
		struct tls_session *session;

		stream_set_timeout(stream, TIMEOUT_MS);
		dstring_reset(&error);
		session =
		    tls_client_start(context, stream, servername, verify, match_names, &error);
		if (session == NULL) {
			printf("failed: %s\n", dstring_str(&error));
			stream_close(stream);
			status = 1;
			break;
		}
		printf("protocol=%s resumed=%d trusted=%d verified=%d peer=%s\n",
		       tls_session_protocol(session), tls_session_resumed(session),
		       tls_session_peer_trusted(session), tls_session_peer_verified(session),
		       tls_session_peer_name(session));
		for (int i = optind + 1; i < argc; i++) {
			stream_printf(stream, "%s\n", argv[i]);
			dstring_reset(&line);
			if (stream_gets(stream, &line, LINE_LIMIT) != STREAM_OK) {
				printf("no reply to \"%s\"\n", argv[i]);
				status = 1;
				break;
			}
			printf("%s", dstring_str(&line));
		}
		tls_session_end(session, stream);
		stream_close(stream);
	}
	fflush(stdout);
	tls_context_free(context);
	dstring_fini(&line);
	dstring_fini(&error);
	return status;
}

int
main(int argc, char **argv)
{
	log_open("tls_echo", LOG_SINK_STDERR);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "server") == 0)
		return run_server(argc - 1, argv + 1);
	if (strcmp(argv[1], "client") == 0)
		return run_client(argc - 1, argv + 1);
	usage();
}
