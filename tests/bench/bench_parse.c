/* bench_parse.c -- worst-case parse time per MB of the ingest parsers, beside a plain body's. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lineproto_parse.h"
#include "reading.h"

/*
 * Prints one line per body: "NAME BYTES POINTS MS_PER_MB" (the median of
 * ROUNDS parses of the same body). The worst cases are what the limits let
 * through at their most: a general JSON object of 120 000 fields (the
 * duplicate check sees every key; http.max_fields raised to allow it) and
 * 1 MiB of 1024-field lines (the default http.max_fields); the baselines are
 * the common shapes, seed readings in an array and short lines.
 *
 * Usage: bench_parse [ROUNDS]   (default 5)
 */

static int64_t bench_clock_next;

static int64_t bench_clock(void *arg)
{
	(void)arg;
	return ++bench_clock_next;
}

static double bench_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A body of about 1 MiB built by appending `piece(i)` until full. */
struct bench_body {
	char *s;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void bench_put(struct bench_body *b, const char *fmt,
							    ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);

	if (n < 0 || (size_t)n >= b->cap - b->len) {
		fprintf(stderr, "bench_parse: body overflow\n");
		exit(1);
	}
	b->len += (size_t)n;
}

static void bench_init(struct bench_body *b, size_t cap)
{
	b->s = malloc(cap);
	b->len = 0;
	b->cap = cap;
	if (!b->s)
		exit(1);
}

/* Parses body `rounds` times; prints the median. kind 0: JSON, 1: line protocol. */
static void bench_run(const char *name, const struct bench_body *b, int kind, int rounds)
{
	struct reading_limits lim = {.max_fields = 200000};
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS, .clock = bench_clock};
	double ms[64];
	size_t points = 0;

	for (int r = 0; r < rounds; r++) {
		double t0 = bench_now_ms();

		if (kind == 0) {
			struct reading_points pts;
			char err[256];

			if (reading_parse_json_limits(b->s, b->len, bench_clock, NULL, &lim, &pts,
						      err, sizeof(err)) != 0 &&
			    strstr(err, "duplicate") == NULL) {
				fprintf(stderr, "bench_parse: %s: %s\n", name, err);
				exit(1);
			}
			points = pts.count;
			free(pts.text);
		} else {
			struct lineproto_report rep;
			struct lineproto_buf out;

			lineproto_buf_init(&out, (size_t)64 << 20);
			if (lineproto_parse(b->s, b->len, &o, &out, &rep) != LINEPROTO_OK ||
			    rep.bad_lines) {
				fprintf(stderr, "bench_parse: %s: %s\n", name, rep.errors);
				exit(1);
			}
			points = rep.points;
			lineproto_buf_free(&out);
		}
		ms[r] = bench_now_ms() - t0;
	}
	qsort(ms, (size_t)rounds, sizeof(ms[0]), bench_cmp);
	printf("%s %zu %zu %.2f\n", name, b->len, points,
	       ms[rounds / 2] / ((double)b->len / (1024.0 * 1024.0)));
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	struct bench_body b;
	size_t i;

	if (rounds < 1 || rounds > 64)
		rounds = 5;
	/* JSON worst: one object, 120 000 fields, the last a duplicate. */
	bench_init(&b, 4u << 20);
	bench_put(&b, "{\"measurement\":\"m\",\"fields\":{\"k0\":0");
	for (i = 1; i < 119999; i++)
		bench_put(&b, ",\"k%zu\":%zu", i, i);
	bench_put(&b, ",\"k7\":7}}");
	bench_run("json_120000_fields", &b, 0, rounds);
	/* JSON baseline: ~1 MiB of seed readings in one array. */
	b.len = 0;
	bench_put(&b, "[{\"type\":\"temp\",\"value\":0,\"sensor_id\":0}");
	while (b.len < (1u << 20) - 64)
		bench_put(&b, ",{\"type\":\"temp\",\"value\":%zu,\"sensor_id\":%zu}", b.len,
			  b.len % 100);
	bench_put(&b, "]");
	bench_run("json_seed_array", &b, 0, rounds);
	/* Line protocol worst: 1 MiB of 1024-field lines. */
	b.len = 0;
	for (size_t line = 0; b.len < (1u << 20) - 8200; line++) {
		bench_put(&b, "lp,d=%zu f0=0i", line % 5);
		for (i = 1; i < 1024; i++)
			bench_put(&b, ",f%zu=%zui", i, i);
		bench_put(&b, " %zu\n", 1000 + line);
	}
	bench_run("lp_1024_fields", &b, 1, rounds);
	/* Line protocol baseline: 1 MiB of short lines. */
	b.len = 0;
	for (i = 0; b.len < (1u << 20) - 64; i++)
		bench_put(&b, "cpu,host=h%zu v=%zu 1\n", i % 10, i);
	bench_run("lp_short_lines", &b, 1, rounds);
	free(b.s);
	return 0;
}
