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

int gl_lazy_load(gl_lib which, gl_err *err)
{
	const struct lib *l = &libs[which];
	void *h, *f;
	size_t i;

	if (loaded[which])
		return 0;
	h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();

		return gl_fail(err, "cannot load %s: %s", l->soname,
			       why ? why : "dlopen failed");
	}
	for (i = 0; i < l->n; i++) {
		(void)dlerror();
		f = dlsym(h, l->names[i]);
		if (f == NULL)
			return gl_fail(err, "cannot load %s: no %s in it",
				       l->soname, l->names[i]);
		/* A data pointer to a function pointer: POSIX dlsym's way. */
		memcpy((char *)l->table + i * sizeof f, &f, sizeof f);
	}
	loaded[which] = 1;
	return 0;
}
