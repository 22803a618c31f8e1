/* main.c -- iot-edge: command line, start-up, the signal loop and an orderly shutdown. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "collect.h"
#include "config.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "reload.h"
#include "sdnotify.h"
#include "readings.h"
#include "spill.h"
#include "status.h"
#include "status_cli.h"
#include "storage.h"
#include "tags_config.h"
#include "udp.h"
#include "mqtt.h"
#include "uplink.h"
#include "watchdog.h"

#define MOD "main"
#define DEFAULT_CONFIG "/etc/iot-edge/iot-edge.conf"
#define STATS_EVERY_SECONDS 10
#define STATUS_EVERY_MS 5000u /* systemd: one STATUS= line this often */
/* The watchdog's patience beyond a step's own bound: an uplink step (one
 * request) longer than uplink.timeout plus this counts as stuck. */
#define UPLINK_STUCK_SLACK_MS (120u * 1000u)
/* One storage writer step (a group commit) longer than this counts as stuck. */
#define WRITER_STUCK_MS (120u * 1000u)

static void usage(FILE *out)
{
	fprintf(out, "Usage: iot-edge [-c FILE] [-n] [--version] [--help]\n"
		     "       iot-edge status [-c FILE] [--url URL] [--json]  (see status --help)\n"
		     "\n"
		     "Store-and-forward edge aggregator: takes readings over HTTP, makes each one\n"
		     "durable in a SQLite buffer before acknowledging it, and forwards the buffer\n"
		     "to InfluxDB, retrying until InfluxDB has every reading.\n"
		     "\n"
		     "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG
		     ", used when present)\n"
		     "  -n, --check        check the configuration, print what is wrong, and exit\n"
		     "  -V, --version      print the version and exit\n"
		     "  -h, --help         print this help and exit\n"
		     "\n"
		     "Settings (file section and key, environment variable that overrides it):\n");
	config_print_help(out);
	fprintf(out,
		"\n"
		"Collectors (local readings) are [collector.NAME] sections of the file with\n"
		"the keys type, enabled, interval, measurement, tags, path, scale, offset,\n"
		"field, command, shell, timeout and env (see iot-edge.conf(5)); the\n"
		"environment sets them as IOT_EDGE_COLLECTOR_<NAME>_<KEY>, e.g.\n"
		"IOT_EDGE_COLLECTOR_EDGE_ENABLED=false turns off the daemon's own figures.\n"
		"\n"
		"Several delivery targets are [uplink.NAME] sections of the file, each with the\n"
		"keys of [uplink] (see TARGETS in iot-edge.conf(5)); a reading leaves the buffer\n"
		"once every target has it. [uplink] alone is the target named \"default\".\n"
		"\n"
		"Tags added to every point are the free keys of the [tags] section (key =\n"
		"value; the environment sets them as IOT_EDGE_TAGS_<KEY>, e.g.\n"
		"IOT_EDGE_TAGS_SITE=farm); a point that has the tag keeps its own value.\n");
}

/* UDP carries no token: with http.token set, a UDP port others can reach
 * would let anyone write what HTTP refuses them. Returns the problems. */
static int check_udp_allow(const struct edge_config *cfg, FILE *errors)
{
	struct sockaddr_storage addr;
	socklen_t len;
	const char *why;

	if (!*cfg->http_token || !*cfg->udp_listen ||
	    *(cfg->udp_allow + strspn(cfg->udp_allow, " \t")) ||
	    addr_parse_listen(cfg->udp_listen, &addr, &len, &why) != 0 || addr_is_loopback(&addr))
		return 0;
	fprintf(errors,
		"[udp] allow: must be set when http.token is set and udp.listen (%s) is not a "
		"loopback address: UDP has no token, so anyone who can reach the port could write "
		"readings; list the senders (e.g. allow = 192.168.1.0/24) or listen on "
		"127.0.0.1\n",
		cfg->udp_listen);
	return 1;
}

