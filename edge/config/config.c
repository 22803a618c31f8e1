/* config.c -- the table of settings: typed rows, defaults, ranges, checks, secrets, -n and --help;
 * the file and the environment are read by config_load.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "tags_config.h"

enum key_type {
	KEY_STRING,
	KEY_UINT,     /* a plain number */
	KEY_SIZE,     /* bytes: 4096, 64kB, 1MiB ... */
	KEY_DURATION, /* stored in ms: 250ms, 5s, 2m, 1h; a bare number is seconds */
	KEY_ENUM,     /* one word of `choices`, stored as its index */
	KEY_BOOL,     /* true/false, yes/no, on/off, 1/0 */
};

/* Row flags. */
#define KEY_SECRET 1u	  /* never printed: masked by -n, compared but not shown by reload */
#define KEY_RELOADABLE 2u /* SIGHUP takes a new value (Redis's MODIFIABLE_CONFIG) */

typedef int key_check_fn(const char *value, const char **why);

/*
 * Each row reaches its field of struct edge_config through two typed
 * functions: ref() for writing, get() for reading. A row of the wrong type for
 * its field does not compile, and no code computes a field's address.
 */
struct key_text {
	char **(*ref)(struct edge_config *c);
	const char *(*get)(const struct edge_config *c);
	key_check_fn *check; /* extra validation, may be NULL */
};
struct key_number { /* KEY_UINT, KEY_SIZE, KEY_DURATION */
	uint64_t *(*ref)(struct edge_config *c);
	uint64_t (*get)(const struct edge_config *c);
	uint64_t min, max; /* in stored units */
};
struct key_enum {
	unsigned *(*ref)(struct edge_config *c);
	unsigned (*get)(const struct edge_config *c);
	const char *choices; /* "full|normal" */
};
struct key_bool {
	bool *(*ref)(struct edge_config *c);
	bool (*get)(const struct edge_config *c);
};

struct config_key {
	const char *section;
	const char *name;
	const char *fallback; /* the default, in the same text form as the file */
	unsigned flags;	      /* KEY_SECRET, KEY_RELOADABLE */
	enum key_type type;   /* which member of `as` */
	union {
		struct key_text text;
		struct key_number number;
		struct key_enum choice;
		struct key_bool boolean;
	} as;
	const char *help;
};

/* The typed accessors ref_FIELD() and get_FIELD() of each field. */
/* clang-format off */
#define ACCESS(ref_type, get_type, f)                                                              \
	static ref_type *ref_##f(struct edge_config *c) { return &c->f; }                          \
	static get_type get_##f(const struct edge_config *c) { return c->f; }
/* clang-format on */
#define ACCESS_TEXT(f) ACCESS(char *, const char *, f)
#define ACCESS_NUMBER(f) ACCESS(uint64_t, uint64_t, f)
#define ACCESS_ENUM(f) ACCESS(unsigned, unsigned, f)
#define ACCESS_BOOL(f) ACCESS(bool, bool, f)

ACCESS_TEXT(http_listen)
ACCESS_NUMBER(http_max_body)
ACCESS_NUMBER(http_max_points)
ACCESS_NUMBER(http_max_line)
ACCESS_NUMBER(http_max_connections)
ACCESS_NUMBER(http_max_connections_per_ip)
ACCESS_NUMBER(http_max_inflight)
ACCESS_NUMBER(http_max_tags)
ACCESS_NUMBER(http_max_fields)
ACCESS_NUMBER(http_threads)
ACCESS_NUMBER(http_connection_timeout_ms)
ACCESS_TEXT(http_token)
ACCESS_TEXT(http_allow)
ACCESS_TEXT(http_allow_origins)
ACCESS_TEXT(udp_listen)
ACCESS_TEXT(udp_allow)
ACCESS_TEXT(buffer_path)
ACCESS_ENUM(buffer_durability)
ACCESS_NUMBER(buffer_max_size)
ACCESS_NUMBER(buffer_min_free_disk)
ACCESS_ENUM(buffer_full_policy)
ACCESS_ENUM(buffer_write)
ACCESS_NUMBER(buffer_spill_after_ms)
ACCESS_ENUM(uplink_api)
ACCESS_TEXT(uplink_url)
ACCESS_TEXT(uplink_database)
ACCESS_TEXT(uplink_retention_policy)
ACCESS_TEXT(uplink_username)
ACCESS_TEXT(uplink_password)
ACCESS_TEXT(uplink_org)
ACCESS_TEXT(uplink_bucket)
ACCESS_TEXT(uplink_token)
ACCESS_BOOL(uplink_create_database)
ACCESS_BOOL(uplink_gzip)
ACCESS_TEXT(uplink_ca_file)
ACCESS_BOOL(uplink_insecure_skip_verify)
ACCESS_NUMBER(uplink_batch_points)
ACCESS_NUMBER(uplink_batch_bytes)
ACCESS_NUMBER(uplink_flush_interval_ms)
ACCESS_NUMBER(uplink_retry_initial_ms)
ACCESS_NUMBER(uplink_retry_max_ms)
ACCESS_NUMBER(uplink_timeout_ms)
ACCESS_TEXT(collect_sysfs_root)
ACCESS_ENUM(log_level)
ACCESS_TEXT(edge_name)
ACCESS_TEXT(edge_tag)
ACCESS_BOOL(edge_tag_all_points)

