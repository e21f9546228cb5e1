/*
 * lexer.c - splitting migration SQL into statements the way psql does,
 * without a parser. The scanner only stops on the few bytes that can
 * change its state (quotes, $, -, /, ;, parentheses) and skips the
 * contents of strings with memchr, so a large INSERT-heavy file splits
 * at hundreds of MB/s. Identifiers are looked at only in statements that
 * start with CREATE, where psql tracks BEGIN ATOMIC ... END bodies.
 *
 * The rules follow PostgreSQL's scanner with standard_conforming_strings
 * on: '' doubles a quote, E'' strings take backslash escapes (and keep
 * doing so across a quote continuation), $tag$ quotes end only at the
 * same tag, "" doubles a quote in an identifier, -- runs to the end of
 * the line, block comments nest, and a semicolon inside parentheses or a
 * BEGIN ATOMIC body does not end the statement.
 */
#include "lexer.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* "No position": an unterminated construct or no comment seen. */
#define LEXER_NONE SIZE_MAX

/* Byte classes of the statement scanner (see lexer_classes). */
enum lexer_class {
	LC_PLAIN,  /* never changes the state */
	LC_WORD,   /* may start an identifier; a stop in CREATE statements */
	LC_QUOTE,  /* ' */
	LC_DQUOTE, /* " */
	LC_DOLLAR, /* $ */
	LC_DASH,   /* - */
	LC_SLASH,  /* / */
	LC_SEMI,   /* ; */
	LC_OPEN,   /* ( */
	LC_CLOSE   /* ) */
};

/*
 * The class of every byte. Letters, '_' and bytes >= 0x80 (parts of
 * multibyte characters, which PostgreSQL allows in identifiers) are
 * LC_WORD; the fast loop skips every byte whose class is at most a
 * limit, so one comparison decides whether words matter.
 */
static const unsigned char lexer_classes[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x0_ */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x1_ */
	0, 0, 3, 0, 4, 0, 0, 2, 8, 9, 0, 0, 0, 5, 0, 6, /* 0x2_ */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, /* 0x3_ */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x4_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, /* 0x5_ */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x6_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 0x7_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x8_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x9_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xA_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xB_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xC_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xD_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xE_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xF_ */
};

/* The state of one lexer_split call. */
struct lexer_scan {
	const unsigned char *t;
	size_t len;
	/*
	 * A backward look for the token holding a byte never goes below
	 * floor: set after tokens the scanner consumed itself (a dollar
	 * quote ends in '$', a parameter in a digit, both of which could
	 * otherwise pass for the tail of an identifier).
	 */
	size_t floor;
	/* Lines are counted lazily, only up to the offsets we report. */
	size_t counted;    /* newlines before this offset are counted */
	unsigned line;     /* line of t[counted] */
	size_t line_start; /* offset of the first byte of that line */
	/* The current statement. */
	unsigned paren;    /* depth of ( */
	unsigned begin;    /* depth of BEGIN ATOMIC / CASE ... END */
	unsigned nident;   /* identifiers seen (saturating) */
	char head[4];      /* psql's "CREATE OR REPLACE FUNCTION" marks */
	size_t cmt_end;    /* end of the last comment, trailing blanks cut */
	size_t cmt_from;   /* where the blanks and comments before it start */
	struct lexer_error *err;
};

/* True for PostgreSQL's white space: space, \t, \n, \r, \f, \v. */
static inline int lexer_is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* True for a byte that may start an identifier or a dollar-quote tag. */
static inline int lexer_is_ident_start(unsigned char c)
{
	return lexer_classes[c] == LC_WORD;
}

/* True for a digit. */
static inline int lexer_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* True for a byte that may continue a dollar-quote tag (no '$'). */
static inline int lexer_is_tag_cont(unsigned char c)
{
	return lexer_classes[c] == LC_WORD || lexer_is_digit(c);
}

/* True for a byte that may continue an identifier ('$' included). */
static inline int lexer_is_ident_cont(unsigned char c)
{
	return lexer_is_tag_cont(c) || c == '$';
}

