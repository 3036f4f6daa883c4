/* rx.c - PCRE2, loaded on first use (see rx.h). */
#include "rx.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dlfcn.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazylib.h"

#define MATCH_LIMIT 100000 /* backtracking steps a match may take */
#define DEPTH_LIMIT 1000

struct gl_rx {
	pcre2_code *code;
	pcre2_match_data *md;
};

/* PCRE2's functions (8-bit code units), in the order of fn_names. */
struct rx_fns {
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
};
static const char *const fn_names[] = {
	"pcre2_compile_8", "pcre2_get_error_message_8",
	"pcre2_match_data_create_from_pattern_8", "pcre2_match_8",
	"pcre2_match_data_free_8", "pcre2_code_free_8",
	"pcre2_match_context_create_8", "pcre2_match_context_free_8",
	"pcre2_set_match_limit_8", "pcre2_set_depth_limit_8"
};

_Static_assert(sizeof(struct rx_fns) == sizeof fn_names / sizeof *fn_names *
	       sizeof(void (*)(void)), "one pointer a name");

static struct {
	int tried;
	void *lib;
	const char *lib_name;            /* NULL: GL_RX_LIB */
	char error[GL_ERR_MAX];          /* why lib is NULL after trying */
	pcre2_match_context *mctx;
	struct rx_fns fn;
} R;

static void load(void)
{
	const char *lib = R.lib_name ? R.lib_name : GL_RX_LIB;
	gl_err err;

	R.tried = 1;
	R.lib = gl_dl_open(lib, fn_names, sizeof fn_names / sizeof *fn_names,
			   &R.fn, &err);
	if (R.lib == NULL) {
		snprintf(R.error, sizeof R.error, "%.300s (install "
			 "libpcre2-8-0)", err.msg);
		return;
	}
	if ((R.mctx = R.fn.mctx_create(NULL)) == NULL) {
		snprintf(R.error, sizeof R.error, "%s: out of memory", lib);
		dlclose(R.lib);
		R.lib = NULL;
		return;
	}
	R.fn.set_match_limit(R.mctx, MATCH_LIMIT);
	R.fn.set_depth_limit(R.mctx, DEPTH_LIMIT);
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
	rx->code = R.fn.compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			     PCRE2_CASELESS, &code, &off, NULL);
	if (rx->code == NULL) {
		if (R.fn.errmsg(code, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", code);
		gl_fail(err, "regular expression: %s at offset %zu",
			(const char *)msg, (size_t)off);
		free(rx);
		return NULL;
	}
	rx->md = R.fn.md_create(rx->code, NULL);
	if (rx->md == NULL) {
		R.fn.code_free(rx->code);
		free(rx);
		gl_fail(err, "out of memory");
		return NULL;
	}
	return rx;
}

int gl_rx_match(const gl_rx *rx, const char *subject)
{
	return rx != NULL && R.fn.match(rx->code, (PCRE2_SPTR)subject,
				     strlen(subject), 0, 0, rx->md,
				     R.mctx) >= 0;
}

void gl_rx_free(gl_rx *rx)
{
	if (rx == NULL)
		return;
	R.fn.md_free(rx->md);
	R.fn.code_free(rx->code);
	free(rx);
}

void gl_rx_reset(const char *lib)
{
	if (R.mctx != NULL)
		R.fn.mctx_free(R.mctx);
	if (R.lib != NULL)
		dlclose(R.lib);
	memset(&R, 0, sizeof R);
	R.lib_name = lib;
}
