/* config.c -- the table of settings, and reading them from an INI file (libinih) and the
 * environment. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

enum key_type {
	KEY_STRING,
	KEY_UINT,     /* a plain number */
	KEY_SIZE,     /* bytes: 4096, 64kB, 1MiB ... */
	KEY_DURATION, /* stored in ms: 250ms, 5s, 2m, 1h; a bare number is seconds */
	KEY_ENUM,     /* one word of `choices`, stored as its index */
	KEY_BOOL,     /* true/false, yes/no, on/off, 1/0 */
};

typedef int key_check_fn(const char *value, const char **why);

struct config_key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;	      /* of the field in struct edge_config */
	const char *fallback; /* the default, in the same text form as the file */
	uint64_t min, max;    /* numeric keys, in stored units */
	const char *choices;  /* KEY_ENUM: "full|normal" */
	key_check_fn *check;  /* KEY_STRING: extra validation, may be NULL */
	bool secret;	      /* never printed */
	const char *help;
};

static int check_listen(const char *value, const char **why);
static int check_optional_listen(const char *value, const char **why);
static int check_url(const char *value, const char **why);

#define FIELD(f) offsetof(struct edge_config, f)
#define HOUR_MS (3600ull * 1000)

static const struct config_key keys[] = {
    {"http", "listen", KEY_STRING, FIELD(http_listen), "0.0.0.0:1337", 0, 0, NULL, check_listen,
     false, "address and port for HTTP ingest: HOST:PORT, [IPV6]:PORT or :PORT"},
    {"http", "max_body", KEY_SIZE, FIELD(http_max_body), "1MiB", 1024, 256ull << 20, NULL, NULL,
     false, "largest request body accepted (after gzip decoding); larger ones get 413"},
    {"http", "max_points", KEY_UINT, FIELD(http_max_points), "100000", 1, 10000000, NULL, NULL,
     false, "most points in one request; more get 413"},
    {"http", "max_line", KEY_SIZE, FIELD(http_max_line), "64KiB", 256, 16ull << 20, NULL, NULL,
     false, "longest line-protocol line accepted"},
    {"http", "max_connections", KEY_UINT, FIELD(http_max_connections), "1000", 1, 100000, NULL,
     NULL, false, "most client connections at once"},
    {"http", "connection_timeout", KEY_DURATION, FIELD(http_connection_timeout_ms), "30s", 1000,
     HOUR_MS, NULL, NULL, false, "an idle or too slow client connection is closed"},
    {"http", "token", KEY_STRING, FIELD(http_token), "", 0, 0, NULL, NULL, true,
     "if set, writers must present it (Token, Bearer, Basic or u/p); never logged"},
    {"udp", "listen", KEY_STRING, FIELD(udp_listen), "", 0, 0, NULL, check_optional_listen, false,
     "address and port for line protocol over UDP (empty: off)"},
    {"buffer", "path", KEY_STRING, FIELD(buffer_path), "/var/lib/iot-edge/buffer.db", 0, 0, NULL,
     NULL, false, "the SQLite buffer file (its -wal and -shm files sit beside it)"},
    {"buffer", "durability", KEY_ENUM, FIELD(buffer_durability), "full", 0, 0, "full|normal", NULL,
     false,
     "full: an acknowledged reading survives power loss (fsync per commit); "
     "normal: it survives a crash of iot-edge, not of the machine"},
    {"buffer", "max_size", KEY_SIZE, FIELD(buffer_max_size), "512MiB", 1ull << 20, UINT64_MAX, NULL,
     NULL, false, "the most disk space the buffer may use"},
    {"buffer", "min_free_disk", KEY_SIZE, FIELD(buffer_min_free_disk), "100MB", 0, UINT64_MAX, NULL,
     NULL, false, "free space always left on the buffer's filesystem"},
    {"buffer", "full_policy", KEY_ENUM, FIELD(buffer_full_policy), "drop_oldest", 0, 0,
     "drop_oldest|reject_new", NULL, false,
     "when a bound is reached: drop the oldest readings, or refuse new ones with 507"},
    {"uplink", "api", KEY_ENUM, FIELD(uplink_api), "v1", 0, 0, "v1|v2", NULL, false,
     "InfluxDB write API: v1 (/write, database) or v2 (/api/v2/write, org and bucket)"},
    {"uplink", "url", KEY_STRING, FIELD(uplink_url), "http://127.0.0.1:8086", 0, 0, NULL, check_url,
     false, "base URL of the InfluxDB server readings are forwarded to"},
    {"uplink", "database", KEY_STRING, FIELD(uplink_database), "iot", 0, 0, NULL, NULL, false,
     "v1: database; created once if InfluxDB says it does not exist"},
    {"uplink", "retention_policy", KEY_STRING, FIELD(uplink_retention_policy), "", 0, 0, NULL, NULL,
     false, "v1: retention policy (empty: the database's default)"},
    {"uplink", "username", KEY_STRING, FIELD(uplink_username), "", 0, 0, NULL, NULL, false,
     "v1: InfluxDB user (empty: no authentication)"},
    {"uplink", "password", KEY_STRING, FIELD(uplink_password), "", 0, 0, NULL, NULL, true,
     "v1: InfluxDB password (never logged)"},
    {"uplink", "org", KEY_STRING, FIELD(uplink_org), "", 0, 0, NULL, NULL, false,
     "v2: organization"},
    {"uplink", "bucket", KEY_STRING, FIELD(uplink_bucket), "", 0, 0, NULL, NULL, false,
     "v2: bucket"},
    {"uplink", "token", KEY_STRING, FIELD(uplink_token), "", 0, 0, NULL, NULL, true,
     "v2: API token, sent as Authorization: Token (never logged)"},
    {"uplink", "create_database", KEY_BOOL, FIELD(uplink_create_database), "true", 0, 0, NULL, NULL,
     false, "v1: send CREATE DATABASE once when InfluxDB says it is missing"},
    {"uplink", "gzip", KEY_BOOL, FIELD(uplink_gzip), "true", 0, 0, NULL, NULL, false,
     "compress request bodies (Content-Encoding: gzip)"},
    {"uplink", "ca_file", KEY_STRING, FIELD(uplink_ca_file), "", 0, 0, NULL, NULL, false,
     "PEM file of CA certificates for https (empty: the system's)"},
    {"uplink", "insecure_skip_verify", KEY_BOOL, FIELD(uplink_insecure_skip_verify), "false", 0, 0,
     NULL, NULL, false, "do not verify the server's TLS certificate (logged loudly)"},
    {"uplink", "batch_points", KEY_UINT, FIELD(uplink_batch_points), "5000", 1, 100000, NULL, NULL,
     false, "most points per request to InfluxDB"},
    {"uplink", "batch_bytes", KEY_SIZE, FIELD(uplink_batch_bytes), "4MiB", 1024, 64ull << 20, NULL,
     NULL, false, "most line-protocol bytes per request to InfluxDB"},
    {"uplink", "flush_interval", KEY_DURATION, FIELD(uplink_flush_interval_ms), "1s", 10, HOUR_MS,
     NULL, NULL, false, "how long to wait for more readings when a batch is not full"},
    {"uplink", "retry_initial", KEY_DURATION, FIELD(uplink_retry_initial_ms), "500ms", 10, HOUR_MS,
     NULL, NULL, false, "first retry delay ceiling; doubles per failure (full jitter)"},
    {"uplink", "retry_max", KEY_DURATION, FIELD(uplink_retry_max_ms), "60s", 100, 24 * HOUR_MS,
     NULL, NULL, false, "the most a retry waits"},
    {"uplink", "timeout", KEY_DURATION, FIELD(uplink_timeout_ms), "30s", 100, HOUR_MS, NULL, NULL,
     false, "a request to InfluxDB that takes longer is abandoned and retried"},
    {"collect", "sysfs_root", KEY_STRING, FIELD(collect_sysfs_root), "/", 0, 0, NULL, NULL, false,
     "collectors read their files below this directory (a test tree instead of /)"},
    {"log", "level", KEY_ENUM, FIELD(log_level), "info", 0, 0, "debug|info|warn|error", NULL, false,
     "the least important messages logged"},
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

/* Parse "<digits><suffix>" where suffix is one of `units` (name -> multiplier). */
struct unit {
	const char *name;
	uint64_t factor;
};

static int parse_scaled(const char *value, const struct unit *units, const char *unit_hint,
			uint64_t *out, const char **why)
{
	if (!isdigit((unsigned char)value[0])) {
		*why = "must be a number";
		return -1;
	}
	errno = 0;
	char *end;
	unsigned long long n = strtoull(value, &end, 10);
	if (errno == ERANGE) {
		*why = "number too large";
		return -1;
	}
	while (*end == ' ')
		end++;
	for (const struct unit *u = units; u->name; u++) {
		if (strcmp(end, u->name) != 0)
			continue;
		if (n > UINT64_MAX / u->factor) {
			*why = "number too large";
			return -1;
		}
		*out = (uint64_t)n * u->factor;
		return 0;
	}
	*why = unit_hint;
	return -1;
}

static const struct unit size_units[] = {
    {"", 1},
    {"B", 1},
    {"kB", 1000},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {NULL, 0},
};

static const struct unit plain_units[] = {{"", 1}, {NULL, 0}};

static const struct unit duration_units[] = {
    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", HOUR_MS}, {NULL, 0},
};

int config_parse_duration(const char *value, uint64_t *ms, const char **why)
{
	return parse_scaled(value, duration_units, "unknown unit (use ms, s, m or h)", ms, why);
}

static int parse_enum(const char *value, const char *choices, unsigned *out);

int config_parse_bool(const char *value, bool *out, const char **why)
{
	unsigned index;
	if (parse_enum(value, "false|true|no|yes|off|on|0|1", &index) != 0) {
		*why = "must be true or false";
		return -1;
	}
	*out = index % 2 == 1;
	return 0;
}

static int parse_enum(const char *value, const char *choices, unsigned *out)
{
	size_t len = strlen(value);
	unsigned index = 0;
	for (const char *p = choices; *p; index++) {
		size_t word = strcspn(p, "|");
		if (word == len && strncmp(p, value, len) == 0) {
			*out = index;
			return 0;
		}
		p += word;
		if (*p == '|')
			p++;
	}
	return -1;
}

/* Set one key from text. Returns 0, or -1 with *why set (static or `scratch`). */
static int key_set(struct edge_config *c, const struct config_key *k, const char *value,
		   char *scratch, size_t scratch_size, const char **why)
{
	void *field = (char *)c + k->offset;
	uint64_t n = 0;

	switch (k->type) {
	case KEY_STRING: {
		if (k->check && k->check(value, why) != 0)
			return -1;
		char *copy = strdup(value);
		if (!copy) {
			*why = "out of memory";
			return -1;
		}
		char **slot = field;
		free(*slot);
		*slot = copy;
		return 0;
	}
	case KEY_ENUM:
		if (parse_enum(value, k->choices, field) != 0) {
			snprintf(scratch, scratch_size, "must be one of %s", k->choices);
			*why = scratch;
			return -1;
		}
		return 0;
	case KEY_BOOL:
		return config_parse_bool(value, field, why);
	case KEY_UINT:
		if (parse_scaled(value, plain_units, "must be a whole number", &n, why) != 0)
			return -1;
		break;
	case KEY_SIZE:
		if (parse_scaled(value, size_units,
				 "unknown unit (use B, kB, MB, GB, KiB, MiB or GiB)", &n, why) != 0)
			return -1;
		break;
	case KEY_DURATION:
		if (config_parse_duration(value, &n, why) != 0)
			return -1;
		break;
	}
	if (n < k->min || n > k->max) {
		const char *unit = k->type == KEY_DURATION ? "ms"
				   : k->type == KEY_SIZE   ? " bytes"
							   : "";
		snprintf(scratch, scratch_size,
			 "%" PRIu64 "%s is out of range %" PRIu64 "..%" PRIu64 "%s", n, unit,
			 k->min, k->max, unit);
		*why = scratch;
		return -1;
	}
	*(uint64_t *)field = n;
	return 0;
}

static const struct config_key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
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
			char **slot = (char **)((char *)c + keys[i].offset);
			free(*slot);
			*slot = NULL;
		}
	}
	collect_config_free(&c->collectors);
}

