/*
 * smtpd_check - the SMTP server's access control (see smtpd_check.h):
 * parsing the restriction lists, the order of evaluation at each stage,
 * the generic restrictions (permit, reject, defer, warn_if_reject,
 * permit_mynetworks, permit_sasl_authenticated, restriction classes).
 * Replies and log lines are made in smtpd_check_reply.c.
 *
 * Trust: restriction lists are configuration; every client-supplied
 * string ends up in replies and logs only through "%s" after the session
 * checked it for syntax, and nested evaluation is bounded by
 * SMTPD_CHECK_DEPTH_MAX so a restriction class naming itself cannot loop.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "network_list.h"
#include "resolve.h"
#include "smtpd_check.h"
#include "smtpd_check_internal.h"
#include "strlist.h"
#include "table_search.h"
#include "xalloc.h"

struct check_config check_config;

/* Every list, and the restriction classes. */
static struct {
	bool is_initialized;
	struct restriction_list client, helo, sender, relay, recipient, data, end_of_data, etrn;
	char **class_names;
	struct restriction_list *classes;
	size_t class_count;
} lists;

/* ---- Restriction names ------------------------------------------------- */

static const struct {
	const char *name;
	enum restriction_kind kind;
	enum restriction_argument argument;
} restriction_names[] = {
    {"permit", RESTRICTION_PERMIT, ARGUMENT_NONE},
    {"reject", RESTRICTION_REJECT, ARGUMENT_NONE},
    {"defer", RESTRICTION_DEFER, ARGUMENT_NONE},
    {"defer_if_permit", RESTRICTION_DEFER_IF_PERMIT, ARGUMENT_NONE},
    {"defer_if_reject", RESTRICTION_DEFER_IF_REJECT, ARGUMENT_NONE},
    {"warn_if_reject", RESTRICTION_WARN_IF_REJECT, ARGUMENT_NONE},
    {"permit_mynetworks", RESTRICTION_PERMIT_MYNETWORKS, ARGUMENT_NONE},
    {"permit_sasl_authenticated", RESTRICTION_PERMIT_SASL_AUTHENTICATED, ARGUMENT_NONE},
    {"permit_auth_destination", RESTRICTION_PERMIT_AUTH_DESTINATION, ARGUMENT_NONE},
    {"reject_unauth_destination", RESTRICTION_REJECT_UNAUTH_DESTINATION, ARGUMENT_NONE},
    {"defer_unauth_destination", RESTRICTION_DEFER_UNAUTH_DESTINATION, ARGUMENT_NONE},
    {"reject_unlisted_recipient", RESTRICTION_REJECT_UNLISTED_RECIPIENT, ARGUMENT_NONE},
    {"check_recipient_maps", RESTRICTION_REJECT_UNLISTED_RECIPIENT, ARGUMENT_NONE},
    {"reject_unlisted_sender", RESTRICTION_REJECT_UNLISTED_SENDER, ARGUMENT_NONE},
    {"reject_non_fqdn_helo_hostname", RESTRICTION_REJECT_NON_FQDN_HELO_HOSTNAME, ARGUMENT_NONE},
    {"reject_non_fqdn_hostname", RESTRICTION_REJECT_NON_FQDN_HELO_HOSTNAME, ARGUMENT_NONE},
    {"reject_invalid_helo_hostname", RESTRICTION_REJECT_INVALID_HELO_HOSTNAME, ARGUMENT_NONE},
    {"reject_invalid_hostname", RESTRICTION_REJECT_INVALID_HELO_HOSTNAME, ARGUMENT_NONE},
    {"reject_unknown_helo_hostname", RESTRICTION_REJECT_UNKNOWN_HELO_HOSTNAME, ARGUMENT_NONE},
    {"reject_unknown_hostname", RESTRICTION_REJECT_UNKNOWN_HELO_HOSTNAME, ARGUMENT_NONE},
    {"reject_non_fqdn_sender", RESTRICTION_REJECT_NON_FQDN_SENDER, ARGUMENT_NONE},
    {"reject_non_fqdn_recipient", RESTRICTION_REJECT_NON_FQDN_RECIPIENT, ARGUMENT_NONE},
    {"reject_unknown_sender_domain", RESTRICTION_REJECT_UNKNOWN_SENDER_DOMAIN, ARGUMENT_NONE},
    {"reject_unknown_recipient_domain", RESTRICTION_REJECT_UNKNOWN_RECIPIENT_DOMAIN,
     ARGUMENT_NONE},
    {"reject_unknown_client_hostname", RESTRICTION_REJECT_UNKNOWN_CLIENT_HOSTNAME,
     ARGUMENT_NONE},
    {"reject_unknown_client", RESTRICTION_REJECT_UNKNOWN_CLIENT_HOSTNAME, ARGUMENT_NONE},
    {"reject_unknown_reverse_client_hostname",
     RESTRICTION_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME, ARGUMENT_NONE},
    {"reject_sender_login_mismatch", RESTRICTION_REJECT_SENDER_LOGIN_MISMATCH, ARGUMENT_NONE},
    {"reject_authenticated_sender_login_mismatch",
     RESTRICTION_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH, ARGUMENT_NONE},
    {"reject_known_sender_login_mismatch", RESTRICTION_REJECT_KNOWN_SENDER_LOGIN_MISMATCH,
     ARGUMENT_NONE},
    {"reject_unauthenticated_sender_login_mismatch",
     RESTRICTION_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH, ARGUMENT_NONE},
    {"reject_unauth_pipelining", RESTRICTION_REJECT_UNAUTH_PIPELINING, ARGUMENT_NONE},
    {"check_client_access", RESTRICTION_CHECK_CLIENT_ACCESS, ARGUMENT_TABLE},
    {"check_helo_access", RESTRICTION_CHECK_HELO_ACCESS, ARGUMENT_TABLE},
    {"check_sender_access", RESTRICTION_CHECK_SENDER_ACCESS, ARGUMENT_TABLE},
    {"check_recipient_access", RESTRICTION_CHECK_RECIPIENT_ACCESS, ARGUMENT_TABLE},
    {"reject_rbl_client", RESTRICTION_REJECT_RBL_CLIENT, ARGUMENT_DOMAIN},
    {"reject_rhsbl_client", RESTRICTION_REJECT_RHSBL_CLIENT, ARGUMENT_DOMAIN},
    {"reject_rhsbl_reverse_client", RESTRICTION_REJECT_RHSBL_REVERSE_CLIENT, ARGUMENT_DOMAIN},
    {"reject_rhsbl_helo", RESTRICTION_REJECT_RHSBL_HELO, ARGUMENT_DOMAIN},
    {"reject_rhsbl_sender", RESTRICTION_REJECT_RHSBL_SENDER, ARGUMENT_DOMAIN},
    {"reject_rhsbl_recipient", RESTRICTION_REJECT_RHSBL_RECIPIENT, ARGUMENT_DOMAIN},
};

