/* collect_sysfs.c -- the sysfs readers: CPU temperature, DS18B20 thermometers and any file. */
#include "collect_sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "point.h"
#include "text.h"

/* The files read are tiny (w1_slave is about 75 bytes). */
#define COLLECT_SYSFS_READ_MAX 512
#define COLLECT_SYSFS_PATH_MAX 4096
/* How much of a file's text an error message quotes. */
#define COLLECT_SYSFS_QUOTE 24
/* The DS18B20's power-on register value: no conversion happened. */
#define COLLECT_W1_POWER_ON 85000

/* A file's text: NUL-terminated, `truncated` when longer than the buffer. */
struct collect_text {
	char s[COLLECT_SYSFS_READ_MAX];
	size_t len;
	bool truncated;
};

/* Keeps "<path>: <message>" as r's latest problem. */
__attribute__((format(printf, 3, 0))) static void
collect_vnote(struct collect_read *r, const char *path, const char *fmt, va_list ap)
{
	char why[128];

	if (vsnprintf(why, sizeof(why), fmt, ap) < 0)
		why[0] = '\0';
	if (snprintf(r->error, sizeof(r->error), "%s: %s", path, why) < 0)
		r->error[0] = '\0';
}

/* Counts a problem (an error, or a skipped reading) and keeps its message,
 * prefixed with `path`, as the latest one. */
__attribute__((format(printf, 4, 5))) static void
collect_problem(struct collect_read *r, bool skipped, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (skipped)
		r->skipped++;
	else
		r->errors++;
	va_start(ap, fmt);
	collect_vnote(r, path, fmt, ap);
	va_end(ap);
}

/* Keeps the message without counting it (the caller counts a -1 return). */
__attribute__((format(printf, 3, 4))) static void
collect_note(struct collect_read *r, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	collect_vnote(r, path, fmt, ap);
	va_end(ap);
}

/* Copies up to COLLECT_SYSFS_QUOTE bytes of s for a message, control bytes,
 * quotes and backslashes shown as '?'. Returns out. */
static const char *collect_quote(const char *s, char out[COLLECT_SYSFS_QUOTE + 4])
{
	return text_quote(out, COLLECT_SYSFS_QUOTE + 4, s, strlen(s), 0);
}

/* errno's text into buf (strerror() is not thread-safe). Returns buf. */
static const char *collect_errno_text(int err, char *buf, size_t size)
{
	if (strerror_r(err, buf, size) != 0)
		(void)snprintf(buf, size, "error %d", err);
	return buf;
}

/* Reads the regular file root_path into t. Returns 0, or -1 with the problem
 * counted under `path` (the path without root). */
static int collect_read_text(struct collect_read *r, const char *root_path, const char *path,
			     struct collect_text *t)
{
	char err[96];
	struct stat st;
	ssize_t got;
	char more;
	int flags;
	int fd;
	int rc = -1;

