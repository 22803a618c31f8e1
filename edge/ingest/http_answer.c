/* http_answer.c -- answers in each API's format; the suspend-until-commit hand-over to storage. */
#include "http_internal.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum MHD_Result http_respond(struct MHD_Connection *conn, unsigned status, const char *body,
			     const char *type, const char *header, const char *value)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (type && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES)
		goto fail;
	if (header && MHD_add_response_header(r, header, value) != MHD_YES)
		goto fail;
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
fail:
	MHD_destroy_response(r);
	return MHD_NO;
}

void http_count(struct http_server *srv, unsigned status)
{
	atomic_fetch_add(&srv->requests, 1);
	if (status >= HTTP_STATS_CODE_FIRST && status - HTTP_STATS_CODE_FIRST < HTTP_STATS_CODES)
		atomic_fetch_add(&srv->answers[status - HTTP_STATS_CODE_FIRST], 1);
	if (status >= 500)
		atomic_fetch_add(&srv->server_errors, 1);
	else if (status >= 400)
		atomic_fetch_add(&srv->client_errors, 1);
}

/* InfluxDB 2.x's error code for an HTTP status. */
static const char *http_v2_code(unsigned status)
{
	switch (status) {
	case MHD_HTTP_BAD_REQUEST:
		return "invalid";
	case MHD_HTTP_UNAUTHORIZED:
		return "unauthorized";
	case MHD_HTTP_NOT_FOUND:
		return "not found";
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		return "method not allowed";
	case MHD_HTTP_CONTENT_TOO_LARGE:
		return "request too large";
	case MHD_HTTP_UNSUPPORTED_MEDIA_TYPE:
		return "unsupported media type";
	case MHD_HTTP_SERVICE_UNAVAILABLE:
	case MHD_HTTP_INSUFFICIENT_STORAGE:
		return "unavailable";
	default:
		return "internal error";
	}
}

enum MHD_Result http_fail(struct http_server *srv, struct MHD_Connection *conn,
			  enum http_endpoint ep, unsigned status, const char *message,
			  const char *header, const char *value)
{
	cJSON *obj = cJSON_CreateObject();
	char *text = NULL;
	enum MHD_Result ret;
	bool ok;

	http_count(srv, status);
	log_debug(HTTP_LOG, "%u: %s", status, message);
	if (ep == HTTP_EP_WRITE_V2)
		ok = obj && cJSON_AddStringToObject(obj, "code", http_v2_code(status)) &&
		     cJSON_AddStringToObject(obj, "message", message);
	else
		ok = obj && cJSON_AddStringToObject(obj, "error", message);
	if (ok)
		text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (!header && status == MHD_HTTP_SERVICE_UNAVAILABLE) {
		header = MHD_HTTP_HEADER_RETRY_AFTER;
		value = "1";
	}
	ret = http_respond(conn, status, text ? text : "{\"error\":\"out of memory\"}",
			   "application/json", header, value);
	cJSON_free(text);
	return ret;
}

/* Writer thread: the commit holding this request's points is done. */
static void http_on_committed(void *arg, int result)
{
	struct http_request *req = arg;

	atomic_store(&req->result, result);
	MHD_resume_connection(req->conn);
}

enum MHD_Result http_submit(struct http_request *req, char *text, size_t len, size_t points)
{
	struct http_server *srv = req->server;
	int rc;

	/* Decided under the lock http_stop() takes: once it has seen no request
	 * waiting, none may be suspended again (libmicrohttpd must not be stopped
	 * with a suspended connection). */
	pthread_mutex_lock(&srv->lock);
	bool stopping = srv->stopping;
	if (!stopping)
		srv->waiting++;
	pthread_mutex_unlock(&srv->lock);
	if (stopping) {
		free(text);
		return http_fail(srv, req->conn, req->endpoint, MHD_HTTP_SERVICE_UNAVAILABLE,
				 "not stored: iot-edge is shutting down", NULL, NULL);
	}
	req->points = points;
	req->state = HTTP_WAITING;

	/* Suspend first: the writer thread may resume the connection at once. */
	MHD_suspend_connection(req->conn);
	rc = storage_append(srv->storage, text, len, http_on_committed, req);
	if (rc != STORAGE_OK) {
		free(text);
		http_on_committed(req, rc);
	}
	return MHD_YES;
}

/* The HTTP status for a storage result other than STORAGE_OK. */
static unsigned http_storage_status(int rc)
{
	switch (rc) {
	case STORAGE_ERR_FULL:
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	case STORAGE_ERR_BUSY:
	case STORAGE_ERR_CLOSED:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* A full disk refuses every request: one warning per 10 s, with how many
 * were refused meanwhile, so the log does not fill the disk further. */
static void http_warn_not_stored(size_t points, int rc)
{
	static struct log_limit limit;
	uint64_t refused = log_limit(&limit, 10000, 1);

	if (refused == 0)
		return;
	log_warn(HTTP_LOG,
		 "a request of %zu points was not stored: %s (%llu more refused since "
		 "the last such line)",
		 points, storage_strerror(rc), (unsigned long long)(refused - 1));
}

enum MHD_Result http_answer_committed(struct http_request *req)
{
	struct http_server *srv = req->server;
	int rc = atomic_load(&req->result);
	enum MHD_Result ret;

	if (rc == STORAGE_OK) {
		atomic_fetch_add(&srv->points, req->points);
		atomic_fetch_add(&srv->endpoint_points[req->endpoint], req->points);
		if (req->partial) {
			ret = http_fail(srv, req->conn, req->endpoint, MHD_HTTP_BAD_REQUEST,
					req->partial, NULL, NULL);
		} else {
			unsigned status =
			    req->endpoint == HTTP_EP_DATA ? MHD_HTTP_CREATED : MHD_HTTP_NO_CONTENT;

			http_count(srv, status);
			ret = http_respond(req->conn, status, "", NULL, NULL, NULL);
		}
	} else {
		char err[128];

		snprintf(err, sizeof(err), "not stored: %s", storage_strerror(rc));
		if (rc != STORAGE_ERR_BUSY)
			http_warn_not_stored(req->points, rc);
		ret = http_fail(srv, req->conn, req->endpoint, http_storage_status(rc), err, NULL,
				NULL);
	}
	http_settle(req);
	return ret;
}

void http_settle(struct http_request *req)
{
	struct http_server *srv = req->server;

	if (req->state != HTTP_WAITING || req->settled)
		return;
	req->settled = true;
	pthread_mutex_lock(&srv->lock);
	if (--srv->waiting == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
}
