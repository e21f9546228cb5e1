/*
 * check_discover.c - listing a migrations directory and loading its
 * files: numeric order, the three formats side by side, every kind of
 * bad directory content reported with the file named and the fix, and
 * the load errors (unreadable, binary, not UTF-8, empty, too large)
 * pointing at the file, line and column. Also the file helpers
 * everything relies on.
 */
#define _GNU_SOURCE /* strdup in test code */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "fsutil.h"
#include "migration.h"
#include "testutil.h"

static char *dir;

/* A fresh directory per test. */
static void setup(void)
{
	dir = tu_mkdtemp();
}

/* Remove the test's directory. */
static void teardown(void)
{
	/* chmod back whatever a test locked, so the tree can be removed. */
	chmod(dir, 0700);
	tu_rm_rf(dir);
	free(dir);
}

/* Write dir/name with content. */
static void put(const char *name, const char *content)
{
	free(tu_write(dir, name, content));
}

/* dir/name, to free. */
static char *path_of(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

/* Remove dir/name. */
static void rm(const char *name)
{
	char *p = path_of(name);

	ck_assert_int_eq(unlink(p), 0);
	free(p);
}

/* Make the directory dir/name. */
static void mkdir_in(const char *name)
{
	char *p = path_of(name);

	ck_assert_int_eq(mkdir(p, 0700), 0);
	free(p);
}

/* Make dir/name a symbolic link to target. */
static void link_in(const char *target, const char *name)
{
	char *p = path_of(name);

	ck_assert_int_eq(symlink(target, p), 0);
	free(p);
}

/* Discover dir expecting EFILES; err is filled. */
static void expect_efiles(dbmigrate_error *err)
{
	struct migration_set set;

	ck_assert_int_eq(discover_dir(dir, &set, err), DBMIGRATE_EFILES);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_ptr_null(set.v);
	ck_assert_ptr_nonnull(err->message);
	ck_assert_ptr_nonnull(err->hint);
	ck_assert_ptr_nonnull(err->file);
}

/* Assert s contains needle, with a readable failure. */
static void has(const char *s, const char *needle)
{
	ck_assert_msg(s != NULL && strstr(s, needle) != NULL,
		      "\"%s\" does not contain \"%s\"", s ? s : "(null)", needle);
}

START_TEST(order_is_numeric)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };
	static const char *const labels[] = {
		"001_first", "2_second", "10_tenth", "999_c", "1000_d",
	};

	put("10_tenth.sql", "-- migrate:up\nSELECT 10;\n");
	put("1000_d.sql", "-- migrate:up\nSELECT 1000;\n");
	put("2_second.sql", "-- migrate:up\nSELECT 2;\n");
	put("999_c.sql", "-- migrate:up\nSELECT 999;\n");
	put("001_first.sql", "-- migrate:up\nSELECT 1;\n");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 5);
	ck_assert_str_eq(set.dir, dir);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_str_eq(set.v[i].label, labels[i]);
		ck_assert(!set.v[i].loaded);
	}
	ck_assert_str_eq(set.v[0].id, "001");   /* as written */
	ck_assert(set.v[0].number == 1);
	ck_assert_str_eq(set.v[2].id, "10");
	ck_assert(set.v[4].number == 1000);
	migration_set_free(&set);
	ck_assert_ptr_null(set.v);
}
END_TEST

