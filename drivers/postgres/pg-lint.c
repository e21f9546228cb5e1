/*
 * pg-lint.c - the PostgreSQL rules of `dbmigrate lint`: statements that
 * take a lock blocking reads or writes for as long as they scan or
 * rewrite a big table, that wait for a lock with nothing bounding the
 * wait (queueing every other query of the table behind them), or that
 * break the application still running against the old schema.
 *
 * Works without a connection: only the words of one statement are read,
 * through host->words(), which skips comments and string contents.
 * The core keeps what spans statements (tables created earlier in the
 * migration, a lock_timeout already set, the migration's own BEGIN),
 * so each finding says what it depends on (struct dbmigrate_lint_report).
 * Lint assumes a current server: a rule that only holds on old versions
 * (a constant default rewriting the table before 11) is not reported.
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/lintkit.h"
#include "pg-lint.h"

static const char pg_lint_timeout_hint[] =
	"Bound the wait: put the line -- dbmigrate:lock-timeout 5s (or SET "
	"LOCAL lock_timeout = '5s') at the top of the migration, or run with "
	"--sql-lock-timeout 5s; a migration that gives up is retried "
	"(--lock-retries).";

/* True when word i is an identifier (bare or quoted), not punctuation. */
int pg_lint_ident(const struct lintkit *l, size_t i)
{
	unsigned char c;

	if (i >= l->n)
		return 0;
	c = (unsigned char)l->w[i].s[0];
	return c == '"' || c == '_' || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* Copy word i into out, normalised: quotes removed ("" -> "), or
   folded to lower case when bare, as the server resolves names. */
void pg_lint_copy(const struct lintkit *l, size_t i, char *out)
{
	const struct dbmigrate_word *w = &l->w[i];
	size_t o = 0;

	if (w->len >= 2 && w->s[0] == '"') {
		for (size_t k = 1; k + 1 < w->len && o + 1 < LINTKIT_NAME; k++) {
			out[o++] = w->s[k];
			if (w->s[k] == '"')
				k++; /* "" stands for one quote */
		}
	} else {
		for (size_t k = 0; k < w->len && o + 1 < LINTKIT_NAME; k++) {
			char c = w->s[k];

			out[o++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
	}
	out[o] = '\0';
}

/*
 * Read a possibly qualified name (schema.table) at word i into *nm: its
 * last part, since the rules compare tables of one migration, which
 * rarely name the same table two ways. False when there is no name.
 */
int pg_lint_name(const struct lintkit *l, size_t i,
		 struct lintkit_name *nm)
{
	return lintkit_name(l, i, pg_lint_ident, pg_lint_copy, nm);
}

/*
 * The statement locks table, so it needs a lock_timeout: a lock request
 * waiting behind a long transaction holds up every later request it
 * conflicts with. blocked says which: "queries on" (ACCESS EXCLUSIVE)
 * or "writes to" (SHARE, SHARE ROW EXCLUSIVE).
 */
static void pg_lint_waits(struct lintkit *l, size_t i, const char *what,
			  const char *table, const char *blocked)
{
	lintkit_report(l, DBMIGRATE_LINT_WARNING, "no-lock-timeout", i, table,
		       DBMIGRATE_LINT_EXISTING_TABLE |
			       DBMIGRATE_LINT_NEEDS_LOCK_TIMEOUT,
		       pg_lint_timeout_hint,
		       "%s locks %s with no lock_timeout set: while it waits "
		       "behind a long transaction, all %s %s queue up "
		       "behind it",
		       what, table, blocked, table);
}

/* Each REFERENCES table in [i, end) locks that table too. */
static void pg_lint_references(struct lintkit *l, size_t i, size_t end)
{
	struct lintkit_name ref;

	for (i = lintkit_find(l, i, end, "REFERENCES"); i < end;
	     i = lintkit_find(l, i + 1, end, "REFERENCES"))
		if (pg_lint_name(l, i + 1, &ref))
			pg_lint_waits(l, i, "the foreign key", ref.s, "writes to");
}

/* True when [i, end) holds NOT VALID. */
static int pg_lint_not_valid(const struct lintkit *l, size_t i, size_t end)
{
	for (; i + 1 < end; i++)
		if (lintkit_is(l, i, "NOT") && lintkit_is(l, i + 1, "VALID"))
			return 1;
	return 0;
}

/* CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] t */
static void pg_lint_create_index(struct lintkit *l, size_t i)
{
	struct lintkit_name t;
	size_t on;

	on = lintkit_find(l, i + 1, l->n, "ON");
	if (lintkit_is(l, on + 1, "ONLY"))
		on++;
	if (!pg_lint_name(l, on + 1, &t))
		return;
	if (lintkit_is(l, 1, "UNIQUE"))
		pg_lint_citus_key(l, 0, t.s, t.next);
	if (lintkit_is(l, i + 1, "CONCURRENTLY"))
		return; /* the classification reports it, for the core */
	lintkit_report(l, DBMIGRATE_LINT_WARNING, "index-not-concurrent", 0,
		       t.s, DBMIGRATE_LINT_EXISTING_TABLE,
		       "Use CREATE INDEX CONCURRENTLY, in a migration of its "
		       "own: dbmigrate runs it outside the batch transaction. "
		       "If it fails, it leaves an INVALID index to drop "
		       "before trying again.",
		       "CREATE INDEX without CONCURRENTLY blocks every write "
		       "to %s (INSERT, UPDATE, DELETE) until the index is "
		       "built",
		       t.s);
	pg_lint_waits(l, 0, "CREATE INDEX", t.s, "writes to");
}

/* CREATE [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] t */
static void pg_lint_create_table(struct lintkit *l, size_t i)
{
	struct lintkit_name t;

	i++;
	if (lintkit_is(l, i, "IF") && lintkit_is(l, i + 1, "NOT") &&
	    lintkit_is(l, i + 2, "EXISTS"))
		i += 3;
	if (!pg_lint_name(l, i, &t))
		return;
	lintkit_report(l, DBMIGRATE_LINT_CREATES_TABLE, NULL, i, t.s, 0, NULL,
		       NULL);
	pg_lint_references(l, t.next, l->n);
	pg_lint_citus_create_table(l, &t);
}

/* CREATE ... */
static void pg_lint_create(struct lintkit *l)
{
	size_t i = 1;
	struct lintkit_name t;

	if (lintkit_is(l, i, "UNIQUE"))
		i++;
	if (lintkit_is(l, i, "INDEX")) {
		pg_lint_create_index(l, i);
		return;
	}
	if (lintkit_is(l, 1, "TRIGGER") || (lintkit_is(l, 1, "CONSTRAINT") &&
					    lintkit_is(l, 2, "TRIGGER"))) {
		i = lintkit_find(l, 2, l->n, "ON");
		if (pg_lint_name(l, i + 1, &t)) {
			pg_lint_waits(l, 0, "CREATE TRIGGER", t.s, "writes to");
			pg_lint_citus_trigger(l, i + 1, t.s);
		}
		return;
	}
	i = 1;
	if (lintkit_is(l, i, "GLOBAL") || lintkit_is(l, i, "LOCAL"))
		i++;
	if (lintkit_is(l, i, "TEMP") || lintkit_is(l, i, "TEMPORARY") ||
	    lintkit_is(l, i, "UNLOGGED"))
		i++;
	if (lintkit_is(l, i, "TABLE"))
		pg_lint_create_table(l, i);
}

/* DROP TABLE [IF EXISTS] t [, t ...] */
static void pg_lint_drop(struct lintkit *l)
{
	struct lintkit_name t;
	size_t i = 2;

	if (!lintkit_is(l, 1, "TABLE"))
		return;
	if (lintkit_is(l, i, "IF") && lintkit_is(l, i + 1, "EXISTS"))
		i += 2;
	while (pg_lint_name(l, i, &t)) {
		lintkit_report(l, DBMIGRATE_LINT_WARNING, "drop-table", i, t.s,
			       DBMIGRATE_LINT_EXISTING_TABLE,
			       "First deploy code that no longer uses the "
			       "table; drop it in a later migration, once "
			       "nothing running reads or writes it.",
			       "DROP TABLE %s breaks the running code that "
			       "still uses it",
			       t.s);
		pg_lint_waits(l, i, "DROP TABLE", t.s, "queries on");
		if (!lintkit_is(l, t.next, ","))
			break;
		i = t.next + 1;
	}
}

/* The volatile default of ADD COLUMN in [i, end), described, or NULL. */
static const char *pg_lint_volatile(const struct lintkit *l, size_t i,
				    size_t end, char *buf, size_t size)
{
	static const char *const serials[] = {
		"serial", "serial2", "serial4", "serial8", "smallserial",
		"bigserial",
	};
	/* The volatile functions defaults commonly call; a function of the
	   user's own is not known here, and is left alone. */
	static const char *const volatiles[] = {
		"random", "clock_timestamp", "timeofday", "gen_random_uuid",
		"uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
		"uuidv4", "uuidv7", "nextval",
	};
	size_t k;

	for (k = 0; k < sizeof serials / sizeof serials[0]; k++)
		if (lintkit_is(l, i + 1, serials[k]))
			return "a serial column fills every row from a "
			       "sequence";
	k = lintkit_find(l, i, end, "GENERATED");
	if (k < end) {
		if (lintkit_find(l, k, end, "STORED") < end)
			return "a stored generated column computes every row";
		if (lintkit_find(l, k, end, "IDENTITY") < end)
			return "an identity column fills every row from a "
			       "sequence";
	}
	k = lintkit_find(l, i, end, "DEFAULT");
	if (k >= end)
		return NULL;
	k++;
	while (lintkit_is(l, k + 1, ".") && pg_lint_ident(l, k + 2))
		k += 2; /* pg_catalog.random() */
	if (!lintkit_is(l, k + 1, "("))
		return NULL;
	for (size_t v = 0; v < sizeof volatiles / sizeof volatiles[0]; v++) {
		if (lintkit_is(l, k, volatiles[v])) {
			snprintf(buf, size,
				 "a volatile default, %s(), is computed for "
				 "every row",
				 volatiles[v]);
			return buf;
		}
	}
	return NULL;
}

/* ALTER TABLE t ADD ...: a constraint or a column, in [i, end). */
static void pg_lint_add(struct lintkit *l, const char *table, size_t i,
			size_t end)
{
	struct lintkit_name col;
	char buf[128];
	const char *why;
	size_t k = i + 1;

	if (lintkit_is(l, k, "CONSTRAINT"))
		k += 2;
	if (lintkit_is(l, k, "FOREIGN")) {
		if (!pg_lint_not_valid(l, k, end))
			lintkit_report(
				l, DBMIGRATE_LINT_WARNING,
				"foreign-key-not-valid", i, table,
				DBMIGRATE_LINT_EXISTING_TABLE,
				"Add it with NOT VALID (only new rows are "
				"checked), then ALTER TABLE ... VALIDATE "
				"CONSTRAINT in a later migration: validating "
				"lets reads and writes go on.",
				"adding a foreign key to %s checks every row "
				"while blocking writes to %s and to the table "
				"it references",
				table, table);
		pg_lint_references(l, k, end);
		return;
	}
	if (lintkit_is(l, k, "CHECK")) {
		if (!pg_lint_not_valid(l, k, end))
			lintkit_report(
				l, DBMIGRATE_LINT_WARNING, "check-not-valid", i,
				table, DBMIGRATE_LINT_EXISTING_TABLE,
				"Add it with NOT VALID (only new rows are "
				"checked), then ALTER TABLE ... VALIDATE "
				"CONSTRAINT in a later migration: validating "
				"lets reads and writes go on.",
				"adding a CHECK constraint to %s scans every "
				"row while blocking reads and writes",
				table);
		return;
	}
	if (k != i + 1 || lintkit_is(l, k, "PRIMARY") ||
	    lintkit_is(l, k, "UNIQUE") || lintkit_is(l, k, "EXCLUDE"))
		return;
	if (lintkit_is(l, k, "COLUMN"))
		k++;
	if (lintkit_is(l, k, "IF") && lintkit_is(l, k + 1, "NOT") &&
	    lintkit_is(l, k + 2, "EXISTS"))
		k += 3;
	if (!pg_lint_name(l, k, &col))
		return;
	why = pg_lint_volatile(l, k, end, buf, sizeof buf);
	if (why != NULL)
		lintkit_report(l, DBMIGRATE_LINT_WARNING, "volatile-default", i,
			       table, DBMIGRATE_LINT_EXISTING_TABLE,
			       "Add the column without that default (a "
			       "constant default is fine), then SET DEFAULT "
			       "for new rows and fill the existing ones in "
			       "batches.",
			       "ADD COLUMN %s rewrites the whole of %s while "
			       "blocking reads and writes: %s",
			       col.s, table, why);
	pg_lint_references(l, k, end);
}

/* ALTER TABLE t ALTER [COLUMN] c ..., in [i, end). */
static void pg_lint_alter_column(struct lintkit *l, const char *table,
				 size_t i, size_t end)
{
	struct lintkit_name col;
	size_t k = i + 1;

	if (lintkit_is(l, k, "COLUMN"))
		k++;
	if (!pg_lint_name(l, k, &col) || col.next >= end)
		return;
	k = col.next;
	if (lintkit_is(l, k, "SET") && lintkit_is(l, k + 1, "NOT") &&
	    lintkit_is(l, k + 2, "NULL"))
		lintkit_report(l, DBMIGRATE_LINT_WARNING, "set-not-null", i,
			       table, DBMIGRATE_LINT_EXISTING_TABLE,
			       "Add CHECK (column IS NOT NULL) NOT VALID, "
			       "VALIDATE CONSTRAINT it in a later migration, "
			       "then SET NOT NULL, which uses the constraint "
			       "instead of scanning (PostgreSQL 12 and "
			       "later); then drop the CHECK.",
			       "SET NOT NULL on %s.%s scans every row while "
			       "blocking reads and writes",
			       table, col.s);
	if (lintkit_is(l, k, "TYPE") ||
	    (lintkit_is(l, k, "SET") && lintkit_is(l, k + 1, "DATA") &&
	     lintkit_is(l, k + 2, "TYPE")))
		lintkit_report(l, DBMIGRATE_LINT_WARNING, "alter-column-type",
			       i, table, DBMIGRATE_LINT_EXISTING_TABLE,
			       "Add a column of the new type, fill it in "
			       "batches, move the code over, then drop the old "
			       "column. (A change that needs no rewrite, such "
			       "as raising a varchar limit, can be silenced.)",
			       "ALTER COLUMN %s.%s TYPE may rewrite the table "
			       "and its indexes while blocking reads and "
			       "writes, and running code may break on the new "
			       "type",
			       table, col.s);
}

/* ALTER TABLE t DROP [COLUMN] [IF EXISTS] c, in [i, end). */
static void pg_lint_drop_column(struct lintkit *l, const char *table,
				size_t i, size_t end)
{
	struct lintkit_name col;
	size_t k = i + 1;

	if (lintkit_is(l, k, "CONSTRAINT"))
		return;
	if (lintkit_is(l, k, "COLUMN"))
		k++;
	if (lintkit_is(l, k, "IF") && lintkit_is(l, k + 1, "EXISTS"))
		k += 2;
	if (k >= end || !pg_lint_name(l, k, &col))
		return;
	lintkit_report(l, DBMIGRATE_LINT_WARNING, "drop-column", i, table,
		       DBMIGRATE_LINT_EXISTING_TABLE,
		       "First deploy code that no longer reads or writes the "
		       "column (tell an ORM to ignore it), then drop it in a "
		       "later migration.",
		       "DROP COLUMN %s.%s breaks the running code that still "
		       "uses it",
		       table, col.s);
}

/* ALTER TABLE t RENAME [COLUMN] a TO b | RENAME TO u, in [i, end). */
static void pg_lint_rename(struct lintkit *l, const char *table, size_t i,
			   size_t end)
{
	if (lintkit_is(l, i + 1, "CONSTRAINT"))
		return;
	lintkit_rename(l, table, i, end, pg_lint_name,
		       "Leave a view under the old name (CREATE VIEW old AS "
		       "SELECT * FROM new) in the same migration and drop it "
		       "once no running code uses the old name; or copy to a "
		       "new table and move the code over first.",
		       "Add the new column, write to both and fill it in "
		       "batches, move reads over, then drop the old column in "
		       "a later migration.");
}

/* ALTER TABLE [IF EXISTS] [ONLY] t [*] action [, action ...] */
static void pg_lint_alter(struct lintkit *l)
{
	struct lintkit_name t;
	size_t i = 2, end;
	int only_validate = 1;

	if (!lintkit_is(l, 1, "TABLE"))
		return;
	if (lintkit_is(l, i, "IF") && lintkit_is(l, i + 1, "EXISTS"))
		i += 2;
	if (lintkit_is(l, i, "ONLY"))
		i++;
	if (lintkit_is(l, i, "ALL") || !pg_lint_name(l, i, &t))
		return;
	i = t.next;
	if (lintkit_is(l, i, "*"))
		i++;
	/* Actions are separated by commas outside parentheses. */
	for (; i < l->n; i = end + 1) {
		int depth = 0;

		for (end = i; end < l->n; end++) {
			if (lintkit_is(l, end, "("))
				depth++;
			else if (lintkit_is(l, end, ")"))
				depth--;
			else if (depth == 0 && lintkit_is(l, end, ","))
				break;
		}
		if (!lintkit_is(l, i, "VALIDATE"))
			only_validate = 0;
		pg_lint_citus_action(l, t.s, i, end);
		if (lintkit_is(l, i, "ADD"))
			pg_lint_add(l, t.s, i, end);
		else if (lintkit_is(l, i, "ALTER"))
			pg_lint_alter_column(l, t.s, i, end);
		else if (lintkit_is(l, i, "DROP"))
			pg_lint_drop_column(l, t.s, i, end);
		else if (lintkit_is(l, i, "RENAME"))
			pg_lint_rename(l, t.s, i, end);
	}
	/* VALIDATE CONSTRAINT takes a lock that reads and writes pass. */
	if (!only_validate)
		pg_lint_waits(l, 0, "ALTER TABLE", t.s, "queries on");
}

/* SET [SESSION | LOCAL] lock_timeout { TO | = } value */
static void pg_lint_set(struct lintkit *l)
{
	size_t i = 1;

	if (lintkit_is(l, i, "SESSION") || lintkit_is(l, i, "LOCAL"))
		i++;
	if (!lintkit_is(l, i, "lock_timeout"))
		return;
	i++;
	if (lintkit_is(l, i, "TO") || lintkit_is(l, i, "="))
		i++;
	/* 0 and DEFAULT (the server's, usually 0) set no limit. The value
	   '5s' is a string the words skip, so it shows as nothing. */
	if (lintkit_is(l, i, "0") || lintkit_is(l, i, "DEFAULT"))
		return;
	lintkit_report(l, DBMIGRATE_LINT_SETS_LOCK_TIMEOUT, NULL, 0, NULL, 0,
		       NULL, NULL);
}

/* Report the findings of one statement; see driver.h. */
dbmigrate_code pg_lint(const struct dbmigrate_host *host, const char *sql,
		       size_t len, dbmigrate_lint_fn fn, void *ctx)
{
	struct lintkit *l = calloc(1, sizeof *l);

	if (l == NULL) {
		struct dbmigrate_driver_error e = {
			.code = DBMIGRATE_ENOMEM,
			.message = "out of memory",
			.statement = DBMIGRATE_NO_STATEMENT,
		};

		host->error(host->ctx, &e);
		return DBMIGRATE_ENOMEM;
	}
	l->host = host;
	l->sql = sql;
	l->len = len;
	l->fn = fn;
	l->ctx = ctx;
	l->n = host->words(DBMIGRATE_LEX_POSTGRES, sql, len, l->w,
			   LINTKIT_WORDS);
	if (lintkit_is(l, 0, "CREATE"))
		pg_lint_create(l);
	else if (lintkit_is(l, 0, "ALTER"))
		pg_lint_alter(l);
	else if (lintkit_is(l, 0, "DROP"))
		pg_lint_drop(l);
	else if (lintkit_is(l, 0, "SET"))
		pg_lint_set(l);
	else if (lintkit_is(l, 0, "SELECT"))
		pg_lint_citus_select(l);
	else if (lintkit_is(l, 0, "INSERT") || lintkit_is(l, 0, "COPY"))
		pg_lint_fills(l);
	free(l);
	return DBMIGRATE_OK;
}
