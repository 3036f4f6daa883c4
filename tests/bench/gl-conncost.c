/*
 * gl-conncost.c - where an SMTP connection's share of the module's cost
 * goes ("make bench", part 3). Exim forks a process per connection, and
 * that process loads the module at its first ${dlfunc}: so each
 * connection pays for loading the module and its libraries, reading the
 * configuration and whitelists, opening the store, and then its
 * decisions. This program does what such a process does, N times, each
 * in a fresh child of one parent, and times each step in CPU time:
 *
 *   gl-conncost [-n N] [-g LIB]... [-d] MODULE CONF
 *
 *   -g LIB   load LIB into the parent first with RTLD_GLOBAL, as Exim's
 *            own libraries are when it loads a module (bench.sh passes
 *            the libraries exim4 links, so symbol lookups walk the same
 *            scope as in Exim)
 *   -d       the daemon has loaded the module (greylist-setup-exim4's
 *            smtp_accept_max_per_host line): the parent loads it and calls
 *            greylist_preload once, and each child uses that handle, as
 *            an Exim connection process finds it in the tree of loaded
 *            objects it inherited (load_us is then 0)
 *
 * Each child: dlopen(MODULE, RTLD_LAZY) as Exim does, dlsym "greylist";
 * a first call (configuration, whitelists, store, one decision); a second
 * call (one more RCPT). Prints, in microseconds of CPU time (user and
 * system, the child's own), the median and the 90th percentile of each
 * step over the N children:
 *
 *   load_us=.. load_p90_us=.. first_us=.. first_p90_us=.. next_us=..
 *   next_p90_us=.. total_us=..
 *
 * The parent provides the two Exim functions the module calls
 * (log_write, string_copy_function), exported to it with -rdynamic.
 * Each child uses its own triplet (a new sender), so every first call
 * writes, as a new sender's first RCPT does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NMAX 100000

typedef unsigned char uschar;
typedef int dlfunc(uschar **yield, int argc, uschar *argv[]);

/* Exim's functions, as the module sees them. */
__attribute__((visibility("default"))) void log_write(unsigned int sel,
						      int flags,
						      const char *fmt, ...)
{
	(void)sel, (void)flags, (void)fmt;
}

__attribute__((visibility("default"))) uschar *
string_copy_function(const uschar *s)
{
	return (uschar *)strdup((const char *)s);
}

static long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static long long pct(long long *v, int n, int p)
{
	qsort(v, (size_t)n, sizeof *v, cmp_ll);
	return v[(n - 1) * p / 100];
}

static dlfunc *preloaded; /* -d: the parent's greylist() */

/* One child's work; writes 3 numbers (ns) to fd. */
static void child(const char *module, const char *conf, int i, int fd)
{
	char sender[64], rcpt[64], ip[32];
	long long t[4];
	uschar *argv[4], *yield = NULL;
	dlfunc *f;
	void *h;

	/* The sender's digits fold away (sender_normalize) and the client
	 * is the /24: the recipient is what makes each child's triplet its
	 * own. */
	snprintf(sender, sizeof sender, "cc-%d-%ld@conncost.example", i,
		 (long)getpid());
	snprintf(rcpt, sizeof rcpt, "u%d-%ld@test.example", i,
		 (long)getpid());
	snprintf(ip, sizeof ip, "192.0.2.%d", 1 + i % 250);
	argv[0] = (uschar *)conf;
	argv[1] = (uschar *)ip;
	argv[2] = (uschar *)sender;
	argv[3] = (uschar *)rcpt;
	t[0] = cpu_ns();
	if (preloaded != NULL) {
		f = preloaded;
	} else {
		h = dlopen(module, RTLD_LAZY);
		if (h == NULL || (f = (dlfunc *)dlsym(h, "greylist")) == NULL) {
			fprintf(stderr, "gl-conncost: %s\n", dlerror());
			_exit(2);
		}
	}
	t[1] = cpu_ns();
	f(&yield, 4, argv);
	t[2] = cpu_ns();
	argv[3] = (uschar *)"other@test.example";
	f(&yield, 4, argv);
	t[3] = cpu_ns();
	if (yield == NULL || (strncmp((char *)yield, "defer", 5) != 0 &&
			      strncmp((char *)yield, "accept", 6) != 0))
		_exit(3);
	{
		long long d[3] = { t[1] - t[0], t[2] - t[1], t[3] - t[2] };

		if (write(fd, d, sizeof d) != (ssize_t)sizeof d)
			_exit(4);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	static long long load[NMAX], first[NMAX], next[NMAX], total[NMAX];
	int n = 200, ch, i, got = 0, p[2], daemon = 0;

	while ((ch = getopt(argc, argv, "n:g:d")) != -1) {
		switch (ch) {
		case 'd':
			daemon = 1;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'g':
			if (dlopen(optarg, RTLD_NOW | RTLD_GLOBAL) == NULL)
				fprintf(stderr, "gl-conncost: %s (ignored)\n",
					dlerror());
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || n < 1 || n > NMAX)
		goto usage;
	if (daemon) {
		void *h = dlopen(argv[optind], RTLD_LAZY);
		dlfunc *pre;
		uschar *args[1] = { (uschar *)argv[optind + 1] }, *y = NULL;

		if (h == NULL || (preloaded = (dlfunc *)dlsym(h, "greylist")) == NULL) {
			fprintf(stderr, "gl-conncost: %s\n", dlerror());
			return 1;
		}
		pre = (dlfunc *)dlsym(h, "greylist_preload");
		if (pre != NULL)
			pre(&y, 1, args);
	}
	for (i = 0; i < n; i++) {
		long long d[3];
		pid_t pid;
		int st;

		if (pipe(p) != 0)
			return 1;
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			close(p[0]);
			child(argv[optind], argv[optind + 1], i, p[1]);
		}
		close(p[1]);
		if (read(p[0], d, sizeof d) == (ssize_t)sizeof d) {
			load[got] = d[0] / 1000;
			first[got] = d[1] / 1000;
			next[got] = d[2] / 1000;
			total[got] = (d[0] + d[1] + d[2]) / 1000;
			got++;
		}
		close(p[0]);
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "gl-conncost: child %d failed (%d)\n",
				i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			return 1;
		}
	}
	printf("n=%d load_us=%lld load_p90_us=%lld first_us=%lld "
	       "first_p90_us=%lld next_us=%lld next_p90_us=%lld total_us=%lld\n",
	       got, pct(load, got, 50), pct(load, got, 90), pct(first, got, 50),
	       pct(first, got, 90), pct(next, got, 50), pct(next, got, 90),
	       pct(total, got, 50));
	return 0;
usage:
	fprintf(stderr, "usage: gl-conncost [-n N] [-g LIB]... [-d] MODULE CONF\n");
	return 2;
}
