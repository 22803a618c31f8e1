/* reload.c -- what a SIGHUP changes: the reloadable keys of the settings table at once (the log
 * level); every other changed key is named as needing a restart. */
#include "reload.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#define RELOAD_MOD "reload"
#define RELOAD_LIST_MAX 1024
#define RELOAD_VALUE_MAX 64

/* Names of changed keys written into the caller's buffer; `count` goes on
 * when the buffer is full. */
struct reload_list {
	char *out;
	size_t cap, used;
	int count;
};

/* Append "a.b", or "a.b.c" when c is not NULL; "..." once it no longer fits. */
static void reload_list_add(struct reload_list *l, const char *a, const char *b, const char *c)
{
	int n;

	l->count++;
	if (l->used >= l->cap)
		return; /* no buffer, or already full and marked */
	n = snprintf(l->out + l->used, l->cap - l->used, "%s%s.%s%s%s", l->used ? ", " : "", a, b,
		     c ? "." : "", c ? c : "");
	if (n >= 0 && (size_t)n < l->cap - l->used) {
		l->used += (size_t)n;
		return;
	}
	/* Does not fit: end the list with "..." where it still fits. */
	if (l->cap >= 4) {
		size_t at = l->used + 3 < l->cap ? l->used : l->cap - 4;
		memcpy(l->out + at, "...", 4);
	} else {
		l->out[0] = '\0';
	}
	l->used = l->cap;
}

/* collect_config_diff() callback: a collector added or removed (key NULL), or one of its keys. */
static void reload_collector_changed(void *arg, const char *name, const char *key)
{
	reload_list_add(arg, "collector", name, key);
}

/* uplink_config_diff() callback: a target added or removed (key NULL), or one of its keys. */
static void reload_uplink_changed(void *arg, const char *name, const char *key)
{
	reload_list_add(arg, "uplink", name, key);
}

/* mqtt_config_diff() callback: an [mqtt.NAME] section added, removed or changed. */
static void reload_mqtt_changed(void *arg, const char *name)
{
	reload_list_add(arg, "mqtt", name, NULL);
}

int reload_changed_keys(const struct edge_config *running, const struct edge_config *fresh,
			char *out, size_t cap)
{
	struct reload_list l = {.out = out, .cap = cap};

	if (cap > 0)
		out[0] = '\0';
	for (size_t i = 0; i < config_key_count(); i++) {
		if (config_key_differs(i, running, fresh)) {
			struct config_key_info k = config_key_describe(i);
			reload_list_add(&l, k.section, k.name, NULL);
		}
	}
	collect_config_diff(&running->collectors, &fresh->collectors, reload_collector_changed, &l);
	if (strcmp(running->global_tags ? running->global_tags : "",
		   fresh->global_tags ? fresh->global_tags : "") != 0)
		reload_list_add(&l, "tags", "*", NULL);
	uplink_config_diff(&running->uplinks, &fresh->uplinks, reload_uplink_changed, &l);
	mqtt_config_diff(&running->mqtt, &fresh->mqtt, reload_mqtt_changed, &l);
	return l.count;
}

int reload_apply(struct edge_config *running, const struct edge_config *fresh)
{
	char list[RELOAD_LIST_MAX];
	unsigned old_level = running->log_level;
	int restart;

	for (size_t i = 0; i < config_key_count(); i++) {
		struct config_key_info k = config_key_describe(i);
		char was[RELOAD_VALUE_MAX], now[RELOAD_VALUE_MAX];

		if (!k.reloadable || !config_key_differs(i, running, fresh))
			continue;
		config_key_format(i, running, was, sizeof(was));
		config_key_format(i, fresh, now, sizeof(now));
		if (config_key_take(i, running, fresh) == 0)
			log_info(RELOAD_MOD, "%s.%s %s -> %s: applied", k.section, k.name, was,
				 now);
		/* else it still differs, and is named below as needing a restart */
	}
	/* The one reloadable key whose reader keeps its own copy: log.c's level.
	 * (A key marked reloadable in the table needs its reader taught here;
	 * test_reload checks the set.) */
	if (running->log_level != old_level)
		log_set_level((enum log_level)running->log_level);

	restart = reload_changed_keys(running, fresh, list, sizeof(list));
	if (restart > 0)
		log_warn(RELOAD_MOD,
			 "changed, but only take effect after a restart (systemctl restart "
			 "iot-edge): %s",
			 list);
	else
		log_info(RELOAD_MOD, "configuration reloaded; nothing needs a restart");
	return restart;
}
