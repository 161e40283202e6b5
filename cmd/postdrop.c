/*
 * postdrop - put one local submission into $queue_directory/maildrop.
 *
 *   postdrop [-c CONFIG_DIR] [-v] < submission
 *
 * The only privileged part of local submission: installed set-group-ID
 * $setgid_group so that it, and no ordinary user, may write into the
 * maildrop directory (mode 1730, group $setgid_group). `sendmail` runs it
 * with the submission on standard input, in the format of
 * lib/maildrop_file.h; postdrop adds the real uid of the caller and the
 * time, checks every record, and exits 0 only when the file is on stable
 * storage under its final name. Then it pokes pickup (a missing pickup is
 * fine: the file waits and pickup finds it when it scans).
 *
 * What it trusts: nothing from the caller. The environment is thrown away,
 * descriptors 0-2 are made sane, the umask is fixed, the input is parsed
 * strictly with limits on every size, and the uid written into the file is
 * getuid(), never a value from the input. When set-id, the configuration
 * directory must be the compiled-in one or be listed in the compiled-in
 * main.cf's alternate_config_directories (Postfix's rule): otherwise a
 * user could point postdrop at a main.cf of their own and a queue
 * directory of their choosing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "durable.h"
#include "instance.h"
#include "log.h"
#include "maildrop_file.h"
#include "paths.h"
#include "queue_dir.h"
#include "queue_id.h"
#include "stream.h"
#include "strlist.h"

#define PICKUP_TRIGGER_PATH "public/pickup"
/* Descriptors closed at start: enough for any sane caller, and bounded. */
#define INHERITED_DESCRIPTORS_MAX 1024

/* The temporary file, for the signal handler to remove. */
static char temporary_path[64];
static volatile sig_atomic_t has_temporary;

static void
remove_temporary(void)
{
	if (has_temporary) {
		unlink(temporary_path);
		has_temporary = 0;
	}
}

static void
interrupted(int signal_number)
{
	/* unlink and _exit are async-signal-safe. */
	if (has_temporary)
		unlink(temporary_path);
	_exit(EX_TEMPFAIL);
}

/*
 * sanitize_process: descriptors 0-2 open (so no file we open becomes a
 * caller's stdout), nothing else inherited, a fixed umask and signals.
 */
static void
sanitize_process(void)
{
	struct sigaction action;
	static const int caught[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};

	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(EX_OSERR);
	for (int fd = 3; fd < INHERITED_DESCRIPTORS_MAX; fd++)
		close(fd);
	umask(022);
	memset(&action, 0, sizeof(action));
	action.sa_handler = SIG_IGN;
	/* A caller's low file size limit shows as a write error, not a signal. */
	sigaction(SIGXFSZ, &action, NULL);
	sigaction(SIGPIPE, &action, NULL);
	action.sa_handler = interrupted;
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaction(caught[i], &action, NULL);
}

static bool
is_set_id(void)
{
	return getuid() != geteuid() || getgid() != getegid();
}

/*
 * directory_is_allowed: a set-id postdrop accepts the compiled-in
 * configuration directory and those listed in its main.cf's
 * alternate_config_directories. Root may name any: it gains nothing
 * from our group that it does not have already.
 */
static bool
directory_is_allowed(const char *directory)
{
	struct dstring expanded, error;
	struct strlist allowed;
	const char *value;
	bool is_allowed = false;

	if (strcmp(directory, HIKYAKU_CONFIG_DIR) == 0 || getuid() == 0)
		return true;
	if (instance_load(HIKYAKU_CONFIG_DIR, false) != 0)
		return false;
	value = config_lookup("alternate_config_directories");
	if (value == NULL)
		return false;
	dstring_init(&expanded, CONFIG_VALUE_MAX);
	dstring_init(&error, 512);
	strlist_init(&allowed);
	if (config_expand(value, &expanded, &error) == 0 &&
	    strlist_split(&allowed, dstring_str(&expanded), STRLIST_COMMA_SPACE, NULL) == 0)
		for (size_t i = 0; i < allowed.count && !is_allowed; i++)
			is_allowed = strcmp(allowed.items[i], directory) == 0;
	strlist_fini(&allowed);
	dstring_fini(&expanded);
	dstring_fini(&error);
	return is_allowed;
}

/*
 * create_temporary: a new file in maildrop/ that nobody else has open.
 * O_EXCL with a random name: a name left by a crashed postdrop is skipped.
 */
