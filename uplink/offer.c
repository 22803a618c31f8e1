/* offer.c -- buffer.write = spill: points offered straight to InfluxDB, bypassing the buffer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "clock.h"
#include "log.h"
#include "uplink_internal.h"

/* Points that may wait for the next direct send, in batches. */
#define UPLINK_OFFER_BATCHES 4

/* The buffer holds points this uplink's target has yet to get. */
static bool uplink_backlog(struct uplink *u)
{
	struct storage_target_stats st;

	storage_target_get_stats(u->target, &st);
	return st.points > 0;
}

/* Contract in uplink.h. Any thread. */
bool uplink_can_offer(struct uplink *u)
{
	return u != NULL && !atomic_load(&u->stop) && atomic_load(&u->consecutive_failures) == 0 &&
	       atomic_load(&u->auth_failed) == 0 && !uplink_backlog(u);
}

/* Contract in uplink_internal.h. */
int uplink_offers_init(struct uplink *u)
{
	int rc = pthread_mutex_init(&u->offer_lock, NULL);

	if (rc == 0)
		u->offer_lock_ready = true;
	return rc;
}

/* Contract in uplink.h: 0 (done will run once) or -1 (refused). Any thread. */
int uplink_offer(struct uplink *u, const char *text, size_t len, size_t points,
		 uplink_offer_done_fn *done, void *arg)
{
	struct uplink_offer *o;
	bool taken = false;

	if (!uplink_can_offer(u) || points == 0)
		return -1;
	o = malloc(sizeof(*o));
	if (o == NULL)
		return -1;
	*o = (struct uplink_offer){
	    .text = text, .len = len, .points = points, .done = done, .arg = arg};
	pthread_mutex_lock(&u->offer_lock);
	if (!u->offers_closed &&
	    u->offer_points + points <= u->opt.batch_points * UPLINK_OFFER_BATCHES) {
		if (u->offers_tail != NULL)
			u->offers_tail->next = o;
		else
			u->offers = o;
		u->offers_tail = o;
		u->offer_points += points;
		atomic_store(&u->offers_pending, true);
		taken = true;
	}
	pthread_mutex_unlock(&u->offer_lock);
	if (!taken) {
		free(o);
		return -1;
	}
	/* After the queue: a forwarder asleep for points wakes and sees it. */
	storage_target_wake(u->target);
	return 0;
}

/* Take the oldest offers off the queue: all of them (`all`), or as many as
 * fit one request (at least one). Returns the list; *points and *bytes are
 * its size. */
static struct uplink_offer *uplink_take_offers(struct uplink *u, bool all, size_t *points,
					       size_t *bytes)
{
	struct uplink_offer *first, *last = NULL, *o;

	*points = 0;
	*bytes = 0;
	pthread_mutex_lock(&u->offer_lock);
	first = u->offers;
	for (o = first; o != NULL; o = o->next) {
		if (!all && last != NULL &&
		    (*points + o->points > u->limit_points || *bytes + o->len > u->limit_bytes))
			break;
		*points += o->points;
		*bytes += o->len;
		last = o;
	}
	if (last != NULL) {
		u->offers = last->next;
		last->next = NULL;
		if (u->offers == NULL)
			u->offers_tail = NULL;
		u->offer_points -= *points;
	}
	atomic_store(&u->offers_pending, u->offers != NULL);
	pthread_mutex_unlock(&u->offer_lock);
	return last != NULL ? first : NULL;
}

/* Answer every offer of `list` and free the list. */
static void uplink_answer_offers(struct uplink_offer *list, enum uplink_offer_answer answer)
{
	while (list != NULL) {
		struct uplink_offer *next = list->next;

		list->done(list->arg, answer, NULL);
		free(list);
		list = next;
	}
}

/* InfluxDB answered 400/422 to the offers of `list` (`points` lines in all):
 * those holding a line it named (or the offer, if sent alone) are answered
 * UPLINK_OFFER_REFUSED with its message, the rest UPLINK_OFFER_FAILED (their
 * lines may or may not be stored: the buffer's path settles it). Frees the
 * list. */
