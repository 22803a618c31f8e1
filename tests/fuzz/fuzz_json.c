/* fuzz_json.c -- libFuzzer: any /data body -> reading_parse_json(); points re-parse to self. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "lineproto_parse.h"
#include "reading.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t fuzz_clock_next;

static int64_t fuzz_clock(void *arg)
{
	(void)arg;
	return fuzz_clock_next++;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS, .clock = fuzz_no_clock};
	static char sentinel[] = "sentinel";
	struct reading_points out = {sentinel, 1, 1};
	struct lineproto_buf again;
	char err[256];
	char why[256];
	size_t lines = 0;
	size_t pos = 0;
	int rc;

	fuzz_clock_next = 1;
	err[0] = '\0';
	rc = reading_parse_json((const char *)data, size, fuzz_clock, NULL, &out, err, sizeof(err));
	if (rc == -1) {
		if (out.text || out.len || out.count)
			fuzz_die("result not cleared on failure", err, strlen(err));
		if (err[0] == '\0')
			fuzz_die("no error message", "", 0);
		return 0;
	}
	if (rc != 0 || !out.text || out.len == 0 || out.text[out.len - 1] != '\n' ||
	    memchr(out.text, '\0', out.len))
		fuzz_die("bad result", out.text ? out.text : "", out.text ? out.len : 0);
	/* The JSON encoder and the line-protocol parser must agree: every
	 * point the one writes, the other reads back unchanged. */
	while (pos < out.len) {
		const char *nl = memchr(out.text + pos, '\n', out.len - pos);
		size_t n = (size_t)(nl - (out.text + pos));

		lineproto_buf_init(&again, 1 << 24);
		if (lineproto_parse_line(out.text + pos, n, &o, &again, why, sizeof(why)) !=
		    LINEPROTO_OK)
			fuzz_die(why, out.text + pos, n);
		if (again.len != n + 1 || memcmp(again.data, out.text + pos, n + 1) != 0)
			fuzz_die("the line-protocol parser reads the point differently",
				 out.text + pos, n);
		lineproto_buf_free(&again);
		lines++;
		pos += n + 1;
	}
	if (lines != out.count)
		fuzz_die("line count differs from out.count", out.text, out.len);
	free(out.text);
	return 0;
}
