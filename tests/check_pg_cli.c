/*
 * check_pg_cli.c - the dbmigrate command end to end against a real
 * PostgreSQL server: the built binary ($DBMIGRATE_BIN) run as a user
 * runs it, the database checked afterwards with SQL of our own.
 *
 * Covers the seed's workflow on the demo migrations (with the seed's
 * exact status text), atomic batches, down and reset, adopting a
 * tracking table the seed's tool wrote, drift, every configuration
 * source and their precedence, connection failures that never show the
 * password, the runner lock, the transaction rules (CREATE INDEX
 * CONCURRENTLY, dollar quotes, BEGIN/COMMIT wrappers, refused COMMIT,
 * partial runs outside a transaction), error locations with a caret,
 * and Ctrl-C/SIGTERM cancelling the statement on the server.
 *
 * One server runs for the whole program (pgserver.h); every test gets a
 * fresh database. Assertions are on exit codes, the status format SPEC
 * fixes, file names, lines, SQLSTATEs and database contents, not on the
 * wording of messages.
 */
#define _GNU_SOURCE /* asprintf, strcasestr in test code */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pgserver.h"
#include "testutil.h"

/* Run dbmigrate in cwd with extra env and the given arguments. */
#define RUN(cwd, env, ...) TU_RUN((cwd), (env), __VA_ARGS__)
#define RUN_EXPECT TU_RUN_EXPECT

/* A password no test ever uses for real: it must never be printed. */
#define BAD_PW "Wr0ngPassw0rdXYZ"

/* The seed's files, in the order of the demo set. */
static const char *const seed_files[] = {
	"001_create_users_table.ts",
	"002_create_user_sessions_table.ts",
	"003_add_email_index_to_users.ts",
	NULL
};

/* The seed's status text after `up` applied the whole demo set. */
static const char status_all_batch1[] =
	"📊 Migration Status:\n"
	"===================\n"
	"✅ Executed 001_create_users_table (batch: 1)\n"
	"✅ Executed 002_create_user_sessions_table (batch: 1)\n"
	"✅ Executed 003_add_email_index_to_users (batch: 1)\n"
	"\n"
	"Total: 3 | Executed: 3 | Pending: 0\n";

/* The same with nothing applied. */
static const char status_all_pending[] =
	"📊 Migration Status:\n"
	"===================\n"
	"⏳ Pending 001_create_users_table\n"
	"⏳ Pending 002_create_user_sessions_table\n"
	"⏳ Pending 003_add_email_index_to_users\n"
	"\n"
	"Total: 3 | Executed: 0 | Pending: 3\n";


/* A scratch project: root (the cwd of every run), root/migrations,
   and a fresh database on the test server. */
/* Make a project with an empty migrations directory. */
static struct tu_project project_new(void)
{
	struct tu_project p = tu_project_new(NULL);

	p.url = pgserver_new_database();
	return p;
}

/* Remove a migration file from the project's directory. */
static void drop(const struct tu_project *p, const char *name)
{
	char *path;

	ck_assert_int_ne(asprintf(&path, "%s/%s", p->dir, name), -1);
	ck_assert_msg(unlink(path) == 0, "cannot remove %s", path);
	free(path);
}

/* Copy the demo migrations (the seed's files) into the project. */
static void copy_seed(const struct tu_project *p)
{
	const char *src = tu_env("DBMIGRATE_SRCDIR");

	for (size_t i = 0; seed_files[i] != NULL; i++) {
		char *path, *text;

		ck_assert_int_ne(asprintf(&path, "%s/migrations/%s", src,
					  seed_files[i]), -1);
		text = tu_read(path);
		ck_assert_msg(text != NULL, "cannot read %s", path);
		tu_add(p, seed_files[i], text);
		free(text);
		free(path);
	}
}

/* Assert that sql on url returns expected (NULL: no row or NULL). */
static void expect_sql(const char *url, const char *sql, const char *expected)
{
	tu_expect_value(sql, pgserver_psql(url, sql), expected);
}

/* True when the relation (table, index, view...) exists on url. */
static bool relation_exists(const char *url, const char *name)
{
	char *sql, *got;
	bool yes;

	ck_assert_int_ne(asprintf(&sql, "SELECT to_regclass('%s') IS NOT NULL",
				  name), -1);
	got = pgserver_psql(url, sql);
	yes = got != NULL && strcmp(got, "t") == 0;
	free(got);
	free(sql);
	return yes;
}

/* Assert that the relation exists (or not). */
static void expect_relation(const char *url, const char *name, bool exists)
{
	ck_assert_msg(relation_exists(url, name) == exists,
		      "%s %s, expected it %s", name,
		      exists ? "is missing" : "exists",
		      exists ? "to exist" : "gone");
}

/* Rows of the tracking table "migrations", or -1 when it does not exist. */
static int tracking_rows(const char *url)
{
	char *got;
	int n;

	if (!relation_exists(url, "migrations"))
		return -1;
	got = pgserver_psql(url, "SELECT count(*) FROM migrations");
	ck_assert_ptr_nonnull(got);
	n = atoi(got);
	free(got);
	return n;
}

/* Assert that nothing is recorded: no tracking table, or an empty one. */
static void expect_nothing_recorded(const char *url)
{
	int n = tracking_rows(url);

	ck_assert_msg(n <= 0, "%d migrations recorded, expected none", n);
}

/* "id:batch" of every tracking row in order, joined by spaces. */
static char *tracking_summary(const char *url)
{
	char *s = pgserver_psql(url,
				"SELECT string_agg(id || ':' || batch, ' ' "
				"ORDER BY id) FROM migrations");

	return s != NULL ? s : strdup("");
}

/* Assert the tracking rows as "id:batch id:batch ...". */
static void expect_tracking(const char *url, const char *expected)
{
	char *got = tracking_summary(url);

	ck_assert_msg(strcmp(got, expected) == 0,
		      "tracking rows are \"%s\", expected \"%s\"", got,
		      expected);
	free(got);
}

/* A copy of the first line of text containing needle, or NULL. */
static char *line_with(const char *text, const char *needle)
{
	const char *hit = strstr(text, needle);
	const char *start, *end;

	if (hit == NULL)
		return NULL;
	for (start = hit; start > text && start[-1] != '\n'; start--)
		;
	end = hit + strcspn(hit, "\n");
	return strndup(start, (size_t)(end - start));
}

/* Assert that the line of text mentioning needle also holds mark
   (case-insensitive), or (want false) does not. */
static void expect_line_mark(const char *text, const char *needle,
			     const char *mark, bool want)
{
	char *line = line_with(text, needle);

	ck_assert_msg(line != NULL, "no line mentions %s:\n%s", needle, text);
	ck_assert_msg((strcasestr(line, mark) != NULL) == want,
		      "the line of %s %s \"%s\": %s", needle,
		      want ? "lacks" : "holds", mark, line);
	free(line);
}

/* True when word occurs in text as a whole word. */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; (p = strstr(p, word)) != NULL; p++) {
		bool left = p == text || !(p[-1] == '_' ||
					   (p[-1] >= 'a' && p[-1] <= 'z') ||
					   (p[-1] >= 'A' && p[-1] <= 'Z'));
		char c = p[n];
		bool right = !(c == '_' || (c >= 'a' && c <= 'z') ||
			       (c >= 'A' && c <= 'Z'));

		if (left && right)
			return true;
	}
	return false;
}

/*
 * The number written right before the first word "ran" of text (as in
 * "statements 1 to 3 ran"), -1 when no number stands there, -2 when
 * text has no word "ran".
 */
