/*
 * config.h - the module's configuration file.
 *
 * gl_config_load() reads "key = value" lines ('#' comments, blank lines
 * ignored), fills every key with its default first, checks each value and
 * loads the whitelist files the configuration names. It reads on past an
 * error: cfg->errors gets one message for each (file, line and key), and
 * the call then returns -1 with the first of them in err. A whitelist
 * line or file that cannot be used is not an error: it is skipped and
 * noted in cfg->warnings (see gl_whitelist_load_file()), and the rest of
 * the whitelists stay in force. Whatever the result, cfg holds the
 * defaults, what was parsed, the notes and the whitelist: the caller owns
 * it and frees it with gl_config_free() (also after -1). -1 with an empty
 * cfg->errors means the file could not be read at all, or memory ran out
 * (err says which). cfg->files names what was read, as it was (the
 * configuration file, looked at before it is parsed, only when it
 * opened; each whitelist file before it is loaded).
 */
#ifndef GL_CONFIG_H
#define GL_CONFIG_H

#include <limits.h>
#include <sys/types.h>
#include <time.h>

#include "gl.h"

struct gl_whitelist;

/* In the order of their words in config.c's key table. */
enum gl_on_error { GL_ON_ERROR_ACCEPT, GL_ON_ERROR_DEFER };
enum gl_log { GL_LOG_NONE, GL_LOG_DEFER, GL_LOG_ALL };
enum gl_backend { GL_BACKEND_GDBM, GL_BACKEND_REDIS, GL_BACKEND_LMDB };

enum gl_wl_file { GL_WLF_OWN, GL_WLF_PG_CLIENTS, GL_WLF_PG_RECIPIENTS };

#define GL_DEFAULT_CONFIG "/etc/exim4/greylist.conf"
#define GL_MAX_WHITELIST_FILES 32
#define GL_MAX_SENTINELS 8

/* A file the configuration was read from, as it was when it was read. */
typedef struct gl_file_id {
	int present;                    /* 0: it could not be looked at */
	int err;                        /* ... and stat()'s errno then */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
} gl_file_id;

/* The configuration file, then each whitelist file in order. */
typedef struct gl_config_files {
	int n;
	/* 1 when every file's change time (which only the kernel sets, to
	 * its clock) is over GL_SETTLE_SECS before it was read: a later
	 * change within the same tick of the file system's clock (same
	 * size, same times) cannot then go unseen */
	int settled;
	gl_file_id f[1 + GL_MAX_WHITELIST_FILES];
	/* their names: pointers into the gl_config these files belong to,
	 * valid until it is freed */
	const char *names[1 + GL_MAX_WHITELIST_FILES];
} gl_config_files;

#define GL_SETTLE_SECS 2

/* One HOST:PORT of a list (redis_sentinels). */
typedef struct gl_hostport {
	char host[256];                 /* a name or an address, no brackets */
	int port;
} gl_hostport;

typedef struct gl_config {
	char path[PATH_MAX];            /* the file this came from */
	char database[PATH_MAX];
	gl_time delay;                  /* seconds */
	gl_time retry_window;
	gl_time pass_lifetime;
	int ipv4_prefix;
	int ipv6_prefix;
	int nwhitelist_files;
	char *whitelist_files[GL_MAX_WHITELIST_FILES]; /* owned */
	/* how each is read: GL_WLF_OWN (whitelist), GL_WLF_PG_CLIENTS
	 * (whitelist_clients), GL_WLF_PG_RECIPIENTS (whitelist_recipients) */
	unsigned char whitelist_kinds[GL_MAX_WHITELIST_FILES];
	enum gl_on_error on_error;
	int sender_normalize;           /* 0 or 1 */
	int match_pools;                /* 0 or 1 */
	unsigned auto_whitelist_clients;
	enum gl_log log;
	enum gl_backend backend;
	char redis[PATH_MAX];
	char redis_prefix[128];
	long redis_timeout_ms;
	char redis_password_file[PATH_MAX]; /* "" when none */
	int redis_db;                   /* SELECTed database, 0-1000 */
	char redis_user[128];           /* ACL user for AUTH; "" when none */
	int nredis_sentinels;           /* 0: the fixed server in redis */
	gl_hostport redis_sentinels[GL_MAX_SENTINELS];
	char redis_master_name[128];    /* the master's name at the sentinels */
	char redis_sentinel_password_file[PATH_MAX]; /* "" when none */
	long lock_timeout_ms;           /* longest wait for the database lock */
	long lmdb_mapsize_mb;           /* largest size of an LMDB file */
	int lmdb_sync;                  /* sync every LMDB commit */
	char snapshot[PATH_MAX];        /* "" when none (snapshot, lmdb_snapshot) */
	char counters[PATH_MAX];        /* "" default, "none" off (counters.h) */
	struct gl_whitelist *whitelist; /* entries of the whitelist files */
	gl_notes errors;                /* what made gl_config_load() fail */
	gl_notes warnings;              /* whitelist lines and files skipped */
	gl_config_files files;          /* what was read, for gl_files_current() */
} gl_config;

/* Sets every key to its default; no whitelist, no notes. Overwrites cfg
 * without freeing what it held. */
void gl_config_defaults(gl_config *cfg);

int gl_config_load(const char *path, gl_config *cfg, gl_err *err) GL_WUR;
void gl_config_free(gl_config *cfg);

/*
 * 1 when a configuration loaded from these files would be the one loaded
 * before: it had settled, and each file is still the same (device,
 * inode, size, modification and change times) and readable by this
 * process's effective user and group, and a file that could not be
 * looked at still cannot, for the same reason. 0 otherwise, and for the
 * files of a configuration that did not load or was freed. Costs a
 * stat() and an access check per file, and reads none of them. A
 * process that inherits a loaded configuration (the Exim daemon's, which
 * runs as root, see greylist.c) uses it only while this holds; editing,
 * replacing, touching, removing or creating any of the files makes it 0.
 */
int gl_files_current(const gl_config_files *files);

/*
 * 1 when every file that is there is on a local file system (ext2/3/4,
 * XFS, Btrfs, tmpfs, ZFS, F2FS, overlayfs and the like), whose stat()
 * answers at once from the kernel; 0 when one is on another (NFS, SMB,
 * FUSE, autofs, or one it does not know) or statfs() fails: a process
 * that must never hang must not then look at the files itself.
 */
int gl_files_local(const gl_config_files *files);

/*
 * Parses "HOST:PORT[, HOST:PORT...]" (commas, optional blanks; an IPv6
 * address in brackets: [::1]:26379) into at most max entries. Returns
 * 0 with *n_r set, or -1 (empty item, no port, port outside 1-65535,
 * host too long, more than max); out and *n_r are then unspecified.
 */
int gl_parse_hostports(const char *v, gl_hostport *out, int max,
		       int *n_r) GL_WUR;

#endif
