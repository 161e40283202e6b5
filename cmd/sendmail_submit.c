/*
 * sendmail_submit - hand one message to postdrop: start it with a pipe on
 * its standard input, write the submission (lib/maildrop_file.h) into the
 * pipe, and wait for its verdict. postdrop exits 0 only once the maildrop
 * file is on stable storage, so sendmail's own exit 0 means the same.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "log.h"
#include "maildrop_file.h"
#include "sendmail.h"
#include "stream.h"
#include "xalloc.h"

struct sendmail_submission {
	pid_t pid;
	struct stream *pipe;
	struct maildrop_writer writer;
	bool has_failed; /* a write failed: postdrop is gone */
};

/* start_postdrop: the child, with the read end of a pipe as its stdin. */
static pid_t
start_postdrop(const struct sendmail_settings *settings, int *write_fd)
{
	char *const environment[] = {NULL};
	struct dstring path;
	int pipe_fds[2];
	pid_t pid;

	if (pipe(pipe_fds) < 0) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	dstring_init(&path, DSTRING_NO_LIMIT);
	dstring_printf(&path, "%s/postdrop", var_command_directory);
	pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		dstring_fini(&path);
		return -1;
	}
	if (pid == 0) {
		char *argv[] = {"postdrop", "-c", (char *)settings->config_directory,
		                settings->is_verbose ? "-v" : NULL, NULL};

		if (dup2(pipe_fds[0], 0) < 0)
			_exit(EX_OSERR);
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		/* postdrop throws the environment away anyway; give it none. */
		execve(dstring_str(&path), argv, environment);
		log_error("execute %s: %s", dstring_str(&path), strerror(errno));
		_exit(EX_OSERR);
	}
	dstring_fini(&path);
	close(pipe_fds[0]);
	*write_fd = pipe_fds[1];
	return pid;
}

struct sendmail_submission *
sendmail_submission_start(const struct sendmail_settings *settings,
                          const struct sendmail_envelope *envelope)
{
	struct sendmail_submission *submission;
	struct maildrop_writer *writer;
	int write_fd = -1;
	int result;
	pid_t pid = start_postdrop(settings, &write_fd);

	if (pid < 0)
		return NULL;
	submission = xcalloc(1, sizeof(*submission));
	submission->pid = pid;
	submission->pipe = stream_open(write_fd);
	writer = &submission->writer;
	maildrop_writer_init(writer, submission->pipe);
	/* Values were checked by the caller; a failure here is a dead postdrop. */
	result = maildrop_write_magic(writer);
	result |= maildrop_write_value(writer, MAILDROP_SENDER, envelope->sender,
	                               strlen(envelope->sender));
	if (envelope->full_name != NULL)
		result |= maildrop_write_value(writer, MAILDROP_FULL_NAME, envelope->full_name,
		                               strlen(envelope->full_name));
	if (envelope->is_extract || envelope->body != NULL) {
		struct dstring flags;

		dstring_init(&flags, DSTRING_NO_LIMIT);
		if (envelope->is_extract)
			dstring_append_str(&flags, MAILDROP_FLAG_EXTRACT);
		if (envelope->body != NULL) {
			if (envelope->is_extract)
				dstring_append_str(&flags, " ");
			dstring_append_str(&flags, strcmp(envelope->body, "8BITMIME") == 0
			                               ? MAILDROP_FLAG_BODY_8BITMIME
			                               : MAILDROP_FLAG_BODY_7BIT);
		}
		result |= maildrop_write_value(writer, MAILDROP_FLAGS, dstring_str(&flags),
		                               dstring_length(&flags));
		dstring_fini(&flags);
	}
	if (envelope->envid != NULL)
		result |= maildrop_write_value(writer, MAILDROP_ENVID, envelope->envid,
		                               strlen(envelope->envid));
	if (envelope->ret != NULL)
		result |= maildrop_write_value(writer, MAILDROP_RET, envelope->ret,
		                               strlen(envelope->ret));
	if (envelope->notify != NULL)
		result |= maildrop_write_value(writer, MAILDROP_NOTIFY, envelope->notify,
		                               strlen(envelope->notify));
	for (size_t i = 0; i < envelope->recipients.count; i++)
		result |=
		    maildrop_write_value(writer, MAILDROP_RECIPIENT, envelope->recipients.items[i],
		                         strlen(envelope->recipients.items[i]));
	submission->has_failed = result != 0;
	return submission;
}

int
sendmail_submission_write(struct sendmail_submission *submission, const void *data, size_t length)
{
	if (!submission->has_failed &&
	    maildrop_write_content(&submission->writer, data, length) < 0)
		submission->has_failed = true;
	return submission->has_failed ? -1 : 0;
}

/* wait_for: postdrop's exit status, or EX_TEMPFAIL when it died otherwise. */
static int
wait_for(pid_t pid, bool is_quiet)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			log_error("wait for postdrop: %s", strerror(errno));
			return EX_TEMPFAIL;
		}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (!is_quiet)
		log_error("postdrop was killed by signal %d", WTERMSIG(status));
	return EX_TEMPFAIL;
}

/* release: free the submission's memory (the pipe is already gone). */
static void
release(struct sendmail_submission *submission)
{
	maildrop_writer_fini(&submission->writer);
	free(submission);
}

int
sendmail_submission_finish(struct sendmail_submission *submission)
{
	int status;

	if (!submission->has_failed && maildrop_write_end(&submission->writer) < 0)
		submission->has_failed = true;
	/* Closing the pipe is postdrop's end of input; it then commits. */
	if (stream_close(submission->pipe) != STREAM_OK)
		submission->has_failed = true;
	status = wait_for(submission->pid, false);
	release(submission);
	/* postdrop's word is final: 0 means it saw the end and synced the file. */
	switch (status) {
	case 0:
		return 0;
	case EX_DATAERR:
	case EX_USAGE:
	case EX_NOPERM:
		return status;
	default:
		return EX_TEMPFAIL;
	}
}

void
sendmail_submission_abort(struct sendmail_submission *submission)
{
	int fd = stream_fd(submission->pipe);

	/* postdrop removes its temporary file on SIGTERM. */
	kill(submission->pid, SIGTERM);
	stream_free(submission->pipe);
	close(fd);
	wait_for(submission->pid, true);
	release(submission);
}
