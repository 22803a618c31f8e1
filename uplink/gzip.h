/* gzip.h -- private to uplink/: gzip (RFC 1952) request bodies with zlib, one reused stream. */
#ifndef IOT_EDGE_UPLINK_GZIP_H
#define IOT_EDGE_UPLINK_GZIP_H

#include <stddef.h>

struct uplink_gzip;

/* Create a compressor at zlib `level` (1 fastest .. 9 smallest). Returns 0
 * and sets *out (free with uplink_gzip_destroy()), or -1 (out of memory or a
 * bad level) leaving *out untouched. Any thread; one thread per compressor. */
int uplink_gzip_create(int level, struct uplink_gzip **out);

/* Free the compressor and its output buffer. NULL-safe. */
void uplink_gzip_destroy(struct uplink_gzip *g);

/* Compress `len` bytes of `in` into one complete gzip member. Returns 0 and
 * sets *out / *out_len to the result, which lives in the compressor and stays
 * valid until the next call or uplink_gzip_destroy(); or -1 (out of memory,
 * input over 1 GiB, a zlib error) with *out untouched. The compressor's
 * thread only. */
int uplink_gzip_compress(struct uplink_gzip *g, const char *in, size_t len,
			 const unsigned char **out, size_t *out_len);

#endif
