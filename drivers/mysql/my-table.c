/*
 * my-table.c - the tracking table on MySQL: naming it safely, creating
 * or adopting it, reading and writing its rows (the progress of a
 * migration that cannot roll back included), dropping it; and reading
 * any table of the database for `import`.
 *
 * A table name is "name" or "db.name". An unqualified name belongs to
 * the database the connection had when it opened, and every statement
 * names it with that database: a migration's USE cannot move the
 * tracking rows elsewhere. Values travel as string literals escaped by
 * mysql_real_escape_string() for the connection's character set
 * (utf8mb4); names as `quoted` with backticks doubled.
 */
#include "my.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of the tracking table, in the order they are made. */
static const char *const my_table_cols[] = {
	"id",	    "name",	"executed_at", "batch",
	"checksum", "down_sql", "progress",    NULL};

static const char *const my_table_types[] = {
	"VARCHAR(255) NOT NULL",
	"VARCHAR(255) NOT NULL",
	"DATETIME(6) NULL",
	"INT NOT NULL",
	"VARCHAR(64) NULL",
	"LONGTEXT NULL",
	"VARCHAR(64) NULL",
	NULL};

/* Split "name" or "db.name"; see my.h. */
dbmigrate_code my_table_parse(dbmigrate_conn *c, const char *table,
			      struct my_table *t)
{
	const char *dot = strchr(table, '.');
	struct drvkit_text q = {0};

	memset(t, 0, sizeof *t);
	if (*table == '\0' || dot == table || (dot != NULL && dot[1] == '\0') ||
	    (dot != NULL && strchr(dot + 1, '.') != NULL))
		return my_exec_error(c, DBMIGRATE_EUSAGE, NULL,
				     "Give the table as NAME or DATABASE.NAME.",
				     "invalid tracking table name \"%s\"", table);
	if (dot != NULL) {
		t->db = strndup(table, (size_t)(dot - table));
		t->name = strdup(dot + 1);
	} else {
		if (c->target.database == NULL)
			return my_exec_error(
			    c, DBMIGRATE_EUSAGE, NULL,
			    "Name a database in the URL (mysql://HOST/DATABASE) "
			    "or qualify the table as DATABASE.NAME.",
			    "no database selected for the tracking table \"%s\"",
			    table);
		t->db = strdup(c->target.database);
		t->name = strdup(table);
	}
	if (t->db == NULL || t->name == NULL) {
		my_table_free(t);
		return my_exec_nomem(c);
	}
	my_text_ident(&q, t->db);
	drvkit_text_puts(&q, ".");
	my_text_ident(&q, t->name);
	if (q.failed) {
		free(q.s);
		my_table_free(t);
		return my_exec_nomem(c);
	}
	t->quoted = q.s;
	return DBMIGRATE_OK;
}

/* Free a parsed name. */
void my_table_free(struct my_table *t)
{
	free(t->quoted);
	free(t->db);
	free(t->name);
	memset(t, 0, sizeof *t);
}

/* Run one statement of the driver's own; report a failure with what. */
static dbmigrate_code my_table_run(dbmigrate_conn *c, struct drvkit_text *q,
				   const char *what)
{
	dbmigrate_code rc = DBMIGRATE_OK;

	if (q->failed)
		rc = my_exec_nomem(c);
	else if (my_exec(c, q->s, q->len) != 0)
		rc = my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				  NULL, 0, what);
	free(q->s);
	memset(q, 0, sizeof *q);
	return rc;
}

/*
 * The columns the tracking table has, as bits of my_table_cols (bit i:
 * column i); 0 when there is no table. One query of
 * information_schema, which names one table and so opens only it.
 */
