/* log.h -- leveled logging to stderr with a [module] tag, shared by every room. */
#ifndef IOT_EDGE_LOG_H
#define IOT_EDGE_LOG_H

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

/* One line on stderr: "2026-11-28T05:44:27.123Z info [module] text".
 * Thread-safe; never logs secrets handed to it, so do not hand it any. */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(module, ...) log_msg(LOG_LEVEL_DEBUG, module, __VA_ARGS__)
#define log_info(module, ...) log_msg(LOG_LEVEL_INFO, module, __VA_ARGS__)
#define log_warn(module, ...) log_msg(LOG_LEVEL_WARN, module, __VA_ARGS__)
#define log_error(module, ...) log_msg(LOG_LEVEL_ERROR, module, __VA_ARGS__)

#endif
