/*
 * sq-snapshot.c - verify's scratch database and the schema as text.
 *
 * The scratch database is a new, empty file in the temporary directory
 * ($TMPDIR, else /tmp), opened as open() opens the configured one
 * (foreign keys on, the same handlers); nothing touches the configured
 * database or its directory, and scratch_close() removes the file with
 * its journal, WAL and lock files. An in-memory database gets an
 * in-memory scratch.
 *
 * The schema is read from sqlite_schema and the pragma functions, one
 * line per thing a migration can change: a table and its options
 * (WITHOUT ROWID, STRICT), each column (position, name, declared type,
 * NOT NULL, default, primary key rank, hidden or generated), each
 * foreign key, each index (its columns and order, or the SQL of one made
 * with CREATE INDEX), each view and trigger (their SQL with white space
 * squeezed), and user_version and application_id when set. Column
 * lines come from the pragmas rather than the table's SQL, whose text
 * ALTER TABLE edits in ways a down does not restore byte for byte.
 */
#include "sq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Make a new empty database for verify; see driver.h's scratch_open(). */
dbmigrate_code sq_scratch_open(dbmigrate_conn *c, dbmigrate_conn **out)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	dbmigrate_code rc;
	int fd;

	*out = NULL;
	if (c->memory) {
		rc = sq_open_path(c->host, ":memory:", 1, out);
		if (rc == DBMIGRATE_OK)
			(*out)->scratch = 1;
		return rc;
	}
	if (dir == NULL || dir[0] != '/')
		dir = "/tmp";
	snprintf(path, sizeof path, "%s/dbmigrate-verify-%ld-XXXXXX", dir,
		 (long)getpid());
	if ((fd = mkstemp(path)) < 0)
		return sq_error(c, DBMIGRATE_EDATABASE, NULL,
				"Point TMPDIR at a writable directory.",
				"cannot create a scratch database in %s: %s",
				dir, strerror(errno));
	close(fd);
	rc = sq_open_path(c->host, path, 0, out);
	if (rc != DBMIGRATE_OK) {
		unlink(path);
		return rc;
	}
	(*out)->scratch = 1;
	sq_log(c, DBMIGRATE_LOG_DEBUG, "verify: scratch database %s", path);
	return DBMIGRATE_OK;
}

/* Close the scratch database and remove its files. */
dbmigrate_code sq_scratch_close(dbmigrate_conn *c, dbmigrate_conn *scratch)
{
	static const char *const suffixes[] = { "", "-journal", "-wal", "-shm",
						"-dbmigrate.lock" };
	char *path = NULL;

	(void)c;
	if (scratch == NULL)
		return DBMIGRATE_OK;
	if (!scratch->memory) {
		path = scratch->path;
		scratch->path = NULL;
	}
	sq_close(scratch);
	for (size_t i = 0;
	     path != NULL && i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char file[4200];

		snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
		unlink(file);
	}
	free(path);
	return DBMIGRATE_OK;
}

/* Squeeze white space runs of sql into single spaces, into t. */
static void sq_snapshot_squeeze(struct drvkit_text *t, const char *sql)
{
	int space = 0;

	for (const char *p = sql; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		    *p == '\f') {
			space = 1;
			continue;
		}
		if (space && t->len > 0)
			drvkit_text_add(t, " ", 1);
		space = 0;
		drvkit_text_add(t, p, 1);
	}
}

/* The state of one snapshot. */
struct sq_snap {
	dbmigrate_conn *c;
	dbmigrate_line_fn fn;
	void *ctx;
	int stop;  /* fn asked to stop */
	int error; /* a query failed (reported) */
};

/* Hand one line to fn. */
static void sq_snapshot_emit(struct sq_snap *s, struct drvkit_text *t)
{
	if (s->stop || s->error)
		return;
	if (t->failed) {
		sq_nomem(s->c);
		s->error = 1;
	} else if (s->fn(s->ctx, t->s) != 0) {
		s->stop = 1;
	}
	t->len = 0;
	if (t->s != NULL)
		t->s[0] = '\0';
}

/*
 * Run query with name bound to ?1 and emit one line per row: prefix,
 * then each column's text (NULL as "null") after a space, each column
 * named by label when label[i] is not NULL.
 */
static void sq_snapshot_rows(struct sq_snap *s, const char *query,
			     const char *name, const char *prefix,
			     const char *const *label)
{
	struct drvkit_text t = { 0 };
	sqlite3_stmt *st;
	int r = SQLITE_DONE;

	if (s->stop || s->error)
		return;
	if ((st = sq_prepare(s->c, query, "cannot read the schema")) == NULL) {
		s->error = 1;
		return;
	}
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (!s->stop && !s->error && (r = sqlite3_step(st)) == SQLITE_ROW) {
		drvkit_text_puts(&t, prefix);
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);

			drvkit_text_add(&t, " ", 1);
			if (label != NULL && label[i] != NULL) {
				drvkit_text_puts(&t, label[i]);
				drvkit_text_add(&t, " ", 1);
			}
			drvkit_text_puts(&t, v != NULL ? v : "null");
		}
		sq_snapshot_emit(s, &t);
	}
	if (!s->stop && !s->error && r != SQLITE_DONE) {
		sq_fail(s->c, DBMIGRATE_EDATABASE, r, NULL,
			DBMIGRATE_NO_STATEMENT, "cannot read the schema");
		s->error = 1;
	}
	sqlite3_finalize(st);
	free(t.s);
}