/* ASCII lowercase, whatever the locale. */
static inline unsigned char lexer_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* True when the n bytes at w spell the lowercase keyword kw. */
static int lexer_kw(const unsigned char *w, size_t n, const char *kw)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (kw[i] == '\0' || lexer_lower(w[i]) != (unsigned char)kw[i])
			return 0;
	}
	return kw[i] == '\0';
}

/* End of the identifier (or number-like word) starting at i. */
static size_t lexer_word_end(const unsigned char *t, size_t len, size_t i)
{
	while (i < len && lexer_is_ident_cont(t[i]))
		i++;
	return i;
}

/* Offset of the newline ending the -- comment at i, or len. */
static size_t lexer_line_end(const unsigned char *t, size_t len, size_t i)
{
	/* PostgreSQL ends a comment at \r as well as \n. */
	for (i += 2; i < len; i++) {
		if (t[i] == '\n' || t[i] == '\r')
			break;
	}
	return i;
}

/* End of the nested block comment at i, or LEXER_NONE if unterminated. */
static size_t lexer_block_end(const unsigned char *t, size_t len, size_t i)
{
	size_t depth = 1;

	for (i += 2; i + 1 < len;) {
		if (t[i] == '/' && t[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (t[i] == '*' && t[i + 1] == '/') {
			if (--depth == 0)
				return i + 2;
			i += 2;
		} else {
			i++;
		}
	}
	return LEXER_NONE;
}

/*
 * End of the string or quoted identifier opened by the quote q at i,
 * where a doubled quote stands for itself; LEXER_NONE if unterminated.
 */
static size_t lexer_quoted_end(const unsigned char *t, size_t len, size_t i,
			       unsigned char q)
{
	const unsigned char *p;

	for (i++;;) {
		p = memchr(t + i, q, len - i);
		if (p == NULL)
			return LEXER_NONE;
		i = (size_t)(p - t) + 1;
		if (i >= len || t[i] != q)
			return i;
		i++;
	}
}

/*
 * The quote continuing a string closed just before i, or LEXER_NONE:
 * PostgreSQL joins 'a' <newline> 'b' into one string when only blanks
 * and -- comments, with at least one newline, separate them.
 */
static size_t lexer_continuation(const unsigned char *t, size_t len, size_t i)
{
	int newline = 0;

	while (i < len) {
		unsigned char c = t[i];

		if (c == ' ' || c == '\t' || c == '\f' || (c == '\v' && newline)) {
			i++;
		} else if (c == '\n' || c == '\r') {
			newline = 1;
			i++;
		} else if (c == '-' && i + 1 < len && t[i + 1] == '-') {
			/* A comment counts only when a newline ends it. */
			i = lexer_line_end(t, len, i);
			if (i >= len)
				return LEXER_NONE;
		} else {
			return newline && c == '\'' ? i : LEXER_NONE;
		}
	}
	return LEXER_NONE;
}

/*
 * End of the E'' string whose quote is at i, or LEXER_NONE: a backslash
 * escapes the next byte, '' doubles a quote, and a continued string
 * stays an E'' string.
 */
static size_t lexer_estring_end(const unsigned char *t, size_t len, size_t i)
{
	size_t next;

	for (i++;;) {
		while (i < len && t[i] != '\'' && t[i] != '\\')
			i++;
		if (i >= len)
			return LEXER_NONE;
		if (t[i] == '\\') {
			i += 2;
			continue;
		}
		if (i + 1 < len && t[i + 1] == '\'') {
			i += 2;
			continue;
		}
		next = lexer_continuation(t, len, i + 1);
		if (next == LEXER_NONE)
			return i + 1;
		i = next + 1;
	}
}

/* Length of the $tag$ (or $$) delimiter at i, or 0 if there is none. */
static size_t lexer_dollar_delim(const unsigned char *t, size_t len, size_t i)
{
	size_t j = i + 1;

	if (j < len && lexer_is_ident_start(t[j])) {
		for (j++; j < len && lexer_is_tag_cont(t[j]); j++)
			;
	}
	return j < len && t[j] == '$' ? j + 1 - i : 0;
}

/*
 * End of the dollar-quoted string whose n-byte delimiter is at i, or
 * LEXER_NONE: only the same delimiter, case included, closes it.
 */
static size_t lexer_dollar_end(const unsigned char *t, size_t len, size_t i,
			       size_t n)
{
	const unsigned char *p;
	size_t j = i + n;

	for (;;) {
		p = memchr(t + j, '$', len - j);
		if (p == NULL)
			return LEXER_NONE;
		j = (size_t)(p - t);
		if (len - j >= n && memcmp(t + j, t + i, n) == 0)
			return j + n;
		j++;
	}
}

/*
 * True when the '$' at i continues an identifier (foo$bar), found by
 * looking back over identifier bytes down to floor. A word made of
 * digits is a number, and a '$' after it may start a dollar quote.
 */
static int lexer_in_word(const unsigned char *t, size_t floor, size_t i)
{
	size_t k = i;

	while (k > floor && lexer_is_ident_cont(t[k - 1]))
		k--;
	if (k == i)
		return 0;
	if (lexer_is_ident_start(t[k]))
		return 1;
	if (!lexer_is_digit(t[k]))
		return 0;
	while (k < i && (lexer_is_digit(t[k]) || t[k] == '_'))
		k++;
	return k < i;
}

/* True when the quote at i is the quote of an E'' string. */
static int lexer_is_estring(const unsigned char *t, size_t floor, size_t i)
{
	/* The E must be a token of its own: "fooe'x'" is foo e then 'x'. */
	if (i == 0 || i - 1 < floor || lexer_lower(t[i - 1]) != 'e')
		return 0;
	return i - 1 == floor || !lexer_is_ident_cont(t[i - 2]);
}

/*
 * True when the word [i, j) is only the prefix of a literal: B'', E'',
 * N'', X'' strings and U&'' strings or U&"" identifiers.
 */
static int lexer_is_prefix(const unsigned char *t, size_t len, size_t i,
			   size_t j)
{
	unsigned char c;

	if (j - i != 1 || j >= len)
		return 0;
	c = lexer_lower(t[i]);
	if (t[j] == '\'')
		return c == 'b' || c == 'e' || c == 'n' || c == 'x';
	return c == 'u' && t[j] == '&' && j + 1 < len &&
	       (t[j + 1] == '\'' || t[j + 1] == '"');
}

/* Count newlines up to off so line and line_start describe t[off]. */
static void lexer_lines(struct lexer_scan *s, size_t off)
{
	const unsigned char *p = s->t + s->counted;
	const unsigned char *end = s->t + off;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (s->line < UINT_MAX)
			s->line++;
		p++;
		s->line_start = (size_t)(p - s->t);
	}
	s->counted = off;
}

/* 1-based column of off, which lexer_lines has reached. */
static unsigned lexer_column(const struct lexer_scan *s, size_t off)
{
	size_t col = off - s->line_start;

	return col >= UINT_MAX ? UINT_MAX : (unsigned)col + 1;
}

/* Fill the error for the construct starting at off. */
static enum lexer_status lexer_fail(struct lexer_scan *s, size_t off,
				    const char *message)
{
	lexer_lines(s, off);
	s->err->message = message;
	s->err->offset = off;
	s->err->line = s->line;
	s->err->column = lexer_column(s, off);
	return LEXER_SYNTAX;
}

/*
 * Remember the comment [from, to) of the current statement, so that
 * blanks and comments closing a statement can be cut from its end.
 */
static void lexer_note_comment(struct lexer_scan *s, size_t from, size_t to)
{
	size_t before = from;

	/* The statement starts with a token, so this stops above it. */
	while (lexer_is_space(s->t[before - 1]))
		before--;
	while (to > from + 2 && lexer_is_space(s->t[to - 1]))
		to--;
	if (s->cmt_end == LEXER_NONE || before != s->cmt_end)
		s->cmt_from = before;
	s->cmt_end = to;
}

/*
 * Skip blanks and comments from i. Returns the first other offset (or
 * len), or LEXER_NONE with the error set for an unterminated comment.
 */
static size_t lexer_gap(struct lexer_scan *s, size_t i)
{
	const unsigned char *t = s->t;
	size_t len = s->len, end;

	for (;;) {
		while (i < len && lexer_is_space(t[i]))
			i++;
		if (i + 1 >= len)
			return i;
		if (t[i] == '-' && t[i + 1] == '-') {
			i = lexer_line_end(t, len, i);
		} else if (t[i] == '/' && t[i + 1] == '*') {
			end = lexer_block_end(t, len, i);
			if (end == LEXER_NONE) {
				lexer_fail(s, i, "unterminated /* comment");
				return LEXER_NONE;
			}
			i = end;
		} else {
			return i;
		}
	}
}

/* True when the next token after i (past blanks, comments) is ATOMIC. */
static int lexer_atomic_follows(const unsigned char *t, size_t len, size_t i)
{
	size_t end;

	for (;;) {
		while (i < len && lexer_is_space(t[i]))
			i++;
		if (i + 1 < len && t[i] == '-' && t[i + 1] == '-') {
			i = lexer_line_end(t, len, i);
		} else if (i + 1 < len && t[i] == '/' && t[i + 1] == '*') {
			end = lexer_block_end(t, len, i);
			if (end == LEXER_NONE)
				return 0;
			i = end;
		} else {
			break;
		}
	}
	end = lexer_word_end(t, len, i);
	return lexer_kw(t + i, end - i, "atomic");
}

/*
 * Account for the identifier [i, j) of a CREATE statement. Like psql,
 * note whether the statement opens with CREATE [OR REPLACE] FUNCTION or
 * PROCEDURE; in such a statement, outside parentheses, BEGIN ATOMIC
 * opens a body in which semicolons do not split, CASE nests inside it,
 * and END closes either. psql counts any BEGIN; requiring ATOMIC after
 * it keeps a function named "begin" from swallowing the rest of a file.
 */
static void lexer_create_word(struct lexer_scan *s, size_t i, size_t j)
{
	static const char *const marks[] = {
		"create", "or", "replace", "function", "procedure"
	};
	const unsigned char *w = s->t + i;
	const char *h = s->head;
	size_t n = j - i;
	char mark = 0;

	for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
		if (lexer_kw(w, n, marks[k])) {
			mark = marks[k][0];
			break;
		}
	}
	if (s->nident < 4)
		s->head[s->nident] = mark;
	if (s->nident < UINT_MAX)
		s->nident++;
	if (s->paren != 0 || h[0] != 'c' ||
	    !(h[1] == 'f' || h[1] == 'p' ||
	      (h[1] == 'o' && h[2] == 'r' && (h[3] == 'f' || h[3] == 'p'))))
		return;
	if (lexer_kw(w, n, "begin")) {
		if (s->begin < UINT_MAX &&
		    lexer_atomic_follows(s->t, s->len, j))
			s->begin++;
	} else if (lexer_kw(w, n, "case")) {
		if (s->begin > 0 && s->begin < UINT_MAX)
			s->begin++;
	} else if (lexer_kw(w, n, "end")) {
		if (s->begin > 0)
			s->begin--;
	}
}

