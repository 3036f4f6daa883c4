/* fuzz_names.c - libFuzzer target: verified host names against the pool
 * rule (names.c): an address from the first bytes, the name after. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../module/core/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[512], pool[GL_DNS_NAME_MAX + 1], why[GL_NOTE_MAX], low[512];
	size_t alen, n;
	CIDR ip;

	if (size < 1)
		return 0;
	memset(&ip, 0, sizeof ip);
	ip.proto = data[0] & 1 ? CIDR_IPV6 : CIDR_IPV4;
	alen = ip.proto == CIDR_IPV6 ? 16 : 4;
	if (size < 1 + alen)
		return 0;
	memcpy(ip.addr + 16 - alen, data + 1, alen);
	n = size - 1 - alen;
	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, data + 1 + alen, n);
	name[n] = '\0';
	if (gl_host_pool(&ip, name, pool, sizeof pool, why, sizeof why) == 1) {
		/* the pool is a proper tail of the name, after a dot */
		size_t pn = strlen(pool), nn = strlen(name);

		memcpy(low, name, nn + 1);
		gl_lower(low);
		if (pn == 0 || pn >= nn || strcmp(low + nn - pn, pool) != 0 ||
		    low[nn - pn - 1] != '.' || why[0] != '\0')
			__builtin_trap();
	} else if (why[0] == '\0' || pool[0] != '\0') {
		__builtin_trap();
	}
	return 0;
}