static dbmigrate_code my_table_probe(dbmigrate_conn *c,
				     const struct my_table *t, unsigned *cols)
{
	struct drvkit_text q = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ok;

	*cols = 0;
	drvkit_text_puts(&q, "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
			     "WHERE TABLE_SCHEMA = ");
	my_text_literal(c, &q, t->db);
	drvkit_text_puts(&q, " AND TABLE_NAME = ");
	my_text_literal(c, &q, t->name);
	if (q.failed) {
		free(q.s);
		return my_exec_nomem(c);
	}
	res = my_exec_query(c, q.s, &ok);
	free(q.s);
	if (!ok)
		return my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				    NULL, 0, "cannot look up the tracking table");
	while (res != NULL && (row = mysql_fetch_row(res)) != NULL) {
		for (unsigned i = 0; my_table_cols[i] != NULL; i++)
			if (row[0] != NULL && strcasecmp(row[0], my_table_cols[i]) == 0)
				*cols |= 1u << i;
		*cols |= 1u << 31; /* the table exists */
	}
	mysql_free_result(res);
	return DBMIGRATE_OK;
}

/* Create the table, or add the columns an older table lacks. */
dbmigrate_code my_table_ensure(dbmigrate_conn *c, const char *table)
{
	struct my_table t;
	struct drvkit_text q = {0};
	unsigned cols;
	dbmigrate_code rc = my_table_parse(c, table, &t);
	int n = 0;

	if (rc != DBMIGRATE_OK)
		return rc;
	if ((rc = my_table_probe(c, &t, &cols)) != DBMIGRATE_OK)
		goto out;
	if (cols == 0) {
		my_text_printf(&q, "CREATE TABLE IF NOT EXISTS %s (", t.quoted);
		for (int i = 0; my_table_cols[i] != NULL; i++)
			my_text_printf(&q, "%s`%s` %s", i > 0 ? ", " : "",
				       my_table_cols[i], my_table_types[i]);
		drvkit_text_puts(&q, ", PRIMARY KEY (`id`)) ENGINE=InnoDB "
				     "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
		rc = my_table_run(c, &q, "cannot create the tracking table");
		goto out;
	}
	my_text_printf(&q, "ALTER TABLE %s", t.quoted);
	for (int i = 0; my_table_cols[i] != NULL; i++) {
		if (cols & (1u << i))
			continue;
		if (i < 4) {
			rc = my_exec_error(
			    c, DBMIGRATE_EDATABASE, NULL,
			    "Name another tracking table with --table, or rename "
			    "this one.",
			    "table %s exists but is not a tracking table: it has no "
			    "column `%s`",
			    t.quoted, my_table_cols[i]);
			free(q.s);
			goto out;
		}
		my_text_printf(&q, "%s ADD COLUMN `%s` %s", n++ > 0 ? "," : "",
			       my_table_cols[i], my_table_types[i]);
	}
	if (n > 0)
		rc = my_table_run(c, &q, "cannot add columns to the tracking table");
	else
		free(q.s);
out:
	my_table_free(&t);
	return rc;
}

/* Does the tracking table exist? */
dbmigrate_code my_table_exists(dbmigrate_conn *c, const char *table,
			       int *exists)
{
	struct my_table t;
	unsigned cols;
	dbmigrate_code rc = my_table_parse(c, table, &t);

	*exists = 0;
	if (rc != DBMIGRATE_OK)
		return rc;
	rc = my_table_probe(c, &t, &cols);
	*exists = cols != 0;
	my_table_free(&t);
	return rc;
}

/* The SELECT of the rows, with NULL for the columns the table lacks. */
static void my_table_rows_sql(struct drvkit_text *q, const struct my_table *t,
			      unsigned cols, int brief)
{
	int old = cols == 0; /* unknown: ask for them all */

	drvkit_text_puts(q, "SELECT `id`, `name`, DATE_FORMAT(`executed_at`, "
			    "'%Y-%m-%dT%H:%i:%sZ'), `batch`, ");
	drvkit_text_puts(q, old || (cols & (1u << 4)) ? "`checksum`, " : "NULL, ");
	if (!old && !(cols & (1u << 5)))
		drvkit_text_puts(q, "NULL, ");
	else
		drvkit_text_puts(q, brief ? "IF(`down_sql` IS NULL, NULL, ''), "
					  : "`down_sql`, ");
	drvkit_text_puts(q, old || (cols & (1u << 6)) ? "`progress`" : "NULL");
	my_text_printf(q, " FROM %s", t->quoted);
}

/* Read the rows: one query; the catalog only when a column is missing. */
static dbmigrate_code my_table_read_some(dbmigrate_conn *c, const char *table,
					 dbmigrate_row_fn fn, void *ctx,
					 int brief)
{
	struct my_table t;
	struct drvkit_text q = {0};
	MYSQL_RES *res;
	MYSQL_ROW r;
	unsigned cols = 0;
	int ok;
	dbmigrate_code rc = my_table_parse(c, table, &t);

	if (rc != DBMIGRATE_OK)
		return rc;
	for (int attempt = 0;; attempt++) {
		my_table_rows_sql(&q, &t, cols, brief);
		if (q.failed) {
			rc = my_exec_nomem(c);
			goto out;
		}
		res = my_exec_query(c, q.s, &ok);
		free(q.s);
		memset(&q, 0, sizeof q);
		if (ok)
			break;
		if (mysql_errno(c->my) == 1146) /* no such table: no rows */
			goto out;
		if (mysql_errno(c->my) == 1054 && attempt == 0) {
			if ((rc = my_table_probe(c, &t, &cols)) != DBMIGRATE_OK)
				goto out;
			if (cols != 0)
				continue;
		}
		rc = my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				  NULL, 0, "cannot read the tracking table");
		goto out;
	}
	while (res != NULL && (r = mysql_fetch_row(res)) != NULL) {
		struct dbmigrate_row row = {
		    .id = r[0],
		    .name = r[1] != NULL ? r[1] : "",
		    .executed_at = r[2],
		    .batch = r[3] != NULL ? atoi(r[3]) : 0,
		    .checksum = r[4],
		    .down_sql = r[5],
		    .progress = r[6]};

		if (row.id == NULL)
			continue;
		if (fn(ctx, &row) != 0)
			break;
	}
	mysql_free_result(res);
out:
	my_table_free(&t);
	return rc;
}

