/*
 * check_lint.c - `dbmigrate lint`: every rule fires on a sample and is
 * silenced by its directive, rules about existing tables leave alone a
 * table the same migration created, warnings point at the right
 * file:line:column in .sql and in the seed's .ts format, the
 * command's exit codes (0 clean, 1 warnings, 2 bad id, 3 bad file), and
 * its JSON and SARIF documents, parsed (tjson.h) and compared with what
 * the library found, finding by finding.
 *
 * Lint needs no server: the PostgreSQL rules run from the driver built
 * in the tree (DBMIGRATE_DRIVER_PATH, as the harness sets it), so they
 * are tested whenever the driver is built (CHECK_LINT_POSTGRES); the
 * rules every backend shares run with the mock driver.
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dbmigrate.h"
#include "testutil.h"
#include "tjson.h"

/* A scratch migrations directory and what lint said about it. */
struct run {
	char *dir;
	dbmigrate *m;
	dbmigrate_lint_result *r;
	dbmigrate_code rc;
};

/* Write the files (name, content pairs ending with NULL) into a new
   directory and lint it with driver, limited to ids (may be NULL). */
static struct run lint_ids(const char *driver, const char *const *ids,
			   size_t nids, ...)
{
	struct run run = { 0 };
	const char *name;
	va_list ap;

	run.dir = tu_mkdtemp();
	va_start(ap, nids);
	while ((name = va_arg(ap, const char *)) != NULL)
		free(tu_write(run.dir, name, va_arg(ap, const char *)));
	va_end(ap);
	run.m = dbmigrate_new();
	ck_assert_ptr_nonnull(run.m);
	ck_assert_int_eq(dbmigrate_set(run.m, "dir", run.dir), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_set(run.m, "driver", driver), DBMIGRATE_OK);
	run.rc = dbmigrate_lint(run.m, ids, nids, &run.r);
	if (run.rc == DBMIGRATE_OK)
		ck_assert_ptr_nonnull(run.r);
	else
		ck_assert_ptr_null(run.r);
	return run;
}

#define LINT(driver, ...) lint_ids((driver), NULL, 0, __VA_ARGS__, (const char *)NULL)

static void run_free(struct run *run)
{
	dbmigrate_lint_free(run->r);
	dbmigrate_close(run->m);
	tu_rm_rf(run->dir);
	free(run->dir);
}

/* Every warning of r as text, for failure messages (to free). */
static char *dump(const dbmigrate_lint_result *r)
{
	char *s = strdup(""), *t;

	for (size_t i = 0; i < dbmigrate_lint_count(r); i++) {
		const dbmigrate_lint_warning *w = dbmigrate_lint_get(r, i);

		ck_assert_int_ne(asprintf(&t, "%s%s:%u:%u: %s [%s]\n", s, w->file,
					  w->line, w->column, w->message,
					  w->rule),
				 -1);
		free(s);
		s = t;
	}
	return s;
}

/* The warning of rule in r, asserting there is exactly one. */
static const dbmigrate_lint_warning *only(const struct run *run,
					  const char *rule)
{
	const dbmigrate_lint_warning *found = NULL;
	size_t n = 0;
	char *all = dump(run->r);

	ck_assert_msg(run->rc == DBMIGRATE_OK, "lint failed: %s",
		      dbmigrate_errmsg(run->m));
	for (size_t i = 0; i < dbmigrate_lint_count(run->r); i++) {
		const dbmigrate_lint_warning *w = dbmigrate_lint_get(run->r, i);

		if (strcmp(w->rule, rule) == 0) {
			found = w;
			n++;
		}
	}
	ck_assert_msg(n == 1 && dbmigrate_lint_count(run->r) == 1,
		      "expected exactly one warning, %s; got:\n%s", rule, all);
	free(all);
	ck_assert_ptr_nonnull(found->message);
	ck_assert_ptr_nonnull(found->hint);
	ck_assert_ptr_nonnull(found->migration);
	return found;
}

/* Assert that run found nothing. */
static void none(const struct run *run)
{
	char *all = dump(run->r);

	ck_assert_msg(run->rc == DBMIGRATE_OK, "lint failed: %s",
		      dbmigrate_errmsg(run->m));
	ck_assert_msg(dbmigrate_lint_count(run->r) == 0,
		      "expected no warning, got:\n%s", all);
	free(all);
}

/* True when path ends with name. */
static int ends_with(const char *path, const char *name)
{
	size_t p = strlen(path), n = strlen(name);

	return p >= n && strcmp(path + p - n, name) == 0;
}

/* A migration with a down section: up is its up section's SQL. */
static char *sql_file(const char *up)
{
	char *s;

	ck_assert_int_ne(asprintf(&s, "-- migrate:up\n%s\n\n-- migrate:down\nSELECT 1;\n", up),
			 -1);
	return s;
}

/* ---- the rules every backend shares (mock driver) ---- */

START_TEST(missing_down_fires_and_is_silenced)
{
	struct run run = LINT("mock", "001_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
	const dbmigrate_lint_warning *w = only(&run, "missing-down");

	ck_assert(ends_with(w->file, "/001_a.sql"));
	ck_assert_uint_eq(w->line, 1);
	ck_assert_str_eq(w->migration, "001_a");
	ck_assert_uint_eq(dbmigrate_lint_checked(run.r), 1);
	run_free(&run);

	/* Silenced from the up section, or above -- migrate:up. */
	run = LINT("mock", "001_a.sql",
		   "-- migrate:up\n-- dbmigrate:lint-ignore missing-down: data fix, no way back\n"
		   "UPDATE a SET x = 1;\n",
		   "002_b.sql",
		   "-- dbmigrate:lint-ignore missing-down\n-- migrate:up\nUPDATE a SET x = 2;\n",
		   "003_c.ts", "export const up = `\n  -- dbmigrate:lint-ignore missing-down\n  SELECT 1;\n`;\n");
	none(&run);
	ck_assert_uint_eq(dbmigrate_lint_silenced(run.r), 3);
	ck_assert_uint_eq(dbmigrate_lint_checked(run.r), 3);
	run_free(&run);

	/* A directive for another rule, or inside a string, does not. */
	run = LINT("mock", "001_a.sql",
		   "-- migrate:up\n-- dbmigrate:lint-ignore drop-table\n"
		   "INSERT INTO notes VALUES ('-- dbmigrate:lint-ignore missing-down');\n");
	only(&run, "missing-down");
	run_free(&run);
}
END_TEST

START_TEST(pairs_and_down_sections_count)
{
	struct run run = LINT("mock", "001_a.up.sql", "CREATE TABLE a (id int);\n",
			      "001_a.down.sql", "DROP TABLE a;\n", "002_b.up.sql",
			      "CREATE TABLE b (id int);\n");
	const dbmigrate_lint_warning *w = only(&run, "missing-down");

	ck_assert(ends_with(w->file, "/002_b.up.sql"));
	run_free(&run);
}
END_TEST

START_TEST(ids_limit_the_migrations)
{
	const char *ids[] = { "2" };
	const char *bad[] = { "7" };
	const char *junk[] = { "x1" };
	struct run run = lint_ids("mock", ids, 1, "001_a.sql", "-- migrate:up\nSELECT 1;\n",
				  "002_b.sql", "-- migrate:up\nSELECT 2;\n",
				  "003_c.sql", "-- migrate:up\nSELECT 3;\n", (const char *)NULL);

	ck_assert_str_eq(only(&run, "missing-down")->migration, "002_b");
	ck_assert_uint_eq(dbmigrate_lint_checked(run.r), 1);
	run_free(&run);
	run = lint_ids("mock", bad, 1, "001_a.sql", "-- migrate:up\nSELECT 1;\n", (const char *)NULL);
	ck_assert_int_eq(run.rc, DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(run.m), "no migration 7"));
	run_free(&run);
	run = lint_ids("mock", junk, 1, "001_a.sql", "-- migrate:up\nSELECT 1;\n", (const char *)NULL);
	ck_assert_int_eq(run.rc, DBMIGRATE_EUSAGE);
	run_free(&run);
}
END_TEST

