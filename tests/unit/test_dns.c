/*
 * test_dns - the DNS reply parser on hand-made replies: good ones,
 * compressed names, pointer loops, truncation, wrong rdata lengths, a null
 * MX, equal preferences in random order; and the reverse-name helpers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dns.h"
#include "dstring.h"

/* A reply under construction. */
struct packet {
	unsigned char bytes[8192];
	size_t length;
};

static void
put8(struct packet *packet, unsigned value)
{
	if (packet->length < sizeof packet->bytes)
		packet->bytes[packet->length++] = (unsigned char)value;
}

static void
put16(struct packet *packet, unsigned value)
{
	put8(packet, value >> 8 & 0xff);
	put8(packet, value & 0xff);
}

static void
put32(struct packet *packet, unsigned value)
{
	put16(packet, value >> 16 & 0xffff);
	put16(packet, value & 0xffff);
}

static void
put_bytes(struct packet *packet, const void *data, size_t length)
{
	for (size_t i = 0; i < length; i++)
		put8(packet, ((const unsigned char *)data)[i]);
}

/* "a.b.c" as labels, ending in the root unless a pointer follows. */
static void
put_labels(struct packet *packet, const char *name)
{
	while (*name != '\0') {
		size_t length = strcspn(name, ".");

		put8(packet, (unsigned)length);
		put_bytes(packet, name, length);
		name += length;
		if (*name == '.')
			name++;
	}
}

static void
put_name(struct packet *packet, const char *name)
{
	put_labels(packet, name);
	put8(packet, 0);
}

static void
put_pointer(struct packet *packet, unsigned offset)
{
	put16(packet, 0xc000 | offset);
}

/* Header with one question (name, type) at offset 12. */
static void
start(struct packet *packet, unsigned flags, unsigned answers, const char *name, unsigned type)
{
	packet->length = 0;
	put16(packet, 0x1234);
	put16(packet, flags);
	put16(packet, 1);
	put16(packet, answers);
	put16(packet, 0);
	put16(packet, 0);
	put_name(packet, name);
	put16(packet, type);
	put16(packet, 1);
}

/* A record header: owner as a pointer to the question name. */
static void
record(struct packet *packet, unsigned type, unsigned ttl, unsigned rdata_length)
{
	put_pointer(packet, 12);
	put16(packet, type);
	put16(packet, 1);
	put32(packet, ttl);
	put16(packet, rdata_length);
}

#define RESPONSE 0x8180 /* QR, RD, RA, NOERROR */

static enum dns_status
parse(const struct packet *packet, int type, struct dns_answer *answer, struct dstring *error)
{
	dstring_reset(error);
	return dns_parse_answer(packet->bytes, packet->length, type, answer, error);
}

static void
test_a_and_aaaa(struct dstring *error)
{
	struct packet packet;
	struct dns_answer answer;
	static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

	start(&packet, RESPONSE, 2, "example.com", DNS_TYPE_A);
	record(&packet, DNS_TYPE_A, 300, 4);
	put_bytes(&packet, "\xc0\x00\x02\x01", 4);
	record(&packet, DNS_TYPE_A, 0xffffffffU, 4);
	put_bytes(&packet, "\xc0\x00\x02\x02", 4);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_OK);
	CHECK_INT_EQ(answer.count, 2);
	if (answer.count == 2) {
		CHECK_STR_EQ(answer.records[0].address, "192.0.2.1");
		CHECK_INT_EQ(answer.records[0].ttl, 300);
		CHECK_STR_EQ(answer.records[1].address, "192.0.2.2");
		CHECK_INT_EQ(answer.records[1].ttl, 0); /* over 2^31: zero */
		CHECK(answer.records[0].name == NULL);
	}
	dns_answer_fini(&answer);

	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_AAAA);
	record(&packet, DNS_TYPE_AAAA, 60, 16);
	put_bytes(&packet, v6, 16);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_AAAA, &answer, error), DNS_OK);
	CHECK_INT_EQ(answer.count, 1);
	if (answer.count == 1)
		CHECK_STR_EQ(answer.records[0].address, "2001:db8::1");
	dns_answer_fini(&answer);

	/* A CNAME the server followed, then the A record of its target. */
	start(&packet, RESPONSE, 2, "www.example.com", DNS_TYPE_A);
	record(&packet, DNS_TYPE_CNAME, 60, 6);
	put_labels(&packet, "web");
	put_pointer(&packet, 16); /* "example.com" inside the question */
	put_pointer(&packet, 12 + 17 + 4 + 12);
	put16(&packet, DNS_TYPE_A);
	put16(&packet, 1);
	put32(&packet, 60);
	put16(&packet, 4);
	put_bytes(&packet, "\xc0\x00\x02\x07", 4);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_OK);
	CHECK_INT_EQ(answer.count, 1);
	if (answer.count == 1)
		CHECK_STR_EQ(answer.records[0].address, "192.0.2.7");
	dns_answer_fini(&answer);
	/* The same reply asked as CNAME: the target name decompressed. */
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_CNAME, &answer, error), DNS_OK);
	if (answer.count == 1)
		CHECK_STR_EQ(answer.records[0].name, "web.example.com");
	dns_answer_fini(&answer);
}

