/* gzip.c -- gzip request bodies with zlib: one deflate stream reset per body, one reused buffer. */
#include "gzip.h"

#include <stdbool.h>
#include <stdlib.h>

#include <zlib.h>

#define UPLINK_GZIP_MAX_INPUT (1u << 30) /* zlib counts in uInt; our bodies are far smaller */
#define UPLINK_GZIP_WINDOW (15 + 16)	 /* 32 KiB window, gzip wrapper */
#define UPLINK_GZIP_MEMLEVEL 8

struct uplink_gzip {
	z_stream zs;
	bool ready;	    /* deflateInit2 succeeded: deflateEnd is owed */
	unsigned char *buf; /* the last result */
	size_t cap;
};

/* Contract in gzip.h: 0 and *out, or -1. */
int uplink_gzip_create(int level, struct uplink_gzip **out)
{
	struct uplink_gzip *g;

	if (level < 1 || level > 9)
		return -1;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -1;
	if (deflateInit2(&g->zs, level, Z_DEFLATED, UPLINK_GZIP_WINDOW, UPLINK_GZIP_MEMLEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return -1;
	}
	g->ready = true;
	*out = g;
	return 0;
}

/* Contract in gzip.h. NULL-safe. */
void uplink_gzip_destroy(struct uplink_gzip *g)
{
	if (g == NULL)
		return;
	if (g->ready)
		deflateEnd(&g->zs);
	free(g->buf);
	free(g);
}

/* Contract in gzip.h: 0 with *out / *out_len, or -1. */
int uplink_gzip_compress(struct uplink_gzip *g, const char *in, size_t len,
			 const unsigned char **out, size_t *out_len)
{
	size_t bound;
	int rc;

	if (len > UPLINK_GZIP_MAX_INPUT || deflateReset(&g->zs) != Z_OK)
		return -1;
	/* deflateBound covers the zlib wrapper; gzip's is 12 bytes longer. */
	bound = deflateBound(&g->zs, (uLong)len) + 32;
	if (bound > g->cap) {
		unsigned char *bigger = realloc(g->buf, bound);

		if (bigger == NULL)
			return -1;
		g->buf = bigger;
		g->cap = bound;
	}
	g->zs.next_in = (z_const Bytef *)in;
	g->zs.avail_in = (uInt)len;
	g->zs.next_out = g->buf;
	g->zs.avail_out = (uInt)g->cap;
	rc = deflate(&g->zs, Z_FINISH);
	if (rc != Z_STREAM_END)
		return -1;
	*out = g->buf;
	*out_len = g->cap - g->zs.avail_out;
	return 0;
}
