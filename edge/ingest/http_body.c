/* http_body.c -- request bodies: gzip decoded while streaming, never past http.max_body. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* The body buffer starts this big and doubles up to max_body. */
#define HTTP_BODY_MIN_CAP 16384

/* Records the first problem met while receiving. */
static void http_body_error(struct http_request *req, unsigned status, const char *msg)
{
	if (req->error)
		return;
	req->error = status;
	snprintf(req->error_text, sizeof(req->error_text), "%s", msg);
}

static void http_body_too_large(struct http_request *req)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "request body larger than %zu bytes (http.max_body)",
		 req->server->max_body);
	http_body_error(req, MHD_HTTP_CONTENT_TOO_LARGE, msg);
}

int http_body_reserve(struct http_request *req, size_t n)
{
	struct http_server *srv = req->server;
	size_t held = atomic_load(&srv->inflight);
	char msg[160];

	do {
		if (n > srv->max_inflight || held > srv->max_inflight - n) {
			snprintf(msg, sizeof(msg),
				 "busy: request bodies in flight would pass %zu bytes "
				 "(http.max_inflight); retry later",
				 srv->max_inflight);
			http_body_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
			return -1;
		}
	} while (!atomic_compare_exchange_weak(&srv->inflight, &held, held + n));
	req->reserved += n;
	return 0;
}

/* The Content-Length of a body sent as is, 0 when absent, invalid or the
 * body is gzip'd (its decoded size is unknown). */
static size_t http_body_declared(struct http_request *req)
{
	const char *cl = req->gz ? NULL
				 : MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!cl)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno != 0 || end == cl || *end != '\0' || n > SIZE_MAX)
		return 0;
	return (size_t)n;
}

/* The first buffer: HTTP_BODY_MIN_CAP, or less when the request declared
 * a smaller Content-Length (a small reading then costs a small allocation,
 * not 16 KiB; a large declared length is never allocated ahead). */
static size_t http_body_first_cap(struct http_request *req)
{
	size_t n = http_body_declared(req);

	return n == 0 || n >= HTTP_BODY_MIN_CAP ? HTTP_BODY_MIN_CAP : n;
}

/* Makes room for at least one more byte, never past max_body. Returns 0, or
 * -1 when the buffer is at max_body already or memory ran out (error set). */
static int http_body_room(struct http_request *req, size_t want)
{
	size_t max = req->server->max_body;
	size_t held;
	size_t cap;
	char *grown;

	if (req->cap - req->len >= want)
		return 0;
	if (req->len >= max || want > max - req->len) {
		if (req->len >= max)
			return -1;
		want = max - req->len;
		if (req->cap - req->len >= want)
			return 0;
	}
	cap = req->cap ? req->cap : http_body_first_cap(req);
	while (cap - req->len < want && cap < max)
		cap = cap > max / 2 ? max : cap * 2;
	if (cap > max)
		cap = max;
	/* What the budget already holds for the body (a declared length is
	 * reserved at the start), without the decoder's share. */
	held = req->reserved - (req->gz ? HTTP_BODY_GZ_COST : 0);
	if (cap > held && http_body_reserve(req, cap - held) != 0)
		return -1;
	grown = realloc(req->body, cap);
	if (!grown) {
		http_body_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
		return -1;
	}
	req->body = grown;
	req->cap = cap;
	return 0;
}

