/*
 * fuzz_maildrop_file - the maildrop reader (postdrop's check of a user's
 * submission, pickup's check of a maildrop file) on arbitrary bytes, read
 * as both kinds and with a size limit. Any input must end in a status,
 * never a crash, a leak or undefined behaviour; and only a file that is
 * complete may ever be accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "maildrop_file.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One file reused for every input: a regular file reads without waiting. */
static int input_fd = -1;

static void
read_as(enum maildrop_kind kind, long long size_limit, size_t size)
{
	struct stream *stream;
	struct maildrop_reader reader;
	struct maildrop_record record;
	enum maildrop_status status;
	bool has_end = false;

	lseek(input_fd, 0, SEEK_SET);
	stream = stream_open(input_fd);
	maildrop_reader_init(&reader, stream, kind, size_limit);
	while ((status = maildrop_read(&reader, &record)) == MAILDROP_OK)
		if (record.type == MAILDROP_END)
			has_end = true;
	/* DONE without an end record would accept a truncated file. */
	if (status == MAILDROP_DONE && !has_end)
		abort();
	if (status != MAILDROP_DONE && maildrop_reader_error(&reader)[0] == '\0')
		abort();
	maildrop_reader_fini(&reader);
	stream_free(stream);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (input_fd < 0) {
		FILE *file = tmpfile();

		log_open("fuzz", 0);
		if (file == NULL)
			abort();
		input_fd = dup(fileno(file));
		fclose(file);
	}
	if (ftruncate(input_fd, 0) < 0 || pwrite(input_fd, data, size, 0) != (ssize_t)size)
		abort();
	read_as(MAILDROP_SUBMISSION, 0, size);
	read_as(MAILDROP_QUEUED, 0, size);
	read_as(MAILDROP_QUEUED, 16, size);
	return 0;
}
