/*
 * directive.c - finding the "-- dbmigrate:WORD VALUE" lines of a
 * migration body: the runner reads its limits from them
 * (statement-timeout, lock-timeout), and lint reads the same lines the
 * same way to know which limits a migration sets. What a word means is
 * the caller's business; other tools of the project have words of their
 * own ("lint-ignore").
 */
#include "directive.h"

#include <string.h>

#include "config.h"

/* Skip blanks (not newlines) from s[i] up to end. */
static size_t directive_blanks(const char *s, size_t i, size_t end)
{
	while (i < end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* End of the word at s[i] (up to a blank or a CR), at most end. */
static size_t directive_word_end(const char *s, size_t i, size_t end)
{
	while (i < end && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
		i++;
	return i;
}

bool directive_next(const char *s, size_t len, size_t *pos,
		    struct directive *d)
{
	static const char prefix[] = "dbmigrate:";

	while (*pos < len) {
		size_t i = *pos, eol = i, p, w, v, ve, last;

		while (eol < len && s[eol] != '\n')
			eol++;
		*pos = eol + 1;
		p = directive_blanks(s, i, eol);
		if (p + 2 > eol || s[p] != '-' || s[p + 1] != '-')
			continue;
		p = directive_blanks(s, p + 2, eol);
		if (eol - p <= sizeof prefix - 1 ||
		    memcmp(s + p, prefix, sizeof prefix - 1) != 0)
			continue;
		p += sizeof prefix - 1;
		w = directive_word_end(s, p, eol);
		d->word[0] = '\0';
		if (w - p < sizeof d->word) {
			for (size_t k = p; k < w; k++)
				d->word[k - p] = s[k] == '_' ? '-' : s[k];
			d->word[w - p] = '\0';
		}
		v = directive_blanks(s, w, eol);
		ve = directive_word_end(s, v, eol);
		last = eol - (eol > i && s[eol - 1] == '\r');
		d->value = s + v;
		d->value_len = ve - v;
		d->trailing = directive_blanks(s, ve, eol) < last;
		d->offset = i;
		return true;
	}
	return false;
}

bool directive_seconds(const struct directive *d, double *seconds)
{
	char value[64];

	if (d->trailing || d->value_len >= sizeof value)
		return false;
	memcpy(value, d->value, d->value_len);
	value[d->value_len] = '\0';
	return config_parse_duration(value, seconds) == 0;
}
