/* readings.c -- the recent readings window: committed points' last values and 10 min of history
 * per field, for GET /readings, the status page and `iot-edge status --readings`. */
#define _GNU_SOURCE /* memrchr */
#include "readings.h"

#include <cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "lineproto_read.h"

/* One field's last value. */
struct readings_value {
	char key[READINGS_TEXT_MAX];  /* unescaped (cut) */
	char text[READINGS_TEXT_MAX]; /* a number as written, without i/u; a string unescaped */
	enum lineproto_type type;
	double num;
};

/* A series' name, and its measurement and tags for the eye. */
struct readings_head {
	char key[READINGS_KEY_MAX]; /* measurement and tags as written: the identity */
	size_t key_len;
	uint64_t hash;
	char measurement[READINGS_TEXT_MAX];
	size_t ntags;
	char tag_key[READINGS_TAGS_MAX][READINGS_TEXT_MAX];
	char tag_value[READINGS_TAGS_MAX][READINGS_TEXT_MAX];
};

/* A series' last point and the last value of each of its fields. */
struct readings_last {
	struct readings_head head;
	struct readings_value fields[READINGS_FIELDS_MAX];
	size_t nfields;
	uint64_t fields_not_shown; /* field values past READINGS_FIELDS_MAX */
	uint64_t points;
	int64_t ts;
};

struct readings_batch {
	struct readings_last *series;
	size_t n, cap;
	uint64_t not_shown; /* points of series past READINGS_SERIES_MAX or not read */
};

struct readings_series {
	struct readings_last last;
	double history[READINGS_FIELDS_MAX][READINGS_HISTORY]; /* by step % HISTORY; NAN: none */
	int64_t seen_ms; /* CLOCK_MONOTONIC of the last commit */
	int64_t step;	 /* the step of the newest sample */
};

struct readings {
	pthread_mutex_t lock;
	struct readings_series series[READINGS_SERIES_MAX];
	size_t n;
	uint64_t points, not_shown, fields_not_shown, evicted;
};

int readings_create(struct readings **out)
{
	struct readings *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -1;
	pthread_mutex_init(&w->lock, NULL);
	*out = w;
	return 0;
}

void readings_destroy(struct readings *w)
{
	if (!w)
		return;
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void readings_batch_free(struct readings_batch *b)
{
	if (!b)
		return;
	free(b->series);
	free(b);
}

/* FNV-1a: a quick first comparison of series names. */
static uint64_t readings_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static bool readings_same(const struct readings_head *h, uint64_t hash, const char *key, size_t n)
{
	return h->hash == hash && h->key_len == n && memcmp(h->key, key, n) == 0;
}

/* The value of one read field, for the eye and the chart. */
static void readings_value_set(struct readings_value *v, const struct lineproto_read_field *f)
{
	size_t n = f->value.n;

	v->type = f->type;
	v->num = lineproto_read_number(f);
	if (f->type == LINEPROTO_STRING) {
		lineproto_unescape(f->value, LINEPROTO_PART_STRING, v->text, sizeof(v->text));
		return;
	}
	if (f->type == LINEPROTO_INTEGER || f->type == LINEPROTO_UNSIGNED)
		n--; /* the suffix */
	if (n >= sizeof(v->text))
		n = sizeof(v->text) - 1;
	memcpy(v->text, f->value.s, n);
	v->text[n] = '\0';
}

/* The index of field `key` in last, or last->nfields when it has none. */
static size_t readings_field_find(const struct readings_last *last, const char *key)
{
	size_t i;

	for (i = 0; i < last->nfields; i++) {
		if (strcmp(last->fields[i].key, key) == 0)
			break;
	}
	return i;
}

/* Sets the field `key` of `last` to v, taking a free field; counts it when there is none. */
static void readings_field_put(struct readings_last *last, const struct readings_value *v)
{
	size_t i = readings_field_find(last, v->key);

	if (i == last->nfields) {
		if (last->nfields == READINGS_FIELDS_MAX) {
			last->fields_not_shown++;
			return;
		}
		last->nfields++;
	}
	last->fields[i] = *v;
}

/* The batch's entry for the series of `pt`, a new one if needed; NULL when full or no memory. */
static struct readings_last *readings_batch_entry(struct readings_batch *b,
						  const struct lineproto_point_parts *pt,
						  uint64_t hash)
{
	struct readings_last *e;
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (readings_same(&b->series[i].head, hash, pt->series.s, pt->series.n))
			return &b->series[i];
	}
	if (b->n == READINGS_SERIES_MAX)
		return NULL;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1;
		struct readings_last *grown = realloc(b->series, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		b->series = grown;
		b->cap = cap;
	}
	e = &b->series[b->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->head.key, pt->series.s, pt->series.n);
	e->head.key_len = pt->series.n;
	e->head.hash = hash;
	lineproto_unescape(pt->measurement, LINEPROTO_PART_MEASUREMENT, e->head.measurement,
			   sizeof(e->head.measurement));
	for (i = 0; i < pt->ntags && i < READINGS_TAGS_MAX; i++) {
		lineproto_unescape(pt->tags[i].key, LINEPROTO_PART_KEY, e->head.tag_key[i],
				   sizeof(e->head.tag_key[i]));
		lineproto_unescape(pt->tags[i].value, LINEPROTO_PART_KEY, e->head.tag_value[i],
				   sizeof(e->head.tag_value[i]));
	}
	e->head.ntags = i;
	return e;
}

