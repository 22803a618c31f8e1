/* answer.c -- reading InfluxDB's answers: error class, Retry-After, message, refused lines. */
#include "answer.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "text.h"

/* Phrases with which InfluxDB 1.x, 2.x and 3.x say that lines are at fault. */
static const char *const answer_bad_data_phrases[] = {
    "partial write", "unable to parse", "failed to parse",	 "parsing failed",
    "error parsing", "type conflict",	"beyond retention",	 "invalid field",
    "invalid line",  "line protocol",	"outside the retention",
};

/* Case-insensitive strstr for ASCII phrases. */
static const char *answer_find_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		size_t i = 0;

		while (i < n && hay[i] != '\0' &&
		       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return hay;
	}
	return NULL;
}

/* Contract in answer.h. */
int64_t uplink_answer_retry_after(const char *value, size_t len, time_t now)
{
	char buf[64];
	char *end;
	long long secs;
	time_t when;

	while (len > 0 && isspace((unsigned char)*value)) {
		value++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)value[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, value, len);
	buf[len] = '\0';
	if (isdigit((unsigned char)buf[0])) {
		errno = 0;
		secs = strtoll(buf, &end, 10);
		if (*end != '\0')
			return -1;
		if (errno == ERANGE || secs > UPLINK_ANSWER_RETRY_AFTER_MAX_S)
			return UPLINK_ANSWER_RETRY_AFTER_MAX_S;
		return (int64_t)secs;
	}
	when = curl_getdate(buf, NULL);
	if (when == -1)
		return -1;
	if (when <= now)
		return 0;
	if (when - now > UPLINK_ANSWER_RETRY_AFTER_MAX_S)
		return UPLINK_ANSWER_RETRY_AFTER_MAX_S;
	return (int64_t)(when - now);
}

/* Does a 400/422 body say that lines are at fault? */
static bool answer_says_bad_data(const char *body)
{
	size_t n = sizeof(answer_bad_data_phrases) / sizeof(answer_bad_data_phrases[0]);

	for (size_t i = 0; i < n; i++) {
		if (answer_find_nocase(body, answer_bad_data_phrases[i]) != NULL)
			return true;
	}
	return false;
}

/* Contract in answer.h. */
enum uplink_error_class uplink_answer_classify(long status, bool timed_out, bool has_retry_after,
					       const char *body)
{
	if (status == 0)
		return timed_out ? UPLINK_ERROR_TIMEOUT : UPLINK_ERROR_NETWORK;
	if (status >= 200 && status <= 299)
		return UPLINK_ERROR_NONE;
	switch (status) {
	case 401:
	case 403:
		return UPLINK_ERROR_AUTH;
	case 404:
		return UPLINK_ERROR_NOT_FOUND;
	case 413:
		return UPLINK_ERROR_TOO_LARGE;
	case 429:
		return UPLINK_ERROR_THROTTLED;
	case 503:
		return has_retry_after ? UPLINK_ERROR_THROTTLED : UPLINK_ERROR_SERVER;
	case 400:
	case 422:
		return body != NULL && answer_says_bad_data(body) ? UPLINK_ERROR_BAD_DATA
								  : UPLINK_ERROR_OTHER;
	default:
		break;
	}
	if (status >= 500 && status <= 599)
		return UPLINK_ERROR_SERVER;
	return UPLINK_ERROR_OTHER;
}

/* Contract in answer.h. */
bool uplink_answer_server_fault(long status)
{
	return status >= 500 && status <= 599 && status != 503 && status != 504;
}

/* Append one byte to out (keeping room for the NUL); control bytes become spaces. */
static void answer_put(char *out, size_t size, size_t *n, unsigned char ch)
{
	if (*n + 1 >= size)
		return;
	out[(*n)++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
}

/* Copies text[0..len) into out as one line cut to fit (at a character
 * boundary); `trim` drops trailing blanks. */
static void answer_line(const char *text, size_t len, bool trim, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		answer_put(out, size, &n, (unsigned char)text[i]);
	while (trim && n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	if (len >= size)
		out[text_utf8_cut(out, strlen(out))] = '\0';
}

/* Contract in answer.h. A body that is not valid JSON is no error here: its
 * text is the message. cJSON records every parse's error position in one
 * global, from every thread (DaveGamble/cJSON#314): a race on a variable that
 * no code here reads. */
void uplink_answer_message(const char *body, size_t len, char *out, size_t size)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const char *value = NULL;

	if (cJSON_IsObject(root)) {
		value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "message"));
		if (value == NULL)
			value =
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "error"));
	}
	if (value != NULL)
		answer_line(value, strlen(value), false, out, size);
	else
		answer_line(body, len, true, out, size);
	cJSON_Delete(root);
}

static int answer_cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a;
	size_t y = *(const size_t *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Sort out[0..n) and drop repeats; returns the new count. */
static size_t answer_sort_unique(size_t *out, size_t n)
{
	size_t m = 0;

	if (n == 0)
		return 0;
	qsort(out, n, sizeof(*out), answer_cmp_size);
	for (size_t i = 0; i < n; i++) {
		if (m == 0 || out[m - 1] != out[i])
			out[m++] = out[i];
	}
	return m;
}

/* The decimal number at p (after optional blanks), or 0 when there is none
 * or it ends the body (a body cut at INFLUX_BODY_CAP may have cut it short). */
static unsigned long long answer_number(const char *p)
{
	char *end;
	unsigned long long v;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	errno = 0;
	v = strtoull(p, &end, 10);
	return errno == ERANGE || *end == '\0' ? 0 : v;
}

/* Add every number that follows `pattern` in body (then optional blanks and,
 * when `colon`, a ':') to out[]. */
static void answer_collect(const char *body, const char *pattern, bool colon, size_t count,
			   size_t *out, size_t *n)
{
	size_t plen = strlen(pattern);

	for (const char *p = answer_find_nocase(body, pattern); p != NULL && *n < count;
	     p = answer_find_nocase(p + 1, pattern)) {
		const char *q = p + plen;
		unsigned long long line;

		if (colon) {
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q != ':')
				continue;
			q++;
		}
		line = answer_number(q);
		if (line >= 1 && line <= count)
			out[(*n)++] = (size_t)(line - 1);
	}
}

/* Contract in answer.h. */
size_t uplink_answer_named_lines(const char *body, size_t count, size_t *out)
{
	size_t n = 0;

	answer_collect(body, "\"line\"", true, count, out, &n);
	answer_collect(body, "\"line_number\"", true, count, out, &n);
	answer_collect(body, "parsing line ", false, count, out, &n);
	return answer_sort_unique(out, n);
}

/* Contract in answer.h. */
size_t uplink_answer_quoted_lines(const char *message, const char *text, size_t len,
				  const size_t *offsets, size_t count, size_t *out)
{
	static const char pattern[] = "unable to parse '";
	size_t n = 0;

	for (const char *p = strstr(message, pattern); p != NULL && n < count;
	     p = strstr(p + 1, pattern)) {
		const char *quoted = p + sizeof(pattern) - 1;

		for (size_t i = 0; i < count && n < count; i++) {
			size_t start = offsets[i];
			size_t stop = i + 1 < count ? offsets[i + 1] : len;

			if (start >= stop || stop > len)
				continue;
			if (text[stop - 1] == '\n')
				stop--;
			if (strncmp(quoted, text + start, stop - start) == 0 &&
			    quoted[stop - start] == '\'')
				out[n++] = i;
		}
	}
	return answer_sort_unique(out, n);
}
