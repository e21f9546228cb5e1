/*
 * check_targets.c - `up`, `status` and `down --targets FILE` without a
 * server: the targets file's syntax and its mistakes (each named by
 * FILE:LINE, exit 2, nothing run), the options that go with it, a
 * schema refused by the drivers that have none, and SQLite files (and
 * mock state files) as targets: applied counts, the summary, the JSON
 * document, exit codes, a second run carrying on, status and down over
 * every target. The PostgreSQL side (schemas, many databases, Ctrl-C)
 * is check_pg_targets.
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "tjson.h"

#ifdef CHECK_TARGETS_SQLITE
#include <sqlite3.h>
#endif

#define RUN TU_RUN

/* Three migrations; the second creates table b. */
static struct tu_project project_new(void)
{
	struct tu_project p = tu_project_new(NULL);

	tu_add(&p, "001_a.sql",
	       "-- migrate:up\nCREATE TABLE a (id int);\n"
	       "-- migrate:down\nDROP TABLE a;\n");
	tu_add(&p, "002_b.sql",
	       "-- migrate:up\nCREATE TABLE b (id int);\n"
	       "-- migrate:down\nDROP TABLE b;\n");
	tu_add(&p, "003_c.sql",
	       "-- migrate:up\nCREATE TABLE c (id int);\n"
	       "-- migrate:down\nDROP TABLE c;\n");
	return p;
}

/* Write the targets file root/targets.txt. */
static void targets(const struct tu_project *p, const char *text)
{
	free(tu_write(p->root, "targets.txt", text));
}

/* Assert a usage error naming targets.txt:line, with nothing run. */
static void expect_mistake(const struct tu_project *p, const char *text,
			   unsigned line, const char *words)
{
	struct tu_result r;
	char *where;

	targets(p, text);
	r = RUN(p->root, NULL, "up", "--targets", "targets.txt");
	tu_expect_status(&r, 2);
	ck_assert_int_ne(asprintf(&where, "targets.txt:%u: error", line), -1);
	tu_expect_has("stderr", r.err, where);
	tu_expect_has("stderr", r.err, words);
	tu_expect_has("stderr", r.err, "HINT");
	ck_assert_str_eq(r.out, "");
	free(where);
	tu_result_free(&r);
}

START_TEST(file_mistakes_name_the_line)
{
	struct tu_project p = project_new();

	expect_mistake(&p, "# tenants\nsqlite:one.db\nsqlite:two.db schema\n",
		       3, "unknown word 'schema'");
	expect_mistake(&p, "sqlite:one.db nonsense=1\n", 1,
		       "unknown word 'nonsense=1'");
	expect_mistake(&p, "\n\nhost=db1 dbname=app\n", 3, "postgres://");
	expect_mistake(&p, "just-a-name\n", 1, "is not a URL");
	expect_mistake(&p, "postgres://h/db schema=1bad\n", 1, "invalid schema");
	expect_mistake(&p, "postgres://h/db schema=a schema=b\n", 1,
		       "schema= given twice");
	expect_mistake(&p, "sqlite:one.db\n# again:\nsqlite:one.db   # dup\n", 3,
		       "the same target as line 1");
	/* Nothing ran: no database file was made. */
	{
		char *db;

		ck_assert_int_ne(asprintf(&db, "%s/one.db", p.root), -1);
		ck_assert(!tu_exists(db));
		free(db);
	}
	tu_project_free(&p);
}
END_TEST

START_TEST(file_empty_or_missing)
{
	struct tu_project p = project_new();
	struct tu_result r;

	targets(&p, "# nothing yet\n\n   \n");
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "targets.txt: error: the targets file names no target");
	tu_result_free(&r);

	r = RUN(p.root, NULL, "status", "--targets", "nosuch.txt");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "nosuch.txt: error: cannot read the targets file");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(options_that_go_with_targets)
{
	struct tu_project p = project_new();
	struct tu_result r;

	targets(&p, "mock:\n");
	r = RUN(p.root, NULL, "up", "--parallel", "2");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "--parallel applies with --targets");
	tu_result_free(&r);

	r = RUN(p.root, NULL, "up", "--targets", "targets.txt", "--url", "mock:");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "--url and --targets");
	tu_result_free(&r);

	r = RUN(p.root, NULL, "up", "--url", "mock:", "--format", "json");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "--format applies to up with --targets");
	tu_result_free(&r);

	r = RUN(p.root, NULL, "up", "--targets", "targets.txt", "--parallel", "0");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "--parallel needs a whole number");
	tu_result_free(&r);

	r = RUN(p.root, NULL, "reset", "--targets", "targets.txt");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "--targets does not apply to reset");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

