/*
 * rx.h - regular expressions of postgrey's lists, through PCRE2.
 *
 * PCRE2 is not linked: libpcre2-8 is loaded with dlopen() when the first
 * pattern is compiled, which happens only when a configured list holds
 * a /regex/ line (Exim itself links libpcre2-8, so in an Exim process
 * the load finds the library already mapped). Patterns are compiled
 * caseless, as postgrey's qr{...}i; a match is bounded (match and depth
 * limits), and a match that hits a bound or fails counts as no match.
 *
 * A gl_rx owns its compiled pattern and match data; gl_rx_free() frees
 * them (NULL is fine).
 */
#ifndef GL_RX_H
#define GL_RX_H

#include "gl.h"

#define GL_RX_LIB "libpcre2-8.so.0"

typedef struct gl_rx gl_rx;

/* A compiled pattern, or NULL with err (the library is missing, or the
 * pattern does not compile: PCRE2's message and offset). */
gl_rx *gl_rx_compile(const char *pattern, gl_err *err) GL_WUR;

/* 1 when rx matches somewhere in subject, else 0. */
int gl_rx_match(const gl_rx *rx, const char *subject);

void gl_rx_free(gl_rx *rx);

/* Forgets the loaded library; the next compile loads lib (NULL: the
 * default). For tests only; no gl_rx may be alive. */
void gl_rx_reset(const char *lib);

#endif
