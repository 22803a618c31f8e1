/* rfc3339.c -- RFC 3339 timestamps -> ns since the epoch, with our own calendar arithmetic. */
#include "rfc3339.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RFC3339_NS_PER_SEC 1000000000
#define RFC3339_FRACTION_DIGITS 9

/* Where we are in the text being parsed, and where a refusal is described. */
struct rfc3339_cur {
	const char *s;
	size_t len;
	size_t pos;
	char *why; /* the caller's buffer, why_size bytes; NULL: no message */
	size_t why_size;
};

static void rfc3339_fail(struct rfc3339_cur *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formats the reason for a refusal into the caller's buffer. */
static void rfc3339_fail(struct rfc3339_cur *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->why || c->why_size == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(c->why, c->why_size, fmt, ap) < 0)
		c->why[0] = '\0';
	va_end(ap);
}

/* Consumes one byte that must be one of `accept`; `what` names it in the
 * message. Returns 0, or -1 with the reason set. */
static int rfc3339_expect(struct rfc3339_cur *c, const char *accept, const char *what)
{
	if (c->pos >= c->len) {
		rfc3339_fail(c, "ends early: expected %s at byte %zu", what, c->pos);
		return -1;
	}
	if (c->s[c->pos] == '\0' || !strchr(accept, c->s[c->pos])) {
		rfc3339_fail(c, "expected %s at byte %zu", what, c->pos);
		return -1;
	}
	c->pos++;
	return 0;
}

/* Consumes exactly `digits` decimal digits (at most 4) into *out. Returns 0,
 * or -1 with the reason set. */
static int rfc3339_number(struct rfc3339_cur *c, int digits, const char *what, int *out)
{
	int value = 0;
	int i;

	for (i = 0; i < digits; i++) {
		if (c->pos >= c->len) {
			rfc3339_fail(c, "ends early: expected %s at byte %zu", what, c->pos);
			return -1;
		}
		if (c->s[c->pos] < '0' || c->s[c->pos] > '9') {
			rfc3339_fail(c, "expected a digit of %s at byte %zu", what, c->pos);
			return -1;
		}
		value = value * 10 + (c->s[c->pos] - '0');
		c->pos++;
	}
	*out = value;
	return 0;
}

/* Returns 1 for a Gregorian leap year. */
static int rfc3339_is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Returns the number of days in `month` (1-12) of `year`. */
static int rfc3339_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && rfc3339_is_leap(year))
		return 29;
	return days[month - 1];
}

/* Returns the days from 1970-01-01 to year-month-day in the proleptic
 * Gregorian calendar (H. Hinnant's days_from_civil). */
static int64_t rfc3339_days_from_civil(int64_t year, int month, int day)
{
	int64_t y = month <= 2 ? year - 1 : year;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = month > 2 ? month - 3 : month + 9;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* Parses the date part into year/month/day with range checks. Returns 0 or
 * -1 with the reason set. */
static int rfc3339_date(struct rfc3339_cur *c, int *year, int *month, int *day)
{
	if (rfc3339_number(c, 4, "the year", year) ||
	    rfc3339_expect(c, "-", "'-' after the year") ||
	    rfc3339_number(c, 2, "the month", month))
		return -1;
	if (*month < 1 || *month > 12) {
		rfc3339_fail(c, "month %d out of range", *month);
		return -1;
	}
	if (rfc3339_expect(c, "-", "'-' after the month") || rfc3339_number(c, 2, "the day", day))
		return -1;
	if (*day < 1 || *day > rfc3339_days_in_month(*year, *month)) {
		rfc3339_fail(c, "day %d out of range (%04d-%02d has %d days)", *day, *year, *month,
			     rfc3339_days_in_month(*year, *month));
		return -1;
	}
	return 0;
}

/* Parses HH:MM:SS[.fraction] into seconds of the day and ns. Returns 0 or
 * -1 with the reason set. */
static int rfc3339_time(struct rfc3339_cur *c, int64_t *secs, int64_t *frac)
{
	int hour;
	int minute;
	int second;
	int used = 0;

	if (rfc3339_number(c, 2, "the hour", &hour))
		return -1;
	if (hour > 23) {
		rfc3339_fail(c, "hour %d out of range", hour);
		return -1;
	}
	if (rfc3339_expect(c, ":", "':' after the hour") ||
	    rfc3339_number(c, 2, "the minute", &minute))
		return -1;
	if (minute > 59) {
		rfc3339_fail(c, "minute %d out of range", minute);
		return -1;
	}
	if (rfc3339_expect(c, ":", "':' after the minute") ||
	    rfc3339_number(c, 2, "the second", &second))
		return -1;
	if (second > 60) {
		rfc3339_fail(c, "second %d out of range", second);
		return -1;
	}
	*frac = 0;
	if (c->pos < c->len && c->s[c->pos] == '.') {
		c->pos++;
		if (c->pos >= c->len || c->s[c->pos] < '0' || c->s[c->pos] > '9') {
			rfc3339_fail(c, "expected a digit after '.' at byte %zu", c->pos);
			return -1;
		}
		while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9') {
			if (used < RFC3339_FRACTION_DIGITS) {
				*frac = *frac * 10 + (c->s[c->pos] - '0');
				used++;
			}
			c->pos++;
		}
		for (; used < RFC3339_FRACTION_DIGITS; used++)
			*frac *= 10;
	}
	*secs = (int64_t)hour * 3600 + (int64_t)minute * 60 + second;
	return 0;
}

