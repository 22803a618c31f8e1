/* iot_sim.c -- iot-sim: seed-compatible device simulator and load generator. */
#include <curl/curl.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IOT_EDGE_VERSION
#define IOT_EDGE_VERSION "unknown"
#endif

#define SIM_NAME "iot-sim"
#define SIM_EXIT_OK 0
#define SIM_EXIT_ERRORS 1
#define SIM_EXIT_USAGE 2
#define SIM_HOST_MAX 255
#define SIM_URL_MAX 600
#define SIM_BODY_MAX 160
#define SIM_TS_MAX 40
#define SIM_DEVICES_MAX 1000000
#define SIM_RETRIES_MAX 1000
#define SIM_INTERVAL_MAX_S 86400LL
#define SIM_RETRY_DELAY_NS 200000000LL
#define SIM_SLEEP_SLICE_NS 100000000LL
#define SIM_NS_PER_S 1000000000LL
#define SIM_VALUE_MIN 20
#define SIM_VALUE_SPAN 15 /* values 20..34, like the seed's bash loop */

/* Everything the command line sets; defaults in sim_opts_init(). */
struct sim_opts {
	char host[SIM_HOST_MAX + 1];
	uint64_t port;
	uint64_t count; /* 0 = forever */
	int64_t interval_ns;
	uint64_t devices;
	uint64_t retries;
	bool quiet;
	bool seed_set;
	uint64_t seed;
};

/* Outcome counters; each reading counts once, however many attempts it took. */
struct sim_stats {
	uint64_t sent;
	uint64_t ok;
	uint64_t http_errors;
	uint64_t conn_errors;
};

/* One run: options, the reused CURL handle and its buffers. */
struct sim {
	struct sim_opts opts;
	struct sim_stats stats;
	CURL *curl;
	struct curl_slist *headers;
	char url[SIM_URL_MAX];
	char errbuf[CURL_ERROR_SIZE];
	uint64_t rng;
	int64_t last_ts_ns;
	bool output_failed;
	int output_errno;
};

static volatile sig_atomic_t sim_stop_requested;

static void sim_on_signal(int signo)
{
	(void)signo;
	sim_stop_requested = 1;
}

