/* http.h -- the HTTP ingest server (libmicrohttpd): /data, /health. */
#ifndef IOT_EDGE_HTTP_H
#define IOT_EDGE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "storage.h"

struct http_server;

struct http_options {
	const char *listen;   /* "HOST:PORT", "[V6]:PORT" or ":PORT" */
	size_t max_body;      /* larger request bodies get 413 */
};

/* Listen and serve on libmicrohttpd's own thread; requests are answered only
 * after storage has committed their points. `s` must outlive the server.
 * Returns 0 and *out, or -1 (logged: bad address, port in use). Main thread. */
int http_start(const struct http_options *options, struct storage *s,
	       struct http_server **out);

/* Request counters, see http_get_stats(). */
struct http_stats {
	uint64_t requests;       /* every request answered */
	uint64_t points;         /* points acknowledged (committed, then 2xx sent) */
	uint64_t client_errors;  /* 4xx answers */
	uint64_t server_errors;  /* 5xx answers */
};

/* Parse "HOST:PORT", "[IPV6]:PORT" or ":PORT" (all interfaces); HOST is a
 * numeric address or "localhost". Returns 0, or -1 with *why set to a static
 * message. Any thread. */
int http_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
		      const char **why);

/* Copy the counters. Any thread. */
void http_get_stats(struct http_server *h, struct http_stats *out);

/* Stop accepting, wait until every request already received has been
 * answered (their commits finish), then stop the server. NULL-safe. */
void http_stop(struct http_server *h);

#endif
