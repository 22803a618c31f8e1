/* reading.c -- JSON readings (seed objects; the frame for general ones) -> line protocol. */
#include "reading.h"
#include "reading_internal.h"

#include "lineproto.h"
#include "rfc3339.h"
#include "text.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the original Node.js API wrote: measurement `data`, tag `type`. */
#define READING_MEASUREMENT "data"
/* Cap on the line protocol one body may produce (far above any HTTP body
 * limit: a point is at most ~600 bytes and its JSON at least ~20). */
#define READING_TEXT_MAX ((size_t)64 << 20)

/* The keys a seed object may carry, in the order we validate them. */
enum reading_key {
	READING_KEY_TYPE,
	READING_KEY_VALUE,
	READING_KEY_SENSOR_ID,
	READING_KEY_TS,
	READING_KEY_COUNT,
};

static const char *const reading_key_names[READING_KEY_COUNT] = {
    [READING_KEY_TYPE] = "type",
    [READING_KEY_VALUE] = "value",
    [READING_KEY_SENSOR_ID] = "sensor_id",
    [READING_KEY_TS] = "ts",
};

int reading_fail(struct reading_ctx *ctx, const char *fmt, ...)
{
	size_t used = 0;
	va_list ap;
	int n;

	if (!ctx->err || ctx->err_size == 0)
		return -1;
	ctx->err[0] = '\0';
	if (ctx->in_array) {
		n = snprintf(ctx->err, ctx->err_size, "element %zu: ", ctx->index);
		if (n < 0)
			return -1;
		used = (size_t)n < ctx->err_size ? (size_t)n : ctx->err_size - 1;
	}
	va_start(ap, fmt);
	n = vsnprintf(ctx->err + used, ctx->err_size - used, fmt, ap);
	va_end(ap);
	if (n < 0)
		ctx->err[used] = '\0';
	return -1;
}

int reading_fail_lp(struct reading_ctx *ctx, int rc)
{
	if (rc == LINEPROTO_ENOMEM)
		return reading_fail(ctx, "out of memory");
	if (rc == LINEPROTO_ETOOBIG)
		return reading_fail(ctx, "readings too large (over %zu bytes of line protocol)",
				    (size_t)READING_TEXT_MAX);
	return reading_fail(ctx, "internal error: cannot encode the point");
}

void reading_quote_key(const char *key, char *out, size_t out_size)
{
	size_t size = out_size < READING_KEY_QUOTE_MAX + 4 ? out_size : READING_KEY_QUOTE_MAX + 4;
	size_t n = strlen(key);
	size_t shown = n > size - 4 ? text_utf8_cut(key, size - 4) : n;

	text_quote(out, size, key, n, lineproto_utf8_valid(key, shown) ? 0 : TEXT_QUOTE_ASCII);
}

int reading_check_text(struct reading_ctx *ctx, const char *label, const char *s, size_t max)
{
	size_t n = strlen(s);
	size_t i;

	if (n == 0)
		return reading_fail(ctx, "%s must not be empty", label);
	if (n > max)
		return reading_fail(ctx, "%s is longer than %zu bytes", label, max);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return reading_fail(ctx, "%s contains a control character at byte %zu",
					    label, i);
		if (c == '\\')
			return reading_fail(ctx,
					    "%s must not contain a backslash "
					    "(InfluxDB 1.x line protocol cannot carry it)",
					    label);
	}
	if (!lineproto_utf8_valid(s, n))
		return reading_fail(ctx, "%s is not valid UTF-8", label);
	return 0;
}

/* Checks the `type` string. Returns 0 or -1 with the message set. */
static int reading_check_type(struct reading_ctx *ctx, const cJSON *type)
{
	if (!type)
		return reading_fail(ctx, "\"type\" is required");
	if (!cJSON_IsString(type) || !type->valuestring)
		return reading_fail(ctx, "\"type\" must be a string");
	return reading_check_text(ctx, "\"type\"", type->valuestring, READING_NAME_MAX);
}

/* Checks an optional or required number. Returns 0 or -1 with the message
 * set. */
static int reading_check_number(struct reading_ctx *ctx, const cJSON *item, const char *name,
				int required)
{
	if (!item) {
		if (required)
			return reading_fail(ctx, "\"%s\" is required", name);
		return 0;
	}
	if (!cJSON_IsNumber(item))
		return reading_fail(ctx, "\"%s\" must be a number", name);
	if (!isfinite(item->valuedouble))
		return reading_fail(ctx, "\"%s\" is out of range for a float", name);
	return 0;
}

int reading_timestamp(struct reading_ctx *ctx, const cJSON *ts, int64_t *ns)
{
	char why[128];

	if (!ts) {
		*ns = ctx->clock_fn(ctx->clock_arg);
		if (*ns < LINEPROTO_TIME_MIN || *ns > LINEPROTO_TIME_MAX)
			return reading_fail(ctx,
					    "the receipt clock is outside InfluxDB's time range");
		return 0;
	}
	if (!cJSON_IsString(ts) || !ts->valuestring)
		return reading_fail(ctx, "\"ts\" must be a string");
	if (rfc3339_parse_ns(ts->valuestring, strlen(ts->valuestring), ns, why, sizeof(why)) != 0)
		return reading_fail(ctx, "\"ts\": %s", why);
	if (*ns < LINEPROTO_TIME_MIN || *ns > LINEPROTO_TIME_MAX)
		return reading_fail(ctx, "\"ts\": outside InfluxDB's time range "
					 "(1677-09-21T00:12:43.145224194Z .. "
					 "2262-04-11T23:47:16.854775806Z)");
	return 0;
}

