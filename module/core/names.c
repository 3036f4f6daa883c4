/* names.c - verified host names: pool or not (see names.h). */
#include "names.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "psl.h"

/* Each is a whole run of letters in a label ("dsl" in "dsl-203-0-113-9",
 * "hsd" in "hsd1"); the README and greylist.conf(5) list them. */
const char *const gl_dynamic_markers[] = {
	"dyn", "dynamic", "dynip", "dhcp", "pool", "dsl", "adsl", "vdsl",
	"xdsl", "sdsl", "cable", "hfc", "ftth", "fios", "ppp", "pppoe",
	"dial", "dialup", "dialin", "client", "clients", "broadband", "bb",
	"cust", "customer", "customers", "res", "resi", "residential", "home",
	"user", "users", "cpe", "hsd", "dip", "mobile", "wireless", "wlan",
	"lte", "nat", "static", "unassigned", "unknown", NULL
};

const char *gl_name_dynamic_marker(const char *s, size_t n)
{
	size_t i = 0, j, k;

	while (i < n) {
		if (s[i] < 'a' || s[i] > 'z') {
			i++;
			continue;
		}
		for (j = i; j < n && s[j] >= 'a' && s[j] <= 'z'; j++)
			;
		for (k = 0; gl_dynamic_markers[k] != NULL; k++)
			if (strlen(gl_dynamic_markers[k]) == j - i &&
			    !memcmp(gl_dynamic_markers[k], s + i, j - i))
				return gl_dynamic_markers[k];
		i = j;
	}
	return NULL;
}

#define TOKENS_MAX 64

typedef struct token {
	uint64_t v;     /* its value (capped: longer runs never compare) */
	size_t len;
} token;

