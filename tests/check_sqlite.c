/*
 * check_sqlite.c - the SQLite driver without a server: its dialect
 * (statements split where sqlite3_complete() says they end: trigger
 * bodies, comments, "x", [x], `x`, strings holding ';'; exact offsets;
 * what runs outside a transaction) and, through the public API on real
 * database files, what a user relies on: a failed batch leaves nothing,
 * errors carry file:line:column and SQLite's extended result code, the
 * table rebuild keeps child rows, foreign keys are enforced, another
 * connection's lock is waited for, the runner lock excludes a second
 * handle of the same process and names the holder's pid, an interrupt
 * and a statement timeout stop a statement, verify leaves the user's
 * file alone. check_sqlite_cli runs the binary; check_sqlite_import
 * the peers' tables.
 */
#define _GNU_SOURCE /* asprintf, F_OFD_SETLK */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dbmigrate.h>

#include "driver.h"
#include "errors.h"
#include "sqliteutil.h"
#include "testutil.h"

/* A statement that runs for minutes unless stopped. */
#define FOREVER                                                            \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "  \
	"WHERE x < 4000000000) SELECT count(*) FROM c"

/* ---- the dialect, through the loaded driver ---- */

#define MAX_SPANS 32

/* What split() reported. */
struct spans {
	size_t off[MAX_SPANS];
	size_t len[MAX_SPANS];
	size_t n;
};

/* split()'s callback: keep the range. */
static int spans_add(void *ctx, size_t off, size_t len)
{
	struct spans *s = ctx;

	ck_assert_uint_lt(s->n, MAX_SPANS);
	s->off[s->n] = off;
	s->len[s->n++] = len;
	return 0;
}

/* The sqlite driver, loaded as the runner loads it, and a host. */
static struct driver drv;
static struct dbmigrate_host host;

static void dialect_setup(void)
{
	dbmigrate_error e = { 0 };

	memset(&drv, 0, sizeof drv);
	ck_assert_msg(driver_load("sqlite", &drv, &e) == DBMIGRATE_OK,
		      "the sqlite driver must load: %s", e.message);
	memset(&host, 0, sizeof host);
	host.abi_version = DBMIGRATE_DRIVER_ABI_VERSION;
	host.struct_size = sizeof host;
	driver_host_services(&host);
}

static void dialect_teardown(void)
{
	free(drv.path);
}

/* Split text with the driver; its code. */
static dbmigrate_code split(const char *text, struct spans *s,
			    struct dbmigrate_split_error *err)
{
	memset(s, 0, sizeof *s);
	memset(err, 0, sizeof *err);
	return drv.vt->split(&host, text, strlen(text), spans_add, s, err);
}

/* Assert text splits into exactly the n statements given. */
static void expect_split(const char *text, size_t n, ...)
{
	struct spans s;
	struct dbmigrate_split_error err;
	va_list ap;

	ck_assert_msg(split(text, &s, &err) == DBMIGRATE_OK, "%s: %s", text,
		      err.message);
	ck_assert_msg(s.n == n, "%s: %zu statements, expected %zu", text, s.n,
		      n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);

		ck_assert_msg(s.len[i] == strlen(want) &&
				      memcmp(text + s.off[i], want, s.len[i]) == 0,
			      "statement %zu of %s is \"%.*s\", expected \"%s\"",
			      i + 1, text, (int)s.len[i], text + s.off[i], want);
	}
	va_end(ap);
}

/*
 * Assert that the driver's boundaries are sqlite3_complete()'s: each
 * statement with its semicolon is complete, and none of its prefixes
 * ending at a ';' of its own is.
 */
static void expect_agrees(const char *text)
{
	struct spans s;
	struct dbmigrate_split_error err;

	ck_assert_int_eq(split(text, &s, &err), DBMIGRATE_OK);
	for (size_t i = 0; i < s.n; i++) {
		char *stmt = strndup(text + s.off[i], s.len[i]);
		char *with;

		ck_assert_int_ne(asprintf(&with, "%s;", stmt), -1);
		ck_assert_msg(sqlite3_complete(with), "\"%s\" is not complete",
			      with);
		for (size_t k = 0; k < s.len[i]; k++) {
			if (stmt[k] != ';')
				continue;
			char *prefix = strndup(stmt, k + 1);

			ck_assert_msg(!sqlite3_complete(prefix),
				      "\"%s\" is complete, yet the driver "
				      "went on to \"%s\"",
				      prefix, stmt);
			free(prefix);
		}
		free(with);
		free(stmt);
	}
}

