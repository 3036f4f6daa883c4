/* fuzz_config.c - libFuzzer target: configuration files and durations. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../module/core/addr.h"
#include "../../module/core/config.h"
#include "../../module/core/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4096];
	static gl_config cfg;
	char s[128];
	int64_t ms;
	FILE *fp;
	CIDR c;

	if (path[0] == '\0') {
		const char *dir = getenv("TMPDIR");

		snprintf(path, sizeof path, "%s/gl-fuzz-config-%d",
			 dir && *dir ? dir : "/tmp", (int)getpid());
	}
	fp = fopen(path, "w");
	if (fp == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	if (gl_config_load(path, &cfg, NULL) == 0) {
		if (cfg.ipv4_prefix > 32 || cfg.ipv6_prefix > 128 ||
		    cfg.delay < 1 || cfg.retry_window < cfg.delay ||
		    cfg.errors.n != 0)
			__builtin_trap();
	}
	gl_config_free(&cfg);
	if (size < sizeof s) {
		memcpy(s, data, size);
		s[size] = '\0';
		(void)gl_parse_duration(s, 1, &ms);
		(void)gl_net_parse(s, &c, NULL);
		(void)gl_ip_parse(s, &c, NULL);
	}
	return 0;
}