/*
 * Scan the statement starting at i up to its terminating semicolon.
 * Sets *end to the semicolon's offset (or len). create is true when the
 * statement starts with CREATE: only then are identifiers looked at.
 */
static enum lexer_status lexer_statement(struct lexer_scan *s, size_t i,
					 int create, size_t *end)
{
	const unsigned char *t = s->t;
	const size_t len = s->len;
	const unsigned char skip = create ? LC_PLAIN : LC_WORD;
	size_t j, n;

	for (;;) {
		/* The hot loop: most bytes of most statements end here. */
		while (i < len && lexer_classes[t[i]] <= skip)
			i++;
		if (i >= len) {
			*end = len;
			return LEXER_OK;
		}
		switch (lexer_classes[t[i]]) {
		case LC_WORD:
			j = lexer_word_end(t, len, i);
			if (!lexer_is_prefix(t, len, i, j))
				lexer_create_word(s, i, j);
			i = j;
			break;
		case LC_QUOTE:
			if (lexer_is_estring(t, s->floor, i)) {
				j = lexer_estring_end(t, len, i);
				n = i - 1; /* report the E */
			} else {
				j = lexer_quoted_end(t, len, i, '\'');
				n = i;
			}
			if (j == LEXER_NONE)
				return lexer_fail(s, n,
						  "unterminated quoted string");
			i = j;
			break;
		case LC_DQUOTE:
			j = lexer_quoted_end(t, len, i, '"');
			if (j == LEXER_NONE)
				return lexer_fail(s, i,
						  "unterminated quoted identifier");
			i = j;
			break;
		case LC_DOLLAR:
			if (lexer_in_word(t, s->floor, i)) {
				/* Skip the rest of the word once, never again. */
				i = lexer_word_end(t, len, i);
				s->floor = i;
				break;
			}
			n = lexer_dollar_delim(t, len, i);
			if (n == 0) {
				/* $1 is a parameter; a lone $ is an operator. */
				for (i++; i < len && lexer_is_digit(t[i]); i++)
					;
				s->floor = i;
				break;
			}
			j = lexer_dollar_end(t, len, i, n);
			if (j == LEXER_NONE)
				return lexer_fail(s, i,
						  "unterminated dollar-quoted string");
			i = s->floor = j;
			break;
		case LC_DASH:
			if (i + 1 < len && t[i + 1] == '-') {
				j = lexer_line_end(t, len, i);
				lexer_note_comment(s, i, j);
				i = j;
			} else {
				i++;
			}
			break;
		case LC_SLASH:
			if (i + 1 < len && t[i + 1] == '*') {
				j = lexer_block_end(t, len, i);
				if (j == LEXER_NONE)
					return lexer_fail(s, i,
							  "unterminated /* comment");
				lexer_note_comment(s, i, j);
				i = j;
			} else {
				i++;
			}
			break;
		case LC_SEMI:
			if (s->paren == 0 && s->begin == 0) {
				*end = i;
				return LEXER_OK;
			}
			i++;
			break;
		case LC_OPEN:
			if (s->paren < UINT_MAX)
				s->paren++;
			i++;
			break;
		default: /* LC_CLOSE */
			if (s->paren > 0)
				s->paren--;
			i++;
			break;
		}
	}
}

