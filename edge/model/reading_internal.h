/* reading_internal.h -- shared by reading.c (seed objects) and reading_general.c. */
#ifndef IOT_EDGE_READING_INTERNAL_H
#define IOT_EDGE_READING_INTERNAL_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "lineproto.h"
#include "lineproto_parse.h"
#include "reading.h"

/* How much of an unknown key an error message quotes. */
#define READING_KEY_QUOTE_MAX 40
/* Longest measurement name, tag key, tag value, field key or seed type. */
#define READING_NAME_MAX 256

/* One parse: where the text goes and where errors are reported. */
struct reading_ctx {
	reading_clock_fn *clock_fn;
	void *clock_arg;
	struct lineproto_buf buf;
	size_t count;
	char *err;
	size_t err_size;
	int in_array;
	size_t index;
	int general;		     /* general objects {"measurement":...} are allowed */
	size_t max_tags, max_fields; /* per general object */
};

/* Writes the message (prefixed "element N: " inside an array) into err.
 * Returns -1 so callers can `return reading_fail(...)`. Any thread. */
int reading_fail(struct reading_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Turns a failed lineproto_ call into a message. Returns -1. */
int reading_fail_lp(struct reading_ctx *ctx, int rc);

/* Copies an untrusted key into out for an error message: at most
 * READING_KEY_QUOTE_MAX bytes cut at a character boundary, '"', '\\' and
 * control characters shown as '?', invalid UTF-8 bytes too. out_size must
 * be at least READING_KEY_QUOTE_MAX + 4. */
void reading_quote_key(const char *key, char *out, size_t out_size);

/* Checks a name that becomes line protocol: not empty, at most max bytes,
 * no control character, no backslash, valid UTF-8. `label` starts the
 * message, e.g. "\"type\"". Returns 0 or -1 with the message set. */
int reading_check_text(struct reading_ctx *ctx, const char *label, const char *s, size_t max);

/* The point's time from an RFC 3339 string `ts`, or a clock call when ts is
 * NULL. Returns 0 or -1 with the message set. */
int reading_timestamp(struct reading_ctx *ctx, const cJSON *ts, int64_t *ns);

/* Validates one general object {"measurement","tags","fields","ts"} and
 * appends its point (reading_general.c). Returns 0 or -1 with the message
 * set. */
int reading_general_object(struct reading_ctx *ctx, const cJSON *obj);

#endif