/*
 * strip_proxy: "proxy:unix:passwd.byname" is "unix:passwd.byname" here
 * (there is no proxymap: each process opens its own tables).
 */
static char *
strip_proxy(const char *specs)
{
	struct dstring out;
	const char *cursor = specs;
	char *stripped;

	dstring_init(&out, DSTRING_NO_LIMIT);
	while (*cursor != '\0') {
		bool at_word_start = cursor == specs || strchr(", \t\r\n", cursor[-1]) != NULL;

		if (at_word_start && strncasecmp(cursor, "proxy:", 6) == 0) {
			cursor += 6;
			continue;
		}
		dstring_append_char(&out, *cursor++);
	}
	stripped = dstring_steal(&out);
	dstring_fini(&out);
	return stripped;
}

/* open_tables: a table list, NULL when text is empty. */
static struct table_list *
open_tables(const char *parameter, const char *text, struct dstring *error, int *status)
{
	struct strlist specs;
	struct table_list *tables;
	char *stripped = strip_proxy(text);

	strlist_init(&specs);
	if (strlist_split(&specs, stripped, STRLIST_COMMA_SPACE, error) < 0) {
		*status = -1;
		strlist_fini(&specs);
		free(stripped);
		return NULL;
	}
	/* An unknown table type is a configuration error, found now. */
	for (size_t i = 0; i < specs.count; i++) {
		char *type, *name;
		struct dstring reason;

		dstring_init(&reason, DSTRING_NO_LIMIT);
		if (table_split_spec(specs.items[i], &type, &name, &reason) < 0) {
			dstring_printf(error, "%s: %s", parameter, dstring_str(&reason));
			*status = -1;
		} else {
			if (table_find_type(type) == NULL) {
				dstring_printf(error, "%s: unsupported table type \"%s\" in \"%s\"",
				               parameter, type, specs.items[i]);
				*status = -1;
			}
			free(type);
			free(name);
		}
		dstring_fini(&reason);
		if (*status < 0)
			break;
	}
	tables = *status == 0 && specs.count > 0 ? table_list_open(stripped, TABLE_FOLD_CASE)
	                                         : NULL;
	strlist_fini(&specs);
	free(stripped);
	return tables;
}

