/* mqtt_config.c -- parsing and checking the repeatable [mqtt.NAME] sections. */
#include "mqtt_config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "point.h"

enum mqtt_key_type { MK_TEXT, MK_SECRET, MK_BOOL, MK_QOS, MK_DURATION, MK_SIZE };

/* One key of a section: its default, and where it lives in struct mqtt_config. */
struct mqtt_key {
	const char *name;
	enum mqtt_key_type type;
	const char *fallback;
	size_t offset;
};

#define K(name, type, fallback, member)                                                            \
	{                                                                                          \
		name, type, fallback, offsetof(struct mqtt_config, member)                         \
	}

static const struct mqtt_key mqtt_keys[] = {
    K("enabled", MK_BOOL, "true", enabled),
    K("url", MK_TEXT, "", url),
    K("client_id", MK_TEXT, "", client_id),
    K("username", MK_TEXT, "", username),
    K("password", MK_SECRET, "", password),
    K("topics", MK_TEXT, "", topics),
    K("qos", MK_QOS, "1", qos),
    K("format", MK_TEXT, "auto", format),
    K("template", MK_TEXT, "", template_),
    K("measurement", MK_TEXT, "", measurement),
    K("tags", MK_TEXT, "", tags),
    K("time_key", MK_TEXT, "", time_key),
    K("string_fields", MK_TEXT, "", string_fields),
    K("field", MK_TEXT, "value", field),
    K("keepalive", MK_DURATION, "60s", keepalive_ms),
    K("reconnect_min", MK_DURATION, "1s", reconnect_min_ms),
    K("reconnect_max", MK_DURATION, "30s", reconnect_max_ms),
    K("max_packet", MK_SIZE, "256KiB", max_packet),
    K("retained", MK_BOOL, "false", retained),
    K("ca_file", MK_TEXT, "", ca_file),
    K("insecure_skip_verify", MK_BOOL, "false", insecure_skip_verify),
};

#define N_MQTT_KEYS (sizeof(mqtt_keys) / sizeof(mqtt_keys[0]))

static int mqtt_key_set(struct mqtt_config *c, const struct mqtt_key *k, const char *value,
			const char **why)
{
	void *slot = (char *)c + k->offset;
	uint64_t n;
	char *copy;

	switch (k->type) {
	case MK_TEXT:
	case MK_SECRET:
		copy = strdup(value);
		if (!copy) {
			*why = "out of memory";
			return -1;
		}
		free(*(char **)slot);
		*(char **)slot = copy;
		return 0;
	case MK_BOOL:
		return config_parse_bool(value, (bool *)slot, why);
	case MK_QOS:
		if (strcmp(value, "0") && strcmp(value, "1") && strcmp(value, "2")) {
			*why = "must be 0, 1 or 2";
			return -1;
		}
		*(unsigned *)slot = (unsigned)(value[0] - '0');
		return 0;
	case MK_DURATION:
		if (config_parse_duration(value, &n, why) != 0)
			return -1;
		*(uint64_t *)slot = n;
		return 0;
	case MK_SIZE:
		if (config_parse_size(value, &n, why) != 0)
			return -1;
		*(uint64_t *)slot = n;
		return 0;
	}
	return -1;
}

void mqtt_config_clear(struct mqtt_config *c)
{
	free(c->name);
	for (size_t i = 0; i < N_MQTT_KEYS; i++) {
		if (mqtt_keys[i].type == MK_TEXT || mqtt_keys[i].type == MK_SECRET)
			free(*(char **)((char *)c + mqtt_keys[i].offset));
	}
	memset(c, 0, sizeof(*c));
}

int mqtt_config_copy(struct mqtt_config *dst, const struct mqtt_config *src)
{
	*dst = *src;
	dst->name = strdup(src->name);
	for (size_t i = 0; i < N_MQTT_KEYS; i++) {
		if (mqtt_keys[i].type == MK_TEXT || mqtt_keys[i].type == MK_SECRET) {
			char **to = (char **)((char *)dst + mqtt_keys[i].offset);

			*to = strdup(*to ? *to : "");
		}
	}
	for (size_t i = 0; i < N_MQTT_KEYS; i++) {
		if ((mqtt_keys[i].type == MK_TEXT || mqtt_keys[i].type == MK_SECRET) &&
		    !*(char **)((char *)dst + mqtt_keys[i].offset))
			goto fail;
	}
	if (!dst->name)
		goto fail;
	return 0;
fail:
	mqtt_config_clear(dst);
	return -1;
}