/* The typed part of a row: its kind, its field, and its checks. */
#define TEXT(f, check) .type = KEY_STRING, .as.text = {ref_##f, get_##f, check}
#define NUMBER(kind, f, min, max) .type = kind, .as.number = {ref_##f, get_##f, min, max}
#define CHOICE(f, choices) .type = KEY_ENUM, .as.choice = {ref_##f, get_##f, choices}
#define BOOLEAN(f) .type = KEY_BOOL, .as.boolean = {ref_##f, get_##f}

static int check_listen(const char *value, const char **why);
static int check_optional_listen(const char *value, const char **why);
static int check_url(const char *value, const char **why);
static int check_allow(const char *value, const char **why);
static int check_origins(const char *value, const char **why);

#define HOUR_MS (3600ull * 1000)

/* Reloadable: only log.level. Every other value is copied into the threads'
 * options at start-up (or read by /status as the running value), so taking a
 * new one while running would change nothing but what /status shows. */
static const struct config_key keys[] = {
    {"http", "listen", "0.0.0.0:1337", 0, TEXT(http_listen, check_listen),
     .help = "address and port for HTTP ingest: HOST:PORT, [IPV6]:PORT or :PORT"},
    {"http", "max_body", "1MiB", 0, NUMBER(KEY_SIZE, http_max_body, 1024, 256ull << 20),
     .help = "largest request body accepted (after gzip decoding); larger ones get 413"},
    {"http", "max_points", "100000", 0, NUMBER(KEY_UINT, http_max_points, 1, 10000000),
     .help = "most points in one request; more get 413"},
    {"http", "max_line", "64KiB", 0, NUMBER(KEY_SIZE, http_max_line, 256, 16ull << 20),
     .help = "longest line-protocol line accepted"},
    {"http", "max_connections", "1000", 0, NUMBER(KEY_UINT, http_max_connections, 1, 100000),
     .help = "most client connections at once"},
    {"http", "max_connections_per_ip", "64", 0,
     NUMBER(KEY_UINT, http_max_connections_per_ip, 1, 100000),
     .help = "most client connections at once from one address, so one host cannot take them all"},
    {"http", "max_inflight", "32MiB", 0,
     NUMBER(KEY_SIZE, http_max_inflight, 1ull << 20, 4ull << 30),
     .help = "most request body bytes held at once, all clients together (at least max_body); "
	     "beyond it 503 and Retry-After"},
    {"http", "max_tags", "64", 0, NUMBER(KEY_UINT, http_max_tags, 1, 100000),
     .help = "most tags in one point (HTTP, UDP); InfluxDB 1.x chokes on many (200 make 1.6 "
	     "answer 500)"},
    {"http", "max_fields", "1024", 0, NUMBER(KEY_UINT, http_max_fields, 1, 1000000),
     .help = "most fields in one point (HTTP, UDP); more get 400"},
    {"http", "threads", "2", 0, NUMBER(KEY_UINT, http_threads, 1, 64),
     .help = "libmicrohttpd worker threads; a large body being parsed holds only its own"},
    {"http", "connection_timeout", "30s", 0,
     NUMBER(KEY_DURATION, http_connection_timeout_ms, 1000, HOUR_MS),
     .help = "an idle or too slow client connection is closed"},
    {"http", "token", "", KEY_SECRET, TEXT(http_token, NULL),
     .help = "if set, writers must present it (Token, Bearer, Basic or u/p); never logged"},
    {"http", "allow", "", 0, TEXT(http_allow, check_allow),
     .help = "source addresses allowed to connect, a comma list of CIDRs like 127.0.0.0/8, "
	     "::1/128, 192.168.1.0/24 (empty: any); others are closed at once, counted"},
    {"http", "allow_origins", "", 0, TEXT(http_allow_origins, check_origins),
     .help = "origins whose web pages may send requests, a comma list like "
	     "http://grafana.lan:3000 (empty: none); a request with another Origin gets 403 "
	     "unless it is a GET or HEAD from the page's own host"},
    {"udp", "listen", "", 0, TEXT(udp_listen, check_optional_listen),
     .help = "address and port for line protocol over UDP (empty: off)"},
    {"udp", "allow", "", 0, TEXT(udp_allow, check_allow),
     .help = "source addresses whose datagrams are taken, a comma list of CIDRs like "
	     "192.168.1.0/24, ::1/128 (empty: any; required with http.token on a non-loopback "
	     "udp.listen); others are dropped, counted"},
    {"buffer", "path", "/var/lib/iot-edge/buffer.db", 0, TEXT(buffer_path, NULL),
     .help = "the SQLite buffer file (its -wal and -shm files sit beside it)"},
    {"buffer", "durability", "full", 0, CHOICE(buffer_durability, "full|normal"),
     .help = "full: an acknowledged reading survives power loss (fsync per commit); "
	     "normal: it survives a crash of iot-edge, not of the machine"},
    {"buffer", "max_size", "512MiB", 0, NUMBER(KEY_SIZE, buffer_max_size, 1ull << 20, UINT64_MAX),
     .help = "the most disk space the buffer may use"},
    {"buffer", "min_free_disk", "100MB", 0, NUMBER(KEY_SIZE, buffer_min_free_disk, 0, UINT64_MAX),
     .help = "free space always left on the buffer's filesystem"},
    {"buffer", "full_policy", "drop_oldest", 0,
     CHOICE(buffer_full_policy, "drop_oldest|reject_new"),
     .help = "when a bound is reached: drop the oldest readings, or refuse new ones with 507"},
    {"buffer", "write", "always", 0, CHOICE(buffer_write, "always|spill"),
     .help = "always: every reading is committed to the buffer; spill: only when InfluxDB "
	     "has not taken it within spill_after (or a backlog is waiting)"},
    {"buffer", "spill_after", "1s", 0,
     NUMBER(KEY_DURATION, buffer_spill_after_ms, 10, 10 * 60 * 1000),
     .help = "write = spill: how long a reading waits for InfluxDB before it is committed "
	     "to the buffer"},
    {"uplink", "api", "v1", 0, CHOICE(uplink_api, "v1|v2"),
     .help = "InfluxDB write API: v1 (/write, database) or v2 (/api/v2/write, org and bucket)"},
    {"uplink", "url", "http://127.0.0.1:8086", 0, TEXT(uplink_url, check_url),
     .help = "base URL of the InfluxDB server readings are forwarded to"},
    {"uplink", "database", "iot", 0, TEXT(uplink_database, NULL),
     .help = "v1: database; created once if InfluxDB says it does not exist"},
    {"uplink", "retention_policy", "", 0, TEXT(uplink_retention_policy, NULL),
     .help = "v1: retention policy (empty: the database's default)"},
    {"uplink", "username", "", 0, TEXT(uplink_username, NULL),
     .help = "v1: InfluxDB user (empty: no authentication)"},
    {"uplink", "password", "", KEY_SECRET, TEXT(uplink_password, NULL),
     .help = "v1: InfluxDB password (never logged)"},
    {"uplink", "org", "", 0, TEXT(uplink_org, NULL), .help = "v2: organization"},
    {"uplink", "bucket", "", 0, TEXT(uplink_bucket, NULL), .help = "v2: bucket"},
    {"uplink", "token", "", KEY_SECRET, TEXT(uplink_token, NULL),
     .help = "v2: API token, sent as Authorization: Token (never logged)"},
    {"uplink", "create_database", "true", 0, BOOLEAN(uplink_create_database),
     .help = "v1: send CREATE DATABASE once when InfluxDB says it is missing"},
    {"uplink", "gzip", "true", 0, BOOLEAN(uplink_gzip),
     .help = "compress request bodies (Content-Encoding: gzip)"},
    {"uplink", "ca_file", "", 0, TEXT(uplink_ca_file, NULL),
     .help = "PEM file of CA certificates for https (empty: the system's)"},
    {"uplink", "insecure_skip_verify", "false", 0, BOOLEAN(uplink_insecure_skip_verify),
     .help = "do not verify the server's TLS certificate (logged loudly)"},
    {"uplink", "batch_points", "5000", 0, NUMBER(KEY_UINT, uplink_batch_points, 1, 100000),
     .help = "most points per request to InfluxDB"},
    {"uplink", "batch_bytes", "4MiB", 0, NUMBER(KEY_SIZE, uplink_batch_bytes, 1024, 64ull << 20),
     .help = "most line-protocol bytes per request to InfluxDB"},
    {"uplink", "flush_interval", "1s", 0,
     NUMBER(KEY_DURATION, uplink_flush_interval_ms, 10, HOUR_MS),
     .help = "how long to wait for more readings when a batch is not full"},
    {"uplink", "retry_initial", "500ms", 0,
     NUMBER(KEY_DURATION, uplink_retry_initial_ms, 10, HOUR_MS),
     .help = "first retry delay ceiling; doubles per failure (full jitter)"},
    {"uplink", "retry_max", "60s", 0, NUMBER(KEY_DURATION, uplink_retry_max_ms, 100, 24 * HOUR_MS),
     .help = "the most a retry waits"},
    {"uplink", "timeout", "30s", 0, NUMBER(KEY_DURATION, uplink_timeout_ms, 100, HOUR_MS),
     .help = "a request to InfluxDB that takes longer is abandoned and retried"},
    {"collect", "sysfs_root", "/", 0, TEXT(collect_sysfs_root, NULL),
     .help = "collectors read their files below this directory (a test tree instead of /)"},
    {"log", "level", "info", KEY_RELOADABLE, CHOICE(log_level, "debug|info|warn|error"),
     .help = "the least important messages logged"},
    {"edge", "name", "", 0, TEXT(edge_name, NULL),
     .help = "this edge's name, a tag of its own points (empty: the host name)"},
    {"edge", "tag", "host", 0, TEXT(edge_tag, NULL),
     .help = "the tag key the name is written under (iot_edge and the collectors' points)"},
    {"edge", "tag_all_points", "false", 0, BOOLEAN(edge_tag_all_points),
     .help = "the name tag on the points received over HTTP and UDP too (false: those get "
	     "[tags] only, the seed format stays as it was)"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static int check_listen(const char *value, const char **why)
{
	struct sockaddr_storage addr;
	socklen_t len;
	return addr_parse_listen(value, &addr, &len, why);
}

static int check_optional_listen(const char *value, const char **why)
{
	return *value ? check_listen(value, why) : 0;
}

static int check_url(const char *value, const char **why)
{
	if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
		*why = "must start with http:// or https://";
		return -1;
	}
	return 0;
}

static int check_allow(const char *value, const char **why)
{
	static char text[192]; /* the config is read on the main thread only */
	struct addr_allow allow;

	if (addr_allow_parse(value, &allow, text, sizeof(text)) != 0) {
		*why = text;
		return -1;
	}
	return 0;
}

/* "http://host[:port], https://..." exactly as a browser sends Origin. */
static int check_origins(const char *value, const char **why)
{
	for (const char *p = value + strspn(value, " \t"); *p;) {
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
			trimmed--;
		size_t scheme = strncmp(p, "http://", 7) == 0	 ? 7
				: strncmp(p, "https://", 8) == 0 ? 8
								 : 0;
		if (scheme == 0 || trimmed == scheme || memchr(p + scheme, '/', trimmed - scheme) ||
		    memchr(p, ' ', trimmed) || memchr(p, '\t', trimmed)) {
			*why = "each origin is scheme://host[:port] (http or https, no path), "
			       "comma-separated, e.g. http://grafana.lan:3000";
			return -1;
		}
		p += len;
		p += strspn(p, ", \t");
	}
	return 0;
}

/* Set one key from text. Returns 0, or -1 with *why set (static or `scratch`). */
static int key_set(struct edge_config *c, const struct config_key *k, const char *value,
		   char *scratch, size_t scratch_size, const char **why)
{
	const struct key_number *num = &k->as.number;
	uint64_t n = 0;

	switch (k->type) {
	case KEY_STRING: {
		if (k->as.text.check && k->as.text.check(value, why) != 0)
			return -1;
		char *copy = strdup(value);
		if (!copy) {
			*why = "out of memory";
			return -1;
		}
		char **slot = k->as.text.ref(c);
		free(*slot);
		*slot = copy;
		return 0;
	}
	case KEY_ENUM:
		if (config_parse_enum(value, k->as.choice.choices, k->as.choice.ref(c)) != 0) {
			snprintf(scratch, scratch_size, "must be one of %s", k->as.choice.choices);
			*why = scratch;
			return -1;
		}
		return 0;
	case KEY_BOOL:
		return config_parse_bool(value, k->as.boolean.ref(c), why);
	case KEY_UINT:
		if (config_parse_uint(value, &n, why) != 0)
			return -1;
		break;
	case KEY_SIZE:
		if (config_parse_size(value, &n, why) != 0)
			return -1;
		break;
	case KEY_DURATION:
		if (config_parse_duration(value, &n, why) != 0)
			return -1;
		break;
	}
	if (n < num->min || n > num->max) {
		const char *unit = k->type == KEY_DURATION ? "ms"
				   : k->type == KEY_SIZE   ? " bytes"
							   : "";
		snprintf(scratch, scratch_size,
			 "%" PRIu64 "%s is out of range %" PRIu64 "..%" PRIu64 "%s", n, unit,
			 num->min, num->max, unit);
		*why = scratch;
		return -1;
	}
	*num->ref(c) = n;
	return 0;
}

int config_key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

int config_key_set(size_t i, struct edge_config *c, const char *value, char *scratch,
		   size_t scratch_size, const char **why)
{
	if (i >= N_KEYS) {
		*why = "unknown key";
		return -1;
	}
	return key_set(c, &keys[i], value, scratch, scratch_size, why);
}

/* "IOT_EDGE_" + upper(section) + "_" + upper(name). */
static void env_name(const struct config_key *k, char *out, size_t size)
{
	int n = snprintf(out, size, "IOT_EDGE_%s_%s", k->section, k->name);
	for (int i = 0; i < n && (size_t)i < size; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

void config_key_env_name(size_t i, char *out, size_t size)
{
	if (size == 0)
		return;
	if (i >= N_KEYS) {
		out[0] = '\0';
		return;
	}
	env_name(&keys[i], out, size);
}

void config_init(struct edge_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_KEYS; i++) {
		char scratch[128];
		const char *why = NULL;
		if (key_set(c, &keys[i], keys[i].fallback, scratch, sizeof(scratch), &why) != 0) {
			/* Only a bug in the table or no memory at start-up gets here. */
			fprintf(stderr, "iot-edge: default of [%s] %s: %s\n", keys[i].section,
				keys[i].name, why);
			abort();
		}
	}
	if (collect_config_init(&c->collectors) != 0) {
		fprintf(stderr, "iot-edge: out of memory for the collectors\n");
		abort();
	}
}

void config_cleanup(struct edge_config *c)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].type == KEY_STRING) {
			char **slot = keys[i].as.text.ref(c);
			free(*slot);
			*slot = NULL;
		}
	}
	collect_config_free(&c->collectors);
	free(c->global_tags);
	c->global_tags = NULL;
	uplink_config_free(&c->uplinks);
	mqtt_config_free(&c->mqtt);
}

