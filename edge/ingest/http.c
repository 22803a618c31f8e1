/* http.c -- the HTTP ingest server (libmicrohttpd): lifecycle, limits, routing, /ping, /health
 * and the pages of other rooms. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "log.h"

#define HTTP_DEFAULT_CONNECTIONS 1000u
#define HTTP_DEFAULT_TIMEOUT_MS 30000u
/* libmicrohttpd's worker threads when http_options.threads is 0. Each
 * polls its share of the connections and runs their handlers: a request
 * being parsed (at most http.max_body, linear in it) holds one worker, the
 * others go on answering. More workers cost CPU per small request (fewer
 * events per poll() each): ~5 % per doubling (docs/PERFORMANCE.md). */
#define HTTP_DEFAULT_THREADS 2u

/* The per-endpoint counters are indexed by enum http_endpoint. */
_Static_assert(HTTP_EP_DATA == (int)HTTP_STATS_DATA && HTTP_EP_WRITE_V1 == (int)HTTP_STATS_WRITE &&
		   HTTP_EP_WRITE_V2 == (int)HTTP_STATS_API_V2_WRITE,
	       "enum http_endpoint and enum http_stats_endpoint must agree");

const char *http_stats_endpoint_name(unsigned endpoint)
{
	static const char *const names[HTTP_STATS_ENDPOINTS] = {"data", "write", "api_v2_write"};

	return endpoint < HTTP_STATS_ENDPOINTS ? names[endpoint] : NULL;
}

/* A page of another room (http_options.page): GET /status, /metrics, /. */
static enum MHD_Result http_serve_page(struct http_server *srv, struct MHD_Connection *conn,
				       const char *url)
{
	struct http_page page = {0};
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;

	if (srv->page_fn(srv->page_arg, srv, url, true, &page) != HTTP_PAGE_OK)
		return http_fail(srv, conn, HTTP_EP_DATA, MHD_HTTP_SERVICE_UNAVAILABLE,
				 "out of memory", NULL, NULL);
	r = MHD_create_response_from_buffer(page.len, (void *)page.body,
					    page.release ? MHD_RESPMEM_MUST_COPY
							 : MHD_RESPMEM_PERSISTENT);
	if (page.release)
		page.release((void *)page.body);
	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, page.content_type) != MHD_YES)
		goto out;
	for (size_t i = 0;
	     i + 1 < sizeof(page.headers) / sizeof(page.headers[0]) && page.headers[i]; i += 2)
		if (MHD_add_response_header(r, page.headers[i], page.headers[i + 1]) != MHD_YES)
			goto out;
	http_count(srv, MHD_HTTP_OK);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
out:
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_health(struct http_server *srv, struct MHD_Connection *conn)
{
	struct storage_stats st;
	char body[160];

	storage_get_stats(srv->storage, &st);
	snprintf(body, sizeof(body),
		 "{\"status\":\"ok\",\"version\":\"%s\",\"buffered_points\":%llu}",
		 IOT_EDGE_VERSION, (unsigned long long)st.points);
	http_count(srv, MHD_HTTP_OK);
	return http_respond(conn, MHD_HTTP_OK, body, "application/json", NULL, NULL);
}

/* GET /ping as InfluxDB answers it: 204 with the version headers, or with
 * ?verbose=true a 200 and {"version":...}. Needs no token, like InfluxDB. */
static enum MHD_Result http_ping(struct http_server *srv, struct MHD_Connection *conn)
{
	const char *verbose = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "verbose");
	bool long_form = verbose && (strcmp(verbose, "true") == 0 || strcmp(verbose, "1") == 0);
	const char *body = long_form ? "{\"version\":\"" HTTP_INFLUX_VERSION "\"}" : "";
	unsigned status = long_form ? MHD_HTTP_OK : MHD_HTTP_NO_CONTENT;
	struct MHD_Response *r;
	enum MHD_Result ret;

	http_count(srv, status);
	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, "X-Influxdb-Version", HTTP_INFLUX_VERSION) != MHD_YES ||
	    MHD_add_response_header(r, "X-Influxdb-Build", "iot-edge " IOT_EDGE_VERSION) !=
		MHD_YES ||
	    (long_form && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						  "application/json") != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static bool http_declared_too_large(struct http_server *srv, struct MHD_Connection *conn)
{
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!cl)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno != 0 || *end != '\0' || n > srv->max_body;
}

