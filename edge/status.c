/* status.c -- GET /status: buffer and uplink figures as JSON, for people and dashboards. */
#include "status.h"

#include <cJSON.h>
#include <time.h>

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

static void add_buffer(cJSON *root, struct storage *storage)
{
	struct storage_stats st;
	cJSON *b = cJSON_AddObjectToObject(root, "buffer");
	if (!b)
		return;
	storage_get_stats(storage, &st);
	cJSON_AddNumberToObject(b, "points", (double)st.points);
	cJSON_AddNumberToObject(b, "bytes", (double)st.bytes);
	cJSON_AddNumberToObject(b, "file_bytes", (double)st.file_bytes);
	cJSON_AddNumberToObject(
	    b, "oldest_age_s",
	    st.oldest_received_ns ? (double)(wall_ns() - st.oldest_received_ns) / 1e9 : 0.0);
	cJSON_AddNumberToObject(b, "appended", (double)st.appended_total);
	cJSON_AddNumberToObject(b, "acked", (double)st.acked_total);
	cJSON_AddNumberToObject(b, "dropped", (double)st.dropped_total);
	cJSON_AddNumberToObject(b, "rejected", (double)st.rejected_total);
	cJSON_AddNumberToObject(b, "commits", (double)st.commits_total);
	cJSON_AddBoolToObject(b, "quarantined", st.quarantined != 0);
}

/* "ok", "failing" or "authentication failed": the one word a person wants. */
static const char *uplink_state(const struct uplink_stats *u)
{
	if (u->auth_failed)
		return "authentication failed";
	return u->consecutive_failures ? "failing" : "ok";
}

static void add_uplink(cJSON *root, struct uplink *uplink)
{
	int64_t now_ms = wall_ns() / 1000000; /* the uplink stamps its times by the wall clock */
	struct uplink_stats u;
	cJSON *o = cJSON_AddObjectToObject(root, "uplink");
	if (!o)
		return;
	uplink_get_stats(uplink, &u);
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
	if (u.last_success_ms)
		cJSON_AddNumberToObject(o, "last_success_age_s",
					(double)(now_ms - u.last_success_ms) / 1e3);
	else
		cJSON_AddNullToObject(o, "last_success_age_s");
	cJSON_AddStringToObject(o, "last_error_class", uplink_error_class_name(u.last_error_class));
	cJSON_AddStringToObject(o, "last_error", u.last_error);
	if (u.last_error_ms)
		cJSON_AddNumberToObject(o, "last_error_age_s",
					(double)(now_ms - u.last_error_ms) / 1e3);
	else
		cJSON_AddNullToObject(o, "last_error_age_s");
}

void status_fill(void *arg, struct cJSON *root)
{
	const struct status_sources *src = arg;
	int64_t now = status_now_ms();

	cJSON_AddStringToObject(root, "version", IOT_EDGE_VERSION);
	cJSON_AddNumberToObject(root, "uptime_s", (double)(now - src->started_ms) / 1e3);
	add_buffer(root, src->storage);
	add_uplink(root, src->uplink);
}
