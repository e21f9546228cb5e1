/*
 * check_mysql_split.c - the MySQL driver's dialect without a server: how
 * split() cuts a migration into statements as the mysql client would
 * (quotes with backslashes, backticks, '#' and '-- ' comments, executable
 * comments, DELIMITER lines, stored-program bodies), what it refuses,
 * and what classify() says of each statement (DDL commits on its own,
 * transaction control, the wrapper). The driver is loaded as the core
 * loads it, with the host's own services.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbmigrate/driver.h"
#include "driver.h"
#include "testutil.h"

static struct driver drv;
static struct dbmigrate_host host;

/* The statements split() found, joined by " | ". */
struct spans {
	const char *text;
	char out[4096];
};

static int collect(void *ctx, size_t off, size_t len)
{
	struct spans *s = ctx;
	size_t n = strlen(s->out);

	snprintf(s->out + n, sizeof s->out - n, "%s%.*s", n > 0 ? " | " : "",
		 (int)len, s->text + off);
	return 0;
}

/* Load the driver once per test process. */
static void setup(void)
{
	dbmigrate_error e = {0};

	if (drv.vt != NULL)
		return;
	ck_assert_msg(driver_load("mysql", &drv, &e) == DBMIGRATE_OK, "%s",
		      e.message != NULL ? e.message : "?");
	memset(&host, 0, sizeof host);
	host.abi_version = DBMIGRATE_DRIVER_ABI_VERSION;
	host.struct_size = sizeof host;
	driver_host_services(&host);
}

/* Assert how text splits. */
static void expect_split(const char *text, const char *expected)
{
	struct spans s = {.text = text};
	struct dbmigrate_split_error err = {0};
	dbmigrate_code rc;

	setup();
	rc = drv.vt->split(&host, text, strlen(text), collect, &s, &err);
	ck_assert_msg(rc == DBMIGRATE_OK, "split refused %s: %s", text,
		      err.message != NULL ? err.message : "?");
	ck_assert_msg(strcmp(s.out, expected) == 0, "split of\n%s\ngave\n%s\nexpected\n%s",
		      text, s.out, expected);
}

/* Assert that split refuses text at offset with a message holding msg. */
static void expect_refused(const char *text, const char *msg, size_t offset)
{
	struct spans s = {.text = text};
	struct dbmigrate_split_error err = {0};

	setup();
	ck_assert_int_eq(drv.vt->split(&host, text, strlen(text), collect, &s, &err),
			 DBMIGRATE_EFILES);
	ck_assert_msg(err.message != NULL && strstr(err.message, msg) != NULL,
		      "message %s", err.message != NULL ? err.message : "(none)");
	ck_assert_uint_eq(err.offset, offset);
}

/* The flags classify() gives a statement. */
static unsigned flags_of(const char *sql)
{
	struct dbmigrate_stmt_class c = {0};

	setup();
	drv.vt->classify(&host, sql, strlen(sql), &c);
	return c.flags;
}

START_TEST(plain_statements)
{
	expect_split("CREATE TABLE a (id INT);\nINSERT INTO a VALUES (1);",
		     "CREATE TABLE a (id INT) | INSERT INTO a VALUES (1)");
	expect_split("  SELECT 1 ; ; \n\n  ", "SELECT 1");
	expect_split("SELECT 1", "SELECT 1");
}
END_TEST

START_TEST(quotes_and_escapes)
{
	expect_split("INSERT INTO t VALUES ('a;b', \"c;d\", 'it\\'s;', \"q\\\";\");SELECT 2;",
		     "INSERT INTO t VALUES ('a;b', \"c;d\", 'it\\'s;', \"q\\\";\") | SELECT 2");
	expect_split("SELECT 'x''y;z';SELECT `we;ird``name` FROM t;",
		     "SELECT 'x''y;z' | SELECT `we;ird``name` FROM t");
	/* a backslash does not escape in a `name` */
	expect_split("SELECT `a\\`;SELECT 1", "SELECT `a\\` | SELECT 1");
}
END_TEST

