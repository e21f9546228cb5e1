/*
 * pg-lint-citus.c - the Citus rules of `dbmigrate lint`, named citus-*:
 * what a Citus cluster refuses or makes costly (a table distributed
 * after rows went into it, a key without the distribution column, a
 * foreign key to a local table, triggers). See the section below.
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/lintkit.h"
#include "pg-lint.h"

/* ---- Citus ----
 *
 * Rules for a Citus cluster, named citus-*. lint has no connection, so
 * they cannot ask whether the target runs Citus; they fire only on
 * tables the migrations linted so far made Citus tables, with
 * create_distributed_table() or create_reference_table() (the
 * properties the core keeps, DBMIGRATE_LINT_NOTES), which only a Citus
 * migration set calls. On plain PostgreSQL they are never heard from.
 */

/* The properties noted on tables (see driver.h's DBMIGRATE_LINT_NOTES). */
#define PG_CITUS_TABLE "citus-table"             /* distributed or reference */
#define PG_CITUS_DISTRIBUTED "citus-distributed" /* hash-distributed */
#define PG_CITUS_BY "citus-distributed-by:"      /* + its column */
#define PG_CITUS_LACKS "citus-key-lacks:"        /* + a column a key lacks */
#define PG_CITUS_ROWS "rows"                     /* INSERT or COPY into it */

/* The most key columns a rule looks at. */
#define PG_LINT_KEY_COLUMNS 16

/* Note property note (prefix + rest) on table. */
static void pg_lint_note(struct lintkit *l, const char *table,
			 const char *prefix, const char *rest)
{
	char note[LINTKIT_NAME + 32];
	struct dbmigrate_lint_report r = {
		.kind = DBMIGRATE_LINT_NOTES, .table = table, .note = note};

	snprintf(note, sizeof note, "%s%s", prefix, rest != NULL ? rest : "");
	lintkit_emit(l, &r, 0, NULL);
}

/* INSERT INTO t, COPY t FROM: t holds rows from now on. */
void pg_lint_fills(struct lintkit *l)
{
	struct lintkit_name t;
	size_t i = lintkit_is(l, 0, "INSERT") ? 2 : 1;

	if (lintkit_is(l, 0, "INSERT") && !lintkit_is(l, 1, "INTO"))
		return;
	if (pg_lint_name(l, i, &t))
		pg_lint_note(l, t.s, PG_CITUS_ROWS, NULL);
}

/*
 * Read the string literal that starts at or after p (white space
 * skipped) into out as a name: its last dot-separated part, quotes
 * removed or folded to lower case, as the server resolves
 * 'schema.table' and 'column'. False when there is none.
 */
static int pg_lint_literal_name(const struct lintkit *l, const char *p,
				char *out)
{
	const char *end = l->sql + l->len;
	char raw[LINTKIT_NAME * 2];
	size_t n = 0, o = 0, start = 0;
	int quoted = 0;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= end || *p != '\'')
		return 0;
	for (p++; p < end && n + 1 < sizeof raw; p++) {
		if (*p == '\'') {
			if (p + 1 < end && p[1] == '\'') {
				raw[n++] = *p++;
				continue;
			}
			break;
		}
		raw[n++] = *p;
	}
	raw[n] = '\0';
	/* The last part: after the last dot outside double quotes. */
	for (size_t k = 0; k < n; k++) {
		if (raw[k] == '"')
			quoted = !quoted;
		else if (raw[k] == '.' && !quoted)
			start = k + 1;
	}
	if (raw[start] == '"') {
		for (size_t k = start + 1; k < n && raw[k] != '"' &&
					   o + 1 < LINTKIT_NAME; k++)
			out[o++] = raw[k];
	} else {
		for (size_t k = start; k < n && o + 1 < LINTKIT_NAME; k++)
			out[o++] = raw[k] >= 'A' && raw[k] <= 'Z'
					   ? (char)(raw[k] - 'A' + 'a')
					   : raw[k];
	}
	out[o] = '\0';
	return o > 0;
}

