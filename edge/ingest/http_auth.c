/* http_auth.c -- the ingest token (Token, Bearer, Basic, v1 p=), compared in constant time. */
#include "http_internal.h"

#include <malloc.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* Longest Authorization value looked at (a token is far shorter). */
#define HTTP_AUTH_MAX 1024

/* True if given[0..n) equals the token. Takes the same time whatever
 * `given` holds and wherever it differs: only the token's length shows. */
static bool http_token_equal(const struct http_server *srv, const char *given, size_t n)
{
	volatile unsigned char diff = (unsigned char)(n != srv->token_len);
	size_t i;

	for (i = 0; i < srv->token_len; i++) {
		unsigned char g = i < n ? (unsigned char)given[i] : 0;

		diff |= (unsigned char)(g ^ (unsigned char)srv->token[i]);
	}
	return diff == 0;
}

/* Wipes a secret libmicrohttpd handed over, then gives it back (MHD_free).
 * The whole block is wiped: in 0.9.75 the user buffer is a copy of all of
 * "user:password" with a NUL after the user. NULL-safe. */
static void http_auth_free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, malloc_usable_size(s));
	MHD_free(s);
}

/* Basic: the password is the token; the user is not checked. libmicrohttpd
 * decodes it (it wants "Basic " and padded base64, as every client sends). */
static bool http_auth_basic_ok(struct http_server *srv, struct MHD_Connection *conn)
{
	char *password = NULL;
	char *user = MHD_basic_auth_get_username_password(conn, &password);
	bool ok = user && password && http_token_equal(srv, password, strlen(password));

	http_auth_free_secret(user);
	http_auth_free_secret(password);
	return ok;
}

/* Checks an Authorization header value: Token or Bearer with the token, or
 * Basic with it as the password. */
static bool http_auth_header_ok(struct http_server *srv, struct MHD_Connection *conn,
				const char *value)
{
	const char *cred;

	if (strlen(value) > HTTP_AUTH_MAX)
		return false;
	if (strncasecmp(value, "Token ", 6) == 0 || strncasecmp(value, "Bearer ", 7) == 0) {
		cred = value + (value[0] == 'T' || value[0] == 't' ? 6 : 7);
		cred += strspn(cred, " ");
		return http_token_equal(srv, cred, strlen(cred));
	}
	return http_auth_basic_ok(srv, conn);
}

bool http_auth_ok(struct http_server *srv, struct MHD_Connection *conn)
{
	const char *auth;
	const char *p;

	if (!srv->token)
		return true;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth && http_auth_header_ok(srv, conn, auth))
		return true;
	p = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "p");
	if (p && http_token_equal(srv, p, strlen(p)))
		return true;
	log_limited(&srv->log_kinds[HTTP_LOG_AUTH], HTTP_LOG_AGAIN_MS, LOG_LEVEL_DEBUG, HTTP_LOG,
		    "authorization failed (%s)",
		    auth ? "wrong or malformed Authorization header"
		    : p	 ? "wrong p parameter"
			 : "no credentials");
	return false;
}
