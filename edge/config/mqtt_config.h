/* mqtt_config.h -- the repeatable [mqtt.NAME] sections: one MQTT broker each. */
#ifndef IOT_EDGE_MQTT_CONFIG_H
#define IOT_EDGE_MQTT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One [mqtt.NAME] section. Strings are malloc'd, "" when unset, owned by the
 * list that holds the entry. */
struct mqtt_config {
	char *name; /* NAME of [mqtt.NAME] */
	bool enabled;
	char *url;	 /* mqtt://host[:port] or mqtts://host[:port] (TLS) */
	char *client_id; /* "" until mqtt_config_finish(): iot-edge-<host>-<NAME> */
	char *username;
	char *password;	     /* secret */
	char *topics;	     /* comma list of topic filters */
	unsigned qos;	     /* 0, 1 or 2: the most the subscription asks for */
	char *format;	     /* auto | line | json | value */
	char *template_;     /* "zigbee2mqtt/+device": +name levels are tags */
	char *measurement;   /* "": the topic's first level */
	char *tags;	     /* fixed tags k=v,k=v */
	char *time_key;	     /* object of values: the key that gives the time */
	char *string_fields; /* object of values: string keys kept as fields */
	char *field;	     /* the field of a bare number */
	uint64_t keepalive_ms;
	uint64_t reconnect_min_ms, reconnect_max_ms;
	uint64_t max_packet;	   /* bytes; a larger message is refused */
	bool retained;		   /* store the retained messages a subscription replays */
	char *ca_file;		   /* mqtts: "" for the system's CAs */
	bool insecure_skip_verify; /* mqtts: no certificate check (tests only) */
	int first_line;		   /* where the section began (0: nowhere) */
	bool pending;		   /* a key set since the last mqtt_config_finish() */
	bool from_env;		   /* a key set by the environment (line 0) */
};

/* The brokers of a configuration: items[0..n) in the order first seen. */
struct mqtt_config_list {
	struct mqtt_config *items;
	size_t n;
};

/* Apply `key = value` of [mqtt.NAME] read on line `line`. Returns 0, or -1
 * with *why set to a static message or to `scratch`. Main thread. */
int mqtt_config_key(struct mqtt_config_list *l, const char *name, const char *key,
		    const char *value, int line, char *scratch, size_t scratch_size,
		    const char **why);

/* Split IOT_EDGE_MQTT_<NAME>_<KEY>'s `rest` (<NAME>_<KEY>, `len` bytes, no
 * "=") into the section name and the key, both lower case: <KEY> is the
 * longest key of [mqtt.NAME] that ends it after a '_' (keys hold '_' too:
 * LAN_CLIENT_ID is [mqtt.lan] client_id), <NAME> what is before, not empty.
 * Returns 0, or -1 when no key ends it or a part does not fit. Pure; any
 * thread. */
int mqtt_config_env_split(const char *rest, size_t len, char *name, size_t name_size, char *key,
			  size_t key_size);

/* After a file (or the environment) is read: check every section a key was
 * set in since the last call (url, topics, template, tags, backoff) and fill
 * the default client_id; problems are printed to `errors` as "FILE:LINE:
 * [mqtt.NAME] key: what is wrong" ("environment: [mqtt.NAME] ..." for a
 * section the environment set a key of). Returns their number. Main thread. */
int mqtt_config_finish(struct mqtt_config_list *l, const char *path, FILE *errors);

/* Make dst a deep copy of src. Returns 0, or -1 when out of memory (dst is
 * then cleared). Any thread. */
int mqtt_config_copy(struct mqtt_config *dst, const struct mqtt_config *src);

/* Free one entry's strings and zero it. NULL-safe fields. Any thread. */
void mqtt_config_clear(struct mqtt_config *c);

/* Free everything; the list is left empty. */
void mqtt_config_free(struct mqtt_config_list *l);

/* Called by mqtt_config_diff() with the NAME of each section that differs. */
typedef void mqtt_config_diff_fn(void *arg, const char *name);

/* Compare a and b section by section (matched by name), every key (the
 * password in full); call fn for each section that differs or that only one
 * list has: a's in order, then those only b has. Returns their number. Any
 * thread that may read both. */
size_t mqtt_config_diff(const struct mqtt_config_list *a, const struct mqtt_config_list *b,
			mqtt_config_diff_fn *fn, void *arg);

/* Print each broker as an INI section (iot-edge -n), the password masked. */
void mqtt_config_print(const struct mqtt_config_list *l, FILE *out);

#endif
