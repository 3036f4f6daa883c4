/*
 * lazylib.h - the store libraries (GDBM, LMDB, hiredis), loaded when a
 * process first needs one.
 *
 * Exim forks a process per SMTP connection, and each loads the module
 * anew: every library the module links is mapped, relocated and
 * write-protected again for each connection (about 0.3 ms of CPU a
 * library; see README, "Performance"). So the module links none of the
 * three: the backend the configuration names loads its own library with
 * gl_lazy_load() when the process first opens it, and calls it through a
 * table of pointers. Including this header after the library's own (with
 * GL_LAZY_GDBM, GL_LAZY_LMDB or GL_LAZY_REDIS defined) turns each
 * function name into its table entry, so the backends read as plain
 * GDBM, LMDB and hiredis code. greylist-admin and the tests link the
 * libraries as well (so dpkg-shlibdeps sees them); dlopen() then finds
 * them already loaded.
 *
 *   gl_lazy_load(lib, err)  0 when lib's functions are ready (loaded now
 *                           or before in this process); -1 with err
 *                           naming the library and what dlopen() or
 *                           dlsym() said, the table left unusable (the
 *                           next call tries again). Never unloads.
 */
#ifndef GL_LAZYLIB_H
#define GL_LAZYLIB_H

#include "gl.h"

typedef enum { GL_LIB_GDBM, GL_LIB_LMDB, GL_LIB_REDIS } gl_lib;

int gl_lazy_load(gl_lib lib, gl_err *err) GL_WUR;

/*
 * What gl_lazy_load() and the other lazily loaded libraries (psl.c,
 * rx.c) share: dlopen()s soname (RTLD_NOW | RTLD_LOCAL) and stores the
 * address of names[i] into the i-th function pointer of fns (an array,
 * or a struct of n function pointers). Returns the handle; NULL with err
 * ("cannot load SONAME: why", or "...: no NAME in it", the library
 * closed again) otherwise, fns then unusable.
 */
void *gl_dl_open(const char *soname, const char *const *names, size_t n,
		 void *fns, gl_err *err) GL_WUR;

#define GL_LAZY_FIELD(f) __typeof__(f) *f;

#define GL_GDBM_FUNCS(X) X(gdbm_check_syserr) X(gdbm_close) \
	X(gdbm_db_strerror) X(gdbm_delete) X(gdbm_errno_location) \
	X(gdbm_exists) X(gdbm_fd_open) X(gdbm_fdesc) X(gdbm_fetch) \
	X(gdbm_firstkey) X(gdbm_last_errno) X(gdbm_nextkey) X(gdbm_recover) \
	X(gdbm_setopt) X(gdbm_store) X(gdbm_strerror)

#define GL_LMDB_FUNCS(X) X(mdb_cursor_close) X(mdb_cursor_get) \
	X(mdb_cursor_open) X(mdb_dbi_open) X(mdb_del) X(mdb_env_close) \
	X(mdb_env_copy2) X(mdb_env_create) X(mdb_env_get_fd) \
	X(mdb_env_info) X(mdb_env_open) X(mdb_env_set_mapsize) \
	X(mdb_env_set_maxreaders) X(mdb_env_stat) X(mdb_get) X(mdb_put) \
	X(mdb_reader_check) X(mdb_strerror) X(mdb_txn_abort) \
	X(mdb_txn_begin) X(mdb_txn_commit) X(mdb_txn_renew) X(mdb_txn_reset)

#define GL_REDIS_FUNCS(X) X(freeReplyObject) X(redisAppendCommandArgv) \
	X(redisCommandArgv) X(redisConnectUnixWithTimeout) \
	X(redisConnectWithTimeout) X(redisFree) X(redisGetReply) \
	X(redisSetTimeout)

#if defined(GL_LAZY_GDBM) || defined(GL_LAZY_IMPL)
struct gl_gdbm_api { GL_GDBM_FUNCS(GL_LAZY_FIELD) };
extern struct gl_gdbm_api gl_gdbm_api;
#endif
#if defined(GL_LAZY_LMDB) || defined(GL_LAZY_IMPL)
struct gl_lmdb_api { GL_LMDB_FUNCS(GL_LAZY_FIELD) };
extern struct gl_lmdb_api gl_lmdb_api;
#endif
#if defined(GL_LAZY_REDIS) || defined(GL_LAZY_IMPL)
struct gl_redis_api { GL_REDIS_FUNCS(GL_LAZY_FIELD) };
extern struct gl_redis_api gl_redis_api;
#endif

