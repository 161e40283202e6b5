/*
 * test_tls - lib/tls, server and client, over socketpairs.
 *
 * Each connection forks: the child is the server (lib/tls server side,
 * a tiny line protocol), the parent the client (lib/tls client side, or a
 * raw OpenSSL client for what our client would never do, like TLS 1.1).
 * The server reports what it saw (protocol, resumed, the first line it
 * read after the handshake) back through the TLS connection itself, so
 * the parent checks both sides. Certificates come from
 * tests/cmd/support/make_test_certs.sh, run into a temporary directory.
 * alarm() bounds the whole run; every stream has a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "check.h"
#include "dstring.h"
#include "stream.h"
#include "tls.h"

#define LINE_LIMIT 4096
#define TIMEOUT_MS 10000

static char certs[256];
static char path_buffer[32][512];
static int path_next;

/* A path in the certificate directory (the last 32 stay valid). */
static const char *
cert(const char *name)
{
	char *buffer = path_buffer[path_next++ % 32];

	snprintf(buffer, sizeof(path_buffer[0]), "%s/%s", certs, name);
	return buffer;
}

static void
make_certificates(void)
{
	const char *source = getenv("SOURCE_DIR");
	char script[512];
	pid_t pid;
	int status;

	snprintf(certs, sizeof(certs), "%s/hikyaku-tls-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(certs) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(script, sizeof(script), "%s/tests/cmd/support/make_test_certs.sh",
	         source != NULL ? source : ".");
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", script, certs, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "cannot make test certificates with %s\n", script);
		exit(2);
	}
}

static void
remove_certificates(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", certs, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static struct tls_context *
server_context(const char *cert_file, const char *key_file, const char *ticket_key_file)
{
	struct tls_server_settings settings = {
	    .cert_file = cert_file,
	    .key_file = key_file,
	    .protocols = ">=TLSv1",
	    .ciphers = "medium",
	    .session_cache_timeout = 3600,
	    .ticket_key_file = ticket_key_file,
	};
	struct dstring error;
	struct tls_context *context;

	dstring_init(&error, DSTRING_NO_LIMIT);
	context = tls_server_context_new(&settings, &error);
	if (context == NULL) {
		fprintf(stderr, "server context: %s\n", dstring_str(&error));
		exit(2);
	}
	dstring_fini(&error);
	return context;
}

static struct tls_context *
client_context(const char *protocols)
{
	struct tls_client_settings settings = {
	    .CAfile = cert("ca.pem"),
	    .protocols = protocols,
	    .ciphers = "medium",
	};
	struct dstring error;
	struct tls_context *context;

	dstring_init(&error, DSTRING_NO_LIMIT);
	context = tls_client_context_new(&settings, &error);
	if (context == NULL) {
		fprintf(stderr, "client context: %s\n", dstring_str(&error));
		exit(2);
	}
	dstring_fini(&error);
	return context;
}

/*
 * The server child: read "STARTTLS", answer "220 go", handshake, report
 * "first=<line> protocol=<p> resumed=<0|1>", then count bytes of the
 * lines until "QUIT" and report "bytes=<n>", end TLS and exit 0.
 * Exit 3 when the handshake fails, writing its error to stderr.
 */
static void
serve(int fd, struct tls_context *context)
{
	struct stream *stream = stream_open(fd);
	struct dstring line, error;
	struct tls_session *session;
	size_t bytes = 0;

	dstring_init(&line, LINE_LIMIT * 2);
	dstring_init(&error, DSTRING_NO_LIMIT);
	stream_set_timeout(stream, TIMEOUT_MS);
	if (stream_gets(stream, &line, LINE_LIMIT) != STREAM_OK ||
	    strcmp(dstring_str(&line), "STARTTLS\r\n") != 0)
		_exit(4);
	stream_puts(stream, "220 go\r\n");
	session = tls_server_start(context, stream, &error);
	if (session == NULL) {
		fprintf(stderr, "server: %s\n", dstring_str(&error));
		stream_close(stream);
		_exit(3);
	}
	dstring_reset(&line);
	if (stream_gets(stream, &line, LINE_LIMIT) != STREAM_OK)
		_exit(5);
	dstring_truncate(&line, dstring_length(&line) - 2);
	stream_printf(stream, "first=%s protocol=%s resumed=%d\r\n", dstring_str(&line),
	              tls_session_protocol(session), tls_session_resumed(session) ? 1 : 0);
	/* What the server says of its key exchange and signature. */
	dstring_reset(&error);
	tls_session_describe(session, &error);
	stream_printf(stream, "parameters=%s\r\n", dstring_str(&error));
	for (int i = 0; i < 100000; i++) {
		dstring_reset(&line);
		if (stream_gets(stream, &line, LINE_LIMIT) != STREAM_OK)
			_exit(6);
		if (strcmp(dstring_str(&line), "QUIT\r\n") == 0)
			break;
		bytes += dstring_length(&line);
	}
	stream_printf(stream, "bytes=%zu\r\n", bytes);
	tls_session_end(session, stream);
	stream_close(stream);
	_exit(0);
}

static pid_t
start_server(int fds[2], struct tls_context *context)
{
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		perror("socketpair");
		exit(2);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		close(fds[0]);
		serve(fds[1], context);
	}
	close(fds[1]);
	return pid;
}