/* Where lexer_scan_all() puts each statement: push returns nonzero to
   stop (out of memory). */
typedef int (*lexer_push_fn)(void *ctx, size_t offset, size_t len,
			     unsigned line, unsigned column);

/* lexer_push_fn appending to a struct lexer_result. */
static int lexer_push(void *ctx, size_t offset, size_t len, unsigned line,
		      unsigned column)
{
	struct lexer_result *out = ctx;
	struct lexer_stmt *v;

	if (!array_grow(&out->v, &out->cap, out->n, sizeof *out->v, 16))
		return -1;
	v = &out->v[out->n++];
	v->offset = offset;
	v->len = len;
	v->line = line;
	v->column = column;
	return 0;
}

/* Split text into statements, each given to push. */
static enum lexer_status lexer_scan_all(const char *text, size_t len,
					lexer_push_fn push, void *ctx,
					struct lexer_error *err)
{
	struct lexer_scan s;
	enum lexer_status rc;
	size_t i = 0, start, end, stop;
	int create;

	memset(&s, 0, sizeof s);
	s.t = (const unsigned char *)text;
	s.len = len;
	s.line = 1;
	s.err = err;
	while (i < len) {
		i = lexer_gap(&s, i);
		if (i == LEXER_NONE)
			return LEXER_SYNTAX;
		if (i >= len)
			break;
		if (s.t[i] == ';') {
			/* An empty statement: nothing to run. */
			i++;
			continue;
		}
		start = i;
		s.floor = start;
		s.paren = s.begin = s.nident = 0;
		memset(s.head, 0, sizeof s.head);
		s.cmt_end = s.cmt_from = LEXER_NONE;
		end = lexer_word_end(s.t, len, start);
		create = lexer_kw(s.t + start, end - start, "create");
		rc = lexer_statement(&s, start, create, &stop);
		if (rc != LEXER_OK)
			return rc;
		/* Cut the blanks and comments ending the statement. */
		end = stop;
		while (lexer_is_space(s.t[end - 1]))
			end--;
		if (end == s.cmt_end)
			end = s.cmt_from;
		lexer_lines(&s, start);
		if (push(ctx, start, end - start, s.line,
			 lexer_column(&s, start)) != 0)
			return LEXER_NOMEM;
		i = stop < len ? stop + 1 : len;
	}
	return LEXER_OK;
}

