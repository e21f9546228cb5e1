/*
 * check_sqlite_import.c - switching to dbmigrate from goose,
 * golang-migrate, dbmate and Flyway on SQLite: `dbmigrate import` adopts
 * each tool's history table as that tool's SQLite dialect writes it
 * (the CREATE TABLE of its source; booleans as 1 and 0, times as
 * SQLite's text), dirty and failed histories are refused, a second
 * import records nothing, --dry-run changes nothing, and a peer's table
 * given as --table is refused and never altered. The SQLite twin of
 * check_pg_import's import cases, with the same expectations.
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migration.h"
#include "sqliteutil.h"
#include "testutil.h"

#define RUN(cwd, ...) TU_RUN((cwd), NULL, __VA_ARGS__)

/* Each tool's history table, as its SQLite dialect creates it. */
static const struct {
	const char *goose;  /* pressly/goose dialectquery/sqlite3.go */
	const char *golang; /* golang-migrate database/sqlite3 */
	const char *dbmate; /* amacneil/dbmate pkg/driver/sqlite */
	const char *flyway; /* flyway-database-sqlite createMetaDataTable.sql */
} tables = {
	.goose = "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY "
		 "AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied "
		 "INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))",
	.golang = "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64, "
		  "dirty bool); CREATE UNIQUE INDEX IF NOT EXISTS version_unique "
		  "ON schema_migrations (version)",
	.dbmate = "create table if not exists schema_migrations (version "
		  "varchar(128) primary key)",
	.flyway = "CREATE TABLE \"main\".\"flyway_schema_history\" ("
		  " \"installed_rank\" INT NOT NULL PRIMARY KEY,"
		  " \"version\" VARCHAR(50),"
		  " \"description\" VARCHAR(200) NOT NULL,"
		  " \"type\" VARCHAR(20) NOT NULL,"
		  " \"script\" VARCHAR(1000) NOT NULL,"
		  " \"checksum\" INT,"
		  " \"installed_by\" VARCHAR(100) NOT NULL,"
		  " \"installed_on\" TEXT NOT NULL DEFAULT "
		  "(strftime('%Y-%m-%d %H:%M:%f','now')),"
		  " \"execution_time\" INT NOT NULL,"
		  " \"success\" BOOLEAN NOT NULL);"
		  "CREATE INDEX \"main\".\"flyway_schema_history_s_idx\" ON "
		  "\"flyway_schema_history\" (\"success\")",
};

/* A project: root, root/migrations, root/app.db. */
static struct tu_project project_new(void)
{
	return tu_project_new("app.db");
}

#define DB(p, ...) RUN((p)->root, "--url", "sqlite:app.db", __VA_ARGS__)

/* Run SQL of the test's own. */
static void exec_sql(const struct tu_project *p, const char *sql)
{
	tu_sqlite_exec(p->db, sql);
}

/* The first value of q, or NULL. */
static char *query(const struct tu_project *p, const char *q)
{
	return tu_sqlite_query(p->db, q);
}

static void expect_sql(const struct tu_project *p, const char *q, const char *want)
{
	tu_expect_value(q, query(p, q), want);
}

/* dbmigrate's rows "id:batch,..." in version order, "" with none, NULL
   without a tracking table. */
static char *tracked(const struct tu_project *p)
{
	char *t = query(p, "SELECT count(*) FROM sqlite_schema WHERE name = 'migrations'");
	char *v = NULL;

	if (t != NULL && strcmp(t, "1") == 0) {
		v = query(p, "SELECT group_concat(id || ':' || batch, ',') FROM "
			     "(SELECT * FROM migrations WHERE id NOT LIKE 'R\\_\\_%' "
			     "ESCAPE '\\' ORDER BY CAST(id AS REAL), id)");
		if (v == NULL)
			v = strdup("");
	}
	free(t);
	return v;
}

static void expect_tracked(const struct tu_project *p, const char *want)
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