static long number_before_ran(const char *text)
{
	for (const char *p = text; (p = strstr(p, "ran")) != NULL; p++) {
		const char *q = p;

		if ((p > text && (p[-1] != ' ')) ||
		    (p[3] != ' ' && p[3] != ',' && p[3] != '.' && p[3] != ':'))
			continue;
		while (q > text && q[-1] == ' ')
			q--;
		if (q == text || q[-1] < '0' || q[-1] > '9')
			return -1;
		while (q > text && q[-1] >= '0' && q[-1] <= '9')
			q--;
		return strtol(q, NULL, 10);
	}
	return -2;
}

/* --- dbmigrate in the background --- */

/* What the background run wrote to stdout or stderr (to free). */
static char *bg_text(const char *path)
{
	char *s = tu_read(path);

	return s != NULL ? s : strdup("");
}

/*
 * The backend pid of the active query on url's database (other than
 * ours) whose text holds "pg_sleep", once one shows up within timeout
 * seconds; 0 when none does.
 */
static long sleeping_backend(const char *url, double timeout)
{
	double t0 = tu_now();

	do {
		char *pid = pgserver_psql(url,
					  "SELECT pid FROM pg_stat_activity "
					  "WHERE datname = current_database() "
					  "AND pid <> pg_backend_pid() "
					  "AND state = 'active' "
					  "AND query LIKE '%pg_sleep%' LIMIT 1");

		if (pid != NULL) {
			long v = atol(pid);

			free(pid);
			return v;
		}
		tu_nap(50);
	} while (tu_now() - t0 < timeout);
	return 0;
}

/* The pid of the session holding an advisory lock on url's database. */
static char *advisory_holder(const char *url)
{
	return pgserver_psql(url,
			     "SELECT pid FROM pg_locks WHERE locktype = "
			     "'advisory' AND granted AND database = (SELECT "
			     "oid FROM pg_database WHERE datname = "
			     "current_database()) LIMIT 1");
}

/* --- the seed's workflow --- */

START_TEST(seed_workflow)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *line;

	copy_seed(&p);
	RUN_EXPECT(0, p.root, NULL, "init", "--url", p.url);
	ck_assert_int_eq(tracking_rows(p.url), 0);
	expect_sql(p.url,
		   "SELECT string_agg(column_name || ' ' || data_type, ', ' "
		   "ORDER BY ordinal_position) FROM information_schema.columns "
		   "WHERE table_name = 'migrations'",
		   "id character varying, name character varying, "
		   "executed_at timestamp with time zone, batch integer, "
		   "checksum character varying, down_sql text");
	/* init is idempotent. */
	RUN_EXPECT(0, p.root, NULL, "init", "--url", p.url);

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, status_all_pending);
	tu_result_free(&r);

	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 0);
	/* The plan says 003 runs outside the transaction. */
	line = line_with(r.out, "003_add_email_index_to_users");
	ck_assert_msg(line != NULL && strstr(line, "transaction") != NULL,
		      "the plan does not say 003 runs outside the "
		      "transaction:\n%s", r.out);
	free(line);
	tu_result_free(&r);

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, status_all_batch1);
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:1 003:1");
	expect_sql(p.url,
		   "SELECT count(*) FROM migrations WHERE checksum ~ "
		   "'^[0-9a-f]{64}$' AND executed_at IS NOT NULL",
		   "3");
	expect_sql(p.url,
		   "SELECT indexdef FROM pg_indexes WHERE indexname = "
		   "'idx_users_email_lower'",
		   "CREATE INDEX idx_users_email_lower ON public.users "
		   "USING btree (lower((email)::text))");
	expect_sql(p.url,
		   "SELECT indisvalid FROM pg_index WHERE indexrelid = "
		   "'idx_users_email_lower'::regclass",
		   "t");
	expect_relation(p.url, "user_sessions", true);

	/* A second up has nothing to do. */
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1 003:1");

	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url);
	expect_relation(p.url, "idx_users_email_lower", false);
	expect_relation(p.url, "user_sessions", false);
	expect_relation(p.url, "users", false);
	ck_assert_int_eq(tracking_rows(p.url), 0);

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, status_all_pending);
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(status_two_executed_one_pending)
{
	struct tu_project p = project_new();
	struct tu_result r;

	copy_seed(&p);
	RUN_EXPECT(0, p.root, NULL, "up", "--to", "002", "--url", p.url);
	expect_relation(p.url, "user_sessions", true);
	expect_relation(p.url, "idx_users_email_lower", false);

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, tu_status_2_1);
	ck_assert_str_eq(r.err, "");
	tu_result_free(&r);

	r = RUN(p.root, NULL, "status", "--format", "json", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("status json", r.out,
		   "{\"id\": \"003\", \"name\": \"add_email_index_to_users\", "
		   "\"state\": \"pending\", \"batch\": null, "
		   "\"executed_at\": null");
	tu_expect_has("status json", r.out,
		   "{\"id\": \"001\", \"name\": \"create_users_table\", "
		   "\"state\": \"executed\", \"batch\": 1, \"executed_at\": \"");
	tu_expect_has("status json", r.out,
		   "\"total\": 3, \"executed\": 2, \"pending\": 1");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

/* --- batches --- */

START_TEST(failed_batch_leaves_nothing)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_a.sql",
	    "-- migrate:up\nCREATE TABLE a (id int);\n\n"
	    "-- migrate:down\nDROP TABLE a;\n");
	tu_add(&p, "002_b.sql",
	    "-- migrate:up\nCREATE TABLE b (id int);\n"
	    "INSERT INTO b VALUES (1), (2);\n\n"
	    "-- migrate:down\nDROP TABLE b;\n");
	tu_add(&p, "003_bad.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE c (id int);\n"
	    "INSERT INTO c SELECT id FROM missing_table;\n\n"
	    "-- migrate:down\nDROP TABLE c;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "003_bad.sql:3:30");
	tu_expect_has("stderr", r.err, "42P01");
	tu_expect_has("stderr", r.err, "missing_table");
	tu_result_free(&r);
	expect_relation(p.url, "a", false);
	expect_relation(p.url, "b", false);
	expect_relation(p.url, "c", false);
	expect_nothing_recorded(p.url);

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("status", r.out, "Total: 3 | Executed: 0 | Pending: 3\n");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(down_removes_last_batch_only)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_a.sql",
	    "-- migrate:up\nCREATE TABLE a (id int);\n\n"
	    "-- migrate:down\nDROP TABLE a;\n");
	tu_add(&p, "002_b.sql",
	    "-- migrate:up\nCREATE TABLE b (id int);\n\n"
	    "-- migrate:down\nDROP TABLE b;\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	tu_add(&p, "003_c.sql",
	    "-- migrate:up\nCREATE TABLE c (id int);\n\n"
	    "-- migrate:down\nDROP TABLE c;\n");
	tu_add(&p, "004_d.sql",
	    "-- migrate:up\nCREATE TABLE d (c_id int);\n\n"
	    "-- migrate:down\nDROP TABLE d;\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1 003:2 004:2");

	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1");
	expect_relation(p.url, "a", true);
	expect_relation(p.url, "b", true);
	expect_relation(p.url, "c", false);
	expect_relation(p.url, "d", false);

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out,
			 "📊 Migration Status:\n"
			 "===================\n"
			 "✅ Executed 001_a (batch: 1)\n"
			 "✅ Executed 002_b (batch: 1)\n"
			 "⏳ Pending 003_c\n"
			 "⏳ Pending 004_d\n"
			 "\n"
			 "Total: 4 | Executed: 2 | Pending: 2\n");
	tu_result_free(&r);

	/* The next up makes them batch 2 again. */
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1 003:2 004:2");
	tu_project_free(&p);
}
END_TEST

