/* test_collect_sysfs.c -- unit tests: the sysfs readers on fake trees
 * (edge/collect/collect_sysfs.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "collect_sysfs.h"

#define W1_YES "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n"
#define W1_NO "72 01 4b 46 7f ff 0e 10 57 : crc=ff NO\n"
#define W1_T(v) "72 01 4b 46 7f ff 0e 10 57 t=" v "\n"

/* The fake root of one test: a fresh directory under $TMPDIR. */
struct tree {
	char root[512];
};

static void tree_path(const struct tree *t, const char *rel, char *out, size_t size)
{
	int n = snprintf(out, size, "%s%s", t->root, rel);

	assert_true(n > 0 && (size_t)n < size);
}

/* mkdir -p for every directory of rel (a path starting with '/'). */
static void tree_dirs(const struct tree *t, const char *rel, bool last_too)
{
	char path[1024];
	size_t base = strlen(t->root);
	size_t i;

	tree_path(t, rel, path, sizeof(path));
	for (i = base + 1; path[i]; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		path[i] = '/';
	}
	if (last_too && mkdir(path, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", path, strerror(errno));
}

/* Writes text[0..n) to root + rel, creating its directories. */
static void tree_file_n(const struct tree *t, const char *rel, const char *text, size_t n)
{
	char path[1024];
	FILE *f;

	tree_dirs(t, rel, false);
	tree_path(t, rel, path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void tree_file(const struct tree *t, const char *rel, const char *text)
{
	tree_file_n(t, rel, text, strlen(text));
}

/* The text of root + rel ("" when there is no such file) into out. */
static const char *tree_text(const struct tree *t, const char *rel, char *out, size_t size)
{
	char path[1024];
	size_t n = 0;
	FILE *f;

	tree_path(t, rel, path, sizeof(path));
	f = fopen(path, "r");
	if (f) {
		n = fread(out, 1, size - 1, f);
		assert_int_equal(fclose(f), 0);
	}
	out[n] = '\0';
	return out;
}

static bool tree_exists(const struct tree *t, const char *rel)
{
	char path[1024];

	tree_path(t, rel, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* Removes path and everything below it (symbolic links are not followed). */
static void rm_tree(const char *path)
{
	struct dirent *e;
	struct stat st;
	DIR *d;

	assert_int_equal(lstat(path, &st), 0);
	if (!S_ISDIR(st.st_mode)) {
		assert_int_equal(unlink(path), 0);
		return;
	}
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char sub[1024];
		int n;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n = snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		assert_true(n > 0 && (size_t)n < sizeof(sub));
		rm_tree(sub);
	}
	assert_int_equal(closedir(d), 0);
	assert_int_equal(rmdir(path), 0);
}

static void tree_rm(const struct tree *t, const char *rel)
{
	char path[1024];

	tree_path(t, rel, path, sizeof(path));
	rm_tree(path);
}

static int tree_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	struct tree *t = calloc(1, sizeof(*t));
	int n;

	if (!t)
		return -1;
	n = snprintf(t->root, sizeof(t->root), "%s/collect_sysfs.XXXXXX",
		     tmp && *tmp ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(t->root) || !mkdtemp(t->root)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	rm_tree(t->root);
	free(t);
	return 0;
}

/* One reader run: its collect_read and output buffer. */
struct run {
	struct collect_read r;
	struct lineproto_buf out;
};

static void run_init(struct run *run, const char *root, const char *measurement, const char *extra)
{
	memset(run, 0, sizeof(*run));
	lineproto_buf_init(&run->out, 1 << 16);
	run->r.root = root;
	run->r.measurement = measurement;
	run->r.extra_tags = extra;
	run->r.ts_ns = 1700000000000000000LL;
	run->r.out = &run->out;
}

/* The run appended exactly `want` and counted points, skipped and errors;
 * its latest problem is `error`. Frees the output. */
static void run_expect(struct run *run, const char *want, uint64_t points, uint64_t skipped,
		       uint64_t errors, const char *error)
{
	assert_string_equal(run->out.data ? run->out.data : "", want);
	assert_int_equal(run->r.points, points);
	assert_int_equal(run->r.skipped, skipped);
	assert_int_equal(run->r.errors, errors);
	assert_string_equal(run->r.error, error);
	lineproto_buf_free(&run->out);
}

static void test_cpu_temp_good(void **state)
{
	struct tree *t = *state;
	struct run run;

	tree_file(t, "/sys/class/thermal/thermal_zone0/temp", "45277\n");
	tree_file(t, "/sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
	tree_file(t, "/sys/class/thermal/thermal_zone1/temp", "-1500\n");
	tree_file(t, "/sys/class/thermal/thermal_zone1/type", "gpu thermal \n");
	tree_file(t, "/sys/class/thermal/thermal_zone10/temp", "0");
	tree_file(t, "/sys/class/thermal/thermal_zone10/type", "x=y,z");
	tree_file(t, "/sys/class/thermal/cooling_device0/temp", "1\n");
	run_init(&run, t->root, "cpu_temp", "host=pi");
	assert_int_equal(collect_cpu_temp(&run.r), 0);
	/* Sorted by path; cooling_device0 does not match. */
	run_expect(&run,
		   "cpu_temp,host=pi,type=cpu-thermal,zone=thermal_zone0 celsius=45.277 "
		   "1700000000000000000\n"
		   "cpu_temp,host=pi,type=gpu\\ thermal,zone=thermal_zone1 celsius=-1.5 "
		   "1700000000000000000\n"
		   "cpu_temp,host=pi,type=x\\=y\\,z,zone=thermal_zone10 celsius=0 "
		   "1700000000000000000\n",
		   3, 0, 0, "");
}

/* One zone with this temp (and type, unless NULL) gives exactly `error`. */
static void expect_cpu_error(struct tree *t, const char *temp, const char *type, const char *error)
{
	struct run run;

	tree_file(t, "/sys/class/thermal/thermal_zone0/type", "ok\n");
	tree_file(t, "/sys/class/thermal/thermal_zone0/temp", "1000\n");
	tree_file(t, "/sys/class/thermal/thermal_zone7/temp", temp);
	if (type)
		tree_file(t, "/sys/class/thermal/thermal_zone7/type", type);
	run_init(&run, t->root, "t", NULL);
	assert_int_equal(collect_cpu_temp(&run.r), 0);
	run_expect(&run, "t,type=ok,zone=thermal_zone0 celsius=1 1700000000000000000\n", 1, 0, 1,
		   error);
	tree_rm(t, "/sys/class/thermal/thermal_zone7");
}

static void test_cpu_temp_errors(void **state)
{
	struct tree *t = *state;
	struct run run;

	expect_cpu_error(t, "abc\n", "x\n",
			 "/sys/class/thermal/thermal_zone7/temp: not a number: \"abc\"");
	expect_cpu_error(t, "", "x\n", "/sys/class/thermal/thermal_zone7/temp: empty");
	expect_cpu_error(t, "\n45000\n", "x\n", "/sys/class/thermal/thermal_zone7/temp: empty");
	expect_cpu_error(t, "42 junk\n", "x\n",
			 "/sys/class/thermal/thermal_zone7/temp: not a number: \"42 junk\"");
	expect_cpu_error(t, "4.5\n", "x\n",
			 "/sys/class/thermal/thermal_zone7/temp: not a number: \"4.5\"");
	expect_cpu_error(t, "0x10\n", "x\n",
			 "/sys/class/thermal/thermal_zone7/temp: not a number: \"0x10\"");
	expect_cpu_error(t, "99999999999999999999\n", "x\n",
			 "/sys/class/thermal/thermal_zone7/temp: number out of range: "
			 "\"99999999999999999999\"");
	expect_cpu_error(t, "\x01\"\\ this is a very long line of garbage\n", "x\n",
			 "/sys/class/thermal/thermal_zone7/temp: not a number: "
			 "\"??? this is a very long ...\"");
	expect_cpu_error(t, "1000\n", NULL,
			 "/sys/class/thermal/thermal_zone7/type: No such file or directory");
	expect_cpu_error(t, "1000\n", "\n", "/sys/class/thermal/thermal_zone7/type: empty");
	expect_cpu_error(t, "1000\n", " \t\r\n", "/sys/class/thermal/thermal_zone7/type: empty");
	expect_cpu_error(t, "1000\n", "a\\b\n",
			 "/sys/class/thermal/thermal_zone7/temp: cannot be written as line "
			 "protocol");
	/* A directory where the file should be. */
	tree_dirs(t, "/sys/class/thermal/thermal_zone7/temp", true);
	tree_file(t, "/sys/class/thermal/thermal_zone7/type", "x\n");
	run_init(&run, t->root, "t", NULL);
	assert_int_equal(collect_cpu_temp(&run.r), 0);
	run_expect(&run, "t,type=ok,zone=thermal_zone0 celsius=1 1700000000000000000\n", 1, 0, 1,
		   "/sys/class/thermal/thermal_zone7/temp: not a regular file");
	tree_rm(t, "/sys/class/thermal/thermal_zone7");
	/* No zone at all. */
	tree_rm(t, "/sys");
	run_init(&run, t->root, "t", NULL);
	assert_int_equal(collect_cpu_temp(&run.r), 0);
	run_expect(&run, "", 0, 0, 1, "/sys/class/thermal/thermal_zone*/temp: no such file");
}

static void test_w1_good(void **state)
{
	struct tree *t = *state;
	struct run run;

	tree_file(t, "/sys/bus/w1/devices/28-0316a2794fff/w1_slave", W1_YES W1_T("-1250"));
	tree_file(t, "/sys/bus/w1/devices/28-000005e2fdc3/w1_slave", W1_YES W1_T("23125"));
	tree_file(t, "/sys/bus/w1/devices/28-00000aaaaaaa/w1_slave",
		  "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES \r\n" W1_T("85001"));
	tree_file(t, "/sys/bus/w1/devices/10-000802b4ba0e/w1_slave", W1_YES W1_T("1"));
	tree_dirs(t, "/sys/bus/w1/devices/w1_bus_master1", true);
	run_init(&run, t->root, "w1", "site=lab");
	assert_int_equal(collect_w1(&run.r), 0);
	/* No therm_bulk_read (a kernel before 5.9): each sensor converts on its
	 * own read, nothing is written, and that is no problem. */
	assert_int_equal(run.r.buses, 0);
	assert_string_equal(run.r.note, "");
	assert_false(tree_exists(t, "/sys/bus/w1/devices/w1_bus_master1/therm_bulk_read"));
	run_expect(&run,
		   "w1,device=28-000005e2fdc3,site=lab celsius=23.125 1700000000000000000\n"
		   "w1,device=28-00000aaaaaaa,site=lab celsius=85.001 1700000000000000000\n"
		   "w1,device=28-0316a2794fff,site=lab celsius=-1.25 1700000000000000000\n",
		   3, 0, 0, "");
	/* The configured tag wins a clash with the reader's own. */
	run_init(&run, t->root, "w1", "device=kitchen");
	tree_rm(t, "/sys/bus/w1/devices/28-0316a2794fff");
	tree_rm(t, "/sys/bus/w1/devices/28-00000aaaaaaa");
	assert_int_equal(collect_w1(&run.r), 0);
	run_expect(&run, "w1,device=kitchen celsius=23.125 1700000000000000000\n", 1, 0, 0, "");
}

/* One more device with this w1_slave text: skipped or an error, `error`. */
static void expect_w1_bad(struct tree *t, const char *text, bool skipped, const char *error)
{
	struct run run;

	tree_file(t, "/sys/bus/w1/devices/28-000000000001/w1_slave", W1_YES W1_T("20000"));
	tree_file(t, "/sys/bus/w1/devices/28-000000000002/w1_slave", text);
	run_init(&run, t->root, "w1", NULL);
	assert_int_equal(collect_w1(&run.r), 0);
	run_expect(&run, "w1,device=28-000000000001 celsius=20 1700000000000000000\n", 1,
		   skipped ? 1 : 0, skipped ? 0 : 1, error);
	tree_rm(t, "/sys/bus/w1/devices/28-000000000002");
}

static void test_w1_bad(void **state)
{
	struct tree *t = *state;
	const char *p = "/sys/bus/w1/devices/28-000000000002/w1_slave";
	char want[256];

#define W1_WANT(why) (snprintf(want, sizeof(want), "%s: %s", p, why), want)
	expect_w1_bad(t, W1_NO W1_T("23125"), true, W1_WANT("CRC check failed (NO)"));
	expect_w1_bad(t, W1_NO, true, W1_WANT("CRC check failed (NO)"));
	expect_w1_bad(t, W1_YES W1_T("85000"), true,
		      W1_WANT("power-on value 85000 (no conversion)"));
	expect_w1_bad(t, "", false, W1_WANT("empty"));
	expect_w1_bad(t, "hello\n", false,
		      W1_WANT("no CRC verdict (YES or NO) ending the first line"));
	expect_w1_bad(t, W1_YES, false, W1_WANT("no t= on the second line"));
	expect_w1_bad(t, W1_YES "72 01 4b\n", false, W1_WANT("no t= on the second line"));
	expect_w1_bad(t, W1_YES W1_T(""), false, W1_WANT("not a number: \"\""));
	expect_w1_bad(t, W1_YES W1_T("abc"), false, W1_WANT("not a number: \"abc\""));
	expect_w1_bad(t, W1_YES W1_T("12x"), false, W1_WANT("not a number: \"12x\""));
	expect_w1_bad(t, W1_YES W1_T("1.5"), false, W1_WANT("not a number: \"1.5\""));
#undef W1_WANT
	{
		static const char nul[] = W1_YES "72 01 t=12\0"
						 "5\n";
		struct run run;

		tree_file_n(t, p, nul, sizeof(nul) - 1);
		run_init(&run, t->root, "w1", NULL);
		assert_int_equal(collect_w1(&run.r), 0);
		run_expect(&run, "w1,device=28-000000000001 celsius=20 1700000000000000000\n", 1, 0,
			   1, "/sys/bus/w1/devices/28-000000000002/w1_slave: holds a NUL byte");
	}
}

/* A device directory that goes away: between two runs it is simply not
 * there; between glob and read (a dangling link stands in for that race)
 * it is an error for that device only. */
static void test_w1_device_disappears(void **state)
{
	struct tree *t = *state;
	char link[1024];
	struct run run;

	tree_file(t, "/sys/bus/w1/devices/28-000000000001/w1_slave", W1_YES W1_T("20000"));
	tree_file(t, "/sys/bus/w1/devices/28-000000000002/w1_slave", W1_YES W1_T("21000"));
	run_init(&run, t->root, "w1", NULL);
	assert_int_equal(collect_w1(&run.r), 0);
	run_expect(&run,
		   "w1,device=28-000000000001 celsius=20 1700000000000000000\n"
		   "w1,device=28-000000000002 celsius=21 1700000000000000000\n",
		   2, 0, 0, "");
	tree_rm(t, "/sys/bus/w1/devices/28-000000000001");
	run_init(&run, t->root, "w1", NULL);
	assert_int_equal(collect_w1(&run.r), 0);
	run_expect(&run, "w1,device=28-000000000002 celsius=21 1700000000000000000\n", 1, 0, 0, "");
	tree_dirs(t, "/sys/bus/w1/devices/28-000000000001", true);
	tree_path(t, "/sys/bus/w1/devices/28-000000000001/w1_slave", link, sizeof(link));
	assert_int_equal(symlink("/nonexistent/w1_slave", link), 0);
	run_init(&run, t->root, "w1", NULL);
	assert_int_equal(collect_w1(&run.r), 0);
	run_expect(&run, "w1,device=28-000000000002 celsius=21 1700000000000000000\n", 1, 0, 1,
		   "/sys/bus/w1/devices/28-000000000001/w1_slave: No such file or directory");
	/* A device without w1_slave is not matched; none at all is an error. */
	tree_rm(t, "/sys/bus/w1/devices/28-000000000002/w1_slave");
	tree_rm(t, "/sys/bus/w1/devices/28-000000000001");
	run_init(&run, t->root, "w1", NULL);
	assert_int_equal(collect_w1(&run.r), 0);
	run_expect(&run, "", 0, 0, 1, "/sys/bus/w1/devices/28-*/w1_slave: no such file");
}

/* With therm_bulk_read on the bus masters: "trigger\n" is written to each
 * (the kernel acts only on exactly those 8 bytes), then every sensor is read
 * once, with the same points, skips and errors as without. */
static void test_w1_bulk(void **state)
{
	struct tree *t = *state;
	char text[64];
	struct run run;

	tree_file(t, "/sys/bus/w1/devices/w1_bus_master1/therm_bulk_read", "0\n");
	tree_file(t, "/sys/bus/w1/devices/w1_bus_master2/therm_bulk_read", "");
	tree_dirs(t, "/sys/bus/w1/devices/w1_bus_master3", true); /* no bulk sensor on it */
	tree_file(t, "/sys/bus/w1/devices/28-000000000001/w1_slave", W1_YES W1_T("20000"));
	tree_file(t, "/sys/bus/w1/devices/28-000000000002/w1_slave", W1_NO W1_T("23125"));
	tree_file(t, "/sys/bus/w1/devices/28-000000000003/w1_slave", W1_YES W1_T("85000"));
	tree_file(t, "/sys/bus/w1/devices/28-000000000004/w1_slave", W1_YES W1_T("-10250"));
	tree_file(t, "/sys/bus/w1/devices/28-000000000005/w1_slave", "hello\n");
	run_init(&run, t->root, "w1", NULL);
	assert_int_equal(collect_w1(&run.r), 0);
	assert_int_equal(run.r.buses, 2);
	assert_string_equal(run.r.note, "");
	assert_string_equal(
	    tree_text(t, "/sys/bus/w1/devices/w1_bus_master1/therm_bulk_read", text, sizeof(text)),
	    "trigger\n");
	assert_string_equal(
	    tree_text(t, "/sys/bus/w1/devices/w1_bus_master2/therm_bulk_read", text, sizeof(text)),
	    "trigger\n");
	assert_false(tree_exists(t, "/sys/bus/w1/devices/w1_bus_master3/therm_bulk_read"));
	run_expect(&run,
		   "w1,device=28-000000000001 celsius=20 1700000000000000000\n"
		   "w1,device=28-000000000004 celsius=-10.25 1700000000000000000\n",
		   2, 2, 1,
		   "/sys/bus/w1/devices/28-000000000005/w1_slave: no CRC verdict (YES or NO) "
		   "ending the first line");
}

/* A trigger that cannot be written is noted, not counted: the sensors are
 * read as without the file. */
static void test_w1_bulk_refused(void **state)
{
	struct tree *t = *state;
	struct run run;

	tree_dirs(t, "/sys/bus/w1/devices/w1_bus_master1/therm_bulk_read", true);
	tree_file(t, "/sys/bus/w1/devices/28-000000000001/w1_slave", W1_YES W1_T("20000"));
	tree_file(t, "/sys/bus/w1/devices/28-000000000002/w1_slave", W1_NO W1_T("23125"));
	run_init(&run, t->root, "w1", NULL);
	assert_int_equal(collect_w1(&run.r), 0);
	assert_int_equal(run.r.buses, 0);
	assert_string_equal(run.r.note, "/sys/bus/w1/devices/w1_bus_master1/therm_bulk_read: no "
					"bulk conversion (Is a directory)");
	run_expect(&run, "w1,device=28-000000000001 celsius=20 1700000000000000000\n", 1, 1, 0,
		   "/sys/bus/w1/devices/28-000000000002/w1_slave: CRC check failed (NO)");
}

static void test_file_hwmon(void **state)
{
	struct tree *t = *state;
	char root_slash[600];
	struct run run;
	int n;

	tree_file(t, "/sys/class/hwmon/hwmon0/temp1_input", "45000\n");
	tree_file(t, "/sys/class/hwmon/hwmon1/temp1_input", "-500\nsecond line is ignored\n");
	tree_file(t, "/sys/class/hwmon/hwmon2/temp1_input", "  +12.5 \n");
	tree_file(t, "/sys/class/hwmon/hwmon3/temp2_input", "1\n");
	run_init(&run, t->root, "hwmon", NULL);
	assert_int_equal(
	    collect_file(&run.r, "/sys/class/hwmon/hwmon*/temp1_input", 0.001, 1, "celsius"), 0);
	run_expect(&run,
		   "hwmon,path=/sys/class/hwmon/hwmon0/temp1_input celsius=46 "
		   "1700000000000000000\n"
		   "hwmon,path=/sys/class/hwmon/hwmon1/temp1_input celsius=0.5 "
		   "1700000000000000000\n"
		   "hwmon,path=/sys/class/hwmon/hwmon2/temp1_input celsius=1.0125 "
		   "1700000000000000000\n",
		   3, 0, 0, "");
	/* Root with a trailing slash, pattern without a leading one or with
	 * doubled slashes: the same path tag. */
	n = snprintf(root_slash, sizeof(root_slash), "%s//", t->root);
	assert_true(n > 0 && (size_t)n < sizeof(root_slash));
	run_init(&run, root_slash, "adc", "host=pi");
	assert_int_equal(collect_file(&run.r, "sys/class//hwmon/hwmon3/temp2_input", 2, -0.5, "v"),
			 0);
	run_expect(&run,
		   "adc,host=pi,path=/sys/class/hwmon/hwmon3/temp2_input v=1.5 "
		   "1700000000000000000\n",
		   1, 0, 0, "");
	run_init(&run, root_slash, "adc", NULL);
	assert_int_equal(collect_file(&run.r, "//sys/class/hwmon/hwmon3//temp2_input", 1, 0, "v"),
			 0);
	run_expect(&run, "adc,path=/sys/class/hwmon/hwmon3/temp2_input v=1 1700000000000000000\n",
		   1, 0, 0, "");
	run_init(&run, t->root, "adc", NULL);
	assert_int_equal(collect_file(&run.r, "/sys/class/hwmon/hwmon9/*", 1, 0, "v"), 0);
	run_expect(&run, "", 0, 0, 1, "/sys/class/hwmon/hwmon9/*: no such file");
	run_init(&run, t->root, "adc", NULL);
	assert_int_equal(collect_file(&run.r, "", 1, 0, "v"), 0);
	run_expect(&run, "", 0, 0, 1, "(no path): nothing to read");
}

/* A root whose name holds glob's special bytes is taken literally (as a
 * pattern, "[a]*?" would match a-other instead). */
static void test_file_root_with_glob_bytes(void **state)
{
	struct tree *t = *state;
	char root[700];
	struct run run;
	int n;

	tree_file(t, "/[a]*?/sys/x", "7\n");
	tree_file(t, "/a-other/sys/x", "8\n");
	n = snprintf(root, sizeof(root), "%s/[a]*?", t->root);
	assert_true(n > 0 && (size_t)n < sizeof(root));
	run_init(&run, root, "m", NULL);
	assert_int_equal(collect_file(&run.r, "/sys/*", 1, 0, "v"), 0);
	run_expect(&run, "m,path=/sys/x v=7 1700000000000000000\n", 1, 0, 0, "");
}

/* One file with this text gives exactly `why` (after its path). */
static void expect_file_bad(struct tree *t, const char *text, const char *why)
{
	char want[256];
	struct run run;

	tree_file(t, "/sys/bad", text);
	snprintf(want, sizeof(want), "/sys/bad: %s", why);
	run_init(&run, t->root, "m", NULL);
	assert_int_equal(collect_file(&run.r, "/sys/bad", 1, 0, "v"), 0);
	run_expect(&run, "", 0, 0, 1, want);
	tree_rm(t, "/sys/bad");
}

static void test_file_numbers(void **state)
{
	static const char *const good[] = {"5.\n", ".5\n", "-.5", "+0", "007\n", "-0\n"};
	static const char *const want[] = {"5", "0.5", "-0.5", "0", "7", "0"};
	static const char *const bad[] = {"1e5", "nan",	  "inf",   "0x10", "+",	  ".",
					  "-.",	 "1.2.3", "12 34", "1,5",  "--1", "abc"};
	struct tree *t = *state;
	char line[128];
	char quoted[64];
	struct run run;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		tree_file(t, "/sys/n", good[i]);
		run_init(&run, t->root, "m", NULL);
		assert_int_equal(collect_file(&run.r, "/sys/n", 1, 0, "v"), 0);
		snprintf(line, sizeof(line), "m,path=/sys/n v=%s 1700000000000000000\n", want[i]);
		run_expect(&run, line, 1, 0, 0, "");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(quoted, sizeof(quoted), "not a number: \"%s\"", bad[i]);
		expect_file_bad(t, bad[i], quoted);
	}
	expect_file_bad(t, "", "empty");
	expect_file_bad(t, "\n1\n", "empty");
	{
		char big[700];

		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		expect_file_bad(t, big, "first line longer than 511 bytes");
		/* 511 bytes fit exactly, 512 without a newline do not. */
		memset(big, ' ', sizeof(big) - 1);
		big[0] = '1';
		big[511] = '\0';
		tree_file(t, "/sys/n", big);
		run_init(&run, t->root, "m", NULL);
		assert_int_equal(collect_file(&run.r, "/sys/n", 1, 0, "v"), 0);
		run_expect(&run, "m,path=/sys/n v=1 1700000000000000000\n", 1, 0, 0, "");
		big[511] = ' ';
		big[512] = '\0';
		expect_file_bad(t, big, "first line longer than 511 bytes");
		memset(big, '1', sizeof(big) - 1);
		/* The first line fits: the rest does not matter. */
		big[3] = '\n';
		tree_file(t, "/sys/n", big);
		run_init(&run, t->root, "m", NULL);
		assert_int_equal(collect_file(&run.r, "/sys/n", 1, 0, "v"), 0);
		run_expect(&run, "m,path=/sys/n v=111 1700000000000000000\n", 1, 0, 0, "");
	}
	{
		char digits[400];

		memset(digits, '9', sizeof(digits) - 1);
		digits[sizeof(digits) - 1] = '\0';
		expect_file_bad(t, digits, "number out of range: \"999999999999999999999999...\"");
	}
	tree_file(t, "/sys/n", "1\n");
	run_init(&run, t->root, "m", NULL);
	assert_int_equal(collect_file(&run.r, "/sys/n", 1e308, 1e308, "v"), 0);
	run_expect(&run, "", 0, 0, 1, "/sys/n: value out of range after scale and offset");
}

static void test_file_not_regular(void **state)
{
	struct tree *t = *state;
	char fifo[1024];
	struct run run;

	tree_dirs(t, "/sys/dev", false);
	tree_path(t, "/sys/fifo", fifo, sizeof(fifo));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	tree_dirs(t, "/sys/dir", true);
	tree_file(t, "/sys/ok", "3\n");
	run_init(&run, t->root, "m", NULL);
	assert_int_equal(collect_file(&run.r, "/sys/*", 1, 0, "v"), 0);
	/* Sorted: dir, fifo, ok; the latest problem is the fifo's. */
	run_expect(&run, "m,path=/sys/ok v=3 1700000000000000000\n", 1, 0, 2,
		   "/sys/fifo: not a regular file");
}

/* A point line protocol cannot carry is an error; a full buffer stops the
 * run with -1 (not counted: the caller counts the run) and what was
 * appended before stays. */
static void test_file_refused_points(void **state)
{
	struct tree *t = *state;
	struct run run;

	tree_file(t, "/sys/a", "1\n");
	tree_file(t, "/sys/b", "2\n");
	tree_file(t, "/sys/c", "3\n");
	run_init(&run, t->root, "m", NULL);
	assert_int_equal(collect_file(&run.r, "/sys/*", 1, 0, ""), 0);
	run_expect(&run, "", 0, 0, 3, "/sys/c: cannot be written as line protocol");
	run_init(&run, t->root, "m", "bad");
	assert_int_equal(collect_file(&run.r, "/sys/a", 1, 0, "v"), 0);
	run_expect(&run, "", 0, 0, 1, "/sys/a: cannot be written as line protocol");
	run_init(&run, t->root, "m", NULL);
	lineproto_buf_init(&run.out, 2 * strlen("m,path=/sys/a v=1 1700000000000000000\n"));
	assert_int_equal(collect_file(&run.r, "/sys/*", 1, 0, "v"), -1);
	run_expect(&run,
		   "m,path=/sys/a v=1 1700000000000000000\nm,path=/sys/b v=2 1700000000000000000\n",
		   2, 0, 0, "/sys/c: the points buffer is full");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tree_setup, tree_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_cpu_temp_good),
	    T(test_cpu_temp_errors),
	    T(test_w1_good),
	    T(test_w1_bad),
	    T(test_w1_device_disappears),
	    T(test_w1_bulk),
	    T(test_w1_bulk_refused),
	    T(test_file_hwmon),
	    T(test_file_root_with_glob_bytes),
	    T(test_file_numbers),
	    T(test_file_not_regular),
	    T(test_file_refused_points),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