START_TEST(bad_files_are_errors_with_a_location)
{
	struct run run = LINT("mock", "001_a.sql",
			      "-- migrate:up\nSELECT 1;\nSELECT 'open;\n\n-- migrate:down\nSELECT 1;\n");
	const dbmigrate_error *e = dbmigrate_last_error(run.m);

	ck_assert_int_eq(run.rc, DBMIGRATE_EFILES);
	ck_assert(ends_with(e->file, "/001_a.sql"));
	ck_assert_uint_eq(e->line, 3);
	run_free(&run);

	/* Transaction control the runner would refuse. */
	run = LINT("mock", "001_a.sql",
		   "-- migrate:up\nSELECT 1;\nCOMMIT;\nSELECT 2;\n\n-- migrate:down\nSELECT 1;\n");
	ck_assert_int_eq(run.rc, DBMIGRATE_EFILES);
	ck_assert_uint_eq(dbmigrate_last_error(run.m)->line, 3);
	run_free(&run);
}
END_TEST

#ifdef CHECK_LINT_POSTGRES

/* One rule of the postgres driver: a statement that fires it alone
   (after SET LOCAL lock_timeout, unless the rule is about that). */
struct sample {
	const char *rule;
	const char *sql;
	bool no_timeout; /* leave the lock_timeout out */
	unsigned column; /* of the warning on the statement's line */
};

