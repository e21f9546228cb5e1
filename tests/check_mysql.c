/*
 * check_mysql.c - the dbmigrate command end to end against a real
 * MariaDB server (myserver.h): the built binary run as a user runs it,
 * the database checked afterwards with SQL of our own.
 *
 * Covers every command (init, up, status, down, redo, reset, mark,
 * repair, validate, lint, verify, import), the dialect (a procedure
 * between DELIMITER lines, a trigger without them, strings holding ';',
 * '#' and '-- ' comments, executable comments, backslash escapes,
 * double-quoted strings), the plan's note on DDL, a migration that fails
 * part-way (shown by status, guarded by up and down until mark), a
 * failed migration of data statements leaving nothing, error locations
 * (file:line, SQLSTATE and MySQL's error number), the server's notes,
 * two runners and the lock timeout naming the holder, Ctrl-C and SIGTERM
 * killing the query on the server, kill -9 in the middle of a
 * migration, a wrong password never printed, ~/.my.cnf, the unix socket,
 * and verify on a scratch database.
 *
 * One server runs for the whole program; every test gets a fresh
 * database. Assertions are on exit codes, file names, lines, error
 * numbers and database contents.
 */
#define _GNU_SOURCE /* asprintf in test code */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "myserver.h"
#include "testutil.h"

/* Run dbmigrate in cwd with extra env and the given arguments. */
#define RUN TU_RUN
#define RUN_EXPECT TU_RUN_EXPECT

/* A password no test ever uses for real: it must never be printed. */
#define BAD_PW "Wr0ngPassw0rdXYZ"

/* A scratch project: root (the cwd of runs), root/migrations, a database. */
struct project {
	char *root;
	char *dir;
	char *url;
	const char *db;
};

/* Make a project with an empty migrations directory and a new database. */
static struct project project_new(void)
{
	struct project p;

	p.root = tu_mkdtemp();
	ck_assert_int_ne(asprintf(&p.dir, "%s/migrations", p.root), -1);
	ck_assert_int_eq(mkdir(p.dir, 0755), 0);
	p.url = myserver_new_database();
	p.db = myserver_dbname(p.url);
	return p;
}

/* Remove the project's directory and free it. */
static void project_free(struct project *p)
{
	tu_rm_rf(p->root);
	free(p->root);
	free(p->dir);
	free(p->url);
}

/* Write a migration file. */
static void add(const struct project *p, const char *name, const char *text)
{
	free(tu_write(p->dir, name, text));
}

/* Remove a migration file. */
static void drop(const struct project *p, const char *name)
{
	char *path;

	ck_assert_int_ne(asprintf(&path, "%s/%s", p->dir, name), -1);
	unlink(path);
	free(path);
}

/* Assert that q (in the project's database) returns expected (NULL:
   no row or NULL). */
static void expect_sql(const struct project *p, const char *q,
		       const char *expected)
{
	char *got = myserver_query(p->db, q);

	if (expected == NULL)
		ck_assert_msg(got == NULL, "%s returned %s, expected nothing", q,
			      got);
	else
		ck_assert_msg(got != NULL && strcmp(got, expected) == 0,
			      "%s returned %s, expected %s", q,
			      got != NULL ? got : "(nothing)", expected);
	free(got);
}

/* The tracking rows as "id:batch[:progress],..." in id order, or "". */
static char *tracking(const struct project *p)
{
	char *v = myserver_query(
	    p->db, "SELECT IFNULL(GROUP_CONCAT(CONCAT(id, ':', batch, "
		   "IFNULL(CONCAT(':', progress), '')) ORDER BY id SEPARATOR "
		   "','), '') FROM migrations");

	return v != NULL ? v : strdup("");
}

/* Assert the tracking rows. */
static void expect_tracking(const struct project *p, const char *expected)
{
	char *got = tracking(p);

	ck_assert_msg(strcmp(got, expected) == 0, "tracking rows %s, expected %s",
		      got, expected);
	free(got);
}

/* True when table exists in the project's database. */
static int has_table(const struct project *p, const char *table)
{
	char *q;
	long n;

	ck_assert_int_ne(asprintf(&q, "SELECT COUNT(*) FROM information_schema."
				      "TABLES WHERE TABLE_SCHEMA = '%s' AND "
				      "TABLE_NAME = '%s'",
				  p->db, table),
			 -1);
	n = myserver_count(NULL, q);
	free(q);
	return n > 0;
}

/* Seconds on the monotonic clock. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep ms milliseconds. */
static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- dbmigrate in the background --- */

static const char *const scrubbed[] = {
	"DATABASE_URL", "DB_HOST",	"DB_PORT",	   "DB_NAME",
	"DB_USER",	"DB_PASSWORD",	"DBMIGRATE_DIR",   "DBMIGRATE_TABLE",
	"DBMIGRATE_DRIVER", NULL};

/* A dbmigrate started by bg_start(). */
struct bg {
	pid_t pid;
	char *out;
	char *err;
};

