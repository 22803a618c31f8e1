/* forward.c -- one request through the error table: deliver, split, isolate refused lines, keep. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "text.h"
#include "uplink_internal.h"

#define UPLINK_DESCRIBE_SIZE 512       /* a failure for a log line */
#define UPLINK_RETRY_AFTER_MIN_MS 1000 /* "Retry-After: 0" must not make a busy loop */
#define UPLINK_SERVER_STREAK 3	       /* 5xx in a row on one batch before it is bisected */
#define UPLINK_SERVER_SOLO_TRIES 5     /* 5xx to one line alone before it may be rejected */

/* Remember the last failure for uplink_get_stats(). */
static void uplink_set_error(struct uplink *u, enum uplink_error_class cls, const char *text)
{
	int rc = pthread_mutex_lock(&u->error_lock);

	if (rc == 0) {
		snprintf(u->last_error, sizeof(u->last_error), "%s", text);
		rc = pthread_mutex_unlock(&u->error_lock);
	}
	if (rc != 0)
		log_error(UPLINK_MODULE, "error_lock: %s", strerror(rc));
	atomic_store(&u->last_error_class, (int)cls);
	atomic_store(&u->last_error_ms, clock_wall_ns() / 1000000);
}

/* Contract in uplink_internal.h. */
uint32_t uplink_storage_failed(struct uplink *u, const char *what, int rc)
{
	char text[UPLINK_DESCRIBE_SIZE];
	uint32_t delay;

	if (u->storage_attempt < UINT32_MAX)
		u->storage_attempt++;
	delay = backoff_delay_ms(u->storage_attempt, u->opt.retry_initial_ms, u->opt.retry_max_ms,
				 backoff_random(&u->rng));
	snprintf(text, sizeof(text), "%s: %s", what, storage_strerror(rc));
	uplink_set_error(u, UPLINK_ERROR_STORAGE, text);
	if (log_limit(&u->storage_log, UPLINK_LOG_EVERY_MS, 1))
		log_error(UPLINK_MODULE, "%s; retrying in %" PRIu32 " ms", text, delay);
	return delay;
}

/* "timeout: <curl>", "network error: <curl>" or "HTTP 500: <message>". */
static void uplink_describe(const struct uplink *u, char *out, size_t size)
{
	const struct influx_reply *r = &u->reply;
	int n;

	/* Cut to fit: the start of a long message is enough for a log line. */
	if (r->status == 0)
		n = snprintf(out, size, "%s: %s", r->timed_out ? "timeout" : "network error",
			     r->error);
	else
		n = snprintf(out, size, "HTTP %ld: %s", r->status,
			     u->message[0] != '\0' ? u->message : "(empty body)");
	if (n < 0)
		out[0] = '\0';
}

/* Keep a copy of the last line of the window InfluxDB just took: the control
 * request of a 5xx isolation (uplink_server_control). A line too long for
 * the copy leaves the one before. */
static void uplink_keep_canary(struct uplink *u)
{
	const struct storage_batch *b = &u->batch;
	const struct uplink_window *w = &u->win;
	size_t start;
	size_t end;

	if (b->offsets == NULL || w->count == 0)
		return;
	start = b->offsets[w->first + w->count - 1];
	end = (size_t)(w->text - b->text) + w->len;
	if (end <= start || end - start > sizeof(u->canary))
		return;
	memcpy(u->canary, b->text + start, end - start);
	u->canary_len = end - start;
}

/* End a 5xx isolation, and the count of 5xx in a row, without rejecting
 * anything: InfluxDB answered in a way that points at itself (`why`). */
static void uplink_server_abandon(struct uplink *u, const char *why)
{
	if (u->server_isolating) {
		/* At most one line per isolation, and those begin minutes apart. */
		u->probe_points = 0;
		log_info(UPLINK_MODULE,
			 "stopped looking for a line InfluxDB fails on (%s): InfluxDB itself is "
			 "failing, every point is kept",
			 why);
	}
	u->server_isolating = false;
	u->server_streak = 0;
	u->solo_id = 0;
	u->solo_failures = 0;
	u->solo_control_ok = false;
}

