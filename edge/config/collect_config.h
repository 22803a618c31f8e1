/* collect_config.h -- the repeatable [collector.NAME] sections of the configuration file. */
#ifndef IOT_EDGE_COLLECT_CONFIG_H
#define IOT_EDGE_COLLECT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum collect_type {
	COLLECT_CPU_TEMP, /* /sys/class/thermal/thermal_zone*\/temp */
	COLLECT_W1,	  /* DS18B20: /sys/bus/w1/devices/28-*\/w1_slave */
	COLLECT_FILE,	  /* any sysfs/hwmon file (glob), value * scale + offset */
	COLLECT_EXEC,	  /* a command whose stdout is line protocol */
	COLLECT_EDGE,	  /* the edge's own figures (measurement iot_edge) */
};

/* One [collector.NAME] section of the configuration. The strings are
 * malloc'd and owned by the struct edge_config that holds the list. */
struct collect_config {
	char *name; /* NAME of [collector.NAME] */
	enum collect_type type;
	bool enabled;
	uint64_t interval_ms; /* runs at every multiple of this on the wall clock */
	char *measurement;
	char *tags;	      /* extra tags "key=value,key=value", "" for none */
	char *path;	      /* file: a path or glob, read below collect.sysfs_root */
	double scale, offset; /* file: value = raw * scale + offset */
	char *field;	      /* file: the field key */
	char *command;	      /* exec: split on blanks, or run by /bin/sh -c when shell */
	bool shell;
	uint64_t timeout_ms; /* exec: killed (with its process group) after this */
	char *env;	     /* exec: "NAME=value, NAME2" added to PATH LANG TZ HOME; NULL: none */
};

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

/* Free one entry's strings and zero it. Any thread (the entry's owner). */
void collect_config_clear(struct collect_config *c);

/* Make dst a deep copy of src (a NULL tags becomes ""). Returns 0, or -1 when
 * out of memory (dst is then cleared). Any thread. */
int collect_config_copy(struct collect_config *dst, const struct collect_config *src);

/* Free everything; the list is left empty. NULL-safe. */
void collect_config_free(struct collect_config_list *l);

/* Called by collect_config_diff() for each difference: `key` is the changed
 * key of [collector.NAME], or NULL for a collector that only one list has. */
typedef void collect_config_diff_fn(void *arg, const char *name, const char *key);

/* Compare a and b collector by collector (matched by name) and key by key,
 * typed; call fn for each difference: a's collectors in order, then those
 * only b has. Returns the number of differences. Any thread that may read
 * both. */
size_t collect_config_diff(const struct collect_config_list *a, const struct collect_config_list *b,
			   collect_config_diff_fn *fn, void *arg);

/* Print each collector as an INI section (for iot-edge -n). */
void collect_config_print(const struct collect_config_list *l, FILE *out);

/* "cpu_temp", "w1", "file", "exec" or "edge": a static string. Any thread. */
const char *collect_type_name(enum collect_type type);

#endif