static int digit_of(char c, int hex)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (hex && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The runs of decimal (or hex) digits in s[0..n), in order; at most
 * TOKENS_MAX, and runs of more than 12 digits have len 0. */
static size_t tokens(const char *s, size_t n, int hex, token *t)
{
	size_t i = 0, nt = 0;

	while (i < n && nt < TOKENS_MAX) {
		if (digit_of(s[i], hex) < 0) {
			i++;
			continue;
		}
		t[nt].v = 0;
		t[nt].len = 0;
		for (; i < n && digit_of(s[i], hex) >= 0; i++) {
			if (t[nt].len++ < 12) /* 16^12 fits: no overflow */
				t[nt].v = t[nt].v * (hex ? 16 : 10) +
					  (uint64_t)digit_of(s[i], hex);
		}
		if (t[nt].len > 12)
			t[nt].len = 0;
		nt++;
	}
	return nt;
}

/* 1 when want[0..k) appears as k consecutive tokens of at most maxlen
 * digits each, forward (dir 1) or reversed (dir -1). */
static int run_of(const token *t, size_t nt, const uint64_t *want, size_t k,
		  size_t maxlen, int dir)
{
	size_t i, j;

	for (i = 0; i + k <= nt; i++) {
		for (j = 0; j < k; j++) {
			const token *x = &t[i + j];
			uint64_t w = want[dir > 0 ? j : k - 1 - j];

			if (x->len == 0 || x->len > maxlen || x->v != w)
				break;
		}
		if (j == k)
			return 1;
	}
	return 0;
}

/* 1 when pat occurs in s[0..n) with no hex digit just before or after. */
static int has_hex(const char *s, size_t n, const char *pat)
{
	size_t m = strlen(pat), i;

	for (i = 0; i + m <= n; i++)
		if (!memcmp(s + i, pat, m) &&
		    (i == 0 || digit_of(s[i - 1], 1) < 0) &&
		    (i + m == n || digit_of(s[i + m], 1) < 0))
			return 1;
	return 0;
}

static const char *v4_form(const char *s, size_t n, const uint8_t *o)
{
	token t[TOKENS_MAX];
	size_t nt = tokens(s, n, 0, t), i;
	uint64_t q[4], whole = 0, padded = 0;
	char hex[16];

	for (i = 0; i < 4; i++) {
		q[i] = o[i];
		whole = whole * 256 + o[i];
		padded = padded * 1000 + o[i];
	}
	if (run_of(t, nt, q, 4, 3, 1))
		return "its octets";
	if (run_of(t, nt, q, 4, 3, -1))
		return "its octets reversed";
	if (run_of(t, nt, q + 1, 3, 3, 1) || run_of(t, nt, q + 1, 3, 3, -1))
		return "three of its octets";
	for (i = 0; i < nt; i++) {
		if (t[i].len == 12 && t[i].v == padded)
			return "its zero-padded octets";
		if (t[i].len >= 1 && t[i].len <= 10 && t[i].v == whole &&
		    whole > 0xffffff)
			return "its address as one decimal number";
	}
	snprintf(hex, sizeof hex, "%08llx", (unsigned long long)whole);
	if (has_hex(s, n, hex))
		return "its address in hex";
	return NULL;
}

static const char *v6_form(const char *s, size_t n, const uint8_t *a)
{
	token t[TOKENS_MAX];
	size_t nt = tokens(s, n, 1, t), i, m = 0;
	uint64_t g[8];
	char fwd[33], rev[33], compact[GL_DNS_NAME_MAX + 1];
	static const char x[] = "0123456789abcdef";

	for (i = 0; i < 8; i++)
		g[i] = (uint64_t)a[2 * i] << 8 | a[2 * i + 1];
	if (run_of(t, nt, g, 8, 4, 1))
		return "its groups";
	if (run_of(t, nt, g + 4, 4, 4, 1))
		return "its last four groups";
	for (i = 0; i < 16; i++) {
		fwd[2 * i] = x[a[i] >> 4];
		fwd[2 * i + 1] = x[a[i] & 15];
	}
	fwd[32] = '\0';
	for (i = 0; i < 32; i++)
		rev[i] = fwd[31 - i];
	rev[32] = '\0';
	/* nibbles are written with or without separators between them */
	for (i = 0; i < n && m < GL_DNS_NAME_MAX; i++)
		if (s[i] != '.' && s[i] != '-' && s[i] != '_')
			compact[m++] = s[i];
	compact[m] = '\0';
	if (strstr(compact, fwd) != NULL)
		return "its nibbles";
	if (strstr(compact, rev) != NULL)
		return "its nibbles reversed";
	return NULL;
}

const char *gl_name_address_form(const char *s, size_t n, const CIDR *ip)
{
	if (ip->proto == CIDR_IPV4)
		return v4_form(s, n, ip->addr + 12);
	if (ip->proto == CIDR_IPV6)
		return v6_form(s, n, ip->addr);
	return NULL;
}

/* A name fit to look at: letters, digits, '-', '_' in labels of 1 to
 * 63 bytes separated by single dots. */
static int usable(const char *h)
{
	size_t n = strlen(h), label = 0, i;

	if (!gl_valid_name(h, GL_DNS_NAME_MAX))
		return 0;
	for (i = 0; i <= n; i++) {
		if (h[i] == '.' || h[i] == '\0') {
			if (label == 0 || label > 63)
				return 0;
			label = 0;
		} else {
			label++;
		}
	}
	return 1;
}

int gl_host_pool(const CIDR *ip, const char *host, char *pool, size_t poolsz,
		 char *why, size_t whysz)
{
	char name[GL_DNS_NAME_MAX + 1], p[80];
	const char *reg, *form, *mark, *last, *before, *q;
	gl_err err;
	size_t hn;

	*pool = '\0';
	if (!usable(host)) {
		snprintf(why, whysz, "the host name '%s' is not a usable DNS "
			 "name", gl_printable(p, sizeof p, host));
		return 0;
	}
	memcpy(name, host, strlen(host) + 1);
	gl_lower(name);
	/* Two labels are a registered domain or a public suffix whatever
	 * the list says (its default rule makes every TLD a suffix). */
	last = strrchr(name, '.');
	for (q = name, before = NULL; last != NULL && q < last; q++)
		if (*q == '.')
			before = q; /* the dot before the last two labels */
	if (before == NULL) {
		snprintf(why, whysz, "%s has two labels: a registered domain "
			 "or a public suffix itself, never a pool", name);
		return 0;
	}
	/* The address, looked for before the list is needed (most generic
	 * names carry it): in all but the last two labels, which hold at
	 * least the registered domain's first label and the suffix. */
	form = gl_name_address_form(name, (size_t)(before - name), ip);
	if (form != NULL) {
		snprintf(why, whysz, "%s carries the client's address (%s): a "
			 "generic name", name, form);
		return 0;
	}
	if (gl_psl_registered(name, &reg, &err) < 0) {
		snprintf(why, whysz, "%s", err.msg);
		return 0;
	}
	if (reg != NULL && (reg < name || reg >= name + strlen(name) ||
			    (reg > name && reg[-1] != '.'))) {
		/* libpsl answers with a tail of name; anything else is not
		 * trusted */
		snprintf(why, whysz, "%s: the public suffix list gave no "
			 "usable answer", name);
		return 0;
	}
	if (reg == NULL || reg == name) {
		snprintf(why, whysz, "%s is %s itself: it may name one "
			 "sender, never a pool", name, reg == NULL ?
			 "a public suffix" : "a registered domain");
		return 0;
	}
	hn = (size_t)(reg - name) - 1; /* the labels left of it */
	mark = gl_name_dynamic_marker(name, hn);
	if (mark != NULL) {
		snprintf(why, whysz, "%s has '%s', which marks a dynamic or "
			 "residential pool: a generic name", name, mark);
		return 0;
	}
	/* Less its first label; reg is at least one label further on. */
	if (gl_copy(pool, poolsz, strchr(name, '.') + 1) < 0) {
		*pool = '\0';
		snprintf(why, whysz, "%s: too long for a key", name);
		return 0;
	}
	*why = '\0';
	return 1;
}
