/*
 * smtp_probe - the measuring helper of bench/smtpd_bench.sh.
 *
 *   smtp_probe port
 *	Print a TCP port of 127.0.0.1 that was free a moment ago.
 *   smtp_probe latency HOST PORT TRIES SIZE FROM RCPT MAILDIR_NEW
 *	TRIES times, one at a time: connect, read the greeting, EHLO,
 *	MAIL FROM, RCPT TO, DATA, a message of SIZE bytes, "." and read
 *	the reply, then QUIT. Each try is timed with CLOCK_MONOTONIC from
 *	just before connect() until the reply to the dot is read. Before
 *	each try it waits until the previous messages are all in
 *	MAILDIR_NEW (so each try meets an idle server, not one still
 *	delivering the last message). Prints each try's time in
 *	milliseconds, one a line, then exits 0 once the last message is
 *	delivered; any reply other than the expected one ends it with
 *	exit 1 and the reply on stderr.
 *   smtp_probe wait DIRECTORY COUNT SECONDS
 *	Wait until DIRECTORY holds at least COUNT entries (other than
 *	"." and ".."), polling every 10 ms; exit 0 when it does, 1 with
 *	the count on stderr after SECONDS.
 *
 * The benchmark's own tool, built with cc by the script into its
 * temporary directory; it trusts its arguments but not the server: every
 * read is bounded in size and in time (10 s per reply).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPLY_TIMEOUT_MS 10000
#define REPLY_MAX 65536
#define DELIVERY_WAIT_S 30

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fail(const char *what)
{
	fprintf(stderr, "smtp_probe: %s\n", what);
	exit(1);
}

/* count_entries: the names in DIRECTORY other than "." and "..", or -1. */
static long
count_entries(const char *directory)
{
	DIR *dir = opendir(directory);
	struct dirent *entry;
	long count = 0;

	if (dir == NULL)
		return -1;
	while ((entry = readdir(dir)) != NULL)
		if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
			count++;
	closedir(dir);
	return count;
}

/* wait_entries: 0 once DIRECTORY holds COUNT entries, -1 after SECONDS. */
static int
wait_entries(const char *directory, long count, double seconds)
{
	double deadline = now_seconds() + seconds;
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	while (count_entries(directory) < count) {
		if (now_seconds() >= deadline)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

/*
 * read_reply: read one whole SMTP reply (the last line "DDD " or "DDD"
 * alone) into buffer; returns its code, or -1 on error or timeout.
 */
static int
read_reply(int fd, char *buffer, size_t size)
{
	size_t used = 0;
	size_t line_start = 0;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t got;

		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0)
			return -1;
		if (used + 1 >= size)
			return -1;
		got = read(fd, buffer + used, size - used - 1);
		if (got <= 0)
			return -1;
		used += (size_t)got;
		buffer[used] = '\0';
		/* Look at each complete line from line_start. */
		for (;;) {
			char *end = strstr(buffer + line_start, "\r\n");
			size_t length;

			if (end == NULL)
				break;
			length = (size_t)(end - (buffer + line_start));
			if (length >= 3 && (length == 3 || buffer[line_start + 3] == ' '))
				return atoi(buffer + line_start);
			line_start += length + 2;
		}
	}
}

static int
write_all(int fd, const char *data, size_t length)
{
	while (length > 0) {
		ssize_t done = write(fd, data, length);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return -1;
		data += done;
		length -= (size_t)done;
	}
	return 0;
}

/* command: send LINE (with CRLF), expect a reply with code EXPECT. */
static void
command(int fd, const char *line, int expect, char *reply, size_t size)
{
	char text[1024];
	int code;

	snprintf(text, sizeof(text), "%s\r\n", line);
	if (write_all(fd, text, strlen(text)) < 0)
		fail("write failed");
	code = read_reply(fd, reply, size);
	if (code != expect) {
		fprintf(stderr, "smtp_probe: after \"%s\": expected %d, got: %.300s\n", line,
			expect, code < 0 ? "(no reply or timeout)" : reply);
		exit(1);
	}
}

