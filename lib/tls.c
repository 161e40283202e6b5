/*
 * tls - the part of the TLS module both sides share: safe context
 * defaults, protocol and cipher settings in Postfix's syntax, the socket
 * BIO, the handshake loop within the stream's time limits, the
 * stream_ops that carry the session's data, and the session accessors.
 * The contract is in tls.h.
 *
 * Why a BIO of our own: the stream never changes the descriptor's flags
 * (it may be blocking), and OpenSSL's socket BIO would then block inside
 * SSL_read. Our BIO uses recv/send with MSG_DONTWAIT (and MSG_NOSIGNAL),
 * exactly as the stream's default I/O does, so every TLS call returns at
 * once and the waiting stays in the stream, bounded by its limits.
 *
 * What it trusts: the caller's settings (checked, with errors naming
 * them). Not the peer: every record goes through OpenSSL, and every loop
 * here is bounded by the stream's limits and a count of waits.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dstring.h"
#include "log.h"
#include "strlist.h"
#include "tls.h"
#include "tls_private.h"
#include "xalloc.h"

/* A handshake needs a few round trips, and a big certificate chain a few
 * more segments; a peer that trickles its records byte by byte gets this
 * many waits at most, each within the stream's limits. */
#define HANDSHAKE_MAX_WAITS 200
/* close_notify is a courtesy: give it a few tries, never wait for the peer. */
#define SHUTDOWN_MAX_WAITS 4
/* How many OpenSSL errors one message carries. */
#define ERROR_QUEUE_MAX 8

/* The key exchange groups, strongest-practical first. */
#define TLS_GROUPS "X25519:P-256:X448:P-384:P-521"
/* TLS 1.3 suites, in the server's order of preference. */
static const char *const tls13_suites[] = {
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
};

/*
 * TLS 1.2 cipher lists per Postfix grade. Only forward-secret (ECDHE)
 * key exchange; AEAD first. "medium" adds AES-CBC with SHA-2 MACs for
 * older TLS 1.2 peers; "high" is AEAD only. Nothing weaker exists here,
 * so "low" and "export" mean "medium".
 */
#define CIPHERS_HIGH "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!PSK:!SRP:!DSS"
#define CIPHERS_MEDIUM                                                                             \
	"ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:!aNULL:!eNULL:!PSK:!SRP:!DSS:!SHA1:!ARIA:!CAMELLIA"

void
tls_append_error_queue(struct dstring *text)
{
	unsigned long code;
	const char *data;
	int flags;
	int count = 0;

	while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		char buffer[256];

		if (count >= ERROR_QUEUE_MAX)
			continue; /* drain the rest */
		ERR_error_string_n(code, buffer, sizeof(buffer));
		dstring_append_printf(text, "%s%s", count > 0 ? "; " : "", buffer);
		if ((flags & ERR_TXT_STRING) && data != NULL && *data != '\0')
			dstring_append_printf(text, " (%s)", data);
		count++;
	}
	if (count == 0)
		dstring_append_str(text, "no further detail");
}

/* --- Protocols: Postfix's syntax, clamped to TLS 1.2 and newer. --- */

static const struct {
	const char *name;
	int version; /* OpenSSL's, 0 where OpenSSL has none */
} protocol_names[] = {
    {"SSLv2", 0},
    {"SSLv3", SSL3_VERSION},
    {"TLSv1", TLS1_VERSION},
    {"TLSv1.1", TLS1_1_VERSION},
    {"TLSv1.2", TLS1_2_VERSION},
    {"TLSv1.3", TLS1_3_VERSION},
};
#define PROTOCOL_COUNT (sizeof(protocol_names) / sizeof(protocol_names[0]))
#define PROTOCOL_FLOOR 4 /* index of TLSv1.2: nothing older is ever enabled */

