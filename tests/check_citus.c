/*
 * check_citus.c - dbmigrate on a real Citus cluster (a coordinator and
 * two workers, citus.h): the binary run against the coordinator as a
 * user runs it, and the shards checked on the workers themselves.
 *
 * What it holds, test by test:
 *  - create_distributed_table() and create_reference_table() in a batch
 *    with data; the shards and the rows end up on the workers; down;
 *  - DDL reaches every shard (ALTER TABLE forms, CREATE/DROP INDEX, on
 *    distributed and reference tables), joined with other statements in
 *    one migration; each such statement went in a query string of its
 *    own (current_query() seen by the statement after it);
 *  - the other ALTER TABLE forms Citus refuses in a string with others
 *    (RLS, OWNER, fillfactor, REPLICA IDENTITY, COMPRESSION, two actions,
 *    FOREIGN KEY, UNIQUE, EXCLUDE, VALIDATE, CLUSTER, ATTACH/DETACH
 *    PARTITION), up and down;
 *  - which statements Citus takes in one query string with another,
 *    which only alone, and which not at all, asked of Citus directly;
 *  - a failed batch leaves no shard changed (two-phase commit);
 *  - ADD and DROP COLUMN up and down, alone and with other statements
 *    (the DROP COLUMN of a down used to fail on the workers: "cannot
 *    insert multiple commands into a prepared statement"), then reset:
 *    every batch rolled back, no shard left;
 *  - CREATE INDEX CONCURRENTLY on a distributed table;
 *  - two runners on the coordinator: one migrates, the other waits;
 *  - lint's Citus rules, and verify on a scratch database of its own
 *    (which gets the extension, and is a one-node cluster): a down that
 *    forgets a column, or to undistribute, is caught.
 *
 * Skipped (exit 77) where Citus is not installed, unless
 * DBMIGRATE_REQUIRE_CITUS=1 (CI), which makes that a failure.
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "citus.h"
#include "testutil.h"

/* Run dbmigrate in cwd with extra env and the given arguments. */
#define RUN(cwd, env, ...) \
	tu_dbmigrate((cwd), (env), __VA_ARGS__, (const char *)NULL)

/* A test's database: the coordinator's URL and DATABASE_URL=. */
struct db {
	char *url;
	char *env0;
	const char *env[2];
	char *dir; /* its migrations */
};

/* A fresh database on the cluster and an empty migrations directory. */
static void db_new(struct db *d)
{
	d->url = citus_new_database();
	ck_assert_int_ge(asprintf(&d->env0, "DATABASE_URL=%s", d->url), 0);
	d->env[0] = d->env0;
	d->env[1] = NULL;
	d->dir = tu_mkdtemp();
}

static void db_free(struct db *d)
{
	citus_drop_database(d->url);
	tu_rm_rf(d->dir);
	free(d->dir);
	free(d->env0);
	free(d->url);
}

/* Write migration name (up and down sections) into d's directory. */
static void mig(struct db *d, const char *name, const char *up,
		const char *down)
{
	char *body;

	ck_assert_int_ge(asprintf(&body, "-- migrate:up\n%s\n-- migrate:down\n%s\n",
				  up, down),
			 0);
	free(tu_write(d->dir, name, body));
	free(body);
}

/* Run a command on d; assert its exit status. */
static void run_ok(struct db *d, const char *cmd, int status)
{
	struct tu_result r = RUN(NULL, d->env, cmd, "-d", d->dir);

	tu_expect_status(&r, status);
	tu_result_free(&r);
}

/* Fail unless sql gives expected on url ("" for NULL or no row). */
static void expect_sql(const char *url, const char *sql, const char *expected)
{
	char *v = citus_psql(url, sql);

	ck_assert_msg(strcmp(v != NULL ? v : "", expected) == 0,
		      "%s\non %s gave \"%s\", expected \"%s\"", sql, url,
		      v != NULL ? v : "", expected);
	free(v);
}

/* What sql gives on worker i, as a string ("" for NULL), to free(). The
   worker shows its shards to this session. */
static char *on_worker(const struct db *d, int i, const char *sql)
{
	char *w = citus_worker_url(d->url, i), *full, *v;

	ck_assert_int_ge(asprintf(&full,
				  "SET citus.show_shards_for_app_name_prefixes "
				  "= '*'; %s",
				  sql),
			 0);
	v = citus_psql(w, full);
	free(full);
	free(w);
	return v != NULL ? v : strdup("");
}

/* The number of table's shards held by all the workers together. */
static int shards(const struct db *d, const char *table)
{
	char *sql;
	int n = 0;

	ck_assert_int_ge(asprintf(&sql,
				  "SELECT count(*) FROM pg_class WHERE relkind "
				  "IN ('r', 'p') AND relname ~ '^%s_[0-9]+$'",
				  table),
			 0);
	for (int i = 0; i < CITUS_WORKERS; i++) {
		char *v = on_worker(d, i, sql);

		n += atoi(v);
		free(v);
	}
	free(sql);
	return n;
}

/*
 * On every worker, sql (counting "WITH/ALL" of table's shards) gives
 * some shards, all of them with (want 1) or none with (want 0) the
 * thing (what: "column", "index") name; sql is freed.
 */
static void expect_on_shards(const struct db *d, const char *table, char *sql,
			     const char *what, const char *name, int want)
{
	for (int i = 0; i < CITUS_WORKERS; i++) {
		char *v = on_worker(d, i, sql);
		const char *slash = strchr(v, '/');
		int with = atoi(v), all = slash != NULL ? atoi(slash + 1) : 0;

		ck_assert_msg(all > 0, "worker %d holds no shard of %s", i,
			      table);
		ck_assert_msg(with == (want ? all : 0),
			      "worker %d: %d of %d shards of %s have %s %s, "
			      "expected %s",
			      i, with, all, table, what, name,
			      want ? "all" : "none");
		free(v);
	}
	free(sql);
}

