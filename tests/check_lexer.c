/*
 * check_lexer.c - splitting migration SQL into statements: every quoting
 * and comment form PostgreSQL has, BEGIN ATOMIC function bodies, exact
 * positions for error messages, unterminated constructs, and the words
 * drivers use to classify statements.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "testutil.h"

/* Split text (len bytes) and check the statements are exactly want. */
static void check_split_n(const char *text, size_t len,
			  const char *const *want)
{
	struct lexer_result r = { 0 };
	struct lexer_error err = { 0 };
	char got[4096] = "";
	size_t n = 0, used = 0;

	ck_assert_msg(lexer_split(text, len, &r, &err) == LEXER_OK,
		      "split failed: %s at %u:%u", err.message, err.line,
		      err.column);
	while (want[n] != NULL)
		n++;
	for (size_t i = 0; i < r.n && used < sizeof got; i++)
		used += (size_t)snprintf(got + used, sizeof got - used,
					 "[%.*s] ", (int)r.v[i].len,
					 text + r.v[i].offset);
	ck_assert_msg(r.n == n, "%zu statements instead of %zu: %s", r.n, n,
		      got);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(r.v[i].len == strlen(want[i]) &&
				      memcmp(text + r.v[i].offset, want[i],
					     r.v[i].len) == 0,
			      "statement %zu is [%.*s], not [%s]", i,
			      (int)r.v[i].len, text + r.v[i].offset, want[i]);
	}
	lexer_result_free(&r);
}

/* Split a string and check its statements (NULL-terminated list). */
static void check_split(const char *text, const char *const *want)
{
	check_split_n(text, strlen(text), want);
}

#define SPLIT(text, ...) \
	check_split((text), (const char *const[]){ __VA_ARGS__, NULL })
#define SPLIT_NONE(text) check_split((text), (const char *const[]){ NULL })

/* Check that splitting text fails with message at line:column. */
static void check_error(const char *text, const char *message, size_t offset,
			unsigned line, unsigned column)
{
	struct lexer_result r = { 0 };
	struct lexer_error err = { 0 };

	ck_assert_int_eq(lexer_split(text, strlen(text), &r, &err),
			 LEXER_SYNTAX);
	ck_assert_str_eq(err.message, message);
	ck_assert_uint_eq(err.offset, offset);
	ck_assert_uint_eq(err.line, line);
	ck_assert_uint_eq(err.column, column);
	lexer_result_free(&r);
}

/* Offset of needle in text (which must hold it). */
static size_t at(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	ck_assert_ptr_nonnull(p);
	return (size_t)(p - text);
}

START_TEST(plain_statements)
{
	SPLIT("CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);",
	      "CREATE TABLE a (id int)", "INSERT INTO a VALUES (1)");
	SPLIT("SELECT 1", "SELECT 1");
	SPLIT("SELECT 1;", "SELECT 1");
	SPLIT("SELECT 1;SELECT 2;SELECT 3", "SELECT 1", "SELECT 2",
	      "SELECT 3");
	/* - and / that start no comment are operators. */
	SPLIT("SELECT 4-2/1; SELECT -1", "SELECT 4-2/1", "SELECT -1");
}
END_TEST

START_TEST(semicolons_in_strings)
{
	SPLIT("INSERT INTO t VALUES ('a;b', 'it''s;'); SELECT 2;",
	      "INSERT INTO t VALUES ('a;b', 'it''s;')", "SELECT 2");
	/* standard_conforming_strings: a backslash is just a backslash. */
	SPLIT("SELECT '\\'; SELECT 'c:\\dir\\';", "SELECT '\\'",
	      "SELECT 'c:\\dir\\'");
	SPLIT("SELECT ''';'''; SELECT '';", "SELECT ''';'''", "SELECT ''");
	/* A continued string: 'a' newline 'b' is one literal. */
	SPLIT("SELECT 'a;'\n  ';b'; SELECT 2", "SELECT 'a;'\n  ';b'",
	      "SELECT 2");
}
END_TEST

