/* stream.c -- a TLS byte stream over libcurl: CURLOPT_CONNECT_ONLY, curl_easy_send/recv. */
#include "stream.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct uplink_stream {
	CURL *h;
	int fd;
};

int uplink_stream_open(const struct uplink_stream_options *o, struct uplink_stream **out, char *err,
		       size_t err_size)
{
	struct uplink_stream *s = calloc(1, sizeof(*s));
	char url[320], curl_err[CURL_ERROR_SIZE] = "";
	curl_socket_t fd = CURL_SOCKET_BAD;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	bool v6 = strchr(o->host, ':') != NULL;

	if (!s)
		goto fail;
	/* https: curl's TLS with the CA options of the uplink; only the TCP
	 * connection and the handshake are made (CONNECT_ONLY), no HTTP. */
	snprintf(url, sizeof(url), "https://%s%s%s:%s/", v6 ? "[" : "", o->host, v6 ? "]" : "",
		 o->port);
	s->h = curl_easy_init();
	if (!s->h)
		goto fail;
	rc = curl_easy_setopt(s->h, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->h, CURLOPT_CONNECT_ONLY, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, curl_err);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->h, CURLOPT_SSL_ENABLE_ALPN, 0L); /* not HTTP */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (rc == CURLE_OK && o->ca_file && o->ca_file[0])
		rc = curl_easy_setopt(s->h, CURLOPT_CAINFO, o->ca_file);
	if (rc == CURLE_OK && o->insecure_skip_verify) {
		rc = curl_easy_setopt(s->h, CURLOPT_SSL_VERIFYPEER, 0L);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(s->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (rc == CURLE_OK)
		rc = curl_easy_perform(s->h);
	if (rc == CURLE_OK)
		rc = curl_easy_getinfo(s->h, CURLINFO_ACTIVESOCKET, &fd);
	if (rc == CURLE_OK && fd == CURL_SOCKET_BAD)
		rc = CURLE_COULDNT_CONNECT;
	if (rc != CURLE_OK)
		goto fail;
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, NULL); /* curl_err leaves scope */
	s->fd = (int)fd;
	*out = s;
	return 0;
fail:
	snprintf(err, err_size, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
	uplink_stream_close(s);
	return -1;
}

int uplink_stream_fd(const struct uplink_stream *s)
{
	return s->fd;
}

ssize_t uplink_stream_send(struct uplink_stream *s, const void *p, size_t n)
{
	size_t sent = 0;
	CURLcode rc = curl_easy_send(s->h, p, n, &sent);

	if (rc == CURLE_AGAIN)
		return UPLINK_STREAM_AGAIN;
	if (rc != CURLE_OK)
		return UPLINK_STREAM_ERROR;
	return (ssize_t)sent;
}

ssize_t uplink_stream_recv(struct uplink_stream *s, void *p, size_t n)
{
	size_t got = 0;
	CURLcode rc = curl_easy_recv(s->h, p, n, &got);

	if (rc == CURLE_AGAIN)
		return UPLINK_STREAM_AGAIN;
	if (rc != CURLE_OK)
		return UPLINK_STREAM_ERROR;
	return (ssize_t)got; /* 0: the peer closed */
}

void uplink_stream_close(struct uplink_stream *s)
{
	if (!s)
		return;
	if (s->h)
		curl_easy_cleanup(s->h);
	free(s);
}