static int
connect_to(const char *host, const char *port)
{
	struct addrinfo hints, *result;
	int fd;
	int one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &result) != 0)
		fail("bad address");
	fd = socket(result->ai_family, SOCK_STREAM, 0);
	if (fd < 0)
		fail("socket failed");
	if (connect(fd, result->ai_addr, result->ai_addrlen) < 0) {
		perror("smtp_probe: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	freeaddrinfo(result);
	return fd;
}

static int
latency(char **argv)
{
	const char *host = argv[0], *port = argv[1];
	long tries = strtol(argv[2], NULL, 10);
	long size = strtol(argv[3], NULL, 10);
	const char *from = argv[4], *rcpt = argv[5], *maildir_new = argv[6];
	static char reply[REPLY_MAX];
	char line[1024];
	char *message;
	size_t message_length = 0;
	double *times;
	long already;

	if (tries < 1 || tries > 100000 || size < 0 || size > 100000000)
		fail("bad TRIES or SIZE");
	/* The message: a few headers, lines of 76 'x', then the dot. */
	message = malloc((size_t)size + 512);
	times = malloc(sizeof(double) * (size_t)tries);
	if (message == NULL || times == NULL)
		fail("out of memory");
	message_length = (size_t)snprintf(message, 512,
					  "From: <%s>\r\nTo: <%s>\r\nSubject: latency probe\r\n\r\n",
					  from, rcpt);
	while ((long)message_length < size) {
		long left = size - (long)message_length;
		long chunk = left < 78 ? left : 78;

		memset(message + message_length, 'x', (size_t)chunk);
		message_length += (size_t)chunk;
		if (chunk >= 2) {
			message[message_length - 2] = '\r';
			message[message_length - 1] = '\n';
		}
	}
	if (message_length < 2 || message[message_length - 1] != '\n') {
		memcpy(message + message_length, "\r\n", 2);
		message_length += 2;
	}
	memcpy(message + message_length, ".\r\n", 3);
	message_length += 3;

	already = count_entries(maildir_new);
	if (already < 0)
		fail("cannot read the Maildir's new/");
	for (long i = 0; i < tries; i++) {
		double start;
		int fd;
		int code;

		if (wait_entries(maildir_new, already + i, DELIVERY_WAIT_S) < 0) {
			fprintf(stderr, "smtp_probe: message %ld not delivered within %d s\n", i,
				DELIVERY_WAIT_S);
			return 1;
		}
		start = now_seconds();
		fd = connect_to(host, port);
		if ((code = read_reply(fd, reply, sizeof(reply))) != 220) {
			fprintf(stderr, "smtp_probe: greeting: %.300s\n",
				code < 0 ? "(none)" : reply);
			return 1;
		}
		command(fd, "EHLO probe.example", 250, reply, sizeof(reply));
		snprintf(line, sizeof(line), "MAIL FROM:<%s>", from);
		command(fd, line, 250, reply, sizeof(reply));
		snprintf(line, sizeof(line), "RCPT TO:<%s>", rcpt);
		command(fd, line, 250, reply, sizeof(reply));
		command(fd, "DATA", 354, reply, sizeof(reply));
		if (write_all(fd, message, message_length) < 0)
			fail("write of the message failed");
		if ((code = read_reply(fd, reply, sizeof(reply))) != 250) {
			fprintf(stderr, "smtp_probe: after the dot: %.300s\n",
				code < 0 ? "(no reply or timeout)" : reply);
			return 1;
		}
		times[i] = (now_seconds() - start) * 1000.0;
		command(fd, "QUIT", 221, reply, sizeof(reply));
		close(fd);
	}
	if (wait_entries(maildir_new, already + tries, DELIVERY_WAIT_S) < 0)
		fail("the last message was not delivered");
	for (long i = 0; i < tries; i++)
		printf("%.3f\n", times[i]);
	free(message);
	free(times);
	return 0;
}

static int
free_port(void)
{
	struct sockaddr_in address;
	socklen_t length = sizeof(address);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&address, 0, sizeof(address));
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&address, &length) < 0)
		fail("cannot find a free port");
	printf("%u\n", ntohs(address.sin_port));
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "port") == 0)
		return free_port();
	if (argc == 9 && strcmp(argv[1], "latency") == 0)
		return latency(argv + 2);
	if (argc == 5 && strcmp(argv[1], "wait") == 0) {
		long count = strtol(argv[3], NULL, 10);

		if (wait_entries(argv[2], count, strtod(argv[4], NULL)) < 0) {
			fprintf(stderr, "smtp_probe: %ld of %ld in %s\n", count_entries(argv[2]),
				count, argv[2]);
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "usage: smtp_probe port | latency HOST PORT TRIES SIZE FROM RCPT "
			"MAILDIR_NEW | wait DIRECTORY COUNT SECONDS\n");
	return 2;
}