START_TEST(three_formats_in_one_directory)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };
	char *p;

	put("001_users.sql", "-- migrate:up\nCREATE TABLE users (id int);\n"
	    "-- migrate:down\nDROP TABLE users;\n");
	put("002_sessions.ts", "export const up = `CREATE TABLE s (id int);`;\n"
	    "export const down = `DROP TABLE s;`;\n");
	put("003_split.up.sql", "CREATE TABLE t (id int);\n");
	put("003_split.down.sql", "DROP TABLE t;\n");
	put("004_legacy.js", "export const up = 'SELECT 4';\n");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 4);

	ck_assert_int_eq(set.v[0].format, MIGRATION_FORMAT_SQL);
	ck_assert_str_eq(set.v[0].name, "users");
	p = path_of("001_users.sql");
	ck_assert_str_eq(set.v[0].path, p);
	free(p);
	ck_assert_ptr_null(set.v[0].down_path);

	ck_assert_int_eq(set.v[1].format, MIGRATION_FORMAT_JS);
	ck_assert_str_eq(set.v[1].label, "002_sessions");

	ck_assert_int_eq(set.v[2].format, MIGRATION_FORMAT_PAIR);
	ck_assert_str_eq(set.v[2].label, "003_split");
	p = path_of("003_split.up.sql");
	ck_assert_str_eq(set.v[2].path, p);
	free(p);
	p = path_of("003_split.down.sql");
	ck_assert_str_eq(set.v[2].down_path, p);
	free(p);
	ck_assert_int_eq(set.v[3].format, MIGRATION_FORMAT_JS);

	for (size_t i = 0; i < set.n; i++) {
		ck_assert_int_eq(migration_load(&set.v[i], &err), DBMIGRATE_OK);
		ck_assert(set.v[i].loaded);
		ck_assert_uint_eq(strlen(set.v[i].checksum), 64);
		ck_assert(set.v[i].up.present);
	}
	ck_assert_str_eq(set.v[0].up.sql, "CREATE TABLE users (id int);\n");
	ck_assert_str_eq(set.v[0].down.sql, "DROP TABLE users;\n");
	ck_assert_str_eq(set.v[1].up.sql, "CREATE TABLE s (id int);");
	ck_assert_str_eq(set.v[2].up.sql, "CREATE TABLE t (id int);\n");
	ck_assert_str_eq(set.v[2].down.sql, "DROP TABLE t;\n");
	/* The down body of a pair comes from the down file. */
	ck_assert_ptr_eq(set.v[2].down.path, set.v[2].down_path);
	ck_assert_ptr_eq(set.v[2].up.path, set.v[2].path);
	ck_assert_str_eq(set.v[2].down_text, "DROP TABLE t;\n");
	ck_assert(!set.v[3].down.present);       /* no down: cannot roll back */
	migration_set_free(&set);
}
END_TEST

START_TEST(same_number_with_zero_padding_is_a_duplicate)
{
	dbmigrate_error err = { 0 };

	put("001_a.sql", "-- migrate:up\nSELECT 1;\n");
	put("1_b.sql", "-- migrate:up\nSELECT 1;\n");
	expect_efiles(&err);
	has(err.message, "duplicate migration number 1");
	has(err.message, "001_a.sql");
	has(err.message, "1_b.sql");
	has(err.detail, "001 and 1 are the same number");
	has(err.hint, "higher than every existing");
	errors_clear(&err);
}
END_TEST

START_TEST(same_migration_in_two_formats_is_a_duplicate)
{
	dbmigrate_error err = { 0 };

	put("001_a.sql", "-- migrate:up\nSELECT 1;\n");
	put("001_a.up.sql", "SELECT 1;\n");
	expect_efiles(&err);
	has(err.message, "001_a.sql");
	has(err.message, "001_a.up.sql");
	has(err.detail, "two formats");
	errors_clear(&err);
	rm("001_a.up.sql");
	put("001_a.ts", "export const up = `SELECT 1`;\n");
	expect_efiles(&err);
	has(err.message, "001_a.sql");
	has(err.message, "001_a.ts");
	errors_clear(&err);
}
END_TEST

START_TEST(pair_halves_must_match)
{
	dbmigrate_error err = { 0 };

	put("001_a.up.sql", "SELECT 1;\n");
	put("001_b.down.sql", "SELECT 2;\n");
	expect_efiles(&err);
	has(err.message, "001_a.up.sql");
	has(err.message, "001_b.down.sql");
	has(err.detail, "same number");
	errors_clear(&err);

	tu_rm_rf(dir);
	mkdir(dir, 0700);
	put("001_a.up.sql", "SELECT 1;\n");
	put("1_a.down.sql", "SELECT 2;\n");
	expect_efiles(&err);
	has(err.message, "1_a.down.sql");
	errors_clear(&err);
}
END_TEST

