/*
 * fuzz_decide.c - libFuzzer target: whole decisions. The input is split at
 * NUL bytes into IP, sender, recipient, host= and spf=; each decision runs
 * against a real GDBM file (in $TMPDIR) with a whitelist, pools and the
 * auto-whitelist on. A decision either fails with a message or yields a
 * well-formed answer; it never crashes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../module/core/decide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gl_config cfg;
static gl_store *st;
static gl_ctx ctx;

static void setup(void)
{
	const char *dir = getenv("TMPDIR");
	const char *wl = "192.0.2.0/25\nrcpt:postmaster@our.example\n"
			 ".vendor.example expires=@1800000500\n"
			 "host:*.outbound.example\n";
	gl_err err;

	gl_config_defaults(&cfg);
	snprintf(cfg.database, sizeof cfg.database, "%s/gl-fuzz-decide-%d.gdbm",
		 dir && *dir ? dir : "/tmp", (int)getpid());
	unlink(cfg.database);
	cfg.delay = 10;
	cfg.retry_window = 100;
	cfg.auto_whitelist_clients = 2;
	if (gl_whitelist_parse_text(&cfg.whitelist, wl, strlen(wl), 1, "fuzz",
				    NULL, &err) < 0 ||
	    (st = gl_store_open(&cfg, &err)) == NULL)
		__builtin_trap();
	gl_ctx_init(&ctx, &cfg, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gl_time now = 1800000000;
	char *buf, *f[5] = { "", "", "", NULL, NULL };
	gl_request req;
	gl_result res;
	gl_err err;
	char y[64];
	size_t i, n = 0;

	if (st == NULL)
		setup();
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	f[n++] = buf;
	for (i = 0; i < size && n < 5; i++)
		if (buf[i] == '\0')
			f[n++] = buf + i + 1;
	req.ip = f[0];
	req.sender = f[1];
	req.rcpt = f[2];
	req.host = f[3];
	req.spf = f[4];
	req.helo = NULL;
	now += size % 7; /* time moves, so records pass and expire */
	if (gl_decide(&ctx, &req, now, size % 5 == 0, &res, &err) == 0) {
		gl_yield(&res, y, sizeof y);
		if (strncmp(y, "defer ", 6) != 0 && strncmp(y, "accept ", 7) != 0)
			__builtin_trap();
		if (res.verdict == GL_DEFER && (res.wait < 1 || res.wait > cfg.delay))
			__builtin_trap();
	} else if (err.msg[0] == '\0') {
		__builtin_trap();
	}
	free(buf);
	return 0;
}