/* The POST endpoints: method, token, then the endpoint's own header checks. */
static enum MHD_Result http_begin_post(struct http_server *srv, struct MHD_Connection *conn,
				       enum http_endpoint ep, const char *method,
				       struct http_request **out)
{
	struct http_request *req;
	enum MHD_Result ret;
	bool answered = false;
	char why[160];
	unsigned status;

	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return http_fail(srv, conn, ep, MHD_HTTP_METHOD_NOT_ALLOWED,
				 "this endpoint accepts POST only", MHD_HTTP_HEADER_ALLOW, "POST");
	if (!http_auth_ok(srv, conn))
		return http_fail(srv, conn, ep, MHD_HTTP_UNAUTHORIZED,
				 "authorization failed (send the token as Authorization: Token, "
				 "Bearer or Basic, or as p=)",
				 MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"iot-edge\"");
	req = calloc(1, sizeof(*req));
	if (!req)
		return http_fail(srv, conn, ep, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory", NULL,
				 NULL);
	req->server = srv;
	req->conn = conn;
	req->endpoint = ep;
	req->started_ms = (uint64_t)clock_mono_ms();
	ret =
	    ep == HTTP_EP_DATA ? http_data_begin(req, &answered) : http_write_begin(req, &answered);
	if (answered)
		goto refuse;
	status = http_body_begin(req);
	if (status) {
		snprintf(why, sizeof(why), "%s", req->error_text);
		ret = http_fail(srv, conn, ep, status, why, NULL, NULL);
		goto refuse;
	}
	if (http_declared_too_large(srv, conn)) {
		snprintf(why, sizeof(why), "request body larger than %zu bytes (http.max_body)",
			 srv->max_body);
		ret = http_fail(srv, conn, ep, MHD_HTTP_CONTENT_TOO_LARGE, why, NULL, NULL);
		goto refuse;
	}
	*out = req;
	return MHD_YES;
refuse:
	http_body_free(req);
	free(req);
	return ret;
}

/* First call for a request: route it. Returns MHD_YES with *out set to go on
 * receiving the body, or the result of an answer already queued. */
