/* config.h -- the daemon's settings: one table of keys, read from an INI file and the environment. */
#ifndef IOT_EDGE_CONFIG_H
#define IOT_EDGE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

struct edge_config {
	char *http_listen;
	uint64_t http_max_body;       /* bytes */
	char *buffer_path;
	unsigned buffer_durability;   /* index: 0 full, 1 normal */
	char *uplink_url;
	char *uplink_database;
	char *uplink_username;
	char *uplink_password;
	uint64_t uplink_batch_points;
	uint64_t uplink_batch_bytes;
	uint64_t uplink_flush_interval_ms;
	uint64_t uplink_retry_initial_ms;
	uint64_t uplink_retry_max_ms;
	uint64_t uplink_timeout_ms;
	unsigned log_level;           /* index: 0 debug, 1 info, 2 warn, 3 error */
};

/* Set every key to its default. Strings are malloc'd: config_cleanup(). */
void config_init(struct edge_config *c);

/* Apply an INI file over the current values. Every problem is printed to
 * `errors` as "FILE:LINE: [section] key: what is wrong". Returns the number
 * of problems (0: all applied); a missing or unreadable file is one. */
int config_load_file(struct edge_config *c, const char *path, FILE *errors);

/* Apply IOT_EDGE_<SECTION>_<KEY> variables from the environment, e.g.
 * IOT_EDGE_HTTP_LISTEN. Problems are printed and counted as above. */
int config_load_env(struct edge_config *c, FILE *errors);

/* Free the strings; the struct may be config_init()ed again. */
void config_cleanup(struct edge_config *c);

/* Every key with its environment name, default, range and help. */
void config_print_help(FILE *out);

/* Every key and its current value, secrets masked. */
void config_print(const struct edge_config *c, FILE *out);

#endif
