/*
 * dns_parse - the bounded parser for DNS replies (dns_parse_answer in
 * dns.h).
 *
 * What it trusts: nothing in the message. Every offset is checked against
 * the message length before a byte is read; a compression pointer may
 * only point backwards, and a name may follow at most DNS_POINTER_MAX of
 * them (with the 255-byte bound, any cycle ends); a label is at most 63 bytes
 * and a name at most 255 bytes on the wire; each record's rdata must be
 * inside the message and be consumed exactly by its own grammar. The
 * record counts in the header are bounded by the message itself (each
 * record takes at least 11 bytes), and at most DNS_RECORDS_MAX records
 * are kept.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dstring.h"
#include "xalloc.h"

#define DNS_HEADER_SIZE 12
#define DNS_LABEL_MAX 63
#define DNS_WIRE_NAME_MAX 255
/* More jumps than a 255-byte name could need (each label at least 2 bytes). */
#define DNS_POINTER_MAX 128
#define DNS_CLASS_IN 1

/* Header flag bits (second 16-bit word). */
#define DNS_FLAG_RESPONSE 0x8000
#define DNS_FLAG_TRUNCATED 0x0200
#define DNS_RCODE_MASK 0x000f
#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

struct dns_message {
	const unsigned char *data;
	size_t length;
};

static unsigned
read16(const unsigned char *bytes)
{
	return (unsigned)bytes[0] << 8 | bytes[1];
}

static unsigned
read32(const unsigned char *bytes)
{
	return (unsigned)bytes[0] << 24 | (unsigned)bytes[1] << 16 | (unsigned)bytes[2] << 8 |
	       bytes[3];
}

/* Append one label byte in zone-file text form. */
static void
append_label_byte(struct dstring *text, unsigned char byte)
{
	if (byte == '.' || byte == '\\')
		dstring_append_printf(text, "\\%c", byte);
	else if (byte > ' ' && byte < 0x7f)
		dstring_append_char(text, (char)byte);
	else
		dstring_append_printf(text, "\\%03u", byte);
}

/*
 * read_name: decompress the name at *offset into text (without the
 * trailing dot, "" for the root). On return *offset is just past the name
 * as it stands at *offset (past the first pointer, if any). The name's
 * own bytes before the first pointer must lie before limit. Returns -1
 * with a reason.
 */
static int
read_name(const struct dns_message *message, size_t *offset, size_t limit, struct dstring *text,
          struct dstring *error)
{
	size_t position = *offset, end_of_name = 0, wire_length = 0;
	unsigned jumps = 0;
	bool has_jumped = false;

	dstring_reset(text);
	for (;;) {
		unsigned label_length;

		if (position >= limit) {
			dstring_set(error, "name runs past its record");
			return -1;
		}
		label_length = message->data[position];
		if ((label_length & 0xc0) == 0xc0) {
			size_t target;

			if (position + 1 >= limit) {
				dstring_set(error, "compression pointer cut short");
				return -1;
			}
			target = (size_t)(label_length & 0x3f) << 8 | message->data[position + 1];
			/* Only backwards, as RFC 1035 compression produces. */
			if (target >= position || ++jumps > DNS_POINTER_MAX) {
				dstring_set(error, "compression pointer loop");
				return -1;
			}
			if (!has_jumped) {
				end_of_name = position + 2;
				has_jumped = true;
			}
			/* After a jump the name may use the whole message: the
			 * jump count and the 255-byte bound end any cycle. */
			position = target;
			limit = message->length;
			continue;
		}
		if ((label_length & 0xc0) != 0) {
			dstring_set(error, "unknown label type");
			return -1;
		}
		wire_length += label_length + 1;
		if (wire_length > DNS_WIRE_NAME_MAX) {
			dstring_set(error, "name longer than 255 bytes");
			return -1;
		}
		if (label_length == 0) {
			position++;
			break;
		}
		if (position + 1 + label_length > limit) {
			dstring_set(error, "label runs past its record");
			return -1;
		}
		if (dstring_length(text) > 0)
			dstring_append_char(text, '.');
		for (unsigned i = 0; i < label_length; i++)
			append_label_byte(text, message->data[position + 1 + i]);
		position += 1 + label_length;
	}
	*offset = has_jumped ? end_of_name : position;
	return 0;
}

