/* http_policy.c -- who may talk to the HTTP server (http.allow, http.allow_origins) and the log
 * kinds of client problems. */
#include "http_internal.h"

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
