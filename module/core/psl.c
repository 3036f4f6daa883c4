/* psl.c - registered domains through libpsl, loaded on first use. */
#include "psl.h"

#include <dlfcn.h>
#include <libpsl.h>
#include <stdio.h>
#include <string.h>

static struct {
	int tried;              /* loading was attempted */
	int reported;           /* gl_psl_problem() gave the error out */
	void *lib;
	psl_ctx_t *ctx;
	const char *(*registrable)(const psl_ctx_t *, const char *);
	void (*free_ctx)(psl_ctx_t *);
	char error[GL_ERR_MAX]; /* why ctx is NULL after trying */
	const char *lib_name, *file; /* NULL: the defaults */
} P;

static void load(void)
{
	psl_ctx_t *(*load_file)(const char *);
	const char *lib = P.lib_name ? P.lib_name : GL_PSL_LIB;
	const char *file = P.file ? P.file : GL_PSL_FILE;
	const char *e;

	P.tried = 1;
	P.lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (P.lib == NULL) {
		e = dlerror();
		snprintf(P.error, sizeof P.error, "public suffix list not "
			 "available: cannot load %s: %.300s (install libpsl5)",
			 lib, e ? e : "?");
		return;
	}
	*(void **)&load_file = dlsym(P.lib, "psl_load_file");
	*(void **)&P.registrable = dlsym(P.lib, "psl_registrable_domain");
	*(void **)&P.free_ctx = dlsym(P.lib, "psl_free");
	if (load_file == NULL || P.registrable == NULL || P.free_ctx == NULL) {
		snprintf(P.error, sizeof P.error, "public suffix list not "
			 "available: %s lacks psl_load_file, "
			 "psl_registrable_domain or psl_free", lib);
		dlclose(P.lib);
		P.lib = NULL;
		return;
	}
	P.ctx = load_file(file);
	if (P.ctx == NULL && P.file == NULL)
		P.ctx = load_file(GL_PSL_FILE_DAT);
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
	*reg_r = P.registrable(P.ctx, name);
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
		P.free_ctx(P.ctx);
	if (P.lib != NULL)
		dlclose(P.lib);
	memset(&P, 0, sizeof P);
	P.lib_name = lib;
	P.file = file;
}
