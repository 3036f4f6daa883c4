/*
 * names.h - what a verified host name says about its client: whether it
 * can stand for a pool of mail servers, and why not.
 *
 * gl_host_pool() is the host rule of match_pools: the name less its
 * first label, never shorter than its registered domain (the Public
 * Suffix List, psl.h). The name is not used (the caller keys on the
 * subnet, which never merges strangers) when
 *
 *   - it has two labels, or is a registered domain itself or a public
 *     suffix ("examplecorp.co.uk", "x.github.io"), or the list is not
 *     available;
 *   - all but its last two labels carry the client's address
 *     (gl_name_address_form(); looked for before the list is loaded,
 *     so most generic names never need it);
 *   - a label left of its registered domain marks a dynamic or
 *     residential pool (gl_name_dynamic_marker(), the words of
 *     gl_dynamic_markers).
 *
 * Names are untrusted (they come from DNS): anything but letters,
 * digits, '.', '-' and '_', empty labels, or more than GL_DNS_NAME_MAX
 * bytes is not used. Nothing is kept between calls except the list
 * psl.c loads.
 */
#ifndef GL_NAMES_H
#define GL_NAMES_H

#include <libcidr.h>

#include "gl.h"

#define GL_NOTE_MAX 200 /* a "why not" text, with its NUL */

/*
 * 1 with the pool name (lower case, without "host:") in pool, or 0 with
 * why the name is not used in why (both NUL-terminated, cut to size).
 */
int gl_host_pool(const CIDR *ip, const char *host, char *pool, size_t poolsz,
		 char *why, size_t whysz);

/*
 * The form in which the first n bytes of name (lower case) carry ip
 * ("its octets", "its octets reversed", "three of its octets", "its
 * zero-padded octets", "its address as one decimal number", "its
 * address in hex", "its nibbles", "its nibbles reversed", "its groups",
 * "its last four groups"), or NULL when they do not.
 */
const char *gl_name_address_form(const char *name, size_t n, const CIDR *ip);

/* The marker (a word of gl_dynamic_markers) that one of the first n
 * bytes' letter runs is, or NULL. */
const char *gl_name_dynamic_marker(const char *name, size_t n);

/* NULL-terminated: the words that mark a dynamic or residential name. */
extern const char *const gl_dynamic_markers[];

#endif