/* Settings each in their own range that do not fit together (or with a
 * fixed limit of another part), printed to `errors`. Returns the number of
 * problems. */
static int check_limits(const struct edge_config *cfg, FILE *errors)
{
	int problems = 0;

	/* main leaves storage_options.max_queued_points at its default. */
	if (cfg->http_max_points > STORAGE_QUEUE_POINTS_DEFAULT) {
		fprintf(errors,
			"[http] max_points: %llu is more than one request can store: the "
			"buffer's write queue holds %d points (set http.max_points to %d or "
			"less)\n",
			(unsigned long long)cfg->http_max_points, STORAGE_QUEUE_POINTS_DEFAULT,
			STORAGE_QUEUE_POINTS_DEFAULT);
		problems++;
	}
	problems += check_udp_allow(cfg, errors);
	return problems;
}

/* Defaults, then the file, then the environment, then how the settings fit
 * together. Returns the number of problems. */
static int load_config(struct edge_config *cfg, const char *path, bool path_given)
{
	int problems = 0;
	config_init(cfg);
	if (path_given || access(path, F_OK) == 0)
		problems += config_load_file(cfg, path, stderr);
	problems += config_load_env(cfg, stderr);
	if (problems == 0)
		problems += tags_config_finish(cfg, stderr);
	problems += uplink_config_check(cfg, stderr);
	if (problems == 0)
		problems += check_limits(cfg, stderr);
	return problems;
}

/* --- the targets: [uplink] alone, or one [uplink.NAME] each ----------------- */

/* The delivery targets of a configuration, in the order of the file. */
struct targets {
	size_t n;
	const char *names[UPLINK_CONFIG_MAX];
	const struct edge_config *keys[UPLINK_CONFIG_MAX]; /* whose uplink_* keys */
	struct uplink *uplinks[UPLINK_CONFIG_MAX];
};

static void targets_from_config(const struct edge_config *cfg, struct targets *t)
{
	memset(t, 0, sizeof(*t));
	if (cfg->uplinks.n == 0) {
		t->n = 1;
		t->names[0] = UPLINK_CONFIG_DEFAULT_NAME;
		t->keys[0] = cfg;
		return;
	}
	for (size_t i = 0; i < cfg->uplinks.n && i < UPLINK_CONFIG_MAX; i++) {
		t->names[t->n] = cfg->uplinks.items[i].name;
		t->keys[t->n] = cfg->uplinks.items[i].keys;
		t->n++;
	}
}

/* Start one uplink per target. Returns 0, or -1 (those started are in t). */
static int targets_start(struct targets *t, struct storage *storage)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct edge_config *k = t->keys[i];
		struct uplink_options uo = {
		    .name = t->names[i],
		    .api = k->uplink_api == CONFIG_API_V1 ? UPLINK_API_V1 : UPLINK_API_V2,
		    .url = k->uplink_url,
		    .database = k->uplink_database,
		    .retention_policy = k->uplink_retention_policy,
		    .username = k->uplink_username,
		    .password = k->uplink_password,
		    .org = k->uplink_org,
		    .bucket = k->uplink_bucket,
		    .token = k->uplink_token,
		    .create_database = k->uplink_create_database,
		    .gzip = k->uplink_gzip,
		    .ca_file = k->uplink_ca_file,
		    .insecure_skip_verify = k->uplink_insecure_skip_verify,
		    .batch_points = k->uplink_batch_points,
		    .batch_bytes = k->uplink_batch_bytes,
		    .flush_interval_ms = (uint32_t)k->uplink_flush_interval_ms,
		    .retry_initial_ms = (uint32_t)k->uplink_retry_initial_ms,
		    .retry_max_ms = (uint32_t)k->uplink_retry_max_ms,
		    .timeout_ms = (uint32_t)k->uplink_timeout_ms,
		};
		if (uplink_start(&uo, storage, &t->uplinks[i]) != 0) {
			log_error(MOD, "cannot start the uplink of target \"%s\"", t->names[i]);
			return -1;
		}
	}
	return 0;
}

