/*
 * check_parse.c - the two parsers. SQL (dbmate's markers): sections,
 * options, CRLF, and every refusal at its exact line. JS/TS (the seed's
 * format): the seed's own three migrations read exactly, string forms
 * and escapes decoded as JavaScript would, and everything that would
 * need running JavaScript refused at its line and column.
 */
#define _GNU_SOURCE /* strdup in test code */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "migration.h"
#include "testutil.h"

static struct migration m;
static dbmigrate_error err;

/* Parse text as a migration of format f (in memory, path m.sql/m.ts). */
static dbmigrate_code parse(enum migration_format f, const char *text)
{
	migration_free(&m);
	errors_clear(&err);
	m.path = strdup(f == MIGRATION_FORMAT_JS ? "m.ts" : "m.sql");
	m.label = strdup("001_m");
	m.format = f;
	m.text = strdup(text);
	m.text_len = strlen(text);
	return f == MIGRATION_FORMAT_JS ? parse_js(&m, &err) : parse_sql(&m, &err);
}

/* Parse text as a .sql migration. */
static dbmigrate_code sql(const char *text)
{
	return parse(MIGRATION_FORMAT_SQL, text);
}

/* Parse text as a .ts migration. */
static dbmigrate_code js(const char *text)
{
	return parse(MIGRATION_FORMAT_JS, text);
}