/* Word `index` of "a|b|c": `*len` bytes at the result. */
static const char *choice_word(const char *choices, unsigned index, int *len)
{
	const char *p = choices;
	for (unsigned i = index; i > 0 && *p; i--) {
		p += strcspn(p, "|");
		if (*p == '|')
			p++;
	}
	*len = (int)strcspn(p, "|");
	return p;
}

static void value_print(const struct edge_config *c, size_t i, FILE *out)
{
	char text[32];

	if (keys[i].type == KEY_STRING) { /* any length */
		const char *s = keys[i].as.text.get(c);
		fputs((keys[i].flags & KEY_SECRET) && *s ? "***" : s, out);
		return;
	}
	config_key_format(i, c, text, sizeof(text));
	fputs(text, out);
}

void config_print(const struct edge_config *c, FILE *out)
{
	const char *section = "";
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(section, keys[i].section) != 0) {
			section = keys[i].section;
			fprintf(out, "%s[%s]\n", i ? "\n" : "", section);
		}
		fprintf(out, "%s = ", keys[i].name);
		value_print(c, i, out);
		fputc('\n', out);
	}
	tags_config_print(c, out);
	collect_config_print(&c->collectors, out);
	uplink_config_print(&c->uplinks, out);
	mqtt_config_print(&c->mqtt, out);
}

