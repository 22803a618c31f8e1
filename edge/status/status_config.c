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

void status_config_take(struct status_config_summary *out, const struct edge_config *c)
{
	bool v1 = c->uplink_api == CONFIG_API_V1;

	*out = (struct status_config_summary){
	    .http_listen = status_str(c->http_listen),
	    .http_token = *status_str(c->http_token) != '\0',
	    .udp_listen = status_str(c->udp_listen),
	    .buffer_path = status_str(c->buffer_path),
	    .buffer_durability = c->buffer_durability == CONFIG_DURABILITY_FULL ? "full" : "normal",
	    .buffer_max_size = c->buffer_max_size,
	    .buffer_full_policy =
		c->buffer_full_policy == CONFIG_FULL_DROP_OLDEST ? "drop_oldest" : "reject_new",
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
	if (redact_url(status_str(c->uplink_url), out->uplink_url, sizeof(out->uplink_url)) != 0)
		snprintf(out->uplink_url, sizeof(out->uplink_url), "(too long to show)");
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
	o = cJSON_AddObjectToObject(config, "log");
	if (o)
		cJSON_AddStringToObject(o, "level", s->log_level);
}
