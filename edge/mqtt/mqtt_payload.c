/* mqtt_payload.c -- MQTT messages -> canonical points: the topic template, the four payload
 * forms, each message written as raw line protocol and canonicalised by point_lines(). */
#include "mqtt_payload.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto_parse.h"
#include "point.h"
#include "reading.h"
#include "rfc3339.h"

#define PAYLOAD_DEPTH_MAX 8
#define PAYLOAD_KEY_MAX 256

static const char *const format_names[] = {"auto", "line", "json", "value"};

int mqtt_format_parse(const char *s, enum mqtt_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(s, format_names[i]) == 0) {
			*out = (enum mqtt_format)i;
			return 0;
		}
	}
	return -1;
}

const char *mqtt_format_name(enum mqtt_format f)
{
	return (size_t)f < sizeof(format_names) / sizeof(format_names[0]) ? format_names[f] : "?";
}

/* The length of the level starting at s (up to '/' or end). */
static size_t level_len(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);

	return slash ? (size_t)(slash - s) : n;
}

int mqtt_topic_match(const char *filter, const char *topic, size_t topic_len)
{
	size_t fn = strlen(filter), fpos = 0, tpos = 0;

	/* topics starting with '$' are not matched by a leading wildcard (4.7.2) */
	if (topic_len > 0 && topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
		return 0;
	for (;;) {
		size_t fl = level_len(filter + fpos, fn - fpos);
		size_t tl = level_len(topic + tpos, topic_len - tpos);

		if (fl == 1 && filter[fpos] == '#')
			return 1;
		if (tpos > topic_len)
			return 0;
		if (filter[fpos] != '+' &&
		    (fl != tl || memcmp(filter + fpos, topic + tpos, fl) != 0))
			return 0;
		fpos += fl;
		tpos += tl;
		if (fpos >= fn && tpos >= topic_len)
			return 1;
		if (fpos >= fn)
			return 0;
		/* "a/#" matches "a" too */
		if (tpos >= topic_len)
			return strcmp(filter + fpos, "/#") == 0;
		fpos++;
		tpos++;
	}
}

/* Appends " measurement,tag=..." of the message to raw: the measurement, then
 * the template's tags (or topic=<topic>), skipping a key the fixed tags have.
 * Returns 0, or -1 with why set. */
static int payload_series(const struct mqtt_payload_options *o, const char *topic, size_t topic_len,
			  struct lineproto_buf *raw, char *why, size_t why_size)
{
	const char *t = o->template_;
	size_t tpos = 0, first = level_len(topic, topic_len);
	int rc;

	if (*o->measurement)
		rc = lineproto_buf_measurement(raw, o->measurement, strlen(o->measurement));
	else
		rc = lineproto_buf_measurement(raw, topic, first);
	if (rc != LINEPROTO_OK) {
		snprintf(why, why_size, "the topic's first level cannot be a measurement");
		return -1;
	}
	if (*t == '\0') {
		if (lineproto_buf_putc(raw, ',') || lineproto_buf_tag(raw, "topic", 5) ||
		    lineproto_buf_putc(raw, '=') || lineproto_buf_tag(raw, topic, topic_len)) {
			snprintf(why, why_size, "the topic cannot be a tag value");
			return -1;
		}
		return 0;
	}
	while (*t) {
		size_t tl = strcspn(t, "/");
		size_t vl = level_len(topic + tpos, topic_len > tpos ? topic_len - tpos : 0);

		if (t[0] == '#')
			break;
		if (t[0] == '+' && tl > 1) {
			char key[PAYLOAD_KEY_MAX];
			const char *fixed = o->tags;
			bool clash = false;

			snprintf(key, sizeof(key), "%.*s", (int)(tl - 1), t + 1);
			/* a fixed tag with the same key wins */
			while (*fixed) {
				size_t kl = strcspn(fixed, "=");

				if (kl == tl - 1 && memcmp(fixed, key, kl) == 0)
					clash = true;
				fixed += strcspn(fixed, ",");
				fixed += *fixed == ',';
			}
			if (!clash &&
			    (lineproto_buf_putc(raw, ',') || lineproto_buf_tag(raw, key, tl - 1) ||
			     lineproto_buf_putc(raw, '=') ||
			     lineproto_buf_tag(raw, topic + tpos, vl))) {
				snprintf(why, why_size, "topic level \"%.*s\" cannot be tag %s",
					 (int)(vl > 64 ? 64 : vl), topic + tpos, key);
				return -1;
			}
		}
		t += tl;
		t += *t == '/';
		tpos += vl + 1;
	}
	return 0;
}

/* Whether `key` is in the comma list `list`. */
static bool in_list(const char *list, const char *key)
{
	size_t kl = strlen(key);

	while (*list) {
		size_t n = strcspn(list, ",");

		while (n && list[0] == ' ') {
			list++;
			n--;
		}
		if (n == kl && memcmp(list, key, kl) == 0)
			return true;
		list += n;
		list += *list == ',';
	}
	return false;
}

/* The walk over an object of values. */
struct values_walk {
	const struct mqtt_payload_options *o;
	struct lineproto_buf *raw;
	size_t fields;
	bool have_time;
	int64_t time_ns;
	char *why;
	size_t why_size;
};

static int values_time(struct values_walk *w, const char *key, const cJSON *v)
{
	char err[96];

	if (cJSON_IsString(v)) {
		if (rfc3339_parse_ns(v->valuestring, strlen(v->valuestring), &w->time_ns, err,
				     sizeof(err)) != 0) {
			snprintf(w->why, w->why_size, "time key \"%s\": %s", key, err);
			return -1;
		}
	} else if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && fabs(v->valuedouble) < 9.2e9) {
		w->time_ns = (int64_t)llround(v->valuedouble * 1e6) * 1000; /* s, to the us */
	} else {
		snprintf(w->why, w->why_size,
			 "time key \"%s\": not an RFC 3339 string or seconds since the epoch", key);
		return -1;
	}
	w->have_time = true;
	return 0;
}