static const struct sample samples[] = {
	{ "index-not-concurrent", "CREATE INDEX idx_users_email ON users (email);", false, 1 },
	{ "index-not-concurrent", "create unique index on public.\"users\" (lower(email));", false, 1 },
	{ "foreign-key-not-valid",
	  "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
	  false, 20 },
	{ "check-not-valid", "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0);", false, 20 },
	{ "set-not-null", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", false, 19 },
	{ "alter-column-type", "ALTER TABLE users ALTER id SET DATA TYPE bigint;", false, 19 },
	{ "volatile-default", "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();", false, 19 },
	{ "volatile-default", "ALTER TABLE users ADD serial_no bigserial;", false, 19 },
	{ "drop-column", "ALTER TABLE users DROP COLUMN IF EXISTS legacy;", false, 19 },
	{ "drop-table", "DROP TABLE IF EXISTS legacy_sessions;", false, 22 },
	{ "rename", "ALTER TABLE users RENAME COLUMN email TO email_address;", false, 19 },
	{ "rename", "ALTER TABLE users RENAME TO customers;", false, 19 },
	{ "no-lock-timeout", "ALTER TABLE users ADD COLUMN nickname text;", true, 1 },
	{ "no-lock-timeout", "CREATE TABLE orders (id int, user_id int REFERENCES users);", true, 42 },
	{ "concurrently-in-transaction",
	  "CREATE INDEX CONCURRENTLY idx_users_email ON users (email);", false, 1 },
};

/* A migration holding a sample: line 2 is BEGIN for
   concurrently-in-transaction (which gets its COMMIT after), line 3 sets
   the timeout, line 4 holds the directive, line 5 the statement; lines
   not needed are blank. */
static char *sample_file(const struct sample *s, const char *directive)
{
	bool tx = strcmp(s->rule, "concurrently-in-transaction") == 0;
	char *up, *file;

	ck_assert_int_ne(asprintf(&up, "%s\n%s\n%s\n%s%s",
				  tx ? "BEGIN;" : "",
				  s->no_timeout ? "" : "SET LOCAL lock_timeout = '5s';",
				  directive != NULL ? directive : "", s->sql,
				  tx ? "\nCOMMIT;" : ""),
			 -1);
	file = sql_file(up);
	free(up);
	return file;
}

START_TEST(each_rule_fires_and_its_directive_silences_it)
{
	const struct sample *s = &samples[_i];
	char *file = sample_file(s, NULL);
	char *directive, *silenced;
	struct run run = LINT("postgres", "001_sample.sql", file);
	const dbmigrate_lint_warning *w = only(&run, s->rule);

	ck_assert(ends_with(w->file, "/001_sample.sql"));
	ck_assert_msg(w->line == 5 && w->column == s->column,
		      "%s at %u:%u, expected 5:%u", s->rule, w->line, w->column,
		      s->column);
	ck_assert_ptr_nonnull(w->source_line);
	ck_assert_ptr_nonnull(strstr(s->sql, w->source_line));
	run_free(&run);
	free(file);

	ck_assert_int_ne(asprintf(&directive, "-- dbmigrate:lint-ignore other-rule, %s reviewed",
				  s->rule),
			 -1);
	silenced = sample_file(s, directive);
	run = LINT("postgres", "001_sample.sql", silenced);
	none(&run);
	ck_assert_uint_eq(dbmigrate_lint_silenced(run.r), 1);
	run_free(&run);
	free(silenced);
	free(directive);
}
END_TEST

START_TEST(tables_created_in_the_migration_are_new)
{
	/* Each statement of alter fires on an existing table. */
	static const char create[] =
		"CREATE TABLE public.\"Orders\" (id int, amount int);\n"
		"CREATE TABLE parts (id int PRIMARY KEY, parent int REFERENCES parts);\n";
	static const char alter[] =
		"CREATE INDEX orders_amount ON \"Orders\" (amount);\n"
		"ALTER TABLE \"Orders\" ALTER COLUMN amount SET NOT NULL,\n"
		"  ADD COLUMN token uuid DEFAULT gen_random_uuid(),\n"
		"  ADD CONSTRAINT positive CHECK (amount > 0);\n"
		"ALTER TABLE \"Orders\" RENAME COLUMN amount TO total;\n"
		"DROP TABLE \"Orders\";";
	char *both, *file, *again = sql_file(alter);
	struct run run;
	char *all;

	ck_assert_int_ne(asprintf(&both, "%s%s", create, alter), -1);
	file = sql_file(both);
	run = LINT("postgres", "001_orders.sql", file, "002_again.sql", again);
	all = dump(run.r);
	free(both);
	free(again);

	/* In 002 the table exists: the same SQL warns. Nothing from 001. */
	ck_assert_msg(run.rc == DBMIGRATE_OK, "%s", dbmigrate_errmsg(run.m));
	for (size_t i = 0; i < dbmigrate_lint_count(run.r); i++)
		ck_assert_msg(strcmp(dbmigrate_lint_get(run.r, i)->migration, "002_again") == 0,
			      "warning about a table 001 created:\n%s", all);
	ck_assert_msg(dbmigrate_lint_count(run.r) >= 5, "002 should warn:\n%s", all);
	free(all);
	free(file);
	run_free(&run);

	/* A foreign key to an existing table still waits for its lock. */
	file = sql_file("CREATE TABLE sessions (id int, user_id int REFERENCES users (id));");
	run = LINT("postgres", "001_sessions.sql", file);
	ck_assert_uint_eq(only(&run, "no-lock-timeout")->line, 2);
	free(file);
	run_free(&run);
}
END_TEST

START_TEST(lock_timeout_once_per_migration)
{
	char *unset = sql_file("ALTER TABLE a ADD COLUMN x int;\nALTER TABLE b ADD COLUMN y int;");
	char *zero = sql_file("SET lock_timeout = 0;\nALTER TABLE a ADD COLUMN x int;");
	char *later = sql_file("ALTER TABLE a ADD COLUMN x int;\nSET lock_timeout TO 5000;\n"
			       "ALTER TABLE b ADD COLUMN y int;");
	char *validate = sql_file("ALTER TABLE a VALIDATE CONSTRAINT a_fk;");
	char *silenced = sql_file("-- dbmigrate:lint-ignore no-lock-timeout\n"
				  "ALTER TABLE a ADD COLUMN x int;\nALTER TABLE b ADD COLUMN y int;");
	struct run run = LINT("postgres", "001_a.sql", unset, "002_b.sql", zero,
			      "003_c.sql", later, "004_d.sql", validate,
			      "005_e.sql", silenced);
	char *all = dump(run.r);

	ck_assert_msg(run.rc == DBMIGRATE_OK, "%s", dbmigrate_errmsg(run.m));
	ck_assert_msg(dbmigrate_lint_count(run.r) == 3, "got:\n%s", all);
	ck_assert_str_eq(dbmigrate_lint_get(run.r, 0)->migration, "001_a");
	ck_assert_uint_eq(dbmigrate_lint_get(run.r, 0)->line, 2);
	ck_assert_str_eq(dbmigrate_lint_get(run.r, 1)->migration, "002_b");
	ck_assert_str_eq(dbmigrate_lint_get(run.r, 2)->migration, "003_c");
	ck_assert_uint_eq(dbmigrate_lint_silenced(run.r), 1);
	free(all);
	run_free(&run);
	free(unset);
	free(zero);
	free(later);
	free(validate);
	free(silenced);
}
END_TEST

START_TEST(lock_timeout_from_the_runner)
{
	char *own = sql_file("-- dbmigrate:lock-timeout 5s\nALTER TABLE a ADD COLUMN x int;");
	char *plain = sql_file("ALTER TABLE a ADD COLUMN x int;");
	char *off = sql_file("-- dbmigrate:lock_timeout 0\nALTER TABLE a ADD COLUMN x int;");
	struct run run = LINT("postgres", "001_a.sql", own);
	dbmigrate_lint_result *r = NULL;

	/* The migration's own directive, as the runner applies it. */
	none(&run);
	run_free(&run);

	/* --sql-lock-timeout (or DBMIGRATE_SQL_LOCK_TIMEOUT) for every
	   migration; a migration's "0" turns it off again. */
	run = LINT("postgres", "001_a.sql", plain, "002_b.sql", off);
	dbmigrate_lint_free(run.r);
	ck_assert_int_eq(dbmigrate_set(run.m, "sql_lock_timeout", "5s"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_lint(run.m, NULL, 0, &r), DBMIGRATE_OK);
	run.r = r;
	ck_assert_str_eq(only(&run, "no-lock-timeout")->migration, "002_b");
	run_free(&run);
	free(own);
	free(plain);
	free(off);
}
END_TEST

START_TEST(directives_apply_to_one_statement)
{
	/* Above (with a comment between), at the end of the last line,
	   inside: each silences its own statement and not the next. */
	char *file = sql_file("SET LOCAL lock_timeout = '1s';\n"
			      "-- dbmigrate:lint-ignore drop-column\n"
			      "-- the column has been unused since v2\n"
			      "ALTER TABLE a DROP COLUMN x;\n"
			      "ALTER TABLE a DROP COLUMN y; -- dbmigrate:lint-ignore drop-column\n"
			      "ALTER TABLE a\n"
			      "  -- dbmigrate:lint-ignore drop-column\n"
			      "  DROP COLUMN z;\n"
			      "ALTER TABLE a DROP COLUMN w;\n"
			      "SELECT '-- dbmigrate:lint-ignore drop-column';\n"
			      "ALTER TABLE a DROP COLUMN v;");
	struct run run = LINT("postgres", "001_a.sql", file);
	char *all = dump(run.r);

	ck_assert_msg(dbmigrate_lint_count(run.r) == 2, "got:\n%s", all);
	ck_assert_uint_eq(dbmigrate_lint_get(run.r, 0)->line, 10);
	ck_assert_uint_eq(dbmigrate_lint_get(run.r, 1)->line, 12);
	ck_assert_uint_eq(dbmigrate_lint_silenced(run.r), 3);
	free(all);
	free(file);
	run_free(&run);
}
END_TEST

START_TEST(locations_in_sql_and_ts)
{
	/* The action's own line in a statement over several lines. */
	struct run run = LINT("postgres", "001_a.sql",
			      "-- migrate:up\nSET LOCAL lock_timeout = '1s';\n"
			      "ALTER TABLE users\n"
			      "  ADD COLUMN a int,\n"
			      "  ALTER COLUMN b SET NOT NULL;\n\n"
			      "-- migrate:down\nSELECT 1;\n");
	const dbmigrate_lint_warning *w = only(&run, "set-not-null");

	ck_assert_uint_eq(w->line, 5);
	ck_assert_uint_eq(w->column, 3);
	ck_assert_str_eq(w->source_line, "  ALTER COLUMN b SET NOT NULL;");
	run_free(&run);

	/* Findings of one statement come in the order of the line. */
	run = LINT("postgres", "001_a.sql",
		   "-- migrate:up\nALTER TABLE users RENAME COLUMN a TO b;\n\n"
		   "-- migrate:down\nSELECT 1;\n");
	ck_assert_uint_eq(dbmigrate_lint_count(run.r), 2);
	ck_assert_str_eq(dbmigrate_lint_get(run.r, 0)->rule, "no-lock-timeout");
	ck_assert_uint_eq(dbmigrate_lint_get(run.r, 0)->column, 1);
	ck_assert_str_eq(dbmigrate_lint_get(run.r, 1)->rule, "rename");
	ck_assert_uint_eq(dbmigrate_lint_get(run.r, 1)->column, 19);
	run_free(&run);

	/* The seed's format: lines of the .ts file, not of the SQL. */
	run = LINT("postgres", "001_b.ts",
		   "// db/migrations/001_b.ts\n"
		   "export const up = `\n"
		   "  SET LOCAL lock_timeout = '5s';\n"
		   "  CREATE INDEX idx_b ON users (b);\n"
		   "`;\n\n"
		   "export const down = `\n  DROP INDEX idx_b;\n`;\n");
	w = only(&run, "index-not-concurrent");
	ck_assert(ends_with(w->file, "/001_b.ts"));
	ck_assert_uint_eq(w->line, 4);
	ck_assert_uint_eq(w->column, 3);
	ck_assert_str_eq(w->source_line, "  CREATE INDEX idx_b ON users (b);");
	run_free(&run);

	/* A body on the line of its opening quote. */
	run = LINT("postgres", "001_c.ts",
		   "export const up = 'SET LOCAL lock_timeout = 1000; DROP TABLE old';\n"
		   "export const down = 'CREATE TABLE old (id int)';\n");
	w = only(&run, "drop-table");
	ck_assert_uint_eq(w->line, 1);
	ck_assert_uint_eq(w->column, 62);
	run_free(&run);
}
END_TEST

START_TEST(concurrently_alone_is_fine)
{
	/* The seed's 003: the runner puts it outside the transaction. */
	struct run run = LINT("postgres", "003_idx.ts",
			      "export const up = `\n"
			      "  CREATE INDEX CONCURRENTLY idx_users_email_lower\n"
			      "  ON users(LOWER(email));\n`;\n\n"
			      "export const down = `\n"
			      "  DROP INDEX CONCURRENTLY IF EXISTS idx_users_email_lower;\n`;\n");

	none(&run);
	run_free(&run);

	/* transaction:false sends BEGIN as written. */
	run = LINT("postgres", "001_a.sql",
		   "-- migrate:up transaction:false\nBEGIN;\n"
		   "CREATE INDEX CONCURRENTLY i ON users (a);\nCOMMIT;\n"
		   "CREATE INDEX CONCURRENTLY j ON users (b);\n\n"
		   "-- migrate:down\nSELECT 1;\n");
	ck_assert_uint_eq(only(&run, "concurrently-in-transaction")->line, 3);
	run_free(&run);
}
END_TEST

/* How many warnings of rule run found. */
static size_t count_rule(const struct run *run, const char *rule)
{
	size_t n = 0;

	ck_assert_msg(run->rc == DBMIGRATE_OK, "lint failed: %s",
		      dbmigrate_errmsg(run->m));
	for (size_t i = 0; i < dbmigrate_lint_count(run->r); i++)
		n += strcmp(dbmigrate_lint_get(run->r, i)->rule, rule) == 0;
	return n;
}

/* Citus's rules fire on the tables the migrations made Citus tables,
   across migrations and with ids; on the same SQL without Citus, never. */
START_TEST(citus_rules_need_citus_tables)
{
	static const char base[] =
		"CREATE TABLE orders (tenant int, id int, note text,\n"
		"  PRIMARY KEY (tenant, id));\n"
		"SELECT create_distributed_table('orders', 'tenant');\n"
		"INSERT INTO orders VALUES (1, 1, 'x');\n"
		"CREATE TABLE \"Countries\" (code text PRIMARY KEY);\n"
		"SELECT pg_catalog.create_reference_table('public.\"Countries\"');\n"
		"CREATE TABLE audit (id int PRIMARY KEY);";
	static const char later[] =
		"SET LOCAL lock_timeout = '5s';\n"
		"ALTER TABLE orders ADD CONSTRAINT audit_fk FOREIGN KEY (id)\n"
		"  REFERENCES audit (id) NOT VALID;\n"
		"ALTER TABLE audit ADD COLUMN t int REFERENCES orders (id);\n"
		"ALTER TABLE orders ADD CONSTRAINT c_fk FOREIGN KEY (note)\n"
		"  REFERENCES \"Countries\" (code) NOT VALID;\n"
		"ALTER TABLE orders ADD CONSTRAINT one UNIQUE (id);\n"
		"ALTER TABLE orders ADD CONSTRAINT two UNIQUE (id, tenant);\n"
		"CREATE UNIQUE INDEX orders_note ON orders (note);\n"
		"ALTER TABLE orders ALTER COLUMN note SET STATISTICS 100;\n"
		"ALTER TABLE orders ADD COLUMN n int CHECK (n > 0);\n"
		"ALTER TABLE orders SET WITHOUT CLUSTER;\n"
		"ALTER TABLE orders ADD COLUMN c text REFERENCES \"Countries\";\n"
		"CREATE TRIGGER t BEFORE UPDATE ON \"Countries\" FOR EACH ROW\n"
		"  EXECUTE FUNCTION f();\n"
		"CREATE TABLE events (tenant int, id int PRIMARY KEY);\n"
		"SELECT create_distributed_table('events', 'tenant');\n"
		"CREATE TABLE fresh (tenant int, id int, PRIMARY KEY (tenant, id));\n"
		"SELECT create_distributed_table('fresh', 'tenant');\n"
		"CREATE TABLE filled (tenant int);\n"
		"COPY filled FROM '/tmp/x';\n"
		"SELECT create_reference_table('filled');\n"
		"SELECT create_distributed_table('old', 'tenant');\n"
		"SELECT create_distributed_table_concurrently('old2', 'tenant');";
	static const char *const rules[] = {
		"citus-foreign-key-to-local", "citus-key-without-distribution-column",
		"citus-unsupported", "citus-trigger", "citus-distribute-with-data",
	};
	/* With the Citus calls. */
	static const size_t want[] = { 2, 3, 3, 1, 2 };
	char *f1 = sql_file(base), *f2 = sql_file(later), *plain;
	const char *const ids[] = { "002" };
	struct run run = LINT("postgres", "001_base.sql", f1, "002_later.sql", f2);
	char *all = dump(run.r);

	for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++)
		ck_assert_msg(count_rule(&run, rules[k]) == want[k],
			      "%s: %zu, expected %zu:\n%s", rules[k],
			      count_rule(&run, rules[k]), want[k], all);
	free(all);
	run_free(&run);
	/* lint 002 alone still knows what 001 distributed. */
	run = lint_ids("postgres", ids, 1, "001_base.sql", f1, "002_later.sql",
		       f2, (const char *)NULL);
	ck_assert_uint_eq(count_rule(&run, "citus-foreign-key-to-local"), 2);
	ck_assert_uint_eq(count_rule(&run, "citus-trigger"), 1);
	run_free(&run);
	/* The same statements on plain PostgreSQL: no Citus rule. */
	plain = sql_file("CREATE TABLE orders (tenant int, id int, note text,\n"
			 "  PRIMARY KEY (tenant, id));\n"
			 "CREATE TABLE audit (id int PRIMARY KEY);");
	run = LINT("postgres", "001_base.sql", plain, "002_later.sql",
		   "-- migrate:up\n"
		   "ALTER TABLE orders ADD CONSTRAINT audit_fk FOREIGN KEY (id)\n"
		   "  REFERENCES audit (id) NOT VALID;\n"
		   "ALTER TABLE audit ADD COLUMN t int REFERENCES orders (id);\n"
		   "ALTER TABLE orders ADD CONSTRAINT one UNIQUE (id);\n"
		   "ALTER TABLE orders ADD COLUMN n int CHECK (n > 0);\n"
		   "CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW\n"
		   "  EXECUTE FUNCTION f();\n"
		   "-- migrate:down\nSELECT 1;\n");
	for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++)
		ck_assert_uint_eq(count_rule(&run, rules[k]), 0);
	run_free(&run);
	free(plain);
	free(f1);
	free(f2);
}
END_TEST

