/* uplink_config.h -- the repeatable [uplink.NAME] sections: one delivery target each. */
#ifndef IOT_EDGE_UPLINK_CONFIG_H
#define IOT_EDGE_UPLINK_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct edge_config;

/* Target names: 1 to UPLINK_CONFIG_NAME_MAX of [a-z0-9_-]. */
#define UPLINK_CONFIG_NAME_MAX 32
/* The most [uplink.NAME] sections (storage's STORAGE_MAX_TARGETS). */
#define UPLINK_CONFIG_MAX 8
/* The name of the single [uplink] section's target. */
#define UPLINK_CONFIG_DEFAULT_NAME "default"

/* One [uplink.NAME] section. Its keys are those of [uplink], with the same
 * defaults, types and checks: they live in the uplink_* fields of `keys`, a
 * whole struct edge_config of which nothing else is used. Owned by the list. */
struct uplink_config {
	char *name;
	struct edge_config *keys;
	int line; /* where the section's first key was read (0: not from a file) */
};

/* The [uplink.NAME] sections in the order first seen; n == 0: only [uplink]. */
struct uplink_config_list {
	struct uplink_config *items;
	size_t n;
};

/* Apply `key = value` of section [uplink.NAME] (`name` is NAME), read on
 * `line`. Returns 0, or -1 with *why set (static or `scratch`). Main thread. */
int uplink_config_key(struct uplink_config_list *l, const char *name, const char *key,
		      const char *value, int line, char *scratch, size_t scratch_size,
		      const char **why);

/* How the targets fit together once the file and the environment are read:
 * [uplink] and [uplink.NAME] cannot be mixed (a key of [uplink] set to
 * anything but its default while [uplink.NAME] sections exist is an error),
 * and each v1 target needs a database, each v2 one a bucket. Prints each
 * problem to `errors`; returns their number. Main thread. */
int uplink_config_check(const struct edge_config *c, FILE *errors);

/* Free everything; the list is left empty. NULL-safe. */
void uplink_config_free(struct uplink_config_list *l);

/* Print each section as INI (for iot-edge -n), secrets masked. */
void uplink_config_print(const struct uplink_config_list *l, FILE *out);

/* Called by uplink_config_diff() for each difference: `key` is the changed
 * key of [uplink.NAME], or NULL for a section only one list has. */
typedef void uplink_config_diff_fn(void *arg, const char *name, const char *key);

/* Compare a and b section by section (matched by name) and key by key; call
 * fn for each difference. Returns their number. Any thread reading both. */
size_t uplink_config_diff(const struct uplink_config_list *a, const struct uplink_config_list *b,
			  uplink_config_diff_fn *fn, void *arg);

#endif
