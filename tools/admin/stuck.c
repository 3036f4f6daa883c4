/*
 * stuck.c - greylist-admin stuck: senders that retry but never get
 * through, named with what would let them through. The finding is the
 * core's (stuck.h); this prints it. Addresses come from SMTP: they are
 * printed printable, and the whitelist command is quoted for a shell.
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include "../../module/core/parse.h"
#include "../../module/core/stuck.h"

typedef struct stuck_ctx {
	gl_stuck *s;
	unsigned long bad;
} stuck_ctx;

static int stuck_one(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	stuck_ctx *sc = arg;
	gl_pair p;
	int rc = gl_pair_decode(key, klen, val, vlen, &p, NULL);

	if (rc < 0)
		sc->bad++;
	if (rc != 0 || p.kind != GL_KEY_TRIPLET)
		return 0;
	if (gl_stuck_add(sc->s, &p.t, &p.r) < 0)
		die("out of memory");
	return 0;
}

/* s as one shell word: as it is when it holds only safe characters,
 * else in single quotes (a quote inside as '\''), non-printables '?'. */
static const char *shell_word(const char *s, char *buf, size_t sz)
{
	size_t i = 0;

	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789@._+=:/-") == strlen(s)) {
		snprintf(buf, sz, "%s", s);
		return buf;
	}
	buf[i++] = '\'';
	for (; *s && i + 6 < sz; s++) {
		if (*s == '\'') {
			memcpy(buf + i, "'\\''", 4);
			i += 4;
		} else {
			buf[i++] = *s >= ' ' && *s <= '~' ? *s : '?';
		}
	}
	buf[i++] = '\'';
	buf[i] = '\0';
	return buf;
}

/* The command that whitelists g's entry, into buf ("" when none). */
static void command(const admin *a, const gl_stuck_group *g, const char *owner,
		    char *buf, size_t sz)
{
	char conf[PATH_MAX + 64], e[GL_ADDR_MAX * 4 + 8], o[512];

	buf[0] = '\0';
	if (!g->entry[0])
		return;
	conf[0] = '\0';
	if (strcmp(a->conf, GL_DEFAULT_CONFIG) != 0) {
		char w[PATH_MAX * 4 + 8];

		snprintf(conf, sizeof conf, " -c %s",
			 shell_word(a->conf, w, sizeof w));
	}
	snprintf(buf, sz, "%s%s whitelist add %s --owner %s --expires 30d "
		 "--comment 'stuck sender: %u first contacts from %zu clients "
		 "and %zu senders'", progname, conf,
		 shell_word(g->entry, e, sizeof e), shell_word(owner, o, sizeof o),
		 g->first_contacts, g->nclients, g->nsenders);
}

static json_t *strings(char *const *v, size_t n)
{
	json_t *a = json_array();
	char p[GL_ADDR_MAX + 1];
	size_t i;

	for (i = 0; a != NULL && i < n && i < GL_STUCK_LIST_MAX; i++)
		json_array_append_new(a, json_string(gl_printable(p, sizeof p,
								   v[i])));
	return a;
}

static void print_list(const char *what, char *const *v, size_t n)
{
	char p[GL_ADDR_MAX + 1];
	size_t i;

	printf("  %s:", what);
	for (i = 0; i < n && i < GL_STUCK_LIST_MAX; i++)
		printf("%s %s", i ? "," : "", gl_printable(p, sizeof p, v[i]));
	if (n > GL_STUCK_LIST_MAX)
		printf(" and %zu more", n - GL_STUCK_LIST_MAX);
	printf("\n");
}

