/* status_cli.c -- `iot-edge status`: ask the running daemon for GET /status and summarise it. */
#include "status_cli.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <curl/curl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "addr.h"

#define STATUS_CLI_DEFAULT_CONFIG "/etc/iot-edge/iot-edge.conf"
#define STATUS_CLI_MAX_BODY (4u << 20) /* a /status answer is a few kB */
#define STATUS_CLI_TIMEOUT_MS 5000L

/* The answer being received. */
struct status_cli_body {
	char *data;
	size_t len;
	bool too_large;
};

static void status_cli_usage(FILE *out)
{
	fprintf(out,
		"Usage: iot-edge status [-c FILE] [--url URL] [--json] [--readings]\n"
		"\n"
		"Ask the running iot-edge for GET /status and print a summary: the state in\n"
		"the first line, then the buffer, ingest, uplink and collectors.\n"
		"\n"
		"  -c, --config FILE  find iot-edge by http.listen (and http.token) of this\n"
		"                     file (default " STATUS_CLI_DEFAULT_CONFIG
		", used when present)\n"
		"  -u, --url URL      ask this iot-edge instead, e.g. http://pi.local:1337\n"
		"  -j, --json         print the /status document as it is\n"
		"  -r, --readings     print the recent readings instead (GET /readings): the\n"
		"                     last values of each series; with --json, the document\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Exit status: 0 forwarding works, 1 the uplink fails (or InfluxDB refuses the\n"
		"credentials), 2 iot-edge cannot be reached; with --readings 0 once it\n"
		"answered.\n");
}

/* http://HOST:PORT/status for http.listen: all interfaces become loopback. */
static int status_cli_url_from_listen(const char *listen, char *url, size_t cap)
{
	struct sockaddr_storage addr;
	socklen_t len;
	const char *why = NULL;
	char host[INET6_ADDRSTRLEN];
	unsigned port;
	int n;

	if (addr_parse_listen(listen, &addr, &len, &why) != 0) {
		fprintf(stderr, "iot-edge status: http.listen \"%s\": %s\n", listen, why);
		return -1;
	}
	if (addr.ss_family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;

		if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr))
			a6->sin6_addr = in6addr_loopback;
		if (!inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host)))
			return -1;
		port = ntohs(a6->sin6_port);
		n = snprintf(url, cap, "http://[%s]:%u/status", host, port);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;

		if (a4->sin_addr.s_addr == htonl(INADDR_ANY))
			a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (!inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host)))
			return -1;
		port = ntohs(a4->sin_port);
		n = snprintf(url, cap, "http://%s:%u/status", host, port);
	}
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* --url: a base URL gets /status appended; one ending in /status is kept. */
static int status_cli_url_given(const char *given, char *url, size_t cap)
{
	size_t len = strlen(given);
	int n;

	while (len > 0 && given[len - 1] == '/')
		len--;
	if (len >= 7 && memcmp(given + len - 7, "/status", 7) == 0)
		n = snprintf(url, cap, "%.*s", (int)len, given);
	else
		n = snprintf(url, cap, "%.*s/status", (int)len, given);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Where to ask, and the token to send (malloc'd, or NULL), from the
 * configuration as the daemon reads it: the file, then the environment. */
static int status_cli_from_config(const char *path, bool path_given, char *url, size_t cap,
				  char **token)
{
	struct edge_config cfg;
	int problems = 0, result = -1;

	config_init(&cfg);
	if (path_given || access(path, F_OK) == 0)
		problems += config_load_file(&cfg, path, stderr);
	problems += config_load_env(&cfg, stderr);
	if (problems) {
		fprintf(stderr, "iot-edge status: %d problem%s in the configuration\n", problems,
			problems == 1 ? "" : "s");
		goto out;
	}
	if (status_cli_url_from_listen(cfg.http_listen, url, cap) != 0)
		goto out;
	if (cfg.http_token && *cfg.http_token) {
		*token = strdup(cfg.http_token);
		if (!*token)
			goto out;
	}
	result = 0;
out:
	config_cleanup(&cfg);
	return result;
}

static size_t status_cli_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct status_cli_body *body = arg;
	size_t n = size * nmemb;
	char *grown;

	if (body->len + n > STATUS_CLI_MAX_BODY) {
		body->too_large = true;
		return 0;
	}
	grown = realloc(body->data, body->len + n + 1);
	if (!grown)
		return 0;
	body->data = grown;
	memcpy(body->data + body->len, data, n);
	body->len += n;
	body->data[body->len] = '\0';
	return n;
}

/* Let curl speak http and https only (never file://, ftp://, ...), as the
 * uplink does: CURLOPT_PROTOCOLS_STR came with curl 7.85.0, Raspberry Pi OS
 * bullseye ships 7.74, which has only the bitmask (deprecated since). */
static CURLcode status_cli_http_only(CURL *curl)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	return curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	return curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

/* GET url into body. Returns 0, or STATUS_CLI_UNREACHABLE (said on stderr). */
static int status_cli_get(const char *url, const char *token, struct status_cli_body *body)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	char *auth = NULL;
	long code = 0;
	int result = STATUS_CLI_UNREACHABLE;
	CURLcode rc;
	CURL *curl = curl_easy_init();

	if (!curl) {
		fprintf(stderr, "iot-edge status: cannot initialise libcurl\n");
		return STATUS_CLI_UNREACHABLE;
	}
	if (token) {
		size_t len = strlen("Authorization: Token ") + strlen(token) + 1;
		struct curl_slist *grown;

		auth = malloc(len);
		if (!auth)
			goto out;
		snprintf(auth, len, "Authorization: Token %s", token);
		grown = curl_slist_append(headers, auth);
		if (!grown)
			goto out;
		headers = grown;
	}
	if (curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, STATUS_CLI_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    status_cli_http_only(curl) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, status_cli_write) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body) != CURLE_OK ||
	    (headers && curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK)) {
		fprintf(stderr, "iot-edge status: cannot set up the request to %s\n", url);
		goto out;
	}
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "iot-edge status: cannot reach iot-edge at %s: %s\n", url,
			body->too_large ? "the answer is too large"
			: *errbuf	? errbuf
					: curl_easy_strerror(rc));
		goto out;
	}
	if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200) {
		fprintf(stderr, "iot-edge status: %s answered HTTP %ld, not 200\n", url, code);
		goto out;
	}
	result = 0;
