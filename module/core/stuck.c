/* stuck.c - senders that retry but never get through (stuck.h). */
#include "stuck.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "policy.h"

/* One record that matters: a pending first contact in the window, or a
 * pass (which clears its domain and recipient). */
typedef struct item {
	char *domain, *rcpt, *client, *sender;
	gl_time first, last, passed_at;  /* passed_at: 0 for pending */
	unsigned attempts;
} item;

struct gl_stuck {
	const gl_config *cfg;
	gl_time since, now;
	item *items;
	size_t n, cap;
	gl_stuck_group *groups;
	size_t ngroups, ndomains;
};

gl_stuck *gl_stuck_new(const gl_config *cfg, gl_time since, gl_time now)
{
	gl_stuck *s = calloc(1, sizeof *s);

	if (s != NULL) {
		s->cfg = cfg;
		s->since = since;
		s->now = now;
	}
	return s;
}

static void item_free(item *it)
{
	free(it->domain);
	free(it->rcpt);
	free(it->client);
	free(it->sender);
}

int gl_stuck_add(gl_stuck *s, const gl_triplet *t, const gl_record *r)
{
	item *it;

	/* The null sender has no domain to let through (and bounces from
	 * many clients to one recipient are backscatter, not a sender). */
	if (*gl_addr_domain(t->sender) == '\0')
		return 0;
	if (r->state == GL_PASSED) {
		if (r->passed_at < s->since)
			return 0;          /* too old to clear anything */
	} else if (r->first_seen < s->since || r->first_seen > s->now ||
		   s->now > gl_policy_record_end(s->cfg, r)) {
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap * 2 + 256;
		item *p = realloc(s->items, cap * sizeof *p);

		if (p == NULL)
			return -1;
		s->items = p;
		s->cap = cap;
	}
	it = &s->items[s->n];
	memset(it, 0, sizeof *it);
	it->domain = strdup(gl_addr_domain(t->sender));
	it->rcpt = strdup(t->rcpt);
	it->client = strdup(t->client);
	it->sender = strdup(t->sender);
	if (!it->domain || !it->rcpt || !it->client || !it->sender) {
		item_free(it);
		return -1;
	}
	it->first = r->first_seen;
	it->last = r->last_seen;
	it->passed_at = r->state == GL_PASSED ? r->passed_at : 0;
	it->attempts = r->attempts;
	s->n++;
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const item *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);

	return c ? c : strcmp(x->rcpt, y->rcpt);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_group(const void *a, const void *b)
{
	const gl_stuck_group *x = a, *y = b;
	int c;

	if (x->first_contacts != y->first_contacts)
		return x->first_contacts > y->first_contacts ? -1 : 1;
	c = strcmp(x->domain, y->domain);
	return c ? c : strcmp(x->rcpt, y->rcpt);
}

/* The distinct strings among v[0..n-1] (sorted in place): how many, the
 * first max of them copied into out (borrowed pointers). */
static size_t distinct(char **v, size_t n, char **out, size_t max)
{
	size_t i, k = 0;

	if (n > 1)
		qsort(v, n, sizeof *v, cmp_str);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0) {
			if (k < max)
				out[k] = v[i];
			k++;
		}
	return k;
}

/* A whitelist entry lets the group's latest sender through now. */
static int whitelisted(const gl_stuck *s, const item *latest,
		       const gl_whitelist *const *wl, size_t nwl)
{
	gl_wl_query q;
	CIDR none;
	size_t i;

	/* Client entries help only the client they name; a pool's next
	 * retry comes from another. Match on sender and recipient. */
	if (gl_ip_parse("0.0.0.0", &none, NULL) < 0)
		return 0;
	q.ip = &none;
	q.sender = latest->sender;
	q.rcpt = latest->rcpt;
	q.host = NULL;
	for (i = 0; i < nwl; i++)
		if (wl[i] != NULL && gl_whitelist_match(wl[i], &q, s->now))
			return 1;
	return 0;
}

/* A sender address fit for a whitelist line and a shell word: printable,
 * no blank, no quote, backslash or '#' (the folding's digit mark). */
static int fit_sender(const char *e)
{
	const char *p;

	if (strchr(e, '@') == NULL)
		return 0;
	for (p = e; *p; p++)
		if (*p <= ' ' || *p > '~' || strchr("#'\"\\`", *p))
			return 0;
	return 1;
}

/* Fills g from the pending items of one group p[0..n-1]; 1 when it is
 * stuck, 0 when not, -1 out of memory. */
