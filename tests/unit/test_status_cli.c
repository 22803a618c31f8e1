/* test_status_cli.c -- `iot-edge status --url`: http answered by a real loopback server, file://
 * and ftp:// refused by libcurl. Built twice: as is, and as against curl 7.74 (curl_7_74/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "status_cli.h"

/* What `iot-edge status` printed and returned. */
struct cli_run {
	int rc;
	char out[8192], err[2048];
};

/* The whole of file descriptor fd (from its start) into buf. */
static void read_back(int fd, char *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
}

/* Run `iot-edge status --url URL [--json]`, its stdout and stderr kept. */
static void cli(const char *url, bool json, struct cli_run *r)
{
	char *argv[] = {"status", "--url", (char *)url, json ? "--json" : NULL, NULL};
	int argc = json ? 4 : 3;
	FILE *out = tmpfile(), *err = tmpfile();
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);

	assert_non_null(out);
	assert_non_null(err);
	assert_true(saved_out >= 0 && saved_err >= 0);
	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(fileno(out), STDOUT_FILENO) >= 0);
	assert_true(dup2(fileno(err), STDERR_FILENO) >= 0);
	optind = 0; /* getopt_long starts over */
	r->rc = status_cli_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(saved_out, STDOUT_FILENO) >= 0);
	assert_true(dup2(saved_err, STDERR_FILENO) >= 0);
	close(saved_out);
	close(saved_err);
	read_back(fileno(out), r->out, sizeof(r->out));
	read_back(fileno(err), r->err, sizeof(r->err));
	fclose(out);
	fclose(err);
}

/* --- a loopback HTTP server answering one GET with a /status document ---- */

struct one_answer {
	int listen_fd;
	unsigned port;
	char request[1024]; /* what it received, up to the blank line */
	pthread_t thread;
};

static const char status_json[] =
    "{\"ingest\":{\"requests\":1,\"points\":1},\"version\":\"9.9.9\",\"uptime_s\":5,"
    "\"buffer\":{\"points\":0},\"uplink\":{\"state\":\"ok\",\"requests_ok\":1},"
    "\"collectors\":[]}";

static void *one_answer_run(void *arg)
{
	struct one_answer *a = arg;
	int fd = accept(a->listen_fd, NULL, NULL);
	size_t len = 0;
	char answer[512];
	int n;

	if (fd < 0)
		return NULL;
	while (len + 1 < sizeof(a->request) && !strstr(a->request, "\r\n\r\n")) {
		ssize_t got = read(fd, a->request + len, sizeof(a->request) - 1 - len);

		if (got <= 0)
			break;
		len += (size_t)got;
		a->request[len] = '\0';
	}
	n = snprintf(answer, sizeof(answer),
		     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
		     "%zu\r\nConnection: close\r\n\r\n%s",
		     strlen(status_json), status_json);
	if (n > 0 && write(fd, answer, (size_t)n) != n)
		a->request[0] = '\0'; /* the test then fails on the request */
	close(fd);
	return NULL;
}

/* Listen on 127.0.0.1, a port the kernel picks; answer one request. */
static void one_answer_start(struct one_answer *a)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);

	memset(a, 0, sizeof(*a));
	a->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(a->listen_fd >= 0);
	assert_int_equal(bind(a->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(a->listen_fd, 1), 0);
	assert_int_equal(getsockname(a->listen_fd, (struct sockaddr *)&addr, &len), 0);
	a->port = ntohs(addr.sin_port);
	assert_int_equal(pthread_create(&a->thread, NULL, one_answer_run, a), 0);
}

static void one_answer_stop(struct one_answer *a)
{
	assert_int_equal(pthread_join(a->thread, NULL), 0);
	close(a->listen_fd);
}

/* --- tests ---------------------------------------------------------------- */

static void test_http_answered(void **state)
{
	struct one_answer a;
	struct cli_run r;
	char url[64];

	(void)state;
	one_answer_start(&a);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", a.port);
	cli(url, true, &r);
	one_answer_stop(&a);
	/* both ends: the server got GET /status, the command printed its answer */
	assert_true(strncmp(a.request, "GET /status HTTP/1.1\r\n", 22) == 0);
	assert_int_equal(r.rc, STATUS_CLI_OK);
	assert_non_null(strstr(r.out, "\"version\":\"9.9.9\""));
	assert_string_equal(r.err, "");
}

/* A local file holding a /status document: read, were file:// allowed. */
static void test_file_refused(void **state)
{
	char dir[] = "/tmp/test_status_cli.XXXXXX";
	char path[64], url[80];
	struct cli_run r;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/status", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(status_json, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	snprintf(url, sizeof(url), "file://%s", dir);
	cli(url, true, &r);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(r.rc, STATUS_CLI_UNREACHABLE);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "cannot reach iot-edge at file://"));
	assert_non_null(strstr(r.err, "Protocol \"file\""));
}

/* ftp:// to the loopback server: refused before any connection. */
static void test_ftp_refused(void **state)
{
	struct one_answer a;
	struct cli_run r;
	char url[64];

	(void)state;
	one_answer_start(&a);
	snprintf(url, sizeof(url), "ftp://127.0.0.1:%u", a.port);
	cli(url, false, &r);
	assert_int_equal(r.rc, STATUS_CLI_UNREACHABLE);
	assert_non_null(strstr(r.err, "Protocol \"ftp\""));
	/* nobody connected: release the server with an http request */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", a.port);
	cli(url, false, &r);
	one_answer_stop(&a);
	assert_int_equal(r.rc, STATUS_CLI_OK);
	assert_true(strncmp(a.request, "GET /status HTTP/1.1\r\n", 22) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_answered),
	    cmocka_unit_test(test_file_refused),
	    cmocka_unit_test(test_ftp_refused),
	};

	fprintf(stderr, "built against libcurl %s (LIBCURL_VERSION_NUM 0x%06x), running %s\n",
		LIBCURL_VERSION, LIBCURL_VERSION_NUM, curl_version());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