/* Parses Z|+HH:MM|-HH:MM into the offset east of UTC in seconds. Returns 0
 * or -1 with the reason set. */
static int rfc3339_zone(struct rfc3339_cur *c, int64_t *offset)
{
	int hours;
	int minutes;
	char sign;

	if (rfc3339_expect(c, "Zz+-", "'Z' or an offset such as +01:00"))
		return -1;
	sign = c->s[c->pos - 1];
	*offset = 0;
	if (sign == 'Z' || sign == 'z')
		return 0;
	if (rfc3339_number(c, 2, "the offset hour", &hours))
		return -1;
	if (hours > 23) {
		rfc3339_fail(c, "offset hour %d out of range", hours);
		return -1;
	}
	if (rfc3339_expect(c, ":", "':' in the offset") ||
	    rfc3339_number(c, 2, "the offset minute", &minutes))
		return -1;
	if (minutes > 59) {
		rfc3339_fail(c, "offset minute %d out of range", minutes);
		return -1;
	}
	*offset = (int64_t)hours * 3600 + (int64_t)minutes * 60;
	if (sign == '-')
		*offset = -*offset;
	return 0;
}

int rfc3339_parse_ns(const char *s, size_t len, int64_t *ns, char *why, size_t why_size)
{
	struct rfc3339_cur c = {s, len, 0, why, why_size};
	int year;
	int month;
	int day;
	int64_t day_secs;
	int64_t frac;
	int64_t offset;
	int64_t secs;
	int64_t result;

	if (!s || len == 0) {
		rfc3339_fail(&c, "empty timestamp");
		return -1;
	}
	if (rfc3339_date(&c, &year, &month, &day) ||
	    rfc3339_expect(&c, "Tt ", "'T' between date and time") ||
	    rfc3339_time(&c, &day_secs, &frac) || rfc3339_zone(&c, &offset))
		return -1;
	if (c.pos != len) {
		rfc3339_fail(&c, "unexpected text at byte %zu after the time zone", c.pos);
		return -1;
	}
	/* At most +-4e11 s for years 0000-9999: no overflow in seconds. */
	secs = rfc3339_days_from_civil(year, month, day) * 86400 + day_secs - offset;
	/* Keep secs * 1e9 in range for instants just above INT64_MIN. */
	if (secs < 0 && frac > 0) {
		secs += 1;
		frac -= RFC3339_NS_PER_SEC;
	}
	if (__builtin_mul_overflow(secs, (int64_t)RFC3339_NS_PER_SEC, &result) ||
	    __builtin_add_overflow(result, frac, &result)) {
		rfc3339_fail(&c,
			     "outside the int64 nanosecond range (1677-09-21T00:12:43.145224192Z "
			     ".. 2262-04-11T23:47:16.854775807Z)");
		return -1;
	}
	*ns = result;
	return 0;
}
