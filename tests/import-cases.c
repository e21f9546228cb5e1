/*
 * import-cases.c - switching to dbmigrate from goose, golang-migrate,
 * dbmate and Flyway, the same on every backend: `dbmigrate import` adopts
 * each tool's history table written as that tool writes it (the CREATE
 * TABLE of its source and its rows); dirty and failed histories are
 * refused; a second import records nothing; --dry-run changes nothing;
 * a peer's table given as --table is refused and never altered.
 * What differs between backends is in struct ic_backend.
 */
#define _GNU_SOURCE /* asprintf */
#include "import-cases.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The backend under test (one program per backend; set once). */
static const struct ic_backend *be;

#define DB IC_DB

struct tu_project ic_project_new(void)
{
	return be->project_new();
}

char *ic_query(const struct tu_project *p, const char *q)
{
	return be->query(p, q);
}

void ic_exec(const struct tu_project *p, const char *sql)
{
	be->exec(p, sql);
}

void ic_expect_sql(const struct tu_project *p, const char *q, const char *want)
{
	tu_expect_value(q, ic_query(p, q), want);
}

/* 1 if table exists, 0 if not. */
static int table_exists(const struct tu_project *p, const char *table)
{
	char *q, *got;
	int n;

	ck_assert_int_ne(asprintf(&q, "%s%s%s", be->table_exists[0], table,
				  be->table_exists[1]), -1);
	got = ic_query(p, q);
	ck_assert_msg(got != NULL, "%s: no value", q);
	n = atoi(got);
	free(got);
	free(q);
	return n;
}

void ic_expect_no_table(const struct tu_project *p, const char *table)
{
	ck_assert_msg(table_exists(p, table) == 0, "table %s exists", table);
}

/* dbmigrate's versioned rows, "" with none, NULL without a table. */
static char *tracked(const struct tu_project *p)
{
	char *v;

	if (!table_exists(p, "migrations"))
		return NULL;
	v = ic_query(p, be->tracked_rows);
	return v != NULL ? v : strdup("");
}

void ic_expect_tracked(const struct tu_project *p, const char *want)
{
	char *got = tracked(p);

	if (want == NULL)
		ck_assert_msg(got == NULL, "tracked %s, expected no table", got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
			      "tracked %s, expected %s", got ? got : "(no table)",
			      want);
	free(got);
}

/* The columns of a table (to show import did not alter it). */
static int columns_of(const struct tu_project *p, const char *table)
{
	char *q, *got;
	int n;

	ck_assert_int_ne(asprintf(&q, "%s%s%s", be->count_columns[0], table,
				  be->count_columns[1]), -1);
	got = ic_query(p, q);
	n = got != NULL ? atoi(got) : -1;
	free(got);
	free(q);
	return n;
}

/* golang-migrate: pairs, titles with dots and spaces. */
void ic_golang_files(const struct tu_project *p)
{
	tu_add(p, "1_init.up.sql", "CREATE TABLE users (id int);\n");
	tu_add(p, "1_init.down.sql", "DROP TABLE users;\n");
	tu_add(p, "0002_1.7.0_schema.up.sql", "ALTER TABLE users ADD COLUMN v text;\n");
	tu_add(p, "0002_1.7.0_schema.down.sql", "ALTER TABLE users DROP COLUMN v;\n");
	tu_add(p, "3_add users (seed).up.sql", "INSERT INTO users VALUES (1, 'x');\n");
	tu_add(p, "3_add users (seed).down.sql", "DELETE FROM users;\n");
}

/* Flyway: versions in numeric order, undo files, a repeatable. */
void ic_flyway_files(const struct tu_project *p)
{
	tu_add(p, "V1__init.sql", be->flyway_v1);
	tu_add(p, "U1__init.sql", "DROP TABLE log;\n");
	tu_add(p, "V1.1__one_one.sql", "INSERT INTO log (v) VALUES ('1.1');\n");
	tu_add(p, "U1.1__one_one.sql", "DELETE FROM log WHERE v = '1.1';\n");
	tu_add(p, "V1.10__one_ten.sql", "INSERT INTO log (v) VALUES ('1.10');\n");
	tu_add(p, "U1.10__one_ten.sql", "DELETE FROM log WHERE v = '1.10';\n");
	tu_add(p, "V1_2__one_two.sql", "INSERT INTO log (v) VALUES ('1.2');\n");
	tu_add(p, "U1_2__one_two.sql", "DELETE FROM log WHERE v = '1.2';\n");
	tu_add(p, "V2__two.sql", "INSERT INTO log (v) VALUES ('2');\n");
	tu_add(p, "U2__two.sql", "DELETE FROM log WHERE v = '2';\n");
	tu_add(p, "R__answer.sql", be->flyway_r);
}

