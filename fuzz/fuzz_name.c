/*
 * fuzz_name.c - libFuzzer harness for migration file names: any name a
 * directory can hold must classify without reading out of bounds, and
 * the answer must hold up: a migration's id is its leading 1 to 18
 * digits, its number their value (and what migration_parse_id() gives
 * for the id, as `--to ID` is parsed), its name the [A-Za-z0-9_-] run
 * after the '_', its extension one of the five; a name starting with a
 * digit is never silently ignored; a malformed one always says why.
 *
 * tests/fuzz-smoke.sh builds it (make check, make fuzz); by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_name.c src/name.c src/migration.c src/parse-sql.c \
 *       src/parse-js.c src/checksum.c src/fsutil.c src/errors.c \
 *       src/strbuf.c -lcrypto -o fuzz_name
 *   mkdir -p corpus && ./fuzz_name -max_total_time=60 corpus \
 *       tests/data/fuzz/name
 *
 * (The first directory receives new inputs: never the seed corpus.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "migration.h"

/* The extensions and the role each one gives, as name.c promises. */
static const struct {
	const char *ext;
	enum name_role role;
} fuzz_exts[] = {
	{ ".sql", NAME_ROLE_SQL },
	{ ".ts", NAME_ROLE_JS },
	{ ".js", NAME_ROLE_JS },
	{ ".up.sql", NAME_ROLE_UP },
	{ ".down.sql", NAME_ROLE_DOWN },
};

/* True for the characters a migration's name may hold. */
static int fuzz_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Check a name classified as a migration against the file name. */
static void fuzz_check_migration(const char *fn, const struct name_info *ni)
{
	size_t digits = strlen(ni->id);
	uint64_t v = 0, parsed = 0;
	const char *ext;
	int found = 0;

	FUZZ_ASSERT(digits >= 1 && digits <= MIGRATION_MAX_DIGITS);
	FUZZ_ASSERT(strncmp(fn, ni->id, digits) == 0);
	for (size_t i = 0; i < digits; i++) {
		FUZZ_ASSERT(ni->id[i] >= '0' && ni->id[i] <= '9');
		v = v * 10 + (uint64_t)(ni->id[i] - '0');
	}
	FUZZ_ASSERT(v == ni->number);
	FUZZ_ASSERT(migration_parse_id(ni->id, &parsed) && parsed == v);
	FUZZ_ASSERT(fn[digits] == '_');
	FUZZ_ASSERT(ni->name == fn + digits + 1);
	FUZZ_ASSERT(ni->name_len > 0);
	for (size_t i = 0; i < ni->name_len; i++)
		FUZZ_ASSERT(fuzz_name_char(ni->name[i]));
	ext = ni->name + ni->name_len;
	for (size_t i = 0; i < sizeof fuzz_exts / sizeof fuzz_exts[0]; i++) {
		if (strcmp(ext, fuzz_exts[i].ext) == 0) {
			FUZZ_ASSERT(ni->role == fuzz_exts[i].role);
			found = 1;
		}
	}
	FUZZ_ASSERT(found);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A file name is a C string: it ends at the first NUL. */
	char *fn = malloc(size + 1);
	struct name_info ni;
	const char *why = NULL;
	enum name_kind kind;
	uint64_t number = 0;

	if (fn == NULL)
		abort();
	memcpy(fn, data, size);
	fn[size] = '\0';
	memset(&ni, 0, sizeof ni);
	kind = name_parse(fn, &ni, &why);
	switch (kind) {
	case NAME_IGNORED:
		/* Only names that do not start with a digit are not ours. */
		FUZZ_ASSERT(!(fn[0] >= '0' && fn[0] <= '9'));
		FUZZ_ASSERT(why == NULL);
		break;
	case NAME_MIGRATION:
		FUZZ_ASSERT(why == NULL);
		fuzz_check_migration(fn, &ni);
		break;
	case NAME_MALFORMED:
		FUZZ_ASSERT(fn[0] >= '0' && fn[0] <= '9');
		FUZZ_ASSERT(why != NULL && why[0] != '\0');
		break;
	default:
		FUZZ_ASSERT(0);
	}
	/* Without an out parameter it must say the same. */
	FUZZ_ASSERT(name_parse(fn, NULL, NULL) == kind);
	/* An id (--to ID) parses exactly when it is 1 to 18 digits. */
	{
		size_t n = strlen(fn), d = strspn(fn, "0123456789");

		FUZZ_ASSERT(migration_parse_id(fn, &number) ==
			    (n > 0 && d == n && n <= MIGRATION_MAX_DIGITS));
	}
	free(fn);
	return 0;
}