/* The columns of a table (unaltered by import). */
static int columns_of(const struct tu_project *p, const char *table)
{
	char *q, *got;
	int n;

	ck_assert_int_ne(asprintf(&q, "SELECT count(*) FROM pragma_table_info('%s')",
				  table), -1);
	got = query(p, q);
	n = got != NULL ? atoi(got) : -1;
	free(got);
	free(q);
	return n;
}

/* goose files in SQLite's SQL. */
static void goose_files(const struct tu_project *p)
{
	tu_add(p, "00001_create_users.sql",
	    "-- +goose Up\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
	    "-- +goose Down\nDROP TABLE users;\n");
	tu_add(p, "00002_index.sql",
	    "-- +goose Up\nCREATE INDEX users_email ON users (email);\n"
	    "-- +goose Down\nDROP INDEX users_email;\n");
	tu_add(p, "20240102030405_audit.sql",
	    "-- +goose Up\n-- +goose StatementBegin\n"
	    "CREATE TABLE audit (n INTEGER);\n"
	    "CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN\n"
	    "  INSERT INTO audit VALUES (1);\nEND;\n"
	    "-- +goose StatementEnd\n"
	    "-- +goose Down\nDROP TABLE audit;\n");
}

START_TEST(import_goose)
{
	struct tu_project p = project_new();
	struct tu_result r;

	goose_files(&p);
	/* goose applied 1, 2 and the timestamp one, then rolled it back
	   (goose before v3 kept a row with is_applied 0). */
	exec_sql(&p, tables.goose);
	exec_sql(&p, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1);"
		 "INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES "
		 "(1, 1, '2024-01-02 10:00:00'), (2, 1, '2024-01-03 11:00:00'), "
		 "(20240102030405, 1, '2024-01-04 12:00:00'), "
		 "(20240102030405, 0, '2024-01-05 13:00:00');"
		 "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);"
		 "CREATE INDEX users_email ON users (email)");
	r = DB(&p, "import", "--dry-run");
	tu_expect_status(&r, 0);
	tu_expect_has("dry run", r.out, "Would record 00001_create_users");
	tu_expect_lacks("dry run", r.out, "20240102030405");
	tu_result_free(&r);
	expect_tracked(&p, NULL);
	r = DB(&p, "import");
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.out, "Imported 2 migrations applied by goose");
	tu_result_free(&r);
	expect_tracked(&p, "00001:1,00002:1");
	expect_sql(&p, "SELECT executed_at FROM migrations WHERE id = '00001'",
		   "2024-01-02T10:00:00Z");
	expect_sql(&p, "SELECT count(*) FROM migrations WHERE length(checksum) = 64 "
		       "AND down_sql IS NOT NULL", "2");
	expect_sql(&p, "SELECT count(*) FROM goose_db_version", "5");
	ck_assert_int_eq(columns_of(&p, "goose_db_version"), 4);
	r = DB(&p, "import", "goose");
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.out, "Nothing to import from goose");
	tu_result_free(&r);
	/* The rest runs with up; down rolls back dbmigrate's batch only. */
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracked(&p, "00001:1,00002:1,20240102030405:2");
	exec_sql(&p, "INSERT INTO users (email) VALUES ('a')");
	expect_sql(&p, "SELECT count(*) FROM audit", "1");
	r = DB(&p, "down");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracked(&p, "00001:1,00002:1");
	tu_project_free(&p);
}
END_TEST

/* golang-migrate pairs. */
static void golang_files(const struct tu_project *p)
{
	tu_add(p, "1_init.up.sql", "CREATE TABLE users (id INTEGER, v TEXT);\n");
	tu_add(p, "1_init.down.sql", "DROP TABLE users;\n");
	tu_add(p, "2_seed.up.sql", "INSERT INTO users VALUES (1, 'x');\n");
	tu_add(p, "2_seed.down.sql", "DELETE FROM users;\n");
	tu_add(p, "3_more.up.sql", "INSERT INTO users VALUES (2, 'y');\n");
	tu_add(p, "3_more.down.sql", "DELETE FROM users WHERE id = 2;\n");
}

