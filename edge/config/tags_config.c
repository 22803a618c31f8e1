/* tags_config.c -- the [tags] section of free keys (Telegraf's global_tags) and the edge's name
 * ([edge] name, the host name by default) with the tag key it is written under. */
#include "tags_config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "point.h"

/* The length of the key of the pair at p ("key=value", up to ',' or NUL). */
static size_t tags_key_len(const char *p)
{
	return strcspn(p, "=,");
}

int tags_config_set(char **tags, const char *key, const char *value, const char **why)
{
	const char *old = *tags ? *tags : "";
	size_t klen = strlen(key), cap = strlen(old) + klen + strlen(value) + 3;
	char *out = malloc(cap), *w = out;
	const char *p = old;

	if (!out) {
		*why = "out of memory";
		return -1;
	}
	/* Keep every other pair, in order; the new one goes last. */
	while (*p) {
		size_t n = strcspn(p, ",");
		if (!(tags_key_len(p) == klen && strncmp(p, key, klen) == 0)) {
			memcpy(w, p, n);
			w += n;
			*w++ = ',';
		}
		p += n;
		if (*p == ',')
			p++;
	}
	snprintf(w, cap - (size_t)(w - out), "%s=%s", key, value);
	if (strchr(key, ',') || strchr(key, '=') || strchr(value, ',') || strchr(value, '=')) {
		*why = "a tag key or value of [tags] may not hold ',' or '='";
		free(out);
		return -1;
	}
	if (point_tags_check(out, why) != 0) {
		free(out);
		return -1;
	}
	free(*tags);
	*tags = out;
	return 0;
}

int tags_config_finish(struct edge_config *c, FILE *errors)
{
	char host[256];
	const char *why = NULL;
	int problems = 0;

	if (!c->edge_name || !*c->edge_name) {
		if (gethostname(host, sizeof(host)) != 0 || !*host)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		char *copy = strdup(host);
		if (!copy) {
			fprintf(errors, "[edge] name: out of memory\n");
			return 1;
		}
		free(c->edge_name);
		c->edge_name = copy;
	}
	char *pair = tags_config_collect(c);
	if (!pair) {
		fprintf(errors, "[edge] name: out of memory\n");
		return 1;
	}
	/* The name and key alone first, so the message names them. */
	size_t own = strlen(c->edge_tag) + strlen(c->edge_name) + 1;
	char saved = pair[own];
	pair[own] = '\0';
	if (strchr(c->edge_tag, ',') || strchr(c->edge_tag, '=') || strchr(c->edge_name, ',') ||
	    strchr(c->edge_name, '=')) {
		fprintf(errors, "[edge] name \"%s\" / tag \"%s\": may not hold ',' or '='\n",
			c->edge_name, c->edge_tag);
		problems++;
	} else if (point_tags_check(pair, &why) != 0) {
		fprintf(errors, "[edge] name \"%s\" / tag \"%s\": %s\n", c->edge_name, c->edge_tag,
			why);
		problems++;
	}
	pair[own] = saved;
	for (const char *p = c->global_tags ? c->global_tags : ""; *p && problems == 0;) {
		size_t n = strcspn(p, ",");
		if (tags_key_len(p) == strlen(c->edge_tag) &&
		    strncmp(p, c->edge_tag, strlen(c->edge_tag)) == 0) {
			fprintf(
			    errors,
			    "[tags] %s: the edge's name is written under this key ([edge] tag); "
			    "set [edge] name instead\n",
			    c->edge_tag);
			problems++;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	free(pair);
	return problems;
}

char *tags_config_collect(const struct edge_config *c)
{
	const char *g = c->global_tags ? c->global_tags : "";
	size_t cap = strlen(c->edge_tag) + strlen(c->edge_name) + strlen(g) + 3;
	char *out = malloc(cap);

	if (out)
		snprintf(out, cap, "%s=%s%s%s", c->edge_tag, c->edge_name, *g ? "," : "", g);
	return out;
}

void tags_config_print(const struct edge_config *c, FILE *out)
{
	const char *p = c->global_tags ? c->global_tags : "";

	if (!*p)
		return;
	fputs("\n[tags]\n", out);
	while (*p) {
		size_t n = strcspn(p, ","), k = tags_key_len(p);
		fprintf(out, "%.*s = %.*s\n", (int)k, p, (int)(n - k - 1), p + k + 1);
		p += n;
		if (*p == ',')
			p++;
	}
}
