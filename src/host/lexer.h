/*
 * lexer.h - the lexical services the host offers drivers: PostgreSQL's
 * statement splitter (single quotes with '', E'' strings with backslash
 * escapes, dollar quoting ($$, $tag$), quoted identifiers, -- and
 * nested block comments, and BEGIN ATOMIC ... END bodies of
 * SQL-standard functions), and a word splitter that takes a dialect's
 * lexical rules as flags. No allocation per byte: the split is a list
 * of offsets into the text.
 *
 * The core itself never splits or reads SQL with these: it asks the
 * driver (driver.h's split and classify), and a driver chooses these
 * services through struct dbmigrate_host.
 */
#ifndef DBMIGRATE_LEXER_H
#define DBMIGRATE_LEXER_H

#include <stddef.h>

#include "dbmigrate/driver.h"

/* One statement: text[offset, offset+len), without leading white space
   and comments and without its terminating semicolon. */
struct lexer_stmt {
	size_t offset;
	size_t len;
	unsigned line;   /* 1-based line of text[offset] in the text */
	unsigned column; /* 1-based column (bytes) of text[offset] */
};

struct lexer_result {
	struct lexer_stmt *v;
	size_t n;
	size_t cap;
};

/* Why splitting failed; message is static. */
struct lexer_error {
	const char *message; /* e.g. "unterminated dollar-quoted string" */
	size_t offset;       /* where the unterminated construct starts */
	unsigned line;
	unsigned column;
};

enum lexer_status { LEXER_OK = 0, LEXER_SYNTAX = -1, LEXER_NOMEM = -2 };

/*
 * Split text (len bytes) into statements, appending to out. Statements
 * holding only white space and comments are dropped. Returns LEXER_OK,
 * LEXER_SYNTAX (err filled) or LEXER_NOMEM.
 */
enum lexer_status lexer_split(const char *text, size_t len,
			      struct lexer_result *out,
			      struct lexer_error *err);

/* Free out's array and reset it. */
void lexer_result_free(struct lexer_result *out);

/*
 * lexer_split() as struct dbmigrate_host.split_postgres documents it:
 * each statement given to fn as a span. DBMIGRATE_OK, DBMIGRATE_EFILES
 * with err filled (a static message and hint), or DBMIGRATE_ENOMEM.
 */
dbmigrate_code lexer_split_postgres(const char *text, size_t len,
				    dbmigrate_span_fn fn, void *ctx,
				    struct dbmigrate_split_error *err);

/*
 * The first words of a statement under the lexical rules lex
 * (DBMIGRATE_LEX_* flags), as struct dbmigrate_host.words documents:
 * keywords and identifiers, quoted identifiers with their quotes,
 * single punctuation characters; white space, comments and string
 * literals skipped. Returns how many were stored (<= max).
 */
size_t lexer_words(unsigned lex, const char *sql, size_t len,
		   struct dbmigrate_word *words, size_t max);

/* True when word w equals the keyword kw (ASCII, case-insensitive). */
int lexer_word_is(const struct dbmigrate_word *w, const char *kw);

#endif