START_TEST(import_golang_migrate)
{
	struct tu_project p = project_new();
	struct tu_result r;

	golang_files(&p);
	exec_sql(&p, tables.golang);
	exec_sql(&p, "INSERT INTO schema_migrations (version, dirty) VALUES (2, 0);"
		 "CREATE TABLE users (id INTEGER, v TEXT); INSERT INTO users VALUES (1, 'x')");
	r = DB(&p, "import");
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.out, "applied by golang-migrate");
	tu_result_free(&r);
	expect_tracked(&p, "1:1,2:1");
	ck_assert_int_eq(columns_of(&p, "schema_migrations"), 2);
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_sql(&p, "SELECT group_concat(v) FROM users", "x,y");
	tu_project_free(&p);
}
END_TEST

START_TEST(import_golang_migrate_dirty)
{
	struct tu_project p = project_new();
	struct tu_result r;

	golang_files(&p);
	exec_sql(&p, tables.golang);
	exec_sql(&p, "INSERT INTO schema_migrations (version, dirty) VALUES (2, 1)");
	r = DB(&p, "import", "golang-migrate");
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "dirty at version 2");
	tu_expect_has("stderr", r.err, "migrate force");
	tu_result_free(&r);
	expect_tracked(&p, NULL);
	expect_sql(&p, "SELECT dirty FROM schema_migrations", "1");
	tu_project_free(&p);
}
END_TEST

START_TEST(import_dbmate)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "20240101000001_a.sql", "-- migrate:up\nCREATE TABLE a (id INTEGER);\n-- migrate:down\nDROP TABLE a;\n");
	tu_add(&p, "20240101000002_b.sql", "-- migrate:up\nCREATE TABLE b (id INTEGER);\n-- migrate:down\nDROP TABLE b;\n");
	tu_add(&p, "20240101000003_c.sql", "-- migrate:up\nCREATE TABLE c (id INTEGER);\n-- migrate:down\nDROP TABLE c;\n");
	exec_sql(&p, tables.dbmate);
	exec_sql(&p, "insert into schema_migrations (version) values ('20240101000001'), ('20240101000003')");
	r = DB(&p, "import", "dbmate");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracked(&p, "20240101000001:1,20240101000003:1");
	r = DB(&p, "status");
	tu_expect_has("status", r.out, "⏳ Pending 20240101000002_b ⚠️ out of order");
	tu_result_free(&r);
	ck_assert_int_eq(columns_of(&p, "schema_migrations"), 1);
	tu_project_free(&p);
}
END_TEST

/* Flyway files; the text of each, for its checksum. */
#define FW_V1 "CREATE TABLE log (n INTEGER PRIMARY KEY, v TEXT);\n"
#define FW_V1_1 "INSERT INTO log (v) VALUES ('1.1');\n"
#define FW_R "CREATE VIEW IF NOT EXISTS answer AS SELECT 42 AS a;\n"

static void flyway_files(const struct tu_project *p)
{
	tu_add(p, "V1__init.sql", FW_V1);
	tu_add(p, "U1__init.sql", "DROP TABLE log;\n");
	tu_add(p, "V1.1__one_one.sql", FW_V1_1);
	tu_add(p, "U1.1__one_one.sql", "DELETE FROM log WHERE v = '1.1';\n");
	tu_add(p, "V2__two.sql", "INSERT INTO log (v) VALUES ('2');\n");
	tu_add(p, "U2__two.sql", "DELETE FROM log WHERE v = '2';\n");
	tu_add(p, "R__answer.sql", FW_R);
}