#endif /* CHECK_LINT_POSTGRES */

/* ---- the command ---- */

START_TEST(cli_exit_codes)
{
	char *dir = tu_mkdtemp();
	char *clean = sql_file("SELECT 1;");
	struct tu_result r;

	free(tu_write(dir, "001_clean.sql", clean));
	r = tu_dbmigrate(dir, NULL, "lint", "--driver", "mock", "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "1 migration checked, no warnings"));
	tu_result_free(&r);

	free(tu_write(dir, "002_nodown.sql", "-- migrate:up\nSELECT 2;\n"));
	r = tu_dbmigrate(dir, NULL, "lint", "--driver", "mock", "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "/002_nodown.sql:1:1: warning: no down section"));
	ck_assert_ptr_nonnull(strstr(r.err, "[missing-down]\n"));
	ck_assert_ptr_nonnull(strstr(r.err, "  hint: "));
	ck_assert_ptr_nonnull(strstr(r.out, "1 warning in 2 migrations checked"));
	tu_result_free(&r);

	/* Only the migrations named. */
	r = tu_dbmigrate(dir, NULL, "lint", "001", "--driver", "mock", "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 0);
	tu_result_free(&r);
	r = tu_dbmigrate(dir, NULL, "lint", "--driver", "mock", "--dir", dir, "9", (const char *)NULL);
	tu_expect_status(&r, 2);
	tu_result_free(&r);

	free(tu_write(dir, "003_broken.sql", "-- migrate:up\nSELECT $$open;\n"));
	r = tu_dbmigrate(dir, NULL, "lint", "--driver", "mock", "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "003_broken.sql:2"));
	tu_result_free(&r);

	r = tu_dbmigrate(dir, NULL, "lint", "--driver", "nosuchdriver", "--dir", dir, "001",
			 (const char *)NULL);
	tu_expect_status(&r, 4);
	tu_result_free(&r);

	tu_rm_rf(dir);
	free(dir);
	free(clean);
}
END_TEST

/* --- --format json and sarif --- */

/* Parse a command's stdout as JSON, failing the test with the reason. */
static struct tjson *parse_out(const struct tu_result *r)
{
	const char *why = NULL;
	size_t at = 0;
	struct tjson *doc = tjson_parse(r->out, &why, &at);

	ck_assert_msg(doc != NULL, "stdout is not JSON (%s at byte %zu):\n%s",
		      why, at, r->out);
	ck_assert_int_eq(doc->type, TJSON_OBJECT);
	return doc;
}

/* Free a run made by lint_dir() (its directory is the caller's). */
static void run_free_lib(struct run *run)
{
	dbmigrate_lint_free(run->r);
	dbmigrate_close(run->m);
}

/* The library's findings for dir with driver (what the CLI must print). */
static struct run lint_dir(const char *driver, const char *dir)
{
	struct run run = { 0 };

	run.m = dbmigrate_new();
	ck_assert_ptr_nonnull(run.m);
	ck_assert_int_eq(dbmigrate_set(run.m, "dir", dir), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_set(run.m, "driver", driver), DBMIGRATE_OK);
	run.rc = dbmigrate_lint(run.m, NULL, 0, &run.r);
	ck_assert_int_eq(run.rc, DBMIGRATE_OK);
	return run;
}

/* A path into the document, built with printf's format. */
static const char *at(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return buf;
}

/* A string of the document that must be there. */
static const char *str_at(const struct tjson *doc, const char *path)
{
	const char *v = tjson_str(doc, path);

	ck_assert_msg(v != NULL, "JSON: no string at %s", path);
	return v;
}

/*
 * Assert that lint --format json for dir (driver) is the library's
 * findings, field by field and in order, with the summary's counts,
 * and that the text format prints exactly as many warnings, the same
 * ones. Returns the document, to free.
 */
static struct tjson *expect_json_is_lint(const char *driver, const char *dir)
{
	struct run lib = lint_dir(driver, dir);
	size_t n = dbmigrate_lint_count(lib.r);
	struct tu_result r = tu_dbmigrate(dir, NULL, "lint", "--format", "json",
					  "--driver", driver, "--dir", dir,
					  (const char *)NULL);
	struct tu_result text;
	struct tjson *doc;
	char p[64];

	tu_expect_status(&r, n == 0 ? 0 : 1);
	/* The findings are in the document only (stderr keeps the tool's
	   own warnings, such as a driver without rules of its own). */
	ck_assert_int_eq(tu_count(r.err, ": warning: "), 0);
	doc = parse_out(&r);
	ck_assert_uint_eq(tjson_len(doc, "findings"), n);
	ck_assert_uint_eq(tjson_num(doc, "summary.warnings"), n);
	ck_assert_uint_eq(tjson_num(doc, "summary.checked"),
			  dbmigrate_lint_checked(lib.r));
	ck_assert_uint_eq(tjson_num(doc, "summary.silenced"),
			  dbmigrate_lint_silenced(lib.r));

	text = tu_dbmigrate(dir, NULL, "lint", "--driver", driver, "--dir", dir,
			    (const char *)NULL);
	tu_expect_status(&text, n == 0 ? 0 : 1);
	ck_assert_int_eq(tu_count(text.err, ": warning: "), (int)n);
	for (size_t i = 0; i < n; i++) {
		const dbmigrate_lint_warning *w = dbmigrate_lint_get(lib.r, i);
		char *line;

		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "findings.%zu.migration", i)),
				 w->migration);
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "findings.%zu.file", i)),
				 w->file);
		ck_assert_uint_eq(tjson_num(doc, at(p, sizeof p, "findings.%zu.line", i)),
				  w->line);
		ck_assert_uint_eq(tjson_num(doc, at(p, sizeof p, "findings.%zu.column", i)),
				  w->column);
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "findings.%zu.rule", i)),
				 w->rule);
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "findings.%zu.severity", i)),
				 "warning");
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "findings.%zu.message", i)),
				 w->message);
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "findings.%zu.hint", i)),
				 w->hint);
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "findings.%zu.source_line", i)),
				 w->source_line);
		/* The same finding in the text format. */
		ck_assert_int_ne(asprintf(&line, "%s:%u:%u: warning: %s [%s]\n",
					  w->file, w->line, w->column,
					  w->message, w->rule), -1);
		tu_expect_has("lint's text", text.err, line);
		free(line);
	}
	tu_result_free(&text);
	tu_result_free(&r);
	run_free_lib(&lib);
	return doc;
}

