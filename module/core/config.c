/* config.c - parsing and checking of the configuration file. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whitelist.h"

#define LINE_MAX_LEN 4096
#define TEN_YEARS_MS (10LL * 366 * 86400 * 1000)

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
}

int gl_parse_duration(const char *s, int allow_ms, int64_t *ms_r)
{
	int64_t n = 0, unit;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > TEN_YEARS_MS)
			return -1;
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		unit = 1000;
	else if (allow_ms && strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		unit = 3600 * 1000;
	else if (strcmp(p, "d") == 0)
		unit = 86400 * 1000;
	else if (strcmp(p, "w") == 0)
		unit = 7 * 86400 * 1000;
	else
		return -1;
	if (n > TEN_YEARS_MS / unit)
		return -1;
	*ms_r = n * unit;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") ||
		 !strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int parse_uint(const char *v, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -1;
	*out = n;
	return 0;
}

/* Seconds from a duration, for keys that do not take "ms". */
static int parse_secs(const char *v, gl_time min, gl_time *out)
{
	int64_t ms;

	if (gl_parse_duration(v, 0, &ms) < 0 || ms / 1000 < min)
		return -1;
	*out = ms / 1000;
	return 0;
}

static int parse_ms(const char *v, long min, long max, long *out)
{
	int64_t ms;

	if (gl_parse_duration(v, 1, &ms) < 0 || ms < min || ms > max)
		return -1;
	*out = (long)ms;
	return 0;
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

static int set_path(char *dst, size_t sz, const char *v)
{
	if (v[0] != '/')
		return -1;
	return gl_copy(dst, sz, v);
}

/* Applies one key; returns 0, or -1 with why (a short phrase) set. */
static int apply(gl_config *cfg, const char *k, const char *v,
		 const char **why)
{
	long n;
	int b;

	*why = NULL;
	if (!strcmp(k, "database")) {
		*why = "want an absolute file name";
		return set_path(cfg->database, sizeof cfg->database, v);
	}
	if (!strcmp(k, "delay")) {
		*why = "want a duration of at least 1s (a number with s, m, h, d or w)";
		return parse_secs(v, 1, &cfg->delay);
	}
	if (!strcmp(k, "retry_window")) {
		*why = "want a duration of at least 1s (a number with s, m, h, d or w)";
		return parse_secs(v, 1, &cfg->retry_window);
	}
	if (!strcmp(k, "pass_lifetime")) {
		*why = "want a duration of at least 1s (a number with s, m, h, d or w)";
		return parse_secs(v, 1, &cfg->pass_lifetime);
	}
	if (!strcmp(k, "ipv4_prefix")) {
		*why = "want a prefix length from 0 to 32";
		if (parse_uint(v, 32, &n) < 0)
			return -1;
		cfg->ipv4_prefix = (int)n;
		return 0;
	}
	if (!strcmp(k, "ipv6_prefix")) {
		*why = "want a prefix length from 0 to 128";
		if (parse_uint(v, 128, &n) < 0)
			return -1;
		cfg->ipv6_prefix = (int)n;
		return 0;
	}
	if (!strcmp(k, "whitelist")) {
		if (cfg->nwhitelist_files >= GL_MAX_WHITELIST_FILES) {
			*why = "too many whitelist files (at most 32)";
			return -1;
		}
		*why = "want an absolute file name";
		return set_path(cfg->whitelist_files[cfg->nwhitelist_files++],
				PATH_MAX, v);
	}
	if (!strcmp(k, "on_error")) {
		*why = "want accept or defer";
		if (!strcmp(v, "accept"))
			cfg->on_error = GL_ON_ERROR_ACCEPT;
		else if (!strcmp(v, "defer"))
			cfg->on_error = GL_ON_ERROR_DEFER;
		else
			return -1;
		return 0;
	}
	if (!strcmp(k, "sender_normalize") || !strcmp(k, "match_pools") ||
	    !strcmp(k, "lmdb_sync")) {
		*why = "want yes or no";
		if (parse_bool(v, &b) < 0)
			return -1;
		if (k[0] == 's')
			cfg->sender_normalize = b;
		else if (k[0] == 'm')
			cfg->match_pools = b;
		else
			cfg->lmdb_sync = b;
		return 0;
	}
	if (!strcmp(k, "lmdb_mapsize")) {
		*why = "want a size in MiB from 16 to 1048576";
		if (parse_uint(v, 1048576, &n) < 0 || n < 16)
			return -1;
		cfg->lmdb_mapsize_mb = n;
		return 0;
	}
	if (!strcmp(k, "lmdb_snapshot")) {
		*why = "want an absolute file name";
		return set_path(cfg->lmdb_snapshot, sizeof cfg->lmdb_snapshot, v);
	}
	if (!strcmp(k, "auto_whitelist_clients")) {
		*why = "want a whole number from 0 (off) to 1000000";
		if (parse_uint(v, 1000000, &n) < 0)
			return -1;
		cfg->auto_whitelist_clients = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "log")) {
		*why = "want none, defer or all";
		if (!strcmp(v, "none"))
			cfg->log = GL_LOG_NONE;
		else if (!strcmp(v, "defer"))
			cfg->log = GL_LOG_DEFER;
		else if (!strcmp(v, "all"))
			cfg->log = GL_LOG_ALL;
		else
			return -1;
		return 0;
	}
	if (!strcmp(k, "backend")) {
		*why = "want gdbm, lmdb or redis";
		if (!strcmp(v, "gdbm"))
			cfg->backend = GL_BACKEND_GDBM;
		else if (!strcmp(v, "redis"))
			cfg->backend = GL_BACKEND_REDIS;
		else if (!strcmp(v, "lmdb"))
			cfg->backend = GL_BACKEND_LMDB;
		else
			return -1;
		return 0;
	}
	if (!strcmp(k, "redis")) {
		*why = "want HOST:PORT or an absolute socket path";
		if (v[0] != '/' && strchr(v, ':') == NULL)
			return -1;
		return gl_copy(cfg->redis, sizeof cfg->redis, v);
	}
	if (!strcmp(k, "redis_prefix")) {
		*why = "want at most 100 characters";
		if (strlen(v) > 100)
			return -1;
		return gl_copy(cfg->redis_prefix, sizeof cfg->redis_prefix, v);
	}
	if (!strcmp(k, "redis_timeout")) {
		*why = "want a duration from 1ms to 10s (for example 200ms)";
		return parse_ms(v, 1, 10000, &cfg->redis_timeout_ms);
	}
	if (!strcmp(k, "redis_password_file")) {
		*why = "want an absolute file name";
		return set_path(cfg->redis_password_file,
				sizeof cfg->redis_password_file, v);
	}
	if (!strcmp(k, "redis_user")) {
		*why = "want a user name of at most 100 characters, no blanks";
		return set_name(cfg->redis_user, sizeof cfg->redis_user, v);
	}
	if (!strcmp(k, "redis_sentinels")) {
		*why = "want HOST:PORT[, HOST:PORT...] (at most 8; IPv6 as "
		       "[ADDRESS]:PORT)";
		{
			gl_hostport hp[GL_MAX_SENTINELS];
			int nhp;

			if (gl_parse_hostports(v, hp, GL_MAX_SENTINELS, &nhp) < 0)
				return -1;
			memcpy(cfg->redis_sentinels, hp, sizeof hp);
			cfg->nredis_sentinels = nhp;
			return 0;
		}
	}
	if (!strcmp(k, "redis_master_name")) {
		*why = "want a name of at most 100 characters, no blanks";
		return set_name(cfg->redis_master_name,
				sizeof cfg->redis_master_name, v);
	}
	if (!strcmp(k, "redis_sentinel_password_file")) {
		*why = "want an absolute file name";
		return set_path(cfg->redis_sentinel_password_file,
				sizeof cfg->redis_sentinel_password_file, v);
	}
	if (!strcmp(k, "redis_db")) {
		*why = "want a database number from 0 to 1000";
		if (parse_uint(v, 1000, &n) < 0)
			return -1;
		cfg->redis_db = (int)n;
		return 0;
	}
	if (!strcmp(k, "lock_timeout")) {
		*why = "want a duration from 0ms to 10s (for example 200ms)";
		return parse_ms(v, 0, 10000, &cfg->lock_timeout_ms);
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

int gl_config_load(const char *path, gl_config *cfg, gl_err *err)
{
	FILE *fp;
	int i;

	gl_config_defaults(cfg);
	if (gl_copy(cfg->path, sizeof cfg->path, path) < 0)
		return gl_fail(err, "configuration file name too long");
	fp = fopen(path, "re");
	if (fp == NULL)
		return gl_fail(err, "%s: cannot open configuration: %s", path,
			       strerror(errno));
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
	if (cfg->redis_user[0] && cfg->redis_password_file[0] == '\0')
		BAD("%s: key 'redis_user': set redis_password_file too (AUTH "
		    "sends the user and the password)", path);
	for (i = 0; i < cfg->nwhitelist_files; i++)
		if (gl_whitelist_load_file(&cfg->whitelist,
					   cfg->whitelist_files[i],
					   cfg->sender_normalize,
					   &cfg->warnings, err) < 0)
			return -1;
	if (cfg->errors.n > 0 || cfg->errors.dropped > 0)
		return gl_fail(err, "%s", cfg->errors.n > 0 ? cfg->errors.msg[0]
			       : "out of memory");
	return 0;
}