/* Start dbmigrate with args in cwd; output in cwd/bgN.out, .err. */
static struct bg bg_start(const char *cwd, const char *tag,
			  const char *const *args)
{
	const char *argv[32];
	struct bg b;
	size_t n = 0;

	argv[n++] = tu_env("DBMIGRATE_BIN");
	for (size_t i = 0; args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_ne(asprintf(&b.out, "%s/%s.out", cwd, tag), -1);
	ck_assert_int_ne(asprintf(&b.err, "%s/%s.err", cwd, tag), -1);
	fflush(NULL);
	b.pid = fork();
	ck_assert_int_ge(b.pid, 0);
	if (b.pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(b.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(b.err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (in < 0 || out < 0 || err < 0 || chdir(cwd) != 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		for (size_t i = 0; scrubbed[i] != NULL; i++)
			unsetenv(scrubbed[i]);
		setenv("NO_COLOR", "1", 1);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return b;
}

/* Wait up to timeout seconds for the run; its exit status. */
static int bg_wait(struct bg *b, double timeout)
{
	double t0 = now();
	int st;
	pid_t got;

	while ((got = waitpid(b->pid, &st, WNOHANG)) == 0 &&
	       now() - t0 < timeout)
		nap(20);
	if (got == 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, &st, 0);
		ck_abort_msg("dbmigrate did not end within %.1f s", timeout);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* What a background run wrote (to free). */
static char *bg_text(const char *path)
{
	char *s = tu_read(path);

	return s != NULL ? s : strdup("");
}

static void bg_free(struct bg *b)
{
	free(b->out);
	free(b->err);
}

/* The id of a connection of the server running a query of db that holds
   SLEEP (other than ours), once one shows up within timeout s; 0. */
static long sleeping_query(const struct project *p, double timeout)
{
	double t0 = now();
	char *q;
	long id;

	ck_assert_int_ne(asprintf(&q, "SELECT ID FROM information_schema."
				      "PROCESSLIST WHERE DB = '%s' AND COMMAND = "
				      "'Query' AND INFO LIKE '%%SLEEP(%%' AND ID "
				      "<> CONNECTION_ID() LIMIT 1",
				  p->db),
			 -1);
	do {
		id = myserver_count(NULL, q);
		if (id != 0 || timeout <= 0)
			break;
		nap(50);
	} while (now() - t0 < timeout);
	free(q);
	return id;
}

/* --- the dialect and every command --- */

/* A procedure between DELIMITER lines, a trigger without them, strings
   with ';', comments of every kind, an executable comment. */
static const char dialect_001[] =
	"-- migrate:up\n"
	"# a hash comment; with a semicolon\n"
	"CREATE TABLE notes (\n"
	"  id INT PRIMARY KEY, -- a dash comment; too\n"
	"  body VARCHAR(200) NOT NULL,\n"
	"  `select` INT NULL /* a block comment; */\n"
	") /*!40101 DEFAULT CHARSET=utf8mb4 */;\n"
	"INSERT INTO notes (id, body) VALUES (1, 'semi;colon'), (2, \"double \\\" quote; too\"),\n"
	"  (3, 'back\\\\slash\\';still'), (4, 'a--b');\n"
	"\n"
	"DELIMITER $$\n"
	"CREATE PROCEDURE add_note(IN n INT, IN b VARCHAR(200))\n"
	"BEGIN\n"
	"  DECLARE x INT DEFAULT 0;\n"
	"  IF n > 100 THEN\n"
	"    SET x = 1;\n"
	"  END IF;\n"
	"  INSERT INTO notes (id, body) VALUES (n, b);\n"
	"END$$\n"
	"DELIMITER ;\n"
	"\n"
	"CREATE TRIGGER notes_upper BEFORE INSERT ON notes FOR EACH ROW\n"
	"BEGIN\n"
	"  IF NEW.body = 'shout' THEN\n"
	"    SET NEW.body = UPPER(NEW.body);\n"
	"  END IF;\n"
	"  CASE WHEN NEW.id < 0 THEN SET NEW.id = -NEW.id; ELSE BEGIN END; END CASE;\n"
	"END;\n"
	"\n"
	"-- migrate:down\n"
	"DROP TRIGGER notes_upper;\n"
	"DROP PROCEDURE add_note;\n"
	"DROP TABLE notes;\n";

static const char dialect_002[] =
	"-- migrate:up\n"
	"CALL add_note(5, 'shout');\n"
	"INSERT INTO notes (id, body) VALUES (-6, 'negative');\n"
	"-- migrate:down\n"
	"DELETE FROM notes WHERE id IN (5, 6);\n";

START_TEST(dialect_and_commands)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "001_notes.sql", dialect_001);
	add(&p, "002_more.sql", dialect_002);
	RUN_EXPECT(0, p.root, NULL, "validate", "--url", p.url);

	RUN_EXPECT(0, p.root, NULL, "init", "--url", p.url);
	ck_assert(has_table(&p, "migrations"));

	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 0);
	/* The plan says, before anything ran, what DDL means here. */
	tu_expect_has("stdout", r.out, "commits each DDL statement on its own");
	ck_assert_ptr_nonnull(strstr(r.out, "commits each DDL"));
	ck_assert(strstr(r.out, "commits each DDL") < strstr(r.out, "Applied 001"));
	tu_expect_has("stdout", r.out, "cannot roll back, recorded as it runs");
	tu_result_free(&r);
	expect_tracking(&p, "001:1,002:1");
	expect_sql(&p, "SELECT body FROM notes WHERE id = 1", "semi;colon");
	expect_sql(&p, "SELECT body FROM notes WHERE id = 2", "double \" quote; too");
	expect_sql(&p, "SELECT body FROM notes WHERE id = 3", "back\\slash';still");
	expect_sql(&p, "SELECT body FROM notes WHERE id = 4", "a--b");
	/* The procedure ran, through the trigger that upper-cased it. */
	expect_sql(&p, "SELECT body FROM notes WHERE id = 5", "SHOUT");
	expect_sql(&p, "SELECT body FROM notes WHERE id = 6", "negative");
	expect_sql(&p, "SELECT TABLE_COLLATION FROM information_schema.TABLES "
		       "WHERE TABLE_NAME = 'notes' AND TABLE_SCHEMA = DATABASE()",
		   "utf8mb4_general_ci");

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Executed 001_notes (batch: 1)");
	tu_expect_has("stdout", r.out, "Executed 002_more (batch: 1)");
	tu_result_free(&r);

	/* redo: the last migration down and up again. */
	r = RUN(p.root, NULL, "redo", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Rolled back 002_more");
	tu_expect_has("stdout", r.out, "Applied 002_more");
	tu_result_free(&r);
	expect_sql(&p, "SELECT COUNT(*) FROM notes", "6");
	expect_tracking(&p, "001:1,002:1");

	/* down: the last batch (both), in reverse order */
	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url);
	expect_tracking(&p, "");
	ck_assert(!has_table(&p, "notes"));
	RUN_EXPECT(0, p.root, NULL, "up", "--step", "1", "--url", p.url);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_tracking(&p, "001:1,002:2");
	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url);
	expect_tracking(&p, "001:1");
	expect_sql(&p, "SELECT COUNT(*) FROM notes", "4");

	RUN_EXPECT(0, p.root, NULL, "reset", "--force", "--url", p.url);
	ck_assert(!has_table(&p, "migrations"));
	ck_assert(!has_table(&p, "notes"));
	expect_sql(&p, "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE "
		       "ROUTINE_SCHEMA = DATABASE()",
		   "0");
	project_free(&p);
}
END_TEST

/* mark --applied, mark --pending and repair work on MySQL's table. */
START_TEST(mark_and_repair)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (id INT);\n"
			     "-- migrate:down\nDROP TABLE a;\n");
	add(&p, "002_b.sql", "-- migrate:up\nCREATE TABLE b (id INT);\n"
			     "-- migrate:down\nDROP TABLE b;\n");
	RUN_EXPECT(0, p.root, NULL, "mark", "001", "--applied", "--url", p.url);
	expect_tracking(&p, "001:1");
	ck_assert(!has_table(&p, "a"));
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	ck_assert(!has_table(&p, "a"));
	ck_assert(has_table(&p, "b"));
	/* A changed file: repair takes its new checksum. */
	add(&p, "002_b.sql", "-- migrate:up\nCREATE TABLE b (id INT); -- same\n"
			     "-- migrate:down\nDROP TABLE b;\n");
	RUN_EXPECT(0, p.root, NULL, "repair", "--force", "--url", p.url);
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_lacks("stdout", r.out, "Modified");
	tu_result_free(&r);
	RUN_EXPECT(0, p.root, NULL, "mark", "002", "--pending", "--url", p.url);
	expect_tracking(&p, "001:1");
	project_free(&p);
}
END_TEST

