/*
 * deliver - the recursion of local delivery for one recipient, in
 * Postfix's order (local/recipient.c): the loop checks, alias_maps, the
 * user's .forward, then the mailbox; and the leaf destinations (mailbox,
 * /file, |command) with the rights each runs with.
 *
 * Duplicates and loops. Every expansion step is remembered for the
 * recipient ("alias NAME", "mailbox USER", "command CMD", ...): a second
 * way to the same destination delivers nothing more. An address that
 * names an alias being expanded in its own chain ("root: root, joe", or
 * "a: b" with "b: a") is taken as the user of that name, not expanded
 * again, as sendmail and Postfix do; "\user" means the same explicitly.
 * Nesting is bounded by LOCAL_DEPTH_MAX and the whole expansion by
 * LOCAL_EXPANSION_MAX; a Delivered-To: header naming the address in the
 * message itself is a forwarding loop (5.4.6).
 *
 * Rights: a mailbox is written as its user; commands and files as the
 * alias table's owner, the .forward's user, the :include: file's owner,
 * and never as root (default_privs instead).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "delivery.h"
#include "local.h"
#include "log.h"
#include "xalloc.h"

struct local_identity local_default_privileges;

bool
local_list_has(const char *list, const char *word)
{
	struct strlist items;
	bool has = false;

	strlist_init(&items);
	strlist_split(&items, list, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < items.count && !has; i++)
		has = strcasecmp(items.items[i], word) == 0;
	strlist_fini(&items);
	return has;
}

bool
local_is_local_domain(const char *domain)
{
	struct strlist items;
	bool is_local = false;

	if (strcasecmp(domain, var_myhostname) == 0)
		return true;
	strlist_init(&items);
	strlist_split(&items, var_mydestination, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < items.count && !is_local; i++)
		is_local = strcasecmp(items.items[i], domain) == 0;
	strlist_fini(&items);
	return is_local;
}

/* seen: whether key was met before for this recipient; remembers it. */
static bool
seen(struct local_recipient_state *state, const char *kind, const char *name)
{
	struct dstring key;

	dstring_init(&key, DSTRING_NO_LIMIT);
	dstring_printf(&key, "%s %s", kind, name);
	for (size_t i = 0; i < state->seen.count; i++) {
		if (strcmp(state->seen.items[i], dstring_str(&key)) == 0) {
			dstring_fini(&key);
			return true;
		}
	}
	strlist_append(&state->seen, dstring_str(&key));
	dstring_fini(&key);
	return false;
}

void
local_record(struct local_recipient_state *state, const struct local_context *context,
             const char *to, const struct local_result *result)
{
	const struct delivery_request *request = state->message->request;
	struct delivery_request single;
	struct delivery_recipient recipient;
	struct delivery_result logged;

	state->leaves++;
	switch (result->status) {
	case LOCAL_SENT:
		if (!state->has_sent)
			snprintf(state->first_sent, sizeof(state->first_sent), "%s", result->text);
		state->has_sent = true;
		break;
	case LOCAL_DEFERRED:
		if (!state->has_deferred)
			state->first_problem = *result;
		state->has_deferred = true;
		break;
	case LOCAL_BOUNCED:
		if (!state->has_deferred && !state->has_bounced)
			state->first_problem = *result;
		state->has_bounced = true;
		break;
	}
	if (request == NULL)
		return;
	/* One Postfix-form line per destination: to=<this one>, orig_to=<as given>. */
	single = *request;
	recipient = request->recipients[state->request_index];
	if (*recipient.original == '\0')
		recipient.original = recipient.address;
	recipient.address = to;
	single.recipients = &recipient;
	single.recipient_count = 1;
	memset(&logged, 0, sizeof(logged));
	logged.recipient = 0;
	logged.action = result->status == LOCAL_SENT       ? DELIVERY_DELIVERED
	                : result->status == LOCAL_DEFERRED ? DELIVERY_DEFERRED
	                                                   : DELIVERY_BOUNCED;
	logged.dsn = result->dsn;
	logged.reason = result->text;
	logged.relay = "local";
	delivery_log_result(&single, &logged, 0);
	(void)context;
}

