/* addr.h -- "HOST:PORT" listen addresses -> socket addresses (HTTP, UDP, config, status CLI), and
 * the source CIDR lists of http.allow / udp.allow. */
#ifndef IOT_EDGE_ADDR_H
#define IOT_EDGE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Parse "HOST:PORT", "[IPV6]:PORT" or ":PORT" (all interfaces); HOST is a
 * numeric address, "*" or "localhost". Returns 0 with *addr and *len set, or
 * -1 with *why set to a static message. Pure; any thread. */
int addr_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
		      const char **why);

/* True if addr (from addr_parse_listen()) is a loopback address (127/8,
 * ::1): only this machine can reach it. Pure; any thread. */
bool addr_is_loopback(const struct sockaddr_storage *addr);

#define ADDR_ALLOW_MAX 64 /* entries of one list */

/* One entry of a source list: the first `bits` bits of addr must match. */
struct addr_cidr {
	sa_family_t family; /* AF_INET or AF_INET6 */
	uint8_t bits;	    /* 0..32 or 0..128 */
	uint8_t addr[16];   /* network byte order; 4 bytes for AF_INET */
};

/* A list of source networks (http.allow, udp.allow); n 0: any source. */
struct addr_allow {
	size_t n;
	struct addr_cidr cidr[ADDR_ALLOW_MAX];
};

/* Parse "127.0.0.0/8, ::1/128, 192.168.1.7": comma-separated, blanks around
 * entries ignored, an address without /BITS is that host alone. "" (or
 * blanks) is the empty list: any source. Returns 0 with *out set, or -1
 * with `why` (why_size bytes) naming the bad entry. Pure; any thread. */
int addr_allow_parse(const char *list, struct addr_allow *out, char *why, size_t why_size);

/* True if `a` allows the source address sa (AF_INET or AF_INET6; an
 * IPv4-mapped IPv6 address ::ffff:a.b.c.d is matched as a.b.c.d); an empty
 * list allows every source, any other family is refused. Pure; any
 * thread. */
bool addr_allow_match(const struct addr_allow *a, const struct sockaddr *sa);

/* sa's address as text ("192.168.1.7", "::1"; "?" for another family) in
 * out (at least 46 bytes). Returns out. Pure; any thread. */
const char *addr_text(const struct sockaddr *sa, char *out, size_t size);

#endif