static int
finish_server(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

struct client_result {
	bool is_started;
	bool is_resumed;
	bool is_trusted;
	bool is_verified;
	char peer_name[256];
	char protocol[32];
	char server_report[512];
	char server_parameters[512]; /* "parameters=key-exchange ...\r\n" */
	char parameters[512];        /* the client's tls_session_describe */
	char error[512];
	int server_status;
};

/*
 * One connection: the client sends "STARTTLS" plus an injected line in
 * the same packet (the server must never read it through TLS), starts
 * TLS, sends "hello", reads the server's report, sends data_lines lines
 * of 1000 bytes and "QUIT", and checks the byte count.
 */
static struct client_result
connect_once(struct tls_context *server, struct tls_context *client, enum tls_verify verify,
             const char *const *match_names, int data_lines)
{
	struct client_result result;
	struct dstring line, error;
	struct tls_session *session;
	struct stream *stream;
	int fds[2];
	pid_t pid = start_server(fds, server);

	memset(&result, 0, sizeof(result));
	dstring_init(&line, LINE_LIMIT * 2);
	dstring_init(&error, DSTRING_NO_LIMIT);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, TIMEOUT_MS);
	stream_puts(stream, "STARTTLS\r\nINJECTED\r\n");
	CHECK(stream_gets(stream, &line, LINE_LIMIT) == STREAM_OK);
	CHECK_STR_EQ(dstring_str(&line), "220 go\r\n");
	session = tls_client_start(client, stream, "localhost", verify, match_names, &error);
	if (session == NULL) {
		snprintf(result.error, sizeof(result.error), "%s", dstring_str(&error));
		stream_close(stream);
		result.server_status = finish_server(pid);
		goto done;
	}
	result.is_started = true;
	result.is_resumed = tls_session_resumed(session);
	result.is_trusted = tls_session_peer_trusted(session);
	result.is_verified = tls_session_peer_verified(session);
	snprintf(result.peer_name, sizeof(result.peer_name), "%s", tls_session_peer_name(session));
	snprintf(result.protocol, sizeof(result.protocol), "%s", tls_session_protocol(session));
	CHECK(*tls_session_cipher(session) != '\0');
	CHECK(tls_session_cipher_bits(session, NULL) >= 128);
	stream_puts(stream, "hello\r\n");
	dstring_reset(&line);
	CHECK(stream_gets(stream, &line, LINE_LIMIT) == STREAM_OK);
	snprintf(result.server_report, sizeof(result.server_report), "%s", dstring_str(&line));
	dstring_reset(&line);
	CHECK(stream_gets(stream, &line, LINE_LIMIT) == STREAM_OK);
	snprintf(result.server_parameters, sizeof(result.server_parameters), "%s",
	         dstring_str(&line));
	dstring_reset(&error);
	tls_session_describe(session, &error);
	snprintf(result.parameters, sizeof(result.parameters), "%s", dstring_str(&error));
	for (int i = 0; i < data_lines; i++) {
		char data[1001];

		memset(data, 'a' + i % 26, 998);
		memcpy(data + 998, "\r\n", 3);
		CHECK(stream_puts(stream, data) == STREAM_OK);
	}
	stream_puts(stream, "QUIT\r\n");
	dstring_reset(&line);
	CHECK(stream_gets(stream, &line, LINE_LIMIT) == STREAM_OK);
	{
		char expected[64];

		snprintf(expected, sizeof(expected), "bytes=%d\r\n", data_lines * 1000);
		CHECK_STR_EQ(dstring_str(&line), expected);
	}
	/* The server ended TLS with close_notify and closed: the end of input. */
	dstring_reset(&line);
	CHECK(stream_gets(stream, &line, LINE_LIMIT) == STREAM_EOF);
	tls_session_end(session, stream);
	stream_close(stream);
	result.server_status = finish_server(pid);
done:
	dstring_fini(&line);
	dstring_fini(&error);
	return result;
}

