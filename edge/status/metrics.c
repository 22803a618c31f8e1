/* metrics.c -- GET /metrics: the figures of /status as Prometheus text, conventional names. */
#include "metrics.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"

#define METRICS_PREFIX "iot_edge_"
#define METRICS_LABEL_MAX 512

/* The text being built; `failed` once an allocation failed. */
struct metrics_out {
	char *text;
	size_t len, cap;
	bool failed;
};

/* A figure of the /status document that maps to one sample without labels. */
struct metrics_simple {
	const char *object; /* "buffer", "uplink", or NULL for the top level */
	const char *key;
	const char *name; /* without the prefix */
	const char *type;
	const char *help;
};

static const struct metrics_simple metrics_buffer_figures[] = {
    {"buffer", "points", "buffer_points", "gauge", "Points in the buffer, not yet delivered."},
    {"buffer", "bytes", "buffer_bytes", "gauge", "Line-protocol bytes of the buffered points."},
    {"buffer", "file_bytes", "buffer_file_bytes", "gauge",
     "Size of the buffer database and its WAL on disk."},
    {"buffer", "oldest_age_s", "buffer_oldest_age_seconds", "gauge",
     "Age of the oldest buffered point (0 when empty)."},
    {"buffer", "newest_age_s", "buffer_newest_age_seconds", "gauge",
     "Age of the newest buffered point (0 when empty)."},
    {"buffer", "appended", "buffer_appended_points_total", "counter",
     "Points committed to the buffer."},
    {"buffer", "acked", "buffer_acked_points_total", "counter",
     "Points deleted from the buffer after InfluxDB acknowledged them."},
    {"buffer", "dropped", "buffer_dropped_points_total", "counter",
     "Points deleted undelivered to respect buffer.max_size or buffer.min_free_disk."},
    {"buffer", "rejected", "buffer_rejected_points_total", "counter",
     "Points InfluxDB refused for good, moved to the rejected table."},
    {"buffer", "commits", "buffer_commits_total", "counter", "Write transactions of the buffer."},
    {"buffer", "quarantined", "buffer_quarantined", "gauge",
     "1 when a corrupt buffer was moved aside at start-up."},
};

static const struct metrics_simple metrics_uplink_figures[] = {
    {"uplink", "points_sent", "uplink_sent_points_total", "counter",
     "Points InfluxDB acknowledged."},
    {"uplink", "points_rejected", "uplink_rejected_points_total", "counter",
     "Points InfluxDB refused for good (dead letters)."},
    {"uplink", "retries", "uplink_retries_total", "counter", "Requests repeating a failed one."},
    {"uplink", "consecutive_failures", "uplink_consecutive_failures", "gauge",
     "Failed requests since the last success."},
    {"uplink", "splits", "uplink_splits_total", "counter",
     "413 answers that halved the batch size."},
    {"uplink", "bytes_raw", "uplink_raw_bytes_total", "counter",
     "Line-protocol bytes put into requests, before gzip."},
    {"uplink", "bytes_sent", "uplink_sent_bytes_total", "counter",
     "Request body bytes sent, after gzip."},
    {"uplink", "batch_points", "uplink_batch_points", "gauge", "Points per request now."},
    {"uplink", "last_success_unix_s", "uplink_last_success_timestamp_seconds", "gauge",
     "Time of the last acknowledged request (absent: none yet)."},
    {"uplink", "last_error_unix_s", "uplink_last_error_timestamp_seconds", "gauge",
     "Time of the last failed request (absent: none yet)."},
    {"uplink", "backlog_drain_s", "uplink_backlog_drain_seconds", "gauge",
     "Seconds to empty the buffer at the net drain rate of the last minute (absent: not "
     "draining)."},
};

/* One collector figure: a family with a sample per collector. */
struct metrics_collector {
	const char *key;
	const char *name;
	const char *type;
	const char *help;
};

static const struct metrics_collector metrics_collectors[] = {
    {"interval_s", "collector_interval_seconds", "gauge", "How often the collector runs."},
    {"runs", "collector_runs_total", "counter", "Runs finished."},
    {"points", "collector_points_total", "counter", "Points handed to the buffer."},
    {"skipped", "collector_skipped_points_total", "counter", "Readings skipped as invalid."},
    {"errors", "collector_errors_total", "counter", "Runs or readings that failed."},
    {"last_run_unix_s", "collector_last_run_timestamp_seconds", "gauge",
     "Time of the last run (absent: never ran)."},
};

__attribute__((format(printf, 2, 3))) static void metrics_printf(struct metrics_out *o,
								 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->text + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < o->cap - o->len)
			break;
		size_t cap = o->cap * 2 + (size_t)n;
		char *text = realloc(o->text, cap);
		if (!text) {
			o->failed = true;
			return;
		}
		o->text = text;
		o->cap = cap;
	}
	o->len += (size_t)n;
}