/* Where the text after word i starts. */
static const char *pg_lint_after(const struct lintkit *l, size_t i)
{
	return l->w[i].s + l->w[i].len;
}

/*
 * SELECT [schema.]create_distributed_table('t', 'col' ...),
 * create_distributed_table_concurrently(...), create_reference_table('t'):
 * note what t becomes; warn when it may hold rows that are then copied
 * in one transaction, or has a key without its distribution column.
 */
void pg_lint_citus_select(struct lintkit *l)
{
	static const char hint_data[] =
		"Distribute the table while it is empty: in the migration "
		"that creates it, before any INSERT. For a table that "
		"already holds data, use create_distributed_table_concurrently() "
		"in a migration of its own (it cannot run in a transaction, so "
		"dbmigrate runs it outside one), which lets writes go on.";
	static const char hint_key[] =
		"Make the distribution column part of every PRIMARY KEY and "
		"UNIQUE constraint (PRIMARY KEY (tenant_id, id)), or "
		"distribute by a column they all hold; Citus refuses the "
		"call otherwise.";
	char table[LINTKIT_NAME], col[LINTKIT_NAME], note[LINTKIT_NAME + 32];
	size_t f = 1, paren;
	int distributed, concurrently = 0;
	struct dbmigrate_lint_report r = {.kind = DBMIGRATE_LINT_WARNING};

	if (lintkit_is(l, 2, ".") && pg_lint_ident(l, 1))
		f = 3;
	paren = f + 1;
	if (!lintkit_is(l, paren, "("))
		return;
	if (lintkit_is(l, f, "create_distributed_table_concurrently"))
		concurrently = 1;
	else if (!lintkit_is(l, f, "create_distributed_table") &&
		 !lintkit_is(l, f, "create_reference_table"))
		return;
	distributed = !lintkit_is(l, f, "create_reference_table");
	if (!pg_lint_literal_name(l, pg_lint_after(l, paren), table))
		return;
	col[0] = '\0';
	if (distributed && lintkit_is(l, paren + 1, ","))
		(void)pg_lint_literal_name(l, pg_lint_after(l, paren + 1), col);
	if (!concurrently) {
		/* It existed before the migration and was not filled since:
		   it may hold rows. */
		r.rule = "citus-distribute-with-data";
		r.hint = hint_data;
		r.table = table;
		r.flags = DBMIGRATE_LINT_EXISTING_TABLE |
			  DBMIGRATE_LINT_UNLESS_NOTED;
		r.unless_note = PG_CITUS_ROWS;
		lintkit_emit(l, &r, f,
			     "%s() on %s, a table that may already hold rows, "
			     "copies them to the shards in one transaction "
			     "while blocking writes to %s",
			     distributed ? "create_distributed_table"
					 : "create_reference_table",
			     table, table);
		/* An earlier statement wrote rows into it. */
		r.flags = DBMIGRATE_LINT_IF_NOTED;
		r.note = PG_CITUS_ROWS;
		r.unless_note = NULL;
		lintkit_emit(l, &r, f,
			     "%s() on %s copies the rows written into it "
			     "earlier to the shards in one transaction while "
			     "blocking writes to %s",
			     distributed ? "create_distributed_table"
					 : "create_reference_table",
			     table, table);
	}
	if (distributed && col[0] != '\0') {
		snprintf(note, sizeof note, "%s%s", PG_CITUS_LACKS, col);
		r = (struct dbmigrate_lint_report){
			.kind = DBMIGRATE_LINT_WARNING,
			.rule = "citus-key-without-distribution-column",
			.hint = hint_key,
			.table = table,
			.flags = DBMIGRATE_LINT_IF_NOTED,
			.note = note};
		lintkit_emit(l, &r, f,
			     "%s has a PRIMARY KEY or UNIQUE constraint without "
			     "%s, its distribution column: Citus cannot enforce "
			     "it across shards and refuses to distribute %s",
			     table, col, table);
	}
	pg_lint_note(l, table, PG_CITUS_TABLE, NULL);
	if (distributed) {
		pg_lint_note(l, table, PG_CITUS_DISTRIBUTED, NULL);
		if (col[0] != '\0')
			pg_lint_note(l, table, PG_CITUS_BY, col);
	}
}

