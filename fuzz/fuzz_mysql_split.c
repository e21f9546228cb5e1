/*
 * fuzz_mysql_split.c - libFuzzer harness for the MySQL driver's
 * splitter (drivers/mysql/my-split.c, the mysql client's rules): any
 * bytes split without reading out of bounds; statements come in order
 * inside the text, never empty, never starting or ending with white
 * space, and the byte after each is part of no other statement (the
 * core writes a NUL there while it runs); a refused text names an offset
 * inside it. And one statement read back alone is one statement, itself
 * (less a trailing "--", a comment at the end of a text):
 * the split finds the same boundaries whatever came before, unless a
 * DELIMITER line changed the terminator or an executable comment goes
 * on past a ';' (inputs with either are checked for the rest only).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       $(pkg-config --cflags libmariadb) fuzz/fuzz_mysql_split.c \
 *       drivers/mysql/my-split.c drivers/common/drvkit.c -o fuzz_mysql_split
 *   ./fuzz_mysql_split -max_total_time=20 tests/data/fuzz/mysql_split
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../drivers/mysql/my.h"
#include "fuzz.h"

#define FUZZ_MAX 4096

/* The white space the splitter skips between statements. */
static int fuzz_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* True when text[0, len) holds what carries state from one statement
   to the next: a word DELIMITER in any case (it changes the terminator
   for what follows) or an executable comment (a ';' inside one ends the
   statement, as in the mysql client, and the comment goes on). */
static int fuzz_has_state(const char *text, size_t len)
{
	static const char w[] = "delimiter";

	for (size_t i = 0; i + 3 <= len; i++) {
		size_t k = 0;

		if (text[i] == '/' && text[i + 1] == '*' &&
		    (text[i + 2] == '!' || text[i + 2] == 'M'))
			return 1;
		while (i + k < len && k < 9 && (text[i + k] | 0x20) == w[k])
			k++;
		if (k == 9)
			return 1;
	}
	return 0;
}

/* Split text[0, len), copied to exactly len bytes so that ASan sees a
   read past the end. */
static dbmigrate_code fuzz_split(const char *data, size_t len,
				 struct fuzz_spans *s,
				 struct dbmigrate_split_error *err)
{
	char *text = malloc(len ? len : 1);
	dbmigrate_code rc;

	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, len);
	s->n = 0;
	rc = my_split(NULL, text, len, fuzz_span, s, err);
	free(text);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_spans *s = calloc(1, sizeof *s);
	struct fuzz_spans *again = calloc(1, sizeof *again);
	struct dbmigrate_split_error err = {0};
	const char *text = (const char *)data;
	size_t len = size < FUZZ_MAX ? size : FUZZ_MAX, end = 0;
	dbmigrate_code rc;

	FUZZ_ASSERT(s != NULL && again != NULL);
	rc = fuzz_split(text, len, s, &err);
	if (rc == DBMIGRATE_EFILES) {
		FUZZ_ASSERT(err.message != NULL && err.offset < len);
	} else if (rc == DBMIGRATE_OK) {
		int delim = fuzz_has_state(text, len);

		for (size_t i = 0; i < s->n; i++) {
			const char *st = text + s->off[i];

			FUZZ_ASSERT(s->len[i] > 0);
			FUZZ_ASSERT(s->off[i] <= len && s->len[i] <= len - s->off[i]);
			/* after the previous one and the byte after it */
			FUZZ_ASSERT(i == 0 || s->off[i] > end);
			FUZZ_ASSERT(!fuzz_space(st[0]));
			FUZZ_ASSERT(!fuzz_space(st[s->len[i] - 1]));
			end = s->off[i] + s->len[i];
			if (delim)
				continue;
			/* Alone, it is one statement: itself, but for a
			   "--" at its very end, which alone is a comment
			   (as the server reads it) and in the file was
			   followed by one more '-'. */
			struct dbmigrate_split_error e2 = {0};

			FUZZ_ASSERT(fuzz_split(st, s->len[i], again, &e2) == DBMIGRATE_OK);
			FUZZ_ASSERT(again->n <= 1);
			if (again->n == 0)
				again->len[0] = 0; /* it was "--" alone */
			FUZZ_ASSERT(again->n == 0 || (again->off[0] == 0 &&
						      again->len[0] <= s->len[i]));
			if (again->len[0] < s->len[i]) {
				/* what it lost ends in "--" and holds no
				   code: alone it is no statement */
				size_t cut = again->len[0];

				FUZZ_ASSERT(st[s->len[i] - 1] == '-' &&
					    st[s->len[i] - 2] == '-');
				FUZZ_ASSERT(fuzz_split(st + cut, s->len[i] - cut,
						       again, &e2) == DBMIGRATE_OK &&
					    again->n == 0);
			}
		}
	} else {
		FUZZ_ASSERT(rc == DBMIGRATE_ENOMEM && s->n == FUZZ_SPANS);
	}
	free(s);
	free(again);
	return 0;
}
