/* addr.h -- "HOST:PORT" listen addresses -> socket addresses (HTTP, UDP, config, status CLI). */
#ifndef IOT_EDGE_ADDR_H
#define IOT_EDGE_ADDR_H

#include <sys/socket.h>

/* Parse "HOST:PORT", "[IPV6]:PORT" or ":PORT" (all interfaces); HOST is a
 * numeric address, "*" or "localhost". Returns 0 with *addr and *len set, or
 * -1 with *why set to a static message. Pure; any thread. */
int addr_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
		      const char **why);

#endif
