/*
 * check_sqlite_cli.c - the dbmigrate binary on SQLite files, as a user
 * runs it: the URL forms, every command (init, create, up, status in
 * text and JSON, down, reset, redo, mark, repair, validate, verify,
 * lint, drivers), the plan for statements that run outside a
 * transaction, the table rebuild, errors with file:line:column and the
 * extended result code, and what happens between processes: two
 * runners at once, kill -9 in the middle of a batch, Ctrl-C, and a
 * lock timeout naming the holder's pid. No server: real files only.
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sqliteutil.h"
#include "testutil.h"

/* A statement that runs for minutes unless stopped. */
#define FOREVER                                                            \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "  \
	"WHERE x < 4000000000) SELECT count(*) FROM c"

/* A statement that takes a moment (a few hundred ms). */
#define A_MOMENT                                                           \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "  \
	"WHERE x < 400000) SELECT count(*) FROM c"

#define RUN(cwd, ...) TU_RUN((cwd), NULL, __VA_ARGS__)

/* A project: root (the cwd of runs), root/migrations, root/app.db. */
static struct tu_project project_new(void)
{
	struct tu_project p = tu_project_new("app.db");

	p.url = strdup("sqlite:app.db"); /* relative to root */
	return p;
}

/* Run dbmigrate in the project with its URL. */
#define DB(p, ...) RUN((p)->root, "--url", (p)->url, __VA_ARGS__)

/* The first value of q on the project's database, or NULL. */
static char *query(const struct tu_project *p, const char *q)
{
	return tu_sqlite_query(p->db, q);
}

static void expect_query(const struct tu_project *p, const char *q,
			 const char *want)
{
	tu_expect_value(q, query(p, q), want);
}

/* The tracking rows as "id:batch,..." in id order ("" when none). */
static char *tracked(const struct tu_project *p)
{
	char *t = query(p, "SELECT count(*) FROM sqlite_schema WHERE name = 'migrations'");
	char *v = NULL;

	if (t != NULL && strcmp(t, "1") == 0)
		v = query(p, "SELECT group_concat(id || ':' || batch, ',') FROM "
			     "(SELECT * FROM migrations ORDER BY id)");
	free(t);
	return v != NULL ? v : strdup("");
}

static void expect_tracked(const struct tu_project *p, const char *want)
{
	char *got = tracked(p);

	ck_assert_msg(strcmp(got, want) == 0, "tracked \"%s\", expected \"%s\"",
		      got, want);
	free(got);
}

/* Start dbmigrate --url URL ARGS... in p's root, in the background. */
static struct tu_bg bg_start(const struct tu_project *p, const char *const *args)
{
	const char *argv[16];
	size_t n = 0;

	argv[n++] = "--url";
	argv[n++] = p->url;
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return tu_start(p->root, argv);
}

/* What b wrote to stderr. */
static char *bg_stderr(const struct tu_bg *b)
{
	return tu_read(b->err);
}

/* Wait (at most 30 s) until the runner lock names pid and the batch has
   written to the database: its rollback journal exists. */
static void wait_mid_batch(const struct tu_project *p, pid_t pid)
{
	char lock[700], journal[700], want[32];

	snprintf(lock, sizeof lock, "%s-dbmigrate.lock", p->db);
	snprintf(journal, sizeof journal, "%s-journal", p->db);
	snprintf(want, sizeof want, "%ld\n", (long)pid);
	for (int i = 0; i < 3000; i++) {
		char *got = tu_exists(lock) ? tu_read(lock) : NULL;
		int held = got != NULL && strcmp(got, want) == 0;

		free(got);
		if (held && tu_exists(journal)) {
			tu_nap(100);
			return;
		}
		tu_nap(10);
	}
	ck_abort_msg("the runner (pid %ld) never got into its batch", (long)pid);
}

/* ---- URLs ---- */

