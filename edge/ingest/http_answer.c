/* http_answer.c -- answers in each API's format; the suspend-until-commit hand-over to the ingest
 * door. */
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
	log_limited(&srv->log_kinds[http_log_kind(status)], HTTP_LOG_AGAIN_MS, LOG_LEVEL_DEBUG,
		    HTTP_LOG, "%u: %s", status, message);
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

/* ingest_done_fn, writer thread: the commit holding this request's points is
 * done; the answer is queued on the MHD thread, which then settles. */
static void http_on_committed(void *arg, int result, size_t points, const char *refused)
{
	struct http_request *req = arg;

	(void)points;
	if (refused != NULL && result == STORAGE_OK) {
		/* spill: InfluxDB refused lines of this request; answered as a
		 * partial write, after the parser's own bad lines if any. */
		size_t size = strlen(refused) + (req->partial ? strlen(req->partial) + 2 : 0) + 1;
		char *text = malloc(size);

		if (text != NULL) {
			if (req->partial == NULL)
				snprintf(text, size, "%s", refused);
			else
				snprintf(text, size, "%s; %s", req->partial, refused);
			free(req->partial);
			req->partial = text;
		}
	}
	atomic_store(&req->result, result);
	MHD_resume_connection(req->conn);
}

enum MHD_Result http_submit(struct http_request *req, char **text, size_t len, size_t points)
{
	struct http_server *srv = req->server;
	int rc;

	req->points = points;
	req->state = HTTP_WAITING;
	/* Suspend first: the writer thread may resume the connection at once.
	 * The answer (and the settling) run on this thread, after this handler
	 * returns, so in_flight is set in time. */
	MHD_suspend_connection(req->conn);
	rc = ingest_submit(srv->ingest, *text, len, points, http_on_committed, req);
	if (rc == STORAGE_OK) {
		*text = NULL;
		req->in_flight = true;
		return MHD_YES;
	}
	/* Refused, the text is still the caller's: answered the same way, from
	 * the handler's next call. A full queue (the client retries on 503) and
	 * the shutdown are not worth a warning. */
	if (rc != STORAGE_ERR_BUSY && rc != STORAGE_ERR_CLOSED)
		ingest_warn_not_stored(srv->ingest, points, rc);
	atomic_store(&req->result, rc);
	MHD_resume_connection(req->conn);
	return MHD_YES;
}

void http_too_many(const struct http_server *srv, char *why, size_t why_size)
{
	if (srv->max_points_is_queue)
		snprintf(why, why_size,
			 "more than %zu points in one request (the most the buffer's write "
			 "queue holds)",
			 srv->max_points);
	else
		snprintf(why, why_size, "more than %zu points in one request (http.max_points)",
			 srv->max_points);
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

		/* A failed commit was logged by the door, a refusal by http_submit(). */
		snprintf(err, sizeof(err), "not stored: %s", storage_strerror(rc));
		ret = http_fail(srv, req->conn, req->endpoint, http_storage_status(rc), err, NULL,
				NULL);
	}
	http_settle(req);
	return ret;
}

void http_settle(struct http_request *req)
{
	if (!req->in_flight)
		return;
	req->in_flight = false;
	ingest_settle(req->server->ingest);
}