START_TEST(split_statements_and_offsets)
{
	const char *text = "  CREATE TABLE a (x);\n\n-- a comment; not a statement\n"
			   "INSERT INTO a VALUES ('a;b') /* trailing; */ ;\n"
			   ";;\nSELECT 1";
	struct spans s;
	struct dbmigrate_split_error err;

	expect_split(text, 3, "CREATE TABLE a (x)",
		     "INSERT INTO a VALUES ('a;b')", "SELECT 1");
	ck_assert_int_eq(split(text, &s, &err), DBMIGRATE_OK);
	/* Exact offsets: file:line:column comes from them. */
	ck_assert_uint_eq(s.off[0], 2);
	ck_assert_uint_eq(s.off[1], strstr(text, "INSERT") - text);
	ck_assert_uint_eq(s.off[2], strstr(text, "SELECT 1") - text);
	expect_split("-- only a comment\n/* and ; another */\n", 0);
	expect_split("", 0);
}
END_TEST

START_TEST(split_trigger_body_is_one_statement)
{
	const char *trigger =
		"CREATE TRIGGER t_log AFTER INSERT ON t BEGIN\n"
		"  INSERT INTO log VALUES (new.id);\n"
		"  UPDATE n SET v = CASE WHEN v > 1 THEN 0 ELSE v + 1 END;\n"
		"END";
	char *text;

	ck_assert_int_ne(asprintf(&text, "CREATE TABLE t (id);\n%s;\nSELECT 2;",
				  trigger), -1);
	expect_split(text, 3, "CREATE TABLE t (id)", trigger, "SELECT 2");
	expect_agrees(text);
	free(text);
	expect_split("CREATE TEMP TRIGGER x BEFORE DELETE ON t BEGIN SELECT "
		     "RAISE(ABORT, 'no;'); END; SELECT 3",
		     2,
		     "CREATE TEMP TRIGGER x BEFORE DELETE ON t BEGIN SELECT "
		     "RAISE(ABORT, 'no;'); END",
		     "SELECT 3");
	/* A table named like a keyword is no trigger. */
	expect_split("CREATE TABLE trigger_log (a); SELECT 1;", 2,
		     "CREATE TABLE trigger_log (a)", "SELECT 1");
	/* The last statement may go without its semicolon. */
	expect_split("CREATE TRIGGER y AFTER INSERT ON t BEGIN SELECT 1; END", 1,
		     "CREATE TRIGGER y AFTER INSERT ON t BEGIN SELECT 1; END");
}
END_TEST

START_TEST(split_quotes_and_comments)
{
	const char *text = "CREATE TABLE \"a;b\" ([c;d] TEXT, `e;f` INT);\n"
			   "INSERT INTO \"a;b\" VALUES ('it''s; here', 'x');\n"
			   "SELECT 1 -- ; in a comment\n;\n"
			   "SELECT /* ; nested? /* no */ 2;";

	expect_split(text, 4, "CREATE TABLE \"a;b\" ([c;d] TEXT, `e;f` INT)",
		     "INSERT INTO \"a;b\" VALUES ('it''s; here', 'x')",
		     "SELECT 1", "SELECT /* ; nested? /* no */ 2");
	expect_agrees(text);
}
END_TEST

