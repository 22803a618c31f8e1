/* snapshot.c -- the daemon's figures at one moment, read once from every room's stats functions
 * (HTTP, UDP, buffer, uplink, collectors, drain estimate, configuration). */
#include "snapshot.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "procio.h"
#include "status.h"

/* Guards every struct status_drain (/status may be asked on several threads)
 * and the collectors while a snapshot reads them (see status_set_collect()). */
static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;

/* Seconds since a wall-clock time in ns; 0 for "never" (0). */
static double status_age_s(int64_t now_ns, int64_t then_ns)
{
	return then_ns ? (double)(now_ns - then_ns) / 1e9 : 0.0;
}

/* A wall-clock time in ms as seen at now_ms; unknown for "never" (0). */
static struct status_time status_time_ms(int64_t now_ms, int64_t then_ms)
{
	if (!then_ms)
		return (struct status_time){0};
	return (struct status_time){.known = true,
				    .age_s = (double)(now_ms - then_ms) / 1e3,
				    .unix_s = (double)then_ms / 1e3};
}

/* "ok", "failing" or "authentication failed": the one word a person wants. */
static const char *status_uplink_state(const struct uplink_stats *u)
{
	if (u->auth_failed)
		return "authentication failed";
	return u->consecutive_failures ? "failing" : "ok";
}

/* Add one target's uplink figures to the total. */
static void snapshot_sum_uplink(struct uplink_stats *sum, const struct uplink_stats *u)
{
	sum->points_sent += u->points_sent;
	sum->requests_ok += u->requests_ok;
	sum->requests_failed += u->requests_failed;
	sum->retries += u->retries;
	sum->points_rejected += u->points_rejected;
	sum->splits += u->splits;
	sum->bytes_raw += u->bytes_raw;
	sum->bytes_sent += u->bytes_sent;
	if (u->consecutive_failures > sum->consecutive_failures)
		sum->consecutive_failures = u->consecutive_failures;
	sum->auth_failed = sum->auth_failed || u->auth_failed;
	if (u->last_success_ms > sum->last_success_ms)
		sum->last_success_ms = u->last_success_ms;
	if (u->last_error_ms > sum->last_error_ms) {
		sum->last_error_ms = u->last_error_ms;
		sum->last_error_class = u->last_error_class;
		memcpy(sum->last_error, u->last_error, sizeof(sum->last_error));
	}
}

/* Each target's position and uplink (src->uplinks[i], or src->uplink for the
 * first), the total in out->uplink, and the target holding the buffer. */
static void snapshot_targets(struct status_sources *src, int64_t now_ns, int64_t now_ms,
			     struct status_snapshot *out)
{
	size_t n = storage_target_count(src->storage);
	uint64_t most = 0;

	if (n == 0) /* no storage: the uplink alone */
		n = 1;
	for (size_t i = 0; i < n && i < STORAGE_MAX_TARGETS; i++) {
		struct status_target *t = &out->targets[i];
		struct uplink *u = i < src->uplink_count ? src->uplinks[i]
				   : i == 0		 ? src->uplink
							 : NULL;

		storage_target_get_stats(storage_target_at(src->storage, i), &t->buffer);
		uplink_get_stats(u, &t->uplink);
		t->oldest_age_s = status_age_s(now_ns, t->buffer.oldest_received_ns);
		t->state = status_uplink_state(&t->uplink);
		t->last_error_class = uplink_error_class_name(t->uplink.last_error_class);
		t->last_success = status_time_ms(now_ms, t->uplink.last_success_ms);
		t->last_error = status_time_ms(now_ms, t->uplink.last_error_ms);
		if (i == 0)
			out->uplink = t->uplink;
		else
			snapshot_sum_uplink(&out->uplink, &t->uplink);
		if (out->buffer.points > 0 && t->buffer.points > most) {
			most = t->buffer.points;
			out->held_by = t->buffer.name;
		}
		out->target_count++;
	}
}

/* The disk writes of the daemon, per point received and per day of uptime. */
static void snapshot_io(struct status_sources *src, struct status_snapshot *out)
{
	uint64_t points;
	double up_s = (double)(clock_mono_ms() - src->started_ms) / 1e3;

	out->spill_mode = src->spill != NULL;
	ingest_spill_get_stats(src->spill, &out->spill);
	if (procio_write_bytes(&out->io_write_bytes) != 0)
		return;
	out->has_io = true;
	points = out->spill_mode ? out->spill.points_direct + out->spill.points_spilled
				 : out->buffer.appended_total;
	out->io_write_bytes_per_point = points ? (double)out->io_write_bytes / (double)points : 0;
	out->io_write_bytes_per_day = up_s > 0 ? (double)out->io_write_bytes / up_s * 86400 : 0;
}

