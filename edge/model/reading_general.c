/* reading_general.c -- general JSON objects (measurement, tags, fields, ts) -> line protocol. */
#include "reading_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest string field value. */
#define READING_STRING_MAX LINEPROTO_STRING_MAX

/* The keys a general object may carry. */
enum reading_gkey {
	READING_G_MEASUREMENT,
	READING_G_TAGS,
	READING_G_FIELDS,
	READING_G_TS,
	READING_G_COUNT,
};

static const char *const reading_gkey_names[READING_G_COUNT] = {
    [READING_G_MEASUREMENT] = "measurement",
    [READING_G_TAGS] = "tags",
    [READING_G_FIELDS] = "fields",
    [READING_G_TS] = "ts",
};

static int reading_tag_cmp(const void *a, const void *b)
{
	const cJSON *const *ta = a;
	const cJSON *const *tb = b;

	return strcmp((*ta)->string, (*tb)->string);
}

/* Checks a tag or field key: a name, and not InfluxDB's reserved "time". */
static int reading_check_key(struct reading_ctx *ctx, const char *what, const char *key)
{
	char quoted[READING_KEY_QUOTE_MAX + 4];
	char label[READING_KEY_QUOTE_MAX + 32];

	reading_quote_key(key, quoted, sizeof(quoted));
	snprintf(label, sizeof(label), "%s key \"%s\"", what, quoted);
	if (reading_check_text(ctx, label, key, READING_NAME_MAX))
		return -1;
	if (strcmp(key, "time") == 0)
		return reading_fail(ctx, "%s key \"time\" is not allowed (InfluxDB reserves it)",
				    what);
	return 0;
}

/* Checks "tags" and fills tags[] sorted by key (caller frees). Returns 0 or
 * -1 with the message set. */
static int reading_tags(struct reading_ctx *ctx, const cJSON *obj, const cJSON ***out, size_t *n)
{
	char quoted[READING_KEY_QUOTE_MAX + 4];
	char label[READING_KEY_QUOTE_MAX + 16];
	const cJSON **tags;
	const cJSON *t;
	size_t count = 0;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj))
		return reading_fail(ctx, "\"tags\" must be an object of strings");
	for (t = obj->child; t; t = t->next)
		count++;
	if (count == 0)
		return 0;
	if (count > ctx->max_tags)
		return reading_fail(ctx, "%zu tags in one point, more than %zu (http.max_tags)",
				    count, ctx->max_tags);
	tags = calloc(count, sizeof(*tags));
	if (!tags)
		return reading_fail(ctx, "out of memory");
	count = 0;
	for (t = obj->child; t; t = t->next) {
		const char *key = t->string ? t->string : "";

		reading_quote_key(key, quoted, sizeof(quoted));
		if (reading_check_key(ctx, "tag", key))
			goto fail;
		if (!cJSON_IsString(t) || !t->valuestring) {
			reading_fail(ctx, "tag \"%s\" must be a string", quoted);
			goto fail;
		}
		snprintf(label, sizeof(label), "tag \"%s\"", quoted);
		if (reading_check_text(ctx, label, t->valuestring, READING_NAME_MAX))
			goto fail;
		tags[count++] = t;
	}
	qsort(tags, count, sizeof(*tags), reading_tag_cmp);
	for (i = 1; i < count; i++) {
		if (strcmp(tags[i - 1]->string, tags[i]->string) == 0) {
			reading_quote_key(tags[i]->string, quoted, sizeof(quoted));
			reading_fail(ctx, "duplicate tag \"%s\"", quoted);
			goto fail;
		}
	}
	*out = tags;
	*n = count;
	return 0;
fail:
	free(tags);
	return -1;
}