/* --- what a failure leaves --- */

START_TEST(failed_part_way_is_shown_and_guarded)
{
	struct project p = project_new();
	struct tu_result r;
	char *path;

	add(&p, "001_ok.sql", "-- migrate:up\nCREATE TABLE ok (id INT);\n"
			      "-- migrate:down\nDROP TABLE ok;\n");
	add(&p, "002_half.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE a (id INT);\n"
	    "CREATE TABLE b (id INT);\n"
	    "ALTER TABLE\n  nosuch ADD COLUMN x INT;\n"
	    "CREATE TABLE c (id INT);\n"
	    "-- migrate:down\n"
	    "DROP TABLE c;\nDROP TABLE b;\nDROP TABLE a;\n");
	add(&p, "003_later.sql", "-- migrate:up\nCREATE TABLE later (id INT);\n"
				 "-- migrate:down\nDROP TABLE later;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	/* file:line of the statement, SQLSTATE and MySQL's number */
	tu_expect_has("stderr", r.err, "002_half.sql:4:");
	tu_expect_has("stderr", r.err, "[SQLSTATE 42S02, code 1146]");
	tu_expect_has("stderr", r.err, "statements 1 to 2 of 4 ran");
	tu_expect_has("stderr", r.err, "dbmigrate mark 002 --applied");
	/* 001 committed as it ran, because of MySQL, not of an option. */
	tu_expect_has("stderr", r.err, "1 earlier migration of this batch had "
				       "already been committed with its tracking row");
	tu_expect_lacks("stderr", r.err, "--transaction per-migration");
	tu_result_free(&r);
	/* The earlier migration applied and recorded, the failed one
	   recorded with how far it got, the later one never ran. */
	expect_tracking(&p, "001:1,002:1:up 2/4");
	ck_assert(has_table(&p, "ok") && has_table(&p, "a") &&
		  has_table(&p, "b") && !has_table(&p, "c") &&
		  !has_table(&p, "later"));

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Failed part-way 002_half");
	tu_expect_has("stdout", r.out, "2 of 4 statements of its up ran");
	tu_result_free(&r);

	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "failed part-way: 002_half");
	tu_result_free(&r);
	RUN_EXPECT(3, p.root, NULL, "down", "--url", p.url);
	ck_assert(!has_table(&p, "later"));

	/* The user finishes it by hand and says so. */
	free(myserver_query(p.db, "CREATE TABLE c (id INT)"));
	ck_assert_int_ne(asprintf(&path, "%s/002_half.sql", p.dir), -1);
	add(&p, "002_half.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE a (id INT);\n"
	    "CREATE TABLE b (id INT);\n"
	    "CREATE TABLE c (id INT);\n"
	    "-- migrate:down\n"
	    "DROP TABLE c;\nDROP TABLE b;\nDROP TABLE a;\n");
	free(path);
	RUN_EXPECT(0, p.root, NULL, "mark", "002", "--applied", "--url", p.url);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	ck_assert(has_table(&p, "later"));
	expect_sql(&p, "SELECT COUNT(*) FROM migrations WHERE progress IS NOT NULL",
		   "0");

	/* A down that fails part-way is recorded too. */
	free(myserver_query(p.db, "DROP TABLE b"));
	RUN_EXPECT(1, p.root, NULL, "down", "--to", "001", "--url", p.url);
	expect_sql(&p, "SELECT progress FROM migrations WHERE id = '002'",
		   "down 1/3");
	ck_assert(!has_table(&p, "later") && !has_table(&p, "c") &&
		  has_table(&p, "a"));
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_has("stdout", r.out, "1 of 3 statements of its down ran");
	tu_result_free(&r);
	RUN_EXPECT(3, p.root, NULL, "down", "--url", p.url);
	free(myserver_query(p.db, "DROP TABLE a"));
	RUN_EXPECT(0, p.root, NULL, "mark", "002", "--pending", "--url", p.url);
	expect_tracking(&p, "001:1");
	project_free(&p);
}
END_TEST

/* A migration of data statements only runs in a transaction with its
   row: a failure leaves nothing of it; the one before stays. */
START_TEST(failed_data_migration_leaves_nothing)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "001_t.sql", "-- migrate:up\nCREATE TABLE t (id INT PRIMARY KEY);\n"
			     "-- migrate:down\nDROP TABLE t;\n");
	add(&p, "002_rows.sql", "-- migrate:up\nINSERT INTO t VALUES (1);\n"
				"INSERT INTO t VALUES (2);\n"
				"UPDATE t SET id = 3 WHERE id = 2;\n"
				"INSERT INTO t VALUES (1);\n"
				"-- migrate:down\nDELETE FROM t;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "002_rows.sql:5:");
	tu_expect_has("stderr", r.err, "code 1062");
	tu_expect_has("stderr", r.err, "rolled back");
	tu_result_free(&r);
	expect_tracking(&p, "001:1");
	expect_sql(&p, "SELECT COUNT(*) FROM t", "0");
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_has("stdout", r.out, "Pending 002_rows");
	tu_expect_lacks("stdout", r.out, "Failed part-way");
	tu_result_free(&r);
	project_free(&p);
}
END_TEST

/* A syntax error points at its line inside a long statement, and the
   first statement of a journaled migration failing leaves no row. */
