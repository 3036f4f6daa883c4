/*
 * gl-load - SMTP load generator for "make bench".
 *
 *   gl-load -p PORT [-H 127.0.0.1] [-c CLIENTS] [-n COUNT] [-t SECONDS]
 *           [-r REPEAT_PERCENT] [-d DELAY_MS] [-1 | -m | -W] [-k MAX_RCPTS]
 *           [-K KNOWN] [-R FIRST_RETRY] [-M RETRIES] [-s SEED] [-o RAWFILE]
 *
 * CLIENTS threads send until COUNT is reached or SECONDS have passed,
 * whichever is first. The latency of a RCPT is from sending it to reading
 * its reply. Modes:
 *
 *   (default) each thread holds one SMTP connection and sends MAIL, RCPT,
 *      RSET; COUNT RCPTs in all. REPEAT_PERCENT of the RCPTs repeat a
 *      triplet the thread first sent at least DELAY_MS ago (so they pass
 *      a greylist with that delay); the others are new.
 *   -1 the same with one connection per RCPT.
 *   -m an MX's traffic: one connection per message (EHLO, MAIL, 1 to
 *      MAX_RCPTS RCPTs, QUIT; no DATA), COUNT messages in all. Of every
 *      ten messages six come from one-shot senders that never retry
 *      (sender mxo-...: new triplets), three from known senders whose
 *      triplets passed before (mxk-..., one of KNOWN messages, picked at
 *      random) and one is a retry after the delay (mxr-..., the messages
 *      FIRST_RETRY, FIRST_RETRY+1, ... in turn; the run ends when the
 *      RETRIES of them are used up). The names tell the benchmark's floor
 *      (gl-floor.c) the decision a greylister would make.
 *   -W the warm-up for -m, over persistent connections: the first attempt
 *      of the KNOWN known messages and of the retry messages FIRST_RETRY
 *      to FIRST_RETRY+RETRIES-1, then, DELAY_MS after the last of those,
 *      the known messages again (so they pass). Every message has all its
 *      RCPTs (1 + its number % 3).
 *
 * Prints one line:
 *   rcpts=N conns=N secs=S rps=R cps=R p50_us=A p99_us=B max_us=C
 *   accepted=X deferred=Y other=Z unexpected=U retries=E exhausted=0|1
 *   failed_clients=F
 * where unexpected counts the RCPTs a greylister would have answered
 * otherwise (a new triplet not deferred, a repeat, known triplet or retry
 * not accepted), and with -o writes every latency (us) to RAWFILE.
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 256
#define RING 4096
#define MAX_RCPTS 3   /* per message in -m and -W */
#define ADDR 64

enum mode { PERSISTENT, PER_RCPT, MX, WARM };
enum expect { EXPECT_DEFER, EXPECT_ACCEPT };

static const char *host = "127.0.0.1";
static int port, clients = 1, repeat_pct = 30, delay_ms = 1000;
static int max_rcpts = MAX_RCPTS;
static enum mode mode = PERSISTENT;
static long total = 1000, known = 1000, retry_first, retry_count;
static double max_secs = 30;
static unsigned seed = 1;
static atomic_long issued, accepted, deferred, other, unexpected, conns,
	retries_used;
static atomic_int exhausted;
static int64_t t_start;

/* -W: the messages of the current phase (next item, how many) */
static atomic_long warm_next;
static long warm_items;
static int warm_phase;