START_TEST(reset_force_and_refusal)
{
	struct tu_project p = project_new();
	struct tu_result r;

	/* Two batches; the second's down is DROP INDEX CONCURRENTLY. */
	copy_seed(&p);
	RUN_EXPECT(0, p.root, NULL, "up", "--to", "002", "--url", p.url);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1 003:2");

	/* stdin is /dev/null: no terminal, no --force, no reset. */
	r = RUN(p.root, NULL, "reset", "--url", p.url);
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "--force");
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:1 003:2");
	expect_relation(p.url, "users", true);
	expect_relation(p.url, "idx_users_email_lower", true);

	RUN_EXPECT(0, p.root, NULL, "reset", "--force", "--url", p.url);
	expect_relation(p.url, "idx_users_email_lower", false);
	expect_relation(p.url, "user_sessions", false);
	expect_relation(p.url, "users", false);
	expect_relation(p.url, "migrations", false);

	/* Everything is pending again, and up starts over at batch 1. */
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, status_all_pending);
	tu_result_free(&r);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1 003:1");
	tu_project_free(&p);
}
END_TEST

/* --- a database the seed's tool managed --- */

/*
 * Make p's database look like one the seed's tool managed: the seed's
 * tracking table (no checksum column) recording 001 and 002 as batch 1,
 * and the tables their up SQL created.
 */
static void seed_database(const struct tu_project *p)
{
	free(pgserver_psql(p->url,
			   "CREATE TABLE users (id SERIAL PRIMARY KEY, "
			   "email VARCHAR(255) UNIQUE NOT NULL, created_at "
			   "TIMESTAMP WITH TIME ZONE DEFAULT "
			   "CURRENT_TIMESTAMP)"));
	free(pgserver_psql(p->url,
			   "CREATE TABLE user_sessions (id SERIAL PRIMARY KEY, "
			   "user_id INTEGER NOT NULL REFERENCES users(id) ON "
			   "DELETE CASCADE, token VARCHAR(255) UNIQUE NOT NULL, "
			   "expires_at TIMESTAMP WITH TIME ZONE NOT NULL, "
			   "created_at TIMESTAMP WITH TIME ZONE DEFAULT "
			   "CURRENT_TIMESTAMP); CREATE INDEX "
			   "idx_user_sessions_user_id ON user_sessions(user_id)"));
	free(pgserver_psql(p->url,
			   "CREATE TABLE migrations ("
			   "id VARCHAR(255) PRIMARY KEY, "
			   "name VARCHAR(255) NOT NULL, "
			   "executed_at TIMESTAMP WITH TIME ZONE, "
			   "batch INTEGER NOT NULL); "
			   "INSERT INTO migrations VALUES "
			   "('001', 'create_users_table', now() - "
			   "interval '1 day', 1), "
			   "('002', 'create_user_sessions_table', now() - "
			   "interval '1 day', 1)"));
}

/*
 * KNOWN BUG (see the pgcli report): up on a seed-managed database fails
 * with "column checksum does not exist" (SQLSTATE 42703): the migrator
 * reads the tracking rows before ensure_table() adds the column, and
 * the postgres driver's read_rows selects it unconditionally. With
 * `dbmigrate init` run first, everything below passes.
 */
START_TEST(seed_table_adopted)
{
	struct tu_project p = project_new();
	struct tu_result r;

	copy_seed(&p);
	seed_database(&p);
	r = RUN(p.root, NULL, "up", "--url", p.url);
	ck_assert_msg(r.status == 0,
		      "KNOWN BUG: up cannot read the seed's tracking table "
		      "before adding the checksum column: exit %d\n%s",
		      r.status, r.err);
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:1 003:2");
	expect_relation(p.url, "idx_users_email_lower", true);
	expect_sql(p.url,
		   "SELECT data_type || ' ' || character_maximum_length FROM "
		   "information_schema.columns WHERE table_name = "
		   "'migrations' AND column_name = 'checksum'",
		   "character varying 64");
	expect_sql(p.url,
		   "SELECT string_agg(id, ' ' ORDER BY id) FROM migrations "
		   "WHERE checksum IS NULL",
		   "001 002");

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out,
			 "📊 Migration Status:\n"
			 "===================\n"
			 "✅ Executed 001_create_users_table (batch: 1)\n"
			 "✅ Executed 002_create_user_sessions_table (batch: 1)\n"
			 "✅ Executed 003_add_email_index_to_users (batch: 2)\n"
			 "\n"
			 "Total: 3 | Executed: 3 | Pending: 0\n");
	tu_result_free(&r);

	RUN_EXPECT(0, p.root, NULL, "validate", "--url", p.url);

	/* down takes batch 2 only; the seed's rows stay. */
	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1");
	expect_relation(p.url, "idx_users_email_lower", false);
	expect_relation(p.url, "users", true);
	tu_project_free(&p);
}
END_TEST

/*
 * KNOWN BUG (see the pgcli report): status on a seed-managed database,
 * before any up added the checksum column, fails with "column checksum
 * does not exist" (SQLSTATE 42703): the postgres driver's read_rows
 * selects checksum whether or not the table has it. Status must read
 * the seed's table as it is, without changing it.
 */
START_TEST(seed_table_status_before_up)
{
	struct tu_project p = project_new();
	struct tu_result r;

	copy_seed(&p);
	seed_database(&p);
	r = RUN(p.root, NULL, "status", "--url", p.url);
	ck_assert_msg(r.status == 0,
		      "KNOWN BUG: status cannot read the seed's tracking "
		      "table (no checksum column): exit %d\n%s",
		      r.status, r.err);
	ck_assert_str_eq(r.out, tu_status_2_1);
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:1");
	tu_project_free(&p);
}
END_TEST

/* --- drift --- */

/* The JSON object of migration id in status --format json output. */
static char *json_entry(const char *json, const char *id)
{
	char *key, *hit, *copy;

	ck_assert_int_ne(asprintf(&key, "{\"id\": \"%s\"", id), -1);
	hit = strstr(json, key);
	ck_assert_msg(hit != NULL, "no entry %s in %s", id, json);
	copy = strndup(hit, strcspn(hit, "}") + 1);
	free(key);
	return copy;
}

START_TEST(drift_marks_and_validate)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *path, *text, *e;

	copy_seed(&p);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	RUN_EXPECT(0, p.root, NULL, "validate", "--url", p.url);

	/* Same SQL, one more comment line: the checksum changes. */
	ck_assert_int_ne(asprintf(&path, "%s/%s", p.dir, seed_files[1]), -1);
	text = tu_read(path);
	ck_assert_ptr_nonnull(text);
	{
		char *more;

		ck_assert_int_ne(asprintf(&more, "// edited after it was "
					  "applied\n%s", text), -1);
		tu_add(&p, seed_files[1], more);
		free(more);
	}
	free(text);
	free(path);
	drop(&p, seed_files[2]);

	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	expect_line_mark(r.out, "002_create_user_sessions_table", "modified",
			 true);
	expect_line_mark(r.out, "001_create_users_table", "modified", false);
	expect_line_mark(r.out, "003_add_email_index_to_users", "missing",
			 true);
	expect_line_mark(r.out, "001_create_users_table", "missing", false);
	tu_expect_has("status", r.out, "Total: 3 | Executed: 2 | Pending: 0");
	tu_result_free(&r);

	r = RUN(p.root, NULL, "status", "--format", "json", "--url", p.url);
	tu_expect_status(&r, 0);
	e = json_entry(r.out, "001");
	tu_expect_has("001", e, "\"state\": \"executed\"");
	tu_expect_has("001", e, "\"modified\": false");
	free(e);
	e = json_entry(r.out, "002");
	tu_expect_has("002", e, "\"state\": \"executed\"");
	tu_expect_has("002", e, "\"modified\": true");
	free(e);
	e = json_entry(r.out, "003");
	tu_expect_has("003", e, "\"state\": \"missing\"");
	tu_expect_has("003", e, "\"batch\": 1");
	free(e);
	tu_result_free(&r);

	r = RUN(p.root, NULL, "validate", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("validate", r.out, "002_create_user_sessions_table");
	tu_expect_has("validate", r.out, "003_add_email_index_to_users");
	tu_result_free(&r);
	/* Nothing was touched by looking. */
	expect_tracking(p.url, "001:1 002:1 003:1");
	tu_project_free(&p);
}
END_TEST

