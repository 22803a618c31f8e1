/* collect_config.c -- parsing and checking the repeatable [collector.NAME] sections. */
#include "collect_config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "point.h"
#include "config.h"

#define COLLECT_DEFAULT_INTERVAL_MS 10000u
#define COLLECT_MIN_INTERVAL_MS 100u
#define COLLECT_MAX_INTERVAL_MS (24ull * 3600 * 1000)
#define COLLECT_DEFAULT_TIMEOUT_MS 5000u

/* The keys of a collector section, in the order they are printed. */
enum collect_key {
	CK_TYPE,
	CK_ENABLED,
	CK_INTERVAL,
	CK_MEASUREMENT,
	CK_TAGS,
	CK_PATH,
	CK_SCALE,
	CK_OFFSET,
	CK_FIELD,
	CK_COMMAND,
	CK_SHELL,
	CK_TIMEOUT,
	CK_ENV,
	CK_COUNT
};

static const char *const collect_key_names[CK_COUNT] = {
    "type",   "enabled", "interval", "measurement", "tags",    "path", "scale",
    "offset", "field",	 "command",  "shell",	    "timeout", "env",
};

#define BIT(k) (1u << (k))
#define COMMON_KEYS (BIT(CK_TYPE) | BIT(CK_ENABLED) | BIT(CK_INTERVAL) | BIT(CK_TAGS))

/* The keys each type accepts, indexed by enum collect_type. */
static const unsigned collect_type_keys[] = {
    [COLLECT_CPU_TEMP] = COMMON_KEYS | BIT(CK_MEASUREMENT),
    [COLLECT_W1] = COMMON_KEYS | BIT(CK_MEASUREMENT),
    [COLLECT_FILE] = COMMON_KEYS | BIT(CK_MEASUREMENT) | BIT(CK_PATH) | BIT(CK_SCALE) |
		     BIT(CK_OFFSET) | BIT(CK_FIELD),
    [COLLECT_EXEC] = COMMON_KEYS | BIT(CK_COMMAND) | BIT(CK_SHELL) | BIT(CK_TIMEOUT) | BIT(CK_ENV),
    [COLLECT_EDGE] = COMMON_KEYS | BIT(CK_MEASUREMENT),
};

static const char *const collect_type_names[] = {
    [COLLECT_CPU_TEMP] = "cpu_temp", [COLLECT_W1] = "w1",     [COLLECT_FILE] = "file",
    [COLLECT_EXEC] = "exec",	     [COLLECT_EDGE] = "edge",
};

#define N_TYPES (sizeof(collect_type_names) / sizeof(collect_type_names[0]))

struct collect_config_parse {
	unsigned set;	     /* BIT(key) for every key the file set */
	int lines[CK_COUNT]; /* where each was set */
	int first_line;	     /* the section's first key (0: the environment) */
	bool pending;	     /* set since the last collect_config_finish() */
};

const char *collect_type_name(enum collect_type type)
{
	return (size_t)type < N_TYPES ? collect_type_names[type] : "?";
}

static int collect_type_parse(const char *s, enum collect_type *out)
{
	for (size_t i = 0; i < N_TYPES; i++) {
		if (strcmp(s, collect_type_names[i]) == 0) {
			*out = (enum collect_type)i;
			return 0;
		}
	}
	return -1;
}

void collect_config_clear(struct collect_config *c)
{
	free(c->name);
	free(c->measurement);
	free(c->tags);
	free(c->path);
	free(c->field);
	free(c->command);
	free(c->env);
	memset(c, 0, sizeof(*c));
}

