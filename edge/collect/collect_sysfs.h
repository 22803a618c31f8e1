/* collect_sysfs.h -- the sysfs readers: CPU temperature, DS18B20 1-wire thermometers and any
 * sysfs/hwmon file. Each reads below a root directory (a fake tree in tests). */
#ifndef IOT_EDGE_COLLECT_SYSFS_H
#define IOT_EDGE_COLLECT_SYSFS_H

#include <stdint.h>

#include "lineproto.h"

/* One run of a reader: what it reads, where the points go, what it counts. */
struct collect_read {
	const char *root; /* collect.sysfs_root: "/" or a test tree; paths are joined to it */
	const char *measurement;   /* of every point */
	const char *extra_tags;	   /* configured tags, checked by point_tags_check() */
	int64_t ts_ns;		   /* the run's grid time: every point's timestamp */
	struct lineproto_buf *out; /* points are appended here (canonical, '\n' each) */
	/* Added to by the reader: */
	uint64_t points;  /* points appended */
	uint64_t skipped; /* readings refused: CRC "NO", 85000 power-on value */
	uint64_t errors;  /* files that could not be read or parsed, no match at all */
	uint64_t buses;	  /* w1: bus masters whose bulk conversion was triggered */
	char error[160];  /* the latest problem with its path, "" when none */
	char note[160];	  /* w1: why a bus was not triggered ("": none); no problem */
};

/* Every /sys/class/thermal/thermal_zone* /temp (millidegrees): one point per
 * zone, tags zone=thermal_zoneN and type=<the zone's type file>, field
 * celsius (float). Returns 0, or -1 only when `out` refused text (ENOMEM,
 * cap); missing or unreadable files are counted in errors. Any thread. */
int collect_cpu_temp(struct collect_read *r);

/* Every /sys/bus/w1/devices/28-* /w1_slave: used only when its first line
 * ends in YES; t= in millidegrees; a reading of exactly 85000 (the power-on
 * value) or a CRC "NO" is skipped and counted. Tag device=28-..., field
 * celsius. First writes "trigger" to every w1_bus_master* /therm_bulk_read,
 * so each bus converts all its sensors at once and each w1_slave then answers
 * without a conversion of its own. Returns as collect_cpu_temp(). Any thread,
 * but it blocks for the conversions: 750 ms per bus with therm_bulk_read,
 * 750 ms per sensor without (older kernels, no write access). */
int collect_w1(struct collect_read *r);

/* Every file matching `pattern` (a glob below root): its first line is a
 * number (integer or decimal, optional sign); value = raw * scale + offset,
 * written as the float field `field`, tag path=<the path without root>.
 * Returns as collect_cpu_temp(). Any thread. */
int collect_file(struct collect_read *r, const char *pattern, double scale, double offset,
		 const char *field);

#endif