/* The lines of one table: its options, columns and foreign keys. */
static void sq_snapshot_table(struct sq_snap *s, const char *name)
{
	static const char *const col_labels[] = { NULL, NULL, "type",
						  "notnull", "default", "pk",
						  "hidden" };
	static const char *const fk_labels[] = { NULL, "seq", "references",
						 "from", "to", "on-update",
						 "on-delete", "match" };
	char prefix[600];

	snprintf(prefix, sizeof prefix, "table %s", name);
	sq_snapshot_rows(s,
			 "SELECT CASE WHEN wr THEN 'without-rowid' ELSE 'rowid' "
			 "END, CASE WHEN strict THEN 'strict' ELSE 'not-strict' "
			 "END FROM pragma_table_list WHERE schema = 'main' AND "
			 "name = ?1",
			 name, prefix, NULL);
	snprintf(prefix, sizeof prefix, "column %s", name);
	sq_snapshot_rows(s,
			 "SELECT cid, name, type, \"notnull\", dflt_value, pk, "
			 "hidden FROM pragma_table_xinfo(?1, 'main')",
			 name, prefix, col_labels);
	snprintf(prefix, sizeof prefix, "foreign-key %s", name);
	sq_snapshot_rows(s,
			 "SELECT id, seq, \"table\", \"from\", \"to\", on_update, "
			 "on_delete, \"match\" FROM pragma_foreign_key_list(?1, "
			 "'main')",
			 name, prefix, fk_labels);
}

/* The lines of one index: its table, kind and key columns. */
static void sq_snapshot_index(struct sq_snap *s, const char *name,
			      const char *table, const char *sql)
{
	static const char *const labels[] = { NULL, NULL, "desc", "collate" };
	char prefix[600];
	struct drvkit_text t = { 0 };

	if (sql != NULL) {
		/* Made with CREATE INDEX: its SQL says everything, WHERE
		   and expressions included. */
		drvkit_text_puts(&t, "index ");
		drvkit_text_puts(&t, name);
		drvkit_text_puts(&t, " ");
		sq_snapshot_squeeze(&t, sql);
		sq_snapshot_emit(s, &t);
		free(t.s);
		return;
	}
	/* Made by a UNIQUE or PRIMARY KEY constraint. */
	snprintf(prefix, sizeof prefix, "index %s on %s", name, table);
	sq_snapshot_rows(s,
			 "SELECT seqno, name, \"desc\", coll FROM "
			 "pragma_index_xinfo(?1, 'main') WHERE key ORDER BY "
			 "seqno",
			 name, prefix, labels);
}

/* Describe the schema of c's database; see driver.h's snapshot(). */
dbmigrate_code sq_snapshot(dbmigrate_conn *c, const char *table,
			   dbmigrate_line_fn fn, void *ctx)
{
	struct sq_snap s = { .c = c, .fn = fn, .ctx = ctx };
	const char *base = sq_table_base(table);
	struct drvkit_text t = { 0 };
	sqlite3_stmt *st;
	int r = SQLITE_DONE;

	st = sq_prepare(c,
			"SELECT type, name, tbl_name, sql FROM main.sqlite_schema "
			"WHERE name NOT IN ('sqlite_sequence', 'sqlite_stat1', "
			"'sqlite_stat4') AND tbl_name NOT LIKE ?1 ESCAPE '\\' "
			"ORDER BY type, name",
			"cannot read the schema");
	if (st == NULL)
		return DBMIGRATE_EDATABASE;
	/* The tracking table, compared as SQLite compares names. */
	{
		struct drvkit_text pat = { 0 };

		for (const char *p = base; *p != '\0'; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				drvkit_text_add(&pat, "\\", 1);
			drvkit_text_add(&pat, p, 1);
		}
		if (pat.failed) {
			sqlite3_finalize(st);
			return sq_nomem(c);
		}
		sqlite3_bind_text(st, 1, pat.s != NULL ? pat.s : "", -1,
				  SQLITE_TRANSIENT);
		free(pat.s);
	}
	while (!s.stop && !s.error && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *tbl = (const char *)sqlite3_column_text(st, 2);
		const char *sql = (const char *)sqlite3_column_text(st, 3);

		if (type == NULL || name == NULL || tbl == NULL)
			continue;
		if (strcmp(type, "table") == 0) {
			sq_snapshot_table(&s, name);
		} else if (strcmp(type, "index") == 0) {
			sq_snapshot_index(&s, name, tbl, sql);
		} else if (sql != NULL) {
			drvkit_text_puts(&t, type);
			drvkit_text_puts(&t, " ");
			drvkit_text_puts(&t, name);
			drvkit_text_puts(&t, " ");
			sq_snapshot_squeeze(&t, sql);
			sq_snapshot_emit(&s, &t);
		}
	}
	if (!s.stop && !s.error && r != SQLITE_DONE) {
		sq_fail(c, DBMIGRATE_EDATABASE, r, NULL, DBMIGRATE_NO_STATEMENT,
			"cannot read the schema");
		s.error = 1;
	}
	sqlite3_finalize(st);
	free(t.s);
	sq_snapshot_rows(&s,
			 "SELECT 'user_version', user_version FROM "
			 "pragma_user_version WHERE user_version <> 0 UNION ALL "
			 "SELECT 'application_id', application_id FROM "
			 "pragma_application_id WHERE application_id <> 0",
			 NULL, "pragma", NULL);
	return s.error ? DBMIGRATE_EDATABASE : DBMIGRATE_OK;
}
