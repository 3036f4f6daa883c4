/* triplet.c - folding addresses and encoding triplet keys. */
#include "triplet.h"

#include <ctype.h>
#include <string.h>

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* BATV: "prvs=TAG=local", "msprvs1=TAG=local", "btv1==TAG==local". */
static const char *strip_batv(const char *lp)
{
	const char *p;

	if (has_prefix(lp, "prvs=") || has_prefix(lp, "msprvs1=")) {
		p = strchr(strchr(lp, '=') + 1, '=');
		if (p != NULL && p[1] != '\0')
			return p + 1;
	} else if (has_prefix(lp, "btv1==")) {
		p = strstr(lp + 6, "==");
		if (p != NULL && p[2] != '\0')
			return p + 2;
	}
	return lp;
}

/* Skips n '='-terminated fields; NULL when there are fewer. */
static const char *skip_fields(const char *p, int n)
{
	while (n-- > 0) {
		p = strchr(p, '=');
		if (p == NULL)
			return NULL;
		p++;
	}
	return p;
}

/*
 * SRS0=HHH=TT=domain=local -> srs0=domain=local
 * SRS1=HHH=fwd==HHH=TT=domain=local -> srs1=fwd==domain=local
 * Writes into out (outsz > strlen(lp)); returns 0 when lp is SRS.
 */
static int fold_srs(const char *lp, char *out, size_t outsz)
{
	const char *rest, *fwd, *dbl;
	size_t nfwd;

	if (!(has_prefix(lp, "srs0") || has_prefix(lp, "srs1")) ||
	    lp[4] == '\0' || strchr("=+-", lp[4]) == NULL)
		return -1;
	if (lp[3] == '0') {
		rest = skip_fields(lp + 5, 2);
		if (rest == NULL || *rest == '\0' || strlen(rest) + 6 > outsz)
			return -1;
		memcpy(out, "srs0=", 5);
		strcpy(out + 5, rest);
		return 0;
	}
	fwd = skip_fields(lp + 5, 1);
	dbl = fwd ? strstr(fwd, "==") : NULL;
	rest = dbl ? skip_fields(dbl + 2, 2) : NULL;
	if (rest == NULL || *rest == '\0')
		return -1;
	nfwd = (size_t)(dbl - fwd);
	if (nfwd + strlen(rest) + 8 > outsz)
		return -1;
	memcpy(out, "srs1=", 5);
	memcpy(out + 5, fwd, nfwd);
	memcpy(out + 5 + nfwd, "==", 2);
	strcpy(out + 7 + nfwd, rest);
	return 0;
}

/*
 * Folds a lower-cased local part lp into out (outsz > strlen(lp), and at
 * least GL_ADDR_MAX + 8 for SRS): BATV and SRS first (their tags hold
 * '+', '-' and digits), then "+extension", then digit runs. An SRS
 * address is rewritten into out and folded there, in place: each byte
 * read gives at most one written, never ahead of the reading.
 */
static void fold_local(const char *lp, char *out, size_t outsz)
{
	const char *src = lp, *next, *plus;
	size_t i, n, o = 0;

	/* Nested tags ("prvs=A=prvs=B=local") all go, so folding is
	 * idempotent. */
	while ((next = strip_batv(src)) != src)
		src = next;
	if (fold_srs(src, out, outsz) == 0)
		src = out;
	n = strlen(src);
	plus = strchr(src, '+');
	if (plus != NULL && plus != src)
		n = (size_t)(plus - src);
	for (i = 0; i < n && o + 1 < outsz; i++) {
		if (!isdigit((unsigned char)src[i]))
			out[o++] = src[i];
		else if (o == 0 || out[o - 1] != '#')
			out[o++] = '#';
	}
	out[o] = '\0';
}

int gl_fold_rcpt(const char *in, char *out, size_t outsz, gl_err *err)
{
	if (in == NULL || *in == '\0')
		return gl_fail(err, "empty recipient address");
	if (gl_copy(out, outsz, in) < 0)
		return gl_fail(err, "recipient address longer than %d bytes",
			       GL_ADDR_MAX);
	gl_lower(out);
	return 0;
}

int gl_fold_sender(const char *in, int normalize, char *out, size_t outsz,
		   gl_err *err)
{
	char folded[GL_ADDR_MAX + 8], *at;
	size_t n;

	if (in == NULL || *in == '\0' || strcmp(in, "<>") == 0)
		return gl_copy(out, outsz, "<>") < 0 ?
		       gl_fail(err, "output buffer too small") : 0;
	if (strlen(in) > GL_ADDR_MAX || gl_copy(out, outsz, in) < 0)
		return gl_fail(err, "sender address longer than %d bytes",
			       GL_ADDR_MAX);
	gl_lower(out);
	if (!normalize)
		return 0;

	/* the local part, cut at the '@' for as long as it is folded */
	if ((at = strrchr(out, '@')) != NULL)
		*at = '\0';
	fold_local(out, folded, sizeof folded);
	if (at != NULL)
		*at = '@';
	n = strlen(folded);
	if (n + (at ? strlen(at) : 0) >= outsz)
		return gl_fail(err, "sender address too long");
	memmove(out + n, at ? at : "", (at ? strlen(at) : 0) + 1);
	memcpy(out, folded, n);
	return 0;
}

const char *gl_addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}



