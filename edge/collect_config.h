/* collect_config.h -- the repeatable [collector.NAME] sections of the configuration file. */
#ifndef IOT_EDGE_COLLECT_CONFIG_H
#define IOT_EDGE_COLLECT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "collect.h"

struct collect_config_parse; /* which keys a section set, and on which line */

/* The collectors of a configuration: items[0..n) in the order first seen. */
struct collect_config_list {
	struct collect_config *items;
	struct collect_config_parse *parse; /* n entries, private to collect_config.c */
	size_t n;
};

/* Start the list with its defaults: the `edge` collector, enabled, every 10 s.
 * Returns 0, or -1 when out of memory (the list is then empty). Main thread. */
int collect_config_init(struct collect_config_list *l);

/* Apply `key = value` of section [collector.NAME] (`name` is NAME), read on
 * line `line`. Returns 0, or -1 with *why set (a static message or `scratch`).
 * Type-dependent checks wait for collect_config_finish(). Main thread. */
int collect_config_key(struct collect_config_list *l, const char *name, const char *key,
		       const char *value, int line, char *scratch, size_t scratch_size,
		       const char **why);

/* After a file is read: fill each collector's defaults for its type and
 * print every misuse (missing type, file without path, exec without command,
 * a key of another type, timeout not below interval) to `errors` as
 * "FILE:LINE: [collector.NAME] key: what is wrong". Returns the number of
 * problems. Main thread. */
int collect_config_finish(struct collect_config_list *l, const char *path, FILE *errors);

/* Free everything; the list is left empty. NULL-safe. */
void collect_config_free(struct collect_config_list *l);

/* Print each collector as an INI section (for iot-edge -n). */
void collect_config_print(const struct collect_config_list *l, FILE *out);

/* "cpu_temp", "w1", "file", "exec" or "edge": a static string. Any thread. */
const char *collect_type_name(enum collect_type type);

#endif