/* The entry named `name`, added with every default if new. NULL: no memory. */
static struct mqtt_config *mqtt_find(struct mqtt_config_list *l, const char *name)
{
	struct mqtt_config *items, *c;
	const char *why;

	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	}
	items = realloc(l->items, (l->n + 1) * sizeof(*items));
	if (!items)
		return NULL;
	l->items = items;
	c = &items[l->n];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	if (!c->name)
		return NULL;
	for (size_t i = 0; i < N_MQTT_KEYS; i++) {
		if (mqtt_key_set(c, &mqtt_keys[i], mqtt_keys[i].fallback, &why) != 0) {
			mqtt_config_clear(c);
			return NULL;
		}
	}
	l->n++;
	return c;
}

int mqtt_config_key(struct mqtt_config_list *l, const char *name, const char *key,
		    const char *value, int line, char *scratch, size_t scratch_size,
		    const char **why)
{
	struct mqtt_config *c;

	(void)scratch;
	(void)scratch_size;
	if (*name == '\0') {
		*why = "a [mqtt.NAME] section needs a NAME";
		return -1;
	}
	for (size_t i = 0; i < N_MQTT_KEYS; i++) {
		if (strcmp(key, mqtt_keys[i].name) != 0)
			continue;
		c = mqtt_find(l, name);
		if (!c) {
			*why = "out of memory";
			return -1;
		}
		if (!c->first_line)
			c->first_line = line;
		c->pending = true;
		if (line == 0)
			c->from_env = true;
		return mqtt_key_set(c, &mqtt_keys[i], value, why);
	}
	*why = "unknown key";
	return -1;
}

int mqtt_config_env_split(const char *rest, size_t len, char *name, size_t name_size, char *key,
			  size_t key_size)
{
	size_t best = 0;

	for (size_t i = 0; i < N_MQTT_KEYS; i++) {
		size_t k = strlen(mqtt_keys[i].name);
		bool same = k + 2 <= len && rest[len - k - 1] == '_';

		for (size_t j = 0; same && j < k; j++)
			same = tolower((unsigned char)rest[len - k + j]) == mqtt_keys[i].name[j];
		if (same && k > best)
			best = k;
	}
	if (best == 0 || best >= key_size || len - best - 1 >= name_size)
		return -1;
	for (size_t j = 0; j < len - best - 1; j++)
		name[j] = (char)tolower((unsigned char)rest[j]);
	name[len - best - 1] = '\0';
	for (size_t j = 0; j < best; j++)
		key[j] = (char)tolower((unsigned char)rest[len - best + j]);
	key[best] = '\0';
	return 0;
}

/* Every topic filter of the comma list is well-formed: non-empty, '#' only
 * last and alone in its level, '+' alone in its level. */
static const char *mqtt_filters_check(const char *list, bool template_)
{
	const char *p = list;

	if (*p == '\0')
		return template_ ? NULL : "at least one topic filter is needed";
	while (*p) {
		size_t n = template_ ? strlen(p) : strcspn(p, ",");

		if (n == 0)
			return "an empty topic filter";
		for (size_t i = 0; i < n; i++) {
			bool level_start = i == 0 || p[i - 1] == '/';
			bool level_end = i + 1 == n || p[i + 1] == '/';

			if (p[i] == '#' && (!level_start || i + 1 != n))
				return "'#' must be a level of its own, the last one";
			/* a template's +name names a tag; a filter's + is alone */
			if (p[i] == '+' && (!level_start || (!template_ && !level_end)))
				return "'+' must start a level (and be alone in a topic filter)";
		}
		p += n;
		p += *p == ',';
	}
	return NULL;
}

/* Print one problem of section c. */
static int mqtt_problem(FILE *errors, const char *path, const struct mqtt_config *c,
			const char *key, const char *what)
{
	if (c->first_line > 0 && !c->from_env)
		fprintf(errors, "%s:%d: [mqtt.%s] %s: %s\n", path, c->first_line, c->name, key,
			what);
	else
		fprintf(errors, "%s: [mqtt.%s] %s: %s\n", path, c->name, key, what);
	return 1;
}

/* Drop the blanks around the commas of a list ("a/+, b/#" -> "a/+,b/#"), in place. */
static void mqtt_list_tidy(char *list)
{
	char *out = list;

	for (const char *p = list; *p;) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		memmove(out, p, n);
		out += n;
		p += strcspn(p, ",");
		if (*p == ',') {
			*out++ = ',';
			p++;
		}
	}
	*out = '\0';
}

