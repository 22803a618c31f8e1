/* collect_edge.c -- the `edge` collector: the daemon's own figures as one iot_edge point. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "collect_internal.h"
#include "point.h"
#include "procio.h"

/* Resident memory in bytes from /proc/self/statm (second number, in pages). */
static int edge_rss(double *out)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	int rc = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
		long page = sysconf(_SC_PAGESIZE);
		*out = (double)resident * (double)(page > 0 ? page : 4096);
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* Free bytes for unprivileged users on the filesystem of the buffer file. */
static int edge_disk_free(const char *buffer_path, double *out)
{
	char dir[4096];
	struct statvfs vfs;
	const char *slash = buffer_path ? strrchr(buffer_path, '/') : NULL;

	if (!buffer_path)
		return -1;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == buffer_path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - buffer_path), buffer_path);
	if (statvfs(dir, &vfs) != 0)
		return -1;
	*out = (double)vfs.f_bavail * (double)vfs.f_frsize;
	return 0;
}

/* With several delivery targets one more point each, tagged target=NAME:
 * its backlog, its oldest pending point's age, what it acknowledged, ok. */
static int collect_edge_targets(struct collect_item *it, const struct collect_edge_figures *e,
				int64_t ts_ns, struct lineproto_buf *out, char *why,
				size_t why_size)
{
	for (size_t i = 0; i < e->target_count; i++) {
		const struct collect_edge_target *t = &e->targets[i];
		const char *own[] = {"target", t->name, NULL};
		double age = t->backlog_points > 0 && t->oldest_ns > 0 && ts_ns > t->oldest_ns
				 ? (double)(ts_ns - t->oldest_ns) / 1e9
				 : 0;
		struct point_field f[] = {
		    {.key = "target_backlog_points",
		     .value = (double)t->backlog_points,
		     .integer = true},
		    {.key = "target_oldest_age_s", .value = age},
		    {.key = "target_points_sent", .value = (double)t->points_sent, .integer = true},
		    {.key = "target_ok", .value = t->ok, .integer = true},
		};
		int rc = point_build(out, it->cfg.measurement, own, it->cfg.tags, f,
				     sizeof(f) / sizeof(f[0]), ts_ns);

		if (rc != LINEPROTO_OK) {
			snprintf(why, why_size, "cannot build the iot_edge point of target %s (%d)",
				 t->name, rc);
			return -1;
		}
	}
	return 0;
}

int collect_edge_read(struct collect_item *it, int64_t ts_ns, struct lineproto_buf *out, char *why,
		      size_t why_size)
{
	const struct collect_sources *src = &it->owner->src;
	struct collect_edge_figures e = {0};
	double rss = 0, load[1] = {0}, disk = 0;
	double age = 0;

	if (src->figures)
		src->figures(src->figures_arg, &e);
	if (e.buffer_points > 0 && e.buffer_oldest_ns > 0 && ts_ns > e.buffer_oldest_ns)
		age = (double)(ts_ns - e.buffer_oldest_ns) / 1e9;
	/* A figure the system does not give is left out, not invented. */
	bool have_rss = edge_rss(&rss) == 0;
	bool have_load = getloadavg(load, 1) == 1;
	bool have_disk = edge_disk_free(src->buffer_path, &disk) == 0;
	uint64_t written_bytes = 0;
	bool have_written = procio_write_bytes(&written_bytes) == 0;

	struct point_field f[30];
	size_t n = 0;
#define EDGE_INT(k, v)                                                                             \
	f[n++] = (struct point_field){.key = k, .value = (double)(v), .integer = true}
	EDGE_INT("buffer_points", e.buffer_points);
	EDGE_INT("buffer_bytes", e.buffer_bytes);
	f[n++] = (struct point_field){.key = "buffer_oldest_age_s", .value = age};
	EDGE_INT("points_received", e.points_received);
	EDGE_INT("points_stored", e.points_stored);
	EDGE_INT("points_sent", e.points_sent);
	EDGE_INT("points_rejected", e.points_rejected);
	EDGE_INT("points_dropped", e.points_dropped);
	EDGE_INT("uplink_ok", e.uplink_ok);
	EDGE_INT("uplink_consecutive_failures", e.uplink_consecutive_failures);
	/* /status's uplink state as a number: 0 ok, 1 failing, 2 authentication failed. */
	EDGE_INT("uplink_state", e.uplink_auth_failed ? 2 : e.uplink_ok ? 0 : 1);
	if (have_rss)
		EDGE_INT("rss_bytes", rss);
	if (have_load)
		f[n++] = (struct point_field){.key = "load1", .value = load[0]};
	if (have_disk)
		EDGE_INT("disk_free_bytes", disk);
	if (have_written)
		EDGE_INT("disk_write_bytes", written_bytes);
	EDGE_INT("collector_errors", collect_errors_total(it->owner));
	if (e.mqtt_brokers > 0) {
		EDGE_INT("mqtt_connected", e.mqtt_connected);
		EDGE_INT("mqtt_messages", e.mqtt_messages);
		EDGE_INT("mqtt_points", e.mqtt_points);
		EDGE_INT("mqtt_refused", e.mqtt_refused);
		EDGE_INT("mqtt_reconnects", e.mqtt_reconnects);
	}
	if (e.spill_mode) { /* buffer.write = spill */
		EDGE_INT("points_direct", e.points_direct);
		EDGE_INT("points_spilled", e.points_spilled);
	}
#undef EDGE_INT

	int rc = point_build(out, it->cfg.measurement, NULL, it->cfg.tags, f, n, ts_ns);
	if (rc != LINEPROTO_OK) {
		snprintf(why, why_size, "cannot build the iot_edge point (%d)", rc);
		return -1;
	}
	if (collect_edge_targets(it, &e, ts_ns, out, why, why_size) != 0)
		return -1;
	return 1 + (int)e.target_count;
}
