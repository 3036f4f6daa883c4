/*
 * psl.h - registered domains from the Public Suffix List.
 *
 * The list is Debian's (the publicsuffix package, read by libpsl from
 * GL_PSL_FILE, or GL_PSL_FILE_DAT when the first is missing); no suffix
 * is written in this code. libpsl is not linked: it (and the libraries
 * it pulls in) is loaded with dlopen() the first time a name is asked
 * about, and the list is read then, once per process; every later call
 * costs one lookup. Exim starts a process per connection, and most
 * connections never need the list.
 *
 * When the library or the list cannot be loaded, every call fails with
 * the same err (the caller then keys on the subnet, which never merges
 * strangers); gl_psl_problem() hands the reason out once, for a log.
 */
#ifndef GL_PSL_H
#define GL_PSL_H

#include "gl.h"

#define GL_PSL_LIB      "libpsl.so.5"
#define GL_PSL_FILE     "/usr/share/publicsuffix/public_suffix_list.dafsa"
#define GL_PSL_FILE_DAT "/usr/share/publicsuffix/public_suffix_list.dat"

/*
 * The registered domain of name (lower-case ASCII, no trailing dot):
 * 0 with *reg_r pointing into name at it ("isp.example" of
 * "a.b.isp.example"), or at NULL when name is a public suffix itself
 * (has no registered domain); -1 with err when the list is not
 * available.
 */
int gl_psl_registered(const char *name, const char **reg_r,
		      gl_err *err) GL_WUR;

/* The reason the list is not available, the first time it is asked
 * after loading failed; NULL otherwise (and every later time). */
const char *gl_psl_problem(void);

/* Forgets what was loaded and loads the next time from lib and file
 * (NULL: the defaults above). For tests only. */
void gl_psl_reset(const char *lib, const char *file);

#endif
