/* addr.c -- "HOST:PORT" listen addresses -> socket addresses. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int addr_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
		      const char **why)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	if (!colon) {
		*why = "expected HOST:PORT, [IPV6]:PORT or :PORT";
		return -1;
	}
	size_t host_len = (size_t)(colon - listen);
	const char *h = listen;
	if (host_len >= 2 && h[0] == '[' && h[host_len - 1] == ']') {
		h++;
		host_len -= 2;
	}
	if (host_len >= sizeof(host)) {
		*why = "host too long";
		return -1;
	}
	memcpy(host, h, host_len);
	host[host_len] = '\0';

	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 0 || port > 65535) {
		*why = "port must be a number from 0 to 65535";
		return -1;
	}

	memset(addr, 0, sizeof(*addr));
	struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
	if (host_len == 0 || strcmp(host, "*") == 0) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (strcmp(host, "localhost") == 0) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
	} else {
		*why = "host must be a numeric IPv4/IPv6 address or localhost";
		return -1;
	}
	if (addr->ss_family == AF_INET6) {
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
	} else {
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
	}
	return 0;
}
