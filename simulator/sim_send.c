/* sim_send.c -- iot-sim's sending engine: paced sender threads, one keep-alive connection each. */
#include "sim.h"

#include <curl/curl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SIM_TS_MAX 40
#define SIM_READING_MAX 160 /* one JSON object, with its comma */
#define SIM_RETRY_DELAY_NS 200000000LL
#define SIM_SLEEP_SLICE_NS 100000000LL
#define SIM_RATE_CATCH_UP_NS 100000000LL /* --rate makes up at most 100 ms of lost time */
#define SIM_VALUE_MIN 20
#define SIM_VALUE_SPAN 15 /* values 20..34, like the seed's bash loop */

atomic_int sim_stop_requested;

/* One reading of a request. */
struct sim_reading {
	int64_t ts_ns;
	uint64_t sensor_id;
	int value;
};

/* One sender thread and its connection. */
struct sim_worker {
	struct sim *s;
	CURL *curl;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	struct sim_reading *readings; /* opts.batch entries */
	char *body;		      /* opts.batch * SIM_READING_MAX + 3 bytes */
	size_t body_cap;
	pthread_t thread;
	bool started;
};

/* A batch of readings claimed for one request. */
struct sim_claim {
	uint64_t first; /* sequence number of the first reading */
	uint64_t count;
	int64_t at_ns; /* CLOCK_MONOTONIC time to send it at */
};

/* Contract in sim.h. */
int64_t sim_now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * SIM_NS_PER_S + ts.tv_nsec;
}

/* The value of reading n: splitmix64 of the seed, the same sequence as one generator per run. */
static int sim_value(uint64_t seed, uint64_t n)
{
	uint64_t z = seed + (n + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return SIM_VALUE_MIN + (int)((z >> 32) % SIM_VALUE_SPAN);
}

/* Nanoseconds since the epoch -> RFC 3339 UTC with nanoseconds. Returns 0 or -1. */
static int sim_format_ts(int64_t ns, char *out, size_t out_size)
{
	struct tm tm;
	time_t secs = (time_t)(ns / SIM_NS_PER_S);
	long frac = (long)(ns % SIM_NS_PER_S);
	char date[32];
	int len;

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

/* --interval: rounds of one reading per device; a batch never spans two rounds. */
static void sim_claim_round(struct sim *s, struct sim_claim *c, int64_t now)
{
	const struct sim_opts *o = &s->opts;
	uint64_t round = c->first / o->devices;
	uint64_t left_in_round = o->devices - c->first % o->devices;

	if (c->count > left_in_round)
		c->count = left_in_round;
	if (round != s->round) {
		/* A slow round delays the next one but never causes a burst. */
		s->next_slot_ns += o->interval_ns * (int64_t)(round - s->round);
		if (s->next_slot_ns < now)
			s->next_slot_ns = now;
		s->round = round;
	}
	c->at_ns = s->next_slot_ns;
}

/* --rate: evenly spaced requests; after a stall at most 100 ms are made up. */
static void sim_claim_rate(struct sim *s, struct sim_claim *c, int64_t now)
{
	int64_t slot = s->next_slot_ns;

	if (slot < now - SIM_RATE_CATCH_UP_NS)
		slot = now - SIM_RATE_CATCH_UP_NS;
	c->at_ns = slot;
	s->next_slot_ns = slot + (int64_t)(c->count * (uint64_t)SIM_NS_PER_S / s->opts.rate);
}

/* Take the next readings to send. Returns false when there are none left. */
static bool sim_claim_next(struct sim *s, struct sim_claim *c)
{
	const struct sim_opts *o = &s->opts;
	int64_t now = sim_now_ns(CLOCK_MONOTONIC);
	bool more = false;

	pthread_mutex_lock(&s->lock);
	if (sim_stop_requested || s->failed || (o->count != 0 && s->next_n >= o->count))
		goto out;
	c->first = s->next_n;
	c->count = o->batch;
	if (o->count != 0 && c->count > o->count - c->first)
		c->count = o->count - c->first;
	if (o->rate != 0)
		sim_claim_rate(s, c, now);
	else
		sim_claim_round(s, c, now);
	s->next_n += c->count;
	more = true;
out:
	pthread_mutex_unlock(&s->lock);
	return more;
}

/* Fill w->readings for claim c and write the request body. Returns its length or -1. */
static int64_t sim_build_body(struct sim_worker *w, const struct sim_claim *c)
{
	struct sim *s = w->s;
	const struct sim_opts *o = &s->opts;
	int64_t live_ns = 0;
	size_t len = 0;
	char ts[SIM_TS_MAX];

	if (!o->ts_start_set) {
		/* Live timestamps, strictly increasing across all threads. */
		pthread_mutex_lock(&s->lock);
		live_ns = sim_now_ns(CLOCK_REALTIME);
		if (live_ns <= s->last_ts_ns)
			live_ns = s->last_ts_ns + 1;
		s->last_ts_ns = live_ns + (int64_t)c->count - 1;
		pthread_mutex_unlock(&s->lock);
	}
	if (c->count > 1)
		w->body[len++] = '[';
	for (uint64_t i = 0; i < c->count; i++) {
		struct sim_reading *r = &w->readings[i];
		uint64_t n = c->first + i;
		int k;

		r->sensor_id = n % o->devices + 1;
		r->value = sim_value(s->seed, n);
		if (o->ts_start_set && n > (uint64_t)((INT64_MAX - o->ts_start_ns) / o->ts_step_ns))
			return -1; /* past the year 2262 */
		r->ts_ns = o->ts_start_set ? o->ts_start_ns + (int64_t)n * o->ts_step_ns
					   : live_ns + (int64_t)i;
		if (sim_format_ts(r->ts_ns, ts, sizeof(ts)) != 0)
			return -1;
		k = snprintf(
		    w->body + len, w->body_cap - len,
		    "%s{\"ts\":\"%s\",\"type\":\"temp\",\"value\":%d,\"sensor_id\":%" PRIu64 "}",
		    i > 0 ? "," : "", ts, r->value, r->sensor_id);
		if (k < 0 || (size_t)k >= w->body_cap - len)
			return -1;
		len += (size_t)k;
	}
	if (c->count > 1)
		w->body[len++] = ']';
	w->body[len] = '\0';
	return (int64_t)len;
}

/* One POST of the body. Returns curl's verdict; *status is the HTTP status (0 if none). */
static CURLcode sim_post(struct sim_worker *w, size_t body_len, long *status)
{
	CURLcode res;

	*status = 0;
	w->errbuf[0] = '\0';
	res = curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
	if (res == CURLE_OK)
		res = curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, w->body);
	if (res == CURLE_OK)
		res = curl_easy_perform(w->curl);
	if (res == CURLE_OK)
		res = curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, status);
	return res;
}

