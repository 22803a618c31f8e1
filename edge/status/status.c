/* status.c -- GET /status: buffer, uplink, UDP and collector figures as JSON, for people and
 * dashboards (GET /metrics renders the same document for Prometheus). */
#include "status.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Guards every struct status_drain (/status may be asked on several threads)
 * and the collectors while /status reads them (see status_set_collect()). */
static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t status_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Seconds since a wall-clock time in ns; 0 for "never" (0). */
static double status_age_s(int64_t now_ns, int64_t then_ns)
{
	return then_ns ? (double)(now_ns - then_ns) / 1e9 : 0.0;
}

static void add_buffer(cJSON *root, const struct storage_stats *st)
{
	int64_t now_ns = wall_ns();
	cJSON *b = cJSON_AddObjectToObject(root, "buffer");
	if (!b)
		return;
	cJSON_AddNumberToObject(b, "points", (double)st->points);
	cJSON_AddNumberToObject(b, "bytes", (double)st->bytes);
	cJSON_AddNumberToObject(b, "file_bytes", (double)st->file_bytes);
	cJSON_AddNumberToObject(b, "oldest_age_s", status_age_s(now_ns, st->oldest_received_ns));
	cJSON_AddNumberToObject(b, "newest_age_s", status_age_s(now_ns, st->newest_received_ns));
	cJSON_AddNumberToObject(b, "appended", (double)st->appended_total);
	cJSON_AddNumberToObject(b, "acked", (double)st->acked_total);
	cJSON_AddNumberToObject(b, "dropped", (double)st->dropped_total);
	cJSON_AddNumberToObject(b, "rejected", (double)st->rejected_total);
	cJSON_AddNumberToObject(b, "commits", (double)st->commits_total);
	cJSON_AddBoolToObject(b, "quarantined", st->quarantined != 0);
}

/* "ok", "failing" or "authentication failed": the one word a person wants. */
static const char *uplink_state(const struct uplink_stats *u)
{
	if (u->auth_failed)
		return "authentication failed";
	return u->consecutive_failures ? "failing" : "ok";
}

/* A wall-clock time in ms as seconds since now ("..._age_s") and since the
 * epoch ("..._unix_s", for Prometheus); both null for "never" (0). */
static void add_time(cJSON *o, const char *age_key, const char *unix_key, int64_t now_ms,
		     int64_t then_ms)
{
	if (then_ms) {
		cJSON_AddNumberToObject(o, age_key, (double)(now_ms - then_ms) / 1e3);
		cJSON_AddNumberToObject(o, unix_key, (double)then_ms / 1e3);
	} else {
		cJSON_AddNullToObject(o, age_key);
		cJSON_AddNullToObject(o, unix_key);
	}
}

/* The backlog drain estimate: the net rate over the last minute and the
 * seconds to empty the buffer at it (null when it is not draining). */
static void add_drain(cJSON *o, struct status_sources *src, const struct storage_stats *st)
{
	/* The counters run since start-up: the buffer held this many then. */
	uint64_t gone = st->acked_total + st->dropped_total + st->rejected_total;
	uint64_t at_start =
	    st->points + gone >= st->appended_total ? st->points + gone - st->appended_total : 0;
	uint64_t points = st->points;
	int64_t now = status_now_ms();
	double rate = 0.0, eta = -1.0;
	int known;

	pthread_mutex_lock(&status_lock);
	if (src->drain.count == 0) /* the first look: measure from the start */
		status_drain_note(&src->drain, src->started_ms, at_start);
	known = status_drain_rate(&src->drain, now, points, &rate) == 0;
	status_drain_note(&src->drain, now, points);
	pthread_mutex_unlock(&status_lock);
	if (known)
		eta = status_drain_eta_s(points, rate);
	if (known)
		cJSON_AddNumberToObject(o, "drain_rate_points_per_s", rate);
	else
		cJSON_AddNullToObject(o, "drain_rate_points_per_s");
	if (eta >= 0)
		cJSON_AddNumberToObject(o, "backlog_drain_s", eta);
	else
		cJSON_AddNullToObject(o, "backlog_drain_s");
}

