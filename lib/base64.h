/*
 * base64 - the RFC 4648 base64 encoding (standard alphabet, "=" padding),
 * as SMTP AUTH (RFC 4954) and the Dovecot auth protocol use it.
 *
 * Contract: base64_encode appends the encoding of length bytes to out.
 * base64_decode appends the decoded bytes to out (which may then hold NUL
 * bytes: use dstring_length). Decoding is strict: only alphabet characters,
 * length a multiple of four, "=" only as the last one or two characters,
 * unused bits of the last character zero. Any other text is refused.
 *
 * What it trusts: nothing in the text to decode. The output dstring's own
 * limit bounds the result (an overflow is an error).
 */
#ifndef HIKYAKU_BASE64_H
#define HIKYAKU_BASE64_H

#include <stddef.h>

struct dstring;

/* Returns 0, or -1 when out overflowed its limit. */
int base64_encode(struct dstring *out, const void *data, size_t length);

/* Returns 0, or -1 for malformed text or when out overflowed its limit
 * (out then holds a partial result). */
int base64_decode(struct dstring *out, const char *text, size_t length);

#endif