/* rights: whose identity a command or file of context runs with. */
static const struct local_identity *
rights(const struct local_context *context)
{
	const struct local_identity *identity = context->privileges;

	if (identity == NULL)
		identity = context->user;
	if (identity == NULL || identity->uid == 0)
		identity = &local_default_privileges;
	return identity;
}

static const char *
origin_class(enum local_origin origin)
{
	switch (origin) {
	case LOCAL_FROM_ALIAS:
		return "alias";
	case LOCAL_FROM_FORWARD:
		return "forward";
	case LOCAL_FROM_INCLUDE:
		return "include";
	default:
		return "recipient";
	}
}

static void
fill_copy(struct local_copy *copy, struct local_recipient_state *state,
          const struct local_context *context, unsigned flags)
{
	memset(copy, 0, sizeof(*copy));
	copy->message = state->message;
	copy->sender = context->sender;
	copy->original =
	    *state->recipient->original ? state->recipient->original : state->recipient->address;
	copy->delivered = state->recipient->address;
	copy->flags = flags;
}

void
local_command(struct local_recipient_state *state, const struct local_context *context,
              const char *command, bool is_mailbox_command)
{
	struct local_command_request request;
	struct local_copy copy;
	struct local_result result;
	unsigned flags = LOCAL_COPY_FROM_LINE | LOCAL_COPY_RETURN_PATH | LOCAL_COPY_ORIGINAL;

	if (!is_mailbox_command &&
	    !local_list_has(var_allow_mail_to_commands, origin_class(context->origin))) {
		local_result_set(&result, LOCAL_BOUNCED, "5.7.1", "mail to command is restricted");
		local_record(state, context, context->address, &result);
		return;
	}
	if (seen(state, "command", command))
		return;
	if (is_mailbox_command || local_list_has(var_prepend_delivered_header, "command"))
		flags |= LOCAL_COPY_DELIVERED;
	fill_copy(&copy, state, context, flags);
	request.copy = &copy;
	request.command = command;
	request.state = state;
	request.context = context;
	local_run(local_command_deliver, &request, rights(context), LOCAL_RUN_AS_USER, &result);
	local_record(state, context, context->address, &result);
}

void
local_file(struct local_recipient_state *state, const struct local_context *context,
           const char *path)
{
	struct local_copy copy;
	struct local_result result;
	size_t length = strlen(path);
	unsigned flags = LOCAL_COPY_MBOX & ~LOCAL_COPY_DELIVERED;

	if (!local_list_has(var_allow_mail_to_files, origin_class(context->origin))) {
		local_result_set(&result, LOCAL_BOUNCED, "5.7.1", "mail to file is restricted");
		local_record(state, context, context->address, &result);
		return;
	}
	if (seen(state, "file", path))
		return;
	if (local_list_has(var_prepend_delivered_header, "file"))
		flags |= LOCAL_COPY_DELIVERED;
	if (length > 0 && path[length - 1] == '/') {
		struct local_maildir_request request;
		struct dstring unique;
		struct timespec now;
		static unsigned long counter;

		dstring_init(&unique, DSTRING_NO_LIMIT);
		clock_gettime(CLOCK_REALTIME, &now);
		local_maildir_unique(&unique, &now, (long)getpid(), ++counter, var_myhostname);
		fill_copy(&copy, state, context,
		          flags &
		              ~(LOCAL_COPY_FROM_LINE | LOCAL_COPY_QUOTE | LOCAL_COPY_BLANK_LINE));
		request.copy = &copy;
		request.path = path;
		request.unique = dstring_str(&unique);
		local_run(local_maildir_deliver, &request, rights(context), LOCAL_RUN_AS_USER,
		          &result);
		dstring_fini(&unique);
	} else {
		struct local_mbox_request request;

		fill_copy(&copy, state, context, flags);
		request.copy = &copy;
		request.path = path;
		request.is_spool = false;
		local_run(local_mbox_deliver, &request, rights(context), LOCAL_RUN_AS_USER,
		          &result);
	}
	if (result.status == LOCAL_SENT)
		local_result_set(&result, LOCAL_SENT, "2.0.0", "delivered to file: %s", path);
	local_record(state, context, context->address, &result);
}