int mqtt_config_finish(struct mqtt_config_list *l, const char *path, FILE *errors)
{
	int problems = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct mqtt_config *c = &l->items[i];
		const char *why;

		if (!c->pending || !c->enabled) {
			c->pending = false;
			continue;
		}
		c->pending = false;
		mqtt_list_tidy(c->topics);
		mqtt_list_tidy(c->string_fields);
		if (strncmp(c->url, "mqtt://", 7) != 0 && strncmp(c->url, "tcp://", 6) != 0 &&
		    strncmp(c->url, "mqtts://", 8) != 0 && strncmp(c->url, "ssl://", 6) != 0)
			problems +=
			    mqtt_problem(errors, path, c, "url",
					 "must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]");
		why = mqtt_filters_check(c->topics, false);
		if (why)
			problems += mqtt_problem(errors, path, c, "topics", why);
		why = mqtt_filters_check(c->template_, true);
		if (why)
			problems += mqtt_problem(errors, path, c, "template", why);
		if (point_tags_check(c->tags, &why) != 0)
			problems += mqtt_problem(errors, path, c, "tags", why);
		if (strcmp(c->format, "auto") && strcmp(c->format, "line") &&
		    strcmp(c->format, "json") && strcmp(c->format, "value"))
			problems += mqtt_problem(errors, path, c, "format",
						 "must be auto, line, json or value");
		if (*c->password && !*c->username)
			problems +=
			    mqtt_problem(errors, path, c, "password",
					 "MQTT 3.1.1 sends a password only with a username");
		if (c->keepalive_ms < 1000 || c->keepalive_ms > 65535000)
			problems += mqtt_problem(errors, path, c, "keepalive",
						 "must be between 1s and 65535s");
		if (c->reconnect_min_ms < 10 || c->reconnect_max_ms < c->reconnect_min_ms)
			problems +=
			    mqtt_problem(errors, path, c, "reconnect_max",
					 "reconnect_min must be >= 10ms and <= reconnect_max");
		if (c->max_packet < 1024 || c->max_packet > (256u << 20))
			problems += mqtt_problem(errors, path, c, "max_packet",
						 "must be between 1KiB and 256MiB");
		if (*c->field == '\0')
			problems += mqtt_problem(errors, path, c, "field", "must not be empty");
		if (*c->client_id == '\0') {
			char host[64] = "edge", id[160];

			if (gethostname(host, sizeof(host)) != 0)
				strcpy(host, "edge");
			host[sizeof(host) - 1] = '\0';
			snprintf(id, sizeof(id), "iot-edge-%s-%s", host, c->name);
			free(c->client_id);
			c->client_id = strdup(id);
			if (!c->client_id)
				problems +=
				    mqtt_problem(errors, path, c, "client_id", "out of memory");
		}
	}
	return problems;
}

void mqtt_config_free(struct mqtt_config_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		mqtt_config_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static const struct mqtt_config *mqtt_named(const struct mqtt_config_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	}
	return NULL;
}

static bool mqtt_differs(const struct mqtt_config *a, const struct mqtt_config *b)
{
	for (size_t k = 0; k < N_MQTT_KEYS; k++) {
		const void *x = (const char *)a + mqtt_keys[k].offset;
		const void *y = (const char *)b + mqtt_keys[k].offset;

		switch (mqtt_keys[k].type) {
		case MK_TEXT:
		case MK_SECRET:
			if (strcmp(*(char *const *)x, *(char *const *)y) != 0)
				return true;
			break;
		case MK_BOOL:
			if (*(const bool *)x != *(const bool *)y)
				return true;
			break;
		case MK_QOS:
			if (*(const unsigned *)x != *(const unsigned *)y)
				return true;
			break;
		case MK_DURATION:
		case MK_SIZE:
			if (*(const uint64_t *)x != *(const uint64_t *)y)
				return true;
			break;
		}
	}
	return false;
}

size_t mqtt_config_diff(const struct mqtt_config_list *a, const struct mqtt_config_list *b,
			mqtt_config_diff_fn *fn, void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct mqtt_config *other = mqtt_named(b, a->items[i].name);

		if (!other || mqtt_differs(&a->items[i], other)) {
			fn(arg, a->items[i].name);
			n++;
		}
	}
	for (size_t i = 0; i < b->n; i++) {
		if (!mqtt_named(a, b->items[i].name)) {
			fn(arg, b->items[i].name);
			n++;
		}
	}
	return n;
}

void mqtt_config_print(const struct mqtt_config_list *l, FILE *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct mqtt_config *c = &l->items[i];

		fprintf(out, "\n[mqtt.%s]\n", c->name);
		for (size_t k = 0; k < N_MQTT_KEYS; k++) {
			const void *slot = (const char *)c + mqtt_keys[k].offset;

			fprintf(out, "%s = ", mqtt_keys[k].name);
			switch (mqtt_keys[k].type) {
			case MK_TEXT:
				fputs(*(char *const *)slot, out);
				break;
			case MK_SECRET:
				fputs(**(char *const *)slot ? "***" : "", out);
				break;
			case MK_BOOL:
				fputs(*(const bool *)slot ? "true" : "false", out);
				break;
			case MK_QOS:
				fprintf(out, "%u", *(const unsigned *)slot);
				break;
			case MK_DURATION:
				fprintf(out, "%llums", (unsigned long long)*(const uint64_t *)slot);
				break;
			case MK_SIZE:
				fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)slot);
				break;
			}
			fputc('\n', out);
		}
	}
}