static int
create_temporary(void)
{
	struct timeval now;

	sigset_t blocked, saved;

	/* A signal between open() and has_temporary must not orphan the file. */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGQUIT);
	sigaddset(&blocked, SIGTERM);
	for (int attempt = 0; attempt < 100; attempt++) {
		int fd;

		gettimeofday(&now, NULL);
		snprintf(temporary_path, sizeof(temporary_path), "%s/%s%ld.%lx", QUEUE_MAILDROP,
		         MAILDROP_TEMPORARY_PREFIX, (long)getpid(),
		         ((unsigned long)now.tv_usec << 8) ^ (unsigned long)random());
		sigprocmask(SIG_BLOCK, &blocked, &saved);
		fd = open(temporary_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		          0600);
		if (fd >= 0)
			has_temporary = 1;
		sigprocmask(SIG_SETMASK, &saved, NULL);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			log_fatal("create %s/%s: %s", var_queue_directory, temporary_path,
			          strerror(errno));
	}
	log_fatal("create a file in %s/maildrop: too many name collisions", var_queue_directory);
}

/*
 * rename_blocking_signals: give the temporary file its final name. Until it
 * is durable, a failure or a signal removes the final name; the signal
 * handler must never see the path half rewritten.
 */
static int
rename_blocking_signals(const char *final_path)
{
	sigset_t blocked, saved;
	int status;

	sigfillset(&blocked);
	sigprocmask(SIG_BLOCK, &blocked, &saved);
	status = rename(temporary_path, final_path);
	if (status == 0)
		snprintf(temporary_path, sizeof(temporary_path), "%s", final_path);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return status;
}

/*
 * copy_submission: the caller's records, checked, after our uid and time.
 * Returns 0, or the exit status for the failure (already reported).
 */
static int
copy_submission(struct stream *input, struct stream *output)
{
	struct maildrop_reader reader;
	struct maildrop_writer writer;
	struct maildrop_record record;
	enum maildrop_status status;
	int result = EX_TEMPFAIL;
	int records = 0;

	maildrop_reader_init(&reader, input, MAILDROP_SUBMISSION, var_message_size_limit);
	maildrop_writer_init(&writer, output);
	if (maildrop_write_magic(&writer) < 0 ||
	    maildrop_write_number(&writer, MAILDROP_UID, (long long)getuid()) < 0 ||
	    maildrop_write_number(&writer, MAILDROP_TIME, (long long)time(NULL)) < 0)
		goto write_error;
	/* Bounded: every record consumes input, and the reader limits the input. */
	while ((status = maildrop_read(&reader, &record)) == MAILDROP_OK) {
		int written;

		records++;
		if (record.type == MAILDROP_DATA)
			written = maildrop_write_content(&writer, record.data, record.length);
		else if (record.type == MAILDROP_END)
			written = maildrop_write_end(&writer);
		else
			written =
			    maildrop_write_value(&writer, record.type, record.data, record.length);
		if (written < 0)
			goto write_error;
	}
	switch (status) {
	case MAILDROP_DONE:
		result = 0;
		break;
	case MAILDROP_TOO_BIG:
		log_error("uid=%ld: message file too big: %s", (long)getuid(),
		          maildrop_reader_error(&reader));
		result = EX_DATAERR;
		break;
	case MAILDROP_IO:
		/* The caller went away or stopped writing; nothing is queued. */
		log_error("uid=%ld: %s", (long)getuid(), maildrop_reader_error(&reader));
		result = EX_TEMPFAIL;
		break;
	default:
		/* An empty input means the caller gave up (sendmail's refusal). */
		if (records > 0 || strstr(maildrop_reader_error(&reader), "magic") == NULL)
			log_error("uid=%ld: bad submission: %s", (long)getuid(),
			          maildrop_reader_error(&reader));
		result = EX_DATAERR;
		break;
	}
	maildrop_reader_fini(&reader);
	maildrop_writer_fini(&writer);
	return result;

write_error:
	log_error("write %s/%s: %s", var_queue_directory, temporary_path,
	          strerror(stream_error_code(output) ? stream_error_code(output) : errno));
	maildrop_reader_fini(&reader);
	maildrop_writer_fini(&writer);
	return EX_TEMPFAIL;
}

/*
 * make_durable: give the file its final name and put both its content and
 * its directory entry on stable storage (lib/durable.h: one syncfs where
 * the system has it, else an fsync of the file and of the directory).
 */
