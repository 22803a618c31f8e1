/* status.c -- GET /status: a snapshot's ingest, buffer, uplink, UDP and collector figures as JSON,
 * for people and dashboards (GET /metrics renders the same snapshot for Prometheus). */
#include "status.h"

#include <cJSON.h>
#include <stdio.h>

/* A number, or null when it is not known. */
static void add_maybe(cJSON *o, const char *key, struct status_maybe m)
{
	if (m.known)
		cJSON_AddNumberToObject(o, key, m.value);
	else
		cJSON_AddNullToObject(o, key);
}

/* A time as seconds since now ("..._age_s") and since the epoch
 * ("..._unix_s", for Prometheus); both null for "never". */
static void add_time(cJSON *o, const char *age_key, const char *unix_key, struct status_time t)
{
	add_maybe(o, age_key, (struct status_maybe){.known = t.known, .value = t.age_s});
	add_maybe(o, unix_key, (struct status_maybe){.known = t.known, .value = t.unix_s});
}

/* The "ingest" object: totals, each write endpoint (UDP beside HTTP's), each
 * answer's status. */
static void add_ingest(cJSON *root, const struct status_snapshot *s)
{
	const struct http_stats *st = &s->http;
	cJSON *ingest = cJSON_AddObjectToObject(root, "ingest");
	cJSON *endpoints, *answers, *o;
	char code[8];

	if (!ingest)
		return;
	cJSON_AddNumberToObject(ingest, "requests", (double)st->requests);
	cJSON_AddNumberToObject(ingest, "points", (double)st->points);
	cJSON_AddNumberToObject(ingest, "client_errors", (double)st->client_errors);
	cJSON_AddNumberToObject(ingest, "server_errors", (double)st->server_errors);
	cJSON_AddNumberToObject(ingest, "bad_lines", (double)st->bad_lines);
	cJSON_AddNumberToObject(ingest, "refused_connections", (double)st->refused_connections);
	endpoints = cJSON_AddObjectToObject(ingest, "endpoints");
	answers = cJSON_AddObjectToObject(ingest, "answers");
	for (unsigned i = 0; endpoints && i < HTTP_STATS_ENDPOINTS; i++) {
		cJSON *ep = cJSON_AddObjectToObject(endpoints, http_stats_endpoint_name(i));

		if (!ep)
			continue;
		cJSON_AddNumberToObject(ep, "requests", (double)st->endpoint_requests[i]);
		cJSON_AddNumberToObject(ep, "points", (double)st->endpoint_points[i]);
	}
	o = endpoints && s->has_udp ? cJSON_AddObjectToObject(endpoints, "udp") : NULL;
	if (o) {
		cJSON_AddNumberToObject(o, "requests", (double)s->udp.datagrams);
		cJSON_AddNumberToObject(o, "points", (double)s->udp.stored);
		cJSON_AddNumberToObject(o, "bad_lines", (double)s->udp.bad_lines);
		cJSON_AddNumberToObject(o, "dropped", (double)s->udp.dropped);
		cJSON_AddNumberToObject(o, "refused", (double)s->udp.refused);
	}
	for (unsigned i = 0; answers && i < HTTP_STATS_CODES; i++) {
		if (!st->answers[i])
			continue;
		snprintf(code, sizeof(code), "%u", i + HTTP_STATS_CODE_FIRST);
		cJSON_AddNumberToObject(answers, code, (double)st->answers[i]);
	}
}

/* buffer.write: the policy, where the points went, and the daemon's disk writes. */
static void add_write(cJSON *b, const struct status_snapshot *s)
{
	cJSON *w = cJSON_AddObjectToObject(b, "write");

	if (!w)
		return;
	cJSON_AddStringToObject(w, "mode", s->spill_mode ? "spill" : "always");
	cJSON_AddNumberToObject(w, "points_direct", (double)s->spill.points_direct);
	cJSON_AddNumberToObject(w, "points_spilled", (double)s->spill.points_spilled);
	cJSON_AddNumberToObject(w, "points_spill_late", (double)s->spill.points_spill_late);
	cJSON_AddNumberToObject(w, "points_spill_error", (double)s->spill.points_spill_error);
	if (!s->has_io)
		return;
	cJSON_AddNumberToObject(w, "io_write_bytes", (double)s->io_write_bytes);
	cJSON_AddNumberToObject(w, "io_write_bytes_per_point", s->io_write_bytes_per_point);
	cJSON_AddNumberToObject(w, "io_write_bytes_per_day", s->io_write_bytes_per_day);
}

