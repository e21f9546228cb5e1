/*
 * check_pg_versions.c - behaviour that differs between PostgreSQL
 * majors, checked on whatever server pgserver starts (scripts/pg-matrix
 * runs it on 13 to 18 by DBMIGRATE_PG_BINDIR; `make check` on the
 * distribution's). Each test reads server_version_num and asserts what
 * that version must do, so the version rules are measured, not assumed:
 *
 * - ALTER TYPE ... ADD VALUE: refused inside a transaction block before
 *   12, so dbmigrate runs it on its own there and a later migration of
 *   the batch can use the value; from 12 it runs inside the batch, and a
 *   use of the new value in the same batch fails with SQLSTATE 55P04
 *   (from 17 not when the batch also created the type), reported with
 *   the file and line; transaction:false is the way out on every version.
 * - CREATE INDEX CONCURRENTLY runs outside the transaction everywhere;
 *   REINDEX CONCURRENTLY exists from 12 (a syntax error before).
 * - Identity columns (GENERATED ... AS IDENTITY) up and down, and the
 *   428C9 refusal whose wording changed in 14.
 * - The lock holder named from pg_locks and pg_stat_activity, over TCP
 *   and over the unix socket (no client address).
 *
 * The built binary runs as a user runs it (tu_dbmigrate); the database
 * is checked with SQL of our own (pgserver_psql).
 */
#define _GNU_SOURCE /* asprintf in test code */
#include <check.h>
#include <errno.h>
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

#include "pgserver.h"
#include "testutil.h"

/* Run dbmigrate with the given arguments (NULL added). */
#define RUN(cwd, ...) TU_RUN((cwd), NULL, __VA_ARGS__)

/* A fresh database and a migrations directory for one test. */
struct env {
	char *url;
	char *dir;   /* scratch directory, the cwd of every run */
	char *mig;   /* dir/migrations */
	int version; /* server_version_num, e.g. 150004 */
};

/* Make a database, a scratch directory and read the server's version. */
static struct env env_new(void)
{
	struct env e;
	char *v;

	e.url = pgserver_new_database();
	e.dir = tu_mkdtemp();
	ck_assert_int_ne(asprintf(&e.mig, "%s/migrations", e.dir), -1);
	ck_assert_int_eq(mkdir(e.mig, 0755), 0);
	v = pgserver_psql(e.url, "SHOW server_version_num");
	ck_assert_ptr_nonnull(v);
	e.version = atoi(v);
	free(v);
	ck_assert_int_ge(e.version, 90600);
	return e;
}

/* Remove the scratch directory and free. */
static void env_free(struct env *e)
{
	tu_rm_rf(e->dir);
	free(e->url);
	free(e->dir);
	free(e->mig);
}

/* Write a migration file. */
static void add(const struct env *e, const char *name, const char *text)
{
	free(tu_write(e->mig, name, text));
}

/* Assert that sql on url returns expected (NULL: no row or NULL). */
static void expect_sql(const char *url, const char *sql, const char *expected)
{
	tu_expect_value(sql, pgserver_psql(url, sql), expected);
}

/* The tracking rows as "id:batch,id:batch" (empty: none). */
static void expect_tracking(const char *url, const char *expected)
{
	expect_sql(url,
		   "SELECT coalesce(string_agg(id || ':' || batch, ',' "
		   "ORDER BY id), '') FROM migrations",
		   expected);
}

/* The enum type the ADD VALUE tests extend. */
static const char enum_create[] = "-- migrate:up\n"
				  "CREATE TYPE mood AS ENUM ('sad', 'ok');\n"
				  "\n"
				  "-- migrate:down\n"
				  "DROP TYPE mood;\n";

/* Adds a value; enum values cannot be removed, so no down. */
static const char enum_add[] = "-- migrate:up\n"
			       "ALTER TYPE mood ADD VALUE 'happy';\n";

