/*
 * test_base64 - RFC 4648 test vectors both ways, and the strict decoder
 * refusing every malformed form (bad length, bad characters, misplaced or
 * non-canonical padding), and the output limit.
 */
#include <string.h>

#include "base64.h"
#include "check.h"
#include "dstring.h"

static void
check_round_trip(const char *plain, const char *encoded)
{
	struct dstring out;

	dstring_init(&out, 1024);
	CHECK_INT_EQ(base64_encode(&out, plain, strlen(plain)), 0);
	CHECK_STR_EQ(dstring_str(&out), encoded);
	dstring_reset(&out);
	CHECK_INT_EQ(base64_decode(&out, encoded, strlen(encoded)), 0);
	CHECK_STR_EQ(dstring_str(&out), plain);
	dstring_fini(&out);
}

static void
check_refused(const char *encoded)
{
	struct dstring out;

	dstring_init(&out, 1024);
	if (base64_decode(&out, encoded, strlen(encoded)) != -1)
		fprintf(stderr, "accepted: \"%s\"\n", encoded);
	CHECK_INT_EQ(base64_decode(&out, encoded, strlen(encoded)), -1);
	dstring_fini(&out);
}

int
main(void)
{
	struct dstring out;

	/* RFC 4648 section 10. */
	check_round_trip("", "");
	check_round_trip("f", "Zg==");
	check_round_trip("fo", "Zm8=");
	check_round_trip("foo", "Zm9v");
	check_round_trip("foob", "Zm9vYg==");
	check_round_trip("fooba", "Zm9vYmE=");
	check_round_trip("foobar", "Zm9vYmFy");
	check_round_trip("Username:", "VXNlcm5hbWU6");

	/* Binary data with NUL bytes (SASL PLAIN) and all 8-bit values. */
	dstring_init(&out, 1024);
	CHECK_INT_EQ(base64_encode(&out, "\0alice\0secret", 13), 0);
	CHECK_STR_EQ(dstring_str(&out), "AGFsaWNlAHNlY3JldA==");
	dstring_reset(&out);
	CHECK_INT_EQ(base64_decode(&out, "AGFsaWNlAHNlY3JldA==", 20), 0);
	CHECK_INT_EQ(dstring_length(&out), 13);
	CHECK(memcmp(dstring_str(&out), "\0alice\0secret", 13) == 0);
	{
		unsigned char all[256];
		struct dstring back;

		for (int i = 0; i < 256; i++)
			all[i] = (unsigned char)i;
		dstring_reset(&out);
		CHECK_INT_EQ(base64_encode(&out, all, sizeof(all)), 0);
		CHECK_INT_EQ(dstring_length(&out), 344);
		dstring_init(&back, 1024);
		CHECK_INT_EQ(base64_decode(&back, dstring_str(&out), dstring_length(&out)), 0);
		CHECK_INT_EQ(dstring_length(&back), 256);
		CHECK(memcmp(dstring_str(&back), all, 256) == 0);
		dstring_fini(&back);
	}
	dstring_fini(&out);

	check_refused("Zg="); /* length not a multiple of four */
	check_refused("Zg");
	check_refused("Z");
	check_refused("Zm9v!A=="); /* not in the alphabet */
	check_refused("Zm 9v");
	check_refused("Zm9v\nYg==");
	check_refused("Zm9vYg==\n");
	check_refused("===="); /* padding only */
	check_refused("Z===");
	check_refused("Zg==Zm9v"); /* padding before the end */
	check_refused("Zm=v");     /* data after padding */
	check_refused("Zh==");     /* unused bits not zero */
	check_refused("Zm9=");
	check_refused("Zm-_"); /* the URL alphabet is not ours */

	/* The output limit: an overflow is an error. */
	dstring_init(&out, 4);
	CHECK_INT_EQ(base64_decode(&out, "Zm9vYmFy", 8), -1);
	dstring_reset(&out);
	CHECK_INT_EQ(base64_encode(&out, "foobar", 6), -1);
	dstring_fini(&out);
	return check_finish();
}