/* What the INI callbacks need: where to apply, where to complain, which line we are on. */
struct file_ctx {
	struct edge_config *config;
	const char *path;
	FILE *file;
	FILE *errors;
	int line;
	int problems;
};

/* ini_reader that counts lines, so errors can name them. */
static char *file_read_line(char *str, int num, void *stream)
{
	struct file_ctx *ctx = stream;
	char *line = fgets(str, num, ctx->file);
	if (line)
		ctx->line++;
	return line;
}

static int file_handle_key(void *user, const char *section, const char *name, const char *value)
{
	struct file_ctx *ctx = user;
	const struct config_key *k = key_find(section, name);
	char scratch[128];
	const char *why = NULL;

	if (strncmp(section, "collector.", 10) == 0) {
		if (collect_config_key(&ctx->config->collectors, section + 10, name, value,
				       ctx->line, scratch, sizeof(scratch), &why) != 0) {
			fprintf(ctx->errors, "%s:%d: [%s] %s: \"%s\": %s\n", ctx->path, ctx->line,
				section, name, value, why);
			ctx->problems++;
		}
		return 1;
	}

	if (!k) {
		fprintf(ctx->errors, "%s:%d: [%s] %s: unknown key\n", ctx->path, ctx->line, section,
			name);
		ctx->problems++;
		return 1; /* reported here; keep going to find every problem */
	}
	if (key_set(ctx->config, k, value, scratch, sizeof(scratch), &why) != 0) {
		fprintf(ctx->errors, "%s:%d: [%s] %s: \"%s\": %s\n", ctx->path, ctx->line, section,
			name, k->secret ? "***" : value, why);
		ctx->problems++;
	}
	return 1;
}