/* A directory under a new scratch one, named with a space and an é, as
   a user's may be; *root gets the scratch directory, to remove. */
static char *odd_dir(char **root)
{
	char *dir;

	*root = tu_mkdtemp();
	ck_assert_int_ne(asprintf(&dir, "%s/mig r\xc3\xa9s", *root), -1);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	return dir;
}

/* Two findings of the mock (missing-down), one silenced, one clean. */
static void write_two_findings(const char *dir)
{
	char *ok = sql_file("SELECT 2;");

	free(tu_write(dir, "001_nodown.sql", "-- migrate:up\nCREATE TABLE a (id int);\n"));
	free(tu_write(dir, "002_ok.sql", ok));
	free(ok);
	free(tu_write(dir, "003_silenced.sql",
		      "-- migrate:up\n-- dbmigrate:lint-ignore missing-down\nSELECT 3;\n"));
	/* The source line of the finding holds what JSON must escape. */
	free(tu_write(dir, "004_odd.sql",
		      "-- \"quoted\" \\ back\tslash \xc3\xa9\n-- migrate:up\nSELECT 4;\n"));
}

START_TEST(cli_json_is_every_finding)
{
	char *root, *dir = odd_dir(&root), *path, *clean;
	struct tjson *doc;
	struct tu_result r, q;

	write_two_findings(dir);
	doc = expect_json_is_lint("mock", dir);
	/* The values a user reads, not only the library's. */
	ck_assert_uint_eq(tjson_len(doc, "findings"), 2);
	ck_assert_uint_eq(tjson_num(doc, "summary.checked"), 4);
	ck_assert_uint_eq(tjson_num(doc, "summary.warnings"), 2);
	ck_assert_uint_eq(tjson_num(doc, "summary.silenced"), 1);
	ck_assert_str_eq(tjson_str(doc, "findings.0.migration"), "001_nodown");
	ck_assert_int_ne(asprintf(&path, "%s/001_nodown.sql", dir), -1);
	ck_assert_str_eq(tjson_str(doc, "findings.0.file"), path);
	free(path);
	ck_assert_uint_eq(tjson_num(doc, "findings.0.line"), 1);
	ck_assert_uint_eq(tjson_num(doc, "findings.0.column"), 1);
	ck_assert_str_eq(tjson_str(doc, "findings.0.rule"), "missing-down");
	ck_assert_str_eq(tjson_str(doc, "findings.0.source_line"), "-- migrate:up");
	ck_assert_ptr_nonnull(strstr(tjson_str(doc, "findings.0.hint"), "down"));
	ck_assert_str_eq(tjson_str(doc, "findings.1.migration"), "004_odd");
	ck_assert_str_eq(tjson_str(doc, "findings.1.source_line"),
			 "-- \"quoted\" \\ back\tslash \xc3\xa9");
	tjson_free(doc);

	/* -q changes nothing: the document is the output. */
	r = tu_dbmigrate(dir, NULL, "lint", "--format", "json", "--driver", "mock",
			 "--dir", dir, (const char *)NULL);
	q = tu_dbmigrate(dir, NULL, "--format=json", "-q", "lint", "--driver", "mock",
			 "--dir", dir, (const char *)NULL);
	tu_expect_status(&q, 1);
	ck_assert_str_eq(q.out, r.out);
	tu_result_free(&q);
	tu_result_free(&r);

	/* Fixed, the set is clean: no findings, exit 0. */
	clean = sql_file("CREATE TABLE a (id int);");
	free(tu_write(dir, "001_nodown.sql", clean));
	free(tu_write(dir, "004_odd.sql", clean));
	doc = expect_json_is_lint("mock", dir);
	ck_assert_uint_eq(tjson_len(doc, "findings"), 0);
	ck_assert_uint_eq(tjson_num(doc, "summary.warnings"), 0);
	ck_assert_uint_eq(tjson_num(doc, "summary.checked"), 4);
	tjson_free(doc);
	free(clean);
	tu_rm_rf(root);
	free(dir);
	free(root);
}
END_TEST

