/*
 * sq-split.c - the SQLite dialect's splitter: statements end where
 * sqlite3_complete() would say the text so far is complete, so that a
 * migration splits as the sqlite3 shell runs it. The state machine is
 * the one SQLite documents in its complete.c (tokens: a semicolon, white
 * space and comments, EXPLAIN, CREATE, TEMP or TEMPORARY, TRIGGER, END,
 * anything else), which keeps a trigger body, BEGIN ... END, one
 * statement whatever semicolons it holds. It is written again here
 * because sqlite3_complete() answers only yes or no for a whole string,
 * and a splitter needs every boundary and offset in one pass;
 * tests/check_sqlite and fuzz/fuzz_sqlite_split.c check the two agree.
 */
#include "sq-split.h"

#include <strings.h>

#include "../common/drvkit.h"

/* The tokens of sqlite3_complete()'s state machine. */
enum sq_split_token {
	SQ_TK_SEMI,
	SQ_TK_WS,
	SQ_TK_OTHER,
	SQ_TK_EXPLAIN,
	SQ_TK_CREATE,
	SQ_TK_TEMP,
	SQ_TK_TRIGGER,
	SQ_TK_END
};

/*
 * States: 0 nothing yet, 1 after a complete statement (start), 2 in an
 * ordinary statement, 3 after EXPLAIN, 4 after CREATE (and TEMP), 5 in a
 * CREATE TRIGGER, 6 after a semicolon inside it, 7 after its END.
 */
static const unsigned char sq_split_trans[8][8] = {
	/*        SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END */
	/* 0 */ { 1, 0, 2, 3, 4, 2, 2, 2 },
	/* 1 */ { 1, 1, 2, 3, 4, 2, 2, 2 },
	/* 2 */ { 1, 2, 2, 2, 2, 2, 2, 2 },
	/* 3 */ { 1, 3, 3, 2, 4, 2, 2, 2 },
	/* 4 */ { 1, 4, 2, 2, 2, 4, 5, 2 },
	/* 5 */ { 6, 5, 5, 5, 5, 5, 5, 5 },
	/* 6 */ { 6, 6, 5, 5, 5, 5, 5, 7 },
	/* 7 */ { 1, 7, 5, 5, 5, 5, 5, 5 },
};

/* True for a byte of an identifier or keyword, as SQLite's IdChar(). */
static int sq_split_idchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '$' ||
	       ch >= 0x80;
}

/* The token of the word s (n bytes). */
static enum sq_split_token sq_split_keyword(const char *s, size_t n)
{
	if (n == 6 && strncasecmp(s, "create", 6) == 0)
		return SQ_TK_CREATE;
	if (n == 7 && strncasecmp(s, "trigger", 7) == 0)
		return SQ_TK_TRIGGER;
	if ((n == 4 && strncasecmp(s, "temp", 4) == 0) ||
	    (n == 9 && strncasecmp(s, "temporary", 9) == 0))
		return SQ_TK_TEMP;
	if (n == 3 && strncasecmp(s, "end", 3) == 0)
		return SQ_TK_END;
	if (n == 7 && strncasecmp(s, "explain", 7) == 0)
		return SQ_TK_EXPLAIN;
	return SQ_TK_OTHER;
}

/*
 * Read the token at text[*i] and move *i past it; DBMIGRATE_EFILES for
 * an unterminated quote or block comment (a -- comment may end the
 * text).
 */
static dbmigrate_code sq_split_token(const char *text, size_t len, size_t *i,
				     enum sq_split_token *tok,
				     struct dbmigrate_split_error *err)
{
	size_t at = *i, j;
	unsigned char ch = (unsigned char)text[at];

	switch (ch) {
	case ';':
		*tok = SQ_TK_SEMI;
		*i = at + 1;
		return DBMIGRATE_OK;
	case ' ':
	case '\t':
	case '\n':
	case '\r':
	case '\f':
		*tok = SQ_TK_WS;
		*i = at + 1;
		return DBMIGRATE_OK;
	case '/':
		if (at + 1 >= len || text[at + 1] != '*')
			break;
		for (j = at + 2; j + 1 < len; j++)
			if (text[j] == '*' && text[j + 1] == '/')
				break;
		if (j + 1 >= len)
			return drvkit_split_fail(err, "unterminated block comment",
						 "Close the comment with */ "
						 "(SQLite's comments do not nest).",
						 at);
		*tok = SQ_TK_WS;
		*i = j + 2;
		return DBMIGRATE_OK;
	case '-':
		if (at + 1 >= len || text[at + 1] != '-')
			break;
		for (j = at + 2; j < len && text[j] != '\n'; j++)
			;
		*tok = SQ_TK_WS;
		*i = j;
		return DBMIGRATE_OK;
	case '[':
	case '`':
	case '"':
	case '\'': {
		char close = ch == '[' ? ']' : (char)ch;

		for (j = at + 1; j < len && text[j] != close; j++)
			;
		if (j >= len)
			return drvkit_split_fail(
			    err,
			    ch == '\'' ? "unterminated quoted string"
			    : ch == '[' ? "unterminated [quoted] identifier"
					: "unterminated quoted identifier",
			    ch == '\'' ? "Close the string with ' (a quote "
					 "inside it is written twice: '')."
			    : ch == '[' ? "Close the identifier with ]."
			    : ch == '`' ? "Close the identifier with ` (a "
					  "backtick inside it is written "
					  "twice)."
					: "Close the identifier with \" (a "
					  "quote inside it is written twice).",
			    at);
		*tok = SQ_TK_OTHER;
		*i = j + 1;
		return DBMIGRATE_OK;
	}
	default:
		if (!sq_split_idchar(ch))
			break;
		for (j = at + 1; j < len && sq_split_idchar((unsigned char)text[j]);
		     j++)
			;
		*tok = sq_split_keyword(text + at, j - at);
		*i = j;
		return DBMIGRATE_OK;
	}
	*tok = SQ_TK_OTHER;
	*i = at + 1;
	return DBMIGRATE_OK;
}

/* Split text where sqlite3_complete() would; see sq-split.h. */
dbmigrate_code sq_split_text(const char *text, size_t len,
			     dbmigrate_span_fn fn, void *ctx,
			     struct dbmigrate_split_error *err)
{
	size_t i = 0, start = 0, end = 0;
	int in_stmt = 0;
	unsigned state = 0;

	while (i < len) {
		size_t at = i;
		enum sq_split_token tok;
		dbmigrate_code rc = sq_split_token(text, len, &i, &tok, err);

		if (rc != DBMIGRATE_OK)
			return rc;
		state = sq_split_trans[state][tok];
		if (tok == SQ_TK_WS)
			continue;
		if (tok != SQ_TK_SEMI) {
			if (!in_stmt) {
				in_stmt = 1;
				start = at;
			}
			end = i;
			continue;
		}
		/* A semicolon: the end of a statement unless inside a
		   trigger body (state 6). */
		if (state == 1 && in_stmt) {
			in_stmt = 0;
			if (fn(ctx, start, end - start) != 0)
				return DBMIGRATE_ENOMEM;
		}
	}
	if (!in_stmt)
		return DBMIGRATE_OK;
	if (state == 5 || state == 6)
		return drvkit_split_fail(err, "unterminated CREATE TRIGGER body",
					 "End the trigger's body with END; (each "
					 "statement inside BEGIN ... END ends with "
					 "a semicolon, and END; ends the trigger).",
					 start);
	return fn(ctx, start, end - start) != 0 ? DBMIGRATE_ENOMEM
						: DBMIGRATE_OK;
}
