/*
 * segments.c - statements of a body with ranges that go whole (see
 * segments.h). The ranges come from the parser of the file's format
 * (parse-goose.c); everything else is split by lexer_split().
 */
#include "segments.h"

#include <stdlib.h>

/* True for SQL white space. */
static int segments_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Line and column of offset off of s, counted from 1. */
static void segments_line_col(const char *s, size_t off, unsigned *line,
			      unsigned *column)
{
	size_t start = 0;

	*line = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	}
	*column = (unsigned)(off - start) + 1;
}

/* Split s[from, to) with the lexer, appending with offsets in s. */
static enum lexer_status segments_lex(const char *s, size_t from, size_t to,
				      struct lexer_result *out,
				      struct lexer_error *err)
{
	size_t first = out->n;
	unsigned line, column;
	enum lexer_status ls = lexer_split(s + from, to - from, out, err);

	segments_line_col(s, from, &line, &column);
	if (ls == LEXER_SYNTAX) {
		if (err->line == 1)
			err->column += column - 1;
		err->line += line - 1;
		err->offset += from;
	}
	for (size_t i = first; i < out->n; i++) {
		if (out->v[i].line == 1)
			out->v[i].column += column - 1;
		out->v[i].line += line - 1;
		out->v[i].offset += from;
	}
	return ls;
}

/* Append s[from, to) trimmed as one statement, unless it is empty. */
static enum lexer_status segments_whole(const char *s, size_t from, size_t to,
					struct lexer_result *out)
{
	struct lexer_stmt *st;

	for (;;) {
		while (from < to && segments_space(s[from]))
			from++;
		if (to - from < 2 || s[from] != '-' || s[from + 1] != '-')
			break;
		while (from < to && s[from] != '\n')
			from++;
	}
	while (to > from && segments_space(s[to - 1]))
		to--;
	if (to > from && s[to - 1] == ';')
		to--;
	while (to > from && segments_space(s[to - 1]))
		to--;
	if (to == from)
		return LEXER_OK;
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		struct lexer_stmt *v = realloc(out->v, cap * sizeof *v);

		if (v == NULL)
			return LEXER_NOMEM;
		out->v = v;
		out->cap = cap;
	}
	st = &out->v[out->n++];
	st->offset = from;
	st->len = to - from;
	segments_line_col(s, from, &st->line, &st->column);
	return LEXER_OK;
}

enum lexer_status segments_split(const struct migration_body *b,
				 struct lexer_result *out,
				 struct lexer_error *err)
{
	size_t pos = 0;
	enum lexer_status ls = LEXER_OK;

	if (b->nwhole == 0)
		return lexer_split(b->sql, b->len, out, err);
	for (size_t k = 0; ls == LEXER_OK && k < b->nwhole; k++) {
		const struct migration_segment *g = &b->whole[k];

		if (g->offset < pos || g->offset + g->len > b->len)
			continue; /* not sorted or out of the body: ignore */
		ls = segments_lex(b->sql, pos, g->offset, out, err);
		if (ls == LEXER_OK)
			ls = segments_whole(b->sql, g->offset,
					    g->offset + g->len, out);
		pos = g->offset + g->len;
	}
	if (ls == LEXER_OK)
		ls = segments_lex(b->sql, pos, b->len, out, err);
	return ls;
}
