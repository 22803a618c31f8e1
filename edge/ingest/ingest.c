/* ingest.c -- every producer's hand-off to storage: the append, the count in flight, the stop,
 * the "not stored" warning. */
#include "ingest.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "point.h"
#include "readings.h"

/* A "not stored" line at most this often per door. */
#define INGEST_WARN_EVERY_MS 10000

struct ingest {
	struct storage *storage;
	const char *tag;
	struct ingest_direct *direct; /* buffer.write = spill; NULL: always */

	/* Hand-offs accepted and not yet settled; ingest_stop() waits for 0.
	 * Once `stopping` is set none is accepted any more. */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	size_t in_flight;
	bool stopping;

	struct log_limit warned; /* the "not stored" warning's rate limit */
	char *tags;		 /* NULL: none; else added to every point (ingest_set_tags) */
};

/* Where every door records its committed points; NULL: nowhere. */
static _Atomic(struct readings *) ingest_readings;

/* One accepted hand-off: storage's done argument. */
struct ingest_job {
	struct ingest *in;
	ingest_done_fn *done;
	void *arg;
	size_t points;
	struct readings *readings;    /* where `batch` goes once committed */
	struct readings_batch *batch; /* its points' last values; NULL: none */
};

void ingest_set_readings(struct readings *w)
{
	atomic_store(&ingest_readings, w);
}

/* ingest_direct_install(): what the next ingest_create() takes. */
static _Atomic(struct ingest_direct *) ingest_direct_now;

void ingest_direct_install(struct ingest_direct *d)
{
	atomic_store(&ingest_direct_now, d);
}

int64_t ingest_receipt_ns(void *arg)
{
	(void)arg;
	return clock_unique_ns();
}

int ingest_create(struct storage *s, const char *tag, struct ingest **out)
{
	struct ingest *in = calloc(1, sizeof(*in));

	if (!in) {
		log_error(tag, "out of memory");
		return -1;
	}
	in->storage = s;
	in->tag = tag;
	in->direct = atomic_load(&ingest_direct_now);
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->idle, NULL);
	*out = in;
	return 0;
}

int ingest_set_tags(struct ingest *in, const char *tags)
{
	const char *why;
	char *copy = NULL;

	if (tags && *tags) {
		if (point_tags_check(tags, &why) != 0) {
			log_error(in->tag, "tags \"%s\": %s", tags, why);
			return -1;
		}
		copy = strdup(tags);
		if (!copy) {
			log_error(in->tag, "out of memory");
			return -1;
		}
	}
	free(in->tags);
	in->tags = copy;
	return 0;
}

/* text[0..len) with the door's tags added: a new malloc'd text in *out and
 * its length in *out_len. Returns STORAGE_OK, or STORAGE_ERR_NOMEM /
 * STORAGE_ERR_INVALID (text not canonical); text is not touched. */
static int ingest_tagged(const struct ingest *in, const char *text, size_t len, char **out,
			 size_t *out_len)
{
	struct lineproto_buf b;
	int rc;

	lineproto_buf_init(&b, SIZE_MAX - 1);
	rc = point_tags_add(text, len, in->tags, &b);
	if (rc != LINEPROTO_OK) {
		lineproto_buf_free(&b);
		return rc == LINEPROTO_ENOMEM ? STORAGE_ERR_NOMEM : STORAGE_ERR_INVALID;
	}
	*out = lineproto_buf_steal(&b, out_len);
	return *out ? STORAGE_OK : STORAGE_ERR_INVALID;
}

void ingest_warn_not_stored(struct ingest *in, size_t points, int result)
{
	uint64_t refused = log_limit(&in->warned, INGEST_WARN_EVERY_MS, 1);

	if (refused > 1)
		log_warn(in->tag,
			 "%zu points not stored: %s (and %" PRIu64
			 " more times since the last such line)",
			 points, storage_strerror(result), refused - 1);
	else if (refused == 1)
		log_warn(in->tag, "%zu points not stored: %s", points, storage_strerror(result));
}