START_TEST(escape_strings)
{
	SPLIT("SELECT E'\\''; SELECT 2;", "SELECT E'\\''", "SELECT 2");
	SPLIT("SELECT e'it\\'s; ok'; SELECT 2", "SELECT e'it\\'s; ok'",
	      "SELECT 2");
	SPLIT("SELECT E'\\\\'; SELECT 2", "SELECT E'\\\\'", "SELECT 2");
	SPLIT("SELECT E'a''b\\';'; SELECT 2", "SELECT E'a''b\\';'",
	      "SELECT 2");
	/* An e ending an identifier is no prefix: 'x\' is a whole string. */
	SPLIT("SELECT some'x\\'; SELECT 2", "SELECT some'x\\'", "SELECT 2");
	/* After a non-word byte, e is a prefix again. */
	SPLIT("SELECT (1)e'x\\';'; SELECT 2", "SELECT (1)e'x\\';'",
	      "SELECT 2");
	/* An E string continued on the next line keeps its escapes. */
	SPLIT("SELECT E'a'\n'\\'; b'; SELECT 2", "SELECT E'a'\n'\\'; b'",
	      "SELECT 2");
	SPLIT("SELECT E'a' -- c\n  -- d\n'\\';'; SELECT 2",
	      "SELECT E'a' -- c\n  -- d\n'\\';'", "SELECT 2");
	/* Without a newline it is not a continuation. */
	SPLIT("SELECT E'a' '\\'; SELECT 2", "SELECT E'a' '\\'", "SELECT 2");
}
END_TEST

START_TEST(prefixed_literals)
{
	SPLIT("SELECT U&'d\\0061t;a'; SELECT 2", "SELECT U&'d\\0061t;a'",
	      "SELECT 2");
	SPLIT("SELECT U&'\\'; SELECT 2", "SELECT U&'\\'", "SELECT 2");
	SPLIT("SELECT 1 AS U&\"d;t\"; SELECT 2", "SELECT 1 AS U&\"d;t\"",
	      "SELECT 2");
	SPLIT("SELECT B'10;', X'1F;', N'n;\\'; SELECT 2",
	      "SELECT B'10;', X'1F;', N'n;\\'", "SELECT 2");
}
END_TEST

START_TEST(dollar_quotes)
{
	SPLIT("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ "
	      "LANGUAGE sql; SELECT 2",
	      "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
	      "SELECT 2");
	SPLIT("DO $a$ x; $b$ y; $b$ $$ z; $$ $A$; $a$; SELECT 2",
	      "DO $a$ x; $b$ y; $b$ $$ z; $$ $A$; $a$", "SELECT 2");
	SPLIT("DO $body_1$;$body_1$;DO $é$;$é$;",
	      "DO $body_1$;$body_1$", "DO $é$;$é$");
	/* A closing delimiter can start right after a failed one. */
	SPLIT("SELECT $a$x$b$a$; SELECT 2", "SELECT $a$x$b$a$", "SELECT 2");
	/* Two dollar quotes back to back. */
	SPLIT("SELECT $$a;$$$$b;$$; SELECT 2", "SELECT $$a;$$$$b;$$",
	      "SELECT 2");
	/* $1 is a parameter, not a quote; neither is $1$. */
	SPLIT("PREPARE p AS SELECT $1; SELECT $2$;",
	      "PREPARE p AS SELECT $1", "SELECT $2$");
	SPLIT("SELECT $1$$;$$; SELECT 2", "SELECT $1$$;$$", "SELECT 2");
	/* A $ inside an identifier starts nothing. */
	SPLIT("SELECT foo$bar; SELECT a$$b; SELECT x$$;",
	      "SELECT foo$bar", "SELECT a$$b", "SELECT x$$");
	SPLIT("SELECT a$b$ FROM t; SELECT 2", "SELECT a$b$ FROM t",
	      "SELECT 2");
	/* After a number, $$ does start a quote. */
	SPLIT("SELECT 1$$;$$; SELECT 2", "SELECT 1$$;$$", "SELECT 2");
	/* A lone $ or a $ before a name without closing $ is an operator. */
	SPLIT("SELECT $ ; SELECT $x; SELECT 3", "SELECT $", "SELECT $x",
	      "SELECT 3");
	/* E after a dollar quote is a prefix again. */
	SPLIT("SELECT $$a$$E'\\';'; SELECT 2", "SELECT $$a$$E'\\';'",
	      "SELECT 2");
}
END_TEST

