/*
 * tls_certificate - load certificates and private keys from PEM files into
 * an SSL_CTX, in Postfix's two forms: a certificate file plus a key file
 * (*_tls_cert_file, *_tls_key_file), or a list of chain files each holding
 * private keys, each directly followed by its certificate chain
 * (*_tls_chain_files, which can give an RSA and an ECDSA identity).
 *
 * Contract: every error names the file and what was wrong with it; a key
 * that does not match its certificate is refused here, at start-up, not
 * at the first handshake. Encrypted keys are refused (a daemon has nobody
 * to ask for a passphrase; OpenSSL would otherwise prompt on a terminal).
 *
 * What it trusts: the administrator's files, up to a size bound. It reads
 * each file once into memory, so a file is checked and parsed as one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dstring.h"
#include "log.h"
#include "strlist.h"
#include "tls_private.h"
#include "xalloc.h"

/* A PEM file bigger than this is not a key or a certificate chain. */
#define PEM_FILE_MAX (1024 * 1024)
/* Identities (key + chain) in one chain_files setting. */
#define IDENTITY_MAX 8

/* One private key with its certificate and chain. */
struct identity {
	EVP_PKEY *key;
	X509 *certificate;
	STACK_OF(X509) * chain;
	const char *file; /* where the key came from, for errors */
};

static void
identity_fini(struct identity *identity)
{
	EVP_PKEY_free(identity->key);
	X509_free(identity->certificate);
	sk_X509_pop_free(identity->chain, X509_free);
	memset(identity, 0, sizeof(*identity));
}

/* read_file: the whole file in a memory BIO; NULL and "open PATH: ...". */
static BIO *
read_file(const char *path, struct dstring *error)
{
	struct stat status;
	char *contents;
	size_t done = 0;
	BIO *bio;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		dstring_printf(error, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &status) < 0 || !S_ISREG(status.st_mode) || status.st_size > PEM_FILE_MAX) {
		dstring_printf(error, "%s: not a regular file of at most %d bytes", path,
		               PEM_FILE_MAX);
		close(fd);
		return NULL;
	}
	contents = xmalloc((size_t)status.st_size + 1);
	while (done < (size_t)status.st_size) {
		ssize_t length = read(fd, contents + done, (size_t)status.st_size - done);

		if (length < 0 && errno == EINTR)
			continue;
		if (length <= 0)
			break;
		done += (size_t)length;
	}
	close(fd);
	if (done == 0) {
		dstring_printf(error, "%s: empty or unreadable file", path);
		free(contents);
		return NULL;
	}
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || BIO_write(bio, contents, (int)done) != (int)done)
		log_fatal("out of memory reading %s", path);
	free(contents);
	return bio;
}

/*
 * next_object: the next PEM object of the file: a key (*key) or a
 * certificate (*certificate). Returns 1 for an object, 0 at the end of
 * the file, -1 and a reason for a bad object.
 */
static int
next_object(BIO *bio, const char *path, EVP_PKEY **key, X509 **certificate, struct dstring *error)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *cursor;
	long length = 0;
	int result = -1;

	*key = NULL;
	*certificate = NULL;
	ERR_clear_error();
	if (!PEM_read_bio(bio, &name, &header, &data, &length)) {
		unsigned long code = ERR_peek_last_error();

		if (ERR_GET_LIB(code) == ERR_LIB_PEM &&
		    ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
			ERR_clear_error();
			return 0;
		}
		dstring_printf(error, "%s: bad PEM data: ", path);
		tls_append_error_queue(error);
		return -1;
	}
	cursor = data;
	if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "TRUSTED CERTIFICATE") == 0) {
		*certificate = strcmp(name, "CERTIFICATE") == 0
		                   ? d2i_X509(NULL, &cursor, length)
		                   : d2i_X509_AUX(NULL, &cursor, length);
		if (*certificate == NULL) {
			dstring_printf(error, "%s: bad certificate: ", path);
			tls_append_error_queue(error);
		} else {
			result = 1;
		}
	} else if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 ||
	           (header != NULL && strstr(header, "ENCRYPTED") != NULL)) {
		dstring_printf(error,
		               "%s: the private key is encrypted (a daemon cannot "
		               "ask for its passphrase)",
		               path);
	} else if (strstr(name, "PRIVATE KEY") != NULL) {
		*key = d2i_AutoPrivateKey(NULL, &cursor, length);
		if (*key == NULL) {
			dstring_printf(error, "%s: bad private key: ", path);
			tls_append_error_queue(error);
		} else {
			result = 1;
		}
	} else {
		result = 1; /* parameters and other objects: not ours, skipped */
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	return result;
}

