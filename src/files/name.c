/*
 * name.c - what a file name in the migrations directory means. A name
 * that starts with a digit is meant to be a migration, and so is one in
 * Flyway's form (V1__name.sql, U1__name.sql, R__name.sql) or a Flyway
 * callback's (afterMigrate.sql), so one that does not parse is an error
 * the user sees (a typo must never make a migration silently vanish);
 * anything else (README.md, .gitkeep) is not ours and is ignored.
 *
 * The forms, as their tools read them:
 *  - NNN_name.sql, .ts, .js (dbmigrate, dbmate, goose): NNN is 1 to 18
 *    digits; goose's timestamps (20240101120000_name.sql) are digits too;
 *  - NNN_name.up.sql / .down.sql (golang-migrate: its regex is
 *    ^([0-9]+)_(.*)\.(up|down)\.(.*)$, so the name may hold any character
 *    but '/': dots, dashes, spaces);
 *  - V<version>__<description>.sql and U<version>__<description>.sql
 *    (Flyway: the version is digits separated by '.' or '_', split from
 *    the description at the first "__"; prefixes and suffix are
 *    case-sensitive, as in Flyway), R__<description>.sql (no version).
 * A name is at most MIGRATION_MAX_NAME bytes (the tracking table's
 * column) and holds no control character.
 */
#include <string.h>

#include "migration.h"

/* Said by every rejection, so each one teaches the valid form. */
#define NAME_VALID " A migration file is named NNN_name.sql (or .ts, .js, " \
	".up.sql, .down.sql), where NNN is 1 to 18 digits, as in " \
	"001_create_users_table.sql; Flyway's V1__name.sql, U1__name.sql " \
	"and R__name.sql are read too."

/* The extensions of NNN_name files, and the role each one gives;
   longest first, so that .up.sql wins over .sql. */
static const struct name_ext {
	const char *ext;
	enum name_role role;
} name_exts[] = {
	{ ".down.sql", NAME_ROLE_DOWN },
	{ ".up.sql", NAME_ROLE_UP },
	{ ".sql", NAME_ROLE_SQL },
	{ ".ts", NAME_ROLE_JS },
	{ ".js", NAME_ROLE_JS },
};

/* True for the characters allowed in the name of a .ts/.js file (the
   seed's format: no tool writes more). */
static bool name_js_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Set *why (when wanted) and return NAME_MALFORMED. */
static enum name_kind name_malformed(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return NAME_MALFORMED;
}