START_TEST(split_refuses_unterminated)
{
	static const struct {
		const char *text;
		size_t offset;
		const char *message;
	} cases[] = {
		{ "SELECT 1; SELECT 'abc", 17, "unterminated quoted string" },
		{ "SELECT 1 /* open", 9, "unterminated block comment" },
		{ "SELECT [x", 7, "unterminated [quoted] identifier" },
		{ "SELECT \"x", 7, "unterminated quoted identifier" },
		{ "SELECT 0;\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;",
		  10, "unterminated CREATE TRIGGER body" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct spans s;
		struct dbmigrate_split_error err;

		ck_assert_int_eq(split(cases[i].text, &s, &err), DBMIGRATE_EFILES);
		ck_assert_str_eq(err.message, cases[i].message);
		ck_assert_uint_eq(err.offset, cases[i].offset);
		ck_assert_ptr_nonnull(err.hint);
		/* SQLite agrees these never complete. */
		char *with;

		ck_assert_int_ne(asprintf(&with, "%s;", cases[i].text), -1);
		ck_assert(!sqlite3_complete(with));
		free(with);
	}
}
END_TEST

/* Classify sql with the driver. */
static struct dbmigrate_stmt_class classify(const char *sql)
{
	struct dbmigrate_stmt_class c = { 0 };

	drv.vt->classify(&host, sql, strlen(sql), &c);
	return c;
}

START_TEST(classify_outside_transaction)
{
	static const struct {
		const char *sql;
		unsigned flags;
	} cases[] = {
		{ "VACUUM", DBMIGRATE_STMT_NO_TRANSACTION },
		{ "vacuum INTO '/tmp/x.db'", DBMIGRATE_STMT_NO_TRANSACTION },
		{ "PRAGMA foreign_keys = OFF", DBMIGRATE_STMT_NO_TRANSACTION |
						       DBMIGRATE_STMT_EDGE },
		{ "pragma main.journal_mode=WAL", DBMIGRATE_STMT_NO_TRANSACTION |
							  DBMIGRATE_STMT_EDGE },
		{ "PRAGMA temp_store(2)", DBMIGRATE_STMT_NO_TRANSACTION |
						  DBMIGRATE_STMT_EDGE },
		{ "PRAGMA wal_checkpoint(TRUNCATE)", DBMIGRATE_STMT_NO_TRANSACTION },
		/* Reading a setting, and settings a transaction keeps. */
		{ "PRAGMA foreign_keys", 0 },
		{ "PRAGMA foreign_key_check", 0 },
		{ "PRAGMA defer_foreign_keys = ON", 0 },
		{ "PRAGMA user_version = 3", 0 },
		{ "SELECT 'VACUUM'", 0 },
		{ "\"VACUUM\"", 0 },
		{ "SAVEPOINT a", 0 },
		{ "ROLLBACK TO a", 0 },
		{ "RELEASE a", 0 },
		{ "ATTACH 'x.db' AS x", 0 },
		/* Transaction control: the wrapper rule's. */
		{ "BEGIN IMMEDIATE", DBMIGRATE_STMT_BEGIN },
		{ "BEGIN EXCLUSIVE TRANSACTION", DBMIGRATE_STMT_BEGIN },
		{ "END TRANSACTION", DBMIGRATE_STMT_COMMIT },
		{ "COMMIT", DBMIGRATE_STMT_COMMIT },
		{ "ROLLBACK", DBMIGRATE_STMT_ROLLBACK },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dbmigrate_stmt_class c = classify(cases[i].sql);

		ck_assert_msg(c.flags == cases[i].flags, "%s: flags %#x, expected %#x",
			      cases[i].sql, c.flags, cases[i].flags);
		if (c.flags & DBMIGRATE_STMT_NO_TRANSACTION)
			ck_assert_ptr_nonnull(c.reason);
	}
	ck_assert_ptr_nonnull(strstr(classify("PRAGMA foreign_keys=off").reason,
				     "foreign_keys"));
}
END_TEST

START_TEST(dialect_identity)
{
	ck_assert_str_eq(drv.vt->backend, "SQLite");
	ck_assert_str_eq(drv.vt->schemes[0], "sqlite3");
	ck_assert_ptr_nonnull(strstr(drv.vt->lock_kind, "-dbmigrate.lock"));
	ck_assert(drv.vt->caps & DBMIGRATE_CAP_TRANSACTIONAL_DDL);
}
END_TEST

/* ---- through the public API, on real files ---- */

/* A scratch project: root, root/migrations, root/app.db. */
static struct tu_project project_new(void)
{
	struct tu_project p = tu_project_new("app.db");

	ck_assert_int_ne(asprintf(&p.url, "sqlite://%s", p.db), -1);
	return p;
}

/* A migrator on the project. */
static dbmigrate *open_m(const struct tu_project *p)
{
	return tu_migrator(p->url, p->dir);
}

/* The first value of q on the project's file (NULL: no row), opened by
   a connection of the test's own. */
static char *query(const struct tu_project *p, const char *q)
{
	return tu_sqlite_query(p->db, q);
}

static void expect_query(const struct tu_project *p, const char *q,
			 const char *want)
{
	tu_expect_value(q, query(p, q), want);
}

/* Run sql on the project's file with a connection of the test's own. */
static void exec_sql(const struct tu_project *p, const char *sql)
{
	tu_sqlite_exec(p->db, sql);
}

START_TEST(up_and_down_with_a_trigger)
{
	struct tu_project p = project_new();
	dbmigrate *m;

	tu_add(&p, "001_users.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
	    "CREATE TABLE log (what TEXT);\n"
	    "CREATE TRIGGER users_log AFTER INSERT ON users BEGIN\n"
	    "  INSERT INTO log VALUES ('one;');\n"
	    "  INSERT INTO log VALUES ('two');\n"
	    "END;\n"
	    "-- migrate:down\n"
	    "DROP TABLE log;\nDROP TABLE users;\n");
	tu_add(&p, "002_seed.sql",
	    "-- migrate:up\nINSERT INTO users (email) VALUES ('a@b');\n"
	    "-- migrate:down\nDELETE FROM users;\n");
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	/* The trigger is one statement: both of its inserts fired. */
	expect_query(&p, "SELECT group_concat(what, ',') FROM log", "one;,two");
	expect_query(&p, "SELECT group_concat(id || ':' || batch) FROM migrations",
		     "001:1,002:1");
	expect_query(&p, "SELECT count(*) FROM migrations WHERE executed_at "
			 "GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z' "
			 "AND length(checksum) = 64 AND down_sql IS NOT NULL",
		     "2");
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name IN ('users', 'log')",
		     "0");
	expect_query(&p, "SELECT count(*) FROM migrations", "0");
	tu_project_free(&p);
}
END_TEST