void
check_free_list(struct restriction_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].argument);
		if (list->items[i].tables != NULL)
			table_list_close(list->items[i].tables);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

int
check_parse_list(struct restriction_list *list, const char *parameter, const char *text,
                 bool allow_tables, struct dstring *error)
{
	struct strlist words;
	int status = 0;

	list->parameter = parameter;
	list->items = NULL;
	list->count = 0;
	strlist_init(&words);
	if (strlist_split(&words, text, STRLIST_COMMA_SPACE, error) < 0) {
		strlist_fini(&words);
		return -1;
	}
	list->items = xcalloc(words.count ? words.count : 1, sizeof(*list->items));
	for (size_t i = 0; status == 0 && i < words.count; i++) {
		struct restriction *item = &list->items[list->count];
		const char *word = words.items[i];
		size_t known;

		for (known = 0; known < sizeof(restriction_names) / sizeof(restriction_names[0]);
		     known++)
			if (strcasecmp(word, restriction_names[known].name) == 0)
				break;
		if (known < sizeof(restriction_names) / sizeof(restriction_names[0])) {
			item->kind = restriction_names[known].kind;
			item->name = restriction_names[known].name;
			if (restriction_names[known].argument != ARGUMENT_NONE) {
				if (i + 1 >= words.count) {
					dstring_printf(error, "%s: restriction \"%s\" needs %s after it",
					               parameter, word,
					               restriction_names[known].argument == ARGUMENT_TABLE
					                   ? "a table (type:name)"
					                   : "a DNS domain");
					status = -1;
					break;
				}
				item->argument = xstrdup(words.items[++i]);
				if (restriction_names[known].argument == ARGUMENT_TABLE) {
					if (!allow_tables) {
						dstring_printf(error, "%s: \"%s %s\": tables cannot be "
						               "named here (use smtpd_restriction_classes)",
						               parameter, word, item->argument);
						free(item->argument);
						status = -1;
						break;
					}
					item->tables = open_tables(parameter, item->argument, error,
					                           &status);
					if (status < 0) {
						free(item->argument);
						break;
					}
				}
			}
			list->count++;
			continue;
		}
		for (known = 0; known < lists.class_count; known++)
			if (strcasecmp(word, lists.class_names[known]) == 0)
				break;
		if (known < lists.class_count) {
			item->kind = RESTRICTION_CLASS;
			item->name = lists.class_names[known];
			item->class_index = known;
			list->count++;
			continue;
		}
		dstring_printf(error, "%s: unknown restriction \"%s\"", parameter, word);
		status = -1;
	}
	strlist_fini(&words);
	if (status < 0)
		check_free_list(list);
	return status;
}

/*
 * has_relay_limit: whether list (or a class it names) holds a restriction
 * that stops relaying, as Postfix insists before it starts.
 */
static bool
has_relay_limit(const struct restriction_list *list, unsigned depth)
{
	if (depth > SMTPD_CHECK_DEPTH_MAX)
		return false;
	for (size_t i = 0; i < list->count; i++) {
		switch (list->items[i].kind) {
		case RESTRICTION_REJECT:
		case RESTRICTION_DEFER:
		case RESTRICTION_DEFER_IF_PERMIT:
		case RESTRICTION_REJECT_UNAUTH_DESTINATION:
		case RESTRICTION_DEFER_UNAUTH_DESTINATION:
			return true;
		case RESTRICTION_CLASS:
			if (has_relay_limit(&lists.classes[list->items[i].class_index], depth + 1))
				return true;
			break;
		default:
			break;
		}
	}
	return false;
}