/* Appends the fields of object `obj` (nested keys joined to `prefix` with '_'). */
static int values_object(struct values_walk *w, const cJSON *obj, const char *prefix, int depth)
{
	const cJSON *v;

	if (depth > PAYLOAD_DEPTH_MAX) {
		snprintf(w->why, w->why_size, "objects nested deeper than %d", PAYLOAD_DEPTH_MAX);
		return -1;
	}
	cJSON_ArrayForEach(v, obj)
	{
		char key[PAYLOAD_KEY_MAX];
		int n = snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "_" : "",
				 v->string ? v->string : "");
		int rc = LINEPROTO_OK;

		if (n < 0 || (size_t)n >= sizeof(key) || key[0] == '\0') {
			snprintf(w->why, w->why_size, "a key is empty or longer than %d bytes",
				 PAYLOAD_KEY_MAX - 1);
			return -1;
		}
		if (*w->o->time_key && strcmp(key, w->o->time_key) == 0) {
			if (values_time(w, key, v) != 0)
				return -1;
			continue;
		}
		if (cJSON_IsObject(v)) {
			if (values_object(w, v, key, depth + 1) != 0)
				return -1;
			continue;
		}
		if (!cJSON_IsNumber(v) && !cJSON_IsBool(v) &&
		    !(cJSON_IsString(v) && in_list(w->o->string_fields, key)))
			continue; /* strings unless listed, null, arrays */
		rc = lineproto_buf_putc(w->raw, w->fields ? ',' : ' ');
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_field_key(w->raw, key, strlen(key));
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_putc(w->raw, '=');
		if (rc == LINEPROTO_OK && cJSON_IsNumber(v))
			rc = lineproto_buf_float(w->raw, v->valuedouble);
		else if (rc == LINEPROTO_OK && cJSON_IsBool(v))
			rc = lineproto_buf_append(w->raw, cJSON_IsTrue(v) ? "true" : "false",
						  cJSON_IsTrue(v) ? 4 : 5);
		else if (rc == LINEPROTO_OK)
			rc = lineproto_buf_string(w->raw, v->valuestring, strlen(v->valuestring));
		if (rc != LINEPROTO_OK) {
			snprintf(w->why, w->why_size, "key \"%s\" cannot be a field", key);
			return -1;
		}
		w->fields++;
	}
	return 0;
}

/* An object for reading_parse_json(): POST /data's general or seed form. */
static bool json_is_reading(const cJSON *root)
{
	if (cJSON_IsArray(root))
		return true;
	return cJSON_GetObjectItemCaseSensitive(root, "measurement") ||
	       cJSON_GetObjectItemCaseSensitive(root, "fields") ||
	       (cJSON_GetObjectItemCaseSensitive(root, "type") &&
		cJSON_GetObjectItemCaseSensitive(root, "value"));
}

static int64_t payload_fixed_clock(void *arg)
{
	return *(const int64_t *)arg;
}

/* Canonicalise raw[0..len) into out with the fixed tags. Returns points or -1. */
static int payload_finish(const struct mqtt_payload_options *o, const char *raw, size_t len,
			  int64_t receipt_ns, struct lineproto_buf *out, size_t *bad, char *why,
			  size_t why_size)
{
	struct lineproto_parse_options po = {
	    .precision_ns = LINEPROTO_NS, .max_line = o->max_line, .unsigned_ok = o->unsigned_ok};
	struct lineproto_report *report = malloc(sizeof(*report));
	size_t mark = out->len;
	int rc;

	if (!report) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	rc = point_lines(raw, len, &po, o->tags, receipt_ns, out, report);
	*bad = report->bad_lines;
	if (rc == LINEPROTO_OK && report->bad_lines)
		snprintf(why, why_size, "%s", report->errors);
	if (rc != LINEPROTO_OK || report->points == 0) {
		if (rc == LINEPROTO_ETOOBIG)
			snprintf(why, why_size, "too many points");
		else if (rc != LINEPROTO_OK)
			snprintf(why, why_size, "out of memory");
		else if (!report->bad_lines)
			snprintf(why, why_size, "no points in the message");
		if (out->data) {
			out->len = mark;
			out->data[mark] = '\0';
		}
		free(report);
		return -1;
	}
	rc = (int)report->points;
	free(report);
	return rc;
}

