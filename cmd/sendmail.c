/*
 * sendmail - the sendmail-compatible submission command, as Postfix's
 * sendmail(1); also run as `mailq` (sendmail -bp).
 *
 *   sendmail [options] [recipient ...] < message
 *
 * The modes: deliver a message read on standard input (the default, -bm);
 * -bs, an SMTP conversation on standard input and output; -bp, list the
 * queue; -bi (or -I), rebuild the alias database; -q, flush the queue.
 * -B 8BITMIME (or 7BIT) declares the body type, passed on as BODY= by
 * smtp. Options that programs pass and that mean nothing here (-oem, -odb,
 * -om, -G, -U, -h, -L, -p, -X, ...) are accepted and ignored.
 *
 * A message goes to postdrop (sendmail_submit.c), which makes it durable
 * in maildrop/; sendmail exits 0 only after postdrop said so. Exit codes
 * are sysexits.h's: EX_USAGE for bad options, EX_DATAERR for a message
 * refused (over message_size_limit: nothing is queued), EX_TEMPFAIL when
 * the system cannot take the message now, EX_IOERR when standard input
 * fails.
 *
 * sendmail runs as the caller and is never set-id: it trusts its options
 * only as far as the caller's own mail goes.
 */
#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "instance.h"
#include "log.h"
#include "maildrop_file.h"
#include "queue_dir.h"
#include "sendmail.h"
#include "stream.h"
#include "xalloc.h"

/* The most bytes one stream_gets call takes from a long line. */
#define READ_PIECE 4096
/* The most recipients on the command line. */
#define ARGUMENT_RECIPIENTS_MAX 10000

enum mode {
	MODE_DELIVER,
	MODE_SMTP,
	MODE_LIST_QUEUE,
	MODE_NEWALIASES,
	MODE_FLUSH,
};

struct options {
	enum mode mode;
	char *config_directory; /* -C, else MAIL_CONFIG, else compiled in */
	const char *sender;     /* -f / -r */
	const char *full_name;  /* -F */
	const char *notify;     /* -N */
	const char *ret;        /* -R */
	const char *envid;      /* -V */
	const char *body;       /* -B: "7BIT" or "8BITMIME" */
	bool is_extract;        /* -t */
	bool is_ignore_dots;    /* -i, -oi */
	bool is_verbose;        /* -v */
	int first_recipient;    /* argv index after the options */
};

static void
usage(void)
{
	fprintf(stderr,
	        "usage: sendmail [-t] [-i] [-f sender] [-F name] [-C dir] [-N dsn] [-R ret]\n"
	        "                [-V envid] [-B 7BIT|8BITMIME] [-v] [recipient ...] < message\n"
	        "       sendmail -bs | -bp | -bi | -q\n");
	exit(EX_USAGE);
}

/* option_mode: the mode of -bX. */
static enum mode
option_mode(const char *argument)
{
	if (strcmp(argument, "m") == 0)
		return MODE_DELIVER;
	if (strcmp(argument, "s") == 0)
		return MODE_SMTP;
	if (strcmp(argument, "p") == 0)
		return MODE_LIST_QUEUE;
	if (strcmp(argument, "i") == 0)
		return MODE_NEWALIASES;
	if (strcmp(argument, "d") == 0 || strcmp(argument, "D") == 0)
		log_error("-b%s: run `hikyaku start` to start the mail system", argument);
	else
		log_error("-b%s: unsupported mode", argument);
	exit(EX_USAGE);
}