/* Run the SQL that fmt makes (with the backend's checksums). */
__attribute__((format(printf, 2, 3)))
static void exec_fmt(const struct tu_project *p, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert_int_ne(n, -1);
	ic_exec(p, s);
	free(s);
}

START_TEST(import_goose)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;
	char *q;

	be->goose_files(&p);
	tu_add(&p, "20240201000000_later.sql", "-- +goose Up\nCREATE TABLE later (id int);\n"
	    "-- +goose Down\nDROP TABLE later;\n");
	/* What goose did: created its table with version 0, applied 1, 2
	   and the timestamp one, then rolled the timestamp one back (goose
	   before v3 kept a row with is_applied false). */
	ic_exec(&p, be->goose_old_table);
	ic_exec(&p, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true);"
		"INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES "
		"(1, true, '2024-01-02 10:00:00'), (2, true, '2024-01-03 11:00:00'), "
		"(20240102030405, true, '2024-01-04 12:00:00'), "
		"(20240102030405, false, '2024-01-05 13:00:00')");
	ic_exec(&p, be->goose_schema);
	r = DB(&p, "import", "--dry-run");
	tu_expect_status(&r, 0);
	tu_expect_has("dry run", r.out, "Would record 00001_create_users");
	tu_expect_has("dry run", r.out, "Would record 00002_index");
	tu_expect_lacks("dry run", r.out, "20240102030405");
	tu_result_free(&r);
	ic_expect_tracked(&p, NULL);
	r = DB(&p, "import");
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.out, "Imported 2 migrations applied by goose");
	tu_expect_has("import", r.out, "2 migrations goose had not applied are pending");
	tu_result_free(&r);
	ic_expect_tracked(&p, "00001:1,00002:1");
	ic_expect_sql(&p, be->executed_at[0], be->executed_at[1]);
	ck_assert_int_ne(asprintf(&q, "SELECT count(*) FROM migrations WHERE %s "
				  "AND down_sql IS NOT NULL", be->checksum_is_sha256), -1);
	ic_expect_sql(&p, q, "2");
	free(q);
	/* goose's table is as it was. */
	ic_expect_sql(&p, "SELECT count(*) FROM goose_db_version", "5");
	ck_assert_int_eq(columns_of(&p, "goose_db_version"), 4);
	/* Again: nothing new. */
	r = DB(&p, "import", "goose");
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.out, "Nothing to import from goose");
	tu_result_free(&r);
	ic_expect_tracked(&p, "00001:1,00002:1");
	/* The rest runs with up, and down rolls back dbmigrate's batch. */
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	ic_expect_tracked(&p, "00001:1,00002:1,20240102030405:2,20240201000000:2");
	if (be->goose_ran[0] != NULL)
		ic_exec(&p, be->goose_ran[0]);
	ic_expect_sql(&p, be->goose_ran[1], be->goose_ran[2]);
	r = DB(&p, "down");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	ic_expect_tracked(&p, "00001:1,00002:1");
	tu_project_free(&p);
}
END_TEST

START_TEST(import_goose_v3)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;

	be->goose_files(&p);
	/* goose v3 deletes the row of a version it rolls back. */
	ic_exec(&p, be->goose_table);
	ic_exec(&p, "INSERT INTO goose_db_version (version_id, is_applied) VALUES "
		"(0, true), (1, true), (2, true), (20240102030405, true);"
		"DELETE FROM goose_db_version WHERE version_id = 20240102030405");
	r = DB(&p, "import");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	ic_expect_tracked(&p, "00001:1,00002:1");
	tu_project_free(&p);
}
END_TEST

START_TEST(import_golang_migrate)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;

	ic_golang_files(&p);
	ic_exec(&p, be->golang_table);
	ic_exec(&p, "INSERT INTO schema_migrations (version, dirty) VALUES (2, false)");
	ic_exec(&p, "CREATE TABLE users (id int, v text)");
	r = DB(&p, "import");
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.out, "applied by golang-migrate");
	tu_result_free(&r);
	/* Version 2 is current: 1 and 2 are applied, 3 is pending. */
	ic_expect_tracked(&p, "1:1,0002:1");
	ck_assert_int_eq(columns_of(&p, "schema_migrations"), 2);
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	ic_expect_tracked(&p, "1:1,0002:1,3:2");
	ic_expect_sql(&p, "SELECT v FROM users", "x");
	tu_project_free(&p);
}
END_TEST