out:
	curl_slist_free_all(headers);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	curl_easy_cleanup(curl);
	return result;
}

/* The /readings URL beside a /status one (which ends in "/status"). */
static int status_cli_readings_url(const char *status_url, char *url, size_t cap)
{
	size_t len = strlen(status_url) - strlen("/status");
	int n = snprintf(url, cap, "%.*s/readings", (int)len, status_url);

	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Ask url, then print the summary (or the document). Returns the exit status. */
static int status_cli_run(const char *url, const char *token, bool json, bool readings)
{
	struct status_cli_body body = {0};
	cJSON *doc = NULL;
	int result = status_cli_get(url, token, &body);

	if (result)
		goto out;
	doc = body.data ? cJSON_Parse(body.data) : NULL;
	if (!cJSON_IsObject(doc)) {
		fprintf(stderr, "iot-edge status: %s did not answer a %s document\n", url,
			readings ? "/readings" : "/status");
		result = STATUS_CLI_UNREACHABLE;
		goto out;
	}
	if (json) {
		fputs(body.data, stdout);
		if (body.len > 0 && body.data[body.len - 1] != '\n')
			fputc('\n', stdout);
		result = readings ? STATUS_CLI_OK : status_text_exit(doc);
	} else if (readings) {
		result = STATUS_CLI_OK;
		if (status_readings_print(doc, stdout) != 0) {
			fprintf(stderr, "iot-edge status: %s did not answer a /readings document\n",
				url);
			result = STATUS_CLI_UNREACHABLE;
		}
	} else {
		result = status_text_print(doc, stdout);
	}
	if (fflush(stdout) != 0)
		result = STATUS_CLI_UNREACHABLE;
out:
	cJSON_Delete(doc);
	free(body.data);
	return result;
}

int status_cli_main(int argc, char **argv)
{
	static const struct option long_options[] = {
	    {"config", required_argument, NULL, 'c'}, {"url", required_argument, NULL, 'u'},
	    {"json", no_argument, NULL, 'j'},	      {"readings", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const char *path = STATUS_CLI_DEFAULT_CONFIG, *given_url = NULL;
	bool path_given = false, json = false, readings = false;
	char url[600], readings_url[620];
	char *token = NULL;
	int opt, result;

	while ((opt = getopt_long(argc, argv, "c:u:jrh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			path_given = true;
			break;
		case 'u':
			given_url = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			readings = true;
			break;
		case 'h':
			status_cli_usage(stdout);
			return STATUS_CLI_OK;
		default:
			status_cli_usage(stderr);
			return STATUS_CLI_UNREACHABLE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iot-edge status: unexpected argument \"%s\" (see --help)\n",
			argv[optind]);
		return STATUS_CLI_UNREACHABLE;
	}
	/* The token goes only where the configuration points, never to --url. */
	if (given_url ? status_cli_url_given(given_url, url, sizeof(url))
		      : status_cli_from_config(path, path_given, url, sizeof(url), &token)) {
		if (given_url)
			fprintf(stderr, "iot-edge status: --url is too long\n");
		return STATUS_CLI_UNREACHABLE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "iot-edge status: cannot initialise libcurl\n");
		result = STATUS_CLI_UNREACHABLE;
		goto out;
	}
	if (readings && status_cli_readings_url(url, readings_url, sizeof(readings_url)) != 0) {
		fprintf(stderr, "iot-edge status: --url is too long\n");
		result = STATUS_CLI_UNREACHABLE;
		curl_global_cleanup();
		goto out;
	}
	result = status_cli_run(readings ? readings_url : url, token, json, readings);
	curl_global_cleanup();
out:
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return result;
}