/* --- configuration sources --- */

/* A project with one migration creating table "cfg". */
static struct tu_project config_project(void)
{
	struct tu_project p = project_new();

	tu_add(&p, "001_cfg.sql",
	    "-- migrate:up\nCREATE TABLE cfg (id int);\n\n"
	    "-- migrate:down\nDROP TABLE cfg;\n");
	return p;
}

/* The URL of p's database with another password (to free). */
static char *url_with_password(const struct tu_project *p, const char *pw)
{
	char *u;

	ck_assert_int_ne(asprintf(&u, "postgres://%s:%s@%s:%s/%s",
				  pgserver_user(), pw, pgserver_host(),
				  pgserver_port(), pgserver_dbname(p->url)),
			 -1);
	return u;
}

/* Run up in p's root with env (and extra args); expect status, and on
   success that table cfg exists in p's database (and only then). */
static void config_up(const struct tu_project *p, const char *const *env,
		      const char *arg1, const char *arg2, int status)
{
	struct tu_result r = RUN(p->root, env, "up", arg1, arg2);

	tu_expect_status(&r, status);
	ck_assert_msg(strstr(r.out, BAD_PW) == NULL &&
			      strstr(r.err, BAD_PW) == NULL,
		      "the password was printed:\n%s%s", r.out, r.err);
	tu_result_free(&r);
	expect_relation(p->url, "cfg", status == 0);
	if (status == 0) {
		free(pgserver_psql(p->url, "DROP TABLE cfg; DROP TABLE "
					   "migrations"));
	}
}

START_TEST(config_url_flag_and_env)
{
	struct tu_project p = config_project();
	char *bad = url_with_password(&p, BAD_PW);
	char *envurl, *envbad;

	ck_assert_int_ne(asprintf(&envurl, "DATABASE_URL=%s", p.url), -1);
	ck_assert_int_ne(asprintf(&envbad, "DATABASE_URL=%s", bad), -1);
	/* --url alone; DATABASE_URL alone; the flag beats the variable. */
	config_up(&p, NULL, "--url", p.url, 0);
	config_up(&p, (const char *const[]){ envurl, NULL }, NULL, NULL, 0);
	config_up(&p, (const char *const[]){ envbad, NULL }, "--url", p.url, 0);
	/* And the other way round proves the wrong one is really wrong. */
	config_up(&p, (const char *const[]){ envurl, NULL }, "--url", bad, 4);
	free(envurl);
	free(envbad);
	free(bad);
	tu_project_free(&p);
}
END_TEST

START_TEST(config_dotenv)
{
	struct tu_project p = config_project();
	char *bad = url_with_password(&p, BAD_PW);
	char *text, *envurl;

	/* DATABASE_URL in ./.env, quoted, among comments. */
	ck_assert_int_ne(asprintf(&text, "# the project's database\n"
				  "DATABASE_URL=\"%s\"\n"
				  "OTHER=1 # unrelated\n", p.url), -1);
	free(tu_write(p.root, ".env", text));
	free(text);
	config_up(&p, NULL, NULL, NULL, 0);

	/* A wrong URL in .env: the environment's right one wins... */
	ck_assert_int_ne(asprintf(&text, "DATABASE_URL=%s\n", bad), -1);
	free(tu_write(p.root, ".env", text));
	free(text);
	ck_assert_int_ne(asprintf(&envurl, "DATABASE_URL=%s", p.url), -1);
	config_up(&p, (const char *const[]){ envurl, NULL }, NULL, NULL, 0);
	/* ...and so does the flag. */
	config_up(&p, NULL, "--url", p.url, 0);
	/* Alone, the wrong one is used, and fails. */
	config_up(&p, NULL, NULL, NULL, 4);
	free(envurl);
	free(bad);
	tu_project_free(&p);
}
END_TEST

START_TEST(config_db_variables)
{
	struct tu_project p = config_project();
	char *host, *port, *name, *user, *pw, *text;

	ck_assert_int_ne(asprintf(&host, "DB_HOST=%s", pgserver_host()), -1);
	ck_assert_int_ne(asprintf(&port, "DB_PORT=%s", pgserver_port()), -1);
	ck_assert_int_ne(asprintf(&name, "DB_NAME=%s", pgserver_dbname(p.url)),
			 -1);
	ck_assert_int_ne(asprintf(&user, "DB_USER=%s", pgserver_user()), -1);
	ck_assert_int_ne(asprintf(&pw, "DB_PASSWORD=%s", pgserver_password()),
			 -1);
	/* In the environment. */
	config_up(&p, (const char *const[]){ host, port, name, user, pw, NULL },
		  NULL, NULL, 0);
	/* A wrong password among them fails (so they are really used). */
	config_up(&p, (const char *const[]){ host, port, name, user,
					     "DB_PASSWORD=" BAD_PW, NULL },
		  "-v", NULL, 4);

	/* In ./.env. */
	ck_assert_int_ne(asprintf(&text, "%s\n%s\n%s\n%s\n%s\n", host, port,
				  name, user, pw), -1);
	free(tu_write(p.root, ".env", text));
	free(text);
	config_up(&p, NULL, NULL, NULL, 0);

	/* .env with a wrong password: the environment's wins, key by key. */
	ck_assert_int_ne(asprintf(&text, "%s\n%s\n%s\n%s\nDB_PASSWORD='%s'\n",
				  host, port, name, user, BAD_PW), -1);
	free(tu_write(p.root, ".env", text));
	free(text);
	config_up(&p, NULL, "-v", NULL, 4);
	config_up(&p, (const char *const[]){ pw, NULL }, NULL, NULL, 0);
	free(host);
	free(port);
	free(name);
	free(user);
	free(pw);
	tu_project_free(&p);
}
END_TEST

START_TEST(config_libpq_defaults)
{
	struct tu_project p = config_project();
	char *host, *port, *name, *user, *pw;

	ck_assert_int_ne(asprintf(&host, "PGHOST=%s", pgserver_host()), -1);
	ck_assert_int_ne(asprintf(&port, "PGPORT=%s", pgserver_port()), -1);
	ck_assert_int_ne(asprintf(&name, "PGDATABASE=%s",
				  pgserver_dbname(p.url)), -1);
	ck_assert_int_ne(asprintf(&user, "PGUSER=%s", pgserver_user()), -1);
	ck_assert_int_ne(asprintf(&pw, "PGPASSWORD=%s", pgserver_password()),
			 -1);
	config_up(&p, (const char *const[]){ host, port, name, user, pw, NULL },
		  NULL, NULL, 0);
	config_up(&p, (const char *const[]){ host, port, name, user,
					     "PGPASSWORD=" BAD_PW, NULL },
		  NULL, NULL, 4);
	free(host);
	free(port);
	free(name);
	free(user);
	free(pw);
	tu_project_free(&p);
}
END_TEST

/* --- connection failures --- */