START_TEST(failed_batch_leaves_nothing)
{
	struct tu_project p = project_new();
	const dbmigrate_error *e;
	dbmigrate *m;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n");
	tu_add(&p, "002_b.sql", "-- migrate:up\nCREATE TABLE b (x);\n");
	tu_add(&p, "003_c.sql",
	    "-- migrate:up\nCREATE TABLE c (x);\n"
	    "SELECT x\n  FROM b WHERE nope = 1;\n");
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	e = dbmigrate_last_error(m);
	ck_assert_ptr_nonnull(strstr(e->message, "no such column: nope"));
	ck_assert_str_eq(e->backend_code, "SQLITE_ERROR");
	ck_assert_ptr_nonnull(strstr(e->file, "003_c.sql"));
	/* sqlite3_error_offset() points at the column, line 4. */
	ck_assert_uint_eq(e->line, 4);
	ck_assert_uint_eq(e->column, 16);
	dbmigrate_close(m);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b', 'c')", "0");
	expect_query(&p, "SELECT count(*) FROM migrations", "0");
	tu_project_free(&p);
}
END_TEST

START_TEST(foreign_keys_are_enforced)
{
	struct tu_project p = project_new();
	const dbmigrate_error *e;
	dbmigrate *m;

	tu_add(&p, "001_a.sql",
	    "-- migrate:up\nCREATE TABLE p (id INTEGER PRIMARY KEY);\n"
	    "CREATE TABLE c (p_id INTEGER REFERENCES p (id));\n"
	    "INSERT INTO c VALUES (7);\n");
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	e = dbmigrate_last_error(m);
	ck_assert_str_eq(e->backend_code, "SQLITE_CONSTRAINT_FOREIGNKEY");
	ck_assert_uint_eq(e->line, 4);
	dbmigrate_close(m);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'c'", "0");
	tu_project_free(&p);
}
END_TEST

