/* whitelist.c - greylist-admin whitelist add, del and list. Editing is
 * the core's (dbwl.h): entries are parsed and compared by what they
 * match, never by their text. */
#include "admin.h"

#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned count_entries(const gl_whitelist *wl)
{
	const gl_wl_entry *e;
	unsigned n = 0;

	for (e = wl ? wl->head : NULL; e != NULL; e = e->next)
		n++;
	return n;
}

gl_whitelist *load_dbwl(const gl_config *cfg, gl_store *st)
{
	gl_whitelist *wl = NULL;
	gl_notes bad = { 0 };
	gl_dbwl cur;
	gl_err err;
	size_t i;

	if (gl_dbwl_read(st, &cur, &err) < 0)
		die_err(&err);
	if (gl_whitelist_parse_text(&wl, cur.text, cur.len,
				    cfg->sender_normalize, "database", &bad,
				    &err) < 0)
		die_err(&err);
	for (i = 0; i < bad.n; i++)
		fprintf(stderr, "%s: warning: %s\n", progname, bad.msg[i]);
	gl_notes_free(&bad);
	gl_dbwl_free(&cur);
	return wl;
}

const char *invoking_user(void)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if (u != NULL && *u)
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

static void print_entry(const gl_wl_entry *e, gl_time now, int json)
{
	char exp[32];

	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "entry",
				      e->entry, "owner", e->owner, "comment",
				      e->comment, "origin", e->origin, "expired",
				      gl_wl_expired(e, now));

		if (o != NULL)
			json_object_set_new(o, "expires", e->expires ?
					    json_integer(e->expires) : json_null());
		emit(o, "a record");
		return;
	}
	header_out();
	printf("%-32s %-12s %-19s%s %-28s %s\n", e->entry,
	       *e->owner ? e->owner : "-",
	       e->expires ? fmt_time(e->expires, exp, sizeof exp) : "never",
	       gl_wl_expired(e, now) ? "*" : " ", e->origin,
	       e->comment);
}

static int wl_list(const gl_config *cfg, gl_store *st, int json)
{
	gl_whitelist *dbwl = load_dbwl(cfg, st);
	const gl_wl_entry *x;
	gl_time now = now_s();

	if (!json)
		set_header("%-32s %-12s %-20s %-28s %s\n", "ENTRY", "OWNER",
			   "EXPIRES (UTC)", "ORIGIN", "COMMENT");
	for (x = cfg->whitelist ? cfg->whitelist->head : NULL; x; x = x->next)
		print_entry(x, now, json);
	for (x = dbwl ? dbwl->head : NULL; x; x = x->next)
		print_entry(x, now, json);
	gl_whitelist_free(dbwl);
	header_out();
	return 0;
}

int cmd_whitelist(admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "comment", required_argument, NULL, 'c' },
		{ "owner", required_argument, NULL, 'o' },
		{ "expires", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const gl_config *cfg = a->cfg;
	const char *comment = "", *owner = invoking_user(), *expires = NULL;
	char p[100], exp[32];
	gl_time now = now_s();
	gl_wl_entry *e;
	gl_err err;
	int ch, json = 0, rc;

	if (argc < 2)
		usage();
	/* Options after the subcommand: scan argv[1..] afresh. */
	argc--;
	argv++;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': comment = optarg; break;
		case 'o': owner = optarg; break;
		case 'e': expires = optarg; break;
		case 'j': json = 1; break;
		default: usage();
		}
	}
	if (!strcmp(argv[0], "list")) {
		if (optind != argc)
			usage();
		return wl_list(cfg, a->st, json);
	}
	if (optind != argc - 1 ||
	    (strcmp(argv[0], "del") != 0 && strcmp(argv[0], "add") != 0))
		usage();
	if (!strcmp(argv[0], "del")) {
		e = gl_wl_make(argv[optind], "", NULL, "", cfg->sender_normalize,
			       now, "database", &err);
		if (e == NULL)
			die_err(&err);
		rc = gl_dbwl_del(a->st, cfg->sender_normalize, e, &err);
		gl_wl_entry_free(e);
		if (rc < 0)
			die_err(&err);
		if (rc == 0) {
			fprintf(stderr, "%s: '%s' is not in the database whitelist"
				" (entries in files are changed in the file)\n",
				progname, gl_printable(p, sizeof p, argv[optind]));
			return 1;
		}
		printf("removed %s\n", argv[optind]);
		admin_save(a);
		return 0;
	}
	e = gl_wl_make(argv[optind], owner, expires, comment,
		       cfg->sender_normalize, now, "database", &err);
	if (e == NULL)
		die_err(&err);
	if (gl_wl_expired(e, now))
		fprintf(stderr, "%s: warning: %s expired at %s UTC: it will "
			"never match ('purge' removes it)\n", progname,
			e->entry, fmt_time(e->expires, p, sizeof p));
	if (gl_dbwl_add(a->st, cfg->sender_normalize, e, &rc, &err) < 0)
		die_err(&err);
	printf("%s %s (owner %s, expires %s%s)%s%s\n",
	       rc ? "updated" : "added", e->entry, *e->owner ? e->owner : "-",
	       e->expires ? fmt_time(e->expires, exp, sizeof exp) : "never",
	       e->expires ? " UTC" : "", *e->comment ? " # " : "", e->comment);
	gl_wl_entry_free(e);
	admin_save(a);
	return 0;
}
