/* status_drain.c -- the backlog drain estimate of /status: how fast the buffer shrinks lately. */
#include "status.h"

#define STATUS_DRAIN_STEP_MS 1000    /* at most one sample a second */
#define STATUS_DRAIN_WINDOW_MS 60000 /* "lately": the last minute */

void status_drain_note(struct status_drain *d, int64_t now_ms, uint64_t points)
{
	if (d->count > 0) {
		size_t newest = (d->next + STATUS_DRAIN_SAMPLES - 1) % STATUS_DRAIN_SAMPLES;

		if (now_ms - d->samples[newest].ms < STATUS_DRAIN_STEP_MS)
			return;
	}
	d->samples[d->next] = (struct status_drain_sample){.ms = now_ms, .points = points};
	d->next = (d->next + 1) % STATUS_DRAIN_SAMPLES;
	if (d->count < STATUS_DRAIN_SAMPLES)
		d->count++;
}

int status_drain_rate(const struct status_drain *d, int64_t now_ms, uint64_t points, double *rate)
{
	const struct status_drain_sample *in_window = NULL, *before = NULL;

	/* Oldest first: the first sample inside the window is the oldest one. */
	for (size_t i = 0; i < d->count; i++) {
		size_t at = (d->next + STATUS_DRAIN_SAMPLES - d->count + i) % STATUS_DRAIN_SAMPLES;
		const struct status_drain_sample *s = &d->samples[at];
		int64_t age = now_ms - s->ms;

		if (age > STATUS_DRAIN_WINDOW_MS)
			before = s; /* the newest one older than the window */
		else if (age >= STATUS_DRAIN_STEP_MS && !in_window)
			in_window = s;
	}
	if (!in_window)
		in_window = before;
	if (!in_window)
		return -1;
	*rate = ((double)in_window->points - (double)points) * 1000.0 /
		(double)(now_ms - in_window->ms);
	return 0;
}

double status_drain_eta_s(uint64_t points, double rate)
{
	if (points == 0 || !(rate > 0.0))
		return -1.0;
	return (double)points / rate;
}
