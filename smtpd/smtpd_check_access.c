/*
 * smtpd_check_access - check_client_access, check_helo_access,
 * check_sender_access and check_recipient_access: the access(5) search
 * orders (lib/table_search) and what the value found means.
 *
 * The value's first word is the action, compared without case:
 *   OK                    permit (this restriction list ends)
 *   REJECT [text]         access_map_reject_code, 5.7.1, "Access denied"
 *   DEFER [text]          access_map_defer_code, 4.7.1
 *   DEFER_IF_PERMIT/_IF_REJECT [text]
 *   4NN text, 5NN text    that reply ("5.7.1" style status kept if given)
 *   DUNNO                 no opinion: stop searching this table, go on
 *   DISCARD [text]        accept, then drop the message (permit)
 *   WARN text, INFO text  log and go on
 *   anything else         a restriction list ("permit_mynetworks, reject",
 *                         a class name) evaluated in place; it may not
 *                         name tables (Postfix's rule: use a class)
 * HOLD, REDIRECT, FILTER, PREPEND, BCC need the queue file and are not
 * supported here: logged as a warning and taken as DUNNO.
 *
 * A table that cannot be read gives "451 4.3.0 <name>: Temporary lookup
 * failure", never "not found".
 *
 * Trust: the table's value is configuration; the keys are client data.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "smtpd_check_internal.h"
#include "table_search.h"
#include "xalloc.h"

/* word_is: whether value starts with the word action, then space or end. */
static bool
word_is(const char *value, const char *action, const char **rest)
{
	size_t length = strlen(action);

	if (strncasecmp(value, action, length) != 0 ||
	    (value[length] != '\0' && !isspace((unsigned char)value[length])))
		return false;
	*rest = value + length;
	*rest += strspn(*rest, " \t");
	return true;
}

/*
 * reply_with: "<name>: Class rejected: text" with code and the default
 * status, or the status that starts text.
 */
static enum check_verdict
reply_with(struct check_state *state, int code, const char *default_dsn, const char *text,
           const char *reply_name, const char *reply_class)
{
	struct dstring reply;
	enum check_verdict verdict;
	size_t status_length = strspn(text, "0123456789.");

	dstring_init(&reply, DSTRING_NO_LIMIT);
	dstring_printf(&reply, "%d ", code);
	/* A text that starts with an enhanced status code keeps it. */
	if (status_length >= 5 && (text[status_length] == ' ' || text[status_length] == '\0') &&
	    text[1] == '.') {
		dstring_append(&reply, text, status_length);
		text += status_length;
		text += strspn(text, " ");
	} else {
		dstring_append_str(&reply, default_dsn);
	}
	dstring_append_printf(&reply, " <%s>: %s rejected: %s", reply_name, reply_class,
	                      *text ? text : "Access denied");
	verdict = check_reject_text(state, dstring_str(&reply), default_dsn);
	dstring_fini(&reply);
	return verdict;
}