/* ---- Initialization ---------------------------------------------------- */

static int
init_mynetworks(struct dstring *error)
{
	struct dstring computed;
	const char *text = var_mynetworks;
	int status = 0;

	dstring_init(&computed, DSTRING_NO_LIMIT);
	if (text == NULL || *text == '\0') {
		if (network_list_mynetworks(var_mynetworks_style, &computed, error) < 0)
			status = -1;
		text = dstring_str(&computed);
	}
	if (status == 0) {
		check_config.mynetworks = network_list_open(
		    "mynetworks", text,
		    table_search_parent_style(var_parent_domain_matches_subdomains, "mynetworks"),
		    error);
		if (check_config.mynetworks == NULL)
			status = -1;
	}
	dstring_fini(&computed);
	return status;
}

static int
init_lists(struct dstring *error)
{
	static const struct {
		const char *parameter;
		struct restriction_list *list;
		const char **value;
	} top[] = {
	    {"smtpd_client_restrictions", &lists.client, &var_smtpd_client_restrictions},
	    {"smtpd_helo_restrictions", &lists.helo, &var_smtpd_helo_restrictions},
	    {"smtpd_sender_restrictions", &lists.sender, &var_smtpd_sender_restrictions},
	    {"smtpd_relay_restrictions", &lists.relay, &var_smtpd_relay_restrictions},
	    {"smtpd_recipient_restrictions", &lists.recipient, &var_smtpd_recipient_restrictions},
	    {"smtpd_data_restrictions", &lists.data, &var_smtpd_data_restrictions},
	    {"smtpd_end_of_data_restrictions", &lists.end_of_data,
	     &var_smtpd_end_of_data_restrictions},
	    {"smtpd_etrn_restrictions", &lists.etrn, &var_smtpd_etrn_restrictions},
	};
	struct strlist names;
	struct dstring value;
	struct dstring reason;
	int status = 0;

	strlist_init(&names);
	if (strlist_split(&names, var_smtpd_restriction_classes ? var_smtpd_restriction_classes : "",
	                  STRLIST_COMMA_SPACE, error) < 0) {
		strlist_fini(&names);
		return -1;
	}
	/* All class names first: a class may name a class defined after it. */
	lists.class_count = names.count;
	lists.class_names = xcalloc(names.count + 1, sizeof(char *));
	lists.classes = xcalloc(names.count + 1, sizeof(*lists.classes));
	for (size_t i = 0; i < names.count; i++)
		lists.class_names[i] = xstrdup(names.items[i]);
	strlist_fini(&names);
	dstring_init(&value, DSTRING_NO_LIMIT);
	dstring_init(&reason, DSTRING_NO_LIMIT);
	for (size_t i = 0; status == 0 && i < lists.class_count; i++) {
		const char *raw = config_lookup(lists.class_names[i]);

		if (raw == NULL) {
			dstring_printf(error, "smtpd_restriction_classes: class \"%s\" has no "
			               "definition in main.cf", lists.class_names[i]);
			status = -1;
		} else if (config_expand(raw, &value, &reason) < 0) {
			dstring_printf(error, "%s: %s", lists.class_names[i], dstring_str(&reason));
			status = -1;
		} else {
			status = check_parse_list(&lists.classes[i], lists.class_names[i],
			                          dstring_str(&value), true, error);
		}
		dstring_reset(&value);
	}
	dstring_fini(&value);
	dstring_fini(&reason);
	for (size_t i = 0; status == 0 && i < sizeof(top) / sizeof(top[0]); i++)
		status = check_parse_list(top[i].list, top[i].parameter,
		                          *top[i].value ? *top[i].value : "", true, error);
	if (status == 0 && !has_relay_limit(&lists.relay, 0) &&
	    !has_relay_limit(&lists.recipient, 0)) {
		dstring_set(error, "in parameter smtpd_relay_restrictions or "
		                   "smtpd_recipient_restrictions, specify at least one working "
		                   "instance of: reject_unauth_destination, "
		                   "defer_unauth_destination, reject, defer, defer_if_permit");
		status = -1;
	}
	return status;
}

