/*
 * check_mock.c - the mock driver, loaded with dlopen from
 * $DBMIGRATE_DRIVER_PATH as the core loads it, and driven through its
 * vtable with a test host: in-memory and file-backed state, transactions,
 * the catalogue's errors, fault injection (fail=, refuse=, lock=held,
 * log=, sleep=), locking between connections and processes, the state
 * file's format, and statement classification.
 */
#define _GNU_SOURCE /* asprintf in test code */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dbmigrate/driver.h"
#include "driver.h"
#include "testutil.h"

/* The driver under test, loaded once by main() before the tests fork. */
static const struct dbmigrate_driver *vt;

/* A host as the core provides it, recording what the driver reports. */
struct th {
	struct dbmigrate_host host;
	int nerrors;
	dbmigrate_code code;
	char message[1024];
	char detail[1024];
	char sqlstate[8];
	size_t statement;
	unsigned position;
	char log[8192];
	volatile sig_atomic_t interrupted;
};

/* host->error: keep a copy of the last error. */
static void th_error(void *ctx, const struct dbmigrate_driver_error *e)
{
	struct th *t = ctx;

	t->nerrors++;
	t->code = e->code;
	snprintf(t->message, sizeof t->message, "%s",
		 e->message ? e->message : "");
	snprintf(t->detail, sizeof t->detail, "%s", e->detail ? e->detail : "");
	snprintf(t->sqlstate, sizeof t->sqlstate, "%s",
		 e->sqlstate ? e->sqlstate : "");
	t->statement = e->statement;
	t->position = e->position;
}

/* host->log: append "level: message" lines. */
static void th_log(void *ctx, enum dbmigrate_log_level level,
		   const char *message)
{
	struct th *t = ctx;
	size_t len = strlen(t->log);

	snprintf(t->log + len, sizeof t->log - len, "%d: %s\n", (int)level,
		 message);
}

/* host->interrupted. */
static int th_interrupted(void *ctx)
{
	const struct th *t = ctx;

	return t->interrupted != 0;
}

/* Make a test host with the core's own services. */
static void th_init(struct th *t)
{
	memset(t, 0, sizeof *t);
	t->host.abi_version = DBMIGRATE_DRIVER_ABI_VERSION;
	t->host.struct_size = sizeof t->host;
	t->host.ctx = t;
	t->host.error = th_error;
	t->host.log = th_log;
	t->host.interrupted = th_interrupted;
	driver_host_services(&t->host);
}

/* Connect to url; returns the code, *c set on success. */
static dbmigrate_code try_open(struct th *t, const char *url,
			       dbmigrate_conn **c)
{
	struct dbmigrate_params p = {.struct_size = sizeof p, .url = url};

	return vt->open(&t->host, &p, c);
}