START_TEST(down_without_up_is_an_error)
{
	dbmigrate_error err = { 0 };
	char *p = path_of("005_x.down.sql");

	put("004_ok.sql", "-- migrate:up\nSELECT 1;\n");
	put("005_x.down.sql", "DROP TABLE x;\n");
	expect_efiles(&err);
	has(err.message, "005_x.down.sql");
	has(err.message, "no matching 005_x.up.sql");
	has(err.hint, "Add 005_x.up.sql");
	ck_assert_str_eq(err.file, p);
	free(p);
	errors_clear(&err);
}
END_TEST

START_TEST(up_alone_cannot_roll_back)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };

	put("007_only_up.up.sql", "CREATE TABLE t (id int);\n");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_int_eq(set.v[0].format, MIGRATION_FORMAT_PAIR);
	ck_assert_ptr_null(set.v[0].down_path);
	ck_assert_int_eq(migration_load(&set.v[0], &err), DBMIGRATE_OK);
	ck_assert(set.v[0].up.present);
	ck_assert(!set.v[0].down.present);
	migration_set_free(&set);
}
END_TEST

START_TEST(other_files_are_ignored)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };

	put("README.md", "# migrations\n");
	put(".gitkeep", "");
	free(tu_write_n(dir, ".DS_Store", "\x00\x01binary", 8));
	put("notes.txt", "001_not_a_file.sql is mentioned here\n");
	put(".001_hidden.sql.swp", "swap");
	mkdir_in("archive");
	put("001_real.sql", "-- migrate:up\nSELECT 1;\n");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_str_eq(set.v[0].label, "001_real");
	migration_set_free(&set);
}
END_TEST

START_TEST(malformed_name_is_an_error_not_skipped)
{
	static const char *const bad[] = {
		"001.sql", "001_.sql", "001_a\tb.sql", "001_a'b.ts", "001_x.txt",
		"1a_x.sql", "001_x.d.ts", "002_add.go",
		"12345678901234567890_too_long.sql",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		dbmigrate_error err = { 0 };
		char *p = path_of(bad[i]);

		tu_rm_rf(dir);
		mkdir(dir, 0700);
		put("002_fine.sql", "-- migrate:up\nSELECT 1;\n");
		put(bad[i], "-- migrate:up\nSELECT 1;\n");
		expect_efiles(&err);
		has(err.message, "invalid migration file name");
		has(err.message, bad[i]);
		has(err.detail, "NNN_name.sql");
		has(err.hint, "Rename it");
		ck_assert_str_eq(err.file, p);
		free(p);
		errors_clear(&err);
	}
}
END_TEST

START_TEST(every_problem_is_listed)
{
	dbmigrate_error err = { 0 };

	put("001.sql", "x");
	put("002_a b.js", "x");
	put("3_x.txt", "x");
	put("004_a.sql", "x");
	put("04_b.sql", "x");
	expect_efiles(&err);
	/* The first in numeric order is the error, the rest its detail. */
	has(err.message, "001.sql");
	has(err.detail, "3 more problems");
	/* Listed names say what is wrong with them. */
	has(err.detail, "002_a b.js: The name of a .ts or .js migration may only contain letters");
	has(err.detail, "3_x.txt: The extension is not one of .sql, .ts");
	has(err.detail, "duplicate migration number 4");
	errors_clear(&err);
}
END_TEST

START_TEST(long_problem_lists_are_cut)
{
	dbmigrate_error err = { 0 };

	for (int i = 1; i <= 15; i++) {
		char name[32];

		snprintf(name, sizeof name, "%03d.sql", i);
		put(name, "x");
	}
	expect_efiles(&err);
	has(err.message, "001.sql");
	has(err.detail, "14 more problems");
	has(err.detail, "011.sql");                 /* the 10th listed */
	ck_assert_ptr_null(strstr(err.detail, "012.sql"));
	has(err.detail, "... and 4 more");
	errors_clear(&err);
}
END_TEST