/* Printable ASCII stays, anything else becomes '?': TXT text ends up in
 * SMTP replies and logs, where CR, LF or NUL must never appear. */
static int
read_text(const unsigned char *rdata, size_t length, struct dstring *text, struct dstring *error)
{
	size_t position = 0;

	while (position < length) {
		size_t piece = rdata[position++];

		if (piece > length - position) {
			dstring_set(error, "TXT string runs past its record");
			return -1;
		}
		for (size_t i = 0; i < piece; i++) {
			unsigned char byte = rdata[position + i];

			if (dstring_length(text) >= DNS_TEXT_MAX)
				break;
			dstring_append_char(text, byte >= ' ' && byte < 0x7f ? (char)byte : '?');
		}
		position += piece;
	}
	return 0;
}

/*
 * read_rdata: fill record from the rdata of one record of the wanted type
 * at [start, start + length). Returns -1 with a reason when the rdata does
 * not match its type's grammar exactly.
 */
static int
read_rdata(const struct dns_message *message, size_t start, size_t length,
           struct dns_record *record, struct dstring *scratch, struct dstring *error)
{
	const unsigned char *rdata = message->data + start;
	size_t offset = start, end = start + length;

	switch (record->type) {
	case DNS_TYPE_A:
		if (length != 4)
			goto wrong_length;
		inet_ntop(AF_INET, rdata, record->address, sizeof record->address);
		return 0;
	case DNS_TYPE_AAAA:
		if (length != 16)
			goto wrong_length;
		inet_ntop(AF_INET6, rdata, record->address, sizeof record->address);
		return 0;
	case DNS_TYPE_MX:
		if (length < 3)
			goto wrong_length;
		record->preference = read16(rdata);
		offset += 2;
		/* fall through */
	case DNS_TYPE_PTR:
	case DNS_TYPE_CNAME:
		if (read_name(message, &offset, end, scratch, error) < 0)
			return -1;
		if (offset != end)
			goto wrong_length;
		record->name = xstrdup(dstring_str(scratch));
		return 0;
	case DNS_TYPE_TXT:
		dstring_reset(scratch);
		if (length == 0)
			goto wrong_length;
		if (read_text(rdata, length, scratch, error) < 0)
			return -1;
		record->text = xstrdup(dstring_str(scratch));
		return 0;
	default:
		dstring_set(error, "unsupported record type");
		return -1;
	}
wrong_length:
	dstring_printf(error, "wrong rdata length %zu for %s record", length,
	               dns_type_name(record->type));
	return -1;
}

/* Insertion sort by preference, stable: n <= DNS_RECORDS_MAX. */
static void
sort_by_preference(struct dns_record *records, size_t count)
{
	for (size_t i = 1; i < count; i++) {
		struct dns_record moving = records[i];
		size_t j = i;

		while (j > 0 && records[j - 1].preference > moving.preference) {
			records[j] = records[j - 1];
			j--;
		}
		records[j] = moving;
	}
}

/* Shuffle, then sort stably: equal preferences end in random order (RFC
 * 5321 section 5.1), spreading load over equal MX hosts. */
static void
order_mx(struct dns_answer *answer)
{
	for (size_t i = answer->count; i > 1; i--) {
		size_t j = arc4random_uniform((uint32_t)i);
		struct dns_record swap = answer->records[i - 1];

		answer->records[i - 1] = answer->records[j];
		answer->records[j] = swap;
	}
	sort_by_preference(answer->records, answer->count);
}

static enum dns_status
malformed(struct dns_answer *answer, struct dstring *error, const char *reason)
{
	dns_answer_fini(answer);
	if (error != NULL)
		dstring_printf(error, "malformed DNS reply: %s", reason);
	return DNS_TEMPFAIL;
}

enum dns_status
dns_parse_answer(const unsigned char *msg, size_t length, int type, struct dns_answer *answer,
                 struct dstring *error)
{
	struct dns_message message = {msg, length};
	struct dstring name, reason;
	unsigned flags, question_count, answer_count;
	size_t offset = DNS_HEADER_SIZE;
	enum dns_status status;

