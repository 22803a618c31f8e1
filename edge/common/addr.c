/* addr.c -- "HOST:PORT" listen addresses -> socket addresses; source CIDR lists and their match. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
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

bool addr_is_loopback(const struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
	if (addr->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)addr)->sin6_addr);
	return false;
}

/* One entry "ADDR" or "ADDR/BITS" of len bytes. Returns 0 or -1 (*why static). */
static int addr_cidr_parse(const char *s, size_t len, struct addr_cidr *out, const char **why)
{
	char text[64];
	const char *slash;
	long bits = -1;

	if (len >= sizeof(text)) {
		*why = "too long";
		return -1;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash) {
		char *end;
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0) {
			*why = "the prefix length after '/' must be a number";
			return -1;
		}
		text[slash - text] = '\0';
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = AF_INET;
		if (bits < 0)
			bits = 32;
	} else if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = AF_INET6;
		if (bits < 0)
			bits = 128;
	} else {
		*why = "not a numeric IPv4 or IPv6 address (ADDR or ADDR/BITS)";
		return -1;
	}
	if (bits > (out->family == AF_INET ? 32 : 128)) {
		*why = out->family == AF_INET ? "an IPv4 prefix length is 0..32"
					      : "an IPv6 prefix length is 0..128";
		return -1;
	}
	out->bits = (uint8_t)bits;
	return 0;
}

int addr_allow_parse(const char *list, struct addr_allow *out, char *why, size_t why_size)
{
	const char *p = list;

	out->n = 0;
	for (;;) {
		const char *reason = NULL;
		p += strspn(p, " \t");
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
			trimmed--;
		if (trimmed == 0 && (p[len] == ',' || out->n > 0))
			reason = "empty entry";
		else if (trimmed > 0 && out->n == ADDR_ALLOW_MAX)
			reason = "too many entries (at most 64)";
		else if (trimmed > 0)
			addr_cidr_parse(p, trimmed, &out->cidr[out->n], &reason);
		if (reason) {
			snprintf(why, why_size,
				 "\"%.*s\": %s (expected a comma list like "
				 "127.0.0.0/8, ::1/128, 192.168.1.0/24)",
				 (int)(trimmed > 48 ? 48 : trimmed), p, reason);
			out->n = 0;
			return -1;
		}
		if (trimmed > 0)
			out->n++;
		if (p[len] != ',')
			return 0;
		p += len + 1;
	}
}

/* True if the first `bits` bits of a and b are equal. */
static bool addr_prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool addr_allow_match(const struct addr_allow *a, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *bytes;
	sa_family_t family = sa->sa_family;

	if (a->n == 0)
		return true;
	if (family == AF_INET) {
		bytes = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		bytes = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(bytes, mapped, sizeof(mapped)) == 0) {
			bytes += sizeof(mapped);
			family = AF_INET;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->cidr[i].family == family &&
		    addr_prefix_equal(a->cidr[i].addr, bytes, a->cidr[i].bits))
			return true;
	}
	return false;
}

const char *addr_text(const struct sockaddr *sa, char *out, size_t size)
{
	const void *bytes = NULL;

	if (sa->sa_family == AF_INET)
		bytes = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		bytes = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!bytes || !inet_ntop(sa->sa_family, bytes, out, (socklen_t)size))
		snprintf(out, size, "?");
	return out;
}