/* One point into the batch; the points come last first, so a field already
 * in the entry has its last value there. */
static void readings_batch_point(struct readings_batch *b, const struct lineproto_point_parts *pt)
{
	struct readings_last *e = NULL;
	size_t i;

	if (pt->series.n < READINGS_KEY_MAX)
		e = readings_batch_entry(b, pt, readings_hash(pt->series.s, pt->series.n));
	if (!e) {
		b->not_shown++;
		return;
	}
	if (e->points++ == 0)
		e->ts = pt->ts;
	for (i = 0; i < pt->nfields; i++) {
		struct readings_value *v;
		char key[READINGS_TEXT_MAX];

		lineproto_unescape(pt->fields[i].key, LINEPROTO_PART_KEY, key, sizeof(key));
		if (readings_field_find(e, key) < e->nfields)
			continue;
		if (e->nfields == READINGS_FIELDS_MAX) {
			e->fields_not_shown++;
			continue;
		}
		v = &e->fields[e->nfields++];
		memcpy(v->key, key, sizeof(key));
		readings_value_set(v, &pt->fields[i]);
	}
}

int readings_batch_make(const char *text, size_t len, struct readings_batch **out)
{
	struct readings_batch *b = calloc(1, sizeof(*b));
	struct lineproto_reader *r = NULL;
	const char *end = text + len;

	*out = NULL;
	if (!b || lineproto_reader_create(&r) != 0) {
		free(b);
		return -1;
	}
	/* Last line first: the values of each field come from its last point,
	 * and are read (strtod, unescaping) once per series and field. */
	if (end > text && end[-1] == '\n')
		end--;
	while (len > 0) {
		const char *nl = memrchr(text, '\n', (size_t)(end - text));
		const char *s = nl ? nl + 1 : text;
		struct lineproto_point_parts pt;

		if (lineproto_read_line(r, s, (size_t)(end - s), &pt) == LINEPROTO_OK)
			readings_batch_point(b, &pt);
		else
			b->not_shown++;
		if (!nl)
			break;
		end = nl;
	}
	lineproto_reader_destroy(r);
	*out = b;
	return 0;
}

/* A fresh series in slot s. */
static void readings_series_init(struct readings_series *s, const struct readings_last *e,
				 int64_t step)
{
	size_t f, i;

	memset(&s->last, 0, sizeof(s->last));
	s->last.head = e->head;
	for (f = 0; f < READINGS_FIELDS_MAX; f++) {
		for (i = 0; i < READINGS_HISTORY; i++)
			s->history[f][i] = NAN;
	}
	s->step = step;
}