#ifdef GL_LAZY_GDBM
#define gdbm_check_syserr (*gl_gdbm_api.gdbm_check_syserr)
#define gdbm_close (*gl_gdbm_api.gdbm_close)
#define gdbm_db_strerror (*gl_gdbm_api.gdbm_db_strerror)
#define gdbm_delete (*gl_gdbm_api.gdbm_delete)
#define gdbm_errno_location (*gl_gdbm_api.gdbm_errno_location)
#define gdbm_exists (*gl_gdbm_api.gdbm_exists)
#define gdbm_fd_open (*gl_gdbm_api.gdbm_fd_open)
#define gdbm_fdesc (*gl_gdbm_api.gdbm_fdesc)
#define gdbm_fetch (*gl_gdbm_api.gdbm_fetch)
#define gdbm_firstkey (*gl_gdbm_api.gdbm_firstkey)
#define gdbm_last_errno (*gl_gdbm_api.gdbm_last_errno)
#define gdbm_nextkey (*gl_gdbm_api.gdbm_nextkey)
#define gdbm_recover (*gl_gdbm_api.gdbm_recover)
#define gdbm_setopt (*gl_gdbm_api.gdbm_setopt)
#define gdbm_store (*gl_gdbm_api.gdbm_store)
#define gdbm_strerror (*gl_gdbm_api.gdbm_strerror)
#endif

#ifdef GL_LAZY_LMDB
#define mdb_cursor_close (*gl_lmdb_api.mdb_cursor_close)
#define mdb_cursor_get (*gl_lmdb_api.mdb_cursor_get)
#define mdb_cursor_open (*gl_lmdb_api.mdb_cursor_open)
#define mdb_dbi_open (*gl_lmdb_api.mdb_dbi_open)
#define mdb_del (*gl_lmdb_api.mdb_del)
#define mdb_env_close (*gl_lmdb_api.mdb_env_close)
#define mdb_env_copy2 (*gl_lmdb_api.mdb_env_copy2)
#define mdb_env_create (*gl_lmdb_api.mdb_env_create)
#define mdb_env_get_fd (*gl_lmdb_api.mdb_env_get_fd)
#define mdb_env_info (*gl_lmdb_api.mdb_env_info)
#define mdb_env_open (*gl_lmdb_api.mdb_env_open)
#define mdb_env_set_mapsize (*gl_lmdb_api.mdb_env_set_mapsize)
#define mdb_env_set_maxreaders (*gl_lmdb_api.mdb_env_set_maxreaders)
#define mdb_env_stat (*gl_lmdb_api.mdb_env_stat)
#define mdb_get (*gl_lmdb_api.mdb_get)
#define mdb_put (*gl_lmdb_api.mdb_put)
#define mdb_reader_check (*gl_lmdb_api.mdb_reader_check)
#define mdb_strerror (*gl_lmdb_api.mdb_strerror)
#define mdb_txn_abort (*gl_lmdb_api.mdb_txn_abort)
#define mdb_txn_begin (*gl_lmdb_api.mdb_txn_begin)
#define mdb_txn_commit (*gl_lmdb_api.mdb_txn_commit)
#define mdb_txn_renew (*gl_lmdb_api.mdb_txn_renew)
#define mdb_txn_reset (*gl_lmdb_api.mdb_txn_reset)
#endif

#ifdef GL_LAZY_REDIS
#define freeReplyObject (*gl_redis_api.freeReplyObject)
#define redisAppendCommandArgv (*gl_redis_api.redisAppendCommandArgv)
#define redisCommandArgv (*gl_redis_api.redisCommandArgv)
#define redisConnectUnixWithTimeout (*gl_redis_api.redisConnectUnixWithTimeout)
#define redisConnectWithTimeout (*gl_redis_api.redisConnectWithTimeout)
#define redisFree (*gl_redis_api.redisFree)
#define redisGetReply (*gl_redis_api.redisGetReply)
#define redisSetTimeout (*gl_redis_api.redisSetTimeout)
#endif

#endif
