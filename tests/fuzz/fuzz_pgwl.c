/* fuzz_pgwl.c - libFuzzer target: lines of postgrey's lists (pgwl.c),
 * parsed and matched; the first byte picks clients or recipients. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../module/core/addr.h"
#include "../../module/core/pgwl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum gl_pg_kind k;
	char line[GL_WL_LINE_MAX + 1];
	const char *p, *end, *nl;
	gl_wl_entry *e;
	gl_wl_query q;
	gl_err err;
	CIDR ip;
	int blank;

	if (size < 1)
		return 0;
	k = data[0] & 1 ? GL_PG_RECIPIENTS : GL_PG_CLIENTS;
	if (gl_ip_parse("192.0.2.1", &ip, NULL) != 0)
		__builtin_trap();
	q.ip = &ip;
	q.sender = "a@b.example";
	q.rcpt = "postmaster+x@our.example";
	q.host = "mail7.out.bigmail.example";
	for (p = (const char *)data + 1, end = (const char *)data + size;
	     p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) > GL_WL_LINE_MAX || memchr(p, 0, (size_t)(nl - p)))
			continue;
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		e = gl_pgwl_parse(line, k, "fuzz:1", &blank, &err);
		if (e == NULL)
			continue;
		if (blank)
			__builtin_trap();
		(void)gl_wl_entry_matches(e, &q, 1800000000);
		gl_wl_entry_free(e);
	}
	return 0;
}
