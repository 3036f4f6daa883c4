/* lazylib.c - loads a store library on first use; see lazylib.h. */
#include <dlfcn.h>
#include <gdbm.h>
#include <hiredis/hiredis.h>
#include <lmdb.h>
#include <string.h>

#define GL_LAZY_IMPL
#include "lazylib.h"

/* The sonames the build found (Makefile); these when it found none. */
#ifndef GL_SONAME_GDBM
#define GL_SONAME_GDBM "libgdbm.so.6"
#endif
#ifndef GL_SONAME_LMDB
#define GL_SONAME_LMDB "liblmdb.so.0"
#endif
#ifndef GL_SONAME_REDIS
#define GL_SONAME_REDIS "libhiredis.so.0.14"
#endif

struct gl_gdbm_api gl_gdbm_api;
struct gl_lmdb_api gl_lmdb_api;
struct gl_redis_api gl_redis_api;

#define GL_LAZY_NAME(f) #f,
static const char *const gdbm_names[] = { GL_GDBM_FUNCS(GL_LAZY_NAME) };
static const char *const lmdb_names[] = { GL_LMDB_FUNCS(GL_LAZY_NAME) };
static const char *const redis_names[] = { GL_REDIS_FUNCS(GL_LAZY_NAME) };

static const struct lib {
	const char *soname;
	const char *const *names;
	size_t n;
	void *table;   /* an array of n function pointers */
} libs[] = {
	[GL_LIB_GDBM] = { GL_SONAME_GDBM, gdbm_names,
			  sizeof gdbm_names / sizeof *gdbm_names, &gl_gdbm_api },
	[GL_LIB_LMDB] = { GL_SONAME_LMDB, lmdb_names,
			  sizeof lmdb_names / sizeof *lmdb_names, &gl_lmdb_api },
	[GL_LIB_REDIS] = { GL_SONAME_REDIS, redis_names,
			   sizeof redis_names / sizeof *redis_names,
			   &gl_redis_api },
};

/* Each table is exactly its functions' pointers, in the lists' order. */
_Static_assert(sizeof(struct gl_gdbm_api) ==
	       sizeof gdbm_names / sizeof *gdbm_names * sizeof(void (*)(void)),
	       "gdbm table");
_Static_assert(sizeof(struct gl_lmdb_api) ==
	       sizeof lmdb_names / sizeof *lmdb_names * sizeof(void (*)(void)),
	       "lmdb table");
_Static_assert(sizeof(struct gl_redis_api) ==
	       sizeof redis_names / sizeof *redis_names * sizeof(void (*)(void)),
	       "redis table");

static int loaded[3];

void *gl_dl_open(const char *soname, const char *const *names, size_t n,
		 void *fns, gl_err *err)
{
	void *h, *f;
	size_t i;

	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();

		gl_fail(err, "cannot load %s: %s", soname,
			why ? why : "dlopen failed");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		f = dlsym(h, names[i]);
		if (f == NULL) {
			gl_fail(err, "cannot load %s: no %s in it", soname,
				names[i]);
			dlclose(h);
			return NULL;
		}
		/* A data pointer to a function pointer: POSIX dlsym's way. */
		memcpy((char *)fns + i * sizeof f, &f, sizeof f);
	}
	return h;
}

int gl_lazy_load(gl_lib which, gl_err *err)
{
	const struct lib *l = &libs[which];

	if (loaded[which])
		return 0;
	if (gl_dl_open(l->soname, l->names, l->n, l->table, err) == NULL)
		return -1;
	loaded[which] = 1;
	return 0;
}
