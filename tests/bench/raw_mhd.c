/* raw_mhd.c -- benchmark baseline: libmicrohttpd answering POST /data with 201, storing nothing. */

/*
 * Usage: raw_mhd PORT
 * Listens on 127.0.0.1:PORT with the same threading flags as edge/http.c,
 * reads each request body whole, answers 201 with an empty body, and exits 0
 * on SIGTERM or SIGINT. Any other path or method gets 404.
 */

#include <microhttpd.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
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
	long port;
	int sig = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: raw_mhd PORT\n");
		return 2;
	}
	errno = 0;
	port = strtol(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || port < 1 || port > 65535) {
		fprintf(stderr, "raw_mhd: bad port \"%s\"\n", argv[1]);
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
	d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			     raw_on_request, NULL, MHD_OPTION_SOCK_ADDR, &addr,
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