int
smtpd_check_init(struct dstring *error)
{
	struct resolve_settings settings;
	int status = 0;

	smtpd_check_fini();
	lists.is_initialized = true;
	check_config.access_parent_style =
	    table_search_parent_style(var_parent_domain_matches_subdomains, "smtpd_access_maps");
	resolve_settings_from_config(&settings);
	check_config.resolve = resolve_open(&settings);
	if (init_mynetworks(error) < 0)
		return -1;
	check_config.local_recipient_maps =
	    open_tables("local_recipient_maps", var_local_recipient_maps, error, &status);
	if (status == 0)
		check_config.relay_recipient_maps =
		    open_tables("relay_recipient_maps", var_relay_recipient_maps, error, &status);
	if (status == 0)
		check_config.virtual_alias_maps =
		    open_tables("virtual_alias_maps", var_virtual_alias_maps, error, &status);
	if (status == 0)
		check_config.sender_login_maps =
		    open_tables("smtpd_sender_login_maps", var_smtpd_sender_login_maps, error,
		                &status);
	if (status == 0)
		check_config.rbl_reply_maps =
		    open_tables("rbl_reply_maps", var_rbl_reply_maps, error, &status);
	if (status == 0) {
		char *domains = strip_proxy(var_virtual_alias_domains ? var_virtual_alias_domains : "");

		check_config.virtual_alias_domains = network_list_open(
		    "virtual_alias_domains", domains,
		    table_search_parent_style(var_parent_domain_matches_subdomains,
		                              "virtual_alias_domains"),
		    error);
		free(domains);
		if (check_config.virtual_alias_domains == NULL)
			status = -1;
	}
	if (status == 0)
		status = init_lists(error);
	return status;
}

void
smtpd_check_fini(void)
{
	struct restriction_list *top[] = {&lists.client, &lists.helo, &lists.sender,
	                                  &lists.relay, &lists.recipient, &lists.data,
	                                  &lists.end_of_data, &lists.etrn};

	if (!lists.is_initialized)
		return;
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		check_free_list(top[i]);
	for (size_t i = 0; i < lists.class_count; i++) {
		check_free_list(&lists.classes[i]);
		free(lists.class_names[i]);
	}
	free(lists.classes);
	free(lists.class_names);
	memset(&lists, 0, sizeof(lists));
	network_list_free(check_config.mynetworks);
	network_list_free(check_config.virtual_alias_domains);
	if (check_config.resolve != NULL)
		resolve_close(check_config.resolve);
	if (check_config.local_recipient_maps != NULL)
		table_list_close(check_config.local_recipient_maps);
	if (check_config.relay_recipient_maps != NULL)
		table_list_close(check_config.relay_recipient_maps);
	if (check_config.virtual_alias_maps != NULL)
		table_list_close(check_config.virtual_alias_maps);
	if (check_config.sender_login_maps != NULL)
		table_list_close(check_config.sender_login_maps);
	if (check_config.rbl_reply_maps != NULL)
		table_list_close(check_config.rbl_reply_maps);
	memset(&check_config, 0, sizeof(check_config));
}

bool
smtpd_check_is_mynetworks(const char *address)
{
	return check_config.mynetworks != NULL &&
	       network_list_match(check_config.mynetworks, NULL, address) == NETWORK_LIST_MATCH;
}

void
smtpd_check_result_init(struct smtpd_check_result *result)
{
	result->code = 0;
	result->is_discard = false;
	/* Room for a reply naming the longest address a command line can hold. */
	dstring_init(&result->reply, SMTPD_CHECK_TEXT_MAX);
	dstring_init(&result->log, 2 * SMTPD_CHECK_TEXT_MAX);
}

void
smtpd_check_result_fini(struct smtpd_check_result *result)
{
	dstring_fini(&result->reply);
	dstring_fini(&result->log);
}

void
smtpd_check_result_reset(struct smtpd_check_result *result)
{
	result->code = 0;
	result->is_discard = false;
	dstring_reset(&result->reply);
	dstring_reset(&result->log);
}

