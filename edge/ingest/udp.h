/* udp.h -- line protocol over UDP: one or more lines per datagram, no answer, counted. */
#ifndef IOT_EDGE_UDP_H
#define IOT_EDGE_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "storage.h"

struct udp_listener;

struct udp_options {
	const char *listen;	     /* "HOST:PORT", "[V6]:PORT" or ":PORT" */
	size_t max_line;	     /* longer lines are refused (counted); 0: no limit */
	int unsigned_ok;	     /* accept 12u fields (the uplink speaks v2) */
	size_t max_tags, max_fields; /* per point; 0: the model's defaults */
	const char *tags;	     /* added to every point ([tags]); NULL: none */
	const char *allow;	     /* source CIDR list (addr_allow_parse()); NULL or "": any */
};

/* What the listener did since it started, see udp_get_stats(). */
struct udp_stats {
	uint64_t datagrams; /* datagrams received */
	uint64_t stored;    /* points committed to the buffer */
	uint64_t bad_lines; /* lines refused by the parser (or too long) */
	uint64_t dropped;   /* valid points storage refused (queue full, closing, error) */
	uint64_t refused;   /* datagrams from outside udp.allow, dropped unread */
};

/* Bind the socket and start the receiving thread, which parses each
 * datagram as a line-protocol body (timestamps in ns, receipt time for
 * lines without one) and appends its valid points to `s`; nobody is
 * answered. `s` must outlive the listener. Returns 0 and *out (free it
 * with udp_stop()), or -1 (logged: bad address, port in use). Main thread. */
int udp_start(const struct udp_options *options, struct storage *s, struct udp_listener **out);

/* Copy the counters. Any thread. */
void udp_get_stats(struct udp_listener *u, struct udp_stats *out);

/* Stop receiving, wait until every append already handed to storage is
 * answered, log the totals and free everything. NULL-safe. Main thread,
 * before storage_close(). */
void udp_stop(struct udp_listener *u);

#endif