/* InfluxDB took the window: count it; the caller deletes it. */
static void uplink_delivered(struct uplink *u)
{
	const struct uplink_window *w = &u->win;
	uint32_t failures = atomic_exchange(&u->consecutive_failures, 0);

	atomic_fetch_add(&u->requests_ok, 1);
	atomic_fetch_add(&u->points_sent, w->count);
	atomic_store(&u->last_success_ms, clock_wall_ns() / 1000000);
	if (atomic_exchange(&u->auth_failed, 0))
		log_info(UPLINK_MODULE, "InfluxDB accepts the credentials again");
	if (u->failing)
		log_info(UPLINK_MODULE, "delivered again after %" PRIu32 " failed attempts",
			 failures);
	u->failing = false;
	u->attempt = 0;
	log_limit_reset(&u->auth_log);
	u->db_create_tried = false;
	if (u->probe_points > 0 && w->last_id >= u->suspect_last_id) {
		u->probe_points = 0;
		u->server_isolating = false;
		u->solo_id = 0;
		u->solo_failures = 0;
		u->solo_control_ok = false;
	}
	u->server_streak = 0;
	uplink_keep_canary(u);
	log_debug(
	    UPLINK_MODULE,
	    "sent %zu points (%zu bytes, %zu on the wire%s, up to id %lld): HTTP %ld in %u ms",
	    w->count, w->len, u->reply.sent_bytes, u->reply.gzipped ? " gzipped" : "",
	    (long long)w->last_id, u->reply.status, u->reply.elapsed_ms);
}

/* Move lines u->lines[0..n) of the window to `rejected` with `reason`.
 * Returns the wait (0: read again now). */
static uint32_t uplink_reject_as(struct uplink *u, size_t n, const char *reason)
{
	const struct storage_batch *b = &u->batch;
	size_t first = u->win.first;
	uint64_t unlogged;
	int rc;

	if (b->ids == NULL)
		return uplink_storage_failed(u, "the batch carries no line ids",
					     STORAGE_ERR_INVALID);
	for (size_t i = 0; i < n; i++)
		u->line_ids[i] = b->ids[first + u->lines[i]];
	rc = storage_target_reject(u->target, u->line_ids, n, reason);
	if (rc != STORAGE_OK)
		return uplink_storage_failed(u, "refused points could not be moved to `rejected`",
					     rc);
	u->storage_attempt = 0;
	atomic_fetch_add(&u->points_rejected, n);
	unlogged = log_limit(&u->reject_log, UPLINK_LOG_EVERY_MS, n);
	if (unlogged)
		log_warn(UPLINK_MODULE,
			 "InfluxDB refuses %" PRIu64 " point(s) for good: see the `rejected` table "
			 "(%s)",
			 unlogged, reason);
	return 0;
}

/* "<head><InfluxDB's message>" cut to fit UPLINK_REASON_MAX at a character
 * boundary (the start of a long message is enough) into reason[]. */
static void uplink_reason(const struct uplink *u, const char *head, char *reason)
{
	int len = snprintf(reason, UPLINK_REASON_MAX, "%s%s", head, u->message);

	if (len < 0)
		reason[0] = '\0';
	if (len >= UPLINK_REASON_MAX)
		reason[text_utf8_cut(reason, strlen(reason))] = '\0';
}

/* Move lines u->lines[0..n) of the window to `rejected` with InfluxDB's
 * message, "HTTP <status>: <message>". Returns the wait. */
static uint32_t uplink_reject(struct uplink *u, size_t n)
{
	char head[32];
	char reason[UPLINK_REASON_MAX];

	snprintf(head, sizeof(head), "HTTP %ld: ", u->reply.status);
	uplink_reason(u, head, reason);
	return uplink_reject_as(u, n, reason);
}

/* 400/422 "the lines are at fault": reject the lines InfluxDB names, or the
 * single line sent, or send the first half of the batch next (bisection).
 * Returns the wait. */