START_TEST(syntax_error_line)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "001_bad.sql", "-- migrate:up\n"
			       "CREATE TABLE t (\n"
			       "  id INT,\n"
			       "  name VARCHAR(10) NOT NULLL\n"
			       ");\n"
			       "-- migrate:down\nDROP TABLE t;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "001_bad.sql:4:");
	tu_expect_has("stderr", r.err, "code 1064");
	tu_expect_has("stderr", r.err, "NOT NULLL");
	tu_result_free(&r);
	expect_tracking(&p, "");
	project_free(&p);
}
END_TEST

/* The server's notes and warnings reach the user with their level. */
START_TEST(server_notes_are_shown)
{
	struct project p = project_new();
	struct tu_result r;

	free(myserver_query(p.db, "CREATE TABLE t (id INT)"));
	add(&p, "001_again.sql", "-- migrate:up\nCREATE TABLE IF NOT EXISTS t (id INT);\n"
				 "-- migrate:down\nSELECT 1;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_msg(strstr(r.out, "Note: Table 't' already exists (code 1050)") != NULL ||
			  strstr(r.err, "Note: Table 't' already exists (code 1050)") != NULL,
		      "no note in:\n%s\n%s", r.out, r.err);
	tu_result_free(&r);
	project_free(&p);
}
END_TEST

/* --- runners, signals, kill -9 --- */

START_TEST(two_runners_and_lock_timeout)
{
	struct project p = project_new();
	struct tu_result r;
	struct bg b;
	char *err;
	int status;

	add(&p, "001_slow.sql", "-- migrate:up\nCREATE TABLE slow (id INT);\n"
				"DO SLEEP(4);\n"
				"-- migrate:down\nDROP TABLE slow;\n");
	b = bg_start(p.root, "first", (const char *const[]){"up", "--url", p.url, NULL});
	ck_assert_msg(sleeping_query(&p, 10) != 0, "the first runner never slept");
	/* ps(1) does not show the password of a running dbmigrate. */
	{
		char *path, *cmdline;

		ck_assert_int_ne(asprintf(&path, "/proc/%ld/cmdline", (long)b.pid), -1);
		cmdline = tu_read(path);
		ck_assert_ptr_nonnull(cmdline);
		ck_assert_msg(strstr(cmdline, myserver_password()) == NULL,
			      "the password shows in /proc/PID/cmdline");
		free(cmdline);
		free(path);
	}
	r = RUN(p.root, NULL, "up", "--lock-timeout", "1", "--url", p.url);
	tu_expect_status(&r, 5);
	tu_expect_has("stderr", r.err, "could not acquire the migration lock");
	tu_expect_has("stderr", r.err, "held by connection ");
	tu_expect_has("stderr", r.err, "user root from 127.0.0.1");
	/* and since when, from the processlist */
	tu_expect_has("stderr", r.err, " since ");
	tu_expect_has("stderr", r.err, " UTC)");
	tu_expect_lacks("stderr", r.err, myserver_password());
	tu_result_free(&r);
	status = bg_wait(&b, 20);
	err = bg_text(b.err);
	ck_assert_msg(status == 0, "first runner: %d\n%s", status, err);
	free(err);
	bg_free(&b);
	expect_tracking(&p, "001:1");
	/* A second runner that waits long enough finds nothing to do. */
	RUN_EXPECT(0, p.root, NULL, "up", "--lock-timeout", "10", "--url", p.url);
	expect_tracking(&p, "001:1");
	project_free(&p);
}
END_TEST

/* Ctrl-C or SIGTERM: KILL QUERY on the server, the exit code, nothing
   of ours left running, nothing of a data migration left. */
static void interrupt_case(int sig, int expected)
{
	struct project p = project_new();
	struct bg b;
	double t0;
	int status;
	char *err;

	free(myserver_query(p.db, "CREATE TABLE t (id INT)"));
	add(&p, "001_slow.sql", "-- migrate:up\nINSERT INTO t VALUES (1);\n"
				"INSERT INTO t SELECT SLEEP(60);\n"
				"-- migrate:down\nDELETE FROM t;\n");
	b = bg_start(p.root, "bg", (const char *const[]){"up", "--url", p.url, NULL});
	ck_assert_msg(sleeping_query(&p, 10) != 0, "the run never reached SLEEP");
	nap(200);
	t0 = now();
	ck_assert_int_eq(kill(b.pid, sig), 0);
	status = bg_wait(&b, 10);
	err = bg_text(b.err);
	ck_assert_msg(status == expected, "exit status %d, expected %d:\n%s",
		      status, expected, err);
	ck_assert_msg(now() - t0 < 3.0, "took %.1f s to stop", now() - t0);
	tu_expect_has("stderr", err, "code 1317");
	free(err);
	ck_assert_msg(sleeping_query(&p, 0) == 0,
		      "the SLEEP still runs on the server after the exit");
	expect_sql(&p, "SELECT COUNT(*) FROM t", "0");
	expect_tracking(&p, "");
	/* The lock is free. */
	drop(&p, "001_slow.sql");
	add(&p, "001_fast.sql", "-- migrate:up\nINSERT INTO t VALUES (2);\n"
				"-- migrate:down\nDELETE FROM t;\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--lock-timeout", "1", "--url", p.url);
	expect_tracking(&p, "001:1");
	bg_free(&b);
	project_free(&p);
}

START_TEST(sigint_kills_the_query)
{
	interrupt_case(SIGINT, 130);
}
END_TEST

START_TEST(sigterm_kills_the_query)
{
	interrupt_case(SIGTERM, 143);
}
END_TEST

/* kill -9 in the middle of a migration cannot hide how far it got. */
START_TEST(kill9_mid_migration)
{
	struct project p = project_new();
	struct tu_result r;
	struct bg b;
	int status;

	add(&p, "001_three.sql", "-- migrate:up\nCREATE TABLE a (id INT);\n"
				 "CREATE TABLE b (id INT) SELECT SLEEP(60) AS s;\n"
				 "CREATE TABLE c (id INT);\n"
				 "-- migrate:down\nDROP TABLE c;\nDROP TABLE b;\nDROP TABLE a;\n");
	b = bg_start(p.root, "bg", (const char *const[]){"up", "--url", p.url, NULL});
	ck_assert_msg(sleeping_query(&p, 10) != 0, "the run never reached SLEEP");
	ck_assert_int_eq(kill(b.pid, SIGKILL), 0);
	status = bg_wait(&b, 10);
	ck_assert_int_eq(status, 128 + SIGKILL);
	expect_tracking(&p, "001:1:up 1/3");
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Failed part-way 001_three");
	tu_expect_has("stdout", r.out, "1 of 3 statements of its up ran");
	tu_result_free(&r);
	/* The server ends the orphaned statement itself (the client is
	   gone); the next run refuses until mark. */
	free(myserver_queryf(NULL, "KILL QUERY %ld", sleeping_query(&p, 0)));
	RUN_EXPECT(3, p.root, NULL, "up", "--url", p.url);
	bg_free(&b);
	project_free(&p);
}
END_TEST

