/*
 * tls_server - the server side of lib/tls: a context from the smtpd_tls_*
 * settings, and the server handshake. The contract is in tls.h.
 *
 * Session resumption uses tickets only (no server-side cache, so no
 * shared state beyond the ticket keys): the client keeps the session,
 * encrypted under the server's ticket key. For a client to resume on any
 * smtpd process, all processes must use the same key: ticket_key_file
 * holds it, made once (80 random bytes, mode 0600) by whichever process
 * first finds it missing, atomically (written aside, then link(2)ed into
 * place, so a racing process reads the winner's complete file).
 *
 * What it trusts: the settings and the files they name. The ticket key
 * file must be private to its owner (mode 0600 or stricter): a key that
 * others can read lets them decrypt resumed sessions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "dstring.h"
#include "log.h"
#include "tls.h"
#include "tls_private.h"
#include "xalloc.h"

/* OpenSSL's ticket key: 16 bytes of name, 32 of HMAC secret, 32 of AES key. */
#define TICKET_KEY_SIZE 80
/* Resumed sessions are only offered to the same kind of server. */
#define SESSION_ID_CONTEXT "hikyaku-smtpd"
#define DEFAULT_SESSION_TIMEOUT 3600

/* read_ticket_key: 1 read, 0 the file does not exist, -1 and a reason. */
static int
read_ticket_key(const char *path, unsigned char key[TICKET_KEY_SIZE], struct dstring *error)
{
	struct stat status;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		dstring_printf(error, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &status) < 0 || !S_ISREG(status.st_mode)) {
		dstring_printf(error, "%s: not a regular file", path);
		goto failed;
	}
	if ((status.st_mode & 077) != 0) {
		dstring_printf(error,
		               "%s: the TLS session ticket key is accessible to other "
		               "users (mode %03o); make it mode 0600",
		               path, (unsigned)(status.st_mode & 0777));
		goto failed;
	}
	if (status.st_size != TICKET_KEY_SIZE) {
		dstring_printf(error, "%s: a TLS session ticket key file holds %d bytes, not %lld",
		               path, TICKET_KEY_SIZE, (long long)status.st_size);
		goto failed;
	}
	while (done < TICKET_KEY_SIZE) {
		ssize_t length = read(fd, key + done, TICKET_KEY_SIZE - done);

		if (length < 0 && errno == EINTR)
			continue;
		if (length <= 0) {
			dstring_printf(error, "read %s: %s", path,
			               length < 0 ? strerror(errno) : "file shrank");
			goto failed;
		}
		done += (size_t)length;
	}
	close(fd);
	return 1;

failed:
	close(fd);
	return -1;
}

/* make_ticket_key: create the key file, or read the one a racing process made. */
static bool
make_ticket_key(const char *path, unsigned char key[TICKET_KEY_SIZE], struct dstring *error)
{
	struct dstring temporary;
	bool is_ok = false;
	int fd;

	if (RAND_priv_bytes(key, TICKET_KEY_SIZE) != 1) {
		dstring_set(error, "cannot make a TLS session ticket key: ");
		tls_append_error_queue(error);
		return false;
	}
	dstring_init(&temporary, DSTRING_NO_LIMIT);
	dstring_printf(&temporary, "%s.XXXXXX", path);
	fd = mkstemp(temporary.data); /* mode 0600 */
	if (fd < 0) {
		dstring_printf(error, "create %s: %s", dstring_str(&temporary), strerror(errno));
		dstring_fini(&temporary);
		return false;
	}
	if (write(fd, key, TICKET_KEY_SIZE) != TICKET_KEY_SIZE || fsync(fd) < 0) {
		dstring_printf(error, "write %s: %s", dstring_str(&temporary), strerror(errno));
	} else if (link(dstring_str(&temporary), path) == 0) {
		is_ok = true;
	} else if (errno == EEXIST) {
		is_ok = read_ticket_key(path, key, error) == 1;
	} else {
		dstring_printf(error, "link %s to %s: %s", dstring_str(&temporary), path,
		               strerror(errno));
	}
	close(fd);
	unlink(dstring_str(&temporary));
	dstring_fini(&temporary);
	return is_ok;
}

static bool
load_ticket_key(SSL_CTX *ssl_context, const char *path, struct dstring *error)
{
	unsigned char key[TICKET_KEY_SIZE];
	int result = read_ticket_key(path, key, error);
	bool is_ok;

	if (result < 0 || (result == 0 && !make_ticket_key(path, key, error)))
		return false;
	is_ok = SSL_CTX_set_tlsext_ticket_keys(ssl_context, key, sizeof(key)) == 1;
	OPENSSL_cleanse(key, sizeof(key));
	if (!is_ok) {
		dstring_printf(error, "%s: cannot use the TLS session ticket key: ", path);
		tls_append_error_queue(error);
	}
	return is_ok;
}

struct tls_context *
tls_server_context_new(const struct tls_server_settings *settings, struct dstring *error)
{
	struct tls_context *context;
	SSL_CTX *ssl_context;
	bool is_ok;

	ssl_context = tls_ssl_context_new(true, settings->protocols, settings->ciphers,
	                                  settings->exclude_ciphers, settings->loglevel, error);
	if (ssl_context == NULL)
		return NULL;
	if (settings->chain_files != NULL && *settings->chain_files != '\0') {
		is_ok = tls_load_chain_files(ssl_context, settings->chain_files, error);
	} else if (settings->cert_file != NULL && *settings->cert_file != '\0') {
		is_ok = tls_load_cert_and_key(ssl_context, settings->cert_file, settings->key_file,
		                              error);
	} else {
		dstring_set(error, "TLS server: no certificate (set smtpd_tls_chain_files, or "
		                   "smtpd_tls_cert_file and smtpd_tls_key_file)");
		is_ok = false;
	}
	/* Tickets alone: no per-process cache that other processes cannot see. */
	if (is_ok) {
		SSL_CTX_set_session_cache_mode(ssl_context, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_timeout(ssl_context, settings->session_cache_timeout > 0
		                                     ? settings->session_cache_timeout
		                                     : DEFAULT_SESSION_TIMEOUT);
		SSL_CTX_set_num_tickets(ssl_context, 1);
		is_ok = SSL_CTX_set_session_id_context(ssl_context,
		                                       (const unsigned char *)SESSION_ID_CONTEXT,
		                                       sizeof(SESSION_ID_CONTEXT) - 1) == 1;
		if (!is_ok)
			dstring_set(error, "cannot set the TLS session id context");
	}
	if (is_ok && settings->ticket_key_file != NULL && *settings->ticket_key_file != '\0')
		is_ok = load_ticket_key(ssl_context, settings->ticket_key_file, error);
	if (!is_ok) {
		SSL_CTX_free(ssl_context);
		ERR_clear_error();
		return NULL;
	}
	context = xcalloc(1, sizeof(*context));
	context->ssl_context = ssl_context;
	context->is_server = true;
	context->loglevel = settings->loglevel;
	return context;
}

struct tls_session *
tls_server_start(struct tls_context *context, struct stream *stream, struct dstring *error)
{
	struct tls_session *session;

	if (!context->is_server)
		log_panic("tls_server_start: a client context");
	session = tls_session_new(context, stream, error);
	if (session == NULL)
		return NULL;
	SSL_set_accept_state(session->ssl);
	if (!tls_session_handshake(session, stream, error)) {
		tls_session_free(session);
		return NULL;
	}
	tls_session_install(session, stream);
	return session;
}
