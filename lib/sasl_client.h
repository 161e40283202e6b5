/*
 * sasl_client - the client side of SMTP AUTH (RFC 4954) through Cyrus
 * SASL, for the smtp delivery agent (Postfix's xsasl_cyrus_client).
 *
 * Contract:
 * - sasl_client_setup once per process, before the jail (Cyrus loads its
 *   mechanism plugins then). Later calls do nothing.
 * - sasl_client_open makes one authentication attempt's state with the
 *   user name and password it is given (the caller found them in
 *   smtp_sasl_password_maps); Cyrus asks for them through callbacks that
 *   answer from this state only. Security options are Postfix's words:
 *   noanonymous, noplaintext, noactive, nodictionary, mutual_auth.
 * - sasl_client_begin picks a mechanism among the server's (filtered by
 *   the caller's list when it is not empty) and gives the initial
 *   response, raw (the caller base64-encodes it for the wire);
 *   sasl_client_continue answers each decoded 334 challenge.
 * - No SASL security layer is negotiated (max_ssf 0): TLS protects the
 *   session, as with Postfix.
 *
 * What it trusts: Cyrus SASL. Challenges come from the server and are
 * passed to Cyrus as they are, bounded by the caller's reply limits.
 * Names avoid Cyrus's own sasl_client_new/_start/_step.
 */
#ifndef HIKYAKU_SASL_CLIENT_H
#define HIKYAKU_SASL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct dstring;
struct sasl_client;

/* sasl_client_setup: initialise Cyrus SASL for clients. 0 or -1 with error. */
int sasl_client_setup(struct dstring *error);

/*
 * sasl_client_open: state for one attempt to authenticate to server_name
 * (the host name Cyrus mechanisms such as DIGEST-MD5 use) as user with
 * password. security_options: "noanonymous, noplaintext" etc. NULL and a
 * reason in error on failure (an unknown option, a Cyrus error).
 */
struct sasl_client *sasl_client_open(const char *server_name, const char *user,
                                     const char *password, const char *security_options,
                                     struct dstring *error);

/*
 * sasl_client_begin: start with one of server_mechanisms (the words of the
 * EHLO AUTH line), keeping only those in filter when filter is not empty
 * (words separated by commas or white space, without regard to case).
 * On success *mechanism names the chosen one (valid until close), and
 * response holds the initial response when *has_response (some mechanisms
 * send none, or an empty one). Returns 0, or -1 with a reason ("no
 * mechanism available: ..."; Cyrus's text).
 */
int sasl_client_begin(struct sasl_client *client, const char *server_mechanisms, const char *filter,
                      const char **mechanism, struct dstring *response, bool *has_response,
                      struct dstring *error);

/*
 * sasl_client_continue: the response to one challenge (raw bytes, already
 * base64-decoded) into response. 0, or -1 with a reason.
 */
int sasl_client_continue(struct sasl_client *client, const char *challenge, size_t length,
                         struct dstring *response, struct dstring *error);

/* sasl_client_close: free the state (erasing the password). NULL is allowed. */
void sasl_client_close(struct sasl_client *client);

#endif
