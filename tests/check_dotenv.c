/*
 * check_dotenv.c - dotenv.c: the .env syntax users write (comments,
 * export, quotes, escapes, CRLF), garbage refused with the right line,
 * and the file cases (missing is fine, a directory is an error).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dotenv.h"
#include "errors.h"
#include "testutil.h"

/* What the callback saw. */
struct seen {
	int n;
	char key[16][32];
	char value[16][64];
	unsigned line[16];
	int stop_at; /* return this call's number + 100 when reached; 0 never */
};

/* dotenv_fn recording each assignment. */
static int record(void *ctx, const char *key, const char *value,
		  unsigned line)
{
	struct seen *s = ctx;

	ck_assert_int_lt(s->n, 16);
	ck_assert_uint_lt(strlen(key), sizeof s->key[0]);
	ck_assert_uint_lt(strlen(value), sizeof s->value[0]);
	strcpy(s->key[s->n], key);
	strcpy(s->value[s->n], value);
	s->line[s->n] = line;
	s->n++;
	return s->n == s->stop_at ? 100 + s->n : 0;
}

/* Parse text (NUL-terminated) expecting success; returns the calls. */
static struct seen parse_ok(const char *text)
{
	struct seen s = { 0 };
	unsigned bad = 0;
	const char *why = NULL;

	ck_assert_int_eq(dotenv_parse(text, strlen(text), record, &s, &bad, &why), 0);
	ck_assert_ptr_null(why);
	return s;
}

START_TEST(syntax_users_write)
{
	struct seen s = parse_ok(
		"# database settings\n"
		"\n"
		"   \t\n"
		"DB_HOST=localhost\n"
		"export DB_PORT=5433\n"
		"DB_NAME = app_dev \n"
		"DB_USER='admin user'\n"
		"DB_PASSWORD=\"p\\\"w\\\\d\\nx\"\n"
		"DATABASE_URL=postgres://u@h/db?sslmode=require&a=b\n"
		"  # indented comment\n"
		"EMPTY=\n"
		"HASH=a#b\n"
		"TRAILING=value # a comment\n"
		"QUOTED='x y' # comment after quotes\n"
		"RAW='C:\\path\\n'\n"
		"export=1\n");

	ck_assert_int_eq(s.n, 12);
	ck_assert_str_eq(s.key[0], "DB_HOST");
	ck_assert_str_eq(s.value[0], "localhost");
	ck_assert_uint_eq(s.line[0], 4);
	ck_assert_str_eq(s.key[1], "DB_PORT");      /* export stripped */
	ck_assert_str_eq(s.value[1], "5433");
	ck_assert_str_eq(s.key[2], "DB_NAME");      /* blanks around = */
	ck_assert_str_eq(s.value[2], "app_dev");
	ck_assert_str_eq(s.value[3], "admin user");
	ck_assert_str_eq(s.value[4], "p\"w\\d\nx"); /* escapes */
	ck_assert_uint_eq(s.line[4], 8);
	ck_assert_str_eq(s.value[5], "postgres://u@h/db?sslmode=require&a=b");
	ck_assert_str_eq(s.key[6], "EMPTY");
	ck_assert_str_eq(s.value[6], "");
	ck_assert_str_eq(s.value[7], "a#b");        /* # inside a word */
	ck_assert_str_eq(s.value[8], "value");
	ck_assert_str_eq(s.value[9], "x y");
	ck_assert_str_eq(s.value[10], "C:\\path\\n"); /* single: literal */
	ck_assert_str_eq(s.key[11], "export");
	ck_assert_uint_eq(s.line[11], 16);
}
END_TEST

START_TEST(crlf_and_bom)
{
	struct seen s = parse_ok("\xEF\xBB\xBF"
				 "A=1\r\nB=\"two\"\r\n\r\nC='3'\r\nD=4");

	ck_assert_int_eq(s.n, 4);
	ck_assert_str_eq(s.key[0], "A");   /* no BOM in the key */
	ck_assert_str_eq(s.value[0], "1"); /* no CR in the value */
	ck_assert_str_eq(s.value[1], "two");
	ck_assert_str_eq(s.value[2], "3");
	ck_assert_uint_eq(s.line[2], 4);
	ck_assert_str_eq(s.value[3], "4"); /* no final newline */
}
END_TEST

