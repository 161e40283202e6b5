/*
 * fuzz_dns - the DNS reply parser. The first input byte picks the record
 * type asked for, the rest is the reply. Checks what callers rely on: a
 * failure leaves no records; a success keeps 1..DNS_RECORDS_MAX records
 * of the type, names and texts without control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "dstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_clean(const char *text)
{
	if (text == NULL)
		__builtin_trap();
	for (; *text != '\0'; text++) {
		if ((unsigned char)*text < ' ' || (unsigned char)*text >= 0x7f)
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = {DNS_TYPE_A,   DNS_TYPE_AAAA, DNS_TYPE_MX,
	                            DNS_TYPE_TXT, DNS_TYPE_PTR,  DNS_TYPE_CNAME};
	struct dns_answer answer;
	struct dstring error;
	enum dns_status status;
	int type;

	if (size < 1)
		return 0;
	type = types[data[0] % (sizeof types / sizeof types[0])];
	dstring_init(&error, 1000);
	status = dns_parse_answer(data + 1, size - 1, type, &answer, &error);
	if (status != DNS_OK) {
		if (answer.count != 0 || answer.records != NULL || dstring_length(&error) == 0)
			__builtin_trap();
	} else {
		if (answer.count == 0 || answer.count > DNS_RECORDS_MAX)
			__builtin_trap();
		for (size_t i = 0; i < answer.count; i++) {
			const struct dns_record *record = &answer.records[i];

			if (record->type != type)
				__builtin_trap();
			if (type == DNS_TYPE_MX || type == DNS_TYPE_PTR || type == DNS_TYPE_CNAME)
				check_clean(record->name);
			if (type == DNS_TYPE_TXT)
				check_clean(record->text);
			if ((type == DNS_TYPE_A || type == DNS_TYPE_AAAA) &&
			    record->address[0] == '\0')
				__builtin_trap();
			if (i > 0 && type == DNS_TYPE_MX &&
			    answer.records[i - 1].preference > record->preference)
				__builtin_trap();
		}
	}
	dns_answer_fini(&answer);
	dstring_fini(&error);
	return 0;
}