static int
make_durable(int fd, char *final_path, size_t final_size)
{
	char queue_id[QUEUE_ID_SIZE];
	struct durable *durable;
	struct dstring error;
	struct timeval now;
	struct stat info;
	int result = -1;

	if (fstat(fd, &info) < 0 || fchmod(fd, 0644) < 0)
		return -1;
	/* A queue ID: the time sorts by arrival, the inode makes it unique. */
	gettimeofday(&now, NULL);
	queue_id_make(queue_id, (int64_t)now.tv_sec * 1000000 + now.tv_usec, (uint64_t)info.st_ino);
	snprintf(final_path, final_size, "%s/%s", QUEUE_MAILDROP, queue_id);
	dstring_init(&error, 1024);
	durable = durable_open(".", &error);
	if (durable == NULL) {
		log_error("%s", dstring_str(&error));
	} else if (rename_blocking_signals(final_path) == 0) {
		durable_add_file(durable, fd);
		durable_add_directory(durable, QUEUE_MAILDROP);
		if (durable_flush(durable, &error) == 0) {
			has_temporary = 0;
			result = 0;
		} else {
			log_error("%s", dstring_str(&error));
		}
	}
	durable_close(durable);
	dstring_fini(&error);
	return result;
}

/*
 * poke_pickup: wake pickup through its FIFO or UNIX socket, without ever
 * waiting: a pickup that is down or busy finds the file when it scans.
 */
static void
poke_pickup(void)
{
	struct sockaddr_un address;
	struct stat info;
	int fd;

	if (lstat(PICKUP_TRIGGER_PATH, &info) < 0)
		return;
	if (S_ISFIFO(info.st_mode)) {
		fd = open(PICKUP_TRIGGER_PATH, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	} else if (S_ISSOCK(info.st_mode)) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		memset(&address, 0, sizeof(address));
		address.sun_family = AF_UNIX;
		snprintf(address.sun_path, sizeof(address.sun_path), "%s", PICKUP_TRIGGER_PATH);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
			close(fd);
			fd = -1;
		}
	} else {
		return;
	}
	if (fd < 0)
		return;
	if (write(fd, "W", 1) < 0)
		log_debug("poke pickup: %s", strerror(errno));
	close(fd);
}

static void
usage(void)
{
	fprintf(stderr, "usage: postdrop [-c CONFIG_DIR] [-v] < submission\n");
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	char *environment_directory = NULL;
	const char *directory = NULL;
	char final_path[64];
	struct stream *input, *output;
	int option, fd, status;

	sanitize_process();
	/* Keep only MAIL_CONFIG (checked below) from the caller's environment. */
	if (getenv("MAIL_CONFIG") != NULL && *getenv("MAIL_CONFIG") != '\0')
		environment_directory = strdup(getenv("MAIL_CONFIG"));
	if (clearenv() != 0)
		_exit(EX_OSERR);
	setenv("PATH", "/usr/bin:/bin", 1);
	log_open("postdrop", LOG_SINK_STDERR | LOG_SINK_SYSLOG);
	log_set_fatal_status(EX_TEMPFAIL);

	while ((option = getopt(argc, argv, "c:v")) != -1) {
		switch (option) {
		case 'c':
			directory = optarg;
			break;
		case 'v':
			log_set_verbose(log_verbose_level() + 1);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (directory == NULL)
		directory = environment_directory ? environment_directory : HIKYAKU_CONFIG_DIR;
	if (is_set_id() && !directory_is_allowed(directory)) {
		log_error("uid=%ld: configuration directory %s is not allowed: not %s and not in"
		          " alternate_config_directories",
		          (long)getuid(), directory, HIKYAKU_CONFIG_DIR);
		return EX_USAGE;
	}
	if (instance_load(directory, false) != 0)
		log_fatal("%s/main.cf has errors", directory);
	if (var_maillog_file[0] != '\0')
		log_set_file(var_maillog_file);
	if (chdir(var_queue_directory) < 0)
		log_fatal("chdir %s: %s", var_queue_directory, strerror(errno));
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));

	fd = create_temporary();
	input = stream_open(0);
	output = stream_open(fd);
	status = copy_submission(input, output);
	if (status == 0 && stream_flush(output) != STREAM_OK) {
		log_error("write %s/%s: %s", var_queue_directory, temporary_path,
		          strerror(stream_error_code(output)));
		status = EX_TEMPFAIL;
	}
	if (status == 0 && make_durable(fd, final_path, sizeof(final_path)) < 0) {
		log_error("save %s/%s: %s", var_queue_directory, temporary_path, strerror(errno));
		status = EX_TEMPFAIL;
	}
	stream_free(input);
	/* The content is flushed and synced (or abandoned): close cannot lose it. */
	stream_close(output);
	if (status != 0) {
		remove_temporary();
		return status;
	}
	log_debug("uid=%ld: queued %s", (long)getuid(), final_path);
	poke_pickup();
	free(environment_directory);
	return 0;
}
