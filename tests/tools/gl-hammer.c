/*
 * gl-hammer - test helper: makes decisions through the core as fast as it
 * can, like an Exim process under load, until it is killed or has made
 * COUNT decisions. Used to kill writers at random points and to hold
 * the database busy.
 *
 *   gl-hammer CONF SEED COUNT [NOW]
 *
 * Triplets come from a pool of 5000 (seeded); NOW (default: the clock)
 * advances one second per 100 decisions so triplets pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../module/core/decide.h"

int main(int argc, char **argv)
{
	gl_config cfg;
	gl_store *st;
	gl_ctx ctx;
	gl_err err;
	unsigned seed;
	long i, count;
	gl_time now;

	if (argc < 4) {
		fprintf(stderr, "usage: gl-hammer CONF SEED COUNT [NOW]\n");
		return 2;
	}
	if (gl_config_load(argv[1], &cfg, &err) < 0) {
		fprintf(stderr, "gl-hammer: %s\n", err.msg);
		return 1;
	}
	seed = (unsigned)strtoul(argv[2], NULL, 10);
	count = strtol(argv[3], NULL, 10);
	now = argc > 4 ? strtoll(argv[4], NULL, 10) : (gl_time)time(NULL);
	st = gl_store_open(&cfg, &err);
	if (st == NULL) {
		fprintf(stderr, "gl-hammer: %s\n", err.msg);
		return 1;
	}
	gl_ctx_init(&ctx, &cfg, st);
	for (i = 0; i < count; i++) {
		char ip[32], from[64], to[64];
		unsigned r = (unsigned)rand_r(&seed) % 5000;
		gl_request req = { ip, from, to, NULL, NULL, NULL };
		gl_result res;

		snprintf(ip, sizeof ip, "198.51.%u.%u", r % 200, r % 250);
		/* letters: sender_normalize folds digits */
		snprintf(from, sizeof from, "s%c%c%c@hammer.example",
			 'a' + r % 26, 'a' + r / 26 % 26, 'a' + r / 676 % 26);
		snprintf(to, sizeof to, "r%u@test.example", r % 7);
		if (gl_decide(&ctx, &req, now + i / 100, 0, &res, &err) < 0 &&
		    argc > 5)
			fprintf(stderr, "gl-hammer: %s\n", err.msg);
	}
	gl_ctx_free(&ctx);
	gl_store_close(st);
	gl_config_free(&cfg);
	return 0;
}