/* --- connections --- */

START_TEST(wrong_password_never_printed)
{
	struct project p = project_new();
	struct tu_result r;
	char *url;

	ck_assert_int_ne(asprintf(&url, "mysql://root:%s@127.0.0.1:%s/%s", BAD_PW,
				  myserver_port(), p.db),
			 -1);
	r = RUN(p.root, NULL, "-v", "status", "--url", url);
	tu_expect_status(&r, 4);
	tu_expect_has("stderr", r.err, "Access denied");
	tu_expect_has("stderr", r.err, "code 1045");
	tu_expect_lacks("stderr", r.err, BAD_PW);
	tu_expect_lacks("stdout", r.out, BAD_PW);
	tu_result_free(&r);
	free(url);
	project_free(&p);
}
END_TEST

/* No password in the URL: ~/.my.cnf [client] is read, as the mysql
   client reads it. */
START_TEST(my_cnf_password)
{
	struct project p = project_new();
	struct tu_result r;
	char *url, *cnf, *home;

	add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (id INT);\n"
			     "-- migrate:down\nDROP TABLE a;\n");
	ck_assert_int_ne(asprintf(&cnf, "[client]\nuser=root\npassword=%s\n",
				  myserver_password()),
			 -1);
	free(tu_write(p.root, ".my.cnf", cnf));
	free(cnf);
	ck_assert_int_ne(asprintf(&home, "HOME=%s", p.root), -1);
	ck_assert_int_ne(asprintf(&url, "mysql://127.0.0.1:%s/%s",
				  myserver_port(), p.db),
			 -1);
	RUN_EXPECT(0, p.root, ((const char *const[]){home, "MYSQL_HOME", "MARIADB_HOME", NULL}),
		"up", "--url", url);
	ck_assert(has_table(&p, "a"));
	/* A wrong one there: the error says where the password came from. */
	free(tu_write(p.root, ".my.cnf", "[client]\nuser=root\npassword=" BAD_PW "\n"));
	r = RUN(p.root, ((const char *const[]){home, NULL}), "status", "--url", url);
	tu_expect_status(&r, 4);
	tu_expect_has("stderr", r.err, "~/.my.cnf");
	tu_expect_lacks("stderr", r.err, BAD_PW);
	tu_result_free(&r);
	free(home);
	free(url);
	project_free(&p);
}
END_TEST

/* ?socket= connects through the unix socket; mariadb:// is the same
   driver. */
START_TEST(socket_and_mariadb_scheme)
{
	struct project p = project_new();
	struct tu_result r;
	char *url;

	add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (id INT);\n"
			     "-- migrate:down\nDROP TABLE a;\n");
	ck_assert_int_ne(asprintf(&url, "mariadb://root:@localhost/%s?socket=%s",
				  p.db, myserver_socket()),
			 -1);
	r = RUN(p.root, NULL, "-v", "up", "--url", url);
	tu_expect_status(&r, 0);
	tu_expect_has("stderr", r.err, "via Localhost via UNIX socket");
	tu_result_free(&r);
	ck_assert(has_table(&p, "a"));
	free(url);
	ck_assert_int_ne(asprintf(&url, "mysql://root@127.0.0.1:%s/%s?bogus=1",
				  myserver_port(), p.db),
			 -1);
	r = RUN(p.root, NULL, "status", "--url", url);
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "unknown URL option \"bogus\"");
	tu_result_free(&r);
	free(url);
	/* The test server has no TLS: a mode that requires it fails. */
	ck_assert_int_ne(asprintf(&url, "mysql://root:%s@127.0.0.1:%s/%s?ssl-mode=REQUIRED",
				  myserver_password(), myserver_port(), p.db),
			 -1);
	r = RUN(p.root, NULL, "status", "--url", url);
	tu_expect_status(&r, 4);
	tu_expect_has("stderr", r.err, "not encrypted");
	tu_result_free(&r);
	free(url);
	ck_assert_int_ne(asprintf(&url, "mysql://root:%s@127.0.0.1:%s/%s?ssl_mode=PREFERRED",
				  myserver_password(), myserver_port(), p.db),
			 -1);
	RUN_EXPECT(0, p.root, NULL, "status", "--url", url);
	free(url);
	project_free(&p);
}
END_TEST

/* Without a URL: DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD and
   --driver mysql. */
START_TEST(connection_from_db_variables)
{
	struct project p = project_new();
	char *port, *name, *pw;

	add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (id INT);\n"
			     "-- migrate:down\nDROP TABLE a;\n");
	ck_assert_int_ne(asprintf(&port, "DB_PORT=%s", myserver_port()), -1);
	ck_assert_int_ne(asprintf(&name, "DB_NAME=%s", p.db), -1);
	ck_assert_int_ne(asprintf(&pw, "DB_PASSWORD=%s", myserver_password()), -1);
	RUN_EXPECT(0, p.root, ((const char *const[]){"DB_HOST=127.0.0.1", port, name,
					       "DB_USER=root", pw, NULL}),
		"up", "--driver", "mysql");
	ck_assert(has_table(&p, "a"));
	free(port);
	free(name);
	free(pw);
	project_free(&p);
}
END_TEST

/* --statement-timeout is MariaDB's max_statement_time: a statement that
   runs longer is stopped on the server (error 1969). */