/* Mock state files as targets (always built): counts, table, JSON. */
START_TEST(mock_files_as_targets)
{
	struct tu_project p = project_new();
	struct tu_result r;
	struct tjson *j;

	targets(&p, "# three tenants\nmock:t1.state\nmock:t2.state\n\nmock:t3.state\n");
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt", "--format",
		"json", "--parallel", "2");
	tu_expect_status(&r, 0);
	j = tjson_parse(r.out, NULL, NULL);
	ck_assert_msg(j != NULL, "not JSON:\n%s", r.out);
	ck_assert_str_eq(tjson_str(j, "command"), "up");
	ck_assert_uint_eq(tjson_len(j, "targets"), 3);
	ck_assert_str_eq(tjson_str(j, "targets.0.target"), "mock:t1.state");
	ck_assert_str_eq(tjson_str(j, "targets.2.target"), "mock:t3.state");
	ck_assert(tjson_num(j, "targets.2.line") == 5);
	for (int i = 0; i < 3; i++) {
		char path[64];

		snprintf(path, sizeof path, "targets.%d.state", i);
		ck_assert_str_eq(tjson_str(j, path), "ok");
		snprintf(path, sizeof path, "targets.%d.applied", i);
		ck_assert(tjson_num(j, path) == 3);
		snprintf(path, sizeof path, "targets.%d.error", i);
		ck_assert_int_eq(tjson_path(j, path)->type, TJSON_NULL);
	}
	ck_assert(tjson_num(j, "applied") == 9);
	ck_assert(tjson_num(j, "ok") == 3);
	ck_assert(tjson_num(j, "failed") == 0);
	ck_assert(tjson_num(j, "exit") == 0);
	tjson_free(j);
	/* Progress on stderr, in the simple form off a terminal. */
	tu_expect_has("stderr", r.err, "up on 3 targets, 2 at a time");
	tu_expect_has("stderr", r.err, "[3/3] ok ");
	tu_result_free(&r);

	/* Nothing left: every target up to date. */
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "TARGET");
	tu_expect_has("stdout", r.out, "Targets: 3 | OK: 3 | Failed: 0 | Applied: 0 migrations");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

/* Bad files fail every target the same way: exit 3, the error once. */
START_TEST(bad_files_said_once)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "004_bad.sql", "-- migrate:up\nSELECT $$x;\n");
	targets(&p, "mock:t1.state\nmock:t2.state\nmock:t3.state\n");
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt", "--parallel", "1");
	tu_expect_status(&r, 3);
	ck_assert_int_eq(tu_count(r.err, "004_bad.sql:2:8"), 1);
	ck_assert_int_eq(tu_count(r.err, "failed: the same error as line 1"), 2);
	ck_assert_int_eq(tu_count(r.out, "(exit 3)"), 3);
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

/* --targets - reads the list from standard input. */
START_TEST(targets_from_stdin)
{
	struct tu_project p = project_new();
	const char *argv[] = { tu_env("DBMIGRATE_BIN"), "up", "--targets", "-",
			       "--format", "json", NULL };
	const char *env[] = { "NO_COLOR=1", "DATABASE_URL", NULL };
	struct tu_result r = tu_run(argv, p.root, env,
				    "# from a pipe\nmock:s1.state\nmock:s2.state\n");
	struct tjson *j;

	tu_expect_status(&r, 0);
	j = tjson_parse(r.out, NULL, NULL);
	ck_assert_msg(j != NULL, "not JSON:\n%s", r.out);
	ck_assert_uint_eq(tjson_len(j, "targets"), 2);
	ck_assert(tjson_num(j, "targets.1.line") == 3);
	ck_assert(tjson_num(j, "applied") == 6);
	tjson_free(j);
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(schema_refused_without_schemas)
{
	struct tu_project p = project_new();
	struct tu_result r;

	targets(&p, "mock:t1.state schema=tenant_1\n");
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "driver mock cannot run migrations in a schema");
	tu_expect_has("stdout", r.out, "Failed: 1");
	tu_result_free(&r);
	{
		char *st;

		ck_assert_int_ne(asprintf(&st, "%s/t1.state", p.root), -1);
		ck_assert(!tu_exists(st));
		free(st);
	}

	/* The single-database form says the same. */
	r = RUN(p.root, NULL, "up", "--url", "mock:t2.state", "--schema", "s1");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "driver mock cannot run migrations in a schema");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

#ifdef CHECK_TARGETS_SQLITE
/* The row count of table migrations in an SQLite file, via a status run. */
static int executed_in(const struct tu_project *p, const char *file)
{
	struct tu_result r;
	char *url;
	struct tjson *j;
	int n;

	ck_assert_int_ne(asprintf(&url, "sqlite:%s", file), -1);
	r = RUN(p->root, NULL, "status", "--url", url, "--format", "json");
	tu_expect_status(&r, 0);
	j = tjson_parse(r.out, NULL, NULL);
	ck_assert_ptr_nonnull(j);
	n = (int)tjson_num(j, "executed");
	tjson_free(j);
	tu_result_free(&r);
	free(url);
	return n;
}

/* Run sql on the SQLite file root/file (the test's own connection). */
static void sqlite_exec(const struct tu_project *p, const char *file,
			const char *sql)
{
	char *path;
	sqlite3 *db;

	ck_assert_int_ne(asprintf(&path, "%s/%s", p->root, file), -1);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	free(path);
}

/*
 * Five SQLite files, one of them broken (it already has a table b, so
 * 002 fails there): the others get all three, the broken one none (its
 * batch rolled back), exit 1; once fixed, a second run applies only
 * that one; status and down go over every file.
 */