START_TEST(comments)
{
	expect_split("# hash; comment\nSELECT 1; -- dash; comment\nSELECT 2 /* c; */;",
		     "SELECT 1 | SELECT 2");
	/* "--" without a space is not a comment: 1--1 is 1 - (-1) */
	expect_split("SELECT 1--1;SELECT 2", "SELECT 1--1 | SELECT 2");
	/* a trailing comment before the terminator is not in the range */
	expect_split("SELECT 1 -- why\n;", "SELECT 1");
	/* a statement of comments only is not one */
	expect_split("-- only\n# comments\n/* here */;", "");
}
END_TEST

START_TEST(executable_comments)
{
	expect_split("/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE t (id INT) /*!50100 ENGINE=InnoDB */;",
		     "/*!40101 SET NAMES utf8mb4 */ | CREATE TABLE t (id INT) /*!50100 ENGINE=InnoDB */");
	expect_split("/*M!100100 SELECT 1 */;SELECT 2", "/*M!100100 SELECT 1 */ | SELECT 2");
	ck_assert_uint_eq(flags_of("/*!50003 CREATE */ /*!50003 PROCEDURE p() SELECT 1 */"),
			  DBMIGRATE_STMT_IMPLICIT_COMMIT);
}
END_TEST

START_TEST(delimiter_lines)
{
	expect_split("DELIMITER $$\n"
		     "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND$$\n"
		     "DELIMITER ;\n"
		     "SELECT 3;",
		     "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND | SELECT 3");
	expect_split("delimiter //\nSELECT 1; SELECT 2 //\nSELECT 3//\ndelimiter ;\nSELECT 4;",
		     "SELECT 1; SELECT 2 | SELECT 3 | SELECT 4");
	/* not the first word of a line: an ordinary word */
	expect_split("SELECT 1 AS delimiter;", "SELECT 1 AS delimiter");
	expect_refused("DELIMITER\nSELECT 1;", "DELIMITER needs", 0);
}
END_TEST

START_TEST(stored_program_bodies)
{
	expect_split("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW\n"
		     "BEGIN\n  IF NEW.a < 0 THEN SET NEW.a = 0; END IF;\n"
		     "  CASE NEW.b WHEN 1 THEN SET NEW.c = 2; ELSE SET NEW.c = 3; END CASE;\n"
		     "END;\nSELECT 1;",
		     "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW\n"
		     "BEGIN\n  IF NEW.a < 0 THEN SET NEW.a = 0; END IF;\n"
		     "  CASE NEW.b WHEN 1 THEN SET NEW.c = 2; ELSE SET NEW.c = 3; END CASE;\n"
		     "END | SELECT 1");
	expect_split("CREATE DEFINER=`root`@`localhost` PROCEDURE p()\n"
		     "BEGIN\n  DECLARE i INT DEFAULT 0;\n"
		     "  l: LOOP SET i = i + 1; IF i > 3 THEN LEAVE l; END IF; END LOOP l;\n"
		     "  WHILE i > 0 DO SET i = i - 1; END WHILE;\n"
		     "  REPEAT SET i = i + 1; UNTIL i > 2 END REPEAT;\n"
		     "  SELECT IF(i > 1, 'a', 'b'), REPEAT('x', 2);\n"
		     "END;\nSELECT 2;",
		     "CREATE DEFINER=`root`@`localhost` PROCEDURE p()\n"
		     "BEGIN\n  DECLARE i INT DEFAULT 0;\n"
		     "  l: LOOP SET i = i + 1; IF i > 3 THEN LEAVE l; END IF; END LOOP l;\n"
		     "  WHILE i > 0 DO SET i = i - 1; END WHILE;\n"
		     "  REPEAT SET i = i + 1; UNTIL i > 2 END REPEAT;\n"
		     "  SELECT IF(i > 1, 'a', 'b'), REPEAT('x', 2);\n"
		     "END | SELECT 2");
	/* A function without BEGIN ends at its ';'. */
	expect_split("CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1;SELECT f();",
		     "CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1 | SELECT f()");
	/* MariaDB's anonymous block */
	expect_split("BEGIN NOT ATOMIC\n  SELECT 1;\nEND;\nSELECT 2;",
		     "BEGIN NOT ATOMIC\n  SELECT 1;\nEND | SELECT 2");
	/* A table named event is not a stored program, and BEGIN is a
	   transaction. */
	expect_split("CREATE TABLE event (id INT);BEGIN;SELECT 1;COMMIT;",
		     "CREATE TABLE event (id INT) | BEGIN | SELECT 1 | COMMIT");
	expect_refused("CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n", "unterminated BEGIN", 0);
}
END_TEST

