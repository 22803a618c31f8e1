/* http.c -- HTTP ingest (libmicrohttpd): parse, hand to storage, answer after the commit. */
#include "http.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "reading.h"

#define MOD "http"

struct http_server {
	struct MHD_Daemon *daemon;
	struct storage *storage;
	size_t max_body;

	/* Requests handed to storage and not yet answered; http_stop waits for 0. */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned waiting;

	atomic_uint_fast64_t requests, points, client_errors, server_errors;
};

/* One request's life: RECEIVING its body -> WAITING for the commit -> answered. */
enum request_state { REQUEST_RECEIVING, REQUEST_WAITING };

struct request {
	struct http_server *server;
	struct MHD_Connection *conn;
	enum request_state state;
	char *body;
	size_t len, cap;
	bool too_large;
	size_t points;
	bool settled;      /* counted out of server->waiting */
	atomic_int result; /* storage_result, set by the writer thread */
};

int http_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
		      const char **why)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	if (!colon) {
		*why = "expected HOST:PORT, [IPV6]:PORT or :PORT";
		return -1;
	}
	size_t host_len = (size_t)(colon - listen);
	const char *h = listen;
	if (host_len >= 2 && h[0] == '[' && h[host_len - 1] == ']') {
		h++;
		host_len -= 2;
	}
	if (host_len >= sizeof(host)) {
		*why = "host too long";
		return -1;
	}
	memcpy(host, h, host_len);
	host[host_len] = '\0';

	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 0 || port > 65535) {
		*why = "port must be a number from 0 to 65535";
		return -1;
	}

	memset(addr, 0, sizeof(*addr));
	struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
	if (host_len == 0 || strcmp(host, "*") == 0) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (strcmp(host, "localhost") == 0) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
	} else {
		*why = "host must be a numeric IPv4/IPv6 address or localhost";
		return -1;
	}
	if (addr->ss_family == AF_INET6) {
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
	} else {
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
	}
	return 0;
}

/* Queue `body` (copied) with `status` and at most one extra header. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *body,
			       const char *header, const char *value)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (*body)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (header)
		MHD_add_response_header(r, header, value);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void count_answer(struct http_server *srv, unsigned status)
{
	atomic_fetch_add(&srv->requests, 1);
	if (status >= 500)
		atomic_fetch_add(&srv->server_errors, 1);
	else if (status >= 400)
		atomic_fetch_add(&srv->client_errors, 1);
}

/* {"error":"<message>"} (JSON-escaped) with `status` and at most one extra header. */
static enum MHD_Result respond_error_with(struct http_server *srv, struct MHD_Connection *conn,
					  unsigned status, const char *message,
					  const char *header, const char *value)
{
	count_answer(srv, status);
	log_debug(MOD, "%u: %s", status, message);

	cJSON *obj = cJSON_CreateObject();
	char *text = NULL;
	if (obj && cJSON_AddStringToObject(obj, "error", message))
		text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);

	enum MHD_Result ret = respond(conn, status, text ? text : "{\"error\":\"out of memory\"}",
				      header, value);
	cJSON_free(text);
	return ret;
}

/* As above; a 503 also tells the client when to try again. */
static enum MHD_Result respond_error(struct http_server *srv, struct MHD_Connection *conn,
				     unsigned status, const char *message)
{
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		return respond_error_with(srv, conn, status, message,
					  MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return respond_error_with(srv, conn, status, message, NULL, NULL);
}

static enum MHD_Result respond_health(struct http_server *srv, struct MHD_Connection *conn)
{
	struct storage_stats st;
	storage_get_stats(srv->storage, &st);
	char body[160];
	snprintf(body, sizeof(body),
		 "{\"status\":\"ok\",\"version\":\"%s\",\"buffered_points\":%llu}", IOT_EDGE_VERSION,
		 (unsigned long long)st.points);
	count_answer(srv, MHD_HTTP_OK);
	return respond(conn, MHD_HTTP_OK, body, NULL, NULL);
}

/* Writer thread: the commit holding this request's points is done. */
static void on_committed(void *arg, int result)
{
	struct request *req = arg;
	atomic_store(&req->result, result);
	MHD_resume_connection(req->conn);
}

/* True when the request declares a type other than application/json. */
static bool wrong_content_type(struct MHD_Connection *conn)
{
	const char *type =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!type)
		return false; /* the seed's devices always send it; be lenient when absent */
	size_t len = strcspn(type, "; \t");
	return !(len == 16 && strncasecmp(type, "application/json", 16) == 0);
}

static bool declared_too_large(struct http_server *srv, struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(cl, &end, 10);
	return errno != 0 || n > srv->max_body;
}

static void body_append(struct request *req, const char *data, size_t size)
{
	if (req->too_large)
		return;
	if (size > req->server->max_body - req->len) {
		req->too_large = true;
		return;
	}
	if (req->len + size > req->cap) {
		size_t cap = req->cap ? req->cap * 2 : 4096;
		while (cap < req->len + size)
			cap *= 2;
		char *grown = realloc(req->body, cap);
		if (!grown) {
			req->too_large = true; /* answered 413: better than a half body */
			return;
		}
		req->body = grown;
		req->cap = cap;
	}
	memcpy(req->body + req->len, data, size);
	req->len += size;
}

/* The whole body is in: parse it and hand the points to storage, or answer 4xx. */
static enum MHD_Result data_submit(struct request *req)
{
	struct http_server *srv = req->server;
	char err[256];
	struct reading_points pts;