void
local_mailbox(struct local_recipient_state *state, const struct local_context *context,
              const struct local_identity *user)
{
	struct local_result result;
	struct local_copy copy;
	struct dstring path;
	enum local_run_mode mode = user->uid == 0 ? LOCAL_RUN_AS_ROOT : LOCAL_RUN_AS_USER;
	size_t length = strlen(var_home_mailbox);

	if (seen(state, "mailbox", user->name))
		return;
	if (*var_mailbox_command != '\0') {
		struct local_context as_user = *context;

		as_user.user = user;
		as_user.privileges = user;
		local_command(state, &as_user, var_mailbox_command, true);
		return;
	}
	dstring_init(&path, DSTRING_NO_LIMIT);
	if (length > 0 && var_home_mailbox[length - 1] == '/') {
		struct local_maildir_request request;
		struct dstring unique;
		struct timespec now;
		static unsigned long counter;

		dstring_printf(&path, "%s/%s", user->home, var_home_mailbox);
		dstring_init(&unique, DSTRING_NO_LIMIT);
		clock_gettime(CLOCK_REALTIME, &now);
		local_maildir_unique(&unique, &now, (long)getpid(), ++counter, var_myhostname);
		fill_copy(&copy, state, context,
		          LOCAL_COPY_RETURN_PATH | LOCAL_COPY_ORIGINAL | LOCAL_COPY_DELIVERED);
		request.copy = &copy;
		request.path = dstring_str(&path);
		request.unique = dstring_str(&unique);
		local_run(local_maildir_deliver, &request, user, mode, &result);
		dstring_fini(&unique);
	} else {
		struct local_mbox_request request;

		if (length > 0) {
			dstring_printf(&path, "%s/%s", user->home, var_home_mailbox);
			request.is_spool = false;
		} else {
			dstring_printf(&path, "%s/%s", var_mail_spool_directory, user->name);
			request.is_spool = true;
			mode = LOCAL_RUN_AS_ROOT; /* mailbox.c changes to the user itself */
		}
		fill_copy(&copy, state, context, LOCAL_COPY_MBOX);
		request.copy = &copy;
		request.path = dstring_str(&path);
		local_run(local_mbox_deliver, &request, user, mode, &result);
	}
	dstring_fini(&path);
	local_record(state, context, context->address, &result);
}

void
local_deliver_value(struct local_recipient_state *state, const struct local_context *context,
                    const char *value)
{
	struct strlist items;
	struct dstring error, address;
	struct local_result result;

	strlist_init(&items);
	dstring_init(&error, 1024);
	dstring_init(&address, DSTRING_NO_LIMIT);
	if (local_alias_split(value, &items, &error) < 0) {
		local_result_set(&result, LOCAL_BOUNCED, "5.3.5", "bad %s entry for %s: %s",
		                 origin_class(context->origin), context->address,
		                 dstring_str(&error));
		local_record(state, context, context->address, &result);
		goto done;
	}
	for (size_t i = 0; i < items.count; i++) {
		const char *item = items.items[i];

		if (++state->expansions > LOCAL_EXPANSION_MAX) {
			local_result_set(&result, LOCAL_BOUNCED, "5.4.6",
			                 "too many destinations in the expansion of %s",
			                 state->recipient->address);
			local_record(state, context, context->address, &result);
			break;
		}
		if (item[0] == '|') {
			local_command(state, context, item + 1, false);
		} else if (item[0] == '/') {
			local_file(state, context, item);
		} else if (strncasecmp(item, ":include:", 9) == 0) {
			local_include(state, context, item + 9);
		} else {
			bool is_literal = item[0] == '\\';

			dstring_reset(&address);
			if (is_literal)
				dstring_append_char(&address, '\\');
			if (address_internalize(item + is_literal, strlen(item + is_literal),
			                        &address) < 0) {
				local_result_set(&result, LOCAL_BOUNCED, "5.1.3",
				                 "bad address \"%s\" in the expansion of %s", item,
				                 context->address);
				local_record(state, context, context->address, &result);
				continue;
			}
			local_deliver_address(state, context, dstring_str(&address));
		}
	}
done:
	strlist_fini(&items);
	dstring_fini(&error);
	dstring_fini(&address);
}