static enum MHD_Result http_route(struct http_server *srv, struct MHD_Connection *conn,
				  const char *url, const char *method, struct http_request **out)
{
	bool is_get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	char err[200];

	static const char *const posts[HTTP_STATS_ENDPOINTS] = {"/data", "/write", "/api/v2/write"};

	for (unsigned ep = 0; ep < HTTP_STATS_ENDPOINTS; ep++) {
		if (strcmp(url, posts[ep]) == 0) {
			atomic_fetch_add(&srv->endpoint_requests[ep], 1);
			if (http_policy_origin_refused(srv, conn, method, err, sizeof(err)))
				return http_fail(srv, conn, (enum http_endpoint)ep,
						 MHD_HTTP_FORBIDDEN, err, NULL, NULL);
			return http_begin_post(srv, conn, (enum http_endpoint)ep, method, out);
		}
	}
	if (http_policy_origin_refused(srv, conn, method, err, sizeof(err)))
		return http_fail(srv, conn, HTTP_EP_DATA, MHD_HTTP_FORBIDDEN, err, NULL, NULL);
	bool ours = strcmp(url, "/health") == 0 || strcmp(url, "/ping") == 0;
	bool page = !ours && srv->page_fn &&
		    srv->page_fn(srv->page_arg, srv, url, false, NULL) == HTTP_PAGE_OK;
	if (ours || page) {
		if (!is_get)
			return http_fail(srv, conn, HTTP_EP_DATA, MHD_HTTP_METHOD_NOT_ALLOWED,
					 "this endpoint answers GET and HEAD only",
					 MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		if (page)
			return http_serve_page(srv, conn, url);
		return url[1] == 'h' ? http_health(srv, conn) : http_ping(srv, conn);
	}
	snprintf(err, sizeof(err),
		 "no such endpoint: %.100s (readings go to POST /data, /write or /api/v2/write)",
		 url);
	return http_fail(srv, conn, HTTP_EP_DATA, MHD_HTTP_NOT_FOUND, err, NULL, NULL);
}

/* The whole body is in: answer a problem met on the way, or parse and store. */
static enum MHD_Result http_body_done(struct http_request *req)
{
	enum MHD_Result ret;

	http_body_end(req);
	if (req->error)
		ret = http_fail(req->server, req->conn, req->endpoint, req->error, req->error_text,
				NULL, NULL);
	else if (req->endpoint == HTTP_EP_DATA)
		ret = http_data_submit(req);
	else
		ret = http_write_submit(req);
	/* Parsed (the points are a copy): the body's budget is free for others
	 * while this request waits for its commit. */
	http_body_free(req);
	return ret;
}

static enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				       const char *method, const char *version,
				       const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (!req) {
		http_conn_request(srv, conn, true);
		ret = http_route(srv, conn, url, method, &req);
		*con_cls = req;
		return ret;
	}
	if (req->state == HTTP_WAITING)
		return http_answer_committed(req);
	if (*upload_size) {
		/* A body slower than the timeout is cut off: no answer can be
		 * queued while the upload runs, so the connection is closed. */
		if ((uint64_t)clock_mono_ms() - req->started_ms > srv->timeout_ms) {
			log_limited(&srv->log_kinds[HTTP_LOG_SLOW], HTTP_LOG_AGAIN_MS,
				    LOG_LEVEL_INFO, HTTP_LOG,
				    "a request body took longer than %u ms: connection closed",
				    srv->timeout_ms);
			http_count(srv, MHD_HTTP_REQUEST_TIMEOUT);
			return MHD_NO;
		}
		http_body_feed(req, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return http_body_done(req);
}

static void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;

	(void)toe;
	http_conn_request(srv, conn, false);
	if (!req)
		return;
	http_settle(req);
	http_body_free(req);
	free(req->partial);
	free(req);
	*con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void http_on_mhd_log(void *cls, const char *fmt,
								  va_list ap)
{
	struct http_server *srv = cls;
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	/* Mostly about a client's malformed request: one line, then a count. */
	log_limited(&srv->log_kinds[HTTP_LOG_MHD], HTTP_LOG_AGAIN_MS, LOG_LEVEL_INFO, HTTP_LOG,
		    "libmicrohttpd: %s", line);
}

int http_start(const struct http_options *options, struct storage *s, struct http_server **out)
{
	struct sockaddr_storage addr;
	const union MHD_DaemonInfo *info;
	struct http_server *srv;
	socklen_t addr_len;
	const char *why = NULL;
	unsigned flags;
	unsigned timeout_s;
	size_t queue;

	if (addr_parse_listen(options->listen, &addr, &addr_len, &why) != 0) {
		log_error(HTTP_LOG, "listen address \"%s\": %s", options->listen, why);
		return -1;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -1;
	srv->storage = s;
	srv->max_body = options->max_body;
	srv->max_points = options->max_points;
	srv->max_line = options->max_line;
	srv->max_tags = options->max_tags;
	srv->max_fields = options->max_fields;
	/* One request of max_body, gzip'd, always fits. */
	srv->max_inflight = options->max_inflight ? options->max_inflight : SIZE_MAX;
	if (srv->max_inflight < options->max_body + HTTP_BODY_GZ_COST)
		srv->max_inflight = options->max_body + HTTP_BODY_GZ_COST;
	srv->unsigned_ok = options->unsigned_ok;
	srv->timeout_ms = options->connection_timeout_ms ? options->connection_timeout_ms
							 : HTTP_DEFAULT_TIMEOUT_MS;
	srv->page_fn = options->page;
	srv->page_arg = options->page_arg;
	if (options->token && *options->token) {
		srv->token = strdup(options->token);
		if (!srv->token) {
			free(srv);
			return -1;
		}
		srv->token_len = strlen(srv->token);
	}
	pthread_mutex_init(&srv->conns_lock, NULL);
	if (http_policy_init(srv, options) != 0 || ingest_create(s, HTTP_LOG, &srv->ingest) != 0 ||
	    ingest_set_tags(srv->ingest, options->tags) != 0 || http_conn_start(srv) != 0) {
		http_stop(srv);
		return -1;
	}
	/* A request the write queue cannot hold gets 413 too, not a 500. */
	queue = ingest_max_points(srv->ingest);
	srv->max_points_is_queue = srv->max_points == 0 || srv->max_points > queue;
	if (srv->max_points_is_queue)
		srv->max_points = queue;

	/* Internal threads poll the connections: a slow client holds a
	 * connection slot (bounded, timed out), never a thread. poll(), not
	 * epoll: every request is suspended until its commit, and with epoll
	 * libmicrohttpd takes the socket out of the epoll set and puts it back
	 * each time, two epoll_ctl calls per request (-2 us of CPU per request
	 * with poll, docs/PERFORMANCE.md). */
	flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	/* ... in each worker of the pool. */
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	timeout_s = (srv->timeout_ms + 999) / 1000;
	srv->daemon = MHD_start_daemon(
	    flags, 0, http_policy_accept, srv, http_on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
	    http_on_mhd_log, srv, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED,
	    http_on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, http_conn_notify, srv,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_LIMIT,
	    options->max_connections ? options->max_connections : HTTP_DEFAULT_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, options->max_connections_per_ip,
	    MHD_OPTION_THREAD_POOL_SIZE, options->threads ? options->threads : HTTP_DEFAULT_THREADS,
	    MHD_OPTION_END);
	if (!srv->daemon) {
		log_error(HTTP_LOG, "cannot listen on %s (address in use or not available)",
			  options->listen);
		http_stop(srv);
		return -1;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	log_info(HTTP_LOG, "listening on %s (port %u)%s", options->listen,
		 info ? (unsigned)info->port : 0u, srv->token ? ", writers need the token" : "");
	*out = srv;
	return 0;
}

void http_get_stats(struct http_server *h, struct http_stats *out)
{
	out->requests = atomic_load(&h->requests);
	out->points = atomic_load(&h->points);
	out->client_errors = atomic_load(&h->client_errors);
	out->server_errors = atomic_load(&h->server_errors);
	out->bad_lines = atomic_load(&h->bad_lines);
	out->refused_connections = atomic_load(&h->refused_connections);
	for (unsigned i = 0; i < HTTP_STATS_ENDPOINTS; i++) {
		out->endpoint_requests[i] = atomic_load(&h->endpoint_requests[i]);
		out->endpoint_points[i] = atomic_load(&h->endpoint_points[i]);
	}
	for (unsigned i = 0; i < HTTP_STATS_CODES; i++)
		out->answers[i] = atomic_load(&h->answers[i]);
}

unsigned http_port(struct http_server *h)
{
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);

	return info ? (unsigned)info->port : 0u;
}

void http_stop(struct http_server *h)
{
	if (!h)
		return;
	if (h->daemon) {
		/* No new connections; requests waiting for a commit still get their answer. */
		MHD_socket fd = MHD_quiesce_daemon(h->daemon);

		if (fd != MHD_INVALID_SOCKET)
			close(fd);
		/* Once nothing is in flight none is suspended again (libmicrohttpd
		 * must not be stopped with a suspended connection). */
		ingest_stop(h->ingest);
	}
	http_conn_stop(h);
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	ingest_destroy(h->ingest);
	pthread_mutex_destroy(&h->conns_lock);
	http_policy_free(h);
	if (h->token) {
		/* Do not leave the secret in freed memory. */
		explicit_bzero(h->token, h->token_len);
		free(h->token);
	}
	free(h);
}
