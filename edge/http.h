/* http.h -- the HTTP ingest server (libmicrohttpd): /data, /health. */
#ifndef IOT_EDGE_HTTP_H
#define IOT_EDGE_HTTP_H

#include <stddef.h>

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

/* Stop accepting, wait until every request already received has been
 * answered (their commits finish), then stop the server. NULL-safe. */
void http_stop(struct http_server *h);

#endif
