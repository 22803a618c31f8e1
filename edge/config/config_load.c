/* config_load.c -- reading the settings from an INI file (libinih) and the IOT_EDGE_* environment,
 * through the key table of config.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tags_config.h"

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
	int k = config_key_find(section, name);
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
	if (strncmp(section, "uplink.", 7) == 0) {
		if (uplink_config_key(&ctx->config->uplinks, section + 7, name, value, ctx->line,
				      scratch, sizeof(scratch), &why) != 0) {
			fprintf(ctx->errors, "%s:%d: [%s] %s: \"%s\": %s\n", ctx->path, ctx->line,
				section, name,
				strcmp(name, "password") == 0 || strcmp(name, "token") == 0 ? "***"
											    : value,
				why);
			ctx->problems++;
		}
		return 1;
	}

	if (strcmp(section, "tags") == 0) {
		if (tags_config_set(&ctx->config->global_tags, name, value, &why) != 0) {
			fprintf(ctx->errors, "%s:%d: [tags] %s: \"%s\": %s\n", ctx->path, ctx->line,
				name, value, why);
			ctx->problems++;
		}
		return 1;
	}
	if (strncmp(section, "mqtt.", 5) == 0) {
		if (mqtt_config_key(&ctx->config->mqtt, section + 5, name, value, ctx->line,
				    scratch, sizeof(scratch), &why) != 0) {
			fprintf(ctx->errors, "%s:%d: [%s] %s: \"%s\": %s\n", ctx->path, ctx->line,
				section, name, strcmp(name, "password") == 0 ? "***" : value, why);
			ctx->problems++;
		}
		return 1;
	}
	if (k < 0) {
		fprintf(ctx->errors, "%s:%d: [%s] %s: unknown key\n", ctx->path, ctx->line, section,
			name);
		ctx->problems++;
		return 1; /* reported here; keep going to find every problem */
	}
	if (config_key_set((size_t)k, ctx->config, value, scratch, sizeof(scratch), &why) != 0) {
		fprintf(ctx->errors, "%s:%d: [%s] %s: \"%s\": %s\n", ctx->path, ctx->line, section,
			name, config_key_describe((size_t)k).secret ? "***" : value, why);
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
	ctx.problems += mqtt_config_finish(&c->mqtt, path, errors);
	return ctx.problems;
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

/* IOT_EDGE_MQTT_<NAME>_<KEY>=value: `key = value` in [mqtt.name] (lower
 * case; see mqtt_config_env_split). Returns the number of problems (printed). */
static int env_mqtt(struct edge_config *c, const char *var, FILE *errors)
{
	const char *rest = var + strlen("IOT_EDGE_MQTT_");
	size_t len = strcspn(rest, "=");
	char name[96], key[32], scratch[128];
	const char *why = NULL;

	if (rest[len] != '=' ||
	    mqtt_config_env_split(rest, len, name, sizeof(name), key, sizeof(key)) != 0) {
		fprintf(errors, "environment: %.*s: unknown setting\n", (int)strcspn(var, "="),
			var);
		return 1;
	}
	if (mqtt_config_key(&c->mqtt, name, key, rest + len + 1, 0, scratch, sizeof(scratch),
			    &why) != 0) {
		fprintf(errors, "environment: %.*s: \"%s\": %s\n", (int)strcspn(var, "="), var,
			strcmp(key, "password") == 0 ? "***" : rest + len + 1, why);
		return 1;
	}
	return 0;
}

/* IOT_EDGE_TAGS_<KEY>=value: `key = value` in [tags] (the key in lower
 * case). Returns the number of problems (printed). */
static int env_tag(struct edge_config *c, const char *var, FILE *errors)
{
	const char *rest = var + strlen("IOT_EDGE_TAGS_");
	size_t len = strcspn(rest, "=");
	char key[96];
	const char *why = NULL;

	if (len == 0 || len >= sizeof(key) || rest[len] != '=') {
		fprintf(errors, "environment: %.*s: unknown setting\n", (int)strcspn(var, "="),
			var);
		return 1;
	}
	for (size_t i = 0; i < len; i++)
		key[i] = (char)tolower((unsigned char)rest[i]);
	key[len] = '\0';
	if (tags_config_set(&c->global_tags, key, rest + len + 1, &why) != 0) {
		fprintf(errors, "environment: %.*s: \"%s\": %s\n", (int)len + 14, var,
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

	for (size_t i = 0; i < config_key_count(); i++) {
		config_key_env_name(i, name, sizeof(name));
		const char *value = getenv(name);
		if (!value)
			continue;
		char scratch[128];
		const char *why = NULL;
		if (config_key_set(i, c, value, scratch, sizeof(scratch), &why) != 0) {
			fprintf(errors, "environment: %s: \"%s\": %s\n", name,
				config_key_describe(i).secret ? "***" : value, why);
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
		if (strncmp(*env, "IOT_EDGE_MQTT_", 14) == 0) {
			problems += env_mqtt(c, *env, errors);
			continue;
		}
		if (strncmp(*env, "IOT_EDGE_TAGS_", 14) == 0) {
			problems += env_tag(c, *env, errors);
			continue;
		}
		size_t len = strcspn(*env, "=");
		bool known = false;
		for (size_t i = 0; i < config_key_count() && !known; i++) {
			config_key_env_name(i, name, sizeof(name));
			known = strlen(name) == len && strncmp(*env, name, len) == 0;
		}
		if (!known) {
			fprintf(errors, "environment: %.*s: unknown setting\n", (int)len, *env);
			problems++;
		}
	}
	problems += collect_config_finish(&c->collectors, "environment", errors);
	problems += mqtt_config_finish(&c->mqtt, "environment", errors);
	return problems;
}
