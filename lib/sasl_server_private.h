/*
 * sasl_server_private - what lib/sasl_server.c shares with its backends
 * (lib/sasl_server_cyrus.c, lib/sasl_server_dovecot.c) and with their unit
 * tests and fuzz target. Not for smtpd: it uses lib/sasl_server.h only.
 *
 * Contract between the dispatcher and a backend:
 * - The dispatcher decodes the client's base64 and checks the mechanism
 *   against the offered list before calling the backend; the backend sees
 *   raw bytes and returns a raw challenge, which the dispatcher encodes.
 * - The backend owns its per-session state (void *) from open to close.
 * - A backend never logs a client response or password.
 */
#ifndef HIKYAKU_SASL_SERVER_PRIVATE_H
#define HIKYAKU_SASL_SERVER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "sasl_server.h"

struct dstring;

/* Security options (Postfix names), as bits. */
enum sasl_security_flag {
	SASL_SECURITY_NOANONYMOUS = 1 << 0,
	SASL_SECURITY_NOPLAINTEXT = 1 << 1,
	SASL_SECURITY_NOACTIVE = 1 << 2,
	SASL_SECURITY_NODICTIONARY = 1 << 3,
	SASL_SECURITY_MUTUAL_AUTH = 1 << 4,
	SASL_SECURITY_FORWARD_SECRECY = 1 << 5,
};

/*
 * sasl_server_security_flags: parse Postfix's security options (separated
 * by commas and/or white space, case-insensitive). Returns 0, or -1 with
 * the unknown words in error (the known ones are still in *flags).
 */
int sasl_server_security_flags(const char *options, unsigned *flags, struct dstring *error);

/* The longest mechanism name (RFC 4422 says 20) and the most steps. */
#define SASL_SERVER_MECHANISM_MAX 20
#define SASL_SERVER_STEP_MAX 16
/* The largest decoded client response or backend challenge. */
#define SASL_SERVER_DATA_MAX (1024 * 1024)

/* sasl_server_mechanism_name_ok: RFC 4422 characters, 1..20 long. */
bool sasl_server_mechanism_name_ok(const char *name, size_t length);

struct sasl_server_backend {
	const char *type;
	int (*init)(const char *path, const char *config_path, struct dstring *error);
	void *(*open)(const struct sasl_server_settings *settings, struct dstring *error);
	/* Append the allowed mechanisms, space-separated, upper case. */
	void (*mechanisms)(void *state, unsigned security_flags, struct dstring *list);
	/* response is NULL when there was no initial response. On CONTINUE
	 * output holds the raw challenge; on FAIL a reason for the log; on
	 * DONE username holds the authenticated name. */
	enum sasl_server_status (*start)(void *state, const char *mechanism, const char *response,
	                                 size_t length, struct dstring *output,
	                                 struct dstring *username);
	enum sasl_server_status (*step)(void *state, const char *response, size_t length,
	                                struct dstring *output, struct dstring *username);
	void (*close)(void *state);
};

extern const struct sasl_server_backend sasl_server_cyrus_backend;
extern const struct sasl_server_backend sasl_server_dovecot_backend;

/* --- Dovecot's protocol, parsed apart from the I/O (fuzzed) --- */

/* Dovecot MECH line flags, as bits. */
enum sasl_dovecot_mechanism_flag {
	SASL_DOVECOT_ANONYMOUS = 1 << 0,
	SASL_DOVECOT_PLAINTEXT = 1 << 1,
	SASL_DOVECOT_DICTIONARY = 1 << 2,
	SASL_DOVECOT_ACTIVE = 1 << 3,
	SASL_DOVECOT_FORWARD_SECRECY = 1 << 4,
	SASL_DOVECOT_MUTUAL_AUTH = 1 << 5,
	SASL_DOVECOT_PRIVATE = 1 << 6,
};

enum sasl_dovecot_reply_kind {
	SASL_DOVECOT_REPLY_OK,
	SASL_DOVECOT_REPLY_CONT,
	SASL_DOVECOT_REPLY_FAIL,
	SASL_DOVECOT_REPLY_OTHER, /* a command we do not know: ignored */
};

struct sasl_dovecot_reply {
	enum sasl_dovecot_reply_kind kind;
	unsigned long id;
	struct dstring *data;   /* CONT: the base64 challenge as sent */
	struct dstring *user;   /* OK, FAIL: user=, unescaped ("" if none) */
	struct dstring *reason; /* FAIL: reason=, unescaped ("" if none) */
	bool is_temporary;      /* FAIL: "temp" or code=temp_fail */
};

/* The longest line we read from the auth server (Dovecot's own limit is
 * 16 KiB; challenges are small). */
#define SASL_DOVECOT_LINE_MAX 65536

void sasl_dovecot_reply_init(struct sasl_dovecot_reply *reply);
void sasl_dovecot_reply_fini(struct sasl_dovecot_reply *reply);

/*
 * sasl_dovecot_parse_reply: one server line after the handshake, without
 * its "\n". Returns 0, or -1 with a reason in error (a malformed line).
 */
int sasl_dovecot_parse_reply(const char *line, size_t length, struct sasl_dovecot_reply *reply,
                             struct dstring *error);

/*
 * sasl_dovecot_parse_mech: a handshake "MECH" line (without "\n"). Puts the
 * name in name (upper case) and the flags in *flags. Returns 0, or -1 for a
 * malformed line or an unusable mechanism name.
 */
int sasl_dovecot_parse_mech(const char *line, size_t length, struct dstring *name, unsigned *flags);

/* sasl_dovecot_unescape: append Dovecot's tab-escaped text, decoded. */
int sasl_dovecot_unescape(struct dstring *out, const char *text, size_t length);

#endif
