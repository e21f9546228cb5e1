/*
 * check_checksum.c - the drift checksum: plain SHA-256 (known vectors),
 * CRLF read as LF so a Windows checkout of a file is not "modified",
 * lone CRs kept, pairs hashed up then down, and the same value through
 * migration_load for a file on disk and its CRLF copy.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "migration.h"
#include "testutil.h"

/* The checksum of a NUL-terminated string alone. */
static void sum(const char *s, char out[65])
{
	ck_assert(checksum_compute(s, strlen(s), NULL, 0, out));
}

START_TEST(known_vectors)
{
	char out[65];

	sum("abc", out);
	ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sum("", out);
	ck_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert(checksum_compute(NULL, 0, NULL, 0, out));
	ck_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* Lowercase hex, 64 digits. */
	ck_assert_uint_eq(strlen(out), 64);
	ck_assert_uint_eq(strspn(out, "0123456789abcdef"), 64);
}
END_TEST

START_TEST(crlf_reads_as_lf)
{
	char lf[65], crlf[65];

	sum("a\nb\n", lf);
	ck_assert_str_eq(lf, "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2");
	sum("a\r\nb\r\n", crlf);
	ck_assert_str_eq(crlf, lf);
	sum("a\r\nb\n", crlf);              /* mixed endings */
	ck_assert_str_eq(crlf, lf);
}
END_TEST

START_TEST(lone_cr_is_content)
{
	char out[65], lf[65];

	sum("a\rb", out);
	ck_assert_str_eq(out, "af9081672dd5ef3247a30c2db5b0dafcc9bcf981a26aefb3c55d210d43fcc14e");
	sum("a\nb", lf);
	ck_assert_str_ne(out, lf);
	sum("ab", lf);
	ck_assert_str_ne(out, lf);
	/* "\r\r\n" is a lone CR, then a CRLF. */
	sum("a\r\r\nb", out);
	sum("a\r\nb", lf);
	ck_assert_str_ne(out, lf);
	sum("a\r", out);                    /* a CR at the very end */
	sum("a", lf);
	ck_assert_str_ne(out, lf);
}
END_TEST

START_TEST(pair_is_up_then_down)
{
	char out[65], whole[65];

	ck_assert(checksum_compute("up\n", 3, "down\n", 5, out));
	ck_assert_str_eq(out, "5a5c7d84c8802718c1b4349f31652411c704d49e71f4b4b7be81e4371dba70a7");
	sum("up\ndown\n", whole);
	ck_assert_str_eq(out, whole);
	ck_assert(checksum_compute("up\r\n", 4, "down\r\n", 6, out));
	ck_assert_str_eq(out, whole);
	/* Each part is normalised alone: a CR ending the up file is lone. */
	ck_assert(checksum_compute("x\r", 2, "\ny", 2, out));
	ck_assert_str_eq(out, "b81d54de3d39c210c9579f8b7f4c0cf68d4394a068c150ae6d2556371675b32d");
	/* An empty down part changes nothing. */
	ck_assert(checksum_compute("abc", 3, "", 0, out));
	ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(long_text_with_many_lines)
{
	size_t lines = 20000, n = 0;
	char *lf = malloc(lines * 12), *crlf = malloc(lines * 13);
	char a[65], b[65];

	ck_assert_ptr_nonnull(lf);
	ck_assert_ptr_nonnull(crlf);
	for (size_t i = 0; i < lines; i++)
		memcpy(lf + i * 11, "SELECT 1;x\n", 11);
	for (size_t i = 0; i < lines; i++) {
		memcpy(crlf + n, "SELECT 1;x\r\n", 12);
		n += 12;
	}
	ck_assert(checksum_compute(lf, lines * 11, NULL, 0, a));
	ck_assert(checksum_compute(crlf, n, NULL, 0, b));
	ck_assert_str_eq(a, b);
	free(lf);
	free(crlf);
}
END_TEST

/* Discover dir (one migration) and load it; returns its checksum. */
static void load_sum(const char *dir, char out[65])
{
	struct migration_set set;
	dbmigrate_error err = { 0 };

	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_int_eq(migration_load(&set.v[0], &err), DBMIGRATE_OK);
	memcpy(out, set.v[0].checksum, 65);
	migration_set_free(&set);
}

START_TEST(file_and_its_crlf_copy_have_one_checksum)
{
	char *d1 = tu_mkdtemp(), *d2 = tu_mkdtemp(), *d3 = tu_mkdtemp();
	char a[65], b[65], c[65];

	free(tu_write(d1, "001_users.sql",
		      "-- migrate:up\nCREATE TABLE users (id int);\n\n"
		      "-- migrate:down\nDROP TABLE users;\n"));
	free(tu_write(d2, "001_users.sql",
		      "-- migrate:up\r\nCREATE TABLE users (id int);\r\n\r\n"
		      "-- migrate:down\r\nDROP TABLE users;\r\n"));
	free(tu_write(d3, "001_users.sql",
		      "-- migrate:up\nCREATE TABLE users (id bigint);\n\n"
		      "-- migrate:down\nDROP TABLE users;\n"));
	load_sum(d1, a);
	load_sum(d2, b);
	load_sum(d3, c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);             /* an edit is seen */
	sum("-- migrate:up\nCREATE TABLE users (id int);\n\n"
	    "-- migrate:down\nDROP TABLE users;\n", c);
	ck_assert_str_eq(a, c);             /* the file's text, nothing else */
	tu_rm_rf(d1);
	tu_rm_rf(d2);
	tu_rm_rf(d3);
	free(d1);
	free(d2);
	free(d3);
}
END_TEST

START_TEST(pair_files_checksum_both)
{
	char *d = tu_mkdtemp(), a[65], b[65];

	free(tu_write(d, "001_t.up.sql", "CREATE TABLE t (id int);\n"));
	free(tu_write(d, "001_t.down.sql", "DROP TABLE t;\n"));
	load_sum(d, a);
	ck_assert(checksum_compute("CREATE TABLE t (id int);\n", 25,
				   "DROP TABLE t;\n", 14, b));
	ck_assert_str_eq(a, b);
	/* Changing only the down file changes the checksum. */
	free(tu_write(d, "001_t.down.sql", "DROP TABLE IF EXISTS t;\n"));
	load_sum(d, b);
	ck_assert_str_ne(a, b);
	tu_rm_rf(d);
	free(d);
}
END_TEST

/* Run the suite; non-zero exit when a test failed. */
int main(void)
{
	const TTest *const tests[] = {
		known_vectors, crlf_reads_as_lf, lone_cr_is_content,
		pair_is_up_then_down, long_text_with_many_lines,
		file_and_its_crlf_copy_have_one_checksum,
		pair_files_checksum_both, NULL
	};

	return tu_run_suite(tu_suite("checksum", 0, tests));
}
