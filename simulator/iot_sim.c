/* iot_sim.c -- iot-sim: seed-compatible device simulator and load generator (options, main). */
#include "sim.h"

#include <curl/curl.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM_EXIT_OK 0
#define SIM_EXIT_ERRORS 1
#define SIM_EXIT_USAGE 2
#define SIM_DEVICES_MAX 1000000
#define SIM_RETRIES_MAX 1000
#define SIM_CONNECTIONS_MAX 1000
#define SIM_RATE_MAX 10000000
#define SIM_BATCH_MAX 10000
#define SIM_INTERVAL_MAX_S 86400LL

/* The handler may touch only lock-free atomics. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free for the signal handler");

static void sim_on_signal(int signo)
{
	(void)signo;
	atomic_store(&sim_stop_requested, 1);
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
	o->connections = 1;
	o->batch = 1;
	o->ts_step_ns = SIM_NS_PER_S;
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
    "      --quiet         no line per reading, only the summary\n\n"
    "Load generation:\n"
    "      --connections N send over N keep-alive connections in parallel (default 1)\n"
    "      --rate R        R readings per second overall, evenly paced, instead of rounds\n"
    "                      of --interval (after a stall at most 100 ms are made up)\n"
    "      --batch K       K readings per request, as a JSON array (default 1: one object)\n"
    "      --ts-start TIME back-dated readings: the n-th reading overall (n = 0, 1, ...)\n"
    "                      gets TIME + n * --ts-step, TIME in RFC 3339 UTC\n"
    "                      (2024-05-01T12:00:00Z, fractions allowed); default: the clock\n"
    "      --ts-step SEC   see --ts-start; fractions allowed, > 0 (default 1)\n"
    "      --record FILE   append one line per reading once its outcome is known:\n"
    "                      \"TS_NS SENSOR_ID VALUE STATUS\" (STATUS 0: connection error)\n\n"
    "Reading n (n = 0, 1, ...) comes from sensor_id n % N + 1. Timestamps are unique:\n"
    "the clock's are strictly increasing nanoseconds across all connections.\n"
    "With --batch, stdout has one line per request (its whole body).\n\n"
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
static int sim_parse_interval(const char *opt, const char *arg, int64_t *out_ns)
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
		fprintf(stderr, SIM_NAME ": %s: \"%s\" is not a number\n", opt, arg);
		return -1;
	}
	if (secs > SIM_INTERVAL_MAX_S ||
	    secs * SIM_NS_PER_S + frac > SIM_INTERVAL_MAX_S * SIM_NS_PER_S) {
		fprintf(stderr, SIM_NAME ": %s: \"%s\" is out of range (0-%lld seconds)\n", opt,
			arg, (long long)SIM_INTERVAL_MAX_S);
		return -1;
	}
	*out_ns = secs * SIM_NS_PER_S + frac;
	return 0;
}

/* `width` decimal digits at *p, advancing it. Returns -1 when one is not a digit. */
static int sim_digits(const char **p, int width, int *out)
{
	int v = 0;

	for (int i = 0; i < width; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC, 1970 or later) -> ns since the epoch. */
static int sim_parse_ts_start(const char *arg, int64_t *out_ns)
{
	const char *p = arg;
	struct tm tm;
	int64_t frac = 0;
	int64_t scale = SIM_NS_PER_S;
	time_t secs;
	int f[6];

	memset(&tm, 0, sizeof(tm));
	if (sim_digits(&p, 4, &f[0]) != 0 || *p++ != '-' || sim_digits(&p, 2, &f[1]) != 0 ||
	    *p++ != '-' || sim_digits(&p, 2, &f[2]) != 0 || (*p != 'T' && *p != 't'))
		goto bad;
	p++;
	if (sim_digits(&p, 2, &f[3]) != 0 || *p++ != ':' || sim_digits(&p, 2, &f[4]) != 0 ||
	    *p++ != ':' || sim_digits(&p, 2, &f[5]) != 0)
		goto bad;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			goto bad;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if ((*p != 'Z' && *p != 'z') || p[1] != '\0')
		goto bad;
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 59)
		goto bad;
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	secs = timegm(&tm);
	int64_t secs64 = secs; /* a variable: time_t is 32 bits on armhf */
	/* timegm() normalises Feb 30 to Mar 2: a changed day means a bad date. */
	if (secs == (time_t)-1 || tm.tm_mday != f[2] || secs64 > INT64_MAX / SIM_NS_PER_S - 1)
		goto bad;
	*out_ns = secs64 * SIM_NS_PER_S + frac;
	return 0;
bad:
	fprintf(stderr,
		SIM_NAME ": --ts-start: \"%s\" is not an RFC 3339 UTC time "
			 "like 2024-05-01T12:00:00Z\n",
		arg);
	return -1;
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
    {"connections", required_argument, NULL, 'C'},
    {"rate", required_argument, NULL, 'R'},
    {"batch", required_argument, NULL, 'B'},
    {"ts-start", required_argument, NULL, 'T'},
    {"ts-step", required_argument, NULL, 'S'},
    {"record", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'H'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Returns 0 to run, 1 when --help/--version was served (exit 0), -1 on bad usage (exit 2). */
static int sim_parse_args(int argc, char **argv, struct sim_opts *o)
{
	bool ts_step_set = false;

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
			rc = sim_parse_interval("--interval", optarg, &o->interval_ns);
			o->interval_set = true;
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
		case 'C':
			rc = sim_parse_u64("--connections", optarg, 1, SIM_CONNECTIONS_MAX,
					   &o->connections);
			break;
		case 'R':
			rc = sim_parse_u64("--rate", optarg, 1, SIM_RATE_MAX, &o->rate);
			break;
		case 'B':
			rc = sim_parse_u64("--batch", optarg, 1, SIM_BATCH_MAX, &o->batch);
			break;
		case 'T':
			rc = sim_parse_ts_start(optarg, &o->ts_start_ns);
			o->ts_start_set = rc == 0;
			break;
		case 'S':
			rc = sim_parse_interval("--ts-step", optarg, &o->ts_step_ns);
			if (rc == 0 && o->ts_step_ns == 0) {
				fprintf(stderr, SIM_NAME ": --ts-step: must be more than 0\n");
				rc = -1;
			}
			ts_step_set = true;
			break;
		case 'o':
			o->record_path = optarg;
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
	if (optind != argc) {
		fprintf(stderr, SIM_NAME ": unexpected argument \"%s\"\n", argv[optind]);
		goto usage;
	}
	if (o->rate != 0 && o->interval_set) {
		fprintf(stderr, SIM_NAME ": --rate and --interval exclude each other\n");
		goto usage;
	}
	if (ts_step_set && !o->ts_start_set) {
		fprintf(stderr, SIM_NAME ": --ts-step needs --ts-start\n");
		goto usage;
	}
	return 0;
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

/*
 * Entry point. Returns the exit status: 0 when every reading got a 2xx, 1 when
 * some did not (or the run could not start), 2 for bad usage. The sending
 * runs on --connections threads (sim_send.c); this thread waits for them.
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
	s.seed = s.opts.seed_set
		     ? s.opts.seed
		     : (uint64_t)sim_now_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32);
	if (s.opts.record_path != NULL) {
		s.record = fopen(s.opts.record_path, "a");
		if (s.record == NULL) {
			fprintf(stderr, SIM_NAME ": --record: cannot open %s: %s\n",
				s.opts.record_path, strerror(errno));
			goto out;
		}
	}

	if (sim_install_signals() != 0) {
		fprintf(stderr, SIM_NAME ": cannot install signal handlers: %s\n", strerror(errno));
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, SIM_NAME ": curl_global_init failed\n");
		goto out;
	}
	curl_ready = true;
	if (sim_send_all(&s) != 0)
		goto out;
	status = SIM_EXIT_OK;
out:
	if (s.record != NULL && fclose(s.record) != 0) {
		fprintf(stderr, SIM_NAME ": --record: cannot write %s: %s\n", s.opts.record_path,
			strerror(errno));
		status = SIM_EXIT_ERRORS;
	}
	errors = s.stats.http_errors + s.stats.conn_errors;
	if (status == SIM_EXIT_OK && errors != 0)
		status = SIM_EXIT_ERRORS;
	if (printf(SIM_NAME ": sent %" PRIu64 ", 2xx %" PRIu64 ", errors %" PRIu64 " (http %" PRIu64
			    ", connection %" PRIu64 ")\n",
		   s.stats.sent, s.stats.ok, errors, s.stats.http_errors,
		   s.stats.conn_errors) < 0 ||
	    fflush(stdout) != 0)
		status = SIM_EXIT_ERRORS;
	if (curl_ready)
		curl_global_cleanup();
	return status;
}
