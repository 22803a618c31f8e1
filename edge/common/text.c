/* text.c -- untrusted text for messages: the one quote helper and the one UTF-8 cut. */
#include "text.h"

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
