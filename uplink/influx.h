/* influx.h -- private to uplink/: a small InfluxDB v1/v2 write client on one reused curl handle. */
#ifndef IOT_EDGE_INFLUX_H
#define IOT_EDGE_INFLUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uplink.h"

/* How much of an answer's body is kept (error messages, refused lines); the
 * rest is read and dropped. */
#define INFLUX_BODY_CAP 16384

/* Bodies shorter than this go uncompressed even with gzip on. */
#define INFLUX_GZIP_MIN_BYTES 1024

/* zlib level: the fastest, which already shrinks line protocol 5-10 times. */
#define INFLUX_GZIP_LEVEL 1

struct influx;

/* Polled during a transfer (about once a second, and on every progress);
 * returning true aborts the request at once. Runs on the requesting thread. */
typedef bool influx_abort_fn(void *arg);

/* What one request got back. Filled by influx_write() and
 * influx_create_database(); the caller owns it (it is large: keep it off
 * small stacks). */
struct influx_reply {
	long status;			/* HTTP status; 0 when no answer arrived */
	bool aborted;			/* the abort callback stopped the request */
	bool timed_out;			/* no answer within the timeout */
	char error[256];		/* curl's reason when status is 0 */
	char body[INFLUX_BODY_CAP + 1]; /* the start of the answer body, NUL-terminated */
	size_t body_len;		/* bytes in body (at most INFLUX_BODY_CAP) */
	int64_t retry_after_s;		/* Retry-After in seconds; -1 when absent or unreadable */
	uint32_t elapsed_ms;		/* how long the request took */
	size_t raw_bytes;		/* line protocol in the request */
	size_t sent_bytes;		/* the request body as sent (after gzip) */
	bool gzipped;			/* the body went out with Content-Encoding: gzip */
};

/* Initialise libcurl (curl_global_init, reference-counted by libcurl) and
 * create the client for `options`: the v1 or v2 write URL, basic auth (v1,
 * when username is set) or "Authorization: Token" (v2, when token is set),
 * TLS verification (ca_file; insecure_skip_verify turns it off, with a
 * warning), gzip, and options->timeout_ms per request (connecting: at most
 * 10 s of it). The strings are copied; `abort_fn(abort_arg)` is polled
 * during every transfer. Returns 0 and sets *out (free it with
 * influx_destroy()), or -1 (the reason is logged) leaving *out untouched.
 * Main thread, before the uplink thread starts (curl_global_init is not
 * thread-safe everywhere). */
int influx_create(const struct uplink_options *options, influx_abort_fn *abort_fn, void *abort_arg,
		  struct influx **out);

/* Free the handle and everything else, then curl_global_cleanup(). NULL-safe.
 * Main thread, after the thread that used the client has been joined. */
void influx_destroy(struct influx *c);

/* POST `len` bytes of line protocol to the write URL with precision=ns
 * (Content-Type text/plain; charset=utf-8; gzip'd when gzip is on and len >=
 * INFLUX_GZIP_MIN_BYTES). `body` stays the caller's and need not be
 * NUL-terminated. Returns 0 when InfluxDB answered -- whatever the status:
 * see reply->status -- or -1 when no answer arrived (network error, timeout,
 * abort: see reply->error, ->timed_out and ->aborted). Only one thread may
 * use a client at a time. */
int influx_write(struct influx *c, const char *body, size_t len, struct influx_reply *reply);

/* v1: POST q=CREATE DATABASE "<db>" to <url>/query. Returns as
 * influx_write(); note that InfluxDB reports a refused statement with HTTP
 * 200 and an "error" member in the body. Same thread rules as influx_write(). */
int influx_create_database(struct influx *c, struct influx_reply *reply);

/* GET <url>/ping (1.x and 2.x answer 204, 3.x 200), with the client's
 * credentials, within the smaller of the timeout and 5 s: is InfluxDB up and
 * answering? Returns true for a 2xx; writes "/ping answered 204" or why not
 * ("/ping: timeout: ...", "/ping answered 500") to why[size] (the caller's).
 * Leaves every influx_reply of the caller as it was. Same thread rules as
 * influx_write(). */
bool influx_ping(struct influx *c, char *why, size_t size);

/* Send every later body uncompressed (the server answered 415 to gzip).
 * Same thread rules as influx_write(). */
void influx_disable_gzip(struct influx *c);

#endif
