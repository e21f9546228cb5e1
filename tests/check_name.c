/*
 * check_name.c - migration file names: what is a migration, what is an
 * error the user must see (never a silently skipped file), what is not
 * ours; numbers as the order sees them; ids as the tracking table has
 * them.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "migration.h"
#include "testutil.h"

START_TEST(good_names)
{
	static const struct {
		const char *file, *id, *name;
		uint64_t number;
		enum name_role role;
	} good[] = {
		{ "001_create_users_table.sql", "001", "create_users_table", 1, NAME_ROLE_SQL },
		{ "002_create_user_sessions_table.ts", "002", "create_user_sessions_table", 2, NAME_ROLE_JS },
		{ "3_legacy.js", "3", "legacy", 3, NAME_ROLE_JS },
		{ "004_split.up.sql", "004", "split", 4, NAME_ROLE_UP },
		{ "004_split.down.sql", "004", "split", 4, NAME_ROLE_DOWN },
		{ "1000_more-digits.sql", "1000", "more-digits", 1000, NAME_ROLE_SQL },
		{ "20261124100000_timestamp_id.sql", "20261124100000", "timestamp_id",
		  20261124100000ULL, NAME_ROLE_SQL },
		{ "0_zero.sql", "0", "zero", 0, NAME_ROLE_SQL },
		{ "007_MixedCase_And_9.sql", "007", "MixedCase_And_9", 7, NAME_ROLE_SQL },
		{ "008__leading_underscore.sql", "008", "_leading_underscore", 8, NAME_ROLE_SQL },
		/* golang-migrate: the title is anything but '/'. */
		{ "0002_1.7.0_schema.up.sql", "0002", "1.7.0_schema", 2, NAME_ROLE_UP },
		{ "0002_1.7.0_schema.down.sql", "0002", "1.7.0_schema", 2, NAME_ROLE_DOWN },
		{ "3_add users (v2).up.sql", "3", "add users (v2)", 3, NAME_ROLE_UP },
		{ "4_x.y.sql", "4", "x.y", 4, NAME_ROLE_SQL },
		/* goose: timestamps and any name. */
		{ "20240102030405_add column.sql", "20240102030405", "add column",
		  20240102030405ULL, NAME_ROLE_SQL },
		/* Flyway: versions as written, split at the first "__". */
		{ "V1__init.sql", "1", "init", 1, NAME_ROLE_FLYWAY_V },
		{ "V1.1__add_email.sql", "1.1", "add_email", 1, NAME_ROLE_FLYWAY_V },
		{ "V2_1__x__y.sql", "2_1", "x__y", 2, NAME_ROLE_FLYWAY_V },
		{ "V003.sql", "003", "", 3, NAME_ROLE_FLYWAY_V },
		{ "U1.1__drop_email.sql", "1.1", "drop_email", 1, NAME_ROLE_FLYWAY_U },
		{ "R__views.sql", "R__views", "views", 0, NAME_ROLE_REPEATABLE },
		{ "R__refresh all views.sql", "R__refresh all views", "refresh all views",
		  0, NAME_ROLE_REPEATABLE },
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct name_info info;
		const char *why = "unset";

		ck_assert_msg(name_parse(good[i].file, &info, &why) == NAME_MIGRATION,
			      "%s should be a migration (%s)", good[i].file, why);
		ck_assert_ptr_null(why);
		ck_assert_int_eq(info.id_len, strlen(good[i].id));
		ck_assert(strncmp(info.id, good[i].id, info.id_len) == 0);
		ck_assert(info.number == good[i].number);
		ck_assert_uint_eq(info.name_len, strlen(good[i].name));
		ck_assert(strncmp(info.name, good[i].name, info.name_len) == 0);
		ck_assert_int_eq(info.role, good[i].role);
		/* The name points into the file name, not a copy. */
		ck_assert(info.name > good[i].file &&
			  info.name < good[i].file + strlen(good[i].file));
	}
}
END_TEST

