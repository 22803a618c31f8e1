/* fuzz_lineproto.c -- libFuzzer: any body -> lineproto_parse(); canonical lines re-parse same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "lineproto_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t fuzz_clock_next;

static int64_t fuzz_clock(void *arg)
{
	(void)arg;
	return fuzz_clock_next++;
}

/* Canonical lines all carry a timestamp: re-parsing must not read the clock. */
static int64_t fuzz_no_clock(void *arg)
{
	(void)arg;
	fprintf(stderr, "invariant broken: the clock was read for a canonical line\n");
	abort();
}

static void fuzz_die(const char *what, const char *text, size_t n)
{
	fprintf(stderr, "invariant broken: %s in \"%.*s\"\n", what, (int)(n > 300 ? 300 : n), text);
	abort();
}

/* Every canonical line parses again to exactly itself. */
static void fuzz_check_canonical(const char *text, size_t len, size_t points, int unsigned_ok)
{
	struct lineproto_parse_options o = {
	    .precision_ns = LINEPROTO_NS, .clock = fuzz_no_clock, .unsigned_ok = unsigned_ok};
	struct lineproto_buf again;
	char why[256];
	size_t lines = 0;
	size_t pos = 0;

	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len))
		fuzz_die("canonical text not newline-terminated or holds NUL", text, len);
	if (!lineproto_utf8_valid(text, len))
		fuzz_die("canonical text is not UTF-8", text, len);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (size_t)(nl - (text + pos));

		if (n == 0)
			fuzz_die("empty canonical line", text, len);
		lineproto_buf_init(&again, 1 << 24);
		if (lineproto_parse_line(text + pos, n, &o, &again, why, sizeof(why)) !=
		    LINEPROTO_OK)
			fuzz_die(why, text + pos, n);
		if (again.len != n + 1 || memcmp(again.data, text + pos, n + 1) != 0)
			fuzz_die("canonical line changed on a second parse", text + pos, n);
		lineproto_buf_free(&again);
		lines++;
		pos += n + 1;
	}
	if (lines != points)
		fuzz_die("line count differs from report.points", text, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t precisions[] = {LINEPROTO_NS, LINEPROTO_US, LINEPROTO_MS,
					     LINEPROTO_S,  LINEPROTO_M,	 LINEPROTO_H};
	struct lineproto_parse_options o;
	struct lineproto_report report;
	struct lineproto_buf out;
	int rc;

	if (size < 2)
		return 0;
	/* The first byte picks the options, the rest is the body. */
	memset(&o, 0, sizeof(o));
	o.precision_ns = precisions[data[0] % 6];
	o.unsigned_ok = (data[0] >> 3) & 1;
	o.max_line = (data[0] >> 4) & 1 ? 64 : 0;
	o.max_points = (data[0] >> 5) & 1 ? 3 : 0;
	o.clock = fuzz_clock;
	fuzz_clock_next = 1;
	lineproto_buf_init(&out, (data[0] >> 6) & 1 ? 100 : (size_t)1 << 26);
	rc = lineproto_parse((const char *)data + 1, size - 1, &o, &out, &report);
	if (report.errors_len != strlen(report.errors) || report.errors_len >= LINEPROTO_ERRORS_MAX)
		fuzz_die("error text length", report.errors, report.errors_len);
	if ((report.bad_lines == 0) != (report.first_bad == 0))
		fuzz_die("first_bad disagrees with bad_lines", report.errors, report.errors_len);
	if (report.bad_lines > report.errors_omitted && report.errors_len == 0)
		fuzz_die("refused lines without a message", "", 0);
	if (rc == LINEPROTO_OK && report.points > 0)
		fuzz_check_canonical(out.data, out.len, report.points, o.unsigned_ok);
	if (rc == LINEPROTO_OK && report.points == 0 && out.len != 0)
		fuzz_die("text without points", out.data, out.len);
	if (rc == LINEPROTO_ETOOMANY && report.points != o.max_points + 1)
		fuzz_die("ETOOMANY at the wrong count", "", 0);
	if (rc != LINEPROTO_OK && rc != LINEPROTO_ETOOMANY && rc != LINEPROTO_ETOOBIG)
		fuzz_die("unexpected return code", "", 0);
	lineproto_buf_free(&out);
	return 0;
}
