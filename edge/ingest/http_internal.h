/* http_internal.h -- what the http*.c files share: the server, one request, the answers. */
#ifndef IOT_EDGE_HTTP_INTERNAL_H
#define IOT_EDGE_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "addr.h"
#include "http.h"
#include "ingest.h"
#include "log.h"

#define HTTP_LOG "http"

/* InfluxDB API level /ping claims, and our own version beside it. */
#define HTTP_INFLUX_VERSION "1.8.10"

struct http_conn;

/* The kinds of problem a client can repeat at will, each logged once, then
 * at most once per HTTP_LOG_AGAIN_MS with a count (log_limited()). */
enum http_log_kind {
	HTTP_LOG_MHD,	       /* libmicrohttpd's own messages (malformed requests ...) */
	HTTP_LOG_BAD,	       /* other 4xx answers */
	HTTP_LOG_UNAUTHORIZED, /* 401 answers */
	HTTP_LOG_AUTH,	       /* why an authorization failed */
	HTTP_LOG_FORBIDDEN,    /* 403: a foreign Origin */
	HTTP_LOG_NOT_FOUND,    /* 404, 405 */
	HTTP_LOG_TOO_LARGE,    /* 413 */
	HTTP_LOG_SERVER,       /* 5xx answers */
	HTTP_LOG_SLOW,	       /* a body slower than the timeout */
	HTTP_LOG_SLOW_HEAD,    /* connections cut for sending no complete request head */
	HTTP_LOG_REFUSED,      /* a connection from outside http.allow */
	HTTP_LOG_KINDS
};
#define HTTP_LOG_AGAIN_MS 60000

struct http_server {
	struct MHD_Daemon *daemon;
	struct storage *storage; /* for /health's figures */
	struct ingest *ingest;	 /* the door every request's points go through */
	size_t max_body;
	/* Most points in one request, and what sets it: http.max_points or,
	 * when that is larger or 0, the buffer's write queue. */
	size_t max_points;
	bool max_points_is_queue;
	size_t max_line;
	size_t max_tags, max_fields; /* per point, handed to the parsers */
	/* Request body bytes held by all requests together (buffers and gzip
	 * state), and the most they may hold (http.max_inflight). */
	atomic_size_t inflight;
	size_t max_inflight;
	unsigned timeout_ms;
	int unsigned_ok;
	char *token; /* NULL: no authentication */
	http_page_fn *page_fn;
	void *page_arg;
	size_t token_len;

	atomic_uint_fast64_t requests, points, client_errors, server_errors, bad_lines;
	atomic_uint_fast64_t endpoint_requests[HTTP_STATS_ENDPOINTS];
	atomic_uint_fast64_t endpoint_points[HTTP_STATS_ENDPOINTS];
	atomic_uint_fast64_t answers[HTTP_STATS_CODES];
	struct log_limit log_kinds[HTTP_LOG_KINDS]; /* rate limits of client problems */
	/* Who may talk to the server (http_policy.c). */
	struct addr_allow allow;		  /* http.allow; n 0: any source */
	char *allow_origins;			  /* http.allow_origins, copied; NULL: none */
	atomic_uint_fast64_t refused_connections; /* from outside `allow` */

	/* Open connections and the thread that cuts slow ones (http_conn.c). */
	pthread_mutex_t conns_lock;
	struct http_conn *conns;
	pthread_t sweeper;
	pthread_cond_t sweeper_wake;
	bool sweeper_stop;
	bool sweeper_started;
	bool sweeper_cond_ok;
	bool sweeper_idle; /* asleep with no deadline: a new one signals sweeper_wake */
};

/* Which API a request speaks: it decides the error format and the 2xx. */
enum http_endpoint {
	HTTP_EP_DATA,	  /* POST /data: JSON, 201, {"error":"..."} */
	HTTP_EP_WRITE_V1, /* POST /write: line protocol, 204, {"error":"..."} */
	HTTP_EP_WRITE_V2, /* POST /api/v2/write: 204, {"code":"...","message":"..."} */
};

/* One request's life: RECEIVING its body -> WAITING for the commit -> answered. */
enum http_state { HTTP_RECEIVING, HTTP_WAITING };

struct http_request {
	struct http_server *server;
	struct MHD_Connection *conn;
	enum http_endpoint endpoint;
	enum http_state state;
	int64_t precision_ns; /* line protocol timestamps */
	uint64_t started_ms;  /* monotonic, when the headers were in */

	/* The body, decoded, at most server->max_body bytes. */
	char *body;
	size_t len, cap;
	size_t reserved; /* bytes of server->inflight this request holds */
	z_stream *gz;	 /* Content-Encoding: gzip, else NULL */
	bool gz_ended;	 /* the last gzip member ended */
	unsigned error;	 /* a problem met while receiving, answered at the end */
	char error_text[160];

	/* After the parse. */
	size_t points;
	char *partial;	   /* the 400 message sent after the commit, or NULL */
	bool in_flight;	   /* handed to the ingest door and not yet settled */
	atomic_int result; /* storage_result, set by the writer thread */
};

/* --- http_answer.c: answers and the hand-over to the ingest door (MHD thread) --- */

/* Queue `body` (copied; "" for none) with `status`, Content-Type `type`
 * (NULL: none) and at most one extra header. Returns MHD's result. */
enum MHD_Result http_respond(struct MHD_Connection *conn, unsigned status, const char *body,
			     const char *type, const char *header, const char *value);

/* Counts an answer in the server's counters. */
void http_count(struct http_server *srv, unsigned status);