/* Stop every uplink started (reverse order). */
static void targets_stop(struct targets *t)
{
	for (size_t i = t->n; i > 0; i--) {
		uplink_stop(t->uplinks[i - 1]);
		t->uplinks[i - 1] = NULL;
	}
}

/* Whether every target's points may be unsigned integers (v2 everywhere). */
static bool targets_unsigned_ok(const struct targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->keys[i]->uplink_api != CONFIG_API_V2)
			return false;
	return true;
}

/* Every target's uplink counters added up (failures: the most of any). */
static void targets_get_stats(const struct targets *t, struct uplink_stats *sum)
{
	uplink_get_stats(t->uplinks[0], sum);
	for (size_t i = 1; i < t->n; i++) {
		struct uplink_stats u;

		uplink_get_stats(t->uplinks[i], &u);
		sum->points_sent += u.points_sent;
		sum->requests_failed += u.requests_failed;
		if (u.consecutive_failures > sum->consecutive_failures)
			sum->consecutive_failures = u.consecutive_failures;
	}
}

static void log_stats(struct storage *st, struct http_server *http, const struct targets *t)
{
	static struct http_stats last_http;
	static struct uplink_stats last_up;
	struct storage_stats s;
	struct http_stats h;
	struct uplink_stats u;

	storage_get_stats(st, &s);
	http_get_stats(http, &h);
	targets_get_stats(t, &u);
	if (h.requests == last_http.requests && u.points_sent == last_up.points_sent &&
	    u.requests_failed == last_up.requests_failed)
		return;
	log_info(MOD,
		 "received %llu points (%llu requests, %llu rejected) | buffered %llu points | "
		 "sent %llu points to InfluxDB%s",
		 (unsigned long long)(h.points - last_http.points),
		 (unsigned long long)(h.requests - last_http.requests),
		 (unsigned long long)(h.client_errors + h.server_errors - last_http.client_errors -
				      last_http.server_errors),
		 (unsigned long long)s.points,
		 (unsigned long long)(u.points_sent - last_up.points_sent),
		 u.consecutive_failures ? " | InfluxDB unreachable, retrying" : "");
	last_http = h;
	last_up = u;
}

/* --- systemd: status, watchdog, reload ------------------------------------- */

/* One STATUS= line for `systemctl status`: the backlog and the uplink's state. */
static void notify_status(struct storage *st, const struct targets *t)
{
	struct storage_stats s;
	struct uplink_stats u;
	char text[200];
	long long age_s = 0;

	storage_get_stats(st, &s);
	targets_get_stats(t, &u);
	if (s.points > 0 && s.oldest_received_ns > 0) {
		long long now_s = (long long)(clock_wall_ns() / 1000000000);
		age_s = now_s - (long long)(s.oldest_received_ns / 1000000000);
		if (age_s < 0)
			age_s = 0;
	}
	snprintf(text, sizeof(text), "backlog %llu points (oldest %llds) | sent %llu | %s",
		 (unsigned long long)s.points, age_s, (unsigned long long)u.points_sent,
		 u.consecutive_failures ? "InfluxDB unreachable, retrying" : "InfluxDB ok");
	sdnotify_status(text);
}

static uint64_t storage_heartbeat_fn(void *arg)
{
	return storage_heartbeat_ms(arg);
}

static uint64_t uplink_heartbeat_fn(void *arg)
{
	return uplink_heartbeat_ms(arg);
}

/*
 * Register the threads whose progress the watchdog checks; the main thread
 * is checked by construction (it sends the pings). A stuck storage writer or
 * uplink stops the pings and systemd restarts iot-edge.
 */