START_TEST(import_flyway)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *rows;

	flyway_files(&p);
	exec_sql(&p, tables.flyway);
	/* Baseline at 1, then 1.1 and the repeatable; JDBC's SQLite
	   driver writes booleans as 1 and 0. */
	ck_assert_int_ne(asprintf(&rows,
		"INSERT INTO flyway_schema_history VALUES "
		"(1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'me', '2024-03-01 09:00:00.000', 0, 1),"
		"(2, '1.1', 'one one', 'SQL', 'V1.1__one_one.sql', %ld, 'me', '2024-03-02 09:00:00.000', 12, 1),"
		"(3, NULL, 'answer', 'SQL', 'R__answer.sql', %ld, 'me', '2024-03-02 09:00:04.000', 3, 1)",
		parse_flyway_checksum(FW_V1_1, strlen(FW_V1_1)),
		parse_flyway_checksum(FW_R, strlen(FW_R))), -1);
	exec_sql(&p, rows);
	free(rows);
	exec_sql(&p, FW_V1 FW_V1_1 FW_R);
	r = DB(&p, "import", "flyway");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracked(&p, "1:1,1.1:1");
	expect_sql(&p, "SELECT batch FROM migrations WHERE id = 'R__answer'", "1");
	r = DB(&p, "status");
	tu_expect_has("status", r.out, "⏳ Pending V2__two");
	tu_expect_has("status", r.out, "✅ Executed R__answer (batch: 1) (repeatable)");
	tu_result_free(&r);
	ck_assert_int_eq(columns_of(&p, "flyway_schema_history"), 10);
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_sql(&p, "SELECT group_concat(v, ' ') FROM log", "1.1 2");

	/* A failed row is refused, naming it. */
	exec_sql(&p, "DROP TABLE migrations;"
		 "INSERT INTO flyway_schema_history VALUES "
		 "(4, '2', 'two', 'SQL', 'V2__two.sql', 5, 'me', '2024-03-03 09:00:00.000', 5, 0)");
	r = DB(&p, "import");
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "failed migration: version 2");
	tu_expect_has("stderr", r.err, "flyway repair");
	tu_result_free(&r);
	expect_tracked(&p, NULL);
	tu_project_free(&p);
}
END_TEST

START_TEST(peer_table_as_tracking_table_is_refused)
{
	struct tu_project p = project_new();
	struct tu_result r;

	golang_files(&p);
	exec_sql(&p, tables.golang);
	exec_sql(&p, "INSERT INTO schema_migrations VALUES (1, 0)");
	exec_sql(&p, tables.goose);
	static const char *const cmds[] = { "up", "status", "init", "down" };

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		r = DB(&p, "--table", "schema_migrations", cmds[i]);
		tu_expect_status(&r, 2);
		tu_expect_has(cmds[i], r.err, "golang-migrate's history table");
		tu_expect_has(cmds[i], r.err, "dbmigrate import golang-migrate");
		tu_result_free(&r);
	}
	r = DB(&p, "--table", "goose_db_version", "init");
	tu_expect_status(&r, 2);
	tu_expect_has("init", r.err, "goose's history table");
	tu_result_free(&r);
	ck_assert_int_eq(columns_of(&p, "schema_migrations"), 2);
	ck_assert_int_eq(columns_of(&p, "goose_db_version"), 4);
	expect_sql(&p, "SELECT count(*) FROM schema_migrations", "1");
	expect_sql(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'users'", "0");
	tu_project_free(&p);
}
END_TEST

static Suite *sqlite_import_suite(void)
{
	Suite *s = suite_create("switching from other tools on SQLite");
	TCase *tc = tcase_create("import");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, import_goose);
	tcase_add_test(tc, import_golang_migrate);
	tcase_add_test(tc, import_golang_migrate_dirty);
	tcase_add_test(tc, import_dbmate);
	tcase_add_test(tc, import_flyway);
	tcase_add_test(tc, peer_table_as_tracking_table_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	(void)tu_env("DBMIGRATE_BIN");
	return tu_run_suite(sqlite_import_suite());
}
