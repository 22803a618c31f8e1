/* rfc3339.h -- RFC 3339 timestamps -> nanoseconds since the Unix epoch. */
#ifndef IOT_EDGE_RFC3339_H
#define IOT_EDGE_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* Parses exactly s[0..len) (no NUL needed) of the form
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM): 'T', 't' or ' ' between
 * date and time, 'Z' or 'z'; at least one fraction digit after a '.', the
 * first nine are used and further digits are truncated; real calendar
 * (leap years, days per month); hour 0-23, minute 0-59, second 0-60 (a leap
 * second 60 counts as the first second of the next minute); offset hour
 * 0-23, offset minute 0-59. The instant must fit int64 ns, i.e. lie within
 * 1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z.
 * Returns 0 with the instant in *ns, or -1 with *ns untouched and a message
 * such as "month 13 out of range" or "expected ':' at byte 13" (bytes
 * counted from 0) written into why[0..why_size) (NUL-terminated, cut to fit;
 * why may be NULL). Any thread; nothing is kept between calls. */
int rfc3339_parse_ns(const char *s, size_t len, int64_t *ns, char *why, size_t why_size);

#endif