static uint32_t uplink_isolate(struct uplink *u)
{
	const struct storage_batch *b = &u->batch;
	const struct uplink_window *w = &u->win;
	size_t n = uplink_answer_named_lines(u->reply.body, w->count, u->lines);

	/* The window's offsets are the batch's, and so is the text they index. */
	if (n == 0 && b->offsets != NULL)
		n = uplink_answer_quoted_lines(u->message, b->text,
					       (size_t)(w->text - b->text) + w->len,
					       b->offsets + w->first, w->count, u->lines);
	if (n == 0 && w->count == 1) {
		u->lines[0] = 0;
		n = 1;
	}
	if (n > 0) {
		/* What is left of a bisected range goes out whole again. */
		u->probe_points = 0;
		log_debug(UPLINK_MODULE, "InfluxDB refused %zu of %zu lines, named or alone", n,
			  w->count);
		return uplink_reject(u, n);
	}
	if (u->probe_points == 0)
		log_info(UPLINK_MODULE,
			 "InfluxDB refused part of %zu points without naming the lines (%s): "
			 "sending them in halves to find the refused ones",
			 w->count, u->message);
	u->probe_points = (w->count + 1) / 2;
	u->suspect_last_id = w->last_id;
	return 0;
}

/* 413: halve the batch size and remember it; a single point too large for
 * InfluxDB is moved to `rejected`. Returns the wait. */
static uint32_t uplink_split(struct uplink *u)
{
	const struct uplink_window *w = &u->win;
	size_t points = w->count / 2;
	size_t bytes = w->len / 2 > 0 ? w->len / 2 : 1;

	if (w->count <= 1) {
		u->lines[0] = 0;
		return uplink_reject(u, 1);
	}
	if (points < u->limit_points)
		u->limit_points = points;
	if (bytes < u->limit_bytes)
		u->limit_bytes = bytes;
	atomic_fetch_add(&u->splits, 1);
	atomic_store(&u->batch_points_now, u->limit_points);
	atomic_store(&u->batch_bytes_now, u->limit_bytes);
	log_warn(UPLINK_MODULE,
		 "InfluxDB found %zu points (%zu bytes) too large (%s): batches are now at most "
		 "%zu points and %zu bytes",
		 w->count, w->len, u->message, u->limit_points, u->limit_bytes);
	return 0;
}

/* The first 404 "database not found" since the last 2xx: create it. */
static void uplink_create_database(struct uplink *u)
{
	struct influx_reply *r = &u->reply;
	char what[UPLINK_DESCRIBE_SIZE];

	u->db_create_tried = true;
	log_info(UPLINK_MODULE, "InfluxDB has no database \"%s\": sending CREATE DATABASE",
		 u->opt.database);
	uplink_busy(u);
	if (influx_create_database(u->client, r) != 0 && r->aborted)
		return;
	uplink_answer_message(r->body, r->body_len, u->message, sizeof(u->message));
	uplink_describe(u, what, sizeof(what));
	if (r->status < 200 || r->status > 299)
		log_warn(UPLINK_MODULE, "CREATE DATABASE failed: %s", what);
	else if (strstr(r->body, "\"error\"") != NULL)
		log_warn(UPLINK_MODULE, "CREATE DATABASE refused: %s", what);
	else
		log_info(UPLINK_MODULE, "created database \"%s\"", u->opt.database);
}

/* The wait after a failure of class `cls` whose points are kept. */
static uint32_t uplink_keep_delay(struct uplink *u, enum uplink_error_class cls)
{
	const struct influx_reply *r = &u->reply;

	if (cls == UPLINK_ERROR_AUTH)
		return u->opt.retry_max_ms;
	if (cls == UPLINK_ERROR_THROTTLED && r->retry_after_s >= 0) {
		uint64_t ms = (uint64_t)r->retry_after_s * 1000u;

		return ms < UPLINK_RETRY_AFTER_MIN_MS ? UPLINK_RETRY_AFTER_MIN_MS : (uint32_t)ms;
	}
	return backoff_delay_ms(u->attempt, u->opt.retry_initial_ms, u->opt.retry_max_ms,
				backoff_random(&u->rng));
}