static void watchdog_register_threads(struct watchdog *wd, struct storage *st,
				      const struct targets *t)
{
	if (watchdog_add(wd, "storage writer", storage_heartbeat_fn, st, WRITER_STUCK_MS) != 0)
		log_error(MOD, "cannot watch the storage writer thread");
	for (size_t i = 0; i < t->n; i++)
		if (watchdog_add(wd, t->n == 1 ? "uplink" : t->names[i], uplink_heartbeat_fn,
				 t->uplinks[i],
				 t->keys[i]->uplink_timeout_ms + UPLINK_STUCK_SLACK_MS) != 0)
			log_error(MOD, "cannot watch the uplink thread of target \"%s\"",
				  t->names[i]);
}

/* Send WATCHDOG=1 when one is due, but only while no watched thread is stuck. */
static void ping_watchdog_if_threads_alive(struct watchdog *wd)
{
	if (watchdog_due(wd, (uint64_t)clock_mono_ms()))
		sdnotify_watchdog();
}

/* SIGHUP: read the file and the environment again, apply what is safe. */
static void reload_config(struct edge_config *cfg, const char *path, bool path_given)
{
	struct edge_config fresh;
	int problems;

	log_info(MOD, "SIGHUP: reloading the configuration");
	sdnotify_reloading();
	problems = load_config(&fresh, path, path_given);
	if (problems)
		log_error(MOD,
			  "%d problem%s in the configuration (see above): keeping the running one",
			  problems, problems == 1 ? "" : "s");
	else
		reload_apply(cfg, &fresh);
	config_cleanup(&fresh);
	sdnotify_ready();
}

/* Serve until SIGTERM or SIGINT; SIGHUP reloads (from `path`). The signals
 * are blocked in every thread and taken here synchronously, so no handler
 * runs anywhere. */
