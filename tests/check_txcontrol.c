/*
 * check_txcontrol.c - transaction control inside migration bodies: the
 * host's shared classifier recognises it in all its spellings
 * (txcontrol_classify), and split_body() unwraps the BEGIN ... COMMIT
 * wrapper the seed recommends and refuses every statement that would
 * commit or abort the batch half-way, naming the statement and why. The
 * bodies are split and classified by a real driver (the mock, which
 * speaks PostgreSQL's dialect), as the runner does.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "split.h"
#include "testutil.h"
#include "txcontrol.h"

/* What the old classifier called the kinds, from the flags. */
enum kind { NONE, BEGIN_, COMMIT_, ABORT_, OTHER_ };

/* The result of checking one body. */
struct body {
	struct split_result r;
	const char *text;
	char *copy;   /* the body's text, which split_body() may not change */
	char *why_copy;
	size_t first, count, bad;
	int unwrapped;
	const char *why;
	int rc;
};

/* Split text as a migration's up section and check it. */
static struct body check(const char *text)
{
	struct body b = { .text = text, .copy = strdup(text) };
	dbmigrate_error err = { .code = DBMIGRATE_OK };
	struct migration mig = { .label = "001_t", .path = "001_t.sql" };
	struct migration_body mb = { .present = true, .sql = b.copy,
				     .len = strlen(text), .verbatim = true,
				     .path = "001_t.sql", .line = 1, .column = 1 };
	dbmigrate_code rc;

	ck_assert_ptr_nonnull(b.copy);
	mig.text = b.copy;
	mig.text_len = strlen(text);
	rc = tu_split_body(&mig, &mb, &b.r, &err);
	b.rc = rc == DBMIGRATE_OK ? 0 : -1;
	if (rc != DBMIGRATE_OK) {
		ck_assert_int_eq(rc, DBMIGRATE_EFILES);
		b.why = b.why_copy =
			err.detail != NULL ? strdup(err.detail) : NULL;
		/* The error points at the statement: find its index. */
		b.bad = b.r.n;
		for (size_t i = 0; i < b.r.n; i++) {
			size_t off = b.r.v[i].offset, line = 1, col = 1;

			for (size_t k = 0; k < off; k++) {
				if (text[k] == '\n') {
					line++;
					col = 1;
				} else {
					col++;
				}
			}
			if (line == err.line && col == err.column) {
				b.bad = i;
				break;
			}
		}
	}
	b.first = b.r.first;
	b.count = b.r.count;
	b.unwrapped = b.r.unwrapped;
	errors_clear(&err);
	return b;
}

/* Free what check() made. */
static void body_free(struct body *b)
{
	split_result_free(&b->r);
	free(b->why_copy);
	free(b->copy);
}

/* True when statement i of b starts with prefix. */
static int stmt_starts(const struct body *b, size_t i, const char *prefix)
{
	return b->r.v[i].len >= strlen(prefix) &&
	       memcmp(b->text + b->r.v[i].offset, prefix, strlen(prefix)) == 0;
}

/* Check text is accepted, running count statements from first. */
static void check_ok(const char *text, size_t first, size_t count,
		     int unwrapped)
{
	struct body b = check(text);

	ck_assert_msg(b.rc == 0, "refused [%s]: %s", text, b.why);
	ck_assert_uint_eq(b.first, first);
	ck_assert_uint_eq(b.count, count);
	ck_assert_int_eq(b.unwrapped, unwrapped);
	body_free(&b);
}

/*
 * Check text is refused at statement bad, with a reason that contains
 * each of the given phrases and ends like a sentence.
 */
static void check_refused(const char *text, size_t bad, const char *phrase1,
			  const char *phrase2)
{
	struct body b = check(text);

	ck_assert_msg(b.rc == -1, "accepted [%s]", text);
	ck_assert_uint_eq(b.bad, bad);
	ck_assert_ptr_nonnull(b.why);
	ck_assert_msg(strstr(b.why, phrase1) != NULL, "[%s] lacks [%s]", b.why,
		      phrase1);
	ck_assert_msg(strstr(b.why, phrase2) != NULL, "[%s] lacks [%s]", b.why,
		      phrase2);
	ck_assert_int_eq(b.why[strlen(b.why) - 1], '.');
	body_free(&b);
}

