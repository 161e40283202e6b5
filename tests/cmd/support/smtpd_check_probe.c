/*
 * smtpd_check_probe - run smtpd's access control once, for command tests
 * that need a real DNS server (tests/cmd/smtpd_check_dns.sh).
 *
 *   smtpd_check_probe [-c config_dir] [-o name=value]... stage address name helo
 *                     sender recipient [sasl_user]
 *
 * stage is connect, helo, mail, rcpt, data; "-" stands for NULL (not
 * known yet) and "<>" for the null sender. Prints "CODE REPLY" (or "0")
 * on stdout and the log line, if any, on stderr. Exit 0, or 2 on a
 * configuration error (the reason on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "log.h"
#include "smtpd_check.h"

static const char *
argument(const char *text)
{
	if (strcmp(text, "-") == 0)
		return NULL;
	if (strcmp(text, "<>") == 0)
		return "";
	return text;
}

int
main(int argc, char **argv)
{
	const char *config_directory = NULL;
	struct smtpd_check_client client;
	struct smtpd_check_result result;
	struct dstring error;
	enum smtpd_check_stage stage;
	int option;

	log_open("smtpd_check_probe", LOG_SINK_STDERR);
	/* First pass: -c; the -o settings are applied after main.cf. */
	while ((option = getopt(argc, argv, "c:o:")) != -1) {
		if (option == 'c')
			config_directory = optarg;
		else if (option != 'o')
			return 2;
	}
	if (argc - optind < 6) {
		fprintf(stderr, "usage: smtpd_check_probe [-c dir] [-o name=value] stage address "
		                "name helo sender recipient [sasl_user]\n");
		return 2;
	}
	config_init(config_directory);
	if (config_directory != NULL && config_read(config_directory) != 0)
		return 2;
	optind = 1;
	while ((option = getopt(argc, argv, "c:o:")) != -1) {
		char *equals;

		if (option != 'o')
			continue;
		equals = strchr(optarg, '=');
		if (equals == NULL)
			return 2;
		*equals = '\0';
		config_set(optarg, equals + 1, "-o");
	}
	if (config_apply() != 0)
		return 2;
	dstring_init(&error, DSTRING_NO_LIMIT);
	if (smtpd_check_init(&error) < 0) {
		fprintf(stderr, "smtpd_check_init: %s\n", dstring_str(&error));
		return 2;
	}
	argv += optind;
	if (strcmp(argv[0], "connect") == 0)
		stage = SMTPD_CHECK_CONNECT;
	else if (strcmp(argv[0], "helo") == 0)
		stage = SMTPD_CHECK_HELO;
	else if (strcmp(argv[0], "mail") == 0)
		stage = SMTPD_CHECK_MAIL;
	else if (strcmp(argv[0], "rcpt") == 0)
		stage = SMTPD_CHECK_RCPT;
	else if (strcmp(argv[0], "data") == 0)
		stage = SMTPD_CHECK_DATA;
	else
		return 2;
	memset(&client, 0, sizeof(client));
	client.address = argv[1];
	client.name = client.reverse_name = argv[2];
	client.helo = argument(argv[3]);
	client.protocol = "ESMTP";
	if (argc - optind > 6)
		client.sasl_username = argv[6];
	smtpd_check_result_init(&result);
	smtpd_check(stage, &client, argument(argv[4]), argument(argv[5]), &result);
	if (result.code != 0)
		printf("%d %s\n", result.code, dstring_str(&result.reply));
	else
		printf("0\n");
	if (dstring_length(&result.log) > 0)
		fprintf(stderr, "%s\n", dstring_str(&result.log));
	smtpd_check_result_fini(&result);
	smtpd_check_fini();
	dstring_fini(&error);
	return 0;
}