/* The lock-free figures: HTTP (srv's; NULL: zeros), buffer, uplink and their
 * times, into a zeroed *out. */
static void snapshot_counters(struct status_sources *src, struct http_server *srv,
			      struct status_snapshot *out)
{
	int64_t now_ns = clock_wall_ns();
	int64_t now_ms = now_ns / 1000000; /* the uplink stamps its times by the wall clock */

	if (srv)
		http_get_stats(srv, &out->http);
	storage_get_stats(src->storage, &out->buffer);
	snapshot_targets(src, now_ns, now_ms, out);
	out->buffer_oldest_age_s = status_age_s(now_ns, out->buffer.oldest_received_ns);
	out->buffer_newest_age_s = status_age_s(now_ns, out->buffer.newest_received_ns);
	out->uplink_state = status_uplink_state(&out->uplink);
	out->uplink_last_error_class = uplink_error_class_name(out->uplink.last_error_class);
	out->uplink_last_success = status_time_ms(now_ms, out->uplink.last_success_ms);
	out->uplink_last_error = status_time_ms(now_ms, out->uplink.last_error_ms);
	snapshot_io(src, out);
}

/* The backlog drain estimate: the net rate over the last minute and the
 * seconds to empty the buffer at it (unknown when it is not draining). */
static void snapshot_drain(struct status_sources *src, struct status_snapshot *out)
{
	const struct storage_stats *st = &out->buffer;
	/* The counters run since start-up: the buffer held this many then. */
	uint64_t gone = st->acked_total + st->dropped_total + st->rejected_total;
	uint64_t at_start =
	    st->points + gone >= st->appended_total ? st->points + gone - st->appended_total : 0;
	uint64_t points = st->points;
	int64_t now = clock_mono_ms();
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
	out->drain_rate_points_per_s = (struct status_maybe){.known = known != 0, .value = rate};
	out->backlog_drain_s = (struct status_maybe){.known = eta >= 0, .value = eta};
}

/* The UDP listener, set before the HTTP server starts; NULL: none. */
static void snapshot_udp(struct udp_listener *udp, struct status_snapshot *out)
{
	if (!udp)
		return;
	udp_get_stats(udp, &out->udp);
	out->has_udp = true;
}

/* Each MQTT broker's counters; none without clients. Returns 0 or -1 (no memory). */
static int snapshot_mqtt(struct mqtt_clients *m, struct status_snapshot *out)
{
	size_t n = mqtt_count(m);

	if (n == 0)
		return 0;
	out->mqtt = calloc(n, sizeof(*out->mqtt));
	if (!out->mqtt)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (mqtt_get_stats(m, i, &out->mqtt[out->mqtt_count]) == 0)
			out->mqtt_count++;
	}
	return 0;
}

static int snapshot_collector(struct status_collector *out, const struct collect_stats *cs,
			      int64_t now_ns)
{
	out->name = strdup(cs->name ? cs->name : "");
	if (!out->name)
		return -1;
	out->type = cs->type ? cs->type : "";
	out->interval_s = (double)cs->interval_ms / 1e3;
	out->runs = cs->runs;
	out->points = cs->points;
	out->skipped = cs->skipped;
	out->errors = cs->errors;
	if (cs->last_run_ns)
		out->last_run = (struct status_time){.known = true,
						     .age_s = status_age_s(now_ns, cs->last_run_ns),
						     .unix_s = (double)cs->last_run_ns / 1e9};
	snprintf(out->last_error, sizeof(out->last_error), "%s", cs->last_error);
	return 0;
}

/* Every running collector, copied: collect_stop() may free them once
 * status_set_collect(NULL) has returned. Returns 0, or -1 out of memory. */
