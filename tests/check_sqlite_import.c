/*
 * check_sqlite_import.c - switching to dbmigrate from goose,
 * golang-migrate, dbmate and Flyway on SQLite: `dbmigrate import` adopts
 * each tool's history table as that tool's SQLite dialect writes it
 * (the CREATE TABLE of its source; booleans as 1 and 0, times as
 * SQLite's text), dirty and failed histories are refused, a second
 * import records nothing, --dry-run changes nothing, and a peer's table
 * given as --table is refused and never altered: import-cases.c's tests,
 * shared with check_pg_import, on SQLite's SQL (struct ic_backend).
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "import-cases.h"
#include "sqliteutil.h"
#include "testutil.h"

/* A project: root, root/migrations, root/app.db. */
static struct tu_project sq_project_new(void)
{
	struct tu_project p = tu_project_new("app.db");

	p.url = strdup("sqlite:app.db");
	ck_assert_ptr_nonnull(p.url);
	return p;
}

static char *sq_query(const struct tu_project *p, const char *q)
{
	return tu_sqlite_query(p->db, q);
}

static void sq_exec(const struct tu_project *p, const char *sql)
{
	tu_sqlite_exec(p->db, sql);
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

/* pressly/goose dialectquery/sqlite3.go (one table for all versions) */
#define GOOSE_TABLE \
	"CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, " \
	"version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, " \
	"tstamp TIMESTAMP DEFAULT (datetime('now')))"

/* Each tool's history table, as its SQLite dialect creates it. */
static const struct ic_backend sqlite = {
	.project_new = sq_project_new,
	.query = sq_query,
	.exec = sq_exec,
	.goose_files = goose_files,
	.goose_schema = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);"
			"CREATE INDEX users_email ON users (email)",
	/* The trigger of 20240102030405 fires. */
	.goose_ran = { "INSERT INTO users (email) VALUES ('a')",
		       "SELECT count(*) FROM audit", "1" },
	.goose_table = GOOSE_TABLE,
	.goose_old_table = GOOSE_TABLE,
	/* golang-migrate database/sqlite3 */
	.golang_table = "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64, "
			"dirty bool); CREATE UNIQUE INDEX IF NOT EXISTS version_unique "
			"ON schema_migrations (version)",
	/* amacneil/dbmate pkg/driver/sqlite */
	.dbmate_table = "create table if not exists schema_migrations (version "
			"varchar(128) primary key)",
	/* flyway-database-sqlite createMetaDataTable.sql; JDBC's SQLite
	   driver writes booleans as 1 and 0 (SQLite's true and false). */
	.flyway_table = "CREATE TABLE \"main\".\"flyway_schema_history\" ("
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
	.flyway_v1 = "CREATE TABLE log (n INTEGER PRIMARY KEY, v TEXT);\n",
	.flyway_r = "CREATE VIEW IF NOT EXISTS answer AS SELECT 42 AS a;\n",
	/* Flyway's checksums of these files (CRC-32 of the lines without
	   their breaks, as java.util.zip.CRC32 gives them). */
	.ck_v1 = "663492352",
	.ck_v1_1 = "-1112161110",
	.ck_r = "265571052",
	.log_values = "SELECT group_concat(v, ' ') FROM (SELECT v FROM log ORDER BY n)",
	.true_value = "1",
	.executed_at = { "SELECT executed_at FROM migrations WHERE id = '00001'",
			 "2024-01-02T10:00:00Z" },
	.checksum_is_sha256 = "length(checksum) = 64 AND checksum NOT GLOB '*[^0-9a-f]*'",
	.table_exists = { "SELECT count(*) FROM sqlite_schema WHERE name = '", "'" },
	.count_columns = { "SELECT count(*) FROM pragma_table_info('", "')" },
	.tracked_rows = "SELECT group_concat(id || ':' || batch, ',') FROM "
			"(SELECT * FROM migrations WHERE id NOT LIKE 'R\\_\\_%' "
			"ESCAPE '\\' ORDER BY CAST(id AS REAL), id)",
};

static Suite *sqlite_import_suite(void)
{
	Suite *s = suite_create("switching from other tools on SQLite");

	suite_add_tcase(s, ic_import_tcase(&sqlite));
	return s;
}

int main(void)
{
	(void)tu_env("DBMIGRATE_BIN");
	return tu_run_suite(sqlite_import_suite());
}