START_TEST(import_golang_migrate_dirty)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;

	ic_golang_files(&p);
	ic_exec(&p, be->golang_table);
	ic_exec(&p, "INSERT INTO schema_migrations (version, dirty) VALUES (2, true)");
	r = DB(&p, "import", "golang-migrate");
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "dirty at version 2");
	tu_expect_has("stderr", r.err, "migrate force");
	tu_result_free(&r);
	ic_expect_tracked(&p, NULL);
	ic_expect_sql(&p, "SELECT dirty FROM schema_migrations", be->true_value);
	tu_project_free(&p);
}
END_TEST

START_TEST(import_dbmate)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;

	tu_add(&p, "20240101000001_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n");
	tu_add(&p, "20240101000002_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n");
	tu_add(&p, "20240101000003_c.sql", "-- migrate:up\nCREATE TABLE c (id int);\n-- migrate:down\nDROP TABLE c;\n");
	ic_exec(&p, be->dbmate_table);
	/* 2 was never applied (a merge that came late). */
	ic_exec(&p, "insert into schema_migrations (version) values ('20240101000001'), ('20240101000003')");
	r = DB(&p, "import", "dbmate");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	ic_expect_tracked(&p, "20240101000001:1,20240101000003:1");
	r = DB(&p, "status");
	tu_expect_has("status", r.out, "⏳ Pending 20240101000002_b ⚠️ out of order");
	tu_result_free(&r);
	ck_assert_int_eq(columns_of(&p, "schema_migrations"), 1);
	tu_project_free(&p);
}
END_TEST

START_TEST(import_flyway)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;

	ic_flyway_files(&p);
	ic_exec(&p, be->flyway_table);
	/* flyway baseline at 1, then migrate: 1.1 and the repeatable; 0.5
	   ran from a Java migration, no file of ours; 1.2 was undone. */
	exec_fmt(&p, "INSERT INTO flyway_schema_history VALUES "
		 "(1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'me', '2024-03-01 09:00:00.000', 0, true),"
		 "(2, '1.1', 'one one', 'SQL', 'V1.1__one_one.sql', %s, 'me', '2024-03-02 09:00:00.000', 12, true),"
		 "(3, '0.5', 'legacy', 'JDBC', 'db.migration.V0_5__legacy', NULL, 'me', '2024-03-02 09:00:01.000', 3, true),"
		 "(4, '1.2', 'one two', 'SQL', 'V1_2__one_two.sql', 5, 'me', '2024-03-02 09:00:02.000', 3, true),"
		 "(5, '1.2', 'one two', 'UNDO_SQL', 'U1_2__one_two.sql', 6, 'me', '2024-03-02 09:00:03.000', 3, true),"
		 "(6, NULL, 'answer', 'SQL', 'R__answer.sql', %s, 'me', '2024-03-02 09:00:04.000', 3, true)",
		 be->ck_v1_1, be->ck_r);
	/* What V1, V1.1 and the repeatable made. */
	ic_exec(&p, be->flyway_v1);
	ic_exec(&p, "INSERT INTO log (v) VALUES ('1.1')");
	ic_exec(&p, be->flyway_r);
	r = DB(&p, "import", "flyway");
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.err, "version 0.5, but no file");
	tu_result_free(&r);
	/* The baseline covers 1; 1.1 ran; 0.5 recorded as missing; 1.2
	   undone is pending, as are 1.10 and 2; the repeatable is current. */
	ic_expect_tracked(&p, "0.5:1,1:1,1.1:1");
	ic_expect_sql(&p, "SELECT batch FROM migrations WHERE id = 'R__answer'", "1");
	ic_expect_sql(&p, "SELECT name FROM migrations WHERE id = '0.5'", "legacy");
	r = DB(&p, "status");
	tu_expect_has("status", r.out, "❌ Missing 0.5_legacy (batch: 1)");
	tu_expect_has("status", r.out, "⏳ Pending V1_2__one_two");
	tu_expect_has("status", r.out, "⏳ Pending V2__two");
	tu_expect_has("status", r.out, "✅ Executed R__answer (batch: 1) (repeatable)");
	tu_result_free(&r);
	ck_assert_int_eq(columns_of(&p, "flyway_schema_history"), 10);
	ic_expect_sql(&p, "SELECT count(*) FROM flyway_schema_history", "6");
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	ic_expect_sql(&p, be->log_values, "1.1 1.2 1.10 2");
	tu_project_free(&p);
}
END_TEST