/* The slot for the batch entry e: its series, a free one, or the stalest if old enough. */
static struct readings_series *readings_slot(struct readings *w, const struct readings_last *e,
					     int64_t now_ms)
{
	int64_t step = now_ms / READINGS_STEP_MS;
	struct readings_series *oldest = NULL;
	size_t i;

	for (i = 0; i < w->n; i++) {
		struct readings_series *s = &w->series[i];

		if (readings_same(&s->last.head, e->head.hash, e->head.key, e->head.key_len))
			return s;
		if (!oldest || s->seen_ms < oldest->seen_ms)
			oldest = s;
	}
	if (w->n < READINGS_SERIES_MAX) {
		readings_series_init(&w->series[w->n], e, step);
		return &w->series[w->n++];
	}
	if (now_ms - oldest->seen_ms <= (int64_t)READINGS_HISTORY * READINGS_STEP_MS)
		return NULL;
	w->evicted++;
	readings_series_init(oldest, e, step);
	return oldest;
}

/* Moves s's history on to `step`, emptying the steps skipped. */
static void readings_step_to(struct readings_series *s, int64_t step)
{
	int64_t k;
	size_t f;

	if (step <= s->step)
		return;
	for (k = s->step + 1; k <= step && k <= s->step + READINGS_HISTORY; k++) {
		for (f = 0; f < READINGS_FIELDS_MAX; f++)
			s->history[f][k % READINGS_HISTORY] = NAN;
	}
	s->step = step;
}

void readings_commit(struct readings *w, const struct readings_batch *b, int64_t now_ms)
{
	int64_t step = now_ms / READINGS_STEP_MS;
	uint64_t dropped;
	size_t i, j;

	pthread_mutex_lock(&w->lock);
	w->not_shown += b->not_shown;
	for (i = 0; i < b->n; i++) {
		const struct readings_last *e = &b->series[i];
		struct readings_series *s = readings_slot(w, e, now_ms);

		if (!s) {
			w->not_shown += e->points;
			continue;
		}
		readings_step_to(s, step);
		dropped = s->last.fields_not_shown;
		for (j = 0; j < e->nfields; j++)
			readings_field_put(&s->last, &e->fields[j]);
		w->fields_not_shown += s->last.fields_not_shown - dropped;
		/* Every field of the series, new or not, at its last value: the chart's sample. */
		for (j = 0; j < s->last.nfields; j++) {
			const struct readings_value *v = &s->last.fields[j];
			bool fresh = false;
			size_t k;

			for (k = 0; k < e->nfields; k++)
				fresh = fresh || strcmp(e->fields[k].key, v->key) == 0;
			if (fresh && v->type != LINEPROTO_STRING)
				s->history[j][step % READINGS_HISTORY] = v->num;
		}
		s->last.points += e->points;
		s->last.fields_not_shown += e->fields_not_shown;
		s->last.ts = e->ts;
		s->seen_ms = now_ms;
		w->points += e->points;
		w->fields_not_shown += e->fields_not_shown;
	}
	pthread_mutex_unlock(&w->lock);
}

/* --- GET /readings ------------------------------------------------------ */

/* What readings_json() renders: the window copied under its mutex. */
struct readings_copy {
	size_t n;
	uint64_t points, not_shown, fields_not_shown, evicted;
	struct readings_series series[];
};