START_TEST(directory_named_like_a_migration)
{
	dbmigrate_error err = { 0 };

	mkdir_in("001_x.sql");
	expect_efiles(&err);
	has(err.message, "001_x.sql is a directory");
	has(err.hint, "regular files");
	errors_clear(&err);
}
END_TEST

START_TEST(symlinks)
{
	dbmigrate_error err = { 0 };
	struct migration_set set;
	char *target = tu_mkdtemp(), *file;

	/* A link to a regular file is a migration like any other. */
	file = tu_write(target, "shared.sql", "-- migrate:up\nSELECT 1;\n");
	link_in(file, "001_shared.sql");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_int_eq(migration_load(&set.v[0], &err), DBMIGRATE_OK);
	ck_assert_str_eq(set.v[0].up.sql, "SELECT 1;\n");
	migration_set_free(&set);

	/* A loop. */
	link_in("002_loop.sql", "002_loop.sql");
	expect_efiles(&err);
	has(err.message, "002_loop.sql is a symbolic link loop");
	errors_clear(&err);
	rm("002_loop.sql");

	/* A dangling link. */
	link_in("/nonexistent/x.sql", "003_gone.sql");
	expect_efiles(&err);
	has(err.message, "003_gone.sql is a broken symbolic link");
	errors_clear(&err);
	rm("003_gone.sql");

	/* A link to a directory. */
	link_in(target, "004_dir.sql");
	expect_efiles(&err);
	has(err.message, "004_dir.sql is a directory");
	errors_clear(&err);

	tu_rm_rf(target);
	free(target);
	free(file);
}
END_TEST

START_TEST(fifo_is_refused_without_blocking)
{
	dbmigrate_error err = { 0 };
	char *p = path_of("001_pipe.sql"), *text = NULL;
	size_t len;

	ck_assert_int_eq(mkfifo(p, 0600), 0);
	expect_efiles(&err);
	has(err.message, "001_pipe.sql is a FIFO");
	errors_clear(&err);
	/* Reading it directly must not wait for a writer either. */
	ck_assert_int_eq(fsutil_read_file(p, &text, &len, &err), DBMIGRATE_EFILES);
	has(err.message, "FIFO");
	has(err.message, p);
	ck_assert_ptr_null(text);
	errors_clear(&err);
	free(p);
}
END_TEST

START_TEST(missing_directory)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };
	char *p = path_of("nope");

	ck_assert_int_eq(discover_dir(p, &set, &err), DBMIGRATE_EFILES);
	has(err.message, "does not exist");
	has(err.message, p);
	has(err.hint, "dbmigrate init");
	has(err.hint, "--dir");
	ck_assert_str_eq(err.file, p);
	errors_clear(&err);
	free(p);

	put("afile", "x");
	p = path_of("afile");
	ck_assert_int_eq(discover_dir(p, &set, &err), DBMIGRATE_EFILES);
	has(err.message, "is not a directory");
	has(err.hint, "--dir");
	errors_clear(&err);
	free(p);
}
END_TEST

START_TEST(unreadable_directory)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };

	/* Root reads any directory whatever its mode: nothing to test. */
	if (geteuid() == 0)
		return;
	put("001_a.sql", "-- migrate:up\nSELECT 1;\n");
	ck_assert_int_eq(chmod(dir, 0), 0);
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_EFILES);
	has(err.message, "cannot read migrations directory");
	has(err.message, "Permission denied");
	has(err.hint, "permissions");
	errors_clear(&err);
}
END_TEST

START_TEST(trailing_slash_and_empty_directory)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };
	char *slashed, *p = path_of("001_a.sql");

	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 0);
	migration_set_free(&set);

	put("001_a.sql", "-- migrate:up\nSELECT 1;\n");
	ck_assert_int_ge(asprintf(&slashed, "%s//", dir), 0);
	ck_assert_int_eq(discover_dir(slashed, &set, &err), DBMIGRATE_OK);
	ck_assert_str_eq(set.v[0].path, p);     /* no "dir///001_a.sql" */
	migration_set_free(&set);
	free(slashed);
	free(p);
}
END_TEST

