/* status_readings_text.c -- `iot-edge status --readings`: the GET /readings document in a
 * terminal, one line per series. */
#include "status_cli.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "lineproto.h"

/* A member as a number, or `dflt`. */
static double rt_num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* A string value as line protocol writes it: quoted, '"' and '\\' escaped. */
static void rt_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* One field value as sent: the shortest number that reads back, true/false, "text". */
static void rt_value(const cJSON *v, FILE *out)
{
	char text[LINEPROTO_FLOAT_MAX];

	if (cJSON_IsNumber(v) && lineproto_format_float(v->valuedouble, text, sizeof(text)) > 0)
		fputs(text, out);
	else if (cJSON_IsBool(v))
		fputs(cJSON_IsTrue(v) ? "true" : "false", out);
	else if (cJSON_IsString(v))
		rt_string(v->valuestring, out);
	else
		fputs("?", out);
}

/* measurement,k=v,k=v  f=v f=v  (age 2s, 12 points) */
static void rt_series(const cJSON *s, FILE *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "measurement");
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(s, "tags");
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(s, "fields");
	const cJSON *it;
	char age[32], points[32];

	fputs(cJSON_IsString(m) ? m->valuestring : "?", out);
	cJSON_ArrayForEach(it, tags)
	{
		if (cJSON_IsString(it))
			fprintf(out, ",%s=%s", it->string, it->valuestring);
	}
	fputs(" ", out);
	cJSON_ArrayForEach(it, fields)
	{
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(it, "key");

		fprintf(out, " %s=", cJSON_IsString(key) ? key->valuestring : "?");
		rt_value(cJSON_GetObjectItemCaseSensitive(it, "value"), out);
	}
	status_text_duration(rt_num(s, "age_s", -1), age, sizeof(age));
	status_text_count(rt_num(s, "points", 0), points, sizeof(points));
	fprintf(out, "  (%s ago, %s points)\n", age, points);
}

int status_readings_print(const struct cJSON *doc, FILE *out)
{
	const cJSON *series = cJSON_GetObjectItemCaseSensitive(doc, "series");
	const cJSON *s;
	char n[32], max[32], points[32], hidden[32];

	if (!cJSON_IsArray(series))
		return -1;
	status_text_count(cJSON_GetArraySize(series), n, sizeof(n));
	status_text_count(rt_num(doc, "series_max", 0), max, sizeof(max));
	status_text_count(rt_num(doc, "points", 0), points, sizeof(points));
	status_text_count(rt_num(doc, "points_not_shown", 0), hidden, sizeof(hidden));
	fprintf(out, "Readings: %s series (at most %s), %s points; %s points of further series\n",
		n, max, points, hidden);
	cJSON_ArrayForEach(s, series) rt_series(s, out);
	return 0;
}