static bool
install_identity(SSL_CTX *ssl_context, struct identity *identity, struct dstring *error)
{
	ERR_clear_error();
	if (!SSL_CTX_use_cert_and_key(ssl_context, identity->certificate, identity->key,
	                              identity->chain, 1)) {
		dstring_printf(error,
		               "%s: the private key does not match its certificate, or "
		               "either is unusable: ",
		               identity->file);
		tls_append_error_queue(error);
		return false;
	}
	return true;
}

bool
tls_load_cert_and_key(SSL_CTX *ssl_context, const char *cert_file, const char *key_file,
                      struct dstring *error)
{
	struct identity identity = {.file = NULL};
	EVP_PKEY *key;
	X509 *certificate;
	bool is_ok = false;
	int result;
	BIO *bio;

	if (key_file == NULL || *key_file == '\0')
		key_file = cert_file;
	identity.file = key_file;
	identity.chain = sk_X509_new_null();
	if (identity.chain == NULL)
		log_fatal("out of memory");
	if ((bio = read_file(cert_file, error)) == NULL)
		goto done;
	while ((result = next_object(bio, cert_file, &key, &certificate, error)) > 0) {
		EVP_PKEY_free(key); /* keys in the certificate file: read below */
		if (certificate == NULL)
			continue;
		if (identity.certificate == NULL)
			identity.certificate = certificate;
		else if (!sk_X509_push(identity.chain, certificate))
			log_fatal("out of memory");
	}
	BIO_free(bio);
	if (result < 0)
		goto done;
	if (identity.certificate == NULL) {
		dstring_printf(error, "%s: no certificate in the file", cert_file);
		goto done;
	}
	if ((bio = read_file(key_file, error)) == NULL)
		goto done;
	while (identity.key == NULL &&
	       (result = next_object(bio, key_file, &key, &certificate, error)) > 0) {
		X509_free(certificate);
		identity.key = key;
	}
	BIO_free(bio);
	if (result < 0)
		goto done;
	if (identity.key == NULL) {
		dstring_printf(error, "%s: no private key in the file", key_file);
		goto done;
	}
	is_ok = install_identity(ssl_context, &identity, error);
done:
	identity_fini(&identity);
	return is_ok;
}

bool
tls_load_chain_files(SSL_CTX *ssl_context, const char *chain_files, struct dstring *error)
{
	struct identity identities[IDENTITY_MAX];
	struct strlist files;
	size_t count = 0;
	bool is_ok = false;

	memset(identities, 0, sizeof(identities));
	strlist_init(&files);
	if (strlist_split(&files, chain_files, STRLIST_COMMA_SPACE, error) < 0)
		goto done;
	for (size_t i = 0; i < files.count; i++) {
		const char *path = files.items[i];
		EVP_PKEY *key;
		X509 *certificate;
		int result;
		BIO *bio = read_file(path, error);

		if (bio == NULL)
			goto done;
		while ((result = next_object(bio, path, &key, &certificate, error)) > 0) {
			struct identity *current = count > 0 ? &identities[count - 1] : NULL;

			if (key != NULL) {
				if (count == IDENTITY_MAX) {
					EVP_PKEY_free(key);
					dstring_printf(error, "%s: more than %d private keys", path,
					               IDENTITY_MAX);
					result = -1;
					break;
				}
				current = &identities[count++];
				current->key = key;
				current->file = path;
				current->chain = sk_X509_new_null();
				if (current->chain == NULL)
					log_fatal("out of memory");
			} else if (certificate != NULL && current == NULL) {
				X509_free(certificate);
				dstring_printf(error,
				               "%s: a certificate before any private "
				               "key (each key comes first, then its chain)",
				               path);
				result = -1;
				break;
			} else if (certificate != NULL && current->certificate == NULL) {
				current->certificate = certificate;
			} else if (certificate != NULL &&
			           !sk_X509_push(current->chain, certificate)) {
				log_fatal("out of memory");
			}
		}
		BIO_free(bio);
		if (result < 0)
			goto done;
	}
	if (count == 0) {
		dstring_printf(error, "TLS chain files \"%s\": no private key found", chain_files);
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		if (identities[i].certificate == NULL) {
			dstring_printf(error, "%s: a private key without its certificate",
			               identities[i].file);
			goto done;
		}
		if (!install_identity(ssl_context, &identities[i], error))
			goto done;
	}
	is_ok = true;
done:
	for (size_t i = 0; i < count; i++)
		identity_fini(&identities[i]);
	strlist_fini(&files);
	return is_ok;
}
