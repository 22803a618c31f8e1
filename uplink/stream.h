/* stream.h -- a TLS byte stream over libcurl (CURLOPT_CONNECT_ONLY) for the protocols of other
 * rooms that speak TLS without writing TLS code: the MQTT input's mqtts://. */
#ifndef IOT_EDGE_UPLINK_STREAM_H
#define IOT_EDGE_UPLINK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct uplink_stream;

struct uplink_stream_options {
	const char *host;	   /* a name, an IPv4 or an IPv6 address (without brackets) */
	const char *port;	   /* "8883" */
	const char *ca_file;	   /* NULL or "": the system's CAs */
	bool insecure_skip_verify; /* no peer or host name check (tests only) */
	long timeout_ms;	   /* for the connection and the handshake */
};

/* What uplink_stream_send() and uplink_stream_recv() return besides a count. */
#define UPLINK_STREAM_AGAIN (-2) /* nothing now: poll uplink_stream_fd() */
#define UPLINK_STREAM_ERROR (-1) /* the stream is broken: close it */

/* Connect to host:port and complete the TLS handshake (the peer verified as
 * the uplink verifies InfluxDB), blocking for at most timeout_ms. Returns 0
 * and *out (close it with uplink_stream_close()), or -1 with curl's words in
 * err. The thread that uses the stream. */
int uplink_stream_open(const struct uplink_stream_options *o, struct uplink_stream **out, char *err,
		       size_t err_size);

/* The socket under the stream, to poll. The stream's thread. */
int uplink_stream_fd(const struct uplink_stream *s);

/* Send up to n bytes: returns how many were taken (> 0), UPLINK_STREAM_AGAIN
 * or UPLINK_STREAM_ERROR. The stream's thread. */
ssize_t uplink_stream_send(struct uplink_stream *s, const void *p, size_t n);

/* Receive up to n bytes: returns how many (> 0), 0 when the peer closed,
 * UPLINK_STREAM_AGAIN or UPLINK_STREAM_ERROR. TLS may hold received bytes
 * the socket no longer shows: read until UPLINK_STREAM_AGAIN before polling.
 * The stream's thread. */
ssize_t uplink_stream_recv(struct uplink_stream *s, void *p, size_t n);

/* Close and free. NULL-safe. The stream's thread. */
void uplink_stream_close(struct uplink_stream *s);

#endif