int collect_config_copy(struct collect_config *dst, const struct collect_config *src)
{
	*dst = *src;
	dst->name = dst->measurement = dst->tags = dst->path = dst->field = dst->command =
	    dst->env = NULL;
	const struct {
		char **to;
		const char *from;
	} s[] = {{&dst->name, src->name},
		 {&dst->measurement, src->measurement},
		 {&dst->tags, src->tags ? src->tags : ""},
		 {&dst->path, src->path},
		 {&dst->field, src->field},
		 {&dst->command, src->command},
		 {&dst->env, src->env}};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (s[i].from) {
			*s[i].to = strdup(s[i].from);
			if (!*s[i].to) {
				collect_config_clear(dst);
				return -1;
			}
		}
	}
	return 0;
}

/* Replace *slot by a copy of s (NULL stays NULL). Returns 0 or -1 (no memory). */
static int collect_strset(char **slot, const char *s)
{
	char *copy = NULL;
	if (s) {
		copy = strdup(s);
		if (!copy)
			return -1;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

/* The entry named `name`, added (with nothing set) if new. NULL: no memory. */
static struct collect_config *collect_find(struct collect_config_list *l, const char *name,
					   struct collect_config_parse **parse)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].name, name) == 0) {
			*parse = &l->parse[i];
			return &l->items[i];
		}
	}
	struct collect_config *items = realloc(l->items, (l->n + 1) * sizeof(*items));
	if (!items)
		return NULL;
	l->items = items;
	struct collect_config_parse *p = realloc(l->parse, (l->n + 1) * sizeof(*p));
	if (!p)
		return NULL;
	l->parse = p;
	struct collect_config *c = &l->items[l->n];
	memset(c, 0, sizeof(*c));
	memset(&l->parse[l->n], 0, sizeof(l->parse[l->n]));
	c->name = strdup(name);
	if (!c->name)
		return NULL;
	*parse = &l->parse[l->n];
	l->n++;
	return c;
}

/* The defaults of every key the file did not set, for c's type. Returns 0 or
 * -1 (no memory). */
static int collect_defaults(struct collect_config *c, const struct collect_config_parse *p)
{
	static const char *const measurements[] = {
	    [COLLECT_CPU_TEMP] = "cpu_temp", [COLLECT_W1] = "w1_temp",	  [COLLECT_FILE] = NULL,
	    [COLLECT_EXEC] = NULL,	     [COLLECT_EDGE] = "iot_edge",
	};
	int rc = 0;

	if (!(p->set & BIT(CK_ENABLED)))
		c->enabled = true;
	if (!(p->set & BIT(CK_INTERVAL)))
		c->interval_ms = COLLECT_DEFAULT_INTERVAL_MS;
	if (!(p->set & BIT(CK_TIMEOUT)))
		c->timeout_ms = c->type == COLLECT_EXEC ? COLLECT_DEFAULT_TIMEOUT_MS : 0;
	if (!(p->set & BIT(CK_SCALE)))
		c->scale = 1;
	if (!(p->set & BIT(CK_OFFSET)))
		c->offset = 0;
	if (!(p->set & BIT(CK_SHELL)))
		c->shell = false;
	if (!(p->set & BIT(CK_TAGS)))
		rc |= collect_strset(&c->tags, "");
	if (!(p->set & BIT(CK_MEASUREMENT)))
		rc |= collect_strset(&c->measurement,
				     c->type == COLLECT_FILE ? c->name : measurements[c->type]);
	if (!(p->set & BIT(CK_FIELD)))
		rc |= collect_strset(&c->field, c->type == COLLECT_FILE ? "value" : NULL);
	return rc ? -1 : 0;
}

int collect_config_init(struct collect_config_list *l)
{
	struct collect_config_parse *p;

	memset(l, 0, sizeof(*l));
	struct collect_config *c = collect_find(l, "edge", &p);
	if (c)
		c->type = COLLECT_EDGE;
	if (!c || collect_defaults(c, p) != 0) {
		collect_config_free(l);
		return -1;
	}
	return 0;
}

/* A finite number for scale and offset. */
static int collect_parse_double(const char *s, double *out, const char **why)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
		*why = "must be a finite number";
		return -1;
	}
	*out = v;
	return 0;
}

