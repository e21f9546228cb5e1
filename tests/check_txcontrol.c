/*
 * check_txcontrol.c - transaction control inside migration bodies: the
 * BEGIN ... COMMIT wrapper the seed recommends is unwrapped in all its
 * spellings, and every statement that would commit or abort the batch
 * half-way is refused, naming the statement and why.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "testutil.h"
#include "txcontrol.h"

/* The result of checking one body. */
struct body {
	struct lexer_result r;
	const char *text;
	size_t first, count, bad;
	int unwrapped;
	const char *why;
	int rc;
};

/* Split text and run txcontrol_check on it. */
static struct body check(const char *text)
{
	struct body b = { .text = text };
	struct lexer_error err;

	ck_assert_int_eq(lexer_split(text, strlen(text), &b.r, &err), LEXER_OK);
	b.rc = txcontrol_check(text, &b.r, &b.first, &b.count, &b.unwrapped,
			       &b.bad, &b.why);
	return b;
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
	lexer_result_free(&b.r);
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
	lexer_result_free(&b.r);
}

/* Classify one statement given as a string. */
static enum txcontrol_kind kind(const char *sql)
{
	return txcontrol_classify(sql, strlen(sql));
}

START_TEST(classify)
{
	ck_assert_int_eq(kind("BEGIN"), TXCONTROL_BEGIN);
	ck_assert_int_eq(kind("begin work"), TXCONTROL_BEGIN);
	ck_assert_int_eq(kind("Begin Transaction Isolation Level Serializable"),
			 TXCONTROL_BEGIN);
	ck_assert_int_eq(kind("BEGIN READ ONLY, DEFERRABLE"), TXCONTROL_BEGIN);
	ck_assert_int_eq(kind("/* x */ START -- y\n TRANSACTION READ WRITE"),
			 TXCONTROL_BEGIN);
	ck_assert_int_eq(kind("COMMIT"), TXCONTROL_COMMIT);
	ck_assert_int_eq(kind("commit work"), TXCONTROL_COMMIT);
	ck_assert_int_eq(kind("COMMIT TRANSACTION AND NO CHAIN"),
			 TXCONTROL_COMMIT);
	ck_assert_int_eq(kind("END"), TXCONTROL_COMMIT);
	ck_assert_int_eq(kind("end transaction"), TXCONTROL_COMMIT);
	ck_assert_int_eq(kind("ROLLBACK"), TXCONTROL_ABORT);
	ck_assert_int_eq(kind("rollback work"), TXCONTROL_ABORT);
	ck_assert_int_eq(kind("ROLLBACK AND CHAIN"), TXCONTROL_ABORT);
	ck_assert_int_eq(kind("ABORT"), TXCONTROL_ABORT);
	ck_assert_int_eq(kind("abort transaction"), TXCONTROL_ABORT);
	ck_assert_int_eq(kind("PREPARE TRANSACTION 'x'"), TXCONTROL_OTHER);
	ck_assert_int_eq(kind("COMMIT PREPARED 'x'"), TXCONTROL_OTHER);
	ck_assert_int_eq(kind("ROLLBACK PREPARED 'x'"), TXCONTROL_OTHER);
	ck_assert_int_eq(kind("COMMIT AND CHAIN"), TXCONTROL_OTHER);
	ck_assert_int_eq(kind("commit work and chain"), TXCONTROL_OTHER);
	ck_assert_int_eq(kind("END AND CHAIN"), TXCONTROL_OTHER);
	/* Savepoints stay inside the transaction. */
	ck_assert_int_eq(kind("SAVEPOINT s"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("RELEASE SAVEPOINT s"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("ROLLBACK TO SAVEPOINT s"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("rollback to s"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("ROLLBACK WORK TO SAVEPOINT s"), TXCONTROL_NONE);
	/* Ordinary statements, whatever words they contain. */
	ck_assert_int_eq(kind("PREPARE q AS SELECT 1"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("START"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
			 TXCONTROL_NONE);
	ck_assert_int_eq(kind("SELECT 'COMMIT'"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("-- COMMIT\nSELECT 1"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("\"begin\""), TXCONTROL_NONE);
	ck_assert_int_eq(kind("BEGINNING"), TXCONTROL_NONE);
	ck_assert_int_eq(kind("CREATE FUNCTION f() RETURNS int BEGIN ATOMIC "
			      "SELECT 1; END"),
			 TXCONTROL_NONE);
	ck_assert_int_eq(kind(""), TXCONTROL_NONE);
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
	lexer_result_free(&b.r);
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
	Suite *s = suite_create("txcontrol");
	TCase *tc = tcase_create("txcontrol");
	int status;

	tcase_add_test(tc, classify);
	tcase_add_test(tc, no_transaction_control);
	tcase_add_test(tc, wrappers_are_unwrapped);
	tcase_add_test(tc, refusals);
	suite_add_tcase(s, tc);
	status = tu_run_suite(s);
	return status;
}
