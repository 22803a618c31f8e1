/* fuzz_rfc3339.c -- libFuzzer target: rfc3339_parse_ns() on any text; results must round-trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc3339.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes ns as YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ (H. Hinnant's civil_from_days). */
static void fuzz_format(int64_t ns, char *out, size_t out_size)
{
	int64_t secs = ns / 1000000000;
	int64_t frac = ns % 1000000000;
	int64_t days;
	int64_t sod;
	int64_t era;
	int64_t doe;
	int64_t yoe;
	int64_t doy;
	int64_t mp;
	int64_t y;
	int64_t m;
	int64_t d;

	if (frac < 0) {
		frac += 1000000000;
		secs -= 1;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days -= 1;
	}
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	snprintf(out, out_size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09lldZ", (long long)y,
		 (long long)m, (long long)d, (long long)(sod / 3600), (long long)(sod / 60 % 60),
		 (long long)(sod % 60), (long long)frac);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[128] = "";
	int64_t ns = 0;
	int64_t again = 0;
	char text[64];

	if (rfc3339_parse_ns((const char *)data, size, &ns, why, sizeof(why)) != 0) {
		if (why[0] == '\0')
			abort();
		return 0;
	}
	/* The shortest valid form is YYYY-MM-DDTHH:MM:SSZ. */
	if (size < 20)
		abort();
	fuzz_format(ns, text, sizeof(text));
	if (rfc3339_parse_ns(text, strlen(text), &again, why, sizeof(why)) != 0 || again != ns) {
		fprintf(stderr, "%.*s -> %lld -> %s -> %lld\n", (int)size, (const char *)data,
			(long long)ns, text, (long long)again);
		abort();
	}
	return 0;
}