static bool
contains(const char *text, const char *part)
{
	return strstr(text, part) != NULL;
}

static void
test_handshake_and_resumption(void)
{
	struct tls_context *server = server_context(cert("server.pem"), cert("server.key"), NULL);
	struct tls_context *client = client_context(NULL);
	const char *const localhost[] = {"localhost", NULL};
	struct client_result result;

	result = connect_once(server, client, TLS_VERIFY_CHAIN_AND_NAME, localhost, 300);
	CHECK(result.is_started);
	CHECK(!result.is_resumed);
	CHECK(result.is_trusted);
	CHECK(result.is_verified);
	CHECK_STR_EQ(result.peer_name, "localhost");
	CHECK_STR_EQ(result.protocol, "TLSv1.3");
	/* The injected plaintext line was discarded; "hello" came first. */
	CHECK_STR_EQ(result.server_report, "first=hello protocol=TLSv1.3 resumed=0\r\n");
	CHECK_INT_EQ(result.server_status, 0);
	/* Postfix's words for the key exchange and the server's signature,
	 * the same on both sides (server.pem has a 2048-bit RSA key). */
	CHECK_STR_EQ(result.server_parameters, "parameters=key-exchange X25519 server-signature "
	                                       "RSA-PSS (2048 bits) server-digest SHA256\r\n");
	CHECK_STR_EQ(result.parameters, "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
	                                "server-digest SHA256");

	/* The same client context resumes with the ticket it got. */
	result = connect_once(server, client, TLS_VERIFY_CHAIN_AND_NAME, localhost, 1);
	CHECK(result.is_started);
	CHECK(result.is_resumed);
	CHECK(result.is_verified);
	CHECK_STR_EQ(result.server_report, "first=hello protocol=TLSv1.3 resumed=1\r\n");
	CHECK_INT_EQ(result.server_status, 0);
	/* Resumed: a fresh key exchange, no signature. */
	CHECK_STR_EQ(result.server_parameters, "parameters=key-exchange X25519\r\n");
	CHECK_STR_EQ(result.parameters, "key-exchange X25519");
	tls_context_free(client);

	/* TLS 1.2, and its resumption. */
	client = client_context("<=TLSv1.2");
	result = connect_once(server, client, TLS_VERIFY_CHAIN_AND_NAME, localhost, 20);
	CHECK(result.is_started);
	CHECK_STR_EQ(result.protocol, "TLSv1.2");
	CHECK_STR_EQ(result.server_report, "first=hello protocol=TLSv1.2 resumed=0\r\n");
	CHECK_STR_EQ(result.parameters, "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
	                                "server-digest SHA256");
	result = connect_once(server, client, TLS_VERIFY_CHAIN_AND_NAME, localhost, 1);
	CHECK(result.is_resumed);
	CHECK_STR_EQ(result.server_report, "first=hello protocol=TLSv1.2 resumed=1\r\n");
	/* A resumed TLS 1.2 session has neither: nothing at all. */
	CHECK_STR_EQ(result.server_parameters, "parameters=\r\n");
	tls_context_free(client);
	tls_context_free(server);
}