/* Every tool's names in one directory, in version order. */
START_TEST(peer_names_in_one_directory)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };
	static const char *const labels[] = {
		"001_dbmate", "V1.1__flyway", "0002_1.7.0_schema", "V2.5__half",
		"20240101120000_goose name", "R__a_view", "R__b_view",
	};

	put("R__b_view.sql", "SELECT 1;\n");
	put("V2.5__half.sql", "SELECT 1;\n");
	put("U2.5__undo_half.sql", "SELECT 1;\n");
	put("0002_1.7.0_schema.up.sql", "SELECT 1;\n");
	put("0002_1.7.0_schema.down.sql", "SELECT 1;\n");
	put("R__a_view.sql", "SELECT 1;\n");
	put("20240101120000_goose name.sql", "-- +goose Up\nSELECT 1;\n");
	put("V1.1__flyway.sql", "SELECT 1;\n");
	put("001_dbmate.sql", "-- migrate:up\nSELECT 1;\n");
	put("README.md", "not a migration");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 7);
	for (size_t i = 0; i < 7; i++)
		ck_assert_str_eq(set.v[i].label, labels[i]);
	ck_assert_str_eq(set.v[1].id, "1.1");
	ck_assert_int_eq(set.v[3].format, MIGRATION_FORMAT_FLYWAY);
	ck_assert_ptr_nonnull(set.v[3].down_path);
	ck_assert(strstr(set.v[3].down_path, "U2.5__undo_half.sql") != NULL);
	ck_assert(set.v[5].repeatable && set.v[6].repeatable);
	ck_assert_str_eq(set.v[5].id, "R__a_view");
	ck_assert_str_eq(set.v[5].name, "a_view");
	ck_assert_ptr_eq(migration_set_find(&set, "2.5.0"), &set.v[3]);
	ck_assert_ptr_null(migration_set_find(&set, "2.50"));
	ck_assert_ptr_eq(migration_set_find(&set, "R__b_view"), &set.v[6]);
	ck_assert_int_eq(migration_load_set(&set, NULL, &err), DBMIGRATE_OK);
	ck_assert_str_eq(set.v[4].up.sql, "SELECT 1;\n");
	migration_set_free(&set);
}
END_TEST

START_TEST(peer_name_problems)
{
	dbmigrate_error err = { 0 };

	put("V1__a.sql", "SELECT 1;\n");
	put("1_b.up.sql", "SELECT 1;\n");
	put("U7__orphan.sql", "SELECT 1;\n");
	put("00003_go.go", "package x\n");
	expect_efiles(&err);
	has(err.message, "duplicate migration version 1");
	has(err.detail, "00003_go.go: This is a goose Go migration");
	has(err.detail, "U7__orphan.sql has no matching V7__*.sql");
	errors_clear(&err);
}
END_TEST

START_TEST(find_by_number)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };
	static const char *const names[] = {
		"001_a.sql", "003_c.sql", "010_d.sql", "999_e.sql", "1000_f.sql",
	};

	for (size_t i = 0; i < 5; i++)
		put(names[i], "-- migrate:up\nSELECT 1;\n");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_ptr_eq(migration_set_find(&set, "1"), &set.v[0]);
	ck_assert_ptr_eq(migration_set_find(&set, "10"), &set.v[2]);
	ck_assert_ptr_eq(migration_set_find(&set, "1000"), &set.v[4]);
	ck_assert_ptr_null(migration_set_find(&set, "0"));
	ck_assert_ptr_null(migration_set_find(&set, "2"));
	ck_assert_ptr_null(migration_set_find(&set, "1001"));
	migration_set_free(&set);
	ck_assert_ptr_null(migration_set_find(&set, "1"));   /* empty set */
}
END_TEST