/* act: carry out value, the answer of table_name for reply_name. */
static enum check_verdict
act(struct check_state *state, const char *table_name, const char *value,
    const char *reply_name, const char *reply_class)
{
	const char *rest;
	struct dstring line;

	value += strspn(value, " \t");
	if (word_is(value, "OK", &rest))
		return CHECK_PERMIT;
	if (word_is(value, "DUNNO", &rest))
		return CHECK_DUNNO;
	if (word_is(value, "REJECT", &rest))
		return reply_with(state, var_access_map_reject_code, "5.7.1", rest, reply_name,
		                  reply_class);
	if (word_is(value, "DEFER", &rest))
		return reply_with(state, var_access_map_defer_code, "4.7.1", rest, reply_name,
		                  reply_class);
	if (isdigit((unsigned char)value[0]) && isdigit((unsigned char)value[1]) &&
	    isdigit((unsigned char)value[2]) &&
	    (value[3] == '\0' || isspace((unsigned char)value[3]))) {
		int code = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');

		if (value[0] != '4' && value[0] != '5') {
			log_warning("access table %s: bad reply code in \"%s\"", table_name, value);
			return check_server_error(state);
		}
		rest = value + 3;
		rest += strspn(rest, " \t");
		return reply_with(state, code, value[0] == '4' ? "4.7.1" : "5.7.1", rest,
		                  reply_name, reply_class);
	}
	if (word_is(value, "DEFER_IF_PERMIT", &rest))
		return check_tempfail(state, "defer_if_permit", "4.7.1", "<%s>: %s rejected: %s",
		                      reply_name, reply_class, *rest ? rest : "Access denied");
	if (word_is(value, "DEFER_IF_REJECT", &rest)) {
		if (!state->has_defer_if_reject && !state->warn_if_reject) {
			state->has_defer_if_reject = true;
			dstring_printf(&state->defer_if_reject, "4.7.1 <%s>: %s rejected: %s",
			               reply_name, reply_class, *rest ? rest : "Access denied");
		}
		return CHECK_DUNNO;
	}
	dstring_init(&line, DSTRING_NO_LIMIT);
	if (word_is(value, "DISCARD", &rest)) {
		dstring_printf(&line, "<%s>: %s %s", reply_name, reply_class,
		               *rest ? rest : "triggers DISCARD action");
		state->result->is_discard = true;
		check_log(state, "discard", dstring_str(&line));
		dstring_fini(&line);
		return CHECK_PERMIT;
	}
	if (word_is(value, "WARN", &rest) || word_is(value, "INFO", &rest)) {
		bool is_warn = strncasecmp(value, "WARN", 4) == 0;

		dstring_printf(&line, "<%s>: %s %s", reply_name, reply_class, rest);
		check_log(state, is_warn ? "warn" : "info", dstring_str(&line));
		dstring_fini(&line);
		return CHECK_DUNNO;
	}
	dstring_fini(&line);
	{
		static const char *const unsupported[] = {"HOLD", "REDIRECT", "FILTER", "PREPEND",
		                                          "BCC"};

		for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
			if (word_is(value, unsupported[i], &rest)) {
				log_warning("access table %s: action %s is not supported; ignored",
				            table_name, unsupported[i]);
				return CHECK_DUNNO;
			}
	}
	/* Otherwise a restriction list, parsed now (values can change). */
	{
		struct restriction_list list;
		struct dstring error;
		enum check_verdict verdict;

		dstring_init(&error, DSTRING_NO_LIMIT);
		if (check_parse_list(&list, table_name, value, false, &error) < 0) {
			log_warning("access table %s: %s", table_name, dstring_str(&error));
			dstring_fini(&error);
			return check_server_error(state);
		}
		dstring_fini(&error);
		verdict = check_list(state, &list, reply_name, reply_class);
		check_free_list(&list);
		return verdict;
	}
}

enum check_verdict
check_access(struct check_state *state, const struct restriction *restriction,
             const char *reply_name, const char *reply_class)
{
	struct table_search search;
	struct table_search_address_options options;
	const struct smtpd_check_client *client = state->client;
	const char *value = NULL;
	const char *own_name = reply_name, *own_class = reply_class;
	enum table_result result = TABLE_NOT_FOUND;
	enum check_verdict verdict;
	bool parents = check_config.access_parent_style;

	if (restriction->tables == NULL)
		return CHECK_DUNNO;
	table_search_address_options_from_config(&options);
	table_search_use_list(&search, restriction->tables);
	switch (restriction->kind) {
	case RESTRICTION_CHECK_CLIENT_ACCESS:
		own_name = check_client_text(state);
		own_class = "Client host";
		result = table_search_client(&search, client->name, client->address, parents,
		                             &value);
		break;
	case RESTRICTION_CHECK_HELO_ACCESS:
		if (client->helo == NULL)
			break;
		own_name = client->helo;
		own_class = "Helo command";
		result = table_search_domain(&search, client->helo, parents, &value);
		break;
	case RESTRICTION_CHECK_SENDER_ACCESS:
		if (state->sender == NULL)
			break;
		own_name = state->sender;
		own_class = "Sender address";
		if (*state->sender == '\0') {
			/* The null sender is looked up as smtpd_null_access_lookup_key. */
			const char *key = var_smtpd_null_access_lookup_key;

			result = search.lookup(search.context, key ? key : "<>", false, &value);
		} else {
			result = table_search_access_address(&search, state->sender, &options,
			                                     parents, &value);
		}
		break;
	case RESTRICTION_CHECK_RECIPIENT_ACCESS:
		if (state->recipient == NULL)
			break;
		own_name = state->recipient;
		own_class = "Recipient address";
		result = table_search_access_address(&search, state->recipient, &options, parents,
		                                     &value);
		break;
	default:
		break;
	}
	if (result == TABLE_ERROR) {
		log_warning("%s: %s lookup error: %s", restriction->name, restriction->argument,
		            value ? value : "unknown");
		verdict = check_dict_retry(state, own_name);
	} else if (result == TABLE_FOUND) {
		/* Copy: a nested restriction may look up the same table again. */
		char *copy = xstrdup(value);

		verdict = act(state, restriction->argument, copy, own_name, own_class);
		free(copy);
	} else {
		verdict = CHECK_DUNNO;
	}
	table_search_fini(&search);
	return verdict;
}