/* Split text into statements; see lexer.h. */
enum lexer_status lexer_split(const char *text, size_t len,
			      struct lexer_result *out,
			      struct lexer_error *err)
{
	return lexer_scan_all(text, len, lexer_push, out, err);
}

/* What lexer_split_postgres() hands its push function. */
struct lexer_spans {
	dbmigrate_span_fn fn;
	void *ctx;
};

/* lexer_push_fn forwarding a statement as a span. */
static int lexer_push_span(void *ctx, size_t offset, size_t len,
			   unsigned line, unsigned column)
{
	const struct lexer_spans *sp = ctx;

	(void)line;
	(void)column;
	return sp->fn(sp->ctx, offset, len);
}

/* host->split_postgres; see lexer.h. */
dbmigrate_code lexer_split_postgres(const char *text, size_t len,
				    dbmigrate_span_fn fn, void *ctx,
				    struct dbmigrate_split_error *err)
{
	struct lexer_spans sp = { fn, ctx };
	struct lexer_error lerr = { 0 };

	switch (lexer_scan_all(text, len, lexer_push_span, &sp, &lerr)) {
	case LEXER_OK:
		return DBMIGRATE_OK;
	case LEXER_NOMEM:
		return DBMIGRATE_ENOMEM;
	case LEXER_SYNTAX:
		break;
	}
	err->message = lerr.message;
	err->hint = "Close the quote, dollar quote or comment that starts here.";
	err->offset = lerr.offset;
	return DBMIGRATE_EFILES;
}