static int group(gl_stuck *s, item **p, size_t n, gl_stuck_group *g,
		 const gl_whitelist *const *wl, size_t nwl)
{
	char **cl = malloc(n * sizeof *cl), **se = malloc(n * sizeof *se);
	const item *latest = p[0];
	size_t i;
	int rc = 0;

	if (cl == NULL || se == NULL) {
		free(cl);
		free(se);
		return -1;
	}
	memset(g, 0, sizeof *g);
	g->first = p[0]->first;
	g->last = p[0]->last;
	for (i = 0; i < n; i++) {
		cl[i] = p[i]->client;
		se[i] = p[i]->sender;
		g->attempts += p[i]->attempts;
		if (p[i]->first < g->first)
			g->first = p[i]->first;
		if (p[i]->last > g->last) {
			g->last = p[i]->last;
			latest = p[i];
		}
		if (!strncmp(p[i]->client, "spf:", 4) ||
		    !strncmp(p[i]->client, "host:", 5))
			g->pooled = 1;
	}
	g->first_contacts = (unsigned)n;
	g->nclients = distinct(cl, n, g->clients, GL_STUCK_LIST_MAX);
	g->nsenders = distinct(se, n, g->senders, GL_STUCK_LIST_MAX);
	if (n >= GL_STUCK_MIN && (g->nclients > 1 || g->nsenders > 1) &&
	    g->last - g->first >= s->cfg->delay &&
	    !whitelisted(s, latest, wl, nwl)) {
		const char *e = g->nsenders == 1 ? g->senders[0] : p[0]->domain;

		g->domain = p[0]->domain;
		g->rcpt = p[0]->rcpt;
		if (!(g->nsenders == 1 ? fit_sender(e) :
		      gl_valid_name(e, GL_DNS_NAME_MAX)))
			e = gl_valid_name(p[0]->domain, GL_DNS_NAME_MAX) ?
			    p[0]->domain : "";
		if (gl_copy(g->entry, sizeof g->entry, e) < 0)
			g->entry[0] = '\0';
		rc = 1;
	}
	free(cl);
	free(se);
	return rc;
}

int gl_stuck_finish(gl_stuck *s, const gl_whitelist *const *wl, size_t nwl)
{
	item **pend;
	size_t i, j, k, np;

	if (s->n > 1)
		qsort(s->items, s->n, sizeof *s->items, cmp_item);
	pend = malloc((s->n + 1) * sizeof *pend);
	s->groups = calloc(s->n + 1, sizeof *s->groups);
	if (pend == NULL || s->groups == NULL) {
		free(pend);
		return -1;
	}
	for (i = 0; i < s->n; i = j) {
		gl_time first = 0, cleared = -1;

		np = 0;
		for (j = i; j < s->n && !cmp_item(&s->items[i], &s->items[j]);
		     j++) {
			if (s->items[j].passed_at) {
				if (s->items[j].passed_at > cleared)
					cleared = s->items[j].passed_at;
				continue;
			}
			if (np == 0 || s->items[j].first < first)
				first = s->items[j].first;
			pend[np++] = &s->items[j];
		}
		/* A pass to this recipient from this domain since the
		 * first of these attempts: the sender got through. */
		if (np == 0 || cleared >= first)
			continue;
		switch (group(s, pend, np, &s->groups[s->ngroups], wl, nwl)) {
		case -1:
			free(pend);
			return -1;
		case 1:
			s->ngroups++;
		}
	}
	free(pend);
	if (s->ngroups > 1)
		qsort(s->groups, s->ngroups, sizeof *s->groups, cmp_group);
	/* Distinct domains among the groups. */
	for (k = 0; k < s->ngroups; k++) {
		for (i = 0; i < k; i++)
			if (!strcmp(s->groups[i].domain, s->groups[k].domain))
				break;
		if (i == k)
			s->ndomains++;
	}
	return 0;
}

size_t gl_stuck_groups(const gl_stuck *s)
{
	return s->ngroups;
}

const gl_stuck_group *gl_stuck_group_at(const gl_stuck *s, size_t i)
{
	return i < s->ngroups ? &s->groups[i] : NULL;
}

size_t gl_stuck_domains(const gl_stuck *s)
{
	return s->ndomains;
}

void gl_stuck_free(gl_stuck *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		item_free(&s->items[i]);
	free(s->items);
	free(s->groups);
	free(s);
}