/* Discover dir (one migration) and load it, expecting EFILES. */
static void load_fails(dbmigrate_error *err)
{
	struct migration_set set;

	ck_assert_int_eq(discover_dir(dir, &set, err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_int_eq(migration_load(&set.v[0], err), DBMIGRATE_EFILES);
	ck_assert(!set.v[0].loaded);
	ck_assert_ptr_null(set.v[0].text);   /* nothing half-loaded */
	ck_assert_str_eq(set.v[0].checksum, "");
	ck_assert_str_eq(err->migration, set.v[0].label);
	migration_set_free(&set);
}

START_TEST(load_refuses_nul_byte)
{
	dbmigrate_error err = { 0 };
	char *p = path_of("001_bin.sql");

	free(tu_write_n(dir, "001_bin.sql", "-- migrate:up\nSELECT\0 1;\n", 25));
	load_fails(&err);
	has(err.message, "NUL byte");
	has(err.message, p);
	ck_assert_str_eq(err.file, p);
	ck_assert_uint_eq(err.line, 2);
	ck_assert_uint_eq(err.column, 7);
	ck_assert_str_eq(err.source_line, "SELECT? 1;");
	has(err.hint, "binary");
	errors_clear(&err);
	free(p);
}
END_TEST

START_TEST(load_refuses_invalid_utf8_with_line_and_column)
{
	dbmigrate_error err = { 0 };
	char *p = path_of("002_latin1.sql");

	/* Latin-1 "café" on line 3, after a valid "é" on the same line. */
	put("002_latin1.sql", "-- migrate:up\nSELECT 1;\n-- é caf\xe9 x\n");
	load_fails(&err);
	has(err.message, "invalid UTF-8");
	ck_assert_str_eq(err.file, p);
	ck_assert_uint_eq(err.line, 3);
	ck_assert_uint_eq(err.column, 9);     /* characters, é counts once */
	ck_assert_str_eq(err.source_line, "-- é caf? x");
	has(err.hint, "UTF-8");
	errors_clear(&err);
	free(p);
}
END_TEST

START_TEST(load_refuses_invalid_utf8_in_down_file)
{
	dbmigrate_error err = { 0 };
	char *p = path_of("003_t.down.sql");

	put("003_t.up.sql", "CREATE TABLE t (id int);\n");
	put("003_t.down.sql", "DROP TABLE t;\n\xc0\xaf\n");   /* overlong '/' */
	load_fails(&err);
	has(err.message, "invalid UTF-8");
	ck_assert_str_eq(err.file, p);
	ck_assert_uint_eq(err.line, 2);
	ck_assert_uint_eq(err.column, 1);
	errors_clear(&err);
	free(p);
}
END_TEST

START_TEST(load_refuses_empty_file)
{
	dbmigrate_error err = { 0 };
	char *p = path_of("001_new.sql");

	put("001_new.sql", "");
	load_fails(&err);
	has(err.message, "empty migration file");
	has(err.message, p);
	has(err.hint, "-- migrate:up");
	errors_clear(&err);
	unlink(p);
	free(p);

	p = path_of("002_t.down.sql");
	put("002_t.up.sql", "CREATE TABLE t (id int);\n");
	put("002_t.down.sql", "");
	load_fails(&err);
	has(err.message, "empty migration file");
	ck_assert_str_eq(err.file, p);
	errors_clear(&err);
	free(p);

	tu_rm_rf(dir);
	mkdir(dir, 0700);
	put("003_x.ts", "");
	load_fails(&err);
	has(err.hint, "export const up");
	errors_clear(&err);
}
END_TEST

START_TEST(load_reports_unreadable_file)
{
	dbmigrate_error err = { 0 };
	char *p = path_of("001_secret.sql");

	/* Root reads any file whatever its mode: nothing to test. */
	if (geteuid() == 0) {
		free(p);
		return;
	}
	put("001_secret.sql", "-- migrate:up\nSELECT 1;\n");
	ck_assert_int_eq(chmod(p, 0), 0);
	load_fails(&err);
	has(err.message, p);
	has(err.message, "Permission denied");
	ck_assert_str_eq(err.file, p);
	errors_clear(&err);
	free(p);
}
END_TEST

START_TEST(load_reports_file_gone_since_discovery)
{
	struct migration_set set;
	dbmigrate_error err = { 0 };
	char *p = path_of("001_a.sql");

	put("001_a.sql", "-- migrate:up\nSELECT 1;\n");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	unlink(p);
	ck_assert_int_eq(migration_load(&set.v[0], &err), DBMIGRATE_EFILES);
	has(err.message, p);
	has(err.message, "No such file");
	migration_set_free(&set);
	errors_clear(&err);
	free(p);
}
END_TEST

START_TEST(check_text_is_strict)
{
	static const struct {
		const char *text;
		size_t len, bad;
	} bad[] = {
		{ "ab\0c", 4, 2 },
		{ "\x80", 1, 0 },                 /* lone continuation */
		{ "a\xc0\x80", 3, 1 },            /* overlong NUL */
		{ "\xc1\xbf", 2, 0 },             /* overlong */
		{ "\xe0\x80\xaf", 3, 0 },         /* overlong '/' */
		{ "\xf0\x80\x80\xaf", 4, 0 },     /* overlong '/' */
		{ "x\xed\xa0\x80", 4, 1 },        /* surrogate U+D800 */
		{ "\xed\xbf\xbf", 3, 0 },         /* surrogate U+DFFF */
		{ "\xf4\x90\x80\x80", 4, 0 },     /* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
		{ "ok \xe2\x82", 5, 3 },          /* truncated at the end */
		{ "\xe2\x28\xa1", 3, 0 },         /* bad continuation */
	};
	static const char *const good[] = {
		"plain", "é", "€", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
		"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbb\xbf-- bom", "",
	};
	size_t at;
	const char *why;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		ck_assert_msg(!fsutil_check_text(bad[i].text, bad[i].len, &at, &why),
			      "bad text %zu accepted", i);
		ck_assert_uint_eq(at, bad[i].bad);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert(!fsutil_check_text("ab\0c", 4, &at, &why));
	ck_assert_str_eq(why, "a NUL byte (binary file?)");
	ck_assert(!fsutil_check_text("\xff", 1, &at, &why));
	ck_assert_str_eq(why, "invalid UTF-8");
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(fsutil_check_text(good[i], strlen(good[i]), &at, &why),
			      "good text %zu refused", i);
	/* Long ASCII runs are checked a word at a time: every position of
	   a bad byte, inside a word or in the tail, is still found. */
	for (size_t off = 0; off < 30; off++) {
		char t[32];

		memset(t, 'a', sizeof t);
		t[off] = '\0';
		ck_assert(!fsutil_check_text(t, sizeof t, &at, &why));
		ck_assert_uint_eq(at, off);
		ck_assert_str_eq(why, "a NUL byte (binary file?)");
		t[off] = '\x80';
		ck_assert(!fsutil_check_text(t, sizeof t, &at, &why));
		ck_assert_uint_eq(at, off);
		ck_assert_str_eq(why, "invalid UTF-8");
		t[off] = '\xc3';
		t[off + 1] = '\xa9';   /* é */
		ck_assert_msg(fsutil_check_text(t, sizeof t, &at, &why),
			      "é at %zu refused", off);
	}
}
END_TEST

START_TEST(file_helpers)
{
	dbmigrate_error err = { 0 };
	char *p, *text;
	size_t len;

	p = fsutil_join("migrations", "001_a.sql");
	ck_assert_str_eq(p, "migrations/001_a.sql");
	free(p);
	p = fsutil_join("migrations/", "001_a.sql");
	ck_assert_str_eq(p, "migrations/001_a.sql");
	free(p);
	p = fsutil_join("", "001_a.sql");
	ck_assert_str_eq(p, "001_a.sql");
	free(p);

	p = path_of("new.sql");
	ck_assert_int_eq(fsutil_write_new(p, "hello\n", 6, &err), DBMIGRATE_OK);
	ck_assert_int_eq(fsutil_read_file(p, &text, &len, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq(text, "hello\n");
	free(text);
	/* Never overwrites. */
	ck_assert_int_eq(fsutil_write_new(p, "other\n", 6, &err), DBMIGRATE_EIO);
	has(err.message, p);
	has(err.message, "File exists");
	text = tu_read(p);
	ck_assert_str_eq(text, "hello\n");
	free(text);
	free(p);
	errors_clear(&err);

	ck_assert_int_eq(fsutil_read_file(dir, &text, &len, &err), DBMIGRATE_EFILES);
	has(err.message, "is a directory");
	has(err.message, dir);
	errors_clear(&err);

	p = path_of("empty");
	put("empty", "");
	ck_assert_int_eq(fsutil_read_file(p, &text, &len, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(text, "");
	free(text);
	free(p);
}
END_TEST

START_TEST(reading_a_big_file)
{
	dbmigrate_error err = { 0 };
	size_t n = 3 * 1024 * 1024 + 7, len;
	char *big = malloc(n + 1), *text, *p;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[n] = '\0';
	p = tu_write(dir, "big", big);
	ck_assert_int_eq(fsutil_read_file(p, &text, &len, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(text, big, n) == 0);
	ck_assert_int_eq(text[n], '\0');
	free(text);
	free(big);
	free(p);
}
END_TEST

START_TEST(load_refuses_file_over_the_size_limit)
{
	dbmigrate_error err = { 0 };
	char *p = path_of("001_huge.sql"), *want;
	int fd;

	/* Sparse: one byte over the limit costs no disk. It is refused
	   from its size, before anything is read or allocated. */
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)FSUTIL_MAX_FILE + 1), 0);
	ck_assert_int_eq(close(fd), 0);
	load_fails(&err);
	ck_assert_int_eq(err.code, DBMIGRATE_EFILES);
	has(err.message, p);
	has(err.message, "too large");
	ck_assert_int_ge(asprintf(&want, "%llu bytes", FSUTIL_MAX_FILE + 1), 0);
	has(err.message, want);
	free(want);
	has(err.detail, "64.0 MiB");
	has(err.hint, "Split it");
	has(err.hint, "COPY");
	ck_assert_str_eq(err.file, p);
	errors_clear(&err);

	/* Just under the limit is only a size: the same file is read. */
	fd = open(p, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "-- migrate:up\nSELECT 1;\n", 24), 24);
	ck_assert_int_eq(close(fd), 0);
	{
		struct migration_set set;

		ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
		ck_assert_int_eq(migration_load(&set.v[0], &err), DBMIGRATE_OK);
		ck_assert_str_eq(set.v[0].up.sql, "SELECT 1;\n");
		migration_set_free(&set);
	}
	free(p);
}
END_TEST

/* Run the suite; non-zero exit when a test failed. */
int main(void)
{
	const TTest *const discover[] = {
		order_is_numeric, three_formats_in_one_directory,
		same_number_with_zero_padding_is_a_duplicate,
		same_migration_in_two_formats_is_a_duplicate,
		pair_halves_must_match, down_without_up_is_an_error,
		up_alone_cannot_roll_back, other_files_are_ignored,
		malformed_name_is_an_error_not_skipped,
		every_problem_is_listed, peer_names_in_one_directory,
		peer_name_problems, long_problem_lists_are_cut,
		directory_named_like_a_migration, symlinks,
		fifo_is_refused_without_blocking, missing_directory,
		unreadable_directory, trailing_slash_and_empty_directory,
		find_by_number, NULL
	};
	const TTest *const load[] = {
		load_refuses_nul_byte,
		load_refuses_invalid_utf8_with_line_and_column,
		load_refuses_invalid_utf8_in_down_file,
		load_refuses_empty_file, load_reports_unreadable_file,
		load_reports_file_gone_since_discovery, check_text_is_strict,
		file_helpers, reading_a_big_file,
		load_refuses_file_over_the_size_limit, NULL
	};
	Suite *s = suite_create("discover");

	tcase_add_checked_fixture(tu_tcase(s, "discover", 0, discover), setup,
				  teardown);
	tcase_add_checked_fixture(tu_tcase(s, "load", 0, load), setup, teardown);
	return tu_run_suite(s);
}