/* Free out's array and reset it. */
void lexer_result_free(struct lexer_result *out)
{
	free(out->v);
	out->v = NULL;
	out->n = out->cap = 0;
}

/* End of the block comment at i that does not nest, or LEXER_NONE. */
static size_t lexer_flat_block_end(const unsigned char *t, size_t len, size_t i)
{
	for (i += 2; i + 1 < len; i++)
		if (t[i] == '*' && t[i + 1] == '/')
			return i + 2;
	return LEXER_NONE;
}

/*
 * End of the string opened by the quote q at i in which a backslash
 * escapes the next byte and a doubled quote stands for itself (MySQL),
 * or LEXER_NONE.
 */
static size_t lexer_backslash_end(const unsigned char *t, size_t len, size_t i,
				  unsigned char q)
{
	for (i++; i < len; i++) {
		if (t[i] == '\\') {
			i++;
		} else if (t[i] == q) {
			if (i + 1 < len && t[i + 1] == q)
				i++;
			else
				return i + 1;
		}
	}
	return LEXER_NONE;
}

/* End of the string literal opened by the quote q at i under rules lex. */
static size_t lexer_string_end(unsigned lex, const unsigned char *t,
			       size_t len, size_t i, unsigned char q)
{
	if (lex & DBMIGRATE_LEX_BACKSLASH)
		return lexer_backslash_end(t, len, i, q);
	return lexer_quoted_end(t, len, i, q);
}

/* True when the -- at i starts a comment under rules lex. */
static int lexer_dash_comment(unsigned lex, const unsigned char *t, size_t len,
			      size_t i)
{
	if (i + 1 >= len || t[i] != '-' || t[i + 1] != '-')
		return 0;
	/* MySQL: "--" must be followed by white space or a control byte. */
	return !(lex & DBMIGRATE_LEX_DASH_SPACE) || i + 2 >= len ||
	       t[i + 2] <= ' ';
}

/*
 * End of the literal or comment at i that lexer_words skips under rules
 * lex, i when there is none there; an unterminated one runs to len.
 * *exec is set at the opening of a MySQL executable comment, whose text
 * is not skipped.
 */
