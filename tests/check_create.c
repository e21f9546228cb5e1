/*
 * check_create.c - create.c: names become snake_case, the next id keeps
 * the width of the existing ones, and the new file is written with
 * empty sections, its directory created, and never over an existing
 * file.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "create.h"
#include "errors.h"
#include "testutil.h"

/* A migration set holding the given ids (numbers parsed from them). */
static struct migration_set make_set(const char *const *ids, size_t n)
{
	struct migration_set s = { 0 };

	s.v = calloc(n > 0 ? n : 1, sizeof *s.v);
	ck_assert_ptr_nonnull(s.v);
	for (size_t i = 0; i < n; i++) {
		s.v[i].id = (char *)(uintptr_t)ids[i];
		s.v[i].number = strtoull(ids[i], NULL, 10);
	}
	s.n = n;
	return s;
}

START_TEST(snake_case)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "AddUserPreferences", "add_user_preferences" },
		{ "add users table", "add_users_table" },
		{ "add-email--index", "add_email_index" },
		{ "HTTPServer", "http_server" },
		{ "addHTTPServer2Config", "add_http_server2_config" },
		{ "  --Create Users!! ", "create_users" },
		{ "create_users_table", "create_users_table" },
		{ "already__snake__", "already_snake" },
		{ "v2", "v2" },
		{ "A", "a" },
		{ "caf\xc3\xa9 menu", "caf_menu" },
	};
	const char *why;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got;

		why = NULL;
		got = create_snake_case(cases[i].in, &why);
		ck_assert_msg(got != NULL && strcmp(got, cases[i].out) == 0,
			      "\"%s\" gave \"%s\"", cases[i].in, got ? got : "(null)");
		free(got);
	}
	why = NULL;
	ck_assert_ptr_null(create_snake_case("", &why));
	ck_assert_ptr_nonnull(why);
	why = NULL;
	ck_assert_ptr_null(create_snake_case("!!!", &why));
	ck_assert_ptr_nonnull(strstr(why, "no letters or digits"));
}
END_TEST

/* create_next_id on the given ids, expecting success. */
static void next_id_is(const char *const *ids, size_t n, const char *want)
{
	struct migration_set s = make_set(ids, n);
	dbmigrate_error e = { 0 };
	char id[MIGRATION_MAX_DIGITS + 1];

	ck_assert_int_eq(create_next_id(&s, id, sizeof id, &e), DBMIGRATE_OK);
	ck_assert_str_eq(id, want);
	free(s.v);
}

START_TEST(next_id)
{
	static const char *const nine[] = { "001", "002", "003", "004", "005",
					    "006", "007", "008", "009" };
	static const char *const stamps[] = { "20251231235959", "20260101120000" };
	static const char *const narrow[] = { "1", "2" };
	static const char *const mixed[] = { "1", "0042", "7" };
	static const char *const full[] = { "999" };
	char id[MIGRATION_MAX_DIGITS + 1];
	dbmigrate_error e = { 0 };

	next_id_is(NULL, 0, "001");
	ck_assert_int_eq(create_next_id(NULL, id, sizeof id, &e), DBMIGRATE_OK);
	ck_assert_str_eq(id, "001");
	next_id_is(nine, 9, "010");
	next_id_is(stamps, 2, "20260101120001");
	next_id_is(narrow, 2, "003");
	next_id_is(mixed, 3, "0043");
	next_id_is(full, 1, "1000");
}
END_TEST

