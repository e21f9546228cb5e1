/*
 * sq-lint.c - the SQLite rules of `dbmigrate lint`: ALTER TABLE forms
 * SQLite does not have (the statement would fail at `up`: ALTER COLUMN,
 * constraints, several actions, ADD COLUMN of a kind SQLite refuses),
 * DROP TABLE, which with foreign keys on deletes every row first and so
 * fires the ON DELETE actions of the tables referencing it (CASCADE
 * deletes their rows: the trap of a table rebuild done without PRAGMA
 * foreign_keys=OFF), DROP COLUMN and renames that break running code,
 * VACUUM, and PRAGMA writable_schema.
 *
 * SQLite takes one lock for the whole database, and every write waits
 * for it anyway: PostgreSQL's rules about lock timeouts and concurrent
 * index builds do not apply. Works without a connection, from the words
 * of one statement (host->words() with SQLite's rules); the core keeps
 * what spans statements (tables created earlier in the migration).
 */
#include "sq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/drvkit.h"
#include "../common/lintkit.h"

/* How to rebuild a table, as SQLite documents it. */
static const char sq_lint_rebuild[] =
	"Rebuild the table as SQLite documents (lang_altertable.html, "
	"\"Making Other Kinds Of Table Schema Changes\"): PRAGMA "
	"foreign_keys=OFF; CREATE TABLE new_t (...); INSERT INTO new_t "
	"SELECT ... FROM t; DROP TABLE t; ALTER TABLE new_t RENAME TO t; "
	"recreate its indexes, triggers and views; PRAGMA foreign_key_check; "
	"PRAGMA foreign_keys=ON. dbmigrate runs the two PRAGMAs around the "
	"migration's own transaction and fails it if the check finds a row.";

/* True when word i can be a name: a word or a quoted identifier. */
static int sq_lint_ident(const struct lintkit *l, size_t i)
{
	unsigned char ch;

	if (i >= l->n)
		return 0;
	ch = (unsigned char)l->w[i].s[0];
	return ch == '"' || ch == '`' || ch == '[' || ch == '_' ||
	       ch >= 0x80 || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z');
}

/* Copy word i as a name: quotes taken off, folded to lower case (SQLite
   compares names without regard to ASCII case, quoted or not). */