void config_print_help(FILE *out)
{
	static const char *const type_names[] = {"text",     "number", "size",
						 "duration", "",       "true or false"};
	char name[96];
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &keys[i];
		env_name(k, name, sizeof(name));
		fprintf(out, "  [%s] %s  (%s)\n      %s\n      default: %s", k->section, k->name,
			name, k->help, *k->fallback ? k->fallback : "(empty)");
		if (k->type == KEY_ENUM)
			fprintf(out, "; one of: %s", k->as.choice.choices);
		else if (k->type != KEY_STRING)
			fprintf(out, "; %s", type_names[k->type]);
		fputc('\n', out);
	}
}

size_t config_key_count(void)
{
	return N_KEYS;
}

struct config_key_info config_key_describe(size_t i)
{
	struct config_key_info info = {0};

	if (i < N_KEYS) {
		info.section = keys[i].section;
		info.name = keys[i].name;
		info.reloadable = (keys[i].flags & KEY_RELOADABLE) != 0;
		info.secret = (keys[i].flags & KEY_SECRET) != 0;
	}
	return info;
}

bool config_key_differs(size_t i, const struct edge_config *a, const struct edge_config *b)
{
	if (i >= N_KEYS)
		return false;
	const struct config_key *k = &keys[i];
	switch (k->type) {
	case KEY_STRING: {
		const char *sa = k->as.text.get(a), *sb = k->as.text.get(b);
		return strcmp(sa ? sa : "", sb ? sb : "") != 0;
	}
	case KEY_ENUM:
		return k->as.choice.get(a) != k->as.choice.get(b);
	case KEY_BOOL:
		return k->as.boolean.get(a) != k->as.boolean.get(b);
	case KEY_UINT:
	case KEY_SIZE:
	case KEY_DURATION:
		return k->as.number.get(a) != k->as.number.get(b);
	}
	return false;
}