/* A send failed and its points stay: log, count, and choose the wait. */
static uint32_t uplink_keep(struct uplink *u, enum uplink_error_class cls)
{
	char what[UPLINK_DESCRIBE_SIZE];
	uint32_t failures = atomic_fetch_add(&u->consecutive_failures, 1) + 1;
	uint32_t delay;

	if (u->attempt < UINT32_MAX)
		u->attempt++;
	delay = uplink_keep_delay(u, cls);
	uplink_describe(u, what, sizeof(what));
	if (cls == UPLINK_ERROR_AUTH) {
		atomic_store(&u->auth_failed, 1);
		if (log_limit(&u->auth_log, UPLINK_LOG_EVERY_MS, 1))
			log_error(UPLINK_MODULE,
				  "authentication failed (%s): check [uplink] %s; %zu points kept, "
				  "retrying every %" PRIu32 " ms",
				  what,
				  u->opt.api == UPLINK_API_V2 ? "token" : "username and password",
				  u->win.count, delay);
		log_limit_restart(&u->fail_log);
	} else if (!u->failing) {
		log_warn(UPLINK_MODULE,
			 "delivery failing (%s): %s; %zu points kept, retrying in %" PRIu32 " ms",
			 uplink_error_class_name(cls), what, u->win.count, delay);
		log_limit_restart(&u->fail_log);
	} else if (log_limit(&u->fail_log, UPLINK_LOG_EVERY_MS, 1)) {
		struct storage_stats st;

		int64_t age_s = 0;

		storage_get_stats(u->storage, &st);
		if (st.oldest_received_ns > 0)
			age_s = (clock_wall_ns() - st.oldest_received_ns) / 1000000000;
		log_warn(UPLINK_MODULE,
			 "delivery still failing after %" PRIu32 " attempts (%s): %s; %" PRIu64
			 " points buffered, the oldest for %" PRId64 " s; retrying in %" PRIu32
			 " ms",
			 failures, uplink_error_class_name(cls), what, st.points, age_s, delay);
	}
	log_debug(UPLINK_MODULE,
		  "batch of %zu points not delivered (%s), next try in %" PRIu32 " ms",
		  u->win.count, what, delay);
	u->failing = true;
	return delay;
}

/* The wait before line number `k` (1, 2, ...) of a 5xx isolation is tried
 * alone again: retry_initial * 2^(k-1), at most retry_max. No jitter: the
 * point is to spread the tries over time. */
static uint32_t uplink_solo_delay(const struct uplink *u, uint32_t k)
{
	uint64_t ms = u->opt.retry_initial_ms;

	for (uint32_t i = 1; i < k && ms < u->opt.retry_max_ms; i++)
		ms *= 2;
	return ms < u->opt.retry_max_ms ? (uint32_t)ms : u->opt.retry_max_ms;
}

/* The control of a 5xx isolation: does InfluxDB take a write of a line
 * other than the suspect now? Sends the last line InfluxDB acknowledged
 * (uplink_keep_canary), or when there is none yet the line after the suspect
 * in the buffer. Either stays where it is: written twice, InfluxDB keeps one
 * (identical point, same timestamp). Returns 1 when InfluxDB answered 2xx, 0
 * when it did not (u->reply and u->message hold its answer), -1 when there
 * is no other line to send or the request was abandoned for stop. */
static int uplink_server_control(struct uplink *u)
{
	struct storage_batch next = {0};
	struct influx_reply *r = &u->reply;
	const char *text = u->canary;
	size_t len = u->canary_len;
	int ret = -1;
	int rc;

	if (len == 0) {
		rc = storage_target_read_batch(u->target, 2, SIZE_MAX, &next);
		if (rc != STORAGE_OK || next.count < 2 || next.offsets == NULL)
			goto out;
		text = next.text + next.offsets[1];
		len = next.len - next.offsets[1];
	}
	uplink_busy(u);
	rc = influx_write(u->client, text, len, r);
	atomic_fetch_add(&u->bytes_raw, r->raw_bytes);
	atomic_fetch_add(&u->bytes_sent, r->sent_bytes);
	if (rc != 0 && r->aborted)
		goto out;
	if (r->status >= 200 && r->status <= 299) {
		atomic_fetch_add(&u->requests_ok, 1);
		ret = 1;
		goto out;
	}
	atomic_fetch_add(&u->requests_failed, 1);
	uplink_answer_message(r->body, r->body_len, u->message, sizeof(u->message));
	ret = 0;
out:
	storage_batch_free(&next);
	return ret;
}