static int sim_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sim_on_signal; /* no SA_RESTART: sleeps end early */
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	/* CURLOPT_NOSIGNAL leaves SIGPIPE to us; a closed stdout is noticed via EPIPE. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	return 0;
}

static void sim_opts_init(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->host, "localhost", sizeof("localhost"));
	o->port = 1337;
	o->interval_ns = SIM_NS_PER_S;
	o->devices = 1;
}

static const char sim_help[] =
    "Usage: " SIM_NAME " [OPTION]...\n"
    "POST simulated temperature readings to http://HOST:PORT/data as\n"
    "{\"ts\":\"<RFC 3339 UTC>\",\"type\":\"temp\",\"value\":<20-34>,\"sensor_id\":<1..N>}.\n\n"
    "  -h, --host HOST     server name or address (default localhost; -h is NOT help)\n"
    "  -p, --port PORT     server port (default 1337)\n"
    "      --count N       stop after N readings in total (default: until SIGINT/SIGTERM)\n"
    "      --interval SEC  seconds between rounds, fractions allowed, 0 = no pause (default 1)\n"
    "      --devices N     N devices, sensor_id 1..N, one reading each per round (default 1)\n"
    "      --retries N     resend after a connection error or HTTP 503 up to N more times,\n"
    "                      200 ms apart (default 0)\n"
    "      --seed N        fix the value generator's seed (default: time and pid)\n"
    "      --quiet         no line per reading, only the summary\n"
    "      --help          show this help and exit\n"
    "      --version       show the version and exit\n\n"
    "Ends with one summary line. Exit status: 0 no errors, 1 errors, 2 bad usage.\n";

/* Strict unsigned decimal: digits only, no sign, no spaces, in [min, max]. */
static int sim_parse_u64(const char *opt, const char *arg, uint64_t min, uint64_t max,
			 uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (arg[0] < '0' || arg[0] > '9') {
		fprintf(stderr, SIM_NAME ": %s: \"%s\" is not a number\n", opt, arg);
		return -1;
	}
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end != '\0') {
		fprintf(stderr, SIM_NAME ": %s: \"%s\" is not a number\n", opt, arg);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		fprintf(stderr, SIM_NAME ": %s: \"%s\" is out of range (%" PRIu64 "-%" PRIu64 ")\n",
			opt, arg, min, max);
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

/* Seconds with an optional fraction ("1", "0.01", "0") -> nanoseconds, exactly. */
static int sim_parse_interval(const char *arg, int64_t *out_ns)
{
	const char *p = arg;
	int64_t secs = 0;
	int64_t frac = 0;
	int64_t scale = SIM_NS_PER_S;
	size_t digits = 0;

	for (; *p >= '0' && *p <= '9' && secs <= SIM_INTERVAL_MAX_S; p++, digits++)
		secs = secs * 10 + (*p - '0');
	if (*p == '.') {
		/* Digits past the ninth are below a nanosecond: scale is 0 there. */
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if (secs <= SIM_INTERVAL_MAX_S && (*p != '\0' || digits == 0)) {
		fprintf(stderr, SIM_NAME ": --interval: \"%s\" is not a number\n", arg);
		return -1;
	}
	if (secs > SIM_INTERVAL_MAX_S ||
	    secs * SIM_NS_PER_S + frac > SIM_INTERVAL_MAX_S * SIM_NS_PER_S) {
		fprintf(stderr, SIM_NAME ": --interval: \"%s\" is out of range (0-%lld seconds)\n",
			arg, (long long)SIM_INTERVAL_MAX_S);
		return -1;
	}
	*out_ns = secs * SIM_NS_PER_S + frac;
	return 0;
}

/* Names, IPv4 and IPv6 literals (bare or bracketed, with an optional %zone). */
static int sim_parse_host(const char *arg, char *out, size_t out_size)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789.-_:%[]";
	size_t len = strlen(arg);

	if (len == 0 || len >= out_size || strspn(arg, allowed) != len) {
		fprintf(stderr, SIM_NAME ": -h: \"%s\" is not a valid host\n", arg);
		return -1;
	}
	memcpy(out, arg, len + 1);
	return 0;
}

static const struct option sim_long_options[] = {
    {"host", required_argument, NULL, 'h'},
    {"port", required_argument, NULL, 'p'},
    {"count", required_argument, NULL, 'c'},
    {"interval", required_argument, NULL, 'i'},
    {"devices", required_argument, NULL, 'd'},
    {"retries", required_argument, NULL, 'r'},
    {"seed", required_argument, NULL, 's'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'H'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Returns 0 to run, 1 when --help/--version was served (exit 0), -1 on bad usage (exit 2). */
static int sim_parse_args(int argc, char **argv, struct sim_opts *o)
{
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, ":h:p:", sim_long_options, NULL);
		int rc = 0;

		if (c == -1)
			break;
		switch (c) {
		case 'h':
			rc = sim_parse_host(optarg, o->host, sizeof(o->host));
			break;
		case 'p':
			rc = sim_parse_u64("-p", optarg, 1, 65535, &o->port);
			break;
		case 'c':
			rc = sim_parse_u64("--count", optarg, 1, UINT64_MAX, &o->count);
			break;
		case 'i':
			rc = sim_parse_interval(optarg, &o->interval_ns);
			break;
		case 'd':
			rc = sim_parse_u64("--devices", optarg, 1, SIM_DEVICES_MAX, &o->devices);
			break;
		case 'r':
			rc = sim_parse_u64("--retries", optarg, 0, SIM_RETRIES_MAX, &o->retries);
			break;
		case 's':
			rc = sim_parse_u64("--seed", optarg, 0, UINT64_MAX, &o->seed);
			o->seed_set = rc == 0;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'H':
			return fputs(sim_help, stdout) == EOF ? -1 : 1;
		case 'V':
			return puts(SIM_NAME " " IOT_EDGE_VERSION) == EOF ? -1 : 1;
		case ':':
			fprintf(stderr, SIM_NAME ": %s: missing argument\n", argv[optind - 1]);
			rc = -1;
			break;
		default:
			if (optopt != 0)
				fprintf(stderr, SIM_NAME ": unknown option -%c\n", optopt);
			else
				fprintf(stderr, SIM_NAME ": unknown option %s\n", argv[optind - 1]);
			rc = -1;
			break;
		}
		if (rc != 0)
			goto usage;
	}
	if (optind == argc)
		return 0;
	fprintf(stderr, SIM_NAME ": unexpected argument \"%s\"\n", argv[optind]);
usage:
	fprintf(stderr, "Try '" SIM_NAME " --help' for more information.\n");
	return -1;
}

/* http://HOST:PORT/data; an IPv6 literal is bracketed and its %zone written %25zone. */
static int sim_build_url(struct sim *s)
{
	const char *host = s->opts.host;
	char lit[2 * SIM_HOST_MAX + 3];
	int len;

	if (strchr(host, ':') != NULL && host[0] != '[') {
		size_t n = 0;

		lit[n++] = '[';
		for (const char *p = host; *p != '\0'; p++) {
			lit[n++] = *p;
			if (*p == '%') {
				lit[n++] = '2';
				lit[n++] = '5';
			}
		}
		lit[n++] = ']';
		lit[n] = '\0';
		host = lit;
	}
	len = snprintf(s->url, sizeof(s->url), "http://%s:%" PRIu64 "/data", host, s->opts.port);
	if (len < 0 || (size_t)len >= sizeof(s->url))
		return -1;
	return 0;
}

/* splitmix64: tiny, good enough to spread values over 20..34. */
static uint64_t sim_rand(struct sim *s)
{
	uint64_t z;

	s->rng += 0x9e3779b97f4a7c15ULL;
	z = s->rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t sim_now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * SIM_NS_PER_S + ts.tv_nsec;
}

/* RFC 3339 UTC with nanoseconds, strictly increasing within the process. */
static int sim_format_ts(struct sim *s, char *out, size_t out_size)
{
	int64_t ns = sim_now_ns(CLOCK_REALTIME);
	struct tm tm;
	time_t secs;
	long frac;
	char date[32];
	int len;

	if (ns <= s->last_ts_ns)
		ns = s->last_ts_ns + 1;
	s->last_ts_ns = ns;
	secs = (time_t)(ns / SIM_NS_PER_S);
	frac = (long)(ns % SIM_NS_PER_S);
	if (frac < 0) {
		frac += SIM_NS_PER_S;
		secs -= 1;
	}
	if (gmtime_r(&secs, &tm) == NULL)
		return -1;
	if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -1;
	len = snprintf(out, out_size, "%s.%09ldZ", date, frac);
	if (len < 0 || (size_t)len >= out_size)
		return -1;
	return 0;
}

/* Sleeps until the CLOCK_MONOTONIC deadline or until a stop is requested. */
static void sim_sleep_until(int64_t deadline_ns)
{
	while (!sim_stop_requested) {
		int64_t left = deadline_ns - sim_now_ns(CLOCK_MONOTONIC);
		struct timespec rel;

		if (left <= 0)
			return;
		if (left > SIM_SLEEP_SLICE_NS)
			left = SIM_SLEEP_SLICE_NS;
		rel.tv_sec = (time_t)(left / SIM_NS_PER_S);
		rel.tv_nsec = (long)(left % SIM_NS_PER_S);
		/* EINTR just means: look at the flag and the clock again. */
		(void)clock_nanosleep(CLOCK_MONOTONIC, 0, &rel, NULL);
	}
}

/* Response bodies are not wanted (and must not land on stdout). */
static size_t sim_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

static int sim_curl_setup(struct sim *s)
{
	CURL *c;
	struct curl_slist *h;
	int rc = -1;

	c = curl_easy_init();
	if (c == NULL)
		goto out;
	s->curl = c;
	h = curl_slist_append(NULL, "Content-Type: application/json");
	if (h == NULL)
		goto out;
	s->headers = h;
	if (curl_easy_setopt(c, CURLOPT_URL, s->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, SIM_NAME "/" IOT_EDGE_VERSION) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sim_discard) != CURLE_OK)
		goto out;
	rc = 0;
out:
	return rc;
}