int config_load_file(struct edge_config *c, const char *path, FILE *errors)
{
	struct file_ctx ctx = {.config = c, .path = path, .errors = errors};
	ctx.file = fopen(path, "r");
	if (!ctx.file) {
		fprintf(errors, "%s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	/* Long lines (tokens, URLs) are fine: grow the line buffer as needed. */
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = 64 * 1024;

	int rc = ini_parse_stream(file_read_line, &ctx, file_handle_key, &ctx);
	if (rc > 0) {
		/* A line inih could not parse (no '=', no closing ']'). */
		fprintf(errors, "%s:%d: syntax error (expected \"key = value\" or \"[section]\")\n",
			path, rc);
		ctx.problems++;
	} else if (rc < 0) {
		fprintf(errors, "%s: cannot read: out of memory\n", path);
		ctx.problems++;
	}
	fclose(ctx.file);
	ctx.problems += collect_config_finish(&c->collectors, path, errors);
	return ctx.problems;
}

/* "IOT_EDGE_" + upper(section) + "_" + upper(name). */
static void env_name(const struct config_key *k, char *out, size_t size)
{
	int n = snprintf(out, size, "IOT_EDGE_%s_%s", k->section, k->name);
	for (int i = 0; i < n && (size_t)i < size; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

/* IOT_EDGE_COLLECTOR_<NAME>_<KEY>=value: `key = value` in [collector.name]
 * (lower case; NAME may hold '_', no collector key does). Returns the
 * number of problems (printed). */
static int env_collector(struct edge_config *c, const char *var, FILE *errors)
{
	const char *rest = var + strlen("IOT_EDGE_COLLECTOR_");
	size_t len = strcspn(rest, "=");
	char name[96], key[32], scratch[128];
	const char *under = NULL, *why = NULL;

	for (const char *p = rest; p < rest + len; p++) {
		if (*p == '_')
			under = p;
	}
	if (!under || under == rest || (size_t)(under - rest) >= sizeof(name) ||
	    (size_t)(rest + len - under - 1) >= sizeof(key) || rest[len] != '=') {
		fprintf(errors, "environment: %.*s: unknown setting\n", (int)strcspn(var, "="),
			var);
		return 1;
	}
	size_t n = (size_t)(under - rest), k = len - n - 1;
	for (size_t i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)rest[i]);
	name[n] = '\0';
	for (size_t i = 0; i < k; i++)
		key[i] = (char)tolower((unsigned char)under[1 + i]);
	key[k] = '\0';
	if (collect_config_key(&c->collectors, name, key, rest + len + 1, 0, scratch,
			       sizeof(scratch), &why) != 0) {
		fprintf(errors, "environment: %.*s: \"%s\": %s\n", (int)strcspn(var, "="), var,
			rest + len + 1, why);
		return 1;
	}
	return 0;
}

int config_load_env(struct edge_config *c, FILE *errors)
{
	extern char **environ;
	int problems = 0;
	char name[96];

	for (size_t i = 0; i < N_KEYS; i++) {
		env_name(&keys[i], name, sizeof(name));
		const char *value = getenv(name);
		if (!value)
			continue;
		char scratch[128];
		const char *why = NULL;
		if (key_set(c, &keys[i], value, scratch, sizeof(scratch), &why) != 0) {
			fprintf(errors, "environment: %s: \"%s\": %s\n", name,
				keys[i].secret ? "***" : value, why);
			problems++;
		}
	}
	/* A misspelt variable would otherwise be ignored without a word. */
	for (char **env = environ; *env; env++) {
		if (strncmp(*env, "IOT_EDGE_", 9) != 0)
			continue;
		if (strncmp(*env, "IOT_EDGE_COLLECTOR_", 19) == 0) {
			problems += env_collector(c, *env, errors);
			continue;
		}
		size_t len = strcspn(*env, "=");
		bool known = false;
		for (size_t i = 0; i < N_KEYS && !known; i++) {
			env_name(&keys[i], name, sizeof(name));
			known = strlen(name) == len && strncmp(*env, name, len) == 0;
		}
		if (!known) {
			fprintf(errors, "environment: %.*s: unknown setting\n", (int)len, *env);
			problems++;
		}
	}
	problems += collect_config_finish(&c->collectors, "environment", errors);
	return problems;
}

static void value_print(const struct edge_config *c, const struct config_key *k, FILE *out)
{
	const void *field = (const char *)c + k->offset;
	switch (k->type) {
	case KEY_STRING:
		fputs(k->secret && **(char *const *)field ? "***" : *(char *const *)field, out);
		break;
	case KEY_ENUM: {
		const char *p = k->choices;
		for (unsigned i = *(const unsigned *)field; i > 0; i--)
			p += strcspn(p, "|") + 1;
		fprintf(out, "%.*s", (int)strcspn(p, "|"), p);
		break;
	}
	case KEY_BOOL:
		fputs(*(const bool *)field ? "true" : "false", out);
		break;
	case KEY_UINT:
	case KEY_SIZE:
		fprintf(out, "%" PRIu64, *(const uint64_t *)field);
		break;
	case KEY_DURATION:
		fprintf(out, "%" PRIu64 "ms", *(const uint64_t *)field);
		break;
	}
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
		value_print(c, &keys[i], out);
		fputc('\n', out);
	}
	collect_config_print(&c->collectors, out);
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
			fprintf(out, "; one of: %s", k->choices);
		else if (k->type != KEY_STRING)
			fprintf(out, "; %s", type_names[k->type]);
		fputc('\n', out);
	}
}
