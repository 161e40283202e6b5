/*
 * fuzz_attr_proto - the strict IPC reader on arbitrary frames: the frame
 * check, then reads in the order cleanup's envelope uses, and a generic
 * walk by peeked names. Never a crash or an out-of-bounds read.
 */
#include <stddef.h>
#include <stdint.h>

#include "attr_proto.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_reader reader;
	const char *text;
	const void *bytes;
	size_t length, frame_length;
	int64_t number;
	char name[ATTR_NAME_MAX + 1];

	log_open("fuzz", 0);
	(void)attr_frame_check(data, size, &frame_length);
	attr_reader_init(&reader, data, size);
	attr_get_string(&reader, "request", &text);
	attr_get_int(&reader, "version", &number);
	attr_get_data(&reader, "data", &bytes, &length);
	attr_reader_end(&reader);
	/* Walk whatever is there, by type guesses. */
	attr_reader_init(&reader, data, size);
	for (int i = 0; i < ATTR_COUNT_MAX + 2 && attr_peek_name(&reader, name) == 0; i++) {
		if (attr_get_string(&reader, name, &text) < 0) {
			attr_reader_init(&reader, data, size);
			break;
		}
	}
	attr_reader_end(&reader);
	return 0;
}