/* ---- Evaluation -------------------------------------------------------- */

static enum check_verdict
check_one(struct check_state *state, const struct restriction *restriction,
          const char *reply_name, const char *reply_class)
{
	const struct smtpd_check_client *client = state->client;

	switch (restriction->kind) {
	case RESTRICTION_PERMIT:
		return CHECK_PERMIT;
	case RESTRICTION_REJECT:
		return check_reject(state, var_reject_code, "5.7.1", "<%s>: %s rejected: Access denied",
		                    reply_name, reply_class);
	case RESTRICTION_DEFER:
		return check_reject(state, var_defer_code, "4.7.1", "<%s>: %s rejected: Access denied",
		                    reply_name, reply_class);
	case RESTRICTION_DEFER_IF_PERMIT:
		return check_tempfail(state, "defer_if_permit", "4.7.1",
		                      "<%s>: %s rejected: defer_if_permit requested", reply_name,
		                      reply_class);
	case RESTRICTION_DEFER_IF_REJECT:
		if (!state->has_defer_if_reject && !state->warn_if_reject) {
			state->has_defer_if_reject = true;
			dstring_printf(&state->defer_if_reject,
			               "4.7.1 <%s>: %s rejected: defer_if_reject requested",
			               reply_name, reply_class);
		}
		return CHECK_DUNNO;
	case RESTRICTION_WARN_IF_REJECT:
		return CHECK_DUNNO; /* handled by check_list */
	case RESTRICTION_PERMIT_MYNETWORKS:
		if (client->address == NULL)
			return CHECK_DUNNO;
		switch (network_list_match(check_config.mynetworks, client->name,
		                           client->address)) {
		case NETWORK_LIST_MATCH:
			return CHECK_PERMIT;
		case NETWORK_LIST_ERROR:
			return check_dict_retry(state, check_client_text(state));
		default:
			return CHECK_DUNNO;
		}
	case RESTRICTION_PERMIT_SASL_AUTHENTICATED:
		return client->sasl_username != NULL && *client->sasl_username != '\0'
		           ? CHECK_PERMIT
		           : CHECK_DUNNO;
	case RESTRICTION_REJECT_UNAUTH_PIPELINING:
		/* The session enforces this itself (smtpd_forbid_unauth_pipelining). */
		return CHECK_DUNNO;
	case RESTRICTION_CHECK_CLIENT_ACCESS:
	case RESTRICTION_CHECK_HELO_ACCESS:
	case RESTRICTION_CHECK_SENDER_ACCESS:
	case RESTRICTION_CHECK_RECIPIENT_ACCESS:
		return check_access(state, restriction, reply_name, reply_class);
	case RESTRICTION_REJECT_RBL_CLIENT:
	case RESTRICTION_REJECT_RHSBL_CLIENT:
	case RESTRICTION_REJECT_RHSBL_REVERSE_CLIENT:
	case RESTRICTION_REJECT_RHSBL_HELO:
	case RESTRICTION_REJECT_RHSBL_SENDER:
	case RESTRICTION_REJECT_RHSBL_RECIPIENT:
		return check_dnsbl(state, restriction);
	case RESTRICTION_CLASS:
		if (restriction->class_index >= lists.class_count)
			return check_server_error(state);
		return check_list(state, &lists.classes[restriction->class_index], reply_name,
		                  reply_class);
	default:
		return check_address_restriction(state, restriction);
	}
}

enum check_verdict
check_list(struct check_state *state, const struct restriction_list *list,
           const char *reply_name, const char *reply_class)
{
	enum check_verdict verdict = CHECK_DUNNO;
	bool saved_warn = state->warn_if_reject;
	bool next_warns = false;

	if (state->depth >= SMTPD_CHECK_DEPTH_MAX) {
		log_warning("%s: restrictions nested deeper than %d (a class that names itself?)",
		            list->parameter, SMTPD_CHECK_DEPTH_MAX);
		return check_server_error(state);
	}
	state->depth++;
	for (size_t i = 0; i < list->count; i++) {
		if (list->items[i].kind == RESTRICTION_WARN_IF_REJECT) {
			next_warns = true;
			continue;
		}
		state->warn_if_reject = saved_warn || next_warns;
		verdict = check_one(state, &list->items[i], reply_name, reply_class);
		state->warn_if_reject = saved_warn;
		next_warns = false;
		if (verdict != CHECK_DUNNO)
			break;
	}
	state->depth--;
	return verdict;
}

