/* clock.h -- unique receipt timestamps for points that arrive without one. */
#ifndef IOT_EDGE_CLOCK_H
#define IOT_EDGE_CLOCK_H

#include <stdint.h>

/* Wall-clock time in ns since the Unix epoch, strictly greater than every
 * value this function returned before in this process, so two points stamped
 * at receipt never share a timestamp (and never overwrite each other in
 * InfluxDB). Any thread, lock-free. */
int64_t clock_unique_ns(void);

#endif
