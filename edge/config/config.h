/* config.h -- the daemon's settings: one table of keys, read from an INI file and the environment.
 */
#ifndef IOT_EDGE_CONFIG_H
#define IOT_EDGE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "collect_config.h"
#include "uplink_config.h"
#include "mqtt_config.h"

/* Index values of the enumerated keys. */
enum { CONFIG_DURABILITY_FULL, CONFIG_DURABILITY_NORMAL };
enum { CONFIG_FULL_DROP_OLDEST, CONFIG_FULL_REJECT_NEW };
enum { CONFIG_API_V1, CONFIG_API_V2 };
enum { CONFIG_WRITE_ALWAYS, CONFIG_WRITE_SPILL };

/* Every setting; see the table in config.c (or iot-edge --help) for each key's
 * meaning, default and range. Durations are in ms, sizes in bytes. */
struct edge_config {
	char *http_listen;
	uint64_t http_max_body;
	uint64_t http_max_points; /* per request */
	uint64_t http_max_line;	  /* bytes in one line-protocol line */
	uint64_t http_max_connections;
	uint64_t http_max_connections_per_ip;
	uint64_t http_max_inflight; /* request body bytes held at once */
	uint64_t http_max_tags;	    /* per point */
	uint64_t http_max_fields;   /* per point */
	uint64_t http_threads;	    /* libmicrohttpd's worker pool */
	uint64_t http_connection_timeout_ms;
	char *http_token;	  /* "": ingest needs no authentication */
	char *http_allow;	  /* source CIDR list (addr_allow_parse()); "": any */
	char *http_allow_origins; /* exact Origin values a request may carry; "": none */
	char *udp_listen;	  /* "": no UDP listener */
	char *udp_allow;	  /* source CIDR list; "": any */
	char *buffer_path;
	unsigned buffer_durability; /* CONFIG_DURABILITY_* */
	uint64_t buffer_max_size;
	uint64_t buffer_min_free_disk;
	unsigned buffer_full_policy;	/* CONFIG_FULL_* */
	unsigned buffer_write;		/* CONFIG_WRITE_*: the buffer always, or only on a spill */
	uint64_t buffer_spill_after_ms; /* spill: the longest wait for InfluxDB's answer */
	unsigned uplink_api;		/* CONFIG_API_* */
	char *uplink_url;
	char *uplink_database;
	char *uplink_retention_policy;
	char *uplink_username;
	char *uplink_password;
	char *uplink_org;
	char *uplink_bucket;
	char *uplink_token;
	bool uplink_create_database;
	bool uplink_gzip;
	char *uplink_ca_file;
	bool uplink_insecure_skip_verify;
	uint64_t uplink_batch_points;
	uint64_t uplink_batch_bytes;
	uint64_t uplink_flush_interval_ms;
	uint64_t uplink_retry_initial_ms;
	uint64_t uplink_retry_max_ms;
	uint64_t uplink_timeout_ms;
	unsigned log_level;	  /* 0 debug ... 3 error; SIGHUP stores it atomically */
	char *collect_sysfs_root; /* collectors read files below this */
	struct collect_config_list collectors; /* [collector.NAME] sections */
	char *edge_name;	  /* [edge] name; the host name once tags_config_finish() ran */
	char *edge_tag;		  /* [edge] tag: the key the name is written under */
	bool edge_tag_all_points; /* the name tag on network points too */
	char *global_tags;	  /* [tags]: "key=value,key=value", NULL or "" for none */
	struct uplink_config_list uplinks; /* [uplink.NAME] sections; none: [uplink] alone */
	struct mqtt_config_list mqtt;	   /* [mqtt.NAME] sections */
};

/* Set every key to its default. Strings are malloc'd: config_cleanup(). */
void config_init(struct edge_config *c);

/* Apply an INI file over the current values. Every problem is printed to
 * `errors` as "FILE:LINE: [section] key: what is wrong". Returns the number
 * of problems (0: all applied); a missing or unreadable file is one. */
int config_load_file(struct edge_config *c, const char *path, FILE *errors);