START_TEST(wrong_password_never_printed)
{
	struct tu_project p = config_project();
	char *bad = url_with_password(&p, BAD_PW);
	char *keywords;
	struct tu_result r;

	ck_assert_int_ne(asprintf(&keywords, "host=%s port=%s dbname=%s "
				  "user=%s password=%s", pgserver_host(),
				  pgserver_port(), pgserver_dbname(p.url),
				  pgserver_user(), BAD_PW), -1);
	{
		const char *const runs[][3] = {
			{ "status", NULL, NULL },
			{ "up", "-v", NULL },
		};

		for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
			r = RUN(p.root, NULL, runs[i][0], "--url", bad,
				runs[i][1]);
			tu_expect_status(&r, 4);
			tu_expect_lacks("stdout", r.out, BAD_PW);
			tu_expect_lacks("stderr", r.err, BAD_PW);
			ck_assert_msg(strcasestr(r.err, "password") != NULL,
				      "stderr does not say the password was "
				      "refused:\n%s", r.err);
			tu_result_free(&r);
		}
	}
	r = RUN(p.root, NULL, "up", "-v", "--url", keywords);
	tu_expect_status(&r, 4);
	tu_expect_lacks("stdout", r.out, BAD_PW);
	tu_expect_lacks("stderr", r.err, BAD_PW);
	tu_result_free(&r);
	{
		char *env;
		const char *envv[2] = { NULL, NULL };

		ck_assert_int_ne(asprintf(&env, "DATABASE_URL=%s", bad), -1);
		envv[0] = env;
		r = RUN(p.root, envv, "up", "-v");
		tu_expect_status(&r, 4);
		tu_expect_lacks("stdout", r.out, BAD_PW);
		tu_expect_lacks("stderr", r.err, BAD_PW);
		tu_result_free(&r);
		free(env);
	}
	expect_relation(p.url, "migrations", false);
	free(keywords);
	free(bad);
	tu_project_free(&p);
}
END_TEST

/* A listening TCP socket on 127.0.0.1 (port in *port); listen() only,
   never accept(): the handshake completes, the server never speaks. */
static int silent_listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

START_TEST(unreachable_server_exit_4)
{
	struct tu_project p = config_project();
	struct tu_result r;
	char *url;
	double t0;
	int fd, port;

	/* A port nothing listens on: bind, learn it, close. */
	fd = silent_listener(&port);
	close(fd);
	ck_assert_int_ne(asprintf(&url, "postgres://u:" BAD_PW
				  "@127.0.0.1:%d/x", port), -1);
	t0 = tu_now();
	r = RUN(p.root, NULL, "up", "--connect-timeout", "2", "--url", url);
	ck_assert_double_lt(tu_now() - t0, 4.0);
	tu_expect_status(&r, 4);
	tu_expect_has("stderr", r.err, "127.0.0.1");
	tu_expect_lacks("stderr", r.err, BAD_PW);
	tu_result_free(&r);
	free(url);

	/* A server that never answers: --connect-timeout ends the wait. */
	fd = silent_listener(&port);
	ck_assert_int_ne(asprintf(&url, "postgres://u:" BAD_PW
				  "@127.0.0.1:%d/x", port), -1);
	t0 = tu_now();
	r = RUN(p.root, NULL, "status", "--connect-timeout", "2", "--url", url);
	ck_assert_msg(tu_now() - t0 < 6.0, "took %.1f s", tu_now() - t0);
	tu_expect_status(&r, 4);
	tu_expect_has("stderr", r.err, "127.0.0.1");
	tu_expect_lacks("stderr", r.err, BAD_PW);
	tu_result_free(&r);
	close(fd);
	free(url);
	tu_project_free(&p);
}
END_TEST

/* --- the runner lock --- */

START_TEST(lock_timeout_names_holder)
{
	struct tu_project p = project_new();
	struct tu_result r;
	struct tu_bg b;
	char *holder, *out;

	tu_add(&p, "001_slow.sql",
	    "-- migrate:up\nCREATE TABLE slow (id int);\n"
	    "SELECT pg_sleep(5);\n\n-- migrate:down\nDROP TABLE slow;\n");
	b = tu_start(p.root, (const char *const[]){ "up", "--url", p.url,
						    NULL });
	ck_assert_msg(sleeping_backend(p.url, 10) != 0,
		      "the first run never reached pg_sleep");
	holder = advisory_holder(p.url);
	ck_assert_msg(holder != NULL, "nobody holds an advisory lock");

	/* Exit 5, not 0: it gave up before the holder's 5 s were over. */
	r = RUN(p.root, NULL, "up", "--lock-timeout", "1", "--url", p.url);
	tu_expect_status(&r, 5);
	tu_expect_has("stderr", r.err, holder);
	tu_expect_has("stderr", r.err, "dbmigrate");
	tu_result_free(&r);

	ck_assert_int_eq(tu_wait(&b, 15), 0);
	out = bg_text(b.out);
	tu_expect_has("first run", out, "001_slow");
	free(out);
	expect_tracking(p.url, "001:1");
	expect_relation(p.url, "slow", true);
	free(holder);
	tu_bg_free(&b);
	tu_project_free(&p);
}
END_TEST

START_TEST(second_runner_waits_then_sees_new_state)
{
	struct tu_project p = project_new();
	struct tu_bg b;

	tu_add(&p, "001_slow.sql",
	    "-- migrate:up\nCREATE TABLE slow (id int);\n"
	    "SELECT pg_sleep(2);\n\n-- migrate:down\nDROP TABLE slow;\n");
	b = tu_start(p.root, (const char *const[]){ "up", "--url", p.url,
						    NULL });
	ck_assert_msg(sleeping_backend(p.url, 10) != 0,
		      "the first run never reached pg_sleep");
	/* Waits for the lock, then finds nothing left to apply. */
	RUN_EXPECT(0, p.root, NULL, "up", "--lock-timeout", "20", "--url", p.url);
	ck_assert_int_eq(tu_wait(&b, 15), 0);
	expect_tracking(p.url, "001:1");
	tu_bg_free(&b);
	tu_project_free(&p);
}
END_TEST

/* --- issue 4: transactions on the real server --- */

START_TEST(dollar_quoted_function)
{
	struct tu_project p = project_new();

	tu_add(&p, "001_functions.sql",
	    "-- migrate:up\n"
	    "CREATE FUNCTION add_one(i integer) RETURNS integer AS $$\n"
	    "BEGIN\n"
	    "  -- a comment; with a semicolon\n"
	    "  RETURN i + 1;\n"
	    "END;\n"
	    "$$ LANGUAGE plpgsql;\n"
	    "CREATE FUNCTION tagged() RETURNS text AS $body$\n"
	    "  SELECT 'x;y'::text;\n"
	    "$body$ LANGUAGE sql;\n"
	    "DO $do$ BEGIN PERFORM add_one(1); END $do$;\n"
	    "\n"
	    "-- migrate:down\n"
	    "DROP FUNCTION tagged();\n"
	    "DROP FUNCTION add_one(integer);\n");
	tu_add(&p, "002_ts_function.ts",
	    "export const up = `\n"
	    "  CREATE FUNCTION twice(i integer) RETURNS integer AS $fn$\n"
	    "  BEGIN\n"
	    "    RETURN i * 2;\n"
	    "  END;\n"
	    "  $fn$ LANGUAGE plpgsql;\n"
	    "`;\n"
	    "export const down = `DROP FUNCTION twice(integer);`;\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_sql(p.url, "SELECT add_one(41)", "42");
	expect_sql(p.url, "SELECT tagged()", "x;y");
	expect_sql(p.url, "SELECT twice(21)", "42");
	expect_tracking(p.url, "001:1 002:1");

	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url);
	expect_sql(p.url,
		   "SELECT count(*) FROM pg_proc WHERE proname IN "
		   "('add_one', 'tagged', 'twice')",
		   "0");
	tu_project_free(&p);
}
END_TEST