/*
 * The simple column names of the parenthesised list at word i (the
 * "(" itself), into cols; returns how many, and *next is the word after
 * the ")". An expression counts as no column.
 */
static size_t pg_lint_columns(const struct lintkit *l, size_t i,
			      char cols[][LINTKIT_NAME], size_t max,
			      size_t *next)
{
	size_t n = 0, start;
	int depth = 0;

	*next = i;
	if (!lintkit_is(l, i, "("))
		return 0;
	for (start = ++i; i < l->n; i++) {
		if (lintkit_is(l, i, "(")) {
			depth++;
		} else if (lintkit_is(l, i, ")") && depth > 0) {
			depth--;
		} else if (depth == 0 &&
			   (lintkit_is(l, i, ",") || lintkit_is(l, i, ")"))) {
			/* One identifier, maybe with a sort order. */
			if (i > start && pg_lint_ident(l, start) && n < max &&
			    (i == start + 1 || lintkit_is(l, start + 1, "ASC") ||
			     lintkit_is(l, start + 1, "DESC")))
				pg_lint_copy(l, start, cols[n++]);
			start = i + 1;
			if (lintkit_is(l, i, ")")) {
				*next = i + 1;
				return n;
			}
		}
	}
	*next = i;
	return n;
}

/*
 * A PRIMARY KEY or UNIQUE constraint on table with the columns of the
 * list at word i, added after table was distributed: warn unless one of
 * the columns is its distribution column.
 */
void pg_lint_citus_key(struct lintkit *l, size_t at, const char *table,
		       size_t i)
{
	char cols[PG_LINT_KEY_COLUMNS][LINTKIT_NAME];
	char unless[PG_LINT_KEY_COLUMNS * (LINTKIT_NAME + 24)];
	size_t next, n, o = 0;
	struct dbmigrate_lint_report r = {
		.kind = DBMIGRATE_LINT_WARNING,
		.rule = "citus-key-without-distribution-column",
		.hint = "Make the distribution column part of the key "
			"(PRIMARY KEY (tenant_id, id)); Citus refuses a "
			"PRIMARY KEY, UNIQUE or EXCLUDE constraint that lacks it.",
		.table = table,
		.flags = DBMIGRATE_LINT_IF_NOTED | DBMIGRATE_LINT_UNLESS_NOTED,
		.note = PG_CITUS_DISTRIBUTED,
		.unless_note = unless};

	while (i < l->n && !lintkit_is(l, i, "("))
		i++;
	n = pg_lint_columns(l, i, cols, PG_LINT_KEY_COLUMNS, &next);
	if (n == 0)
		return;
	unless[0] = '\0';
	for (size_t k = 0; k < n && o < sizeof unless; k++)
		o += (size_t)snprintf(unless + o, sizeof unless - o, "%s%s%s",
				      k > 0 ? "," : "", PG_CITUS_BY, cols[k]);
	lintkit_emit(l, &r, at,
		     "a PRIMARY KEY or UNIQUE constraint on the distributed "
		     "table %s without its distribution column cannot be "
		     "enforced across shards: Citus refuses it",
		     table);
}

/*
 * CREATE TABLE t (...): note, for each PRIMARY KEY or UNIQUE constraint,
 * the columns of t it lacks, for create_distributed_table() later.
 */
