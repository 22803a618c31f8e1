/* http_policy.c -- who may talk to the HTTP server (http.allow, http.allow_origins) and the log
 * kinds of client problems. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

enum http_log_kind http_log_kind(unsigned status)
{
	switch (status) {
	case MHD_HTTP_UNAUTHORIZED:
		return HTTP_LOG_UNAUTHORIZED;
	case MHD_HTTP_FORBIDDEN:
		return HTTP_LOG_FORBIDDEN;
	case MHD_HTTP_NOT_FOUND:
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		return HTTP_LOG_NOT_FOUND;
	case MHD_HTTP_CONTENT_TOO_LARGE:
		return HTTP_LOG_TOO_LARGE;
	default:
		return status >= 500 ? HTTP_LOG_SERVER : HTTP_LOG_BAD;
	}
}

int http_policy_init(struct http_server *srv, const struct http_options *options)
{
	char why[192];

	if (addr_allow_parse(options->allow ? options->allow : "", &srv->allow, why, sizeof(why)) !=
	    0) {
		log_error(HTTP_LOG, "http.allow: %s", why);
		return -1;
	}
	if (options->allow_origins && *options->allow_origins) {
		srv->allow_origins = strdup(options->allow_origins);
		if (!srv->allow_origins)
			return -1;
	}
	if (srv->allow.n)
		log_info(HTTP_LOG, "connections only from %s (http.allow)", options->allow);
	return 0;
}

void http_policy_free(struct http_server *srv)
{
	free(srv->allow_origins);
	srv->allow_origins = NULL;
}

enum MHD_Result http_policy_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_server *srv = cls;
	char text[64];

	(void)addrlen;
	if (addr_allow_match(&srv->allow, addr))
		return MHD_YES;
	atomic_fetch_add(&srv->refused_connections, 1);
	log_limited(&srv->log_kinds[HTTP_LOG_REFUSED], HTTP_LOG_AGAIN_MS, LOG_LEVEL_WARN, HTTP_LOG,
		    "connection from %s refused: not in http.allow",
		    addr_text(addr, text, sizeof(text)));
	return MHD_NO;
}

/* True if origin[0..len) is one of the comma-separated entries of list. */
static bool http_origin_listed(const char *list, const char *origin, size_t len)
{
	for (const char *p = list ? list : ""; *p;) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ",");
		size_t trimmed = n;
		while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
			trimmed--;
		if (trimmed && trimmed == len && strncasecmp(p, origin, len) == 0)
			return true;
		p += n;
	}
	return false;
}

/* True if Origin names the host the request was sent to: a page of this
 * server (the status page) fetching from it. */
static bool http_origin_same(struct MHD_Connection *conn, const char *origin)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *rest = strstr(origin, "://");

	return host && rest && *host && strcasecmp(rest + 3, host) == 0;
}

bool http_policy_origin_refused(struct http_server *srv, struct MHD_Connection *conn,
				const char *method, char *why, size_t why_size)
{
	const char *origin =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	bool read_only =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	char shown[80];

	if (!origin)
		return false; /* not sent by a web page: curl, a device, Telegraf */
	if (http_origin_listed(srv->allow_origins, origin, strlen(origin)))
		return false;
	/* A same-origin GET is the status page reading /status; a write is
	 * never taken on Origin = Host alone (DNS rebinding makes them agree). */
	if (read_only && http_origin_same(conn, origin))
		return false;
	snprintf(why, why_size,
		 "requests from web pages of origin \"%s\" are refused (add it to "
		 "http.allow_origins to allow them)",
		 text_quote(shown, sizeof(shown), origin, strlen(origin), TEXT_QUOTE_ASCII));
	return true;
}
