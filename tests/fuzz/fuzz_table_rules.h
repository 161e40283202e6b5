/*
 * fuzz_table_rules.h - the body the pattern-table fuzz targets share
 * (fuzz_table_pcre.c, fuzz_table_regexp.c, fuzz_table_cidr.c).
 *
 * The input is a table file; after its last "\n\x01", each line is a key
 * (at most FUZZ_EXTRA_KEYS of them). The file is written to one temporary
 * file, reused, and opened with the type's own open(); the same text is
 * also opened in the inline "{ ... }" form when it holds no NUL byte.
 */
#ifndef HIKYAKU_FUZZ_TABLE_RULES_H
#define HIKYAKU_FUZZ_TABLE_RULES_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "table.h"
#include "xalloc.h"

#define FUZZ_EXTRA_KEYS 8

static char fuzz_path[] = "/tmp/hikyaku-fuzz-table-XXXXXX";
static char fuzz_open_path[64];
static int fuzz_fd = -1;

static void
fuzz_remove_file(void)
{
	unlink(fuzz_path);
}

/*
 * Make the file the tables are read from. libFuzzer ends without running
 * atexit handlers, so where "/dev/fd/N" works the file is unlinked at once
 * and opened through its descriptor.
 */
static void
fuzz_make_file(void)
{
	int probe;

	if ((fuzz_fd = mkstemp(fuzz_path)) < 0) {
		perror("mkstemp");
		abort();
	}
	snprintf(fuzz_open_path, sizeof(fuzz_open_path), "/dev/fd/%d", fuzz_fd);
	if ((probe = open(fuzz_open_path, O_RDONLY)) >= 0) {
		close(probe);
		unlink(fuzz_path);
	} else {
		snprintf(fuzz_open_path, sizeof(fuzz_open_path), "%s", fuzz_path);
		atexit(fuzz_remove_file);
	}
}

/* Look every key up; any answer is fine, the checks are the sanitizers'. */
static void
fuzz_lookups(struct table *table, const char *const *keys, size_t key_count, const char *extra_keys,
             size_t extra_length)
{
	struct dstring value;
	size_t position = 0;
	unsigned extra_count = 0;

	dstring_init(&value, TABLE_VALUE_MAX);
	for (size_t i = 0; i < key_count; i++)
		table->type->lookup(table, keys[i], &value);
	while (extra_keys != NULL && position <= extra_length && extra_count < FUZZ_EXTRA_KEYS) {
		const char *start = extra_keys + position;
		const char *end = memchr(start, '\n', extra_length - position);
		size_t length = end ? (size_t)(end - start) : extra_length - position;
		char *key = xstrndup(start, length);

		table->type->lookup(table, key, &value);
		free(key);
		position += length + 1;
		extra_count++;
	}
	dstring_fini(&value);
}

static void
fuzz_table_rules(const struct table_type *type, const uint8_t *data, size_t size,
                 const char *const *keys, size_t key_count)
{
	const char *text = (const char *)data, *extra_keys = NULL;
	size_t text_length = size, extra_length = 0;
	struct dstring error;
	struct table table;

	if (fuzz_fd < 0) {
		log_open("fuzz", 0);
		fuzz_make_file();
	}
	for (size_t i = size; i >= 2; i--) {
		if (data[i - 2] == '\n' && data[i - 1] == '\x01') {
			text_length = i - 2;
			extra_keys = text + i;
			extra_length = size - i;
			break;
		}
	}
	if (ftruncate(fuzz_fd, 0) != 0 ||
	    (text_length > 0 && pwrite(fuzz_fd, text, text_length, 0) != (ssize_t)text_length)) {
		perror(fuzz_path);
		abort();
	}
	dstring_init(&error, 1000);
	memset(&table, 0, sizeof(table));
	table.type = type;
	if (type->open(&table, fuzz_open_path, 0, &error) == 0) {
		fuzz_lookups(&table, keys, key_count, extra_keys, extra_length);
		type->close(&table);
	}
	if (memchr(text, '\0', text_length) == NULL) {
		struct dstring name;

		dstring_init(&name, DSTRING_NO_LIMIT);
		dstring_append_char(&name, '{');
		dstring_append(&name, text, text_length);
		dstring_append_char(&name, '}');
		memset(&table, 0, sizeof(table));
		table.type = type;
		if (type->open(&table, dstring_str(&name), 0, &error) == 0) {
			fuzz_lookups(&table, keys, key_count, extra_keys, extra_length);
			type->close(&table);
		}
		dstring_fini(&name);
	}
	dstring_fini(&error);
}

#endif