static void
test_shared_ticket_key(void)
{
	char key_file[512];
	struct tls_context *first, *second, *other;
	struct tls_context *client = client_context(NULL);
	const char *const localhost[] = {"localhost", NULL};
	struct client_result result;
	struct stat status;

	snprintf(key_file, sizeof(key_file), "%s", cert("ticket.key"));
	/* The first context creates the key file, the second reads it. */
	first = server_context(cert("server.pem"), cert("server.key"), key_file);
	CHECK(stat(key_file, &status) == 0);
	CHECK_INT_EQ(status.st_mode & 0777, 0600);
	CHECK_INT_EQ(status.st_size, 80);
	second = server_context(cert("server-chain.pem"), NULL, key_file);
	other = server_context(cert("server.pem"), cert("server.key"), NULL);

	result = connect_once(first, client, TLS_VERIFY_CHAIN_AND_NAME, localhost, 1);
	CHECK(result.is_started && !result.is_resumed);
	/* Another context (another smtpd process) with the same key file. */
	result = connect_once(second, client, TLS_VERIFY_CHAIN_AND_NAME, localhost, 1);
	CHECK(result.is_resumed);
	CHECK_STR_EQ(result.server_report, "first=hello protocol=TLSv1.3 resumed=1\r\n");
	/* A context with its own key cannot decrypt the ticket: full handshake. */
	result = connect_once(other, client, TLS_VERIFY_CHAIN_AND_NAME, localhost, 1);
	CHECK(result.is_started && !result.is_resumed);
	CHECK_STR_EQ(result.server_report, "first=hello protocol=TLSv1.3 resumed=0\r\n");
	tls_context_free(first);
	tls_context_free(second);
	tls_context_free(other);
	tls_context_free(client);
}

static void
test_verification(void)
{
	struct tls_context *self =
	    server_context(cert("selfsigned.pem"), cert("selfsigned.key"), NULL);
	struct tls_context *server = server_context(cert("server.pem"), cert("server.key"), NULL);
	struct tls_context *client = client_context(NULL);
	const char *const localhost[] = {"localhost", NULL};
	const char *const other_names[] = {"mail.example.com", ".example.com", NULL};
	const char *const address[] = {"mail.example.com", "127.0.0.1", NULL};
	const char *const subdomain[] = {"hikyaku.test", ".hikyaku.test", NULL};
	struct client_result result;

	result = connect_once(self, client, TLS_VERIFY_CHAIN_AND_NAME, localhost, 1);
	CHECK(!result.is_started);
	CHECK(contains(result.error, "server certificate not trusted"));
	CHECK(contains(result.error, "self-signed"));

	/* "may"/"encrypt": the same server is used, and known as untrusted. */
	result = connect_once(self, client, TLS_VERIFY_NONE, localhost, 1);
	CHECK(result.is_started);
	CHECK(!result.is_trusted);
	CHECK(!result.is_verified);
	CHECK_STR_EQ(result.peer_name, "localhost");
	CHECK_INT_EQ(result.server_status, 0);

	result = connect_once(server, client, TLS_VERIFY_CHAIN_AND_NAME, other_names, 1);
	CHECK(!result.is_started);
	CHECK(contains(result.error, "hostname mismatch"));
	CHECK(contains(result.error, "mail.example.com"));

	result = connect_once(server, client, TLS_VERIFY_NONE, other_names, 1);
	CHECK(result.is_started);
	CHECK(result.is_trusted);
	CHECK(!result.is_verified);
	CHECK_STR_EQ(result.peer_name, "localhost"); /* the CN */

	/* A name starting with "." matches any subdomain (dot-nexthop). */
	result = connect_once(server, client, TLS_VERIFY_CHAIN_AND_NAME, subdomain, 1);
	CHECK(result.is_started);
	CHECK(result.is_verified);
	CHECK_STR_EQ(result.peer_name, "mx.hikyaku.test");

	result = connect_once(server, client, TLS_VERIFY_CHAIN_AND_NAME, address, 1);
	CHECK(result.is_started);
	CHECK(result.is_verified);
	CHECK_STR_EQ(result.peer_name, "127.0.0.1");
	tls_context_free(self);
	tls_context_free(server);
	tls_context_free(client);
}

