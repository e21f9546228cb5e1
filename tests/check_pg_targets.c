/*
 * check_pg_targets.c - many targets in one run on a real PostgreSQL
 * server: 50 schemas of one database and 5 databases, one of them
 * broken, through `up`, `status` and `down --targets FILE`; each
 * schema's migrations and tracking table inside it; applied counts,
 * exit codes and the JSON document (read with tjson); a second run
 * carrying on; a database that does not exist (exit 4, password never
 * shown); a schema that does not exist; `--schema` for one database;
 * and Ctrl-C stopping every target: each statement cancelled on the
 * server, each batch rolled back, nothing recorded, exit 130.
 *
 * One server for the whole program (pgserver.h); every test makes its
 * own databases.
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
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
#include "tjson.h"

#define RUN TU_RUN

/* The schemas of the shared database, and the databases of their own. */
#define NSCHEMAS 50
#define NDBS 5
#define BROKEN 3 /* the database (index) that already has a table b */

/* Three migrations with unqualified names: a, b, a row in a. */
static struct tu_project project_new(void)
{
	struct tu_project p = tu_project_new(NULL);

	tu_add(&p, "001_a.sql",
	       "-- migrate:up\nCREATE TABLE a (id int);\n"
	       "-- migrate:down\nDROP TABLE a;\n");
	tu_add(&p, "002_b.sql",
	       "-- migrate:up\nCREATE TABLE b (id int);\n"
	       "-- migrate:down\nDROP TABLE b;\n");
	tu_add(&p, "003_row.sql",
	       "-- migrate:up\nINSERT INTO a VALUES (1);\n"
	       "-- migrate:down\nDELETE FROM a;\n");
	return p;
}

/* Assert that sql on url returns expected (NULL: no row or NULL). */
static void expect_sql(const char *url, const char *sql, const char *expected)
{
	tu_expect_value(sql, pgserver_psql(url, sql), expected);
}

/* Rows of the tracking table qualified (e.g. "tenant_1.migrations"),
   -1 when there is no such table. */
static int tracking_rows(const char *url, const char *qualified)
{
	char *sql, *got;
	int n = -1;

	ck_assert_int_ne(asprintf(&sql, "SELECT to_regclass('%s') IS NOT NULL",
				  qualified), -1);
	got = pgserver_psql(url, sql);
	free(sql);
	if (got != NULL && strcmp(got, "t") == 0) {
		free(got);
		ck_assert_int_ne(asprintf(&sql, "SELECT count(*) FROM %s",
					  qualified), -1);
		got = pgserver_psql(url, sql);
		free(sql);
		n = atoi(got);
	}
	free(got);
	return n;
}

/* The JSON path "targets.I.KEY". */
static const char *at(char *buf, size_t n, size_t i, const char *key)
{
	snprintf(buf, n, "targets.%zu.%s", i, key);
	return buf;
}

/* Parse a run's stdout as JSON; fails the test when it is not. */
static struct tjson *json_of(const struct tu_result *r)
{
	const char *why = NULL;
	size_t off = 0;
	struct tjson *j = tjson_parse(r->out, &why, &off);

	ck_assert_msg(j != NULL, "not JSON (%s at %zu):\n%.2000s", why, off,
		      r->out);
	return j;
}

/* The targets file: 50 schemas of shared, then the databases. */
static void write_targets(const struct tu_project *p, const char *shared,
			  char *const *dbs)
{
	size_t cap = 64 * 1024, len = 0;
	char *text = malloc(cap);

	ck_assert_ptr_nonnull(text);
	len += (size_t)snprintf(text + len, cap - len,
				"# every tenant schema of the shared database\n");
	for (int i = 1; i <= NSCHEMAS; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"%s schema=tenant_%d\n", shared, i);
	len += (size_t)snprintf(text + len, cap - len,
				"\n# tenants with a database of their own\n");
	for (int i = 0; i < NDBS; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s   # db %d\n",
					dbs[i], i);
	free(tu_write(p->root, "targets.txt", text));
	free(text);
}