START_TEST(url_forms)
{
	struct tu_project p = project_new();
	char *abs_url, *path;
	struct tu_result r;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (x);\n-- migrate:down\nDROP TABLE a;\n");
	static const char *const urls[] = { "sqlite:one.db", "sqlite://two.db",
					    "sqlite3://three.db", "sqlite3:four.db" };
	static const char *const files[] = { "one.db", "two.db", "three.db", "four.db" };

	for (size_t i = 0; i < 4; i++) {
		r = RUN(p.root, "--url", urls[i], "up");
		tu_expect_status(&r, 0);
		tu_result_free(&r);
		path = NULL;
		ck_assert_int_ne(asprintf(&path, "%s/%s", p.root, files[i]), -1);
		ck_assert_msg(tu_exists(path), "%s made no %s", urls[i], path);
		free(path);
	}
	/* sqlite:///abs is absolute, whatever the working directory. */
	ck_assert_int_ne(asprintf(&abs_url, "sqlite://%s/abs.db", p.root), -1);
	ck_assert_int_eq(abs_url[9], '/');
	r = RUN("/", "--url", abs_url, "--dir", p.dir, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	ck_assert_int_ne(asprintf(&path, "%s/abs.db", p.root), -1);
	ck_assert(tu_exists(path));
	free(path);
	free(abs_url);
	/* A directory that does not exist: named, and nothing created. */
	r = RUN(p.root, "--url", "sqlite:nowhere/app.db", "status");
	tu_expect_status(&r, 4);
	tu_expect_has("stderr", r.err, "/nowhere");
	tu_expect_has("stderr", r.err, "Create the directory first");
	tu_result_free(&r);
	ck_assert_int_ne(asprintf(&path, "%s/nowhere", p.root), -1);
	ck_assert(!tu_exists(path));
	free(path);
	/* A file that is no database. */
	free(tu_write(p.root, "junk.db", "this is not a database, just text that is long enough\n"));
	r = RUN(p.root, "--url", "sqlite:junk.db", "status");
	tu_expect_status(&r, 4);
	tu_expect_has("stderr", r.err, "SQLITE_NOTADB");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

/* ---- every command ---- */

START_TEST(every_command)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *path;

	r = DB(&p, "init");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'migrations'", "1");
	r = RUN(p.root, "create", "add_users");
	tu_expect_status(&r, 0);
	tu_expect_has("create", r.out, "migrations/001_add_users.sql");
	tu_result_free(&r);
	tu_add(&p, "001_add_users.sql",
	    "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
	    "-- migrate:down\nDROP TABLE users;\n");
	tu_add(&p, "002_email_index.sql",
	    "-- migrate:up\nCREATE UNIQUE INDEX users_email ON users (email);\n"
	    "-- migrate:down\nDROP INDEX users_email;\n");
	r = DB(&p, "validate");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_expect_has("up", r.out, "Batch 1: applied 2 migrations");
	tu_result_free(&r);
	expect_tracked(&p, "001:1,002:1");
	r = DB(&p, "status");
	tu_expect_status(&r, 0);
	tu_expect_has("status", r.out, "✅ Executed 001_add_users (batch: 1)");
	tu_expect_has("status", r.out, "Total: 2 | Executed: 2 | Pending: 0");
	tu_result_free(&r);
	r = DB(&p, "status", "--format", "json");
	tu_expect_status(&r, 0);
	tu_expect_has("json", r.out, "\"id\": \"002\", \"name\": \"email_index\", \"state\": \"executed\", \"batch\": 1");
	tu_expect_has("json", r.out, "\"executed_at\": \"20");
	tu_result_free(&r);
	/* redo: the last batch down and up again. */
	r = DB(&p, "redo");
	tu_expect_status(&r, 0);
	ck_assert_int_ge(tu_count(r.out, "002_email_index"), 2);
	tu_result_free(&r);
	expect_tracked(&p, "001:1,002:1");
	/* down one, then mark: rows only. */
	r = DB(&p, "down", "--step", "1");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracked(&p, "001:1");
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'users_email'", "0");
	r = DB(&p, "mark", "002", "--applied");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracked(&p, "001:1,002:2");
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'users_email'", "0");
	r = DB(&p, "mark", "002", "--pending");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracked(&p, "001:1");
	/* repair: an applied file changed; validate says so, repair fixes. */
	tu_add(&p, "001_add_users.sql",
	    "-- migrate:up\n-- a comment added later\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
	    "-- migrate:down\nDROP TABLE users;\n");
	r = DB(&p, "validate");
	tu_expect_status(&r, 3);
	tu_expect_has("validate", r.out, "001_add_users");
	tu_result_free(&r);
	r = DB(&p, "repair", "--force");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	r = DB(&p, "validate");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	/* verify, on a scratch file of its own (--url would name the
	   scratch database: the configured one comes from DATABASE_URL);
	   then on a given empty one. */
	{
		const char *env[] = { "DATABASE_URL=sqlite:app.db", NULL };

		r = tu_dbmigrate(p.root, env, "verify", (const char *)NULL);
		tu_expect_status(&r, 0);
		tu_expect_has("verify", r.out, "2 migrations verified: every down reverses its up");
		tu_result_free(&r);
		r = tu_dbmigrate(p.root, env, "--url", "sqlite:scratch.db", "verify",
				 (const char *)NULL);
		tu_expect_status(&r, 0);
		tu_result_free(&r);
	}
	/* lint, with SQLite's own rules. */
	tu_add(&p, "003_alter.sql",
	    "-- migrate:up\nALTER TABLE users ALTER COLUMN email TYPE text;\n"
	    "-- migrate:down\nSELECT 1;\n");
	r = DB(&p, "lint", "--format", "json");
	tu_expect_status(&r, 1);
	tu_expect_has("lint", r.out, "sqlite-unsupported-alter");
	tu_expect_has("lint", r.out, "003_alter.sql");
	tu_result_free(&r);
	ck_assert_int_ne(asprintf(&path, "%s/003_alter.sql", p.dir), -1);
	unlink(path);
	free(path);
	/* reset: everything rolled back, the table dropped. */
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	r = DB(&p, "reset", "--force");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema", "0");
	/* drivers lists it, with its lock. */
	r = RUN(p.root, "drivers");
	tu_expect_status(&r, 0);
	tu_expect_has("drivers", r.out, "sqlite");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(plan_says_what_runs_outside)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (x);\n-- migrate:down\nDROP TABLE a;\n");
	tu_add(&p, "002_vacuum.sql", "-- migrate:up\nVACUUM;\n");
	tu_add(&p, "003_wal.sql", "-- migrate:up\nPRAGMA journal_mode = WAL;\nCREATE TABLE b (x);\n");
	r = DB(&p, "up", "--dry-run");
	tu_expect_status(&r, 0);
	tu_expect_has("plan", r.out, "002_vacuum  (outside the transaction: VACUUM cannot run inside a transaction)");
	tu_expect_has("plan", r.out, "003_wal  (in a transaction of its own: PRAGMA journal_mode");
	tu_result_free(&r);
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracked(&p, "001:1,002:1,003:1");
	expect_query(&p, "PRAGMA journal_mode", "wal");
	tu_project_free(&p);
}
END_TEST

START_TEST(table_rebuild)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_schema.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
	    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER "
	    "REFERENCES users (id) ON DELETE CASCADE);\n"
	    "INSERT INTO users VALUES (1, 'a');\nINSERT INTO orders VALUES (1, 1);\n");
	tu_add(&p, "002_rebuild.sql",
	    "-- migrate:up\n"
	    "PRAGMA foreign_keys = OFF;\n"
	    "CREATE TABLE new_users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"
	    "INSERT INTO new_users SELECT id, email FROM users;\n"
	    "DROP TABLE users;\n"
	    "ALTER TABLE new_users RENAME TO users;\n"
	    "PRAGMA foreign_key_check;\n"
	    "PRAGMA foreign_keys = ON;\n");
	r = DB(&p, "up");
	tu_expect_status(&r, 0);
	tu_expect_has("plan", r.out, "002_rebuild  (in a transaction of its own: PRAGMA foreign_keys has no effect inside a transaction)");
	tu_result_free(&r);
	expect_query(&p, "SELECT count(*) FROM orders", "1");
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%NOT NULL%' AND name = 'users'", "1");
	/* lint knows the rebuild done as SQLite documents it: after PRAGMA
	   foreign_keys=OFF its DROP TABLE is not the trap... */
	r = DB(&p, "lint");
	tu_expect_lacks("lint", r.err, "drop-table");
	tu_result_free(&r);
	/* ...and the same rebuild without it is: the DROP deletes every
	   order through ON DELETE CASCADE. */
	tu_add(&p, "003_rebuild_again.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE new_users (id INTEGER PRIMARY KEY, email TEXT);\n"
	    "INSERT INTO new_users SELECT id, email FROM users;\n"
	    "DROP TABLE users;\n"
	    "ALTER TABLE new_users RENAME TO users;\n");
	r = DB(&p, "lint");
	tu_expect_has("lint", r.err, "003_rebuild_again.sql:4:12: warning: DROP TABLE users");
	tu_expect_has("lint", r.err, "CASCADE deletes their rows");
	tu_expect_lacks("lint", r.err, "002_rebuild.sql:5");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(errors_carry_position_and_code)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE p (id INTEGER PRIMARY KEY);\n"
	    "CREATE TABLE c (p_id INTEGER REFERENCES p (id));\n");
	tu_add(&p, "002_b.sql", "-- migrate:up\nINSERT INTO p VALUES (1);\n\n  INSERT INTO c VALUES (2);\n");
	r = DB(&p, "up");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "migrations/002_b.sql:4:3: error: FOREIGN KEY constraint failed [SQLITE_CONSTRAINT_FOREIGNKEY]");
	tu_expect_has("stderr", r.err, "nothing of its 2 migrations was applied");
	tu_result_free(&r);
	expect_tracked(&p, "");
	tu_add(&p, "002_b.sql", "-- migrate:up\nSELECT * FROM p WHERE\n  nope = 1;\n");
	r = DB(&p, "up");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "migrations/002_b.sql:3:3: error: no such column: nope [SQLITE_ERROR]");
	tu_result_free(&r);
	tu_add(&p, "002_b.sql", "-- migrate:up\nCREATE TRIGGER t AFTER INSERT ON p BEGIN\n  SELECT 1;\n");
	r = DB(&p, "up");
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "002_b.sql:2:1");
	tu_expect_has("stderr", r.err, "unterminated CREATE TRIGGER body");
	tu_result_free(&r);
	expect_tracked(&p, "");
	tu_project_free(&p);
}
END_TEST