/* True when s ends with suffix. */
static bool name_ends(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The value of the first run of digits of s, saturated. */
static uint64_t name_number(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return UINT64_MAX;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v;
}

/* NULL when name[0, n) may be a name part, else why not. */
static const char *name_check_text(const char *name, size_t n)
{
	if (n > MIGRATION_MAX_NAME)
		return "The name is longer than 255 bytes, more than the "
		       "tracking table's name column holds." NAME_VALID;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return "The name holds a control character (a tab, a "
			       "line break...)." NAME_VALID;
	return NULL;
}

/* True for a Flyway callback's name: beforeMigrate.sql, afterEachMigrate__x.sql... */
static bool name_flyway_callback(const char *f, size_t n)
{
	size_t k = strncmp(f, "before", 6) == 0 ? 6 :
		   strncmp(f, "after", 5) == 0 ? 5 : 0;

	return k > 0 && f[k] >= 'A' && f[k] <= 'Z' && name_ends(f, n, ".sql");
}

/* Flyway's names: V and U with a version, R__ without. */
static enum name_kind name_parse_flyway(const char *f, size_t n,
					struct name_info *out,
					const char **why)
{
	const char *body = f + 1, *sep, *end;
	size_t vlen;
	const char *bad;

	if (name_ends(f, n, ".sql.conf"))
		return name_malformed(why, "This is a Flyway script "
			"configuration file, which dbmigrate does not read: "
			"statements that cannot run in a transaction are "
			"detected without it (executeInTransaction). Delete "
			"it, or move it out of the migrations directory."
			NAME_VALID);
	if (!name_ends(f, n, ".sql"))
		return NAME_IGNORED; /* V2-notes.txt, R2D2.md: not SQL */
	end = f + n - 4;
	sep = strstr(body, "__");
	if (sep == NULL || sep > end)
		sep = end; /* V1.sql: a version, no description */
	vlen = (size_t)(sep - body);
	if (f[0] == 'R') {
		if (vlen > 0)
			return name_malformed(why, "A Flyway repeatable migration "
				"has no version: R__description.sql." NAME_VALID);
		if (sep == end || sep + 2 == end)
			return name_malformed(why, "The description after R__ is "
				"empty: R__description.sql." NAME_VALID);
		if ((bad = name_check_text(sep + 2, (size_t)(end - sep - 2))) != NULL)
			return name_malformed(why, bad);
		out->id = f;
		out->id_len = (size_t)(end - f);
		out->number = 0;
		out->name = sep + 2;
		out->name_len = (size_t)(end - sep - 2);
		out->role = NAME_ROLE_REPEATABLE;
		return NAME_MIGRATION;
	}
	if (!migration_is_version(body, vlen)) {
		if (sep == end && memchr(body, '_', vlen) != NULL)
			return name_malformed(why, "A Flyway name separates the "
				"version from the description with two "
				"underscores: V1__description.sql." NAME_VALID);
		return name_malformed(why, "The Flyway version is not digits "
			"separated by '.' or '_' (as in V1__, V1.1__, V2_1__), "
			"or is followed by one underscore instead of two."
			NAME_VALID);
	}
	if (sep != end && (bad = name_check_text(sep + 2,
						 (size_t)(end - sep - 2))) != NULL)
		return name_malformed(why, bad);
	out->id = body;
	out->id_len = vlen;
	out->number = name_number(body, vlen);
	out->name = sep == end ? end : sep + 2;
	out->name_len = (size_t)(end - out->name);
	out->role = f[0] == 'V' ? NAME_ROLE_FLYWAY_V : NAME_ROLE_FLYWAY_U;
	return NAME_MIGRATION;
}

/* Classify a file name: see migration.h. */
enum name_kind name_parse(const char *filename, struct name_info *out,
			  const char **why)
{
	struct name_info tmp;
	size_t digits = 0, n = strlen(filename), rest;
	const char *name, *bad;

	if (out == NULL)
		out = &tmp;
	if (why != NULL)
		*why = NULL;
	if ((filename[0] == 'V' || filename[0] == 'U') &&
	    filename[1] >= '0' && filename[1] <= '9')
		return name_parse_flyway(filename, n, out, why);
	if (filename[0] == 'R' && filename[1] != '\0' &&
	    ((filename[1] == '_' && filename[2] == '_') ||
	     (filename[1] >= '0' && filename[1] <= '9')))
		return name_parse_flyway(filename, n, out, why);
	if (filename[0] == 'B' && filename[1] >= '0' && filename[1] <= '9' &&
	    name_ends(filename, n, ".sql"))
		return name_malformed(why, "This is a Flyway baseline migration "
			"(B<version>__), which dbmigrate does not run: keep the "
			"V migrations it stands for, or rename it V<version>__ "
			"if it is the first migration of a new database."
			NAME_VALID);
	if (name_flyway_callback(filename, n))
		return name_malformed(why, "This is a Flyway callback, which "
			"Flyway runs around its commands; dbmigrate has no "
			"callbacks and would not run it. Move its SQL into a "
			"migration, or move the file out of the migrations "
			"directory." NAME_VALID);
	if (filename[0] < '0' || filename[0] > '9')
		return NAME_IGNORED;
	while (filename[digits] >= '0' && filename[digits] <= '9')
		digits++;
	if (digits > MIGRATION_MAX_DIGITS)
		return name_malformed(why, "The number has more than 18 digits; "
				      "ids are at most 18 digits long." NAME_VALID);
	if (filename[digits] != '_')
		return name_malformed(why, "The number must be followed by '_' "
				      "and a name." NAME_VALID);
	name = filename + digits + 1;
	rest = n - digits - 1;
	if (name_ends(name, rest, ".go"))
		return name_malformed(why, "This is a goose Go migration: "
			"dbmigrate runs SQL migrations only and cannot run Go "
			"code. Rewrite it as NNN_name.sql with `-- +goose Up` "
			"and `-- +goose Down` sections, or keep running it with "
			"goose." NAME_VALID);
	if (name_ends(name, rest, ".d.ts"))
		return name_malformed(why, "This is a TypeScript declaration "
				      "file (.d.ts), which holds no migration; "
				      "move it out of the migrations directory."
				      NAME_VALID);
	for (size_t i = 0; i < sizeof name_exts / sizeof name_exts[0]; i++) {
		size_t k = strlen(name_exts[i].ext), len;

		if (!name_ends(name, rest, name_exts[i].ext))
			continue;
		len = rest - k;
		if (len == 0)
			return name_malformed(why, "The name after the number is "
					      "empty." NAME_VALID);
		if (name_exts[i].role == NAME_ROLE_JS) {
			for (size_t c = 0; c < len; c++)
				if (!name_js_char(name[c]))
					return name_malformed(why, "The name of "
						"a .ts or .js migration may only "
						"contain letters, digits, '_' and '-' "
						"(no spaces, quotes or other "
						"punctuation)." NAME_VALID);
		}
		if ((bad = name_check_text(name, len)) != NULL)
			return name_malformed(why, bad);
		out->id = filename;
		out->id_len = digits;
		/* 18 digits always fit: 10^18 - 1 < 2^64. */
		out->number = name_number(filename, digits);
		out->name = name;
		out->name_len = len;
		out->role = name_exts[i].role;
		return NAME_MIGRATION;
	}
	if (name_ends(name, rest, ".up") || name_ends(name, rest, ".down") ||
	    strstr(name, ".up.") != NULL || strstr(name, ".down.") != NULL)
		return name_malformed(why, "An up/down pair is named "
				      "NNN_name.up.sql and NNN_name.down.sql; "
				      "dbmigrate runs SQL only (golang-migrate "
				      "accepts any extension after .up)."
				      NAME_VALID);
	return name_malformed(why, "The extension is not one of .sql, .ts, "
			      ".js, .up.sql or .down.sql (lowercase)."
			      NAME_VALID);
}