START_TEST(schemas_and_databases_one_broken)
{
	struct tu_project p = project_new();
	char *shared = pgserver_new_database();
	char *dbs[NDBS];
	char key[128], *sql;
	struct tu_result r;
	struct tjson *j;
	size_t len = 0;

	sql = malloc(NSCHEMAS * 64);
	ck_assert_ptr_nonnull(sql);
	for (int i = 1; i <= NSCHEMAS; i++)
		len += (size_t)sprintf(sql + len, "CREATE SCHEMA tenant_%d;", i);
	free(pgserver_psql(shared, sql));
	free(sql);
	for (int i = 0; i < NDBS; i++)
		dbs[i] = pgserver_new_database();
	free(pgserver_psql(dbs[BROKEN], "CREATE TABLE b (x int)"));
	write_targets(&p, shared, dbs);

	r = RUN(p.root, NULL, "up", "--targets", "targets.txt", "--format",
		"json", "--parallel", "4");
	tu_expect_status(&r, 1);
	tu_expect_lacks("stdout", r.out, pgserver_password());
	tu_expect_lacks("stderr", r.err, pgserver_password());
	j = json_of(&r);
	ck_assert_str_eq(tjson_str(j, "command"), "up");
	ck_assert_uint_eq(tjson_len(j, "targets"), NSCHEMAS + NDBS);
	for (size_t i = 0; i < NSCHEMAS + NDBS; i++) {
		bool broken = i == NSCHEMAS + BROKEN;

		ck_assert_str_eq(tjson_str(j, at(key, sizeof key, i, "state")),
				 broken ? "failed" : "ok");
		ck_assert_msg(tjson_num(j, at(key, sizeof key, i, "applied")) ==
				      (broken ? 0 : 3),
			      "target %zu applied %g", i,
			      tjson_num(j, at(key, sizeof key, i, "applied")));
		ck_assert(tjson_num(j, at(key, sizeof key, i, "exit")) ==
			  (broken ? 1 : 0));
		ck_assert_ptr_nonnull(strstr(
		    tjson_str(j, at(key, sizeof key, i, "target")), "********"));
	}
	ck_assert_str_eq(tjson_str(j, "targets.6.schema"), "tenant_7");
	ck_assert_int_eq(tjson_path(j, "targets.50.schema")->type, TJSON_NULL);
	ck_assert(tjson_num(j, "targets.6.line") == 8);
	ck_assert_str_eq(tjson_str(j, "targets.53.failed"), "002_b");
	ck_assert_str_eq(tjson_str(j, "targets.53.error.sqlstate"), "42P07");
	ck_assert(tjson_num(j, "applied") == 3 * (NSCHEMAS + NDBS - 1));
	ck_assert(tjson_num(j, "ok") == NSCHEMAS + NDBS - 1);
	ck_assert(tjson_num(j, "failed") == 1);
	ck_assert(tjson_num(j, "exit") == 1);
	tjson_free(j);
	tu_expect_has("stderr", r.err, "(line 57) failed");
	tu_expect_has("stderr", r.err, "002_b.sql:2");
	tu_result_free(&r);

	/* Each schema holds its tables and its own tracking table. */
	ck_assert_int_eq(tracking_rows(shared, "tenant_7.migrations"), 3);
	ck_assert_int_eq(tracking_rows(shared, "tenant_50.migrations"), 3);
	expect_sql(shared, "SELECT count(*) FROM tenant_7.a", "1");
	expect_sql(shared, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'",
		   "50");
	ck_assert_int_eq(tracking_rows(shared, "public.migrations"), -1);
	expect_sql(shared, "SELECT to_regclass('public.a') IS NULL", "t");
	ck_assert_int_eq(tracking_rows(dbs[0], "public.migrations"), 3);
	/* The broken one's batch rolled back whole. */
	ck_assert_int_le(tracking_rows(dbs[BROKEN], "public.migrations"), 0);
	expect_sql(dbs[BROKEN], "SELECT to_regclass('public.a') IS NULL", "t");

	/* Fixed; the second run carries on where the first stopped. */
	free(pgserver_psql(dbs[BROKEN], "DROP TABLE b"));
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt", "--format", "json");
	tu_expect_status(&r, 0);
	j = json_of(&r);
	ck_assert(tjson_num(j, "applied") == 3);
	ck_assert(tjson_num(j, "targets.53.applied") == 3);
	ck_assert(tjson_num(j, "targets.0.applied") == 0);
	ck_assert(tjson_num(j, "failed") == 0);
	tjson_free(j);
	tu_result_free(&r);

	/* status over every target, in text and JSON. */
	r = RUN(p.root, NULL, "status", "--targets", "targets.txt", "--format", "json");
	tu_expect_status(&r, 0);
	j = json_of(&r);
	ck_assert_str_eq(tjson_str(j, "command"), "status");
	for (size_t i = 0; i < NSCHEMAS + NDBS; i++) {
		ck_assert(tjson_num(j, at(key, sizeof key, i, "executed")) == 3);
		ck_assert(tjson_num(j, at(key, sizeof key, i, "pending")) == 0);
	}
	ck_assert(tjson_num(j, "executed") == 3 * (NSCHEMAS + NDBS));
	tjson_free(j);
	tu_result_free(&r);
	r = RUN(p.root, NULL, "status", "--targets", "targets.txt");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "EXECUTED  PENDING  PROBLEMS");
	tu_expect_has("stdout", r.out, "schema=tenant_42");
	tu_expect_has("stdout", r.out, "Targets: 55 | OK: 55 | Failed: 0 | Executed: 165");
	tu_expect_lacks("stdout", r.out, pgserver_password());
	tu_result_free(&r);

	/* down: the newest batch of each, in its schema. */
	r = RUN(p.root, NULL, "down", "--targets", "targets.txt", "--parallel", "8");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Rolled back: 165 migrations");
	tu_result_free(&r);
	ck_assert_int_eq(tracking_rows(shared, "tenant_7.migrations"), 0);
	expect_sql(shared, "SELECT count(*) FROM pg_tables WHERE tablename = 'a'",
		   "0");
	ck_assert_int_eq(tracking_rows(dbs[BROKEN], "public.migrations"), 0);

	for (int i = 0; i < NDBS; i++)
		free(dbs[i]);
	free(shared);
	tu_project_free(&p);
}
END_TEST