/* run: one top-level list; true when the stage is over (a reject). */
static bool
run(struct check_state *state, const struct restriction_list *list, const char *reply_name,
    const char *reply_class)
{
	return check_list(state, list, reply_name, reply_class) == CHECK_REJECT;
}

static bool
run_client(struct check_state *state)
{
	return run(state, &lists.client, check_client_text(state), "Client host");
}

static bool
run_helo(struct check_state *state)
{
	/* Without HELO there is no name: the list is skipped (as in Postfix). */
	if (state->client->helo == NULL)
		return false;
	return run(state, &lists.helo, state->client->helo, "Helo command");
}

static bool
run_sender(struct check_state *state)
{
	if (state->sender == NULL)
		return false;
	if (run(state, &lists.sender, state->sender, "Sender address"))
		return true;
	return var_smtpd_reject_unlisted_sender &&
	       check_unlisted(state, state->sender, true) == CHECK_REJECT;
}

static void
evaluate(struct check_state *state)
{
	bool delay = var_smtpd_delay_reject;

	switch (state->stage) {
	case SMTPD_CHECK_CONNECT:
		if (!delay)
			run_client(state);
		break;
	case SMTPD_CHECK_HELO:
		if (!delay)
			run_helo(state);
		break;
	case SMTPD_CHECK_MAIL:
		if (!delay)
			run_sender(state);
		break;
	case SMTPD_CHECK_RCPT:
		if (delay && (run_client(state) || run_helo(state) || run_sender(state)))
			break;
		if (state->recipient == NULL)
			break;
		if (run(state, &lists.relay, state->recipient, "Recipient address") ||
		    run(state, &lists.recipient, state->recipient, "Recipient address"))
			break;
		if (var_smtpd_reject_unlisted_recipient)
			check_unlisted(state, state->recipient, false);
		break;
	case SMTPD_CHECK_DATA:
		run(state, &lists.data, "DATA", "Data command");
		break;
	case SMTPD_CHECK_END_OF_DATA:
		run(state, &lists.end_of_data, "END-OF-MESSAGE", "End-of-data");
		break;
	case SMTPD_CHECK_ETRN:
		run(state, &lists.etrn, state->recipient ? state->recipient : "ETRN",
		    "Etrn command");
		break;
	}
}

void
smtpd_check(enum smtpd_check_stage stage, const struct smtpd_check_client *client,
            const char *sender, const char *recipient, struct smtpd_check_result *result)
{
	struct check_state state;

	smtpd_check_result_reset(result);
	if (!lists.is_initialized) {
		log_warning("smtpd_check called before smtpd_check_init");
		dstring_set(&result->reply, "4.3.5 Server configuration error");
		result->code = 451;
		return;
	}
	memset(&state, 0, sizeof(state));
	state.stage = stage;
	state.client = client;
	state.sender = sender;
	state.recipient = recipient;
	state.result = result;
	dstring_init(&state.defer_if_permit, SMTPD_CHECK_TEXT_MAX);
	dstring_init(&state.defer_if_reject, SMTPD_CHECK_TEXT_MAX);
	dstring_init(&state.client_text, 4096);
	dstring_printf(&state.client_text, "%s[%s]", client->name ? client->name : "unknown",
	               client->address ? client->address : "unknown");
	evaluate(&state);
	if (result->code == 0 && state.has_defer_if_permit) {
		/* A temporary doubt that nothing rejected outright: try again later. */
		check_reject_reply(&state, 450, dstring_str(&state.defer_if_permit));
	} else if (result->code / 100 == 5 && state.has_defer_if_reject) {
		check_reject_reply(&state, 450, dstring_str(&state.defer_if_reject));
	}
	if (result->code != 0)
		result->is_discard = false;
	dstring_fini(&state.defer_if_permit);
	dstring_fini(&state.defer_if_reject);
	dstring_fini(&state.client_text);
}
