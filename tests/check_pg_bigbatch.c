/*
 * check_pg_bigbatch.c - a batch too big for one transaction, on a real
 * server (issue 9).
 *
 * Every table, index and sequence a migration creates stays locked until
 * the batch commits, and a server's lock table holds about
 * max_locks_per_transaction x (max_connections + ...) locks: 2,500 tiny
 * migrations with a serial primary key (three locks each) need far more
 * than the test server's (64 x 40 + a few). The batch fails with SQLSTATE
 * 53200 "out of shared memory"; dbmigrate must say why and how out
 * (`--step N`, or max_locks_per_transaction), warn in the plan before it
 * starts, record nothing - and `up --step 1000` must then get through.
 *
 * Its own program, outside the version matrix: a minute of server work
 * that behaves the same on every major.
 */
#define _GNU_SOURCE /* asprintf in test code */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pgserver.h"
#include "testutil.h"

#define MIGRATIONS 2500

/* The count of rows the query returns, as text. */
static int count(const char *url, const char *sql)
{
	char *v = pgserver_psql(url, sql);
	int n;

	ck_assert_ptr_nonnull(v);
	n = atoi(v);
	free(v);
	return n;
}

START_TEST(too_many_locks_for_one_transaction)
{
	char *url = pgserver_new_database();
	char *dir = tu_mkdtemp(), *mig;
	struct tu_result r;

	ck_assert_int_ne(asprintf(&mig, "%s/migrations", dir), -1);
	ck_assert_int_eq(mkdir(mig, 0755), 0);
	for (int i = 1; i <= MIGRATIONS; i++) {
		char name[64], sql[160];

		snprintf(name, sizeof name, "%04d_t%d.sql", i, i);
		snprintf(sql, sizeof sql,
			 "-- migrate:up\nCREATE TABLE t%d (id serial PRIMARY KEY);\n"
			 "-- migrate:down\nDROP TABLE t%d;\n", i, i);
		free(tu_write(mig, name, sql));
	}

	/* One batch: the plan warns, the server runs out of lock slots. */
	r = tu_dbmigrate(dir, NULL, "up", "--url", url, (const char *)NULL);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "2500 migrations will run in one transaction");
	tu_expect_has("stderr", r.err, "53200");
	tu_expect_has("stderr", r.err, "--step");
	tu_expect_has("stderr", r.err, "max_locks_per_transaction");
	tu_result_free(&r);
	/* Nothing of it stayed: no table, no tracking row. */
	ck_assert_int_eq(count(url, "SELECT count(*) FROM pg_class "
				    "WHERE relname ~ '^t[0-9]+$'"), 0);
	ck_assert_int_eq(count(url, "SELECT CASE WHEN to_regclass('migrations') "
				    "IS NULL THEN 0 ELSE (xpath('/row/c/text()', "
				    "query_to_xml('SELECT count(*) AS c FROM "
				    "migrations', false, true, '')))[1]::text::int "
				    "END"), 0);

	/* The way out the hint gives: smaller batches. */
	for (int batch = 1; batch <= 3; batch++) {
		r = tu_dbmigrate(dir, NULL, "up", "--step", "1000", "--url",
				 url, (const char *)NULL);
		tu_expect_status(&r, 0);
		tu_result_free(&r);
	}
	ck_assert_int_eq(count(url, "SELECT count(*) FROM migrations"),
			 MIGRATIONS);
	ck_assert_int_eq(count(url, "SELECT count(DISTINCT batch) FROM migrations"),
			 3);
	ck_assert_int_eq(count(url, "SELECT count(*) FROM pg_class "
				    "WHERE relname ~ '^t[0-9]+$' AND relkind = 'r'"),
			 MIGRATIONS);
	r = tu_dbmigrate(dir, NULL, "status", "--url", url, (const char *)NULL);
	tu_expect_status(&r, 0);
	tu_expect_has("status", r.out, "Total: 2500 | Executed: 2500 | Pending: 0");
	tu_result_free(&r);

	tu_rm_rf(dir);
	free(dir);
	free(mig);
	free(url);
}
END_TEST

static Suite *bigbatch_suite(void)
{
	const TTest *const locks[] = {
		too_many_locks_for_one_transaction, NULL
	};

	Suite *s = suite_create("big batches");

	tu_tcase(s, "locks", 600, locks);
	return s;
}

int main(void)
{
	return pgserver_run_suite(bigbatch_suite());
}