/* The per-request line on stdout and one line per reading in the record file. */
static int sim_report(struct sim_worker *w, const struct sim_claim *c, CURLcode res, long status,
		      uint64_t attempts)
{
	struct sim *s = w->s;
	int out = 0;

	if (!s->opts.quiet) {
		flockfile(stdout);
		if (res != CURLE_OK)
			out = printf("POST %s %s -> error: %s", s->url, w->body,
				     w->errbuf[0] != '\0' ? w->errbuf : curl_easy_strerror(res));
		else
			out = printf("POST %s %s -> %ld", s->url, w->body, status);
		if (out >= 0 && attempts > 1)
			out = printf(" (attempts: %" PRIu64 ")", attempts);
		if (out >= 0)
			out = printf("\n");
		funlockfile(stdout);
	}
	if (out >= 0 && s->record != NULL) {
		flockfile(s->record);
		for (uint64_t i = 0; i < c->count && out >= 0; i++)
			out = fprintf(s->record, "%" PRId64 " %" PRIu64 " %d %ld\n",
				      w->readings[i].ts_ns, w->readings[i].sensor_id,
				      w->readings[i].value, res == CURLE_OK ? status : 0L);
		funlockfile(s->record);
	}
	return out < 0 ? -1 : 0;
}

/* Send one claimed request with retries, count its readings and report them. */
static int sim_send_claim(struct sim_worker *w, const struct sim_claim *c)
{
	struct sim *s = w->s;
	int64_t len = sim_build_body(w, c);
	uint64_t attempts = 0;
	CURLcode res;
	long status;

	if (len < 0) {
		fprintf(stderr, SIM_NAME ": cannot build a reading\n");
		pthread_mutex_lock(&s->lock);
		s->failed = true;
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	for (;;) {
		res = sim_post(w, (size_t)len, &status);
		attempts++;
		/* Only a lost connection or 503 (edge busy / buffer full) is worth a resend. */
		if ((res == CURLE_OK && status != 503) || attempts > s->opts.retries ||
		    sim_stop_requested)
			break;
		sim_sleep_until(sim_now_ns(CLOCK_MONOTONIC) + SIM_RETRY_DELAY_NS);
		if (sim_stop_requested)
			break;
	}

	pthread_mutex_lock(&s->lock);
	s->stats.sent += c->count;
	if (res != CURLE_OK)
		s->stats.conn_errors += c->count;
	else if (status >= 200 && status <= 299)
		s->stats.ok += c->count;
	else
		s->stats.http_errors += c->count;
	pthread_mutex_unlock(&s->lock);

	if (sim_report(w, c, res, status, attempts) != 0) {
		pthread_mutex_lock(&s->lock);
		if (!s->failed)
			s->output_errno = errno;
		s->failed = true;
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	return 0;
}

/* Response bodies are not wanted (and must not land on stdout). */
static size_t sim_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

/* The worker's connection and buffers. Returns 0 or -1; sim_worker_free() either way. */
static int sim_worker_setup(struct sim_worker *w)
{
	const struct sim *s = w->s;
	CURL *c;

	w->body_cap = (size_t)s->opts.batch * SIM_READING_MAX + 3;
	w->body = malloc(w->body_cap);
	w->readings = calloc((size_t)s->opts.batch, sizeof(*w->readings));
	w->headers = curl_slist_append(NULL, "Content-Type: application/json");
	w->curl = curl_easy_init();
	c = w->curl;
	if (w->body == NULL || w->readings == NULL || w->headers == NULL || c == NULL)
		return -1;
	if (curl_easy_setopt(c, CURLOPT_URL, s->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, w->headers) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, SIM_NAME "/" IOT_EDGE_VERSION) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sim_discard) != CURLE_OK)
		return -1;
	return 0;
}