static int
protocol_index(const char *name)
{
	for (size_t i = 0; i < PROTOCOL_COUNT; i++)
		if (strcmp(protocol_names[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool
apply_protocols(SSL_CTX *ssl_context, const char *protocols, struct dstring *error)
{
	struct strlist items;
	unsigned included = 0, excluded = 0;
	int lowest = 0, highest = (int)PROTOCOL_COUNT - 1;
	int minimum = -1, maximum = -1;
	bool is_ok = true;

	strlist_init(&items);
	if (protocols != NULL && strlist_split(&items, protocols, ", \t\r\n:", error) < 0) {
		strlist_fini(&items);
		return false;
	}
	for (size_t i = 0; i < items.count && is_ok; i++) {
		const char *item = items.items[i];
		const char *name = item;
		int index;

		if (item[0] == '!')
			name = item + 1;
		else if (strncmp(item, ">=", 2) == 0 || strncmp(item, "<=", 2) == 0)
			name = item + 2;
		index = protocol_index(name);
		if (index < 0) {
			dstring_printf(error, "TLS protocols \"%s\": unknown protocol \"%s\"",
			               protocols, item);
			is_ok = false;
		} else if (item[0] == '!') {
			excluded |= 1u << index;
		} else if (item[0] == '>') {
			lowest = index > lowest ? index : lowest;
		} else if (item[0] == '<') {
			highest = index < highest ? index : highest;
		} else {
			included |= 1u << index;
		}
	}
	strlist_fini(&items);
	if (!is_ok)
		return false;
	if (included == 0)
		included = (1u << PROTOCOL_COUNT) - 1;
	for (int i = PROTOCOL_FLOOR > lowest ? PROTOCOL_FLOOR : lowest; i <= highest; i++) {
		if ((included & (1u << i)) && !(excluded & (1u << i))) {
			if (minimum < 0)
				minimum = i;
			maximum = i;
		}
	}
	/* Only TLS 1.2 and 1.3 remain possible, so the range has no holes. */
	if (minimum < 0) {
		dstring_printf(error,
		               "TLS protocols \"%s\": no protocol left (TLSv1.2 "
		               "and TLSv1.3 are the only ones supported)",
		               protocols);
		return false;
	}
	if (!SSL_CTX_set_min_proto_version(ssl_context, protocol_names[minimum].version) ||
	    !SSL_CTX_set_max_proto_version(ssl_context, protocol_names[maximum].version)) {
		dstring_printf(error, "TLS protocols \"%s\": ", protocols);
		tls_append_error_queue(error);
		return false;
	}
	return true;
}

/* --- Ciphers: a Postfix grade plus exclusions. --- */

static bool
is_cipher_token(const char *item)
{
	if (*item == '\0')
		return false;
	for (const char *cursor = item; *cursor != '\0'; cursor++)
		if (!((*cursor >= 'A' && *cursor <= 'Z') || (*cursor >= 'a' && *cursor <= 'z') ||
		      (*cursor >= '0' && *cursor <= '9') || strchr("+-_.", *cursor) != NULL))
			return false;
	return true;
}

static bool
apply_ciphers(SSL_CTX *ssl_context, const char *grade, const char *exclude_ciphers,
              struct dstring *error)
{
	struct dstring list, suites;
	struct strlist excluded;
	bool is_ok = false;

	if (grade == NULL || *grade == '\0' || strcmp(grade, "medium") == 0 ||
	    strcmp(grade, "low") == 0 || strcmp(grade, "export") == 0) {
		grade = "medium";
	} else if (strcmp(grade, "high") != 0) {
		dstring_printf(error,
		               "TLS cipher grade \"%s\": use \"high\" or \"medium\" "
		               "(\"null\" and anonymous ciphers are not supported)",
		               grade);
		return false;
	}
	dstring_init(&list, DSTRING_NO_LIMIT);
	dstring_init(&suites, DSTRING_NO_LIMIT);
	strlist_init(&excluded);
	dstring_set(&list, strcmp(grade, "high") == 0 ? CIPHERS_HIGH : CIPHERS_MEDIUM);
	if (exclude_ciphers != NULL &&
	    strlist_split(&excluded, exclude_ciphers, ", \t\r\n:", error) < 0)
		goto done;
	for (size_t i = 0; i < excluded.count; i++) {
		if (!is_cipher_token(excluded.items[i])) {
			dstring_printf(error, "TLS exclude ciphers: bad cipher name \"%s\"",
			               excluded.items[i]);
			goto done;
		}
		dstring_append_printf(&list, ":!%s", excluded.items[i]);
	}
	for (size_t s = 0; s < sizeof(tls13_suites) / sizeof(tls13_suites[0]); s++) {
		bool is_excluded = false;

		for (size_t i = 0; i < excluded.count; i++)
			if (strcmp(excluded.items[i], tls13_suites[s]) == 0)
				is_excluded = true;
		if (!is_excluded)
			dstring_append_printf(&suites, "%s%s", dstring_length(&suites) ? ":" : "",
			                      tls13_suites[s]);
	}
	if (!SSL_CTX_set_cipher_list(ssl_context, dstring_str(&list))) {
		dstring_printf(error, "TLS ciphers \"%s\": no cipher left: ", dstring_str(&list));
		tls_append_error_queue(error);
		goto done;
	}
	if (dstring_length(&suites) == 0 ||
	    !SSL_CTX_set_ciphersuites(ssl_context, dstring_str(&suites))) {
		dstring_printf(error, "TLS exclude ciphers \"%s\": no TLS 1.3 suite left",
		               exclude_ciphers);
		ERR_clear_error();
		goto done;
	}
	is_ok = true;
done:
	strlist_fini(&excluded);
	dstring_fini(&suites);
	dstring_fini(&list);
	return is_ok;
}

/* With loglevel >= 2, the handshake's steps and alerts, as Postfix logs them. */
static void
info_callback(const SSL *ssl, int where, int value)
{
	const char *side = (where & SSL_ST_CONNECT) ? "SSL_connect" : "SSL_accept";

	if (where & SSL_CB_LOOP)
		log_info("%s:%s", side, SSL_state_string_long(ssl));
	else if (where & SSL_CB_ALERT)
		log_info("SSL3 alert %s:%s:%s", (where & SSL_CB_READ) ? "read" : "write",
		         SSL_alert_type_string_long(value), SSL_alert_desc_string_long(value));
}

SSL_CTX *
tls_ssl_context_new(bool is_server, const char *protocols, const char *ciphers,
                    const char *exclude_ciphers, int loglevel, struct dstring *error)
{
	SSL_CTX *ssl_context = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
	/* No renegotiation at all (OpenSSL 3 refuses a client's by default;
	 * this also refuses the server's and secure renegotiation). SMTP is
	 * self-delimiting (QUIT, the final "."), so a peer that closes without
	 * close_notify truncates nothing: IGNORE_UNEXPECTED_EOF reads that as
	 * the end of input. */
	uint64_t options =
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF;

	if (ssl_context == NULL) {
		dstring_set(error, "cannot make a TLS context: ");
		tls_append_error_queue(error);
		return NULL;
	}
	if (is_server)
		options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
	SSL_CTX_set_options(ssl_context, options);
	SSL_CTX_set_mode(ssl_context, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                                  SSL_MODE_RELEASE_BUFFERS);
	/* A server picks its own strength: 2048-bit RSA, 224-bit ECC, no SHA-1. */
	if (is_server && SSL_CTX_get_security_level(ssl_context) < 2)
		SSL_CTX_set_security_level(ssl_context, 2);
	if (!SSL_CTX_set1_groups_list(ssl_context, TLS_GROUPS)) {
		dstring_set(error, "TLS key exchange groups: ");
		tls_append_error_queue(error);
		goto failed;
	}
	if (!apply_protocols(ssl_context, protocols, error) ||
	    !apply_ciphers(ssl_context, ciphers, exclude_ciphers, error))
		goto failed;
	if (loglevel >= 2)
		SSL_CTX_set_info_callback(ssl_context, info_callback);
	return ssl_context;

failed:
	SSL_CTX_free(ssl_context);
	return NULL;
}

/* --- The socket BIO: recv/send that never block, never raise SIGPIPE. --- */

static int
socket_bio_write(BIO *bio, const char *data, int size)
{
	int fd = (int)(intptr_t)BIO_get_data(bio);
	ssize_t written;

	BIO_clear_retry_flags(bio);
	written = send(fd, data, (size_t)size, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(bio);
	return (int)written;
}

static int
socket_bio_read(BIO *bio, char *buffer, int size)
{
	int fd = (int)(intptr_t)BIO_get_data(bio);
	ssize_t length;

	BIO_clear_retry_flags(bio);
	length = recv(fd, buffer, (size_t)size, MSG_DONTWAIT);
	if (length < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(bio);
	return (int)length;
}

static long
socket_bio_control(BIO *bio, int command, long number, void *pointer)
{
	return command == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
socket_bio_create(BIO *bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

static BIO_METHOD *
socket_bio_method(void)
{
	static BIO_METHOD *method;

	if (method == NULL) {
		method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hikyaku socket");
		if (method == NULL || !BIO_meth_set_write(method, socket_bio_write) ||
		    !BIO_meth_set_read(method, socket_bio_read) ||
		    !BIO_meth_set_ctrl(method, socket_bio_control) ||
		    !BIO_meth_set_create(method, socket_bio_create))
			log_fatal("cannot make the TLS socket BIO method");
	}
	return method;
}

/* --- Sessions. --- */

/*
 * The stream_ops result for an SSL call that did not succeed: -1 and
 * EAGAIN with the events to wait for, 0 at the end of input (read), or
 * -1 with errno for an error (logged with the OpenSSL error text).
 */
static ssize_t
io_failure(struct tls_session *session, int result, int saved_errno, const char *operation,
           short *wait_events)
{
	int code = SSL_get_error(session->ssl, result);
	struct dstring text;

	switch (code) {
	case SSL_ERROR_WANT_READ:
		*wait_events = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*wait_events = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		if (strcmp(operation, "read") == 0)
			return 0;
		errno = EPIPE;
		return -1;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		errno = saved_errno != 0 ? saved_errno : ECONNRESET;
		return -1;
	default:
		dstring_init(&text, DSTRING_NO_LIMIT);
		tls_append_error_queue(&text);
		log_warning("TLS %s error: %s", operation, dstring_str(&text));
		dstring_fini(&text);
		errno = EPROTO;
		return -1;
	}
}

static ssize_t
session_read(void *context, int fd, void *buffer, size_t size, short *wait_events)
{
	struct tls_session *session = context;
	size_t length = 0;
	int result;

	ERR_clear_error();
	errno = 0;
	result = SSL_read_ex(session->ssl, buffer, size, &length);
	if (result == 1)
		return (ssize_t)length;
	return io_failure(session, result, errno, "read", wait_events);
}

static ssize_t
session_write(void *context, int fd, const void *data, size_t size, short *wait_events)
{
	struct tls_session *session = context;
	size_t written = 0;
	int result;

	ERR_clear_error();
	errno = 0;
	result = SSL_write_ex(session->ssl, data, size, &written);
	if (result == 1)
		return (ssize_t)written;
	return io_failure(session, result, errno, "write", wait_events);
}

struct tls_session *
tls_session_new(struct tls_context *context, struct stream *stream, struct dstring *error)
{
	struct tls_session *session;
	struct stat status;
	int fd = stream_fd(stream);
	BIO *bio;

	if (fstat(fd, &status) < 0 || !S_ISSOCK(status.st_mode)) {
		dstring_set(error, "TLS needs a socket");
		return NULL;
	}
	session = xcalloc(1, sizeof(*session));
	session->context = context;
	session->is_server = context->is_server;
	session->peer_name = xstrdup("");
	session->ssl = SSL_new(context->ssl_context);
	bio = BIO_new(socket_bio_method());
	if (session->ssl == NULL || bio == NULL) {
		BIO_free(bio);
		dstring_set(error, "cannot make a TLS session: ");
		tls_append_error_queue(error);
		tls_session_free(session);
		return NULL;
	}
	BIO_set_data(bio, (void *)(intptr_t)fd);
	SSL_set_bio(session->ssl, bio, bio);
	SSL_set_app_data(session->ssl, session);
	session->ops.read = session_read;
	session->ops.write = session_write;
	session->ops.context = session;
	return session;
}

bool
tls_session_handshake(struct tls_session *session, struct stream *stream, struct dstring *error)
{
	const char *step = session->is_server ? "TLS server handshake" : "TLS client handshake";
	size_t discarded;

	if (stream_flush(stream) != STREAM_OK) {
		dstring_printf(error, "%s: cannot send what precedes it: %s", step,
		               strerror(errno));
		return false;
	}
	/* Whatever came before the handshake never counts as protected input. */
	discarded = stream_discard_input(stream);
	if (discarded > 0 && session->context->loglevel >= 1)
		log_info("%s: discarded %zu bytes of plaintext sent before it", step, discarded);
	for (int waits = 0;; waits++) {
		enum stream_status status;
		int result, code, saved_errno;
		short events;

		ERR_clear_error();
		errno = 0;
		result = SSL_do_handshake(session->ssl);
		if (result == 1)
			return true;
		saved_errno = errno;
		code = SSL_get_error(session->ssl, result);
		if (code == SSL_ERROR_WANT_READ) {
			events = POLLIN;
		} else if (code == SSL_ERROR_WANT_WRITE) {
			events = POLLOUT;
		} else if (code == SSL_ERROR_SYSCALL && saved_errno != 0) {
			ERR_clear_error();
			dstring_printf(error, "%s: %s", step, strerror(saved_errno));
			return false;
		} else if (code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN) {
			ERR_clear_error();
			dstring_printf(error, "%s: connection closed by the peer", step);
			return false;
		} else {
			dstring_printf(error, "%s failed: ", step);
			tls_append_error_queue(error);
			return false;
		}
		if (waits >= HANDSHAKE_MAX_WAITS) {
			dstring_printf(error, "%s: too many round trips", step);
			return false;
		}
		status = stream_wait(stream, events);
		if (status == STREAM_TIMEOUT) {
			dstring_printf(error, "%s: timed out", step);
			return false;
		}
		if (status != STREAM_OK) {
			dstring_printf(error, "%s: %s", step, strerror(errno));
			return false;
		}
	}
}

void
tls_session_install(struct tls_session *session, struct stream *stream)
{
	stream_set_ops(stream, &session->ops);
}

void
tls_session_free(struct tls_session *session)
{
	if (session == NULL)
		return;
	SSL_free(session->ssl);
	free(session->peer_name);
	free(session->cache_key);
	free(session);
}

void
tls_session_end(struct tls_session *session, struct stream *stream)
{
	if (session == NULL)
		return;
	/* Output written through TLS must leave before close_notify. */
	if (stream_flush(stream) == STREAM_OK) {
		for (int waits = 0; waits < SHUTDOWN_MAX_WAITS; waits++) {
			int result, code;

			ERR_clear_error();
			result = SSL_shutdown(session->ssl);
			if (result >= 0)
				break; /* sent; we do not wait for the peer's */
			code = SSL_get_error(session->ssl, result);
			if (code != SSL_ERROR_WANT_WRITE ||
			    stream_wait(stream, POLLOUT) != STREAM_OK)
				break;
		}
	}
	ERR_clear_error();
	stream_set_ops(stream, NULL);
	tls_session_free(session);
}

void
tls_context_free(struct tls_context *context)
{
	if (context == NULL)
		return;
	SSL_CTX_free(context->ssl_context);
	tls_client_cache_free(context->client_cache);
	free(context);
}

const char *
tls_session_protocol(const struct tls_session *session)
{
	return SSL_get_version(session->ssl);
}

const char *
tls_session_cipher(const struct tls_session *session)
{
	const char *name = SSL_get_cipher_name(session->ssl);

	return name != NULL ? name : "";
}

int
tls_session_cipher_bits(const struct tls_session *session, int *algorithm_bits)
{
	int ignored;

	return SSL_get_cipher_bits(session->ssl,
	                           algorithm_bits != NULL ? algorithm_bits : &ignored);
}

bool
tls_session_resumed(const struct tls_session *session)
{
	return SSL_session_reused(session->ssl) == 1;
}

bool
tls_session_peer_trusted(const struct tls_session *session)
{
	return session->is_peer_trusted;
}

bool
tls_session_peer_verified(const struct tls_session *session)
{
	return session->is_peer_verified;
}

const char *
tls_session_peer_name(const struct tls_session *session)
{
	return session->peer_name;
}

/* --- What the handshake used besides the cipher (Postfix's words). --- */

/* curve_name: "P-256" for a NIST curve, else OpenSSL's short name. */
static const char *
curve_name(int nid)
{
	const char *name = EC_curve_nid2nist(nid);

	return name != NULL ? name : OBJ_nid2sn(nid);
}

/* key_curve: the curve of an EC key, NULL when it has none. */
static const char *
key_curve(const EVP_PKEY *key)
{
	char group[80];
	int nid;

	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                   NULL) != 1)
		return NULL;
	nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	return nid != NID_undef ? curve_name(nid) : NULL;
}

/* set_key_exchange: from the group both sides agreed on. */
static void
set_key_exchange(SSL *ssl, struct tls_session_parameters *parameters)
{
	int nid = (int)SSL_get_negotiated_group(ssl);

	/* A resumed TLS 1.2 session exchanged no key now (OpenSSL still
	 * reports the original session's group). */
	if (nid <= 0 || (SSL_session_reused(ssl) && SSL_version(ssl) < TLS1_3_VERSION))
		return;
	switch (nid) {
	case NID_X25519:
		parameters->key_exchange = "X25519";
		break;
	case NID_X448:
		parameters->key_exchange = "X448";
		break;
	case NID_ffdhe2048:
	case NID_ffdhe3072:
	case NID_ffdhe4096:
	case NID_ffdhe6144:
	case NID_ffdhe8192:
		parameters->key_exchange = "DHE";
		parameters->key_exchange_bits = nid == NID_ffdhe2048   ? 2048
		                                : nid == NID_ffdhe3072 ? 3072
		                                : nid == NID_ffdhe4096 ? 4096
		                                : nid == NID_ffdhe6144 ? 6144
		                                                       : 8192;
		break;
	default:
		if (EC_curve_nid2nist(nid) != NULL || OBJ_nid2sn(nid) != NULL) {
			/* An EC curve OpenSSL knows. */
			parameters->key_exchange = "ECDHE";
			parameters->key_exchange_curve = curve_name(nid);
		} else {
			/* A group from a provider: its TLS name. */
			parameters->key_exchange = SSL_group_to_name(ssl, nid);
		}
		break;
	}
}

void
tls_session_get_parameters(const struct tls_session *session,
                           struct tls_session_parameters *parameters)
{
	SSL *ssl = session->ssl;
	const EVP_PKEY *key;
	int digest = NID_undef, type = NID_undef;
	bool has_signature;

	memset(parameters, 0, sizeof(*parameters));
	set_key_exchange(ssl, parameters);
	/* The server signs; the client learns what the server used. */
	if (session->is_server) {
		has_signature = SSL_get_signature_nid(ssl, &digest) == 1;
		if (SSL_get_signature_type_nid(ssl, &type) != 1)
			type = NID_undef;
		key = SSL_get_privatekey(ssl);
	} else {
		X509 *certificate = SSL_get0_peer_certificate(ssl);

		has_signature = SSL_get_peer_signature_nid(ssl, &digest) == 1;
		if (SSL_get_peer_signature_type_nid(ssl, &type) != 1)
			type = NID_undef;
		key = certificate != NULL ? X509_get0_pubkey(certificate) : NULL;
	}
	/* A resumed session was signed for earlier, not now. */
	if (!has_signature || key == NULL)
		return;
	if (type == NID_undef)
		type = EVP_PKEY_get_base_id(key);
	switch (type) {
	case EVP_PKEY_RSA:
		parameters->signature = "RSA";
		parameters->signature_bits = EVP_PKEY_get_bits(key);
		break;
	case EVP_PKEY_RSA_PSS:
		parameters->signature = "RSA-PSS";
		parameters->signature_bits = EVP_PKEY_get_bits(key);
		break;
	case EVP_PKEY_EC:
		parameters->signature = "ECDSA";
		parameters->signature_curve = key_curve(key);
		break;
	case EVP_PKEY_ED25519:
		parameters->signature = "ED25519";
		break;
	case EVP_PKEY_ED448:
		parameters->signature = "ED448";
		break;
	default:
		parameters->signature = OBJ_nid2sn(type);
		break;
	}
	if (digest != NID_undef)
		parameters->signature_digest = OBJ_nid2sn(digest);
}

void
tls_session_describe(const struct tls_session *session, struct dstring *out)
{
	struct tls_session_parameters parameters;
	const char *space = "";

	tls_session_get_parameters(session, &parameters);
	if (parameters.key_exchange != NULL) {
		dstring_append_printf(out, "key-exchange %s", parameters.key_exchange);
		if (parameters.key_exchange_curve != NULL)
			dstring_append_printf(out, " (%s)", parameters.key_exchange_curve);
		else if (parameters.key_exchange_bits > 0)
			dstring_append_printf(out, " (%d bits)", parameters.key_exchange_bits);
		space = " ";
	}
	if (parameters.signature != NULL) {
		dstring_append_printf(out, "%sserver-signature %s", space, parameters.signature);
		if (parameters.signature_curve != NULL)
			dstring_append_printf(out, " (%s)", parameters.signature_curve);
		else if (parameters.signature_bits > 0)
			dstring_append_printf(out, " (%d bits)", parameters.signature_bits);
		if (parameters.signature_digest != NULL)
			dstring_append_printf(out, " server-digest %s",
			                      parameters.signature_digest);
	}
}
