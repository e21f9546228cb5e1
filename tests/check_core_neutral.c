/*
 * check_core_neutral.c - the core names no backend. Every dialect
 * question (how statements split, what runs outside a transaction, what
 * commits on its own, the lock) is the driver's, so the core's code must
 * not test for a backend nor carry a backend's SQL. This reads the core's
 * sources (src/, src/cli/) as C tokens - identifiers, string literals,
 * comments - and checks:
 *
 *  - no identifier names a backend (postgres, pg_, sqlite, mysql...);
 *  - no string literal of the library (src/) names one or carries one
 *    dialect's SQL (CONCURRENTLY, PRAGMA, GET_LOCK...);
 *  - only the host's services call the lexical services, which exist
 *    for drivers to choose (src/host/lexer.c: PostgreSQL's splitter;
 *    src/host/txcontrol.c: the transaction control most dialects share).
 *
 * Comments may name backends: they explain, they do not decide. The help
 * texts of src/cli/ are documentation and may too (string literals
 * there are not checked). The service files themselves are exempt.
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "testutil.h"

/* The files exempt from every rule: the lexical services for drivers. */
static const char *const neutral_services[] = {
	"lexer.c", "lexer.h", "txcontrol.c", "txcontrol.h",
};

/* Words that name a backend or its client library. */
static const char *const neutral_backends[] = {
	"postgres", "pg_", "libpq", "sqlite", "mysql", "mariadb", "citus",
};

/* One dialect's SQL that the library must never write itself. */
static const char *const neutral_dialect_sql[] = {
	"CONCURRENTLY", "PRAGMA", "GET_LOCK", "advisory", "DELIMITER",
	"AUTO_INCREMENT", "SERIAL",
};

/* Identifiers that name a service by the dialect it serves: allowed. */
static const char *const neutral_allowed_identifiers[] = {
	"split_postgres", "lexer_split_postgres", "DBMIGRATE_LEX_POSTGRES",
};

/* Strings allowed although they match: a lint rule's id that users
   already write in their lint-ignore directives (the rule itself asks
   the driver's classify(), for every backend). */
static const char *const neutral_allowed_strings[] = {
	"concurrently-in-transaction",
};

/* A token of C source. */
enum neutral_kind { NEUTRAL_IDENT, NEUTRAL_STRING };

/* Called for each identifier and string literal of a file. */
typedef void (*neutral_fn)(void *ctx, enum neutral_kind kind, const char *s,
			   size_t len, unsigned line);

/* Split C source text into identifiers and string literals (comments,
   character literals, numbers and punctuation skipped). */
static void neutral_tokens(const char *t, neutral_fn fn, void *ctx)
{
	unsigned line = 1;

	for (size_t i = 0; t[i] != '\0';) {
		if (t[i] == '\n') {
			line++;
			i++;
		} else if (t[i] == '/' && t[i + 1] == '*') {
			for (i += 2; t[i] != '\0' && !(t[i] == '*' && t[i + 1] == '/'); i++)
				line += t[i] == '\n';
			i += t[i] != '\0' ? 2 : 0;
		} else if (t[i] == '/' && t[i + 1] == '/') {
			while (t[i] != '\0' && t[i] != '\n')
				i++;
		} else if (t[i] == '"' || t[i] == '\'') {
			char q = t[i];
			size_t start = ++i;

			while (t[i] != '\0' && t[i] != q && t[i] != '\n')
				i += t[i] == '\\' && t[i + 1] != '\0' ? 2 : 1;
			if (q == '"')
				fn(ctx, NEUTRAL_STRING, t + start, i - start, line);
			i += t[i] == q;
		} else if (isalpha((unsigned char)t[i]) || t[i] == '_') {
			size_t start = i;

			while (isalnum((unsigned char)t[i]) || t[i] == '_')
				i++;
			fn(ctx, NEUTRAL_IDENT, t + start, i - start, line);
		} else if (isdigit((unsigned char)t[i])) {
			while (isalnum((unsigned char)t[i]) || t[i] == '.')
				i++;
		} else {
			i++;
		}
	}
}

/* True when the n bytes at s contain word, ignoring case. */
static int neutral_contains(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++)
		if (strncasecmp(s + i, word, w) == 0)
			return 1;
	return 0;
}

/* What the checks of one file found. */
struct neutral_run {
	const char *file;     /* path shown in messages */
	int library;          /* in src/ (strings checked too) */
	char found[8192];     /* the findings, a line each */
	size_t len;           /* bytes of found used */
	size_t nfound;
};

/* Note a finding. */
static void neutral_found(struct neutral_run *r, unsigned line,
			  const char *what, const char *s, size_t len)
{
	size_t left = sizeof r->found - r->len;
	int n = snprintf(r->found + r->len, left, "%s:%u: %s \"%.*s\"\n",
			 r->file, line, what, (int)(len > 80 ? 80 : len), s);

	if (n > 0 && (size_t)n < left)
		r->len += (size_t)n;
	r->nfound++;
}

