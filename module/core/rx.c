/* rx.c - PCRE2, loaded on first use (see rx.h). */
#include "rx.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dlfcn.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_LIMIT 100000 /* backtracking steps a match may take */
#define DEPTH_LIMIT 1000

struct gl_rx {
	pcre2_code *code;
	pcre2_match_data *md;
};

static struct {
	int tried;
	void *lib;
	const char *lib_name;            /* NULL: GL_RX_LIB */
	char error[GL_ERR_MAX];          /* why lib is NULL after trying */
	pcre2_match_context *mctx;
	__typeof__(pcre2_compile) *compile;
	__typeof__(pcre2_get_error_message) *errmsg;
	__typeof__(pcre2_match_data_create_from_pattern) *md_create;
	__typeof__(pcre2_match) *match;
	__typeof__(pcre2_match_data_free) *md_free;
	__typeof__(pcre2_code_free) *code_free;
	__typeof__(pcre2_match_context_create) *mctx_create;
	__typeof__(pcre2_match_context_free) *mctx_free;
	__typeof__(pcre2_set_match_limit) *set_match_limit;
	__typeof__(pcre2_set_depth_limit) *set_depth_limit;
} R;

#define SYM(field, name) \
	(*(void **)&R.field = dlsym(R.lib, name)) != NULL

static void load(void)
{
	const char *lib = R.lib_name ? R.lib_name : GL_RX_LIB;
	const char *e;

	R.tried = 1;
	R.lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (R.lib == NULL) {
		e = dlerror();
		snprintf(R.error, sizeof R.error, "cannot load %s: %.300s "
			 "(install libpcre2-8-0)", lib, e ? e : "?");
		return;
	}
	if (!(SYM(compile, "pcre2_compile_8") &&
	      SYM(errmsg, "pcre2_get_error_message_8") &&
	      SYM(md_create, "pcre2_match_data_create_from_pattern_8") &&
	      SYM(match, "pcre2_match_8") &&
	      SYM(md_free, "pcre2_match_data_free_8") &&
	      SYM(code_free, "pcre2_code_free_8") &&
	      SYM(mctx_create, "pcre2_match_context_create_8") &&
	      SYM(mctx_free, "pcre2_match_context_free_8") &&
	      SYM(set_match_limit, "pcre2_set_match_limit_8") &&
	      SYM(set_depth_limit, "pcre2_set_depth_limit_8")) ||
	    (R.mctx = R.mctx_create(NULL)) == NULL) {
		snprintf(R.error, sizeof R.error, "%s lacks a PCRE2 function "
			 "this module needs, or is out of memory", lib);
		dlclose(R.lib);
		R.lib = NULL;
		return;
	}
	R.set_match_limit(R.mctx, MATCH_LIMIT);
	R.set_depth_limit(R.mctx, DEPTH_LIMIT);
}

gl_rx *gl_rx_compile(const char *pattern, gl_err *err)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	gl_rx *rx;
	int code;

	if (!R.tried)
		load();
	if (R.lib == NULL) {
		gl_fail(err, "%s", R.error);
		return NULL;
	}
	rx = calloc(1, sizeof *rx);
	if (rx == NULL) {
		gl_fail(err, "out of memory");
		return NULL;
	}
	rx->code = R.compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			     PCRE2_CASELESS, &code, &off, NULL);
	if (rx->code == NULL) {
		if (R.errmsg(code, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", code);
		gl_fail(err, "regular expression: %s at offset %zu",
			(const char *)msg, (size_t)off);
		free(rx);
		return NULL;
	}
	rx->md = R.md_create(rx->code, NULL);
	if (rx->md == NULL) {
		R.code_free(rx->code);
		free(rx);
		gl_fail(err, "out of memory");
		return NULL;
	}
	return rx;
}

int gl_rx_match(const gl_rx *rx, const char *subject)
{
	return rx != NULL && R.match(rx->code, (PCRE2_SPTR)subject,
				     strlen(subject), 0, 0, rx->md,
				     R.mctx) >= 0;
}

void gl_rx_free(gl_rx *rx)
{
	if (rx == NULL)
		return;
	R.md_free(rx->md);
	R.code_free(rx->code);
	free(rx);
}

void gl_rx_reset(const char *lib)
{
	if (R.mctx != NULL)
		R.mctx_free(R.mctx);
	if (R.lib != NULL)
		dlclose(R.lib);
	memset(&R, 0, sizeof R);
	R.lib_name = lib;
}