/* Expect an EFILES error at line:column (column 0: do not check). */
static void fails_at(dbmigrate_code rc, unsigned line, unsigned column)
{
	ck_assert_int_eq(rc, DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(err.message);
	ck_assert_ptr_nonnull(err.hint);
	ck_assert_str_eq(err.file, m.path);
	ck_assert_msg(err.line == line, "error \"%s\" at line %u, expected %u",
		      err.message, err.line, line);
	if (column != 0)
		ck_assert_msg(err.column == column,
			      "error \"%s\" at column %u, expected %u",
			      err.message, err.column, column);
}

/* Assert s contains needle, with a readable failure. */
static void has(const char *s, const char *needle)
{
	ck_assert_msg(s != NULL && strstr(s, needle) != NULL,
		      "\"%s\" does not contain \"%s\"", s ? s : "(null)", needle);
}

/* A body points at its place in the text, and its SQL is that slice. */
static void verbatim_at(const struct migration_body *b, const char *text,
			const char *expect, unsigned line, unsigned column)
{
	ck_assert(b->present);
	ck_assert(b->verbatim);
	ck_assert_str_eq(b->sql, expect);
	ck_assert_uint_eq(b->len, strlen(expect));
	ck_assert(memcmp(text + b->offset, expect, b->len) == 0);
	ck_assert_uint_eq(b->line, line);
	ck_assert_uint_eq(b->column, column);
	ck_assert_ptr_eq(b->path, m.path);
}

/* Free what the last parse left. */
static void teardown(void)
{
	migration_free(&m);
	errors_clear(&err);
}

/* ---- SQL ---- */

START_TEST(sql_up_and_down)
{
	static const char text[] =
		"-- migrate:up\n"
		"CREATE TABLE users (id SERIAL PRIMARY KEY);\n"
		"\n"
		"-- migrate:down\n"
		"DROP TABLE users;\n";

	ck_assert_int_eq(sql(text), DBMIGRATE_OK);
	verbatim_at(&m.up, text, "CREATE TABLE users (id SERIAL PRIMARY KEY);\n\n", 2, 1);
	verbatim_at(&m.down, text, "DROP TABLE users;\n", 5, 1);
	ck_assert(!m.no_transaction);
	/* Bodies are not copies: they point into the text, which keeps its
	   length and its lines; a NUL over the down marker's first byte
	   ends the up body. */
	ck_assert(!m.up.owned && !m.down.owned);
	ck_assert_ptr_eq(m.up.sql, m.text + m.up.offset);
	ck_assert_ptr_eq(m.down.sql, m.text + m.down.offset);
	ck_assert_uint_eq(m.text_len, sizeof text - 1);
	ck_assert(memcmp(m.text, text, m.up.offset + m.up.len) == 0);
	ck_assert_int_eq(m.text[m.up.offset + m.up.len], '\0');
	ck_assert(memcmp(m.text + m.up.offset + m.up.len + 1,
			 text + m.up.offset + m.up.len + 1,
			 m.text_len - m.up.offset - m.up.len - 1) == 0);
}
END_TEST

START_TEST(sql_comments_before_up_and_no_down)
{
	static const char text[] =
		"-- Adds the users table.\n"
		"\n"
		"/* written by\n   hand */\n"
		"-- migrate:up\n"
		"SELECT 1;\n";

	ck_assert_int_eq(sql(text), DBMIGRATE_OK);
	verbatim_at(&m.up, text, "SELECT 1;\n", 6, 1);
	ck_assert(!m.down.present);         /* cannot be rolled back */
}
END_TEST

START_TEST(sql_transaction_option)
{
	ck_assert_int_eq(sql("-- migrate:up transaction:false\n"
			     "CREATE INDEX CONCURRENTLY i ON t (x);\n"
			     "-- migrate:down\nDROP INDEX i;\n"), DBMIGRATE_OK);
	ck_assert(m.no_transaction);
	ck_assert_uint_eq(m.no_transaction_line, 1);
	ck_assert(m.down.present);

	ck_assert_int_eq(sql("\n-- migrate:up\nSELECT 1;\n"
			     "-- migrate:down transaction:false\n"
			     "DROP INDEX CONCURRENTLY i;\n"), DBMIGRATE_OK);
	ck_assert(m.no_transaction);
	ck_assert_uint_eq(m.no_transaction_line, 4);

	ck_assert_int_eq(sql("-- migrate:up transaction:true\nSELECT 1;\n"),
			 DBMIGRATE_OK);
	ck_assert(!m.no_transaction);
}
END_TEST

START_TEST(sql_markers_tolerate_white_space)
{
	static const char text[] =
		"  --   migrate:up \t transaction:false  \t\n"
		"SELECT 1;\n"
		"--migrate:down\t\n"
		"SELECT 2;\n";

	ck_assert_int_eq(sql(text), DBMIGRATE_OK);
	verbatim_at(&m.up, text, "SELECT 1;\n", 2, 1);
	verbatim_at(&m.down, text, "SELECT 2;\n", 4, 1);
	ck_assert(m.no_transaction);
}
END_TEST

START_TEST(sql_crlf)
{
	static const char text[] =
		"-- migrate:up transaction:false\r\n"
		"SELECT 1;\r\n"
		"-- migrate:down\r\n"
		"SELECT 2;\r\n";

	ck_assert_int_eq(sql(text), DBMIGRATE_OK);
	verbatim_at(&m.up, text, "SELECT 1;\r\n", 2, 1);
	verbatim_at(&m.down, text, "SELECT 2;\r\n", 4, 1);
	ck_assert(m.no_transaction);

	fails_at(sql("-- migrate:up\r\nSELECT 1;\r\n-- migrate:up\r\n"), 3, 1);
	ck_assert_str_eq(err.source_line, "-- migrate:up");   /* no CR shown */
}
END_TEST

START_TEST(sql_byte_order_mark)
{
	static const char text[] = "\xEF\xBB\xBF-- migrate:up\nSELECT 1;\n";

	ck_assert_int_eq(sql(text), DBMIGRATE_OK);
	verbatim_at(&m.up, text, "SELECT 1;\n", 2, 1);
}
END_TEST

START_TEST(sql_empty_or_missing_down_cannot_roll_back)
{
	ck_assert_int_eq(sql("-- migrate:up\nSELECT 1;\n-- migrate:down\n\n"
			     "-- nothing to undo\n"), DBMIGRATE_OK);
	ck_assert(!m.down.present);
	ck_assert_int_eq(sql("-- migrate:up\nSELECT 1;\n-- migrate:down"),
			 DBMIGRATE_OK);
	ck_assert(!m.down.present);
	ck_assert_int_eq(sql("-- migrate:up\nSELECT 1;"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "SELECT 1;");
}
END_TEST

START_TEST(sql_no_up_marker)
{
	fails_at(sql("CREATE TABLE t (id int);\n"), 0, 0);
	has(err.message, "no -- migrate:up marker in m.sql");
	has(err.hint, "`-- migrate:up`");
	ck_assert_ptr_null(err.detail);

	/* Markers are case-sensitive, as in dbmate; say so. */
	fails_at(sql("\n-- Migrate:Up\nSELECT 1;\n"), 2, 1);
	has(err.message, "no -- migrate:up marker");
	has(err.detail, "Line 2 looks like a marker");

	fails_at(sql("-- migrate: up\nSELECT 1;\n"), 1, 1);
	fails_at(sql("-- migrate:upgrade\nSELECT 1;\n"), 1, 1);
	fails_at(sql("-- MIGRATE:UP\nSELECT 1;\n"), 1, 1);
	fails_at(sql("# migrate:up\nSELECT 1;\n"), 0, 0);
}
END_TEST

START_TEST(sql_before_up_marker)
{
	fails_at(sql("SELECT 0;\n-- migrate:up\nSELECT 1;\n"), 1, 1);
	has(err.message, "SQL before -- migrate:up in m.sql");
	has(err.hint, "`-- migrate:up`");

	fails_at(sql("-- about\n\n  /* c */ SELECT 0;\n-- migrate:up\nSELECT 1;\n"),
		 3, 11);
	ck_assert_str_eq(err.source_line, "  /* c */ SELECT 0;");
}
END_TEST

START_TEST(sql_duplicate_and_misordered_markers)
{
	fails_at(sql("-- migrate:up\nA;\n-- migrate:down\nB;\n-- migrate:up\nC;\n"),
		 5, 1);
	has(err.message, "duplicate -- migrate:up");
	has(err.detail, "line 1");

	fails_at(sql("-- migrate:up\nA;\n-- migrate:down\nB;\n\n-- migrate:down\nC;\n"),
		 6, 1);
	has(err.message, "duplicate -- migrate:down");
	has(err.detail, "line 3");

	fails_at(sql("-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t ();\n"),
		 1, 1);
	has(err.message, "-- migrate:down before -- migrate:up");
	has(err.hint, "up section first");
}
END_TEST

START_TEST(sql_bad_options)
{
	fails_at(sql("-- migrate:up\nA;\n-- migrate:down transaction:maybe\nB;\n"),
		 3, 29);
	has(err.message, "invalid value maybe for transaction");
	has(err.hint, "transaction:false");

	fails_at(sql("-- migrate:up  lock:none\nA;\n"), 1, 16);
	has(err.message, "unknown option lock");

	fails_at(sql("-- migrate:up create the users table\nA;\n"), 1, 15);
	has(err.message, "unexpected text after -- migrate:up");
	has(err.hint, "line of their own");

	fails_at(sql("-- migrate:up transaction:\nA;\n"), 1, 27);
	has(err.message, "missing value for transaction");
	fails_at(sql("-- migrate:up Transaction:false\nA;\n"), 1, 15);
}
END_TEST

START_TEST(sql_empty_up_section)
{
	/* What `dbmigrate create` writes, before the user edits it. */
	fails_at(sql("-- migrate:up\n\n\n-- migrate:down\n\n"), 1, 1);
	has(err.message, "the up section is empty in m.sql");
	has(err.hint, "below the `-- migrate:up` line");

	fails_at(sql("\n-- migrate:up\n-- TODO\n/* later */\n-- migrate:down\n"
		     "DROP TABLE x;\n"), 2, 1);
	fails_at(sql("-- migrate:up"), 1, 1);
}
END_TEST

/* Forget m's parsed bodies, to parse it again. */
static void drop_bodies(void)
{
	/* Bodies of the SQL formats point into the text; only JS owns. */
	if (m.up.owned)
		free(m.up.sql);
	if (m.down.owned)
		free(m.down.sql);
	memset(&m.up, 0, sizeof m.up);
	memset(&m.down, 0, sizeof m.down);
}

START_TEST(sql_pair_bodies_are_whole_files)
{
	static const char up[] = "-- the up half\nCREATE TABLE t (id int);\n";
	static const char down[] = "DROP TABLE t;\n";

	migration_free(&m);
	m.path = strdup("001_t.up.sql");
	m.down_path = strdup("001_t.down.sql");
	m.label = strdup("001_t");
	m.format = MIGRATION_FORMAT_PAIR;
	m.text = strdup(up);
	m.text_len = strlen(up);
	m.down_text = strdup(down);
	m.down_text_len = strlen(down);
	ck_assert_int_eq(parse_sql(&m, &err), DBMIGRATE_OK);
	verbatim_at(&m.up, up, up, 1, 1);
	ck_assert(m.down.present && m.down.verbatim);
	ck_assert_str_eq(m.down.sql, down);
	ck_assert_ptr_eq(m.down.path, m.down_path);
	ck_assert_uint_eq(m.down.line, 1);

	/* A pair's down file with only comments: nothing to roll back. */
	free(m.down_text);
	m.down_text = strdup("-- nothing\n");
	m.down_text_len = strlen(m.down_text);
	drop_bodies();
	ck_assert_int_eq(parse_sql(&m, &err), DBMIGRATE_OK);
	ck_assert(!m.down.present);

	/* An up file with no SQL is refused. */
	free(m.text);
	m.text = strdup("  -- later\n");
	m.text_len = strlen(m.text);
	drop_bodies();
	ck_assert_int_eq(parse_sql(&m, &err), DBMIGRATE_EFILES);
	has(err.message, "001_t.up.sql holds no SQL");
	ck_assert_str_eq(err.file, "001_t.up.sql");
}
END_TEST

/* ---- JS / TS ---- */

/* The seed's migrations, as its documentation shows them. */
static const char seed_001[] =
	"// db/migrations/001_create_users_table.ts\n"
	"export const up = `\n"
	"  CREATE TABLE users (\n"
	"    id SERIAL PRIMARY KEY,\n"
	"    email VARCHAR(255) UNIQUE NOT NULL,\n"
	"    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP\n"
	"  );\n"
	"`;\n"
	"\n"
	"export const down = `\n"
	"  DROP TABLE users;\n"
	"`;\n";

static const char seed_002[] =
	"// db/migrations/002_create_user_sessions_table.ts\n"
	"export const up = `\n"
	"  CREATE TABLE user_sessions (\n"
	"    id SERIAL PRIMARY KEY,\n"
	"    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
	"    token VARCHAR(255) UNIQUE NOT NULL,\n"
	"    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,\n"
	"    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP\n"
	"  );\n"
	"\n"
	"  CREATE INDEX idx_user_sessions_user_id ON user_sessions(user_id);\n"
	"`;\n"
	"\n"
	"export const down = `\n"
	"  DROP TABLE user_sessions;\n"
	"`;\n";

static const char seed_003[] =
	"// bun run migrate:create add_email_index_to_users\n"
	"export const up = `\n"
	"  CREATE INDEX CONCURRENTLY idx_users_email_lower\n"
	"  ON users(LOWER(email));\n"
	"`;\n"
	"\n"
	"export const down = `\n"
	"  DROP INDEX CONCURRENTLY IF EXISTS idx_users_email_lower;\n"
	"`;\n";

START_TEST(js_seed_migrations_read_exactly)
{
	ck_assert_int_eq(js(seed_001), DBMIGRATE_OK);
	verbatim_at(&m.up, seed_001,
		    "\n  CREATE TABLE users (\n"
		    "    id SERIAL PRIMARY KEY,\n"
		    "    email VARCHAR(255) UNIQUE NOT NULL,\n"
		    "    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP\n"
		    "  );\n", 2, 20);
	verbatim_at(&m.down, seed_001, "\n  DROP TABLE users;\n", 10, 22);
	ck_assert(!m.no_transaction);

	ck_assert_int_eq(js(seed_002), DBMIGRATE_OK);
	has(m.up.sql, "CREATE TABLE user_sessions (");
	has(m.up.sql, "  CREATE INDEX idx_user_sessions_user_id ON user_sessions(user_id);\n");
	ck_assert(m.up.verbatim);
	verbatim_at(&m.down, seed_002, "\n  DROP TABLE user_sessions;\n", 14, 22);

	ck_assert_int_eq(js(seed_003), DBMIGRATE_OK);
	verbatim_at(&m.up, seed_003,
		    "\n  CREATE INDEX CONCURRENTLY idx_users_email_lower\n"
		    "  ON users(LOWER(email));\n", 2, 20);
	verbatim_at(&m.down, seed_003,
		    "\n  DROP INDEX CONCURRENTLY IF EXISTS idx_users_email_lower;\n",
		    7, 22);
	/* CONCURRENTLY is the driver's to detect; the file declares nothing. */
	ck_assert(!m.no_transaction);
}
END_TEST

START_TEST(js_seed_migrations_from_disk)
{
	char *dir = tu_mkdtemp();
	struct migration_set set;

	free(tu_write(dir, "001_create_users_table.ts", seed_001));
	free(tu_write(dir, "002_create_user_sessions_table.ts", seed_002));
	free(tu_write(dir, "003_add_email_index_to_users.ts", seed_003));
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_str_eq(set.v[0].label, "001_create_users_table");
	ck_assert_str_eq(set.v[1].label, "002_create_user_sessions_table");
	ck_assert_str_eq(set.v[2].label, "003_add_email_index_to_users");
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(migration_load(&set.v[i], &err), DBMIGRATE_OK);
		ck_assert(set.v[i].up.present && set.v[i].down.present);
	}
	has(set.v[2].up.sql, "CREATE INDEX CONCURRENTLY idx_users_email_lower");
	migration_set_free(&set);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(js_quoted_strings_and_semicolons)
{
	static const char text[] =
		"export const up = 'CREATE TABLE t (id int)'\n"
		"export const down = \"DROP TABLE t\"\n";

	ck_assert_int_eq(js(text), DBMIGRATE_OK);
	verbatim_at(&m.up, text, "CREATE TABLE t (id int)", 1, 20);
	verbatim_at(&m.down, text, "DROP TABLE t", 2, 22);

	ck_assert_int_eq(js("export const up = `A`;export const down = `B`;"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "A");
	ck_assert_str_eq(m.down.sql, "B");
	ck_assert_int_eq(js("export const up = `A` // trailing\n"
			    "/* between */ export const down = `B` /* c */ ;\n"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.down.sql, "B");
	ck_assert_int_eq(js("export let up = `A`\nexport var down = `B`"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.down.sql, "B");
}
END_TEST

START_TEST(js_escapes_are_decoded)
{
	ck_assert_int_eq(js("export const up = 'a\\nb\\tc\\rd\\be\\ff\\vg';"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "a\nb\tc\rd\be\ff\vg");
	ck_assert(!m.up.verbatim);
	ck_assert(m.up.owned);
	ck_assert_uint_eq(m.up.line, 1);
	ck_assert_uint_eq(m.up.column, 20);

	ck_assert_int_eq(js("export const up = \"it\\'s \\\"q\\\" \\\\ \\x41\\u00e9\\u{1F600}\";"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "it's \"q\" \\ Aé😀");
	ck_assert_uint_eq(m.up.len, strlen("it's \"q\" \\ Aé😀"));

	ck_assert_int_eq(js("export const up = `\\`x\\` \\${y} $z $`;"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "`x` ${y} $z $");

	/* A surrogate pair is one character; \x is a code point, not a byte. */
	ck_assert_int_eq(js("export const up = 'S\\uD83D\\uDE00 \\xe9';"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "S😀 é");

	/* Line continuation, and an escaped character standing for itself. */
	ck_assert_int_eq(js("export const up = 'SELECT \\\n1\\q';"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "SELECT 1q");
	ck_assert_int_eq(js("export const up = `SELECT \\\r\n1`;"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "SELECT 1");
	ck_assert_int_eq(js("export const up = 'caf\\é';"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "café");
}
END_TEST

START_TEST(js_crlf_in_template_reads_as_lf)
{
	ck_assert_int_eq(js("export const up = `\r\n  SELECT 1;\r\n`;\r\n"
			    "export const down = `SELECT 2;`;\r\n"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "\n  SELECT 1;\n");
	ck_assert(!m.up.verbatim);
	ck_assert(m.down.verbatim);
	ck_assert_uint_eq(m.down.line, 4);
}
END_TEST

START_TEST(js_bad_escapes)
{
	fails_at(js("export const up = 'a\\x4';"), 1, 21);
	has(err.message, "invalid \\x escape");
	fails_at(js("export const up = `\n  \\u12`;"), 2, 3);
	has(err.message, "invalid \\u escape");
	fails_at(js("export const up = '\\u{110000}';"), 1, 20);
	fails_at(js("export const up = '\\u{}';"), 1, 20);
	fails_at(js("export const up = '\\uD83D';"), 1, 20);
	has(err.message, "lone surrogate");
	fails_at(js("export const up = '\\uDE00\\uD83D';"), 1, 20);
	fails_at(js("export const up = 'a\\0b';"), 1, 21);
	has(err.message, "NUL");
	fails_at(js("export const up = 'a\\x00';"), 1, 21);
	fails_at(js("export const up = 'a\\u{0}';"), 1, 21);
	fails_at(js("export const up = 'a\\01';"), 1, 21);
	has(err.message, "octal");
	fails_at(js("export const up = `\\7`;"), 1, 20);
	fails_at(js("export const up = '\\8';"), 1, 20);
}
END_TEST

START_TEST(js_interpolation_is_refused_at_its_place)
{
	fails_at(js("// users\n"
		    "export const up = `\n"
		    "  SELECT * FROM ${table};\n"
		    "`;\n"), 3, 17);
	has(err.message, "${...} in the value of up in m.ts");
	has(err.detail, "without running them");
	has(err.hint, "\\${");
	ck_assert_str_eq(err.source_line, "  SELECT * FROM ${table};");

	fails_at(js("export const up = `A`;\nexport const down = `${x}`;"), 2, 22);
	has(err.message, "value of down");
}
END_TEST

START_TEST(js_non_literal_values)
{
	fails_at(js("const sql = `SELECT 1`;\nexport const up = sql;\n"), 2, 19);
	has(err.message, "the value of up in m.ts is not a single string literal");
	has(err.detail, "without running them");
	has(err.hint, "export const up = `");

	fails_at(js("export const up = build();"), 1, 19);
	fails_at(js("export const up = 42;"), 1, 19);
	fails_at(js("export const up = String.raw`SELECT 1`;"), 1, 19);
	fails_at(js("export const up = (`SELECT 1`);"), 1, 19);
	fails_at(js("export const up = 'a' + 'b';"), 1, 23);      /* at the + */
	fails_at(js("export const up = `a`\n  + `b`;"), 2, 3);
	fails_at(js("export const up = `a`.trim();"), 1, 22);
	fails_at(js("export const up = `a`, down = `b`;"), 1, 22);
	fails_at(js("export const up = `A`;\nexport const down = null;"), 2, 21);
	has(err.message, "value of down");
	fails_at(js("export const up;"), 1, 16);
	has(err.message, "expected = after export const up");
	fails_at(js("export const up = "), 1, 19);
}
END_TEST

START_TEST(js_annotations_and_transaction)
{
	ck_assert_int_eq(js("export const up: string = `SELECT 1`;\n"
			    "export const down : string = 'SELECT 2';\n"
			    "\n"
			    "export const transaction: boolean = false;\n"),
			 DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "SELECT 1");
	ck_assert_str_eq(m.down.sql, "SELECT 2");
	ck_assert(m.no_transaction);
	ck_assert_uint_eq(m.no_transaction_line, 4);

	ck_assert_int_eq(js("export const transaction = true\nexport const up = `A`"),
			 DBMIGRATE_OK);
	ck_assert(!m.no_transaction);
	ck_assert_int_eq(js("export const up = `A` as const;"), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "A");

	fails_at(js("export const up = `A`;\nexport const transaction = 'false';"), 2, 28);
	has(err.message, "the value of transaction in m.ts is not true or false");
	has(err.hint, "export const transaction = false;");
	fails_at(js("export const up = `A`;\nexport const transaction = 0;"), 2, 28);
	fails_at(js("export const up = `A`;\nexport const transaction = maybe;"), 2, 28);
	fails_at(js("export const up: = `A`;"), 1, 18);
	has(err.message, "expected a type");
}
END_TEST

START_TEST(js_missing_or_empty_up)
{
	fails_at(js("export const down = `DROP TABLE t;`;\n"), 0, 0);
	has(err.message, "no export const up in m.ts");
	has(err.hint, "export const up = `CREATE TABLE ...`;");

	fails_at(js("// export const up = `x`;\n/* export const up = `y`; */\n"), 0, 0);
	fails_at(js("module.exports = { up: 'SELECT 1' };\n"), 0, 0);

	fails_at(js("export async function up(knex) {\n  await knex.raw('x');\n}\n"), 1, 23);
	has(err.message, "up in m.ts is a function, not SQL");

	fails_at(js("\nexport const up = `\n  -- nothing yet\n`;\n"), 2, 14);
	has(err.message, "the up migration in m.ts is empty");
	fails_at(js("export const up = '';"), 1, 14);

	ck_assert_int_eq(js("export const up = `A`;\nexport const down = ``;"),
			 DBMIGRATE_OK);
	ck_assert(!m.down.present);          /* empty down: no rollback */
}
END_TEST

START_TEST(js_duplicates)
{
	fails_at(js("export const up = `A`;\n\nexport const up = `B`;\n"), 3, 14);
	has(err.message, "duplicate export const up");
	has(err.detail, "line 1");
}
END_TEST

START_TEST(js_unterminated_literals)
{
	fails_at(js("export const up = `\n  SELECT 1;\n"), 1, 19);
	has(err.message, "unterminated template literal in m.ts");
	fails_at(js("\nexport const up = 'SELECT\n1';"), 2, 19);
	has(err.message, "unterminated string literal");
	has(err.hint, "template literal");
	fails_at(js("export const up = 'x\\"), 1, 19);
	fails_at(js("export const up = `A`; /* open"), 1, 24);
	has(err.message, "unterminated comment");
}
END_TEST

START_TEST(js_other_code_is_skipped)
{
	static const char text[] =
		"#!/usr/bin/env bun --it's\n"
		"import { sql } from \"bun\";\n"
		"// export const up = `commented out`;\n"
		"/* export const up = `also commented` */\n"
		"const note = 'export const up = `in a string`';\n"
		"const t = `${ `export const up = ${ \"`}\" }` } }`;\n"
		"const re = /'`\"[/]/g, half = 1 / 2, q = half / 1;\n"
		"function f() { export const up = `nested`; return `}`; }\n"
		"export const name = \"add users\";\n"
		"export default { version: 1 };\n"
		"export { note };\n"
		"export const up = `SELECT 'real'`;\n";

	ck_assert_int_eq(js(text), DBMIGRATE_OK);
	ck_assert_str_eq(m.up.sql, "SELECT 'real'");
	ck_assert_uint_eq(m.up.line, 12);
	ck_assert(!m.down.present);
}
END_TEST

START_TEST(js_deep_nesting_is_refused)
{
	size_t depth = 200, n = 0;
	char *text = malloc(depth * 3 + 64);

	ck_assert_ptr_nonnull(text);
	n += (size_t)sprintf(text, "const x = ");
	for (size_t i = 0; i < depth; i++) {
		memcpy(text + n, "`${", 3);
		n += 3;
	}
	text[n] = '\0';
	fails_at(js(text), 1, 0);
	free(text);
}
END_TEST

START_TEST(js_through_migration_load)
{
	char *dir = tu_mkdtemp(), *p;
	struct migration_set set;

	p = tu_write(dir, "001_x.ts", "export const up = `SELECT ${id}`;\n");
	ck_assert_int_eq(discover_dir(dir, &set, &err), DBMIGRATE_OK);
	ck_assert_int_eq(migration_load(&set.v[0], &err), DBMIGRATE_EFILES);
	ck_assert_str_eq(err.file, p);
	ck_assert_uint_eq(err.line, 1);
	ck_assert_uint_eq(err.column, 27);
	ck_assert_str_eq(err.migration, "001_x");
	migration_set_free(&set);
	tu_rm_rf(dir);
	free(dir);
	free(p);
}
END_TEST

/* Run the suite; non-zero exit when a test failed. */
int main(void)
{
	const TTest *const sql[] = {
		sql_up_and_down, sql_comments_before_up_and_no_down,
		sql_transaction_option, sql_markers_tolerate_white_space,
		sql_crlf, sql_byte_order_mark,
		sql_empty_or_missing_down_cannot_roll_back, sql_no_up_marker,
		sql_before_up_marker, sql_duplicate_and_misordered_markers,
		sql_bad_options, sql_empty_up_section,
		sql_pair_bodies_are_whole_files, NULL
	};
	const TTest *const js[] = {
		js_seed_migrations_read_exactly, js_seed_migrations_from_disk,
		js_quoted_strings_and_semicolons, js_escapes_are_decoded,
		js_crlf_in_template_reads_as_lf, js_bad_escapes,
		js_interpolation_is_refused_at_its_place,
		js_non_literal_values, js_annotations_and_transaction,
		js_missing_or_empty_up, js_duplicates,
		js_unterminated_literals, js_other_code_is_skipped,
		js_deep_nesting_is_refused, js_through_migration_load, NULL
	};
	Suite *s = suite_create("parse");

	tcase_add_checked_fixture(tu_tcase(s, "sql", 0, sql), NULL, teardown);
	tcase_add_checked_fixture(tu_tcase(s, "js", 0, js), NULL, teardown);
	return tu_run_suite(s);
}
