/* reload.c -- what a SIGHUP changes: the log level at once; every other changed key is named as
 * needing a restart. */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define RELOAD_MOD "reload"
#define RELOAD_LIST_MAX 1024

/* The whole configuration as config_print() renders it: one malloc'd string
 * (the caller frees it), or NULL when out of memory. */
static char *reload_render(const struct edge_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	config_print(c, f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Append "section.key" to the list in out; "..." once it no longer fits. */
static void reload_list_add(char *out, size_t cap, size_t *used, const char *section,
			    size_t section_len, const char *key, size_t key_len)
{
	const char *sep = *used ? ", " : "";
	int n;

	if (*used >= cap)
		return; /* already full and marked */
	n = snprintf(out + *used, cap - *used, "%s%.*s.%.*s", sep, (int)section_len, section,
		     (int)key_len, key);
	if (n >= 0 && (size_t)n < cap - *used) {
		*used += (size_t)n;
		return;
	}
	/* Does not fit: end the list with "..." where it still fits. */
	if (cap >= 4) {
		size_t at = *used + 3 < cap ? *used : cap - 4;
		memcpy(out + at, "...", 4);
	} else {
		out[0] = '\0';
	}
	*used = cap;
}

int reload_changed_keys(const struct edge_config *running, const struct edge_config *fresh,
			char *out, size_t cap)
{
	char *a = reload_render(running);
	char *b = reload_render(fresh);
	const char *pa = a, *pb = b;
	const char *section = "";
	size_t section_len = 0, used = 0;
	int changed = -1;

	if (cap > 0)
		out[0] = '\0';
	if (a == NULL || b == NULL)
		goto out;
	changed = 0;
	/* Both come from the same key table: line i is the same key in both. */
	while (*pa && *pb) {
		size_t la = strcspn(pa, "\n"), lb = strcspn(pb, "\n");
		size_t name_len = strcspn(pa, " =\n");

		if (pa[0] == '[') {
			section = pa + 1;
			section_len = la > 2 ? la - 2 : 0;
		} else if (la != lb || memcmp(pa, pb, la) != 0) {
			changed++;
			if (cap > 0)
				reload_list_add(out, cap, &used, section, section_len, pa,
						name_len);
		}
		pa += la + (pa[la] == '\n');
		pb += lb + (pb[lb] == '\n');
	}
out:
	free(a);
	free(b);
	return changed;
}

int reload_apply(struct edge_config *running, const struct edge_config *fresh)
{
	char list[RELOAD_LIST_MAX];
	unsigned old_level = running->log_level;
	int changed;

	/* Count first: on failure nothing is applied. */
	if (reload_changed_keys(running, fresh, list, sizeof(list)) < 0) {
		log_error(RELOAD_MOD, "out of memory: the configuration was not reloaded");
		return -1;
	}
	if (fresh->log_level != old_level && fresh->log_level < 4 && old_level < 4) {
		running->log_level = fresh->log_level;
		log_set_level((enum log_level)fresh->log_level);
		log_info(RELOAD_MOD, "log.level %s -> %s: applied", log_level_name(old_level),
			 log_level_name(fresh->log_level));
	}
	changed = reload_changed_keys(running, fresh, list, sizeof(list));
	if (changed < 0) {
		log_error(RELOAD_MOD, "out of memory while comparing the configuration");
		return -1;
	}
	if (changed > 0)
		log_warn(RELOAD_MOD,
			 "changed, but only take effect after a restart (systemctl restart "
			 "iot-edge): %s",
			 list);
	else
		log_info(RELOAD_MOD, "configuration reloaded; nothing needs a restart");
	log_info(RELOAD_MOD, "secrets (passwords, tokens) are read at start-up only: restart "
			     "to apply a new one");
	return changed;
}
