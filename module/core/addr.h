/*
 * addr.h - client addresses, through libcidr.
 *
 * Addresses are parsed strictly (inet_pton: no octal, no short forms, no
 * zone ids) and an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is turned into
 * its IPv4 address, so a client is the same whichever way Exim shows it.
 * Results are written into caller-owned CIDR structs and buffers; nothing
 * is kept. On error the functions return -1 with err saying which value
 * was wrong, and leave their outputs untouched.
 */
#ifndef GL_ADDR_H
#define GL_ADDR_H

#include <libcidr.h>

#include "gl.h"

/* One host address ("192.0.2.7", "2001:db8::1"); a '/' is an error. */
int gl_ip_parse(const char *s, CIDR *ip_r, gl_err *err) GL_WUR;

/* "ADDR" or "ADDR/LEN", masked to its network ("192.0.2.0/24"). */
int gl_net_parse(const char *s, CIDR *net_r, gl_err *err) GL_WUR;

/* Masks ip to v4_prefix or v6_prefix and writes "NET/LEN" into out. */
int gl_ip_subnet(const CIDR *ip, int v4_prefix, int v6_prefix, char *out,
		 size_t outsz, gl_err *err) GL_WUR;

/* 1 when net contains ip (same family), else 0. */
int gl_net_contains(const CIDR *net, const CIDR *ip);

/*
 * Calls each libcidr function the module uses, on fixed addresses of
 * both families, and keeps nothing. libcidr is bound lazily (its calls
 * into itself and libc are resolved at their first use), and every
 * such resolution walks all the libraries of the calling program: in a
 * process forked from Exim's daemon, about 45 of them, which cost each
 * connection process about 1 ms of CPU before. Called once in the
 * daemon (greylist_preload), it leaves them resolved for every process
 * the daemon forks. Cannot fail; changes no state the module reads.
 */
void gl_addr_bind(void);

#endif