/*
 * Assert that every shard of table on every worker has (want 1) or
 * lacks (want 0) column col, and that each worker holds some shards.
 */
static void expect_column_on_shards(const struct db *d, const char *table,
				    const char *col, int want)
{
	char *sql;

	ck_assert_int_ge(asprintf(&sql,
				  "SELECT count(*) FILTER (WHERE EXISTS (SELECT "
				  "1 FROM pg_attribute a WHERE a.attrelid = "
				  "c.oid AND a.attname = '%s' AND NOT "
				  "a.attisdropped)) || '/' || count(*) FROM "
				  "pg_class c WHERE c.relkind IN ('r', 'p') AND "
				  "c.relname ~ '^%s_[0-9]+$'",
				  col, table),
			 0);
	expect_on_shards(d, table, sql, "column", col, want);
}

/* Assert the number of shards of table with index idx on the workers
   (want: each worker's every shard, or none). */
static void expect_index_on_shards(const struct db *d, const char *table,
				   const char *idx, int want)
{
	char *sql;

	ck_assert_int_ge(asprintf(&sql,
				  "SELECT (SELECT count(*) FROM pg_class WHERE "
				  "relkind = 'i' AND relname ~ '^%s_[0-9]+$') "
				  "|| '/' || (SELECT count(*) FROM pg_class "
				  "WHERE relkind = 'r' AND relname ~ "
				  "'^%s_[0-9]+$')",
				  idx, table),
			 0);
	expect_on_shards(d, table, sql, "index", idx, want);
}

/* The tables and data most tests start from, as migration 001. */
static void base(struct db *d)
{
	mig(d, "001_base.sql",
	    "CREATE TABLE orders (tenant int NOT NULL, id int NOT NULL,\n"
	    "  legacy text, total int, PRIMARY KEY (tenant, id));\n"
	    "SELECT create_distributed_table('orders', 'tenant');\n"
	    "CREATE TABLE countries (code text PRIMARY KEY, name text);\n"
	    "SELECT create_reference_table('countries');\n"
	    "INSERT INTO orders SELECT g % 7, g, 'x', g FROM "
	    "generate_series(1, 100) g;\n"
	    "INSERT INTO countries VALUES ('fr', 'France'), ('de', "
	    "'Germany');",
	    "DROP TABLE countries;\nDROP TABLE orders;");
}

START_TEST(distributed_and_reference_tables_in_a_batch)
{
	struct db d;

	db_new(&d);
	base(&d);
	mig(&d, "002_more.sql",
	    "INSERT INTO orders VALUES (1, 1000, 'y', 5);\n"
	    "UPDATE countries SET name = 'République française' WHERE code "
	    "= 'fr';",
	    "DELETE FROM orders WHERE id = 1000;\n"
	    "UPDATE countries SET name = 'France' WHERE code = 'fr';");
	run_ok(&d, "up", 0);
	expect_sql(d.url,
		   "SELECT string_agg(logicalrelid::text || ':' || partmethod::text, "
		   "',' ORDER BY logicalrelid::text) FROM pg_dist_partition",
		   "countries:n,orders:h");
	expect_sql(d.url, "SELECT count(*) || ' ' || sum(total) FROM orders",
		   "101 5055");
	expect_sql(d.url, "SELECT count(*) FROM migrations", "2");
	/* Four shards of orders spread over both workers (citus.c sets
	   citus.shard_count = 4), a copy of countries on each. */
	ck_assert_int_eq(shards(&d, "orders"), 4);
	ck_assert_int_eq(shards(&d, "countries"), CITUS_WORKERS);
	for (int i = 0; i < CITUS_WORKERS; i++) {
		char *v = on_worker(&d, i,
				    "SELECT count(*) FROM pg_class WHERE relname "
				    "~ '^orders_[0-9]+$'");

		ck_assert_msg(atoi(v) > 0, "worker %d has no shard of orders",
			      i);
		free(v);
		/* The reference table's one shard holds the rows. */
		v = on_worker(&d, i,
			      "DO $$ DECLARE r text; BEGIN SELECT relname INTO r "
			      "FROM pg_class WHERE relname ~ '^countries_[0-9]+$' "
			      "AND relkind = 'r'; EXECUTE format('CREATE TEMP TABLE "
			      "seen AS SELECT name FROM %I WHERE code = ''fr''', "
			      "r); END $$; SELECT name FROM seen");
		ck_assert_str_eq(v, "République française");
		free(v);
	}
	run_ok(&d, "down", 0);
	expect_sql(d.url, "SELECT count(*) FROM pg_dist_partition", "0");
	ck_assert_int_eq(shards(&d, "orders"), 0);
	ck_assert_int_eq(shards(&d, "countries"), 0);
	expect_sql(d.url, "SELECT count(*) FROM migrations", "0");
	db_free(&d);
}
END_TEST

