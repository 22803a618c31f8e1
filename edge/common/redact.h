/* redact.h -- secrets taken out of text before it is logged or shown: URLs with credentials. */
#ifndef IOT_EDGE_REDACT_H
#define IOT_EDGE_REDACT_H

#include <stddef.h>

/* Copy `url` to out (cap bytes) without its userinfo (user:password@ or
 * user@) and without its query and fragment (?u=..&p=.., ?token=..: any
 * of them may hold a secret). The one redaction of URLs: the start-up log
 * and /status both show this. Returns 0, or -1 when it does not fit (out is
 * then ""; cap 0 writes nothing). Pure; any thread. */
int redact_url(const char *url, char *out, size_t cap);

#endif