/* Apply IOT_EDGE_<SECTION>_<KEY> variables from the environment, e.g.
 * IOT_EDGE_HTTP_LISTEN, and IOT_EDGE_COLLECTOR_<NAME>_<KEY> as `key` of
 * [collector.name] (e.g. IOT_EDGE_COLLECTOR_EDGE_ENABLED=false). Problems
 * are printed and counted as above. */
int config_load_env(struct edge_config *c, FILE *errors);

/* Parse a duration ("250ms", "5s", "2m", "1h"; a bare number is seconds)
 * into *ms. Returns 0, or -1 with *why set to a static message. Any thread. */
int config_parse_duration(const char *value, uint64_t *ms, const char **why);

/* Parse a size ("4096", "64kB", "1MiB") into *bytes. Returns 0, or -1 with
 * *why set to a static message. Any thread. */
int config_parse_size(const char *value, uint64_t *bytes, const char **why);

/* Parse true/false, yes/no, on/off, 1/0 into *out. Returns 0, or -1 with
 * *why set to a static message. Any thread. */
int config_parse_bool(const char *value, bool *out, const char **why);

/* Parse a plain whole number into *n. Returns 0, or -1 with *why set to a
 * static message. Any thread. */
int config_parse_uint(const char *value, uint64_t *n, const char **why);

/* The index in `choices` ("full|normal") of the word `value` into *out.
 * Returns 0, or -1 when it is none of them. Any thread. */
int config_parse_enum(const char *value, const char *choices, unsigned *out);

/* Free the strings; the struct may be config_init()ed again. */
void config_cleanup(struct edge_config *c);

/* Every key with its environment name, default, range and help. */
void config_print_help(FILE *out);

/* Every key and its current value, secrets masked. */
void config_print(const struct edge_config *c, FILE *out);

/* --- the table, key by key (config_load.c, reload) -------------------------- */

/* What one key of the table is. The strings are static. */
struct config_key_info {
	const char *section; /* "log" */
	const char *name;    /* "level" */
	bool reloadable;     /* a running daemon takes a new value: config_key_take() */
	bool secret;	     /* compared like any other key, never printed */
};

/* The number of keys; key i < config_key_count() is the i-th of --help and -n. Any thread. */
size_t config_key_count(void);

/* The index of key `name` of [section], or -1 when the table has none. Any thread. */
int config_key_find(const char *section, const char *name);

/* Set key i of c from its text form (as in the file), checked against its
 * type, range and check. Returns 0, or -1 with *why set to a static message
 * or to `scratch` (nothing changed). The caller masks the value of a secret in
 * its message. Main thread, the only user of c. */
int config_key_set(size_t i, struct edge_config *c, const char *value, char *scratch,
		   size_t scratch_size, const char **why);

/* Key i's environment variable, "IOT_EDGE_" + SECTION + "_" + NAME, into out
 * (always terminated when size > 0; "" for i out of range). Any thread. */
void config_key_env_name(size_t i, char *out, size_t size);

/* Key i's description (all NULL/false for i out of range). Any thread. */
struct config_key_info config_key_describe(size_t i);

/* Whether key i holds different values in a and b, compared by type (a
 * secret in full; NULL and "" are the same text). False for i out of range.
 * Any thread that may read both. */
bool config_key_differs(size_t i, const struct edge_config *a, const struct edge_config *b);

/* Copy key i's value from `from` into `to` with an atomic store (other
 * threads may read `to`, e.g. /status the log level). Only a reloadable key:
 * returns 0, or -1 (nothing written) for a key that is not, or i out of
 * range. The caller makes the running code use it (log_set_level). Main
 * thread, the only writer of `to`. */
int config_key_take(size_t i, struct edge_config *to, const struct edge_config *from);

/* Key i's value in c as -n prints it ("***" for a secret that is set) into
 * out: always terminated when cap > 0, a longer value cut. Any thread that
 * may read c. */
void config_key_format(size_t i, const struct edge_config *c, char *out, size_t cap);

#endif