START_TEST(ddl_reaches_every_shard)
{
	struct db d;

	db_new(&d);
	base(&d);
	run_ok(&d, "up", 0);
	/* Each statement Citus refuses in a string with others, between
	   statements that stay joined; current_query() shows how they went. */
	mig(&d, "002_ddl.sql",
	    "CREATE TABLE seen (q text);\n"
	    "ALTER TABLE orders ADD COLUMN note text;\n"
	    "ALTER TABLE orders DROP COLUMN legacy;\n"
	    "ALTER TABLE orders ALTER COLUMN total TYPE bigint;\n"
	    "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0;\n"
	    "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;\n"
	    "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0);\n"
	    "ALTER TABLE orders RENAME COLUMN note TO remark;\n"
	    "CREATE INDEX orders_total ON orders (total);\n"
	    "CREATE UNIQUE INDEX orders_remark ON orders (tenant, remark);\n"
	    "ALTER INDEX orders_remark RENAME TO orders_remark_u;\n"
	    "REINDEX INDEX orders_total;\n"
	    "ALTER TABLE countries ADD COLUMN population bigint;\n"
	    "ALTER TABLE countries DROP COLUMN name;\n"
	    "CREATE INDEX countries_pop ON countries (population);\n"
	    "INSERT INTO seen SELECT current_query();\n"
	    "COMMENT ON TABLE orders IS 'sharded';",
	    "DROP INDEX countries_pop;\n"
	    "ALTER TABLE countries ADD COLUMN name text;\n"
	    "ALTER TABLE countries DROP COLUMN population;\n"
	    "DROP INDEX orders_remark_u;\n"
	    "DROP INDEX orders_total;\n"
	    "ALTER TABLE orders RENAME COLUMN remark TO note;\n"
	    "ALTER TABLE orders DROP CONSTRAINT positive;\n"
	    "ALTER TABLE orders ALTER COLUMN total DROP NOT NULL;\n"
	    "ALTER TABLE orders ALTER COLUMN total DROP DEFAULT;\n"
	    "ALTER TABLE orders ALTER COLUMN total TYPE int;\n"
	    "ALTER TABLE orders ADD COLUMN legacy text;\n"
	    "ALTER TABLE orders DROP COLUMN note;\n"
	    "DROP TABLE seen;\n"
	    "COMMENT ON TABLE orders IS NULL;");
	run_ok(&d, "up", 0);
	expect_column_on_shards(&d, "orders", "remark", 1);
	expect_column_on_shards(&d, "orders", "legacy", 0);
	expect_column_on_shards(&d, "countries", "population", 1);
	expect_column_on_shards(&d, "countries", "name", 0);
	expect_index_on_shards(&d, "orders", "orders_total", 1);
	expect_index_on_shards(&d, "orders", "orders_remark_u", 1);
	expect_index_on_shards(&d, "countries", "countries_pop", 1);
	{
		char *v = on_worker(&d, 0,
				    "SELECT string_agg(DISTINCT format_type("
				    "a.atttypid, NULL) || ':' || a.attnotnull, ',') "
				    "FROM pg_attribute a JOIN pg_class c ON c.oid = "
				    "a.attrelid WHERE c.relname ~ '^orders_[0-9]+$' "
				    "AND a.attname = 'total'");

		ck_assert_str_eq(v, "bigint:true");
		free(v);
	}
	/* The INSERT went joined with what follows it, not with the
	   CREATE INDEX before it, which went alone. */
	expect_sql(d.url,
		   "SELECT (q LIKE 'INSERT INTO seen%') AND q LIKE '%COMMENT ON "
		   "TABLE%' AND q NOT LIKE '%CREATE INDEX%' FROM seen",
		   "t");
	run_ok(&d, "down", 0);
	expect_column_on_shards(&d, "orders", "legacy", 1);
	expect_column_on_shards(&d, "orders", "remark", 0);
	expect_column_on_shards(&d, "orders", "note", 0);
	expect_column_on_shards(&d, "countries", "name", 1);
	expect_column_on_shards(&d, "countries", "population", 0);
	expect_index_on_shards(&d, "orders", "orders_total", 0);
	expect_sql(d.url, "SELECT count(*) FROM migrations", "1");
	db_free(&d);
}
END_TEST

/* Shards of table on worker i whose pg_class row matches cond. */
static int shards_where(const struct db *d, int i, const char *table,
			const char *cond)
{
	char *sql, *v;
	int n;

	ck_assert_int_ge(asprintf(&sql,
				  "SELECT count(*) FROM pg_class c WHERE "
				  "c.relkind IN ('r', 'p') AND c.relname ~ "
				  "'^%s_[0-9]+$' AND (%s)",
				  table, cond),
			 0);
	v = on_worker(d, i, sql);
	n = atoi(v);
	free(v);
	free(sql);
	return n;
}

/* The other forms Citus refuses in a string with other statements, each
   between joined statements, up and down. */