static void add_buffer(cJSON *root, const struct status_snapshot *s)
{
	const struct storage_stats *st = &s->buffer;
	cJSON *b = cJSON_AddObjectToObject(root, "buffer");

	if (!b)
		return;
	cJSON_AddNumberToObject(b, "points", (double)st->points);
	cJSON_AddNumberToObject(b, "bytes", (double)st->bytes);
	cJSON_AddNumberToObject(b, "file_bytes", (double)st->file_bytes);
	cJSON_AddNumberToObject(b, "oldest_age_s", s->buffer_oldest_age_s);
	cJSON_AddNumberToObject(b, "newest_age_s", s->buffer_newest_age_s);
	cJSON_AddNumberToObject(b, "appended", (double)st->appended_total);
	cJSON_AddNumberToObject(b, "acked", (double)st->acked_total);
	cJSON_AddNumberToObject(b, "dropped", (double)st->dropped_total);
	cJSON_AddNumberToObject(b, "rejected", (double)st->rejected_total);
	cJSON_AddNumberToObject(b, "commits", (double)st->commits_total);
	cJSON_AddBoolToObject(b, "quarantined", st->quarantined != 0);
	if (s->held_by)
		cJSON_AddStringToObject(b, "held_by", s->held_by);
	else
		cJSON_AddNullToObject(b, "held_by");
	add_write(b, s);
}

/* "uplinks": one object per target, its position in the buffer and its
 * uplink's figures (the "uplink" object is their total). */
static void add_targets(cJSON *root, const struct status_snapshot *s)
{
	cJSON *list = cJSON_AddArrayToObject(root, "uplinks");

	for (size_t i = 0; list && i < s->target_count; i++) {
		const struct status_target *t = &s->targets[i];
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			return;
		}
		cJSON_AddStringToObject(o, "name", t->buffer.name);
		cJSON_AddStringToObject(o, "state", t->state ? t->state : "");
		cJSON_AddNumberToObject(o, "backlog_points", (double)t->buffer.points);
		cJSON_AddNumberToObject(o, "backlog_bytes", (double)t->buffer.bytes);
		cJSON_AddNumberToObject(o, "oldest_age_s", t->oldest_age_s);
		cJSON_AddNumberToObject(o, "acked_id", (double)t->buffer.acked_id);
		cJSON_AddNumberToObject(o, "points_sent", (double)t->uplink.points_sent);
		cJSON_AddNumberToObject(o, "points_rejected", (double)t->uplink.points_rejected);
		cJSON_AddNumberToObject(o, "requests_ok", (double)t->uplink.requests_ok);
		cJSON_AddNumberToObject(o, "requests_failed", (double)t->uplink.requests_failed);
		cJSON_AddNumberToObject(o, "consecutive_failures",
					(double)t->uplink.consecutive_failures);
		add_time(o, "last_success_age_s", "last_success_unix_s", t->last_success);
		cJSON_AddStringToObject(o, "last_error_class",
					t->last_error_class ? t->last_error_class : "");
		cJSON_AddStringToObject(o, "last_error", t->uplink.last_error);
		add_time(o, "last_error_age_s", "last_error_unix_s", t->last_error);
	}
}

