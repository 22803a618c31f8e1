/* tags_config.h -- the [tags] section (tags added to every point) and the edge's name. */
#ifndef IOT_EDGE_TAGS_CONFIG_H
#define IOT_EDGE_TAGS_CONFIG_H

#include <stdio.h>

struct edge_config;

/* Set tag `key` of [tags] to `value` in *tags ("key=value,key=value", NULL
 * or "" for none; malloc'd, replaced): a key set again takes the new value
 * (the environment overrides the file). Returns 0, or -1 with *why set to a
 * static message (nothing changed). Main thread. */
int tags_config_set(char **tags, const char *key, const char *value, const char **why);

/* After the file and the environment: the edge's name defaults to the host
 * name, and the name, its tag key and [tags] must fit together (the name a
 * tag value, no [tags] key equal to the name's tag key). Every problem is
 * printed to `errors`. Returns the number of problems. Main thread. */
int tags_config_finish(struct edge_config *c, FILE *errors);

/* The tags every collector point gets: "<edge.tag>=<edge.name>" then
 * [tags], malloc'd (the caller frees it), or NULL when out of memory. Main
 * thread. */
char *tags_config_collect(const struct edge_config *c);

/* The [tags] section as config_print() writes it ("" when empty). */
void tags_config_print(const struct edge_config *c, FILE *out);

#endif