/* Connect to url, which must succeed. */
static dbmigrate_conn *open_url(struct th *t, const char *url)
{
	dbmigrate_conn *c = NULL;

	ck_assert_msg(try_open(t, url, &c) == DBMIGRATE_OK, "open %s: %s", url,
		      t->message);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Apply statements (a NULL-terminated list) with no tracking row. */
static dbmigrate_code run(dbmigrate_conn *c, ...)
{
	struct dbmigrate_stmt s[16];
	size_t n = 0;
	const char *sql;
	va_list ap;

	va_start(ap, c);
	while ((sql = va_arg(ap, const char *)) != NULL && n < 16) {
		s[n].sql = sql;
		s[n].len = strlen(sql);
		n++;
	}
	va_end(ap);
	return vt->apply(c, "migrations", s, n, NULL, NULL);
}

/* Apply one statement and record the row id (batch 1). */
static dbmigrate_code run_recorded(dbmigrate_conn *c, const char *sql,
				   const char *id)
{
	struct dbmigrate_stmt s = {sql, strlen(sql)};
	struct dbmigrate_row r = {.id = id,
				  .name = "test",
				  .batch = 1,
				  .checksum = NULL,
				  .executed_at = NULL};

	return vt->apply(c, "migrations", &s, sql[0] ? 1 : 0, &r, NULL);
}

/* read_rows callback: append "id/batch," to a buffer. */
static int collect(void *ctx, const struct dbmigrate_row *r)
{
	char *buf = ctx;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%s/%d,", r->id, r->batch);
	return 0;
}

/* The rows of a table as "id/batch,..." (static buffer). */
static const char *rows(dbmigrate_conn *c, const char *table)
{
	static char buf[512];

	buf[0] = '\0';
	ck_assert_int_eq(vt->read_rows(c, table, collect, buf), DBMIGRATE_OK);
	return buf;
}

/* Assert the last error: code, SQLSTATE and failing statement index. */
static void expect_error(const struct th *t, dbmigrate_code code,
			 const char *sqlstate, size_t statement)
{
	ck_assert_int_eq(t->code, code);
	ck_assert_str_eq(t->sqlstate, sqlstate);
	ck_assert_uint_eq(t->statement, statement);
	ck_assert_uint_eq(t->position, 0);
}

/* "mock:DIR/state.db" for a scratch directory; *dir gets the directory. */
static char *state_url(char **dir)
{
	char *url;

	*dir = tu_mkdtemp();
	ck_assert_int_ne(asprintf(&url, "mock:%s/state.db", *dir), -1);
	return url;
}

START_TEST(identity_and_caps)
{
	ck_assert_uint_eq(vt->abi_version, DBMIGRATE_DRIVER_ABI_VERSION);
	ck_assert_uint_eq(vt->struct_size, sizeof(struct dbmigrate_driver));
	ck_assert_str_eq(vt->name, "mock");
	ck_assert_uint_eq(vt->caps, DBMIGRATE_CAP_TRANSACTIONAL_DDL |
					DBMIGRATE_CAP_LOCK |
					DBMIGRATE_CAP_CANCEL);
	ck_assert_ptr_nonnull(vt->lock);
	ck_assert_ptr_nonnull(vt->classify);
	ck_assert_ptr_nonnull(vt->cancel);
}
END_TEST

START_TEST(in_memory_lives_for_one_connection)
{
	struct th t;
	struct dbmigrate_params hostport = {.struct_size = sizeof hostport,
					    .host = "localhost",
					    .port = "5432"};
	dbmigrate_conn *c;
	int exists = 1;

	th_init(&t);
	c = open_url(&t, "mock:");
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(run_recorded(c, "CREATE TABLE users (id int)", "001"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(rows(c, "migrations"), "001/1,");
	vt->close(c);
	/* A new connection is a new, empty database. */
	c = open_url(&t, "mock://");
	ck_assert_int_eq(vt->table_exists(c, "migrations", &exists),
			 DBMIGRATE_OK);
	ck_assert_int_eq(exists, 0);
	ck_assert_str_eq(rows(c, "migrations"), "");
	ck_assert_int_eq(run(c, "CREATE TABLE users (id int)", NULL),
			 DBMIGRATE_OK);
	vt->close(c);
	/* Parameters without a URL (host, port) are in memory too. */
	c = NULL;
	ck_assert_int_eq(vt->open(&t.host, &hostport, &c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	vt->close(c);
	vt->close(NULL);
	ck_assert_int_eq(t.nerrors, 0);
}
END_TEST

START_TEST(file_state_persists_across_connections)
{
	struct th t;
	char *dir, *url = state_url(&dir), *url3, *path, *text;
	struct dbmigrate_stmt s = {"CREATE TABLE users (\n\tid int -- a\\b\n)",
				   0};
	struct dbmigrate_row r = {.id = "001",
				  .name = "create_users",
				  .executed_at = "2026-11-24T10:00:00Z",
				  .checksum = "ab12",
				  .batch = 3};
	dbmigrate_conn *c;

	s.len = strlen(s.sql);
	th_init(&t);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", &s, 1, &r, NULL),
			 DBMIGRATE_OK);
	vt->close(c);

	/* mock:///abs/path is the same file. */
	ck_assert_int_ne(asprintf(&url3, "mock://%s/state.db", dir), -1);
	c = open_url(&t, url3);
	ck_assert_str_eq(rows(c, "migrations"), "001/3,");
	ck_assert_int_eq(run(c, "create table USERS (x int)", NULL),
			 DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "42P07", 0);
	ck_assert_str_eq(t.message, "relation \"users\" already exists");
	vt->close(c);

	/* The file: a version line, then readable records; the statement's
	   newline, tab and backslash are escaped on its journal line. */
	ck_assert_int_ne(asprintf(&path, "%s/state.db", dir), -1);
	text = tu_read(path);
	ck_assert_ptr_nonnull(text);
	ck_assert(strncmp(text, "dbmigrate-mock 1\n", 17) == 0);
	ck_assert_ptr_nonnull(strstr(text, "\ntable\tmigrations\n"));
	ck_assert_ptr_nonnull(strstr(text,
				     "\nrow\tmigrations\t001\tcreate_users\t"
				     "2026-11-24T10:00:00Z\t3\tab12\t\\N\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nobject\ttable\tusers\t\\N\n"));
	ck_assert_ptr_nonnull(strstr(
	    text,
	    "\njournal\tCREATE TABLE users (\\n\\tid int -- a\\\\b\\n)\n"));
	ck_assert_ptr_null(
	    strstr(text, "USERS")); /* the failed one is not journaled */
	free(text);
	free(path);
	free(url3);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(relative_path_and_no_temp_files_left)
{
	struct th t;
	char *dir = tu_mkdtemp();
	dbmigrate_conn *c;
	struct dirent *e;
	DIR *d;
	int n = 0;

	ck_assert_int_eq(chdir(dir), 0);
	th_init(&t);
	c = open_url(&t, "mock:state.db");
	ck_assert_int_eq(vt->lock(c, "migrations", 1), DBMIGRATE_OK);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
		ck_assert_int_eq(run(c, "SELECT 1", NULL), DBMIGRATE_OK);
		ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
	}
	vt->close(c);
	ck_assert(tu_exists("state.db"));
	/* Only the state file and its lock file: commits rename their
	   temporary files into place. */
	d = opendir(".");
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		ck_assert_msg(strcmp(e->d_name, "state.db") == 0 ||
				  strcmp(e->d_name, "state.db.lock") == 0,
			      "unexpected file %s", e->d_name);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(chdir("/"), 0);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(rollback_leaves_no_trace)
{
	struct th t;
	char *dir, *url = state_url(&dir), *path, *text;
	dbmigrate_conn *c;

	th_init(&t);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(run_recorded(c, "CREATE TABLE ghost (id int)", "001"),
			 DBMIGRATE_OK);
	/* Inside the transaction its own changes are visible. */
	ck_assert_str_eq(rows(c, "migrations"), "001/1,");
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
	ck_assert_str_eq(rows(c, "migrations"), "");
	vt->close(c);

	c = open_url(&t, url);
	ck_assert_str_eq(rows(c, "migrations"), "");
	/* The table was never created, so it can be now. */
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(run_recorded(c, "CREATE TABLE ghost (id int)", "001"),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
	vt->close(c);
	ck_assert_int_ne(asprintf(&path, "%s/state.db", dir), -1);
	text = tu_read(path);
	ck_assert_int_eq(tu_count(text, "journal\tCREATE TABLE ghost"), 1);
	free(text);
	/* A rollback outside a transaction is a harmless no-op. */
	c = open_url(&t, url);
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
	ck_assert_str_eq(rows(c, "migrations"), "001/1,");
	vt->close(c);
	free(path);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(close_rolls_back_an_open_transaction)
{
	struct th t;
	char *dir, *url = state_url(&dir);
	dbmigrate_conn *c;

	th_init(&t);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(run_recorded(c, "SELECT 1", "001"), DBMIGRATE_OK);
	vt->close(c);
	c = open_url(&t, url);
	ck_assert_str_eq(rows(c, "migrations"), "");
	vt->close(c);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* One catalogue case: a statement and the SQLSTATE it fails with ("" ok). */
struct cat_case {
	const char *sql;
	const char *sqlstate;
	const char *message;
};

START_TEST(catalogue_errors)
{
	static const struct cat_case cases[] = {
	    {"CREATE TABLE users (id int)", "", NULL},
	    {"create table USERS (x int)", "42P07",
	     "relation \"users\" already exists"},
	    {"CREATE TABLE public.users (x int)", "42P07", NULL},
	    {"CREATE TABLE IF NOT EXISTS users (x int)", "", NULL},
	    {"CREATE TABLE \"Users\" (x int)", "", NULL},
	    {"-- CREATE TABLE users\n/* DROP TABLE x */ SELECT 'CREATE TABLE "
	     "users'",
	     "", NULL},
	    {"CREATE INDEX idx ON missing (a)", "42P01",
	     "relation \"missing\" does not exist"},
	    {"CREATE INDEX ON users (id)", "", NULL},
	    {"CREATE INDEX ON nowhere (id)", "42P01", NULL},
	    {"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_users ON ONLY "
	     "users (id)",
	     "", NULL},
	    {"CREATE INDEX idx_users ON users (id)", "42P07",
	     "relation \"idx_users\" already exists"},
	    {"CREATE VIEW users AS SELECT 1", "42P07", NULL},
	    {"CREATE OR REPLACE VIEW v AS SELECT 1", "", NULL},
	    {"CREATE OR REPLACE VIEW v AS SELECT 2", "", NULL},
	    {"CREATE SEQUENCE v", "42P07", NULL},
	    {"DROP TABLE nope", "42P01", "table \"nope\" does not exist"},
	    {"DROP TABLE IF EXISTS nope, users2", "", NULL},
	    {"DROP INDEX users", "42809", "\"users\" is not an index"},
	    {"DROP INDEX nope", "42704", "index \"nope\" does not exist"},
	    {"ALTER TABLE nope ADD COLUMN x int", "42P01",
	     "relation \"nope\" does not exist"},
	    {"ALTER TABLE IF EXISTS nope ADD COLUMN x int", "", NULL},
	    {"ALTER TABLE ONLY users ADD COLUMN email text", "", NULL},
	    {"CREATE FUNCTION f() RETURNS int AS $$ CREATE TABLE users $$ "
	     "LANGUAGE sql",
	     "", NULL},
	    {"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
	     "42723", NULL},
	    {"CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ "
	     "LANGUAGE sql",
	     "", NULL},
	    {"DROP FUNCTION f(int, text), g()", "42883",
	     "function \"g\" does not exist"},
	    {"DROP FUNCTION IF EXISTS f(int, text), g()", "", NULL},
	    {"CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql", "",
	     NULL},
	    {"CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"", "", NULL},
	    {"CREATE EXTENSION \"uuid-ossp\"", "42710", NULL},
	    {"CREATE TYPE mood AS ENUM ('sad', 'ok')", "", NULL},
	    {"CREATE TYPE MOOD AS ENUM ('x')", "42710",
	     "type \"mood\" already exists"},
	    {"DROP TYPE mood", "", NULL},
	    {"CREATE TRIGGER trg BEFORE UPDATE OF email ON users FOR EACH ROW "
	     "EXECUTE FUNCTION f()",
	     "", NULL},
	    {"CREATE TRIGGER trg AFTER INSERT ON users EXECUTE FUNCTION f()",
	     "42710", "trigger \"trg\" for relation \"users\" already exists"},
	    {"CREATE TRIGGER trg AFTER INSERT ON v EXECUTE FUNCTION f()", "",
	     NULL},
	    {"CREATE TRIGGER trg2 AFTER INSERT ON ghost EXECUTE FUNCTION f()",
	     "42P01", NULL},
	    {"DROP TRIGGER trg ON v", "", NULL},
	    {"DROP TRIGGER trg ON v", "42704",
	     "trigger \"trg\" for table \"v\" does not exist"},
	    {"CREATE SCHEMA app", "", NULL},
	    {"CREATE SCHEMA IF NOT EXISTS app", "", NULL},
	    {"CREATE SCHEMA app", "42P06", "schema \"app\" already exists"},
	    {"CREATE TABLE app.t (id int)", "", NULL},
	    {"CREATE INDEX t_idx ON app.t (id)", "", NULL},
	    {"CREATE TABLE t (id int)", "", NULL}, /* public.t is not app.t */
	    {"DROP INDEX t_idx", "42704", NULL},   /* it lives in app */
	    {"DROP INDEX app.t_idx", "", NULL},
	    {"CREATE INDEX t_idx ON app.t (id)", "", NULL},
	    {"DROP SCHEMA app CASCADE", "", NULL},
	    {"DROP SCHEMA app", "3F000", "schema \"app\" does not exist"},
	    {"CREATE TABLE app.t (id int)", "", NULL},
	    {"CREATE INDEX t_idx ON app.t (id)", "", NULL},
	    /* A rename follows the table; its indexes go with it. */
	    {"ALTER TABLE users RENAME TO people", "", NULL},
	    {"ALTER TABLE users ADD COLUMN y int", "42P01", NULL},
	    {"CREATE INDEX people_idx ON people (id)", "", NULL},
	    {"ALTER TABLE people RENAME TO v", "42P07",
	     "relation \"v\" already exists"},
	    {"ALTER INDEX idx_users RENAME TO idx_people", "", NULL},
	    {"DROP TABLE people", "", NULL},
	    {"CREATE TABLE people (id int)", "", NULL},
	    {"CREATE INDEX idx_people ON people (id)", "", NULL},
	    {"CREATE INDEX people_idx ON people (id)", "", NULL},
	    {"DROP TRIGGER trg ON people", "42704", NULL},
	    /* Quoted names keep their case; long names are cut at 63 bytes. */
	    {"CREATE TABLE \"Mixed\"\"Quote\" (id int)", "", NULL},
	    {"CREATE TABLE \"Mixed\"\"Quote\" (id int)", "42P07",
	     "relation \"Mixed\"Quote\" already exists"},
	    {"CREATE TABLE "
	     "a23456789012345678901234567890123456789012345678901234567890123xy"
	     "z (a int)",
	     "", NULL},
	    {"CREATE TABLE "
	     "a23456789012345678901234567890123456789012345678901234567890123 "
	     "(a int)",
	     "42P07", NULL},
	    /* Everything else is accepted as it is. */
	    {"INSERT INTO nowhere VALUES (1)", "", NULL},
	    {"GRANT SELECT ON users TO bob", "", NULL},
	    {"COMMENT ON TABLE nope IS 'x'", "", NULL},
	};
	struct th t;
	dbmigrate_conn *c;

	th_init(&t);
	c = open_url(&t, "mock:");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		dbmigrate_code rc;

		t.sqlstate[0] = '\0';
		rc = run(c, cases[i].sql, NULL);
		ck_assert_msg(strcmp(t.sqlstate, cases[i].sqlstate) == 0 &&
				  (rc == DBMIGRATE_OK) ==
				      (cases[i].sqlstate[0] == '\0'),
			      "case %zu (%s): rc %d sqlstate \"%s\" (%s), "
			      "expected \"%s\"",
			      i, cases[i].sql, rc, t.sqlstate, t.message,
			      cases[i].sqlstate);
		if (rc != DBMIGRATE_OK)
			expect_error(&t, DBMIGRATE_EMIGRATION,
				     cases[i].sqlstate, 0);
		if (cases[i].message != NULL)
			ck_assert_str_eq(t.message, cases[i].message);
	}
	/* IF [NOT] EXISTS skips with a notice, as PostgreSQL does. */
	ck_assert_ptr_nonnull(
	    strstr(t.log, "relation \"users\" already exists, skipping"));
	ck_assert_ptr_nonnull(
	    strstr(t.log, "table \"nope\" does not exist, skipping"));
	vt->close(c);
}
END_TEST

START_TEST(failing_statement_index_and_autocommit)
{
	struct th t;
	dbmigrate_conn *c;

	th_init(&t);
	c = open_url(&t, "mock:");
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	/* Outside a transaction each statement commits on its own: the
	   first stays, the row is not written. */
	ck_assert_int_eq(run(c, "CREATE TABLE a (id int)",
			     "CREATE TABLE a (id int)",
			     "CREATE TABLE b (id int)", NULL),
			 DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "42P07", 1);
	ck_assert_int_eq(run(c, "CREATE TABLE a (id int)", NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_int_eq(run(c, "CREATE TABLE b (id int)", NULL), DBMIGRATE_OK);
	/* A failed statement of a list leaves nothing of itself. */
	ck_assert_int_eq(run(c, "DROP TABLE a, nope", NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_int_eq(run(c, "CREATE TABLE a (id int)", NULL),
			 DBMIGRATE_EMIGRATION);
	vt->close(c);
}
END_TEST

START_TEST(aborted_transaction)
{
	struct th t;
	char *dir, *url = state_url(&dir);
	dbmigrate_conn *c;
	int exists;

	th_init(&t);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(run_recorded(c, "CREATE TABLE a (id int)", "001"),
			 DBMIGRATE_OK);
	ck_assert_int_eq(run(c, "SELECT 1", "CREATE TABLE a (id int)", NULL),
			 DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "42P07", 1);
	/* Everything fails now, as in PostgreSQL, until rollback(). */
	ck_assert_int_eq(run(c, "SELECT 2", NULL), DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "25P02", 0);
	ck_assert_str_eq(t.message, "current transaction is aborted, commands "
				    "ignored until end of transaction block");
	ck_assert_int_eq(vt->ensure_table(c, "other"), DBMIGRATE_EDATABASE);
	ck_assert_str_eq(t.sqlstate, "25P02");
	ck_assert_int_eq(vt->table_exists(c, "migrations", &exists),
			 DBMIGRATE_EDATABASE);
	/* Committing it rolls it back, and says so. */
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_EDATABASE);
	ck_assert_str_eq(t.sqlstate, "25P02");
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
	ck_assert_str_eq(rows(c, "migrations"), "");
	ck_assert_int_eq(run(c, "CREATE TABLE a (id int)", NULL), DBMIGRATE_OK);
	/* After rollback() the next transaction works. */
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(run(c, "CREATE TABLE a (id int)", NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(run_recorded(c, "CREATE TABLE b (id int)", "002"),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
	ck_assert_str_eq(rows(c, "migrations"), "002/1,");
	vt->close(c);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(caller_bugs_are_errors)
{
	struct th t;
	dbmigrate_conn *c;

	th_init(&t);
	c = open_url(&t, "mock:");
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_EDATABASE);
	ck_assert_str_eq(t.sqlstate, "25P01");
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_EDATABASE);
	ck_assert_str_eq(t.message,
			 "there is already a transaction in progress");
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
	vt->close(c);
}
END_TEST

START_TEST(refused_inside_a_transaction)
{
	struct th t;
	dbmigrate_conn *c;

	th_init(&t);
	c = open_url(&t, "mock:");
	ck_assert_int_eq(run(c, "CREATE TABLE t (a int)", NULL), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(
	    run(c, "SELECT 1", "CREATE INDEX CONCURRENTLY i ON t (a)", NULL),
	    DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "25001", 1);
	ck_assert_str_eq(
	    t.message,
	    "CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
	/* On its own, outside a transaction, it runs. */
	ck_assert_int_eq(run(c, "CREATE INDEX CONCURRENTLY i ON t (a)", NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(run(c, "VACUUM t", NULL), DBMIGRATE_OK);
	vt->close(c);
}
END_TEST

/* A statement and what classify() must say of it. */
struct class_case {
	const char *sql;
	const char *reason; /* NULL: may run in a transaction */
};

START_TEST(classify_statements)
{
	static const struct class_case cases[] = {
	    {"CREATE INDEX CONCURRENTLY i ON t (a)",
	     "CREATE INDEX CONCURRENTLY cannot run inside a transaction block"},
	    {"create unique index concurrently i on t (a)",
	     "CREATE INDEX CONCURRENTLY cannot run inside a transaction block"},
	    {"-- note\nDROP INDEX CONCURRENTLY IF EXISTS i",
	     "DROP INDEX CONCURRENTLY cannot run inside a transaction block"},
	    {"REINDEX TABLE CONCURRENTLY t",
	     "REINDEX CONCURRENTLY cannot run inside a transaction block"},
	    {"REINDEX (VERBOSE, CONCURRENTLY) INDEX i",
	     "REINDEX CONCURRENTLY cannot run inside a transaction block"},
	    {"REINDEX (CONCURRENTLY false) INDEX i", NULL},
	    {"REINDEX SCHEMA app",
	     "REINDEX SCHEMA cannot run inside a transaction block"},
	    {"REINDEX TABLE t", NULL},
	    {"VACUUM ANALYZE t",
	     "VACUUM cannot run inside a transaction block"},
	    {"CREATE DATABASE x",
	     "CREATE DATABASE cannot run inside a transaction block"},
	    {"DROP DATABASE x",
	     "DROP DATABASE cannot run inside a transaction block"},
	    {"CREATE TABLESPACE x LOCATION '/x'",
	     "CREATE TABLESPACE cannot run inside a transaction block"},
	    {"DROP TABLESPACE x",
	     "DROP TABLESPACE cannot run inside a transaction block"},
	    {"ALTER SYSTEM SET work_mem = '1MB'",
	     "ALTER SYSTEM cannot run inside a transaction block"},
	    {"ALTER DATABASE d SET TABLESPACE x",
	     "ALTER DATABASE ... SET TABLESPACE cannot run inside a "
	     "transaction block"},
	    {"ALTER DATABASE d SET work_mem = '1MB'", NULL},
	    {"ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
	     "ALTER TABLE ... DETACH PARTITION CONCURRENTLY cannot run inside "
	     "a transaction block"},
	    {"CLUSTER", "CLUSTER without a table name cannot run inside a "
			"transaction block"},
	    {"CLUSTER t", NULL},
	    {"DISCARD ALL",
	     "DISCARD ALL cannot run inside a transaction block"},
	    {"CREATE INDEX i ON t (a)", NULL},
	    {"CREATE TABLE \"CONCURRENTLY\" (a int)", NULL},
	    {"SELECT 'VACUUM'", NULL},
	    {"/* VACUUM */ SELECT 1", NULL},
	    {"", NULL},
	};
	struct th t;

	/* No connection: classify needs only the host. */
	th_init(&t);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dbmigrate_stmt_class cls = { 0 };

		vt->classify(&t.host, cases[i].sql, strlen(cases[i].sql), &cls);
		ck_assert_msg(((cls.flags & DBMIGRATE_STMT_NO_TRANSACTION) != 0) ==
				      (cases[i].reason != NULL),
			      "case %zu: %s", i, cases[i].sql);
		if (cases[i].reason != NULL)
			ck_assert_str_eq(cls.reason, cases[i].reason);
	}
}
END_TEST

START_TEST(fail_parameter)
{
	struct th t;
	dbmigrate_conn *c;

	th_init(&t);
	c = open_url(&t, "mock:?fail=two%20words");
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(run(c, "SELECT 1", "SELECT 'two words'", NULL),
			 DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "XX000", 1);
	ck_assert_str_eq(
	    t.message,
	    "mock: injected failure on statement containing \"two words\"");
	/* It fires once. */
	ck_assert_int_eq(run(c, "SELECT 'two words'", NULL), DBMIGRATE_OK);
	vt->close(c);
}
END_TEST

START_TEST(bad_urls_are_refused)
{
	static const struct {
		const char *url;
		const char *message;
	} cases[] = {
	    {"mock:?refuse=1",
	     "mock: connection refused (refuse=1 in the URL)"},
	    {"mock:?bogus=1", "mock: unknown URL parameter \"bogus\""},
	    {"mock:?sleep=abc", "mock: sleep must be a number of milliseconds "
				"up to 86400000, not \"abc\""},
	    {"mock:?lock=free", "mock: lock must be \"held\", not \"free\""},
	    {"mock:?fail=a&fail=b", "mock: URL parameter \"fail\" given twice"},
	    {"mock:?fail", "mock: URL parameter \"fail\" needs a value"},
	    {"mock:/nonexistent-dir/sub/state.db", NULL},
	    {"postgres://bob:s3cret@db/app",
	     "mock: the URL does not start with \"mock:\""},
	};
	struct th t;
	dbmigrate_conn *c;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		th_init(&t);
		c = (dbmigrate_conn *)&t; /* must be reset to NULL */
		ck_assert_int_eq(try_open(&t, cases[i].url, &c),
				 DBMIGRATE_ECONNECT);
		ck_assert_ptr_null(c);
		ck_assert_int_eq(t.code, DBMIGRATE_ECONNECT);
		if (cases[i].message != NULL)
			ck_assert_str_eq(t.message, cases[i].message);
		ck_assert_ptr_null(strstr(t.message, "s3cret"));
	}
	ck_assert_ptr_nonnull(strstr(t.message, "mock:"));
	th_init(&t);
	ck_assert_int_eq(try_open(&t, "mock:/nonexistent-dir/sub/state.db", &c),
			 DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(t.message, "/nonexistent-dir/sub"));
	/* refuse=0 connects. */
	c = open_url(&t, "mock:?refuse=0&&");
	vt->close(c);
}
END_TEST

START_TEST(lock_held_parameter)
{
	struct th t;
	dbmigrate_conn *c;
	double t0;

	th_init(&t);
	c = open_url(&t, "mock:?lock=held");
	t0 = tu_now();
	ck_assert_int_eq(vt->lock(c, "migrations", 0.3), DBMIGRATE_ELOCK);
	ck_assert(tu_now() - t0 >= 0.28);
	ck_assert_int_eq(t.code, DBMIGRATE_ELOCK);
	ck_assert_ptr_nonnull(strstr(
	    t.message,
	    "lock held by another dbmigrate (mock: lock=held; pid 4242)"));
	ck_assert_ptr_nonnull(strstr(t.log, "4242")); /* a LOCK_WAIT log line */
	/* An interrupt ends the wait early. */
	t.interrupted = 1;
	t0 = tu_now();
	ck_assert_int_eq(vt->lock(c, "migrations", 30), DBMIGRATE_EINTERRUPTED);
	ck_assert(tu_now() - t0 < 2);
	vt->close(c);
}
END_TEST

START_TEST(log_parameter)
{
	struct th t;
	char *dir = tu_mkdtemp(), *url, *log, *text;
	dbmigrate_conn *c;

	ck_assert_int_ne(asprintf(&log, "%s/statements.log", dir), -1);
	ck_assert_int_ne(asprintf(&url, "mock:?log=%s", log), -1);
	th_init(&t);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(
	    run(c, "CREATE TABLE a (x int)", "SELECT 'multi\nline'", NULL),
	    DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(
	    run(c, "CREATE TABLE b (x int)", "CREATE TABLE a (x int)", NULL),
	    DBMIGRATE_EMIGRATION);
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
	ck_assert_int_eq(run(c, "SELECT 2", NULL), DBMIGRATE_OK);
	vt->close(c);
	text = tu_read(log);
	ck_assert_str_eq(
	    text,
	    "BEGIN\nCREATE TABLE a (x int)\nSELECT 'multi\\nline'\nCOMMIT\n"
	    "BEGIN\nCREATE TABLE b (x int)\nROLLBACK\nSELECT 2\n");
	free(text);
	free(url);
	free(log);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* The connection a SIGALRM cancels, as the CLI's signal handler does. */
static dbmigrate_conn *volatile alarm_target;

/* SIGALRM handler: cancel the running statement. */
static void on_alarm(int sig)
{
	(void)sig;
	vt->cancel(alarm_target);
}

/* Deliver SIGALRM after ms milliseconds. */
static void alarm_in(long ms)
{
	struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

START_TEST(sleep_parameter_and_cancel)
{
	struct th t;
	char *dir, *url = state_url(&dir), *slow;
	dbmigrate_conn *c;
	double t0;

	th_init(&t);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	vt->close(c);
	ck_assert_int_ne(asprintf(&slow, "%s?sleep=5000", url), -1);
	c = open_url(&t, slow);
	alarm_target = c;
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	alarm_in(200);
	t0 = tu_now();
	ck_assert_int_eq(run_recorded(c, "CREATE TABLE slow (id int)", "001"),
			 DBMIGRATE_EINTERRUPTED);
	ck_assert(tu_now() - t0 < 2);
	expect_error(&t, DBMIGRATE_EINTERRUPTED, "57014", 0);
	ck_assert_str_eq(t.message, "canceling statement due to user request");
	ck_assert_int_eq(run(c, "SELECT 1", NULL),
			 DBMIGRATE_EMIGRATION); /* aborted */
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
	/* The host's interrupt flag ends it too. */
	t.interrupted = 1;
	ck_assert_int_eq(run(c, "SELECT 1", NULL), DBMIGRATE_EINTERRUPTED);
	vt->close(c);
	c = open_url(&t, url);
	ck_assert_str_eq(rows(c, "migrations"), "");
	vt->close(c);
	/* A cancel between statements does not fail the next one. */
	t.interrupted = 0;
	free(slow);
	ck_assert_int_ne(asprintf(&slow, "%s?sleep=100", url), -1);
	c = open_url(&t, slow);
	vt->cancel(c);
	t0 = tu_now();
	ck_assert_int_eq(run(c, "SELECT 1", "SELECT 2", NULL), DBMIGRATE_OK);
	ck_assert(tu_now() - t0 >= 0.19);
	vt->close(c);
	free(slow);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(two_connections_in_one_process_exclude)
{
	struct th ta, tb;
	char *dir, *url = state_url(&dir), pid[32];
	dbmigrate_conn *a, *b;

	th_init(&ta);
	th_init(&tb);
	a = open_url(&ta, url);
	b = open_url(&tb, url);
	ck_assert_int_eq(vt->lock(a, "migrations", 1), DBMIGRATE_OK);
	ck_assert_int_eq(vt->lock(a, "migrations", 1),
			 DBMIGRATE_OK); /* again: held */
	ck_assert_int_eq(vt->lock(b, "migrations", 0.2), DBMIGRATE_ELOCK);
	snprintf(pid, sizeof pid, "held by pid %ld", (long)getpid());
	ck_assert_ptr_nonnull(strstr(tb.message, pid));
	ck_assert_ptr_nonnull(strstr(tb.message, "state.db.lock within 0.2 s"));
	/* b sees what a commits, without reconnecting. */
	ck_assert_int_eq(vt->ensure_table(a, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(run_recorded(a, "CREATE TABLE x (id int)", "001"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(rows(b, "migrations"), "001/1,");
	ck_assert_int_eq(vt->unlock(a, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->lock(b, "migrations", 0.2), DBMIGRATE_OK);
	ck_assert_int_eq(vt->lock(a, "migrations", 0.1), DBMIGRATE_ELOCK);
	vt->close(b); /* close() releases */
	ck_assert_int_eq(vt->lock(a, "migrations", 0.2), DBMIGRATE_OK);
	vt->close(a);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(lock_names_the_holding_process)
{
	struct th t;
	char *dir, *url = state_url(&dir), want[64], ch;
	int up[2], down[2];
	dbmigrate_conn *c;
	pid_t child;
	int status;

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		/* The holder: lock, tell the parent, wait for it to finish. */
		th_init(&t);
		close(up[0]);
		close(down[1]);
		if (try_open(&t, url, &c) != DBMIGRATE_OK ||
		    vt->lock(c, "migrations", 5) != DBMIGRATE_OK)
			_exit(1);
		if (write(up[1], "L", 1) != 1)
			_exit(1);
		while (read(down[0], &ch, 1) > 0)
			;
		vt->close(c);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	ck_assert_int_eq(read(up[0], &ch, 1), 1);
	th_init(&t);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->lock(c, "migrations", 0.3), DBMIGRATE_ELOCK);
	snprintf(want, sizeof want, "(held by pid %ld)", (long)child);
	ck_assert_ptr_nonnull(strstr(t.message, want));
	snprintf(want, sizeof want, "(pid %ld)", (long)child);
	ck_assert_ptr_nonnull(strstr(t.detail, want));
	close(down[1]); /* the holder exits, releasing the lock */
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(vt->lock(c, "migrations", 1), DBMIGRATE_OK);
	vt->close(c);
	close(up[0]);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A state file content and the message open() must give. */
struct corrupt_case {
	const char *content;
	const char *message; /* after "mock: bad state file PATH, " */
};

START_TEST(corrupt_state_file_is_refused)
{
	static const struct corrupt_case cases[] = {
	    {"garbage\n", "line 1: not a mock state file (the first line is "
			  "not \"dbmigrate-mock 1\")"},
	    {"dbmigrate-mock 2\n", "line 1: unsupported version 2 (this mock "
				   "driver reads version 1)"},
	    {"dbmigrate-mock 1\n# c\ntable\tmigrations\nbogus\tx\n",
	     "line 4: unknown record \"bogus\""},
	    {"dbmigrate-mock 1\nrow\tmigrations\t001\tn\tt\t1\t\\N\n",
	     "line 2: a row of a table not declared above it"},
	    {"dbmigrate-mock 1\ntable\tm\nrow\tm\t001\tn\tt\tx\t\\N\n",
	     "line 3: bad batch number \"x\""},
	    {"dbmigrate-mock 1\ntable\tm\nrow\tm\t001\tn\tt\t1\n",
	     "line 3: a \"row\" record has 7 to 9 fields, not 6"},
	    {"dbmigrate-mock 1\njournal\tbad \\q escape\n",
	     "line 2: a bad backslash escape"},
	    {"dbmigrate-mock 1\nobject\tgizmo\tx\t\\N\n",
	     "line 2: unknown object kind \"gizmo\""},
	    {"dbmigrate-mock 1\ntable\t\\N\n",
	     "line 2: a NULL (\\N) where a value is needed"},
	};
	struct th t;
	char *dir = tu_mkdtemp(), *path, *url, *want;
	dbmigrate_conn *c;

	ck_assert_int_ne(asprintf(&url, "mock:%s/state.db", dir), -1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		free(tu_write(dir, "state.db", cases[i].content));
		th_init(&t);
		c = NULL;
		ck_assert_int_eq(try_open(&t, url, &c), DBMIGRATE_ECONNECT);
		ck_assert_ptr_null(c);
		ck_assert_int_ne(
		    asprintf(&want, "mock: bad state file %s/state.db, %s", dir,
			     cases[i].message),
		    -1);
		ck_assert_str_eq(t.message, want);
		free(want);
	}
	/* An empty file is an empty database; so is a missing one. */
	path = tu_write(dir, "state.db", "");
	th_init(&t);
	c = open_url(&t, url);
	vt->close(c);
	unlink(path);
	c = open_url(&t, url);
	vt->close(c);
	ck_assert(!tu_exists(path)); /* created at the first commit only */
	free(path);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(tracking_rows)
{
	struct th t;
	struct dbmigrate_row r = {.id = "001", .name = "a", .batch = 2};
	struct dbmigrate_row noname = {.id = "009", .name = NULL, .batch = 1};
	struct dbmigrate_stmt s = {"SELECT 1", 8};
	dbmigrate_conn *c;
	int exists;

	th_init(&t);
	c = open_url(&t, "mock:");
	/* No tracking table: the insert fails as the row's failure. */
	ck_assert_int_eq(vt->apply(c, "migrations", &s, 1, &r, NULL),
			 DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "42P01", DBMIGRATE_NO_STATEMENT);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->ensure_table(c, "public.migrations"),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", &s, 1, &r, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", &s, 1, &r, NULL),
			 DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "23505", DBMIGRATE_NO_STATEMENT);
	ck_assert_str_eq(t.message, "duplicate key value violates unique "
				    "constraint \"migrations_pkey\"");
	ck_assert_str_eq(t.detail, "Key (id)=(001) already exists.");
	ck_assert_int_eq(vt->apply(c, "migrations", NULL, 0, &noname, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_str_eq(t.sqlstate, "23502");
	/* Inside a transaction the duplicate aborts it. */
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "public.migrations", NULL, 0, &r, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_int_eq(run(c, "SELECT 1", NULL), DBMIGRATE_EMIGRATION);
	ck_assert_str_eq(t.sqlstate, "25P02");
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
	/* Tables are kept per name; "public.x" is "x". */
	ck_assert_int_eq(vt->ensure_table(c, "app.schema_migrations"),
			 DBMIGRATE_OK);
	r.id = "002";
	ck_assert_int_eq(
	    vt->apply(c, "app.schema_migrations", NULL, 0, &r, NULL),
	    DBMIGRATE_OK);
	ck_assert_str_eq(rows(c, "public.migrations"), "001/2,");
	ck_assert_str_eq(rows(c, "APP.schema_migrations"), "002/2,");
	/* unrecord deletes the row. */
	ck_assert_int_eq(vt->apply(c, "migrations", &s, 1, NULL, "001"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(rows(c, "migrations"), "");
	ck_assert_int_eq(vt->drop_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->table_exists(c, "migrations", &exists),
			 DBMIGRATE_OK);
	ck_assert_int_eq(exists, 0);
	ck_assert_int_eq(vt->table_exists(c, "app.schema_migrations", &exists),
			 DBMIGRATE_OK);
	ck_assert_int_eq(exists, 1);
	ck_assert_int_eq(vt->drop_table(c, "migrations"), DBMIGRATE_EDATABASE);
	ck_assert_str_eq(t.sqlstate, "42P01");
	ck_assert_int_eq(vt->ensure_table(c, "x; DROP TABLE y"),
			 DBMIGRATE_EDATABASE);
	vt->close(c);
}
END_TEST

/* read_rows callback: copy the executed_at of the first row. */
static int first_executed_at(void *ctx, const struct dbmigrate_row *r)
{
	snprintf(ctx, 64, "%s", r->executed_at);
	return 1; /* stop: the listing ends here */
}

START_TEST(executed_at_defaults_to_now_utc)
{
	struct th t;
	struct dbmigrate_row r = {.id = "001", .name = "a", .batch = 1};
	dbmigrate_conn *c;
	char at[64] = "", z = 0;
	int y, mo, d, h, mi, s;
	time_t before = time(NULL);
	struct tm tm;

	th_init(&t);
	c = open_url(&t, "mock:");
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", NULL, 0, &r, NULL),
			 DBMIGRATE_OK);
	r.id = "002";
	ck_assert_int_eq(vt->apply(c, "migrations", NULL, 0, &r, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->read_rows(c, "migrations", first_executed_at, at),
			 DBMIGRATE_OK);
	vt->close(c);
	ck_assert_uint_eq(strlen(at), 20);
	ck_assert_int_eq(sscanf(at, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d,
				&h, &mi, &s, &z),
			 7);
	ck_assert_int_eq(z, 'Z');
	gmtime_r(&before, &tm);
	ck_assert_int_eq(y, tm.tm_year + 1900); /* UTC, not local time */
	ck_assert(mo >= 1 && mo <= 12 && d >= 1 && d <= 31);
}
END_TEST

/* read_rows callback: keep the down_sql of the last row ("(null)"). */
static int last_down(void *ctx, const struct dbmigrate_row *r)
{
	char *buf = ctx;

	snprintf(buf, 256, "%s", r->down_sql != NULL ? r->down_sql : "(null)");
	return 0;
}

START_TEST(down_sql_is_kept_and_old_rows_load)
{
	struct th t;
	char *dir, *url = state_url(&dir), *path;
	struct dbmigrate_row r = {.id = "001", .name = "a", .batch = 1,
				  .down_sql = "DROP TABLE a;\n\t-- done\\\n"};
	struct dbmigrate_row r2 = {.id = "001", .name = "a2", .batch = 1,
				   .executed_at = "2026-11-24T10:00:00Z",
				   .checksum = "cc"};
	char down[256];
	dbmigrate_conn *c;

	th_init(&t);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", NULL, 0, &r, NULL),
			 DBMIGRATE_OK);
	vt->close(c);
	c = open_url(&t, url);
	ck_assert_int_eq(vt->read_rows(c, "migrations", last_down, down),
			 DBMIGRATE_OK);
	ck_assert_str_eq(down, r.down_sql);
	/* Delete and insert in one apply(): the row is rewritten. */
	ck_assert_int_eq(vt->apply(c, "migrations", NULL, 0, &r2, "001"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(rows(c, "migrations"), "001/1,");
	ck_assert_int_eq(vt->read_rows(c, "migrations", last_down, down),
			 DBMIGRATE_OK);
	ck_assert_str_eq(down, "(null)");
	vt->close(c);
	/* A file written before DOWN_SQL existed: rows of 7 fields. */
	ck_assert_int_ne(asprintf(&path, "%s/state.db", dir), -1);
	free(tu_write(NULL, path, "dbmigrate-mock 1\ntable\tmigrations\n"
			    "row\tmigrations\t001\ta\t2026-11-24T10:00:00Z\t1\t\\N\n"));
	c = open_url(&t, url);
	ck_assert_str_eq(rows(c, "migrations"), "001/1,");
	ck_assert_int_eq(vt->read_rows(c, "migrations", last_down, down),
			 DBMIGRATE_OK);
	ck_assert_str_eq(down, "(null)");
	vt->close(c);
	ck_assert_int_eq(t.nerrors, 0);
	tu_rm_rf(dir);
	free(dir);
	free(path);
	free(url);
}
END_TEST

START_TEST(configure_limits_sleep_and_retries_busy)
{
	struct th t;
	struct dbmigrate_stmt s = {"CREATE TABLE a (id int)", 23};
	struct dbmigrate_settings lim = {.struct_size = sizeof lim,
					 .statement_timeout = 0.05};
	struct dbmigrate_settings retry = {.struct_size = sizeof retry,
					   .lock_timeout = 1,
					   .lock_retries = 2};
	dbmigrate_conn *c;

	ck_assert_ptr_nonnull(vt->configure);
	th_init(&t);
	c = open_url(&t, "mock:?sleep=500");
	ck_assert_int_eq(vt->configure(c, &lim), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", &s, 1, NULL, NULL),
			 DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "57014", 0);
	vt->close(c);

	/* busy twice: retried from the savepoint, one error-free success */
	th_init(&t);
	c = open_url(&t, "mock:?busy=TABLE%20a&busy_times=2");
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->configure(c, &retry), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", &s, 1, NULL, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
	ck_assert_int_eq(t.nerrors, 0);
	ck_assert_int_eq(tu_count(t.log, "retry"), 2);
	vt->close(c);

	/* busy three times with two retries: the third 55P03 is reported */
	th_init(&t);
	c = open_url(&t, "mock:?busy=TABLE%20a&busy_times=3");
	ck_assert_int_eq(vt->configure(c, &retry), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", &s, 1, NULL, NULL),
			 DBMIGRATE_EMIGRATION);
	expect_error(&t, DBMIGRATE_EMIGRATION, "55P03", 0);
	ck_assert_int_eq(t.nerrors, 1);
	vt->close(c);
}
END_TEST

/* Find and load mock.so from $DBMIGRATE_DRIVER_PATH, as the core does. */
static const struct dbmigrate_driver *load_mock(void)
{
	const char *env = getenv("DBMIGRATE_DRIVER_PATH");
	char *dirs, *dir, *save = NULL, path[4096];
	dbmigrate_driver_entry_fn entry;
	void *h;

	if (env == NULL) {
		fprintf(stderr,
			"check_mock: DBMIGRATE_DRIVER_PATH is not set\n");
		exit(EXIT_FAILURE);
	}
	dirs = strdup(env);
	for (dir = strtok_r(dirs, ":", &save); dir != NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof path, "%s/mock.so", dir);
		if (access(path, F_OK) != 0)
			continue;
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			fprintf(stderr, "check_mock: %s\n", dlerror());
			exit(EXIT_FAILURE);
		}
		*(void **)&entry = dlsym(h, DBMIGRATE_DRIVER_ENTRY_SYMBOL);
		if (entry == NULL) {
			fprintf(stderr, "check_mock: %s has no entry symbol\n",
				path);
			exit(EXIT_FAILURE);
		}
		free(dirs);
		return entry();
	}
	fprintf(stderr, "check_mock: no mock.so in DBMIGRATE_DRIVER_PATH=%s\n",
		env);
	exit(EXIT_FAILURE);
}

int main(void)
{
	const TTest *const tests[] = {
		identity_and_caps, in_memory_lives_for_one_connection,
		file_state_persists_across_connections,
		relative_path_and_no_temp_files_left, rollback_leaves_no_trace,
		close_rolls_back_an_open_transaction, catalogue_errors,
		failing_statement_index_and_autocommit, aborted_transaction,
		caller_bugs_are_errors, refused_inside_a_transaction,
		classify_statements, fail_parameter, bad_urls_are_refused,
		lock_held_parameter, log_parameter, sleep_parameter_and_cancel,
		two_connections_in_one_process_exclude,
		lock_names_the_holding_process, corrupt_state_file_is_refused,
		tracking_rows, executed_at_defaults_to_now_utc,
		down_sql_is_kept_and_old_rows_load,
		configure_limits_sleep_and_retries_busy, NULL
	};

	vt = load_mock();
	return tu_run_suite(tu_suite("mock", 20, tests));
}