/* The documented rebuild, in one file; break: leave out a parent row. */
static void rebuild_files(const struct tu_project *p, int with_pragmas, int lose_parent)
{
	char *text;

	tu_add(p, "001_schema.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
	    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER "
	    "NOT NULL REFERENCES users (id) ON DELETE CASCADE);\n"
	    "INSERT INTO users VALUES (1, 'a'), (2, 'b');\n"
	    "INSERT INTO orders VALUES (10, 1), (20, 2);\n");
	ck_assert_int_ne(
	    asprintf(&text,
		     "-- migrate:up\n"
		     "%s"
		     "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT "
		     "NOT NULL UNIQUE);\n"
		     "INSERT INTO users_new SELECT id, email FROM users%s;\n"
		     "DROP TABLE users;\n"
		     "ALTER TABLE users_new RENAME TO users;\n"
		     "%s",
		     with_pragmas ? "PRAGMA foreign_keys = OFF;\n" : "",
		     lose_parent ? " WHERE id = 1" : "",
		     with_pragmas ? "PRAGMA foreign_key_check;\n"
				    "PRAGMA foreign_keys = ON;\n"
				  : ""),
	    -1);
	tu_add(p, "002_rebuild.sql", text);
	free(text);
}

START_TEST(table_rebuild_keeps_child_rows)
{
	struct tu_project p = project_new();
	dbmigrate *m;

	rebuild_files(&p, 1, 0);
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	/* No child row deleted by the DROP TABLE; the new constraint is in. */
	expect_query(&p, "SELECT count(*) FROM orders", "2");
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%UNIQUE%' AND name = 'users'", "1");
	expect_query(&p, "SELECT count(*) FROM pragma_foreign_key_check", "0");
	tu_project_free(&p);
}
END_TEST

START_TEST(table_rebuild_without_pragmas_loses_rows)
{
	struct tu_project p = project_new();
	dbmigrate *m;

	/* What the pragmas prevent: with foreign keys on, DROP TABLE
	   deletes the rows, and ON DELETE CASCADE the children. */
	rebuild_files(&p, 0, 0);
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	expect_query(&p, "SELECT count(*) FROM orders", "0");
	tu_project_free(&p);
}
END_TEST

START_TEST(table_rebuild_that_breaks_a_key_rolls_back)
{
	struct tu_project p = project_new();
	const dbmigrate_error *e;
	dbmigrate *m;

	rebuild_files(&p, 1, 1);
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	e = dbmigrate_last_error(m);
	ck_assert_ptr_nonnull(strstr(e->message, "foreign_key_check found 1 row"));
	ck_assert_ptr_nonnull(strstr(e->detail, "Row 20 of \"orders\""));
	ck_assert_str_eq(e->backend_code, "SQLITE_CONSTRAINT_FOREIGNKEY");
	ck_assert_ptr_nonnull(strstr(e->file, "002_rebuild.sql"));
	ck_assert_uint_eq(e->line, 7);
	dbmigrate_close(m);
	/* 001 ran in the batch's transaction before; 002 left nothing. */
	expect_query(&p, "SELECT group_concat(id) FROM migrations", "001");
	expect_query(&p, "SELECT count(*) FROM users", "2");
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'users_new'", "0");
	expect_query(&p, "SELECT count(*) FROM orders", "2");
	tu_project_free(&p);
}
END_TEST

/* A connection of the test's own holding a lock for a while. */
struct holder {
	const struct tu_project *p;
	const char *begin;  /* "BEGIN IMMEDIATE" (a writer) or "BEGIN; SELECT" */
	double seconds;
	int ready;
};

static void *holder_run(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = { .tv_sec = (time_t)h->seconds,
			       .tv_nsec = (long)((h->seconds - (double)(time_t)h->seconds) * 1e9) };
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(h->p->db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, h->begin, NULL, NULL, NULL), SQLITE_OK);
	__atomic_store_n(&h->ready, 1, __ATOMIC_SEQ_CST);
	nanosleep(&ts, NULL);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return NULL;
}

/* Start h on a thread and wait until it holds its lock. */
static pthread_t holder_start(struct holder *h)
{
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, holder_run, h), 0);
	while (!__atomic_load_n(&h->ready, __ATOMIC_SEQ_CST))
		usleep(1000);
	return t;
}