unsigned http_body_begin(struct http_request *req)
{
	const char *enc = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_CONTENT_ENCODING);

	/* The buffer grows with the data that really arrives: a client that
	 * only announces a big Content-Length costs no memory. The body budget
	 * is taken for the whole declared length at once, though: bodies that
	 * each got a part of it and wait for more could otherwise starve each
	 * other, all ending 503. Past the budget the body is read and dropped,
	 * then answered 503 (an answer before the body is read would make the
	 * client's kernel reset the connection, the answer with it). */
	if (!enc || !*enc || strcasecmp(enc, "identity") == 0) {
		size_t n = http_body_declared(req);

		if (n > 0 && n <= req->server->max_body)
			(void)http_body_reserve(req, n); /* on failure req->error is set */
		return 0;
	}
	if (strcasecmp(enc, "gzip") != 0 && strcasecmp(enc, "x-gzip") != 0) {
		snprintf(req->error_text, sizeof(req->error_text),
			 "Content-Encoding %.40s is not supported (use gzip or none)", enc);
		return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
	}
	if (http_body_reserve(req, HTTP_BODY_GZ_COST) != 0)
		return 0; /* req->error is set: the body is dropped, then answered 503 */
	req->gz = calloc(1, sizeof(*req->gz));
	if (!req->gz || inflateInit2(req->gz, 16 + MAX_WBITS) != Z_OK) {
		free(req->gz);
		req->gz = NULL;
		snprintf(req->error_text, sizeof(req->error_text), "out of memory");
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	return 0;
}

/* Inflates one piece of a gzip body into req->body. */
static void http_body_inflate(struct http_request *req, const char *data, size_t size)
{
	z_stream *gz = req->gz;
	char probe;
	bool probing;
	int rc;

	gz->next_in = (Bytef *)(uintptr_t)data;
	gz->avail_in = (uInt)size;
	while (gz->avail_in > 0 && !req->error) {
		if (req->gz_ended) {
			/* Another gzip member follows (concatenated gzip files). */
			if (inflateReset(gz) != Z_OK) {
				http_body_error(req, MHD_HTTP_BAD_REQUEST, "invalid gzip body");
				return;
			}
			req->gz_ended = false;
		}
		probing = http_body_room(req, HTTP_BODY_MIN_CAP) != 0;
		if (req->error)
			return;
		if (probing) {
			/* At max_body: one more byte of output means too large. */
			gz->next_out = (Bytef *)&probe;
			gz->avail_out = 1;
		} else {
			gz->next_out = (Bytef *)req->body + req->len;
			gz->avail_out = (uInt)(req->cap - req->len);
		}
		rc = inflate(gz, Z_NO_FLUSH);
		if (probing && gz->avail_out == 0) {
			http_body_too_large(req);
			return;
		}
		if (!probing)
			req->len = req->cap - gz->avail_out;
		if (rc == Z_STREAM_END) {
			req->gz_ended = true;
		} else if (rc != Z_OK) {
			char msg[120];

			/* Z_BUF_ERROR cannot happen with input and room both given. */
			snprintf(msg, sizeof(msg), "invalid gzip body: %s",
				 gz->msg ? gz->msg : "corrupt data");
			http_body_error(req, MHD_HTTP_BAD_REQUEST, msg);
			return;
		}
	}
}

void http_body_feed(struct http_request *req, const char *data, size_t size)
{
	if (req->error || size == 0)
		return; /* the rest of a refused body is discarded */
	if (req->gz) {
		/* zlib counts in uInt: feed a huge piece in slices. */
		while (size > 0 && !req->error) {
			size_t n = size > (1u << 30) ? (1u << 30) : size;

			http_body_inflate(req, data, n);
			data += n;
			size -= n;
		}
		return;
	}
	if (size > req->server->max_body - req->len) {
		http_body_too_large(req);
		return;
	}
	if (http_body_room(req, size) != 0)
		return;
	memcpy(req->body + req->len, data, size);
	req->len += size;
}

void http_body_end(struct http_request *req)
{
	if (req->gz && !req->gz_ended && !req->error)
		http_body_error(req, MHD_HTTP_BAD_REQUEST,
				"invalid gzip body: it ends early (truncated)");
}

void http_body_free(struct http_request *req)
{
	if (req->gz) {
		inflateEnd(req->gz);
		free(req->gz);
		req->gz = NULL;
	}
	free(req->body);
	req->body = NULL;
	req->len = 0;
	req->cap = 0;
	if (req->reserved) {
		atomic_fetch_sub(&req->server->inflight, req->reserved);
		req->reserved = 0;
	}
}
