/* fuzz_whitelist.c - libFuzzer target: whitelist lines and text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../module/core/addr.h"
#include "../../module/core/whitelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gl_whitelist *wl = NULL;
	const gl_wl_entry *e;
	gl_wl_query q;
	char line[8192];
	CIDR ip;

	if (gl_whitelist_parse_text(&wl, (const char *)data, size, 1, "fuzz",
				    NULL, NULL) == 0 && wl != NULL) {
		if (gl_ip_parse("192.0.2.1", &ip, NULL) != 0)
			__builtin_trap();
		q.ip = &ip;
		q.sender = "a@b.example";
		q.rcpt = "c@d.example";
		q.host = "mx.b.example";
		(void)gl_whitelist_match(wl, &q, 1800000000);
		/* Every entry formats to a line that parses back the same. */
		for (e = wl->head; e != NULL; e = e->next) {
			gl_wl_entry *back;
			int blank;

			if (gl_wl_format(e, line, sizeof line) != 0)
				continue;
			back = gl_wl_parse(line, 1, 0, "fuzz", &blank, NULL);
			if (back == NULL || strcmp(back->entry, e->entry) != 0 ||
			    back->expires != e->expires ||
			    strcmp(back->owner, e->owner) != 0)
				__builtin_trap();
			gl_wl_entry_free(back);
		}
	}
	gl_whitelist_free(wl);
	return 0;
}