/* The single line of the window failed with a 5xx during an isolation
 * (InfluxDB answering /ping). Tried alone again with a growing wait; after
 * UPLINK_SERVER_SOLO_TRIES - 1 failures in a row InfluxDB is asked to take
 * another line (uplink_server_control), and only if it does, and the line
 * then fails alone once more, is it rejected: a server that fails every
 * write, or that was unwell for a while, never loses a point. Returns the
 * wait. */
static uint32_t uplink_server_solo(struct uplink *u, int64_t id)
{
	long status = u->reply.status;
	char head[96];
	char what[UPLINK_DESCRIBE_SIZE];
	uint32_t delay;
	int control;
	int n;

	if (u->solo_id != id) {
		u->solo_id = id;
		u->solo_failures = 0;
		u->solo_control_ok = false;
	}
	if (u->solo_failures < UINT32_MAX)
		u->solo_failures++;
	snprintf(head, sizeof(head),
		 "InfluxDB answered %ld to this line alone %" PRIu32 " times: ", status,
		 u->solo_failures);
	uplink_reason(u, head, u->solo_reason);
	u->probe_points = 1;
	u->suspect_last_id = id;
	if (u->solo_control_ok) {
		/* Failed alone before and after InfluxDB took another line. */
		u->lines[0] = 0;
		delay = uplink_reject_as(u, 1, u->solo_reason);
		if (delay != 0)
			return delay; /* not moved: tried again, and moved then */
		atomic_fetch_add(&u->points_rejected_server, 1);
		u->server_isolating = false;
		u->probe_points = 0;
		u->solo_id = 0;
		u->solo_failures = 0;
		u->solo_control_ok = false;
		return 0;
	}
	delay = uplink_solo_delay(u, u->solo_failures);
	if (u->solo_failures + 1 < UPLINK_SERVER_SOLO_TRIES) {
		log_info(UPLINK_MODULE,
			 "InfluxDB answered %ld to point %lld alone (%" PRIu32 " of %d): trying it "
			 "alone again in %" PRIu32 " ms",
			 status, (long long)id, u->solo_failures, UPLINK_SERVER_SOLO_TRIES, delay);
		return delay;
	}
	control = uplink_server_control(u);
	if (control > 0) {
		log_info(UPLINK_MODULE,
			 "InfluxDB answered %ld to point %lld alone %" PRIu32 " times but takes "
			 "another point: trying it alone once more",
			 status, (long long)id, u->solo_failures);
		u->solo_control_ok = true;
		return 0;
	}
	if (control < 0) {
		/* Nothing to compare with yet (the suspect is alone in the buffer):
		 * it waits, and is tried again with the control later. */
		log_info(UPLINK_MODULE,
			 "point %lld failed alone %" PRIu32 " times, but no other point can show "
			 "that InfluxDB takes writes: kept, tried again in %" PRIu32 " ms",
			 (long long)id, u->solo_failures, delay);
		return delay;
	}
	n = snprintf(what, sizeof(what), "another point failed too, ");
	if (n > 0 && (size_t)n < sizeof(what))
		uplink_describe(u, what + n, sizeof(what) - (size_t)n);
	uplink_server_abandon(u, what);
	return uplink_keep(u, UPLINK_ERROR_SERVER);
}

/* A 5xx that may come from the lines (uplink_answer_server_fault). The
 * first UPLINK_SERVER_STREAK - 1 in a row on a batch are kept as any 5xx;
 * then, if InfluxDB answers /ping, the batch is bisected as for a 400, down
 * to a single line (uplink_server_solo). Should /ping fail, at any step,
 * InfluxDB is down or unwell: the isolation ends and everything is kept.
 * Returns the wait. */