START_TEST(statement_timeout)
{
	struct project p = project_new();
	struct tu_result r;
	double t0;

	free(myserver_query(p.db, "CREATE TABLE t (id INT)"));
	add(&p, "001_slow.sql", "-- migrate:up\nINSERT INTO t SELECT SLEEP(20);\n"
				"-- migrate:down\nDELETE FROM t;\n");
	t0 = now();
	r = RUN(p.root, NULL, "up", "--statement-timeout", "1", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "code 1969");
	tu_expect_has("stderr", r.err, "statement timeout");
	tu_result_free(&r);
	ck_assert_msg(now() - t0 < 10, "took %.1f s", now() - t0);
	expect_tracking(&p, "");
	expect_sql(&p, "SELECT COUNT(*) FROM t", "0");
	project_free(&p);
}
END_TEST

/* --- verify, lint, import --- */

START_TEST(verify_on_a_scratch_database)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "001_t.sql", "-- migrate:up\nCREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10));\n"
			     "CREATE INDEX t_v ON t (v);\n"
			     "-- migrate:down\nDROP TABLE t;\n");
	add(&p, "002_col.sql", "-- migrate:up\nALTER TABLE t ADD COLUMN w INT NOT NULL DEFAULT 0;\n"
			       "-- migrate:down\nALTER TABLE t DROP COLUMN w;\n");
	RUN_EXPECT(0, p.root, NULL, "verify", "--url", p.url);
	/* nothing on the user's database, no scratch database left */
	ck_assert(!has_table(&p, "t"));
	ck_assert_int_eq(myserver_count(NULL, "SELECT COUNT(*) FROM information_schema."
					      "SCHEMATA WHERE SCHEMA_NAME LIKE "
					      "'dbmigrate\\_verify\\_%'"),
			 0);
	/* A down that forgets the index is caught. */
	add(&p, "002_col.sql", "-- migrate:up\nALTER TABLE t ADD COLUMN w INT NOT NULL DEFAULT 0;\n"
			       "CREATE INDEX t_w ON t (w);\n"
			       "-- migrate:down\nDROP INDEX t_w ON t;\nSELECT 1;\n");
	r = RUN(p.root, NULL, "verify", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stdout+stderr", r.err[0] != '\0' ? r.err : r.out, "column t.w");
	tu_result_free(&r);
	ck_assert_int_eq(myserver_count(NULL, "SELECT COUNT(*) FROM information_schema."
					      "SCHEMATA WHERE SCHEMA_NAME LIKE "
					      "'dbmigrate\\_verify\\_%'"),
			 0);
	project_free(&p);
}
END_TEST

START_TEST(lint_mysql_rules)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "001_t.sql", "-- migrate:up\nCREATE TABLE t (id INT);\nALTER TABLE t ADD COLUMN x INT;\n"
			     "-- migrate:down\nDROP TABLE t;\n");
	add(&p, "002_alter.sql", "-- migrate:up\nALTER TABLE t ADD COLUMN y INT;\n"
				 "-- migrate:down\nALTER TABLE t DROP COLUMN y, ALGORITHM=INSTANT;\n");
	r = RUN(p.root, NULL, "lint", "--driver", "mysql");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "002_alter.sql:2:1: warning");
	tu_expect_has("stderr", r.err, "[alter-table-copy]");
	tu_expect_has("stderr", r.err, "[no-lock-timeout]");
	/* the table the same migration made is new: no finding */
	tu_expect_lacks("stderr", r.err, "001_t.sql:3:");
	tu_result_free(&r);
	project_free(&p);
}
END_TEST

/* goose's and golang-migrate's tables as their mysql dialects make
   them: import records what they applied. */
START_TEST(import_from_peers)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "00001_a.sql", "-- +goose Up\nCREATE TABLE a (id INT);\n"
			       "-- +goose Down\nDROP TABLE a;\n");
	add(&p, "00002_b.sql", "-- +goose Up\nCREATE TABLE b (id INT);\n"
			       "-- +goose Down\nDROP TABLE b;\n");
	add(&p, "00003_c.sql", "-- +goose Up\nCREATE TABLE c (id INT);\n"
			       "-- +goose Down\nDROP TABLE c;\n");
	/* pressly/goose internal/dialect/dialectquery/mysql.go */
	free(myserver_query(p.db, "CREATE TABLE goose_db_version ("
				  " id serial NOT NULL,"
				  " version_id bigint NOT NULL,"
				  " is_applied boolean NOT NULL,"
				  " tstamp timestamp NULL default now(),"
				  " PRIMARY KEY(id))"));
	free(myserver_query(p.db, "INSERT INTO goose_db_version (version_id, "
				  "is_applied, tstamp) VALUES (0, true, "
				  "'2024-01-02 10:00:00'), (1, true, "
				  "'2024-01-02 10:00:00'), (2, true, "
				  "'2024-01-02 10:00:01'), (2, false, "
				  "'2024-01-02 10:00:02')"));
	free(myserver_query(p.db, "CREATE TABLE a (id INT)"));
	RUN_EXPECT(0, p.root, NULL, "import", "--url", p.url);
	expect_tracking(&p, "00001:1");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_tracking(&p, "00001:1,00002:2,00003:2");
	expect_sql(&p, "SELECT COUNT(*) FROM goose_db_version", "4");
	project_free(&p);

	/* golang-migrate database/mysql/mysql.go; dirty is refused */
	p = project_new();
	add(&p, "1_a.up.sql", "CREATE TABLE a (id INT);\n");
	add(&p, "1_a.down.sql", "DROP TABLE a;\n");
	add(&p, "2_b.up.sql", "CREATE TABLE b (id INT);\n");
	add(&p, "2_b.down.sql", "DROP TABLE b;\n");
	free(myserver_query(p.db, "CREATE TABLE IF NOT EXISTS `schema_migrations` "
				  "(version bigint not null primary key, dirty "
				  "boolean not null)"));
	free(myserver_query(p.db, "INSERT INTO schema_migrations VALUES (1, 1)"));
	r = RUN(p.root, NULL, "import", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "dirty");
	tu_result_free(&r);
	free(myserver_query(p.db, "UPDATE schema_migrations SET dirty = 0"));
	RUN_EXPECT(0, p.root, NULL, "import", "--url", p.url);
	expect_tracking(&p, "1:1");
	project_free(&p);
}
END_TEST

/* dbmate's table (pkg/driver/mysql/mysql.go): one row per version;
   --dry-run records nothing, a second import nothing new. */