/* is_ancestor_alias: whether name is being expanded in context's own chain. */
static bool
is_ancestor_alias(const struct local_context *context, const char *name)
{
	for (; context != NULL; context = context->parent)
		if (context->alias_name != NULL && strcmp(context->alias_name, name) == 0)
			return true;
	return false;
}

/* extension_start: where the extension begins in localpart, or NULL. */
static const char *
extension_start(const char *localpart)
{
	const char *p;

	if (*var_recipient_delimiter == '\0')
		return NULL;
	if (strcasecmp(localpart, "postmaster") == 0 ||
	    strcasecmp(localpart, "mailer-daemon") == 0 ||
	    strcasecmp(localpart, var_double_bounce_sender) == 0)
		return NULL;
	if (var_owner_request_special && strchr(var_recipient_delimiter, '-') != NULL &&
	    (strncasecmp(localpart, "owner-", 6) == 0 ||
	     (strlen(localpart) > 8 &&
	      strcasecmp(localpart + strlen(localpart) - 8, "-request") == 0)))
		return NULL;
	p = strpbrk(localpart, var_recipient_delimiter);
	return p != NULL && p != localpart ? p : NULL;
}

void
local_deliver_address(struct local_recipient_state *state, const struct local_context *parent,
                      const char *address)
{
	struct local_context context = *parent;
	struct local_result result;
	struct local_identity user = {0};
	struct dstring qualified, error, name_buffer;
	const char *at, *value, *extension;
	char *localpart, *user_name;
	bool is_literal = address[0] == '\\';
	enum local_alias_result alias;
	uid_t owner;

	if (is_literal)
		address++;
	dstring_init(&qualified, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	dstring_init(&name_buffer, DSTRING_NO_LIMIT);
	at = strrchr(address, '@');
	/* Not ours: forward through cleanup (the top level is ours by definition). */
	if (parent->depth > 0 && at != NULL && !local_is_local_domain(at + 1)) {
		if (!seen(state, "remote", address)) {
			strlist_append(&state->forward, address);
			if (state->forward_sender == NULL)
				state->forward_sender = xstrdup(parent->sender);
		}
		goto done;
	}
	localpart = at ? xstrndup(address, (size_t)(at - address)) : xstrdup(address);
	for (char *p = localpart; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	dstring_printf(&qualified, "%s@%s", localpart, at ? at + 1 : var_myorigin);
	for (char *p = qualified.data; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	context.address = dstring_str(&qualified);
	context.parent = parent;
	context.alias_name = NULL;
	context.depth = parent->depth + 1;
	context.privileges = NULL;
	context.user = NULL;
	context.origin = LOCAL_FROM_RECIPIENT;
	if (context.depth > LOCAL_DEPTH_MAX) {
		local_result_set(&result, LOCAL_BOUNCED, "5.4.6",
		                 "possible mail forwarding loop for %s: nested too deeply",
		                 context.address);
		local_record(state, &context, context.address, &result);
		goto done_local;
	}
	/* A Delivered-To: header for this address: the message came back. */
	for (size_t i = 0; i < state->message->delivered_to.count; i++) {
		if (strcmp(state->message->delivered_to.items[i], context.address) == 0) {
			local_result_set(&result, LOCAL_BOUNCED, "5.4.6",
			                 "mail forwarding loop for %s", context.address);
			local_record(state, &context, context.address, &result);
			goto done_local;
		}
	}
	extension = extension_start(localpart);
	user_name =
	    extension ? xstrndup(localpart, (size_t)(extension - localpart)) : xstrdup(localpart);
	context.extension = extension ? extension + 1 : "";

	/* 1. Aliases (not for \name, not for a name of our own chain). */
	if (!is_literal && !is_ancestor_alias(parent, localpart) &&
	    !is_ancestor_alias(parent, user_name)) {
		if (seen(state, "alias", localpart))
			goto done_user; /* expanded along another branch already */
		alias = local_alias_lookup(localpart, &value, &owner, &error);
		if (alias == LOCAL_ALIAS_ERROR) {
			local_result_set(&result, LOCAL_DEFERRED, "4.3.0", "%s",
			                 dstring_str(&error));
			local_record(state, &context, context.address, &result);
			goto done_user;
		}
		if (alias == LOCAL_ALIAS_FOUND) {
			struct local_identity owner_identity = {0};
			char *copy = xstrdup(value);
			const char *owner_value;
			uid_t owner_owner;

			context.alias_name = localpart;
			context.origin = LOCAL_FROM_ALIAS;
			if (local_is_root() && owner != 0 &&
			    local_identity_lookup_uid(owner, &owner_identity) == 0)
				context.privileges = &owner_identity;
			else
				context.privileges = &local_default_privileges;
			/* An owner-NAME alias becomes the envelope sender of the expansion. */
			dstring_printf(&name_buffer, "owner-%s", user_name);
			if (local_alias_lookup(dstring_str(&name_buffer), &owner_value,
			                       &owner_owner, &error) == LOCAL_ALIAS_FOUND) {
				dstring_append_printf(&name_buffer, "@%s", var_myorigin);
				context.sender = dstring_str(&name_buffer);
			}
			local_deliver_value(state, &context, copy);
			free(copy);
			local_identity_fini(&owner_identity);
			goto done_user;
		}
	}

	/* 2. The user. */
	if (local_identity_lookup(user_name, &user) < 0) {
		if (*var_luser_relay != '\0' && !seen(state, "luser_relay", user_name)) {
			struct local_variable variables[] = {
			    {"user", user_name},
			    {"local", localpart},
			    {"extension", context.extension},
			    {"domain", at ? at + 1 : ""},
			    {"recipient", context.address},
			    {"recipient_delimiter", var_recipient_delimiter},
			};
			struct dstring relay;

			dstring_init(&relay, DSTRING_NO_LIMIT);
			if (local_expand(var_luser_relay, variables,
			                 sizeof(variables) / sizeof(variables[0]), &relay,
			                 &error) == 0 &&
			    dstring_length(&relay) > 0) {
				context.origin = LOCAL_FROM_ALIAS;
				local_deliver_address(state, &context, dstring_str(&relay));
				dstring_fini(&relay);
				goto done_user;
			}
			dstring_fini(&relay);
		}
		local_result_set(&result, LOCAL_BOUNCED, "5.1.1", "unknown user: \"%s\"",
		                 user_name);
		local_record(state, &context, context.address, &result);
		goto done_user;
	}
	if (!local_is_root() && user.uid != geteuid()) {
		local_result_set(&result, LOCAL_DEFERRED, "4.3.0",
		                 "cannot deliver to user %s: this mail system runs without root "
		                 "privileges and delivers only to uid %ld",
		                 user.name, (long)geteuid());
		local_record(state, &context, context.address, &result);
		goto done_user;
	}
	context.user = &user;

	/* 3. ~/.forward (not for \user). */
	if (!is_literal && !seen(state, "forward", user.name) && local_forward(state, &context))
		goto done_user;

	/* 4. The mailbox. */
	local_mailbox(state, &context, &user);
done_user:
	free(user_name);
	local_identity_fini(&user);
done_local:
	free(localpart);
done:
	dstring_fini(&qualified);
	dstring_fini(&error);
	dstring_fini(&name_buffer);
}

void
local_deliver_recipient(struct local_recipient_state *state)
{
	struct local_context top;

	memset(&top, 0, sizeof(top));
	top.address = state->recipient->address;
	top.sender = state->message->envelope.sender;
	top.origin = LOCAL_FROM_RECIPIENT;
	top.extension = "";
	local_deliver_address(state, &top, state->recipient->address);
	local_resubmit(state);
}
