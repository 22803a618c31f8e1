/* status_config.c -- the configuration summary of /status: what runs, never a secret. */
#include "status.h"

#include "log.h"

#include <cJSON.h>
#include <string.h>

int status_url_strip_credentials(const char *url, char *out, size_t cap)
{
	const char *scheme = strstr(url, "://");
	const char *host = scheme ? scheme + 3 : url;
	size_t host_len = strcspn(host, "/?#");
	const char *at = NULL;
	size_t prefix = (size_t)(host - url), len;

	if (cap == 0)
		return -1;
	/* The userinfo ends at the last '@' of the authority. */
	for (const char *p = host; p < host + host_len; p++)
		if (*p == '@')
			at = p;
	if (at) {
		host_len -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	/* The path, up to a query or fragment. */
	len = host_len + strcspn(host + host_len, "?#");
	if (prefix + len >= cap) {
		out[0] = '\0';
		return -1;
	}
	memcpy(out, url, prefix);
	memcpy(out + prefix, host, len);
	out[prefix + len] = '\0';
	return 0;
}

/* A string key's value; "" for one never set. */
static const char *status_str(const char *s)
{
	return s ? s : "";
}

static const char *status_level_name(unsigned level)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	return level < sizeof(names) / sizeof(names[0]) ? names[level] : "?";
}

static void status_add_uplink_config(cJSON *config, const struct edge_config *c)
{
	cJSON *o = cJSON_AddObjectToObject(config, "uplink");
	char url[512];

	if (!o)
		return;
	cJSON_AddStringToObject(o, "api", c->uplink_api == CONFIG_API_V1 ? "v1" : "v2");
	if (status_url_strip_credentials(status_str(c->uplink_url), url, sizeof(url)) == 0)
		cJSON_AddStringToObject(o, "url", url);
	else
		cJSON_AddStringToObject(o, "url", "(too long to show)");
	if (c->uplink_api == CONFIG_API_V1) {
		cJSON_AddStringToObject(o, "database", status_str(c->uplink_database));
		cJSON_AddStringToObject(o, "retention_policy",
					status_str(c->uplink_retention_policy));
		cJSON_AddBoolToObject(o, "authentication", *status_str(c->uplink_username) != '\0');
	} else {
		cJSON_AddStringToObject(o, "org", status_str(c->uplink_org));
		cJSON_AddStringToObject(o, "bucket", status_str(c->uplink_bucket));
		cJSON_AddBoolToObject(o, "authentication", *status_str(c->uplink_token) != '\0');
	}
	cJSON_AddNumberToObject(o, "batch_points", (double)c->uplink_batch_points);
	cJSON_AddBoolToObject(o, "gzip", c->uplink_gzip);
}

void status_add_config(cJSON *root, const struct edge_config *c)
{
	cJSON *config = cJSON_AddObjectToObject(root, "config");
	cJSON *o;

	if (!config)
		return;
	o = cJSON_AddObjectToObject(config, "http");
	if (o) {
		cJSON_AddStringToObject(o, "listen", status_str(c->http_listen));
		cJSON_AddBoolToObject(o, "token", *status_str(c->http_token) != '\0');
	}
	o = cJSON_AddObjectToObject(config, "udp");
	if (o)
		cJSON_AddStringToObject(o, "listen", status_str(c->udp_listen));
	o = cJSON_AddObjectToObject(config, "buffer");
	if (o) {
		cJSON_AddStringToObject(o, "path", status_str(c->buffer_path));
		cJSON_AddStringToObject(o, "durability",
					c->buffer_durability == CONFIG_DURABILITY_FULL ? "full"
										       : "normal");
		cJSON_AddNumberToObject(o, "max_size", (double)c->buffer_max_size);
		cJSON_AddStringToObject(o, "full_policy",
					c->buffer_full_policy == CONFIG_FULL_DROP_OLDEST
					    ? "drop_oldest"
					    : "reject_new");
	}
	status_add_uplink_config(config, c);
	o = cJSON_AddObjectToObject(config, "log");
	if (o) /* the running level, which SIGHUP may change on the main thread:
		* read from the log module (an atomic), not from *c */
		cJSON_AddStringToObject(o, "level", status_level_name((unsigned)log_get_level()));
}