static int snapshot_collectors(struct status_sources *src, struct status_snapshot *out)
{
	int64_t now_ns = clock_wall_ns();
	int result = 0;
	struct collect *c;
	size_t n;

	/* main sets it once the collectors run, after the HTTP server started,
	 * and clears it before collect_stop() */
	pthread_mutex_lock(&status_lock);
	c = __atomic_load_n(&src->collect, __ATOMIC_ACQUIRE);
	n = collect_count(c);
	if (n > 0) {
		out->collectors = calloc(n, sizeof(*out->collectors));
		if (!out->collectors)
			result = -1;
	}
	for (size_t i = 0; result == 0 && i < n; i++) {
		struct collect_stats cs;

		if (collect_get_stats(c, i, &cs) != 0)
			continue;
		if (snapshot_collector(&out->collectors[out->collector_count], &cs, now_ns) != 0)
			result = -1;
		else
			out->collector_count++;
	}
	pthread_mutex_unlock(&status_lock);
	return result;
}

struct status_snapshot *status_snapshot_take(struct status_sources *src, struct http_server *srv)
{
	struct status_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snapshot_counters(src, srv, s);
	s->version = IOT_EDGE_VERSION;
	s->edge_name = src->config ? src->config->edge_name : NULL;
	s->uptime_s = (double)(clock_mono_ms() - src->started_ms) / 1e3;
	if (src->config) {
		status_config_take(&s->config, src->config);
		s->has_config = true;
	}
	snapshot_drain(src, s);
	snapshot_udp(src->udp, s);
	if (snapshot_mqtt(src->mqtt, s) != 0) {
		status_snapshot_free(s);
		return NULL;
	}
	if (snapshot_collectors(src, s) != 0) {
		status_snapshot_free(s);
		return NULL;
	}
	return s;
}

void status_snapshot_free(struct status_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->collector_count; i++)
		free(s->collectors[i].name);
	free(s->collectors);
	free(s->mqtt);
	free(s);
}

void status_snapshot_edge_figures(const struct status_snapshot *s, struct collect_edge_figures *out)
{
	*out = (struct collect_edge_figures){
	    .buffer_points = s->buffer.points,
	    .buffer_bytes = s->buffer.bytes,
	    .buffer_oldest_ns = s->buffer.oldest_received_ns,
	    .points_received = s->http.points,
	    .points_stored = s->buffer.appended_total,
	    .points_sent = s->uplink.points_sent,
	    .points_rejected = s->uplink.points_rejected,
	    .points_dropped = s->buffer.dropped_total,
	    .uplink_ok = s->uplink.consecutive_failures == 0 && !s->uplink.auth_failed,
	    .uplink_auth_failed = s->uplink.auth_failed,
	    .uplink_consecutive_failures = s->uplink.consecutive_failures,
	    .spill_mode = s->spill_mode,
	    .points_direct = s->spill.points_direct,
	    .points_spilled = s->spill.points_spilled,
	};
	for (size_t i = 0; s->target_count > 1 && i < s->target_count &&
			   i < sizeof(out->targets) / sizeof(out->targets[0]);
	     i++) {
		const struct status_target *t = &s->targets[i];
		struct collect_edge_target *o = &out->targets[out->target_count++];

		snprintf(o->name, sizeof(o->name), "%s", t->buffer.name);
		o->backlog_points = t->buffer.points;
		o->oldest_ns = t->buffer.oldest_received_ns;
		o->points_sent = t->uplink.points_sent;
		o->ok = t->uplink.consecutive_failures == 0 && !t->uplink.auth_failed;
	}
}

/* The MQTT brokers' counters, summed, for the edge collector. */
static void status_edge_mqtt(struct mqtt_clients *m, struct collect_edge_figures *out)
{
	struct mqtt_stats st;

	for (size_t i = 0; i < mqtt_count(m); i++) {
		if (mqtt_get_stats(m, i, &st) != 0)
			continue;
		out->mqtt_brokers++;
		out->mqtt_connected += st.connected;
		out->mqtt_messages += st.messages;
		out->mqtt_points += st.points;
		out->mqtt_refused += st.refused;
		out->mqtt_reconnects += st.reconnects;
	}
}

void status_edge_figures(void *arg, struct collect_edge_figures *out)
{
	struct status_snapshot *s = calloc(1, sizeof(*s)); /* 4 KiB */

	if (!s)
		return; /* *out stays zeroed */
	snapshot_counters(arg, ((struct status_sources *)arg)->http, s);
	status_snapshot_edge_figures(s, out);
	status_snapshot_free(s);
	status_edge_mqtt(((struct status_sources *)arg)->mqtt, out);
}

void status_set_collect(struct status_sources *src, struct collect *c)
{
	pthread_mutex_lock(&status_lock);
	__atomic_store_n(&src->collect, c, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&status_lock);
}