static void sim_worker_free(struct sim_worker *w)
{
	curl_easy_cleanup(w->curl);
	curl_slist_free_all(w->headers);
	free(w->readings);
	free(w->body);
}

/* Thread body: claim, wait for the slot, send, until nothing is left. */
static void *sim_worker_main(void *arg)
{
	struct sim_worker *w = arg;
	struct sim_claim c;

	while (sim_claim_next(w->s, &c)) {
		sim_sleep_until(c.at_ns);
		/* Stopped while waiting: the claimed readings were never sent. */
		if (sim_stop_requested)
			break;
		if (sim_send_claim(w, &c) != 0)
			break;
	}
	return NULL;
}

/* Contract in sim.h. */
int sim_send_all(struct sim *s)
{
	uint64_t n = s->opts.connections;
	struct sim_worker *workers = calloc((size_t)n, sizeof(*workers));
	int rc = -1;
	int err;

	if (workers == NULL) {
		fprintf(stderr, SIM_NAME ": out of memory\n");
		return -1;
	}
	err = pthread_mutex_init(&s->lock, NULL);
	if (err != 0) {
		fprintf(stderr, SIM_NAME ": pthread_mutex_init: %s\n", strerror(err));
		free(workers);
		return -1;
	}
	s->next_slot_ns = sim_now_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++) {
		workers[i].s = s;
		if (sim_worker_setup(&workers[i]) != 0) {
			fprintf(stderr, SIM_NAME ": cannot set up libcurl\n");
			goto out;
		}
	}
	for (uint64_t i = 0; i < n; i++) {
		err = pthread_create(&workers[i].thread, NULL, sim_worker_main, &workers[i]);
		if (err != 0) {
			fprintf(stderr, SIM_NAME ": pthread_create: %s\n", strerror(err));
			pthread_mutex_lock(&s->lock);
			s->failed = true;
			pthread_mutex_unlock(&s->lock);
			break;
		}
		workers[i].started = true;
	}
	rc = 0;
out:
	for (uint64_t i = 0; i < n; i++) {
		if (workers[i].started) {
			err = pthread_join(workers[i].thread, NULL);
			if (err != 0)
				fprintf(stderr, SIM_NAME ": pthread_join: %s\n", strerror(err));
		}
		sim_worker_free(&workers[i]);
	}
	free(workers);
	pthread_mutex_destroy(&s->lock);
	if (rc == 0 && s->failed) {
		if (s->output_errno != 0)
			fprintf(stderr, SIM_NAME ": cannot write the output: %s\n",
				strerror(s->output_errno));
		rc = -1;
	}
	return rc;
}