/* Text for measurement, field, path and command: non-empty; a backslash
 * only where line protocol does not carry the text (path, command). */
static int collect_check_text(const char *s, bool backslash_ok, const char **why)
{
	if (!*s) {
		*why = "must not be empty";
		return -1;
	}
	if (!backslash_ok && strchr(s, '\\')) {
		*why = "must not hold a backslash";
		return -1;
	}
	return 0;
}

/* The exec key env: "NAME=value, NAME2" -- entries split on commas, blanks
 * around them ignored; NAME=value sets NAME, a bare NAME passes the daemon's
 * own value (when it has one). NAME is a shell-style name and never
 * IOT_EDGE_*; a value holds no comma. "" passes nothing more. */
static int collect_env_check(const char *s, char *scratch, size_t scratch_size, const char **why)
{
	for (const char *p = s; *p;) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		size_t len = strcspn(p, "=,"), name = len;
		while (name > 0 && (p[name - 1] == ' ' || p[name - 1] == '\t'))
			name--;
		bool ok = name > 0 && !(p[0] >= '0' && p[0] <= '9');
		for (size_t i = 0; ok && i < name; i++)
			ok = p[i] == '_' || (p[i] >= 'A' && p[i] <= 'Z') ||
			     (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9');
		if (!ok) {
			snprintf(
			    scratch, scratch_size,
			    "\"%.*s\" is not a variable name (NAME=value or NAME, comma-separated)",
			    (int)(len > 40 ? 40 : len), p);
			*why = scratch;
			return -1;
		}
		if (name >= 9 && strncmp(p, "IOT_EDGE_", 9) == 0) {
			snprintf(scratch, scratch_size,
				 "%.*s: IOT_EDGE_* variables are never passed to a collector",
				 (int)(name > 40 ? 40 : name), p);
			*why = scratch;
			return -1;
		}
		p += len;
		if (*p == '=')
			p += strcspn(p, ",");
	}
	return 0;
}

static int collect_key_find(const char *key)
{
	for (int k = 0; k < CK_COUNT; k++) {
		if (strcmp(collect_key_names[k], key) == 0)
			return k;
	}
	return -1;
}

int collect_config_key(struct collect_config_list *l, const char *name, const char *key,
		       const char *value, int line, char *scratch, size_t scratch_size,
		       const char **why)
{
	struct collect_config_parse *p;
	uint64_t ms = 0;
	int k = collect_key_find(key);

	if (k < 0) {
		*why = "unknown key";
		return -1;
	}
	if (!*name || strpbrk(name, " \t\\")) {
		*why = "the section needs a NAME without blanks: [collector.NAME]";
		return -1;
	}
	struct collect_config *c = collect_find(l, name, &p);
	if (!c) {
		*why = "out of memory";
		return -1;
	}
	if (!p->pending) /* the first key of this file (or of the environment) */
		p->first_line = line;
	p->pending = true;

	int rc = -1;
	switch ((enum collect_key)k) {
	case CK_TYPE:
		if (collect_type_parse(value, &c->type) != 0) {
			*why = "must be one of cpu_temp|w1|file|exec|edge";
			goto out;
		}
		break;
	case CK_ENABLED:
	case CK_SHELL:
		if (config_parse_bool(value, k == CK_ENABLED ? &c->enabled : &c->shell, why) != 0)
			goto out;
		break;
	case CK_INTERVAL:
	case CK_TIMEOUT:
		if (config_parse_duration(value, &ms, why) != 0)
			goto out;
		if (ms < COLLECT_MIN_INTERVAL_MS || ms > COLLECT_MAX_INTERVAL_MS) {
			snprintf(scratch, scratch_size, "%" PRIu64 "ms is out of range %u..%llums",
				 ms, COLLECT_MIN_INTERVAL_MS,
				 (unsigned long long)COLLECT_MAX_INTERVAL_MS);
			*why = scratch;
			goto out;
		}
		*(k == CK_INTERVAL ? &c->interval_ms : &c->timeout_ms) = ms;
		break;
	case CK_SCALE:
	case CK_OFFSET:
		if (collect_parse_double(value, k == CK_SCALE ? &c->scale : &c->offset, why) != 0)
			goto out;
		break;
	case CK_TAGS:
		if (point_tags_check(value, why) != 0)
			goto out;
		break;
	case CK_MEASUREMENT:
	case CK_PATH:
	case CK_FIELD:
	case CK_COMMAND:
		if (collect_check_text(value, k == CK_PATH || k == CK_COMMAND, why) != 0)
			goto out;
		if (k == CK_MEASUREMENT && value[0] == '#') {
			*why = "must not start with '#'";
			goto out;
		}
		break;
	case CK_ENV:
		if (collect_env_check(value, scratch, scratch_size, why) != 0)
			goto out;
		break;
	case CK_COUNT:
		goto out;
	}
	char **text = k == CK_TAGS	    ? &c->tags
		      : k == CK_MEASUREMENT ? &c->measurement
		      : k == CK_PATH	    ? &c->path
		      : k == CK_FIELD	    ? &c->field
		      : k == CK_COMMAND	    ? &c->command
		      : k == CK_ENV	    ? &c->env
					    : NULL;
	if (text && collect_strset(text, value) != 0) {
		*why = "out of memory";
		goto out;
	}
	p->set |= BIT(k);
	p->lines[k] = line;
	rc = 0;
out:
	return rc;
}