void pg_lint_citus_create_table(struct lintkit *l,
				const struct lintkit_name *t)
{
	char keys[8][PG_LINT_KEY_COLUMNS][LINTKIT_NAME];
	size_t nkeys[8], ncols = 0, nk = 0, i = t->next, start;
	int depth = 0;

	if (!lintkit_is(l, i, "("))
		return;
	{
		char names[64][LINTKIT_NAME];

		for (start = ++i; i < l->n; i++) {
			size_t k = start, next;

			if (lintkit_is(l, i, "(")) {
				depth++;
				continue;
			}
			if (lintkit_is(l, i, ")") && depth > 0) {
				depth--;
				continue;
			}
			if (depth > 0 ||
			    !(lintkit_is(l, i, ",") || lintkit_is(l, i, ")")))
				continue;
			/* One element: [start, i). */
			if (lintkit_is(l, k, "CONSTRAINT"))
				k += 2;
			if ((lintkit_is(l, k, "PRIMARY") &&
			     lintkit_is(l, k + 1, "KEY")) ||
			    lintkit_is(l, k, "UNIQUE")) {
				size_t p = k + 1;

				while (p < i && !lintkit_is(l, p, "("))
					p++;
				if (nk < 8 && p < i) {
					nkeys[nk] = pg_lint_columns(
						l, p, keys[nk],
						PG_LINT_KEY_COLUMNS, &next);
					if (nkeys[nk] > 0)
						nk++;
				}
			} else if (k == start && pg_lint_ident(l, k) &&
				   !lintkit_is(l, k, "CHECK") &&
				   !lintkit_is(l, k, "FOREIGN") &&
				   !lintkit_is(l, k, "EXCLUDE") &&
				   !lintkit_is(l, k, "LIKE") && ncols < 64) {
				pg_lint_copy(l, k, names[ncols]);
				/* A column's own PRIMARY KEY or UNIQUE. */
				for (size_t p = k + 1; p < i; p++)
					if ((lintkit_is(l, p, "PRIMARY") &&
					     lintkit_is(l, p + 1, "KEY")) ||
					    lintkit_is(l, p, "UNIQUE")) {
						if (nk < 8) {
							memcpy(keys[nk][0],
							       names[ncols],
							       LINTKIT_NAME);
							nkeys[nk++] = 1;
						}
						break;
					}
				ncols++;
			}
			start = i + 1;
			if (lintkit_is(l, i, ")"))
				break;
		}
		for (size_t k = 0; k < nk; k++)
			for (size_t c = 0; c < ncols; c++) {
				int in = 0;

				for (size_t m = 0; m < nkeys[k] && !in; m++)
					in = strcmp(keys[k][m], names[c]) == 0;
				if (!in)
					pg_lint_note(l, t->s, PG_CITUS_LACKS,
						     names[c]);
			}
	}
}

/* The REFERENCES table of [i, end), into ref; false when none. */
static int pg_lint_referenced(const struct lintkit *l, size_t i, size_t end,
			      struct lintkit_name *ref)
{
	i = lintkit_find(l, i, end, "REFERENCES");
	return i < end && pg_lint_name(l, i + 1, ref);
}

