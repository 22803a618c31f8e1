/* http_auth.c -- the ingest token (Token, Bearer, Basic, v1 p=), compared in constant time. */
#include "http_internal.h"

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

/* The 6-bit value of a base64 character, or -1. */
static int http_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes standard base64 (padding optional) into out. Returns the length,
 * or -1 when malformed or longer than out_size. */
static long http_b64_decode(const char *s, size_t n, char *out, size_t out_size)
{
	unsigned long acc = 0;
	size_t bits = 0;
	size_t len = 0;
	size_t i;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		int v = http_b64_value(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len == out_size)
				return -1;
			out[len++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6)
		return -1; /* a lone sixth-bit group cannot end base64 */
	return (long)len;
}

/* Checks an Authorization header value. */
static bool http_auth_header_ok(struct http_server *srv, const char *value)
{
	char decoded[HTTP_AUTH_MAX];
	const char *cred;
	const char *colon;
	size_t n = strlen(value);
	long len;

	if (n > HTTP_AUTH_MAX)
		return false;
	if (strncasecmp(value, "Token ", 6) == 0 || strncasecmp(value, "Bearer ", 7) == 0) {
		cred = value + (value[0] == 'T' || value[0] == 't' ? 6 : 7);
		cred += strspn(cred, " ");
		return http_token_equal(srv, cred, strlen(cred));
	}
	if (strncasecmp(value, "Basic ", 6) != 0)
		return false;
	cred = value + 6;
	cred += strspn(cred, " ");
	len = http_b64_decode(cred, strlen(cred), decoded, sizeof(decoded));
	if (len < 0)
		return false;
	/* user:password; the user is not checked, the password is the token. */
	colon = memchr(decoded, ':', (size_t)len);
	if (!colon)
		return false;
	colon++;
	return http_token_equal(srv, colon, (size_t)(decoded + len - colon));
}

bool http_auth_ok(struct http_server *srv, struct MHD_Connection *conn)
{
	const char *auth;
	const char *p;

	if (!srv->token)
		return true;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth && http_auth_header_ok(srv, auth))
		return true;
	p = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "p");
	if (p && http_token_equal(srv, p, strlen(p)))
		return true;
	log_debug(HTTP_LOG, "authorization failed (%s)",
		  auth ? "wrong or malformed Authorization header"
		  : p  ? "wrong p parameter"
		       : "no credentials");
	return false;
}