/*
 * Assert that doc is a SARIF 2.1.0 log of lint's findings for dir
 * (driver): one run, the tool named with its version and the rules it
 * reports, one result per finding in order, each pointing at its rule
 * and at its file, line and column. Every path is checked for its type,
 * as a SARIF reader would.
 */
static void expect_sarif_is_lint(const struct tjson *doc, const char *driver,
				 const char *dir)
{
	struct run lib = lint_dir(driver, dir);
	size_t n = dbmigrate_lint_count(lib.r), nrules;
	const char *home;
	char p[96];

	ck_assert_str_eq(str_at(doc, "version"), "2.1.0");
	ck_assert_ptr_nonnull(strstr(str_at(doc, "$schema"), "sarif-2.1.0"));
	ck_assert_uint_eq(tjson_len(doc, "runs"), 1);
	ck_assert_str_eq(str_at(doc, "runs.0.tool.driver.name"), "dbmigrate");
	ck_assert_str_eq(str_at(doc, "runs.0.tool.driver.version"),
			 dbmigrate_version());
	home = tjson_str(doc, "runs.0.tool.driver.informationUri");
	ck_assert(tjson_path(doc, "runs.0.tool.driver.informationUri") == NULL ||
		  (home != NULL && strncmp(home, "https://", 8) == 0));
	ck_assert_str_eq(str_at(doc, "runs.0.columnKind"), "unicodeCodePoints");
	nrules = tjson_len(doc, "runs.0.tool.driver.rules");
	/* Rules: distinct ids, each one reported by some result. */
	for (size_t k = 0; k < nrules; k++) {
		const char *id = str_at(doc, at(p, sizeof p, "runs.0.tool.driver.rules.%zu.id", k));
		bool used = false;

		for (size_t j = 0; j < k; j++)
			ck_assert_str_ne(str_at(doc, at(p, sizeof p,
						       "runs.0.tool.driver.rules.%zu.id", j)),
					 id);
		for (size_t i = 0; i < n && !used; i++)
			used = strcmp(dbmigrate_lint_get(lib.r, i)->rule, id) == 0;
		ck_assert_msg(used, "rule %s is listed but reported by no result", id);
	}
	ck_assert_uint_eq(tjson_len(doc, "runs.0.results"), n);
	for (size_t i = 0; i < n; i++) {
		const dbmigrate_lint_warning *w = dbmigrate_lint_get(lib.r, i);
		double index = tjson_num(doc, at(p, sizeof p, "runs.0.results.%zu.ruleIndex", i));
		const char *text, *uri;

		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "runs.0.results.%zu.ruleId", i)),
				 w->rule);
		ck_assert(index >= 0 && index < (double)nrules);
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "runs.0.tool.driver.rules.%zu.id",
					       (size_t)index)),
				 w->rule);
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "runs.0.results.%zu.level", i)),
				 "warning");
		text = str_at(doc, at(p, sizeof p, "runs.0.results.%zu.message.text", i));
		ck_assert_msg(strncmp(text, w->message, strlen(w->message)) == 0 &&
			      strstr(text, w->hint) != NULL,
			      "result %zu: message.text is not the finding's "
			      "message and hint: %s", i, text);
		ck_assert_uint_eq(tjson_len(doc, at(p, sizeof p, "runs.0.results.%zu.locations", i)), 1);
		uri = str_at(doc, at(p, sizeof p, "runs.0.results.%zu.locations.0."
				     "physicalLocation.artifactLocation.uri", i));
		/* A URI: no space, no raw byte beyond ASCII, the file's name
		   at its end. */
		for (const char *c = uri; *c != '\0'; c++)
			ck_assert_msg(*c > ' ' && (unsigned char)*c < 0x7F,
				      "uri %s holds a character to escape", uri);
		ck_assert(ends_with(uri, strrchr(w->file, '/')));
		ck_assert_uint_eq(tjson_num(doc, at(p, sizeof p, "runs.0.results.%zu.locations.0."
						    "physicalLocation.region.startLine", i)),
				  w->line);
		ck_assert_uint_eq(tjson_num(doc, at(p, sizeof p, "runs.0.results.%zu.locations.0."
						    "physicalLocation.region.startColumn", i)),
				  w->column);
		ck_assert_str_eq(str_at(doc, at(p, sizeof p, "runs.0.results.%zu.locations.0."
					       "physicalLocation.region.snippet.text", i)),
				 w->source_line);
	}
	run_free_lib(&lib);
}