/* ALTER TABLE t action, [i, end): Citus's refusals and foreign keys. */
void pg_lint_citus_action(struct lintkit *l, const char *table,
			  size_t i, size_t end)
{
	static const char hint_refused[] =
		"Citus refuses this on a distributed or reference table: "
		"write it another way (add the column, then the constraint "
		"in a statement of its own; drop and re-create a constraint "
		"instead of renaming it), or leave it out.";
	struct dbmigrate_lint_report r = {
		.kind = DBMIGRATE_LINT_WARNING,
		.table = table,
		.flags = DBMIGRATE_LINT_IF_NOTED,
		.note = PG_CITUS_TABLE};
	struct lintkit_name ref;
	size_t k = i + 1;

	if (lintkit_is(l, i, "ADD")) {
		if (lintkit_is(l, k, "CONSTRAINT"))
			k += 2;
		if ((lintkit_is(l, k, "PRIMARY") && lintkit_is(l, k + 1, "KEY")) ||
		    lintkit_is(l, k, "UNIQUE")) {
			pg_lint_citus_key(l, i, table, k);
			return;
		}
		if (pg_lint_referenced(l, k, end, &ref)) {
			struct dbmigrate_lint_report f = {
				.kind = DBMIGRATE_LINT_WARNING,
				.rule = "citus-foreign-key-to-local",
				.table = table,
				.flags = DBMIGRATE_LINT_IF_NOTED |
					 DBMIGRATE_LINT_UNLESS_NOTED,
				.note = PG_CITUS_DISTRIBUTED,
				.unless_note = PG_CITUS_TABLE,
				.unless_table = ref.s,
				.hint = "Make the referenced table a reference "
					"table (create_reference_table()) or a "
					"distributed table co-located with this "
					"one, or drop the foreign key."};

			lintkit_emit(l, &f, i,
				     "a foreign key from the distributed table "
				     "%s to %s, a local table: Citus refuses "
				     "it",
				     table, ref.s);
			f.table = ref.s;
			f.unless_table = table;
			f.hint = "Distribute this table too (co-located, with "
				 "the distribution column in the key) or make "
				 "the referenced one a reference table; or drop "
				 "the foreign key and check in the application.";
			lintkit_emit(l, &f, i,
				     "a foreign key from %s, a local table, to "
				     "the distributed table %s: Citus accepts "
				     "it, but a DELETE or UPDATE of %s runs on "
				     "the shards and never checks %s, so rows "
				     "of %s can be left pointing at nothing",
				     table, ref.s, ref.s, table, table);
		}
		if (k == i + 1 || lintkit_is(l, k, "COLUMN")) {
			/* ADD [COLUMN] c type CHECK|UNIQUE|PRIMARY KEY (a
			   column REFERENCES is accepted) */
			for (size_t p = k; p < end; p++)
				if (lintkit_is(l, p, "CHECK") ||
				    lintkit_is(l, p, "UNIQUE") ||
				    lintkit_is(l, p, "PRIMARY")) {
					r.rule = "citus-unsupported";
					r.hint = hint_refused;
					lintkit_emit(l, &r, i,
						     "Citus refuses ADD COLUMN "
						     "with a PRIMARY KEY, UNIQUE "
						     "or CHECK constraint on %s",
						     table);
					break;
				}
		}
		return;
	}
	if (lintkit_is(l, i, "ALTER")) {
		size_t s = lintkit_find(l, i, end, "SET");

		if (lintkit_is(l, s + 1, "STORAGE") ||
		    lintkit_is(l, s + 1, "STATISTICS")) {
			r.rule = "citus-unsupported";
			r.hint = hint_refused;
			lintkit_emit(l, &r, i,
				     "Citus refuses ALTER COLUMN ... SET %.*s on "
				     "%s",
				     (int)l->w[s + 1].len, l->w[s + 1].s, table);
		}
		return;
	}
	if (lintkit_is(l, i, "SET") && lintkit_is(l, k, "WITHOUT") &&
	    lintkit_is(l, k + 1, "CLUSTER")) {
		r.rule = "citus-unsupported";
		r.hint = hint_refused;
		lintkit_emit(l, &r, i,
			     "Citus refuses SET WITHOUT CLUSTER on %s", table);
		return;
	}
	if (lintkit_is(l, i, "RENAME") && lintkit_is(l, k, "CONSTRAINT")) {
		r.rule = "citus-unsupported";
		r.hint = hint_refused;
		lintkit_emit(l, &r, i,
			     "Citus refuses to rename a constraint of %s", table);
	}
}

/* CREATE TRIGGER ... ON t, t a Citus table: refused. */
void pg_lint_citus_trigger(struct lintkit *l, size_t i,
			   const char *table)
{
	struct dbmigrate_lint_report r = {
		.kind = DBMIGRATE_LINT_WARNING,
		.rule = "citus-trigger",
		.table = table,
		.flags = DBMIGRATE_LINT_IF_NOTED,
		.note = PG_CITUS_TABLE,
		.hint = "Do the trigger's work in the application or in a "
			"statement of the migration; Citus runs triggers on "
			"distributed tables only with citus.enable_unsafe_triggers, "
			"on each shard, where they see only that shard."};

	lintkit_emit(l, &r, i,
		     "Citus refuses triggers on distributed and reference "
		     "tables such as %s",
		     table);
}
