/*
 * dns_probe - print what lib/dns answers, for tests/cmd/dns_netns.sh.
 *
 *   dns_probe mx DOMAIN        MX records ("MX 10 mx1.example.test"),
 *                              "NULLMX", or the status
 *   dns_probe a|aaaa|txt|ptr NAME
 *   dns_probe reverse ADDRESS  the unverified PTR name
 *   dns_probe confirmed ADDRESS  the forward-confirmed name
 *
 * Prints one line per record, or "NOTFOUND: reason" / "TEMPFAIL: reason";
 * exits 0 for DNS_OK, 1 for NOTFOUND, 2 for TEMPFAIL, 64 for bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "dstring.h"

static int
report(enum dns_status status, const struct dstring *error)
{
	if (status == DNS_NOTFOUND) {
		printf("NOTFOUND: %s\n", dstring_str(error));
		return 1;
	}
	if (status == DNS_TEMPFAIL) {
		printf("TEMPFAIL: %s\n", dstring_str(error));
		return 2;
	}
	return 0;
}

static void
print_answer(const struct dns_answer *answer)
{
	for (size_t i = 0; i < answer->count; i++) {
		const struct dns_record *record = &answer->records[i];

		switch (record->type) {
		case DNS_TYPE_MX:
			printf("MX %u %s\n", record->preference, record->name);
			break;
		case DNS_TYPE_TXT:
			printf("TXT %s\n", record->text);
			break;
		case DNS_TYPE_PTR:
			printf("PTR %s\n", record->name);
			break;
		default:
			printf("%s %s\n", dns_type_name(record->type), record->address);
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	struct dstring error, name;
	struct dns_answer answer = {NULL, 0};
	enum dns_status status;
	int type = 0, exit_status;

	if (argc != 3) {
		fprintf(stderr, "usage: dns_probe mx|a|aaaa|txt|ptr|reverse|confirmed NAME\n");
		return 64;
	}
	dstring_init(&error, 1000);
	dstring_init(&name, DSTRING_NO_LIMIT);
	if (strcmp(argv[1], "mx") == 0) {
		bool is_null_mx;

		status = dns_lookup_mx(argv[2], &answer, &is_null_mx, &error);
		exit_status = report(status, &error);
		if (status == DNS_OK && is_null_mx)
			printf("NULLMX\n");
		else
			print_answer(&answer);
	} else if (strcmp(argv[1], "reverse") == 0 || strcmp(argv[1], "confirmed") == 0) {
		status = argv[1][0] == 'r' ? dns_reverse_name(argv[2], &name, &error)
		                           : dns_forward_confirmed(argv[2], &name, &error);
		exit_status = report(status, &error);
		if (status == DNS_OK)
			printf("NAME %s\n", dstring_str(&name));
	} else {
		if (strcmp(argv[1], "a") == 0)
			type = DNS_TYPE_A;
		else if (strcmp(argv[1], "aaaa") == 0)
			type = DNS_TYPE_AAAA;
		else if (strcmp(argv[1], "txt") == 0)
			type = DNS_TYPE_TXT;
		else if (strcmp(argv[1], "ptr") == 0)
			type = DNS_TYPE_PTR;
		if (type == 0) {
			fprintf(stderr, "dns_probe: unknown lookup \"%s\"\n", argv[1]);
			return 64;
		}
		status = dns_lookup(argv[2], type, &answer, &error);
		exit_status = report(status, &error);
		print_answer(&answer);
	}
	dns_answer_fini(&answer);
	dstring_fini(&error);
	dstring_fini(&name);
	return exit_status;
}
