/*
 * test_maildrop_file - the maildrop format: what the writer makes reads
 * back unchanged, and every broken or hostile input is refused with a
 * reason, never accepted and never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dstring.h"
#include "maildrop_file.h"
#include "stream.h"

/* A stream that reads the given bytes (a temporary file holds them). */
static struct stream *
stream_of(const void *data, size_t length)
{
	FILE *file = tmpfile();
	int fd;

	if (file == NULL || fwrite(data, 1, length, file) != length || fflush(file) != 0) {
		perror("tmpfile");
		exit(2);
	}
	fd = dup(fileno(file));
	fclose(file);
	lseek(fd, 0, SEEK_SET);
	return stream_open(fd);
}

/* A writable stream on a temporary file; read it back with contents_of. */
static struct stream *
writable_stream(void)
{
	FILE *file = tmpfile();
	int fd = dup(fileno(file));

	fclose(file);
	return stream_open(fd);
}

static void
contents_of(struct stream *stream, struct dstring *out)
{
	char buffer[8192];
	ssize_t length;
	int fd = stream_fd(stream);

	stream_flush(stream);
	lseek(fd, 0, SEEK_SET);
	while ((length = read(fd, buffer, sizeof(buffer))) > 0)
		dstring_append(out, buffer, (size_t)length);
}

/*
 * read_all: read every record of data; the final status, with the content
 * and the number of recipients seen, and the error text in error.
 */
static enum maildrop_status
read_all(const char *data, size_t length, enum maildrop_kind kind, long long limit,
         struct dstring *content, size_t *recipients, struct dstring *error)
{
	struct stream *stream = stream_of(data, length);
	struct maildrop_reader reader;
	struct maildrop_record record;
	enum maildrop_status status;
	int records = 0;

	maildrop_reader_init(&reader, stream, kind, limit);
	while ((status = maildrop_read(&reader, &record)) == MAILDROP_OK && records++ < 100000) {
		if (record.type == MAILDROP_DATA && content != NULL)
			dstring_append(content, record.data, record.length);
		if (record.type == MAILDROP_RECIPIENT && recipients != NULL)
			(*recipients)++;
	}
	if (error != NULL)
		dstring_set(error, maildrop_reader_error(&reader));
	maildrop_reader_fini(&reader);
	stream_close(stream);
	return status;
}

static void
test_round_trip(void)
{
	struct stream *stream = writable_stream();
	struct maildrop_writer writer;
	struct dstring file, content, error, expected;
	size_t recipients = 0;

	dstring_init(&file, DSTRING_NO_LIMIT);
	dstring_init(&content, DSTRING_NO_LIMIT);
	dstring_init(&expected, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	/* 150,000 bytes: three data records, a NUL and 8-bit bytes among them. */
	for (int i = 0; dstring_length(&expected) < 150000; i++)
		dstring_append_printf(&expected, "line %d \xe6\x97\xa5 %c\n", i,
		                      i % 1000 ? 'x' : 0);
	maildrop_writer_init(&writer, stream);
	CHECK_INT_EQ(maildrop_write_magic(&writer), 0);
	CHECK_INT_EQ(maildrop_write_number(&writer, MAILDROP_UID, 1000), 0);
	CHECK_INT_EQ(maildrop_write_number(&writer, MAILDROP_TIME, 1700000000), 0);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_SENDER, "", 0), 0);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_FULL_NAME, "Jo \xc3\xa9", 5), 0);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_FLAGS, MAILDROP_FLAG_EXTRACT,
	                                  strlen(MAILDROP_FLAG_EXTRACT)),
	             0);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_ENVID, "id-1", 4), 0);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_RET, "HDRS", 4), 0);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_NOTIFY, "SUCCESS,DELAY", 13), 0);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_RECIPIENT, "a@example.com", 13), 0);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_RECIPIENT, "b", 1), 0);
	/* In odd pieces, to cross chunk boundaries anywhere. */
	for (size_t at = 0; at < dstring_length(&expected); at += 7777) {
		size_t piece =
		    dstring_length(&expected) - at < 7777 ? dstring_length(&expected) - at : 7777;
		CHECK_INT_EQ(maildrop_write_content(&writer, expected.data + at, piece), 0);
	}
	CHECK_INT_EQ(maildrop_write_end(&writer), 0);
	contents_of(stream, &file);
	maildrop_writer_fini(&writer);
	stream_close(stream);

	CHECK_INT_EQ(
	    read_all(file.data, file.length, MAILDROP_QUEUED, 0, &content, &recipients, &error),
	    MAILDROP_DONE);
	CHECK_STR_EQ(dstring_str(&error), "");
	CHECK_INT_EQ(recipients, 2);
	CHECK_INT_EQ(dstring_length(&content), dstring_length(&expected));
	CHECK(memcmp(content.data, expected.data, expected.length) == 0);
	/* The same file is not a submission: uid and time belong to postdrop. */
	CHECK_INT_EQ(read_all(file.data, file.length, MAILDROP_SUBMISSION, 0, NULL, NULL, &error),
	             MAILDROP_INVALID);
	CHECK_STR_EQ(dstring_str(&error), "record not allowed in a submission: uid");
	/* A size limit below the content. */
	CHECK_INT_EQ(read_all(file.data, file.length, MAILDROP_QUEUED, 100000, NULL, NULL, &error),
	             MAILDROP_TOO_BIG);
	CHECK_INT_EQ(
	    read_all(file.data, file.length, MAILDROP_QUEUED, 150000 + 100, NULL, NULL, NULL),
	    MAILDROP_DONE);

	/* Cut short anywhere: never accepted. Every 97th byte keeps it quick. */
	for (size_t cut = 0; cut < file.length; cut += cut < 400 ? 1 : 97) {
		enum maildrop_status status =
		    read_all(file.data, cut, MAILDROP_QUEUED, 0, NULL, NULL, NULL);
		if (status != MAILDROP_INVALID) {
			CHECK_INT_EQ(status, MAILDROP_INVALID);
			fprintf(stderr, "  cut at %zu\n", cut);
			break;
		}
	}
	/* A byte more after the end record. */
	dstring_append_char(&file, '\n');
	CHECK_INT_EQ(read_all(file.data, file.length, MAILDROP_QUEUED, 0, NULL, NULL, &error),
	             MAILDROP_INVALID);
	CHECK_STR_EQ(dstring_str(&error), "data after the end record");
	dstring_fini(&file);
	dstring_fini(&content);
	dstring_fini(&expected);
	dstring_fini(&error);
}