	answer->records = NULL;
	answer->count = 0;
	if (length < DNS_HEADER_SIZE)
		return malformed(answer, error, "shorter than its header");
	flags = read16(msg + 2);
	if ((flags & DNS_FLAG_RESPONSE) == 0)
		return malformed(answer, error, "not a response");
	if (flags & DNS_FLAG_TRUNCATED) {
		if (error != NULL)
			dstring_set(error, "truncated DNS reply");
		return DNS_TEMPFAIL;
	}
	switch (flags & DNS_RCODE_MASK) {
	case DNS_RCODE_NOERROR:
		break;
	case DNS_RCODE_NXDOMAIN:
		if (error != NULL)
			dstring_set(error, "Host not found");
		return DNS_NOTFOUND;
	case DNS_RCODE_SERVFAIL:
		if (error != NULL)
			dstring_set(error, "Host not found, try again (server failure)");
		return DNS_TEMPFAIL;
	default:
		if (error != NULL)
			dstring_printf(error, "DNS server error (rcode %u)",
			               flags & DNS_RCODE_MASK);
		return DNS_TEMPFAIL;
	}
	question_count = read16(msg + 4);
	answer_count = read16(msg + 6);

	dstring_init(&name, DSTRING_NO_LIMIT);
	dstring_init(&reason, 200);
	/* Each question takes at least 5 bytes, so the message bounds the loop. */
	for (unsigned i = 0; i < question_count; i++) {
		if (read_name(&message, &offset, length, &name, &reason) < 0)
			goto fail;
		if (length - offset < 4) {
			dstring_set(&reason, "question cut short");
			goto fail;
		}
		offset += 4;
	}
	/* Each record takes at least 11 bytes, so this loop is bounded too. */
	for (unsigned i = 0; i < answer_count; i++) {
		unsigned record_type, record_class, ttl;
		size_t rdata_length;
		struct dns_record *record;

		if (read_name(&message, &offset, length, &name, &reason) < 0)
			goto fail;
		if (length - offset < 10) {
			dstring_set(&reason, "record header cut short");
			goto fail;
		}
		record_type = read16(msg + offset);
		record_class = read16(msg + offset + 2);
		ttl = read32(msg + offset + 4);
		rdata_length = read16(msg + offset + 8);
		offset += 10;
		if (rdata_length > length - offset) {
			dstring_printf(&reason, "rdata length %zu runs past the message",
			               rdata_length);
			goto fail;
		}
		/* Records of other types (the CNAMEs the server followed, an
		 * RRSIG) are skipped; their length was checked above. */
		if ((int)record_type != type || record_class != DNS_CLASS_IN ||
		    answer->count >= DNS_RECORDS_MAX) {
			offset += rdata_length;
			continue;
		}
		if (answer->records == NULL)
			answer->records = xcalloc(DNS_RECORDS_MAX, sizeof *answer->records);
		record = &answer->records[answer->count];
		memset(record, 0, sizeof *record);
		record->type = type;
		record->ttl = ttl > 0x7fffffffU ? 0 : ttl; /* RFC 2181 section 8 */
		if (read_rdata(&message, offset, rdata_length, record, &name, &reason) < 0) {
			free(record->name);
			free(record->text);
			record->name = record->text = NULL;
			goto fail;
		}
		answer->count++;
		offset += rdata_length;
	}
	/* The authority and additional sections are not read: nothing in
	 * them is needed, and their bytes cannot change the answer. */
	dstring_fini(&name);
	dstring_fini(&reason);
	if (answer->count == 0) {
		dns_answer_fini(answer);
		if (error != NULL)
			dstring_printf(error, "no %s record", dns_type_name(type));
		return DNS_NOTFOUND;
	}
	if (type == DNS_TYPE_MX)
		order_mx(answer);
	return DNS_OK;

fail:
	status = malformed(answer, error, dstring_str(&reason));
	dstring_fini(&name);
	dstring_fini(&reason);
	return status;
}

void
dns_answer_fini(struct dns_answer *answer)
{
	for (size_t i = 0; i < answer->count; i++) {
		free(answer->records[i].name);
		free(answer->records[i].text);
	}
	free(answer->records);
	answer->records = NULL;
	answer->count = 0;
}

const char *
dns_type_name(int type)
{
	switch (type) {
	case DNS_TYPE_A:
		return "A";
	case DNS_TYPE_AAAA:
		return "AAAA";
	case DNS_TYPE_MX:
		return "MX";
	case DNS_TYPE_TXT:
		return "TXT";
	case DNS_TYPE_PTR:
		return "PTR";
	case DNS_TYPE_CNAME:
		return "CNAME";
	default:
		return "?";
	}
}
