/*
 * admin.h - what the parts of greylist-admin share.
 *
 * greylist-admin presents; it decides nothing. Every rule of greylisting
 * (expiry, auto-whitelisting, keys, whitelist editing, batched writes,
 * purge) is in module/core, shared with the Exim module. The files here
 * are the command families: list.c (list, explain, delete), stats.c
 * (stats, clients), whitelist.c, dump.c (export, import), maintenance.c
 * (purge, recover, snapshot), check.c, metrics.c, stuck.c, with user.c (which user the tool
 * acts as) and output.c (errors, dates, tables, JSON). main.c holds the
 * one command table that dispatch and usage come from.
 *
 * Errors: a command prints one line on stderr and exits 1 (die()), or 2
 * for a usage error (usage()); it never prints a table header before its
 * error (set_header()/header_out()).
 */
#ifndef GL_ADMIN_H
#define GL_ADMIN_H

#include <jansson.h>
#include <stdio.h>
#include <sys/types.h>

#include "../../module/core/batch.h"
#include "../../module/core/decide.h"
#include "../../module/core/purge.h"

#define EXIM_BIN "/usr/sbin/exim4"

extern const char *progname;

/* What every command gets: the configuration file, and (for commands
 * that work on the database) the parsed configuration and the store. */
typedef struct admin {
	const char *conf;
	const gl_config *cfg;  /* NULL for check */
	gl_store *st;          /* NULL for commands that open their own */
} admin;

typedef int admin_cmd(admin *a, int argc, char **argv);

admin_cmd cmd_check, cmd_list, cmd_explain, cmd_delete, cmd_stats,
	  cmd_clients, cmd_whitelist, cmd_export, cmd_import, cmd_purge,
	  cmd_recover, cmd_rekey, cmd_snapshot, cmd_metrics, cmd_stuck;

/* ---- maintenance.c ---- */
/* gl_pair_valid() with the configuration as arg: the valid() that the
 * GDBM store's whole-file work (recover, rekey, gl_gdbm_keys) takes. */
int admin_pair_valid(void *arg, const void *k, size_t kl, const void *v,
		     size_t vl);

/* ---- output.c ---- */
void usage(void) __attribute__((noreturn));
void die(const char *msg) __attribute__((noreturn));
/*
 * After a change an operator made to the database (a whitelist entry, an
 * import, a deletion): with a snapshot configured (the database on a
 * tmpfs), writes it at once, so the change survives a crash of the
 * machine. A failure is a warning on stderr: the change stands. Closes
 * a->st (NULL after): call it last.
 */
void admin_save(admin *a);

/* What stats and metrics count alike of every stored pair. */
typedef struct admin_tally {
	unsigned long pending, passed, clients, auto_clients, bad;
} admin_tally;

/*
 * Decodes one stored pair into *p and counts it in *t: one that does not
 * decode as bad; a client record in clients (and auto_clients when it is
 * auto-whitelisted at now); a triplet as pending or passed. 1 when *p is
 * a triplet (for the caller's own figures), 0 otherwise.
 */
int admin_tally_pair(admin_tally *t, const gl_config *cfg, gl_time now,
		     const void *key, size_t klen, const void *val,
		     size_t vlen, gl_pair *p);
void die_err(const gl_err *err) __attribute__((noreturn));
gl_time now_s(void);
/* "YYYY-MM-DD HH:MM:SS" (UTC) into buf, or "-" for 0. */
const char *fmt_time(gl_time t, char *buf, size_t sz);
/* A table's header, printed with its first row (header_out()) or at the
 * end of a command that succeeded without one: never before an error. */
void set_header(const char *fmt, ...) GL_PRINTF(1, 2);
void header_out(void);
/* Prints o as one compact JSON line and frees it; dies on NULL. */
void emit(json_t *o, const char *what);
/* Makes room for one more element in *arr (n used of *cap); dies on OOM. */
void grow(void *arr, size_t n, size_t *cap, size_t elem);
/* qsort() for n items; an empty array may be NULL (qsort's may not). */
void sort_n(void *base, size_t n, size_t size,
	    int (*cmp)(const void *, const void *));

/* ---- whitelist.c ---- */
/* The database whitelist, parsed; entries that do not parse are named
 * on stderr as warnings. Dies when the store fails. */
gl_whitelist *load_dbwl(const gl_config *cfg, gl_store *st);
unsigned count_entries(const gl_whitelist *wl);
/* Who runs the command (SUDO_USER when set): whitelist owners. */
const char *invoking_user(void);

/* ---- user.c ---- */
typedef struct admin_user {
	uid_t uid;
	gid_t gid;
	char name[64];   /* user name, or the number when it has none */
	char group[64];
} admin_user;

/* Fills u for uid and gid (names looked up). */
void admin_user_set(admin_user *u, uid_t uid, gid_t gid);

/* The directory a file is in ("" when path is too long). */
void admin_dir_of(const char *path, char *dir, size_t sz);

/* The directory that holds the database; "" for Redis. */
void admin_db_dir(const gl_config *cfg, char *dir, size_t sz);

/*
 * The files the module keeps for cfg's backend (the database and its
 * lock and snapshot files): up to max names into files, each PATH_MAX
 * bytes. Returns how many.
 */
int admin_db_files(const gl_config *cfg, char files[][PATH_MAX], int max);

/*
 * When path exists and u cannot both read and write it (by its owner,
 * group and mode bits), writes one line into msg saying so and how to
 * mend it, and returns 1; else 0.
 */
int admin_file_unusable(const char *path, const admin_user *u, char *msg,
			size_t sz);

/*
 * Run as root on a file store, the tool acts (filesystem ids and
 * supplementary groups) as the owner of the database's directory (the Exim user: the module must
 * write there), so that every file it creates is one the module can use.
 * Warns on stderr about files already there that this user cannot use.
 * Does nothing when not root, for Redis, or when the directory belongs
 * to root.
 */
void admin_act_as_db_owner(const gl_config *cfg);

#endif