/* A database that does not exist: exit 4, the others run, no password. */
START_TEST(missing_database_alone_exits_4)
{
	struct tu_project p = project_new();
	char *good = pgserver_new_database();
	char *text;
	struct tu_result r;

	ck_assert_int_ne(asprintf(&text, "%s\npostgres://%s:%s@%s:%s/no_such_db_xyz\n",
				  good, pgserver_user(), pgserver_password(),
				  pgserver_host(), pgserver_port()), -1);
	free(tu_write(p.root, "targets.txt", text));
	free(text);
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt");
	tu_expect_status(&r, 4);
	tu_expect_has("stdout", r.out, "no_such_db_xyz");
	tu_expect_has("stdout", r.out, "cannot connect");
	tu_expect_has("stdout", r.out, "Targets: 2 | OK: 1 | Failed: 1");
	tu_expect_has("stderr", r.err, "no_such_db_xyz");
	tu_expect_lacks("stdout", r.out, pgserver_password());
	tu_expect_lacks("stderr", r.err, pgserver_password());
	tu_result_free(&r);
	ck_assert_int_eq(tracking_rows(good, "public.migrations"), 3);
	free(good);
	tu_project_free(&p);
}
END_TEST

/* A schema that does not exist fails that target clearly. */
START_TEST(missing_schema_and_single_schema_flag)
{
	struct tu_project p = project_new();
	char *db = pgserver_new_database();
	char *text;
	struct tu_result r;

	free(pgserver_psql(db, "CREATE SCHEMA tenant_a"));
	ck_assert_int_ne(asprintf(&text, "%s schema=tenant_a\n%s schema=tenant_nosuch\n",
				  db, db), -1);
	free(tu_write(p.root, "targets.txt", text));
	free(text);
	r = RUN(p.root, NULL, "up", "--targets", "targets.txt");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "tenant_nosuch");
	tu_expect_has("stderr", r.err, "CREATE SCHEMA");
	tu_result_free(&r);
	ck_assert_int_eq(tracking_rows(db, "tenant_a.migrations"), 3);
	expect_sql(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_nosuch'",
		   "0");

	/* One database, one schema: --schema, and the table inside it. */
	free(pgserver_psql(db, "CREATE SCHEMA tenant_b"));
	r = RUN(p.root, NULL, "up", "--url", db, "--schema", "tenant_b");
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	ck_assert_int_eq(tracking_rows(db, "tenant_b.migrations"), 3);
	expect_sql(db, "SELECT count(*) FROM tenant_b.a", "1");
	r = RUN(p.root, NULL, "status", "--url", db, "--schema", "tenant_b",
		"--format", "json");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "\"executed\": 3");
	tu_result_free(&r);
	/* verify's scratch database has no such schema: refused, clearly. */
	{
		const char *env[] = { NULL, NULL };
		char *var;

		ck_assert_int_ne(asprintf(&var, "DATABASE_URL=%s", db), -1);
		env[0] = var;
		r = RUN(p.root, env, "verify", "--schema", "tenant_b");
		tu_expect_status(&r, 2);
		tu_expect_has("stderr", r.err, "verify does not take a schema");
		tu_result_free(&r);
		free(var);
	}
	/* A qualified table and a schema contradict each other. */
	r = RUN(p.root, NULL, "up", "--url", db, "--schema", "tenant_b",
		"--table", "other.migrations");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "names a schema");
	tu_result_free(&r);
	free(db);
	tu_project_free(&p);
}
END_TEST

