/* dump.c - greylist-admin export and import: every record and database
 * whitelist entry as JSON lines. */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

static int export_one(void *arg, const void *key, size_t klen,
		      const void *val, size_t vlen)
{
	json_t *o = NULL;
	gl_pair p;

	(void)arg;
	if (gl_pair_decode(key, klen, val, vlen, &p, NULL) != 0)
		return 0; /* the whitelist is exported apart; junk is skipped */
	if (p.kind == GL_KEY_TRIPLET)
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}",
			      "type", "triplet", "client", p.t.client, "sender",
			      p.t.sender, "recipient", p.t.rcpt, "state",
			      gl_state_name(p.r.state), "first_seen",
			      (json_int_t)p.r.first_seen, "last_seen",
			      (json_int_t)p.r.last_seen, "attempts",
			      (json_int_t)p.r.attempts, "passed_at",
			      (json_int_t)p.r.passed_at);
	else
		o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "type", "client",
			      "client", p.client, "passed", (json_int_t)p.c.count,
			      "first_pass", (json_int_t)p.c.first_pass,
			      "last_pass", (json_int_t)p.c.last_pass);
	emit(o, "a record");
	return 0;
}

int cmd_export(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	gl_store *st = a->st;
	gl_whitelist *dbwl;
	const gl_wl_entry *e;
	gl_err err;

	(void)argv;
	if (argc != 1)
		usage();
	if (gl_store_scan(st, export_one, NULL, &err) < 0)
		die(err.msg);
	dbwl = load_dbwl(cfg, st);
	for (e = dbwl ? dbwl->head : NULL; e != NULL; e = e->next) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "type",
				      "whitelist", "entry", e->entry, "owner",
				      e->owner, "expires", (json_int_t)e->expires,
				      "comment", e->comment);

		emit(o, "a record");
	}
	gl_whitelist_free(dbwl);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write the export");
	return 0;
}