static void add_uplink(cJSON *root, const struct status_snapshot *s)
{
	const struct uplink_stats *u = &s->uplink;
	cJSON *o = cJSON_AddObjectToObject(root, "uplink");

	if (!o)
		return;
	cJSON_AddStringToObject(o, "state", s->uplink_state ? s->uplink_state : "");
	cJSON_AddNumberToObject(o, "points_sent", (double)u->points_sent);
	cJSON_AddNumberToObject(o, "points_rejected", (double)u->points_rejected);
	cJSON_AddNumberToObject(o, "requests_ok", (double)u->requests_ok);
	cJSON_AddNumberToObject(o, "requests_failed", (double)u->requests_failed);
	cJSON_AddNumberToObject(o, "retries", (double)u->retries);
	cJSON_AddNumberToObject(o, "consecutive_failures", (double)u->consecutive_failures);
	cJSON_AddNumberToObject(o, "splits", (double)u->splits);
	cJSON_AddNumberToObject(o, "server_isolations", (double)u->server_isolations);
	cJSON_AddNumberToObject(o, "points_rejected_server", (double)u->points_rejected_server);
	cJSON_AddNumberToObject(o, "bytes_raw", (double)u->bytes_raw);
	cJSON_AddNumberToObject(o, "bytes_sent", (double)u->bytes_sent);
	cJSON_AddNumberToObject(o, "batch_points", (double)u->batch_points);
	add_time(o, "last_success_age_s", "last_success_unix_s", s->uplink_last_success);
	cJSON_AddStringToObject(o, "last_error_class",
				s->uplink_last_error_class ? s->uplink_last_error_class : "");
	cJSON_AddStringToObject(o, "last_error", u->last_error);
	add_time(o, "last_error_age_s", "last_error_unix_s", s->uplink_last_error);
	add_maybe(o, "drain_rate_points_per_s", s->drain_rate_points_per_s);
	add_maybe(o, "backlog_drain_s", s->backlog_drain_s);
}

static void add_collector(cJSON *list, const struct status_collector *c)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(list, o)) {
		cJSON_Delete(o);
		return;
	}
	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "type", c->type);
	cJSON_AddNumberToObject(o, "interval_s", c->interval_s);
	cJSON_AddNumberToObject(o, "runs", (double)c->runs);
	cJSON_AddNumberToObject(o, "points", (double)c->points);
	cJSON_AddNumberToObject(o, "skipped", (double)c->skipped);
	cJSON_AddNumberToObject(o, "errors", (double)c->errors);
	add_time(o, "last_run_age_s", "last_run_unix_s", c->last_run);
	cJSON_AddStringToObject(o, "last_error", c->last_error);
}

static void add_mqtt(cJSON *list, const struct mqtt_stats *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *topics;

	if (!o || !cJSON_AddItemToArray(list, o)) {
		cJSON_Delete(o);
		return;
	}
	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddBoolToObject(o, "connected", m->connected);
	cJSON_AddNumberToObject(o, "messages", (double)m->messages);
	cJSON_AddNumberToObject(o, "points", (double)m->points);
	cJSON_AddNumberToObject(o, "refused", (double)m->refused);
	cJSON_AddNumberToObject(o, "acked", (double)m->acked);
	cJSON_AddNumberToObject(o, "reconnects", (double)m->reconnects);
	cJSON_AddNumberToObject(o, "retained_skipped", (double)m->retained_skipped);
	cJSON_AddStringToObject(o, "last_error", m->last_error);
	topics = cJSON_AddObjectToObject(o, "refused_topics");
	for (size_t i = 0; topics && i < m->n_refused_topics; i++)
		cJSON_AddNumberToObject(topics, m->refused_topics[i].topic,
					(double)m->refused_topics[i].refused);
	cJSON_AddNumberToObject(o, "refused_other_topics", (double)m->refused_other);
}

cJSON *status_document(const struct status_snapshot *s)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *list;

	if (!root)
		return NULL;
	add_ingest(root, s);
	cJSON_AddStringToObject(root, "version", s->version ? s->version : "");
	if (s->edge_name)
		cJSON_AddStringToObject(root, "edge", s->edge_name);
	cJSON_AddNumberToObject(root, "uptime_s", s->uptime_s);
	if (s->has_config)
		status_add_config(root, &s->config);
	add_buffer(root, s);
	add_uplink(root, s);
	add_targets(root, s);
	/* "collectors": one object per running collector ([] with none). */
	list = cJSON_AddArrayToObject(root, "collectors");
	for (size_t i = 0; list && i < s->collector_count; i++)
		add_collector(list, &s->collectors[i]);
	/* "mqtt": one object per broker, only when there are brokers. */
	list = s->mqtt_count ? cJSON_AddArrayToObject(root, "mqtt") : NULL;
	for (size_t i = 0; list && i < s->mqtt_count; i++)
		add_mqtt(list, &s->mqtt[i]);
	return root;
}