/* One POST of `body`. Returns curl's verdict; *status is the HTTP status (0 if none). */
static CURLcode sim_post(struct sim *s, const char *body, size_t body_len, long *status)
{
	CURLcode res;

	*status = 0;
	s->errbuf[0] = '\0';
	res = curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
	if (res == CURLE_OK)
		res = curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
	if (res == CURLE_OK)
		res = curl_easy_perform(s->curl);
	if (res == CURLE_OK)
		res = curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, status);
	return res;
}

/* One reading of device `sensor_id`, with retries; counts it and prints its line. */
static int sim_send_reading(struct sim *s, uint64_t sensor_id)
{
	char ts[SIM_TS_MAX];
	char body[SIM_BODY_MAX];
	CURLcode res;
	long status;
	uint64_t attempts = 0;
	int value;
	int len;
	int out;

	if (sim_format_ts(s, ts, sizeof(ts)) != 0)
		return -1;
	value = SIM_VALUE_MIN + (int)((sim_rand(s) >> 32) % SIM_VALUE_SPAN);
	len = snprintf(body, sizeof(body),
		       "{\"ts\":\"%s\",\"type\":\"temp\",\"value\":%d,\"sensor_id\":%" PRIu64 "}",
		       ts, value, sensor_id);
	if (len < 0 || (size_t)len >= sizeof(body))
		return -1;

	s->stats.sent++;
	for (;;) {
		res = sim_post(s, body, (size_t)len, &status);
		attempts++;
		/* Only a lost connection or 503 (edge busy / buffer full) is worth a resend. */
		if ((res == CURLE_OK && status != 503) || attempts > s->opts.retries ||
		    sim_stop_requested)
			break;
		sim_sleep_until(sim_now_ns(CLOCK_MONOTONIC) + SIM_RETRY_DELAY_NS);
		if (sim_stop_requested)
			break;
	}

	if (res != CURLE_OK)
		s->stats.conn_errors++;
	else if (status >= 200 && status <= 299)
		s->stats.ok++;
	else
		s->stats.http_errors++;

	if (s->opts.quiet)
		return 0;
	if (res != CURLE_OK)
		out = printf("POST %s %s -> error: %s", s->url, body,
			     s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(res));
	else
		out = printf("POST %s %s -> %ld", s->url, body, status);
	if (out >= 0 && attempts > 1)
		out = printf(" (attempts: %" PRIu64 ")", attempts);
	if (out >= 0)
		out = printf("\n");
	if (out < 0) {
		s->output_failed = true;
		s->output_errno = errno;
		return -1;
	}
	return 0;
}