START_TEST(comments)
{
	SPLIT("/* a /* b; */ c; */ SELECT 1; -- x; y\nSELECT 2 -- z;",
	      "SELECT 1", "SELECT 2");
	SPLIT("SELECT /* ; /* ; */ ; */ 1; SELECT 2",
	      "SELECT /* ; /* ; */ ; */ 1", "SELECT 2");
	SPLIT("SELECT 1 -- ; still a comment\n + 1; SELECT 2",
	      "SELECT 1 -- ; still a comment\n + 1", "SELECT 2");
	/* PostgreSQL ends a -- comment at a carriage return too. */
	SPLIT("-- c\rSELECT 1; SELECT 2", "SELECT 1", "SELECT 2");
	/* Odd comment shapes. */
	SPLIT("/**/SELECT 1;/*/ ; */SELECT 2;/* **/SELECT 3",
	      "SELECT 1", "SELECT 2", "SELECT 3");
	SPLIT("SELECT 2*/**/3; SELECT 1--\n", "SELECT 2*/**/3", "SELECT 1");
}
END_TEST

START_TEST(quoted_identifiers)
{
	SPLIT("CREATE TABLE \"quoted;ident\" (\"a\"\"b;\" int); SELECT 2",
	      "CREATE TABLE \"quoted;ident\" (\"a\"\"b;\" int)", "SELECT 2");
	SPLIT("SELECT \"'\" FROM t; SELECT '\"';",
	      "SELECT \"'\" FROM t", "SELECT '\"'");
	SPLIT("SELECT \"$$\"; SELECT \"--\"; SELECT \"/*\"",
	      "SELECT \"$$\"", "SELECT \"--\"", "SELECT \"/*\"");
}
END_TEST

START_TEST(parentheses)
{
	/* psql keeps a semicolon inside parentheses: multi-action rules. */
	SPLIT("CREATE RULE r AS ON INSERT TO t DO ALSO "
	      "(INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)); SELECT 1;",
	      "CREATE RULE r AS ON INSERT TO t DO ALSO "
	      "(INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))",
	      "SELECT 1");
	/* A stray ) does not go below zero. */
	SPLIT("SELECT 1); SELECT (2); SELECT 3", "SELECT 1)", "SELECT (2)",
	      "SELECT 3");
	/* Depth starts again at each statement. */
	SPLIT("SELECT ')'; SELECT 2", "SELECT ')'", "SELECT 2");
}
END_TEST

