/* log.c -- leveled logging to stderr (journald adds its own timestamps). */
#include "log.h"

#include "clock.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int min_level = LOG_LEVEL_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	atomic_store(&min_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&min_level);
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(unsigned level)
{
	return level < sizeof(level_names) / sizeof(level_names[0]) ? level_names[level] : "?";
}

uint64_t log_limit(struct log_limit *l, int64_t every_ms, uint64_t n)
{
	int64_t now = clock_mono_ms(); /* never 0 */
	int64_t last;

	if (n > 0)
		atomic_fetch_add(&l->pending, n);
	if (atomic_load(&l->pending) == 0)
		return 0;
	last = atomic_load(&l->last_ms);
	if (last != 0 && now - last < every_ms)
		return 0;
	if (!atomic_compare_exchange_strong(&l->last_ms, &last, now))
		return 0; /* another thread writes this line */
	return atomic_exchange(&l->pending, 0);
}

void log_limit_restart(struct log_limit *l)
{
	atomic_store(&l->pending, 0);
	atomic_store(&l->last_ms, clock_mono_ms());
}

void log_limit_reset(struct log_limit *l)
{
	atomic_store(&l->last_ms, 0);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	if ((int)level < atomic_load(&min_level))
		return;

	int64_t now_ns = clock_wall_ns();
	time_t now_s = (time_t)(now_ns / 1000000000);
	struct tm tm;
	char stamp[32];
	gmtime_r(&now_s, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	/* Build the whole line first so concurrent threads never interleave. */
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s.%03ldZ %s [%s] ", stamp,
			 (long)(now_ns % 1000000000 / 1000000), log_level_name(level), module);
	if (n < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	if ((size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
