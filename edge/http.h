/* http.h -- HTTP ingest (libmicrohttpd): /data, /write, /api/v2/write, /ping, /health, /status. */
#ifndef IOT_EDGE_HTTP_H
#define IOT_EDGE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "storage.h"

struct http_server;
struct cJSON;

/* Adds the daemon's figures (buffer, uplink, ...) to the JSON object `root`
 * of a GET /status answer. Called on the HTTP thread: quick, lock-free reads. */
typedef void http_status_fn(void *arg, struct cJSON *root);

struct http_options {
	const char *listen;		/* "HOST:PORT", "[V6]:PORT" or ":PORT" */
	size_t max_body;		/* larger request bodies (after gzip decoding) get 413 */
	size_t max_points;		/* more points in one request get 413; 0: no limit */
	size_t max_line;		/* longer line-protocol lines are refused; 0: no limit */
	unsigned max_connections;	/* client connections at once; 0: 1000 */
	unsigned connection_timeout_ms; /* idle connection, or a request body slower than
					   this, is closed; 0: 30 s */
	const char *token;		/* NULL or "": no authentication; copied, never logged */
	int unsigned_ok;		/* accept 12u line-protocol fields (the uplink speaks v2) */
	http_status_fn *status;		/* GET /status; NULL: only the "ingest" figures */
	void *status_arg;
};

/* Listen and serve on libmicrohttpd's own thread; requests are answered only
 * after storage has committed their points. `s` must outlive the server.
 * Returns 0 and *out, or -1 (logged: bad address, port in use). Main thread. */
int http_start(const struct http_options *options, struct storage *s, struct http_server **out);

/* Request counters, see http_get_stats(). */
struct http_stats {
	uint64_t requests;	/* every request answered */
	uint64_t points;	/* points acknowledged (committed, then the answer sent) */
	uint64_t client_errors; /* 4xx answers */
	uint64_t server_errors; /* 5xx answers */
	uint64_t bad_lines;	/* line-protocol lines refused (partial writes included) */
};

/* Parse "HOST:PORT", "[IPV6]:PORT" or ":PORT" (all interfaces); HOST is a
 * numeric address or "localhost". Returns 0, or -1 with *why set to a static
 * message. Any thread. (edge/http_listen.c: no libmicrohttpd needed.) */
int http_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
		      const char **why);

/* Copy the counters. Any thread. */
void http_get_stats(struct http_server *h, struct http_stats *out);

/* The TCP port the server listens on (the one the kernel picked for port
 * 0). Any thread. */
unsigned http_port(struct http_server *h);

/* Stop accepting, wait until every request already received has been
 * answered (their commits finish), then stop the server. NULL-safe. Main
 * thread. */
void http_stop(struct http_server *h);

#endif