int metrics_format_value(double value, char *out, size_t cap)
{
	if (isnan(value))
		return snprintf(out, cap, "NaN");
	if (isinf(value))
		return snprintf(out, cap, value > 0 ? "+Inf" : "-Inf");
	if (value == floor(value) && fabs(value) < 9007199254740992.0) /* 2^53: exact */
		return snprintf(out, cap, "%.0f", value);
	return lineproto_format_float(value, out, cap); /* the fewest digits that read back */
}

int metrics_escape_label(const char *in, char *out, size_t cap)
{
	size_t used = 0;

	for (const char *p = in; *p; p++) {
		const char *put = NULL;
		size_t len = 1;

		if (*p == '\\')
			put = "\\\\";
		else if (*p == '"')
			put = "\\\"";
		else if (*p == '\n')
			put = "\\n";
		if (put)
			len = 2;
		if (used + len >= cap) {
			if (cap > 0)
				out[0] = '\0';
			return -1;
		}
		memcpy(out + used, put ? put : p, len);
		used += len;
	}
	if (cap == 0)
		return -1;
	out[used] = '\0';
	return 0;
}

static void metrics_family(struct metrics_out *o, const char *name, const char *type,
			   const char *help)
{
	metrics_printf(o, "# HELP " METRICS_PREFIX "%s %s\n# TYPE " METRICS_PREFIX "%s %s\n", name,
		       help, name, type);
}

/* One sample; `labels` is "" or `key="value",...` (escaped). */
static void metrics_sample(struct metrics_out *o, const char *name, const char *labels,
			   double value)
{
	char v[40];

	metrics_format_value(value, v, sizeof(v));
	if (*labels)
		metrics_printf(o, METRICS_PREFIX "%s{%s} %s\n", name, labels, v);
	else
		metrics_printf(o, METRICS_PREFIX "%s %s\n", name, v);
}

/* A sample from a JSON number or boolean; nothing for null or a missing item. */
static void metrics_sample_item(struct metrics_out *o, const char *name, const char *labels,
				const cJSON *item)
{
	if (cJSON_IsNumber(item))
		metrics_sample(o, name, labels, item->valuedouble);
	else if (cJSON_IsBool(item))
		metrics_sample(o, name, labels, cJSON_IsTrue(item) ? 1.0 : 0.0);
}

static void metrics_simple_list(struct metrics_out *o, const cJSON *status,
				const struct metrics_simple *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *obj = list[i].object
				       ? cJSON_GetObjectItemCaseSensitive(status, list[i].object)
				       : status;

		metrics_family(o, list[i].name, list[i].type, list[i].help);
		metrics_sample_item(o, list[i].name, "",
				    cJSON_GetObjectItemCaseSensitive(obj, list[i].key));
	}
}

/* A label `key="value"` into out; "" when it does not fit. */
static void metrics_label(char *out, size_t cap, const char *key, const char *value)
{
	char escaped[METRICS_LABEL_MAX];

	if (metrics_escape_label(value ? value : "", escaped, sizeof(escaped)) != 0 ||
	    snprintf(out, cap, "%s=\"%s\"", key, escaped) >= (int)cap)
		out[0] = '\0';
}

/* Requests and points by endpoint, bad lines by listener, answers by code. */
static void metrics_ingest(struct metrics_out *o, const cJSON *status)
{
	const cJSON *ingest = cJSON_GetObjectItemCaseSensitive(status, "ingest");
	const cJSON *endpoints = cJSON_GetObjectItemCaseSensitive(ingest, "endpoints");
	const cJSON *udp = cJSON_GetObjectItemCaseSensitive(endpoints, "udp");
	static const char *const figures[][3] = {
	    {"requests", "ingest_requests_total",
	     "Requests received by each write endpoint (UDP: datagrams), whatever their answer."},
	    {"points", "ingest_points_total",
	     "Points each write endpoint committed to the buffer and acknowledged."},
	};
	const cJSON *ep;
	char labels[METRICS_LABEL_MAX + 16];

	for (size_t f = 0; f < sizeof(figures) / sizeof(figures[0]); f++) {
		metrics_family(o, figures[f][1], "counter", figures[f][2]);
		cJSON_ArrayForEach(ep, endpoints)
		{
			metrics_label(labels, sizeof(labels), "endpoint", ep->string);
			metrics_sample_item(o, figures[f][1], labels,
					    cJSON_GetObjectItemCaseSensitive(ep, figures[f][0]));
		}
	}
	metrics_family(o, "ingest_bad_lines_total", "counter",
		       "Line-protocol lines refused, by listener (partial writes included).");
	metrics_sample_item(o, "ingest_bad_lines_total", "listener=\"http\"",
			    cJSON_GetObjectItemCaseSensitive(ingest, "bad_lines"));
	metrics_sample_item(o, "ingest_bad_lines_total", "listener=\"udp\"",
			    cJSON_GetObjectItemCaseSensitive(udp, "bad_lines"));
	metrics_family(o, "ingest_udp_dropped_points_total", "counter",
		       "Valid UDP points the buffer could not take (queue full, stopping).");
	metrics_sample_item(o, "ingest_udp_dropped_points_total", "",
			    cJSON_GetObjectItemCaseSensitive(udp, "dropped"));
	metrics_family(o, "http_requests_total", "counter",
		       "HTTP requests answered, any endpoint.");
	metrics_sample_item(o, "http_requests_total", "",
			    cJSON_GetObjectItemCaseSensitive(ingest, "requests"));
	metrics_family(o, "http_responses_total", "counter", "HTTP answers by status code.");
	cJSON_ArrayForEach(ep, cJSON_GetObjectItemCaseSensitive(ingest, "answers"))
	{
		metrics_label(labels, sizeof(labels), "code", ep->string);
		metrics_sample_item(o, "http_responses_total", labels, ep);
	}
}