START_TEST(sqlite_files_one_broken)
{
	struct tu_project p = project_new();
	struct tu_result r;
	struct tjson *j;

	targets(&p, "sqlite:db1.db\nsqlite:db2.db\nsqlite:broken.db\n"
		    "sqlite:db4.db\nsqlite://db5.db\n");
	sqlite_exec(&p, "broken.db", "CREATE TABLE b (x int)");

	r = RUN(p.root, NULL, "up", "--targets", "targets.txt", "--format", "json");
	tu_expect_status(&r, 1);
	j = tjson_parse(r.out, NULL, NULL);
	ck_assert_msg(j != NULL, "not JSON:\n%s", r.out);
	ck_assert_uint_eq(tjson_len(j, "targets"), 5);
	ck_assert_str_eq(tjson_str(j, "targets.2.target"), "sqlite:broken.db");
	ck_assert_str_eq(tjson_str(j, "targets.2.state"), "failed");
	ck_assert(tjson_num(j, "targets.2.applied") == 0);
	ck_assert(tjson_num(j, "targets.2.exit") == 1);
	ck_assert_str_eq(tjson_str(j, "targets.2.failed"), "002_b");
	ck_assert_ptr_nonnull(tjson_str(j, "targets.2.error.message"));
	ck_assert_ptr_nonnull(strstr(tjson_str(j, "targets.2.error.file"), "002_b.sql"));
	ck_assert_str_eq(tjson_str(j, "targets.0.state"), "ok");
	ck_assert(tjson_num(j, "targets.0.applied") == 3);
	ck_assert(tjson_num(j, "targets.4.applied") == 3);
	ck_assert(tjson_num(j, "applied") == 12);
	ck_assert(tjson_num(j, "failed") == 1);
	ck_assert(tjson_num(j, "exit") == 1);
	tjson_free(j);
	/* The failure is shown as for one database, under its target. */
	tu_expect_has("stderr", r.err, "target sqlite:broken.db (line 3) failed");
	tu_expect_has("stderr", r.err, "002_b.sql:2");
	tu_result_free(&r);
	ck_assert_int_eq(executed_in(&p, "broken.db"), 0);
	ck_assert_int_eq(executed_in(&p, "db4.db"), 3);

	/* Fixed by hand; the second run carries on where the first stopped. */
	sqlite_exec(&p, "broken.db", "DROP TABLE b");
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Targets: 5 | OK: 5 | Failed: 0 | Applied: 3 migrations");
	tu_result_free(&r);

	/* status over every target. */
	r = RUN(p.root, NULL, "status", "--targets", "targets.txt", "--format", "json");
	tu_expect_status(&r, 0);
	j = tjson_parse(r.out, NULL, NULL);
	ck_assert_msg(j != NULL, "not JSON:\n%s", r.out);
	ck_assert_str_eq(tjson_str(j, "command"), "status");
	for (int i = 0; i < 5; i++) {
		char key[64];

		snprintf(key, sizeof key, "targets.%d.pending", i);
		ck_assert(tjson_num(j, key) == 0);
		snprintf(key, sizeof key, "targets.%d.executed", i);
		ck_assert(tjson_num(j, key) == 3);
	}
	ck_assert(tjson_num(j, "executed") == 15);
	tjson_free(j);
	tu_result_free(&r);

	/* down rolls back the newest batch of each. */
	r = RUN(p.root, NULL, "down", "--targets", "targets.txt");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "ROLLED BACK");
	tu_expect_has("stdout", r.out, "Rolled back: 15 migrations");
	tu_result_free(&r);
	ck_assert_int_eq(executed_in(&p, "db1.db"), 0);
	ck_assert_int_eq(executed_in(&p, "broken.db"), 0);
	tu_project_free(&p);
}
END_TEST

/* A target that cannot be reached alone: its code (4), the others run. */
START_TEST(sqlite_unreachable_target)
{
	struct tu_project p = project_new();
	struct tu_result r;

	targets(&p, "sqlite:ok.db\nsqlite:///nonexistent/dir/x.db\n");
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt");
	tu_expect_status(&r, 4);
	tu_expect_has("stdout", r.out, "cannot connect");
	tu_expect_has("stdout", r.out, "(exit 4)");
	tu_result_free(&r);
	ck_assert_int_eq(executed_in(&p, "ok.db"), 3);
	tu_project_free(&p);
}
END_TEST
#endif

static Suite *targets_suite(void)
{
	const TTest *const file[] = {
		file_mistakes_name_the_line, file_empty_or_missing,
		options_that_go_with_targets, NULL
	};
	const TTest *const run[] = {
		mock_files_as_targets, schema_refused_without_schemas,
		bad_files_said_once, targets_from_stdin,
#ifdef CHECK_TARGETS_SQLITE
		sqlite_files_one_broken, sqlite_unreachable_target,
#endif
		NULL
	};
	Suite *s = suite_create("targets");

	tu_tcase(s, "file", 120, file);
	tu_tcase(s, "run", 120, run);
	return s;
}

int main(void)
{
	(void)tu_env("DBMIGRATE_BIN");
	return tu_run_suite(targets_suite());
}