/* Checks one field's value. Returns 0 or -1 with the message set. */
static int reading_field_value(struct reading_ctx *ctx, const cJSON *f, const char *quoted)
{
	size_t n;

	if (cJSON_IsBool(f))
		return 0;
	if (cJSON_IsNumber(f)) {
		if (!isfinite(f->valuedouble))
			return reading_fail(ctx, "field \"%s\" is out of range for a float",
					    quoted);
		return 0;
	}
	if (!cJSON_IsString(f) || !f->valuestring)
		return reading_fail(ctx, "field \"%s\" must be a number, true/false or a string",
				    quoted);
	n = strlen(f->valuestring);
	if (n > READING_STRING_MAX)
		return reading_fail(ctx, "field \"%s\" is longer than %u bytes (InfluxDB's limit)",
				    quoted, READING_STRING_MAX);
	if (memchr(f->valuestring, '\n', n))
		return reading_fail(ctx,
				    "field \"%s\" holds a newline (not supported: the buffer "
				    "stores one point per line)",
				    quoted);
	if (!lineproto_utf8_valid(f->valuestring, n))
		return reading_fail(ctx, "field \"%s\" is not valid UTF-8", quoted);
	return 0;
}

/* Checks "fields": at least one, at most ctx->max_fields, valid keys and
 * values, no duplicates (keys sorted: n log n however many there are). */
static int reading_fields(struct reading_ctx *ctx, const cJSON *obj)
{
	char quoted[READING_KEY_QUOTE_MAX + 4];
	const cJSON **keys = NULL;
	const cJSON *f;
	size_t count = 0;
	size_t i;
	int rc = -1;

	if (!obj)
		return reading_fail(ctx, "\"fields\" is required");
	if (!cJSON_IsObject(obj))
		return reading_fail(ctx, "\"fields\" must be an object");
	if (!obj->child)
		return reading_fail(ctx, "\"fields\" must hold at least one field");
	for (f = obj->child; f; f = f->next) {
		const char *key = f->string ? f->string : "";

		if (++count > ctx->max_fields)
			return reading_fail(ctx,
					    "more than %zu fields in one point (http.max_fields)",
					    ctx->max_fields);
		reading_quote_key(key, quoted, sizeof(quoted));
		if (reading_check_key(ctx, "field", key) || reading_field_value(ctx, f, quoted))
			return -1;
	}
	keys = malloc(count * sizeof(*keys));
	if (!keys)
		return reading_fail(ctx, "out of memory");
	count = 0;
	for (f = obj->child; f; f = f->next)
		keys[count++] = f;
	qsort(keys, count, sizeof(*keys), reading_tag_cmp);
	for (i = 1; i < count; i++) {
		if (strcmp(keys[i - 1]->string, keys[i]->string) == 0) {
			reading_quote_key(keys[i]->string, quoted, sizeof(quoted));
			reading_fail(ctx, "duplicate field \"%s\"", quoted);
			goto out;
		}
	}
	rc = 0;
out:
	free(keys);
	return rc;
}

/* "ts": RFC 3339 string, seconds since the epoch, or absent (receipt time). */
static int reading_general_time(struct reading_ctx *ctx, const cJSON *ts, int64_t *ns)
{
	double us;

	if (!ts || cJSON_IsString(ts))
		return reading_timestamp(ctx, ts, ns);
	if (!cJSON_IsNumber(ts))
		return reading_fail(ctx, "\"ts\" must be an RFC 3339 string or a number of "
					 "seconds since 1970-01-01T00:00:00Z");
	/* A double holds ~16 digits: keep microseconds, drop the noise below. */
	us = round(ts->valuedouble * 1e6);
	if (!(us >= (double)(LINEPROTO_TIME_MIN / 1000) &&
	      us <= (double)(LINEPROTO_TIME_MAX / 1000)))
		goto range;
	*ns = (int64_t)us * 1000;
	return 0;
range:
	return reading_fail(ctx,
			    "\"ts\": %.17g seconds is outside InfluxDB's time range "
			    "(1677-09-21 .. 2262-04-11)",
			    ts->valuedouble);
}