/* The uplink's state as a set (one sample per state, 1 for the current
 * one), requests by result and the class of the last error. */
static void metrics_uplink(struct metrics_out *o, const cJSON *status)
{
	static const char *const states[] = {"ok", "failing", "authentication failed"};
	const cJSON *uplink = cJSON_GetObjectItemCaseSensitive(status, "uplink");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(uplink, "state");
	const char *now = cJSON_IsString(state) ? state->valuestring : NULL;
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(uplink, "last_error_class");
	char labels[METRICS_LABEL_MAX + 16];

	metrics_family(o, "uplink_state", "gauge",
		       "1 for the uplink's state now: ok, failing or authentication failed.");
	for (size_t i = 0; uplink && i < sizeof(states) / sizeof(states[0]); i++) {
		metrics_label(labels, sizeof(labels), "state", states[i]);
		metrics_sample(o, "uplink_state", labels,
			       now && strcmp(now, states[i]) == 0 ? 1.0 : 0.0);
	}
	metrics_family(o, "uplink_requests_total", "counter",
		       "Requests to InfluxDB by result: ok (2xx) or failed.");
	metrics_sample_item(o, "uplink_requests_total", "result=\"ok\"",
			    cJSON_GetObjectItemCaseSensitive(uplink, "requests_ok"));
	metrics_sample_item(o, "uplink_requests_total", "result=\"failed\"",
			    cJSON_GetObjectItemCaseSensitive(uplink, "requests_failed"));
	metrics_family(o, "uplink_last_error_info", "gauge",
		       "1, labelled with the class of the last failure (none: no failure yet).");
	if (cJSON_IsString(cls)) {
		metrics_label(labels, sizeof(labels), "class", cls->valuestring);
		metrics_sample(o, "uplink_last_error_info", labels, 1.0);
	}
}

static void metrics_collectors_all(struct metrics_out *o, const cJSON *status)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(status, "collectors");
	const size_t n = sizeof(metrics_collectors) / sizeof(metrics_collectors[0]);
	char labels[2 * METRICS_LABEL_MAX + 32], name[METRICS_LABEL_MAX + 16],
	    type[METRICS_LABEL_MAX + 16];
	const cJSON *c;

	for (size_t f = 0; f < n; f++) {
		metrics_family(o, metrics_collectors[f].name, metrics_collectors[f].type,
			       metrics_collectors[f].help);
		cJSON_ArrayForEach(c, list)
		{
			const cJSON *cn = cJSON_GetObjectItemCaseSensitive(c, "name");
			const cJSON *ct = cJSON_GetObjectItemCaseSensitive(c, "type");

			metrics_label(name, sizeof(name), "collector",
				      cJSON_IsString(cn) ? cn->valuestring : "");
			metrics_label(type, sizeof(type), "type",
				      cJSON_IsString(ct) ? ct->valuestring : "");
			snprintf(labels, sizeof(labels), "%s,%s", name, type);
			metrics_sample_item(
			    o, metrics_collectors[f].name, labels,
			    cJSON_GetObjectItemCaseSensitive(c, metrics_collectors[f].key));
		}
	}
}

char *metrics_render(const cJSON *status)
{
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(status, "version");
	struct metrics_out o = {.cap = 8192};
	char labels[METRICS_LABEL_MAX + 16];

	o.text = malloc(o.cap);
	if (!o.text)
		return NULL;
	o.text[0] = '\0';
	metrics_family(&o, "build_info", "gauge", "1, labelled with the version of iot-edge.");
	metrics_label(labels, sizeof(labels), "version",
		      cJSON_IsString(version) ? version->valuestring : "");
	metrics_sample(&o, "build_info", labels, 1.0);
	metrics_family(&o, "uptime_seconds", "gauge", "Seconds since iot-edge started.");
	metrics_sample_item(&o, "uptime_seconds", "",
			    cJSON_GetObjectItemCaseSensitive(status, "uptime_s"));
	metrics_ingest(&o, status);
	metrics_simple_list(&o, status, metrics_buffer_figures,
			    sizeof(metrics_buffer_figures) / sizeof(metrics_buffer_figures[0]));
	metrics_uplink(&o, status);
	metrics_simple_list(&o, status, metrics_uplink_figures,
			    sizeof(metrics_uplink_figures) / sizeof(metrics_uplink_figures[0]));
	metrics_collectors_all(&o, status);
	if (o.failed) {
		free(o.text);
		return NULL;
	}
	return o.text;
}