/* The same, marked to run outside the batch's transaction. */
static const char enum_add_notx[] = "-- migrate:up transaction:false\n"
				    "ALTER TYPE mood ADD VALUE 'happy';\n";

/* Uses the new value: line 3 holds it. */
static const char enum_use[] = "-- migrate:up\n"
			       "CREATE TABLE feelings (m mood);\n"
			       "INSERT INTO feelings VALUES ('happy');\n"
			       "\n"
			       "-- migrate:down\n"
			       "DROP TABLE feelings;\n";

/* Where the plan marks ADD VALUE: outside the transaction before 12. */
static void expect_add_value_plan(const struct env *e, const char *out)
{
	if (e->version < 120000) {
		tu_expect_has("plan", out,
			   "002_add_happy  (outside the transaction");
		tu_expect_has("plan", out, "before PostgreSQL 12");
	} else {
		tu_expect_has("plan", out, "  002_add_happy\n");
		tu_expect_lacks("plan", out, "ADD VALUE");
	}
}

/* Assert the 55P04 failure, reported at 003_use_happy.sql line 3. */
static void expect_unsafe_enum_use(const struct tu_result *r)
{
	tu_expect_status(r, 1);
	tu_expect_has("stderr", r->err, "003_use_happy.sql:3:");
	tu_expect_has("stderr", r->err, "55P04");
	tu_expect_has("stderr", r->err, "\"happy\"");
	/* The server's hint says what to do, the driver's how. */
	tu_expect_has("stderr", r->err, "committed");
	tu_expect_has("stderr", r->err, "transaction:false");
}

/*
 * The type exists (an earlier batch); one batch adds a value and uses it.
 * Before 12 ADD VALUE runs on its own, after what came before it, so the
 * value is committed when 003 uses it. From 12 it runs in the batch and
 * the use fails: nothing of the batch remains.
 */
