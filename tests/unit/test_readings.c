/* test_readings.c -- unit tests: the recent readings window (edge/ingest/readings.c) and the
 * canonical line reader under it (edge/model/lineproto_read.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cJSON.h>

#include "lineproto_read.h"
#include "readings.h"

/* A monotonic time far from 0, as a running system has. */
#define T0 1000000000LL

/* Commit `text` to w at now_ms. */
static void commit(struct readings *w, const char *text, int64_t now_ms)
{
	struct readings_batch *b = NULL;

	assert_int_equal(readings_batch_make(text, strlen(text), &b), 0);
	assert_non_null(b);
	readings_commit(w, b, now_ms);
	readings_batch_free(b);
}

/* The document as a client reads it: printed, then parsed. */
static cJSON *doc(struct readings *w, int64_t now_ms)
{
	cJSON *d = readings_json(w, now_ms);
	char *text;

	assert_non_null(d);
	text = cJSON_PrintUnformatted(d);
	assert_non_null(text);
	cJSON_Delete(d);
	d = cJSON_Parse(text);
	cJSON_free(text);
	assert_non_null(d);
	return d;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static const cJSON *series(const cJSON *d, int i)
{
	const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "series"), i);

	assert_non_null(s);
	return s;
}

static const cJSON *field(const cJSON *s, int i)
{
	const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "fields"), i);

	assert_non_null(f);
	return f;
}

static int nseries(const cJSON *d)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "series"));
}

/* The last value of each field of each series, merged over points and batches. */
static void test_last_values(void **state)
{
	struct readings *w = NULL;
	const cJSON *s, *f;
	cJSON *d;

	(void)state;
	assert_int_equal(readings_create(&w), 0);
	commit(w,
	       "climate,room=kitchen temp=21.5,hum=40i 1700000000000000000\n"
	       "climate,room=hall temp=19 1700000000000000001\n"
	       "climate,room=kitchen temp=22.25,ok=true 1700000000000000002\n",
	       T0);
	commit(w, "climate,room=kitchen note=\"door \\\"open\\\"\",big=18446744073709551615u 5\n",
	       T0 + 100);
	d = doc(w, T0 + 1100);
	assert_int_equal(nseries(d), 2);
	assert_int_equal(num(d, "points"), 4);
	assert_int_equal(num(d, "points_not_shown"), 0);
	/* Sorted by series name: hall before kitchen. */
	s = series(d, 0);
	assert_string_equal(str(s, "measurement"), "climate");
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(s, "tags"), "room"), "hall");
	assert_int_equal(num(s, "points"), 1);
	s = series(d, 1);
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(s, "tags"), "room"), "kitchen");
	assert_int_equal(num(s, "points"), 3);
	assert_int_equal(num(s, "ts"), 5);
	assert_true(num(s, "age_s") == 1.0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "fields")), 5);
	f = field(s, 0);
	assert_string_equal(str(f, "key"), "temp");
	assert_true(num(f, "value") == 22.25);
	/* The fields of the last point first, then the others. */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(field(s, 1), "value")));
	f = field(s, 2);
	assert_string_equal(str(f, "key"), "hum");
	assert_true(num(f, "value") == 40);
	assert_string_equal(str(field(s, 3), "value"), "door \"open\"");
	cJSON_Delete(d);
	/* The canonical number as stored: exact past 2^53. */
	{
		cJSON *raw = readings_json(w, T0);
		char *text = cJSON_PrintUnformatted(raw);

		assert_non_null(strstr(text, "\"key\":\"big\",\"value\":18446744073709551615,"));
		cJSON_free(text);
		cJSON_Delete(raw);
	}
	readings_destroy(w);
}

/* Escaped names are shown unescaped; the series is named by its escaped text. */
static void test_escapes(void **state)
{
	struct readings *w = NULL;
	const cJSON *s;
	cJSON *d;

	(void)state;
	assert_int_equal(readings_create(&w), 0);
	commit(w, "my\\ room,tag\\,k=v\\ 1\\=2 f\\=x=1 1\nmy\\ room,tag\\,k=v\\ 1\\=2 f\\=x=2 2\n",
	       T0);
	d = doc(w, T0);
	assert_int_equal(nseries(d), 1);
	s = series(d, 0);
	assert_string_equal(str(s, "measurement"), "my room");
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(s, "tags"), "tag,k"), "v 1=2");
	assert_string_equal(str(field(s, 0), "key"), "f=x");
	assert_true(num(field(s, 0), "value") == 2);
	cJSON_Delete(d);
	readings_destroy(w);
}

