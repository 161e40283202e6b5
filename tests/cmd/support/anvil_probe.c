/*
 * anvil_probe - drive lib/anvil_client for tests/cmd/anvil.sh.
 *
 *   anvil_probe SOCKET STEP...
 *
 * Steps run in order over one connection:
 *   connect SERVICE ADDRESS      prints "count N rate M" or "error: ..."
 *   disconnect SERVICE ADDRESS   prints "disconnected" or "error"
 *   message|recipient|auth SERVICE ADDRESS
 *                                prints "rate N" or "error: ..."
 *   hold                         prints "holding", then waits until
 *                                standard input ends (the test keeps
 *                                the connection open this way, or kills us)
 * Exits 0 when every step worked, 1 otherwise, 2 when anvil is unreachable.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "anvil_client.h"
#include "dstring.h"

int
main(int argc, char **argv)
{
	struct dstring error;
	struct anvil_client *client;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: anvil_probe SOCKET STEP...\n");
		return 64;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	dstring_init(&error, 1000);
	client = anvil_client_open(argv[1], 5000, &error);
	if (client == NULL) {
		printf("error: %s\n", dstring_str(&error));
		dstring_fini(&error);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "connect") == 0 && i + 2 < argc) {
			int count, rate;

			dstring_reset(&error);
			if (anvil_client_connect(client, argv[i + 1], argv[i + 2], &count, &rate,
			                         &error) == 0) {
				printf("count %d rate %d\n", count, rate);
			} else {
				printf("error: %s\n", dstring_str(&error));
				status = 1;
			}
			i += 2;
		} else if (strcmp(argv[i], "disconnect") == 0 && i + 2 < argc) {
			if (anvil_client_disconnect(client, argv[i + 1], argv[i + 2]) == 0) {
				printf("disconnected\n");
			} else {
				printf("error\n");
				status = 1;
			}
			i += 2;
		} else if ((strcmp(argv[i], "message") == 0 || strcmp(argv[i], "recipient") == 0 ||
		            strcmp(argv[i], "auth") == 0) &&
		           i + 2 < argc) {
			int rate, result;

			dstring_reset(&error);
			if (strcmp(argv[i], "message") == 0)
				result = anvil_client_message(client, argv[i + 1], argv[i + 2],
				                              &rate, &error);
			else if (strcmp(argv[i], "recipient") == 0)
				result = anvil_client_recipient(client, argv[i + 1], argv[i + 2],
				                                &rate, &error);
			else
				result = anvil_client_auth(client, argv[i + 1], argv[i + 2], &rate,
				                           &error);
			if (result == 0) {
				printf("rate %d\n", rate);
			} else {
				printf("error: %s\n", dstring_str(&error));
				status = 1;
			}
			i += 2;
		} else if (strcmp(argv[i], "hold") == 0) {
			char buffer[256];

			printf("holding\n");
			while (read(0, buffer, sizeof buffer) > 0)
				continue;
		} else {
			fprintf(stderr, "anvil_probe: bad step \"%s\"\n", argv[i]);
			status = 64;
			break;
		}
	}
	anvil_client_close(client);
	dstring_fini(&error);
	return status;
}
