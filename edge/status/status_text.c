/* status_text.c -- the /status document as a few lines of text for a terminal. */
#include "status_cli.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

/* The number at obj.key, or `otherwise` when missing or null. */
static double st_num(const cJSON *obj, const char *key, double otherwise)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(item) ? item->valuedouble : otherwise;
}

/* The string at obj.key, or "" when missing. */
static const char *st_str(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(item) ? item->valuestring : "";
}

const char *status_text_count(double n, char *out, size_t cap)
{
	char digits[32];
	size_t len, used = 0;
	int neg = n < 0;

	if (cap == 0)
		return out;
	snprintf(digits, sizeof(digits), "%.0f", fabs(n) < 1e18 ? fabs(n) : 1e18);
	len = strlen(digits);
	if (neg && used + 1 < cap)
		out[used++] = '-';
	for (size_t i = 0; i < len && used + 1 < cap; i++) {
		if (i > 0 && (len - i) % 3 == 0) {
			out[used++] = ' ';
			if (used + 1 >= cap)
				break;
		}
		out[used++] = digits[i];
	}
	out[used] = '\0';
	return out;
}

const char *status_text_duration(double seconds, char *out, size_t cap)
{
	long long s = seconds < 1e15 ? (long long)seconds : (long long)1e15;

	if (!(seconds >= 0))
		snprintf(out, cap, "-");
	else if (s < 60)
		snprintf(out, cap, "%llds", s);
	else if (s < 3600)
		snprintf(out, cap, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, cap, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, cap, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	return out;
}

/* Bytes with a unit, powers of 1000 as in the configuration: "512 B", "2.1 kB". */
static const char *st_bytes(double n, char *out, size_t cap)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	size_t u = 0;

	while (n >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		n /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, cap, "%.0f B", n);
	else
		snprintf(out, cap, "%.1f %s", n, units[u]);
	return out;
}

int status_text_exit(const cJSON *status)
{
	const cJSON *uplink = cJSON_GetObjectItemCaseSensitive(status, "uplink");

	return strcmp(st_str(uplink, "state"), "ok") == 0 ? STATUS_CLI_OK : STATUS_CLI_FAILING;
}

/* What is wrong, in words, from the uplink's state and last error class. */
static const char *st_problem(const cJSON *uplink)
{
	static const char *const words[][2] = {
	    {"network", "InfluxDB unreachable"},
	    {"timeout", "InfluxDB not answering in time"},
	    {"server", "InfluxDB answers with server errors"},
	    {"throttled", "InfluxDB throttles the uplink"},
	    {"auth", "InfluxDB refuses the credentials"},
	    {"not_found", "InfluxDB database or bucket not found"},
	    {"storage", "the buffer cannot be read"},
	};
	const char *cls = st_str(uplink, "last_error_class");

	if (strcmp(st_str(uplink, "state"), "authentication failed") == 0)
		return "InfluxDB refuses the credentials";
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(cls, words[i][0]) == 0)
			return words[i][1];
	return "requests to InfluxDB fail";
}

/* The first line: the state, the backlog and how old it is. */
static void st_state_line(const cJSON *status, FILE *out)
{
	const cJSON *buffer = cJSON_GetObjectItemCaseSensitive(status, "buffer");
	const cJSON *uplink = cJSON_GetObjectItemCaseSensitive(status, "uplink");
	double points = st_num(buffer, "points", 0);
	char n[40], age[32], eta[32], since[32];

	status_text_count(points, n, sizeof(n));
	status_text_duration(st_num(buffer, "oldest_age_s", 0), age, sizeof(age));
	if (status_text_exit(status) == STATUS_CLI_FAILING) {
		/* failing since the last success, or since start-up if none */
		status_text_duration(
		    st_num(uplink, "last_success_age_s", st_num(status, "uptime_s", -1)), since,
		    sizeof(since));
		fprintf(out, "FAILING: %s for %s, backlog %s point%s", st_problem(uplink), since, n,
			points == 1 ? "" : "s");
	} else {
		fprintf(out, "OK: forwarding, backlog %s point%s", n, points == 1 ? "" : "s");
	}
	if (points > 0) {
		double drain = st_num(uplink, "backlog_drain_s", -1);

		fprintf(out, " (oldest %s", age);
		if (drain >= 0)
			fprintf(out, ", empty in ~%s",
				status_text_duration(ceil(drain), eta, sizeof(eta)));
		fputc(')', out);
	}
	fputc('\n', out);
}

static void st_buffer_line(const cJSON *status, FILE *out)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(status, "buffer");
	char n[40], bytes[32], file[32], dropped[40], rejected[40];

	fprintf(out, "buffer:     %s points (%s), file %s; dropped %s, rejected %s\n",
		status_text_count(st_num(b, "points", 0), n, sizeof(n)),
		st_bytes(st_num(b, "bytes", 0), bytes, sizeof(bytes)),
		st_bytes(st_num(b, "file_bytes", 0), file, sizeof(file)),
		status_text_count(st_num(b, "dropped", 0), dropped, sizeof(dropped)),
		status_text_count(st_num(b, "rejected", 0), rejected, sizeof(rejected)));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "quarantined")))
		fprintf(out, "            a corrupt buffer was moved aside at start-up "
			     "(see the log)\n");
}