static void add_uplink(cJSON *root, struct status_sources *src, const struct storage_stats *st)
{
	int64_t now_ms = wall_ns() / 1000000; /* the uplink stamps its times by the wall clock */
	struct uplink_stats u;
	cJSON *o = cJSON_AddObjectToObject(root, "uplink");
	if (!o)
		return;
	uplink_get_stats(src->uplink, &u);
	cJSON_AddStringToObject(o, "state", uplink_state(&u));
	cJSON_AddNumberToObject(o, "points_sent", (double)u.points_sent);
	cJSON_AddNumberToObject(o, "points_rejected", (double)u.points_rejected);
	cJSON_AddNumberToObject(o, "requests_ok", (double)u.requests_ok);
	cJSON_AddNumberToObject(o, "requests_failed", (double)u.requests_failed);
	cJSON_AddNumberToObject(o, "retries", (double)u.retries);
	cJSON_AddNumberToObject(o, "consecutive_failures", (double)u.consecutive_failures);
	cJSON_AddNumberToObject(o, "splits", (double)u.splits);
	cJSON_AddNumberToObject(o, "bytes_raw", (double)u.bytes_raw);
	cJSON_AddNumberToObject(o, "bytes_sent", (double)u.bytes_sent);
	cJSON_AddNumberToObject(o, "batch_points", (double)u.batch_points);
	add_time(o, "last_success_age_s", "last_success_unix_s", now_ms, u.last_success_ms);
	cJSON_AddStringToObject(o, "last_error_class", uplink_error_class_name(u.last_error_class));
	cJSON_AddStringToObject(o, "last_error", u.last_error);
	add_time(o, "last_error_age_s", "last_error_unix_s", now_ms, u.last_error_ms);
	add_drain(o, src, st);
}

/* root.ingest.endpoints.udp, beside the HTTP endpoints. */
static void add_udp(cJSON *root, struct udp_listener *udp)
{
	cJSON *endpoints = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "ingest"), "endpoints");
	struct udp_stats st;
	cJSON *o;

	if (!udp || !endpoints)
		return;
	o = cJSON_AddObjectToObject(endpoints, "udp");
	if (!o)
		return;
	udp_get_stats(udp, &st);
	cJSON_AddNumberToObject(o, "requests", (double)st.datagrams);
	cJSON_AddNumberToObject(o, "points", (double)st.stored);
	cJSON_AddNumberToObject(o, "bad_lines", (double)st.bad_lines);
	cJSON_AddNumberToObject(o, "dropped", (double)st.dropped);
}

static void add_collector(cJSON *list, const struct collect_stats *cs, int64_t now_ns)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(list, o)) {
		cJSON_Delete(o);
		return;
	}
	cJSON_AddStringToObject(o, "name", cs->name);
	cJSON_AddStringToObject(o, "type", cs->type);
	cJSON_AddNumberToObject(o, "interval_s", (double)cs->interval_ms / 1e3);
	cJSON_AddNumberToObject(o, "runs", (double)cs->runs);
	cJSON_AddNumberToObject(o, "points", (double)cs->points);
	cJSON_AddNumberToObject(o, "skipped", (double)cs->skipped);
	cJSON_AddNumberToObject(o, "errors", (double)cs->errors);
	if (cs->last_run_ns) {
		cJSON_AddNumberToObject(o, "last_run_age_s", status_age_s(now_ns, cs->last_run_ns));
		cJSON_AddNumberToObject(o, "last_run_unix_s", (double)cs->last_run_ns / 1e9);
	} else {
		cJSON_AddNullToObject(o, "last_run_age_s");
		cJSON_AddNullToObject(o, "last_run_unix_s");
	}
	cJSON_AddStringToObject(o, "last_error", cs->last_error);
}

/* "collectors": one object per running collector ([] with none). */
static void add_collectors(cJSON *root, struct collect *c)
{
	cJSON *list = cJSON_AddArrayToObject(root, "collectors");
	int64_t now_ns = wall_ns();
	size_t n = collect_count(c);

	for (size_t i = 0; list && i < n; i++) {
		struct collect_stats cs;

		if (collect_get_stats(c, i, &cs) == 0)
			add_collector(list, &cs, now_ns);
	}
}

