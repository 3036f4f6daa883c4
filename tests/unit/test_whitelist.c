/* test_whitelist.c - entry forms, options, errors, matching, expiry. */
#include "unit.h"

#include "../../module/core/addr.h"
#include "../../module/core/whitelist.h"

#define NOW 1800000000 /* 2027-01-15 */

static gl_wl_entry *parse(const char *line)
{
	gl_err err;
	int blank;
	gl_wl_entry *e = gl_wl_parse(line, 1, NOW, "test:1", &blank, &err);

	if (e == NULL)
		fail_msg("'%s': %s", line, blank ? "blank" : err.msg);
	return e;
}

static int matches(const char *line, const char *ip, const char *sender,
		   const char *rcpt, const char *host, gl_time now)
{
	gl_wl_entry *e = parse(line);
	gl_wl_query q;
	CIDR c;
	int m;

	assert_int_equal(gl_ip_parse(ip, &c, NULL), 0);
	q.ip = &c;
	q.sender = sender;
	q.rcpt = rcpt;
	q.host = host;
	m = gl_wl_entry_matches(e, &q, now);
	gl_wl_entry_free(e);
	return m;
}

static void test_forms(void **state)
{
	static const struct {
		const char *line, *ip, *sender, *rcpt, *host;
		int want;
	} t[] = {
		{ "192.0.2.7", "192.0.2.7", "a@x.example", "r@our.example", NULL, 1 },
		{ "192.0.2.7", "192.0.2.8", "a@x.example", "r@our.example", NULL, 0 },
		{ "192.0.2.0/24", "192.0.2.99", "a@x.example", "r@our.example", NULL, 1 },
		{ "2001:db8::/32", "2001:db8:5::1", "a@x.example", "r@our.example", NULL, 1 },
		{ "2001:db8::/32", "192.0.2.1", "a@x.example", "r@our.example", NULL, 0 },
		{ "example.com", "192.0.2.1", "a@example.com", "r@our.example", NULL, 1 },
		{ "example.com", "192.0.2.1", "a@sub.example.com", "r@our.example", NULL, 0 },
		{ "Example.COM", "192.0.2.1", "a@example.com", "r@our.example", NULL, 1 },
		{ ".example.com", "192.0.2.1", "a@sub.example.com", "r@our.example", NULL, 1 },
		{ ".example.com", "192.0.2.1", "a@example.com", "r@our.example", NULL, 1 },
		{ ".example.com", "192.0.2.1", "a@badexample.com", "r@our.example", NULL, 0 },
		{ "alice@example.com", "192.0.2.1", "alice@example.com", "r@our.example", NULL, 1 },
		{ "alice@example.com", "192.0.2.1", "bob@example.com", "r@our.example", NULL, 0 },
		/* folded like senders: digits, +ext */
		{ "bounce-1@vendor.example", "192.0.2.1", "bounce-#@vendor.example", "r@our.example", NULL, 1 },
		{ "<>", "192.0.2.1", "<>", "r@our.example", NULL, 1 },
		{ "rcpt:postmaster@our.example", "192.0.2.1", "a@x.example", "postmaster@our.example", NULL, 1 },
		{ "rcpt:postmaster@our.example", "192.0.2.1", "a@x.example", "abuse@our.example", NULL, 0 },
		{ "rcpt:our.example", "192.0.2.1", "a@x.example", "anyone@our.example", NULL, 1 },
		{ "rcpt:our.example", "192.0.2.1", "a@x.example", "anyone@other.example", NULL, 0 },
		{ "host:*.outbound.protection.outlook.com", "192.0.2.1", "a@x.example", "r@our.example",
		  "mail-eopbgr60135.outbound.protection.outlook.com", 1 },
		{ "host:*.outbound.protection.outlook.com", "192.0.2.1", "a@x.example", "r@our.example",
		  "outbound.protection.outlook.com", 0 },
		{ "host:*.outbound.protection.outlook.com", "192.0.2.1", "a@x.example", "r@our.example",
		  NULL, 0 },
		{ "host:mx.example.net", "192.0.2.1", "a@x.example", "r@our.example", "MX.example.net", 1 },
		{ "host:mx.example.net", "192.0.2.1", "a@x.example", "r@our.example", "a.mx.example.net", 0 },
	};
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++)
		if (matches(t[i].line, t[i].ip, t[i].sender, t[i].rcpt,
			    t[i].host, NOW) != t[i].want)
			fail_msg("case %zu '%s': want %d", i, t[i].line, t[i].want);
	(void)state;
}