/* ---- between processes ---- */

START_TEST(two_runners_at_once)
{
	struct tu_project p = project_new();
	static const char *const up[] = { "up", "--lock-timeout", "60", NULL };
	struct tu_bg a, b;
	int sa, sb;

	tu_add(&p, "001_slow.sql", "-- migrate:up\nCREATE TABLE a (n INTEGER);\n" A_MOMENT ";\n"
	    "INSERT INTO a VALUES (1);\n");
	tu_add(&p, "002_b.sql", "-- migrate:up\nINSERT INTO a VALUES (2);\n");
	tu_add(&p, "003_c.sql", "-- migrate:up\nINSERT INTO a VALUES (3);\n");
	a = bg_start(&p, up);
	b = bg_start(&p, up);
	sa = tu_wait(&a, 0);
	sb = tu_wait(&b, 0);
	ck_assert_int_eq(sa, 0);
	ck_assert_int_eq(sb, 0);
	/* Each migration ran once: one runner applied them, the other
	   found nothing to do. */
	expect_tracked(&p, "001:1,002:1,003:1");
	expect_query(&p, "SELECT group_concat(n) FROM a", "1,2,3");
	{
		char *oa = tu_read(a.out), *ob = tu_read(b.out);

		ck_assert_int_eq(tu_count(oa, "applied 3 migrations") +
					 tu_count(ob, "applied 3 migrations"),
				 1);
		free(oa);
		free(ob);
	}
	tu_bg_free(&a);
	tu_bg_free(&b);
	tu_project_free(&p);
}
END_TEST