/* The "ingest" object: totals, each write endpoint, each answer's status. */
static void add_ingest(cJSON *root, struct http_server *srv)
{
	struct http_stats *st = malloc(sizeof(*st)); /* 4 KiB: not on the MHD thread's stack */
	cJSON *ingest = cJSON_AddObjectToObject(root, "ingest");
	cJSON *endpoints, *answers;
	char code[8];

	if (!st || !ingest) {
		free(st);
		return;
	}
	http_get_stats(srv, st);
	cJSON_AddNumberToObject(ingest, "requests", (double)st->requests);
	cJSON_AddNumberToObject(ingest, "points", (double)st->points);
	cJSON_AddNumberToObject(ingest, "client_errors", (double)st->client_errors);
	cJSON_AddNumberToObject(ingest, "server_errors", (double)st->server_errors);
	cJSON_AddNumberToObject(ingest, "bad_lines", (double)st->bad_lines);
	endpoints = cJSON_AddObjectToObject(ingest, "endpoints");
	answers = cJSON_AddObjectToObject(ingest, "answers");
	for (unsigned i = 0; endpoints && i < HTTP_STATS_ENDPOINTS; i++) {
		cJSON *ep = cJSON_AddObjectToObject(endpoints, http_stats_endpoint_name(i));

		if (!ep)
			continue;
		cJSON_AddNumberToObject(ep, "requests", (double)st->endpoint_requests[i]);
		cJSON_AddNumberToObject(ep, "points", (double)st->endpoint_points[i]);
	}
	for (unsigned i = 0; answers && i < HTTP_STATS_CODES; i++) {
		if (!st->answers[i])
			continue;
		snprintf(code, sizeof(code), "%u", i + HTTP_STATS_CODE_FIRST);
		cJSON_AddNumberToObject(answers, code, (double)st->answers[i]);
	}
	free(st);
}

cJSON *status_document(struct status_sources *src, struct http_server *srv)
{
	cJSON *root = cJSON_CreateObject();

	if (!root)
		return NULL;
	add_ingest(root, srv);
	status_fill(src, root);
	return root;
}

void status_fill(void *arg, struct cJSON *root)
{
	struct status_sources *src = arg;
	int64_t now = status_now_ms();
	struct storage_stats st;

	storage_get_stats(src->storage, &st);
	cJSON_AddStringToObject(root, "version", IOT_EDGE_VERSION);
	cJSON_AddNumberToObject(root, "uptime_s", (double)(now - src->started_ms) / 1e3);
	if (src->config)
		status_add_config(root, src->config);
	add_buffer(root, &st);
	add_uplink(root, src, &st);
	add_udp(root, src->udp);
	/* main sets it once the collectors run, after the HTTP server started,
	 * and clears it before collect_stop() */
	pthread_mutex_lock(&status_lock);
	add_collectors(root, __atomic_load_n(&src->collect, __ATOMIC_ACQUIRE));
	pthread_mutex_unlock(&status_lock);
}

void status_edge_figures(void *arg, struct collect_edge_figures *out)
{
	struct status_sources *src = arg;
	struct storage_stats s = {0};
	struct uplink_stats u = {0};
	struct http_stats *h = calloc(1, sizeof(*h)); /* 4 KiB */

	if (src->storage)
		storage_get_stats(src->storage, &s);
	if (src->uplink)
		uplink_get_stats(src->uplink, &u);
	if (src->http && h)
		http_get_stats(src->http, h);
	*out = (struct collect_edge_figures){
	    .buffer_points = s.points,
	    .buffer_bytes = s.bytes,
	    .buffer_oldest_ns = s.oldest_received_ns,
	    .points_received = h ? h->points : 0,
	    .points_stored = s.appended_total,
	    .points_sent = u.points_sent,
	    .points_rejected = u.points_rejected,
	    .points_dropped = s.dropped_total,
	    .uplink_ok = u.consecutive_failures == 0 && !u.auth_failed,
	    .uplink_consecutive_failures = u.consecutive_failures,
	};
	free(h);
}

void status_set_collect(struct status_sources *src, struct collect *c)
{
	pthread_mutex_lock(&status_lock);
	__atomic_store_n(&src->collect, c, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&status_lock);
}