START_TEST(semicolons_in_strings_and_comments)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_semi.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE semi (v text);\n"
	    "INSERT INTO semi VALUES ('a;b'); -- trailing; comment\n"
	    "/* block; comment /* nested; */ still; */\n"
	    "INSERT INTO semi VALUES (E'c\\';d');\n"
	    "INSERT INTO semi VALUES ($$e;f$$), ('it''s;g');\n"
	    "INSERT INTO semi VALUES (U&'h;\\0069');\n"
	    "\n"
	    "-- migrate:down\n"
	    "DROP TABLE semi;\n");
	tu_add(&p, "002_semi.ts",
	    "export const up = `\n"
	    "  INSERT INTO semi VALUES ('j;k'); -- and a comment; here\n"
	    "  INSERT INTO semi VALUES (\"l;m\"::text);\n"
	    "`;\n"
	    "export const down = `DELETE FROM semi WHERE v IN ('j;k');`;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	/* "l;m" is an identifier, not a string: the batch must fail at
	   002's second statement, having split it correctly. */
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "002_semi.ts:3:");
	tu_expect_has("stderr", r.err, "42703");
	tu_result_free(&r);
	expect_relation(p.url, "semi", false);
	tu_add(&p, "002_semi.ts",
	    "export const up = `\n"
	    "  INSERT INTO semi VALUES ('j;k'); -- and a comment; here\n"
	    "  INSERT INTO semi VALUES ('l;m');\n"
	    "`;\n"
	    "export const down = `DELETE FROM semi WHERE v IN "
	    "('j;k', 'l;m');`;\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_sql(p.url, "SELECT string_agg(v, '|' ORDER BY v) FROM semi",
		   "a;b|c';d|e;f|h;i|it's;g|j;k|l;m");
	tu_project_free(&p);
}
END_TEST

START_TEST(wrapped_migration_then_failure_leaves_nothing)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_wrapped.sql",
	    "-- migrate:up\n"
	    "BEGIN;\n"
	    "CREATE TABLE wrapped (id int);\n"
	    "INSERT INTO wrapped VALUES (1), (2);\n"
	    "COMMIT;\n"
	    "\n"
	    "-- migrate:down\n"
	    "BEGIN;\n"
	    "DROP TABLE wrapped;\n"
	    "COMMIT;\n");
	tu_add(&p, "002_seed_style.ts",
	    "export const up = `\n"
	    "  BEGIN;\n"
	    "  INSERT INTO wrapped VALUES (3);\n"
	    "  COMMIT;\n"
	    "`;\n"
	    "export const down = `DELETE FROM wrapped WHERE id = 3;`;\n");
	tu_add(&p, "003_bad.sql",
	    "-- migrate:up\n"
	    "INSERT INTO wrapped SELECT id FROM nosuch;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "003_bad.sql:2:");
	tu_expect_has("stderr", r.err, "42P01");
	tu_result_free(&r);
	expect_relation(p.url, "wrapped", false);
	expect_nothing_recorded(p.url);

	/* Without the bad one the wrapped migrations apply, as one batch. */
	drop(&p, "003_bad.sql");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	expect_sql(p.url, "SELECT string_agg(id::text, ',' ORDER BY id) "
			  "FROM wrapped", "1,2,3");
	expect_tracking(p.url, "001:1 002:1");

	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url);
	expect_relation(p.url, "wrapped", false);
	ck_assert_int_eq(tracking_rows(p.url), 0);
	tu_project_free(&p);
}
END_TEST

START_TEST(commit_in_the_middle_refused)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_ok.sql",
	    "-- migrate:up\nCREATE TABLE ok_a (id int);\n\n"
	    "-- migrate:down\nDROP TABLE ok_a;\n");
	tu_add(&p, "002_mid.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE mid_a (id int);\n"
	    "COMMIT;\n"
	    "CREATE TABLE mid_b (id int);\n"
	    "\n"
	    "-- migrate:down\n"
	    "DROP TABLE mid_b;\n"
	    "DROP TABLE mid_a;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "002_mid.sql:3");
	tu_result_free(&r);
	expect_relation(p.url, "ok_a", false);
	expect_relation(p.url, "mid_a", false);
	expect_relation(p.url, "mid_b", false);
	expect_nothing_recorded(p.url);
	tu_project_free(&p);
}
END_TEST

/*
 * KNOWN BUG (see the pgcli report): the detail says "its statement 11
 * ran" when statement 1 ran: prepare_explain_failure() prints "1" and
 * then failed_stmt again when failed_stmt is 1.
 */
START_TEST(outside_transaction_partial_failure)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_t.sql",
	    "-- migrate:up\nCREATE TABLE t (a int, b int);\n\n"
	    "-- migrate:down\nDROP TABLE t;\n");
	tu_add(&p, "002_idx.sql",
	    "-- migrate:up transaction:false\n"
	    "CREATE INDEX CONCURRENTLY i_a ON t (a);\n"
	    "CREATE INDEX CONCURRENTLY i_b ON t (nosuch);\n"
	    "\n"
	    "-- migrate:down\n"
	    "DROP INDEX CONCURRENTLY IF EXISTS i_b;\n"
	    "DROP INDEX CONCURRENTLY IF EXISTS i_a;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "002_idx.sql:3:");
	tu_expect_has("stderr", r.err, "42703");
	ck_assert_msg(has_word(r.err, "ran") && strstr(r.err, "statement"),
		      "stderr does not say a statement already ran:\n%s",
		      r.err);
	/* One statement ran, and the count says so. */
	ck_assert_msg(number_before_ran(r.err) == 1 ||
			      number_before_ran(r.err) == -1,
		      "KNOWN BUG: stderr says statement %ld ran; only "
		      "statement 1 did:\n%s", number_before_ran(r.err), r.err);
	tu_result_free(&r);
	expect_relation(p.url, "i_a", true);
	expect_relation(p.url, "i_b", false);
	/* 001 committed before 002 ran on its own; 002 is not recorded. */
	expect_tracking(p.url, "001:1");
	tu_project_free(&p);
}
END_TEST

/*
 * Assert that stderr shows the source line holding text and, on the next
 * line, a caret under the column where needle starts.
 */
static void expect_caret(const char *err, const char *text,
			 const char *needle)
{
	const char *line = strstr(err, text);
	const char *start, *next, *caret;
	size_t col;

	ck_assert_msg(line != NULL, "stderr lacks the source line:\n%s", err);
	/* The source line, not the message: the one followed by a caret. */
	for (;;) {
		for (start = line; start > err && start[-1] != '\n'; start--)
			;
		next = strchr(line, '\n');
		ck_assert_msg(next != NULL, "no caret line:\n%s", err);
		next++;
		caret = strchr(next, '^');
		if (caret != NULL && caret < next + strcspn(next, "\n"))
			break;
		line = strstr(line + 1, text);
		ck_assert_msg(line != NULL, "no caret under the source "
			      "line:\n%s", err);
	}
	col = (size_t)(strstr(start, needle) - start);
	ck_assert_msg((size_t)(caret - next) == col,
		      "the caret is at %zu, %s at %zu:\n%s",
		      (size_t)(caret - next), needle, col, err);
}

START_TEST(error_position_sql)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_pos.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE pos_ok (id int);\n"
	    "SELECT * FROM nosuch_table;\n"
	    "\n"
	    "-- migrate:down\n"
	    "DROP TABLE pos_ok;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "001_pos.sql:3:15");
	tu_expect_has("stderr", r.err, "42P01");
	expect_caret(r.err, "SELECT * FROM nosuch_table;", "nosuch_table");
	tu_result_free(&r);
	expect_relation(p.url, "pos_ok", false);
	expect_nothing_recorded(p.url);
	tu_project_free(&p);
}
END_TEST

START_TEST(error_position_ts)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_pos.ts",
	    "// a migration in the seed's format\n"
	    "export const up = `\n"
	    "  CREATE TABLE pos_ok (id int);\n"
	    "\n"
	    "  SELECT * FROM nosuch_table;\n"
	    "`;\n"
	    "\n"
	    "export const down = `DROP TABLE pos_ok;`;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "001_pos.ts:5:17");
	tu_expect_has("stderr", r.err, "42P01");
	expect_caret(r.err, "  SELECT * FROM nosuch_table;", "nosuch_table");
	tu_result_free(&r);
	expect_relation(p.url, "pos_ok", false);
	expect_nothing_recorded(p.url);
	tu_project_free(&p);
}
END_TEST

/* --- interrupts --- */

