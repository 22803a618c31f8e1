/* http_data.c -- POST /data: the seed's JSON readings and general JSON objects. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reading.h"

/* True when the request declares a type other than application/json. */
static bool http_data_wrong_type(struct MHD_Connection *conn)
{
	const char *type =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t len;

	if (!type)
		return false; /* the seed's devices always send it; be lenient when absent */
	len = strcspn(type, "; \t");
	return !(len == 16 && strncasecmp(type, "application/json", 16) == 0);
}

enum MHD_Result http_data_begin(struct http_request *req, bool *answered)
{
	*answered = true;
	if (http_data_wrong_type(req->conn))
		return http_fail(req->server, req->conn, req->endpoint,
				 MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				 "Content-Type must be application/json", NULL, NULL);
	*answered = false;
	return MHD_YES;
}

enum MHD_Result http_data_submit(struct http_request *req)
{
	struct http_server *srv = req->server;
	struct reading_points pts;
	enum MHD_Result ret;
	struct reading_limits lim = {.max_tags = srv->max_tags, .max_fields = srv->max_fields};
	char err[256];

	if (reading_parse_json_limits(req->body ? req->body : "", req->len, ingest_receipt_ns, NULL,
				      &lim, &pts, err, sizeof(err)) != 0)
		return http_fail(srv, req->conn, req->endpoint, MHD_HTTP_BAD_REQUEST, err, NULL,
				 NULL);
	if (pts.count > srv->max_points) {
		free(pts.text);
		if (srv->max_points_is_queue)
			snprintf(err, sizeof(err),
				 "%zu readings in one request, more than the buffer's write "
				 "queue holds (%zu)",
				 pts.count, srv->max_points);
		else
			snprintf(err, sizeof(err),
				 "%zu readings in one request, more than %zu "
				 "(http.max_points)",
				 pts.count, srv->max_points);
		return http_fail(srv, req->conn, req->endpoint, MHD_HTTP_CONTENT_TOO_LARGE, err,
				 NULL, NULL);
	}
	ret = http_submit(req, &pts.text, pts.len, pts.count); /* NULL once taken */
	free(pts.text);
	return ret;
}