/* storage_done_fn: one hand-off's commit is over. Writer thread. */
static void ingest_committed(void *arg, int result)
{
	struct ingest_job job = *(struct ingest_job *)arg;

	free(arg);
	if (result != STORAGE_OK)
		ingest_warn_not_stored(job.in, job.points, result);
	else {
		if (job.batch)
			readings_commit(job.readings, job.batch, clock_mono_ms());
		if (job.in->direct != NULL)
			job.in->direct->buffered(job.in->direct, job.points);
	}
	readings_batch_free(job.batch);
	/* Last: the producer may settle, and the door go, from here on. */
	job.done(job.arg, result, job.points, NULL);
}

/* ingest_done_fn of a hand-off the direct path (buffer.write = spill) took:
 * answered by InfluxDB, or committed after all. Any thread. */
static void ingest_direct_done(void *arg, int result, size_t points, const char *refused)
{
	struct ingest_job job = *(struct ingest_job *)arg;

	free(arg);
	if (result == STORAGE_OK && job.batch)
		readings_commit(job.readings, job.batch, clock_mono_ms());
	readings_batch_free(job.batch);
	job.done(job.arg, result, points, refused);
}

int ingest_submit(struct ingest *in, char *text, size_t len, size_t points, ingest_done_fn *done,
		  void *arg)
{
	struct ingest_job *job = malloc(sizeof(*job));
	bool stopping;
	int rc;

	if (!job)
		return STORAGE_ERR_NOMEM;
	*job = (struct ingest_job){.in = in,
				   .done = done,
				   .arg = arg,
				   .points = points,
				   .readings = atomic_load(&ingest_readings)};
	/* Decided under the lock ingest_stop() takes: once it has seen nothing
	 * in flight, nothing is accepted again. */
	pthread_mutex_lock(&in->lock);
	stopping = in->stopping;
	if (!stopping)
		in->in_flight++;
	pthread_mutex_unlock(&in->lock);
	if (stopping) {
		free(job);
		return STORAGE_ERR_CLOSED;
	}
	/* With tags, storage takes the tagged copy and the original is ours to
	 * free once accepted; refused, the caller keeps the original. */
	char *stored = text;
	size_t stored_len = len;
	rc = in->tags ? ingest_tagged(in, text, len, &stored, &stored_len) : STORAGE_OK;
	/* The readings are read here, on the producer's thread, while the text
	 * is still ours: the writer thread only merges the batch (O(series))
	 * once it is committed. Out of memory: these points are not shown,
	 * nothing else changes. */
	if (rc == STORAGE_OK && job->readings &&
	    readings_batch_make(stored, stored_len, &job->batch) != 0)
		job->batch = NULL;
	/* buffer.write = spill: straight to InfluxDB while every uplink can
	 * take it; the job rides along for the readings. */
	if (rc == STORAGE_OK && in->direct != NULL &&
	    in->direct->take(in->direct, in, stored, stored_len, points, ingest_direct_done, job)) {
		if (stored != text)
			free(text);
		return STORAGE_OK;
	}
	if (rc == STORAGE_OK)
		rc = storage_append(in->storage, stored, stored_len, points, ingest_committed, job);
	if (rc != STORAGE_OK) {
		readings_batch_free(job->batch);
		if (stored != text)
			free(stored);
		free(job);
		ingest_settle(in);
	} else if (stored != text) {
		free(text);
	}
	return rc;
}

void ingest_settle(struct ingest *in)
{
	pthread_mutex_lock(&in->lock);
	if (--in->in_flight == 0)
		pthread_cond_broadcast(&in->idle);
	pthread_mutex_unlock(&in->lock);
}

void ingest_stop(struct ingest *in)
{
	pthread_mutex_lock(&in->lock);
	in->stopping = true;
	while (in->in_flight > 0)
		pthread_cond_wait(&in->idle, &in->lock);
	pthread_mutex_unlock(&in->lock);
}

void ingest_destroy(struct ingest *in)
{
	if (!in)
		return;
	pthread_cond_destroy(&in->idle);
	pthread_mutex_destroy(&in->lock);
	free(in->tags);
	free(in);
}

size_t ingest_max_points(const struct ingest *in)
{
	return storage_max_append_points(in->storage);
}