START_TEST(kill_9_mid_batch_leaves_all_or_nothing)
{
	struct tu_project p = project_new();
	static const char *const up[] = { "up", NULL };
	struct tu_result r;
	struct tu_bg a;
	char *path;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (n INTEGER);\nINSERT INTO a VALUES (1);\n");
	tu_add(&p, "002_slow.sql", "-- migrate:up\nINSERT INTO a VALUES (2);\n" FOREVER ";\n");
	a = bg_start(&p, up);
	wait_mid_batch(&p, a.pid);
	kill(a.pid, SIGKILL);
	ck_assert_int_eq(tu_wait(&a, 0), 128 + SIGKILL);
	/* The hot journal rolls the batch back for the next reader: none
	   of it is in the file, not even migration 1. */
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'", "0");
	expect_tracked(&p, "");
	/* No lock is left behind: the next run goes at once. */
	ck_assert_int_ne(asprintf(&path, "%s/002_slow.sql", p.dir), -1);
	unlink(path);
	free(path);
	r = DB(&p, "up", "--lock-timeout", "0");
	tu_expect_status(&r, 0);
	tu_expect_lacks("up", r.err, "waiting");
	tu_result_free(&r);
	expect_tracked(&p, "001:1");
	tu_bg_free(&a);
	tu_project_free(&p);
}
END_TEST

