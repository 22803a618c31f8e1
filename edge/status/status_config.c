/* status_config.c -- the configuration summary of /status: what runs, never a secret. */
#include "status.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "redact.h"

/* A string key's value; "" for one never set. */
static const char *status_str(const char *s)
{
	return s ? s : "";
}

/* url without credentials, query or fragment into out[512]. */
static void status_url_show(const char *url, char *out, size_t cap)
{
	if (redact_url(status_str(url), out, cap) != 0)
		snprintf(out, cap, "(too long to show)");
}

void status_config_take(struct status_config_summary *out, const struct edge_config *all)
{
	/* with [uplink.NAME] sections, the first one's keys */
	const struct edge_config *c = all->uplinks.n > 0 ? all->uplinks.items[0].keys : all;
	bool v1 = c->uplink_api == CONFIG_API_V1;

	*out = (struct status_config_summary){
	    .http_listen = status_str(all->http_listen),
	    .http_token = *status_str(all->http_token) != '\0',
	    .udp_listen = status_str(all->udp_listen),
	    .buffer_path = status_str(all->buffer_path),
	    .buffer_durability =
		all->buffer_durability == CONFIG_DURABILITY_FULL ? "full" : "normal",
	    .buffer_max_size = all->buffer_max_size,
	    .buffer_full_policy =
		all->buffer_full_policy == CONFIG_FULL_DROP_OLDEST ? "drop_oldest" : "reject_new",
	    .uplink_v1 = v1,
	    .uplink_database = status_str(c->uplink_database),
	    .uplink_retention_policy = status_str(c->uplink_retention_policy),
	    .uplink_org = status_str(c->uplink_org),
	    .uplink_bucket = status_str(c->uplink_bucket),
	    .uplink_authentication = *status_str(v1 ? c->uplink_username : c->uplink_token) != '\0',
	    .uplink_batch_points = c->uplink_batch_points,
	    .uplink_gzip = c->uplink_gzip,
	    /* SIGHUP may change it on the main thread: an atomic read */
	    .log_level = log_level_name((unsigned)log_get_level()),
	};
	status_url_show(c->uplink_url, out->uplink_url, sizeof(out->uplink_url));
	for (size_t i = 0; i < all->uplinks.n && i < sizeof(out->targets) / sizeof(out->targets[0]);
	     i++) {
		const struct uplink_config *u = &all->uplinks.items[i];
		struct status_config_target *t = &out->targets[out->target_count++];

		t->name = u->name;
		t->v1 = u->keys->uplink_api == CONFIG_API_V1;
		status_url_show(u->keys->uplink_url, t->url, sizeof(t->url));
	}
}

static void status_add_uplink_config(cJSON *config, const struct status_config_summary *s)
{
	cJSON *o = cJSON_AddObjectToObject(config, "uplink");

	if (!o)
		return;
	cJSON_AddStringToObject(o, "api", s->uplink_v1 ? "v1" : "v2");
	cJSON_AddStringToObject(o, "url", s->uplink_url);
	if (s->uplink_v1) {
		cJSON_AddStringToObject(o, "database", s->uplink_database);
		cJSON_AddStringToObject(o, "retention_policy", s->uplink_retention_policy);
	} else {
		cJSON_AddStringToObject(o, "org", s->uplink_org);
		cJSON_AddStringToObject(o, "bucket", s->uplink_bucket);
	}
	cJSON_AddBoolToObject(o, "authentication", s->uplink_authentication);
	cJSON_AddNumberToObject(o, "batch_points", (double)s->uplink_batch_points);
	cJSON_AddBoolToObject(o, "gzip", s->uplink_gzip);
}

void status_add_config(cJSON *root, const struct status_config_summary *s)
{
	cJSON *config = cJSON_AddObjectToObject(root, "config");
	cJSON *o;

	if (!config)
		return;
	o = cJSON_AddObjectToObject(config, "http");
	if (o) {
		cJSON_AddStringToObject(o, "listen", s->http_listen);
		cJSON_AddBoolToObject(o, "token", s->http_token);
	}
	o = cJSON_AddObjectToObject(config, "udp");
	if (o)
		cJSON_AddStringToObject(o, "listen", s->udp_listen);
	o = cJSON_AddObjectToObject(config, "buffer");
	if (o) {
		cJSON_AddStringToObject(o, "path", s->buffer_path);
		cJSON_AddStringToObject(o, "durability", s->buffer_durability);
		cJSON_AddNumberToObject(o, "max_size", (double)s->buffer_max_size);
		cJSON_AddStringToObject(o, "full_policy", s->buffer_full_policy);
	}
	status_add_uplink_config(config, s);
	/* "targets": each [uplink.NAME] (none with [uplink] alone) */
	o = s->target_count > 0 ? cJSON_AddArrayToObject(config, "targets") : NULL;
	for (size_t i = 0; o && i < s->target_count; i++) {
		cJSON *t = cJSON_CreateObject();

		if (!t || !cJSON_AddItemToArray(o, t)) {
			cJSON_Delete(t);
			break;
		}
		cJSON_AddStringToObject(t, "name", s->targets[i].name);
		cJSON_AddStringToObject(t, "api", s->targets[i].v1 ? "v1" : "v2");
		cJSON_AddStringToObject(t, "url", s->targets[i].url);
	}
	o = cJSON_AddObjectToObject(config, "log");
	if (o)
		cJSON_AddStringToObject(o, "level", s->log_level);
}