static int readings_by_key(const void *a, const void *b)
{
	const struct readings_head *x = &((const struct readings_series *)a)->last.head;
	const struct readings_head *y = &((const struct readings_series *)b)->last.head;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static cJSON *readings_value_json(const struct readings_value *v)
{
	switch (v->type) {
	case LINEPROTO_STRING:
		return cJSON_CreateString(v->text);
	case LINEPROTO_BOOLEAN:
		return cJSON_CreateBool(v->num != 0);
	default:
		/* The canonical number, exactly as stored: valid JSON. */
		return cJSON_CreateRaw(v->text);
	}
}

/* The history of field f, oldest first, ending at now's step. */
static cJSON *readings_history_json(const struct readings_series *s, size_t f, int64_t now_step)
{
	cJSON *arr = cJSON_CreateArray();
	int64_t k;

	for (k = now_step - READINGS_HISTORY + 1; arr && k <= now_step; k++) {
		double v = NAN;
		cJSON *item;

		if (k <= s->step && k > s->step - READINGS_HISTORY && k >= 0)
			v = s->history[f][k % READINGS_HISTORY];
		item = isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

static cJSON *readings_series_json(const struct readings_series *s, int64_t now_ms)
{
	const struct readings_last *l = &s->last;
	cJSON *o = cJSON_CreateObject(), *tags, *fields;
	char ts[24];
	size_t i;
	int ok = o != NULL;

	snprintf(ts, sizeof(ts), "%lld", (long long)l->ts);
	ok = ok && cJSON_AddStringToObject(o, "measurement", l->head.measurement);
	tags = ok ? cJSON_AddObjectToObject(o, "tags") : NULL;
	for (i = 0; tags && i < l->head.ntags; i++)
		ok = ok && cJSON_AddStringToObject(tags, l->head.tag_key[i], l->head.tag_value[i]);
	ok = ok && tags && cJSON_AddNumberToObject(o, "points", (double)l->points);
	ok = ok && cJSON_AddRawToObject(o, "ts", ts);
	ok = ok && cJSON_AddNumberToObject(o, "age_s", (double)(now_ms - s->seen_ms) / 1000.0);
	ok = ok && cJSON_AddNumberToObject(o, "fields_not_shown", (double)l->fields_not_shown);
	fields = ok ? cJSON_AddArrayToObject(o, "fields") : NULL;
	ok = ok && fields;
	for (i = 0; ok && i < l->nfields; i++) {
		cJSON *f = cJSON_CreateObject();
		cJSON *v = readings_value_json(&l->fields[i]);
		cJSON *h = readings_history_json(s, i, now_ms / READINGS_STEP_MS);

		ok = f && v && h && cJSON_AddItemToArray(fields, f);
		if (!ok) {
			cJSON_Delete(f);
			cJSON_Delete(v);
			cJSON_Delete(h);
			break;
		}
		ok = cJSON_AddStringToObject(f, "key", l->fields[i].key) &&
		     cJSON_AddItemToObject(f, "value", v);
		if (!ok)
			cJSON_Delete(v);
		ok = ok && cJSON_AddItemToObject(f, "history", h);
		if (!ok)
			cJSON_Delete(h);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

struct cJSON *readings_json(struct readings *w, int64_t now_ms)
{
	struct readings_copy *c;
	cJSON *root = NULL, *arr;
	size_t i;
	int ok;

	pthread_mutex_lock(&w->lock);
	c = malloc(sizeof(*c) + w->n * sizeof(c->series[0]));
	if (c) {
		c->n = w->n;
		c->points = w->points;
		c->not_shown = w->not_shown;
		c->fields_not_shown = w->fields_not_shown;
		c->evicted = w->evicted;
		memcpy(c->series, w->series, w->n * sizeof(c->series[0]));
	}
	pthread_mutex_unlock(&w->lock);
	if (!c)
		return NULL;
	qsort(c->series, c->n, sizeof(c->series[0]), readings_by_key);
	root = cJSON_CreateObject();
	ok = root && cJSON_AddNumberToObject(root, "series_max", READINGS_SERIES_MAX) &&
	     cJSON_AddNumberToObject(root, "fields_max", READINGS_FIELDS_MAX) &&
	     cJSON_AddNumberToObject(root, "step_s", READINGS_STEP_MS / 1000) &&
	     cJSON_AddNumberToObject(root, "history", READINGS_HISTORY) &&
	     cJSON_AddNumberToObject(root, "points", (double)c->points) &&
	     cJSON_AddNumberToObject(root, "points_not_shown", (double)c->not_shown) &&
	     cJSON_AddNumberToObject(root, "fields_not_shown", (double)c->fields_not_shown) &&
	     cJSON_AddNumberToObject(root, "series_evicted", (double)c->evicted);
	arr = ok ? cJSON_AddArrayToObject(root, "series") : NULL;
	ok = ok && arr;
	for (i = 0; ok && i < c->n; i++) {
		cJSON *s = readings_series_json(&c->series[i], now_ms);

		ok = s && cJSON_AddItemToArray(arr, s);
		if (!ok)
			cJSON_Delete(s);
	}
	free(c);
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