START_TEST(malformed_names_say_what_a_valid_name_is)
{
	static const char *const bad[] = {
		"001.sql", "001_.sql", "001_a\tb.sql", "001_a b.ts",
		"001_x.txt", "1a_x.sql", "001_x.SQL", "002_x.go",
		"001_x.sql~", "001_x", "001_x.up.js", "001_x.down",
		"001-x.sql", "001_x.sql.bak", "001 _x.sql", "001_x.Ts",
		"001_é.js", "001_x.sql ", "001_.up.sql", "V1_init.sql",
		"V1.x__init.sql", "R1__views.sql", "R__.sql", "B5__base.sql",
		"afterMigrate.sql", "beforeEachMigrate__log.sql",
		"V1__init.sql.conf", "U1.__x.sql",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct name_info info;
		const char *why = NULL;

		ck_assert_msg(name_parse(bad[i], &info, &why) == NAME_MALFORMED,
			      "%s should be malformed", bad[i]);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strstr(why, "NNN_name.sql") != NULL,
			      "why for %s does not show the valid form: %s",
			      bad[i], why);
		ck_assert_msg(strstr(why, "001_create_users_table.sql") != NULL,
			      "why for %s has no example", bad[i]);
	}
}
END_TEST

START_TEST(specific_reasons)
{
	const char *why;

	ck_assert_int_eq(name_parse("001_x.d.ts", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "declaration"));
	ck_assert_int_eq(name_parse("001_x.txt", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "extension"));
	ck_assert_int_eq(name_parse("001_a b.js", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "no spaces"));
	ck_assert_int_eq(name_parse("001_a\nb.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "control character"));
	ck_assert_int_eq(name_parse("00002_add_users.go", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "goose Go migration"));
	ck_assert_int_eq(name_parse("V2_add.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "two underscores"));
	ck_assert_int_eq(name_parse("afterMigrate.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "Flyway callback"));
	ck_assert_int_eq(name_parse("B3__baseline.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "baseline migration"));
	ck_assert_int_eq(name_parse("R2__x.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "has no version"));
	ck_assert_int_eq(name_parse("V1__x.sql.conf", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "script configuration"));
	ck_assert_int_eq(name_parse("1_x.up.cql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "up/down pair"));
	ck_assert_int_eq(name_parse("001.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "followed by '_'"));
	ck_assert_int_eq(name_parse("001_.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "empty"));
}
END_TEST

/* A name longer than the tracking table's column is refused, whatever
   the format (found by fuzz_name: a .ts name of 272 bytes was taken). */
START_TEST(long_names_are_refused_in_every_format)
{
	static const char *const exts[] = { ".sql", ".ts", ".js", ".up.sql",
					    ".down.sql" };
	char fn[400];
	const char *why;

	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		memset(fn, 'a', sizeof fn);
		memcpy(fn, "001_", 4);
		/* 255 bytes of name: the longest that fits. */
		strcpy(fn + 4 + 255, exts[i]);
		ck_assert_int_eq(name_parse(fn, NULL, &why), NAME_MIGRATION);
		memset(fn + 4, 'a', 256);
		strcpy(fn + 4 + 256, exts[i]);
		ck_assert_int_eq(name_parse(fn, NULL, &why), NAME_MALFORMED);
		ck_assert_ptr_nonnull(strstr(why, "longer than 255 bytes"));
	}
}
END_TEST

START_TEST(ids_are_at_most_18_digits)
{
	struct name_info info;
	const char *why;

	ck_assert_int_eq(name_parse("999999999999999999_max.sql", &info, &why),
			 NAME_MIGRATION);
	ck_assert(info.number == 999999999999999999ULL);
	ck_assert_int_eq(info.id_len, 18);
	ck_assert(strncmp(info.id, "999999999999999999", 18) == 0);
	ck_assert_int_eq(name_parse("000000000000000001_padded.sql", &info, &why),
			 NAME_MIGRATION);
	ck_assert(info.number == 1);

	ck_assert_int_eq(name_parse("1234567890123456789_x.sql", &info, &why),
			 NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "at most 18 digits"));
	/* 2^64: would wrap around to 0 with a naive parser. */
	ck_assert_int_eq(name_parse("18446744073709551616_x.sql", &info, &why),
			 NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "at most 18 digits"));
	ck_assert_int_eq(name_parse("0000000000000000001_x.sql", &info, &why),
			 NAME_MALFORMED);
}
END_TEST

START_TEST(other_files_are_ignored)
{
	static const char *const other[] = {
		"README.md", ".gitkeep", ".DS_Store", "notes.txt", "local.mk",
		"_001_x.sql", "x001_y.sql", ".001_x.sql.swp", "", "-1_x.sql",
		"migrate.sql", "v1__lower.sql", "V2-notes.txt", "R2D2.md",
		"Rakefile", "BACKUP.sql", "after.sql", "afterwards.sql",
	};

	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
		const char *why = "unset";

		ck_assert_msg(name_parse(other[i], NULL, &why) == NAME_IGNORED,
			      "%s should be ignored", other[i]);
		ck_assert_ptr_null(why);
	}
}
END_TEST

START_TEST(numbers_order_numerically)
{
	struct name_info a, b;

	ck_assert_int_eq(name_parse("2_a.sql", &a, NULL), NAME_MIGRATION);
	ck_assert_int_eq(name_parse("10_b.sql", &b, NULL), NAME_MIGRATION);
	ck_assert(a.number < b.number);      /* "10" < "2" as strings */
	ck_assert_int_eq(name_parse("999_a.sql", &a, NULL), NAME_MIGRATION);
	ck_assert_int_eq(name_parse("1000_b.sql", &b, NULL), NAME_MIGRATION);
	ck_assert(a.number < b.number);
	/* Same number, different ids: discover calls this a duplicate. */
	ck_assert_int_eq(name_parse("001_a.sql", &a, NULL), NAME_MIGRATION);
	ck_assert_int_eq(name_parse("1_b.sql", &b, NULL), NAME_MIGRATION);
	ck_assert(a.number == b.number);
	ck_assert(a.id_len != b.id_len);
}
END_TEST

/* Versions compare part by part as numbers, Flyway's way. */
START_TEST(versions_compare_part_by_part)
{
	static const char *const ordered[] = {
		"0", "1", "1.1", "1.2", "1.10", "2", "2_1", "2.1.1", "10",
		"20240101120000",
	};
	size_t n = sizeof ordered / sizeof ordered[0];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int c = migration_id_cmp(ordered[i], ordered[j]);

			ck_assert_msg((i < j && c < 0) || (i == j && c == 0) ||
				      (i > j && c > 0), "%s vs %s: %d",
				      ordered[i], ordered[j], c);
		}
	/* The same version, written differently. */
	ck_assert_int_eq(migration_id_cmp("001", "1"), 0);
	ck_assert_int_eq(migration_id_cmp("1.0", "1"), 0);
	ck_assert_int_eq(migration_id_cmp("1_0_0", "1"), 0);
	ck_assert_int_eq(migration_id_cmp("2.1", "2_1"), 0);
	/* Repeatables after every version, other ids last. */
	ck_assert_int_lt(migration_id_cmp("99999", "R__a"), 0);
	ck_assert_int_lt(migration_id_cmp("R__a", "R__b"), 0);
	ck_assert_int_lt(migration_id_cmp("R__z", "abc"), 0);
	ck_assert(!migration_is_version("1.", 2));
	ck_assert(!migration_is_version("1..2", 4));
	ck_assert(!migration_is_version("", 0));
	ck_assert(!migration_is_version("-1", 2));
	ck_assert(migration_is_version("1_2.3", 5));
	ck_assert_int_eq(migration_id_class("R__"), 2);
}
END_TEST

START_TEST(parse_id)
{
	uint64_t n = 12345;

	ck_assert(migration_parse_id("001", &n));
	ck_assert(n == 1);
	ck_assert(migration_parse_id("0", &n));
	ck_assert(n == 0);
	ck_assert(migration_parse_id("999999999999999999", &n));
	ck_assert(n == 999999999999999999ULL);
	n = 77;
	ck_assert(!migration_parse_id("1234567890123456789", &n));
	ck_assert(!migration_parse_id("18446744073709551616", &n));
	ck_assert(!migration_parse_id("", &n));
	ck_assert(!migration_parse_id("12a", &n));
	ck_assert(!migration_parse_id("-1", &n));
	ck_assert(!migration_parse_id(" 1", &n));
	ck_assert(!migration_parse_id("001_x", &n));
	ck_assert(n == 77);                 /* untouched on failure */
}
END_TEST

/* Run the suite; non-zero exit when a test failed. */
int main(void)
{
	const TTest *const tests[] = {
		good_names, malformed_names_say_what_a_valid_name_is,
		specific_reasons, long_names_are_refused_in_every_format,
		ids_are_at_most_18_digits, other_files_are_ignored,
		versions_compare_part_by_part, numbers_order_numerically,
		parse_id, NULL
	};

	return tu_run_suite(tu_suite("name", 0, tests));
}
