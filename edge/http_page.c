/* http_page.c -- GET /: the status page (edge/status_page.html, embedded at build time). */
#include "http_internal.h"

#include <stdio.h>
#include <string.h>

/* Only the page's own inline script and style (by their hashes), fetches to
 * this server, the empty data: icon; nothing else, no framing, no forms. */
static int http_page_csp(char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "default-src 'none'; script-src %s; style-src %s; connect-src 'self'; "
			 "img-src data:; base-uri 'none'; form-action 'none'; "
			 "frame-ancestors 'none'",
			 status_page_html_script_hash, status_page_html_style_hash);

	return n > 0 && (size_t)n < size ? 0 : -1;
}

enum MHD_Result http_page(struct http_server *srv, struct MHD_Connection *conn, const char *method)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;
	char csp[400];

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_fail(srv, conn, HTTP_EP_DATA, MHD_HTTP_METHOD_NOT_ALLOWED,
				 "the status page answers GET and HEAD only", MHD_HTTP_HEADER_ALLOW,
				 "GET, HEAD");
	if (http_page_csp(csp, sizeof(csp)) != 0)
		return http_fail(srv, conn, HTTP_EP_DATA, MHD_HTTP_INTERNAL_SERVER_ERROR,
				 "status page: policy too long", NULL, NULL);
	/* The array lives as long as the program: no copy. */
	r = MHD_create_response_from_buffer(status_page_html_len, (void *)status_page_html,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8") !=
		MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache") != MHD_YES ||
	    MHD_add_response_header(r, "Content-Security-Policy", csp) != MHD_YES ||
	    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") != MHD_YES ||
	    MHD_add_response_header(r, "Referrer-Policy", "no-referrer") != MHD_YES)
		goto out;
	http_count(srv, MHD_HTTP_OK);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
out:
	MHD_destroy_response(r);
	return ret;
}
