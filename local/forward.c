/*
 * forward - a user's ~/.forward file and :include: files.
 *
 * forward_path names the candidates ("$home/.forward${recipient_delimiter}
 * ${extension}, $home/.forward"); the first that exists is used, as in
 * Postfix. A .forward file is trusted only when it is a regular file
 * owned by the user and neither group nor world writable: one that is
 * not is ignored with a warning (the mail goes to the mailbox, not to
 * whatever someone else wrote there). It is opened without following a
 * symbolic link at the last component and read up to
 * LOCAL_INCLUDE_SIZE_MAX bytes. Its destinations run with the user's
 * rights (allow_mail_to_commands/files class "forward").
 *
 * An :include: file may belong to anyone but must not be group or world
 * writable; its commands and files run with its owner's rights, or
 * default_privs when root owns it (class "include").
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "local.h"
#include "log.h"

enum local_read_result
local_read_trusted_file(const char *path, bool require_uid, uid_t uid, uid_t *owner,
                        struct dstring *content, struct dstring *error)
{
	struct stat info;
	char buffer[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return LOCAL_READ_NONE;
		dstring_printf(error, "open %s: %s", path,
		               errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return LOCAL_READ_ERROR;
	}
	if (fstat(fd, &info) < 0 || !S_ISREG(info.st_mode)) {
		dstring_printf(error, "%s is not a regular file", path);
		close(fd);
		return LOCAL_READ_ERROR;
	}
	if (require_uid && info.st_uid != uid) {
		dstring_printf(error, "%s is owned by uid %ld, not uid %ld", path,
		               (long)info.st_uid, (long)uid);
		close(fd);
		return LOCAL_READ_ERROR;
	}
	if (info.st_mode & (S_IWGRP | S_IWOTH)) {
		dstring_printf(error, "%s is group or world writable", path);
		close(fd);
		return LOCAL_READ_ERROR;
	}
	if (owner != NULL)
		*owner = info.st_uid;
	for (;;) {
		n = read(fd, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dstring_printf(error, "read %s: %s", path, strerror(errno));
			close(fd);
			return LOCAL_READ_ERROR;
		}
		if (n == 0)
			break;
		if (memchr(buffer, '\0', (size_t)n) != NULL ||
		    dstring_length(content) + (size_t)n > LOCAL_INCLUDE_SIZE_MAX) {
			dstring_printf(error, "%s: %s", path,
			               memchr(buffer, '\0', (size_t)n) ? "holds a NUL byte"
			                                               : "file too large");
			close(fd);
			return LOCAL_READ_ERROR;
		}
		dstring_append(content, buffer, (size_t)n);
	}
	close(fd);
	return LOCAL_READ_OK;
}

bool
local_forward(struct local_recipient_state *state, const struct local_context *context)
{
	const struct local_identity *user = context->user;
	const char *at = strrchr(context->address, '@');
	struct local_variable variables[] = {
	    {"user", user->name},
	    {"home", user->home},
	    {"shell", user->shell},
	    {"recipient", context->address},
	    {"extension", context->extension},
	    {"recipient_delimiter", *context->extension ? var_recipient_delimiter : ""},
	    {"domain", at ? at + 1 : ""},
	    {"local", user->name},
	};
	struct strlist candidates;
	struct dstring path, content, error;
	bool is_used = false;
	uid_t owner;

	/* recipient_delimiter may hold several characters: use the one that was there. */
	char delimiter[2] = {0, 0};
	if (*context->extension && context->address[0] != '\0') {
		const char *p = strpbrk(context->address, var_recipient_delimiter);
		if (p != NULL)
			delimiter[0] = *p;
		variables[5].value = delimiter;
	}
	strlist_init(&candidates);
	dstring_init(&path, 4096);
	dstring_init(&content, LOCAL_INCLUDE_SIZE_MAX + 1);
	dstring_init(&error, 1024);
	if (strlist_split(&candidates, var_forward_path, STRLIST_COMMA_SPACE, &error) < 0)
		log_warning("forward_path: %s", dstring_str(&error));
	for (size_t i = 0; i < candidates.count && !is_used; i++) {
		enum local_read_result read;

		dstring_reset(&path);
		dstring_reset(&error);
		if (local_expand(candidates.items[i], variables,
		                 sizeof(variables) / sizeof(variables[0]), &path, &error) < 0) {
			log_warning("forward_path: %s", dstring_str(&error));
			continue;
		}
		if (dstring_length(&path) == 0)
			continue;
		dstring_reset(&content);
		read = local_read_trusted_file(dstring_str(&path), true,
		                               local_is_root() ? user->uid : geteuid(), &owner,
		                               &content, &error);
		if (read == LOCAL_READ_NONE)
			continue;
		if (read == LOCAL_READ_ERROR) {
			/* Not trusted or not readable: the mailbox gets the mail, as Postfix. */
			log_warning("%s: ignoring forward file: %s",
			            state->message->envelope.queue_id, dstring_str(&error));
			break;
		}
		{
			struct local_context forward = *context;

			forward.origin = LOCAL_FROM_FORWARD;
			forward.privileges = user;
			local_deliver_value(state, &forward, dstring_str(&content));
			is_used = true;
		}
	}
	strlist_fini(&candidates);
	dstring_fini(&path);
	dstring_fini(&content);
	dstring_fini(&error);
	return is_used;
}

void
local_include(struct local_recipient_state *state, const struct local_context *context,
              const char *path)
{
	struct dstring content, error, key;
	struct local_result result;
	struct local_identity owner_identity = {0};
	struct local_context include = *context;
	uid_t owner = 0;

	dstring_init(&key, DSTRING_NO_LIMIT);
	dstring_printf(&key, "include %s", path);
	for (size_t i = 0; i < state->seen.count; i++) {
		if (strcmp(state->seen.items[i], dstring_str(&key)) == 0) {
			dstring_fini(&key);
			return;
		}
	}
	strlist_append(&state->seen, dstring_str(&key));
	dstring_fini(&key);
	if (*path != '/') {
		local_result_set(&result, LOCAL_BOUNCED, "5.3.5",
		                 ":include:%s: not an absolute path", path);
		local_record(state, context, context->address, &result);
		return;
	}
	dstring_init(&content, LOCAL_INCLUDE_SIZE_MAX + 1);
	dstring_init(&error, 1024);
	switch (local_read_trusted_file(path, false, 0, &owner, &content, &error)) {
	case LOCAL_READ_NONE:
		local_result_set(&result, LOCAL_BOUNCED, "5.3.5", ":include:%s: no such file",
		                 path);
		local_record(state, context, context->address, &result);
		break;
	case LOCAL_READ_ERROR:
		local_result_set(&result, LOCAL_DEFERRED, "4.3.5", ":include: %s",
		                 dstring_str(&error));
		local_record(state, context, context->address, &result);
		break;
	case LOCAL_READ_OK:
		include.origin = LOCAL_FROM_INCLUDE;
		if (local_is_root() && owner != 0 &&
		    local_identity_lookup_uid(owner, &owner_identity) == 0)
			include.privileges = &owner_identity;
		else
			include.privileges = &local_default_privileges;
		local_deliver_value(state, &include, dstring_str(&content));
		break;
	}
	local_identity_fini(&owner_identity);
	dstring_fini(&content);
	dstring_fini(&error);
}