START_TEST(begin_atomic)
{
	static const char fn[] =
		"CREATE FUNCTION add(a int, b int) RETURNS int\n"
		"LANGUAGE sql\n"
		"BEGIN ATOMIC\n"
		"  INSERT INTO log VALUES (a);\n"
		"  SELECT CASE WHEN a > b THEN a ELSE b END;\n"
		"  SELECT case when a = 0 then 1 end + 1;\n"
		"END";
	char text[1024];

	snprintf(text, sizeof text, "%s;\nSELECT add(1, 2);", fn);
	SPLIT(text, fn, "SELECT add(1, 2)");
	SPLIT("create or replace procedure p() language sql begin atomic "
	      "insert into t values (1); delete from t; end; select 1",
	      "create or replace procedure p() language sql begin atomic "
	      "insert into t values (1); delete from t; end",
	      "select 1");
	SPLIT("CREATE OR REPLACE FUNCTION f() RETURNS int BEGIN /* c */ "
	      "ATOMIC SELECT 1; END; SELECT 2",
	      "CREATE OR REPLACE FUNCTION f() RETURNS int BEGIN /* c */ "
	      "ATOMIC SELECT 1; END", "SELECT 2");
	/* A plain transaction BEGIN is a statement of its own. */
	SPLIT("BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;", "BEGIN",
	      "CREATE TABLE t (id int)", "COMMIT");
	SPLIT("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT 1; END;",
	      "BEGIN ISOLATION LEVEL SERIALIZABLE", "SELECT 1", "END");
	/* Only CREATE FUNCTION/PROCEDURE statements have bodies. */
	SPLIT("CREATE TABLE begin_atomic (begin int); SELECT 1",
	      "CREATE TABLE begin_atomic (begin int)", "SELECT 1");
	SPLIT("SELECT 1 AS begin; SELECT 2", "SELECT 1 AS begin", "SELECT 2");
	SPLIT("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE "
	      "FUNCTION begin(); SELECT 2",
	      "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE "
	      "FUNCTION begin()", "SELECT 2");
	/* A function named begin, or BEGIN in its arguments, opens nothing. */
	SPLIT("CREATE FUNCTION begin() RETURNS int AS $$ SELECT 1 $$ "
	      "LANGUAGE sql; SELECT 2",
	      "CREATE FUNCTION begin() RETURNS int AS $$ SELECT 1 $$ "
	      "LANGUAGE sql", "SELECT 2");
	SPLIT("CREATE FUNCTION f(begin int) RETURNS int RETURN 1; SELECT 2",
	      "CREATE FUNCTION f(begin int) RETURNS int RETURN 1", "SELECT 2");
	/* BEGIN inside a dollar-quoted body is just text. */
	SPLIT("CREATE FUNCTION f() RETURNS void AS $$ BEGIN ATOMIC $$ "
	      "LANGUAGE sql; SELECT 2",
	      "CREATE FUNCTION f() RETURNS void AS $$ BEGIN ATOMIC $$ "
	      "LANGUAGE sql", "SELECT 2");
	/* "CREATE" must be the whole first word. */
	SPLIT("CREATED FUNCTION f() BEGIN ATOMIC SELECT 1; END; SELECT 2",
	      "CREATED FUNCTION f() BEGIN ATOMIC SELECT 1", "END",
	      "SELECT 2");
	/* E'' strings and $ words inside a CREATE statement. */
	SPLIT("CREATE FUNCTION f$x() RETURNS text BEGIN ATOMIC "
	      "SELECT E'\\'; end'; END; SELECT 2",
	      "CREATE FUNCTION f$x() RETURNS text BEGIN ATOMIC "
	      "SELECT E'\\'; end'; END", "SELECT 2");
}
END_TEST

