/* reload.h -- SIGHUP: apply the settings that can change while running, name those that need a
 * restart. */
#ifndef IOT_EDGE_RELOAD_H
#define IOT_EDGE_RELOAD_H

#include <stddef.h>

#include "config.h"

/*
 * Compare `running` with `fresh` key by key, typed (the settings table in
 * its order, then the [collector.NAME] sections), and write the changed ones
 * as names -- "section.key", "collector.NAME.key", or "collector.NAME" for a
 * collector added or removed -- separated by ", ", into `out` (always
 * terminated when cap > 0; a list that does not fit ends in "..."; out may be
 * NULL when cap is 0). Secrets (passwords, tokens) are compared in full and
 * named like any key; no value is ever written. Returns the number of changed
 * keys. Main thread (it only reads both configurations); `out` is the
 * caller's.
 */
int reload_changed_keys(const struct edge_config *running, const struct edge_config *fresh,
			char *out, size_t cap);

/*
 * Take over from `fresh` into `running` every changed key the table marks
 * reloadable -- today only log.level, applied at once with log_set_level --
 * logging each ("log.level info -> debug: applied"), and log by name every
 * other changed key as needing a restart. Returns the number of keys that
 * need a restart (0: everything changed is applied). Main thread, the only
 * writer of `running`; `fresh` stays the caller's.
 */
int reload_apply(struct edge_config *running, const struct edge_config *fresh);

#endif