static void print_group(const admin *a, const gl_stuck_group *g,
			const char *owner, int json)
{
	char d[GL_DNS_NAME_MAX + 8], r[GL_ADDR_MAX + 1], f[32], l[32];
	char cmd[GL_ADDR_MAX * 4 + PATH_MAX * 4 + 1024];

	command(a, g, owner, cmd, sizeof cmd);
	gl_printable(d, sizeof d, g->domain);
	gl_printable(r, sizeof r, g->rcpt);
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
				      "s:b}", "domain", d, "recipient", r,
				      "first_contacts", (json_int_t)g->first_contacts,
				      "attempts", (json_int_t)g->attempts,
				      "clients_total", (json_int_t)g->nclients,
				      "senders_total", (json_int_t)g->nsenders,
				      "first_attempt", (json_int_t)g->first,
				      "last_attempt", (json_int_t)g->last,
				      "pooled", g->pooled);

		if (o != NULL) {
			json_object_set_new(o, "clients", strings(g->clients,
								  g->nclients));
			json_object_set_new(o, "senders", strings(g->senders,
								  g->nsenders));
			json_object_set_new(o, "whitelist_entry", g->entry[0] ?
					    json_string(g->entry) : json_null());
			json_object_set_new(o, "whitelist_command", cmd[0] ?
					    json_string(cmd) : json_null());
		}
		emit(o, "a stuck sender");
		return;
	}
	printf("%s -> %s: %u first contacts (%u attempts) from %zu clients "
	       "and %zu senders, none passed\n", d, r, g->first_contacts,
	       g->attempts, g->nclients, g->nsenders);
	printf("  first %s, last %s (UTC)\n", fmt_time(g->first, f, sizeof f),
	       fmt_time(g->last, l, sizeof l));
	print_list("clients", g->clients, g->nclients);
	print_list("senders", g->senders, g->nsenders);
	if (cmd[0])
		printf("  let it through: %s\n", cmd);
	if (!g->pooled && g->nclients > 1)
		printf("  or, when these clients are the domain's pool, key "
		       "them on it: GREYLIST_USE_SPF = yes or "
		       "GREYLIST_USE_HOST_NAME = yes in Exim's configuration "
		       "(README, \"Senders with many addresses\")\n");
}

int cmd_stuck(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	const char *owner = invoking_user(), *since = NULL;
	const gl_whitelist *wl[2];
	gl_whitelist *dbwl;
	stuck_ctx sc = { NULL, 0 };
	int64_t ms = (int64_t)cfg->retry_window * 1000;
	int json = 0, i;
	gl_time now = now_s();
	char p[64], t[32];
	gl_err err;
	size_t n;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--since") && i + 1 < argc)
			since = argv[++i];
		else if (!strcmp(argv[i], "--owner") && i + 1 < argc)
			owner = argv[++i];
		else
			usage();
	if (since != NULL && (gl_parse_duration(since, 0, &ms) < 0 ||
			      ms < 1000)) {
		fprintf(stderr, "%s: --since %s: want a duration such as 1h or "
			"2d\n", progname, gl_printable(p, sizeof p, since));
		exit(2);
	}
	if ((sc.s = gl_stuck_new(cfg, now - ms / 1000, now)) == NULL)
		die("out of memory");
	if (gl_store_scan(a->st, stuck_one, &sc, &err) < 0)
		die_err(&err);
	dbwl = load_dbwl(cfg, a->st);
	wl[0] = cfg->whitelist;
	wl[1] = dbwl;
	if (gl_stuck_finish(sc.s, wl, 2) < 0)
		die("out of memory");
	n = gl_stuck_groups(sc.s);
	for (i = 0; (size_t)i < n; i++)
		print_group(a, gl_stuck_group_at(sc.s, (size_t)i), owner, json);
	if (!json && n == 0)
		printf("no stuck senders (first contacts since %s UTC)\n",
		       fmt_time(now - ms / 1000, t, sizeof t));
	if (sc.bad)
		fprintf(stderr, "%s: %lu records could not be read (see "
			"'recover')\n", progname, sc.bad);
	gl_stuck_free(sc.s);
	gl_whitelist_free(dbwl);
	return 0;
}