/* A bare number: "23.5", "-4", "1e3" (no hex, inf or nan). 1 and *v, or 0. */
static int payload_number(const char *s, size_t n, double *v)
{
	char text[64];
	char *end;

	if (n == 0 || n >= sizeof(text))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!memchr("0123456789+-.eE", s[i], 15))
			return 0;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	*v = strtod(text, &end);
	return *end == '\0' && isfinite(*v);
}

static bool payload_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void payload_trim(const char **s, size_t *n)
{
	while (*n && payload_blank((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n && payload_blank((*s)[*n - 1]))
		(*n)--;
}

int mqtt_payload_points(const struct mqtt_payload_options *o, const char *topic, size_t topic_len,
			const char *payload, size_t len, int64_t receipt_ns,
			struct lineproto_buf *out, size_t *bad, char *why, size_t why_size)
{
	struct lineproto_buf raw;
	const char *p = payload;
	size_t n = len;
	enum mqtt_format f = o->format;
	cJSON *root = NULL;
	double number;
	int rc = -1;

	*bad = 0;
	why[0] = '\0';
	lineproto_buf_init(&raw, out->max);
	if (*o->template_ && !mqtt_topic_match(o->template_, topic, topic_len)) {
		snprintf(why, why_size, "topic does not match the template %s", o->template_);
		goto out;
	}
	payload_trim(&p, &n);
	if (f == MQTT_FORMAT_AUTO) {
		if (n && (p[0] == '{' || p[0] == '['))
			f = MQTT_FORMAT_JSON;
		else if (payload_number(p, n, &number))
			f = MQTT_FORMAT_VALUE;
		else
			f = MQTT_FORMAT_LINE;
	}
	switch (f) {
	case MQTT_FORMAT_LINE:
		rc = payload_finish(o, payload, len, receipt_ns, out, bad, why, why_size);
		break;
	case MQTT_FORMAT_VALUE:
		if (!payload_number(p, n, &number)) {
			snprintf(why, why_size, "not a number");
			break;
		}
		if (payload_series(o, topic, topic_len, &raw, why, why_size) != 0)
			break;
		if (lineproto_buf_putc(&raw, ' ') ||
		    lineproto_buf_field_key(&raw, o->field, strlen(o->field)) ||
		    lineproto_buf_putc(&raw, '=') || lineproto_buf_float(&raw, number)) {
			snprintf(why, why_size, "the number cannot be stored");
			break;
		}
		rc = payload_finish(o, raw.data, raw.len, receipt_ns, out, bad, why, why_size);
		break;
	case MQTT_FORMAT_JSON: {
		const char *end = NULL;

		root = cJSON_ParseWithLengthOpts(p, n, &end, 0);
		if (!root) {
			snprintf(why, why_size, "invalid JSON at byte %zu",
				 end ? (size_t)(end - payload) : (size_t)0);
			break;
		}
		if (json_is_reading(root)) {
			struct reading_points pts = {0};
			char err[256];

			if (reading_parse_json(p, n, payload_fixed_clock, &receipt_ns, &pts, err,
					       sizeof(err)) != 0) {
				snprintf(why, why_size, "%s", err);
				break;
			}
			rc = payload_finish(o, pts.text, pts.len, receipt_ns, out, bad, why,
					    why_size);
			free(pts.text);
			break;
		}
		if (!cJSON_IsObject(root)) {
			snprintf(why, why_size, "JSON that is not an object, an array or a number");
			break;
		}
		struct values_walk w = {.o = o, .raw = &raw, .why = why, .why_size = why_size};

		if (payload_series(o, topic, topic_len, &raw, why, why_size) != 0 ||
		    values_object(&w, root, "", 0) != 0)
			break;
		if (w.fields == 0) {
			snprintf(why, why_size, "no number or boolean in the object");
			break;
		}
		if (w.have_time &&
		    (lineproto_buf_putc(&raw, ' ') || lineproto_buf_int64(&raw, w.time_ns))) {
			snprintf(why, why_size, "out of memory");
			break;
		}
		rc = payload_finish(o, raw.data, raw.len, receipt_ns, out, bad, why, why_size);
		break;
	}
	default:
		snprintf(why, why_size, "unknown format");
		break;
	}
out:
	cJSON_Delete(root);
	lineproto_buf_free(&raw);
	return rc;
}
