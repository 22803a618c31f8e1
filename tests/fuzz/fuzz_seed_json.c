/* fuzz_seed_json.c -- libFuzzer target: any body -> reading_parse_seed_json() + invariants. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "reading.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t fuzz_clock_next;

static int64_t fuzz_clock(void *arg)
{
	(void)arg;
	return fuzz_clock_next++;
}

/* Stops the run with a message: libFuzzer saves the input as a crash. */
static void fuzz_die(const char *what, const char *line, size_t n)
{
	fprintf(stderr, "invariant broken: %s in line \"%.*s\"\n", what, (int)n, line);
	abort();
}

/* Checks one float field value at s[*i..): a finite number, no 'i'. */
static void fuzz_check_float(const char *line, size_t n, size_t *i)
{
	char tmp[LINEPROTO_FLOAT_MAX + 1];
	size_t start = *i;
	char *end = NULL;
	double v;

	while (*i < n && line[*i] != ',' && line[*i] != ' ')
		(*i)++;
	if (*i == start || *i - start > LINEPROTO_FLOAT_MAX)
		fuzz_die("bad float length", line, n);
	memcpy(tmp, line + start, *i - start);
	tmp[*i - start] = '\0';
	v = strtod(tmp, &end);
	if (*end != '\0' || !isfinite(v))
		fuzz_die("bad float", line, n);
}

/* Checks that line[0..n) (without its '\n') is exactly
 * `data,type=<escaped> [sensor_id=<float>,]value=<float> <int64>`. */
static void fuzz_check_line(const char *line, size_t n)
{
	static const char head[] = "data,type=";
	size_t i = sizeof(head) - 1;
	size_t start;
	char *end = NULL;
	long long ts;
	char tmp[24];

	if (n < i || memcmp(line, head, i) != 0)
		fuzz_die("no \"data,type=\"", line, n);
	start = i;
	/* The tag value: ',', '=' and ' ' only escaped, no backslash else. */
	while (i < n && line[i] != ' ') {
		if (line[i] == '\\') {
			if (i + 1 >= n || !strchr(",= ", line[i + 1]))
				fuzz_die("stray backslash", line, n);
			i++;
		} else if (line[i] == ',' || line[i] == '=' || (unsigned char)line[i] < 0x20) {
			fuzz_die("unescaped byte in tag", line, n);
		}
		i++;
	}
	if (i == start || i >= n)
		fuzz_die("empty tag or no fields", line, n);
	i++;
	if (n - i > 10 && memcmp(line + i, "sensor_id=", 10) == 0) {
		i += 10;
		fuzz_check_float(line, n, &i);
		if (i >= n || line[i] != ',')
			fuzz_die("no ',' after sensor_id", line, n);
		i++;
	}
	if (n - i < 6 || memcmp(line + i, "value=", 6) != 0)
		fuzz_die("no value field", line, n);
	i += 6;
	fuzz_check_float(line, n, &i);
	if (i >= n || line[i] != ' ' || n - i - 1 == 0 || n - i - 1 >= sizeof(tmp))
		fuzz_die("no timestamp", line, n);
	memcpy(tmp, line + i + 1, n - i - 1);
	tmp[n - i - 1] = '\0';
	errno = 0;
	ts = strtoll(tmp, &end, 10);
	if (errno != 0 || *end != '\0' || ts < LINEPROTO_TIME_MIN || ts > LINEPROTO_TIME_MAX)
		fuzz_die("bad timestamp", line, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char sentinel[] = "sentinel";
	struct reading_points out = {sentinel, 1, 1};
	char err[256];
	size_t lines = 0;
	size_t pos = 0;
	int rc;

	fuzz_clock_next = 1;
	err[0] = '\0';
	rc = reading_parse_seed_json((const char *)data, size, fuzz_clock, NULL, &out, err,
				     sizeof(err));
	if (rc == -1) {
		if (out.text || out.len || out.count)
			fuzz_die("result not cleared on failure", err, strlen(err));
		if (err[0] == '\0' || strlen(err) >= sizeof(err))
			fuzz_die("no error message", "", 0);
		return 0;
	}
	if (rc != 0)
		fuzz_die("return code neither 0 nor -1", "", 0);
	if (!out.text || out.len == 0 || out.count == 0 || out.text[out.len] != '\0' ||
	    memchr(out.text, '\0', out.len))
		fuzz_die("bad result", "", 0);
	if (out.text[out.len - 1] != '\n')
		fuzz_die("text does not end in a newline", out.text, out.len);
	while (pos < out.len) {
		const char *nl = memchr(out.text + pos, '\n', out.len - pos);
		size_t n = (size_t)(nl - (out.text + pos));

		fuzz_check_line(out.text + pos, n);
		lines++;
		pos += n + 1;
	}
	if (lines != out.count)
		fuzz_die("line count differs from out.count", out.text, out.len);
	free(out.text);
	return 0;
}