START_TEST(positions)
{
	static const char text[] =
		"-- header\n"
		"\n"
		"  CREATE TABLE a (id int);\r\n"
		"\t/* c */ INSERT INTO a VALUES (1);\r\n"
		"SELECT\r\n 1;\n"
		"/* é */ SELECT 'é\n;'";
	struct lexer_result r = { 0 };
	struct lexer_error err;

	ck_assert_int_eq(lexer_split(text, strlen(text), &r, &err), LEXER_OK);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_uint_eq(r.v[0].offset, at(text, "CREATE"));
	ck_assert_uint_eq(r.v[0].len, strlen("CREATE TABLE a (id int)"));
	ck_assert_uint_eq(r.v[0].line, 3);
	ck_assert_uint_eq(r.v[0].column, 3);
	ck_assert_uint_eq(r.v[1].offset, at(text, "INSERT"));
	ck_assert_uint_eq(r.v[1].line, 4);
	ck_assert_uint_eq(r.v[1].column, 10);
	ck_assert_uint_eq(r.v[2].offset, at(text, "SELECT\r"));
	ck_assert_uint_eq(r.v[2].len, strlen("SELECT\r\n 1"));
	ck_assert_uint_eq(r.v[2].line, 5);
	ck_assert_uint_eq(r.v[2].column, 1);
	/* Columns count bytes: é is two. */
	ck_assert_uint_eq(r.v[3].offset, at(text, "SELECT 'é"));
	ck_assert_uint_eq(r.v[3].len, strlen("SELECT 'é\n;'"));
	ck_assert_uint_eq(r.v[3].line, 7);
	ck_assert_uint_eq(r.v[3].column, 10);
	lexer_result_free(&r);
	ck_assert_ptr_null(r.v);
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(empty_statements)
{
	SPLIT_NONE("");
	SPLIT_NONE("   \n\t\r\n");
	SPLIT_NONE(";;  ; -- c\n /* d /* e */ */ ;\n--");
	SPLIT_NONE("-- migrate:up\n");
	SPLIT(";;SELECT 1;;;SELECT 2;;", "SELECT 1", "SELECT 2");
	SPLIT("\n\nSELECT 1\n\n", "SELECT 1");
}
END_TEST

START_TEST(trailing_blanks_and_comments)
{
	SPLIT("SELECT 1 -- c\n;", "SELECT 1");
	SPLIT("SELECT 1 /* a */ -- b\n  /* c */", "SELECT 1");
	SPLIT("SELECT 1/* a *//* b */;", "SELECT 1");
	SPLIT("SELECT 1 --", "SELECT 1");
	SPLIT("SELECT 1 --   \n  ;", "SELECT 1");
	SPLIT("SELECT 1 \t\r\n;", "SELECT 1");
	/* Comments followed by more of the statement stay. */
	SPLIT("SELECT 1 /* x */ + 2 -- y\n;", "SELECT 1 /* x */ + 2");
	SPLIT("SELECT /* x */ 1 /* y */ -- z\n;", "SELECT /* x */ 1");
	SPLIT("SELECT 1 -- a\n -- b\n + 2 -- c\n;",
	      "SELECT 1 -- a\n -- b\n + 2");
}
END_TEST

START_TEST(unterminated)
{
	check_error("SELECT 1;\nSELECT 'abc;\nSELECT 2;",
		    "unterminated quoted string", 17, 2, 8);
	check_error("SELECT 'it''s", "unterminated quoted string", 7, 1, 8);
	check_error("SELECT E'a\\';", "unterminated quoted string", 7, 1, 8);
	check_error("SELECT\n  E'\\';", "unterminated quoted string", 9, 2, 3);
	check_error("SELECT E'\\", "unterminated quoted string", 7, 1, 8);
	check_error("SELECT E'a'\n'b", "unterminated quoted string", 7, 1, 8);
	check_error("CREATE FUNCTION f() AS $body$\nSELECT 1;\n$Body$;",
		    "unterminated dollar-quoted string", 23, 1, 24);
	check_error("DO $$ x $", "unterminated dollar-quoted string", 3, 1, 4);
	check_error("SELECT 1 AS \"abc;", "unterminated quoted identifier",
		    12, 1, 13);
	check_error("SELECT 1;\r\n/* a /* b */ c */ /* d /* e */",
		    "unterminated /* comment", 29, 2, 19);
	check_error("SELECT 1 /* a", "unterminated /* comment", 9, 1, 10);
	check_error("SELECT 1 /* a /* b */", "unterminated /* comment", 9, 1,
		    10);
	check_error("/*", "unterminated /* comment", 0, 1, 1);
}
END_TEST

START_TEST(lone_slash_is_fine)
{
	/* A slash at the very end opens no comment. */
	SPLIT("SELECT 1 /", "SELECT 1 /");
	SPLIT("SELECT 1 -", "SELECT 1 -");
	SPLIT("SELECT 1 $", "SELECT 1 $");
	SPLIT("SELECT E", "SELECT E");
}
END_TEST

START_TEST(no_terminating_nul)
{
	/* Texts are not NUL-terminated: nothing past len may be read. */
	static const char *const texts[] = {
		"SELECT 'abc", "SELECT E'a\\", "DO $tag", "DO $a$ x $a",
		"SELECT \"x", "SELECT 1 /* a *", "SELECT 1 --", "SELECT E'a'\n",
		"CREATE FUNCTION f() BEGIN", "CREATE FUNCTION f() BEGIN ATOM",
		"SELECT a$", "SELECT 1$", "SELECT U&", "SELECT X", "x", "-",
	};

	for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
		size_t len = strlen(texts[k]);
		char *buf = malloc(len);
		struct lexer_result r = { 0 };
		struct lexer_error err;
		struct dbmigrate_word w[16];

		ck_assert_ptr_nonnull(buf);
		memcpy(buf, texts[k], len);
		lexer_split(buf, len, &r, &err);
		lexer_result_free(&r);
		lexer_words(DBMIGRATE_LEX_POSTGRES, buf, len, w, 16);
		free(buf);
	}
}
END_TEST