static bool sim_more_to_send(const struct sim *s)
{
	if (sim_stop_requested || s->output_failed)
		return false;
	return s->opts.count == 0 || s->stats.sent < s->opts.count;
}

/* Rounds at a fixed rate; a slow round delays the next one but never causes a burst. */
static int sim_run(struct sim *s)
{
	int64_t next = sim_now_ns(CLOCK_MONOTONIC);
	int64_t now;
	uint64_t dev;

	while (sim_more_to_send(s)) {
		for (dev = 1; dev <= s->opts.devices && sim_more_to_send(s); dev++) {
			if (sim_send_reading(s, dev) != 0 && !s->output_failed) {
				fprintf(stderr, SIM_NAME ": cannot build a reading\n");
				return -1;
			}
		}
		if (!sim_more_to_send(s) || s->opts.interval_ns == 0)
			continue;
		next += s->opts.interval_ns;
		now = sim_now_ns(CLOCK_MONOTONIC);
		if (next < now)
			next = now;
		sim_sleep_until(next);
	}
	if (s->output_failed) {
		fprintf(stderr, SIM_NAME ": cannot write to stdout: %s\n",
			strerror(s->output_errno));
		return -1;
	}
	return 0;
}

/*
 * Entry point. Returns the exit status: 0 when every reading got a 2xx, 1 when
 * some did not (or the run could not start), 2 for bad usage. Single-threaded.
 */
int main(int argc, char **argv)
{
	struct sim s;
	bool curl_ready = false;
	int status = SIM_EXIT_ERRORS;
	int rc;
	uint64_t errors;

	memset(&s, 0, sizeof(s));
	sim_opts_init(&s.opts);
	rc = sim_parse_args(argc, argv, &s.opts);
	if (rc != 0)
		return rc > 0 ? SIM_EXIT_OK : SIM_EXIT_USAGE;
	if (sim_build_url(&s) != 0) {
		fprintf(stderr, SIM_NAME ": -h: host too long for a URL\n");
		return SIM_EXIT_USAGE;
	}
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		fprintf(stderr, SIM_NAME ": cannot line-buffer stdout\n");
	s.rng = s.opts.seed_set ? s.opts.seed
				: (uint64_t)sim_now_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32);

	if (sim_install_signals() != 0) {
		fprintf(stderr, SIM_NAME ": cannot install signal handlers: %s\n", strerror(errno));
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, SIM_NAME ": curl_global_init failed\n");
		goto out;
	}
	curl_ready = true;
	if (sim_curl_setup(&s) != 0) {
		fprintf(stderr, SIM_NAME ": cannot set up libcurl\n");
		goto out;
	}
	if (sim_run(&s) != 0)
		goto out;
	status = SIM_EXIT_OK;
out:
	errors = s.stats.http_errors + s.stats.conn_errors;
	if (status == SIM_EXIT_OK && errors != 0)
		status = SIM_EXIT_ERRORS;
	if (printf(SIM_NAME ": sent %" PRIu64 ", 2xx %" PRIu64 ", errors %" PRIu64 " (http %" PRIu64
			    ", connection %" PRIu64 ")\n",
		   s.stats.sent, s.stats.ok, errors, s.stats.http_errors,
		   s.stats.conn_errors) < 0 ||
	    fflush(stdout) != 0)
		status = SIM_EXIT_ERRORS;
	curl_easy_cleanup(s.curl);
	curl_slist_free_all(s.headers);
	if (curl_ready)
		curl_global_cleanup();
	return status;
}
