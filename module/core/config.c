/* config.c - parsing and checking of the configuration file. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "parse.h"
#include "pgwl.h"
#include "whitelist.h"

#define LINE_MAX_LEN 4096

void gl_config_defaults(gl_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->database, sizeof cfg->database, "%s",
		 "/var/spool/exim4/db/greylist.gdbm");
	cfg->delay = 5 * 60;
	cfg->retry_window = 2 * 86400;
	cfg->pass_lifetime = 36 * 86400;
	cfg->ipv4_prefix = 24;
	cfg->ipv6_prefix = 64;
	cfg->on_error = GL_ON_ERROR_ACCEPT;
	cfg->sender_normalize = 1;
	cfg->match_pools = 1;
	cfg->auto_whitelist_clients = 5;
	cfg->log = GL_LOG_DEFER;
	cfg->backend = GL_BACKEND_GDBM;
	snprintf(cfg->redis, sizeof cfg->redis, "%s", "127.0.0.1:6379");
	snprintf(cfg->redis_prefix, sizeof cfg->redis_prefix, "%s", "greylist:");
	cfg->redis_timeout_ms = 200;
	cfg->lock_timeout_ms = 200;
	cfg->lmdb_mapsize_mb = 1024;
}

void gl_config_free(gl_config *cfg)
{
	gl_whitelist_free(cfg->whitelist);
	cfg->whitelist = NULL;
	gl_notes_free(&cfg->errors);
	gl_notes_free(&cfg->warnings);
	while (cfg->nwhitelist_files > 0)
		free(cfg->whitelist_files[--cfg->nwhitelist_files]);
	cfg->files.n = 0; /* its names pointed at what was just freed */
	cfg->files.settled = 0;
}

int gl_parse_hostports(const char *v, gl_hostport *out, int max, int *n_r)
{
	int n = 0;

	for (;;) {
		const char *h, *he, *colon;
		char *end;
		long port;

		while (*v == ' ' || *v == '\t')
			v++;
		if (n >= max)
			return -1;
		if (*v == '[') {        /* [IPv6]:PORT */
			h = v + 1;
			he = strchr(h, ']');
			if (he == NULL || he[1] != ':')
				return -1;
			colon = he + 1;
		} else {
			h = v;
			colon = h + strcspn(h, ":, \t");
			if (*colon != ':')
				return -1;
			he = colon;
		}
		if (he == h || (size_t)(he - h) >= sizeof out[n].host ||
		    memchr(h, ',', (size_t)(he - h)) != NULL ||
		    !isdigit((unsigned char)colon[1]))
			return -1;
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || port < 1 || port > 65535)
			return -1;
		memcpy(out[n].host, h, (size_t)(he - h));
		out[n].host[he - h] = '\0';
		out[n].port = (int)port;
		n++;
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end == '\0')
			break;
		if (*end != ',')
			return -1;
		v = end + 1;
	}
	*n_r = n;
	return 0;
}

/* A name Redis takes as one argument: printable, no blanks. */
static int set_name(char *dst, size_t sz, const char *v)
{
	const char *p;

	for (p = v; *p; p++)
		if (!isgraph((unsigned char)*p))
			return -1;
	if (strlen(v) > 100)
		return -1;
	return gl_copy(dst, sz, v);
}

/*
 * Every key: its name, how its value is read, where it goes, its bounds
 * and what a bad value is told. Numbers are whole, from min to max;
 * durations are in seconds (DURATION) or milliseconds (MILLIS); text and
 * paths fit their field. WHITELIST keys keep in min how their files are
 * read (enum gl_wl_file).
 */
enum kind { PATH, OPTPATH, DURATION, MILLIS, INT, LONG, UNSIGNED, BOOL, WORD,
	    TEXT, NAME, HOSTPORT, HOSTPORTS, WHITELIST };

typedef struct key {
	const char *name;
	enum kind kind;
	size_t off, size;           /* the field in gl_config */
	long min, max;
	const char *const *words;   /* WORD: the value is its index */
	const char *why;
} key;

#define FIELD(f) offsetof(gl_config, f), sizeof(((gl_config *)0)->f)
#define WANT_SECS "want a duration of at least 1s (a number with s, m, h, d or w)"
#define WANT_PATH "want an absolute file name"

