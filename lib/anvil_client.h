/*
 * anvil_client - talk to the anvil daemon, which counts each client's
 * simultaneous connections and connection rate for all smtpd processes
 * (smtpd_client_connection_count_limit, smtpd_client_connection_rate_limit),
 * and its message, recipient and AUTH rates (smtpd_client_*_rate_limit).
 *
 * An smtpd opens one connection to anvil (private/anvil, relative to the
 * queue directory) and keeps it during its session:
 *
 *   anvil = anvil_client_open("private/anvil", timeout_ms, error)
 *   anvil_client_connect(anvil, service, client_address, &count, &rate, error)
 *   ... the session; compare count and rate with the limits ...
 *   anvil_client_message(anvil, service, client_address, &rate, error)
 *   ... likewise _recipient and _auth at RCPT and AUTH ...
 *   anvil_client_disconnect(anvil, service, client_address)
 *   anvil_client_close(anvil)
 *
 * count is the client's simultaneous connections to that service, this one
 * included; rate is its connections within the current $anvil_rate_time_unit
 * window, this one included. When the smtpd process dies, anvil sees its
 * connection close and releases what it held, so a crash never leaks a
 * count.
 *
 * Contract: every call is bounded by timeout_ms. A failure (anvil not
 * running, a timeout, a refused request) returns -1 (NULL for open) with a
 * reason; the caller goes on without enforcing the limits and logs a
 * warning. After an I/O failure the client is broken: later calls fail at
 * once. The wire protocol is in docs/anvil.md.
 */
#ifndef HIKYAKU_ANVIL_CLIENT_H
#define HIKYAKU_ANVIL_CLIENT_H

struct dstring;
struct anvil_client;

/* The service socket, relative to $queue_directory. */
#define ANVIL_CLIENT_SERVICE_PATH "private/anvil"

/* The reply status on the wire. */
#define ANVIL_STATUS_OK 0
#define ANVIL_STATUS_FAIL 1

/* Longest service name or client address a request may carry. */
#define ANVIL_STRING_MAX 255

struct anvil_client *anvil_client_open(const char *socket_path, int timeout_ms,
                                       struct dstring *error);

/* anvil_client_connect: count one more connection from address to service;
 * *count and *rate get the totals including it. */
int anvil_client_connect(struct anvil_client *client, const char *service, const char *address,
                         int *count, int *rate, struct dstring *error);

/*
 * anvil_client_message, _recipient, _auth: one more MAIL FROM, RCPT TO or
 * AUTH from address to service (after anvil_client_connect for them on
 * this client); *rate gets those in the current $anvil_rate_time_unit
 * window, this one included (smtpd_client_message_rate_limit,
 * smtpd_client_recipient_rate_limit, smtpd_client_auth_rate_limit).
 */
int anvil_client_message(struct anvil_client *client, const char *service, const char *address,
                         int *rate, struct dstring *error);
int anvil_client_recipient(struct anvil_client *client, const char *service, const char *address,
                           int *rate, struct dstring *error);
int anvil_client_auth(struct anvil_client *client, const char *service, const char *address,
                      int *rate, struct dstring *error);

/* anvil_client_disconnect: that connection ended (only one this client
 * counted with anvil_client_connect can be released). */
int anvil_client_disconnect(struct anvil_client *client, const char *service, const char *address);

/* anvil_client_close: end the connection; anvil releases anything still
 * held. NULL is allowed. */
void anvil_client_close(struct anvil_client *client);

#endif
