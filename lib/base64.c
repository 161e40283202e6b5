/*
 * base64 - RFC 4648 base64, strict on decoding (see base64.h).
 */
#include <stdint.h>

#include "base64.h"
#include "dstring.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_encode(struct dstring *out, const void *data, size_t length)
{
	const unsigned char *bytes = data;
	char quad[4];
	size_t i;

	for (i = 0; i + 3 <= length; i += 3) {
		uint32_t group =
		    (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8 | bytes[i + 2];

		quad[0] = base64_alphabet[group >> 18 & 63];
		quad[1] = base64_alphabet[group >> 12 & 63];
		quad[2] = base64_alphabet[group >> 6 & 63];
		quad[3] = base64_alphabet[group & 63];
		if (dstring_append(out, quad, 4) < 0)
			return -1;
	}
	if (i < length) {
		uint32_t group = (uint32_t)bytes[i] << 16;

		if (i + 1 < length)
			group |= (uint32_t)bytes[i + 1] << 8;
		quad[0] = base64_alphabet[group >> 18 & 63];
		quad[1] = base64_alphabet[group >> 12 & 63];
		quad[2] = i + 1 < length ? base64_alphabet[group >> 6 & 63] : '=';
		quad[3] = '=';
		if (dstring_append(out, quad, 4) < 0)
			return -1;
	}
	return 0;
}

/* The value of one alphabet character, or -1. */
static int
base64_value(unsigned char character)
{
	if (character >= 'A' && character <= 'Z')
		return character - 'A';
	if (character >= 'a' && character <= 'z')
		return character - 'a' + 26;
	if (character >= '0' && character <= '9')
		return character - '0' + 52;
	if (character == '+')
		return 62;
	if (character == '/')
		return 63;
	return -1;
}

int
base64_decode(struct dstring *out, const char *text, size_t length)
{
	if (length % 4 != 0)
		return -1;
	for (size_t i = 0; i < length; i += 4) {
		bool is_last = i + 4 == length;
		int values[4];
		size_t padding = 0;
		unsigned char bytes[3];
		uint32_t group;

		for (size_t j = 0; j < 4; j++) {
			unsigned char character = (unsigned char)text[i + j];

			if (character == '=' && is_last && j >= 2) {
				values[j] = 0;
				padding++;
				continue;
			}
			/* No alphabet character after a "=". */
			if (padding > 0)
				return -1;
			values[j] = base64_value(character);
			if (values[j] < 0)
				return -1;
		}
		group = (uint32_t)values[0] << 18 | (uint32_t)values[1] << 12 |
		        (uint32_t)values[2] << 6 | (uint32_t)values[3];
		/* Canonical encodings only: the bits under padding are zero. */
		if ((padding == 1 && (group & 0xff) != 0) ||
		    (padding == 2 && (group & 0xffff) != 0))
			return -1;
		bytes[0] = (unsigned char)(group >> 16);
		bytes[1] = (unsigned char)(group >> 8);
		bytes[2] = (unsigned char)group;
		if (dstring_append(out, bytes, 3 - padding) < 0)
			return -1;
	}
	return 0;
}
