/*
 * queue_id - unique, sortable, file-name-safe queue IDs (queue_id.h).
 */
#include <string.h>

#include "queue_id.h"

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

void
queue_id_make(char id[QUEUE_ID_SIZE], int64_t microseconds, uint64_t inode)
{
	uint64_t time = (uint64_t)microseconds;
	char reversed[13];
	size_t count = 0;

	for (int i = QUEUE_ID_TIME_LENGTH - 1; i >= 0; i--) {
		id[i] = alphabet[time & 31];
		time >>= 5;
	}
	do {
		reversed[count++] = alphabet[inode & 31];
		inode >>= 5;
	} while (inode != 0);
	for (size_t i = 0; i < count; i++)
		id[QUEUE_ID_TIME_LENGTH + i] = reversed[count - 1 - i];
	id[QUEUE_ID_TIME_LENGTH + count] = '\0';
}

bool
queue_id_is_valid(const char *text)
{
	size_t length = strnlen(text, QUEUE_ID_MAX + 1);

	if (length <= QUEUE_ID_TIME_LENGTH || length > QUEUE_ID_MAX)
		return false;
	for (size_t i = 0; i < length; i++)
		if (digit_value(text[i]) < 0)
			return false;
	/* 13 inode digits hold 65 bits; the first may carry only one. */
	if (length == QUEUE_ID_MAX && digit_value(text[QUEUE_ID_TIME_LENGTH]) > 15)
		return false;
	/* No leading zero in the inode part, so each file has one name. */
	if (text[QUEUE_ID_TIME_LENGTH] == '0' && length > QUEUE_ID_TIME_LENGTH + 1)
		return false;
	return true;
}

int64_t
queue_id_time(const char *id)
{
	uint64_t time = 0;

	for (int i = 0; i < QUEUE_ID_TIME_LENGTH; i++)
		time = time << 5 | (uint64_t)digit_value(id[i]);
	return (int64_t)time;
}

char
queue_id_hash(const char *id)
{
	return id[QUEUE_ID_TIME_LENGTH - 1];
}
