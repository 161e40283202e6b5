/*
 * fuzz_delivery - the delivery protocol's readers on arbitrary bytes: the
 * input is cut into frames as a reader on a socket would, fed to the
 * agent's request decoder and to qmgr's reply decoder. Never a crash, an
 * out-of-bounds read or a leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "attr_proto.h"
#include "delivery.h"
#include "dstring.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct delivery_request request;
	struct dstring error;
	size_t offset = 0, frame_length;
	int request_status = 0;

	log_open("fuzz", 0);
	dstring_init(&error, 1024);
	delivery_request_init(&request);
	while (offset < size && attr_frame_check(data + offset, size - offset, &frame_length) ==
				    ATTR_FRAME_COMPLETE) {
		const uint8_t *payload = data + offset + ATTR_FRAME_HEADER;
		size_t payload_length = frame_length - ATTR_FRAME_HEADER;
		enum delivery_reply_kind kind;
		struct delivery_result result;

		if (request_status == 0)
			request_status = delivery_request_decode_frame(&request, payload,
								       payload_length, &error);
		(void)delivery_reply_decode(payload, payload_length, 3, &kind, &result, &error);
		offset += frame_length;
	}
	delivery_request_fini(&request);
	dstring_fini(&error);
	return 0;
}
