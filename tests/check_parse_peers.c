/*
 * check_parse_peers.c - the parsers of the other tools' formats: goose's
 * annotations (sections, statement blocks kept whole by the splitter, NO
 * TRANSACTION, ENVSUB and unknown annotations refused at their line),
 * Flyway's V/U/R files (whole files, placeholders refused at their line)
 * and Flyway's checksum, against values from java.util.zip.CRC32's
 * algorithm (Python's zlib.crc32 is the same CRC-32).
 */
#define _GNU_SOURCE /* strdup in test code */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "migration.h"
#include "split.h"
#include "testutil.h"

static struct migration m;
static dbmigrate_error err;

/* Parse text as a .sql file (goose when its first annotation is). */
static dbmigrate_code sql(const char *text)
{
	migration_free(&m);
	errors_clear(&err);
	m.path = strdup("00001_m.sql");
	m.label = strdup("00001_m");
	m.format = MIGRATION_FORMAT_SQL;
	m.text = strdup(text);
	m.text_len = strlen(text);
	return parse_sql(&m, &err);
}

/* Parse up (and down, or NULL) as a Flyway V file and its U. */
static dbmigrate_code flyway(const char *up, const char *down)
{
	migration_free(&m);
	errors_clear(&err);
	m.path = strdup("V1__m.sql");
	m.label = strdup("V1__m");
	m.format = MIGRATION_FORMAT_FLYWAY;
	m.text = strdup(up);
	m.text_len = strlen(up);
	if (down != NULL) {
		m.down_path = strdup("U1__m.sql");
		m.down_text = strdup(down);
		m.down_text_len = strlen(down);
	}
	return parse_flyway(&m, &err);
}