START_TEST(more_alter_forms_reach_every_shard)
{
	struct db d;

	db_new(&d);
	base(&d);
	run_ok(&d, "up", 0);
	/* A foreign key to a reference table after other DDL on the shards
	   in the same transaction needs Citus's sequential mode, or Citus
	   refuses it ("there was a parallel operation on a distributed
	   table in the transaction"). */
	mig(&d, "002_forms.sql",
	    "SET LOCAL citus.multi_shard_modify_mode TO 'sequential';\n"
	    "ALTER TABLE orders ENABLE ROW LEVEL SECURITY;\n"
	    "ALTER TABLE orders OWNER TO postgres;\n"
	    "ALTER TABLE orders SET (fillfactor = 70);\n"
	    "ALTER TABLE orders REPLICA IDENTITY FULL;\n"
	    "ALTER TABLE orders ALTER COLUMN legacy SET COMPRESSION pglz;\n"
	    "ALTER TABLE orders ADD COLUMN a int, ADD COLUMN country text;\n"
	    "ALTER TABLE orders ADD CONSTRAINT orders_country FOREIGN KEY "
	    "(country) REFERENCES countries (code);\n"
	    "ALTER TABLE orders ADD CONSTRAINT orders_u UNIQUE (tenant, total);\n"
	    "ALTER TABLE orders ADD CONSTRAINT orders_ex EXCLUDE USING btree "
	    "(tenant WITH =, id WITH =);\n"
	    "ALTER TABLE orders ADD CONSTRAINT small CHECK (total < 1000) NOT "
	    "VALID;\n"
	    "ALTER TABLE orders VALIDATE CONSTRAINT small;\n"
	    "CLUSTER orders USING orders_pkey;\n"
	    "CREATE TABLE ev (tenant int, at int) PARTITION BY RANGE (at);\n"
	    "SELECT create_distributed_table('ev', 'tenant');\n"
	    "CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM (0) TO (10);\n"
	    "CREATE TABLE ev2 (tenant int, at int);\n"
	    "SELECT create_distributed_table('ev2', 'tenant', colocate_with => "
	    "'ev');\n"
	    "ALTER TABLE ev ATTACH PARTITION ev2 FOR VALUES FROM (10) TO (20);\n"
	    "ALTER TABLE ev DETACH PARTITION ev1;\n"
	    "INSERT INTO ev VALUES (1, 15);",
	    "SET LOCAL citus.multi_shard_modify_mode TO 'sequential';\n"
	    "DROP TABLE ev1;\nDROP TABLE ev;\n"
	    "ALTER TABLE orders DROP CONSTRAINT small;\n"
	    "ALTER TABLE orders DROP CONSTRAINT orders_ex;\n"
	    "ALTER TABLE orders DROP CONSTRAINT orders_u;\n"
	    "ALTER TABLE orders DROP CONSTRAINT orders_country;\n"
	    "ALTER TABLE orders DROP COLUMN a, DROP COLUMN country;\n"
	    "ALTER TABLE orders ALTER COLUMN legacy SET COMPRESSION DEFAULT;\n"
	    "ALTER TABLE orders REPLICA IDENTITY DEFAULT;\n"
	    "ALTER TABLE orders RESET (fillfactor);\n"
	    "ALTER TABLE orders DISABLE ROW LEVEL SECURITY;");
	run_ok(&d, "up", 0);
	expect_column_on_shards(&d, "orders", "country", 1);
	expect_index_on_shards(&d, "orders", "orders_u", 1);
	expect_index_on_shards(&d, "orders", "orders_ex", 1);
	for (int i = 0; i < CITUS_WORKERS; i++) {
		int all = shards_where(&d, i, "orders", "true");

		ck_assert_int_gt(all, 0);
		ck_assert_int_eq(shards_where(&d, i, "orders",
					      "c.relrowsecurity AND "
					      "c.relreplident = 'f' AND "
					      "c.reloptions @> "
					      "'{fillfactor=70}'"),
				 all);
	}
	/* ev2 is ev's partition now, on the shards as well. */
	ck_assert_int_eq(shards_where(&d, 0, "ev2", "c.relispartition") +
				 shards_where(&d, 1, "ev2", "c.relispartition"),
			 4);
	ck_assert_int_eq(shards_where(&d, 0, "ev1", "c.relispartition") +
				 shards_where(&d, 1, "ev1", "c.relispartition"),
			 0);
	expect_sql(d.url, "SELECT count(*) FROM ev", "1");
	run_ok(&d, "down", 0);
	expect_column_on_shards(&d, "orders", "country", 0);
	expect_index_on_shards(&d, "orders", "orders_u", 0);
	for (int i = 0; i < CITUS_WORKERS; i++)
		ck_assert_int_eq(shards_where(&d, i, "orders",
					      "c.relrowsecurity OR "
					      "c.relreplident = 'f' OR "
					      "c.reloptions IS NOT NULL"),
				 0);
	ck_assert_int_eq(shards(&d, "ev"), 0);
	db_free(&d);
}
END_TEST

/*
 * Run BEGIN, then pre (when not NULL) and sql, each as a query string of
 * its own, on one connection to url that ends without a commit. The
 * error of the first that failed (to free()), or NULL.
 */
static char *in_rolled_back_tx(const char *url, const char *pre,
			       const char *sql)
{
	const char *strings[3] = {"BEGIN", pre, sql};
	PGconn *pg = PQconnectdb(url);
	char *err = NULL;

	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "%s", PQerrorMessage(pg));
	for (int i = 0; i < 3 && err == NULL; i++) {
		PGresult *res;

		if (strings[i] == NULL)
			continue;
		res = PQexec(pg, strings[i]);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK)
			err = strdup(PQresultErrorMessage(res));
		PQclear(res);
	}
	PQfinish(pg);
	return err;
}

/*
 * What the driver's choice rests on, asked of Citus itself, each case in
 * a transaction that is never committed: "joined" works in one query
 * string with another statement; "alone" fails so ("cannot insert
 * multiple commands into a prepared statement") and works as a string
 * of its own (pg_apply_citus_alone() sends those alone); "refused"
 * fails even alone (lint's citus-* rules). A Citus that changes its
 * mind fails here first.
 */
