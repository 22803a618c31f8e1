/* http.h -- HTTP ingest (libmicrohttpd): /data, /write, /api/v2/write, /ping, /health, and the
 * pages other rooms hand it. */
#ifndef IOT_EDGE_HTTP_H
#define IOT_EDGE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

struct http_server;

/* A page the HTTP server serves for another room (GET /status, /metrics and
 * the status page at / belong to edge/status): filled by an http_page_fn. */
struct http_page {
	const char *content_type;
	const char *body; /* len bytes */
	size_t len;
	void (*release)(void *body); /* frees body once copied; NULL: static, never freed */
	const char *headers[8];	     /* extra headers: name, value, ..., NULL */
};

enum http_page_result {
	HTTP_PAGE_NONE,	  /* `url` is not one of its pages: 404 */
	HTTP_PAGE_OK,	  /* *out is filled (or, without `fill`, the page exists) */
	HTTP_PAGE_ENOMEM, /* 503 */
};

/* Answer GET `url` into *out; with `fill` false only say whether `url` is a
 * page (a POST to it is then answered 405). `srv` is the server asking, for
 * its counters. Called on the HTTP thread: quick, no blocking. */
typedef enum http_page_result http_page_fn(void *arg, struct http_server *srv, const char *url,
					   bool fill, struct http_page *out);

struct http_options {
	const char *listen;		 /* "HOST:PORT", "[V6]:PORT" or ":PORT" */
	size_t max_body;		 /* larger request bodies (after gzip decoding) get 413 */
	size_t max_points;		 /* more points in one request get 413; 0 (or more than
					    storage_max_append_points()): the write queue's size */
	size_t max_line;		 /* longer line-protocol lines are refused; 0: no limit */
	unsigned max_connections;	 /* client connections at once; 0: 1000 */
	unsigned max_connections_per_ip; /* from one address at once; 0: no limit */
	size_t max_inflight;		 /* request body bytes held at once, all requests; more
					    get 503; 0: no limit; at least max_body + 48 KiB */
	size_t max_tags, max_fields;	/* per point; 0: the model's defaults (lineproto_parse.h) */
	unsigned threads;		/* libmicrohttpd worker threads; 0: 2 */
	unsigned connection_timeout_ms; /* idle connection, or a request body slower than
					   this, is closed; 0: 30 s */
	const char *token;		/* NULL or "": no authentication; copied, never logged */
	int unsigned_ok;		/* accept 12u line-protocol fields (the uplink speaks v2) */
	const char *tags;		/* added to every point ([tags]); NULL: none */
	http_page_fn *page;		/* other GET pages; NULL: none */
	void *page_arg;
	const char *allow;	   /* source CIDR list (addr_allow_parse()); NULL or "": any */
	const char *allow_origins; /* Origin values allowed ("http://a:3000, ..."); NULL: none */
};

/* Listen and serve on libmicrohttpd's own threads (a pool of
 * options->threads: one large body holds only its worker); requests are answered only
 * after storage has committed their points. `s` must outlive the server.
 * Returns 0 and *out, or -1 (logged: bad address, port in use). Main thread. */
int http_start(const struct http_options *options, struct storage *s, struct http_server **out);

/* The write endpoints counted one by one in struct http_stats. */
enum http_stats_endpoint {
	HTTP_STATS_DATA,	 /* POST /data */
	HTTP_STATS_WRITE,	 /* POST /write */
	HTTP_STATS_API_V2_WRITE, /* POST /api/v2/write */
	HTTP_STATS_ENDPOINTS
};

/* Answers are counted by status code, HTTP_STATS_CODE_FIRST..+HTTP_STATS_CODES-1. */
#define HTTP_STATS_CODE_FIRST 100u
#define HTTP_STATS_CODES 500u

/* Request counters, see http_get_stats(). */
struct http_stats {
	uint64_t requests;	      /* every request answered */
	uint64_t points;	      /* points acknowledged (committed, then the answer sent) */
	uint64_t client_errors;	      /* 4xx answers */
	uint64_t server_errors;	      /* 5xx answers */
	uint64_t bad_lines;	      /* line-protocol lines refused (partial writes included) */
	uint64_t refused_connections; /* connections from outside http.allow, closed at once */
	/* Requests received by each write endpoint (whatever their answer). */
	uint64_t endpoint_requests[HTTP_STATS_ENDPOINTS];
	/* Points each write endpoint acknowledged. */
	uint64_t endpoint_points[HTTP_STATS_ENDPOINTS];
	/* answers[status - HTTP_STATS_CODE_FIRST]: answers with that status
	 * (a body cut off for being too slow counts as 408). */
	uint64_t answers[HTTP_STATS_CODES];
};

/* "data", "write" or "api_v2_write": the name of a write endpoint in /status
 * and /metrics; NULL for an index out of range. Static string; any thread. */
const char *http_stats_endpoint_name(unsigned endpoint);

/* Copy the counters (about 4 KiB). Any thread. */
void http_get_stats(struct http_server *h, struct http_stats *out);

/* The TCP port the server listens on (the one the kernel picked for port
 * 0). Any thread. */
unsigned http_port(struct http_server *h);

/* Stop accepting, wait until every request already received has been
 * answered (their commits finish), then stop the server. NULL-safe. Main
 * thread. */
void http_stop(struct http_server *h);

#endif
