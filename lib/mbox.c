/*
 * mbox - the mbox separator line and ">From " quoting (mbox.h).
 */
#include <string.h>
#include <time.h>

#include "dstring.h"
#include "mbox.h"

void
mbox_from_line(struct dstring *out, const char *sender, time_t when)
{
	struct tm local;
	char date[64];

	dstring_append_str(out, "From ");
	if (*sender == '\0')
		sender = MBOX_NULL_SENDER;
	for (const char *p = sender; *p != '\0'; p++) {
		unsigned char byte = (unsigned char)*p;

		dstring_append_char(out, byte <= ' ' || byte == 0x7f ? '_' : (char)byte);
	}
	localtime_r(&when, &local);
	/* asctime's layout, without asctime's static buffer. */
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &local);
	dstring_append_printf(out, " %s\n", date);
}

void
mbox_quoter_init(struct mbox_quoter *quoter)
{
	quoter->is_line_start = true;
	quoter->held = 0;
	quoter->last = '\n';
}

void
mbox_quote(struct mbox_quoter *quoter, const char *data, size_t length, struct dstring *out)
{
	static const char from[] = "From ";
	size_t start = 0; /* bytes of data not yet appended begin here */

	if (length > 0)
		quoter->last = data[length - 1];
	for (size_t i = 0; i < length; i++) {
		if (quoter->is_line_start || quoter->held > 0) {
			/* Matching "From " at a line start, possibly across calls. */
			if (data[i] == from[quoter->held]) {
				if (quoter->held == 0) {
					dstring_append(out, data + start, i - start);
					start = i;
				}
				quoter->is_line_start = false;
				quoter->hold[quoter->held++] = data[i];
				start = i + 1;
				if (quoter->held == 5) {
					dstring_append_str(out, ">From ");
					quoter->held = 0;
				}
				continue;
			}
			if (quoter->held > 0) {
				dstring_append(out, data + start, i - start);
				dstring_append(out, quoter->hold, quoter->held);
				quoter->held = 0;
				start = i;
			}
			quoter->is_line_start = false;
		}
		if (data[i] == '\n')
			quoter->is_line_start = true;
	}
	dstring_append(out, data + start, length - start);
}

void
mbox_quote_finish(struct mbox_quoter *quoter, struct dstring *out)
{
	dstring_append(out, quoter->hold, quoter->held);
	quoter->held = 0;
}

bool
mbox_ends_with_newline(const struct mbox_quoter *quoter)
{
	return quoter->last == '\n';
}