START_TEST(what_citus_accepts_in_one_string)
{
	static const struct {
		const char *pre; /* run first, alone, or NULL */
		const char *sql;
		const char *how; /* joined, alone, refused */
	} cases[] = {
		{NULL, "ALTER TABLE orders ADD COLUMN x int", "joined"},
		{NULL, "ALTER TABLE orders ADD COLUMN x int DEFAULT 7 NOT NULL",
		 "joined"},
		{NULL, "ALTER TABLE orders DROP CONSTRAINT small", "joined"},
		{NULL, "TRUNCATE orders", "joined"},
		{NULL, "DROP TABLE orders CASCADE", "joined"},
		{NULL, "COMMENT ON TABLE orders IS 'x'", "joined"},
		{NULL, "GRANT SELECT ON orders TO PUBLIC", "joined"},
		{NULL, "CREATE VIEW v AS SELECT * FROM orders", "joined"},
		{NULL, "CREATE TYPE ty AS (a int)", "joined"},
		{NULL, "CREATE FUNCTION fn() RETURNS int LANGUAGE sql AS "
		       "'SELECT 1'", "joined"},
		{NULL, "UPDATE orders SET total = 1", "joined"},
		{NULL, "CREATE TABLE n (tenant int, id int)", "joined"},
		{"CREATE TABLE n (tenant int, id int)",
		 "SELECT create_distributed_table('n', 'tenant')", "joined"},
		{"CREATE TABLE n (id int)", "SELECT create_reference_table('n')",
		 "joined"},
		{"ALTER TABLE orders DROP CONSTRAINT orders_pkey",
		 "ALTER TABLE orders ADD PRIMARY KEY (tenant, id)", "joined"},
		{NULL, "ALTER TABLE orders DROP COLUMN legacy", "alone"},
		{NULL, "ALTER TABLE orders ALTER COLUMN total TYPE bigint", "alone"},
		{NULL, "ALTER TABLE orders ALTER COLUMN total SET NOT NULL", "alone"},
		{NULL, "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 3", "alone"},
		{NULL, "ALTER TABLE orders ALTER COLUMN total DROP DEFAULT", "alone"},
		{NULL, "ALTER TABLE orders RENAME COLUMN legacy TO old", "alone"},
		{NULL, "ALTER TABLE orders RENAME TO orders2", "alone"},
		{NULL, "ALTER TABLE orders ADD CONSTRAINT c CHECK (total > -1)",
		 "alone"},
		{NULL, "ALTER TABLE orders ADD CONSTRAINT u UNIQUE (tenant, total)",
		 "alone"},
		{NULL, "ALTER TABLE orders VALIDATE CONSTRAINT small", "alone"},
		{NULL, "ALTER TABLE orders ENABLE ROW LEVEL SECURITY", "alone"},
		{NULL, "ALTER TABLE orders OWNER TO postgres", "alone"},
		{NULL, "ALTER TABLE orders SET (fillfactor = 70)", "alone"},
		{NULL, "ALTER TABLE orders REPLICA IDENTITY FULL", "alone"},
		{NULL, "ALTER TABLE orders ALTER COLUMN legacy SET COMPRESSION pglz",
		 "alone"},
		{NULL, "ALTER TABLE orders ADD COLUMN a int, ADD COLUMN b int",
		 "alone"},
		{NULL, "CREATE INDEX i ON orders (total)", "alone"},
		{NULL, "CREATE UNIQUE INDEX i ON orders (tenant, total)", "alone"},
		{NULL, "DROP INDEX orders_t", "alone"},
		{NULL, "ALTER INDEX orders_t RENAME TO orders_t2", "alone"},
		{NULL, "REINDEX INDEX orders_t", "alone"},
		{NULL, "REINDEX TABLE orders", "alone"},
		{NULL, "CLUSTER orders USING orders_pkey", "alone"},
		{NULL, "ALTER TABLE countries DROP COLUMN name", "alone"},
		{NULL, "CREATE INDEX i ON countries (name)", "alone"},
		{NULL, "ALTER TABLE orders ADD COLUMN y int CHECK (y > 0)",
		 "refused"},
		{NULL, "ALTER TABLE orders ALTER COLUMN legacy SET STORAGE EXTERNAL",
		 "refused"},
		{NULL, "ALTER TABLE orders ALTER COLUMN total SET STATISTICS 100",
		 "refused"},
		{NULL, "ALTER TABLE orders RENAME CONSTRAINT small TO tiny",
		 "refused"},
		{NULL, "ALTER TABLE orders ALTER COLUMN tenant DROP NOT NULL",
		 "refused"},
		{NULL, "ALTER TABLE orders SET WITHOUT CLUSTER", "refused"},
		{NULL, "ALTER TABLE orders ADD CONSTRAINT k UNIQUE (id)", "refused"},
		{"CREATE TABLE loc (id int PRIMARY KEY)",
		 "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES "
		 "loc (id)", "refused"},
		{"CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS "
		 "'BEGIN RETURN NEW; END'",
		 "CREATE TRIGGER t BEFORE UPDATE ON countries FOR EACH ROW "
		 "EXECUTE FUNCTION tf()", "refused"},
		{"CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS "
		 "'BEGIN RETURN NEW; END'",
		 "CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW "
		 "EXECUTE FUNCTION tf()", "refused"},
	};
	struct db d;

	db_new(&d);
	base(&d);
	mig(&d, "002_more.sql",
	    "CREATE INDEX orders_t ON orders (total);\n"
	    "ALTER TABLE orders ADD CONSTRAINT small CHECK (total < 1000) NOT "
	    "VALID;",
	    "ALTER TABLE orders DROP CONSTRAINT small;\nDROP INDEX orders_t;");
	run_ok(&d, "up", 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *how = cases[i].how, *sql = cases[i].sql;
		char *joined, *ej, *ea;

		ck_assert_int_ge(asprintf(&joined, "%s; SELECT 1", sql), 0);
		ej = in_rolled_back_tx(d.url, cases[i].pre, joined);
		ea = in_rolled_back_tx(d.url, cases[i].pre, sql);
		if (strcmp(how, "joined") == 0) {
			ck_assert_msg(ej == NULL, "%s\nfailed joined: %s", sql,
				      ej);
		} else if (strcmp(how, "alone") == 0) {
			ck_assert_msg(ej != NULL &&
					  strstr(ej, "cannot insert multiple "
						     "commands") != NULL,
				      "%s\njoined: expected \"cannot insert "
				      "multiple commands\", got %s",
				      sql, ej != NULL ? ej : "success");
			ck_assert_msg(ea == NULL, "%s\nfailed alone: %s", sql,
				      ea);
		} else {
			ck_assert_msg(ea != NULL, "%s\nexpected Citus to refuse "
					      "it, and it ran",
				      sql);
		}
		free(ej);
		free(ea);
		free(joined);
	}
	db_free(&d);
}
END_TEST