static const char *const on_error_words[] = { "accept", "defer", NULL };
static const char *const log_words[] = { "none", "defer", "all", NULL };
static const char *const backend_words[] = { "gdbm", "redis", "lmdb", NULL };

static const key keys[] = {
	{ "database", PATH, FIELD(database), 0, 0, NULL, WANT_PATH },
	{ "delay", DURATION, FIELD(delay), 1, 0, NULL, WANT_SECS },
	{ "retry_window", DURATION, FIELD(retry_window), 1, 0, NULL, WANT_SECS },
	{ "pass_lifetime", DURATION, FIELD(pass_lifetime), 1, 0, NULL, WANT_SECS },
	{ "ipv4_prefix", INT, FIELD(ipv4_prefix), 0, 32, NULL,
	  "want a prefix length from 0 to 32" },
	{ "ipv6_prefix", INT, FIELD(ipv6_prefix), 0, 128, NULL,
	  "want a prefix length from 0 to 128" },
	{ "whitelist", WHITELIST, 0, 0, GL_WLF_OWN, 0, NULL,
	  "want an absolute file name no longer than PATH_MAX" },
	{ "whitelist_clients", WHITELIST, 0, 0, GL_WLF_PG_CLIENTS, 0, NULL,
	  "want an absolute file name no longer than PATH_MAX" },
	{ "whitelist_recipients", WHITELIST, 0, 0, GL_WLF_PG_RECIPIENTS, 0,
	  NULL, "want an absolute file name no longer than PATH_MAX" },
	{ "on_error", WORD, FIELD(on_error), 0, 0, on_error_words,
	  "want accept or defer" },
	{ "sender_normalize", BOOL, FIELD(sender_normalize), 0, 0, NULL,
	  "want yes or no" },
	{ "match_pools", BOOL, FIELD(match_pools), 0, 0, NULL, "want yes or no" },
	{ "auto_whitelist_clients", UNSIGNED, FIELD(auto_whitelist_clients), 0,
	  1000000, NULL, "want a whole number from 0 (off) to 1000000" },
	{ "log", WORD, FIELD(log), 0, 0, log_words, "want none, defer or all" },
	{ "backend", WORD, FIELD(backend), 0, 0, backend_words,
	  "want gdbm, lmdb or redis" },
	{ "lock_timeout", MILLIS, FIELD(lock_timeout_ms), 0, 10000, NULL,
	  "want a duration from 0ms to 10s (for example 200ms)" },
	{ "lmdb_sync", BOOL, FIELD(lmdb_sync), 0, 0, NULL, "want yes or no" },
	{ "lmdb_mapsize", LONG, FIELD(lmdb_mapsize_mb), 16, 1048576, NULL,
	  "want a size in MiB from 16 to 1048576" },
	{ "snapshot", PATH, FIELD(snapshot), 0, 0, NULL, WANT_PATH },
	{ "lmdb_snapshot", PATH, FIELD(snapshot), 0, 0, NULL, WANT_PATH },
	{ "counters", OPTPATH, FIELD(counters), 0, 0, NULL,
	  "want an absolute file name or none" },
	{ "redis", HOSTPORT, FIELD(redis), 0, 0, NULL,
	  "want HOST:PORT or an absolute socket path" },
	{ "redis_prefix", TEXT, FIELD(redis_prefix), 0, 100, NULL,
	  "want at most 100 characters" },
	{ "redis_timeout", MILLIS, FIELD(redis_timeout_ms), 1, 10000, NULL,
	  "want a duration from 1ms to 10s (for example 200ms)" },
	{ "redis_password_file", PATH, FIELD(redis_password_file), 0, 0, NULL,
	  WANT_PATH },
	{ "redis_db", INT, FIELD(redis_db), 0, 1000, NULL,
	  "want a database number from 0 to 1000" },
	{ "redis_user", NAME, FIELD(redis_user), 0, 0, NULL,
	  "want a user name of at most 100 characters, no blanks" },
	{ "redis_sentinels", HOSTPORTS, FIELD(redis_sentinels), 0,
	  GL_MAX_SENTINELS, NULL, "want HOST:PORT[, HOST:PORT...] (at most "
	  GL_STR(GL_MAX_SENTINELS) "; IPv6 as [ADDRESS]:PORT)" },
	{ "redis_master_name", NAME, FIELD(redis_master_name), 0, 0, NULL,
	  "want a name of at most 100 characters, no blanks" },
	{ "redis_sentinel_password_file", PATH,
	  FIELD(redis_sentinel_password_file), 0, 0, NULL, WANT_PATH },
};

