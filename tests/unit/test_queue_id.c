/*
 * test_queue_id - queue IDs: fixed-width time, unique with the inode,
 * sorting by arrival, strict validation.
 */
#include <string.h>

#include "check.h"
#include "queue_id.h"

int
main(void)
{
	char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE], c[QUEUE_ID_SIZE];
	static const char *const bad[] = {
	    "",
	    "0123456789",
	    "0123456789A",
	    "0123456789Aw",
	    "0123456789A/",
	    "0123456789A0B",
	    "0123456789AWXYZ",
	    "01234567890123456789012345",
	};

	queue_id_make(a, 1700000000123456LL, 12345);
	queue_id_make(b, 1700000000123457LL, 7);
	queue_id_make(c, 1700000000123456LL, UINT64_MAX);
	CHECK(queue_id_is_valid(a));
	CHECK(queue_id_is_valid(b));
	CHECK(queue_id_is_valid(c));
	CHECK_INT_EQ(strlen(c), QUEUE_ID_MAX);
	CHECK(strcmp(a, b) < 0); /* later arrival sorts later */
	CHECK(strcmp(a, c) != 0);
	CHECK_INT_EQ(queue_id_time(a), 1700000000123456LL);
	CHECK_INT_EQ(queue_id_time(b), 1700000000123457LL);
	CHECK(queue_id_hash(a) != queue_id_hash(b));
	queue_id_make(a, 0, 0);
	CHECK_STR_EQ(a, "000000000000");
	CHECK(queue_id_is_valid(a));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (queue_id_is_valid(bad[i])) {
			fprintf(stderr, "accepted bad ID \"%s\"\n", bad[i]);
			CHECK(0);
		} else {
			CHECK(1);
		}
	}
	return check_finish();
}
