/*
 * gl-load - SMTP load generator for "make bench".
 *
 *   gl-load -p PORT [-H 127.0.0.1] [-c CLIENTS] [-n RCPTS] [-t SECONDS]
 *           [-r REPEAT_PERCENT] [-d DELAY_MS] [-1] [-s SEED] [-o RAWFILE]
 *
 * CLIENTS threads each hold one SMTP connection (or, with -1, open one
 * connection per RCPT) and send MAIL, RCPT, RSET until RCPTS in all are
 * answered or SECONDS have passed, whichever is first. REPEAT_PERCENT of
 * the RCPTs repeat a triplet first sent at least DELAY_MS ago (so they
 * pass a greylist with that delay); the others are new. The latency of a
 * RCPT is from sending it to reading its reply. Prints one line:
 *   rcpts=N secs=S rps=R p50_us=A p99_us=B max_us=C accepted=X deferred=Y other=Z
 * and with -o writes every latency (us) to RAWFILE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 256
#define RING 4096

static const char *host = "127.0.0.1";
static int port, clients = 1, per_rcpt, repeat_pct = 30, delay_ms = 1000;
static long total = 1000;
static double max_secs = 30;
static unsigned seed = 1;
static atomic_long issued, accepted, deferred, other;
static int64_t t_start;

typedef struct worker {
	pthread_t th;
	int id;
	int64_t *lat;
	long nlat, cap;
	int fd;
	char buf[8192];
	size_t have;
	struct { char from[64], to[64]; int64_t at; } ring[RING];
	long rhead, rtail; /* ring of sent new triplets */
	unsigned rnd;
	long seq;
	int failed;
} worker;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Reads one whole SMTP reply; returns its code or -1. */
static int reply(worker *w)
{
	for (;;) {
		char *nl;

		while ((nl = memchr(w->buf, '\n', w->have)) != NULL) {
			size_t len = (size_t)(nl - w->buf) + 1;
			int code = -1, last = 0;

			if (len >= 4) {
				code = atoi(w->buf);
				last = w->buf[3] == ' ';
			}
			memmove(w->buf, w->buf + len, w->have - len);
			w->have -= len;
			if (last || len < 4)
				return code;
		}
		if (w->have == sizeof w->buf)
			return -1;
		ssize_t n = read(w->fd, w->buf + w->have, sizeof w->buf - w->have);
		if (n <= 0)
			return -1;
		w->have += (size_t)n;
	}
}