START_TEST(import_dbmate)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "20240101000001_a.sql", "-- migrate:up\nCREATE TABLE a (id INT);\n-- migrate:down\nDROP TABLE a;\n");
	add(&p, "20240101000002_b.sql", "-- migrate:up\nCREATE TABLE b (id INT);\n-- migrate:down\nDROP TABLE b;\n");
	add(&p, "20240101000003_c.sql", "-- migrate:up\nCREATE TABLE c (id INT);\n-- migrate:down\nDROP TABLE c;\n");
	free(myserver_query(p.db, "create table if not exists schema_migrations "
				  "(version varchar(128) primary key)"));
	free(myserver_query(p.db, "insert into schema_migrations (version) values "
				  "('20240101000001'), ('20240101000003')"));
	r = RUN(p.root, NULL, "import", "--dry-run", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("dry run", r.out, "Would record 20240101000001_a");
	tu_result_free(&r);
	ck_assert(!has_table(&p, "migrations"));
	RUN_EXPECT(0, p.root, NULL, "import", "dbmate", "--url", p.url);
	expect_tracking(&p, "20240101000001:1,20240101000003:1");
	r = RUN(p.root, NULL, "import", "dbmate", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.out, "Nothing to import from dbmate");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_has("status", r.out, "Pending 20240101000002_b");
	tu_result_free(&r);
	expect_sql(&p, "SELECT COUNT(*) FROM schema_migrations", "2");
	project_free(&p);
}
END_TEST

/* Flyway's table as flyway-mysql's createMetaDataTable.sql makes it;
   checksums are Flyway's CRC-32 of the files below. A failed row is
   refused. */
START_TEST(import_flyway)
{
	struct project p = project_new();
	struct tu_result r;

	add(&p, "V1__init.sql", "CREATE TABLE log (n INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10));\n");
	add(&p, "V1.1__one_one.sql", "INSERT INTO log (v) VALUES ('1.1');\n");
	add(&p, "V2__two.sql", "INSERT INTO log (v) VALUES ('2');\n");
	free(myserver_query(p.db, "CREATE TABLE `flyway_schema_history` ("
				  " `installed_rank` INT NOT NULL,"
				  " `version` VARCHAR(50),"
				  " `description` VARCHAR(200) NOT NULL,"
				  " `type` VARCHAR(20) NOT NULL,"
				  " `script` VARCHAR(1000) NOT NULL,"
				  " `checksum` INT,"
				  " `installed_by` VARCHAR(100) NOT NULL,"
				  " `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
				  " `execution_time` INT NOT NULL,"
				  " `success` BOOL NOT NULL,"
				  " CONSTRAINT `flyway_schema_history_pk` PRIMARY KEY (`installed_rank`)"
				  ") ENGINE=InnoDB"));
	free(myserver_query(p.db, "CREATE INDEX `flyway_schema_history_s_idx` ON "
				  "`flyway_schema_history` (`success`)"));
	free(myserver_query(p.db, "INSERT INTO flyway_schema_history VALUES "
				  "(1, '1', 'init', 'SQL', 'V1__init.sql', 20913270, 'root', '2024-03-01 09:00:00', 5, 1),"
				  "(2, '1.1', 'one one', 'SQL', 'V1.1__one_one.sql', -1112161110, 'root', '2024-03-01 09:00:01', 3, 1)"));
	free(myserver_query(p.db, "CREATE TABLE log (n INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))"));
	free(myserver_query(p.db, "INSERT INTO log (v) VALUES ('1.1')"));
	r = RUN(p.root, NULL, "import", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("import", r.out, "applied by flyway");
	tu_result_free(&r);
	expect_tracking(&p, "1:1,1.1:1");
	expect_sql(&p, "SELECT DATE_FORMAT(executed_at, '%Y-%m-%d %H:%i:%s') FROM migrations WHERE id = '1'",
		   "2024-03-01 09:00:00");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_sql(&p, "SELECT GROUP_CONCAT(v ORDER BY n) FROM log", "1.1,2");
	project_free(&p);

	p = project_new();
	add(&p, "V1__init.sql", "CREATE TABLE log (n INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10));\n");
	free(myserver_query(p.db, "CREATE TABLE `flyway_schema_history` (`installed_rank` INT NOT NULL PRIMARY KEY,"
				  " `version` VARCHAR(50), `description` VARCHAR(200) NOT NULL,"
				  " `type` VARCHAR(20) NOT NULL, `script` VARCHAR(1000) NOT NULL, `checksum` INT,"
				  " `installed_by` VARCHAR(100) NOT NULL,"
				  " `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
				  " `execution_time` INT NOT NULL, `success` BOOL NOT NULL)"));
	free(myserver_query(p.db, "INSERT INTO flyway_schema_history VALUES "
				  "(1, '1', 'init', 'SQL', 'V1__init.sql', 20913270, 'root', '2024-03-01 09:00:00', 5, 0)"));
	r = RUN(p.root, NULL, "import", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "failed migration: version 1");
	tu_result_free(&r);
	ck_assert(!has_table(&p, "migrations"));
	project_free(&p);
}
END_TEST

/* A peer's table given as --table is refused, naming the tool, and
   never altered. */
START_TEST(peer_table_as_tracking_table_is_refused)
{
	struct project p = project_new();
	struct tu_result r;
	const char *cmds[] = {"up", "status", "init", "down"};

	add(&p, "1_a.up.sql", "CREATE TABLE a (id INT);\n");
	add(&p, "1_a.down.sql", "DROP TABLE a;\n");
	free(myserver_query(p.db, "CREATE TABLE IF NOT EXISTS `schema_migrations` "
				  "(version bigint not null primary key, dirty "
				  "boolean not null)"));
	free(myserver_query(p.db, "INSERT INTO schema_migrations VALUES (1, 0)"));
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		r = RUN(p.root, NULL, "--table", "schema_migrations", cmds[i], "--url", p.url);
		tu_expect_status(&r, 2);
		tu_expect_has(cmds[i], r.err, "golang-migrate's history table");
		tu_result_free(&r);
	}
	expect_sql(&p, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
		       "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'",
		   "2");
	ck_assert(!has_table(&p, "a"));
	project_free(&p);
}
END_TEST

/* A lock name longer than MySQL's 64 characters is hashed: a long
   tracking table still keeps runners apart. */
