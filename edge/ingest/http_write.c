/* http_write.c -- POST /write (InfluxDB 1.x) and /api/v2/write (2.x): line protocol in, 204 out. */
#include "http_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lineproto_parse.h"
#include "log.h"

/* Cap on the canonical text of one request (storage takes at most INT_MAX). */
#define HTTP_WRITE_TEXT_MAX ((size_t)INT_MAX)

/* Media types line protocol arrives with: what InfluxDB clients send, and
 * curl's default for --data-binary. A missing Content-Type is fine too. */
static const char *const http_write_types[] = {
    "text/plain",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "text/x-influxdb-line-protocol",
};

static bool http_write_type_ok(struct MHD_Connection *conn, char *why, size_t why_size)
{
	const char *type =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t len;
	size_t i;

	if (!type)
		return true;
	len = strcspn(type, "; \t");
	for (i = 0; i < sizeof(http_write_types) / sizeof(http_write_types[0]); i++) {
		if (len == strlen(http_write_types[i]) &&
		    strncasecmp(type, http_write_types[i], len) == 0)
			return true;
	}
	snprintf(why, why_size, "Content-Type must be text/plain (line protocol), not %.60s", type);
	return false;
}

enum MHD_Result http_write_begin(struct http_request *req, bool *answered)
{
	struct MHD_Connection *conn = req->conn;
	bool v2 = req->endpoint == HTTP_EP_WRITE_V2;
	const char *target;
	const char *precision;
	char why[160];
	unsigned status = MHD_HTTP_BAD_REQUEST;

	*answered = true;
	if (!http_write_type_ok(conn, why, sizeof(why))) {
		status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
		goto fail;
	}
	/* The target is accepted, not routed: the uplink writes to its own. */
	target = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, v2 ? "bucket" : "db");
	if (!target || !*target) {
		snprintf(why, sizeof(why), "%s",
			 v2 ? "bucket is required (query parameter bucket)"
			    : "database is required (query parameter db)");
		goto fail;
	}
	precision = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "precision");
	if (lineproto_precision(precision, v2 ? LINEPROTO_API_V2 : LINEPROTO_API_V1,
				&req->precision_ns) != 0) {
		snprintf(why, sizeof(why), "invalid precision \"%.20s\" (use %s)", precision,
			 v2 ? "ns, us, ms or s" : "n, ns, u, us, ms, s, m or h");
		goto fail;
	}
	*answered = false;
	return MHD_YES;
fail:
	return http_fail(req->server, conn, req->endpoint, status, why, NULL, NULL);
}

/* "partial write: line 2: ...; line 5: ... dropped=2" (or "unable to
 * parse: ..." when no line was valid) into a malloc'd string. */
static char *http_write_report(const struct lineproto_report *r)
{
	char more[48] = "";
	char *text;
	size_t size;

	if (r->errors_omitted)
		snprintf(more, sizeof(more), "; and %zu more", r->errors_omitted);
	size = r->errors_len + sizeof(more) + 64;
	text = malloc(size);
	if (text)
		snprintf(text, size, "%s: %s%s dropped=%zu",
			 r->points ? "partial write" : "unable to parse", r->errors, more,
			 r->bad_lines);
	return text;
}

enum MHD_Result http_write_submit(struct http_request *req)
{
	struct http_server *srv = req->server;
	struct lineproto_parse_options o = {
	    .precision_ns = req->precision_ns,
	    .max_line = srv->max_line,
	    .max_points = srv->max_points,
	    .clock = ingest_receipt_ns,
	    .unsigned_ok = srv->unsigned_ok,
	    .max_tags = srv->max_tags,
	    .max_fields = srv->max_fields,
	};
	struct lineproto_report report;
	struct lineproto_buf out;
	enum MHD_Result ret;
	char why[128];
	char *text = NULL;
	size_t len;
	int rc;

	lineproto_buf_init(&out, HTTP_WRITE_TEXT_MAX);
	/* Room for the usual growth (timestamps added), so the text rarely moves;
	 * if this fails, the parse grows the buffer as it goes. */
	if (req->len > 0 && req->len < HTTP_WRITE_TEXT_MAX / 2)
		(void)lineproto_buf_reserve(&out, req->len + req->len / 4 + 64);
	rc = lineproto_parse(req->body ? req->body : "", req->len, &o, &out, &report);
	if (rc == LINEPROTO_ETOOMANY) {
		http_too_many(srv, why, sizeof(why));
		ret = http_fail(srv, req->conn, req->endpoint, MHD_HTTP_CONTENT_TOO_LARGE, why,
				NULL, NULL);
		goto out;
	}
	if (rc == LINEPROTO_ETOOBIG) {
		ret = http_fail(srv, req->conn, req->endpoint, MHD_HTTP_CONTENT_TOO_LARGE,
				"the points are too large to store in one request", NULL, NULL);
		goto out;
	}
	if (rc == LINEPROTO_OK && report.bad_lines) {
		text = http_write_report(&report);
		if (!text)
			rc = LINEPROTO_ENOMEM;
	}
	if (rc != LINEPROTO_OK) {
		ret = http_fail(srv, req->conn, req->endpoint, MHD_HTTP_SERVICE_UNAVAILABLE,
				"out of memory", NULL, NULL);
		goto out;
	}
	atomic_fetch_add(&srv->bad_lines, report.bad_lines);
	if (report.bad_lines) {
		if (report.points == 0) {
			ret = http_fail(srv, req->conn, req->endpoint, MHD_HTTP_BAD_REQUEST, text,
					NULL, NULL);
			goto out;
		}
		req->partial = text; /* sent after the commit; the request frees it */
		text = NULL;
	}
	if (report.points == 0) {
		/* An empty body (or only comments): InfluxDB answers 204 too. */
		http_count(srv, MHD_HTTP_NO_CONTENT);
		ret = http_respond(req->conn, MHD_HTTP_NO_CONTENT, "", NULL, NULL, NULL);
		goto out;
	}
	text = lineproto_buf_steal(&out, &len);
	ret = http_submit(req, &text, len, report.points); /* NULL once taken */
out:
	free(text);
	lineproto_buf_free(&out);
	return ret;
}