static void
test_mx(struct dstring *error)
{
	struct packet packet;
	struct dns_answer answer;

	/* Compressed exchanges, out of order on the wire. */
	start(&packet, RESPONSE, 3, "example.com", DNS_TYPE_MX);
	record(&packet, DNS_TYPE_MX, 3600, 2 + 4 + 2);
	put16(&packet, 20);
	put_labels(&packet, "mx2");
	put_pointer(&packet, 12);
	record(&packet, DNS_TYPE_MX, 3600, 2 + 4 + 2);
	put16(&packet, 10);
	put_labels(&packet, "mx1");
	put_pointer(&packet, 12);
	record(&packet, DNS_TYPE_MX, 3600, 2 + 16);
	put16(&packet, 30);
	put_name(&packet, "backup.example");
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_MX, &answer, error), DNS_OK);
	CHECK_INT_EQ(answer.count, 3);
	if (answer.count == 3) {
		CHECK_STR_EQ(answer.records[0].name, "mx1.example.com");
		CHECK_INT_EQ(answer.records[0].preference, 10);
		CHECK_STR_EQ(answer.records[1].name, "mx2.example.com");
		CHECK_STR_EQ(answer.records[2].name, "backup.example");
		CHECK_INT_EQ(answer.records[2].preference, 30);
	}
	dns_answer_fini(&answer);

	/* Null MX (RFC 7505): preference 0, exchange the root. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_MX);
	record(&packet, DNS_TYPE_MX, 3600, 3);
	put16(&packet, 0);
	put8(&packet, 0);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_MX, &answer, error), DNS_OK);
	CHECK_INT_EQ(answer.count, 1);
	if (answer.count == 1)
		CHECK_STR_EQ(answer.records[0].name, "");
	dns_answer_fini(&answer);

	/* An MX whose name ends before its rdata does: wrong length. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_MX);
	record(&packet, DNS_TYPE_MX, 3600, 2 + 6 + 2);
	put16(&packet, 10);
	put_labels(&packet, "mx1");
	put_pointer(&packet, 12);
	put16(&packet, 0);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_MX, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "wrong rdata length") != NULL);
	CHECK_INT_EQ(answer.count, 0);
	CHECK(answer.records == NULL);

	/* An MX whose name runs past its rdata. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_MX);
	record(&packet, DNS_TYPE_MX, 3600, 2 + 2);
	put16(&packet, 10);
	put_labels(&packet, "mx1");
	put_pointer(&packet, 12);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_MX, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "runs past") != NULL);
}

static void
test_mx_shuffle(struct dstring *error)
{
	struct packet packet;
	struct dns_answer answer;
	const char *names[] = {"a", "b", "c"};
	unsigned first_seen[3] = {0, 0, 0};
	bool is_sorted = true;

	start(&packet, RESPONSE, 4, "example.com", DNS_TYPE_MX);
	for (int i = 0; i < 3; i++) {
		record(&packet, DNS_TYPE_MX, 60, 2 + 2 + 1);
		put16(&packet, 10);
		put_name(&packet, names[i]);
	}
	record(&packet, DNS_TYPE_MX, 60, 2 + 2 + 1);
	put16(&packet, 50);
	put_name(&packet, "z");
	for (int round = 0; round < 300; round++) {
		if (parse(&packet, DNS_TYPE_MX, &answer, error) != DNS_OK || answer.count != 4) {
			is_sorted = false;
			dns_answer_fini(&answer);
			break;
		}
		for (int i = 0; i < 3; i++) {
			if (strcmp(answer.records[0].name, names[i]) == 0)
				first_seen[i]++;
			if (answer.records[i].preference != 10)
				is_sorted = false;
		}
		if (strcmp(answer.records[3].name, "z") != 0)
			is_sorted = false;
		dns_answer_fini(&answer);
	}
	CHECK(is_sorted);
	/* Each equal-preference host comes first some of the time. */
	CHECK(first_seen[0] > 0 && first_seen[1] > 0 && first_seen[2] > 0);
	CHECK_INT_EQ(first_seen[0] + first_seen[1] + first_seen[2], 300);
}

