/*
 * check_util.c - errors.c and strbuf.c: error values keep what they are
 * given, locations point at the right line and column, and buffers grow.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "directive.h"
#include "errors.h"
#include "strbuf.h"
#include "testutil.h"

START_TEST(error_fields)
{
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(errors_set(&e, DBMIGRATE_EFILES, "bad file %s", "x.sql"),
			 DBMIGRATE_EFILES);
	errors_detail(&e, "The %s section is empty.", "up");
	errors_hint(&e, "Write SQL.");
	errors_sqlstate(&e, "42P01");
	errors_migration(&e, "001_x");
	ck_assert_int_eq(e.code, DBMIGRATE_EFILES);
	ck_assert_str_eq(e.message, "bad file x.sql");
	ck_assert_str_eq(e.detail, "The up section is empty.");
	ck_assert_str_eq(e.hint, "Write SQL.");
	ck_assert_str_eq(e.sqlstate, "42P01");
	ck_assert_str_eq(e.migration, "001_x");
	/* A new error replaces every field of the old one. */
	errors_set(&e, DBMIGRATE_EIO, "other");
	ck_assert_ptr_null(e.detail);
	ck_assert_ptr_null(e.sqlstate);
	errors_clear(&e);
	ck_assert_int_eq(e.code, DBMIGRATE_OK);
	ck_assert_ptr_null(e.message);
}
END_TEST

START_TEST(error_errno_and_nomem)
{
	dbmigrate_error e = { 0 };

	errors_set_errno(&e, DBMIGRATE_EIO, ENOENT, "cannot open %s", "a.sql");
	ck_assert_str_eq(e.message, "cannot open a.sql: No such file or directory");
	ck_assert_int_eq(errors_nomem(&e), DBMIGRATE_ENOMEM);
	ck_assert_str_eq(e.message, "out of memory");
	errors_clear(&e);   /* must not free the static message */
}
END_TEST

START_TEST(error_location_from_offset)
{
	static const char text[] = "-- migrate:up\r\nCREATE TABLE é (id int);\nSELECT 1;\n";
	dbmigrate_error e = { 0 };
	size_t off = (size_t)(strstr(text, "(id") - text);

	errors_location_at(&e, "m.sql", text, sizeof text - 1, off);
	ck_assert_str_eq(e.file, "m.sql");
	ck_assert_uint_eq(e.line, 2);
	ck_assert_uint_eq(e.column, 16);    /* é is one character */
	ck_assert_str_eq(e.source_line, "CREATE TABLE é (id int);");
	errors_location_at(&e, "m.sql", text, sizeof text - 1, 100000);
	ck_assert_uint_eq(e.line, 4);       /* clamped to the end */
	errors_clear(&e);
}
END_TEST

START_TEST(error_move)
{
	dbmigrate_error a = { 0 }, b = { 0 };

	errors_set(&a, DBMIGRATE_ELOCK, "held");
	errors_move(&b, &a);
	ck_assert_int_eq(a.code, DBMIGRATE_OK);
	ck_assert_ptr_null(a.message);
	ck_assert_str_eq(b.message, "held");
	errors_clear(&b);
}
END_TEST

/* The directive lines of a body, as the runner and lint both read them. */
START_TEST(directives_are_found_line_by_line)
{
	static const char body[] =
		"-- dbmigrate:statement_timeout 30s\r\n"
		"SELECT 1; -- dbmigrate:lock-timeout 1s\n"
		"  --dbmigrate:lock-timeout 5s  \n"
		"-- dbmigrate:lock-timeout 5s too much\n"
		"-- dbmigrate:\n"
		"-- dbmigrate:a_word_that_is_far_too_long_to_be_any 1\n"
		"-- dbmigrate:lint-ignore missing-down";
	struct directive d;
	size_t pos = 0;

	ck_assert(directive_next(body, strlen(body), &pos, &d));
	ck_assert_str_eq(d.word, "statement-timeout");
	ck_assert_uint_eq(d.value_len, 3);
	ck_assert(strncmp(d.value, "30s", 3) == 0);
	ck_assert(!d.trailing); /* the CR of a CRLF line is no trailing text */
	ck_assert_uint_eq(d.offset, 0);
	/* not a line of its own: skipped */
	ck_assert(directive_next(body, strlen(body), &pos, &d));
	ck_assert_str_eq(d.word, "lock-timeout");
	ck_assert(strncmp(d.value, "5s", 2) == 0);
	ck_assert(!d.trailing);
	ck_assert_ptr_eq(body + d.offset, strstr(body, "  --dbmigrate:"));
	ck_assert(directive_next(body, strlen(body), &pos, &d));
	ck_assert(d.trailing);
	ck_assert(directive_next(body, strlen(body), &pos, &d));
	ck_assert_str_eq(d.word, "");
	ck_assert(directive_next(body, strlen(body), &pos, &d));
	ck_assert_str_eq(d.word, "lint-ignore");
	ck_assert(!directive_next(body, strlen(body), &pos, &d));
}
END_TEST

START_TEST(strbuf_grows)
{
	struct strbuf b = STRBUF_INIT;
	char *s;

	for (int i = 0; i < 1000; i++)
		ck_assert(strbuf_printf(&b, "%d,", i));
	ck_assert(strbuf_putc(&b, '!'));
	ck_assert(!strbuf_failed(&b));
	ck_assert_uint_eq(b.len, strlen(b.s));
	ck_assert(strncmp(b.s, "0,1,2,", 6) == 0);
	ck_assert_int_eq(b.s[b.len - 1], '!');
	s = strbuf_steal(&b);
	ck_assert_ptr_null(b.s);
	free(s);
	s = strbuf_steal(&b);   /* an empty buffer gives "" */
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		error_fields, error_errno_and_nomem, error_location_from_offset,
		error_move, strbuf_grows, directives_are_found_line_by_line,
		NULL
	};

	return tu_run_suite(tu_suite("util", 0, tests));
}