START_TEST(garbage_names_its_line)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		unsigned line;
		const char *why;
	} cases[] = {
		{ "A=1\njust some words\n", 0, 2, "not a KEY=VALUE" },
		{ "1KEY=x\n", 0, 1, "variable name" },
		{ "A=1\nKEY-NAME=x\n", 0, 2, "variable name" },
		{ "=x\n", 0, 1, "variable name" },
		{ "A=1\n\nB=\"unterminated\nC=2\n", 0, 3, "double quote" },
		{ "A='open\n", 0, 1, "single quote" },
		{ "A=\"x\" junk\n", 0, 1, "follows the closing" },
		{ "A=1\r\nB=x\0y\r\n", 12, 2, "NUL byte" },
		{ "export\n", 0, 1, "not a KEY=VALUE" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct seen s = { 0 };
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		unsigned bad = 0;
		const char *why = NULL;

		ck_assert_msg(dotenv_parse(cases[i].text, len, record, &s, &bad,
					   &why) == -1, "case %zu", i);
		ck_assert_msg(bad == cases[i].line, "case %zu: line %u", i, bad);
		ck_assert_msg(why != NULL && strstr(why, cases[i].why) != NULL,
			      "case %zu: %s", i, why ? why : "(null)");
	}
}
END_TEST

START_TEST(callback_stops_parse)
{
	struct seen s = { .stop_at = 2 };
	const char *text = "A=1\nB=2\nC=3\n";
	unsigned bad = 0;
	const char *why = NULL;

	ck_assert_int_eq(dotenv_parse(text, strlen(text), record, &s, &bad, &why), 102);
	ck_assert_int_eq(s.n, 2);
}
END_TEST

START_TEST(missing_file_is_fine)
{
	char *dir = tu_mkdtemp();
	char path[512];
	struct seen s = { 0 };
	dbmigrate_error e = { 0 };

	snprintf(path, sizeof path, "%s/.env", dir);
	ck_assert_int_eq(dotenv_load(path, record, &s, &e), DBMIGRATE_OK);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(e.code, DBMIGRATE_OK);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(directory_is_an_error)
{
	char *dir = tu_mkdtemp();
	struct seen s = { 0 };
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(dotenv_load(dir, record, &s, &e), DBMIGRATE_EIO);
	ck_assert_ptr_nonnull(strstr(e.message, dir));
	ck_assert_int_eq(s.n, 0);
	errors_clear(&e);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(file_values_and_bad_line)
{
	char *dir = tu_mkdtemp();
	char *good = tu_write(dir, "good.env", "# x\nDB_HOST=db.example\n"
				  "DB_PORT=6543\n");
	char *bad = tu_write(dir, "bad.env", "DB_HOST=h\n# the password:\n"
				 "DB_PASSWORD=\"hunter2\n");
	struct seen s = { 0 };
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(dotenv_load(good, record, &s, &e), DBMIGRATE_OK);
	ck_assert_int_eq(s.n, 2);
	ck_assert_str_eq(s.value[1], "6543");
	ck_assert_uint_eq(s.line[1], 3);

	ck_assert_int_eq(dotenv_load(bad, record, &s, &e), DBMIGRATE_EUSAGE);
	ck_assert_str_eq(e.file, bad);
	ck_assert_uint_eq(e.line, 3);
	ck_assert_ptr_nonnull(strstr(e.message, bad));
	ck_assert_ptr_nonnull(strstr(e.message, "line 3"));
	ck_assert_ptr_nonnull(e.hint);
	/* The broken line holds a password: it is never quoted. */
	ck_assert_ptr_null(e.source_line);
	ck_assert_ptr_null(strstr(e.message, "hunter2"));
	ck_assert_ptr_null(e.detail);
	ck_assert_ptr_null(strstr(e.hint, "hunter2"));
	errors_clear(&e);
	free(good);
	free(bad);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* dotenv_fn that fails like config.c does, with its own error. */
static int fail_usage(void *ctx, const char *key, const char *value,
		      unsigned line)
{
	(void)key;
	(void)value;
	(void)line;
	errors_set(ctx, DBMIGRATE_EUSAGE, "bad value");
	return DBMIGRATE_EUSAGE;
}

START_TEST(callback_error_is_returned)
{
	char *dir = tu_mkdtemp();
	char *path = tu_write(dir, ".env", "A=1\n");
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(dotenv_load(path, fail_usage, &e, &e), DBMIGRATE_EUSAGE);
	ck_assert_str_eq(e.message, "bad value");
	errors_clear(&e);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		syntax_users_write, crlf_and_bom, garbage_names_its_line,
		callback_stops_parse, missing_file_is_fine,
		directory_is_an_error, file_values_and_bad_line,
		callback_error_is_returned, NULL
	};

	return tu_run_suite(tu_suite("dotenv", 0, tests));
}