static void
test_status(struct dstring *error)
{
	struct packet packet;
	struct dns_answer answer;

	start(&packet, 0x8183, 0, "nowhere.example", DNS_TYPE_MX);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_MX, &answer, error), DNS_NOTFOUND);
	CHECK_STR_EQ(dstring_str(error), "Host not found");
	start(&packet, 0x8182, 0, "broken.example", DNS_TYPE_MX);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_MX, &answer, error), DNS_TEMPFAIL);
	start(&packet, 0x8185, 0, "refused.example", DNS_TYPE_MX);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_MX, &answer, error), DNS_TEMPFAIL);
	/* NOERROR without records of the type: NODATA. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_MX);
	record(&packet, DNS_TYPE_A, 60, 4);
	put_bytes(&packet, "\x01\x02\x03\x04", 4);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_MX, &answer, error), DNS_NOTFOUND);
	CHECK_STR_EQ(dstring_str(error), "no MX record");
	CHECK(answer.records == NULL);
	/* A query, not a reply. */
	start(&packet, 0x0100, 0, "example.com", DNS_TYPE_A);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	/* The truncation bit. */
	start(&packet, RESPONSE | 0x0200, 0, "example.com", DNS_TYPE_A);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK_STR_EQ(dstring_str(error), "truncated DNS reply");
	/* Shorter than a header. */
	packet.length = 11;
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK_INT_EQ(dns_parse_answer(packet.bytes, 0, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
}

static void
test_malformed(struct dstring *error)
{
	struct packet packet, good;
	struct dns_answer answer;

	/* A good reply cut at every length: never OK with a partial record,
	 * never a crash (ASan watches the reads). */
	start(&good, RESPONSE, 2, "example.com", DNS_TYPE_MX);
	record(&good, DNS_TYPE_MX, 60, 2 + 4 + 2);
	put16(&good, 10);
	put_labels(&good, "mx1");
	put_pointer(&good, 12);
	record(&good, DNS_TYPE_MX, 60, 2 + 4 + 2);
	put16(&good, 20);
	put_labels(&good, "mx2");
	put_pointer(&good, 12);
	for (size_t cut = 0; cut < good.length; cut++) {
		enum dns_status status =
		    dns_parse_answer(good.bytes, cut, DNS_TYPE_MX, &answer, error);

		CHECK_INT_EQ(status, DNS_TEMPFAIL);
		CHECK(answer.count == 0 && answer.records == NULL);
	}
	CHECK_INT_EQ(parse(&good, DNS_TYPE_MX, &answer, error), DNS_OK);
	CHECK_INT_EQ(answer.count, 2);
	dns_answer_fini(&answer);

	/* A pointer to itself. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_A);
	put_pointer(&packet, (unsigned)packet.length);
	put16(&packet, DNS_TYPE_A);
	put16(&packet, 1);
	put32(&packet, 60);
	put16(&packet, 4);
	put_bytes(&packet, "\x01\x02\x03\x04", 4);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "pointer loop") != NULL);

	/* A pointer forward. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_A);
	put_pointer(&packet, (unsigned)packet.length + 2);
	put_name(&packet, "x");
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "pointer loop") != NULL);

	/* A label then a pointer back to that label: a cycle that only
	 * the length bound stops. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_A);
	{
		unsigned loop_start = (unsigned)packet.length;

		put_labels(&packet, "a");
		put_pointer(&packet, loop_start);
	}
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "255") != NULL);

	/* Two pointers to each other (the second points backward, the
	 * first forward). */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_A);
	put_pointer(&packet, (unsigned)packet.length + 2);
	put_pointer(&packet, (unsigned)packet.length - 2);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);

	/* A pointer past the end of the message. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_A);
	put_pointer(&packet, 0x3fff);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);

	/* The reserved label types 01 and 10. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_A);
	put8(&packet, 0x41);
	put8(&packet, 0);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "label type") != NULL);

	/* A name longer than 255 bytes. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_A);
	for (int i = 0; i < 5; i++) {
		put8(&packet, 60);
		for (int j = 0; j < 60; j++)
			put8(&packet, 'x');
	}
	put8(&packet, 0);
	put16(&packet, DNS_TYPE_A);
	put16(&packet, 1);
	put32(&packet, 60);
	put16(&packet, 4);
	put_bytes(&packet, "\x01\x02\x03\x04", 4);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "255") != NULL);

	/* Wrong rdata length for A and AAAA. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_A);
	record(&packet, DNS_TYPE_A, 60, 5);
	put_bytes(&packet, "\x01\x02\x03\x04\x05", 5);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "wrong rdata length 5 for A") != NULL);
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_AAAA);
	record(&packet, DNS_TYPE_AAAA, 60, 4);
	put_bytes(&packet, "\x01\x02\x03\x04", 4);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_AAAA, &answer, error), DNS_TEMPFAIL);

	/* rdata length past the end; the second record broken after a good
	 * first one: nothing kept. */
	start(&packet, RESPONSE, 2, "example.com", DNS_TYPE_A);
	record(&packet, DNS_TYPE_A, 60, 4);
	put_bytes(&packet, "\x01\x02\x03\x04", 4);
	record(&packet, DNS_TYPE_A, 60, 400);
	put_bytes(&packet, "\x01\x02\x03\x04", 4);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
	CHECK(strstr(dstring_str(error), "runs past the message") != NULL);
	CHECK(answer.count == 0 && answer.records == NULL);

	/* More answers announced than present. */
	start(&packet, RESPONSE, 3, "example.com", DNS_TYPE_A);
	record(&packet, DNS_TYPE_A, 60, 4);
	put_bytes(&packet, "\x01\x02\x03\x04", 4);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);

	/* A huge question count. */
	start(&packet, RESPONSE, 0, "example.com", DNS_TYPE_A);
	packet.bytes[4] = 0xff;
	packet.bytes[5] = 0xff;
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_TEMPFAIL);
}