/*
 * Start up on a migration sleeping 30 s on the server, send sig once
 * the statement runs, and check: exit status expected within 3 s, the
 * query gone from the server within 2 s, nothing recorded, and the
 * lock free for the next run.
 */
static void interrupt_case(int sig, int expected)
{
	struct tu_project p = project_new();
	struct tu_bg b;
	long backend;
	double t0;
	int status;
	char *err;

	tu_add(&p, "001_slow.sql",
	    "-- migrate:up\nCREATE TABLE slow (id int);\n"
	    "SELECT pg_sleep(30);\n\n-- migrate:down\nDROP TABLE slow;\n");
	b = tu_start(p.root, (const char *const[]){ "up", "--url", p.url,
						    NULL });
	backend = sleeping_backend(p.url, 10);
	ck_assert_msg(backend != 0, "the run never reached pg_sleep");
	tu_nap(300);
	t0 = tu_now();
	ck_assert_int_eq(kill(b.pid, sig), 0);
	status = tu_wait(&b, 10);
	err = bg_text(b.err);
	ck_assert_msg(status == expected, "exit status %d, expected %d:\n%s",
		      status, expected, err);
	ck_assert_msg(tu_now() - t0 < 3.0, "took %.1f s to stop", tu_now() - t0);
	free(err);
	/* The statement was cancelled on the server, not left running. */
	t0 = tu_now();
	while (sleeping_backend(p.url, 0) != 0 && tu_now() - t0 < 2.0)
		tu_nap(50);
	ck_assert_msg(sleeping_backend(p.url, 0) == 0,
		      "pg_sleep still runs on the server 2 s after the exit");
	expect_relation(p.url, "slow", false);
	expect_nothing_recorded(p.url);

	/* The lock is free: a fast set applies at once. */
	drop(&p, "001_slow.sql");
	tu_add(&p, "001_fast.sql",
	    "-- migrate:up\nCREATE TABLE fast (id int);\n\n"
	    "-- migrate:down\nDROP TABLE fast;\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--lock-timeout", "1", "--url", p.url);
	expect_tracking(p.url, "001:1");
	expect_relation(p.url, "fast", true);
	tu_bg_free(&b);
	tu_project_free(&p);
}

START_TEST(sigint_cancels_and_releases)
{
	interrupt_case(SIGINT, 130);
}
END_TEST

START_TEST(sigterm_cancels_and_releases)
{
	interrupt_case(SIGTERM, 143);
}
END_TEST

/* Every test, in one TCase per theme. */
/* --- safety: down kept in the table, limits, per-migration, mark,
   repair, redo --- */

START_TEST(down_after_file_deleted)
{
	struct tu_project p = project_new();
	struct tu_result r;

	copy_seed(&p);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	/* An older build, or a deploy that lost the file. */
	drop(&p, "003_add_email_index_to_users.ts");
	drop(&p, "002_create_user_sessions_table.ts");
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("status", r.out,
		   "❌ Missing 002_create_user_sessions_table (batch: 1) file not found\n");
	tu_expect_has("status", r.out, "Down from the tracking table");
	tu_expect_has("status", r.out, "002_create_user_sessions_table, 003_add_email_index_to_users");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "status", "--url", p.url, "--format", "json");
	tu_expect_status(&r, 0);
	ck_assert_int_eq(tu_count(r.out, "\"down_from\": \"table\""), 2);
	ck_assert_int_eq(tu_count(r.out, "\"down_from\": \"file\""), 1);
	tu_result_free(&r);
	/* down runs the kept SQL: DROP INDEX CONCURRENTLY outside the
	   transaction, as the file would have. */
	r = RUN(p.root, NULL, "down", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("down", r.err, "tracking table kept");
	tu_result_free(&r);
	expect_nothing_recorded(p.url);
	expect_relation(p.url, "user_sessions", false);
	expect_relation(p.url, "idx_users_email_lower", false);
	expect_relation(p.url, "users", false);
	tu_project_free(&p);
}
END_TEST

START_TEST(statement_timeout_stops_slow_migration)
{
	struct tu_project p = project_new();
	struct tu_result r;
	const char *env[] = { "DBMIGRATE_STATEMENT_TIMEOUT=300ms", NULL };

	tu_add(&p, "001_slow.sql",
	    "-- migrate:up\nCREATE TABLE slow (id int);\nSELECT pg_sleep(5);\n"
	    "-- migrate:down\nDROP TABLE slow;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url, "--statement-timeout", "0.3");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "001_slow.sql:3:");
	tu_expect_has("stderr", r.err, "57014");
	tu_expect_has("stderr", r.err, "statement timeout");
	tu_result_free(&r);
	expect_nothing_recorded(p.url);
	expect_relation(p.url, "slow", false);
	/* the same from the environment */
	r = RUN(p.root, env, "up", "--url", p.url);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "57014");
	tu_result_free(&r);
	/* the directive in the file wins over a generous option */
	tu_add(&p, "001_slow.sql",
	    "-- migrate:up\n-- dbmigrate:statement-timeout 300ms\n"
	    "CREATE TABLE slow (id int);\nSELECT pg_sleep(5);\n"
	    "-- migrate:down\nDROP TABLE slow;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url, "--statement-timeout", "1min");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "57014");
	tu_result_free(&r);
	expect_nothing_recorded(p.url);
	/* a bad value is a usage error naming it */
	r = RUN(p.root, NULL, "up", "--url", p.url, "--statement-timeout", "soon");
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "statement_timeout");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(lock_timeout_retries_then_fails)
{
	struct tu_project p = project_new();
	struct tu_result r;
	PGconn *blocker;
	PGresult *res;

	tu_add(&p, "001_t.sql", "-- migrate:up\nCREATE TABLE t (id int);\n"
			     "-- migrate:down\nDROP TABLE t;\n");
	tu_add(&p, "002_alter.sql", "-- migrate:up\nALTER TABLE t ADD COLUMN x int;\n"
				 "-- migrate:down\nALTER TABLE t DROP COLUMN x;\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url, "--step", "1");
	/* Another session holds the table, as a long report would. */
	blocker = PQconnectdb(p.url);
	ck_assert_int_eq(PQstatus(blocker), CONNECTION_OK);
	res = PQexec(blocker, "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	r = RUN(p.root, NULL, "up", "--url", p.url, "--sql-lock-timeout", "200ms",
		"--lock-retries", "1");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "retry 1 of 1");
	ck_assert_int_eq(tu_count(r.err, "retry "), 1);
	tu_expect_has("stderr", r.err, "002_alter.sql:2:");
	tu_expect_has("stderr", r.err, "55P03");
	tu_expect_has("stderr", r.err, "--sql-lock-timeout");
	tu_result_free(&r);
	expect_tracking(p.url, "001:1");
	/* Once the other session is done, the same command goes through. */
	res = PQexec(blocker, "COMMIT");
	PQclear(res);
	PQfinish(blocker);
	r = RUN(p.root, NULL, "up", "--url", p.url, "--sql-lock-timeout", "200ms");
	tu_expect_status(&r, 0);
	tu_expect_lacks("stderr", r.err, "retry");
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:2");
	tu_project_free(&p);
}
END_TEST

START_TEST(per_migration_keeps_earlier_ones)
{
	struct tu_project p = project_new();
	struct tu_result r;

	tu_add(&p, "001_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n"
			     "-- migrate:down\nDROP TABLE a;\n");
	tu_add(&p, "002_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n"
			     "-- migrate:down\nDROP TABLE b;\n");
	tu_add(&p, "003_bad.sql", "-- migrate:up\nINSERT INTO nosuch VALUES (1);\n");
	r = RUN(p.root, NULL, "up", "--url", p.url, "--transaction", "per-migration");
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "003_bad.sql:2:");
	tu_expect_has("stderr", r.err, "2 earlier migrations of this batch had already been committed");
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:1");
	expect_relation(p.url, "b", true);
	/* down of that batch, each in its own transaction */
	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url, "--transaction", "per-migration");
	expect_nothing_recorded(p.url);
	RUN_EXPECT(2, p.root, NULL, "up", "--url", p.url, "--transaction", "nested");
	tu_project_free(&p);
}
END_TEST