START_TEST(appends_to_result)
{
	struct lexer_result r = { 0 };
	struct lexer_error err;
	const char *a = "SELECT 1; SELECT 2", *b = "SELECT 3";

	ck_assert_int_eq(lexer_split(a, strlen(a), &r, &err), LEXER_OK);
	ck_assert_int_eq(lexer_split(b, strlen(b), &r, &err), LEXER_OK);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(r.v[2].offset, 0);
	ck_assert_uint_eq(r.v[2].len, 8);
	lexer_result_free(&r);
}
END_TEST

START_TEST(many_statements)
{
	const size_t count = 20000;
	char *text = malloc(count * 32);
	struct lexer_result r = { 0 };
	struct lexer_error err;
	size_t len = 0;

	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < count; i++)
		len += (size_t)sprintf(text + len, "INSERT INTO t VALUES (%zu);\n",
				       i);
	ck_assert_int_eq(lexer_split(text, len, &r, &err), LEXER_OK);
	ck_assert_uint_eq(r.n, count);
	for (size_t i = 0; i < count; i++) {
		ck_assert_uint_eq(r.v[i].line, i + 1);
		ck_assert_uint_eq(r.v[i].column, 1);
		ck_assert_int_eq(atoi(text + r.v[i].offset + 22), (int)i);
	}
	lexer_result_free(&r);
	free(text);
}
END_TEST

/* Check the words of sql (at most max) under rules lex are exactly want. */
static void check_words_lex(unsigned lex, const char *sql, size_t max,
			    const char *const *want)
{
	struct dbmigrate_word w[32];
	size_t n = 0, got;

	while (want[n] != NULL)
		n++;
	got = lexer_words(lex, sql, strlen(sql), w, max);
	ck_assert_msg(got == n, "%zu words instead of %zu in [%s]", got, n,
		      sql);
	for (size_t i = 0; i < n; i++) {
		ck_assert(w[i].s >= sql && w[i].s + w[i].len <= sql + strlen(sql));
		ck_assert_msg(w[i].len == strlen(want[i]) &&
				      memcmp(w[i].s, want[i], w[i].len) == 0,
			      "word %zu is [%.*s], not [%s]", i, (int)w[i].len,
			      w[i].s, want[i]);
	}
}

#define WORDS(sql, max, ...)                                \
	check_words_lex(DBMIGRATE_LEX_POSTGRES, (sql), (max), \
			(const char *const[]){ __VA_ARGS__, NULL })
#define WORDS_LEX(lex, sql, ...) \
	check_words_lex((lex), (sql), 32, (const char *const[]){ __VA_ARGS__, NULL })

/* SQLite's lexical rules, as its driver would pass them. */
#define LEX_SQLITE (DBMIGRATE_LEX_DQUOTE_IDENT | DBMIGRATE_LEX_BACKTICK_IDENT | \
		    DBMIGRATE_LEX_BRACKET_IDENT)
/* MySQL's, with ANSI_QUOTES off. */
#define LEX_MYSQL (DBMIGRATE_LEX_DQUOTE_STRING | DBMIGRATE_LEX_BACKTICK_IDENT | \
		   DBMIGRATE_LEX_BACKSLASH | DBMIGRATE_LEX_HASH_COMMENTS |   \
		   DBMIGRATE_LEX_DASH_SPACE | DBMIGRATE_LEX_EXEC_COMMENTS)

/* The words under other dialects' rules: each quote, comment and literal
   a flag names, and nothing a flag does not name. */
