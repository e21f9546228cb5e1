/*
 * fuzz_lexer.c - libFuzzer harness for the statement splitter: migration
 * files come from users, so any bytes must split without reading out of
 * bounds, and the statements must make sense: in order, not overlapping,
 * inside the text, starting and ending on a token, with correct lines
 * and columns, and each one splitting back to itself on its own.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_lexer.c src/host/lexer.c -o fuzz_lexer
 *   ./fuzz_lexer -max_total_time=20 tests/data/fuzz/lexer
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lexer.h"

/* True for the white space the lexer skips. */
static int fuzz_is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* A copy of n bytes in a buffer of exactly n bytes, so ASan sees overreads. */
static char *fuzz_copy(const char *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	if (c == NULL)
		abort();
	memcpy(c, p, n);
	return c;
}

/* Check the words of one statement stay inside it. */
static void fuzz_check_words(const char *sql, size_t len)
{
	struct dbmigrate_word w[8];
	size_t n = lexer_words(DBMIGRATE_LEX_POSTGRES, sql, len, w, 8);
	const char *prev_end = sql;

	FUZZ_ASSERT(n <= 8);
	for (size_t i = 0; i < n; i++) {
		FUZZ_ASSERT(w[i].len > 0);
		FUZZ_ASSERT(w[i].s >= prev_end);
		FUZZ_ASSERT(w[i].s + w[i].len <= sql + len);
		FUZZ_ASSERT(lexer_word_is(&w[i], "") == 0);
		prev_end = w[i].s + w[i].len;
	}
}

/* Check that a statement split on its own is exactly itself. */
static void fuzz_check_alone(const char *sql, size_t len)
{
	char *copy = fuzz_copy(sql, len);
	struct lexer_result r = { 0 };
	struct lexer_error err;
	enum lexer_status rc = lexer_split(copy, len, &r, &err);

	FUZZ_ASSERT(rc == LEXER_OK);
	FUZZ_ASSERT(r.n == 1);
	FUZZ_ASSERT(r.v[0].offset == 0 && r.v[0].len == len);
	lexer_result_free(&r);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy((const char *)data, size);
	struct lexer_result r = { 0 };
	struct lexer_error err = { 0 };
	enum lexer_status rc = lexer_split(text, size, &r, &err);
	size_t prev_end = 0;

	if (rc == LEXER_SYNTAX) {
		FUZZ_ASSERT(err.message != NULL);
		FUZZ_ASSERT(err.offset < size);
		fuzz_check_position(text, err.offset, err.line, err.column);
	} else {
		FUZZ_ASSERT(rc == LEXER_OK);
		for (size_t i = 0; i < r.n; i++) {
			const struct lexer_stmt *st = &r.v[i];

			FUZZ_ASSERT(st->len > 0);
			FUZZ_ASSERT(st->offset <= size &&
				    st->len <= size - st->offset);
			/* In order, apart: a semicolon separates them. */
			FUZZ_ASSERT(i == 0 || st->offset > prev_end);
			FUZZ_ASSERT(!fuzz_is_space(text[st->offset]));
			FUZZ_ASSERT(!fuzz_is_space(text[st->offset + st->len - 1]));
			FUZZ_ASSERT(text[st->offset] != ';');
			fuzz_check_position(text, st->offset, st->line,
					    st->column);
			fuzz_check_words(text + st->offset, st->len);
			fuzz_check_alone(text + st->offset, st->len);
			prev_end = st->offset + st->len;
		}
	}
	lexer_result_free(&r);
	/* The words of any bytes at all, split or not. */
	fuzz_check_words(text, size);
	free(text);
	return 0;
}
