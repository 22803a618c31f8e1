/* uplink_config.c -- parsing and checking the repeatable [uplink.NAME] sections (several targets).
 */
#include "uplink_config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* The uplink_config of `name`, created (with [uplink]'s defaults) if new;
 * NULL with *why set when the name is bad, too many, or out of memory. */
static struct uplink_config *uplink_config_get(struct uplink_config_list *l, const char *name,
					       int line, const char **why)
{
	size_t len = strlen(name);
	struct uplink_config *items, *u;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	if (len == 0 || len > UPLINK_CONFIG_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz"
			 "0123456789_-") != len) {
		*why = "the target name (after \"uplink.\") must be 1 to 32 of a-z, 0-9, _ and -";
		return NULL;
	}
	if (l->n >= UPLINK_CONFIG_MAX) {
		*why = "too many [uplink.NAME] sections (at most 8)";
		return NULL;
	}
	items = realloc(l->items, (l->n + 1) * sizeof(*items));
	if (!items) {
		*why = "out of memory";
		return NULL;
	}
	l->items = items;
	u = &items[l->n];
	memset(u, 0, sizeof(*u));
	u->name = strdup(name);
	u->keys = malloc(sizeof(*u->keys));
	if (!u->name || !u->keys) {
		free(u->name);
		free(u->keys);
		*why = "out of memory";
		return NULL;
	}
	config_init(u->keys);
	u->line = line;
	l->n++;
	return u;
}

int uplink_config_key(struct uplink_config_list *l, const char *name, const char *key,
		      const char *value, int line, char *scratch, size_t scratch_size,
		      const char **why)
{
	int k = config_key_find("uplink", key);
	struct uplink_config *u;

	if (k < 0) {
		*why = "unknown key (an [uplink.NAME] section takes the keys of [uplink])";
		return -1;
	}
	u = uplink_config_get(l, name, line, why);
	if (!u)
		return -1;
	return config_key_set((size_t)k, u->keys, value, scratch, scratch_size, why);
}

/* The target's own checks (uplink_start() would refuse it later, less clearly). */
static int uplink_config_check_one(const char *section, const struct edge_config *k, FILE *errors)
{
	if (k->uplink_api == CONFIG_API_V1 && (!k->uplink_database || !k->uplink_database[0])) {
		fprintf(errors, "[%s] database: empty: a v1 target needs a database\n", section);
		return 1;
	}
	if (k->uplink_api == CONFIG_API_V2 && (!k->uplink_bucket || !k->uplink_bucket[0])) {
		fprintf(errors, "[%s] bucket: empty: a v2 target needs a bucket (api = v2)\n",
			section);
		return 1;
	}
	return 0;
}

int uplink_config_check(const struct edge_config *c, FILE *errors)
{
	struct edge_config defaults;
	char section[64];
	int problems = 0;

	if (c->uplinks.n == 0)
		return 0;
	config_init(&defaults);
	for (size_t i = 0; i < config_key_count(); i++) {
		struct config_key_info k = config_key_describe(i);

		if (strcmp(k.section, "uplink") != 0 || !config_key_differs(i, c, &defaults))
			continue;
		fprintf(errors,
			"[uplink] %s: set, but [uplink.NAME] sections exist: [uplink] and "
			"[uplink.NAME] cannot be mixed (move the [uplink] keys into a section "
			"[uplink.%s] to keep its position in the buffer)\n",
			k.name, UPLINK_CONFIG_DEFAULT_NAME);
		problems++;
	}
	config_cleanup(&defaults);
	for (size_t i = 0; i < c->uplinks.n; i++) {
		snprintf(section, sizeof(section), "uplink.%s", c->uplinks.items[i].name);
		problems += uplink_config_check_one(section, c->uplinks.items[i].keys, errors);
	}
	return problems;
}

void uplink_config_free(struct uplink_config_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		if (l->items[i].keys)
			config_cleanup(l->items[i].keys);
		free(l->items[i].keys);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void uplink_config_print(const struct uplink_config_list *l, FILE *out)
{
	char value[4096];

	for (size_t i = 0; i < l->n; i++) {
		fprintf(out, "\n[uplink.%s]\n", l->items[i].name);
		for (size_t k = 0; k < config_key_count(); k++) {
			struct config_key_info info = config_key_describe(k);

			if (strcmp(info.section, "uplink") != 0)
				continue;
			config_key_format(k, l->items[i].keys, value, sizeof(value));
			fprintf(out, "%s = %s\n", info.name, value);
		}
	}
}

static const struct uplink_config *uplink_config_find(const struct uplink_config_list *l,
						      const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	return NULL;
}

size_t uplink_config_diff(const struct uplink_config_list *a, const struct uplink_config_list *b,
			  uplink_config_diff_fn *fn, void *arg)
{
	size_t count = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct uplink_config *other = uplink_config_find(b, a->items[i].name);

		if (!other) {
			fn(arg, a->items[i].name, NULL);
			count++;
			continue;
		}
		for (size_t k = 0; k < config_key_count(); k++) {
			struct config_key_info info = config_key_describe(k);

			if (strcmp(info.section, "uplink") != 0 ||
			    !config_key_differs(k, a->items[i].keys, other->keys))
				continue;
			fn(arg, a->items[i].name, info.name);
			count++;
		}
	}
	for (size_t i = 0; i < b->n; i++) {
		if (!uplink_config_find(a, b->items[i].name)) {
			fn(arg, b->items[i].name, NULL);
			count++;
		}
	}
	return count;
}