static void test_options(void **state)
{
	gl_wl_entry *e = parse("  192.0.2.0/24 owner=alice expires=2027-01-31 "
			       "# partner relays, ticket 42\n");

	assert_string_equal(e->entry, "192.0.2.0/24");
	assert_string_equal(e->owner, "alice");
	assert_string_equal(e->comment, "partner relays, ticket 42");
	assert_string_equal(e->origin, "test:1");
	assert_int_equal(e->expires, 1801439999); /* 2027-01-31 23:59:59 UTC */
	gl_wl_entry_free(e);
	e = parse("example.com expires=30d");
	assert_int_equal(e->expires, NOW + 30 * 86400);
	assert_string_equal(e->owner, "");
	assert_string_equal(e->comment, "");
	gl_wl_entry_free(e);
	(void)state;
}

static void test_expiry(void **state)
{
	const char *l = "192.0.2.7 expires=2027-01-31";

	assert_int_equal(matches(l, "192.0.2.7", "a@b", "c@d", NULL, 1801439999), 1);
	assert_int_equal(matches(l, "192.0.2.7", "a@b", "c@d", NULL, 1801440000), 0);
	(void)state;
}

static void test_errors(void **state)
{
	static const char *bad[] = {
		"192.0.2.0/33", "not_a domain!", "example.com owner", "example.com colour=red",
		"example.com expires=soon", "example.com expires=2027-13-01",
		"rcpt:", "rcpt:bad domain!", "host:", "host:*.", "2001:db8::/129",
	};
	static const char *blank[] = { "", "   ", "# only a comment", "\t# x\n" };
	gl_err err;
	size_t i;
	int b;

	for (i = 0; i < N_ELEMS(bad); i++) {
		err.msg[0] = '\0';
		if (gl_wl_parse(bad[i], 1, NOW, "t", &b, &err) != NULL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(b, 0);
		assert_true(err.msg[0] != '\0');
	}
	for (i = 0; i < N_ELEMS(blank); i++) {
		assert_null(gl_wl_parse(blank[i], 1, NOW, "t", &b, &err));
		assert_int_equal(b, 1);
	}
	(void)state;
}

static void test_file(void **state)
{
	char dir[256], path[512], origin[600];
	gl_whitelist *wl = NULL;
	const gl_wl_entry *e;
	gl_wl_query q = { NULL, "x@y.example", "postmaster@our.example", NULL };
	gl_err err;

	unit_tmpdir(dir, sizeof dir);
	unit_write(dir, "wl", "# exemptions\n\nrcpt:abuse@our.example\n"
		   "rcpt:postmaster@our.example owner=ops # RFC 5321\n",
		   path, sizeof path);
	assert_int_equal(gl_whitelist_load_file(&wl, path, 1, NULL, &err), 0);
	e = gl_whitelist_match(wl, &q, NOW);
	assert_non_null(e);
	snprintf(origin, sizeof origin, "%s:4", path);
	assert_string_equal(e->origin, origin);
	assert_string_equal(e->owner, "ops");
	q.rcpt = "alice@our.example";
	assert_null(gl_whitelist_match(wl, &q, NOW));
	assert_null(gl_whitelist_match(NULL, &q, NOW));
	gl_whitelist_free(wl);
	unit_rmdir(dir);
	(void)state;
}

/* A bad line costs that line: the others stay, each bad one is noted. */
static void test_bad_lines_skipped(void **state)
{
	static const struct {
		const char *name, *text;
		const char *entries[3];
		const char *notes[2];
	} t[] = {
		{ "one bad", "192.0.2.1\nnot an entry!\nexample.com\n",
		  { "192.0.2.1", "example.com", NULL }, { ":2: ", NULL } },
		{ "bad expiry", "a.example expires=soon\nb.example\n",
		  { "b.example", NULL, NULL }, { ":1: bad expires", NULL } },
		{ "all bad", "x y\n!!\n", { NULL, NULL, NULL },
		  { ":1: ", ":2: " } },
		{ "no newline at end", "# c\nc.example", { "c.example", NULL,
		  NULL }, { NULL, NULL } },
	};
	char dir[256], path[512], *big;
	size_t i, j;

	unit_tmpdir(dir, sizeof dir);
	for (i = 0; i < N_ELEMS(t); i++) {
		gl_whitelist *wl = NULL;
		gl_notes notes = { 0 };
		const gl_wl_entry *e;
		gl_err err;

		unit_write(dir, "wl", t[i].text, path, sizeof path);
		assert_int_equal(gl_whitelist_load_file(&wl, path, 1, &notes,
							&err), 0);
		e = wl->head;
		for (j = 0; j < 3 && t[i].entries[j]; j++, e = e->next) {
			if (e == NULL)
				fail_msg("%s: entry %zu missing", t[i].name, j);
			assert_string_equal(e->entry, t[i].entries[j]);
		}
		assert_null(e);
		for (j = 0; j < 2 && t[i].notes[j]; j++) {
			if (j >= notes.n || !strstr(notes.msg[j], t[i].notes[j]) ||
			    strncmp(notes.msg[j], path, strlen(path)))
				fail_msg("%s: note %zu: got %s", t[i].name, j,
					 j < notes.n ? notes.msg[j] : "none");
		}
		assert_int_equal(notes.n, j);
		gl_notes_free(&notes);
		gl_whitelist_free(wl);
	}
	/* An over-long line is skipped whole; the next line is read. */
	big = malloc(10000);
	memset(big, 'a', 9000);
	strcpy(big + 9000, "\nd.example\n");
	unit_write(dir, "wl", big, path, sizeof path);
	free(big);
	{
		gl_whitelist *wl = NULL;
		gl_notes notes = { 0 };
		gl_err err;

		assert_int_equal(gl_whitelist_load_file(&wl, path, 1, &notes,
							&err), 0);
		assert_string_equal(wl->head->entry, "d.example");
		assert_null(wl->head->next);
		assert_int_equal(notes.n, 1);
		assert_non_null(strstr(notes.msg[0], ":1: line longer than"));
		gl_notes_free(&notes);
		gl_whitelist_free(wl);
	}
	/* A missing file: one note, no entry, not an error. */
	{
		gl_whitelist *wl = NULL;
		gl_notes notes = { 0 };
		gl_err err;

		snprintf(path, sizeof path, "%s/absent", dir);
		assert_int_equal(gl_whitelist_load_file(&wl, path, 1, &notes,
							&err), 0);
		assert_null(wl->head);
		assert_int_equal(notes.n, 1);
		assert_non_null(strstr(notes.msg[0], "cannot open whitelist"));
		gl_notes_free(&notes);
		gl_whitelist_free(wl);
	}
	/* The database's text: a bad entry is skipped the same way. */
	{
		static const char text[] = "e.example\nbad one!\nf.example";
		gl_whitelist *wl = NULL;
		gl_notes notes = { 0 };
		gl_err err;

		assert_int_equal(gl_whitelist_parse_text(&wl, text,
				 sizeof text - 1, 1, "database", &notes,
				 &err), 0);
		assert_string_equal(wl->head->entry, "e.example");
		assert_string_equal(wl->head->next->entry, "f.example");
		assert_int_equal(notes.n, 1);
		assert_non_null(strstr(notes.msg[0], "database: entry 2"));
		gl_notes_free(&notes);
		gl_whitelist_free(wl);
	}
	unit_rmdir(dir);
	(void)state;
}

/* At most GL_NOTES_MAX messages are kept; the rest are counted. */
static void test_notes_bound(void **state)
{
	gl_notes nt = { 0 };
	int i;

	for (i = 0; i < GL_NOTES_MAX + 7; i++)
		gl_note(&nt, "problem %d", i);
	assert_int_equal(nt.n, GL_NOTES_MAX);
	assert_int_equal(nt.dropped, 7);
	assert_string_equal(nt.msg[GL_NOTES_MAX - 1], "problem 99");
	gl_note(NULL, "ignored");
	gl_notes_free(&nt);
	assert_int_equal(nt.n, 0);
	assert_null(nt.msg);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_bad_lines_skipped),
		cmocka_unit_test(test_notes_bound),
	};
	return cmocka_run_group_tests_name("whitelist", tests, NULL, NULL);
}