static void
test_txt_and_ptr(struct dstring *error)
{
	struct packet packet;
	struct dns_answer answer;

	start(&packet, RESPONSE, 2, "2.0.0.127.rbl.example", DNS_TYPE_TXT);
	record(&packet, DNS_TYPE_TXT, 60, 1 + 7 + 1 + 6);
	put8(&packet, 7);
	put_bytes(&packet, "Listed ", 7);
	put8(&packet, 6);
	put_bytes(&packet, "see\r\nX", 6);
	record(&packet, DNS_TYPE_TXT, 60, 1);
	put8(&packet, 0);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_TXT, &answer, error), DNS_OK);
	CHECK_INT_EQ(answer.count, 2);
	if (answer.count == 2) {
		CHECK_STR_EQ(answer.records[0].text, "Listed see??X");
		CHECK_STR_EQ(answer.records[1].text, "");
	}
	dns_answer_fini(&answer);

	/* A character-string running past its rdata. */
	start(&packet, RESPONSE, 1, "example.com", DNS_TYPE_TXT);
	record(&packet, DNS_TYPE_TXT, 60, 3);
	put8(&packet, 5);
	put_bytes(&packet, "ab", 2);
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_TXT, &answer, error), DNS_TEMPFAIL);

	/* A PTR name with hostile bytes comes back escaped. */
	start(&packet, RESPONSE, 1, "4.3.2.1.in-addr.arpa", DNS_TYPE_PTR);
	record(&packet, DNS_TYPE_PTR, 60, 1 + 7 + 1 + 3 + 1);
	put8(&packet, 7);
	put_bytes(&packet, "a.b\\ \r\n", 7);
	put_name(&packet, "com");
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_PTR, &answer, error), DNS_OK);
	if (answer.count == 1)
		CHECK_STR_EQ(answer.records[0].name, "a\\.b\\\\\\032\\013\\010.com");
	dns_answer_fini(&answer);

	/* More records than kept. */
	start(&packet, RESPONSE, 150, "many.example", DNS_TYPE_A);
	for (unsigned i = 0; i < 150; i++) {
		record(&packet, DNS_TYPE_A, 60, 4);
		put32(&packet, 0x0a000000U + i);
	}
	CHECK_INT_EQ(parse(&packet, DNS_TYPE_A, &answer, error), DNS_OK);
	CHECK_INT_EQ(answer.count, DNS_RECORDS_MAX);
	dns_answer_fini(&answer);
}

static void
test_reverse(void)
{
	struct dstring name;

	dstring_init(&name, DSTRING_NO_LIMIT);
	CHECK_INT_EQ(dns_reverse_query_name("192.0.2.10", &name), 0);
	CHECK_STR_EQ(dstring_str(&name), "10.2.0.192.in-addr.arpa");
	CHECK_INT_EQ(dns_reverse_query_name("::ffff:127.0.0.2", &name), 0);
	CHECK_STR_EQ(dstring_str(&name), "2.0.0.127.in-addr.arpa");
	CHECK_INT_EQ(dns_reverse_query_name("2001:db8::1", &name), 0);
	CHECK_STR_EQ(dstring_str(&name), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	                                 "8.b.d.0.1.0.0.2.ip6.arpa");
	CHECK_INT_EQ(dns_reverse_labels("127.0.0.2", &name), 0);
	CHECK_STR_EQ(dstring_str(&name), "2.0.0.127");
	dstring_set(&name, "kept");
	CHECK_INT_EQ(dns_reverse_labels("not.an.address", &name), -1);
	CHECK_INT_EQ(dns_reverse_query_name("1.2.3", &name), -1);
	CHECK_STR_EQ(dstring_str(&name), "kept");
	dstring_fini(&name);
}

int
main(void)
{
	struct dstring error;

	dstring_init(&error, 1000);
	test_a_and_aaaa(&error);
	test_mx(&error);
	test_mx_shuffle(&error);
	test_status(&error);
	test_malformed(&error);
	test_txt_and_ptr(&error);
	test_reverse();
	dstring_fini(&error);
	return check_finish();
}