	t->len = 0;
	t->truncated = false;
	t->s[0] = '\0';
	/* O_NONBLOCK: a FIFO matched by a glob must not hang the collector. */
	fd = open(root_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		collect_problem(r, false, path, "%s", collect_errno_text(errno, err, sizeof(err)));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		collect_problem(r, false, path, "%s", collect_errno_text(errno, err, sizeof(err)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		collect_problem(r, false, path, "not a regular file");
		goto out;
	}
	/* A regular file: read it blocking (a DS18B20 conversion takes 750 ms). */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		collect_problem(r, false, path, "%s", collect_errno_text(errno, err, sizeof(err)));
		goto out;
	}
	for (;;) {
		got = read(fd, t->s + t->len, sizeof(t->s) - 1 - t->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			collect_problem(r, false, path, "%s",
					collect_errno_text(errno, err, sizeof(err)));
			goto out;
		}
		if (got == 0)
			break;
		t->len += (size_t)got;
		if (t->len < sizeof(t->s) - 1)
			continue;
		/* Full: is there more? */
		do {
			got = read(fd, &more, 1);
		} while (got < 0 && errno == EINTR);
		if (got < 0) {
			collect_problem(r, false, path, "%s",
					collect_errno_text(errno, err, sizeof(err)));
			goto out;
		}
		t->truncated = got > 0;
		break;
	}
	t->s[t->len] = '\0';
	if (memchr(t->s, '\0', t->len)) {
		collect_problem(r, false, path, "holds a NUL byte");
		goto out;
	}
	rc = 0;
out:
	if (close(fd) != 0 && rc == 0) {
		collect_problem(r, false, path, "%s", collect_errno_text(errno, err, sizeof(err)));
		rc = -1;
	}
	return rc;
}

/* Cuts the text after its first line (the '\n' becomes NUL) and returns
 * that line, or NULL (problem counted) when it is empty or longer than what
 * was read. */
static char *collect_first_line(struct collect_read *r, const char *path, struct collect_text *t)
{
	char *nl = strchr(t->s, '\n');

	if (!nl && t->truncated) {
		collect_problem(r, false, path, "first line longer than %d bytes",
				COLLECT_SYSFS_READ_MAX - 1);
		return NULL;
	}
	if (nl)
		*nl = '\0';
	if (t->s[0] == '\0') {
		collect_problem(r, false, path, "empty");
		return NULL;
	}
	return t->s;
}

static bool collect_only_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0';
}

/* s as a decimal integer: optional blanks and sign, digits, optional
 * whitespace. Returns 0, or -1 (problem counted under path). */
static int collect_parse_int(struct collect_read *r, const char *path, const char *s, long long *v)
{
	char q[COLLECT_SYSFS_QUOTE + 4];
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (end == s || !collect_only_space(end)) {
		collect_problem(r, false, path, "not a number: \"%s\"", collect_quote(s, q));
		return -1;
	}
	if (errno == ERANGE) {
		collect_problem(r, false, path, "number out of range: \"%s\"", collect_quote(s, q));
		return -1;
	}
	return 0;
}

static bool collect_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* s as an integer or decimal number: optional blanks and sign, digits with
 * an optional '.' and fraction (no exponent, no inf/nan/hex), optional
 * whitespace. Returns 0, or -1 (problem counted under path). */
static int collect_parse_decimal(struct collect_read *r, const char *path, const char *s, double *v)
{
	char q[COLLECT_SYSFS_QUOTE + 4];
	const char *p = s;
	size_t digits = 0;
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '-' || *p == '+')
		p++;
	for (; collect_digit(*p); p++)
		digits++;
	if (*p == '.') {
		for (p++; collect_digit(*p); p++)
			digits++;
	}
	if (digits == 0 || !collect_only_space(p)) {
		collect_problem(r, false, path, "not a number: \"%s\"", collect_quote(s, q));
		return -1;
	}
	errno = 0;
	*v = strtod(s, &end);
	if (end != p || errno == ERANGE || !isfinite(*v)) {
		collect_problem(r, false, path, "number out of range: \"%s\"", collect_quote(s, q));
		return -1;
	}
	return 0;
}

/* The glob pattern for `pattern` below `root`: root with glob's special
 * bytes escaped and trailing slashes dropped, then the pattern with one
 * leading '/' and no repeated slashes. *root_len is the length of the root
 * that begins every match ("/" and "" give 0). Returns 0, or -1 when it
 * does not fit in out. */
