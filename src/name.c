/*
 * name.c - what a file name in the migrations directory means. A name
 * that starts with a digit is meant to be a migration, so one that does
 * not parse is an error the user sees (a typo must never make a
 * migration silently vanish); anything else (README.md, .gitkeep) is not
 * ours and is ignored.
 */
#include <string.h>

#include "migration.h"

/* Said by every rejection, so each one teaches the valid form. */
#define NAME_VALID " A migration file is named NNN_name.sql (or .ts, .js, " \
	".up.sql, .down.sql), where NNN is 1 to 18 digits and name is " \
	"letters, digits, '_' and '-', as in 001_create_users_table.sql."

/* The extensions a migration may have, and the role each one gives. */
static const struct name_ext {
	const char *ext;
	enum name_role role;
} name_exts[] = {
	{ ".sql", NAME_ROLE_SQL },
	{ ".ts", NAME_ROLE_JS },
	{ ".js", NAME_ROLE_JS },
	{ ".up.sql", NAME_ROLE_UP },
	{ ".down.sql", NAME_ROLE_DOWN },
};

/* True for the characters allowed in the name part. */
static bool name_char(char c)
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

/* Classify a file name: see migration.h. */
enum name_kind name_parse(const char *filename, struct name_info *out,
			  const char **why)
{
	struct name_info tmp;
	size_t digits = 0, n;
	const char *name, *ext;

	if (out == NULL)
		out = &tmp;
	if (why != NULL)
		*why = NULL;
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
	for (n = 0; name_char(name[n]); n++)
		;
	if (n == 0)
		return name_malformed(why, "The name after the number is empty "
				      "or starts with a character other than "
				      "letters, digits, '_' and '-'." NAME_VALID);
	ext = name + n;
	if (*ext != '.')
		return name_malformed(why, "The name may only contain letters, "
				      "digits, '_' and '-' (no spaces, quotes or "
				      "other punctuation)." NAME_VALID);
	for (size_t i = 0; i < sizeof name_exts / sizeof name_exts[0]; i++) {
		if (strcmp(ext, name_exts[i].ext) != 0)
			continue;
		memcpy(out->id, filename, digits);
		out->id[digits] = '\0';
		/* 18 digits always fit: 10^18 - 1 < 2^64. */
		out->number = 0;
		for (size_t d = 0; d < digits; d++)
			out->number = out->number * 10 +
				      (uint64_t)(filename[d] - '0');
		out->name = name;
		out->name_len = n;
		out->role = name_exts[i].role;
		return NAME_MIGRATION;
	}
	if (strcmp(ext, ".d.ts") == 0)
		return name_malformed(why, "This is a TypeScript declaration "
				      "file (.d.ts), which holds no migration; "
				      "move it out of the migrations directory."
				      NAME_VALID);
	return name_malformed(why, "The extension is not one of .sql, .ts, "
			      ".js, .up.sql or .down.sql (lowercase)."
			      NAME_VALID);
}
