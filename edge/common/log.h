/* log.h -- leveled logging to stderr with a [module] tag, shared by every room. */
#ifndef IOT_EDGE_LOG_H
#define IOT_EDGE_LOG_H

#include <stdatomic.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* Messages below `level` are dropped. Any thread; takes effect at once. */
void log_set_level(enum log_level level);

/* The level set last (LOG_LEVEL_INFO before any). Any thread (an atomic
 * read: the running level for /status, whichever thread set it). */
enum log_level log_get_level(void);

/* "debug", "info", "warn" or "error" -> *out. Returns 0, or -1 if unknown. */
int log_level_parse(const char *name, enum log_level *out);

/* The name of a level ("debug" .. "error"; "?" out of range), a static
 * string. Pure; any thread. */
const char *log_level_name(unsigned level);

/* One line on stderr: "2026-11-28T05:44:27.123Z info [module] text", the
 * text escaped by text_escape() (control bytes and invalid UTF-8 as \xHH,
 * a line break as \n: one message is one line, whatever a client sent).
 * Thread-safe; never logs secrets handed to it, so do not hand it any. */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A rate limit for one kind of repeated message (a full disk, an unreachable
 * InfluxDB): the first line at once, then at most one per interval, each
 * standing for the events since the one before. Timed on the monotonic
 * clock, so setting the wall clock neither silences nor floods it. A zeroed
 * struct (`= {0}`, static or calloc'd) is ready; nothing to destroy.
 */
struct log_limit {
	_Atomic int64_t last_ms;  /* clock_mono_ms() of the last line; 0: none yet */
	_Atomic uint64_t pending; /* events since the last line */
};

/* Count `n` more events (0: none, just ask whether a line is due) and return
 * how many a line written now is to report -- every event since the last
 * line, these included -- when one is due (no line yet, or `every_ms` passed
 * since the last), 0 when not (the events wait for the next line) or when
 * there is nothing to report. Lock-free, any thread: of callers racing for
 * the same line one wins. */
uint64_t log_limit(struct log_limit *l, int64_t every_ms, uint64_t n);

/* A line about this kind was written without asking log_limit(): the
 * interval starts again now and the pending events count as reported. */
void log_limit_restart(struct log_limit *l);

/* The problem went away: the next event gets its line at once. */
void log_limit_reset(struct log_limit *l);

/* log_msg() for one event of a kind a client can repeat at will (a bad
 * request, a failed authorization, a refused connection): counted by
 * log_limit(l, every_ms, 1) and written only when a line is due, then
 * saying how many such events it stands for. Nothing is counted below the
 * running level. Thread-safe, like log_msg(). */
void log_limited(struct log_limit *l, int64_t every_ms, enum log_level level, const char *module,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define log_debug(module, ...) log_msg(LOG_LEVEL_DEBUG, module, __VA_ARGS__)
#define log_info(module, ...) log_msg(LOG_LEVEL_INFO, module, __VA_ARGS__)
#define log_warn(module, ...) log_msg(LOG_LEVEL_WARN, module, __VA_ARGS__)
#define log_error(module, ...) log_msg(LOG_LEVEL_ERROR, module, __VA_ARGS__)

#endif