/* Every row, with its down SQL. */
dbmigrate_code my_table_read(dbmigrate_conn *c, const char *table,
			     dbmigrate_row_fn fn, void *ctx)
{
	return my_table_read_some(c, table, fn, ctx, 0);
}

/* Every row, the down SQL only as "there is one". */
dbmigrate_code my_table_read_brief(dbmigrate_conn *c, const char *table,
				   dbmigrate_row_fn fn, void *ctx)
{
	return my_table_read_some(c, table, fn, ctx, 1);
}

/* Drop the tracking table. */
dbmigrate_code my_table_drop(dbmigrate_conn *c, const char *table)
{
	struct my_table t;
	struct drvkit_text q = {0};
	dbmigrate_code rc = my_table_parse(c, table, &t);

	if (rc != DBMIGRATE_OK)
		return rc;
	my_text_printf(&q, "DROP TABLE IF EXISTS %s", t.quoted);
	rc = my_table_run(c, &q, "cannot drop the tracking table");
	my_table_free(&t);
	return rc;
}

/* An ISO 8601 UTC time ("2026-01-02T03:04:05Z") as a DATETIME literal. */
static void my_table_time(dbmigrate_conn *c, struct drvkit_text *q, const char *iso)
{
	char buf[40];
	size_t n;

	if (iso == NULL) {
		drvkit_text_puts(q, "UTC_TIMESTAMP(6)");
		return;
	}
	n = strlen(iso);
	if (n >= sizeof buf || n < 19) {
		my_text_literal(c, q, iso);
		return;
	}
	memcpy(buf, iso, n + 1);
	if (buf[10] == 'T')
		buf[10] = ' ';
	if (buf[n - 1] == 'Z')
		buf[n - 1] = '\0';
	my_text_literal(c, q, buf);
}

/* Append the INSERT (or REPLACE) of row. */
void my_table_insert_sql(dbmigrate_conn *c, struct drvkit_text *q,
			 const struct my_table *t,
			 const struct dbmigrate_row *row, int replace)
{
	my_text_printf(q, "%s INTO %s (`id`, `name`, `executed_at`, `batch`, "
			  "`checksum`, `down_sql`, `progress`) VALUES (",
		       replace ? "REPLACE" : "INSERT", t->quoted);
	my_text_literal(c, q, row->id);
	drvkit_text_puts(q, ", ");
	my_text_literal(c, q, row->name != NULL ? row->name : "");
	drvkit_text_puts(q, ", ");
	my_table_time(c, q, row->executed_at);
	my_text_printf(q, ", %d, ", row->batch);
	my_text_literal(c, q, row->checksum);
	drvkit_text_puts(q, ", ");
	my_text_literal(c, q, row->down_sql);
	drvkit_text_puts(q, ", ");
	my_text_literal(c, q, row->progress);
	drvkit_text_puts(q, ")");
}