static const char *jstr(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jint(json_t *o, const char *name, json_int_t *out)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

typedef struct import_ctx {
	gl_pairs ps;
	gl_whitelist *wl; /* whitelist entries to merge */
	size_t nwl;       /* how many */
} import_ctx;

/* Turns one JSON line into a pair or a whitelist line; NULL or why. */
static const char *import_line(const gl_config *cfg, import_ctx *ic,
			       json_t *o)
{
	gl_err err;
	const char *type = jstr(o, "type");
	json_int_t a, b, c, d;
	char key[GL_KEY_MAX];
	int klen;

	if (type == NULL)
		return "no \"type\"";
	if (!strcmp(type, "triplet")) {
		gl_triplet t;
		gl_record r, check;
		unsigned char v[GL_RECORD_SIZE];
		const char *st = jstr(o, "state");

		if (!jstr(o, "client") || !jstr(o, "sender") || !jstr(o, "recipient") ||
		    !st || jint(o, "first_seen", &a) || jint(o, "last_seen", &b) ||
		    jint(o, "attempts", &c) || jint(o, "passed_at", &d))
			return "a triplet wants client, sender, recipient, state, "
			       "first_seen, last_seen, attempts and passed_at";
		if (gl_copy(t.client, sizeof t.client, jstr(o, "client")) < 0 ||
		    gl_copy(t.sender, sizeof t.sender, jstr(o, "sender")) < 0 ||
		    gl_copy(t.rcpt, sizeof t.rcpt, jstr(o, "recipient")) < 0)
			return "a field is too long";
		if (c < 1 || c > UINT32_MAX)
			return "bad attempts";
		r.state = !strcmp(st, "passed") ? GL_PASSED : GL_PENDING;
		if (strcmp(st, "passed") && strcmp(st, "pending"))
			return "state is neither pending nor passed";
		r.first_seen = a;
		r.last_seen = b;
		r.attempts = (uint32_t)c;
		r.passed_at = d;
		gl_record_encode(&r, v);
		if (gl_record_decode(v, sizeof v, &check, NULL) < 0)
			return "impossible times for its state";
		klen = gl_key_encode(&t, key, sizeof key);
		if (klen < 0 || gl_key_decode(key, (size_t)klen, &t) < 0)
			return "empty or too long client, sender or recipient";
		if (gl_pairs_add(&ic->ps, key, (size_t)klen, v, sizeof v, &err) < 0)
			die_err(&err);
		return NULL;
	}
	if (!strcmp(type, "client")) {
		gl_client_record cr, check;
		unsigned char v[GL_CLIENT_RECORD_SIZE];
		const char *client = jstr(o, "client");

		if (!client || jint(o, "passed", &a) || jint(o, "first_pass", &b) ||
		    jint(o, "last_pass", &c))
			return "a client wants client, passed, first_pass, last_pass";
		if (a < 1 || a > UINT32_MAX)
			return "bad passed count";
		cr.count = (uint32_t)a;
		cr.first_pass = b;
		cr.last_pass = c;
		gl_client_record_encode(&cr, v);
		klen = gl_client_key(client, key, sizeof key);
		if (klen < 0 || !*client || strlen(client) > GL_CLIENT_MAX ||
		    gl_client_record_decode(v, sizeof v, &check, NULL) < 0)
			return "bad client record";
		if (gl_pairs_add(&ic->ps, key, (size_t)klen, v, sizeof v, &err) < 0)
			die_err(&err);
		return NULL;
	}
	if (!strcmp(type, "whitelist")) {
		const char *entry = jstr(o, "entry"), *owner = jstr(o, "owner");
		const char *comment = jstr(o, "comment");
		char exp[32];
		gl_wl_entry *e, **tail;

		if (!entry || !owner || !comment || jint(o, "expires", &a))
			return "a whitelist entry wants entry, owner, expires, comment";
		snprintf(exp, sizeof exp, "@%lld", (long long)a);
		e = gl_wl_make(entry, owner, a > 0 ? exp : NULL, comment,
			       cfg->sender_normalize, 0, "database", &err);
		if (e == NULL)
			return "not a whitelist entry (or white space or '#' in "
			       "entry or owner, or a newline in the comment)";
		if (ic->wl == NULL && (ic->wl = calloc(1, sizeof *ic->wl)) == NULL)
			die("out of memory");
		for (tail = &ic->wl->head; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = e;
		ic->nwl++;
		return NULL;
	}
	return "unknown \"type\"";
}


int cmd_import(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	gl_store *st = a->st;
	import_ctx ic;
	char *line = NULL;
	size_t cap = 0, lineno = 0, done;
	ssize_t n;
	gl_err err;

	(void)argv;
	if (argc != 1)
		usage();
	memset(&ic, 0, sizeof ic);
	/* Everything is checked before anything is written. */
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *o;
		const char *why;

		lineno++;
		if (n == 1 && line[0] == '\n')
			continue;
		o = json_loadb(line, (size_t)n, 0, &je);
		if (o == NULL || !json_is_object(o)) {
			fprintf(stderr, "%s: stdin:%zu: not a JSON object: %s "
				"(nothing imported)\n", progname, lineno,
				o ? "" : je.text);
			json_decref(o);
			break;
		}
		why = import_line(cfg, &ic, o);
		json_decref(o);
		if (why != NULL) {
			fprintf(stderr, "%s: stdin:%zu: %s (nothing imported)\n",
				progname, lineno, why);
			break;
		}
	}
	free(line);
	if (n > 0) {    /* stopped at a bad line: write nothing */
		gl_pairs_free(&ic.ps);
		gl_whitelist_free(ic.wl);
		return 1;
	}
	if (gl_batch_write(st, cfg, &ic.ps, GL_BATCH_REPLACE, now_s(), &done,
			   &err) < 0 ||
	    gl_dbwl_merge(st, cfg->sender_normalize, ic.wl, &err) < 0)
		die_err(&err);
	printf("imported %zu records and %zu whitelist entries\n", done,
	       ic.nwl);
	admin_save(a);
	if (done < ic.ps.n)
		die("some records changed while importing and were not written");
	gl_pairs_free(&ic.ps);
	gl_whitelist_free(ic.wl);
	return 0;
}

