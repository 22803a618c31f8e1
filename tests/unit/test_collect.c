/* test_collect.c -- the collector thread with a real buffer: the grid, no lost runs when the
 * buffer is busy, exec timeouts and failures, nothing left running after stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "log.h"

static char dir[256];

static void write_file(const char *rel, const char *text)
{
	char path[512], cmd[600];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/test_collect.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct storage *open_buffer(size_t max_queued)
{
	char path[300];
	struct storage *s = NULL;
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	struct storage_options o = {
	    .path = path, .durability = STORAGE_DURABILITY_FULL, .max_queued_points = max_queued};
	assert_int_equal(storage_open(&o, &s), STORAGE_OK);
	return s;
}

static struct collect_config entry(const char *name, enum collect_type type, uint64_t interval_ms)
{
	return (struct collect_config){.name = (char *)name,
				       .type = type,
				       .enabled = true,
				       .interval_ms = interval_ms,
				       .tags = (char *)"",
				       .scale = 1};
}

static void sleep_ms(long ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* Timestamps of every buffered point whose line starts with `prefix`, sorted. */
static size_t buffered_times(struct storage *s, const char *prefix, int64_t *out, size_t cap)
{
	struct storage_batch b = {0};
	size_t n = 0;
	assert_int_equal(storage_read_batch(s, 100000, 64u << 20, &b), STORAGE_OK);
	for (size_t i = 0; i < b.count; i++) {
		const char *line = b.text + b.offsets[i];
		const char *end = strchr(line, '\n');
		assert_non_null(end);
		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		const char *sp = end;
		while (sp > line && sp[-1] != ' ')
			sp--;
		assert_true(n < cap);
		out[n++] = strtoll(sp, NULL, 10);
	}
	storage_batch_free(&b);
	for (size_t i = 1; i < n; i++) { /* insertion sort: few points */
		for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
			int64_t t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	}
	return n;
}

/* Every timestamp on the grid, each grid time `per` times, no gap. Returns runs. */
static size_t assert_grid(const int64_t *ts, size_t n, int64_t interval_ns, size_t per)
{
	assert_true(n >= per);
	assert_int_equal(n % per, 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ts[i] % interval_ns, 0);
		if (i % per)
			assert_true(ts[i] == ts[i - 1]);
		else if (i)
			assert_true(ts[i] == ts[i - 1] + interval_ns); /* no run lost */
	}
	return n / per;
}

static void test_grid_busy_buffer_no_loss(void **state)
{
	(void)state;
	write_file("sys/class/thermal/thermal_zone0/temp", "45000\n");
	write_file("sys/class/thermal/thermal_zone0/type", "cpu\n");
	write_file("sys/class/thermal/thermal_zone1/temp", "-5500\n");
	write_file("sys/class/thermal/thermal_zone1/type", "gpu\n");
	/* a queue of 2 points: at each grid time cpu_temp fills it and the
	 * others are refused with BUSY until the writer commits */
	struct storage *s = open_buffer(2);
	struct collect_config list[4] = {
	    entry("cpu_temp", COLLECT_CPU_TEMP, 200), entry("edge", COLLECT_EDGE, 200),
	    entry("ex", COLLECT_EXEC, 400), entry("off", COLLECT_W1, 200)};
	list[0].measurement = (char *)"cpu_temp";
	list[1].measurement = (char *)"iot_edge";
	list[1].tags = (char *)"site=t";
	list[2].command = (char *)"printf 'ex,src=e v=1\\n'";
	list[2].shell = true;
	list[2].timeout_ms = 300;
	list[3].enabled = false;
	struct collect_sources src = {.storage = s, .buffer_path = dir};
	struct collect *c = NULL;

	assert_int_equal(collect_start(list, 4, dir, &src, &c), 0);
	assert_int_equal(collect_count(c), 3);
	sleep_ms(2100);
	struct collect_stats st[3];
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(collect_get_stats(c, i, &st[i]), 0);
	assert_int_equal(collect_get_stats(c, 3, &st[0]), -1);
	assert_string_equal(st[0].name, "cpu_temp");
	assert_string_equal(st[1].type, "edge");
	assert_string_equal(st[2].type, "exec");
	assert_int_equal(st[2].interval_ms, 400);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(st[i].errors, 0);
		assert_string_equal(st[i].last_error, "");
		assert_true(st[i].runs >= 4);
		assert_int_equal(st[i].last_run_ns % ((int64_t)st[i].interval_ms * 1000000), 0);
	}
	collect_stop(c);

	int64_t ts[256];
	size_t n = buffered_times(s, "cpu_temp,type=cpu,zone=thermal_zone0 celsius=45 ", ts, 256);
	size_t cpu_runs = assert_grid(ts, n, 200000000, 1);
	n = buffered_times(s, "cpu_temp,type=gpu,zone=thermal_zone1 celsius=-5.5 ", ts, 256);
	assert_int_equal(assert_grid(ts, n, 200000000, 1), cpu_runs);
	n = buffered_times(s, "iot_edge,site=t buffer_points=", ts, 256);
	size_t edge_runs = assert_grid(ts, n, 200000000, 1);
	n = buffered_times(s, "ex,src=e v=1 ", ts, 256);
	size_t ex_runs = assert_grid(ts, n, 400000000, 1);
	/* every run counted before the stop is stored, and the stop loses none */
	assert_true(cpu_runs >= st[0].runs && cpu_runs <= st[0].runs + 1);
	assert_true(edge_runs >= st[1].runs && edge_runs <= st[1].runs + 1);
	assert_true(ex_runs >= st[2].runs && ex_runs <= st[2].runs + 1);
	storage_close(s);
}