START_TEST(failed_batch_leaves_no_shard_changed)
{
	struct db d;
	struct tu_result r;

	db_new(&d);
	base(&d);
	run_ok(&d, "up", 0);
	mig(&d, "002_add.sql",
	    "ALTER TABLE orders ADD COLUMN flag boolean DEFAULT true;\n"
	    "ALTER TABLE orders DROP COLUMN legacy;\n"
	    "UPDATE orders SET total = total + 1;\n"
	    "CREATE INDEX orders_flag ON orders (flag);",
	    "DROP INDEX orders_flag;\nALTER TABLE orders ADD COLUMN legacy text;\n"
	    "ALTER TABLE orders DROP COLUMN flag;");
	/* A row on some shard breaks the constraint: the batch fails on a
	   worker, after the DDL reached every shard. */
	mig(&d, "003_check.sql",
	    "ALTER TABLE orders ADD CONSTRAINT small CHECK (total < 100);",
	    "ALTER TABLE orders DROP CONSTRAINT small;");
	r = RUN(NULL, d.env, "up", "-d", d.dir);
	ck_assert_int_ne(r.status, 0);
	tu_expect_has("stderr", r.err, "003_check");
	tu_expect_has("stderr", r.err, "small");
	tu_result_free(&r);
	expect_column_on_shards(&d, "orders", "flag", 0);
	expect_column_on_shards(&d, "orders", "legacy", 1);
	expect_index_on_shards(&d, "orders", "orders_flag", 0);
	expect_sql(d.url, "SELECT sum(total) FROM orders", "5050");
	expect_sql(d.url, "SELECT string_agg(id, ',') FROM migrations", "001");
	/* No prepared transaction left behind on any node. */
	expect_sql(d.url, "SELECT count(*) FROM pg_prepared_xacts", "0");
	for (int i = 0; i < CITUS_WORKERS; i++) {
		char *v = on_worker(&d, i, "SELECT count(*) FROM pg_prepared_xacts");

		ck_assert_str_eq(v, "0");
		free(v);
	}
	db_free(&d);
}
END_TEST

START_TEST(add_and_drop_column_up_and_down)
{
	struct db d;

	db_new(&d);
	base(&d);
	run_ok(&d, "up", 0);
	/* Alone: the down's DROP COLUMN with the tracking row's DELETE. */
	mig(&d, "002_alone.sql", "ALTER TABLE orders ADD COLUMN note text;",
	    "ALTER TABLE orders DROP COLUMN note;");
	/* With other statements, both ways. */
	mig(&d, "003_mixed.sql",
	    "ALTER TABLE orders ADD COLUMN shipped boolean;\n"
	    "UPDATE orders SET shipped = total > 50;\n"
	    "ALTER TABLE orders DROP COLUMN legacy;\n"
	    "ALTER TABLE countries ADD COLUMN capital text;\n"
	    "UPDATE countries SET capital = 'Paris' WHERE code = 'fr';",
	    "ALTER TABLE countries DROP COLUMN capital;\n"
	    "ALTER TABLE orders ADD COLUMN legacy text;\n"
	    "UPDATE orders SET legacy = 'x';\n"
	    "ALTER TABLE orders DROP COLUMN shipped;");
	for (int round = 0; round < 2; round++) {
		run_ok(&d, "up", 0);
		expect_column_on_shards(&d, "orders", "note", 1);
		expect_column_on_shards(&d, "orders", "shipped", 1);
		expect_column_on_shards(&d, "orders", "legacy", 0);
		expect_column_on_shards(&d, "countries", "capital", 1);
		expect_sql(d.url, "SELECT count(*) FROM orders WHERE shipped",
			   "50");
		run_ok(&d, "down", 0);
		expect_column_on_shards(&d, "orders", "note", 0);
		expect_column_on_shards(&d, "orders", "shipped", 0);
		expect_column_on_shards(&d, "orders", "legacy", 1);
		expect_column_on_shards(&d, "countries", "capital", 0);
		expect_sql(d.url, "SELECT count(*) FROM orders WHERE legacy = 'x'",
			   "100");
	}
	/* One at a time (--step 1), each a batch of its own. */
	{
		struct tu_result r = RUN(NULL, d.env, "up", "--step", "1", "-d",
					 d.dir);

		tu_expect_status(&r, 0);
		tu_result_free(&r);
		r = RUN(NULL, d.env, "down", "-d", d.dir);
		tu_expect_status(&r, 0);
		tu_result_free(&r);
	}
	expect_column_on_shards(&d, "orders", "note", 0);
	expect_sql(d.url, "SELECT count(*) FROM migrations", "1");
	/* Everything rolled back: reset, newest batch first. */
	run_ok(&d, "up", 0);
	{
		struct tu_result r = RUN(NULL, d.env, "reset", "--force", "-d",
					 d.dir);

		tu_expect_status(&r, 0);
		tu_result_free(&r);
	}
	expect_sql(d.url, "SELECT to_regclass('migrations') IS NULL", "t");
	expect_sql(d.url, "SELECT count(*) FROM pg_dist_partition", "0");
	ck_assert_int_eq(shards(&d, "orders"), 0);
	ck_assert_int_eq(shards(&d, "countries"), 0);
	db_free(&d);
}
END_TEST