/* Append the DELETE of the row of id. */
void my_table_delete_sql(dbmigrate_conn *c, struct drvkit_text *q,
			 const struct my_table *t, const char *id)
{
	my_text_printf(q, "DELETE FROM %s WHERE `id` = ", t->quoted);
	my_text_literal(c, q, id);
}

/*
 * Write row with its progress, outside a transaction: REPLACE, which
 * commits on its own (autocommit), so the row is on disk, as far as the
 * server's innodb_flush_log_at_trx_commit makes commits durable, before
 * the next statement of the migration runs.
 */
dbmigrate_code my_table_progress(dbmigrate_conn *c, const char *table,
				 const struct dbmigrate_row *row)
{
	struct my_table t;
	struct drvkit_text q = {0};
	dbmigrate_code rc;

	if (c->in_tx)
		return my_exec_error(c, DBMIGRATE_EDATABASE, NULL, NULL,
				     "record_progress() inside a transaction");
	if ((rc = my_table_parse(c, table, &t)) != DBMIGRATE_OK)
		return rc;
	my_table_insert_sql(c, &q, &t, row, 1);
	rc = my_table_run(c, &q, "cannot record the migration's progress");
	my_table_free(&t);
	return rc;
}

/* The columns of any table (ABI 4). */
dbmigrate_code my_table_columns(dbmigrate_conn *c, const char *table,
				int *exists, dbmigrate_name_fn fn, void *ctx)
{
	struct my_table t;
	struct drvkit_text q = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ok;
	dbmigrate_code rc = my_table_parse(c, table, &t);

	*exists = 0;
	if (rc != DBMIGRATE_OK)
		return rc;
	drvkit_text_puts(&q, "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
			     "WHERE TABLE_SCHEMA = ");
	my_text_literal(c, &q, t.db);
	drvkit_text_puts(&q, " AND TABLE_NAME = ");
	my_text_literal(c, &q, t.name);
	drvkit_text_puts(&q, " ORDER BY ORDINAL_POSITION");
	res = q.failed ? NULL : my_exec_query(c, q.s, &ok);
	free(q.s);
	if (res == NULL) {
		rc = my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				  NULL, 0, "cannot read the table's columns");
		goto out;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		*exists = 1;
		if (row[0] != NULL && fn(ctx, row[0]) != 0)
			break;
	}
	mysql_free_result(res);
out:
	my_table_free(&t);
	return rc;
}

/* The named columns of every row of any table, as text (ABI 4). */
dbmigrate_code my_table_read_any(dbmigrate_conn *c, const char *table,
				 const char *const *columns, size_t ncolumns,
				 dbmigrate_values_fn fn, void *ctx)
{
	struct my_table t;
	struct drvkit_text q = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ok;
	dbmigrate_code rc = my_table_parse(c, table, &t);
	const char **values;

	if (rc != DBMIGRATE_OK)
		return rc;
	if ((values = calloc(ncolumns + 1, sizeof *values)) == NULL) {
		my_table_free(&t);
		return my_exec_nomem(c);
	}
	drvkit_text_puts(&q, "SELECT ");
	for (size_t i = 0; i < ncolumns; i++) {
		if (i > 0)
			drvkit_text_puts(&q, ", ");
		my_text_ident(&q, columns[i]);
	}
	my_text_printf(&q, " FROM %s", t.quoted);
	res = q.failed ? NULL : my_exec_query(c, q.s, &ok);
	free(q.s);
	if (res == NULL) {
		rc = my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				  NULL, 0, "cannot read the table");
		goto out;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		for (size_t i = 0; i < ncolumns; i++)
			values[i] = row[i];
		if (fn(ctx, values, ncolumns) != 0)
			break;
	}
	mysql_free_result(res);
out:
	free(values);
	my_table_free(&t);
	return rc;
}
