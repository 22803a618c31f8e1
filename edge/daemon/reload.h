/* reload.h -- SIGHUP: apply the settings that can change while running, name those that need a
 * restart. */
#ifndef IOT_EDGE_RELOAD_H
#define IOT_EDGE_RELOAD_H

#include <stddef.h>

#include "config.h"

/*
 * Compare `running` with `fresh` key by key and write the changed ones as
 * "section.key" names, separated by ", ", into `out` (always terminated; a
 * list that does not fit ends in "..."). Secret keys (passwords, tokens) are
 * compared only as set or unset: a changed secret is not seen.
 * Returns the number of changed keys, or -1 when out of memory.
 * Main thread (it only reads both configurations); `out` is the caller's.
 */
int reload_changed_keys(const struct edge_config *running, const struct edge_config *fresh,
			char *out, size_t cap);

/*
 * Take over from `fresh` what is safe to change while running -- today the
 * log level (applied at once with log_set_level) -- into `running`, and log
 * every other changed key as needing a restart. Returns the number of keys
 * that need a restart (0: everything changed is applied), or -1 when out of
 * memory (nothing applied). Main thread; `fresh` stays the caller's.
 */
int reload_apply(struct edge_config *running, const struct edge_config *fresh);

#endif
