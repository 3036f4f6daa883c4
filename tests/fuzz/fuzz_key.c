/* fuzz_key.c - libFuzzer target: key decoding and address folding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../module/core/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gl_triplet t;
	static char key[GL_KEY_MAX], s[GL_ADDR_MAX + 1], again[GL_ADDR_MAX + 1];
	char *str;
	int n;

	if (gl_key_decode((const char *)data, size, &t) == 0) {
		/* A decoded key encodes back to the same bytes. */
		n = gl_key_encode(&t, key, sizeof key);
		if (n < 0 || (size_t)n != size || memcmp(key, data, size) != 0)
			__builtin_trap();
	}
	str = malloc(size + 1);
	if (str == NULL)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';
	/* Folding never overflows and is idempotent. */
	if (gl_fold_sender(str, 1, s, sizeof s, NULL) == 0) {
		if (gl_fold_sender(s, 1, again, sizeof again, NULL) != 0 ||
		    strcmp(s, again) != 0)
			__builtin_trap();
	}
	(void)gl_fold_rcpt(str, s, sizeof s, NULL);
	free(str);
	return 0;
}
