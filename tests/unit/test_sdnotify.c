/* test_sdnotify.c -- the systemd notifications really reach a NOTIFY_SOCKET, and nothing breaks
 * without one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

struct listener {
	int fd;
	char path[108];
};

/* A datagram socket standing in for systemd's notify socket. */
static int setup(void **state)
{
	static struct listener l;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	snprintf(l.path, sizeof(l.path), "/tmp/test_sdnotify.%ld.sock", (long)getpid());
	unlink(l.path);
	l.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(l.fd >= 0);
	memcpy(addr.sun_path, l.path, strlen(l.path) + 1);
	assert_int_equal(bind(l.fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	struct timeval tv = {.tv_sec = 2};
	assert_int_equal(setsockopt(l.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", l.path, 1), 0);
	*state = &l;
	return 0;
}

static int teardown(void **state)
{
	struct listener *l = *state;

	unsetenv("NOTIFY_SOCKET");
	close(l->fd);
	unlink(l->path);
	return 0;
}

/* The next datagram, as a string; fails the test when none comes in 2 s. */
static const char *receive(struct listener *l)
{
	static char buf[1024];
	ssize_t n = recv(l->fd, buf, sizeof(buf) - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

/* Nothing more is waiting on the socket. */
static void assert_nothing_sent(struct listener *l)
{
	char buf[16];

	assert_int_equal(recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_states_are_sent(void **state)
{
	struct listener *l = *state;

	if (!sdnotify_supported()) {
		/* Built without libsystemd: every call is a quiet no-op. */
		assert_int_equal(sdnotify_ready(), 0);
		assert_int_equal(sdnotify_stopping(), 0);
		assert_nothing_sent(l);
		skip();
	}
	assert_int_equal(sdnotify_ready(), 1);
	assert_string_equal(receive(l), "READY=1");
	assert_int_equal(sdnotify_reloading(), 1);
	assert_string_equal(receive(l), "RELOADING=1");
	assert_int_equal(sdnotify_watchdog(), 1);
	assert_string_equal(receive(l), "WATCHDOG=1");
	assert_int_equal(sdnotify_stopping(), 1);
	assert_string_equal(receive(l), "STOPPING=1");
	assert_nothing_sent(l);
}

static void test_status_is_one_line(void **state)
{
	struct listener *l = *state;

	if (!sdnotify_supported())
		skip();
	assert_int_equal(sdnotify_status("backlog 12 points\nREADY=1\r"), 1);
	/* A newline must not smuggle in a second assignment. */
	assert_string_equal(receive(l), "STATUS=backlog 12 points READY=1 ");
}

static void test_long_status_is_cut(void **state)
{
	struct listener *l = *state;
	char text[400];

	if (!sdnotify_supported())
		skip();
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(sdnotify_status(text), 1);
	const char *got = receive(l);
	assert_int_equal(strlen(got), 255);
	assert_memory_equal(got, "STATUS=xxx", 10);
}

static void test_without_socket_nothing_happens(void **state)
{
	struct listener *l = *state;

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_ready(), 0);
	assert_int_equal(sdnotify_status("x"), 0);
	assert_int_equal(sdnotify_watchdog(), 0);
	assert_nothing_sent(l);
	assert_int_equal(setenv("NOTIFY_SOCKET", l->path, 1), 0);
}

static void test_dead_socket_is_an_error(void **state)
{
	struct listener *l = *state;

	if (!sdnotify_supported())
		skip();
	assert_int_equal(setenv("NOTIFY_SOCKET", "/tmp/test_sdnotify.nobody-listens.sock", 1), 0);
	assert_int_equal(sdnotify_ready(), -1);
	assert_int_equal(sdnotify_ready(), -1); /* warned once, still reported */
	assert_int_equal(setenv("NOTIFY_SOCKET", l->path, 1), 0);
	assert_nothing_sent(l);
}

static void test_watchdog_period(void **state)
{
	char pid[32];

	(void)state;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sdnotify_watchdog_usec(), 0);

	assert_int_equal(setenv("WATCHDOG_USEC", "3000000", 1), 0);
	assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
	assert_int_equal(sdnotify_watchdog_usec(), sdnotify_supported() ? 3000000 : 0);

	/* Meant for another process (a parent that forked us): not ours. */
	assert_int_equal(setenv("WATCHDOG_PID", "1", 1), 0);
	assert_int_equal(sdnotify_watchdog_usec(), 0);

	assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
	assert_int_equal(setenv("WATCHDOG_USEC", "soon", 1), 0);
	assert_int_equal(sdnotify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_states_are_sent),
	    cmocka_unit_test(test_status_is_one_line),
	    cmocka_unit_test(test_long_status_is_cut),
	    cmocka_unit_test(test_without_socket_nothing_happens),
	    cmocka_unit_test(test_dead_socket_is_an_error),
	    cmocka_unit_test(test_watchdog_period),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
