/*
 * check_verify.c - `dbmigrate verify` against a real PostgreSQL server,
 * and its core logic over the mock driver.
 *
 * PostgreSQL: the demo migrations verify clean; a down that forgets a
 * column or an index is caught, naming the migration and showing the
 * object; an up that does something else the second time (through a
 * role, which no database snapshot sees) is caught; the user's database
 * is never touched and the scratch database is gone afterwards; a given
 * scratch database is refused unless empty, and left empty; a user
 * without CREATEDB is told what to do. Mock: the same verdicts through
 * the library API, and a migration without a down section.
 *
 * One server runs for the whole program (pgserver.h); every test gets
 * a fresh database as the "real" one.
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbmigrate.h"
#include "pgserver.h"
#include "testutil.h"

/* Run dbmigrate in cwd with extra env and the given arguments. */
#define RUN(cwd, env, ...) TU_RUN((cwd), (env), __VA_ARGS__)

/* Fail unless haystack contains needle. */
static void expect_in(const char *haystack, const char *needle)
{
	ck_assert_msg(strstr(haystack, needle) != NULL,
		      "\"%s\" not found in:\n%s", needle, haystack);
}

/* The value of sql on url, as text ("" for NULL or no row). */
static char *query(const char *url, const char *sql)
{
	char *v = pgserver_psql(url, sql);

	return v != NULL ? v : strdup("");
}

/* Fail unless sql gives expected on url. */
static void expect_sql(const char *url, const char *sql, const char *expected)
{
	char *v = query(url, sql);

	ck_assert_msg(strcmp(v, expected) == 0, "%s\ngave \"%s\", expected \"%s\"",
		      sql, v, expected);
	free(v);
}

/* The database at url holds no table, view, sequence... at all: verify
   never ran anything there. */
static void expect_untouched(const char *url)
{
	expect_sql(url,
		   "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
		   "n.oid = c.relnamespace WHERE n.nspname NOT IN "
		   "('pg_catalog', 'information_schema', 'pg_toast')",
		   "0");
	expect_sql(url, "SELECT to_regclass('migrations') IS NULL", "t");
}

/* No scratch database of verify is left on the server. */
static void expect_no_scratch(const char *url)
{
	expect_sql(url,
		   "SELECT count(*) FROM pg_database WHERE datname LIKE "
		   "'dbmigrate!_verify!_%' ESCAPE '!'",
		   "0");
}

/* "DATABASE_URL=url" for a run's environment (to free). */
static char *env_url(const char *url)
{
	char *s;

	ck_assert_int_ge(asprintf(&s, "DATABASE_URL=%s", url), 0);
	return s;
}

/* The seed's demo migrations, in the source tree. */
static char *demo_dir(void)
{
	char *s;

	ck_assert_int_ge(asprintf(&s, "%s/migrations", tu_env("DBMIGRATE_SRCDIR")), 0);
	return s;
}

/* A migrations directory: a users table, 002_add_email (up002 and
   down002), and a posts table after it. */
static char *broken_dir(const char *up002, const char *down002)
{
	char *dir = tu_mkdtemp();
	char *body;

	free(tu_write(dir, "001_create_users.sql",
		      "-- migrate:up\nCREATE TABLE users (id serial PRIMARY KEY);\n"
		      "-- migrate:down\nDROP TABLE users;\n"));
	ck_assert_int_ge(asprintf(&body,
				  "-- migrate:up\n%s\n-- migrate:down\n%s\n",
				  up002, down002),
			 0);
	free(tu_write(dir, "002_add_email.sql", body));
	free(tu_write(dir, "003_create_posts.sql",
		      "-- migrate:up\nCREATE TABLE posts (id int REFERENCES users);\n"
		      "-- migrate:down\nDROP TABLE posts;\n"));
	free(body);
	return dir;
}