/* Answers an error in the endpoint's format ({"error":...} or, for v2,
 * {"code":...,"message":...}) with at most one extra header; a 503 gets
 * Retry-After. Counts it and logs it at debug level. Returns MHD's result. */
enum MHD_Result http_fail(struct http_server *srv, struct MHD_Connection *conn,
			  enum http_endpoint ep, unsigned status, const char *message,
			  const char *header, const char *value);

/* Hands *text (malloc'd, len bytes of canonical line protocol, `points`
 * lines) to the ingest door and suspends the connection until the commit
 * or the refusal is answered by http_answer_committed(), when MHD calls the
 * handler again. Ownership as in ingest.h: when the door accepts the text it
 * is storage's and *text is set to NULL; when it refuses it, *text is left
 * to the caller to free. Returns MHD's result. */
enum MHD_Result http_submit(struct http_request *req, char **text, size_t len, size_t points);

/* The 413 message for more than srv->max_points points ("more than N points
 * in one request (http.max_points)" or naming the write queue) into why. */
void http_too_many(const struct http_server *srv, char *why, size_t why_size);

/* Resumed after the commit: the 2xx (or the partial-write 400), or why
 * nothing was stored. Returns MHD's result. */
enum MHD_Result http_answer_committed(struct http_request *req);

/* The request no longer waits for storage (answered, or its client left):
 * its hand-off is settled. */
void http_settle(struct http_request *req);

/* --- http_body.c: receiving the body (MHD thread) --- */

/* What a gzip decoder holds, counted in the body budget (zlib: a 32 KiB
 * window and ~7 KiB of state). */
#define HTTP_BODY_GZ_COST (48u << 10)

/* Checks Content-Encoding and sets up gzip decoding. Returns 0, or the
 * status to answer (415, 500) with a message in req->error_text. */
unsigned http_body_begin(struct http_request *req);

/* Takes the next piece of the body: decoded into req->body, never past
 * max_body; a problem sets req->error (413 too large, 400 bad gzip) and
 * the rest of the body is then discarded. */
void http_body_feed(struct http_request *req, const char *data, size_t size);

/* The body is complete: a gzip body must have ended. Sets req->error. */
void http_body_end(struct http_request *req);

/* Takes `n` bytes of the server's body budget for `req`. Returns 0, or -1
 * (nothing taken) with req->error set to 503 when http.max_inflight would be
 * passed. Any MHD thread. */
int http_body_reserve(struct http_request *req, size_t n);

/* Frees the body and the decoder and gives their budget back. Safe on a
 * request that never began one. */
void http_body_free(struct http_request *req);

/* --- http_conn.c: the slow-loris guard --- */

/* Starts the sweeper thread (srv->conns_lock must be initialised). Returns 0
 * or -1 (logged). Main thread. */
int http_conn_start(struct http_server *srv);

/* Stops and joins the sweeper. Safe when it never started. Main thread. */
void http_conn_stop(struct http_server *srv);

/* MHD_OPTION_NOTIFY_CONNECTION callback (cls: the server): keeps the list
 * of open connections. MHD thread. */
void http_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		      enum MHD_ConnectionNotificationCode toe);

/* A request's head is in (started) or its answer is done (!started): the
 * sweeper leaves the connection alone, or times its next request head from
 * now. MHD thread. */
void http_conn_request(struct http_server *srv, struct MHD_Connection *conn, bool started);

/* --- http_policy.c: who may talk to the server, and how it logs them --- */

/* The log kind of an error answer with `status`. Pure. */
enum http_log_kind http_log_kind(unsigned status);

/* Set up srv->allow and srv->allow_origins from the options. Returns 0, or
 * -1 (logged: a bad list, no memory). Main thread. */
int http_policy_init(struct http_server *srv, const struct http_options *options);

/* Free what http_policy_init() made. Safe on a zeroed server. */
void http_policy_free(struct http_server *srv);

/* MHD's accept policy callback (cls: the server): MHD_NO closes a
 * connection from outside http.allow at once (counted, logged rate-limited).
 * MHD thread. */
enum MHD_Result http_policy_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);

/* True if the request must be refused for its Origin header: present, not
 * in http.allow_origins, and not a GET or HEAD from the page's own origin
 * (Origin's host[:port] equal to the Host header). `why` (why_size bytes)
 * then holds the 403 message. MHD thread. */
bool http_policy_origin_refused(struct http_server *srv, struct MHD_Connection *conn,
				const char *method, char *why, size_t why_size);

/* --- http_auth.c --- */

/* True if the request carries the server's token (Authorization: Token,
 * Bearer or Basic, or the v1 query parameter p), or no token is set.
 * Constant time in the token; never logs it. MHD thread. */
bool http_auth_ok(struct http_server *srv, struct MHD_Connection *conn);

/* --- http_data.c, http_write.c: the endpoints (MHD thread) --- */

/* The headers of a POST /data are in: checks them. Returns MHD_YES to
 * receive the body (nothing queued), or the result of an error answer
 * queued (then *answered is set). */
enum MHD_Result http_data_begin(struct http_request *req, bool *answered);

/* The body of a POST /data is in: parse, store, answer. */
enum MHD_Result http_data_submit(struct http_request *req);

/* As http_data_begin() for /write and /api/v2/write. */
enum MHD_Result http_write_begin(struct http_request *req, bool *answered);

/* As http_data_submit() for /write and /api/v2/write. */
enum MHD_Result http_write_submit(struct http_request *req);

#endif
