/*
 * purge.h - removing what has expired, while Exim goes on deciding.
 *
 * gl_purge() scans the store (in chunks, store.h), collects the triplet
 * and client records whose time is over (policy.h), deletes them in
 * batches (batch.h: a record a decision changed meanwhile is kept), then
 * removes expired database whitelist entries (dbwl.h). removed(arg, p),
 * when not NULL, is called for each triplet or client record deleted,
 * wl_removed for each whitelist entry removed.
 *
 * rep counts the records deleted, by kind, those kept because a
 * decision changed them while the purge ran, and pairs that did not
 * decode (left for recover). On -1 (err says why) rep counts what was
 * deleted before the failure.
 */
#ifndef GL_PURGE_H
#define GL_PURGE_H

#include "dbwl.h"
#include "keys.h"

typedef struct gl_purge_report {
	size_t pending, passed, clients; /* records deleted */
	size_t kept;                     /* expired, but changed meanwhile */
	size_t whitelist;                /* expired entries removed */
	size_t unreadable;               /* pairs that did not decode (left) */
} gl_purge_report;

int gl_purge(gl_store *st, const gl_config *cfg, gl_time now,
	     void (*removed)(void *arg, const gl_pair *p),
	     void (*wl_removed)(void *arg, const gl_wl_entry *e), void *arg,
	     gl_purge_report *rep, gl_err *err) GL_WUR;

#endif