START_TEST(long_lock_name_is_hashed)
{
	struct project p = project_new();
	struct tu_result r;
	struct bg b;
	const char *table = "migrations_with_a_rather_long_name_for_the_lock_0123456789";

	add(&p, "001_slow.sql", "-- migrate:up\nCREATE TABLE slow (id INT);\nDO SLEEP(3);\n"
				"-- migrate:down\nDROP TABLE slow;\n");
	b = bg_start(p.root, "first", (const char *const[]){"up", "--table", table, "--url", p.url, NULL});
	ck_assert_msg(sleeping_query(&p, 10) != 0, "the first runner never slept");
	r = RUN(p.root, NULL, "up", "--table", table, "--lock-timeout", "1", "--url", p.url);
	tu_expect_status(&r, 5);
	tu_expect_has("stderr", r.err, "The lock dbmigrate:");
	tu_expect_lacks("stderr", r.err, "The lock dbmigrate:t_");
	tu_result_free(&r);
	ck_assert_int_eq(bg_wait(&b, 20), 0);
	bg_free(&b);
	project_free(&p);
}
END_TEST

/* `dbmigrate drivers` lists the driver and what keeps runners apart. */
START_TEST(drivers_lists_mysql)
{
	struct tu_result r;
	char *root = tu_mkdtemp();

	r = RUN(root, NULL, "drivers");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "mysql");
	tu_expect_has("stdout", r.out, "MySQL and MariaDB through libmariadb");
	tu_result_free(&r);
	tu_rm_rf(root);
	free(root);
}
END_TEST

/* The driver's configure() called as the core calls it: the last error
   it reported, for cfg_host. */
static dbmigrate_code cfg_code;
static char cfg_message[256];

static void cfg_error(void *ctx, const struct dbmigrate_driver_error *e)
{
	(void)ctx;
	cfg_code = e->code;
	snprintf(cfg_message, sizeof cfg_message, "%s", e->message);
}

static void cfg_log(void *ctx, enum dbmigrate_log_level level,
		    const char *msg)
{
	(void)ctx, (void)level, (void)msg;
}

static int cfg_interrupted(void *ctx)
{
	(void)ctx;
	return 0;
}

/* The session's lock_wait_timeout after apply() sent the limits. */
static char *cfg_lock_wait(const struct driver *d, const char *db,
			   const char *table)
{
	char sql[128];
	struct dbmigrate_stmt st;

	snprintf(sql, sizeof sql, "CREATE TABLE %s AS SELECT "
		 "@@SESSION.lock_wait_timeout AS v", table);
	st.sql = sql;
	st.len = strlen(sql);
	ck_assert_msg(d->vt->apply(d->conn, "migrations", &st, 1, NULL, NULL) ==
		      DBMIGRATE_OK, "apply: %s", cfg_message);
	return myserver_queryf(db, "SELECT v FROM %s", table);
}

/* Negative and NaN limits are refused (usage error), and a host's older
   struct, which ends before lock_retries, sets no limits at all. */
START_TEST(configure_checks_the_limits)
{
	struct driver d = {0};
	struct dbmigrate_host h = {.abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
				   .struct_size = sizeof h,
				   .error = cfg_error,
				   .log = cfg_log,
				   .interrupted = cfg_interrupted};
	dbmigrate_error e = {0};
	char *url = myserver_new_database();
	struct dbmigrate_params p = {.struct_size = sizeof p, .url = url};
	struct dbmigrate_settings s = {.struct_size = sizeof s};
	char *server = myserver_query(NULL, "SELECT @@GLOBAL.lock_wait_timeout");
	char *v;

	driver_host_services(&h);
	ck_assert_int_eq(driver_load("mysql", &d, &e), DBMIGRATE_OK);
	ck_assert_int_eq(driver_open(&d, &h, &p, &e), DBMIGRATE_OK);
	s.lock_timeout = -1;
	ck_assert_int_eq(d.vt->configure(d.conn, &s), DBMIGRATE_EUSAGE);
	ck_assert_int_eq(cfg_code, DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(cfg_message, "invalid limits"));
	s.lock_timeout = 0;
	s.statement_timeout = NAN;
	ck_assert_int_eq(d.vt->configure(d.conn, &s), DBMIGRATE_EUSAGE);
	/* A whole struct's limits are sent... */
	s.statement_timeout = 0;
	s.lock_timeout = 7;
	ck_assert_int_eq(d.vt->configure(d.conn, &s), DBMIGRATE_OK);
	v = cfg_lock_wait(&d, myserver_dbname(url), "whole");
	ck_assert_str_eq(v, "7");
	free(v);
	/* ...an older one's are not: the server's own again. */
	s.struct_size = offsetof(struct dbmigrate_settings, lock_retries);
	s.lock_timeout = 9;
	ck_assert_int_eq(d.vt->configure(d.conn, &s), DBMIGRATE_OK);
	v = cfg_lock_wait(&d, myserver_dbname(url), "older");
	ck_assert_str_eq(v, server);
	free(v);
	driver_close(&d);
	free(d.path);
	free(server);
	free(url);
}
END_TEST

static Suite *mysql_suite(void)
{
	const TTest *const commands[] = {
		dialect_and_commands, mark_and_repair, drivers_lists_mysql, NULL
	};
	const TTest *const failures[] = {
		failed_part_way_is_shown_and_guarded,
		failed_data_migration_leaves_nothing, syntax_error_line,
		server_notes_are_shown, NULL
	};
	const TTest *const runners[] = {
		two_runners_and_lock_timeout, sigint_kills_the_query,
		sigterm_kills_the_query, kill9_mid_migration,
		long_lock_name_is_hashed, NULL
	};
	const TTest *const connections[] = {
		wrong_password_never_printed, my_cnf_password,
		socket_and_mariadb_scheme, connection_from_db_variables,
		statement_timeout, NULL
	};
	const TTest *const verify_lint_import[] = {
		verify_on_a_scratch_database, lint_mysql_rules,
		import_from_peers, import_dbmate, import_flyway,
		peer_table_as_tracking_table_is_refused,
		configure_checks_the_limits, NULL
	};
	Suite *s = suite_create("mysql");

	tu_tcase(s, "commands", 120, commands);
	tu_tcase(s, "failures", 120, failures);
	tu_tcase(s, "runners", 120, runners);
	tu_tcase(s, "connections", 60, connections);
	tu_tcase(s, "verify-lint-import", 120, verify_lint_import);
	return s;
}

int main(void)
{
	int rc;

	myserver_start();
	rc = tu_run_suite(mysql_suite());
	myserver_stop();
	return rc;
}