	if (req->too_large) {
		snprintf(err, sizeof(err), "request body larger than %zu bytes", srv->max_body);
		return respond_error(srv, req->conn, MHD_HTTP_CONTENT_TOO_LARGE, err);
	}
	if (reading_parse_seed_json(req->body ? req->body : "", req->len, clock_unique_ns, &pts,
				    err, sizeof(err)) != 0)
		return respond_error(srv, req->conn, MHD_HTTP_BAD_REQUEST, err);

	req->points = pts.count;
	req->state = REQUEST_WAITING;
	pthread_mutex_lock(&srv->lock);
	srv->waiting++;
	pthread_mutex_unlock(&srv->lock);

	/* Suspend first: on_committed may resume from the writer thread at once. */
	MHD_suspend_connection(req->conn);
	int rc = storage_append(srv->storage, pts.text, pts.len, on_committed, req);
	if (rc != STORAGE_OK) {
		free(pts.text);
		on_committed(req, rc);
	}
	return MHD_YES;
}

/* The request no longer waits for storage (answered, or its client is gone). */
static void request_settle(struct request *req)
{
	struct http_server *srv = req->server;
	if (req->state != REQUEST_WAITING || req->settled)
		return;
	req->settled = true;
	pthread_mutex_lock(&srv->lock);
	if (--srv->waiting == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
}

/* Resumed after the commit: answer 201, or say why nothing was stored. */
static enum MHD_Result data_answer(struct request *req)
{
	struct http_server *srv = req->server;
	int rc = atomic_load(&req->result);
	enum MHD_Result ret;

	if (rc == STORAGE_OK) {
		atomic_fetch_add(&srv->points, req->points);
		count_answer(srv, MHD_HTTP_CREATED);
		ret = respond(req->conn, MHD_HTTP_CREATED, "", NULL, NULL);
	} else {
		char err[128];
		unsigned status = rc == STORAGE_ERR_BUSY || rc == STORAGE_ERR_CLOSED
					  ? MHD_HTTP_SERVICE_UNAVAILABLE
					  : MHD_HTTP_INTERNAL_SERVER_ERROR;
		snprintf(err, sizeof(err), "not stored: %s", storage_strerror(rc));
		ret = respond_error(srv, req->conn, status, err);
	}
	request_settle(req);
	return ret;
}

/* First call for a request: route it. Returns MHD_YES with *req set to go on
 * receiving the body, or the result of an answer already queued. */
static enum MHD_Result request_begin(struct http_server *srv, struct MHD_Connection *conn,
				     const char *url, const char *method, struct request **out)
{
	bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		      strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

	if (strcmp(url, "/health") == 0) {
		if (is_get)
			return respond_health(srv, conn);
		return respond_error_with(srv, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "/health answers GET only", MHD_HTTP_HEADER_ALLOW,
					  "GET, HEAD");
	}
	if (strcmp(url, "/data") != 0) {
		char err[160];
		snprintf(err, sizeof(err), "no such endpoint: %.100s (readings go to POST /data)",
			 url);
		return respond_error(srv, conn, MHD_HTTP_NOT_FOUND, err);
	}
	if (!is_post)
		return respond_error_with(srv, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "/data accepts POST only", MHD_HTTP_HEADER_ALLOW, "POST");
	if (wrong_content_type(conn))
		return respond_error(srv, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				     "Content-Type must be application/json");
	if (declared_too_large(srv, conn)) {
		char err[96];
		snprintf(err, sizeof(err), "request body larger than %zu bytes", srv->max_body);
		return respond_error(srv, conn, MHD_HTTP_CONTENT_TOO_LARGE, err);
	}

	struct request *req = calloc(1, sizeof(*req));
	if (!req)
		return respond_error(srv, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	req->server = srv;
	req->conn = conn;
	*out = req;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;
	(void)version;

	if (!req) {
		enum MHD_Result ret = request_begin(srv, conn, url, method, &req);
		*con_cls = req;
		return ret;
	}
	if (req->state == REQUEST_WAITING)
		return data_answer(req);
	if (*upload_size) {
		body_append(req, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return data_submit(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct request *req = *con_cls;
	if (!req)
		return;
	request_settle(req);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt,
								 va_list ap)
{
	(void)cls;
	char line[256];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn(MOD, "libmicrohttpd: %s", line);
}

int http_start(const struct http_options *options, struct storage *s, struct http_server **out)
{
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *why = NULL;
	if (http_parse_listen(options->listen, &addr, &addr_len, &why) != 0) {
		log_error(MOD, "listen address \"%s\": %s", options->listen, why);
		return -1;
	}

	struct http_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -1;
	srv->storage = s;
	srv->max_body = options->max_body;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);

	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_ERROR_LOG;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)1000, MHD_OPTION_END);
	if (!srv->daemon) {
		log_error(MOD, "cannot listen on %s (address in use or not available)",
			  options->listen);
		http_stop(srv);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon,
							       MHD_DAEMON_INFO_BIND_PORT);
	log_info(MOD, "listening on %s (port %u)", options->listen,
		 info ? (unsigned)info->port : 0u);
	*out = srv;
	return 0;
}

void http_get_stats(struct http_server *h, struct http_stats *out)
{
	out->requests = atomic_load(&h->requests);
	out->points = atomic_load(&h->points);
	out->client_errors = atomic_load(&h->client_errors);
	out->server_errors = atomic_load(&h->server_errors);
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
		pthread_mutex_lock(&h->lock);
		while (h->waiting > 0)
			pthread_cond_wait(&h->idle, &h->lock);
		pthread_mutex_unlock(&h->lock);
		MHD_stop_daemon(h->daemon);
	}
	pthread_cond_destroy(&h->idle);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