static void collect_problem(FILE *errors, const char *path, int line, const char *name,
			    const char *key, const char *why)
{
	if (line > 0)
		fprintf(errors, "%s:%d: [collector.%s] %s: %s\n", path, line, name, key, why);
	else
		fprintf(errors, "%s: [collector.%s] %s: %s\n", path, name, key, why);
}

/* Check one collector the file touched; returns its number of problems. */
static int collect_finish_one(struct collect_config *c, struct collect_config_parse *p,
			      const char *path, FILE *errors)
{
	int problems = 0;

	if (!(p->set & BIT(CK_TYPE)) && collect_type_parse(c->name, &c->type) != 0) {
		collect_problem(errors, path, p->first_line, c->name, "type",
				"missing (cpu_temp|w1|file|exec|edge; only a section named "
				"after a type may leave it out)");
		return 1;
	}
	for (int k = 0; k < CK_COUNT; k++) {
		if ((p->set & BIT(k)) && !(collect_type_keys[c->type] & BIT(k))) {
			char why[96];
			snprintf(why, sizeof(why), "not a key of type %s",
				 collect_type_name(c->type));
			collect_problem(errors, path, p->lines[k], c->name, collect_key_names[k],
					why);
			problems++;
		}
	}
	if (collect_defaults(c, p) != 0) {
		collect_problem(errors, path, p->first_line, c->name, "type", "out of memory");
		return problems + 1;
	}
	if (c->type == COLLECT_FILE && !(p->set & BIT(CK_PATH))) {
		collect_problem(errors, path, p->first_line, c->name, "path",
				"missing: a file collector needs a path");
		problems++;
	}
	if (c->type == COLLECT_EXEC && !(p->set & BIT(CK_COMMAND))) {
		collect_problem(errors, path, p->first_line, c->name, "command",
				"missing: an exec collector needs a command");
		problems++;
	}
	if (c->type == COLLECT_EXEC && c->timeout_ms >= c->interval_ms) {
		char why[128];
		snprintf(why, sizeof(why),
			 "%" PRIu64 "ms must be below the interval (%" PRIu64 "ms)", c->timeout_ms,
			 c->interval_ms);
		int line = p->lines[CK_TIMEOUT] ? p->lines[CK_TIMEOUT] : p->lines[CK_INTERVAL];
		collect_problem(errors, path, line ? line : p->first_line, c->name, "timeout", why);
		problems++;
	}
	return problems;
}

