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
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct name_info info;
		const char *why = "unset";

		ck_assert_msg(name_parse(good[i].file, &info, &why) == NAME_MIGRATION,
			      "%s should be a migration (%s)", good[i].file, why);
		ck_assert_ptr_null(why);
		ck_assert_str_eq(info.id, good[i].id);
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
		"001.sql", "001_.sql", "001_a b.sql", "001_a'b.sql",
		"001_x.txt", "1a_x.sql", "001_..sql", "001_x.SQL",
		"001_x.sql~", "001_x", "001_x.up.js", "001_x.down",
		"001-x.sql", "001_x.sql.bak", "001 _x.sql", "001_x.Ts",
		"001_é.sql", "001_x..sql", "001_x.sql ",
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
	ck_assert_int_eq(name_parse("001_a b.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "no spaces"));
	ck_assert_int_eq(name_parse("001.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "followed by '_'"));
	ck_assert_int_eq(name_parse("001_.sql", NULL, &why), NAME_MALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "empty"));
}
END_TEST

START_TEST(ids_are_at_most_18_digits)
{
	struct name_info info;
	const char *why;

	ck_assert_int_eq(name_parse("999999999999999999_max.sql", &info, &why),
			 NAME_MIGRATION);
	ck_assert(info.number == 999999999999999999ULL);
	ck_assert_str_eq(info.id, "999999999999999999");
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
		"migrate.sql",
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
	ck_assert_str_ne(a.id, b.id);
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
	Suite *s = suite_create("name");
	TCase *tc = tcase_create("name");
	int status;

	tcase_add_test(tc, good_names);
	tcase_add_test(tc, malformed_names_say_what_a_valid_name_is);
	tcase_add_test(tc, specific_reasons);
	tcase_add_test(tc, ids_are_at_most_18_digits);
	tcase_add_test(tc, other_files_are_ignored);
	tcase_add_test(tc, numbers_order_numerically);
	tcase_add_test(tc, parse_id);
	suite_add_tcase(s, tc);
	status = tu_run_suite(s);
	return status;
}