START_TEST(pg_demo_verifies_clean)
{
	char *url = pgserver_new_database();
	char *env0 = env_url(url), *dir = demo_dir();
	const char *env[] = { env0, NULL };
	struct tu_result r = RUN(NULL, env, "verify", "-d", dir);

	tu_expect_status(&r, 0);
	expect_in(r.out, "up       001_create_users_table ... ok");
	expect_in(r.out, "up       003_add_email_index_to_users ... ok");
	expect_in(r.out, "outside a transaction");
	expect_in(r.out, "down     003_add_email_index_to_users ... ok");
	expect_in(r.out, "down     001_create_users_table ... ok");
	expect_in(r.out, "up again 003_add_email_index_to_users ... ok");
	expect_in(r.out, "3 migrations verified");
	tu_result_free(&r);
	expect_untouched(url);
	expect_no_scratch(url);
	free(dir); /* the source tree's: never removed */
	free(env0);
	free(url);
}
END_TEST

START_TEST(pg_down_forgetting_a_column)
{
	char *url = pgserver_new_database();
	char *env0 = env_url(url);
	char *dir = broken_dir("ALTER TABLE users ADD COLUMN email text;\n"
			       "CREATE INDEX users_email_idx ON users (email);",
			       "DROP INDEX users_email_idx;");
	const char *env[] = { env0, NULL };
	struct tu_result r = RUN(NULL, env, "verify", "-d", dir);

	tu_expect_status(&r, 1);
	expect_in(r.err, "verify: 002_add_email: down does not reverse up");
	expect_in(r.err, "+ column public.users.email text");
	/* The index went; only the column is left. */
	ck_assert_ptr_null(strstr(r.err, "users_email_idx"));
	expect_in(r.out, "down     003_create_posts ... ok");
	expect_in(r.out, "down     002_add_email ... FAILED");
	tu_result_free(&r);
	expect_untouched(url);
	expect_no_scratch(url);
	tu_rm_rf(dir);
	free(dir);
	free(env0);
	free(url);
}
END_TEST

START_TEST(pg_down_forgetting_an_index)
{
	char *url = pgserver_new_database();
	char *env0 = env_url(url);
	char *dir = broken_dir("CREATE INDEX users_id_idx ON users (id);",
			       "SELECT 1;");
	const char *env[] = { env0, NULL };
	struct tu_result r = RUN(NULL, env, "verify", "-d", dir);

	tu_expect_status(&r, 1);
	expect_in(r.err, "002_add_email: down does not reverse up");
	expect_in(r.err, "+ index public.users_id_idx on public.users USING btree (id)");
	tu_result_free(&r);
	expect_untouched(url);
	expect_no_scratch(url);
	tu_rm_rf(dir);
	free(dir);
	free(env0);
	free(url);
}
END_TEST

START_TEST(pg_second_up_differs)
{
	char *url = pgserver_new_database();
	char *env0 = env_url(url);
	char *root = tu_mkdtemp(), *body;
	const char *env[] = { env0, NULL };
	struct tu_result r;

	/* A role outlives the scratch database's schema: the up's second
	   run takes the other branch. */
	ck_assert_int_ge(asprintf(&body,
				  "-- migrate:up\n"
				  "DO $$ BEGIN\n"
				  "  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'verify_mark_%ld') THEN\n"
				  "    CREATE TABLE second ();\n"
				  "  ELSE\n"
				  "    CREATE ROLE verify_mark_%ld;\n"
				  "    CREATE TABLE first ();\n"
				  "  END IF;\n"
				  "END $$;\n"
				  "-- migrate:down\n"
				  "DROP TABLE IF EXISTS first;\nDROP TABLE IF EXISTS second;\n",
				  (long)getpid(), (long)getpid()),
			 0);
	free(tu_write(root, "001_sneaky.sql", body));
	r = RUN(NULL, env, "verify", "-d", root);
	tu_expect_status(&r, 1);
	expect_in(r.err, "001_sneaky: up applied again after its down gives a different schema");
	expect_in(r.err, "- table public.first");
	expect_in(r.err, "+ table public.second");
	tu_result_free(&r);
	expect_untouched(url);
	expect_no_scratch(url);
	free(body);
	tu_rm_rf(root);
	free(root);
	free(env0);
	free(url);
}
END_TEST