/* WORD keys store the index of the word in an enum of config.h. */
_Static_assert(sizeof(enum gl_on_error) == sizeof(int) &&
	       sizeof(enum gl_log) == sizeof(int) &&
	       sizeof(enum gl_backend) == sizeof(int), "enums are ints");

static int add_whitelist(gl_config *cfg, const char *v, long kind,
			 const char **why)
{
	if (cfg->nwhitelist_files >= GL_MAX_WHITELIST_FILES) {
		*why = "too many whitelist files (at most "
		       GL_STR(GL_MAX_WHITELIST_FILES) ")";
		return -1;
	}
	if (v[0] != '/' || strlen(v) >= PATH_MAX ||
	    (cfg->whitelist_files[cfg->nwhitelist_files] = strdup(v)) == NULL)
		return -1;
	cfg->whitelist_kinds[cfg->nwhitelist_files] = (unsigned char)kind;
	cfg->nwhitelist_files++;
	return 0;
}

/* Reads v as k says into its field; 0, or -1 leaving the field as it
 * was. */
static int set(gl_config *cfg, const key *k, const char *v, const char **why)
{
	char *f = (char *)cfg + k->off;
	int64_t ms;
	long n;
	int b, i;

	switch (k->kind) {
	case PATH:
		return v[0] == '/' ? gl_copy(f, k->size, v) : -1;
	case OPTPATH:
		return v[0] == '/' || !strcmp(v, "none") ?
		       gl_copy(f, k->size, v) : -1;
	case TEXT:
		return strlen(v) > (size_t)k->max ? -1 : gl_copy(f, k->size, v);
	case HOSTPORT:
		return v[0] != '/' && strchr(v, ':') == NULL ? -1 :
		       gl_copy(f, k->size, v);
	case NAME:
		return set_name(f, k->size, v);
	case HOSTPORTS: {
		gl_hostport hp[GL_MAX_SENTINELS];
		int nhp;

		if (gl_parse_hostports(v, hp, (int)k->max, &nhp) < 0)
			return -1;
		memcpy(f, hp, sizeof hp);
		cfg->nredis_sentinels = nhp;
		return 0;
	}
	case DURATION:
		if (gl_parse_duration(v, 0, &ms) < 0 || ms / 1000 < k->min)
			return -1;
		*(gl_time *)(void *)f = ms / 1000;
		return 0;
	case MILLIS:
		if (gl_parse_duration(v, 1, &ms) < 0 || ms < k->min || ms > k->max)
			return -1;
		*(long *)(void *)f = (long)ms;
		return 0;
	case INT:
	case LONG:
	case UNSIGNED:
		if (gl_parse_uint(v, k->max, &n) < 0 || n < k->min)
			return -1;
		if (k->kind == INT)
			*(int *)(void *)f = (int)n;
		else if (k->kind == LONG)
			*(long *)(void *)f = n;
		else
			*(unsigned *)(void *)f = (unsigned)n;
		return 0;
	case BOOL:
		if (gl_parse_bool(v, &b) < 0)
			return -1;
		*(int *)(void *)f = b;
		return 0;
	case WORD:
		for (i = 0; k->words[i] != NULL; i++)
			if (!strcmp(v, k->words[i])) {
				*(int *)(void *)f = i; /* enums of config.h */
				return 0;
			}
		return -1;
	case WHITELIST:
		return add_whitelist(cfg, v, k->min, why);
	}
	return -1;
}