static int collect_glob_pattern(const char *root, const char *pattern, char *out, size_t size,
				size_t *root_len)
{
	size_t rn = root ? strlen(root) : 0;
	size_t o = 0;
	size_t i;

	while (rn > 0 && root[rn - 1] == '/')
		rn--;
	*root_len = rn;
	for (i = 0; i < rn; i++) {
		if (strchr("*?[]\\", root[i])) {
			if (o + 1 >= size)
				return -1;
			out[o++] = '\\';
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = root[i];
	}
	for (i = 0; pattern[i]; i++) {
		if (pattern[i] == '/' && o > 0 && out[o - 1] == '/')
			continue;
		if (i == 0 && pattern[0] != '/') {
			if (o + 1 >= size)
				return -1;
			out[o++] = '/';
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = pattern[i];
	}
	out[o] = '\0';
	return 0;
}

/* Globs `pattern` below r->root into g (sorted). Returns the number of
 * matches (g to be freed with globfree()) with *root_len set, or 0 with the
 * problem counted (nothing to free); no match at all is not a problem when
 * `optional`. */
static size_t collect_glob(struct collect_read *r, const char *pattern, bool optional, glob_t *g,
			   size_t *root_len)
{
	char full[COLLECT_SYSFS_PATH_MAX];
	int rc;

	if (!pattern || !*pattern) {
		collect_problem(r, false, "(no path)", "nothing to read");
		return 0;
	}
	if (collect_glob_pattern(r->root, pattern, full, sizeof(full), root_len) != 0) {
		collect_problem(r, false, pattern, "path too long");
		return 0;
	}
	memset(g, 0, sizeof(*g));
	rc = glob(full, 0, NULL, g);
	if (rc == 0 && g->gl_pathc > 0)
		return g->gl_pathc;
	if (rc == 0 || rc == GLOB_NOMATCH) {
		if (!optional)
			collect_problem(r, false, full + *root_len, "no such file");
	} else if (rc == GLOB_NOSPACE)
		collect_problem(r, false, full + *root_len, "out of memory");
	else
		collect_problem(r, false, full + *root_len, "cannot read a directory");
	globfree(g);
	return 0;
}

/* The name of the directory that holds the file at path, copied into out.
 * Returns 0, or -1 when there is none or it does not fit. */
static int collect_parent_name(const char *path, char *out, size_t size)
{
	const char *last = strrchr(path, '/');
	const char *start;
	size_t n;

	if (!last || last == path)
		return -1;
	start = last;
	while (start > path && start[-1] != '/')
		start--;
	n = (size_t)(last - start);
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, start, n);
	out[n] = '\0';
	return 0;
}

/* Appends one point with field `field` = value. Returns 0; 0 with an error
 * counted when the point cannot be written as line protocol; -1 (message
 * kept, not counted: the caller counts the failed run) when r->out refused
 * the text. */
static int collect_emit(struct collect_read *r, const char *path, const char *const *own_tags,
			const char *field, double value)
{
	struct point_field f = {field, value, false};
	int rc;

	rc = point_build(r->out, r->measurement, own_tags, r->extra_tags, &f, 1, r->ts_ns);
	if (rc == LINEPROTO_OK) {
		r->points++;
		return 0;
	}
	if (rc == LINEPROTO_EINVAL) {
		collect_problem(r, false, path, "cannot be written as line protocol");
		return 0;
	}
	collect_note(r, path, "%s",
		     rc == LINEPROTO_ENOMEM ? "out of memory" : "the points buffer is full");
	return -1;
}

/* One thermal zone: its temp file at `full` (path without root: `path`). */
static int collect_cpu_zone(struct collect_read *r, const char *full, const char *path,
			    const void *arg)
{
	const char *own[] = {"type", NULL, "zone", NULL, NULL};
	char zone[256];
	char type_full[COLLECT_SYSFS_PATH_MAX];
	const char *type_path;
	struct collect_text t, type;
	long long milli;
	char *line;
	char *type_line;
	size_t n;
	int len;

	(void)arg;
	if (collect_parent_name(path, zone, sizeof(zone)) != 0) {
		collect_problem(r, false, path, "no zone directory");
		return 0;
	}
	if (collect_read_text(r, full, path, &t) != 0)
		return 0;
	line = collect_first_line(r, path, &t);
	if (!line || collect_parse_int(r, path, line, &milli) != 0)
		return 0;
	/* The type file beside temp. */
	n = strlen(full) - strlen("temp");
	len = snprintf(type_full, sizeof(type_full), "%.*stype", (int)n, full);
	if (len < 0 || (size_t)len >= sizeof(type_full)) {
		collect_problem(r, false, path, "path too long");
		return 0;
	}
	type_path = type_full + (strlen(full) - strlen(path));
	if (collect_read_text(r, type_full, type_path, &type) != 0)
		return 0;
	type_line = collect_first_line(r, type_path, &type);
	if (!type_line)
		return 0;
	n = strlen(type_line);
	while (n > 0 &&
	       (type_line[n - 1] == ' ' || type_line[n - 1] == '\t' || type_line[n - 1] == '\r'))
		type_line[--n] = '\0';
	if (n == 0) {
		collect_problem(r, false, type_path, "empty");
		return 0;
	}
	own[1] = type_line;
	own[3] = zone;
	return collect_emit(r, path, own, "celsius", (double)milli / 1000.0);
}

/* Reads one matched file: `full` is its path with root, `path` without. */
typedef int collect_each_fn(struct collect_read *r, const char *full, const char *path,
			    const void *arg);

/* Calls fn for every match of pattern below r->root, in sorted order (none:
 * a problem unless `optional`). Returns 0, or -1 as soon as fn does. */
static int collect_each(struct collect_read *r, const char *pattern, bool optional,
			collect_each_fn *fn, const void *arg)
{
	glob_t g;
	size_t root_len;
	size_t n;
	size_t i;
	int rc = 0;

	n = collect_glob(r, pattern, optional, &g, &root_len);
	for (i = 0; i < n && rc == 0; i++)
		rc = fn(r, g.gl_pathv[i], g.gl_pathv[i] + root_len, arg);
	if (n > 0)
		globfree(&g);
	return rc;
}

int collect_cpu_temp(struct collect_read *r)
{
	return collect_each(r, "/sys/class/thermal/thermal_zone*/temp", false, collect_cpu_zone,
			    NULL);
}

/* True if the first n bytes of s end with word. */
static bool collect_ends_with(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && memcmp(s + n - w, word, w) == 0;
}

/* One DS18B20: "xx xx ... : crc=57 YES\nxx xx ... t=23125\n". */
static int collect_w1_device(struct collect_read *r, const char *full, const char *path,
			     const void *arg)
{
	const char *own[] = {"device", NULL, NULL};
	char device[256];
	struct collect_text t;
	long long milli;
	char *second;
	char *value;
	char *nl;
	size_t n;

	(void)arg;
	if (collect_parent_name(path, device, sizeof(device)) != 0) {
		collect_problem(r, false, path, "no device directory");
		return 0;
	}
	if (collect_read_text(r, full, path, &t) != 0)
		return 0;
	if (t.truncated) {
		collect_problem(r, false, path, "longer than %d bytes", COLLECT_SYSFS_READ_MAX - 1);
		return 0;
	}
	if (t.len == 0) {
		collect_problem(r, false, path, "empty");
		return 0;
	}
	second = strchr(t.s, '\n');
	if (second)
		*second++ = '\0';
	n = strlen(t.s);
	while (n > 0 && (t.s[n - 1] == ' ' || t.s[n - 1] == '\t' || t.s[n - 1] == '\r'))
		n--;
	if (collect_ends_with(t.s, n, "NO")) {
		collect_problem(r, true, path, "CRC check failed (NO)");
		return 0;
	}
	if (!collect_ends_with(t.s, n, "YES")) {
		collect_problem(r, false, path, "no CRC verdict (YES or NO) ending the first line");
		return 0;
	}
	value = second ? strstr(second, "t=") : NULL;
	if (!value) {
		collect_problem(r, false, path, "no t= on the second line");
		return 0;
	}
	nl = strchr(value, '\n');
	if (nl)
		*nl = '\0';
	if (collect_parse_int(r, path, value + 2, &milli) != 0)
		return 0;
	if (milli == COLLECT_W1_POWER_ON) {
		collect_problem(r, true, path, "power-on value 85000 (no conversion)");
		return 0;
	}
	own[1] = device;
	return collect_emit(r, path, own, "celsius", (double)milli / 1000.0);
}

/* The bus master's bulk conversion, Linux 5.9 and later: see the kernel's
 * Documentation/w1/slaves/w1_therm.rst and, in drivers/w1/slaves/w1_therm.c,
 * therm_bulk_read_store(), trigger_bulk_read() and w1_slave_show(). A write
 * of exactly sizeof("trigger") bytes ("trigger\n", as echo writes it) to
 * w1_bus_masterN/therm_bulk_read sends CONVERT T to every sensor of the bus
 * at once and sleeps the bus's longest conversion time (750 ms at 12 bits)
 * before it returns, the full size even when it did nothing. Each sensor so
 * converted answers its next w1_slave read from its scratchpad (same text,
 * crc YES or NO) without a conversion of its own; one not converted converts
 * on that read, as without the file: a failed trigger only means the old way. */
#define COLLECT_W1_TRIGGER "trigger\n"

/* Triggers the bulk conversion of the bus whose therm_bulk_read is `full`
 * and waits for it. Counted in r->buses, or noted in r->note (no problem). */
static int collect_w1_trigger(struct collect_read *r, const char *full, const char *path,
			      const void *arg)
{
	const size_t len = strlen(COLLECT_W1_TRIGGER);
	const char *why = NULL;
	char err[96];
	ssize_t put;
	int fd;

	(void)arg;
	/* Blocking, unlike collect_read_text(): a sysfs attribute is a regular
	 * file (the unit tests stand a FIFO in for the kernel's wait). */
	fd = open(full, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		why = collect_errno_text(errno, err, sizeof(err));
	} else {
		do {
			put = write(fd, COLLECT_W1_TRIGGER, len);
		} while (put < 0 && errno == EINTR);
		if (put < 0)
			why = collect_errno_text(errno, err, sizeof(err));
		else if ((size_t)put != len)
			why = "short write";
		(void)close(fd); /* nothing buffered: a late error changes nothing */
	}
	if (!why)
		r->buses++;
	else if (snprintf(r->note, sizeof(r->note), "%s: no bulk conversion (%s)", path, why) < 0)
		r->note[0] = '\0';
	return 0;
}

int collect_w1(struct collect_read *r)
{
	(void)collect_each(r, "/sys/bus/w1/devices/w1_bus_master*/therm_bulk_read", true,
			   collect_w1_trigger, NULL);
	return collect_each(r, "/sys/bus/w1/devices/28-*/w1_slave", false, collect_w1_device, NULL);
}

/* What collect_file() reads every match with. */
struct collect_file_args {
	double scale;
	double offset;
	const char *field;
};

static int collect_file_one(struct collect_read *r, const char *full, const char *path,
			    const void *arg)
{
	const struct collect_file_args *a = arg;
	const char *own[] = {"path", path, NULL};
	struct collect_text t;
	double raw;
	double value;
	char *line;

	if (collect_read_text(r, full, path, &t) != 0)
		return 0;
	line = collect_first_line(r, path, &t);
	if (!line || collect_parse_decimal(r, path, line, &raw) != 0)
		return 0;
	value = raw * a->scale + a->offset;
	if (!isfinite(value)) {
		collect_problem(r, false, path, "value out of range after scale and offset");
		return 0;
	}
	return collect_emit(r, path, own, a->field, value);
}

int collect_file(struct collect_read *r, const char *pattern, double scale, double offset,
		 const char *field)
{
	const struct collect_file_args a = {scale, offset, field};

	return collect_each(r, pattern, false, collect_file_one, &a);
}