int config_key_take(size_t i, struct edge_config *to, const struct edge_config *from)
{
	if (i >= N_KEYS || !(keys[i].flags & KEY_RELOADABLE))
		return -1;
	const struct config_key *k = &keys[i];
	/* Other threads may read the running value (/status the log level). */
	switch (k->type) {
	case KEY_ENUM:
		__atomic_store_n(k->as.choice.ref(to), k->as.choice.get(from), __ATOMIC_RELAXED);
		return 0;
	case KEY_BOOL:
		__atomic_store_n(k->as.boolean.ref(to), k->as.boolean.get(from), __ATOMIC_RELAXED);
		return 0;
	case KEY_UINT:
	case KEY_SIZE:
	case KEY_DURATION:
		__atomic_store_n(k->as.number.ref(to), k->as.number.get(from), __ATOMIC_RELAXED);
		return 0;
	case KEY_STRING: /* a reader could hold the old one: not reloadable */
		break;
	}
	return -1;
}

void config_key_format(size_t i, const struct edge_config *c, char *out, size_t cap)
{
	const char *text;
	int len;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (i >= N_KEYS)
		return;
	const struct config_key *k = &keys[i];
	switch (k->type) {
	case KEY_STRING:
		text = k->as.text.get(c);
		snprintf(out, cap, "%s", (k->flags & KEY_SECRET) && *text ? "***" : text);
		break;
	case KEY_ENUM:
		text = choice_word(k->as.choice.choices, k->as.choice.get(c), &len);
		snprintf(out, cap, "%.*s", len, text);
		break;
	case KEY_BOOL:
		snprintf(out, cap, "%s", k->as.boolean.get(c) ? "true" : "false");
		break;
	case KEY_UINT:
	case KEY_SIZE:
		snprintf(out, cap, "%" PRIu64, k->as.number.get(c));
		break;
	case KEY_DURATION:
		snprintf(out, cap, "%" PRIu64 "ms", k->as.number.get(c));
		break;
	}
}
