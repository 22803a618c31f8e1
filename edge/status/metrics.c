/* metrics.c -- GET /metrics: a snapshot's figures (those of /status) as Prometheus text,
 * conventional names. */
#include "metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "snapshot.h"

#define METRICS_PREFIX "iot_edge_"
#define METRICS_LABEL_MAX 512

/* The text being built; `failed` once an allocation failed. */
struct metrics_out {
	char *text;
	size_t len, cap;
	bool failed;
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

/* A label `key="value"` into out; "" when it does not fit. */
static void metrics_label(char *out, size_t cap, const char *key, const char *value)
{
	char escaped[METRICS_LABEL_MAX];

	if (metrics_escape_label(value ? value : "", escaped, sizeof(escaped)) != 0 ||
	    snprintf(out, cap, "%s=\"%s\"", key, escaped) >= (int)cap)
		out[0] = '\0';
}

/* A family of one sample without labels. */
static void metrics_one(struct metrics_out *o, const char *name, const char *type, const char *help,
			double value)
{
	metrics_family(o, name, type, help);
	metrics_sample(o, name, "", value);
}

/* A family of one sample without labels, or none when the figure is unknown. */
static void metrics_maybe(struct metrics_out *o, const char *name, const char *help,
			  struct status_maybe m)
{
	metrics_family(o, name, "gauge", help);
	if (m.known)
		metrics_sample(o, name, "", m.value);
}

/* Requests and points by endpoint, bad lines by listener, answers by code. */
static void metrics_ingest(struct metrics_out *o, const struct status_snapshot *s)
{
	const struct http_stats *h = &s->http;
	char labels[METRICS_LABEL_MAX + 16], code[8];

	metrics_family(o, "ingest_requests_total", "counter",
		       "Requests received by each write endpoint (UDP: datagrams), whatever their "
		       "answer.");
	for (unsigned i = 0; i < HTTP_STATS_ENDPOINTS; i++) {
		metrics_label(labels, sizeof(labels), "endpoint", http_stats_endpoint_name(i));
		metrics_sample(o, "ingest_requests_total", labels, (double)h->endpoint_requests[i]);
	}
	if (s->has_udp)
		metrics_sample(o, "ingest_requests_total", "endpoint=\"udp\"",
			       (double)s->udp.datagrams);
	metrics_family(o, "ingest_points_total", "counter",
		       "Points each write endpoint committed to the buffer and acknowledged.");
	for (unsigned i = 0; i < HTTP_STATS_ENDPOINTS; i++) {
		metrics_label(labels, sizeof(labels), "endpoint", http_stats_endpoint_name(i));
		metrics_sample(o, "ingest_points_total", labels, (double)h->endpoint_points[i]);
	}
	if (s->has_udp)
		metrics_sample(o, "ingest_points_total", "endpoint=\"udp\"", (double)s->udp.stored);
	metrics_family(o, "ingest_bad_lines_total", "counter",
		       "Line-protocol lines refused, by listener (partial writes included).");
	metrics_sample(o, "ingest_bad_lines_total", "listener=\"http\"", (double)h->bad_lines);
	if (s->has_udp)
		metrics_sample(o, "ingest_bad_lines_total", "listener=\"udp\"",
			       (double)s->udp.bad_lines);
	metrics_family(o, "ingest_udp_dropped_points_total", "counter",
		       "Valid UDP points the buffer could not take (queue full, stopping).");
	if (s->has_udp)
		metrics_sample(o, "ingest_udp_dropped_points_total", "", (double)s->udp.dropped);
	metrics_family(o, "ingest_refused_total", "counter",
		       "Sources outside http.allow / udp.allow: HTTP connections closed at once, "
		       "UDP datagrams dropped.");
	metrics_sample(o, "ingest_refused_total", "listener=\"http\"",
		       (double)h->refused_connections);
	if (s->has_udp)
		metrics_sample(o, "ingest_refused_total", "listener=\"udp\"",
			       (double)s->udp.refused);
	metrics_one(o, "http_requests_total", "counter", "HTTP requests answered, any endpoint.",
		    (double)h->requests);
	metrics_family(o, "http_responses_total", "counter", "HTTP answers by status code.");
	for (unsigned i = 0; i < HTTP_STATS_CODES; i++) {
		if (!h->answers[i])
			continue;
		snprintf(code, sizeof(code), "%u", i + HTTP_STATS_CODE_FIRST);
		metrics_label(labels, sizeof(labels), "code", code);
		metrics_sample(o, "http_responses_total", labels, (double)h->answers[i]);
	}
}

static void metrics_buffer(struct metrics_out *o, const struct status_snapshot *s)
{
	const struct storage_stats *b = &s->buffer;

	metrics_one(o, "buffer_points", "gauge", "Points in the buffer, not yet delivered.",
		    (double)b->points);
	metrics_one(o, "buffer_bytes", "gauge", "Line-protocol bytes of the buffered points.",
		    (double)b->bytes);
	metrics_one(o, "buffer_file_bytes", "gauge",
		    "Size of the buffer database and its WAL on disk.", (double)b->file_bytes);
	metrics_one(o, "buffer_oldest_age_seconds", "gauge",
		    "Age of the oldest buffered point (0 when empty).", s->buffer_oldest_age_s);
	metrics_one(o, "buffer_newest_age_seconds", "gauge",
		    "Age of the newest buffered point (0 when empty).", s->buffer_newest_age_s);
	metrics_one(o, "buffer_appended_points_total", "counter", "Points committed to the buffer.",
		    (double)b->appended_total);
	metrics_one(o, "buffer_acked_points_total", "counter",
		    "Points deleted from the buffer after InfluxDB acknowledged them.",
		    (double)b->acked_total);
	metrics_one(
	    o, "buffer_dropped_points_total", "counter",
	    "Points deleted undelivered to respect buffer.max_size or buffer.min_free_disk.",
	    (double)b->dropped_total);
	metrics_one(o, "buffer_rejected_points_total", "counter",
		    "Points InfluxDB refused for good, moved to the rejected table.",
		    (double)b->rejected_total);
	metrics_one(o, "buffer_commits_total", "counter", "Write transactions of the buffer.",
		    (double)b->commits_total);
	metrics_one(o, "buffer_quarantined", "gauge",
		    "1 when a corrupt buffer was moved aside at start-up.",
		    b->quarantined ? 1.0 : 0.0);
	metrics_one(o, "buffer_write_spill", "gauge", "1 with buffer.write = spill, 0 with always.",
		    s->spill_mode ? 1.0 : 0.0);
	metrics_one(
	    o, "buffer_direct_points_total", "counter",
	    "Points every InfluxDB acknowledged straight away, never written to the buffer.",
	    (double)s->spill.points_direct);
	metrics_one(o, "buffer_spilled_points_total", "counter",
		    "buffer.write = spill: points committed to the buffer instead.",
		    (double)s->spill.points_spilled);
	if (s->has_io)
		metrics_one(o, "io_write_bytes_total", "counter",
			    "Bytes iot-edge made the kernel write to disk (/proc/self/io).",
			    (double)s->io_write_bytes);
}

/* The uplink's state as a set (one sample per state, 1 for the current
 * one), requests by result and the class of the last error. */
static void metrics_uplink_state(struct metrics_out *o, const struct status_snapshot *s)
{
	static const char *const states[] = {"ok", "failing", "authentication failed"};
	const char *now = s->uplink_state;
	char labels[METRICS_LABEL_MAX + 16];

	metrics_family(o, "uplink_state", "gauge",
		       "1 for the uplink's state now: ok, failing or authentication failed.");
	for (size_t i = 0; now && i < sizeof(states) / sizeof(states[0]); i++) {
		metrics_label(labels, sizeof(labels), "state", states[i]);
		metrics_sample(o, "uplink_state", labels, strcmp(now, states[i]) == 0 ? 1.0 : 0.0);
	}
	metrics_family(o, "uplink_requests_total", "counter",
		       "Requests to InfluxDB by result: ok (2xx) or failed.");
	metrics_sample(o, "uplink_requests_total", "result=\"ok\"", (double)s->uplink.requests_ok);
	metrics_sample(o, "uplink_requests_total", "result=\"failed\"",
		       (double)s->uplink.requests_failed);
	metrics_family(o, "uplink_last_error_info", "gauge",
		       "1, labelled with the class of the last failure (none: no failure yet).");
	if (s->uplink_last_error_class) {
		metrics_label(labels, sizeof(labels), "class", s->uplink_last_error_class);
		metrics_sample(o, "uplink_last_error_info", labels, 1.0);
	}
}

/* One family with a sample per target (label target="NAME"). */
static void metrics_per_target(struct metrics_out *o, const struct status_snapshot *s,
			       const char *name, const char *type, const char *help,
			       double (*value)(const struct status_target *t))
{
	char labels[METRICS_LABEL_MAX + 16];

	metrics_family(o, name, type, help);
	for (size_t i = 0; i < s->target_count; i++) {
		metrics_label(labels, sizeof(labels), "target", s->targets[i].buffer.name);
		metrics_sample(o, name, labels, value(&s->targets[i]));
	}
}

static double target_backlog(const struct status_target *t)
{
	return (double)t->buffer.points;
}

static double target_oldest(const struct status_target *t)
{
	return t->oldest_age_s;
}

static double target_sent(const struct status_target *t)
{
	return (double)t->uplink.points_sent;
}

static double target_rejected(const struct status_target *t)
{
	return (double)t->uplink.points_rejected;
}

static double target_failures(const struct status_target *t)
{
	return (double)t->uplink.consecutive_failures;
}

static double target_ok(const struct status_target *t)
{
	return t->state && strcmp(t->state, "ok") == 0 ? 1.0 : 0.0;
}

/* Each delivery target on its own (the uplink_* families are their total). */
static void metrics_targets(struct metrics_out *o, const struct status_snapshot *s)
{
	if (s->target_count == 0)
		return;
	metrics_per_target(o, s, "target_backlog_points", "gauge",
			   "Points after the target's position in the buffer: not yet delivered "
			   "to it.",
			   target_backlog);
	metrics_per_target(o, s, "target_oldest_age_seconds", "gauge",
			   "Age of the oldest point the target has yet to get (0 when none).",
			   target_oldest);
	metrics_per_target(o, s, "target_sent_points_total", "counter",
			   "Points the target acknowledged.", target_sent);
	metrics_per_target(o, s, "target_rejected_points_total", "counter",
			   "Points the target refused for good.", target_rejected);
	metrics_per_target(o, s, "target_consecutive_failures", "gauge",
			   "Failed requests to the target since its last success.",
			   target_failures);
	metrics_per_target(o, s, "target_up", "gauge", "1 while the target's state is ok.",
			   target_ok);
}

static void metrics_uplink(struct metrics_out *o, const struct status_snapshot *s)
{
	const struct uplink_stats *u = &s->uplink;
	const struct status_time *ok = &s->uplink_last_success, *err = &s->uplink_last_error;

	metrics_one(o, "uplink_sent_points_total", "counter", "Points InfluxDB acknowledged.",
		    (double)u->points_sent);
	metrics_one(o, "uplink_rejected_points_total", "counter",
		    "Points InfluxDB refused for good (dead letters).", (double)u->points_rejected);
	metrics_one(o, "uplink_retries_total", "counter", "Requests repeating a failed one.",
		    (double)u->retries);
	metrics_one(o, "uplink_consecutive_failures", "gauge",
		    "Failed requests since the last success.", (double)u->consecutive_failures);
	metrics_one(o, "uplink_splits_total", "counter", "413 answers that halved the batch size.",
		    (double)u->splits);
	metrics_one(o, "uplink_server_isolations_total", "counter",
		    "Batches answered 5xx while /ping worked, bisected to find a failing point.",
		    (double)u->server_isolations);
	metrics_one(o, "uplink_rejected_server_points_total", "counter",
		    "Of the rejected points: failed alone with 5xx while InfluxDB took others.",
		    (double)u->points_rejected_server);
	metrics_one(o, "uplink_raw_bytes_total", "counter",
		    "Line-protocol bytes put into requests, before gzip.", (double)u->bytes_raw);
	metrics_one(o, "uplink_sent_bytes_total", "counter", "Request body bytes sent, after gzip.",
		    (double)u->bytes_sent);
	metrics_one(o, "uplink_batch_points", "gauge", "Points per request now.",
		    (double)u->batch_points);
	metrics_maybe(o, "uplink_last_success_timestamp_seconds",
		      "Time of the last acknowledged request (absent: none yet).",
		      (struct status_maybe){.known = ok->known, .value = ok->unix_s});
	metrics_maybe(o, "uplink_last_error_timestamp_seconds",
		      "Time of the last failed request (absent: none yet).",
		      (struct status_maybe){.known = err->known, .value = err->unix_s});
	metrics_maybe(
	    o, "uplink_backlog_drain_seconds",
	    "Seconds to empty the buffer at the net drain rate of the last minute (absent: "
	    "not draining).",
	    s->backlog_drain_s);
}

/* The collector figures, one family each with a sample per collector. */
enum metrics_collector_figure {
	METRICS_COLLECTOR_INTERVAL,
	METRICS_COLLECTOR_RUNS,
	METRICS_COLLECTOR_POINTS,
	METRICS_COLLECTOR_SKIPPED,
	METRICS_COLLECTOR_ERRORS,
	METRICS_COLLECTOR_LAST_RUN,
	METRICS_COLLECTOR_FIGURES
};

static const struct {
	const char *name, *type, *help;
} metrics_collector_families[METRICS_COLLECTOR_FIGURES] = {
    [METRICS_COLLECTOR_INTERVAL] = {"collector_interval_seconds", "gauge",
				    "How often the collector runs."},
    [METRICS_COLLECTOR_RUNS] = {"collector_runs_total", "counter", "Runs finished."},
    [METRICS_COLLECTOR_POINTS] = {"collector_points_total", "counter",
				  "Points handed to the buffer."},
    [METRICS_COLLECTOR_SKIPPED] = {"collector_skipped_points_total", "counter",
				   "Readings skipped as invalid."},
    [METRICS_COLLECTOR_ERRORS] = {"collector_errors_total", "counter",
				  "Runs or readings that failed."},
    [METRICS_COLLECTOR_LAST_RUN] = {"collector_last_run_timestamp_seconds", "gauge",
				    "Time of the last run (absent: never ran)."},
};

/* Collector c's figure f; unknown for a time that never was. */
static struct status_maybe metrics_collector_value(const struct status_collector *c,
						   enum metrics_collector_figure f)
{
	switch (f) {
	case METRICS_COLLECTOR_INTERVAL:
		return (struct status_maybe){true, c->interval_s};
	case METRICS_COLLECTOR_RUNS:
		return (struct status_maybe){true, (double)c->runs};
	case METRICS_COLLECTOR_POINTS:
		return (struct status_maybe){true, (double)c->points};
	case METRICS_COLLECTOR_SKIPPED:
		return (struct status_maybe){true, (double)c->skipped};
	case METRICS_COLLECTOR_ERRORS:
		return (struct status_maybe){true, (double)c->errors};
	case METRICS_COLLECTOR_LAST_RUN:
		return (struct status_maybe){c->last_run.known, c->last_run.unix_s};
	case METRICS_COLLECTOR_FIGURES:
		break;
	}
	return (struct status_maybe){0};
}

static void metrics_collectors(struct metrics_out *o, const struct status_snapshot *s)
{
	char labels[2 * METRICS_LABEL_MAX + 32], name[METRICS_LABEL_MAX + 16],
	    type[METRICS_LABEL_MAX + 16];

	for (int f = 0; f < METRICS_COLLECTOR_FIGURES; f++) {
		metrics_family(o, metrics_collector_families[f].name,
			       metrics_collector_families[f].type,
			       metrics_collector_families[f].help);
		for (size_t i = 0; i < s->collector_count; i++) {
			const struct status_collector *c = &s->collectors[i];
			struct status_maybe v =
			    metrics_collector_value(c, (enum metrics_collector_figure)f);

			if (!v.known)
				continue;
			metrics_label(name, sizeof(name), "collector", c->name);
			metrics_label(type, sizeof(type), "type", c->type);
			snprintf(labels, sizeof(labels), "%s,%s", name, type);
			metrics_sample(o, metrics_collector_families[f].name, labels, v.value);
		}
	}
}

/* Per MQTT broker: connected, messages, points, refused, reconnects (no
 * families without brokers). */
static void metrics_mqtt(struct metrics_out *o, const struct status_snapshot *s)
{
	static const struct {
		const char *name, *type, *help;
	} fams[] = {
	    {"mqtt_connected", "gauge", "1 while subscribed to the broker, else 0."},
	    {"mqtt_messages_total", "counter", "MQTT messages received."},
	    {"mqtt_points_total", "counter", "Points of MQTT messages committed to the buffer."},
	    {"mqtt_refused_total", "counter",
	     "MQTT messages acknowledged without points (bad payload, topic or size)."},
	    {"mqtt_reconnects_total", "counter", "Connections to the broker lost or refused."},
	};
	char labels[METRICS_LABEL_MAX + 16];

	for (size_t f = 0; s->mqtt_count && f < sizeof(fams) / sizeof(fams[0]); f++) {
		metrics_family(o, fams[f].name, fams[f].type, fams[f].help);
		for (size_t i = 0; i < s->mqtt_count; i++) {
			const struct mqtt_stats *m = &s->mqtt[i];
			double v[] = {m->connected, (double)m->messages, (double)m->points,
				      (double)m->refused, (double)m->reconnects};

			metrics_label(labels, sizeof(labels), "broker", m->name);
			metrics_sample(o, fams[f].name, labels, v[f]);
		}
	}
}

char *metrics_render(const struct status_snapshot *s)
{
	struct metrics_out o = {.cap = 8192};
	char labels[METRICS_LABEL_MAX + 16];

	o.text = malloc(o.cap);
	if (!o.text)
		return NULL;
	o.text[0] = '\0';
	metrics_family(&o, "build_info", "gauge", "1, labelled with the version of iot-edge.");
	metrics_label(labels, sizeof(labels), "version", s->version);
	metrics_sample(&o, "build_info", labels, 1.0);
	metrics_one(&o, "uptime_seconds", "gauge", "Seconds since iot-edge started.", s->uptime_s);
	metrics_ingest(&o, s);
	metrics_buffer(&o, s);
	metrics_uplink_state(&o, s);
	metrics_uplink(&o, s);
	metrics_targets(&o, s);
	metrics_collectors(&o, s);
	metrics_mqtt(&o, s);
	if (o.failed) {
		free(o.text);
		return NULL;
	}
	return o.text;
}
