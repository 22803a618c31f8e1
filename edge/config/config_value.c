/* config_value.c -- the text forms of setting values: whole numbers, sizes, durations, booleans
 * and words of a list, shared by every section's parser. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Parse "<digits><suffix>" where suffix is one of `units` (name -> multiplier). */
struct unit {
	const char *name;
	uint64_t factor;
};

static int parse_scaled(const char *value, const struct unit *units, const char *unit_hint,
			uint64_t *out, const char **why)
{
	if (!isdigit((unsigned char)value[0])) {
		*why = "must be a number";
		return -1;
	}
	errno = 0;
	char *end;
	unsigned long long n = strtoull(value, &end, 10);
	if (errno == ERANGE) {
		*why = "number too large";
		return -1;
	}
	while (*end == ' ')
		end++;
	for (const struct unit *u = units; u->name; u++) {
		if (strcmp(end, u->name) != 0)
			continue;
		if (n > UINT64_MAX / u->factor) {
			*why = "number too large";
			return -1;
		}
		*out = (uint64_t)n * u->factor;
		return 0;
	}
	*why = unit_hint;
	return -1;
}

static const struct unit size_units[] = {
    {"", 1},
    {"B", 1},
    {"kB", 1000},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {NULL, 0},
};

static const struct unit plain_units[] = {{"", 1}, {NULL, 0}};

static const struct unit duration_units[] = {
    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600ull * 1000}, {NULL, 0},
};

int config_parse_duration(const char *value, uint64_t *ms, const char **why)
{
	return parse_scaled(value, duration_units, "unknown unit (use ms, s, m or h)", ms, why);
}

int config_parse_uint(const char *value, uint64_t *n, const char **why)
{
	return parse_scaled(value, plain_units, "must be a whole number", n, why);
}

int config_parse_size(const char *value, uint64_t *bytes, const char **why)
{
	return parse_scaled(value, size_units, "unknown unit (use B, kB, MB, GB, KiB, MiB or GiB)",
			    bytes, why);
}

int config_parse_bool(const char *value, bool *out, const char **why)
{
	unsigned index;
	if (config_parse_enum(value, "false|true|no|yes|off|on|0|1", &index) != 0) {
		*why = "must be true or false";
		return -1;
	}
	*out = index % 2 == 1;
	return 0;
}

int config_parse_enum(const char *value, const char *choices, unsigned *out)
{
	size_t len = strlen(value);
	unsigned index = 0;
	for (const char *p = choices; *p; index++) {
		size_t word = strcspn(p, "|");
		if (word == len && strncmp(p, value, len) == 0) {
			*out = index;
			return 0;
		}
		p += word;
		if (*p == '|')
			p++;
	}
	return -1;
}
