/*
 * config_edit - in-place edits of main.cf that keep everything else.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_edit.h"
#include "dstring.h"
#include "log.h"
#include "xalloc.h"

#define EDIT_FILE_MAX (16 * 1024 * 1024)

static bool
is_valid_name(const char *name)
{
	if (*name == '\0')
		return false;
	for (const char *cursor = name; *cursor; cursor++)
		if (!isalnum((unsigned char)*cursor) && *cursor != '_' && *cursor != '-' &&
		    *cursor != '.')
			return false;
	return true;
}

static int
check_edits(enum config_edit_action action, const struct config_edit *edits, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!is_valid_name(edits[i].name)) {
			log_error("bad parameter name \"%s\"", edits[i].name);
			return -1;
		}
		if (action == CONFIG_EDIT_SET &&
		    (edits[i].value == NULL || strpbrk(edits[i].value, "\r\n") != NULL)) {
			log_error("value of %s must be one line", edits[i].name);
			return -1;
		}
	}
	return 0;
}

/* The edit naming the entry that starts with line, or -1. */
static long
find_edit(const char *line, size_t length, const struct config_edit *edits, size_t count)
{
	size_t name_length = 0;

	while (name_length < length && line[name_length] != '=' && line[name_length] != ' ' &&
	       line[name_length] != '\t')
		name_length++;
	for (size_t i = 0; i < count; i++)
		if (strlen(edits[i].name) == name_length &&
		    memcmp(edits[i].name, line, name_length) == 0)
			return (long)i;
	return -1;
}

static int
read_file(const char *path, struct dstring *content, bool *exists)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buffer[65536];
	ssize_t got;

	*exists = fd >= 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : (log_error("open %s: %s", path, strerror(errno)), -1);
	while ((got = read(fd, buffer, sizeof(buffer))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || dstring_append(content, buffer, (size_t)got) != 0) {
			log_error("read %s: %s", path, got < 0 ? strerror(errno) : "file too large");
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int
write_atomically(const char *path, const struct dstring *content, mode_t mode)
{
	struct dstring temporary;
	char *directory_copy = xstrdup(path);
	int fd, directory_fd, status = -1;

	dstring_init(&temporary, DSTRING_NO_LIMIT);
	dstring_printf(&temporary, "%s.tmp.%ld", path, (long)getpid());
	fd = open(dstring_str(&temporary), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		log_error("create %s: %s", dstring_str(&temporary), strerror(errno));
		goto out;
	}
	for (size_t done = 0; done < dstring_length(content);) {
		ssize_t written = write(fd, dstring_str(content) + done,
					dstring_length(content) - done);

		if (written < 0 && errno == EINTR)
			continue;
		if (written <= 0) {
			log_error("write %s: %s", dstring_str(&temporary), strerror(errno));
			close(fd);
			unlink(dstring_str(&temporary));
			goto out;
		}
		done += (size_t)written;
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0 || close(fd) != 0) {
		log_error("write %s: %s", dstring_str(&temporary), strerror(errno));
		unlink(dstring_str(&temporary));
		goto out;
	}
	if (rename(dstring_str(&temporary), path) != 0) {
		log_error("rename %s to %s: %s", dstring_str(&temporary), path, strerror(errno));
		unlink(dstring_str(&temporary));
		goto out;
	}
	directory_fd = open(dirname(directory_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (directory_fd >= 0) {
		fsync(directory_fd);
		close(directory_fd);
	}
	status = 0;
out:
	free(directory_copy);
	dstring_fini(&temporary);
	return status;
}

int
config_edit_file(const char *path, enum config_edit_action action,
		 const struct config_edit *edits, size_t count)
{
	struct dstring content, result;
	bool *is_done, exists, in_edited_entry = false;
	struct stat info;
	mode_t mode = 0644;
	size_t position = 0;
	int status = -1;

	if (check_edits(action, edits, count) != 0)
		return -1;
	dstring_init(&content, EDIT_FILE_MAX);
	dstring_init(&result, DSTRING_NO_LIMIT);
	is_done = xcalloc(count ? count : 1, sizeof(*is_done));
	if (read_file(path, &content, &exists) != 0)
		goto out;
	if (!exists && action != CONFIG_EDIT_SET) {
		status = 0;
		goto out;
	}
	if (exists && stat(path, &info) == 0)
		mode = info.st_mode & 07777;

	while (position < dstring_length(&content)) {
		const char *line = dstring_str(&content) + position;
		const char *newline = memchr(line, '\n', dstring_length(&content) - position);
		size_t length = newline ? (size_t)(newline - line) : dstring_length(&content) - position;
		bool is_continuation = length > 0 && (line[0] == ' ' || line[0] == '\t');
		bool is_comment_or_blank = true;
		long edit;

		position += length + (newline ? 1 : 0);
		for (size_t i = 0; i < length; i++) {
			if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')
				continue;
			is_comment_or_blank = line[i] == '#';
			break;
		}
		/* Comments and blank lines do not end an entry, but stay as they are. */
		if (is_comment_or_blank || (is_continuation && !in_edited_entry)) {
			dstring_append(&result, line, length);
			dstring_append_char(&result, '\n');
			continue;
		}
		if (is_continuation) {
			if (action == CONFIG_EDIT_COMMENT_OUT) {
				dstring_append_char(&result, '#');
				dstring_append(&result, line, length);
				dstring_append_char(&result, '\n');
			}
			continue;
		}
		edit = find_edit(line, length, edits, count);
		in_edited_entry = edit >= 0;
		if (edit < 0) {
			dstring_append(&result, line, length);
			dstring_append_char(&result, '\n');
			continue;
		}
		switch (action) {
		case CONFIG_EDIT_SET:
			if (!is_done[edit])
				dstring_append_printf(&result, "%s = %s\n", edits[edit].name,
						      edits[edit].value);
			break;
		case CONFIG_EDIT_REMOVE:
			break;
		case CONFIG_EDIT_COMMENT_OUT:
			dstring_append_char(&result, '#');
			dstring_append(&result, line, length);
			dstring_append_char(&result, '\n');
			break;
		}
		is_done[edit] = true;
	}
	if (action == CONFIG_EDIT_SET)
		for (size_t i = 0; i < count; i++)
			if (!is_done[i])
				dstring_append_printf(&result, "%s = %s\n", edits[i].name,
						      edits[i].value);
	status = write_atomically(path, &result, mode);
out:
	free(is_done);
	dstring_fini(&content);
	dstring_fini(&result);
	return status;
}