/* Appends one validated point. Returns 0 or -1 with the message set. */
static int reading_append(struct reading_ctx *ctx, const char *type, const cJSON *sensor_id,
			  double value, int64_t ns)
{
	struct lineproto_buf *b = &ctx->buf;
	int rc;

	rc = lineproto_buf_append(
	    b, READING_MEASUREMENT ",type=", sizeof(READING_MEASUREMENT ",type=") - 1);
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_tag(b, type, strlen(type));
	if (rc == LINEPROTO_OK && sensor_id) {
		rc = lineproto_buf_append(b, " sensor_id=", sizeof(" sensor_id=") - 1);
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_float(b, sensor_id->valuedouble);
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_append(b, ",value=", sizeof(",value=") - 1);
	} else if (rc == LINEPROTO_OK) {
		rc = lineproto_buf_append(b, " value=", sizeof(" value=") - 1);
	}
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_float(b, value);
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_putc(b, ' ');
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_int64(b, ns);
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_putc(b, '\n');
	if (rc != LINEPROTO_OK)
		return reading_fail_lp(ctx, rc);
	ctx->count++;
	return 0;
}

/* Validates one seed object and appends its point. Returns 0 or -1 with
 * the message set. */
static int reading_object(struct reading_ctx *ctx, const cJSON *obj)
{
	const cJSON *slot[READING_KEY_COUNT] = {NULL};
	char quoted[READING_KEY_QUOTE_MAX + 4];
	const cJSON *item;
	int64_t ns;
	int k;

	if (!cJSON_IsObject(obj))
		return reading_fail(ctx, "must be an object");
	if (ctx->general && (cJSON_GetObjectItemCaseSensitive(obj, "measurement") ||
			     cJSON_GetObjectItemCaseSensitive(obj, "fields") ||
			     cJSON_GetObjectItemCaseSensitive(obj, "tags")))
		return reading_general_object(ctx, obj);
	for (item = obj->child; item; item = item->next) {
		for (k = 0; k < READING_KEY_COUNT; k++) {
			if (item->string && strcmp(item->string, reading_key_names[k]) == 0)
				break;
		}
		if (k == READING_KEY_COUNT) {
			reading_quote_key(item->string ? item->string : "", quoted, sizeof(quoted));
			return reading_fail(ctx, "unknown key \"%s\"", quoted);
		}
		if (slot[k])
			return reading_fail(ctx, "duplicate key \"%s\"", reading_key_names[k]);
		slot[k] = item;
	}
	if (reading_check_type(ctx, slot[READING_KEY_TYPE]) ||
	    reading_check_number(ctx, slot[READING_KEY_VALUE], "value", 1) ||
	    reading_check_number(ctx, slot[READING_KEY_SENSOR_ID], "sensor_id", 0) ||
	    reading_timestamp(ctx, slot[READING_KEY_TS], &ns))
		return -1;
	/* The checks above refuse both missing; said again for the analyzer. */
	if (!slot[READING_KEY_TYPE] || !slot[READING_KEY_VALUE])
		return -1;
	return reading_append(ctx, slot[READING_KEY_TYPE]->valuestring, slot[READING_KEY_SENSOR_ID],
			      slot[READING_KEY_VALUE]->valuedouble, ns);
}

/* JSON allows only these control bytes, and only between tokens; cJSON
 * would take any byte <= 0x20 as blank, NUL included. Returns the offset of
 * the first other control byte, or len. */
static size_t reading_find_control(const char *body, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
	}
	return i;
}

/* cJSON turns "\u0000" into a NUL that silently cuts the string short.
 * In valid JSON every backslash starts an escape inside a string, so
 * walking escape pairs finds them exactly. Returns the offset of the first
 * such escape, or len. */
static size_t reading_find_nul_escape(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (body[i] != '\\') {
			i++;
			continue;
		}
		if (len - i >= 6 && body[i + 1] == 'u' && memcmp(body + i + 2, "0000", 4) == 0)
			return i;
		i += 2;
	}
	return len;
}

/* Parses the validated JSON tree into ctx. Returns 0 or -1 with the
 * message set. */
static int reading_root(struct reading_ctx *ctx, const cJSON *root)
{
	const cJSON *elem;

	if (cJSON_IsObject(root))
		return reading_object(ctx, root);
	if (!cJSON_IsArray(root))
		return reading_fail(ctx, "body must be a JSON object or an array of objects");
	if (!root->child)
		return reading_fail(ctx, "no readings");
	ctx->in_array = 1;
	for (elem = root->child; elem; elem = elem->next) {
		if (reading_object(ctx, elem))
			return -1;
		ctx->index++;
	}
	return 0;
}

