/* fuzz_record.c - libFuzzer target: the record decoders never misread. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../module/core/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gl_record r;
	gl_client_record c;
	unsigned char again[GL_RECORD_SIZE];
	gl_err err;

	if (gl_record_decode(data, size, &r, &err) == 0) {
		/* Whatever decodes re-encodes to exactly the same bytes. */
		gl_record_encode(&r, again);
		if (size != GL_RECORD_SIZE || memcmp(again, data, size) != 0)
			__builtin_trap();
	}
	if (gl_client_record_decode(data, size, &c, &err) == 0 &&
	    (c.count == 0 || c.last_pass < c.first_pass))
		__builtin_trap();
	return 0;
}
