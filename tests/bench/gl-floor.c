/*
 * gl-floor.c - the floor of "make bench": what any greylister called from
 * Exim's RCPT ACL can reach. Exim loads it through the module's own
 * snippet, under the same name and with the same arguments:
 *
 *   ${dlfunc{gl-floor.so}{greylist}{CONF}{IP}{SENDER}{RCPT}[{name=value}...]}
 *
 * and it yields what the module would ("defer N new", "defer N early",
 * "accept pass", "accept known") for a delay of FLOOR_DELAY seconds. Its
 * table of triplets (client /24, sender, recipient) lives in the Exim
 * process's own memory: no file, no lock, no system call (time() is read
 * from the vDSO), no configuration read. What it costs is what is left of
 * greylisting once the store costs nothing: Exim's ACL, the call, the 451
 * and its log line.
 *
 * Like the module as greylist-setup-exim4 installs it, it is loaded once,
 * in the Exim daemon, by the smtp_accept_max_per_host line (its
 * greylist_preload does nothing else), so that connection processes
 * inherit it loaded: its figures then hold what any greylister in Exim
 * can reach, not the price of loading a library in every connection.
 *
 * Exim forks a process per SMTP connection, so the table remembers only
 * within one connection (enough for gl-load's persistent connections).
 * For traffic with one connection per message (gl-load -m) it decides
 * from the names gl-load gives its senders instead: a local part starting
 * "mxk-" is a known sender whose triplets passed long ago ("accept
 * known"), "mxr-" a retry after the delay ("accept pass"); any other
 * triplet the table has not seen is new ("defer N new"). So it makes the
 * decisions a greylister would make for that traffic, without any
 * storage. It is a benchmark fixture, not a greylister: it never expires
 * anything and forgets triplets when its table is full.
 */
#define DLFUNC_IMPL
#include <local_scan.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FLOOR_DELAY 1        /* seconds: bench.sh's GL_DELAY */
#define SLOTS (1u << 17)     /* a power of two */
#define PROBES 16            /* slots looked at per triplet, at most */
#define FIELD_MAX 512        /* bytes of an argument hashed, at most */

struct slot {
	uint64_t key;        /* 0: empty */
	int64_t first_seen;
	int passed;
};

static struct slot table[SLOTS];

/* FNV-1a over at most n bytes of s, letters folded to lower case, then a
 * separator so that ("ab", "c") and ("a", "bc") differ. */
static uint64_t mix(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < FIELD_MAX && s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h = (h ^ ch) * 1099511628211u;
	}
	return (h ^ 0xffu) * 1099511628211u;
}

/* The client's network: an IPv4 address up to its last dot (its /24),
 * anything else whole. */
static size_t client_len(const char *ip)
{
	const char *dot = strrchr(ip, '.');

	return dot != NULL && strchr(ip, ':') == NULL ? (size_t)(dot - ip) :
	       strlen(ip);
}

/* The slot for key: its own, else the first empty one within PROBES,
 * else (table full there) the home slot, taken over. */
static struct slot *find(uint64_t key, int *found)
{
	uint32_t home = (uint32_t)(key ^ (key >> 32)) & (SLOTS - 1), i;

	for (i = 0; i < PROBES; i++) {
		struct slot *s = &table[(home + i) & (SLOTS - 1)];

		if (s->key == key) {
			*found = 1;
			return s;
		}
		if (s->key == 0) {
			*found = 0;
			return s;
		}
	}
	*found = 0;
	return &table[home];
}

/* What the traffic's naming says of a triplet the table has not seen:
 * 'k' known, 'r' retry, 0 nothing. */
static int hint(const char *sender)
{
	if (strncmp(sender, "mxk-", 4) == 0)
		return 'k';
	if (strncmp(sender, "mxr-", 4) == 0)
		return 'r';
	return 0;
}

/* ${dlfunc{gl-floor.so}{greylist_preload}{CONF}}: yields "". */
__attribute__((visibility("default")))
int greylist_preload(uschar **yield, int argc, uschar *argv[])
{
	(void)argc, (void)argv;
	*yield = string_copy((uschar *)"");
	return OK;
}

__attribute__((visibility("default")))
int greylist(uschar **yield, int argc, uschar *argv[])
{
	static char out[32];
	const char *ip, *sender, *rcpt;
	struct slot *s;
	uint64_t key;
	int64_t now;
	int found;

	if (argc < 4 || argv[1] == NULL || argv[2] == NULL || argv[3] == NULL) {
		*yield = (uschar *)"accept error";
		return OK;
	}
	ip = (const char *)argv[1];
	sender = (const char *)argv[2];
	rcpt = (const char *)argv[3];
	key = mix(14695981039346656037u, ip, client_len(ip));
	key = mix(key, sender, strlen(sender));
	key = mix(key, rcpt, strlen(rcpt));
	if (key == 0)
		key = 1;
	now = (int64_t)time(NULL);
	s = find(key, &found);
	if (found && s->passed) {
		*yield = (uschar *)"accept known";
	} else if (found && now - s->first_seen >= FLOOR_DELAY) {
		s->passed = 1;
		*yield = (uschar *)"accept pass";
	} else if (found) {
		snprintf(out, sizeof out, "defer %d early",
			 (int)(FLOOR_DELAY - (now - s->first_seen)));
		*yield = (uschar *)out;
	} else {
		int h = hint(sender);

		s->key = key;
		s->first_seen = now;
		s->passed = h != 0;
		if (h == 'k') {
			*yield = (uschar *)"accept known";
		} else if (h == 'r') {
			*yield = (uschar *)"accept pass";
		} else {
			snprintf(out, sizeof out, "defer %d new", FLOOR_DELAY);
			*yield = (uschar *)out;
		}
	}
	return OK;
}