static void uplink_answer_refused(struct uplink *u, struct uplink_offer *list, size_t points)
{
	/* u->lines holds opt.batch_points entries; a later line named is ignored. */
	size_t named = uplink_answer_named_lines(
	    u->reply.body, points < u->opt.batch_points ? points : u->opt.batch_points, u->lines);
	size_t first = 0, k = 0;
	char message[UPLINK_REASON_MAX - 32]; /* the start of a long one is enough */
	char why[UPLINK_REASON_MAX];

	uplink_answer_message(u->reply.body, u->reply.body_len, message, sizeof(message));
	snprintf(why, sizeof(why), "InfluxDB answered %ld: %s", u->reply.status, message);
	while (list != NULL) {
		struct uplink_offer *next = list->next;
		bool refused = named == 0 && first == 0 && next == NULL;

		/* u->lines is ascending: skip those before this offer. */
		while (k < named && u->lines[k] < first)
			k++;
		if (k < named && u->lines[k] < first + list->points)
			refused = true;
		first += list->points;
		if (refused)
			list->done(list->arg, UPLINK_OFFER_REFUSED, why);
		else
			list->done(list->arg, UPLINK_OFFER_FAILED, NULL);
		free(list);
		list = next;
	}
}

/* One body of the offers of `list` (`bytes` in all): the first offer's own
 * text when it is alone, else u->direct_body. NULL when out of memory. */
static const char *uplink_offer_body(struct uplink *u, const struct uplink_offer *list,
				     size_t bytes)
{
	size_t at = 0;

	if (list->next == NULL)
		return list->text;
	if (bytes > u->direct_cap) {
		char *grown = realloc(u->direct_body, bytes);

		if (grown == NULL)
			return NULL;
		u->direct_body = grown;
		u->direct_cap = bytes;
	}
	for (; list != NULL; list = list->next) {
		memcpy(u->direct_body + at, list->text, list->len);
		at += list->len;
	}
	return u->direct_body;
}

/* Contract in uplink_internal.h. Forwarder thread. */
uint32_t uplink_send_offers(struct uplink *u)
{
	bool healthy = uplink_can_offer(u) && u->probe_points == 0;
	size_t points, bytes;
	struct uplink_offer *list = uplink_take_offers(u, !healthy, &points, &bytes);
	const char *body;
	bool delivered = false;

	if (list == NULL)
		return 0;
	if (!healthy) {
		/* A backlog goes first and in order: these go to the buffer behind it. */
		uplink_answer_offers(list, UPLINK_OFFER_FAILED);
		return 0;
	}
	body = uplink_offer_body(u, list, bytes);
	if (body != NULL) {
		uplink_busy(u);
		if (influx_write(u->client, body, bytes, &u->reply) == 0 &&
		    u->reply.status / 100 == 2)
			delivered = true;
		atomic_fetch_add(&u->bytes_raw, u->reply.raw_bytes);
		atomic_fetch_add(&u->bytes_sent, u->reply.sent_bytes);
	}
	if (delivered) {
		atomic_fetch_add(&u->requests_ok, 1);
		atomic_fetch_add(&u->points_sent, points);
		atomic_store(&u->last_success_ms, clock_wall_ns() / 1000000);
		log_debug(UPLINK_MODULE,
			  "sent %zu points directly (offered, not buffered): HTTP %ld in %u ms",
			  points, u->reply.status, u->reply.elapsed_ms);
	} else {
		/* The buffer's path takes them from here, with the whole error
		 * table; until it has delivered again, nothing is offered. */
		atomic_fetch_add(&u->requests_failed, 1);
		atomic_fetch_add(&u->consecutive_failures, 1);
		atomic_store(&u->last_error_ms, clock_wall_ns() / 1000000);
		if (log_limit(&u->direct_log, UPLINK_LOG_EVERY_MS, 1)) {
			char why[300];

			if (body == NULL)
				snprintf(why, sizeof(why), "out of memory");
			else if (u->reply.status == 0)
				snprintf(why, sizeof(why), "%s", u->reply.error);
			else
				snprintf(why, sizeof(why), "HTTP %ld", u->reply.status);
			log_warn(UPLINK_MODULE,
				 "a direct send of %zu points failed (%s): they go to the buffer",
				 points, why);
		}
	}
	if (delivered)
		uplink_answer_offers(list, UPLINK_OFFER_DELIVERED);
	else if (body != NULL && (u->reply.status == 400 || u->reply.status == 422))
		uplink_answer_refused(u, list, points);
	else
		uplink_answer_offers(list, UPLINK_OFFER_FAILED);
	return 0;
}

/* Contract in uplink_internal.h. */
void uplink_offers_close(struct uplink *u)
{
	struct uplink_offer *list = NULL;
	size_t points, bytes;

	if (!u->offer_lock_ready)
		return;
	pthread_mutex_lock(&u->offer_lock);
	u->offers_closed = true;
	pthread_mutex_unlock(&u->offer_lock);
	list = uplink_take_offers(u, true, &points, &bytes);
	uplink_answer_offers(list, UPLINK_OFFER_FAILED);
	free(u->direct_body);
	u->direct_body = NULL;
	pthread_mutex_destroy(&u->offer_lock);
	u->offer_lock_ready = false;
}