START_TEST(concurrently_on_a_distributed_table)
{
	struct db d;
	struct tu_result r;

	db_new(&d);
	base(&d);
	run_ok(&d, "up", 0);
	mig(&d, "002_index.sql",
	    "CREATE INDEX CONCURRENTLY orders_total ON orders (total);",
	    "DROP INDEX CONCURRENTLY orders_total;");
	r = RUN(NULL, d.env, "up", "-d", d.dir);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "002_index");
	tu_result_free(&r);
	expect_index_on_shards(&d, "orders", "orders_total", 1);
	expect_sql(d.url,
		   "SELECT indisvalid FROM pg_index WHERE indexrelid = "
		   "'orders_total'::regclass",
		   "t");
	r = RUN(NULL, d.env, "down", "-d", d.dir);
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	expect_index_on_shards(&d, "orders", "orders_total", 0);
	/* create_distributed_table_concurrently() refuses a transaction
	   block: it runs outside the batch, as the plan says. */
	mig(&d, "003_later.sql",
	    "CREATE TABLE later (tenant int, id int);\n"
	    "INSERT INTO later SELECT g % 3, g FROM generate_series(1, 30) g;",
	    "DROP TABLE later;");
	mig(&d, "004_distribute.sql",
	    "SELECT create_distributed_table_concurrently('later', 'tenant');",
	    "SELECT undistribute_table('later');");
	r = RUN(NULL, d.env, "up", "-d", d.dir);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out,
		       "004_distribute  (outside the transaction: "
		       "create_distributed_table_concurrently()");
	tu_result_free(&r);
	expect_sql(d.url,
		   "SELECT partmethod::text FROM pg_dist_partition WHERE "
		   "logicalrelid = 'later'::regclass",
		   "h");
	ck_assert_int_eq(shards(&d, "later"), 4);
	expect_sql(d.url, "SELECT count(*) FROM later", "30");
	db_free(&d);
}
END_TEST

START_TEST(two_runners_on_the_coordinator)
{
	struct db d;
	pid_t pid[2];
	int status[2];
	char path[2][4096];

	db_new(&d);
	base(&d);
	/* Would fail if run twice; slow enough for the runs to overlap. */
	mig(&d, "002_slow.sql",
	    "SELECT pg_sleep(1.5);\nALTER TABLE orders ADD COLUMN once int;\n"
	    "ALTER TABLE orders DROP COLUMN legacy;",
	    "ALTER TABLE orders ADD COLUMN legacy text;\n"
	    "ALTER TABLE orders DROP COLUMN once;");
	run_ok(&d, "init", 0);
	for (int i = 0; i < 2; i++) {
		snprintf(path[i], sizeof path[i], "%s/runner%d.out", d.dir, i);
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			struct tu_result r = RUN(NULL, d.env, "up", "-d", d.dir);
			FILE *f = fopen(path[i], "w");

			if (f != NULL) {
				fprintf(f, "%s\n%s", r.out, r.err);
				fclose(f);
			}
			_exit(r.status);
		}
	}
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status[i], 0), pid[i]);
		ck_assert(WIFEXITED(status[i]));
		if (WEXITSTATUS(status[i]) != 0) {
			char *out = tu_read(path[i]);

			ck_abort_msg("runner %d exited %d:\n%s", i,
				     WEXITSTATUS(status[i]),
				     out != NULL ? out : "");
		}
	}
	/* Both succeeded; each migration ran once, in one batch. */
	expect_sql(d.url,
		   "SELECT string_agg(id || ':' || batch, ',' ORDER BY id) FROM "
		   "migrations",
		   "001:1,002:1");
	expect_column_on_shards(&d, "orders", "once", 1);
	{
		char *a = tu_read(path[0]), *b = tu_read(path[1]);
		int ran = (strstr(a, "002_slow") != NULL) +
			  (strstr(b, "002_slow") != NULL);

		ck_assert_msg(ran == 1, "expected one runner to apply 002:\n"
			      "--- 0\n%s\n--- 1\n%s", a, b);
		free(a);
		free(b);
	}
	db_free(&d);
}
END_TEST