static bool pid_gone(pid_t pid)
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

static void test_exec_timeout_failures_and_stop(void **state)
{
	(void)state;
	char hang[400];
	struct storage *s = open_buffer(0);
	snprintf(hang, sizeof(hang), "echo $$ >>%s/pids && exec sleep 1000", dir);
	struct collect_config list[4] = {
	    entry("hang", COLLECT_EXEC, 300), entry("three", COLLECT_EXEC, 300),
	    entry("missing", COLLECT_EXEC, 300), entry("half", COLLECT_EXEC, 300)};
	list[0].command = hang;
	list[0].shell = true;
	list[0].timeout_ms = 100;
	list[1].command = (char *)"false";
	list[1].timeout_ms = 200;
	list[2].command = (char *)"/nonexistent/collector --flag";
	list[2].timeout_ms = 200;
	list[3].command = (char *)"printf 'ok,k=1 v=1\\nbad line\\nok,k=2 v=2\\n'";
	list[3].shell = true;
	list[3].timeout_ms = 200;
	list[3].tags = (char *)"k=9";
	struct collect_sources src = {.storage = s, .buffer_path = dir};
	struct collect *c = NULL;

	assert_int_equal(collect_start(list, 4, dir, &src, &c), 0);
	sleep_ms(1400);
	struct collect_stats st;
	assert_int_equal(collect_get_stats(c, 0, &st), 0);
	assert_true(st.errors >= 3);
	assert_int_equal(st.points, 0);
	assert_non_null(strstr(st.last_error, "killed after its timeout of 100 ms"));
	assert_int_equal(collect_get_stats(c, 1, &st), 0);
	assert_true(st.errors >= 3);
	/* last_error is for the open /status: no command line (the log has it) */
	assert_string_equal(st.last_error, "exited with status 1");
	assert_int_equal(collect_get_stats(c, 2, &st), 0);
	assert_true(st.errors >= 3);
	/* glibc's posix_spawn reports the missing program itself; under
	 * qemu-user (the arm64 tests) the child starts and exits 127. */
	if (st.runs == 0)
		assert_non_null(strstr(st.last_error, "cannot run the command: No such"));
	else
		assert_string_equal(st.last_error, "exited with status 127");
	assert_null(strstr(st.last_error, "--flag"));
	assert_int_equal(collect_get_stats(c, 3, &st), 0);
	/* one bad line per run; the two good ones stored, with the extra tag winning */
	assert_int_equal(st.errors, st.runs);
	assert_int_equal(st.points, 2 * st.runs);
	assert_non_null(strstr(st.last_error, "1 bad line: line 2"));
	sleep_ms(150); /* stop while a hung command runs (it lives 100 ms of each 300) */
	collect_stop(c);

	char path[300];
	snprintf(path, sizeof(path), "%s/pids", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int pid, started = 0;
	while (fscanf(f, "%d", &pid) == 1) {
		started++;
		assert_true(pid_gone(pid));
	}
	fclose(f);
	assert_true(started >= 4);

	int64_t ts[64];
	size_t n = buffered_times(s, "ok,k=9 v=1 ", ts, 64);
	assert_true(n >= 3);
	assert_int_equal(buffered_times(s, "ok,k=9 v=2 ", ts, 64), n);
	assert_int_equal(buffered_times(s, "ok,k=1", ts, 64), 0);
	storage_close(s);
}

/* The kernel's side of therm_bulk_read, played on a FIFO: the collector's
 * open blocks until this thread opens the other end at `release_ms`, as the
 * kernel holds the write for the conversion. What was written lands in `got`. */
struct fake_bus {
	char path[512];
	int64_t release_ms;
	char got[32];
};

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *fake_bus_main(void *arg)
{
	struct fake_bus *b = arg;
	struct pollfd p = {.events = POLLIN};
	ssize_t n = 0;

	sleep_ms((long)(b->release_ms - mono_ms()));
	p.fd = open(b->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (p.fd < 0)
		return NULL;
	if (poll(&p, 1, 5000) == 1)
		n = read(p.fd, b->got, sizeof(b->got) - 1);
	b->got[n > 0 ? n : 0] = '\0';
	close(p.fd);
	return NULL;
}

/* A w1 run held in its bus's conversion does not hold the collector loop:
 * cpu_temp keeps its grid, without a late run; a stop waits for the w1 run
 * and stores its point. */
static void test_w1_conversion_off_the_loop(void **state)
{
	(void)state;
	write_file("sys/class/thermal/thermal_zone0/temp", "45000\n");
	write_file("sys/class/thermal/thermal_zone0/type", "cpu\n");
	write_file("sys/bus/w1/devices/28-000000000001/w1_slave",
		   "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=21500\n");
	struct fake_bus bus = {.release_ms = mono_ms() + 2200};
	snprintf(bus.path, sizeof(bus.path), "%s/sys/bus/w1/devices/w1_bus_master1", dir);
	assert_int_equal(mkdir(bus.path, 0755), 0);
	strcat(bus.path, "/therm_bulk_read");
	assert_int_equal(mkfifo(bus.path, 0644), 0);
	pthread_t kernel;
	assert_int_equal(pthread_create(&kernel, NULL, fake_bus_main, &bus), 0);

	struct storage *s = open_buffer(0);
	struct collect_config list[2] = {entry("cpu_temp", COLLECT_CPU_TEMP, 200),
					 entry("w1", COLLECT_W1, 1000)};
	list[0].measurement = (char *)"cpu_temp";
	list[1].measurement = (char *)"w1";
	struct collect_sources src = {.storage = s, .buffer_path = dir};
	struct collect *c = NULL;
	assert_int_equal(collect_start(list, 2, dir, &src, &c), 0);
	/* The w1 run starts within 1 s and is held until 2.2 s. */
	sleep_ms(1600);
	struct collect_stats cpu, w1;
	assert_int_equal(collect_get_stats(c, 0, &cpu), 0);
	assert_int_equal(collect_get_stats(c, 1, &w1), 0);
	assert_int_equal(cpu.errors, 0);
	assert_string_equal(cpu.last_error, "");
	assert_int_equal(w1.runs, 0);
	assert_true(w1.last_run_ns > 0);
	/* cpu_temp ran at least twice since the w1 run began (and is held). */
	assert_true(cpu.last_run_ns >= w1.last_run_ns + 400000000);
	int64_t t0 = mono_ms();
	collect_stop(c);
	assert_true(mono_ms() - t0 >= 300); /* it waited for the conversion */
	assert_int_equal(pthread_join(kernel, NULL), 0);
	assert_string_equal(bus.got, "trigger\n");

	int64_t ts[64];
	size_t n = buffered_times(s, "cpu_temp,type=cpu,zone=thermal_zone0 celsius=45 ", ts, 64);
	assert_true(assert_grid(ts, n, 200000000, 1) >= cpu.runs);
	assert_int_equal(buffered_times(s, "w1,device=28-000000000001 celsius=21.5 ", ts, 64), 1);
	assert_int_equal(ts[0], w1.last_run_ns);
	storage_close(s);
}

static void test_nothing_enabled(void **state)
{
	(void)state;
	struct collect_config off = entry("edge", COLLECT_EDGE, 1000);
	off.enabled = false;
	struct collect_sources src = {0};
	struct collect *c = NULL;
	assert_int_equal(collect_start(&off, 1, "/", &src, &c), 0);
	assert_int_equal(collect_count(c), 0);
	assert_int_equal(collect_count(NULL), 0);
	struct collect_stats st;
	assert_int_equal(collect_get_stats(c, 0, &st), -1);
	collect_stop(c);
	collect_stop(NULL);
}

int main(void)
{
	if (getenv("TEST_COLLECT_DEBUG"))
		log_set_level(LOG_LEVEL_DEBUG); /* shows the BUSY retries */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_grid_busy_buffer_no_loss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_timeout_failures_and_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_w1_conversion_off_the_loop, setup, teardown),
	    cmocka_unit_test(test_nothing_enabled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