START_TEST(ctrl_c_rolls_back_and_exits_130)
{
	struct tu_project p = project_new();
	static const char *const up[] = { "up", NULL };
	struct tu_bg a;
	char *err;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (n INTEGER);\n");
	tu_add(&p, "002_slow.sql", "-- migrate:up\nINSERT INTO a VALUES (2);\n" FOREVER ";\n");
	a = bg_start(&p, up);
	wait_mid_batch(&p, a.pid);
	kill(a.pid, SIGINT);
	ck_assert_int_eq(tu_wait(&a, 0), 130);
	err = bg_stderr(&a);
	tu_expect_has("stderr", err, "interrupted");
	free(err);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'", "0");
	expect_tracked(&p, "");
	tu_bg_free(&a);
	tu_project_free(&p);
}
END_TEST

START_TEST(lock_timeout_names_the_holder)
{
	struct tu_project p = project_new();
	static const char *const up[] = { "up", NULL };
	struct tu_result r;
	char want[64];
	struct tu_bg a;

	tu_add(&p, "001_slow.sql", "-- migrate:up\nCREATE TABLE a (n INTEGER);\n" FOREVER ";\n");
	a = bg_start(&p, up);
	wait_mid_batch(&p, a.pid);
	r = DB(&p, "up", "--lock-timeout", "1");
	tu_expect_status(&r, 5);
	snprintf(want, sizeof want, "held by pid %ld", (long)a.pid);
	tu_expect_has("stderr", r.err, want);
	tu_expect_has("stderr", r.err, "within 1 s");
	tu_result_free(&r);
	/* status takes no lock: it reads while the batch runs. */
	r = DB(&p, "status");
	tu_expect_status(&r, 0);
	tu_expect_has("status", r.out, "Pending 001_slow");
	tu_result_free(&r);
	kill(a.pid, SIGINT);
	ck_assert_int_eq(tu_wait(&a, 0), 130);
	tu_bg_free(&a);
	tu_project_free(&p);
}
END_TEST

START_TEST(ctrl_c_ends_the_wait_for_an_applications_lock)
{
	struct tu_project p = project_new();
	static const char *const up[] = { "up", NULL };
	sqlite3 *app;
	struct tu_bg a;
	char *err = NULL;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (n INTEGER);\n");
	/* The application writes, and keeps its transaction open. */
	ck_assert_int_eq(sqlite3_open(p.db, &app), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(app, "CREATE TABLE app (v); BEGIN IMMEDIATE; "
				      "INSERT INTO app VALUES (1)", NULL, NULL, NULL),
			 SQLITE_OK);
	a = bg_start(&p, up);
	/* It waits (and says so after a second), then Ctrl-C. */
	for (int i = 0; i < 1000; i++) {
		free(err);
		err = bg_stderr(&a);
		if (err != NULL && strstr(err, "another connection's lock") != NULL)
			break;
		tu_nap(10);
	}
	ck_assert_ptr_nonnull(err);
	tu_expect_has("stderr", err, "waiting up to 60 s for another connection's lock");
	free(err);
	kill(a.pid, SIGINT);
	ck_assert_int_eq(tu_wait(&a, 0), 130);
	err = bg_stderr(&a);
	tu_expect_has("stderr", err, "interrupted while waiting for another connection's lock");
	free(err);
	sqlite3_exec(app, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(app);
	expect_query(&p, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'", "0");
	tu_bg_free(&a);
	tu_project_free(&p);
}
END_TEST

static Suite *sqlite_cli_suite(void)
{
	const TTest *const commands[] = {
		url_forms, every_command, plan_says_what_runs_outside,
		table_rebuild, errors_carry_position_and_code, NULL
	};
	const TTest *const processes[] = {
		two_runners_at_once, kill_9_mid_batch_leaves_all_or_nothing,
		ctrl_c_rolls_back_and_exits_130, lock_timeout_names_the_holder,
		ctrl_c_ends_the_wait_for_an_applications_lock, NULL
	};
	Suite *s = suite_create("dbmigrate on SQLite files");

	tu_tcase(s, "commands", 120, commands);
	tu_tcase(s, "processes", 120, processes);
	return s;
}

int main(void)
{
	(void)tu_env("DBMIGRATE_BIN");
	srand((unsigned)getpid());
	return tu_run_suite(sqlite_cli_suite());
}