/* neutral_fn: apply the rules to one token. */
static void neutral_check(void *ctx, enum neutral_kind kind, const char *s,
			  size_t len, unsigned line)
{
	struct neutral_run *r = ctx;

	if (kind == NEUTRAL_IDENT) {
		for (size_t i = 0; i < sizeof neutral_allowed_identifiers /
					       sizeof neutral_allowed_identifiers[0];
		     i++)
			if (strlen(neutral_allowed_identifiers[i]) == len &&
			    memcmp(neutral_allowed_identifiers[i], s, len) == 0)
				return;
		for (size_t i = 0; i < sizeof neutral_backends / sizeof neutral_backends[0]; i++)
			if (neutral_contains(s, len, neutral_backends[i]))
				neutral_found(r, line, "identifier names a backend:", s, len);
		if (((len > 6 && memcmp(s, "lexer_", 6) == 0) ||
		     (len > 10 && memcmp(s, "txcontrol_", 10) == 0)) &&
		    strstr(r->file, "/driver.c") == NULL)
			neutral_found(r, line, "a lexical service used outside the host's services (driver.c):", s, len);
		return;
	}
	if (!r->library)
		return;
	for (size_t i = 0; i < sizeof neutral_allowed_strings /
				       sizeof neutral_allowed_strings[0];
	     i++)
		if (strlen(neutral_allowed_strings[i]) == len &&
		    memcmp(neutral_allowed_strings[i], s, len) == 0)
			return;
	for (size_t i = 0; i < sizeof neutral_backends / sizeof neutral_backends[0]; i++)
		if (neutral_contains(s, len, neutral_backends[i]))
			neutral_found(r, line, "string names a backend:", s, len);
	for (size_t i = 0; i < sizeof neutral_dialect_sql / sizeof neutral_dialect_sql[0]; i++)
		if (neutral_contains(s, len, neutral_dialect_sql[i]))
			neutral_found(r, line, "string carries a dialect's SQL:", s, len);
}

/* True when name is one of the exempt service files. */
static int neutral_exempt(const char *name)
{
	for (size_t i = 0; i < sizeof neutral_services / sizeof neutral_services[0]; i++)
		if (strcmp(name, neutral_services[i]) == 0)
			return 1;
	return 0;
}

/* Check every .c and .h file of srcdir/sub; returns the findings' count
   and appends them to report. */
static size_t neutral_dir(const char *sub, int library, char *report,
			  size_t size)
{
	char dir[1024];
	DIR *d;
	struct dirent *de;
	size_t total = 0;

	snprintf(dir, sizeof dir, "%s/%s", tu_env("DBMIGRATE_SRCDIR"), sub);
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot read %s", dir);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		struct neutral_run r = { .library = library };
		char path[2048];
		char *text;

		if (n < 3 || (strcmp(de->d_name + n - 2, ".c") != 0 &&
			      strcmp(de->d_name + n - 2, ".h") != 0) ||
		    neutral_exempt(de->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		text = tu_read(path);
		ck_assert_msg(text != NULL, "cannot read %s", path);
		r.file = path;
		neutral_tokens(text, neutral_check, &r);
		free(text);
		total += r.nfound;
		if (strlen(report) + r.len + 1 < size)
			strncat(report, r.found, r.len);
	}
	closedir(d);
	return total;
}

START_TEST(the_library_names_no_backend)
{
	static char report[65536];
	size_t n;

	static const char *const layers[] = { "src/util", "src/host",
		"src/files", "src/plan", "src/api" };

	report[0] = '\0';
	n = 0;
	for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
		n += neutral_dir(layers[i], 1, report, sizeof report);
	ck_assert_msg(n == 0, "%zu findings in the core:\n%s", n, report);
}
END_TEST

START_TEST(the_cli_tests_no_backend)
{
	static char report[65536];
	size_t n;

	report[0] = '\0';
	n = neutral_dir("src/cli", 0, report, sizeof report);
	ck_assert_msg(n == 0, "%zu findings in the CLI:\n%s", n, report);
}
END_TEST

/* The rules find what they look for: a check that finds nothing in a
   text naming a backend would prove nothing. */
START_TEST(the_rules_catch_a_backend)
{
	static const char code[] =
		"/* PostgreSQL in a comment is fine */\n"
		"if (strcmp(d->name, \"sqlite\") == 0)\n"
		"\tpg_quote(x);\n"
		"sql = \"CREATE INDEX CONCURRENTLY i\";\n"
		"n = lexer_split(t, len, &r, &e);\n"
		"c = 'p'; s = \"plain\"; host->split_postgres(t);\n";
	struct neutral_run r = { .file = "src/x.c", .library = 1 };

	neutral_tokens(code, neutral_check, &r);
	ck_assert_uint_eq(r.nfound, 4);
	ck_assert_ptr_nonnull(strstr(r.found, "src/x.c:2: string names a backend: \"sqlite\""));
	ck_assert_ptr_nonnull(strstr(r.found, "src/x.c:3: identifier names a backend: \"pg_quote\""));
	ck_assert_ptr_nonnull(strstr(r.found, "src/x.c:4: string carries a dialect's SQL"));
	ck_assert_ptr_nonnull(strstr(r.found, "src/x.c:5: a lexical service used outside"));
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		the_rules_catch_a_backend, the_library_names_no_backend,
		the_cli_tests_no_backend, NULL
	};

	return tu_run_suite(tu_suite("core_neutral", 0, tests));
}