/* Applies one key; returns 0, or -1 with why (a short phrase) set. */
static int apply(gl_config *cfg, const char *k, const char *v,
		 const char **why)
{
	size_t i;

	for (i = 0; i < sizeof keys / sizeof *keys; i++)
		if (!strcmp(k, keys[i].name)) {
			*why = keys[i].why;
			return set(cfg, &keys[i], v, why);
		}
	*why = "unknown key";
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Adds one error to cfg->errors; each names the file and the line. */
#define BAD(...) gl_note(&cfg->errors, __VA_ARGS__)

/* Reads every line, noting each error and going on to the next line. */
static void parse_file(FILE *fp, gl_config *cfg)
{
	char line[LINE_MAX_LEN + 2], pk[64], pv[128];
	const char *why;
	unsigned lineno = 0;
	int c;

	while (fgets(line, sizeof line, fp) != NULL) {
		char *s, *eq, *k, *v, *hash;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			BAD("%s:%u: line longer than %d bytes", cfg->path,
			    lineno, LINE_MAX_LEN);
			while ((c = getc(fp)) != EOF && c != '\n')
				;
			continue;
		}
		if (memchr(line, '\0', strlen(line) + 1) != line + strlen(line)) {
			BAD("%s:%u: NUL byte", cfg->path, lineno);
			continue;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		/* A comment may also follow a value after white space. */
		for (hash = s; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash[-1] == ' ' || hash[-1] == '\t') {
				*hash = '\0';
				break;
			}
		eq = strchr(s, '=');
		if (eq == NULL) {
			BAD("%s:%u: '%s': not a \"key = value\" line",
			    cfg->path, lineno, gl_printable(pk, sizeof pk, s));
			continue;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (*k == '\0')
			BAD("%s:%u: a line with no key before '='", cfg->path,
			    lineno);
		else if (*v == '\0')
			BAD("%s:%u: key '%s': empty value", cfg->path, lineno,
			    gl_printable(pk, sizeof pk, k));
		else if (apply(cfg, k, v, &why) == 0)
			continue;
		else if (!strcmp(why, "unknown key"))
			BAD("%s:%u: unknown key '%s'", cfg->path, lineno,
			    gl_printable(pk, sizeof pk, k));
		else
			BAD("%s:%u: key '%s': bad value '%s': %s", cfg->path,
			    lineno, gl_printable(pk, sizeof pk, k),
			    gl_printable(pv, sizeof pv, v), why);
	}
	if (ferror(fp))
		BAD("%s: read error after line %u", cfg->path, lineno);
}

/* What id describes of st, or of a file stat() failed on with err (st
 * NULL). */
static void file_id(gl_file_id *id, const struct stat *st, int err)
{
	memset(id, 0, sizeof *id);
	if (st == NULL) {
		id->err = err;
		return;
	}
	id->present = 1;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
	id->ctime = st->st_ctim;
}

/* Notes st (NULL: stat() failed with err) as the next file read; clears
 * files->settled if it changed less than GL_SETTLE_SECS before now. The
 * change time is the one to look at: a file's modification time can be
 * set to anything (touch -d, rsync -t), its change time only by the
 * kernel, to its clock, at every change. */
static void note_file(gl_config_files *files, const struct stat *st,
		      int err, const struct timespec *now)
{
	gl_file_id *id = &files->f[files->n++];

	file_id(id, st, err);
	if (id->present && now->tv_sec - id->ctime.tv_sec < GL_SETTLE_SECS)
		files->settled = 0;
}

int gl_files_current(const gl_config_files *files)
{
	struct stat st;
	gl_file_id now;
	int i;

	if (!files->settled || files->n < 1)
		return 0;
	for (i = 0; i < files->n; i++) {
		const gl_file_id *was = &files->f[i];

		/* i == 0 is the configuration file itself; later ones are
		 * whitelists, in cfg->whitelist_files order */
		if (stat(files->names[i], &st) == 0)
			file_id(&now, &st, 0);
		else
			file_id(&now, NULL, errno);
		/* the daemon that read it may be root; this process not */
		if (now.present && faccessat(AT_FDCWD, files->names[i], R_OK,
					     AT_EACCESS) != 0)
			return 0;
		if (now.present != was->present || now.err != was->err ||
		    now.dev != was->dev ||
		    now.ino != was->ino || now.size != was->size ||
		    now.mtime.tv_sec != was->mtime.tv_sec ||
		    now.mtime.tv_nsec != was->mtime.tv_nsec ||
		    now.ctime.tv_sec != was->ctime.tv_sec ||
		    now.ctime.tv_nsec != was->ctime.tv_nsec)
			return 0;
	}
	return 1;
}

int gl_files_local(const gl_config_files *files)
{
	/* statfs(2) f_type of the local file systems a Debian host keeps
	 * /etc on; anything else counts as remote */
	static const unsigned long local[] = {
		EXT4_SUPER_MAGIC,      /* ext2, ext3, ext4 */
		XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC, TMPFS_MAGIC, RAMFS_MAGIC,
		F2FS_SUPER_MAGIC, OVERLAYFS_SUPER_MAGIC, SQUASHFS_MAGIC,
		REISERFS_SUPER_MAGIC,
		/* not in Debian 12's <linux/magic.h> */
		0x2FC12FC1,  /* ZFS */
		0x3153464A,  /* JFS */
		0xCA451A4E,  /* bcachefs */
	};
	struct statfs sf;
	size_t k;
	int i;

	if (files->n < 1)
		return 0;
	for (i = 0; i < files->n; i++) {
		if (!files->f[i].present)
			continue;
		if (statfs(files->names[i], &sf) != 0)
			return 0;
		for (k = 0; k < sizeof local / sizeof local[0]; k++)
			if ((unsigned long)sf.f_type == local[k])
				break;
		if (k == sizeof local / sizeof local[0])
			return 0;
	}
	return 1;
}

int gl_config_load(const char *path, gl_config *cfg, gl_err *err)
{
	struct timespec now;
	struct stat st;
	const char *why;
	FILE *fp;
	int i;

	gl_config_defaults(cfg);
	if (gl_copy(cfg->path, sizeof cfg->path, path) < 0)
		return gl_fail(err, "configuration file name too long");
	fp = gl_fopen_regular(path, &st, &why);
	if (fp == NULL)
		return gl_fail(err, "%s: cannot open configuration: %s", path,
			       why);
	cfg->files.settled = clock_gettime(CLOCK_REALTIME, &now) == 0;
	cfg->files.names[0] = cfg->path;
	note_file(&cfg->files, &st, 0, &now);
	parse_file(fp, cfg);
	fclose(fp);
	if (cfg->retry_window < cfg->delay)
		BAD("%s: key 'retry_window': shorter than 'delay', so no "
		    "retry could ever pass", path);
	if (cfg->nredis_sentinels > 0 && cfg->redis_master_name[0] == '\0')
		BAD("%s: key 'redis_sentinels': set redis_master_name too (the "
		    "master's name at the sentinels)", path);
	if (cfg->nredis_sentinels == 0 && cfg->redis_master_name[0] != '\0')
		BAD("%s: key 'redis_master_name': set redis_sentinels too (the "
		    "sentinels that know it)", path);
	if (cfg->counters[0] && (!strcmp(cfg->counters, cfg->database) ||
				 !strcmp(cfg->counters, cfg->snapshot)))
		BAD("%s: key 'counters': names the database or its snapshot; "
		    "want a file of its own", path);
	if (cfg->redis_user[0] && cfg->redis_password_file[0] == '\0')
		BAD("%s: key 'redis_user': set redis_password_file too (AUTH "
		    "sends the user and the password)", path);
	for (i = 0; i < cfg->nwhitelist_files; i++) {
		int found = stat(cfg->whitelist_files[i], &st) == 0;

		cfg->files.names[cfg->files.n] = cfg->whitelist_files[i];
		note_file(&cfg->files, found ? &st : NULL, found ? 0 : errno,
			  &now);
		if (cfg->whitelist_kinds[i] == GL_WLF_OWN ?
		    gl_whitelist_load_file(&cfg->whitelist,
					   cfg->whitelist_files[i],
					   cfg->sender_normalize,
					   &cfg->warnings, err) < 0 :
		    gl_pgwl_load_file(&cfg->whitelist, cfg->whitelist_files[i],
				      cfg->whitelist_kinds[i] ==
				      GL_WLF_PG_CLIENTS ? GL_PG_CLIENTS :
				      GL_PG_RECIPIENTS, &cfg->warnings, err) < 0) {
			cfg->files.settled = 0;
			return -1;
		}
	}
	if (cfg->errors.n > 0 || cfg->errors.dropped > 0) {
		cfg->files.settled = 0;
		return gl_fail(err, "%s", cfg->errors.n > 0 ? cfg->errors.msg[0]
			       : "out of memory");
	}
	return 0;
}
