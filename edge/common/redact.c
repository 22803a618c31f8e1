/* redact.c -- the one place that takes credentials out of a URL for a log line or /status. */
#include "redact.h"

#include <string.h>

int redact_url(const char *url, char *out, size_t cap)
{
	const char *scheme = strstr(url, "://");
	const char *host = scheme ? scheme + 3 : url;
	size_t host_len = strcspn(host, "/?#");
	const char *at = NULL;
	size_t prefix = (size_t)(host - url), len;

	if (cap == 0)
		return -1;
	/* The userinfo ends at the last '@' of the authority. */
	for (const char *p = host; p < host + host_len; p++)
		if (*p == '@')
			at = p;
	if (at) {
		host_len -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	/* The path, up to a query or fragment. */
	len = host_len + strcspn(host + host_len, "?#");
	if (prefix + len >= cap) {
		out[0] = '\0';
		return -1;
	}
	memcpy(out, url, prefix);
	memcpy(out + prefix, host, len);
	out[prefix + len] = '\0';
	return 0;
}