/* Expect an EFILES error at line (with needle in its message). */
static void fails_at(dbmigrate_code rc, unsigned line, const char *needle)
{
	ck_assert_int_eq(rc, DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(err.hint);
	ck_assert_msg(err.line == line, "error \"%s\" at line %u, expected %u",
		      err.message, err.line, line);
	ck_assert_msg(strstr(err.message, needle) != NULL,
		      "\"%s\" lacks \"%s\"", err.message, needle);
	ck_assert_msg(strstr(err.message, m.path) != NULL,
		      "\"%s\" does not name the file", err.message);
}

/* The statements the splitter makes of b, as "a|b|c". */
static char *split(const struct migration_body *b)
{
	struct split_result sp = { 0 };
	dbmigrate_error e = { .code = DBMIGRATE_OK };
	char *out = calloc(1, b->len + 64), *at = out;

	ck_assert_int_eq(tu_split_body(&m, b, &sp, &e), DBMIGRATE_OK);
	for (size_t i = 0; i < sp.n; i++) {
		at += sprintf(at, "%s%.*s", i ? "|" : "", (int)sp.v[i].len,
			      b->sql + sp.v[i].offset);
	}
	split_result_free(&sp);
	return out;
}

/* Assert that b splits into expected. */
static void splits_into(const struct migration_body *b, const char *expected)
{
	char *got = split(b);

	ck_assert_msg(strcmp(got, expected) == 0, "split into \"%s\", expected \"%s\"",
		      got, expected);
	free(got);
}

START_TEST(goose_sections)
{
	ck_assert_int_eq(sql("-- a goose file\n\n-- +goose Up\nCREATE TABLE t (id int);\n"
			     "-- +goose Down\nDROP TABLE t;\n"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "CREATE TABLE t (id int);\n");
	ck_assert_str_eq(m.down.sql, "DROP TABLE t;\n");
	ck_assert_uint_eq(m.up.line, 4);
	ck_assert_uint_eq(m.down.line, 6);
	ck_assert(!m.no_transaction);
	/* No Down: cannot be rolled back; an empty one rolls back nothing. */
	ck_assert_int_eq(sql("-- +goose Up\nSELECT 1;\n"), DBMIGRATE_OK);
	ck_assert(!m.down.present);
	ck_assert_int_eq(sql("-- +goose Up\nSELECT 1;\n-- +goose Down\n"), DBMIGRATE_OK);
	ck_assert(m.down.present);
	/* Annotations are case-insensitive; white space between words. */
	ck_assert_int_eq(sql("--  +goose  up\nSELECT 1;\n-- +goose DOWN\nSELECT 2;\n"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.down.sql, "SELECT 2;\n");
	/* CRLF. */
	ck_assert_int_eq(sql("-- +goose Up\r\nSELECT 1;\r\n-- +goose Down\r\nSELECT 2;\r\n"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "SELECT 1;\r\n");
	/* goose takes an indented annotation for a comment (its Down would
	   join the up): refused. */
	fails_at(sql("-- +goose Up\nSELECT 1;\n  -- +goose Down\nSELECT 2;\n"), 3,
		 "indented goose annotation");
	ck_assert_uint_eq(err.column, 3);
	/* A byte order mark does not hide the first annotation. */
	ck_assert_int_eq(sql("\xEF\xBB\xBF-- +goose Up\nSELECT 1;\n"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "SELECT 1;\n");
	/* The first annotation decides: dbmate's marker first is dbmate's. */
	ck_assert_int_eq(sql("-- migrate:up\nSELECT 1; -- +goose Up\n"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "SELECT 1; -- +goose Up\n");
}
END_TEST

START_TEST(goose_no_transaction)
{
	ck_assert_int_eq(sql("-- +goose NO TRANSACTION\n-- +goose Up\n"
			     "CREATE INDEX CONCURRENTLY i ON t (c);\n"), DBMIGRATE_OK);
	ck_assert(m.no_transaction);
	ck_assert_uint_eq(m.no_transaction_line, 1);
	ck_assert_int_eq(sql("-- +goose Up\nSELECT 1;\n-- +goose no   transaction\n"),
			 DBMIGRATE_OK);
	ck_assert(m.no_transaction);
	ck_assert_uint_eq(m.no_transaction_line, 3);
}
END_TEST

START_TEST(goose_statement_blocks_go_whole)
{
	const char *text =
		"-- +goose Up\n"
		"CREATE TABLE a (id int);\n"
		"-- +goose StatementBegin\n"
		"-- leading comment\n"
		"CREATE RULE r AS ON INSERT TO a DO ALSO (\n"
		"  INSERT INTO b VALUES (1);\n"
		"  INSERT INTO b VALUES (2)\n"
		");\n"
		"-- +goose StatementEnd\n"
		"SELECT 1; SELECT 2;\n"
		"-- +goose Down\n"
		"-- +goose StatementBegin\n"
		"SELECT 'x;'; SELECT 3\n"
		"-- +goose StatementEnd\n";

	ck_assert_int_eq(sql(text), DBMIGRATE_OK);
	ck_assert_uint_eq(m.up.nwhole, 1);
	ck_assert_uint_eq(m.down.nwhole, 1);
	splits_into(&m.up, "CREATE TABLE a (id int)|"
		    "CREATE RULE r AS ON INSERT TO a DO ALSO (\n"
		    "  INSERT INTO b VALUES (1);\n"
		    "  INSERT INTO b VALUES (2)\n"
		    ")|SELECT 1|SELECT 2");
	splits_into(&m.down, "SELECT 'x;'; SELECT 3");
	/* Without the block the splitter cuts it apart. */
	ck_assert_int_eq(sql("-- +goose Up\nSELECT 'x;'; SELECT 3\n"), DBMIGRATE_OK);
	ck_assert_uint_eq(m.up.nwhole, 0);
	splits_into(&m.up, "SELECT 'x;'|SELECT 3");
	/* The down SQL a tracking row keeps finds its blocks again. */
	{
		struct migration_segment *segs;
		size_t n;
		const char *down = "-- +goose StatementBegin\nSELECT 1; SELECT 2;\n"
				   "-- +goose StatementEnd\nSELECT 3;\n";

		ck_assert(parse_goose_segments(down, strlen(down), &segs, &n));
		ck_assert_uint_eq(n, 1);
		ck_assert_uint_eq(segs[0].offset, 25);
		ck_assert_uint_eq(segs[0].len, strlen("SELECT 1; SELECT 2;\n"));
		free(segs);
	}
}
END_TEST

START_TEST(goose_refusals)
{
	fails_at(sql("SELECT 1;\n-- +goose Up\nSELECT 2;\n"), 1, "SQL before -- +goose Up");
	fails_at(sql("-- +goose Down\nSELECT 1;\n"), 1, "Down before");
	fails_at(sql("-- +goose Up\nSELECT 1;\n-- +goose Up\n"), 3, "duplicate -- +goose Up");
	fails_at(sql("-- +goose Up\n-- +goose Down\n-- +goose Down\n"), 3, "duplicate -- +goose Down");
	fails_at(sql("-- +goose Up\n-- +goose StatementEnd\n"), 2, "without StatementBegin");
	fails_at(sql("-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\n"), 3,
		 "inside another block");
	fails_at(sql("-- +goose Up\n-- +goose StatementBegin\n-- +goose Down\n"), 3,
		 "inside a StatementBegin");
	fails_at(sql("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n"), 2,
		 "has no StatementEnd");
	fails_at(sql("-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n"), 2, "ENVSUB ON");
	fails_at(sql("-- +goose Up\n-- +goose Updown\n"), 2, "unknown goose annotation");
	/* ENVSUB OFF changes nothing and is accepted. */
	ck_assert_int_eq(sql("-- +goose ENVSUB OFF\n-- +goose Up\nSELECT 1;\n"), DBMIGRATE_OK);
	/* No Up at all. */
	ck_assert_int_eq(sql("-- +goose NO TRANSACTION\nSELECT 1;\n"), DBMIGRATE_EFILES);
}
END_TEST

START_TEST(flyway_files)
{
	ck_assert_int_eq(flyway("\xEF\xBB\xBF" "CREATE TABLE t (id int);\n", "DROP TABLE t;\n"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "CREATE TABLE t (id int);\n");
	ck_assert_uint_eq(m.up.offset, 3);
	ck_assert_str_eq(m.down.sql, "DROP TABLE t;\n");
	ck_assert_ptr_eq(m.down.path, m.down_path);
	/* Flyway runs an empty script: present, with nothing to send. */
	ck_assert_int_eq(flyway("", NULL), DBMIGRATE_OK);
	ck_assert(m.up.present);
	ck_assert(!m.down.present);
	splits_into(&m.up, "");
	/* A dollar is not a placeholder; ${...} is, anywhere. */
	ck_assert_int_eq(flyway("SELECT $$a$$, $1, '$', '{x}', '${\n}';\n", NULL), DBMIGRATE_OK);
	fails_at(flyway("SELECT 1;\n-- owner: ${flyway:user}\n", NULL), 2, "${flyway:user}");
	ck_assert_uint_eq(err.column, 11);
	ck_assert_int_eq(flyway("SELECT 1;\n", "DROP SCHEMA ${schema};\n"), DBMIGRATE_EFILES);
	ck_assert_str_eq(err.file, "U1__m.sql");
	ck_assert_uint_eq(err.line, 1);
}
END_TEST

START_TEST(flyway_checksums)
{
	/* zlib.crc32 of the text without its line breaks, as a signed int. */
	ck_assert_int_eq(parse_flyway_checksum("", 0), 0);
	ck_assert_int_eq(parse_flyway_checksum("a\r\nb", 4), -1635563411);
	ck_assert_int_eq(parse_flyway_checksum("a\nb\n", 4), -1635563411);
	ck_assert_int_eq(parse_flyway_checksum("a\rb", 3), -1635563411);
	ck_assert_int_eq(parse_flyway_checksum("\xEF\xBB\xBF" "ab", 5), -1635563411);
	ck_assert_int_eq(parse_flyway_checksum("CREATE TABLE log (n serial, v text);\n", 37),
			 -488320185);
	ck_assert_int_eq(parse_flyway_checksum(
		"CREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;\n",
		81), 1512048949);
}
END_TEST

/* The suite. */
static Suite *peers_suite(void)
{
	const TTest *const goose[] = {
		goose_sections, goose_no_transaction,
		goose_statement_blocks_go_whole, goose_refusals, NULL
	};
	const TTest *const flyway[] = {
		flyway_files, flyway_checksums, NULL
	};
	Suite *s = suite_create("parse-goose, parse-flyway");

	tu_tcase(s, "goose", 0, goose);
	tu_tcase(s, "flyway", 0, flyway);
	return s;
}

int main(void)
{
	int status = tu_run_suite(peers_suite());

	migration_free(&m);
	errors_clear(&err);
	return status;
}