START_TEST(unterminated)
{
	expect_refused("SELECT 1;\nSELECT 'abc;", "unterminated quoted string", 17);
	expect_refused("SELECT \"abc\\\";", "unterminated quoted string", 7);
	expect_refused("SELECT `abc;", "unterminated quoted name", 7);
	expect_refused("SELECT 1; /* abc", "unterminated /* comment", 10);
	/* An executable comment that a ';' inside it outlives (as in the
	   mysql client) is refused where it opened, not past the text (the
	   fuzzer found that). */
	expect_refused("SELECT 1;\n/*!40101 SET NAMES utf8mb4; SELECT 2;",
		       "unterminated executable comment", 10);
	expect_refused("/*!40101 SET x = 1", "unterminated executable comment", 0);
}
END_TEST

START_TEST(classification)
{
	ck_assert_uint_eq(flags_of("CREATE TABLE t (id INT)"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	ck_assert_uint_eq(flags_of("alter table t add x int"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	ck_assert_uint_eq(flags_of("DROP INDEX i ON t"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	ck_assert_uint_eq(flags_of("RENAME TABLE a TO b"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	ck_assert_uint_eq(flags_of("TRUNCATE t"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	ck_assert_uint_eq(flags_of("GRANT SELECT ON t TO u"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	ck_assert_uint_eq(flags_of("CALL p()"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	ck_assert_uint_eq(flags_of("SET PASSWORD FOR u = 'x'"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	ck_assert_uint_eq(flags_of("BEGIN NOT ATOMIC SELECT 1; END"),
			  DBMIGRATE_STMT_IMPLICIT_COMMIT);
	/* temporary tables do not commit */
	ck_assert_uint_eq(flags_of("CREATE TEMPORARY TABLE t (id INT)"), 0);
	ck_assert_uint_eq(flags_of("DROP TEMPORARY TABLE t"), 0);
	/* data */
	ck_assert_uint_eq(flags_of("INSERT INTO t VALUES (1)"), 0);
	ck_assert_uint_eq(flags_of("UPDATE t SET a = 1"), 0);
	ck_assert_uint_eq(flags_of("# c\nDELETE FROM t"), 0);
	ck_assert_uint_eq(flags_of("SET @x = 1"), 0);
	ck_assert_uint_eq(flags_of("CHECKSUM TABLE t"), 0);
	/* transaction control */
	ck_assert_uint_eq(flags_of("START TRANSACTION"), DBMIGRATE_STMT_BEGIN);
	ck_assert_uint_eq(flags_of("BEGIN"), DBMIGRATE_STMT_BEGIN);
	ck_assert_uint_eq(flags_of("COMMIT"), DBMIGRATE_STMT_COMMIT);
	ck_assert_uint_eq(flags_of("ROLLBACK"), DBMIGRATE_STMT_ROLLBACK);
	ck_assert_uint_eq(flags_of("LOCK TABLES t WRITE"), DBMIGRATE_STMT_TXCONTROL);
	ck_assert_uint_eq(flags_of("UNLOCK TABLES"), DBMIGRATE_STMT_TXCONTROL);
	ck_assert_uint_eq(flags_of("SET autocommit = 0"), DBMIGRATE_STMT_TXCONTROL);
	ck_assert_uint_eq(flags_of("SET SESSION autocommit = 0"), DBMIGRATE_STMT_TXCONTROL);
	ck_assert_uint_eq(flags_of("XA START 'x'"), DBMIGRATE_STMT_TXCONTROL);
	/* START SLAVE commits, START TRANSACTION begins */
	ck_assert_uint_eq(flags_of("START SLAVE"), DBMIGRATE_STMT_IMPLICIT_COMMIT);
	/* END alone is not COMMIT in MySQL */
	ck_assert_uint_eq(flags_of("END"), 0);
}
END_TEST

static Suite *split_suite(void)
{
	const TTest *const dialect[] = {
		plain_statements, quotes_and_escapes, comments,
		executable_comments, delimiter_lines, stored_program_bodies,
		unterminated, classification, NULL
	};
	Suite *s = suite_create("mysql_split");

	tu_tcase(s, "dialect", 0, dialect);
	return s;
}

int main(void)
{
	return tu_run_suite(split_suite());
}