START_TEST(import_flyway_changed_repeatable_and_failed)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;

	ic_flyway_files(&p);
	ic_exec(&p, be->flyway_table);
	exec_fmt(&p, "INSERT INTO flyway_schema_history VALUES "
		 "(1, '1', 'init', 'SQL', 'V1__init.sql', %s, 'me', '2024-03-01 09:00:00.000', 5, true),"
		 "(2, NULL, 'answer', 'SQL', 'R__answer.sql', 12345, 'me', '2024-03-01 09:00:01.000', 3, true)",
		 be->ck_v1);
	r = DB(&p, "import");
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.err, "R__answer changed since flyway last applied it");
	tu_result_free(&r);
	ic_expect_tracked(&p, "1:1");
	ic_expect_sql(&p, "SELECT count(*) FROM migrations WHERE id = 'R__answer'", "0");

	/* A failed migration is refused, naming it. */
	exec_fmt(&p, "DROP TABLE migrations;"
		 "INSERT INTO flyway_schema_history VALUES "
		 "(3, '1.1', 'one one', 'SQL', 'V1.1__one_one.sql', %s, 'me', '2024-03-01 09:00:02.000', 5, false)",
		 be->ck_v1_1);
	r = DB(&p, "import");
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "failed migration: version 1.1");
	tu_expect_has("stderr", r.err, "flyway repair");
	tu_result_free(&r);
	ic_expect_tracked(&p, NULL);
	tu_project_free(&p);
}
END_TEST

START_TEST(import_detects_and_refuses_ambiguity)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;

	tu_add(&p, "00001_a.sql", "-- +goose Up\nSELECT 1;\n");
	r = DB(&p, "import");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "no history table of goose");
	tu_result_free(&r);
	ic_exec(&p, be->goose_table);
	ic_exec(&p, be->flyway_table);
	r = DB(&p, "import");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "history tables of 2 tools");
	tu_result_free(&r);
	r = DB(&p, "import", "dbmate");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "no table schema_migrations");
	tu_result_free(&r);
	r = DB(&p, "import", "liquibase");
	tu_expect_status(&r, 2);
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(peer_table_as_tracking_table_is_refused)
{
	struct tu_project p = ic_project_new();
	struct tu_result r;

	ic_golang_files(&p);
	ic_exec(&p, be->golang_table);
	ic_exec(&p, "INSERT INTO schema_migrations VALUES (1, false)");
	ic_exec(&p, be->goose_table);
	const char *cmds[][2] = { { "up", NULL }, { "status", NULL }, { "init", NULL },
				  { "mark", "1" }, { "down", NULL } };

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		r = cmds[i][1] != NULL
			? DB(&p, "--table", "schema_migrations", cmds[i][0], cmds[i][1], "--applied")
			: DB(&p, "--table", "schema_migrations", cmds[i][0]);
		tu_expect_status(&r, 2);
		tu_expect_has(cmds[i][0], r.err, "golang-migrate's history table");
		tu_expect_has(cmds[i][0], r.err, "dbmigrate import golang-migrate");
		tu_result_free(&r);
	}
	r = DB(&p, "--table", "goose_db_version", "init");
	tu_expect_status(&r, 2);
	tu_expect_has("init", r.err, "goose's history table");
	tu_result_free(&r);
	/* Never altered, nothing ran. */
	ck_assert_int_eq(columns_of(&p, "schema_migrations"), 2);
	ck_assert_int_eq(columns_of(&p, "goose_db_version"), 4);
	ic_expect_sql(&p, "SELECT count(*) FROM schema_migrations", "1");
	ic_expect_no_table(&p, "users");
	tu_project_free(&p);
}
END_TEST

TCase *ic_import_tcase(const struct ic_backend *b)
{
	TCase *tc = tcase_create("import");

	be = b;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, import_goose);
	tcase_add_test(tc, import_goose_v3);
	tcase_add_test(tc, import_golang_migrate);
	tcase_add_test(tc, import_golang_migrate_dirty);
	tcase_add_test(tc, import_dbmate);
	tcase_add_test(tc, import_flyway);
	tcase_add_test(tc, import_flyway_changed_repeatable_and_failed);
	tcase_add_test(tc, import_detects_and_refuses_ambiguity);
	tcase_add_test(tc, peer_table_as_tracking_table_is_refused);
	return tc;
}
