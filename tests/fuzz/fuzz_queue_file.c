/*
 * fuzz_queue_file - the queue file reader on arbitrary bytes: it must
 * accept or refuse with a reason, never crash, leak or read out of bounds,
 * whatever the lengths and counts in the file claim.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dstring.h"
#include "log.h"
#include "queue_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct queue_message message;
	struct dstring error;

	if (fd < 0) {
		log_open("fuzz", 0);
		fd = memfd_create("fuzz_queue_file", 0);
		if (fd < 0)
			return 0;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	dstring_init(&error, 1000);
	if (queue_file_read(fd, &message, &error) == 0) {
		(void)queue_message_attribute(&message, "envid");
		queue_message_fini(&message);
	}
	dstring_fini(&error);
	return 0;
}
