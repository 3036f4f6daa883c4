/* addr.c - strict parsing, masking and printing of client addresses. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Sets the prefix length of c (already an address of its family). */
static void set_prefix(CIDR *c, int len)
{
	int i, bits = len;

	if (c->proto == CIDR_IPV4) {
		memset(c->mask, 0xff, 12);
		i = 12;
	} else {
		i = 0;
	}
	for (; i < 16; i++) {
		if (bits >= 8) {
			c->mask[i] = 0xff;
			bits -= 8;
		} else {
			c->mask[i] = (uint8_t)(0xff << (8 - bits));
			bits = 0;
		}
	}
	for (i = 0; i < 16; i++)
		c->addr[i] &= c->mask[i];
}

static int from_text(const char *s, CIDR *out)
{
	struct in_addr a4;
	struct in6_addr a6;
	CIDR *c = NULL;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		c = cidr_from_inaddr(&a4);
	} else if (inet_pton(AF_INET6, s, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], 4);
			c = cidr_from_inaddr(&a4);
		} else {
			c = cidr_from_in6addr(&a6);
		}
	} else {
		return -1;
	}
	if (c == NULL)
		return -1;
	*out = *c;
	cidr_free(c);
	return 0;
}

int gl_ip_parse(const char *s, CIDR *ip_r, gl_err *err)
{
	char p[64];
	CIDR ip;

	if (s == NULL || *s == '\0')
		return gl_fail(err, "empty client address");
	if (strlen(s) > 45 || from_text(s, &ip) < 0)
		return gl_fail(err, "'%s' is not an IP address",
			       gl_printable(p, sizeof p, s));
	*ip_r = ip;
	return 0;
}

int gl_net_parse(const char *s, CIDR *net_r, gl_err *err)
{
	char buf[64], p[80];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long len;
	char *end;
	CIDR net;

	if (n == 0 || n >= sizeof buf)
		goto bad;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (from_text(buf, &net) < 0)
		goto bad;
	len = net.proto == CIDR_IPV4 ? 32 : 128;
	if (slash != NULL) {
		long max = len;

		if (!isdigit((unsigned char)slash[1]))
			goto bad;
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0' || len > (strchr(buf, ':') ? 128 : max))
			goto bad;
		/* A mapped network "::ffff:a.b.c.d/LEN" becomes IPv4. */
		if (strchr(buf, ':') && net.proto == CIDR_IPV4) {
			if (len < 96)
				goto bad;
			len -= 96;
		}
	}
	set_prefix(&net, (int)len);
	*net_r = net;
	return 0;
bad:
	return gl_fail(err, "'%s' is not an address or CIDR block",
		       gl_printable(p, sizeof p, s));
}

int gl_ip_subnet(const CIDR *ip, int v4_prefix, int v6_prefix, char *out,
		 size_t outsz, gl_err *err)
{
	CIDR c = *ip;
	char *s;
	int rc;

	set_prefix(&c, c.proto == CIDR_IPV4 ? v4_prefix : v6_prefix);
	s = cidr_to_str(&c, CIDR_NOFLAGS);
	if (s == NULL)
		return gl_fail(err, "cannot print a client network");
	rc = gl_copy(out, outsz, s);
	free(s);
	if (rc < 0)
		return gl_fail(err, "client network too long");
	return 0;
}

int gl_net_contains(const CIDR *net, const CIDR *ip)
{
	return net->proto == ip->proto && cidr_contains(net, ip) == 0;
}

void gl_addr_bind(void)
{
	static const char *const addrs[] = {
		"192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"
	};
	char out[64];
	CIDR ip, net;
	gl_err err;
	size_t i;

	for (i = 0; i < sizeof addrs / sizeof *addrs; i++) {
		if (gl_ip_parse(addrs[i], &ip, &err) < 0 ||
		    gl_net_parse(addrs[i], &net, &err) < 0)
			continue;
		if (gl_ip_subnet(&ip, 24, 64, out, sizeof out, &err) < 0)
			continue;
		(void)gl_net_contains(&net, &ip);
		(void)cidr_equals(&net, &ip);
	}
}