int collect_config_finish(struct collect_config_list *l, const char *path, FILE *errors)
{
	int problems = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->parse[i].pending)
			problems += collect_finish_one(&l->items[i], &l->parse[i], path, errors);
		l->parse[i].pending = false;
	}
	return problems;
}

void collect_config_free(struct collect_config_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		collect_config_clear(&l->items[i]);
	free(l->items);
	free(l->parse);
	memset(l, 0, sizeof(*l));
}

static bool collect_text_equal(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Whether key k holds the same value in a and b. */
static bool collect_key_equal(const struct collect_config *a, const struct collect_config *b,
			      enum collect_key k)
{
	switch (k) {
	case CK_TYPE:
		return a->type == b->type;
	case CK_ENABLED:
		return a->enabled == b->enabled;
	case CK_INTERVAL:
		return a->interval_ms == b->interval_ms;
	case CK_MEASUREMENT:
		return collect_text_equal(a->measurement, b->measurement);
	case CK_TAGS:
		return collect_text_equal(a->tags, b->tags);
	case CK_PATH:
		return collect_text_equal(a->path, b->path);
	case CK_SCALE:
		return a->scale == b->scale;
	case CK_OFFSET:
		return a->offset == b->offset;
	case CK_FIELD:
		return collect_text_equal(a->field, b->field);
	case CK_COMMAND:
		return collect_text_equal(a->command, b->command);
	case CK_SHELL:
		return a->shell == b->shell;
	case CK_TIMEOUT:
		return a->timeout_ms == b->timeout_ms;
	case CK_ENV:
		return collect_text_equal(a->env, b->env);
	case CK_COUNT:
		break;
	}
	return true;
}

static const struct collect_config *collect_named(const struct collect_config_list *l,
						  const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	}
	return NULL;
}

size_t collect_config_diff(const struct collect_config_list *a, const struct collect_config_list *b,
			   collect_config_diff_fn *fn, void *arg)
{
	size_t changed = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct collect_config *ca = &a->items[i], *cb = collect_named(b, ca->name);
		if (!cb) {
			fn(arg, ca->name, NULL);
			changed++;
			continue;
		}
		for (int k = 0; k < CK_COUNT; k++) {
			if (!collect_key_equal(ca, cb, (enum collect_key)k)) {
				fn(arg, ca->name, collect_key_names[k]);
				changed++;
			}
		}
	}
	for (size_t i = 0; i < b->n; i++) {
		if (!collect_named(a, b->items[i].name)) {
			fn(arg, b->items[i].name, NULL);
			changed++;
		}
	}
	return changed;
}

void collect_config_print(const struct collect_config_list *l, FILE *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct collect_config *c = &l->items[i];
		fprintf(out,
			"\n[collector.%s]\ntype = %s\nenabled = %s\ninterval = %" PRIu64 "ms\n",
			c->name, collect_type_name(c->type), c->enabled ? "true" : "false",
			c->interval_ms);
		if (c->measurement)
			fprintf(out, "measurement = %s\n", c->measurement);
		fprintf(out, "tags = %s\n", c->tags ? c->tags : "");
		if (c->type == COLLECT_FILE)
			fprintf(out, "path = %s\nscale = %.17g\noffset = %.17g\nfield = %s\n",
				c->path ? c->path : "", c->scale, c->offset,
				c->field ? c->field : "");
		if (c->type == COLLECT_EXEC)
			fprintf(out, "command = %s\nshell = %s\ntimeout = %" PRIu64 "ms\n",
				c->command ? c->command : "", c->shell ? "true" : "false",
				c->timeout_ms);
		if (c->type == COLLECT_EXEC && c->env)
			fprintf(out, "env = %s\n", c->env);
	}
}
