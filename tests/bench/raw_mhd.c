/* raw_mhd.c -- benchmark baseline: libmicrohttpd answering POST /data with 201, storing nothing. */

/*
 * Usage: raw_mhd [--turbo] PORT
 * Listens on 127.0.0.1:PORT with the same threading flags as
 * edge/ingest/http.c, reads each request body whole, answers 201 with an
 * empty body, and exits 0 on SIGTERM or SIGINT. Any other path or method
 * gets 404. --turbo is the machine's ceiling instead: a pool of 2 threads,
 * each polling its share of the connections with epoll, and MHD_USE_TURBO
 * (reads and writes tried before asking epoll).
 */

#include <microhttpd.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

static struct MHD_Response *raw_empty;

static enum MHD_Result raw_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_size, void **req)
{
	static int marker;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (!*req) {
		*req = &marker; /* headers only so far */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* consume the body, keep nothing */
		return MHD_YES;
	}
	if (strcmp(method, "POST") != 0 || strcmp(url, "/data") != 0)
		return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, raw_empty);
	return MHD_queue_response(conn, MHD_HTTP_CREATED, raw_empty);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct MHD_Daemon *d;
	sigset_t stop;
	char *end = NULL;
	const char *arg;
	bool turbo;
	long port;
	int sig = 0;

	turbo = argc == 3 && strcmp(argv[1], "--turbo") == 0;
	if (argc != 2 && !turbo) {
		fprintf(stderr, "usage: raw_mhd [--turbo] PORT\n");
		return 2;
	}
	arg = argv[argc - 1];
	errno = 0;
	port = strtol(arg, &end, 10);
	if (errno || end == arg || *end || port < 1 || port > 65535) {
		fprintf(stderr, "raw_mhd: bad port \"%s\"\n", arg);
		return 2;
	}
	/* the stop signals are taken by sigwait, in every thread */
	if (sigemptyset(&stop) || sigaddset(&stop, SIGTERM) || sigaddset(&stop, SIGINT) ||
	    pthread_sigmask(SIG_BLOCK, &stop, NULL)) {
		fprintf(stderr, "raw_mhd: cannot block signals\n");
		return 1;
	}
	raw_empty = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!raw_empty)
		return 1;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (turbo)
		d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO |
					 MHD_USE_ERROR_LOG,
				     0, NULL, NULL, raw_on_request, NULL, MHD_OPTION_SOCK_ADDR,
				     &addr, MHD_OPTION_CONNECTION_LIMIT, 1000u,
				     MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_END);
	else
		d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
				     NULL, raw_on_request, NULL, MHD_OPTION_SOCK_ADDR, &addr,
				     MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "raw_mhd: cannot listen on 127.0.0.1:%ld\n", port);
		MHD_destroy_response(raw_empty);
		return 1;
	}
	if (sigwait(&stop, &sig) != 0)
		fprintf(stderr, "raw_mhd: sigwait failed\n");
	MHD_stop_daemon(d);
	MHD_destroy_response(raw_empty);
	return 0;
}