START_TEST(words_under_other_rules)
{
	/* SQLite: three ways to quote a name; comments do not nest. */
	WORDS_LEX(LEX_SQLITE, "CREATE TABLE [my table] (`a b` int, \"c;d\" text)",
		  "CREATE", "TABLE", "[my table]", "(", "`a b`", "int", ",",
		  "\"c;d\"", "text", ")");
	WORDS_LEX(LEX_SQLITE, "/* a /* b */ PRAGMA foreign_keys = OFF",
		  "PRAGMA", "foreign_keys", "=", "OFF");
	/* PostgreSQL's nested comment swallows what SQLite's does not. */
	WORDS("/* a /* b */ PRAGMA */ VACUUM", 32, "VACUUM");
	/* Without the bracket rule, [ is a character of its own. */
	WORDS("SELECT [x]", 32, "SELECT", "[", "x", "]");
	/* MySQL: # and "-- " comments, "--" without a space is not one. */
	WORDS_LEX(LEX_MYSQL, "# note\nSELECT 1 -- end\n", "SELECT", "1");
	WORDS_LEX(LEX_MYSQL, "SELECT 1--2", "SELECT", "1", "-", "-", "2");
	/* Backslash escapes in both kinds of string, and "x" is a string. */
	WORDS_LEX(LEX_MYSQL, "INSERT INTO `t` VALUES ('it\\'s', \"a\\\"b;\")",
		  "INSERT", "INTO", "`t`", "VALUES", "(", ",", ")");
	/* An executable comment is code; a plain one is not. */
	WORDS_LEX(LEX_MYSQL, "/*!40101 SET NAMES utf8 */ /* x */",
		  "SET", "NAMES", "utf8");
	WORDS_LEX(LEX_MYSQL, "/*! DROP TABLE t */", "DROP", "TABLE", "t");
	/* PostgreSQL's E'' prefix means nothing to MySQL: e is a word. */
	WORDS_LEX(LEX_MYSQL, "SELECT e'x'", "SELECT", "e");
	/* An unterminated construct runs to the end. */
	WORDS_LEX(LEX_SQLITE, "DROP TABLE [t", "DROP", "TABLE", "[t");
	WORDS_LEX(LEX_MYSQL, "SELECT 'a\\", "SELECT");
}
END_TEST

START_TEST(words)
{
	WORDS("  /* c */ CREATE -- x\n INDEX CONCURRENTLY \"My;Idx\" ON t(a)",
	      32, "CREATE", "INDEX", "CONCURRENTLY", "\"My;Idx\"", "ON", "t",
	      "(", "a", ")");
	WORDS("SELECT 'a b', E'x\\'y', $$ c $$, $t$ d $t$, U&'e', X'1F', "
	      "n'z', b'1', 1",
	      32, "SELECT", ",", ",", ",", ",", ",", ",", ",", ",", "1");
	WORDS("ALTER TABLE U&\"t\\0041\" ADD", 32, "ALTER", "TABLE",
	      "U&\"t\\0041\"", "ADD");
	WORDS("VACUUM FULL ANALYZE t", 2, "VACUUM", "FULL");
	WORDS("foo$bar baz_1 $1 \"a\"\"b\"", 32, "foo$bar", "baz_1", "$",
	      "1", "\"a\"\"b\"");
	WORDS("drop index concurrently if exists i", 32, "drop", "index",
	      "concurrently", "if", "exists", "i");
	WORDS("SELECT 'abc", 32, "SELECT");
	WORDS("SELECT \"abc", 32, "SELECT", "\"abc");
	WORDS("/* unterminated", 32, NULL);
	WORDS("", 32, NULL);
	WORDS("SELECT 1", 0, NULL);
	WORDS("a<=b", 32, "a", "<", "=", "b");
	WORDS("é_t ok", 32, "é_t", "ok");
}
END_TEST

START_TEST(word_is)
{
	struct dbmigrate_word w = { "BEGIN;", 5 };

	ck_assert(lexer_word_is(&w, "begin"));
	ck_assert(lexer_word_is(&w, "BeGiN"));
	ck_assert(!lexer_word_is(&w, "begi"));
	ck_assert(!lexer_word_is(&w, "begins"));
	ck_assert(!lexer_word_is(&w, ""));
	w.len = 0;
	ck_assert(lexer_word_is(&w, ""));
	ck_assert(!lexer_word_is(&w, "b"));
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		plain_statements, semicolons_in_strings, escape_strings,
		prefixed_literals, dollar_quotes, comments, quoted_identifiers,
		parentheses, begin_atomic, positions, empty_statements,
		trailing_blanks_and_comments, unterminated, lone_slash_is_fine,
		no_terminating_nul, appends_to_result, many_statements, words,
		words_under_other_rules, word_is, NULL
	};

	return tu_run_suite(tu_suite("lexer", 0, tests));
}