/* --- Ctrl-C --- */

/* How many sessions of the server run pg_sleep now (other than ours). */
static int sleeping(const char *url)
{
	char *n = pgserver_psql(url,
				"SELECT count(*) FROM pg_stat_activity WHERE "
				"pid <> pg_backend_pid() AND state = 'active' "
				"AND query LIKE '%pg_sleep%'");
	int v = n != NULL ? atoi(n) : 0;

	free(n);
	return v;
}

/*
 * Four targets, two at a time, each batch sleeping 30 s on the server:
 * signal sig once two sleep, and check the exit status expected, every
 * statement gone from the server, nothing recorded, the summary, and
 * that a run without the slow migration then applies everything.
 */
static void interrupt_targets(int sig, int expected)
{
	struct tu_project p = project_new();
	char *dbs[4], *text = NULL, *out, *err;
	double t0;
	int status;

	tu_add(&p, "004_slow.sql",
	       "-- migrate:up\nCREATE TABLE slow (id int);\n"
	       "SELECT pg_sleep(30);\n-- migrate:down\nDROP TABLE slow;\n");
	for (int i = 0; i < 4; i++) {
		char *t;

		dbs[i] = pgserver_new_database();
		ck_assert_int_ne(asprintf(&t, "%s%s\n", text != NULL ? text : "",
					  dbs[i]), -1);
		free(text);
		text = t;
	}
	free(tu_write(p.root, "targets.txt", text));
	free(text);
	struct tu_bg bg = tu_start(p.root, (const char *const[]){
		"up", "--targets", "targets.txt", "--parallel", "2", NULL });
	t0 = tu_now();
	while (sleeping(dbs[0]) < 2 && tu_now() - t0 < 20)
		tu_nap(50);
	ck_assert_msg(sleeping(dbs[0]) == 2, "two targets never reached pg_sleep");
	tu_nap(200);
	t0 = tu_now();
	ck_assert_int_eq(kill(bg.pid, sig), 0);
	status = tu_wait(&bg, 15);
	out = tu_read(bg.out);
	err = tu_read(bg.err);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	tu_bg_free(&bg);
	ck_assert_msg(status == expected, "exit %d, expected %d:\n%s\n%s",
		      status, expected, out, err);
	ck_assert_msg(tu_now() - t0 < 5.0, "took %.1f s to stop", tu_now() - t0);
	/* Every statement was cancelled on the server, not left running. */
	t0 = tu_now();
	while (sleeping(dbs[0]) > 0 && tu_now() - t0 < 3.0)
		tu_nap(50);
	ck_assert_int_eq(sleeping(dbs[0]), 0);
	tu_expect_has("stdout", out, "Interrupted: 2");
	tu_expect_has("stdout", out, "Not started: 2");
	tu_expect_has("stderr", err, "Interrupted: stopping every target");
	free(out);
	free(err);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_le(tracking_rows(dbs[i], "public.migrations"), 0);
		expect_sql(dbs[i], "SELECT to_regclass('public.a') IS NULL", "t");
	}

	/* The locks are free: without the slow one, every target runs. */
	{
		char *path;
		struct tu_result r;

		ck_assert_int_ne(asprintf(&path, "%s/004_slow.sql", p.dir), -1);
		ck_assert_int_eq(unlink(path), 0);
		free(path);
		r = RUN(p.root, NULL, "up", "--targets", "targets.txt",
			"--lock-timeout", "2");
		tu_expect_status(&r, 0);
		tu_expect_has("stdout", r.out, "Applied: 12 migrations");
		tu_result_free(&r);
	}
	for (int i = 0; i < 4; i++)
		free(dbs[i]);
	tu_project_free(&p);
}

START_TEST(ctrl_c_stops_every_target)
{
	interrupt_targets(SIGINT, 130);
}
END_TEST

START_TEST(sigterm_stops_every_target)
{
	interrupt_targets(SIGTERM, 143);
}
END_TEST

static Suite *pg_targets_suite(void)
{
	const TTest *const targets[] = {
		schemas_and_databases_one_broken,
		missing_database_alone_exits_4,
		missing_schema_and_single_schema_flag,
		ctrl_c_stops_every_target, sigterm_stops_every_target, NULL
	};

	Suite *s = suite_create("pg_targets");

	tu_tcase(s, "targets", 240, targets);
	return s;
}

int main(void)
{
	int status;

	(void)tu_env("DBMIGRATE_BIN");
	pgserver_start();
	status = tu_run_suite(pg_targets_suite());
	pgserver_stop();
	return status;
}
