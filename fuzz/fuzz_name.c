/*
 * fuzz_name.c - libFuzzer harness for migration file names: any name a
 * directory can hold must classify without reading out of bounds, and
 * the answer must hold up: a NNN_ migration's id is its leading 1 to 18
 * digits, its number their value (and what migration_parse_id() gives
 * for the id, as `--to ID` is parsed), its name what lies between the
 * '_' and one of the five extensions; a Flyway V/U migration's id is the
 * version after the prefix, a repeatable's the name without .sql; names
 * are at most 255 bytes without control characters; a name starting
 * with a digit is never silently ignored; a malformed one always says
 * why.
 *
 * tests/fuzz-smoke.sh builds it (make check, make fuzz); by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_name.c src/*.c -lcrypto -ldl -lpq -o fuzz_name
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

/* Check the name part: short enough, no control characters. */
static void fuzz_check_name(const struct name_info *ni)
{
	FUZZ_ASSERT(ni->name_len <= MIGRATION_MAX_NAME);
	for (size_t i = 0; i < ni->name_len; i++)
		FUZZ_ASSERT((unsigned char)ni->name[i] >= 0x20 && ni->name[i] != 0x7f);
}

/* Check a NNN_ name classified as a migration against the file name. */
static void fuzz_check_numbered(const char *fn, const struct name_info *ni)
{
	size_t digits = ni->id_len;
	uint64_t v = 0, parsed = 0;
	char id[MIGRATION_MAX_DIGITS + 1];
	const char *ext;
	int found = 0;

	FUZZ_ASSERT(ni->id == fn);
	FUZZ_ASSERT(digits >= 1 && digits <= MIGRATION_MAX_DIGITS);
	for (size_t i = 0; i < digits; i++) {
		FUZZ_ASSERT(fn[i] >= '0' && fn[i] <= '9');
		v = v * 10 + (uint64_t)(fn[i] - '0');
	}
	FUZZ_ASSERT(v == ni->number);
	memcpy(id, fn, digits);
	id[digits] = '\0';
	FUZZ_ASSERT(migration_parse_id(id, &parsed) && parsed == v);
	FUZZ_ASSERT(fn[digits] == '_');
	FUZZ_ASSERT(ni->name == fn + digits + 1);
	FUZZ_ASSERT(ni->name_len > 0);
	ext = ni->name + ni->name_len;
	for (size_t i = 0; i < sizeof fuzz_exts / sizeof fuzz_exts[0]; i++) {
		if (strcmp(ext, fuzz_exts[i].ext) == 0 &&
		    ni->role == fuzz_exts[i].role)
			found = 1;
	}
	FUZZ_ASSERT(found);
}

/* Check a Flyway name: V/U and a version, or R__ and a name. */
static void fuzz_check_flyway(const char *fn, const struct name_info *ni)
{
	size_t n = strlen(fn);

	FUZZ_ASSERT(n > 4 && strcmp(fn + n - 4, ".sql") == 0);
	if (ni->role == NAME_ROLE_REPEATABLE) {
		FUZZ_ASSERT(ni->id == fn && strncmp(fn, "R__", 3) == 0);
		FUZZ_ASSERT(ni->id_len == n - 4 && ni->name == fn + 3);
		FUZZ_ASSERT(ni->name_len > 0 && ni->name_len == n - 7);
		return;
	}
	FUZZ_ASSERT(fn[0] == (ni->role == NAME_ROLE_FLYWAY_V ? 'V' : 'U'));
	FUZZ_ASSERT(ni->id == fn + 1);
	FUZZ_ASSERT(migration_is_version(ni->id, ni->id_len));
	FUZZ_ASSERT(ni->name + ni->name_len == fn + n - 4);
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
		/* A name that starts with a digit is always ours. */
		FUZZ_ASSERT(!(fn[0] >= '0' && fn[0] <= '9'));
		FUZZ_ASSERT(why == NULL);
		break;
	case NAME_MIGRATION:
		FUZZ_ASSERT(why == NULL);
		fuzz_check_name(&ni);
		if (ni.role == NAME_ROLE_FLYWAY_V || ni.role == NAME_ROLE_FLYWAY_U ||
		    ni.role == NAME_ROLE_REPEATABLE)
			fuzz_check_flyway(fn, &ni);
		else
			fuzz_check_numbered(fn, &ni);
		break;
	case NAME_MALFORMED:
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
	/* Any text has a class, and compares equal to itself. */
	FUZZ_ASSERT(migration_id_cmp(fn, fn) == 0);
	free(fn);
	return 0;
}
