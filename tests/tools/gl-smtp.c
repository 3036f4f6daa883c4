/*
 * gl-smtp - test helper: one SMTP attempt of a sender whose RCPT must
 * reach the server at a given moment (tests/latency/replay.sh). It
 * connects from SOURCE to 127.0.0.1:PORT, says EHLO and MAIL FROM, waits
 * until AT (seconds since the epoch, fractions allowed; 0: at once),
 * sends RCPT TO and QUIT, and prints one line:
 *
 *   SENT REPLIED LINE
 *
 * SENT and REPLIED: when RCPT was sent and its reply read (seconds since
 * the epoch, to the microsecond); LINE: the reply's last line. Started
 * ahead of AT, the client's own start-up, the connection and Exim's
 * work before RCPT do not delay the RCPT. Every read waits 30 s at most.
 *
 *   gl-smtp PORT SOURCE HELO SENDER RECIPIENT AT
 *
 * Exit: 0 with the line printed; 1 (a line on stderr) when the dialogue
 * failed before the reply to RCPT; 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int fd = -1;
static char buf[4096];
static size_t have;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads one reply (all its lines); its last line into line_r. 0 or -1. */
static int reply(char *line_r, size_t size)
{
	for (;;) {
		char *nl = memchr(buf, '\n', have);

		if (nl != NULL) {
			size_t len = (size_t)(nl - buf) + 1;
			int last = len >= 4 && buf[3] == ' ';

			if (last) {
				size_t n = len - 1;

				if (n > 0 && buf[n - 1] == '\r')
					n--;
				if (n >= size)
					n = size - 1;
				memcpy(line_r, buf, n);
				line_r[n] = '\0';
			}
			memmove(buf, buf + len, have - len);
			have -= len;
			if (last)
				return 0;
			continue;
		}
		if (have == sizeof buf)
			return -1;
		ssize_t r = read(fd, buf + have, sizeof buf - have);

		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
}

/* Sends WORDS ARG ARG2 and CRLF. */
static int say(const char *words, const char *arg, const char *arg2)
{
	char out[600];
	int n = snprintf(out, sizeof out, "%s%s%s\r\n", words, arg, arg2);

	if (n < 0 || (size_t)n >= sizeof out)
		return -1;
	return write(fd, out, (size_t)n) == n ? 0 : -1;
}

/* One command (none: the banner) and its reply, which must start with 2. */
static int step(const char *words, const char *arg, const char *arg2, const char *what)
{
	char line[512];

	if ((words != NULL && say(words, arg, arg2) < 0) || reply(line, sizeof line) < 0) {
		fprintf(stderr, "gl-smtp: %s: no reply\n", what);
		return -1;
	}
	if (line[0] != '2') {
		fprintf(stderr, "gl-smtp: %s: %s\n", what, line);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in src, dst;
	struct timeval tv = { 30, 0 };
	char line[512], *end;
	long port;
	double at, sent, replied;

	if (argc != 7) {
		fprintf(stderr, "usage: gl-smtp PORT SOURCE HELO SENDER RECIPIENT AT\n");
		return 2;
	}
	port = strtol(argv[1], &end, 10);
	at = strtod(argv[6], NULL);
	memset(&src, 0, sizeof src);
	memset(&dst, 0, sizeof dst);
	src.sin_family = dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (*end != '\0' || port < 1 || port > 65535 ||
	    inet_pton(AF_INET, argv[2], &src.sin_addr) != 1 ||
	    strlen(argv[3]) > 255 || strlen(argv[4]) > 255 || strlen(argv[5]) > 255) {
		fprintf(stderr, "usage: gl-smtp PORT SOURCE HELO SENDER RECIPIENT AT\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
		fprintf(stderr, "gl-smtp: connect from %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (step(NULL, NULL, NULL, "banner") < 0 || step("EHLO ", argv[3], "", "EHLO") < 0 ||
	    step("MAIL FROM:<", argv[4], ">", "MAIL") < 0)
		return 1;
	if (at > 0) {
		struct timespec ts;

		ts.tv_sec = (time_t)at;
		ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
		if (ts.tv_nsec < 0 || ts.tv_nsec > 999999999)
			ts.tv_nsec = 0;
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	sent = now();
	if (say("RCPT TO:<", argv[5], ">") < 0 || reply(line, sizeof line) < 0) {
		fprintf(stderr, "gl-smtp: RCPT: no reply\n");
		return 1;
	}
	replied = now();
	(void)say("QUIT", "", "");
	printf("%.6f %.6f %s\n", sent, replied, line);
	return 0;
}