/* normalize_notify: "success,delay" to "SUCCESS,DELAY"; NULL when bad. */
static const char *
normalize_notify(char *text)
{
	for (char *p = text; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return maildrop_value_check(MAILDROP_NOTIFY, text, strlen(text)) == NULL ? text : NULL;
}

/* apply_option: one option letter with its argument (or NULL). */
static void
apply_option(struct options *options, char letter, char *argument)
{
	switch (letter) {
	case 'B':
		/* The body type (RFC 6152), kept so smtp can send BODY=8BITMIME. */
		if (strcasecmp(argument, "8BITMIME") == 0)
			options->body = "8BITMIME";
		else if (strcasecmp(argument, "7BIT") == 0)
			options->body = "7BIT";
		else {
			log_error("-B option needs 8BITMIME or 7BIT");
			exit(EX_USAGE);
		}
		break;
	case 'b':
		options->mode = option_mode(argument);
		break;
	case 'C':
		options->config_directory = argument;
		break;
	case 'F':
		options->full_name = argument;
		break;
	case 'f':
	case 'r':
		options->sender = argument;
		break;
	case 'I':
		options->mode = MODE_NEWALIASES;
		break;
	case 'i':
		options->is_ignore_dots = true;
		break;
	case 'N':
		if ((options->notify = normalize_notify(argument)) == NULL) {
			log_error("-N %s: expected never or a list of success, failure, delay",
			          argument);
			exit(EX_USAGE);
		}
		break;
	case 'o':
		/* Only -oi means something; -oem, -odb, -om, -oQ... are sendmail's. */
		if (strcmp(argument, "i") == 0)
			options->is_ignore_dots = true;
		else
			log_debug("-o%s ignored", argument);
		break;
	case 'q':
		/* -q30m asks for a queue-run daemon: the master does that. */
		if (argument == NULL || argument[0] == 'R' || argument[0] == 'S' ||
		    argument[0] == 'I')
			options->mode = MODE_FLUSH;
		break;
	case 'R':
		if (strcasecmp(argument, "full") != 0 && strcasecmp(argument, "hdrs") != 0) {
			log_error("-R %s: expected full or hdrs", argument);
			exit(EX_USAGE);
		}
		options->ret = strcasecmp(argument, "full") == 0 ? "FULL" : "HDRS";
		break;
	case 't':
		options->is_extract = true;
		break;
	case 'V':
		if (maildrop_value_check(MAILDROP_ENVID, argument, strlen(argument)) != NULL) {
			log_error("-V %s: bad envelope ID", argument);
			exit(EX_USAGE);
		}
		options->envid = argument;
		break;
	case 'v':
		options->is_verbose = true;
		log_set_verbose(log_verbose_level() + 1);
		break;
	default:
		/* G, U, L, O, X, c, e, h, m, n, p, x: accepted and ignored. */
		break;
	}
}

/*
 * parse_options: getopt's rules (grouped flags, attached or separate
 * arguments, "--"), with one sendmail twist getopt cannot express: -q
 * takes an argument only when it is attached (-q alone flushes).
 */
static void
parse_options(struct options *options, int argc, char **argv)
{
	static const char with_argument[] = "BCFLNORVXbefhopr";
	static const char flags[] = "GIUcimntvx";
	int index = 1;

	while (index < argc && argv[index][0] == '-' && argv[index][1] != '\0') {
		char *text = argv[index++];

		if (strcmp(text, "--") == 0)
			break;
		for (size_t at = 1; text[at] != '\0'; at++) {
			char letter = text[at];

			if (letter == 'q') {
				apply_option(options, letter, text[at + 1] ? &text[at + 1] : NULL);
				break;
			}
			if (strchr(flags, letter) != NULL) {
				apply_option(options, letter, NULL);
				continue;
			}
			if (strchr(with_argument, letter) == NULL) {
				log_error("unknown option -%c", letter);
				usage();
			}
			if (text[at + 1] != '\0') {
				apply_option(options, letter, &text[at + 1]);
			} else if (index < argc) {
				apply_option(options, letter, argv[index++]);
			} else {
				log_error("option -%c needs an argument", letter);
				usage();
			}
			break;
		}
	}
	options->first_recipient = index;
}

/*
 * choose_directory: -C names the configuration directory (or, as with
 * sendmail, the main.cf file in it).
 */
static const char *
choose_directory(char *option_directory)
{
	struct stat info;

	/* The option is our argv string: dirname may cut it in place. */
	if (option_directory != NULL && stat(option_directory, &info) == 0 && S_ISREG(info.st_mode))
		return dirname(option_directory);
	return instance_directory(option_directory);
}

char *
sendmail_parse_address(const char *text)
{
	const char *open = strrchr(text, '<');
	const char *start = text, *end = text + strlen(text);

	if (open != NULL) {
		const char *close = strchr(open, '>');
		if (close == NULL)
			return NULL;
		start = open + 1;
		end = close;
	}
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (memchr(start, '<', (size_t)(end - start)) != NULL)
		return NULL;
	return xstrndup(start, (size_t)(end - start));
}

/*
 * add_recipients: the addresses in one argument, which may be a list
 * ("a@x, Bee <b@y>"): commas inside quotes or angle brackets do not split.
 */
static int
add_recipients(struct strlist *recipients, const char *argument)
{
	const char *start = argument;
	bool is_quoted = false;
	int depth = 0;

	for (const char *p = argument;; p++) {
		if (*p == '"')
			is_quoted = !is_quoted;
		else if (*p == '<' && !is_quoted)
			depth++;
		else if (*p == '>' && !is_quoted && depth > 0)
			depth--;
		if (*p == '\0' || (*p == ',' && !is_quoted && depth == 0)) {
			char *piece = xstrndup(start, (size_t)(p - start));
			char *address = sendmail_parse_address(piece);

			free(piece);
			if (address == NULL || maildrop_value_check(MAILDROP_RECIPIENT, address,
			                                            strlen(address)) != NULL) {
				/* An empty piece ("a@x,") is not an error, an odd one is. */
				bool is_empty = address != NULL && address[0] == '\0';
				free(address);
				if (!is_empty) {
					log_error("bad recipient address: %s", argument);
					return -1;
				}
			} else {
				if (recipients->count >= ARGUMENT_RECIPIENTS_MAX) {
					free(address);
					log_error("too many recipients");
					return -1;
				}
				strlist_append(recipients, address);
				free(address);
			}
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	return 0;
}

/* login_name: the caller's user name (a new string), the sender when -f is not given. */
static char *
login_name(void)
{
	struct passwd *entry = getpwuid(getuid());

	if (entry == NULL) {
		log_error("no login name for uid %ld", (long)getuid());
		exit(EX_NOUSER);
	}
	return xstrdup(entry->pw_name);
}

/* default_full_name: NAME from the environment, or the gecos name (new string). */
static char *
default_full_name(void)
{
	const char *name = getenv("NAME");
	struct passwd *entry;

	if (name != NULL && name[0] != '\0')
		return xstrdup(name);
	entry = getpwuid(getuid());
	if (entry == NULL || entry->pw_gecos == NULL || entry->pw_gecos[0] == '\0' ||
	    entry->pw_gecos[0] == ',')
		return NULL;
	return xstrndup(entry->pw_gecos, strcspn(entry->pw_gecos, ","));
}

/* make_envelope: the envelope of a message from the options. */
static void
make_envelope(struct sendmail_envelope *envelope, const struct options *options, int argc,
              char **argv)
{
	char *sender, *full_name;

	memset(envelope, 0, sizeof(*envelope));
	strlist_init(&envelope->recipients);
	sender = options->sender ? xstrdup(options->sender) : login_name();
	if (options->sender != NULL) {
		/* -f '<>' and -f '' are the null sender; -f '<a@b>' is a@b. */
		char *address = sendmail_parse_address(sender);
		if (address == NULL) {
			log_error("bad sender address: %s", options->sender);
			exit(EX_USAGE);
		}
		free(sender);
		sender = address;
	}
	if (maildrop_value_check(MAILDROP_SENDER, sender, strlen(sender)) != NULL) {
		log_error("bad sender address: %s", sender);
		exit(EX_USAGE);
	}
	envelope->sender = sender;
	full_name = options->full_name ? xstrdup(options->full_name) : default_full_name();
	if (full_name != NULL &&
	    maildrop_value_check(MAILDROP_FULL_NAME, full_name, strlen(full_name)) != NULL) {
		log_warning("full name ignored: it holds control characters");
		free(full_name);
		full_name = NULL;
	}
	envelope->full_name = full_name;
	envelope->is_extract = options->is_extract;
	envelope->envid = options->envid;
	envelope->ret = options->ret;
	envelope->notify = options->notify;
	envelope->body = options->body;
	for (int i = options->first_recipient; i < argc; i++)
		if (add_recipients(&envelope->recipients, argv[i]) < 0)
			exit(EX_USAGE);
	if (envelope->recipients.count == 0 && !envelope->is_extract) {
		log_error("Recipient addresses must be specified on the command line or via the"
		          " -t option");
		exit(EX_USAGE);
	}
}

/* envelope_fini: free what make_envelope allocated. */
static void
envelope_fini(struct sendmail_envelope *envelope)
{
	free((char *)envelope->sender);
	free((char *)envelope->full_name);
	strlist_fini(&envelope->recipients);
}

/*
 * is_dot_line: the lone "." that ends input without -i. At the end of
 * input a "." without a newline counts too.
 */
static bool
is_dot_line(const char *data, size_t length, bool is_last)
{
	return (length == 2 && memcmp(data, ".\n", 2) == 0) ||
	       (length == 3 && memcmp(data, ".\r\n", 3) == 0) ||
	       (length == 1 && data[0] == '.' && is_last);
}

/*
 * copy_message: standard input into the submission. Lines end in LF
 * (sendmail_fix_line_endings decides about CRLF), a final line without
 * one gets it, and a leading "From " line (mbox) is dropped. Returns 0,
 * or the exit status for the failure.
 */
static int
copy_message(const struct options *options, const struct sendmail_settings *settings,
             struct sendmail_submission *submission)
{
	struct stream *input = stream_open(0);
	struct dstring line;
	const char *fix = var_sendmail_fix_line_endings;
	bool is_line_start = true, is_first_line = true, has_held_cr = false;
	bool is_converting = strcmp(fix, "always") == 0;
	long long size = 0;
	int result = 0;

	dstring_init(&line, READ_PIECE + 2);
	for (;;) {
		enum stream_status status;
		char *data;
		size_t length;

		dstring_reset(&line);
		/* A CR held back from the end of the last piece goes first. */
		if (has_held_cr)
			dstring_append_char(&line, '\r');
		status = stream_gets(input, &line, READ_PIECE);
		if (status == STREAM_EOF && !has_held_cr)
			break;
		if (status == STREAM_TIMEOUT || status == STREAM_ERROR) {
			log_error("read standard input: %s", strerror(errno));
			result = EX_IOERR;
			break;
		}
		data = line.data;
		length = dstring_length(&line);
		has_held_cr = false;
		if (is_line_start && !options->is_ignore_dots &&
		    is_dot_line(data, length, status != STREAM_OK && stream_at_eof(input)))
			break;
		if (status == STREAM_OK) {
			if (is_first_line && strcmp(fix, "strict") == 0)
				is_converting = length >= 2 && data[length - 2] == '\r';
			if (is_converting && length >= 2 && data[length - 2] == '\r') {
				data[length - 2] = '\n';
				length--;
			}
		} else if (status == STREAM_PARTIAL && length > 0 && data[length - 1] == '\r' &&
		           !stream_at_eof(input)) {
			/* Maybe the CR of a CRLF cut by the piece size. */
			has_held_cr = true;
			length--;
		}
		if (is_first_line && is_line_start && length >= 5 &&
		    memcmp(data, "From ", 5) == 0) {
			/* Skip the mbox "From " line, however long. */
			if (status != STREAM_OK && stream_skip_line(input) != STREAM_OK)
				break;
			is_first_line = false;
			continue;
		}
		if (status != STREAM_OK && status != STREAM_PARTIAL && length == 0)
			break;
		if (status == STREAM_EOF || (status == STREAM_PARTIAL && stream_at_eof(input)))
			if (dstring_append_char(&line, '\n') == 0)
				length++;
		size += (long long)length;
		if (settings->size_limit > 0 && size > settings->size_limit) {
			log_error(
			    "message is larger than the limit of %lld bytes (message_size_limit)",
			    settings->size_limit);
			result = EX_DATAERR;
			break;
		}
		if (length > 0)
			sendmail_submission_write(submission, data, length);
		is_line_start = status == STREAM_OK;
		if (is_line_start)
			is_first_line = false;
		if (status == STREAM_EOF)
			break;
	}
	dstring_fini(&line);
	stream_free(input);
	return result;
}

static int
deliver(const struct options *options, const struct sendmail_settings *settings, int argc,
        char **argv)
{
	struct sendmail_envelope envelope;
	struct sendmail_submission *submission;
	int result;

	make_envelope(&envelope, options, argc, argv);
	submission = sendmail_submission_start(settings, &envelope);
	envelope_fini(&envelope);
	if (submission == NULL)
		return EX_TEMPFAIL;
	result = copy_message(options, settings, submission);
	if (result != 0) {
		sendmail_submission_abort(submission);
		return result;
	}
	result = sendmail_submission_finish(submission);
	if (result != 0)
		log_error("the message was not queued (postdrop: status %d)", result);
	return result;
}

/* run_command: replace this process with $command_directory/hikyaku. */
static int
run_command(char **argv)
{
	struct dstring path;

	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/hikyaku", var_command_directory);
	execv(dstring_str(&path), argv);
	log_error("execute %s: %s", dstring_str(&path), strerror(errno));
	return EX_OSERR;
}

/*
 * list_queue: sendmail -bp, mailq: `hikyaku queue -p` (cmd/queue.c), in
 * Postfix's mailq format.
 */
static int
list_queue(const char *config_directory)
{
	char *command[] = {"hikyaku", "-c", (char *)config_directory, "queue", "-p", NULL};
	return run_command(command);
}

int
main(int argc, char **argv)
{
	struct options options = {.mode = MODE_DELIVER};
	struct sendmail_settings settings;
	const char *program = argc > 0 ? basename(argv[0]) : "sendmail";

	log_open(strcmp(program, "mailq") == 0 ? "mailq" : "sendmail", LOG_SINK_STDERR);
	log_set_fatal_status(EX_TEMPFAIL);
	/* A dying postdrop must be a write error we report, not our death. */
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(program, "mailq") == 0)
		options.mode = MODE_LIST_QUEUE;
	else if (strcmp(program, "newaliases") == 0)
		options.mode = MODE_NEWALIASES;
	parse_options(&options, argc, argv);

	settings.config_directory = choose_directory(options.config_directory);
	settings.is_verbose = options.is_verbose;
	if (instance_load(settings.config_directory, false) != 0) {
		log_error("%s/main.cf has errors: mail cannot be submitted now",
		          settings.config_directory);
		return EX_TEMPFAIL;
	}
	settings.size_limit = var_message_size_limit;

	switch (options.mode) {
	case MODE_DELIVER:
		return deliver(&options, &settings, argc, argv);
	case MODE_SMTP:
		return sendmail_smtp(&settings);
	case MODE_LIST_QUEUE:
		return list_queue(settings.config_directory);
	case MODE_NEWALIASES: {
		/* hikyaku under the name newaliases is the alias rebuild (like postalias). */
		char *command[] = {"newaliases", NULL};
		setenv("MAIL_CONFIG", settings.config_directory, 1);
		return run_command(command);
	}
	case MODE_FLUSH: {
		char *command[] = {"hikyaku", "-c", (char *)settings.config_directory, "flush",
		                   NULL};
		return run_command(command);
	}
	}
	return EX_SOFTWARE;
}