/* The message for a body cJSON refused. cJSON reports input that runs out
 * and a bad last byte alike, at the last byte; parsing a NUL-terminated copy
 * (on this error path only) places the error exactly. */
static void reading_fail_json(struct reading_ctx *ctx, const char *body, size_t len)
{
	const char *end = NULL;
	char *copy = malloc(len + 1);
	cJSON *root;
	size_t at;

	if (!copy) {
		reading_fail(ctx, "out of memory");
		return;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
	cJSON_Delete(root); /* NULL: the same bytes failed in place */
	at = end && end >= copy ? (size_t)(end - copy) : 0;
	if (at >= len)
		reading_fail(ctx, "invalid JSON: body ends early");
	else
		reading_fail(ctx, "invalid JSON near byte %zu", at);
	free(copy);
}

/* A field two elements give two types (InfluxDB would refuse the later
 * one): the whole body is refused, naming both. Returns 0 or -1. */
static int reading_conflicts(struct reading_ctx *ctx)
{
	struct lineproto_conflict c;
	int rc;

	if (!ctx->general || ctx->count < 2)
		return 0;
	rc = lineproto_find_conflict(ctx->buf.data, ctx->buf.len, &c);
	if (rc == 0)
		return 0;
	if (rc != 1)
		return reading_fail(ctx, "out of memory");
	ctx->index = c.line - 1;
	return reading_fail(ctx,
			    "field \"%s\" is %s here but %s in element %zu of this request "
			    "(InfluxDB refuses a field type conflict)",
			    c.key, c.type, c.first_type, c.first_line - 1);
}

/* Both entry points: general objects allowed or not. */
static int reading_parse(const char *body, size_t len, reading_clock_fn *clock_fn, void *clock_arg,
			 const struct reading_limits *limits, struct reading_points *out, char *err,
			 size_t err_size, int general)
{
	struct reading_ctx ctx;
	const char *end = NULL;
	cJSON *root = NULL;
	size_t at;
	int rc = -1;

	memset(&ctx, 0, sizeof(ctx));
	ctx.clock_fn = clock_fn;
	ctx.clock_arg = clock_arg;
	ctx.err = err;
	ctx.err_size = err_size;
	ctx.general = general;
	ctx.max_tags = limits && limits->max_tags ? limits->max_tags : LINEPROTO_MAX_TAGS_DEFAULT;
	ctx.max_fields =
	    limits && limits->max_fields ? limits->max_fields : LINEPROTO_MAX_FIELDS_DEFAULT;
	lineproto_buf_init(&ctx.buf, READING_TEXT_MAX);
	if (err && err_size > 0)
		err[0] = '\0';
	if (out) {
		out->text = NULL;
		out->len = 0;
		out->count = 0;
	}
	if (!out || !clock_fn || (!body && len > 0)) {
		reading_fail(&ctx, "internal error: bad arguments");
		goto out;
	}
	if (len == 0) {
		reading_fail(&ctx, "empty body");
		goto out;
	}
	at = reading_find_control(body, len);
	if (at < len) {
		reading_fail(&ctx, "invalid JSON: control character at byte %zu", at);
		goto out;
	}
	/* In place: cJSON reads body[0..len) only, and what follows the value
	 * must be whitespace (the body holds no other control byte). */
	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!root) {
		reading_fail_json(&ctx, body, len);
		goto out;
	}
	at = (size_t)(end - body);
	while (at < len &&
	       (body[at] == ' ' || body[at] == '\t' || body[at] == '\n' || body[at] == '\r'))
		at++;
	if (at < len) {
		reading_fail(&ctx, "invalid JSON near byte %zu", at);
		goto out;
	}
	at = reading_find_nul_escape(body, len);
	if (at < len) {
		reading_fail(&ctx, "\\u0000 is not allowed in a string (byte %zu)", at);
		goto out;
	}
	if (reading_root(&ctx, root) || reading_conflicts(&ctx))
		goto out;
	out->text = lineproto_buf_steal(&ctx.buf, &out->len);
	out->count = ctx.count;
	rc = 0;
out:
	cJSON_Delete(root);
	lineproto_buf_free(&ctx.buf);
	return rc;
}

int reading_parse_seed_json(const char *body, size_t len, reading_clock_fn *clock_fn,
			    void *clock_arg, struct reading_points *out, char *err, size_t err_size)
{
	return reading_parse(body, len, clock_fn, clock_arg, NULL, out, err, err_size, 0);
}

int reading_parse_json(const char *body, size_t len, reading_clock_fn *clock_fn, void *clock_arg,
		       struct reading_points *out, char *err, size_t err_size)
{
	return reading_parse(body, len, clock_fn, clock_arg, NULL, out, err, err_size, 1);
}

int reading_parse_json_limits(const char *body, size_t len, reading_clock_fn *clock_fn,
			      void *clock_arg, const struct reading_limits *limits,
			      struct reading_points *out, char *err, size_t err_size)
{
	return reading_parse(body, len, clock_fn, clock_arg, limits, out, err, err_size, 1);
}
