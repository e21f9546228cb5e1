/*
 * fuzz_parse_flyway.c - libFuzzer harness for Flyway's files (a V and
 * its U, whole files of SQL, ${placeholders} refused) and Flyway's
 * checksum. Any file text must parse or fail at a line of the file; a
 * parsed body is the whole file after a byte order mark; the checksum
 * does not depend on line endings, as Flyway's reads lines.
 *
 * The first input byte says where the V's text ends and the U's begins
 * (255: no U file).
 *
 * tests/fuzz-smoke.sh builds it (make check, make fuzz); by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_parse_flyway.c src/*.c -lcrypto -ldl -lpq \
 *       -o fuzz_parse_flyway
 *   mkdir -p corpus && ./fuzz_parse_flyway -max_total_time=60 corpus \
 *       tests/data/fuzz/parse_flyway
 *
 * (The first directory receives new inputs: never the seed corpus.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "errors.h"
#include "fsutil.h"
#include "migration.h"

/* The text with every CR LF made LF: the same lines. */
static char *fuzz_lf(const char *s, size_t n, size_t *out)
{
	char *t = malloc(n + 1);
	size_t k = 0;

	if (t == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			t[k++] = s[i];
	t[k] = '\0';
	*out = k;
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migration m;
	dbmigrate_error err = { .code = DBMIGRATE_OK };
	size_t cut;

	if (size < 1)
		return 0;
	cut = data[0] == 255 ? size - 1 : (size - 1) * data[0] / 255;
	memset(&m, 0, sizeof m);
	m.id = fuzz_strdup("1");
	m.name = fuzz_strdup("fuzz");
	m.label = fuzz_strdup("V1__fuzz");
	m.path = fuzz_strdup("V1__fuzz.sql");
	m.format = MIGRATION_FORMAT_FLYWAY;
	m.text = fuzz_text(data + 1, cut, true);
	m.text_len = cut;
	if (m.text == NULL)
		goto out;
	if (data[0] != 255) {
		m.down_path = fuzz_strdup("U1__fuzz.sql");
		m.down_text = fuzz_text(data + 1 + cut, size - 1 - cut, true);
		m.down_text_len = size - 1 - cut;
		if (m.down_text == NULL)
			goto out;
	}
	if (parse_flyway(&m, &err) != DBMIGRATE_OK) {
		FUZZ_ASSERT(err.code == DBMIGRATE_EFILES);
		FUZZ_ASSERT(err.message != NULL && strstr(err.message, "${") != NULL);
		FUZZ_ASSERT(err.line >= 1);
	} else {
		size_t bom = m.text_len >= 3 && memcmp(m.text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

		FUZZ_ASSERT(m.up.present && m.up.sql == m.text + bom);
		FUZZ_ASSERT(m.up.len == m.text_len - bom && m.up.sql[m.up.len] == '\0');
		FUZZ_ASSERT(m.down.present == (m.down_text != NULL));
	}
	{
		size_t n;
		char *lf = fuzz_lf(m.text, m.text_len, &n);

		FUZZ_ASSERT(parse_flyway_checksum(m.text, m.text_len) ==
			    parse_flyway_checksum(lf, n));
		free(lf);
	}
out:
	errors_clear(&err);
	migration_free(&m);
	return 0;
}
