/* psl.c - registered domains through libpsl, loaded on first use. */
#include "psl.h"

#include <dlfcn.h>
#include <libpsl.h>
#include <stdio.h>
#include <string.h>

#include "lazylib.h"

/* libpsl's functions, in the order of fn_names. */
struct psl_fns {
	__typeof__(psl_load_file) *load_file;
	__typeof__(psl_registrable_domain) *registrable;
	__typeof__(psl_free) *free_ctx;
};
static const char *const fn_names[] = {
	"psl_load_file", "psl_registrable_domain", "psl_free"
};

static struct {
	int tried;              /* loading was attempted */
	int reported;           /* gl_psl_problem() gave the error out */
	void *lib;
	psl_ctx_t *ctx;
	struct psl_fns fn;
	char error[GL_ERR_MAX]; /* why ctx is NULL after trying */
	const char *lib_name, *file; /* NULL: the defaults */
} P;

_Static_assert(sizeof(struct psl_fns) == sizeof fn_names / sizeof *fn_names *
	       sizeof(void (*)(void)), "one pointer a name");

static void load(void)
{
	const char *lib = P.lib_name ? P.lib_name : GL_PSL_LIB;
	const char *file = P.file ? P.file : GL_PSL_FILE;
	gl_err err;

	P.tried = 1;
	P.lib = gl_dl_open(lib, fn_names, sizeof fn_names / sizeof *fn_names,
			   &P.fn, &err);
	if (P.lib == NULL) {
		snprintf(P.error, sizeof P.error, "public suffix list not "
			 "available: %.300s (install libpsl5)", err.msg);
		return;
	}
	P.ctx = P.fn.load_file(file);
	if (P.ctx == NULL && P.file == NULL)
		P.ctx = P.fn.load_file(GL_PSL_FILE_DAT);
	if (P.ctx == NULL)
		snprintf(P.error, sizeof P.error, "public suffix list not "
			 "available: libpsl cannot read %s%s (install the "
			 "publicsuffix package)", file,
			 P.file == NULL ? " or " GL_PSL_FILE_DAT : "");
}

int gl_psl_registered(const char *name, const char **reg_r, gl_err *err)
{
	if (!P.tried)
		load();
	if (P.ctx == NULL)
		return gl_fail(err, "%s", P.error);
	*reg_r = P.fn.registrable(P.ctx, name);
	return 0;
}

const char *gl_psl_problem(void)
{
	if (!P.tried || P.ctx != NULL || P.reported)
		return NULL;
	P.reported = 1;
	return P.error;
}

void gl_psl_reset(const char *lib, const char *file)
{
	if (P.ctx != NULL)
		P.fn.free_ctx(P.ctx);
	if (P.lib != NULL)
		dlclose(P.lib);
	memset(&P, 0, sizeof P);
	P.lib_name = lib;
	P.file = file;
}