/* A table of small hostile inputs and the reason each gives. */
static void
test_hostile(void)
{
	static const struct {
		const char *input;
		enum maildrop_kind kind;
		enum maildrop_status status;
		const char *error;
		size_t length; /* 0: strlen(input); else for inputs holding NUL */
	} cases[] = {
	    {"hikyaku-maildrop 1\nsender 0\n\nend 1\n0\n", MAILDROP_SUBMISSION, MAILDROP_DONE, "",
	     0},
	    {"hikyaku-maildrop 1\nsender 0\n\nrecipient 1\nb\ndata 2\nhi\nend 1\n2\n",
	     MAILDROP_SUBMISSION, MAILDROP_DONE, "", 0},
	    {"", MAILDROP_SUBMISSION, MAILDROP_INVALID, "not a maildrop file: bad magic line", 0},
	    {"hikyaku-maildrop 2\nsender 0\n\nend 1\n0\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "not a maildrop file: bad magic line", 0},
	    {"From alice\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "not a maildrop file: bad magic line", 0},
	    {"hikyaku-maildrop 1\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "file ends early: no end record", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "file ends early: no end record", 0},
	    {"hikyaku-maildrop 1\nsender 5\nab", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "file ends early: sender", 0},
	    {"hikyaku-maildrop 1\nsender 2\nabX", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "record does not end in a newline: sender", 0},
	    {"hikyaku-maildrop 1\nsender 3\na\0b\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "control character in value: sender", 40},
	    {"hikyaku-maildrop 1\nsender 3\na\nb\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "control character in value: sender", 0},
	    {"hikyaku-maildrop 1\nsender 99999\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "record length out of range: sender", 0},
	    {"hikyaku-maildrop 1\nsender 007\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "bad record length: sender", 0},
	    {"hikyaku-maildrop 1\nsender -1\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "bad record length: sender", 0},
	    {"hikyaku-maildrop 1\nsender 1 \n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "bad record length: sender", 0},
	    {"hikyaku-maildrop 1\nsenderx 1\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "unknown record type", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\ndata 0\n\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "record length out of range: data", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\ndata 70000\n", MAILDROP_SUBMISSION, MAILDROP_INVALID,
	     "record length out of range: data", 0},
	    {"hikyaku-maildrop 1\nrecipient 1\nb\nsender 0\n\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "missing sender record: recipient", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\nsender 0\n\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "record out of order or repeated: sender", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\ndata 1\nx\nrecipient 1\nb\nend 1\n1\n",
	     MAILDROP_SUBMISSION, MAILDROP_INVALID, "record out of order or repeated: recipient",
	     0},
	    {"hikyaku-maildrop 1\nsender 0\n\nrecipient 0\n\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "empty recipient: recipient", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\nflags 4\nroot\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "unknown flags: flags", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\nnotify 13\nSUCCESS,NEVER\nend 1\n0\n",
	     MAILDROP_SUBMISSION, MAILDROP_INVALID, "bad notify list: notify", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\nnotify 15\nSUCCESS,SUCCESS\nend 1\n0\n",
	     MAILDROP_SUBMISSION, MAILDROP_INVALID, "bad notify list: notify", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\nret 4\nBODY\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "ret is neither FULL nor HDRS: ret", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\nenvid 3\na b\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "bad character in envid: envid", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\ndata 2\nhi\nend 1\n3\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "end record does not match the content size", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\nend 1\n0\nsender 0\n\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "data after the end record", 0},
	    {"hikyaku-maildrop 1\nuid 1\n0\nsender 0\n\nend 1\n0\n", MAILDROP_SUBMISSION,
	     MAILDROP_INVALID, "record not allowed in a submission: uid", 0},
	    {"hikyaku-maildrop 1\nuid 1\n0\ntime 1\n5\nsender 0\n\nend 1\n0\n", MAILDROP_QUEUED,
	     MAILDROP_DONE, "", 0},
	    {"hikyaku-maildrop 1\nsender 0\n\nend 1\n0\n", MAILDROP_QUEUED, MAILDROP_INVALID,
	     "first record is not uid: sender", 0},
	    {"hikyaku-maildrop 1\nuid 1\n0\nsender 0\n\nend 1\n0\n", MAILDROP_QUEUED,
	     MAILDROP_INVALID, "second record is not time: sender", 0},
	    {"hikyaku-maildrop 1\nuid 10\n4294967295\ntime 1\n5\n", MAILDROP_QUEUED,
	     MAILDROP_INVALID, "bad user ID: uid", 0},
	    {"hikyaku-maildrop 1\nuid 1\nx\ntime 1\n5\n", MAILDROP_QUEUED, MAILDROP_INVALID,
	     "bad user ID: uid", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dstring error;
		size_t length = cases[i].length ? cases[i].length : strlen(cases[i].input);
		enum maildrop_status status;

		dstring_init(&error, 1024);
		status = read_all(cases[i].input, length, cases[i].kind, 0, NULL, NULL, &error);
		if (status != cases[i].status || strcmp(dstring_str(&error), cases[i].error) != 0)
			fprintf(stderr, "case %zu: \"%s\"\n", i, cases[i].input);
		CHECK_INT_EQ(status, cases[i].status);
		CHECK_STR_EQ(dstring_str(&error), cases[i].error);
		dstring_fini(&error);
	}
}

/* A header line of 100,000 bytes is refused at the header limit. */
static void
test_huge_line(void)
{
	struct dstring input, error;

	dstring_init(&input, DSTRING_NO_LIMIT);
	dstring_init(&error, 1024);
	dstring_append_str(&input, "hikyaku-maildrop 1\n");
	for (int i = 0; i < 100000; i++)
		dstring_append_char(&input, 'r');
	dstring_append_str(&input, " 1\nx\n");
	CHECK_INT_EQ(read_all(input.data, input.length, MAILDROP_SUBMISSION, 0, NULL, NULL, &error),
	             MAILDROP_INVALID);
	CHECK_STR_EQ(dstring_str(&error), "bad record header");
	dstring_fini(&input);
	dstring_fini(&error);
}

/* The writer refuses what the reader would refuse. */
static void
test_writer_refuses(void)
{
	struct stream *stream = writable_stream();
	struct maildrop_writer writer;

	maildrop_writer_init(&writer, stream);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_RECIPIENT, "a\nsender 0", 10), -1);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_RECIPIENT, "", 0), -1);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_RET, "full", 4), -1);
	CHECK_INT_EQ(maildrop_write_value(&writer, MAILDROP_DATA, "x", 1), -1);
	CHECK_INT_EQ(maildrop_write_number(&writer, MAILDROP_UID, -1), -1);
	CHECK(maildrop_value_check(MAILDROP_NOTIFY, "NEVER", 5) == NULL);
	CHECK(maildrop_value_check(MAILDROP_NOTIFY, "FAILURE", 7) == NULL);
	CHECK(maildrop_value_check(MAILDROP_NOTIFY, "", 0) != NULL);
	CHECK(maildrop_value_check(MAILDROP_FLAGS, "extract-recipients extract-recipients", 37) !=
	      NULL);
	maildrop_writer_fini(&writer);
	stream_close(stream);
}

int
main(void)
{
	test_round_trip();
	test_hostile();
	test_huge_line();
	test_writer_refuses();
	return check_finish();
}