START_TEST(another_connection_is_waited_for)
{
	struct tu_project p = project_new();
	struct holder reader = { .p = &p, .seconds = 0.8,
				 .begin = "BEGIN; SELECT count(*) FROM sqlite_schema" };
	struct holder writer = { .p = &p, .seconds = 0.8, .begin = "BEGIN IMMEDIATE" };
	pthread_t t;
	dbmigrate *m;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (x);\n");
	tu_add(&p, "002_b.sql", "-- migrate:up\nCREATE TABLE b (x);\n");
	exec_sql(&p, "CREATE TABLE app (v)");
	/* An application's reader: the commit waits for it to end. */
	t = holder_start(&reader);
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, &(dbmigrate_run_options){ .step = 1 }),
			 DBMIGRATE_OK);
	dbmigrate_close(m);
	pthread_join(t, NULL);
	/* An application's writer: BEGIN IMMEDIATE waits for it. */
	t = holder_start(&writer);
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	pthread_join(t, NULL);
	expect_query(&p, "SELECT group_concat(id) FROM migrations", "001,002");
	tu_project_free(&p);
}
END_TEST

START_TEST(a_lock_held_too_long_fails_with_sqlite_busy)
{
	struct tu_project p = project_new();
	struct holder writer = { .p = &p, .seconds = 3, .begin = "BEGIN IMMEDIATE" };
	const dbmigrate_error *e;
	pthread_t t;
	dbmigrate *m;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (x);\n");
	exec_sql(&p, "CREATE TABLE app (v)");
	t = holder_start(&writer);
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_set(m, "sql_lock_timeout", "300ms"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_set(m, "lock_timeout", "0.3"), DBMIGRATE_OK);
	ck_assert_int_ne(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	e = dbmigrate_last_error(m);
	ck_assert_ptr_nonnull(e->backend_code);
	ck_assert_msg(strncmp(e->backend_code, "SQLITE_BUSY", 11) == 0, "%s: %s",
		      e->backend_code, e->message);
	ck_assert_ptr_nonnull(strstr(e->hint, "--sql-lock-timeout"));
	dbmigrate_close(m);
	pthread_join(t, NULL);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'", "0");
	tu_project_free(&p);
}
END_TEST

START_TEST(runner_lock_excludes_a_second_handle_and_names_the_pid)
{
	struct tu_project p = project_new();
	const dbmigrate_error *e;
	char pid[32];
	dbmigrate *m;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (x);\n");
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_set(m, "lock_timeout", "0.5"), DBMIGRATE_OK);
	/* Hold the lock as a runner would, from this same process: an
	   OFD lock excludes a second descriptor of one process too. */
	{
		char *path;
		int fd;
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		ck_assert_int_ne(asprintf(&path, "%s-dbmigrate.lock", p.db), -1);
		fd = open(path, O_RDWR | O_CREAT, 0644);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
		dprintf(fd, "%ld\n", (long)getpid());
		ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_ELOCK);
		e = dbmigrate_last_error(m);
		snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
		ck_assert_ptr_nonnull(strstr(e->message, pid));
		ck_assert_ptr_nonnull(strstr(e->message, "within 0.5 s"));
		ck_assert_ptr_nonnull(strstr(e->hint, "--lock-timeout"));
		close(fd); /* released: the next run goes */
		free(path);
	}
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	expect_query(&p, "SELECT group_concat(id) FROM migrations", "001");
	tu_project_free(&p);
}
END_TEST

/* Interrupt m after a moment, from another thread. */
static void *interrupter(void *arg)
{
	usleep(300 * 1000);
	dbmigrate_interrupt(arg);
	return NULL;
}

START_TEST(interrupt_stops_the_statement_and_rolls_back)
{
	struct tu_project p = project_new();
	pthread_t t;
	dbmigrate *m;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (x);\n");
	tu_add(&p, "002_slow.sql", "-- migrate:up\n" FOREVER ";\n");
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_open(m), DBMIGRATE_OK);
	ck_assert_int_eq(pthread_create(&t, NULL, interrupter, m), 0);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EINTERRUPTED);
	pthread_join(t, NULL);
	dbmigrate_close(m);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'", "0");
	expect_query(&p, "SELECT count(*) FROM migrations", "0");
	tu_project_free(&p);
}
END_TEST