START_TEST(pg_given_scratch_must_be_empty)
{
	char *real = pgserver_new_database();
	char *scratch = pgserver_new_database();
	char *env0 = env_url(real), *dir = demo_dir();
	const char *env[] = { env0, NULL };
	struct tu_result r;

	free(pgserver_psql(scratch, "CREATE TABLE precious (x int); "
				    "INSERT INTO precious VALUES (42)"));
	r = RUN(NULL, env, "verify", "-d", dir, "--url", scratch);
	tu_expect_status(&r, 2);
	expect_in(r.err, "is not empty");
	expect_in(r.err, "table public.precious");
	tu_result_free(&r);
	expect_sql(scratch, "SELECT string_agg(x::text, ',') FROM precious", "42");
	expect_sql(scratch, "SELECT to_regclass('migrations') IS NULL", "t");

	/* A tracking table alone is enough to refuse. */
	free(pgserver_psql(scratch, "DROP TABLE precious; "
				    "CREATE TABLE migrations (id text)"));
	r = RUN(NULL, env, "verify", "-d", dir, "--url", scratch);
	tu_expect_status(&r, 2);
	expect_in(r.err, "tracking table");
	tu_result_free(&r);

	expect_untouched(real);
	expect_no_scratch(real);
	free(dir);
	free(env0);
	free(scratch);
	free(real);
}
END_TEST

START_TEST(pg_given_empty_scratch_is_used_and_emptied)
{
	char *scratch = pgserver_new_database();
	char *dir = demo_dir();
	struct tu_result r;

	/* No DATABASE_URL at all: --url names the scratch database. */
	r = RUN(NULL, NULL, "verify", "-d", dir, "--url", scratch);
	tu_expect_status(&r, 0);
	expect_in(r.out, "given scratch database");
	expect_in(r.out, "3 migrations verified");
	tu_result_free(&r);
	expect_untouched(scratch);
	expect_no_scratch(scratch);
	/* So it can serve again. */
	r = RUN(NULL, NULL, "verify", "-d", dir, "--url", scratch);
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	free(dir);
	free(scratch);
}
END_TEST

START_TEST(pg_without_createdb)
{
	char *url = pgserver_new_database();
	char *role, *sql, *limited, *env0, *dir = demo_dir();
	const char *env[2];
	struct tu_result r;

	ck_assert_int_ge(asprintf(&role, "verify_user_%ld", (long)getpid()), 0);
	ck_assert_int_ge(asprintf(&sql, "CREATE ROLE %s LOGIN PASSWORD 'pw' NOCREATEDB",
				  role), 0);
	free(pgserver_psql(url, sql));
	ck_assert_int_ge(asprintf(&limited, "postgres://%s:pw@%s:%s/%s", role,
				  pgserver_host(), pgserver_port(),
				  pgserver_dbname(url)), 0);
	env0 = env_url(limited);
	env[0] = env0;
	env[1] = NULL;
	r = RUN(NULL, env, "verify", "-d", dir);
	ck_assert_int_ne(r.status, 0);
	expect_in(r.err, "CREATEDB");
	expect_in(r.err, "--url SCRATCH_URL");
	ck_assert_ptr_null(strstr(r.err, ":pw@"));
	tu_result_free(&r);
	expect_untouched(url);
	expect_no_scratch(url);
	free(sql);
	free(role);
	free(limited);
	free(env0);
	free(dir);
	free(url);
}
END_TEST

/* A library handle on the mock driver over directory dir. */
static dbmigrate *mock_handle(const char *dir)
{
	return tu_migrator("mock:", dir);
}

/* Events as "START 001 down|up, DONE ..." words, for the order. */
static void record_event(const dbmigrate_event *ev, void *ctx)
{
	char *log = ctx;
	size_t n = strlen(log);

	if (ev->kind != DBMIGRATE_EVENT_START && ev->kind != DBMIGRATE_EVENT_DONE)
		return;
	snprintf(log + n, 4096 - n, "%s%s %s %s", n > 0 ? ", " : "",
		 ev->kind == DBMIGRATE_EVENT_START ? "START" : "DONE", ev->entry->id,
		 ev->down ? "down" : "up");
}