/* A raw OpenSSL client limited to TLS 1.1 must be refused by the server. */
static void
test_old_protocol_refused(void)
{
	struct tls_context *server = server_context(cert("server.pem"), cert("server.key"), NULL);
	SSL_CTX *raw = SSL_CTX_new(TLS_client_method());
	char buffer[64];
	SSL *ssl;
	int fds[2];
	pid_t pid;
	ssize_t length;

	SSL_CTX_set_min_proto_version(raw, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(raw, TLS1_1_VERSION);
	SSL_CTX_set_cipher_list(raw, "DEFAULT:@SECLEVEL=0");
	pid = start_server(fds, server);
	CHECK(write(fds[0], "STARTTLS\r\n", 10) == 10);
	length = read(fds[0], buffer, sizeof(buffer));
	CHECK(length == 8 && memcmp(buffer, "220 go\r\n", 8) == 0);
	ssl = SSL_new(raw);
	SSL_set_fd(ssl, fds[0]);
	CHECK(SSL_connect(ssl) != 1);
	/* The server answered with a protocol_version alert, not silence. */
	CHECK(ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	ERR_clear_error();
	SSL_free(ssl);
	close(fds[0]);
	CHECK_INT_EQ(finish_server(pid), 3);
	SSL_CTX_free(raw);
	tls_context_free(server);
}

/* A silent peer times out; a peer speaking something else fails at once. */
static void
test_handshake_failures(void)
{
	struct tls_context *server = server_context(cert("server.pem"), cert("server.key"), NULL);
	struct tls_context *client = client_context(NULL);
	struct dstring error;
	struct stream *stream;
	struct tls_session *session;
	struct timespec start, end;
	long elapsed_ms;
	int fds[2];

	dstring_init(&error, DSTRING_NO_LIMIT);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 300);
	clock_gettime(CLOCK_MONOTONIC, &start);
	session = tls_server_start(server, stream, &error);
	clock_gettime(CLOCK_MONOTONIC, &end);
	elapsed_ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
	CHECK(session == NULL);
	CHECK_STR_EQ(dstring_str(&error), "TLS server handshake: timed out");
	CHECK(elapsed_ms >= 250 && elapsed_ms < 5000);

	/* An HTTP request where a ClientHello belongs. */
	stream_close(stream);
	close(fds[1]);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	CHECK(write(fds[1], "GET / HTTP/1.0\r\n\r\n", 18) == 18);
	dstring_reset(&error);
	CHECK(tls_server_start(server, stream, &error) == NULL);
	CHECK(contains(dstring_str(&error), "TLS server handshake failed: error:"));
	CHECK(contains(dstring_str(&error), "http request"));

	/* The client side: the server hangs up at once. */
	stream_close(stream);
	close(fds[1]);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	stream = stream_open(fds[0]);
	stream_set_timeout(stream, 5000);
	close(fds[1]);
	dstring_reset(&error);
	CHECK(tls_client_start(client, stream, "localhost", TLS_VERIFY_NONE, NULL, &error) == NULL);
	CHECK(contains(dstring_str(&error), "TLS client handshake"));
	stream_close(stream);

	/* Not a socket. */
	CHECK(pipe(fds) == 0);
	stream = stream_open(fds[0]);
	dstring_reset(&error);
	CHECK(tls_server_start(server, stream, &error) == NULL);
	CHECK_STR_EQ(dstring_str(&error), "TLS needs a socket");
	stream_close(stream);
	close(fds[1]);
	dstring_fini(&error);
	tls_context_free(server);
	tls_context_free(client);
}

/* Bad settings give NULL and a reason naming the file or setting. */
static void
expect_server_error(const struct tls_server_settings *settings, const char *expected)
{
	struct dstring error;
	struct tls_context *context;

	dstring_init(&error, DSTRING_NO_LIMIT);
	context = tls_server_context_new(settings, &error);
	CHECK(context == NULL);
	if (!contains(dstring_str(&error), expected)) {
		fprintf(stderr, "error \"%s\" lacks \"%s\"\n", dstring_str(&error), expected);
		CHECK(!"error text");
	}
	tls_context_free(context);
	dstring_fini(&error);
}

static void
test_bad_settings(void)
{
	struct tls_server_settings settings = {.cert_file = "/nonexistent/cert.pem"};
	struct tls_client_settings client = {.CAfile = "/nonexistent/ca.pem"};
	struct dstring error;
	struct tls_context *context;
	char wide_key[512];
	int fd;

	expect_server_error(&settings, "open /nonexistent/cert.pem: No such file or directory");
	settings.cert_file = cert("server.pem");
	settings.key_file = "/nonexistent/key.pem";
	expect_server_error(&settings, "open /nonexistent/key.pem: No such file or directory");
	settings.key_file = cert("selfsigned.key");
	expect_server_error(&settings, "does not match");
	settings.key_file = NULL;
	expect_server_error(&settings, "no private key in the file");
	settings.cert_file = cert("server.key");
	settings.key_file = cert("server.key");
	expect_server_error(&settings, "no certificate in the file");
	settings.cert_file = NULL;
	expect_server_error(&settings, "no certificate");
	settings.chain_files = cert("server.pem");
	expect_server_error(&settings, "a certificate before any private key");
	settings.chain_files = cert("server.key");
	expect_server_error(&settings, "a private key without its certificate");
	settings.chain_files = cert("ext.cnf");
	expect_server_error(&settings, "no private key found");

	settings.chain_files = cert("server-chain.pem");
	settings.protocols = "TLSv9";
	expect_server_error(&settings, "unknown protocol \"TLSv9\"");
	settings.protocols = "!TLSv1.2, !TLSv1.3";
	expect_server_error(&settings, "no protocol left");
	settings.protocols = "<=TLSv1.1";
	expect_server_error(&settings, "no protocol left");
	settings.protocols = NULL;
	settings.ciphers = "null";
	expect_server_error(&settings, "cipher grade \"null\"");
	settings.ciphers = "high";
	settings.exclude_ciphers = "ECDHE";
	expect_server_error(&settings, "no cipher left");
	settings.exclude_ciphers = "bad;name";
	expect_server_error(&settings, "bad cipher name");
	settings.exclude_ciphers = "aNULL, MD5, TLS_AES_128_GCM_SHA256";

	/* A ticket key others can read is refused; a short one too. */
	snprintf(wide_key, sizeof(wide_key), "%s/wide.key", certs);
	fd = open(wide_key, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, "0123456789", 10) == 10);
	close(fd);
	chmod(wide_key, 0644);
	settings.ticket_key_file = wide_key;
	expect_server_error(&settings, "accessible to other users");
	chmod(wide_key, 0600);
	expect_server_error(&settings, "holds 80 bytes");
	settings.ticket_key_file = NULL;

	/* The good remainder of these settings works (chain files win). */
	settings.cert_file = "/nonexistent/ignored.pem";
	dstring_init(&error, DSTRING_NO_LIMIT);
	context = tls_server_context_new(&settings, &error);
	CHECK(context != NULL);
	tls_context_free(context);

	dstring_reset(&error);
	context = tls_client_context_new(&client, &error);
	CHECK(context == NULL);
	CHECK(contains(dstring_str(&error), "/nonexistent/ca.pem"));
	client.CAfile = cert("ca.pem");
	client.cert_file = cert("client.pem");
	client.key_file = cert("client.key");
	dstring_reset(&error);
	context = tls_client_context_new(&client, &error);
	CHECK(context != NULL);
	tls_context_free(context);
	dstring_fini(&error);
}

int
main(void)
{
	alarm(120);
	signal(SIGPIPE, SIG_IGN);
	make_certificates();
	test_bad_settings();
	test_handshake_and_resumption();
	test_shared_ticket_key();
	test_verification();
	test_old_protocol_refused();
	test_handshake_failures();
	remove_certificates();
	return check_finish();
}
