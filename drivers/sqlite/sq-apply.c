/*
 * sq-apply.c - running a migration: its statements in order, each one
 * prepared and stepped to the end, then its tracking row (SQLite has
 * no round trips to save, so the driver has no apply_batch(): the host
 * calls apply() once per migration and times each on its own). The
 * row's INSERT and DELETE are prepared once per connection and table
 * and kept, which is most of what a small migration costs beyond its
 * own SQL.
 *
 * In a transaction (after begin()) everything joins it and a failure
 * leaves the rollback to the core. Outside one, each statement commits
 * on its own and the row is written after the last, in a transaction of
 * its own when a row is both deleted and inserted.
 */
#include "sq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Forget the kept statements; see sq.h. */
void sq_apply_forget(dbmigrate_conn *c)
{
	sqlite3_finalize(c->insert);
	sqlite3_finalize(c->remove);
	free(c->prepared_for);
	c->insert = NULL;
	c->remove = NULL;
	c->prepared_for = NULL;
}

/* Prepare the row statements for table unless kept already. */
static dbmigrate_code sq_apply_prepare(dbmigrate_conn *c, const char *table)
{
	struct drvkit_text ins = { 0 }, del = { 0 };
	dbmigrate_code rc = DBMIGRATE_OK;

	if (c->prepared_for != NULL && strcmp(c->prepared_for, table) == 0)
		return DBMIGRATE_OK;
	sq_apply_forget(c);
	drvkit_text_puts(&ins, "INSERT INTO ");
	sq_table_quoted(&ins, table);
	drvkit_text_puts(&ins, " (id, name, executed_at, batch, checksum, "
			       "down_sql) VALUES (?1, ?2, coalesce(?3, "
			       "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), ?4, ?5, "
			       "?6)");
	drvkit_text_puts(&del, "DELETE FROM ");
	sq_table_quoted(&del, table);
	drvkit_text_puts(&del, " WHERE id = ?1");
	if (ins.failed || del.failed ||
	    (c->prepared_for = strdup(table)) == NULL)
		rc = sq_nomem(c);
	else if ((c->insert = sq_prepare(c, ins.s, "cannot record the "
						   "migration")) == NULL ||
		 (c->remove = sq_prepare(c, del.s, "cannot record the "
						   "migration")) == NULL)
		rc = DBMIGRATE_EDATABASE;
	free(ins.s);
	free(del.s);
	if (rc != DBMIGRATE_OK)
		sq_apply_forget(c);
	return rc;
}

/* Bind s (or NULL) to parameter i of st. */
static void sq_apply_bind(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Run a kept statement once and make it ready for the next time. */
static dbmigrate_code sq_apply_run(dbmigrate_conn *c, sqlite3_stmt *st,
				   const char *what, const char *id)
{
	int r = sq_step_all(c, st);
	dbmigrate_code rc = DBMIGRATE_OK;

	if (r != SQLITE_DONE) {
		char buf[300];

		snprintf(buf, sizeof buf, "%s %s", what, id);
		rc = sq_fail(c, DBMIGRATE_EDATABASE, r, NULL,
			     DBMIGRATE_NO_STATEMENT, buf);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* Delete the row unrecord_id, then insert record (either may be NULL). */
static dbmigrate_code sq_apply_track(dbmigrate_conn *c, const char *table,
				     const struct dbmigrate_row *record,
				     const char *unrecord_id)
{
	dbmigrate_code rc = sq_apply_prepare(c, table);

	if (rc == DBMIGRATE_OK && unrecord_id != NULL) {
		sq_apply_bind(c->remove, 1, unrecord_id);
		rc = sq_apply_run(c, c->remove, "cannot delete the tracking row",
				  unrecord_id);
	}
	if (rc == DBMIGRATE_OK && record != NULL) {
		sqlite3_stmt *st = c->insert;

		sq_apply_bind(st, 1, record->id);
		sq_apply_bind(st, 2, record->name);
		sq_apply_bind(st, 3, record->executed_at);
		sqlite3_bind_int(st, 4, record->batch);
		sq_apply_bind(st, 5, record->checksum);
		sq_apply_bind(st, 6, record->down_sql);
		rc = sq_apply_run(c, st, "cannot record migration", record->id);
	}
	return rc;
}

/* Run one migration; see driver.h's apply(). */
dbmigrate_code sq_apply(dbmigrate_conn *c, const char *table,
			const struct dbmigrate_stmt *stmts, size_t n,
			const struct dbmigrate_row *record,
			const char *unrecord_id)
{
	int own = 0;
	dbmigrate_code rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = sq_exec(c, stmts[i].sql, stmts[i].len, i)) !=
		    DBMIGRATE_OK)
			return rc;
	if (record == NULL && unrecord_id == NULL)
		return DBMIGRATE_OK;
	if (record != NULL && unrecord_id != NULL &&
	    sqlite3_get_autocommit(c->db)) {
		if ((rc = sq_exec_own(c, "BEGIN IMMEDIATE",
				      "cannot start a transaction")) !=
		    DBMIGRATE_OK)
			return rc;
		own = 1;
	}
	rc = sq_apply_track(c, table, record, unrecord_id);
	if (own && rc == DBMIGRATE_OK)
		rc = sq_exec_own(c, "COMMIT", "cannot commit the tracking row");
	if (own && !sqlite3_get_autocommit(c->db))
		sq_exec_own(c, "ROLLBACK", "cannot roll back");
	return rc;
}