static int say(worker *w, const char *s)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = write(w->fd, s + off, len - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int dial(worker *w)
{
	struct sockaddr_in sa;
	int one = 1;

	w->have = 0;
	w->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (w->fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(w->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -1;
	setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (reply(w) != 220 || say(w, "EHLO load.example\r\n") < 0 ||
	    reply(w) != 250)
		return -1;
	return 0;
}

/* QUIT without waiting for the 221: Exim's reply to QUIT can sit ~200 ms
 * behind Nagle and a delayed ACK, which would time TCP, not Exim. */
static void hangup(worker *w)
{
	if (w->fd >= 0) {
		(void)say(w, "QUIT\r\n");
		close(w->fd);
	}
	w->fd = -1;
}

/* letters for a number: senders must not fold together (VERP digits) */
static void letters(long n, char *out)
{
	int i = 0;

	do {
		out[i++] = (char)('a' + n % 26);
		n /= 26;
	} while (n > 0 && i < 12);
	out[i] = '\0';
}

static void *run(void *arg)
{
	worker *w = arg;
	char from[64], to[64], cmd[200], l[16];
	int64_t t0, deadline = t_start + (int64_t)(max_secs * 1e6);

	w->fd = -1;
	if (!per_rcpt && dial(w) < 0) {
		w->failed = 1;
		return NULL;
	}
	while (atomic_fetch_add(&issued, 1) < total && now_us() < deadline) {
		int code, rep = 0;

		if (w->rtail < w->rhead &&
		    (int)(rand_r(&w->rnd) % 100) < repeat_pct &&
		    now_us() - w->ring[w->rtail % RING].at >= (int64_t)delay_ms * 1000) {
			strcpy(from, w->ring[w->rtail % RING].from);
			strcpy(to, w->ring[w->rtail % RING].to);
			w->rtail++;
			rep = 1;
		} else {
			letters(w->seq++, l);
			snprintf(from, sizeof from, "s%s@l%ux%d.example", l,
				 seed, w->id);
			snprintf(to, sizeof to, "user%c@test.example",
				 'a' + (int)(w->seq % 20));
		}
		if (per_rcpt && dial(w) < 0) {
			w->failed = 1;
			break;
		}
		snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>\r\n", from);
		if (say(w, cmd) < 0 || reply(w) != 250) {
			w->failed = 1;
			break;
		}
		snprintf(cmd, sizeof cmd, "RCPT TO:<%s>\r\n", to);
		t0 = now_us();
		if (say(w, cmd) < 0 || (code = reply(w)) < 0) {
			w->failed = 1;
			break;
		}
		if (w->nlat == w->cap) {
			w->cap = w->cap * 2 + 4096;
			w->lat = realloc(w->lat, (size_t)w->cap * sizeof *w->lat);
			if (w->lat == NULL)
				abort();
		}
		w->lat[w->nlat++] = now_us() - t0;
		if (code == 250)
			atomic_fetch_add(&accepted, 1);
		else if (code / 100 == 4)
			atomic_fetch_add(&deferred, 1);
		else
			atomic_fetch_add(&other, 1);
		if (!rep && w->rhead - w->rtail < RING) {
			strcpy(w->ring[w->rhead % RING].from, from);
			strcpy(w->ring[w->rhead % RING].to, to);
			w->ring[w->rhead % RING].at = now_us();
			w->rhead++;
		}
		if (per_rcpt) {
			hangup(w);
		} else if (say(w, "RSET\r\n") < 0 || reply(w) != 250) {
			w->failed = 1;
			break;
		}
	}
	hangup(w);
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static worker w[MAX_CLIENTS];
	const char *raw = NULL;
	int64_t *all, t_end;
	long n = 0, i;
	int ch, c, failed = 0;

	while ((ch = getopt(argc, argv, "H:p:c:n:t:r:d:1s:o:")) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 'n': total = atol(optarg); break;
		case 't': max_secs = atof(optarg); break;
		case 'r': repeat_pct = atoi(optarg); break;
		case 'd': delay_ms = atoi(optarg); break;
		case '1': per_rcpt = 1; break;
		case 's': seed = (unsigned)atoi(optarg); break;
		case 'o': raw = optarg; break;
		default:
			fprintf(stderr, "usage: gl-load -p PORT [-c N] [-n N] [-t S] "
				"[-r PCT] [-d MS] [-1] [-s SEED] [-o FILE]\n");
			return 2;
		}
	}
	if (port <= 0 || clients < 1 || clients > MAX_CLIENTS || total < 1 ||
	    max_secs <= 0 || max_secs > 3600) {
		fprintf(stderr, "gl-load: bad arguments\n");
		return 2;
	}
	t_start = now_us();
	for (c = 0; c < clients; c++) {
		w[c].id = c;
		w[c].rnd = seed * 7919u + (unsigned)c;
		pthread_create(&w[c].th, NULL, run, &w[c]);
	}
	for (c = 0; c < clients; c++) {
		pthread_join(w[c].th, NULL);
		n += w[c].nlat;
		failed += w[c].failed;
	}
	t_end = now_us();
	all = malloc((size_t)(n + 1) * sizeof *all);
	if (all == NULL)
		return 1;
	for (c = 0, i = 0; c < clients; c++) {
		memcpy(all + i, w[c].lat, (size_t)w[c].nlat * sizeof *all);
		i += w[c].nlat;
		free(w[c].lat);
	}
	qsort(all, (size_t)n, sizeof *all, cmp64);
	if (raw != NULL) {
		FILE *fp = fopen(raw, "w");

		for (i = 0; fp != NULL && i < n; i++)
			fprintf(fp, "%lld\n", (long long)all[i]);
		if (fp != NULL)
			fclose(fp);
	}
	printf("rcpts=%ld secs=%.3f rps=%.0f p50_us=%lld p99_us=%lld max_us=%lld "
	       "accepted=%ld deferred=%ld other=%ld failed_clients=%d\n", n,
	       (t_end - t_start) / 1e6, n / ((t_end - t_start) / 1e6),
	       n ? (long long)all[(n - 1) / 2] : 0,
	       n ? (long long)all[(n * 99 + 99) / 100 - 1] : 0,
	       n ? (long long)all[n - 1] : 0, (long)accepted, (long)deferred,
	       (long)other, failed);
	free(all);
	return failed ? 1 : 0;
}