/* Appends the checked point. */
static int reading_general_append(struct reading_ctx *ctx, const char *measurement,
				  const cJSON **tags, size_t ntags, const cJSON *fields, int64_t ns)
{
	struct lineproto_buf *b = &ctx->buf;
	size_t mark = b->len;
	const cJSON *f;
	size_t i;
	int rc;

	rc = lineproto_buf_measurement(b, measurement, strlen(measurement));
	for (i = 0; rc == LINEPROTO_OK && i < ntags; i++) {
		rc = lineproto_buf_putc(b, ',');
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_tag(b, tags[i]->string, strlen(tags[i]->string));
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_putc(b, '=');
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_tag(b, tags[i]->valuestring,
					       strlen(tags[i]->valuestring));
	}
	for (f = fields->child; rc == LINEPROTO_OK && f; f = f->next) {
		rc = lineproto_buf_putc(b, f == fields->child ? ' ' : ',');
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_field_key(b, f->string, strlen(f->string));
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_putc(b, '=');
		if (rc != LINEPROTO_OK)
			break;
		if (cJSON_IsBool(f))
			rc = cJSON_IsTrue(f) ? lineproto_buf_append(b, "true", 4)
					     : lineproto_buf_append(b, "false", 5);
		else if (cJSON_IsNumber(f))
			rc = lineproto_buf_float(b, f->valuedouble);
		else
			rc = lineproto_buf_string(b, f->valuestring, strlen(f->valuestring));
	}
	/* Names hold no backslash: every one in the series is an escape. */
	for (i = mark; rc == LINEPROTO_OK && i < b->len && b->data[i] != ' '; i++)
		if (b->data[i] == '\\')
			i++;
	if (rc == LINEPROTO_OK && i - mark > LINEPROTO_SERIES_MAX) {
		b->len = mark;
		b->data[mark] = '\0';
		return reading_fail(ctx,
				    "series key (measurement and tags) is %zu bytes, more than %u "
				    "(InfluxDB's limit)",
				    i - mark, LINEPROTO_SERIES_MAX);
	}
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_putc(b, ' ');
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_int64(b, ns);
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_putc(b, '\n');
	if (rc != LINEPROTO_OK) {
		if (b->data) {
			b->len = mark;
			b->data[mark] = '\0';
		}
		return reading_fail_lp(ctx, rc);
	}
	ctx->count++;
	return 0;
}

int reading_general_object(struct reading_ctx *ctx, const cJSON *obj)
{
	const cJSON *slot[READING_G_COUNT] = {NULL};
	char quoted[READING_KEY_QUOTE_MAX + 4];
	const cJSON **tags = NULL;
	const cJSON *item;
	const char *m;
	size_t ntags = 0;
	int64_t ns;
	int rc = -1;
	int k;

	for (item = obj->child; item; item = item->next) {
		for (k = 0; k < READING_G_COUNT; k++) {
			if (item->string && strcmp(item->string, reading_gkey_names[k]) == 0)
				break;
		}
		if (k == READING_G_COUNT) {
			reading_quote_key(item->string ? item->string : "", quoted, sizeof(quoted));
			return reading_fail(ctx,
					    "unknown key \"%s\" (a general reading has "
					    "measurement, tags, fields and ts)",
					    quoted);
		}
		if (slot[k])
			return reading_fail(ctx, "duplicate key \"%s\"", reading_gkey_names[k]);
		slot[k] = item;
	}
	item = slot[READING_G_MEASUREMENT];
	if (!item)
		return reading_fail(ctx, "\"measurement\" is required");
	if (!cJSON_IsString(item) || !item->valuestring)
		return reading_fail(ctx, "\"measurement\" must be a string");
	m = item->valuestring;
	if (reading_check_text(ctx, "\"measurement\"", m, READING_NAME_MAX))
		return -1;
	if (m[0] == '#')
		return reading_fail(ctx, "\"measurement\" must not start with '#' (a comment in "
					 "line protocol)");
	if (reading_fields(ctx, slot[READING_G_FIELDS]) ||
	    reading_tags(ctx, slot[READING_G_TAGS], &tags, &ntags))
		return -1;
	/* The receipt clock is read only for a point that is otherwise valid. */
	if (reading_general_time(ctx, slot[READING_G_TS], &ns) == 0)
		rc = reading_general_append(ctx, m, tags, ntags, slot[READING_G_FIELDS], ns);
	free(tags);
	return rc;
}