static int run(struct edge_config *cfg, const sigset_t *signals, const char *path, bool path_given)
{
	struct storage *storage = NULL;
	struct http_server *http = NULL;
	struct udp_listener *udp = NULL;
	struct mqtt_clients *mqtt = NULL;
	struct uplink *uplink = NULL; /* the first target's */
	struct targets targets;
	struct collect *collect = NULL;
	struct readings *readings = NULL;  /* recorded into by every door until storage_close() */
	struct ingest_spill *spill = NULL; /* buffer.write = spill */
	struct watchdog wd;
	struct status_sources status_sources = {0}; /* read by GET /status until http_stop() */
	int status = EXIT_FAILURE;
	char *collect_tags = tags_config_collect(cfg); /* the name tag, then [tags] */

	targets_from_config(cfg, &targets);
	struct storage_options so = {
	    .path = cfg->buffer_path,
	    .targets = targets.names,
	    .target_count = targets.n,
	    .durability = cfg->buffer_durability == CONFIG_DURABILITY_FULL
			      ? STORAGE_DURABILITY_FULL
			      : STORAGE_DURABILITY_NORMAL,
	    .max_size = cfg->buffer_max_size,
	    .min_free_disk = cfg->buffer_min_free_disk,
	    .full_policy = cfg->buffer_full_policy == CONFIG_FULL_DROP_OLDEST
			       ? STORAGE_FULL_DROP_OLDEST
			       : STORAGE_FULL_REJECT_NEW,
	};
	if (!collect_tags) {
		log_error(MOD, "out of memory");
		goto out;
	}
	int rc = storage_open(&so, &storage);
	if (rc != STORAGE_OK) {
		log_error(MOD, "cannot open the buffer %s: %s", cfg->buffer_path,
			  storage_strerror(rc));
		goto out;
	}
	if (readings_create(&readings) != 0) {
		log_error(MOD, "out of memory");
		goto out;
	}
	ingest_set_readings(readings);
	if (targets_start(&targets, storage) != 0)
		goto out;
	uplink = targets.uplinks[0];
	/* buffer.write = spill: every producer's door offers to the uplinks first. */
	if (cfg->buffer_write == CONFIG_WRITE_SPILL) {
		if (ingest_spill_start(storage, targets.uplinks, targets.n,
				       (uint32_t)cfg->buffer_spill_after_ms, &spill) != 0)
			goto out;
		ingest_spill_install(spill);
	}
	/* UDP before HTTP: /status (the HTTP thread) reads the listener, which
	 * is then published by the HTTP thread's creation, not shared mid-run. */
	if (cfg->udp_listen && *cfg->udp_listen) {
		struct udp_options udo = {.listen = cfg->udp_listen,
					  .max_line = (size_t)cfg->http_max_line,
					  .unsigned_ok = targets_unsigned_ok(&targets),
					  .max_tags = (size_t)cfg->http_max_tags,
					  .max_fields = (size_t)cfg->http_max_fields,
					  .tags = cfg->edge_tag_all_points ? collect_tags
									   : cfg->global_tags,
					  .allow = cfg->udp_allow};
		if (udp_start(&udo, storage, &udp) != 0)
			goto out;
	}
	if (mqtt_start(cfg->mqtt.items, cfg->mqtt.n, storage,
		       cfg->edge_tag_all_points ? collect_tags : cfg->global_tags, &mqtt) != 0)
		goto out;
	status_sources = (struct status_sources){.storage = storage,
						 .uplink = uplink,
						 .uplinks = targets.uplinks,
						 .uplink_count = targets.n,
						 .spill = spill,
						 .started_ms = clock_mono_ms(),
						 .config = cfg,
						 .udp = udp,
						 .mqtt = mqtt,
						 .readings = readings};
	struct http_options ho = {
	    .listen = cfg->http_listen,
	    .max_body = (size_t)cfg->http_max_body,
	    .max_points = (size_t)cfg->http_max_points,
	    .max_line = (size_t)cfg->http_max_line,
	    .max_connections = (unsigned)cfg->http_max_connections,
	    .max_connections_per_ip = (unsigned)cfg->http_max_connections_per_ip,
	    .max_inflight = (size_t)cfg->http_max_inflight,
	    .max_tags = (size_t)cfg->http_max_tags,
	    .max_fields = (size_t)cfg->http_max_fields,
	    .threads = (unsigned)cfg->http_threads,
	    .connection_timeout_ms = (unsigned)cfg->http_connection_timeout_ms,
	    .token = cfg->http_token,
	    .unsigned_ok = targets_unsigned_ok(&targets),
	    .tags = cfg->edge_tag_all_points ? collect_tags : cfg->global_tags,
	    .page = status_page,
	    .page_arg = &status_sources,
	    .allow = cfg->http_allow,
	    .allow_origins = cfg->http_allow_origins,
	};
	if (http_start(&ho, storage, &http) != 0)
		goto out;
	status_sources.http = http; /* before the collectors read it */
	struct collect_sources cs = {
	    .storage = storage,
	    .figures = status_edge_figures,
	    .figures_arg = &status_sources,
	    .buffer_path = cfg->buffer_path,
	    .unsigned_ok = targets_unsigned_ok(&targets),
	    .tags = collect_tags,
	};
	if (collect_start(cfg->collectors.items, cfg->collectors.n, cfg->collect_sysfs_root, &cs,
			  &collect) != 0)
		goto out;
	/* GET /status may be reading status_sources on the HTTP thread already. */
	status_set_collect(&status_sources, collect);

	/* Where the points go is the uplink's start-up line (without credentials). */
	log_info(MOD,
		 "iot-edge %s ready: edge %s, buffer %s (durability %s, write %s), %zu collector%s",
		 IOT_EDGE_VERSION, cfg->edge_name, cfg->buffer_path,
		 cfg->buffer_durability == CONFIG_DURABILITY_FULL ? "full" : "normal",
		 cfg->buffer_write == CONFIG_WRITE_SPILL ? "spill" : "always",
		 collect_count(collect), collect_count(collect) == 1 ? "" : "s");

	sdnotify_ready();
	watchdog_init(&wd, sdnotify_watchdog_usec());
	watchdog_register_threads(&wd, storage, &targets);
	if (wd.period_ms)
		log_info(MOD,
			 "systemd watchdog: pinging every %llu ms while the threads make progress",
			 (unsigned long long)wd.period_ms / 2);
	notify_status(storage, &targets);

	uint64_t last_stats = (uint64_t)clock_mono_ms(), last_status = last_stats;
	for (;;) {
		uint64_t tick = watchdog_tick_ms(&wd, STATUS_EVERY_MS);
		struct timespec wait = {.tv_sec = (time_t)(tick / 1000),
					.tv_nsec = (long)(tick % 1000) * 1000000L};
		int sig = sigtimedwait(signals, NULL, &wait);
		if (sig == SIGHUP) {
			reload_config(cfg, path, path_given);
		} else if (sig > 0) {
			log_info(MOD, "%s: stopping", strsignal(sig));
			break;
		} else if (errno != EAGAIN && errno != EINTR) {
			log_error(MOD, "sigtimedwait: %s", strerror(errno));
			goto out;
		}
		/* Periodic work runs by the clock, whatever woke us. */
		uint64_t now = (uint64_t)clock_mono_ms();
		ping_watchdog_if_threads_alive(&wd);
		if (now - last_status >= STATUS_EVERY_MS) {
			notify_status(storage, &targets);
			last_status = now;
		}
		if (now - last_stats >= STATS_EVERY_SECONDS * 1000u) {
			log_stats(storage, http, &targets);
			last_stats = now;
		}
	}
	status = EXIT_SUCCESS;
out:
	sdnotify_stopping();
	/* Stop collecting (their points committed), answer what was received,
	 * stop forwarding, then commit and checkpoint. */
	status_set_collect(&status_sources, NULL); /* waits for a /status reading them */
	collect_stop(collect);
	http_stop(http);
	udp_stop(udp);
	mqtt_stop(mqtt);
	targets_stop(&targets);
	ingest_spill_stop(spill); /* every hand-off answered, no uplink holds one */
	storage_close(storage);
	free(collect_tags);
	ingest_set_readings(NULL);
	readings_destroy(readings);
	if (status == EXIT_SUCCESS)
		log_info(MOD, "stopped cleanly");
	return status;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'n'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG;
	bool path_given = false, check_only = false;
	int opt;

	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_cli_main(argc - 1, argv + 1);
	while ((opt = getopt_long(argc, argv, "c:nVh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			path_given = true;
			break;
		case 'n':
			check_only = true;
			break;
		case 'V':
			printf("iot-edge %s\n", IOT_EDGE_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iot-edge: unexpected argument \"%s\" (see --help)\n",
			argv[optind]);
		return 2;
	}

	struct edge_config cfg;
	int problems = load_config(&cfg, path, path_given);
	if (problems) {
		fprintf(stderr, "iot-edge: %d problem%s in the configuration\n", problems,
			problems == 1 ? "" : "s");
		config_cleanup(&cfg);
		return EXIT_FAILURE;
	}
	if (check_only) {
		config_print(&cfg, stdout);
		printf("\nconfiguration OK\n");
		config_cleanup(&cfg);
		return EXIT_SUCCESS;
	}
	enum log_level level = (enum log_level)cfg.log_level;
	log_set_level(level);

	/* Block the stop signals before any thread exists, so all inherit the mask. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP); /* not a stop: run() reloads on it */
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Request bodies (up to http.max_body) and their parsed copies go to
	 * mmap and back to the kernel when freed, instead of raising the heap's
	 * high-water mark for good (docs/PERFORMANCE.md: peak RSS). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	int status = run(&cfg, &stop_signals, path, path_given);
	config_cleanup(&cfg);
	return status;
}
