/* lineproto.h -- InfluxDB line protocol encoding: capped text buffer, escaping, numbers. */
#ifndef IOT_EDGE_LINEPROTO_H
#define IOT_EDGE_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>

/* Return codes of every lineproto_ function that can fail. */
enum lineproto_rc {
	LINEPROTO_OK = 0,
	LINEPROTO_ENOMEM = -1,	 /* malloc/realloc failed; the buffer is unchanged */
	LINEPROTO_ETOOBIG = -2,	 /* the text would pass the buffer's cap; unchanged */
	LINEPROTO_EINVAL = -3,	 /* the input cannot be written as line protocol */
	LINEPROTO_ETOOMANY = -4, /* more points than the caller allows (lineproto_parse()) */
};

/* Enough for any finite double written by lineproto_format_float() plus NUL. */
#define LINEPROTO_FLOAT_MAX 32

/* InfluxDB 1.x accepts timestamps in this range only (it reserves the two
 * lowest int64 values and the highest one). */
#define LINEPROTO_TIME_MIN (INT64_MIN + 2)
#define LINEPROTO_TIME_MAX (INT64_MAX - 1)

/* A growable text buffer with a size cap. `data` is NULL while empty, else
 * NUL-terminated (the NUL is not counted in `len` and not in `max`). One
 * owner, one thread at a time; nothing inside is shared. */
struct lineproto_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Sets up an empty buffer that refuses to grow past `max` bytes of text.
 * Allocates nothing, cannot fail. Any thread (the buffer's owner). */
void lineproto_buf_init(struct lineproto_buf *b, size_t max);

/* Frees the text and leaves an empty buffer with the same cap; safe on an
 * initialised buffer that never grew or was already freed. Any thread. */
void lineproto_buf_free(struct lineproto_buf *b);

/* Hands the text over: returns `data` (NUL-terminated; the caller frees it
 * with free()) and its length in *len, and leaves the buffer empty. Returns
 * NULL with *len = 0 when nothing was ever appended. Any thread. */
char *lineproto_buf_steal(struct lineproto_buf *b, size_t *len);

/* Makes room for `extra` more bytes of text plus the NUL without changing
 * the text. Returns LINEPROTO_OK, _ETOOBIG or _ENOMEM; on failure nothing
 * changes. Any thread. */
int lineproto_buf_reserve(struct lineproto_buf *b, size_t extra);

/* Appends n bytes the caller fills at once: returns where they start (the
 * text is NUL-terminated after them), or NULL with *rc set to _ETOOBIG or
 * _ENOMEM and the buffer unchanged. Any thread. */
char *lineproto_buf_extend(struct lineproto_buf *b, size_t n, int *rc);

/* Appends n raw bytes (no escaping). Returns LINEPROTO_OK, _ENOMEM or
 * _ETOOBIG; on failure the buffer is unchanged. Any thread. */
int lineproto_buf_append(struct lineproto_buf *b, const char *s, size_t n);

/* Appends one raw byte. Returns as lineproto_buf_append(). Any thread. */
int lineproto_buf_putc(struct lineproto_buf *b, char c);

/* Appends a measurement name, escaping ',' and ' ' with a backslash.
 * Returns LINEPROTO_EINVAL (buffer unchanged) for text that line protocol
 * cannot carry: empty, a leading '#' (a comment line), NUL, '\n' or a
 * backslash (InfluxDB 1.x keeps or drops backslashes depending on what
 * follows them, so no escaping round-trips). Otherwise as
 * lineproto_buf_append(). Any thread. */
int lineproto_buf_measurement(struct lineproto_buf *b, const char *s, size_t n);

/* Appends a tag key or a tag value, escaping ',', '=' and ' '. Returns
 * LINEPROTO_EINVAL (buffer unchanged) when empty or holding NUL, '\n' or a
 * backslash; otherwise as lineproto_buf_append(). Any thread. */
int lineproto_buf_tag(struct lineproto_buf *b, const char *s, size_t n);

/* Appends a field key: same escaping and same refusals as
 * lineproto_buf_tag(). Any thread. */
int lineproto_buf_field_key(struct lineproto_buf *b, const char *s, size_t n);

/* Appends a string field value: '"', then s[0..n) with '"' and '\\'
 * escaped by a backslash, then '"'. Returns LINEPROTO_EINVAL (buffer
 * unchanged) when s holds NUL or '\n' (the buffer stores one point per
 * line); otherwise as lineproto_buf_append(). Any thread. */
int lineproto_buf_string(struct lineproto_buf *b, const char *s, size_t n);

/* Writes `v` into out (out_size >= LINEPROTO_FLOAT_MAX is always enough) as
 * the shortest of %.15g, %.16g, %.17g that reads back as exactly `v`,
 * without an `i` suffix, so InfluxDB stores a float: 34 -> "34", 0.1 ->
 * "0.1", 1e21 -> "1e+21". -0 is written "0". Needs the "C" LC_NUMERIC
 * locale (the daemon never calls setlocale). Returns the length, or
 * LINEPROTO_EINVAL for NaN/infinity, or LINEPROTO_ETOOBIG if out_size is
 * too small. Any thread. */
int lineproto_format_float(double v, char *out, size_t out_size);

/* Appends lineproto_format_float(v). Returns LINEPROTO_EINVAL for NaN and
 * infinities, else as lineproto_buf_append(). Any thread. */
int lineproto_buf_float(struct lineproto_buf *b, double v);

/* Appends an integer in decimal without suffix (a timestamp in ns).
 * Returns as lineproto_buf_append(). Any thread. */
int lineproto_buf_int64(struct lineproto_buf *b, int64_t v);

/* Returns 1 if s[0..n) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. Any thread. */
int lineproto_utf8_valid(const char *s, size_t n);

/* Returns the length of the longest well-formed UTF-8 prefix of s[0..n):
 * n when all of it is valid, else the offset of the first bad byte. Any
 * thread. */
size_t lineproto_utf8_prefix(const char *s, size_t n);

#endif
