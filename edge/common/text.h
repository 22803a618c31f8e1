/* text.h -- untrusted text (a client's key, a file's content, a server's message) made fit for a
 * log line or an error message: quoted without control bytes, cut at a character boundary. */
#ifndef IOT_EDGE_TEXT_H
#define IOT_EDGE_TEXT_H

#include <stddef.h>

/* The length of s[0..n) without an incomplete UTF-8 sequence at its end: n,
 * or less where cutting at n splits a character (the bytes of a sequence
 * whose lead byte asks for more than are left go). Looks back at most 3
 * bytes. Pure; any thread. */
size_t text_utf8_cut(const char *s, size_t n);

/* text_quote() flag: s is not known to be valid UTF-8, so bytes >= 0x80
 * become '?' too. */
#define TEXT_QUOTE_ASCII 1

/* Copy s[0..n) into out to show it between double quotes: at most
 * out_size - 4 bytes, cut at a character boundary, then "..." when some of
 * s was left out; control bytes, DEL, '"' and '\\' become '?'. out_size
 * must be at least 4. Returns out, always NUL-terminated. Pure; any
 * thread. */
const char *text_quote(char *out, size_t out_size, const char *s, size_t n, int flags);

/* Copy s[0..n) into out (out_size >= 8) so that it stays on one line and
 * a terminal shows it as it is: control bytes (including \n, \r, ESC),
 * DEL, UTF-8 C1 controls and bytes that are not valid UTF-8 become \n, \r,
 * \t or \xHH; a backslash becomes \\ when `flags` has TEXT_ESCAPE_BACKSLASH
 * (so an escape cannot be forged either); valid UTF-8 stays. Cut (never
 * inside a character or an escape) to what fits, then "..." when some of s
 * was left out. Returns the length written; out is always NUL-terminated.
 * The one escape of text a client controls before it is logged: log_msg()
 * applies it to every line. Pure; any thread. */
size_t text_escape(char *out, size_t out_size, const char *s, size_t n, int flags);

/* text_escape() flag: a backslash becomes \\. */
#define TEXT_ESCAPE_BACKSLASH 1

#endif
