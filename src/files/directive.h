/*
 * directive.h - the lines "-- dbmigrate:WORD VALUE" of a migration body.
 */
#ifndef DBMIGRATE_DIRECTIVE_H
#define DBMIGRATE_DIRECTIVE_H

#include <stdbool.h>
#include <stddef.h>

/* One directive line, pointing into the body. */
struct directive {
	char word[32];     /* WORD, '_' read as '-'; "" when longer than fits */
	const char *value; /* the first word after WORD (value_len bytes) */
	size_t value_len;
	bool trailing;     /* more follows the value on the line */
	size_t offset;     /* where the line starts in the body */
};

/*
 * Find the next directive at or after *pos in s (len bytes): a line
 * whose first non-blank characters are "--", then blanks, then
 * "dbmigrate:" and a word. Fills d and moves *pos past the line; false
 * when there is none left.
 */
bool directive_next(const char *s, size_t len, size_t *pos,
		    struct directive *d);

/*
 * The value of d read as a duration (config_parse_duration(): "30s",
 * "500ms", "2min", "0") into *seconds; false when it is not one, or
 * when more follows it on the line.
 */
bool directive_seconds(const struct directive *d, double *seconds);

#endif