static void st_ingest_line(const cJSON *status, FILE *out)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(status, "ingest");
	const cJSON *item;
	char n[40], p[40];
	const char *sep = "";

	fprintf(out, "ingest:     %s requests, %s points;",
		status_text_count(st_num(in, "requests", 0), n, sizeof(n)),
		status_text_count(st_num(in, "points", 0), p, sizeof(p)));
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(in, "endpoints"))
	{
		fprintf(out, " %s %s/%s", item->string,
			status_text_count(st_num(item, "requests", 0), n, sizeof(n)),
			status_text_count(st_num(item, "points", 0), p, sizeof(p)));
	}
	fprintf(out, " (requests/points)\n            answers:");
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(in, "answers"))
	{
		fprintf(
		    out, "%s %s x%s", sep, item->string,
		    status_text_count(cJSON_IsNumber(item) ? item->valuedouble : 0, n, sizeof(n)));
		sep = ",";
	}
	fprintf(out, "%s\n", *sep ? "" : " none");
}

static void st_uplink_line(const cJSON *status, FILE *out)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(status, "uplink");
	char n[40], raw[32], sent[32], ago[32];
	double ok = st_num(u, "requests_ok", 0);

	fprintf(out, "uplink:     %s; %s points sent in %.0f request%s (%s, %s on the wire)",
		st_str(u, "state"), status_text_count(st_num(u, "points_sent", 0), n, sizeof(n)),
		ok, ok == 1 ? "" : "s", st_bytes(st_num(u, "bytes_raw", 0), raw, sizeof(raw)),
		st_bytes(st_num(u, "bytes_sent", 0), sent, sizeof(sent)));
	if (st_num(u, "last_success_age_s", -1) >= 0)
		fprintf(out, "; last success %s ago",
			status_text_duration(st_num(u, "last_success_age_s", 0), ago, sizeof(ago)));
	fputc('\n', out);
	if (st_num(u, "last_error_age_s", -1) >= 0)
		fprintf(out, "            last error %s ago (%s, %.0f in a row now): %s\n",
			status_text_duration(st_num(u, "last_error_age_s", 0), ago, sizeof(ago)),
			st_str(u, "last_error_class"), st_num(u, "consecutive_failures", 0),
			st_str(u, "last_error"));
}

/* With several targets, one line each: state, backlog, sent; which holds the buffer. */
static void st_target_lines(const cJSON *status, FILE *out)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(status, "uplinks");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(status, "buffer");
	const char *held = st_str(b, "held_by");
	const char *head = "targets:    ";
	const cJSON *t;
	char n[40], sent[40], age[32];

	if (cJSON_GetArraySize(list) < 2)
		return; /* one target: the uplink line says it all */
	cJSON_ArrayForEach(t, list)
	{
		double backlog = st_num(t, "backlog_points", 0);
		int ok = strcmp(st_str(t, "state"), "ok") == 0;

		fprintf(out, "%s%s: %s", head, st_str(t, "name"), st_str(t, "state"));
		if (!ok)
			fprintf(out, " (%s)", st_str(t, "last_error_class"));
		fprintf(out, ", backlog %s point%s", status_text_count(backlog, n, sizeof(n)),
			backlog == 1 ? "" : "s");
		if (backlog > 0)
			fprintf(
			    out, " (oldest %s)",
			    status_text_duration(st_num(t, "oldest_age_s", 0), age, sizeof(age)));
		fprintf(out, ", %s sent",
			status_text_count(st_num(t, "points_sent", 0), sent, sizeof(sent)));
		if (*held && strcmp(held, st_str(t, "name")) == 0)
			fprintf(out, "; holds the buffer");
		fputc('\n', out);
		head = "            ";
	}
}

static void st_collector_lines(const cJSON *status, FILE *out)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(status, "collectors");
	const cJSON *c;
	const char *head = "collectors: ";
	char every[32], ago[32];

	if (cJSON_GetArraySize(list) == 0) {
		fprintf(out, "collectors: none\n");
		return;
	}
	cJSON_ArrayForEach(c, list)
	{
		double age = st_num(c, "last_run_age_s", -1);

		fprintf(out,
			"%s%s (%s, every %s): %.0f runs, %.0f points, %.0f skipped, %.0f errors",
			head, st_str(c, "name"), st_str(c, "type"),
			status_text_duration(st_num(c, "interval_s", 0), every, sizeof(every)),
			st_num(c, "runs", 0), st_num(c, "points", 0), st_num(c, "skipped", 0),
			st_num(c, "errors", 0));
		if (age >= 0)
			fprintf(out, ", last run %s ago",
				status_text_duration(age, ago, sizeof(ago)));
		if (*st_str(c, "last_error"))
			fprintf(out, "; last error: %s", st_str(c, "last_error"));
		fputc('\n', out);
		head = "            ";
	}
}

/* One line per MQTT broker; nothing without brokers. */
static void st_mqtt_lines(const cJSON *status, FILE *out)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(status, "mqtt");
	const cJSON *m;
	const char *head = "mqtt:       ";

	cJSON_ArrayForEach(m, list)
	{
		fprintf(out, "%s%s (%s): %.0f messages, %.0f points, %.0f refused, %.0f reconnects",
			head, st_str(m, "name"),
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "connected"))
			    ? "connected"
			    : "not connected",
			st_num(m, "messages", 0), st_num(m, "points", 0), st_num(m, "refused", 0),
			st_num(m, "reconnects", 0));
		if (*st_str(m, "last_error"))
			fprintf(out, "; last error: %s", st_str(m, "last_error"));
		fputc('\n', out);
		head = "            ";
	}
}

int status_text_print(const cJSON *status, FILE *out)
{
	st_state_line(status, out);
	st_buffer_line(status, out);
	st_ingest_line(status, out);
	st_uplink_line(status, out);
	st_target_lines(status, out);
	st_collector_lines(status, out);
	st_mqtt_lines(status, out);
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(status, "edge")))
		fprintf(out, "edge:       %s (iot-edge %s)\n", st_str(status, "edge"),
			st_str(status, "version"));
	return status_text_exit(status);
}