START_TEST(mock_verdicts)
{
	char *dir = tu_mkdtemp();
	char log[4096] = "";
	dbmigrate_verify_result *res = NULL;
	dbmigrate *m;

	free(tu_write(dir, "001_a.sql",
		      "-- migrate:up\nCREATE TABLE a (id int);\n"
		      "-- migrate:down\nDROP TABLE a;\n"));
	free(tu_write(dir, "002_b.sql",
		      "-- migrate:up\nCREATE TABLE b (id int);\nCREATE SEQUENCE b_seq;\n"
		      "-- migrate:down\nDROP TABLE b;\n"));
	m = mock_handle(dir);
	dbmigrate_on_event(m, record_event, log);
	ck_assert_int_eq(dbmigrate_verify(m, NULL, &res), DBMIGRATE_EMIGRATION);
	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(res->migration, "002_b");
	ck_assert_str_eq(res->diff, "+ sequence b_seq\n");
	ck_assert_uint_eq(res->total, 2);
	ck_assert_uint_eq(res->verified, 0);
	ck_assert_str_eq(dbmigrate_last_error(m)->migration, "002_b");
	ck_assert_str_eq(log, "START 001 up, DONE 001 up, START 002 up, DONE 002 up, "
			      "START 002 down");
	dbmigrate_verify_free(res);
	dbmigrate_close(m);

	/* Fixed, it verifies; each step is DONE only once checked. */
	free(tu_write(dir, "002_b.sql",
		      "-- migrate:up\nCREATE TABLE b (id int);\nCREATE SEQUENCE b_seq;\n"
		      "-- migrate:down\nDROP SEQUENCE b_seq;\nDROP TABLE b;\n"));
	m = mock_handle(dir);
	log[0] = '\0';
	dbmigrate_on_event(m, record_event, log);
	ck_assert_int_eq(dbmigrate_verify(m, NULL, &res), DBMIGRATE_OK);
	ck_assert_ptr_null(res->migration);
	ck_assert_ptr_null(res->diff);
	ck_assert_uint_eq(res->verified, 2);
	ck_assert_str_eq(log, "START 001 up, DONE 001 up, START 002 up, DONE 002 up, "
			      "START 002 down, DONE 002 down, START 001 down, DONE 001 down, "
			      "START 001 up, DONE 001 up, START 002 up, DONE 002 up");
	dbmigrate_verify_free(res);
	dbmigrate_close(m);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(mock_without_down_and_file_state)
{
	char *dir = tu_mkdtemp();
	char *state, *url;
	dbmigrate_verify_result *res = NULL;
	dbmigrate *m;

	free(tu_write(dir, "001_a.sql",
		      "-- migrate:up\nCREATE TABLE a (id int);\n"
		      "-- migrate:down\nDROP TABLE a;\n"));
	free(tu_write(dir, "002_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n"));
	free(tu_write(dir, "003_c.sql",
		      "-- migrate:up\nCREATE TABLE c (id int);\n"
		      "-- migrate:down\nDROP TABLE c;\n"));
	/* The real database is a state file: it must stay as it is. */
	ck_assert_int_ge(asprintf(&state, "%s/state.db", dir), 0);
	ck_assert_int_ge(asprintf(&url, "mock:%s", state), 0);
	m = tu_migrator(url, dir);
	ck_assert_int_eq(dbmigrate_verify(m, NULL, &res), DBMIGRATE_OK);
	ck_assert_str_eq(res->unverifiable, "002_b");
	ck_assert_uint_eq(res->verified, 1);
	ck_assert_uint_eq(res->total, 3);
	dbmigrate_verify_free(res);
	dbmigrate_close(m);
	ck_assert_msg(!tu_exists(state), "verify wrote the real database's state file");
	tu_rm_rf(dir);
	free(url);
	free(state);
	free(dir);
}
END_TEST

/* The suite. */
static Suite *verify_suite(void)
{
	const TTest *const postgres[] = {
		pg_demo_verifies_clean, pg_down_forgetting_a_column,
		pg_down_forgetting_an_index, pg_second_up_differs,
		pg_given_scratch_must_be_empty,
		pg_given_empty_scratch_is_used_and_emptied, pg_without_createdb,
		NULL
	};
	const TTest *const mock[] = {
		mock_verdicts, mock_without_down_and_file_state, NULL
	};
	Suite *s = suite_create("verify");

	tu_tcase(s, "postgres", 120, postgres);
	tu_tcase(s, "mock", 0, mock);
	return s;
}

int main(void)
{
	(void)tu_env("DBMIGRATE_BIN");
	return pgserver_run_suite(verify_suite());
}