static void sq_lint_copy(const struct lintkit *l, size_t i, char *out)
{
	const char *s = l->w[i].s;
	size_t len = l->w[i].len, o = 0;

	if (len >= 2 && (s[0] == '"' || s[0] == '`' || s[0] == '[')) {
		s++;
		len -= 2;
	}
	for (size_t k = 0; k < len && o + 1 < LINTKIT_NAME; k++) {
		char c = s[k];

		out[o++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[o] = '\0';
}

/* Read a possibly qualified name at word i into *nm (its last part). */
static int sq_lint_name(const struct lintkit *l, size_t i,
			struct lintkit_name *nm)
{
	return lintkit_name(l, i, sq_lint_ident, sq_lint_copy, nm);
}

/* An ALTER TABLE form SQLite lacks, at word i: it fails at `up`. */
static void sq_lint_unsupported(struct lintkit *l, size_t i,
				const char *table, const char *what)
{
	lintkit_report(l, DBMIGRATE_LINT_WARNING, "sqlite-unsupported-alter",
		       i, table, 0, sq_lint_rebuild,
		       "SQLite's ALTER TABLE cannot %s (%s): the statement "
		       "fails",
		       what, table);
}

/* CREATE [TEMP|TEMPORARY] TABLE [IF NOT EXISTS] t */
static void sq_lint_create(struct lintkit *l)
{
	struct lintkit_name t;
	size_t i = 1;

	if (lintkit_is(l, i, "TEMP") || lintkit_is(l, i, "TEMPORARY"))
		i++;
	if (lintkit_is(l, i, "VIRTUAL"))
		i++;
	if (!lintkit_is(l, i, "TABLE"))
		return;
	i++;
	if (lintkit_is(l, i, "IF") && lintkit_is(l, i + 1, "NOT") &&
	    lintkit_is(l, i + 2, "EXISTS"))
		i += 3;
	if (sq_lint_name(l, i, &t))
		lintkit_report(l, DBMIGRATE_LINT_CREATES_TABLE, NULL, i, t.s, 0,
			       NULL, NULL);
}

/* DROP TABLE [IF EXISTS] t */
static void sq_lint_drop(struct lintkit *l)
{
	struct lintkit_name t;
	size_t i = 2;

	if (!lintkit_is(l, 1, "TABLE"))
		return;
	if (lintkit_is(l, i, "IF") && lintkit_is(l, i + 1, "EXISTS"))
		i += 2;
	if (!sq_lint_name(l, i, &t))
		return;
	lintkit_report(l, DBMIGRATE_LINT_WARNING, "drop-table", i, t.s,
		       DBMIGRATE_LINT_EXISTING_TABLE,
		       "In a table rebuild, put PRAGMA foreign_keys=OFF first "
		       "and PRAGMA foreign_keys=ON last in the migration, with "
		       "PRAGMA foreign_key_check before the end: dbmigrate "
		       "runs the two around the migration's transaction. "
		       "Otherwise first deploy code that no longer uses the "
		       "table, and drop it in a later migration.",
		       "DROP TABLE %s breaks the running code that still uses "
		       "it, and with foreign keys on it first deletes every "
		       "row, firing the ON DELETE actions of the tables that "
		       "reference it (CASCADE deletes their rows)",
		       t.s);
}

/* ALTER TABLE t ADD [COLUMN] def, words [i, end): the column kinds
   SQLite refuses to add. */
static void sq_lint_add(struct lintkit *l, const char *table, size_t i,
			size_t end)
{
	size_t k = i + 1, d;

	if (lintkit_is(l, k, "CONSTRAINT") || lintkit_is(l, k, "PRIMARY") ||
	    lintkit_is(l, k, "UNIQUE") || lintkit_is(l, k, "CHECK") ||
	    lintkit_is(l, k, "FOREIGN")) {
		sq_lint_unsupported(l, i, table, "add a constraint");
		return;
	}
	if (lintkit_find(l, k, end, "PRIMARY") < end) {
		sq_lint_unsupported(l, i, table, "add a PRIMARY KEY column");
		return;
	}
	if (lintkit_find(l, k, end, "UNIQUE") < end) {
		sq_lint_unsupported(l, i, table, "add a UNIQUE column");
		return;
	}
	if (lintkit_find(l, k, end, "STORED") < end) {
		sq_lint_unsupported(l, i, table,
				    "add a STORED generated column");
		return;
	}
	d = lintkit_find(l, k, end, "DEFAULT");
	if (d < end && (lintkit_is(l, d + 1, "CURRENT_TIMESTAMP") ||
			lintkit_is(l, d + 1, "CURRENT_TIME") ||
			lintkit_is(l, d + 1, "CURRENT_DATE") ||
			(lintkit_is(l, d + 1, "(") && d + 3 < end &&
			 sq_lint_ident(l, d + 2) &&
			 lintkit_is(l, d + 3, "(")))) {
		sq_lint_unsupported(l, i, table,
				    "add a column with a non-constant default");
		return;
	}
	for (size_t n = k; n + 1 < end; n++)
		if (lintkit_is(l, n, "NOT") && lintkit_is(l, n + 1, "NULL") &&
		    (d >= end || lintkit_is(l, d + 1, "NULL"))) {
			sq_lint_unsupported(l, i, table,
					    "add a NOT NULL column without a "
					    "default");
			return;
		}
	if (lintkit_find(l, k, end, "REFERENCES") < end && d < end &&
	    !lintkit_is(l, d + 1, "NULL"))
		sq_lint_unsupported(l, i, table,
				    "add a REFERENCES column with a default "
				    "other than NULL while foreign keys are on");
}

/* ALTER TABLE t DROP [COLUMN] c, words [i, end). */
static void sq_lint_drop_column(struct lintkit *l, const char *table,
				size_t i, size_t end)
{
	struct lintkit_name col;
	size_t k = i + 1;

	if (lintkit_is(l, k, "CONSTRAINT") || lintkit_is(l, k, "PRIMARY") ||
	    lintkit_is(l, k, "FOREIGN") || lintkit_is(l, k, "INDEX")) {
		sq_lint_unsupported(l, i, table, "drop a constraint");
		return;
	}
	if (lintkit_is(l, k, "COLUMN"))
		k++;
	if (lintkit_is(l, k, "IF")) {
		sq_lint_unsupported(l, i, table, "DROP COLUMN IF EXISTS");
		return;
	}
	if (k >= end || !sq_lint_name(l, k, &col))
		return;
	lintkit_report(l, DBMIGRATE_LINT_WARNING, "drop-column", i, table,
		       DBMIGRATE_LINT_EXISTING_TABLE,
		       "First deploy code that no longer reads or writes the "
		       "column, then drop it in a later migration. SQLite "
		       "refuses the drop while the column is a key, UNIQUE, "
		       "indexed, named in a CHECK, a foreign key, a generated "
		       "column, a trigger or a view: drop those first, or "
		       "rebuild the table.",
		       "DROP COLUMN %s.%s breaks the running code that still "
		       "uses it",
		       table, col.s);
}

/* ALTER TABLE t RENAME [COLUMN] a TO b | RENAME TO u, words [i, end). */
static void sq_lint_rename(struct lintkit *l, const char *table, size_t i,
			   size_t end)
{
	lintkit_rename(l, table, i, end, sq_lint_name,
		       "Leave a view under the old name (CREATE VIEW old AS "
		       "SELECT * FROM new) and drop it once no running code "
		       "uses the old name.",
		       "Add the new column, write to both and fill it, move "
		       "reads over, then drop the old column in a later "
		       "migration.");
}

/* ALTER TABLE t action: SQLite has RENAME TO, RENAME [COLUMN], ADD
   [COLUMN] and DROP [COLUMN], one per statement. */
static void sq_lint_alter(struct lintkit *l)
{
	struct lintkit_name t;
	size_t i = 2, end;
	int depth = 0;

	if (!lintkit_is(l, 1, "TABLE"))
		return;
	if (lintkit_is(l, i, "IF") || lintkit_is(l, i, "ONLY")) {
		lintkit_report(l, DBMIGRATE_LINT_WARNING,
			       "sqlite-unsupported-alter", i, NULL, 0,
			       "Write ALTER TABLE name ... (SQLite has no IF "
			       "EXISTS or ONLY there).",
			       "SQLite's ALTER TABLE takes no %.*s: the "
			       "statement fails",
			       (int)l->w[i].len, l->w[i].s);
		return;
	}
	if (!sq_lint_name(l, i, &t))
		return;
	i = t.next;
	for (end = i; end < l->n; end++) {
		if (lintkit_is(l, end, "("))
			depth++;
		else if (lintkit_is(l, end, ")"))
			depth--;
		else if (depth == 0 && lintkit_is(l, end, ","))
			break;
	}
	if (end < l->n) {
		sq_lint_unsupported(l, end, t.s,
				    "take several actions in one statement");
		return;
	}
	if (lintkit_is(l, i, "ADD"))
		sq_lint_add(l, t.s, i, end);
	else if (lintkit_is(l, i, "DROP"))
		sq_lint_drop_column(l, t.s, i, end);
	else if (lintkit_is(l, i, "RENAME"))
		sq_lint_rename(l, t.s, i, end);
	else if (lintkit_is(l, i, "ALTER") || lintkit_is(l, i, "MODIFY") ||
		 lintkit_is(l, i, "CHANGE"))
		sq_lint_unsupported(l, i, t.s,
				    "change a column's type, default or "
				    "constraints");
	else if (i < l->n)
		sq_lint_unsupported(l, i, t.s, "do that");
}

/* PRAGMA writable_schema = ... */
static void sq_lint_pragma(struct lintkit *l, const struct dbmigrate_host *host,
			   size_t len)
{
	size_t n;
	int assigns;
	const char *p = sq_classify_pragma(host, l->sql, len, &n, &assigns);

	if (p != NULL && assigns && n == 12 &&
	    strncasecmp(p, "foreign_keys", n) == 0) {
		/* PRAGMA [schema.]foreign_keys = OFF (or (0), false, no):
		   the first step of a table rebuild, after which a DROP
		   TABLE deletes no row of the tables referencing it. */
		size_t v = (lintkit_is(l, 2, ".") ? 3 : 1) + 2;

		if (lintkit_is(l, v, "OFF") || lintkit_is(l, v, "0") ||
		    lintkit_is(l, v, "FALSE") || lintkit_is(l, v, "NO"))
			lintkit_report(l, DBMIGRATE_LINT_GUARDS, "drop-table",
				       0, NULL, 0, NULL, NULL);
		return;
	}
	if (p != NULL && assigns && n == 15 &&
	    strncasecmp(p, "writable_schema", n) == 0)
		lintkit_report(l, DBMIGRATE_LINT_WARNING, "writable-schema", 0,
			       NULL, 0, sq_lint_rebuild,
			       "PRAGMA writable_schema lets the migration edit "
			       "sqlite_schema by hand, where one mistake "
			       "corrupts the database file");
}

/* Report the findings of one statement; see driver.h. */
dbmigrate_code sq_lint(const struct dbmigrate_host *host, const char *sql,
		       size_t len, dbmigrate_lint_fn fn, void *ctx)
{
	struct lintkit *l = calloc(1, sizeof *l);

	if (l == NULL)
		return drvkit_error(host, DBMIGRATE_ENOMEM, NULL, NULL,
				    "out of memory");
	l->sql = sql;
	l->fn = fn;
	l->ctx = ctx;
	l->n = host->words(SQ_LEX, sql, len, l->w, LINTKIT_WORDS);
	if (lintkit_is(l, 0, "CREATE"))
		sq_lint_create(l);
	else if (lintkit_is(l, 0, "ALTER"))
		sq_lint_alter(l);
	else if (lintkit_is(l, 0, "DROP"))
		sq_lint_drop(l);
	else if (lintkit_is(l, 0, "PRAGMA"))
		sq_lint_pragma(l, host, len);
	else if (lintkit_is(l, 0, "VACUUM"))
		lintkit_report(l, DBMIGRATE_LINT_WARNING, "vacuum", 0, NULL, 0,
			       "Run VACUUM in a maintenance window rather than "
			       "in a migration: it changes no schema.",
			       "VACUUM rewrites the whole database file, "
			       "blocking every write (and, at its end, every "
			       "read) for as long, and needs as much free disk "
			       "again");
	free(l);
	return DBMIGRATE_OK;
}
