/* dbwl.c - reading and replacing the whitelist kept in the store. */
#include "dbwl.h"

#include <stdlib.h>
#include <string.h>

uint64_t gl_dbwl_gen_decode(const unsigned char *p, size_t len)
{
	uint64_t g = 0;
	size_t i;

	if (len != 8)
		return UINT64_MAX; /* never equal to a cached generation */
	for (i = 0; i < 8; i++)
		g = (g << 8) | p[i];
	return g;
}

static void gen_encode(uint64_t g, unsigned char p[8])
{
	int i;

	for (i = 7; i >= 0; i--, g >>= 8)
		p[i] = (unsigned char)g;
}

int gl_dbwl_read(gl_store *st, char **text_r, size_t *len_r, uint64_t *gen_r,
		 gl_err *err)
{
	unsigned char gen[16];
	char *text = malloc(GL_DBWL_MAX + 1);
	gl_get_item it[2] = {
		{ GL_DBWL_GEN_KEY, 1, gen, sizeof gen, 0 },
		{ GL_DBWL_KEY, 1, text, GL_DBWL_MAX, 0 },
	};

	if (text == NULL)
		return gl_fail(err, "out of memory");
	if (st->ops->get(st, it, 2, err) < 0) {
		free(text);
		return -1;
	}
	*gen_r = it[0].found ? gl_dbwl_gen_decode(gen, it[0].vlen) : 0;
	*len_r = it[1].found ? it[1].vlen : 0;
	text[*len_r] = '\0';
	*text_r = text;
	return 0;
}

int gl_dbwl_write(gl_store *st, const char *old, size_t oldlen, uint64_t gen,
		  const char *text, size_t len, gl_err *err)
{
	unsigned char og[8], ng[8];
	gl_cas_item it[2];

	if (len > GL_DBWL_MAX)
		return gl_fail(err, "whitelist in the database would exceed "
			       "%d bytes", GL_DBWL_MAX);
	gen_encode(gen, og);
	gen_encode(gen + 1, ng);
	memset(it, 0, sizeof it);
	it[0].key = GL_DBWL_GEN_KEY;
	it[0].klen = 1;
	it[0].old = gen ? og : NULL;
	it[0].oldlen = 8;
	it[0].val = ng;
	it[0].vlen = 8;
	it[1].key = GL_DBWL_KEY;
	it[1].klen = 1;
	it[1].old = oldlen ? old : NULL;
	it[1].oldlen = oldlen;
	it[1].val = len ? text : NULL;
	it[1].vlen = len;
	if (st->ops->casv(st, it, 2, err) < 0)
		return -1;
	/* The generation moves first: a reader never caches new text
	 * under an old generation. */
	return it[0].done;
}
