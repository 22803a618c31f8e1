/* watchdog.c -- heartbeat bookkeeping behind systemd's watchdog: ping only while no watched thread
 * is stuck. */
#include "watchdog.h"

#include "log.h"

#define WATCHDOG_MOD "watchdog"

void watchdog_init(struct watchdog *w, uint64_t watchdog_usec)
{
	*w = (struct watchdog){.period_ms = watchdog_usec / 1000u, .stuck = -1};
	if (watchdog_usec > 0 && w->period_ms == 0)
		w->period_ms = 1;
}

int watchdog_add(struct watchdog *w, const char *name, watchdog_heartbeat_fn *heartbeat, void *arg,
		 uint64_t max_age_ms)
{
	if (name == NULL || heartbeat == NULL || max_age_ms == 0)
		return -1;
	if (w->n_sources >= WATCHDOG_MAX_SOURCES)
		return -1;
	w->sources[w->n_sources++] = (struct watchdog_source){
	    .name = name, .heartbeat = heartbeat, .arg = arg, .max_age_ms = max_age_ms};
	return 0;
}

/* Index of the first stuck source at now_ms, or -1. */
static int watchdog_find_stuck(const struct watchdog *w, uint64_t now_ms, uint64_t *age_ms)
{
	for (size_t i = 0; i < w->n_sources; i++) {
		const struct watchdog_source *s = &w->sources[i];
		uint64_t beat = s->heartbeat(s->arg);
		/* A beat from the future (taken after now_ms was read) is fresh. */
		uint64_t age = beat < now_ms ? now_ms - beat : 0;

		if (age > s->max_age_ms) {
			*age_ms = age;
			return (int)i;
		}
	}
	return -1;
}

const char *watchdog_stuck_source(const struct watchdog *w, uint64_t now_ms)
{
	uint64_t age;
	int i = watchdog_find_stuck(w, now_ms, &age);

	return i < 0 ? NULL : w->sources[i].name;
}

int watchdog_due(struct watchdog *w, uint64_t now_ms)
{
	uint64_t age = 0;
	int stuck;

	if (w->period_ms == 0)
		return 0;
	stuck = watchdog_find_stuck(w, now_ms, &age);
	if (stuck >= 0 && w->stuck < 0)
		log_error(WATCHDOG_MOD,
			  "the %s thread has made no progress for %llu ms: no more watchdog pings, "
			  "systemd will restart iot-edge",
			  w->sources[stuck].name, (unsigned long long)age);
	else if (stuck < 0 && w->stuck >= 0)
		log_info(WATCHDOG_MOD, "the %s thread is making progress again",
			 w->sources[w->stuck].name);
	w->stuck = stuck;
	if (stuck >= 0)
		return 0;
	if (w->pinged && now_ms - w->last_ping_ms < w->period_ms / 2)
		return 0;
	w->pinged = 1;
	w->last_ping_ms = now_ms;
	return 1;
}

uint64_t watchdog_tick_ms(const struct watchdog *w, uint64_t fallback_ms)
{
	uint64_t tick;

	if (w->period_ms == 0)
		return fallback_ms;
	tick = w->period_ms / 4;
	if (tick == 0)
		tick = 1;
	return tick < fallback_ms ? tick : fallback_ms;
}