typedef struct worker {
	pthread_t th;
	int id;
	int64_t *lat;
	long nlat, cap;
	int fd;
	char buf[8192];
	size_t have;
	struct { char from[ADDR], to[ADDR]; int64_t at; } ring[RING];
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
	struct timeval limit = { 30, 0 };
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
	/* a server that stops answering fails the client, not the run */
	setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
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

/* Counts one RCPT's reply (and its latency since t0). */
static void record(worker *w, int code, enum expect want, int64_t t0)
{
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
	if (want == EXPECT_ACCEPT ? code != 250 : code / 100 != 4)
		atomic_fetch_add(&unexpected, 1);
}

/* MAIL FROM, then a RCPT for each of to[0..n-1]; -1 when the connection
 * failed. */
static int transaction(worker *w, const char *from, char (*to)[ADDR], int n,
		       enum expect want)
{
	char cmd[2 * ADDR];
	int j, code;
	int64_t t0;

	snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>\r\n", from);
	if (say(w, cmd) < 0 || reply(w) != 250)
		return -1;
	for (j = 0; j < n; j++) {
		snprintf(cmd, sizeof cmd, "RCPT TO:<%s>\r\n", to[j]);
		t0 = now_us();
		if (say(w, cmd) < 0 || (code = reply(w)) < 0)
			return -1;
		record(w, code, want, t0);
	}
	return 0;
}

/* Persistent connections (or -1: one per RCPT), with repeats. */
static void *run(void *arg)
{
	worker *w = arg;
	char from[ADDR], to[1][ADDR], l[16];
	int64_t deadline = t_start + (int64_t)(max_secs * 1e6);

	w->fd = -1;
	if (mode == PERSISTENT) {
		if (dial(w) < 0) {
			w->failed = 1;
			return NULL;
		}
		atomic_fetch_add(&conns, 1);
	}
	while (atomic_fetch_add(&issued, 1) < total && now_us() < deadline) {
		int rep = 0;

		if (w->rtail < w->rhead &&
		    (int)(rand_r(&w->rnd) % 100) < repeat_pct &&
		    now_us() - w->ring[w->rtail % RING].at >= (int64_t)delay_ms * 1000) {
			strcpy(from, w->ring[w->rtail % RING].from);
			strcpy(to[0], w->ring[w->rtail % RING].to);
			w->rtail++;
			rep = 1;
		} else {
			letters(w->seq++, l);
			snprintf(from, sizeof from, "s%s@l%ux%d.example", l,
				 seed, w->id);
			snprintf(to[0], sizeof to[0], "user%c@test.example",
				 'a' + (int)(w->seq % 20));
		}
		if (mode == PER_RCPT) {
			if (dial(w) < 0) {
				w->failed = 1;
				break;
			}
			atomic_fetch_add(&conns, 1);
		}
		if (transaction(w, from, to, 1,
				rep ? EXPECT_ACCEPT : EXPECT_DEFER) < 0) {
			w->failed = 1;
			break;
		}
		if (!rep && w->rhead - w->rtail < RING) {
			strcpy(w->ring[w->rhead % RING].from, from);
			strcpy(w->ring[w->rhead % RING].to, to[0]);
			w->ring[w->rhead % RING].at = now_us();
			w->rhead++;
		}
		if (mode == PER_RCPT) {
			hangup(w);
		} else if (say(w, "RSET\r\n") < 0 || reply(w) != 250) {
			w->failed = 1;
			break;
		}
	}
	hangup(w);
	return NULL;
}

/* The sender and recipients of message idx of class cls ('o' one-shot,
 * 'k' known, 'r' retry), at most cap RCPTs; returns their number. Known
 * and retry messages are the same in every run; one-shot ones are new. */
static int compose(worker *w, int cls, long idx, int cap, char *from,
		   char (*to)[ADDR])
{
	char l[16];
	long n;
	int j;

	letters(idx, l);
	if (cls == 'k') {
		snprintf(from, ADDR, "mxk-%s@known.example", l);
		n = 1 + idx % MAX_RCPTS;
	} else if (cls == 'r') {
		snprintf(from, ADDR, "mxr-%s@retry.example", l);
		n = 1 + idx % MAX_RCPTS;
	} else {
		snprintf(from, ADDR, "mxo-%s@o%ux%d.example", l, seed, w->id);
		n = 1 + (long)(rand_r(&w->rnd) % MAX_RCPTS);
	}
	if (n > cap)
		n = cap;
	for (j = 0; j < n; j++)
		snprintf(to[j], ADDR, "user%c@test.example",
			 'a' + (int)((idx + j) % 20));
	return (int)n;
}

/* -m: one connection per message, the MX's mix of senders. */
static void *run_mx(void *arg)
{
	worker *w = arg;
	char from[ADDR], to[MAX_RCPTS][ADDR];
	int64_t deadline = t_start + (int64_t)(max_secs * 1e6);

	w->fd = -1;
	for (;;) {
		long g = atomic_fetch_add(&issued, 1), idx;
		int cls = g % 10 < 6 ? 'o' : g % 10 < 9 ? 'k' : 'r', n;

		if (g >= total || now_us() >= deadline)
			break;
		if (cls == 'k') {
			idx = (long)(rand_r(&w->rnd) % (unsigned)known);
		} else if (cls == 'r') {
			idx = atomic_fetch_add(&retries_used, 1);
			if (idx >= retry_count) {
				atomic_store(&exhausted, 1);
				break;
			}
			idx += retry_first;
		} else {
			idx = w->seq++;
		}
		n = compose(w, cls, idx, max_rcpts, from, to);
		if (dial(w) < 0) {
			w->failed = 1;
			break;
		}
		atomic_fetch_add(&conns, 1);
		if (transaction(w, from, to, n, cls == 'o' ? EXPECT_DEFER :
				EXPECT_ACCEPT) < 0) {
			w->failed = 1;
			break;
		}
		hangup(w);
	}
	hangup(w);
	return NULL;
}

/* -W: one phase of the warm-up over a persistent connection. Phase 1:
 * first attempts of the known messages, then of the retry messages
 * (deferred); phase 2: the known messages again (accepted). */
static void *run_warm(void *arg)
{
	worker *w = arg;
	char from[ADDR], to[MAX_RCPTS][ADDR];
	long i;
	int n;

	w->fd = -1;
	if (dial(w) < 0) {
		w->failed = 1;
		return NULL;
	}
	atomic_fetch_add(&conns, 1);
	while ((i = atomic_fetch_add(&warm_next, 1)) < warm_items) {
		if (i < known)
			n = compose(w, 'k', i, MAX_RCPTS, from, to);
		else
			n = compose(w, 'r', retry_first + i - known, MAX_RCPTS,
				    from, to);
		if (transaction(w, from, to, n, warm_phase == 1 ?
				EXPECT_DEFER : EXPECT_ACCEPT) < 0 ||
		    say(w, "RSET\r\n") < 0 || reply(w) != 250) {
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

/* Starts the clients on fn and waits for them; returns how many failed. */
static int run_clients(worker *w, void *(*fn)(void *))
{
	int c, failed = 0;

	for (c = 0; c < clients; c++) {
		w[c].id = c;
		w[c].rnd = seed * 7919u + (unsigned)c;
		w[c].failed = 0;
		if (pthread_create(&w[c].th, NULL, fn, &w[c]) != 0) {
			fprintf(stderr, "gl-load: cannot start a thread\n");
			exit(1);
		}
	}
	for (c = 0; c < clients; c++) {
		pthread_join(w[c].th, NULL);
		failed += w[c].failed;
	}
	return failed;
}

int main(int argc, char **argv)
{
	static worker w[MAX_CLIENTS];
	const char *raw = NULL;
	int64_t *all, t_end, secs_us;
	long n = 0, i;
	int ch, c, failed = 0;

	while ((ch = getopt(argc, argv, "H:p:c:n:t:r:d:1mWk:K:R:M:s:o:")) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 'n': total = atol(optarg); break;
		case 't': max_secs = atof(optarg); break;
		case 'r': repeat_pct = atoi(optarg); break;
		case 'd': delay_ms = atoi(optarg); break;
		case '1': mode = PER_RCPT; break;
		case 'm': mode = MX; break;
		case 'W': mode = WARM; break;
		case 'k': max_rcpts = atoi(optarg); break;
		case 'K': known = atol(optarg); break;
		case 'R': retry_first = atol(optarg); break;
		case 'M': retry_count = atol(optarg); break;
		case 's': seed = (unsigned)atoi(optarg); break;
		case 'o': raw = optarg; break;
		default:
			fprintf(stderr, "usage: gl-load -p PORT [-c N] [-n N] [-t S] "
				"[-r PCT] [-d MS] [-1 | -m | -W] [-k N] [-K N] "
				"[-R N] [-M N] [-s SEED] [-o FILE]\n");
			return 2;
		}
	}
	if (port <= 0 || clients < 1 || clients > MAX_CLIENTS || total < 1 ||
	    max_secs <= 0 || max_secs > 3600 || max_rcpts < 1 ||
	    max_rcpts > MAX_RCPTS || known < 1 || known > 100000000 ||
	    retry_first < 0 || retry_count < 0 || retry_count > 100000000 ||
	    delay_ms < 0 || delay_ms > 600000) {
		fprintf(stderr, "gl-load: bad arguments\n");
		return 2;
	}
	t_start = now_us();
	if (mode == WARM) {
		warm_phase = 1;
		warm_items = known + retry_count;
		failed = run_clients(w, run_warm);
		secs_us = now_us() + (int64_t)delay_ms * 1000;
		while (now_us() < secs_us)
			usleep(10000);
		warm_phase = 2;
		warm_items = known;
		atomic_store(&warm_next, 0);
		failed += run_clients(w, run_warm);
	} else {
		failed = run_clients(w, mode == MX ? run_mx : run);
	}
	t_end = now_us();
	if (retries_used > retry_count) /* the tries that found none left */
		retries_used = retry_count;
	for (c = 0; c < clients; c++)
		n += w[c].nlat;
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
	secs_us = t_end - t_start > 0 ? t_end - t_start : 1;
	printf("rcpts=%ld conns=%ld secs=%.3f rps=%.0f cps=%.0f p50_us=%lld "
	       "p99_us=%lld max_us=%lld accepted=%ld deferred=%ld other=%ld "
	       "unexpected=%ld retries=%ld exhausted=%d failed_clients=%d\n",
	       n, (long)conns, secs_us / 1e6, n / (secs_us / 1e6),
	       (long)conns / (secs_us / 1e6),
	       n ? (long long)all[(n - 1) / 2] : 0,
	       n ? (long long)all[(n * 99 + 99) / 100 - 1] : 0,
	       n ? (long long)all[n - 1] : 0, (long)accepted, (long)deferred,
	       (long)other, (long)unexpected, (long)retries_used,
	       (int)exhausted, failed);
	free(all);
	return failed ? 1 : 0;
}
