/*
 * sasl_server_dovecot - the SASL backend that asks a Dovecot auth server,
 * speaking the client side of Dovecot's authentication protocol (v1.x)
 * over a UNIX stream socket (smtpd_sasl_path, e.g. "private/auth").
 *
 * The protocol, as used here: lines of tab-separated fields ending in LF.
 *   C: VERSION 1 2 / CPID <pid>
 *   S: VERSION 1 <minor> / SPID / CUID / COOKIE / MECH <name> <flags>... / DONE
 *   C: AUTH <id> <mech> service=smtp nologin [secured] [lip=] [rip=] [resp=<base64>]
 *   S: CONT <id> <base64>   C: CONT <id> <base64>   (any number of times)
 *   S: OK <id> user=<name> ...   or   FAIL <id> [reason=...] [temp] [code=...]
 * "nologin" says no master login follows (we only verify the password).
 *
 * One connection per SMTP session, opened by sasl_server_open and closed
 * by sasl_server_close: no state shared between sessions, and a Dovecot
 * restart costs only the sessions open at that moment.
 *
 * What it trusts: nothing from the socket. Line length, handshake length,
 * number of MECH lines and lines skipped while waiting for a reply are all
 * bounded; every read and write has a time limit (lib/stream). A reply that
 * breaks the protocol is logged and gives SASL_SERVER_TEMPFAIL; the
 * connection is then considered broken for the rest of the session.
 * Never logged: resp= data, CONT data, passwords.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base64.h"
#include "dstring.h"
#include "log.h"
#include "sasl_server_private.h"
#include "stream.h"
#include "xalloc.h"

/* Each read and write on the socket; Dovecot answers in milliseconds, but
 * a password check against a remote passdb may take a while. */
#define DOVECOT_TIMEOUT_MILLISECONDS 30000
#define DOVECOT_MECHANISMS_MAX 64
#define DOVECOT_HANDSHAKE_LINES_MAX 256
/* Replies to requests we gave up on (stale ids), skipped while waiting. */
#define DOVECOT_SKIPPED_LINES_MAX 64

static char *dovecot_socket_path;

struct dovecot_mechanism {
	char name[SASL_SERVER_MECHANISM_MAX + 1];
	unsigned flags;
};

struct dovecot_session {
	struct stream *stream;
	struct dovecot_mechanism mechanisms[DOVECOT_MECHANISMS_MAX];
	size_t mechanism_count;
	unsigned long next_id, current_id;
	bool is_in_request;
	bool is_broken;
	char *service, *client_address, *server_address;
	bool is_tls;
};

/* --- the parsers (no I/O; fuzzed by tests/fuzz/fuzz_dovecot_auth.c) --- */

int
sasl_dovecot_unescape(struct dstring *out, const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		char character = text[i];

		if (character == '\001') {
			if (++i == length)
				return -1;
			switch (text[i]) {
			case '0':
				character = '\0';
				break;
			case '1':
				character = '\001';
				break;
			case 't':
				character = '\t';
				break;
			case 'r':
				character = '\r';
				break;
			case 'n':
			case 'l':
				character = '\n';
				break;
			default:
				character = text[i];
				break;
			}
		}
		if (dstring_append_char(out, character) < 0)
			return -1;
	}
	return 0;
}

/* The next tab-separated field of [*cursor, end): its start and length. */
static bool
dovecot_next_field(const char **cursor, const char *end, const char **field, size_t *length)
{
	const char *tab;

	if (*cursor > end)
		return false;
	*field = *cursor;
	tab = memchr(*cursor, '\t', (size_t)(end - *cursor));
	if (tab == NULL) {
		*length = (size_t)(end - *cursor);
		*cursor = end + 1;
	} else {
		*length = (size_t)(tab - *cursor);
		*cursor = tab + 1;
	}
	return true;
}

static bool
dovecot_field_is(const char *field, size_t length, const char *word)
{
	return strlen(word) == length && memcmp(field, word, length) == 0;
}