START_TEST(next_id_runs_out)
{
	static const char *const last[] = { "999999999999999999" };
	struct migration_set s = make_set(last, 1);
	dbmigrate_error e = { 0 };
	char id[MIGRATION_MAX_DIGITS + 1];

	ck_assert_int_eq(create_next_id(&s, id, sizeof id, &e), DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(strstr(e.message, "999999999999999999"));
	ck_assert_ptr_nonnull(e.hint);
	errors_clear(&e);
	free(s.v);
}
END_TEST

START_TEST(writes_new_file_and_parents)
{
	static const char *const ids[] = { "001", "002" };
	struct migration_set s = make_set(ids, 2);
	dbmigrate_error e = { 0 };
	char *tmp = tu_mkdtemp();
	char dir[512], want[600];
	char *path = NULL, *text;
	struct stat st;

	snprintf(dir, sizeof dir, "%s/db/migrations", tmp);
	ck_assert_int_eq(create_migration(dir, &s, "Add Posts Table", &path, &e),
			 DBMIGRATE_OK);
	snprintf(want, sizeof want, "%s/003_add_posts_table.sql", dir);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	text = tu_read(path);
	ck_assert_str_eq(text, "-- migrate:up\n\n\n-- migrate:down\n\n");
	free(text);
	free(path);
	/* a trailing slash on the directory does not double */
	snprintf(dir, sizeof dir, "%s/db/migrations/", tmp);
	free(s.v);
	s = make_set(ids, 0);
	ck_assert_int_eq(create_migration(dir, &s, "x", &path, &e), DBMIGRATE_OK);
	snprintf(want, sizeof want, "%s/db/migrations/001_x.sql", tmp);
	ck_assert_str_eq(path, want);
	free(path);
	/* no set means no migrations yet; path_out may be NULL */
	ck_assert_int_eq(create_migration(dir, NULL, "y", NULL, &e), DBMIGRATE_OK);
	snprintf(want, sizeof want, "%s/db/migrations/001_y.sql", tmp);
	ck_assert(tu_exists(want));
	free(s.v);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(never_overwrites)
{
	struct migration_set s = make_set(NULL, 0);
	dbmigrate_error e = { 0 };
	char *tmp = tu_mkdtemp();
	char *existing = tu_write(tmp, "001_add_users.sql", "-- migrate:up\nSELECT 1;\n");
	char *path = NULL, *text;

	/* a stale set (another create ran meanwhile) picks a taken id */
	ck_assert_int_eq(create_migration(tmp, &s, "add users", &path, &e),
			 DBMIGRATE_EFILES);
	ck_assert_ptr_null(path);
	ck_assert_ptr_nonnull(strstr(e.message, existing));
	ck_assert_ptr_nonnull(strstr(e.message, "already exists"));
	ck_assert_ptr_nonnull(e.hint);
	text = tu_read(existing);
	ck_assert_str_eq(text, "-- migrate:up\nSELECT 1;\n");
	free(text);
	errors_clear(&e);
	free(existing);
	free(s.v);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(bad_names_and_dirs)
{
	struct migration_set s = make_set(NULL, 0);
	dbmigrate_error e = { 0 };
	char *tmp = tu_mkdtemp();
	char *file = tu_write(tmp, "plainfile", "x");
	char dir[512], longname[300];
	char *path = NULL;

	ck_assert_int_eq(create_migration(tmp, &s, "!!!", &path, &e), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(e.message, "!!!"));
	ck_assert_ptr_nonnull(e.detail);
	ck_assert_ptr_null(path);
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	ck_assert_int_eq(create_migration(tmp, &s, longname, &path, &e), DBMIGRATE_EUSAGE);
	/* the directory is a file */
	ck_assert_int_eq(create_migration(file, &s, "x", &path, &e), DBMIGRATE_EIO);
	ck_assert_ptr_nonnull(strstr(e.message, file));
	/* a parent is a file */
	snprintf(dir, sizeof dir, "%s/sub", file);
	ck_assert_int_eq(create_migration(dir, &s, "x", &path, &e), DBMIGRATE_EIO);
	ck_assert_ptr_nonnull(strstr(e.message, file));
	ck_assert_ptr_null(path);
	errors_clear(&e);
	free(file);
	free(s.v);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		snake_case, next_id, next_id_runs_out,
		writes_new_file_and_parents, never_overwrites,
		bad_names_and_dirs, NULL
	};

	return tu_run_suite(tu_suite("create", 0, tests));
}