START_TEST(enum_add_value_then_use_in_one_batch)
{
	struct env e = env_new();
	struct tu_result r;

	add(&e, "001_create_mood.sql", enum_create);
	r = RUN(e.dir, "--url", e.url, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	add(&e, "002_add_happy.sql", enum_add);
	add(&e, "003_use_happy.sql", enum_use);

	r = RUN(e.dir, "--url", e.url, "--dry-run", "up");
	tu_expect_status(&r, 0);
	expect_add_value_plan(&e, r.out);
	tu_result_free(&r);

	r = RUN(e.dir, "--url", e.url, "up");
	if (e.version < 120000) {
		tu_expect_status(&r, 0);
		expect_tracking(e.url, "001:1,002:2,003:2");
		expect_sql(e.url, "SELECT m::text FROM feelings", "happy");
	} else {
		expect_unsafe_enum_use(&r);
		expect_tracking(e.url, "001:1");
		expect_sql(e.url,
			   "SELECT count(*) FROM pg_enum WHERE "
			   "enumlabel = 'happy'",
			   "0");
		expect_sql(e.url, "SELECT to_regclass('feelings')::text", NULL);
	}
	tu_result_free(&r);
	env_free(&e);
}
END_TEST

/*
 * transaction:false on the ADD VALUE migration is the way to use the
 * value in the same batch, on every version: it commits on its own.
 */
START_TEST(enum_add_value_outside_transaction_works_everywhere)
{
	struct env e = env_new();
	struct tu_result r;

	add(&e, "001_create_mood.sql", enum_create);
	r = RUN(e.dir, "--url", e.url, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	add(&e, "002_add_happy.sql", enum_add_notx);
	add(&e, "003_use_happy.sql", enum_use);

	r = RUN(e.dir, "--url", e.url, "--dry-run", "up");
	tu_expect_status(&r, 0);
	tu_expect_has("plan", r.out, "002_add_happy  (outside the transaction");
	tu_result_free(&r);

	r = RUN(e.dir, "--url", e.url, "up");
	tu_expect_status(&r, 0);
	expect_tracking(e.url, "001:1,002:2,003:2");
	expect_sql(e.url, "SELECT m::text FROM feelings", "happy");
	tu_result_free(&r);
	env_free(&e);
}
END_TEST

/*
 * One batch creates the type, adds a value and uses it. Before 12 the
 * ADD VALUE runs on its own after 001 committed; 12 to 16 refuse the
 * use (55P04); from 17 a value added to a type created in the same
 * transaction is usable at once, so the batch succeeds.
 */
START_TEST(enum_created_extended_and_used_in_one_batch)
{
	struct env e = env_new();
	struct tu_result r;

	add(&e, "001_create_mood.sql", enum_create);
	add(&e, "002_add_happy.sql", enum_add);
	add(&e, "003_use_happy.sql", enum_use);

	r = RUN(e.dir, "--url", e.url, "--dry-run", "up");
	tu_expect_status(&r, 0);
	expect_add_value_plan(&e, r.out);
	tu_result_free(&r);

	r = RUN(e.dir, "--url", e.url, "up");
	if (e.version >= 120000 && e.version < 170000) {
		expect_unsafe_enum_use(&r);
		expect_tracking(e.url, "");
		expect_sql(e.url, "SELECT to_regtype('mood')::text", NULL);
	} else {
		tu_expect_status(&r, 0);
		expect_tracking(e.url, "001:1,002:1,003:1");
		expect_sql(e.url, "SELECT m::text FROM feelings", "happy");
	}
	tu_result_free(&r);
	env_free(&e);
}
END_TEST

/* A table with rows, an index built and rebuilt concurrently. */
static void add_index_migrations(const struct env *e)
{
	add(e, "001_table.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE t (a integer NOT NULL);\n"
	    "INSERT INTO t SELECT generate_series(1, 1000);\n"
	    "\n"
	    "-- migrate:down\n"
	    "DROP TABLE t;\n");
	add(e, "002_index.sql",
	    "-- migrate:up\n"
	    "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n"
	    "\n"
	    "-- migrate:down\n"
	    "DROP INDEX CONCURRENTLY t_a_idx;\n");
	add(e, "003_reindex.sql",
	    "-- migrate:up\n"
	    "-- rebuild without blocking writes\n"
	    "REINDEX INDEX CONCURRENTLY t_a_idx;\n"
	    "\n"
	    "-- migrate:down\n"
	    "SELECT 1;\n");
}

/*
 * CREATE INDEX CONCURRENTLY runs outside the transaction on every
 * version and leaves a valid index; REINDEX CONCURRENTLY exists from 12.
 * Before 12 it is a syntax error reported at its line, after 001 and
 * 002 were committed and recorded (they ran before it). down drops the
 * index concurrently.
 */
START_TEST(index_concurrently)
{
	struct env e = env_new();
	struct tu_result r;

	add_index_migrations(&e);
	r = RUN(e.dir, "--url", e.url, "--dry-run", "up");
	tu_expect_status(&r, 0);
	tu_expect_has("plan", r.out, "002_index  (outside the transaction");
	tu_expect_has("plan", r.out, "003_reindex  (outside the transaction");
	tu_result_free(&r);

	r = RUN(e.dir, "--url", e.url, "up");
	expect_sql(e.url,
		   "SELECT i.indisvalid::text FROM pg_index i "
		   "WHERE i.indexrelid = to_regclass('t_a_idx')",
		   "true");
	if (e.version < 120000) {
		tu_expect_status(&r, 1);
		tu_expect_has("stderr", r.err, "003_reindex.sql:3:");
		tu_expect_has("stderr", r.err, "42601");
		expect_tracking(e.url, "001:1,002:1");
		tu_result_free(&r);
		env_free(&e);
		return;
	}
	tu_expect_status(&r, 0);
	expect_tracking(e.url, "001:1,002:1,003:1");
	tu_result_free(&r);

	r = RUN(e.dir, "--url", e.url, "down");
	tu_expect_status(&r, 0);
	tu_expect_has("plan", r.out, "002_index  (outside the transaction");
	expect_tracking(e.url, "");
	expect_sql(e.url, "SELECT to_regclass('t_a_idx')::text", NULL);
	expect_sql(e.url, "SELECT to_regclass('t')::text", NULL);
	tu_result_free(&r);
	env_free(&e);
}
END_TEST

/*
 * Identity columns in a migration and its down: GENERATED ALWAYS and BY
 * DEFAULT, the owned sequences, OVERRIDING SYSTEM VALUE, and the 428C9
 * refusal (worded "cannot insert into column" before 14, "cannot insert
 * a non-DEFAULT value into column" from 14) reported at its line.
 */
START_TEST(identity_columns)
{
	struct env e = env_new();
	struct tu_result r;

	add(&e, "001_items.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE items (\n"
	    "  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	    "  name text NOT NULL\n"
	    ");\n"
	    "INSERT INTO items (name) VALUES ('a'), ('b');\n"
	    "INSERT INTO items (id, name) OVERRIDING SYSTEM VALUE\n"
	    "  VALUES (10, 'c');\n"
	    "\n"
	    "-- migrate:down\n"
	    "DROP TABLE items;\n");
	add(&e, "002_serial.sql",
	    "-- migrate:up\n"
	    "ALTER TABLE items ADD COLUMN seq bigint\n"
	    "  GENERATED BY DEFAULT AS IDENTITY (START WITH 100);\n"
	    "ALTER TABLE items ALTER COLUMN id RESTART WITH 50;\n"
	    "INSERT INTO items (name) VALUES ('d');\n"
	    "\n"
	    "-- migrate:down\n"
	    "DELETE FROM items WHERE name = 'd';\n"
	    "ALTER TABLE items ALTER COLUMN id RESTART WITH 3;\n"
	    "ALTER TABLE items DROP COLUMN seq;\n");
	r = RUN(e.dir, "--url", e.url, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_sql(e.url,
		   "SELECT string_agg(attname || '=' || attidentity::text, ',' "
		   "ORDER BY attnum) FROM pg_attribute WHERE attrelid = "
		   "'items'::regclass AND attnum > 0 AND NOT attisdropped",
		   "id=a,name=,seq=d");
	expect_sql(e.url, "SELECT id || '/' || seq FROM items WHERE name = 'd'",
		   "50/103");
	expect_sql(e.url,
		   "SELECT count(*) FROM pg_class WHERE relkind = 'S' "
		   "AND relname LIKE 'items%'",
		   "2");

	/* A plain insert into the ALWAYS column fails at its line. */
	add(&e, "003_bad_insert.sql",
	    "-- migrate:up\n"
	    "INSERT INTO items (name) VALUES ('e');\n"
	    "INSERT INTO items (id, name) VALUES (99, 'f');\n");
	r = RUN(e.dir, "--url", e.url, "up");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "003_bad_insert.sql:3:");
	tu_expect_has("stderr", r.err, "428C9");
	tu_expect_has(
	    "stderr", r.err,
	    e.version < 140000
		? "cannot insert into column \"id\""
		: "cannot insert a non-DEFAULT value into column \"id\"");
	tu_expect_has("stderr", r.err, "OVERRIDING SYSTEM VALUE");
	tu_result_free(&r);
	expect_sql(e.url, "SELECT count(*) FROM items", "4");
	{
		char *bad;

		ck_assert_int_ne(asprintf(&bad, "%s/003_bad_insert.sql", e.mig),
				 -1);
		ck_assert_int_eq(unlink(bad), 0);
		free(bad);
	}

	r = RUN(e.dir, "--url", e.url, "down");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_tracking(e.url, "");
	expect_sql(e.url, "SELECT to_regclass('items')::text", NULL);
	expect_sql(e.url,
		   "SELECT count(*) FROM pg_class WHERE relkind = 'S' "
		   "AND relname LIKE 'items%'",
		   "0");

	/* up again: the identity starts afresh. */
	r = RUN(e.dir, "--url", e.url, "up");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_sql(e.url,
		   "SELECT string_agg(id::text, ',' ORDER BY id) "
		   "FROM items",
		   "1,2,10,50");
	env_free(&e);
}
END_TEST

/* Variables a background run must not inherit (as tu_dbmigrate). */
static const char *const scrubbed[] = {
    "DATABASE_URL",  "DB_HOST",		"DB_PORT",
    "DB_NAME",	     "DB_USER",		"DB_PASSWORD",
    "DBMIGRATE_DIR", "DBMIGRATE_TABLE", "DBMIGRATE_DRIVER",
    "PGHOST",	     "PGPORT",		"PGDATABASE",
    "PGUSER",	     "PGPASSWORD",	NULL};

/* Start dbmigrate ARGS in cwd without waiting; output to /dev/null. */
static pid_t spawn(const char *cwd, const char *const *args)
{
	const char *argv[16];
	size_t n = 0;
	pid_t pid;

	argv[n++] = tu_env("DBMIGRATE_BIN");
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd < 0 || chdir(cwd) != 0)
			_exit(126);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		for (size_t i = 0; scrubbed[i] != NULL; i++)
			unsetenv(scrubbed[i]);
		setenv("NO_COLOR", "1", 1);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return pid;
}

/* Wait up to 30 s for pid; its exit status (the test fails on a hang). */
static int reap(pid_t pid)
{
	double t0 = tu_now();
	pid_t got;
	int st;

	while ((got = waitpid(pid, &st, WNOHANG)) == 0 && tu_now() - t0 < 30)
		tu_nap(20);
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		ck_abort_msg("dbmigrate did not end within 30 s");
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The pid of the backend running the holder's pg_sleep, within 10 s. */
static char *sleeping_backend(const char *url)
{
	double t0 = tu_now();

	do {
		char *pid = pgserver_psql(
		    url, "SELECT pid FROM pg_stat_activity "
			 "WHERE datname = current_database() "
			 "AND pid <> pg_backend_pid() AND state = 'active' "
			 "AND query LIKE '%holding_the_lock%' LIMIT 1");

		if (pid != NULL)
			return pid;
		tu_nap(50);
	} while (tu_now() - t0 < 10);
	ck_abort_msg("the holder's migration never showed up in "
		     "pg_stat_activity");
	return NULL;
}

/*
 * A runner holds the lock (its migration sleeps); a second one gives up
 * after --lock-timeout and names the holder from pg_locks and
 * pg_stat_activity: every column the query reads exists on this
 * version. from_socket: the holder connects over the unix socket, so it
 * has no client address.
 */
static void lock_holder_named(int from_socket)
{
	struct env e = env_new();
	char *holder_url = NULL, *pid, want[64];
	struct tu_result r;
	pid_t bg;

	if (from_socket && pgserver_socket_dir() != NULL)
		ck_assert_int_ne(asprintf(&holder_url,
					  "postgresql:///%s?host=%s&port=%s&"
					  "user=%s",
					  pgserver_dbname(e.url),
					  pgserver_socket_dir(),
					  pgserver_port(), pgserver_user()),
				 -1);
	else
		holder_url = strdup(e.url);
	/* The holder keeps the lock until the test says so (a row in
	   release_the_lock, seen by each of its loop's new snapshots), not
	   for a fixed time a loaded machine may outlast. */
	free(pgserver_psql(e.url, "CREATE TABLE release_the_lock (done int)"));
	add(&e, "001_hold.sql",
	    "-- migrate:up\n"
	    "DO $$ BEGIN /* holding_the_lock */\n"
	    "  FOR i IN 1..1200 LOOP\n"
	    "    EXIT WHEN EXISTS (SELECT 1 FROM release_the_lock);\n"
	    "    PERFORM pg_sleep(0.05);\n"
	    "  END LOOP;\n"
	    "END $$;\n"
	    "\n"
	    "-- migrate:down\n"
	    "SELECT 1;\n");
	{
		const char *args[] = {"--url", holder_url, "up", NULL};

		bg = spawn(e.dir, args);
	}
	pid = sleeping_backend(e.url);
	r = RUN(e.dir, "--url", e.url, "--lock-timeout", "1", "up");
	tu_expect_status(&r, 5);
	snprintf(want, sizeof want, "held by PID %s (", pid);
	tu_expect_has("stderr", r.err, want);
	tu_expect_has("stderr", r.err, "application_name \"dbmigrate\"");
	tu_expect_has("stderr", r.err,
		   from_socket && pgserver_socket_dir() != NULL
		       ? "from local socket"
		       : "from 127.0.0.1");
	tu_expect_has("stderr", r.err, "connected since ");
	tu_expect_has("stderr", r.err, "active since ");
	tu_expect_lacks("stderr", r.err, "another session");
	tu_result_free(&r);
	free(pgserver_psql(e.url, "INSERT INTO release_the_lock VALUES (1)"));
	ck_assert_int_eq(reap(bg), 0);
	expect_tracking(e.url, "001:1");
	free(pid);
	free(holder_url);
	env_free(&e);
}

START_TEST(lock_holder_named_over_tcp)
{
	lock_holder_named(0);
}
END_TEST

START_TEST(lock_holder_named_over_socket)
{
	lock_holder_named(1);
}
END_TEST

/*
 * The server is the one DBMIGRATE_PG_BINDIR asked for: its major equals
 * that of `postgres --version` there (only registered when it is set).
 */
START_TEST(server_is_the_requested_major)
{
	struct env e = env_new();
	char *cmd, *want;
	char line[256] = "";
	FILE *f;
	int major = 0, minor = 0;

	ck_assert_int_ne(asprintf(&cmd, "'%s/postgres' --version",
				  getenv("DBMIGRATE_PG_BINDIR")),
			 -1);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	pclose(f);
	ck_assert_msg(
	    sscanf(line, "postgres (PostgreSQL) %d.%d", &major, &minor) == 2,
	    "unexpected postgres --version: %s", line);
	/* 10 and later: MMmmmm, e.g. 130023 for 13.23. */
	ck_assert_int_ge(major, 10);
	ck_assert_int_eq(e.version, major * 10000 + minor);
	ck_assert_int_ne(asprintf(&want, "%d.%d", major, minor), -1);
	expect_sql(e.url, "SHOW server_version", want);
	free(want);
	free(cmd);
	env_free(&e);
}
END_TEST

/* The version-dependent tests, one TCase. */
static Suite *versions_suite(void)
{
	Suite *s = suite_create("postgres versions");
	TCase *tc = tcase_create("versions");
	const char *bindir = getenv("DBMIGRATE_PG_BINDIR");

	tcase_set_timeout(tc, 60);
	if (bindir != NULL && *bindir != '\0')
		tcase_add_test(tc, server_is_the_requested_major);
	tcase_add_test(tc, enum_add_value_then_use_in_one_batch);
	tcase_add_test(tc, enum_add_value_outside_transaction_works_everywhere);
	tcase_add_test(tc, enum_created_extended_and_used_in_one_batch);
	tcase_add_test(tc, index_concurrently);
	tcase_add_test(tc, identity_columns);
	tcase_add_test(tc, lock_holder_named_over_tcp);
	tcase_add_test(tc, lock_holder_named_over_socket);
	suite_add_tcase(s, tc);
	return s;
}

/* Start the server, say which it is, run the suite. */
int main(void)
{
	char *url, *version;

	/* Started here (pgserver_run_suite() starts it once) to say which
	   server the suite runs on. */
	pgserver_start();
	url = pgserver_new_database();
	version = pgserver_psql(url, "SELECT version()");
	fprintf(stderr, "check_pg_versions: %s\n",
		version != NULL ? version : "(unknown server)");
	free(version);
	free(url);
	return pgserver_run_suite(versions_suite());
}