static bool
dovecot_field_has_prefix(const char *field, size_t length, const char *prefix)
{
	size_t prefix_length = strlen(prefix);

	return length >= prefix_length && memcmp(field, prefix, prefix_length) == 0;
}

void
sasl_dovecot_reply_init(struct sasl_dovecot_reply *reply)
{
	reply->kind = SASL_DOVECOT_REPLY_OTHER;
	reply->id = 0;
	reply->data = dstring_new(SASL_DOVECOT_LINE_MAX);
	reply->user = dstring_new(1024);
	reply->reason = dstring_new(1024);
	reply->is_temporary = false;
}

void
sasl_dovecot_reply_fini(struct sasl_dovecot_reply *reply)
{
	dstring_free(reply->data);
	dstring_free(reply->user);
	dstring_free(reply->reason);
}

int
sasl_dovecot_parse_reply(const char *line, size_t length, struct sasl_dovecot_reply *reply,
                         struct dstring *error)
{
	const char *cursor = line, *end = line + length, *field = NULL;
	size_t field_length = 0;

	reply->kind = SASL_DOVECOT_REPLY_OTHER;
	reply->id = 0;
	reply->is_temporary = false;
	dstring_reset(reply->data);
	dstring_reset(reply->user);
	dstring_reset(reply->reason);
	if (memchr(line, '\0', length) != NULL) {
		dstring_set(error, "NUL byte in reply");
		return -1;
	}
	dovecot_next_field(&cursor, end, &field, &field_length);
	if (dovecot_field_is(field, field_length, "OK"))
		reply->kind = SASL_DOVECOT_REPLY_OK;
	else if (dovecot_field_is(field, field_length, "CONT"))
		reply->kind = SASL_DOVECOT_REPLY_CONT;
	else if (dovecot_field_is(field, field_length, "FAIL"))
		reply->kind = SASL_DOVECOT_REPLY_FAIL;
	else
		return 0;
	if (!dovecot_next_field(&cursor, end, &field, &field_length) || field_length == 0 ||
	    field_length > 10) {
		dstring_set(error, "missing or bad request id");
		return -1;
	}
	for (size_t i = 0; i < field_length; i++) {
		if (field[i] < '0' || field[i] > '9') {
			dstring_set(error, "bad request id");
			return -1;
		}
		reply->id = reply->id * 10 + (unsigned long)(field[i] - '0');
	}
	if (reply->kind == SASL_DOVECOT_REPLY_CONT) {
		/* The challenge is base64: nothing to unescape. Missing means
		 * empty, as Dovecot sends "CONT\t<id>\t" for an empty one. */
		if (dovecot_next_field(&cursor, end, &field, &field_length) &&
		    dstring_append(reply->data, field, field_length) < 0) {
			dstring_set(error, "challenge too long");
			return -1;
		}
		return 0;
	}
	/* OK and FAIL: optional parameters; unknown ones are ignored. The
	 * loop ends because every field consumes at least its tab. */
	while (dovecot_next_field(&cursor, end, &field, &field_length)) {
		if (dovecot_field_has_prefix(field, field_length, "user=")) {
			dstring_reset(reply->user);
			if (sasl_dovecot_unescape(reply->user, field + 5, field_length - 5) < 0) {
				dstring_set(error, "bad user= parameter");
				return -1;
			}
		} else if (dovecot_field_has_prefix(field, field_length, "reason=")) {
			dstring_reset(reply->reason);
			/* Only for the log: cut, not refused, when long. */
			(void)sasl_dovecot_unescape(reply->reason, field + 7, field_length - 7);
		} else if (dovecot_field_is(field, field_length, "temp") ||
		           dovecot_field_is(field, field_length, "code=temp_fail")) {
			reply->is_temporary = true;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned flag;
} dovecot_flag_names[] = {
    {"anonymous", SASL_DOVECOT_ANONYMOUS},
    {"plaintext", SASL_DOVECOT_PLAINTEXT},
    {"dictionary", SASL_DOVECOT_DICTIONARY},
    {"active", SASL_DOVECOT_ACTIVE},
    {"forward-secrecy", SASL_DOVECOT_FORWARD_SECRECY},
    {"mutual-auth", SASL_DOVECOT_MUTUAL_AUTH},
    {"private", SASL_DOVECOT_PRIVATE},
};

int
sasl_dovecot_parse_mech(const char *line, size_t length, struct dstring *name, unsigned *flags)
{
	const char *cursor = line, *end = line + length, *field = NULL;
	size_t field_length = 0;

	*flags = 0;
	dstring_reset(name);
	dovecot_next_field(&cursor, end, &field, &field_length);
	if (!dovecot_field_is(field, field_length, "MECH"))
		return -1;
	if (!dovecot_next_field(&cursor, end, &field, &field_length) || field_length == 0 ||
	    field_length > SASL_SERVER_MECHANISM_MAX)
		return -1;
	for (size_t i = 0; i < field_length; i++) {
		char character = field[i];

		if (character >= 'a' && character <= 'z')
			character = (char)(character - 'a' + 'A');
		dstring_append_char(name, character);
	}
	if (!sasl_server_mechanism_name_ok(dstring_str(name), dstring_length(name)))
		return -1;
	while (dovecot_next_field(&cursor, end, &field, &field_length)) {
		for (size_t i = 0; i < sizeof(dovecot_flag_names) / sizeof(dovecot_flag_names[0]);
		     i++) {
			if (dovecot_field_is(field, field_length, dovecot_flag_names[i].name))
				*flags |= dovecot_flag_names[i].flag;
		}
	}
	return 0;
}

/* --- the connection --- */

static int
dovecot_init(const char *path, const char *config_path, struct dstring *error)
{
	(void)config_path;
	if (path == NULL || *path == '\0') {
		dstring_set(error, "smtpd_sasl_path is empty: name Dovecot's auth socket");
		return -1;
	}
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		dstring_printf(error, "Dovecot auth socket path too long: %s", path);
		return -1;
	}
	free(dovecot_socket_path);
	dovecot_socket_path = xstrdup(path);
	return 0;
}

/* Read one line without its "\n" into line. 0, or -1 with a reason. */
static int
dovecot_read_line(struct dovecot_session *session, struct dstring *line, struct dstring *error)
{
	enum stream_status status;

	dstring_reset(line);
	status = stream_gets(session->stream, line, SASL_DOVECOT_LINE_MAX);
	switch (status) {
	case STREAM_OK:
		dstring_truncate(line, dstring_length(line) - 1);
		return 0;
	case STREAM_PARTIAL:
		dstring_set(error, stream_at_eof(session->stream)
		                       ? "auth server closed the connection in a line"
		                       : "auth server sent an overlong line");
		return -1;
	case STREAM_EOF:
		dstring_set(error, "auth server closed the connection");
		return -1;
	case STREAM_TIMEOUT:
		dstring_set(error, "timeout reading from the auth server");
		return -1;
	default:
		dstring_printf(error, "read error from the auth server: %s", strerror(errno));
		return -1;
	}
}

static int
dovecot_handshake(struct dovecot_session *session, struct dstring *error)
{
	struct dstring line, name;
	bool has_version = false;
	int result = -1;

	if (stream_printf(session->stream, "VERSION\t1\t2\nCPID\t%ld\n", (long)getpid()) !=
	        STREAM_OK ||
	    stream_flush(session->stream) != STREAM_OK) {
		dstring_printf(error, "write error to the auth server: %s", strerror(errno));
		return -1;
	}
	dstring_init(&line, SASL_DOVECOT_LINE_MAX + 16);
	dstring_init(&name, SASL_SERVER_MECHANISM_MAX + 1);
	for (int count = 0; count < DOVECOT_HANDSHAKE_LINES_MAX; count++) {
		const char *text;
		unsigned flags;

		if (dovecot_read_line(session, &line, error) < 0)
			goto out;
		text = dstring_str(&line);
		if (!has_version) {
			/* "VERSION\t1\t<minor>": the major version must match. */
			if (strncmp(text, "VERSION\t1\t", 10) != 0) {
				dstring_set(error, "auth server does not speak protocol version 1");
				goto out;
			}
			has_version = true;
		} else if (strncmp(text, "MECH\t", 5) == 0) {
			if (sasl_dovecot_parse_mech(text, dstring_length(&line), &name, &flags) <
			    0) {
				log_warning("Dovecot auth: ignoring unusable MECH line");
				continue;
			}
			if (session->mechanism_count == DOVECOT_MECHANISMS_MAX) {
				dstring_set(error, "auth server sent too many MECH lines");
				goto out;
			}
			memcpy(session->mechanisms[session->mechanism_count].name,
			       dstring_str(&name), dstring_length(&name) + 1);
			session->mechanisms[session->mechanism_count++].flags = flags;
		} else if (strcmp(text, "DONE") == 0) {
			result = 0;
			goto out;
		}
		/* SPID, CUID, COOKIE and anything newer: not needed here. */
	}
	dstring_set(error, "auth server handshake too long");
out:
	dstring_fini(&line);
	dstring_fini(&name);
	return result;
}

/* Text safe to put in a parameter: no control bytes, no escape byte. */
static bool
dovecot_is_safe_value(const char *text)
{
	if (text == NULL || *text == '\0')
		return false;
	for (; *text != '\0'; text++) {
		if ((unsigned char)*text < 0x20 || *text == 0x7f)
			return false;
	}
	return true;
}

static void *
dovecot_open(const struct sasl_server_settings *settings, struct dstring *error)
{
	struct sockaddr_un address;
	struct dovecot_session *session;
	int fd;

	if (dovecot_socket_path == NULL) {
		dstring_set(error, "Dovecot SASL backend not initialized");
		return NULL;
	}
	memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	memcpy(address.sun_path, dovecot_socket_path, strlen(dovecot_socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		dstring_printf(error, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		dstring_printf(error, "cannot connect to Dovecot auth socket %s: %s",
		               dovecot_socket_path, strerror(errno));
		close(fd);
		return NULL;
	}
	session = xcalloc(1, sizeof(*session));
	session->stream = stream_open(fd);
	stream_set_timeout(session->stream, DOVECOT_TIMEOUT_MILLISECONDS);
	session->next_id = 1;
	session->service =
	    xstrdup(dovecot_is_safe_value(settings->service) ? settings->service : "smtp");
	if (dovecot_is_safe_value(settings->client_address))
		session->client_address = xstrdup(settings->client_address);
	if (dovecot_is_safe_value(settings->server_address))
		session->server_address = xstrdup(settings->server_address);
	session->is_tls = settings->is_tls;
	if (dovecot_handshake(session, error) < 0) {
		char *reason = xstrdup(dstring_str(error));

		dstring_printf(error, "Dovecot auth socket %s: %s", dovecot_socket_path, reason);
		free(reason);
		(void)stream_close(session->stream);
		free(session->service);
		free(session->client_address);
		free(session->server_address);
		free(session);
		return NULL;
	}
	return session;
}

static void
dovecot_mechanisms(void *state, unsigned security_flags, struct dstring *list)
{
	struct dovecot_session *session = state;

	for (size_t i = 0; i < session->mechanism_count; i++) {
		unsigned flags = session->mechanisms[i].flags;

		if ((flags & SASL_DOVECOT_PRIVATE) ||
		    ((security_flags & SASL_SECURITY_NOANONYMOUS) &&
		     (flags & SASL_DOVECOT_ANONYMOUS)) ||
		    ((security_flags & SASL_SECURITY_NOPLAINTEXT) &&
		     (flags & SASL_DOVECOT_PLAINTEXT)) ||
		    ((security_flags & SASL_SECURITY_NOACTIVE) && (flags & SASL_DOVECOT_ACTIVE)) ||
		    ((security_flags & SASL_SECURITY_NODICTIONARY) &&
		     (flags & SASL_DOVECOT_DICTIONARY)) ||
		    ((security_flags & SASL_SECURITY_MUTUAL_AUTH) &&
		     !(flags & SASL_DOVECOT_MUTUAL_AUTH)) ||
		    ((security_flags & SASL_SECURITY_FORWARD_SECRECY) &&
		     !(flags & SASL_DOVECOT_FORWARD_SECRECY)))
			continue;
		if (dstring_length(list) > 0)
			dstring_append_char(list, ' ');
		dstring_append_str(list, session->mechanisms[i].name);
	}
}

/* A broken connection: log once, and every later call is TEMPFAIL. */
static enum sasl_server_status
dovecot_broken(struct dovecot_session *session, const char *reason, struct dstring *output)
{
	log_warning("Dovecot auth socket %s: %s", dovecot_socket_path, reason);
	session->is_broken = true;
	session->is_in_request = false;
	dstring_reset(output);
	dstring_printf(output, "Dovecot auth: %s", reason);
	return SASL_SERVER_TEMPFAIL;
}

static enum sasl_server_status
dovecot_write_failed(struct dovecot_session *session, struct dstring *output)
{
	char reason[256];

	snprintf(reason, sizeof(reason), "write to the auth server failed: %s",
	         strerror(stream_error_code(session->stream)));
	return dovecot_broken(session, reason, output);
}

/* Wait for the reply to the current request and act on it. */
static enum sasl_server_status
dovecot_await_reply(struct dovecot_session *session, struct dstring *output,
                    struct dstring *username)
{
	struct sasl_dovecot_reply reply;
	struct dstring line, error;
	enum sasl_server_status status = SASL_SERVER_TEMPFAIL;
	int count;

	if (stream_flush(session->stream) != STREAM_OK)
		return dovecot_write_failed(session, output);
	sasl_dovecot_reply_init(&reply);
	dstring_init(&line, SASL_DOVECOT_LINE_MAX + 16);
	dstring_init(&error, 256);
	for (count = 0; count < DOVECOT_SKIPPED_LINES_MAX; count++) {
		if (dovecot_read_line(session, &line, &error) < 0) {
			status = dovecot_broken(session, dstring_str(&error), output);
			goto out;
		}
		if (sasl_dovecot_parse_reply(dstring_str(&line), dstring_length(&line), &reply,
		                             &error) < 0) {
			dstring_printf(&line, "malformed reply: %s", dstring_str(&error));
			status = dovecot_broken(session, dstring_str(&line), output);
			goto out;
		}
		if (reply.kind != SASL_DOVECOT_REPLY_OTHER && reply.id == session->current_id)
			break;
	}
	if (count == DOVECOT_SKIPPED_LINES_MAX) {
		status = dovecot_broken(session, "no reply to our request", output);
		goto out;
	}
	switch (reply.kind) {
	case SASL_DOVECOT_REPLY_CONT:
		if (base64_decode(output, dstring_str(reply.data), dstring_length(reply.data)) <
		    0) {
			status = dovecot_broken(session, "malformed base64 in CONT", output);
			goto out;
		}
		status = SASL_SERVER_CONTINUE;
		break;
	case SASL_DOVECOT_REPLY_OK: {
		const char *user = dstring_str(reply.user);

		if (dstring_length(reply.user) == 0 || !dovecot_is_safe_value(user) ||
		    strlen(user) != dstring_length(reply.user)) {
			status = dovecot_broken(session, "OK without a usable user=", output);
			goto out;
		}
		dstring_set(username, user);
		session->is_in_request = false;
		status = SASL_SERVER_DONE;
		break;
	}
	default: /* FAIL */
		session->is_in_request = false;
		dstring_printf(output, "%s",
		               dstring_length(reply.reason) > 0 ? dstring_str(reply.reason)
		                                                : "authentication failed");
		/* The reason may hold a control byte; the log cleans it. */
		status = reply.is_temporary ? SASL_SERVER_TEMPFAIL : SASL_SERVER_FAIL;
		break;
	}
out:
	sasl_dovecot_reply_fini(&reply);
	dstring_fini(&line);
	dstring_fini(&error);
	return status;
}

static bool
dovecot_has_mechanism(const struct dovecot_session *session, const char *mechanism)
{
	for (size_t i = 0; i < session->mechanism_count; i++) {
		if (strcmp(session->mechanisms[i].name, mechanism) == 0)
			return !(session->mechanisms[i].flags & SASL_DOVECOT_PRIVATE);
	}
	return false;
}

static enum sasl_server_status
dovecot_start(void *state, const char *mechanism, const char *response, size_t length,
              struct dstring *output, struct dstring *username)
{
	struct dovecot_session *session = state;
	struct dstring request;

	if (session->is_broken) {
		dstring_set(output, "Dovecot auth connection broken earlier");
		return SASL_SERVER_TEMPFAIL;
	}
	if (!dovecot_has_mechanism(session, mechanism)) {
		dstring_set(output, "mechanism not offered by the auth server");
		return SASL_SERVER_BAD_MECHANISM;
	}
	/* A request left unfinished (client cancelled) is simply abandoned;
	 * its late reply, if any, carries the old id and is skipped. */
	session->current_id = session->next_id++;
	session->is_in_request = true;
	dstring_init(&request, DSTRING_NO_LIMIT);
	dstring_printf(&request, "AUTH\t%lu\t%s\tservice=%s\tnologin", session->current_id,
	               mechanism, session->service);
	if (session->server_address != NULL)
		dstring_append_printf(&request, "\tlip=%s", session->server_address);
	if (session->client_address != NULL)
		dstring_append_printf(&request, "\trip=%s", session->client_address);
	if (session->is_tls)
		dstring_append_str(&request, "\tsecured");
	if (response != NULL) {
		dstring_append_str(&request, "\tresp=");
		base64_encode(&request, response, length);
	}
	dstring_append_char(&request, '\n');
	if (stream_write(session->stream, dstring_str(&request), dstring_length(&request)) !=
	    STREAM_OK) {
		dstring_fini(&request);
		return dovecot_write_failed(session, output);
	}
	dstring_fini(&request);
	return dovecot_await_reply(session, output, username);
}

static enum sasl_server_status
dovecot_step(void *state, const char *response, size_t length, struct dstring *output,
             struct dstring *username)
{
	struct dovecot_session *session = state;
	struct dstring request;

	if (session->is_broken) {
		dstring_set(output, "Dovecot auth connection broken earlier");
		return SASL_SERVER_TEMPFAIL;
	}
	if (!session->is_in_request) {
		dstring_set(output, "no request in progress");
		return SASL_SERVER_BAD_INPUT;
	}
	dstring_init(&request, DSTRING_NO_LIMIT);
	dstring_printf(&request, "CONT\t%lu\t", session->current_id);
	base64_encode(&request, response, length);
	dstring_append_char(&request, '\n');
	if (stream_write(session->stream, dstring_str(&request), dstring_length(&request)) !=
	    STREAM_OK) {
		dstring_fini(&request);
		return dovecot_write_failed(session, output);
	}
	dstring_fini(&request);
	return dovecot_await_reply(session, output, username);
}

static void
dovecot_close(void *state)
{
	struct dovecot_session *session = state;

	(void)stream_close(session->stream);
	free(session->service);
	free(session->client_address);
	free(session->server_address);
	free(session);
}

const struct sasl_server_backend sasl_server_dovecot_backend = {
    .type = "dovecot",
    .init = dovecot_init,
    .open = dovecot_open,
    .mechanisms = dovecot_mechanisms,
    .start = dovecot_start,
    .step = dovecot_step,
    .close = dovecot_close,
};