START_TEST(cli_sarif_is_every_finding)
{
	char *root, *dir = odd_dir(&root), *uri;
	struct tu_result r;
	struct tjson *doc;

	write_two_findings(dir);
	r = tu_dbmigrate(dir, NULL, "lint", "--format", "sarif", "--driver", "mock",
			 "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 1);
	ck_assert_int_eq(tu_count(r.err, ": warning: "), 0);
	doc = parse_out(&r);
	expect_sarif_is_lint(doc, "mock", dir);
	ck_assert_uint_eq(tjson_len(doc, "runs.0.results"), 2);
	ck_assert_uint_eq(tjson_len(doc, "runs.0.tool.driver.rules"), 1);
	ck_assert_str_eq(tjson_str(doc, "runs.0.tool.driver.rules.0.id"), "missing-down");
	/* An absolute path is a file: URI, percent-encoded. */
	ck_assert_int_ne(asprintf(&uri, "file://%s/mig%%20r%%C3%%A9s/001_nodown.sql", root), -1);
	ck_assert_str_eq(tjson_str(doc, "runs.0.results.0.locations.0.physicalLocation."
				   "artifactLocation.uri"), uri);
	free(uri);
	ck_assert_uint_eq(tjson_num(doc, "runs.0.results.0.locations.0.physicalLocation."
				    "region.startLine"), 1);
	tjson_free(doc);
	tu_result_free(&r);

	/* A relative --dir gives relative references, without "./". */
	r = tu_dbmigrate(root, NULL, "lint", "--format", "sarif", "--driver", "mock",
			 "--dir", "./mig r\xc3\xa9s", (const char *)NULL);
	tu_expect_status(&r, 1);
	doc = parse_out(&r);
	ck_assert_str_eq(tjson_str(doc, "runs.0.results.1.locations.0.physicalLocation."
				   "artifactLocation.uri"), "mig%20r%C3%A9s/004_odd.sql");
	tjson_free(doc);
	tu_result_free(&r);
	tu_rm_rf(root);
	free(dir);
	free(root);
}
END_TEST

/* --format: what lint refuses, and errors that stay errors. */
START_TEST(cli_format_errors)
{
	char *dir = tu_mkdtemp();
	struct tu_result r;

	free(tu_write(dir, "001_a.sql", "-- migrate:up\nSELECT 1;\n"));
	r = tu_dbmigrate(dir, NULL, "lint", "--format", "xml", "--driver", "mock",
			 "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "xml");
	ck_assert_str_eq(r.out, "");
	tu_result_free(&r);
	/* SARIF is lint's: status says so rather than print something else. */
	r = tu_dbmigrate(dir, NULL, "status", "--format", "sarif", "--url", "mock:",
			 "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "lint");
	ck_assert_str_eq(r.out, "");
	tu_result_free(&r);
	/* A bad file: exit 3, the error on stderr, no document on stdout. */
	free(tu_write(dir, "002_broken.sql", "-- migrate:up\nSELECT $$open;\n"));
	r = tu_dbmigrate(dir, NULL, "lint", "--format", "json", "--driver", "mock",
			 "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "002_broken.sql:2");
	ck_assert_str_eq(r.out, "");
	tu_result_free(&r);
	r = tu_dbmigrate(dir, NULL, "lint", "--format", "sarif", "--driver", "nosuchdriver",
			 "--dir", dir, "001", (const char *)NULL);
	tu_expect_status(&r, 4);
	ck_assert_str_eq(r.out, "");
	tu_result_free(&r);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

#ifdef CHECK_LINT_POSTGRES
START_TEST(cli_postgres_by_default)
{
	char *dir = tu_mkdtemp();
	struct tu_result r;

	free(tu_write(dir, "001_idx.sql",
		      "-- migrate:up\nSET LOCAL lock_timeout = '2s';\n"
		      "CREATE INDEX idx ON users (email);\n\n"
		      "-- migrate:down\nDROP INDEX idx;\n"));
	r = tu_dbmigrate(dir, NULL, "lint", "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "/001_idx.sql:3:1: warning: CREATE INDEX without "
					    "CONCURRENTLY"));
	ck_assert_ptr_nonnull(strstr(r.err, "[index-not-concurrent]\n"
					    " 3 | CREATE INDEX idx ON users (email);\n"
					    "   | ^\n"
					    "  hint: Use CREATE INDEX CONCURRENTLY"));
	tu_result_free(&r);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/*
 * --sql-lock-timeout on lint's command line stands for the one the
 * deploy will pass to up: no-lock-timeout stays quiet, other rules not.
 */
START_TEST(cli_sql_lock_timeout_option)
{
	char *dir = tu_mkdtemp();
	struct tu_result r;

	free(tu_write(dir, "001_fk.sql",
		      "-- migrate:up\nALTER TABLE orders ADD FOREIGN KEY (user_id) "
		      "REFERENCES users (id) NOT VALID;\n\n"
		      "-- migrate:down\nALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;\n"));
	r = tu_dbmigrate(dir, NULL, "lint", "--dir", dir, (const char *)NULL);
	tu_expect_status(&r, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "[no-lock-timeout]"));
	tu_result_free(&r);
	r = tu_dbmigrate(dir, NULL, "lint", "--dir", dir, "--sql-lock-timeout", "5s",
			 (const char *)NULL);
	tu_expect_status(&r, 0);
	ck_assert_ptr_null(strstr(r.err, "[no-lock-timeout]"));
	tu_result_free(&r);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* The PostgreSQL rules through both documents: several findings in one
   statement, columns past a tab, a .ts file, quotes in the source. */
START_TEST(cli_json_and_sarif_postgres_rules)
{
	char *root, *dir = odd_dir(&root);
	struct tu_result r;
	struct tjson *doc;

	free(tu_write(dir, "001_idx.sql",
		      "-- migrate:up\nCREATE INDEX idx ON users (email);\n\n"
		      "-- migrate:down\nDROP INDEX idx;\n"));
	free(tu_write(dir, "002_drop.ts",
		      "export const up = `\n\tALTER TABLE \"Odd\\\\x\" DROP COLUMN c;`;\n"
		      "export const down = `SELECT 1`;\n"));
	doc = expect_json_is_lint("postgres", dir);
	/* index-not-concurrent and no-lock-timeout on 001; no-lock-timeout
	   and drop-column on 002, the last one past the tab. */
	ck_assert_uint_eq(tjson_len(doc, "findings"), 4);
	ck_assert_str_eq(tjson_str(doc, "findings.3.rule"), "drop-column");
	ck_assert_uint_eq(tjson_num(doc, "findings.3.line"), 2);
	ck_assert_uint_eq(tjson_num(doc, "findings.3.column"), 22);
	ck_assert_str_eq(tjson_str(doc, "findings.3.source_line"),
			 "\tALTER TABLE \"Odd\\x\" DROP COLUMN c;");
	tjson_free(doc);

	r = tu_dbmigrate(dir, NULL, "lint", "--format", "sarif", "--dir", dir,
			 (const char *)NULL);
	tu_expect_status(&r, 1);
	doc = parse_out(&r);
	expect_sarif_is_lint(doc, "postgres", dir);
	/* Three rules for four results: no-lock-timeout listed once. */
	ck_assert_uint_eq(tjson_len(doc, "runs.0.tool.driver.rules"), 3);
	ck_assert_uint_eq(tjson_len(doc, "runs.0.results"), 4);
	tjson_free(doc);
	tu_result_free(&r);
	tu_rm_rf(root);
	free(dir);
	free(root);
}
END_TEST
#endif

int main(void)
{
	const TTest *const tests[] = {
		missing_down_fires_and_is_silenced, pairs_and_down_sections_count,
		ids_limit_the_migrations, bad_files_are_errors_with_a_location,
		cli_exit_codes, cli_json_is_every_finding,
		cli_sarif_is_every_finding, cli_format_errors,
#ifdef CHECK_LINT_POSTGRES
		tables_created_in_the_migration_are_new,
		lock_timeout_once_per_migration, lock_timeout_from_the_runner,
		directives_apply_to_one_statement, locations_in_sql_and_ts,
		concurrently_alone_is_fine, citus_rules_need_citus_tables,
		cli_postgres_by_default, cli_sql_lock_timeout_option,
		cli_json_and_sarif_postgres_rules,
#endif
		NULL
	};
	Suite *s = suite_create("lint");
	TCase *tc = tu_tcase(s, "lint", 60, tests);

#ifdef CHECK_LINT_POSTGRES
	tcase_add_loop_test(tc, each_rule_fires_and_its_directive_silences_it, 0,
			    (int)(sizeof samples / sizeof samples[0]));
#endif
	return tu_run_suite(s);
}