static uint32_t uplink_server_fault(struct uplink *u)
{
	const struct storage_batch *b = &u->batch;
	const struct uplink_window *w = &u->win;
	char ping[UPLINK_DESCRIBE_SIZE];
	int64_t id;

	if (b->ids == NULL || b->offsets == NULL)
		return uplink_keep(u, UPLINK_ERROR_SERVER);
	id = b->ids[w->first];
	if (!u->server_isolating) {
		if (id != u->server_streak_id) {
			u->server_streak_id = id;
			u->server_streak = 0;
		}
		if (u->server_streak < UINT32_MAX)
			u->server_streak++;
		if (u->server_streak < UPLINK_SERVER_STREAK)
			return uplink_keep(u, UPLINK_ERROR_SERVER);
	}
	uplink_busy(u);
	if (!influx_ping(u->client, ping, sizeof(ping))) {
		if (atomic_load(&u->stop))
			return 0; /* the ping was abandoned: nothing to conclude */
		log_debug(UPLINK_MODULE, "HTTP %ld and %s: InfluxDB is down or unwell",
			  u->reply.status, ping);
		uplink_server_abandon(u, ping);
		return uplink_keep(u, UPLINK_ERROR_SERVER);
	}
	if (!u->server_isolating) {
		u->server_isolating = true;
		u->server_streak = 0;
		atomic_fetch_add(&u->server_isolations, 1);
		if (log_limit(&u->server_log, UPLINK_LOG_EVERY_MS, 1))
			log_warn(UPLINK_MODULE,
				 "InfluxDB answered HTTP %ld %d times in a row to %zu points (%s) "
				 "while %s: sending them in halves to find a point it fails on",
				 u->reply.status, UPLINK_SERVER_STREAK, w->count, u->message, ping);
	}
	if (w->count > 1) {
		u->probe_points = (w->count + 1) / 2;
		u->suspect_last_id = w->last_id;
		log_debug(UPLINK_MODULE, "HTTP %ld for %zu points: next %zu alone", u->reply.status,
			  w->count, u->probe_points);
		return 0;
	}
	return uplink_server_solo(u, id);
}

/* Contract in uplink_internal.h. */
uint32_t uplink_forward(struct uplink *u, bool *delivered)
{
	struct influx_reply *r = &u->reply;
	enum uplink_error_class cls;
	char what[UPLINK_DESCRIBE_SIZE];
	int rc;

	if (u->attempt > 0)
		atomic_fetch_add(&u->retries, 1);
	*delivered = false;
	uplink_busy(u);
	rc = influx_write(u->client, u->win.text, u->win.len, r);
	atomic_fetch_add(&u->bytes_raw, r->raw_bytes);
	atomic_fetch_add(&u->bytes_sent, r->sent_bytes);
	if (rc != 0 && r->aborted) {
		log_info(UPLINK_MODULE, "stopping: request abandoned, %zu points stay buffered",
			 u->win.count);
		return 0;
	}
	cls = uplink_answer_classify(r->status, r->timed_out, r->retry_after_s >= 0, r->body);
	if (cls == UPLINK_ERROR_NONE) {
		uplink_delivered(u);
		*delivered = true;
		return 0;
	}

	uplink_answer_message(r->body, r->body_len, u->message, sizeof(u->message));
	uplink_describe(u, what, sizeof(what));
	atomic_fetch_add(&u->requests_failed, 1);
	uplink_set_error(u, cls, what);
	if (r->status == 415 && r->gzipped) {
		log_warn(UPLINK_MODULE, "InfluxDB does not take gzip (%s): sending uncompressed",
			 what);
		influx_disable_gzip(u->client);
		return 0;
	}
	if (uplink_answer_server_fault(r->status))
		return uplink_server_fault(u);
	/* Any other failure says nothing against a line: a 5xx isolation ends. */
	uplink_server_abandon(u, what);
	switch (cls) {
	case UPLINK_ERROR_BAD_DATA:
		return uplink_isolate(u);
	case UPLINK_ERROR_TOO_LARGE:
		return uplink_split(u);
	case UPLINK_ERROR_NOT_FOUND:
		if (u->opt.api == UPLINK_API_V1 && u->opt.create_database && !u->db_create_tried &&
		    strstr(u->message, "database not found") != NULL) {
			uplink_create_database(u);
			return 0;
		}
		break;
	default:
		break;
	}
	return uplink_keep(u, cls);
}
