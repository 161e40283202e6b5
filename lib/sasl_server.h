/*
 * sasl_server - SASL authentication for the SMTP server (RFC 4954 AUTH),
 * with the actual work done by a backend: the Cyrus SASL library
 * (smtpd_sasl_type = cyrus) or a Dovecot auth server reached over a UNIX
 * socket (smtpd_sasl_type = dovecot). The backends sit behind a small table
 * of functions (lib/sasl_server_private.h); this file pair is the only
 * interface smtpd sees.
 *
 * Contract:
 * - sasl_server_setup once per process, before the chroot jail and before
 *   dropping privileges: Cyrus loads its plugins and reads
 *   $cyrus_sasl_config_path/<path>.conf then. For Dovecot it only records
 *   the socket path (relative paths are relative to the current directory,
 *   which for smtpd is the queue directory, inside or outside the jail).
 * - sasl_server_open per SMTP session (may be lazy: called at EHLO). NULL
 *   means the backend is unreachable; smtpd then offers no AUTH and logs
 *   the error text as a warning.
 * - One authentication exchange at a time: sasl_server_begin, then
 *   sasl_server_continue while it returns SASL_SERVER_CONTINUE. After DONE,
 *   FAIL, TEMPFAIL, BAD_INPUT or BAD_MECHANISM the exchange is over. After
 *   a failure a new sasl_server_begin may follow; after DONE the session
 *   is spent (Cyrus cannot restart it): smtpd refuses a second AUTH with
 *   503, as RFC 4954 requires. A client cancel ("*") needs no call: the
 *   next sasl_server_begin abandons the unfinished exchange.
 * - Strings going to and from the SMTP client are base64 (the caller
 *   passes the client's text unchanged and sends "334 " + output).
 *
 * Security: nothing here logs a password or a client response; a failed
 * attempt is for the caller to log (with the client address). Every byte
 * from the client and from the backend is treated as hostile: bounded
 * lengths, bounded number of steps, time limits on the backend socket.
 * A backend that misbehaves gives SASL_SERVER_TEMPFAIL, never a crash.
 */
#ifndef HIKYAKU_SASL_SERVER_H
#define HIKYAKU_SASL_SERVER_H

#include <stdbool.h>

struct dstring;
struct sasl_server;

/*
 * sasl_server_setup: once per process, before the jail. type is "cyrus" or
 * "dovecot" (smtpd_sasl_type); path is smtpd_sasl_path (Cyrus: the
 * application name, default "smtpd", so the library reads smtpd.conf;
 * Dovecot: the socket, e.g. "private/auth"); config_path is
 * cyrus_sasl_config_path (empty or NULL: the library's default search
 * path). Returns 0, or -1 with a one-line reason in error.
 */
int sasl_server_setup(const char *type, const char *path,
                                              const char *config_path, struct dstring *error);

struct sasl_server_settings {
	const char *service;                         /* "smtp" (smtpd_sasl_service) */
	const char *local_domain;                    /* smtpd_sasl_local_domain (realm) */
	const char *client_address, *server_address; /* for logging/backends */
	bool is_tls; /* the session runs over TLS (Dovecot "secured") */
};

/* NULL: backend unreachable (smtpd then offers no AUTH, logs a warning). */
struct sasl_server *sasl_server_open(const struct sasl_server_settings *settings,
                                     struct dstring *error);

/*
 * sasl_server_mechanisms: the mechanisms allowed by security_options
 * (Postfix syntax, separated by white space or commas: noanonymous,
 * noplaintext, noactive, nodictionary, mutual_auth, forward_secrecy;
 * smtpd passes smtpd_sasl_security_options or
 * smtpd_sasl_tls_security_options), space-separated upper case, e.g.
 * "PLAIN LOGIN". Replaces list's contents. The list also becomes the set
 * sasl_server_begin accepts. An unknown option is logged and ignored.
 */
void sasl_server_mechanisms(struct sasl_server *server, const char *security_options,
                            struct dstring *list);

enum sasl_server_status {
	SASL_SERVER_CONTINUE,      /* output: base64 challenge for "334 " (may be empty) */
	SASL_SERVER_DONE,          /* authenticated; sasl_server_username() */
	SASL_SERVER_FAIL,          /* 535 5.7.8; output: reason for the log */
	SASL_SERVER_TEMPFAIL,      /* 454 4.7.0; backend down */
	SASL_SERVER_BAD_INPUT,     /* 501 5.5.2 malformed base64 / response */
	SASL_SERVER_BAD_MECHANISM, /* 504 5.5.4 not offered */
};

/*
 * sasl_server_begin: initial_response is the base64 text from
 * "AUTH MECH resp" ("=" means empty, NULL: none given). mechanism is
 * matched case-insensitively against the last sasl_server_mechanisms list
 * (all the backend's mechanisms when that was never called).
 */
enum sasl_server_status sasl_server_begin(struct sasl_server *server,
                                                                   const char *mechanism,
                                                                   const char *initial_response,
                                                                   struct dstring *output);

/* response: one client line, base64, without CRLF ("*" cancel is the caller's: 501 5.7.0) */
enum sasl_server_status
sasl_server_continue(struct sasl_server *server, const char *response, struct dstring *output);

/* The authenticated name as the backend gives it; NULL before DONE. */
const char *sasl_server_username(const struct sasl_server *server);

/* NULL is allowed. */
void sasl_server_close(struct sasl_server *server);

#endif
