/* collect_async.c -- the w1 collector's run on a thread of its own: a DS18B20 conversion blocks
 * its reader (750 ms per bus, or per sensor), and the collector loop must not wait for it. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "collect_internal.h"
#include "log.h"

/* The run's thread: read, then say so through the loop's wake pipe. */
static void *collect_async_main(void *arg)
{
	struct collect_item *it = arg;
	struct collect_async *a = &it->async;
	ssize_t w;

	a->rc = collect_w1(&a->r);
	atomic_store(&a->done, true);
	w = write(it->owner->wake[1], "w", 1);
	(void)w; /* a full pipe already wakes the loop */
	return NULL;
}

/* Hands the run's points and counts on, logs its note once. Collector thread. */
static void collect_async_finish(struct collect_item *it)
{
	struct collect_async *a = &it->async;

	if (a->r.note[0] && !a->noted) {
		log_info(COLLECT_MOD, "%s: %s: each sensor converts in turn (750 ms each)",
			 it->cfg.name, a->r.note);
		a->noted = true;
	}
	collect_read_finish(it, &a->r, a->rc, &a->buf);
}

void collect_async_start(struct collect_item *it, int64_t grid_ns)
{
	struct collect_async *a = &it->async;
	sigset_t all, old;
	int rc;

	lineproto_buf_init(&a->buf, COLLECT_OUTPUT_MAX);
	a->r = (struct collect_read){.root = it->owner->root,
				     .measurement = it->cfg.measurement,
				     .extra_tags = it->cfg.tags,
				     .ts_ns = grid_ns,
				     .out = &a->buf};
	atomic_store(&a->done, false);
	/* No signal for the thread: one would cut the kernel's conversion wait
	 * short (msleep_interruptible) and leave the last value in the sensors. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&a->thread, NULL, collect_async_main, it);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		a->running = true;
		return;
	}
	log_warn(COLLECT_MOD, "%s: cannot start a thread (%s): read on the collector loop",
		 it->cfg.name, strerror(rc));
	a->rc = collect_w1(&a->r);
	collect_async_finish(it);
}

bool collect_async_running(const struct collect_item *it)
{
	return it->async.running;
}

void collect_async_reap(struct collect_item *it, bool wait)
{
	struct collect_async *a = &it->async;

	if (!a->running || (!wait && !atomic_load(&a->done)))
		return;
	pthread_join(a->thread, NULL);
	a->running = false;
	collect_async_finish(it);
}