/* At most READINGS_SERIES_MAX series; the points of the others are counted. */
static void test_series_bound(void **state)
{
	struct readings *w = NULL;
	char text[8192];
	size_t len = 0;
	cJSON *d;
	int i;

	(void)state;
	assert_int_equal(readings_create(&w), 0);
	for (i = 0; i < READINGS_SERIES_MAX + 6; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "m,id=%03d v=%d %d\n", i, i,
					i + 1);
	/* Two points of one more series (the last lines: read first), a line that does not read. */
	len += (size_t)snprintf(text + len, sizeof(text) - len, "m,id=999 v=1 1\nm,id=999 v=2 2\n");
	snprintf(text + len, sizeof(text) - len, "not a point\n");
	commit(w, text, T0);
	d = doc(w, T0);
	/* Last lines first: 999 and 069 down to 007 take the 64 slots; 006..000 and the bad
	 * line are counted. */
	assert_int_equal(nseries(d), READINGS_SERIES_MAX);
	assert_int_equal(num(d, "points"), 2 + READINGS_SERIES_MAX - 1);
	assert_int_equal(num(d, "points_not_shown"), 7 + 1);
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(series(d, 0), "tags"), "id"),
			    "007");
	assert_int_equal(num(series(d, READINGS_SERIES_MAX - 1), "points"), 2);
	assert_true(num(field(series(d, READINGS_SERIES_MAX - 1), 0), "value") == 2);
	cJSON_Delete(d);
	/* A full window: a new series is counted, not shown, while the others are recent. */
	commit(w, "n v=1 1\n", T0 + 1000);
	d = doc(w, T0 + 1000);
	assert_int_equal(nseries(d), READINGS_SERIES_MAX);
	assert_int_equal(num(d, "points_not_shown"), 9);
	assert_int_equal(num(d, "series_evicted"), 0);
	cJSON_Delete(d);
	readings_destroy(w);
}

/* A full window gives the slot of its stalest series once that is older than the history. */
static void test_eviction(void **state)
{
	const int64_t span = (int64_t)READINGS_HISTORY * READINGS_STEP_MS;
	struct readings *w = NULL;
	char line[64];
	cJSON *d;
	int i;

	(void)state;
	assert_int_equal(readings_create(&w), 0);
	for (i = 0; i < READINGS_SERIES_MAX; i++) {
		snprintf(line, sizeof(line), "m,id=%03d v=%d 1\n", i, i);
		commit(w, line, T0 + (i == 5 ? 0 : 1000));
	}
	commit(w, "new v=7 1\n", T0 + span);
	d = doc(w, T0 + span);
	assert_int_equal(num(d, "series_evicted"), 0);
	assert_int_equal(num(d, "points_not_shown"), 1);
	cJSON_Delete(d);
	commit(w, "new v=8 2\n", T0 + span + 1);
	d = doc(w, T0 + span + 1);
	assert_int_equal(nseries(d), READINGS_SERIES_MAX);
	assert_int_equal(num(d, "series_evicted"), 1);
	/* id=005 (the stalest) is gone; "new" (sorted last) holds its last value. */
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(series(d, 5), "tags"), "id"),
			    "006");
	assert_string_equal(str(series(d, READINGS_SERIES_MAX - 1), "measurement"), "new");
	assert_true(num(field(series(d, READINGS_SERIES_MAX - 1), 0), "value") == 8);
	assert_int_equal(num(series(d, READINGS_SERIES_MAX - 1), "points"), 1);
	cJSON_Delete(d);
	readings_destroy(w);
}

/* At most READINGS_FIELDS_MAX fields a series; further ones are counted. */
static void test_fields_bound(void **state)
{
	struct readings *w = NULL;
	cJSON *d;

	(void)state;
	assert_int_equal(readings_create(&w), 0);
	commit(w, "m a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10 1\nm i=1 2\n", T0);
	d = doc(w, T0);
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(series(d, 0), "fields")),
	    READINGS_FIELDS_MAX);
	assert_int_equal(num(d, "fields_not_shown"), 2);
	assert_int_equal(num(series(d, 0), "fields_not_shown"), 2);
	/* The last point's field first: i=1, then a..g of the earlier one; h and j are counted. */
	assert_string_equal(str(field(series(d, 0), 0), "key"), "i");
	assert_true(num(field(series(d, 0), 0), "value") == 1);
	assert_string_equal(str(field(series(d, 0), 7), "key"), "g");
	cJSON_Delete(d);
	/* A later batch: a field new to the full series is counted too. */
	commit(w, "m z=1 3\n", T0 + 1);
	d = doc(w, T0 + 1);
	assert_int_equal(num(d, "fields_not_shown"), 3);
	cJSON_Delete(d);
	readings_destroy(w);
}