START_TEST(statement_timeout_stops_the_statement)
{
	struct tu_project p = project_new();
	const dbmigrate_error *e;
	dbmigrate *m;

	tu_add(&p, "001_slow.sql", "-- migrate:up\nCREATE TABLE a (x);\n" FOREVER ";\n");
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_set(m, "statement_timeout", "200ms"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	e = dbmigrate_last_error(m);
	ck_assert_ptr_nonnull(strstr(e->message, "statement timeout"));
	ck_assert_str_eq(e->backend_code, "SQLITE_INTERRUPT");
	ck_assert_uint_eq(e->line, 3);
	dbmigrate_close(m);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'", "0");
	tu_project_free(&p);
}
END_TEST

/* The bytes of a file, or NULL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		return NULL;
	buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

START_TEST(verify_never_touches_the_users_file)
{
	struct tu_project p = project_new();
	char *tmp = tu_mkdtemp(), *before, *after;
	dbmigrate_verify_result *res = NULL;
	size_t nb, na;
	dbmigrate *m;

	tu_add(&p, "001_users.sql",
	    "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
	    "CREATE INDEX users_email ON users (email);\n"
	    "-- migrate:down\nDROP TABLE users;\n");
	tu_add(&p, "002_col.sql",
	    "-- migrate:up\nALTER TABLE users ADD COLUMN name TEXT;\n"
	    "-- migrate:down\nALTER TABLE users DROP COLUMN name;\n");
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_migrate(m, &(dbmigrate_run_options){ .step = 1 }),
			 DBMIGRATE_OK);
	dbmigrate_close(m);
	before = slurp(p.db, &nb);
	ck_assert_ptr_nonnull(before);
	setenv("TMPDIR", tmp, 1);
	m = open_m(&p);
	ck_assert_int_eq(dbmigrate_verify(m, NULL, &res), DBMIGRATE_OK);
	dbmigrate_verify_free(res);
	dbmigrate_close(m);
	unsetenv("TMPDIR");
	after = slurp(p.db, &na);
	ck_assert(nb == na && memcmp(before, after, nb) == 0);
	/* The scratch database and its files are gone. */
	ck_assert_int_eq(rmdir(tmp), 0);

	/* A down that forgets the index is caught. */
	tu_add(&p, "003_idx.sql",
	    "-- migrate:up\nCREATE INDEX users_name ON users (name);\n"
	    "-- migrate:down\nSELECT 1;\n");
	m = open_m(&p);
	ck_assert_int_ne(dbmigrate_verify(m, NULL, &res), DBMIGRATE_OK);
	ck_assert_ptr_nonnull(strstr(dbmigrate_last_error(m)->message, "003"));
	dbmigrate_verify_free(res);
	dbmigrate_close(m);
	free(before);
	free(after);
	free(tmp);
	tu_project_free(&p);
}
END_TEST

static Suite *sqlite_suite(void)
{
	const TTest *const dialect[] = {
		split_statements_and_offsets,
		split_trigger_body_is_one_statement, split_quotes_and_comments,
		split_refuses_unterminated, classify_outside_transaction,
		dialect_identity, NULL
	};
	const TTest *const api[] = {
		up_and_down_with_a_trigger, failed_batch_leaves_nothing,
		foreign_keys_are_enforced, table_rebuild_keeps_child_rows,
		table_rebuild_without_pragmas_loses_rows,
		table_rebuild_that_breaks_a_key_rolls_back,
		another_connection_is_waited_for,
		a_lock_held_too_long_fails_with_sqlite_busy,
		runner_lock_excludes_a_second_handle_and_names_the_pid,
		interrupt_stops_the_statement_and_rolls_back,
		statement_timeout_stops_the_statement,
		verify_never_touches_the_users_file, NULL
	};
	Suite *s = suite_create("sqlite driver");

	tcase_add_checked_fixture(tu_tcase(s, "dialect", 0, dialect),
				  dialect_setup, dialect_teardown);
	tu_tcase(s, "api", 60, api);
	return s;
}

int main(void)
{
	return tu_run_suite(sqlite_suite());
}
