/*
 * gl-nametime - what the host rule costs in a fresh process: the first
 * gl_host_pool() (which loads libpsl and the Public Suffix List) and
 * the mean of the next N, in microseconds. With -c CONF: the first
 * gl_config_load() of CONF (with postgrey lists, the load of PCRE2 and
 * the compiling of their patterns) and the mean of the next N. Not a
 * test: run it a few times and read the figures (README).
 *
 *   gl-nametime [N]
 *   gl-nametime -c CONF [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <string.h>

#include "../../module/core/addr.h"
#include "../../module/core/config.h"
#include "../../module/core/names.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int config_time(const char *path, long n)
{
	static gl_config cfg; /* large */
	double t0, t1, t2;
	gl_err err;
	long i;

	t0 = now_us();
	if (gl_config_load(path, &cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	t1 = now_us();
	gl_config_free(&cfg);
	for (i = 0; i < n; i++) {
		if (gl_config_load(path, &cfg, &err) < 0)
			return 1;
		gl_config_free(&cfg);
	}
	t2 = now_us();
	printf("configuration: first load %.0f us, then %.0f us each (%ld "
	       "loads)\n", t1 - t0, (t2 - t1) / (double)n, n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "-c"))
		return config_time(argv[2], argc > 3 ? atol(argv[3]) : 100);
	char pool[GL_DNS_NAME_MAX + 1], why[GL_NOTE_MAX];
	long n = argc > 1 ? atol(argv[1]) : 10000, i;
	double t0, t1, t2;
	CIDR ip;
	int r;

	if (n < 1 || n > 10000000 || gl_ip_parse("192.0.2.7", &ip, NULL) < 0)
		return 2;
	/* a generic name carrying the address needs no list */
	t0 = now_us();
	r = !gl_host_pool(&ip, "192-0-2-7.dyn.isp.example", pool, sizeof pool,
			  why, sizeof why);
	t1 = now_us();
	printf("first generic name (no list loaded): %.0f us\n", t1 - t0);
	t0 = now_us();
	r &= gl_host_pool(&ip, "mail-a1.out.bigmail.example", pool, sizeof pool,
			  why, sizeof why);
	t1 = now_us();
	for (i = 0; i < n; i++)
		r &= gl_host_pool(&ip, i % 2 ? "mail-a1.out.bigmail.example" :
				  "c-203-0-113-9.hsd1.ca.isp.example", pool,
				  sizeof pool, why, sizeof why) || i % 2 == 0;
	t2 = now_us();
	printf("first pool name (loads libpsl and the list): %.0f us, then "
	       "%.2f us each (%ld calls)%s\n", t1 - t0,
	       (t2 - t1) / (double)n, n, r ? "" : " [unexpected result]");
	return r ? 0 : 1;
}