START_TEST(mark_repair_redo)
{
	struct tu_project p = project_new();
	struct tu_result r;

	copy_seed(&p);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url, "--to", "002");
	/* mark: the index was made by hand; record it, run nothing */
	free(pgserver_psql(p.url, "CREATE INDEX idx_users_email_lower ON users (lower(email))"));
	r = RUN(p.root, NULL, "mark", "3", "--applied", "--url", p.url, "--dry-run");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Would mark 003_add_email_index_to_users as applied (batch 2)");
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:1");
	r = RUN(p.root, NULL, "mark", "003", "--applied", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Marked 003_add_email_index_to_users as applied (batch 2)");
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:1 003:2");
	expect_sql(p.url, "SELECT checksum IS NOT NULL AND down_sql LIKE '%DROP INDEX%' FROM migrations WHERE id = '003'", "t");
	r = RUN(p.root, NULL, "mark", "003", "--applied", "--url", p.url);
	tu_expect_status(&r, 2);
	tu_expect_has("stderr", r.err, "already applied");
	tu_result_free(&r);
	RUN_EXPECT(2, p.root, NULL, "mark", "003", "--url", p.url);
	RUN_EXPECT(2, p.root, NULL, "mark", "042", "--pending", "--url", p.url);
	RUN_EXPECT(0, p.root, NULL, "mark", "003", "--pending", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1");
	expect_relation(p.url, "idx_users_email_lower", true);
	free(pgserver_psql(p.url, "DROP INDEX idx_users_email_lower"));

	/* repair: a comment added to an applied file */
	{
		char *path, *text, *edited;

		ck_assert_int_ne(asprintf(&path, "%s/002_create_user_sessions_table.ts", p.dir), -1);
		text = tu_read(path);
		ck_assert_int_ne(asprintf(&edited, "// reviewed\n%s", text), -1);
		tu_add(&p, "002_create_user_sessions_table.ts", edited);
		free(edited);
		free(text);
		free(path);
	}
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_has("status", r.out, "modified since applied");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "repair", "--url", p.url);
	tu_expect_status(&r, 2); /* stdin is not a terminal */
	tu_expect_has("stderr", r.err, "--force");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "repair", "--url", p.url, "--force");
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "002_create_user_sessions_table (batch 1)");
	tu_result_free(&r);
	RUN_EXPECT(0, p.root, NULL, "validate", "--url", p.url);
	expect_tracking(p.url, "001:1 002:1");

	/* redo: both back as batch 1, in one transaction */
	free(pgserver_psql(p.url, "INSERT INTO users (email) VALUES ('a@b.c')"));
	r = RUN(p.root, NULL, "redo", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("stdout", r.out, "Redo: rolling back 2 migrations (batch 1)");
	tu_expect_lacks("stderr", r.err, "two steps");
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:1");
	expect_sql(p.url, "SELECT count(*) FROM users", "0");
	expect_relation(p.url, "user_sessions", true);
	/* with 003 (CREATE INDEX CONCURRENTLY) it takes two steps */
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	r = RUN(p.root, NULL, "redo", "--url", p.url, "--step", "2");
	tu_expect_status(&r, 0);
	tu_expect_has("stderr", r.err, "two steps");
	tu_result_free(&r);
	expect_tracking(p.url, "001:1 002:2 003:2");
	expect_relation(p.url, "idx_users_email_lower", true);
	tu_project_free(&p);
}
END_TEST

/*
 * The server's messages reach stderr once each, with the server's own
 * severity written once: "NOTICE: ...", "WARNING: ...", "INFO: ...",
 * never "NOTICE: NOTICE: ..." or "NOTICE: WARNING: ...". -q hides them.
 */
START_TEST(server_notices_one_prefix)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *line;

	tu_add(&p, "001_noisy.sql",
	    "-- migrate:up\n"
	    "DO $$BEGIN\n"
	    "  RAISE NOTICE 'hello from %', 'a migration';\n"
	    "  RAISE WARNING 'careful with %', 'this';\n"
	    "  RAISE INFO 'for your information';\n"
	    "END$$;\n"
	    "DROP TABLE IF EXISTS no_such_table;\n\n"
	    "-- migrate:down\nSELECT 1;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 0);
	line = line_with(r.err, "hello from a migration");
	ck_assert_msg(line != NULL, "no notice on stderr:\n%s", r.err);
	ck_assert_str_eq(line, "NOTICE: hello from a migration");
	free(line);
	line = line_with(r.err, "careful with this");
	ck_assert_msg(line != NULL, "no warning on stderr:\n%s", r.err);
	ck_assert_str_eq(line, "WARNING: careful with this");
	free(line);
	line = line_with(r.err, "for your information");
	ck_assert_msg(line != NULL, "no info on stderr:\n%s", r.err);
	ck_assert_str_eq(line, "INFO: for your information");
	free(line);
	line = line_with(r.err, "no_such_table");
	ck_assert_msg(line != NULL, "no IF EXISTS notice on stderr:\n%s",
		      r.err);
	ck_assert_str_eq(line,
			 "NOTICE: table \"no_such_table\" does not exist, skipping");
	free(line);
	/* Each once, and no other severity word in front of them. */
	ck_assert_int_eq(tu_count(r.err, "NOTICE:"), 2);
	ck_assert_int_eq(tu_count(r.err, "WARNING:"), 1);
	ck_assert_int_eq(tu_count(r.err, "INFO:"), 1);
	tu_result_free(&r);
	expect_tracking(p.url, "001:1");

	r = RUN(p.root, NULL, "redo", "-q", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_lacks("stderr of -q", r.err, "hello from a migration");
	tu_expect_lacks("stderr of -q", r.err, "careful with this");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

static Suite *pg_cli_suite(void)
{
	const TTest *const workflow[] = {
		seed_workflow, status_two_executed_one_pending,
		failed_batch_leaves_nothing, down_removes_last_batch_only,
		reset_force_and_refusal, seed_table_adopted,
		seed_table_status_before_up, drift_marks_and_validate,
		server_notices_one_prefix, NULL
	};
	const TTest *const configuration[] = {
		config_url_flag_and_env, config_dotenv, config_db_variables,
		config_libpq_defaults, wrong_password_never_printed,
		unreachable_server_exit_4, NULL
	};
	const TTest *const transactions[] = {
		dollar_quoted_function, semicolons_in_strings_and_comments,
		wrapped_migration_then_failure_leaves_nothing,
		commit_in_the_middle_refused,
		outside_transaction_partial_failure, error_position_sql,
		error_position_ts, NULL
	};
	const TTest *const concurrency[] = {
		lock_timeout_names_holder,
		second_runner_waits_then_sees_new_state,
		sigint_cancels_and_releases, sigterm_cancels_and_releases, NULL
	};
	const TTest *const safety[] = {
		down_after_file_deleted, statement_timeout_stops_slow_migration,
		lock_timeout_retries_then_fails,
		per_migration_keeps_earlier_ones, mark_repair_redo, NULL
	};
	Suite *s = suite_create("dbmigrate on PostgreSQL");

	tu_tcase(s, "workflow", 60, workflow);
	tu_tcase(s, "configuration", 60, configuration);
	tu_tcase(s, "transactions", 60, transactions);
	tu_tcase(s, "concurrency", 60, concurrency);
	tu_tcase(s, "safety", 60, safety);
	return s;
}

/* Start the server, run the suite. */
int main(void)
{
	(void)tu_env("DBMIGRATE_BIN");
	return pgserver_run_suite(pg_cli_suite());
}