/* One sample a step per field, the last value in it; null where none; 10 min kept. */
static void test_history(void **state)
{
	struct readings *w = NULL;
	const cJSON *h;
	cJSON *d;
	int i;

	(void)state;
	assert_int_equal(readings_create(&w), 0);
	commit(w, "m v=1,s=\"x\" 1\n", T0);
	commit(w, "m v=5 2\n", T0 + 1);
	commit(w, "m v=2 3\n", T0 + READINGS_STEP_MS);
	commit(w, "m v=3 4\n", T0 + 3 * READINGS_STEP_MS);
	d = doc(w, T0 + 4 * READINGS_STEP_MS);
	h = cJSON_GetObjectItemCaseSensitive(field(series(d, 0), 0), "history");
	assert_int_equal(cJSON_GetArraySize(h), READINGS_HISTORY);
	for (i = 0; i < READINGS_HISTORY - 5; i++)
		assert_true(cJSON_IsNull(cJSON_GetArrayItem(h, i)));
	assert_true(cJSON_GetArrayItem(h, READINGS_HISTORY - 5)->valuedouble == 5);
	assert_true(cJSON_GetArrayItem(h, READINGS_HISTORY - 4)->valuedouble == 2);
	assert_true(cJSON_IsNull(cJSON_GetArrayItem(h, READINGS_HISTORY - 3)));
	assert_true(cJSON_GetArrayItem(h, READINGS_HISTORY - 2)->valuedouble == 3);
	assert_true(cJSON_IsNull(cJSON_GetArrayItem(h, READINGS_HISTORY - 1)));
	/* A string has no chart. */
	h = cJSON_GetObjectItemCaseSensitive(field(series(d, 0), 1), "history");
	for (i = 0; i < READINGS_HISTORY; i++)
		assert_true(cJSON_IsNull(cJSON_GetArrayItem(h, i)));
	cJSON_Delete(d);
	/* 10 min later every sample is out of the history; the last value stays. */
	d = doc(w, T0 + (3 + READINGS_HISTORY) * READINGS_STEP_MS);
	h = cJSON_GetObjectItemCaseSensitive(field(series(d, 0), 0), "history");
	for (i = 0; i < READINGS_HISTORY; i++)
		assert_true(cJSON_IsNull(cJSON_GetArrayItem(h, i)));
	assert_true(num(field(series(d, 0), 0), "value") == 3);
	cJSON_Delete(d);
	/* A write after a long gap starts a clean history. */
	commit(w, "m v=4 5\n", T0 + 200 * READINGS_STEP_MS);
	d = doc(w, T0 + 200 * READINGS_STEP_MS);
	h = cJSON_GetObjectItemCaseSensitive(field(series(d, 0), 0), "history");
	for (i = 0; i < READINGS_HISTORY - 1; i++)
		assert_true(cJSON_IsNull(cJSON_GetArrayItem(h, i)));
	assert_true(cJSON_GetArrayItem(h, READINGS_HISTORY - 1)->valuedouble == 4);
	cJSON_Delete(d);
	readings_destroy(w);
}

/* The reader: the parts of a canonical line, numbers and types. */
static void test_reader(void **state)
{
	const char *line = "cpu,host=a,zone=b\\ c u=1i,v=2.5,w=3u,x=false,y=\"s\" 42";
	struct lineproto_reader *r = NULL;
	struct lineproto_point_parts pt;
	char out[8];

	(void)state;
	assert_int_equal(lineproto_reader_create(&r), 0);
	assert_int_equal(lineproto_read_line(r, line, strlen(line), &pt), 0);
	assert_int_equal(pt.series.n, strlen("cpu,host=a,zone=b\\ c"));
	assert_int_equal(pt.ntags, 2);
	assert_int_equal(pt.nfields, 5);
	assert_int_equal(pt.ts, 42);
	assert_int_equal(pt.fields[0].type, LINEPROTO_INTEGER);
	assert_true(lineproto_read_number(&pt.fields[0]) == 1);
	assert_int_equal(pt.fields[1].type, LINEPROTO_FLOAT);
	assert_true(lineproto_read_number(&pt.fields[1]) == 2.5);
	assert_int_equal(pt.fields[2].type, LINEPROTO_UNSIGNED);
	assert_true(lineproto_read_number(&pt.fields[2]) == 3);
	assert_int_equal(pt.fields[3].type, LINEPROTO_BOOLEAN);
	assert_true(lineproto_read_number(&pt.fields[3]) == 0);
	assert_int_equal(pt.fields[4].type, LINEPROTO_STRING);
	assert_true(lineproto_read_number(&pt.fields[4]) == 0);
	assert_int_equal(lineproto_unescape(pt.tags[1].value, LINEPROTO_PART_KEY, out, sizeof(out)),
			 3);
	assert_string_equal(out, "b c");
	assert_int_not_equal(lineproto_read_line(r, "bad", 3, &pt), 0);
	/* Cut to fit at a character boundary: "é" (2 bytes) does not half fit. */
	assert_int_equal(lineproto_unescape((struct lineproto_part){"abcdef\xc3\xa9", 8},
					    LINEPROTO_PART_KEY, out, sizeof(out)),
			 6);
	lineproto_reader_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_last_values),	 cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_series_bound), cmocka_unit_test(test_eviction),
	    cmocka_unit_test(test_fields_bound), cmocka_unit_test(test_history),
	    cmocka_unit_test(test_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
