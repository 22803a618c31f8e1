/* log.c -- leveled logging to stderr (journald adds its own timestamps). */
#include "log.h"

#include "clock.h"
#include "text.h"

#include <inttypes.h>
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

/* One line: the header, then the message escaped by text_escape() (a
 * client's %0a or ESC cannot start a forged line or move the cursor), then
 * `suffix`. */
__attribute__((format(printf, 4, 0))) static void
log_vmsg(enum log_level level, const char *module, const char *suffix, const char *fmt, va_list ap)
{
	int64_t now_ns = clock_wall_ns();
	time_t now_s = (time_t)(now_ns / 1000000000);
	struct tm tm;
	char stamp[32];
	gmtime_r(&now_s, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	/* Build the whole line first so concurrent threads never interleave. */
	char text[1024], line[1280];
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		return;
	size_t text_len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s [%s] ", stamp,
		     (long)(now_ns % 1000000000 / 1000000), log_level_name(level), module);
	if (n < 0 || (size_t)n >= sizeof(line) - 8)
		return;
	size_t len = (size_t)n;
	len += text_escape(line + len, sizeof(line) - 160 - len, text, text_len, 0);
	snprintf(line + len, sizeof(line) - len, "%s", suffix);
	fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	if ((int)level < atomic_load(&min_level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, module, "", fmt, ap);
	va_end(ap);
}

void log_limited(struct log_limit *l, int64_t every_ms, enum log_level level, const char *module,
		 const char *fmt, ...)
{
	char suffix[128] = "";
	va_list ap;
	uint64_t n;

	if ((int)level < atomic_load(&min_level))
		return;
	n = log_limit(l, every_ms, 1);
	if (n == 0)
		return;
	if (n > 1)
		snprintf(suffix, sizeof(suffix),
			 " (%" PRIu64 " such problems since the last line; one line per %lld s)", n,
			 (long long)(every_ms / 1000));
	else
		snprintf(suffix, sizeof(suffix), " (one line per %lld s for such problems)",
			 (long long)(every_ms / 1000));
	va_start(ap, fmt);
	log_vmsg(level, module, suffix, fmt, ap);
	va_end(ap);
}