START_TEST(lint_and_verify)
{
	struct db d;
	struct tu_result r;

	db_new(&d);
	base(&d);
	mig(&d, "002_more.sql",
	    "ALTER TABLE orders ADD COLUMN note text;\n"
	    "ALTER TABLE orders DROP COLUMN legacy;\n"
	    "CREATE TABLE items (tenant int, id int, order_id int,\n"
	    "  PRIMARY KEY (tenant, id));\n"
	    "SELECT create_distributed_table('items', 'tenant', "
	    "colocate_with => 'orders');",
	    "DROP TABLE items;\nALTER TABLE orders ADD COLUMN legacy text;\n"
	    "ALTER TABLE orders DROP COLUMN note;");
	/* verify: every down undoes its up, on a scratch database that has
	   the extension; the user's database is not touched. */
	r = RUN(NULL, d.env, "verify", "-d", d.dir);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "down     002_more ... ok");
	tu_expect_has("stdout", r.out, "down     001_base ... ok");
	tu_result_free(&r);
	expect_sql(d.url, "SELECT count(*) FROM pg_dist_partition", "0");
	expect_sql(d.url, "SELECT to_regclass('migrations') IS NULL", "t");
	expect_sql(d.url,
		   "SELECT count(*) FROM pg_database WHERE datname LIKE "
		   "'dbmigrate!_verify!_%' ESCAPE '!'",
		   "0");
	/* A given scratch database with the extension counts as empty. */
	{
		char *scratch = strdup(d.url), *sql;

		ck_assert_int_ge(asprintf(&sql, "CREATE DATABASE %s_s",
					  strrchr(d.url, '/') + 1),
				 0);
		free(citus_psql(d.url, sql));
		free(sql);
		free(scratch);
		ck_assert_int_ge(asprintf(&scratch, "%s_s", d.url), 0);
		free(citus_psql(scratch, "CREATE EXTENSION citus"));
		r = RUN(NULL, NULL, "verify", "--url", scratch, "-d", d.dir);
		tu_expect_status(&r, 0);
		tu_expect_has("stdout", r.out, "on the given scratch database");
		tu_result_free(&r);
		expect_sql(scratch, "SELECT count(*) FROM pg_dist_partition", "0");
		free(scratch);
	}
	/* A down that forgets the column is caught. */
	mig(&d, "002_more.sql",
	    "ALTER TABLE orders ADD COLUMN note text;",
	    "SELECT 1;");
	r = RUN(NULL, d.env, "verify", "-d", d.dir);
	ck_assert_int_ne(r.status, 0);
	tu_expect_has("stdout+stderr", r.err, "002_more");
	tu_expect_has("stdout+stderr", r.err, "note");
	tu_result_free(&r);
	/* So is a down that forgets to undistribute: the snapshot has
	   Citus's metadata. */
	mig(&d, "002_more.sql", "CREATE TABLE plain (id int PRIMARY KEY);",
	    "DROP TABLE plain;");
	mig(&d, "003_dist.sql", "SELECT create_reference_table('plain');",
	    "SELECT 1;");
	r = RUN(NULL, d.env, "verify", "-d", d.dir);
	ck_assert_int_ne(r.status, 0);
	tu_expect_has("stderr", r.err, "003_dist");
	tu_expect_has("stderr", r.err, "citus reference public.plain");
	tu_result_free(&r);
	mig(&d, "003_dist.sql", "SELECT create_reference_table('plain');",
	    "SELECT undistribute_table('plain');");
	r = RUN(NULL, d.env, "verify", "-d", d.dir);
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	{
		char *path;

		ck_assert_int_ge(asprintf(&path, "%s/003_dist.sql", d.dir), 0);
		ck_assert_int_eq(unlink(path), 0);
		free(path);
	}
	/* lint: the Citus rules. */
	mig(&d, "003_lint.sql",
	    "CREATE TABLE events (tenant int, id int, at timestamptz,\n"
	    "  PRIMARY KEY (id));\n"
	    "INSERT INTO events VALUES (1, 1, now());\n"
	    "SELECT create_distributed_table('events', 'tenant');\n"
	    "CREATE TABLE audit (id int PRIMARY KEY);\n"
	    "ALTER TABLE orders ADD CONSTRAINT audit_fk FOREIGN KEY (id) "
	    "REFERENCES audit (id) NOT VALID;\n"
	    "SELECT create_distributed_table('orders_archive', 'tenant');\n"
	    "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW "
	    "EXECUTE FUNCTION touch();",
	    "SELECT 1;");
	r = RUN(NULL, d.env, "lint", "003", "-d", d.dir);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "[citus-distribute-with-data]");
	tu_expect_has("stderr", r.err, "[citus-key-without-distribution-column]");
	tu_expect_has("stderr", r.err, "[citus-foreign-key-to-local]");
	tu_expect_has("stderr", r.err, "[citus-trigger]");
	/* orders_archive was not created here: it may hold data. */
	ck_assert_int_eq(tu_count(r.err, "[citus-distribute-with-data]"), 2);
	tu_result_free(&r);
	/* What citus-foreign-key-to-local says of a local table referencing
	   a distributed one: Citus accepts it, and a DELETE on the shards
	   leaves the referencing row pointing at nothing. */
	{
		struct tu_result u = RUN(NULL, d.env, "up", "--to", "002", "-d",
					 d.dir);

		tu_expect_status(&u, 0);
		tu_result_free(&u);
	}
	free(citus_psql(d.url, "CREATE TABLE remarks (tenant int, order_id int, "
			       "FOREIGN KEY (tenant, order_id) REFERENCES "
			       "orders (tenant, id))"));
	free(citus_psql(d.url, "INSERT INTO remarks VALUES (1, 1)"));
	free(citus_psql(d.url, "DELETE FROM orders WHERE tenant = 1 AND id = 1"));
	expect_sql(d.url, "SELECT count(*) FROM orders WHERE tenant = 1 AND "
			  "id = 1",
		   "0");
	expect_sql(d.url, "SELECT tenant || ',' || order_id FROM remarks", "1,1");
	db_free(&d);
}
END_TEST

static Suite *citus_suite(void)
{
	const TTest *const cluster[] = {
		distributed_and_reference_tables_in_a_batch,
		ddl_reaches_every_shard, more_alter_forms_reach_every_shard,
		what_citus_accepts_in_one_string,
		failed_batch_leaves_no_shard_changed,
		add_and_drop_column_up_and_down,
		concurrently_on_a_distributed_table,
		two_runners_on_the_coordinator, lint_and_verify, NULL
	};

	Suite *s = suite_create("citus");

	tu_tcase(s, "cluster", 120, cluster);
	return s;
}

int main(void)
{
	int status;

	citus_start();
	status = tu_run_suite(citus_suite());
	citus_stop();
	return status;
}