static size_t lexer_words_skip(unsigned lex, const unsigned char *t,
			       size_t len, size_t i, int *exec)
{
	size_t end = LEXER_NONE, n;

	if (lexer_dash_comment(lex, t, len, i) ||
	    ((lex & DBMIGRATE_LEX_HASH_COMMENTS) && t[i] == '#')) {
		end = t[i] == '#' ? i : i + 1;
		while (++end < len && t[end] != '\n' && t[end] != '\r')
			;
		return end;
	}
	if (i + 1 < len && t[i] == '/' && t[i + 1] == '*') {
		if ((lex & DBMIGRATE_LEX_EXEC_COMMENTS) && i + 2 < len &&
		    t[i + 2] == '!') {
			/* Its opening and version number are all there is
			   to skip: what follows is code. */
			for (i += 3; i < len && lexer_is_digit(t[i]); i++)
				;
			*exec = 1;
			return i;
		}
		end = (lex & DBMIGRATE_LEX_NESTED_COMMENTS)
			      ? lexer_block_end(t, len, i)
			      : lexer_flat_block_end(t, len, i);
	} else if (*exec && i + 1 < len && t[i] == '*' && t[i + 1] == '/') {
		*exec = 0;
		return i + 2;
	} else if (t[i] == '\'') {
		end = lexer_string_end(lex, t, len, i, '\'');
	} else if (t[i] == '"' && (lex & DBMIGRATE_LEX_DQUOTE_STRING)) {
		end = lexer_string_end(lex, t, len, i, '"');
	} else if (t[i] == '$' && (lex & DBMIGRATE_LEX_DOLLAR_QUOTES) &&
		   (n = lexer_dollar_delim(t, len, i)) != 0) {
		end = lexer_dollar_end(t, len, i, n);
	} else {
		return i;
	}
	return end == LEXER_NONE ? len : end;
}

/*
 * End of the quoted identifier at i under rules lex ("x", `x`, [x]), or
 * i when there is none there; an unterminated one runs to len.
 */
static size_t lexer_words_ident(unsigned lex, const unsigned char *t,
				size_t len, size_t i)
{
	size_t end;

	if (t[i] == '"' && (lex & DBMIGRATE_LEX_DQUOTE_IDENT))
		end = lexer_quoted_end(t, len, i, '"');
	else if (t[i] == '`' && (lex & DBMIGRATE_LEX_BACKTICK_IDENT))
		end = lexer_quoted_end(t, len, i, '`');
	else if (t[i] == '[' && (lex & DBMIGRATE_LEX_BRACKET_IDENT)) {
		const unsigned char *p = memchr(t + i, ']', len - i);

		end = p != NULL ? (size_t)(p - t) + 1 : LEXER_NONE;
	} else
		return i;
	return end == LEXER_NONE ? len : end;
}

/* The first words of a statement under rules lex; see lexer.h. */
size_t lexer_words(unsigned lex, const char *sql, size_t len,
		   struct dbmigrate_word *words, size_t max)
{
	const unsigned char *t = (const unsigned char *)sql;
	size_t n = 0, i = 0, j;
	int exec = 0;

	while (n < max && i < len) {
		if (lexer_is_space(t[i])) {
			i++;
			continue;
		}
		j = lexer_words_skip(lex, t, len, i, &exec);
		if (j != i) {
			i = j;
			continue;
		}
		if (lexer_is_ident_cont(t[i]) && t[i] != '$') {
			j = lexer_word_end(t, len, i);
			if ((lex & DBMIGRATE_LEX_E_STRINGS) &&
			    lexer_is_prefix(t, len, i, j)) {
				if (t[j] == '&' && t[j + 1] == '"') {
					/* U&"name" is a name: keep it as a word. */
					j = lexer_quoted_end(t, len, j + 1, '"');
				} else {
					/* E'..', X'..', U&'..' are literals. */
					if (t[j] == '&')
						j++;
					if (lexer_lower(t[i]) == 'e')
						j = lexer_estring_end(t, len, j);
					else
						j = lexer_quoted_end(t, len, j, '\'');
					i = j == LEXER_NONE ? len : j;
					continue;
				}
			}
		} else if ((j = lexer_words_ident(lex, t, len, i)) == i) {
			j = i + 1;
		}
		if (j == LEXER_NONE)
			j = len;
		words[n].s = sql + i;
		words[n].len = j - i;
		n++;
		i = j;
	}
	return n;
}

/* True when word w equals the keyword kw (ASCII, case-insensitive). */
int lexer_word_is(const struct dbmigrate_word *w, const char *kw)
{
	size_t i;

	for (i = 0; i < w->len; i++) {
		if (kw[i] == '\0' ||
		    lexer_lower((unsigned char)w->s[i]) !=
			    lexer_lower((unsigned char)kw[i]))
			return 0;
	}
	return kw[i] == '\0';
}
