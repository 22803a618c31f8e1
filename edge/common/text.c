/* text.c -- untrusted text for messages: the one quote helper, the one escape and the one UTF-8
 * cut. */
#include "text.h"

#include <stdint.h>
#include <string.h>

size_t text_utf8_cut(const char *s, size_t n)
{
	size_t lead = n;
	size_t need;
	unsigned char c;

	/* back over at most 3 continuation bytes to the last sequence's lead */
	while (lead > 0 && n - lead < 3 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0)
		return n; /* continuation bytes only: no sequence to complete */
	lead--;
	c = (unsigned char)s[lead];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return n - lead < need ? lead : n;
}

const char *text_quote(char *out, size_t out_size, const char *s, size_t n, int flags)
{
	size_t cut = n;

	if (cut > out_size - 4)
		cut = text_utf8_cut(s, out_size - 4);
	for (size_t i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' ||
		    (c >= 0x80 && (flags & TEXT_QUOTE_ASCII)))
			c = '?';
		out[i] = (char)c;
	}
	if (cut < n)
		memcpy(out + cut, "...", 4);
	else
		out[cut] = '\0';
	return out;
}

/* The length of the valid UTF-8 sequence at s[0..n) (2..4), or 0 when
 * there is none: an overlong form, a surrogate, past U+10FFFF, a C1
 * control (U+0080..U+009F: terminals obey some) or cut short. */
static size_t text_utf8_len(const unsigned char *s, size_t n)
{
	size_t need = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	uint32_t cp;

	if (need == 0 || s[0] > 0xf4 || n < need)
		return 0;
	cp = s[0] & (0x7f >> need);
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return need;
}

size_t text_escape(char *out, size_t out_size, const char *s, size_t n, int flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0, room = out_size - 4; /* "..." and the NUL */
	size_t i = 0;

	while (i < n) {
		char esc[4];
		unsigned char c = u[i];
		size_t len = c >= 0x80 ? text_utf8_len(u + i, n - i) : 1, elen = 0;

		if (c == '\n' || c == '\r' || c == '\t') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			elen = 2;
		} else if (c == '\\' && (flags & TEXT_ESCAPE_BACKSLASH)) {
			esc[0] = esc[1] = '\\';
			elen = 2;
		} else if (c < 0x20 || c == 0x7f || len == 0) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			elen = 4;
			len = 1;
		}
		size_t w = elen ? elen : len;
		if (o + w > room)
			break;
		memcpy(out + o, elen ? esc : s + i, w);
		o += w;
		i += len;
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}