/* Classify one statement given as a string, with the host's service. */
static enum kind kind(const char *sql)
{
	struct dbmigrate_stmt_class c = { 0 };

	txcontrol_classify(DBMIGRATE_LEX_POSTGRES, sql, strlen(sql), &c);
	switch (c.flags) {
	case 0:
		return NONE;
	case DBMIGRATE_STMT_BEGIN:
		return BEGIN_;
	case DBMIGRATE_STMT_COMMIT:
		return COMMIT_;
	case DBMIGRATE_STMT_ROLLBACK:
		return ABORT_;
	case DBMIGRATE_STMT_TXCONTROL:
		ck_assert_ptr_nonnull(c.reason);
		return OTHER_;
	}
	ck_abort_msg("flags %#x for [%s]", c.flags, sql);
	return NONE;
}

START_TEST(classify)
{
	ck_assert_int_eq(kind("BEGIN"), BEGIN_);
	ck_assert_int_eq(kind("begin work"), BEGIN_);
	ck_assert_int_eq(kind("Begin Transaction Isolation Level Serializable"),
			 BEGIN_);
	ck_assert_int_eq(kind("BEGIN READ ONLY, DEFERRABLE"), BEGIN_);
	ck_assert_int_eq(kind("/* x */ START -- y\n TRANSACTION READ WRITE"),
			 BEGIN_);
	ck_assert_int_eq(kind("COMMIT"), COMMIT_);
	ck_assert_int_eq(kind("commit work"), COMMIT_);
	ck_assert_int_eq(kind("COMMIT TRANSACTION AND NO CHAIN"),
			 COMMIT_);
	ck_assert_int_eq(kind("END"), COMMIT_);
	ck_assert_int_eq(kind("end transaction"), COMMIT_);
	ck_assert_int_eq(kind("ROLLBACK"), ABORT_);
	ck_assert_int_eq(kind("rollback work"), ABORT_);
	ck_assert_int_eq(kind("ROLLBACK AND CHAIN"), ABORT_);
	ck_assert_int_eq(kind("ABORT"), ABORT_);
	ck_assert_int_eq(kind("abort transaction"), ABORT_);
	ck_assert_int_eq(kind("PREPARE TRANSACTION 'x'"), OTHER_);
	ck_assert_int_eq(kind("COMMIT PREPARED 'x'"), OTHER_);
	ck_assert_int_eq(kind("ROLLBACK PREPARED 'x'"), OTHER_);
	ck_assert_int_eq(kind("COMMIT AND CHAIN"), OTHER_);
	ck_assert_int_eq(kind("commit work and chain"), OTHER_);
	ck_assert_int_eq(kind("END AND CHAIN"), OTHER_);
	/* Savepoints stay inside the transaction. */
	ck_assert_int_eq(kind("SAVEPOINT s"), NONE);
	ck_assert_int_eq(kind("RELEASE SAVEPOINT s"), NONE);
	ck_assert_int_eq(kind("ROLLBACK TO SAVEPOINT s"), NONE);
	ck_assert_int_eq(kind("rollback to s"), NONE);
	ck_assert_int_eq(kind("ROLLBACK WORK TO SAVEPOINT s"), NONE);
	/* Ordinary statements, whatever words they contain. */
	ck_assert_int_eq(kind("PREPARE q AS SELECT 1"), NONE);
	ck_assert_int_eq(kind("START"), NONE);
	ck_assert_int_eq(kind("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
			 NONE);
	ck_assert_int_eq(kind("SELECT 'COMMIT'"), NONE);
	ck_assert_int_eq(kind("-- COMMIT\nSELECT 1"), NONE);
	ck_assert_int_eq(kind("\"begin\""), NONE);
	ck_assert_int_eq(kind("BEGINNING"), NONE);
	ck_assert_int_eq(kind("CREATE FUNCTION f() RETURNS int BEGIN ATOMIC "
			      "SELECT 1; END"),
			 NONE);
	ck_assert_int_eq(kind(""), NONE);
}
END_TEST

START_TEST(no_transaction_control)
{
	check_ok("CREATE TABLE a (id int); INSERT INTO a VALUES (1);", 0, 2, 0);
	check_ok("SELECT 1", 0, 1, 0);
	check_ok("-- nothing\n", 0, 0, 0);
	check_ok("SAVEPOINT s; SELECT 1; ROLLBACK TO SAVEPOINT s; "
		 "RELEASE SAVEPOINT s;",
		 0, 4, 0);
	/* A function body's BEGIN ATOMIC ... END is no transaction. */
	check_ok("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC "
		 "SELECT 1; END; SELECT f();",
		 0, 2, 0);
}
END_TEST

START_TEST(wrappers_are_unwrapped)
{
	struct body b;

	check_ok("BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;", 1, 1, 1);
	check_ok("START TRANSACTION; CREATE TABLE a (id int); "
		 "CREATE INDEX i ON a (id); END;",
		 1, 2, 1);
	check_ok("begin; create table a (id int); commit;", 1, 1, 1);
	check_ok("-- migrate:up\n/* wrapped */ BEGIN WORK; -- open\n"
		 "CREATE TABLE a (id int);\n-- close\nCOMMIT TRANSACTION; "
		 "-- done\n",
		 1, 1, 1);
	check_ok("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT 1; "
		 "COMMIT AND NO CHAIN",
		 1, 1, 1);
	check_ok("BEGIN; SAVEPOINT s; SELECT 1; ROLLBACK TO s; COMMIT;", 1, 3,
		 1);
	/* Just the wrapper: nothing to run, and that is fine. */
	check_ok("BEGIN; COMMIT;", 1, 0, 1);
	/* The statements run are the inner ones. */
	b = check("BEGIN; CREATE TABLE a (id int); DROP TABLE b; COMMIT;");
	ck_assert_int_eq(b.rc, 0);
	ck_assert(stmt_starts(&b, b.first, "CREATE TABLE a"));
	ck_assert(stmt_starts(&b, b.first + b.count - 1, "DROP TABLE b"));
	body_free(&b);
}
END_TEST

START_TEST(refusals)
{
	check_refused("CREATE TABLE a (id int); COMMIT; CREATE TABLE b (id int);",
		      1, "COMMIT in the middle", "transaction:false");
	check_refused("BEGIN; CREATE TABLE a (id int); COMMIT; "
		      "CREATE TABLE b (id int); COMMIT;",
		      2, "COMMIT in the middle", "half-way");
	check_refused("BEGIN; CREATE TABLE a (id int); COMMIT; "
		      "CREATE TABLE b (id int);",
		      2, "COMMIT in the middle", "half-way");
	check_refused("CREATE TABLE a (id int); COMMIT;", 1,
		      "does not start with BEGIN", "transaction:false");
	check_refused("COMMIT;", 0, "does not start with BEGIN", "half-way");
	check_refused("BEGIN; CREATE TABLE a (id int);", 0,
		      "matched by COMMIT", "transaction:false");
	check_refused("BEGIN;", 0, "matched by COMMIT", "transaction:false");
	check_refused("BEGIN; CREATE TABLE a (id int); ROLLBACK;", 2,
		      "ROLLBACK", "abort the whole batch");
	check_refused("CREATE TABLE a (id int); ABORT; SELECT 1;", 1,
		      "ROLLBACK", "abort the whole batch");
	check_refused("ROLLBACK;", 0, "ROLLBACK", "transaction:false");
	check_refused("BEGIN; BEGIN; SELECT 1; COMMIT;", 1,
		      "BEGIN after the first statement", "half-way");
	check_refused("SELECT 1; START TRANSACTION; SELECT 2; COMMIT;", 1,
		      "BEGIN after the first statement", "transaction:false");
	check_refused("BEGIN; SELECT 1; PREPARE TRANSACTION 'x';", 2,
		      "PREPARE TRANSACTION", "two-phase");
	check_refused("COMMIT PREPARED 'x';", 0, "COMMIT PREPARED",
		      "transaction block");
	check_refused("SELECT 1; ROLLBACK PREPARED 'x'; SELECT 2", 1,
		      "ROLLBACK PREPARED", "transaction block");
	check_refused("BEGIN; SELECT 1; COMMIT AND CHAIN;", 2,
		      "COMMIT AND CHAIN", "half-way");
	check_refused("SELECT 1; END; SELECT 2;", 1, "COMMIT in the middle",
		      "half-way");
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		classify, no_transaction_control, wrappers_are_unwrapped,
		refusals, NULL
	};

	return tu_run_suite(tu_suite("txcontrol", 0, tests));
}
