/*
 * sq-table.c - the tracking table: naming it, creating or adopting it,
 * reading its rows, dropping it; and any table's columns and rows for
 * `import`.
 *
 * A table name is "name" or "schema.name" (schema: "main", "temp" or an
 * attached database); each part is quoted as an identifier, so any name
 * works and none can inject SQL. Values travel as bound parameters.
 * executed_at is kept as ISO 8601 UTC text ("2024-01-02T10:00:00Z");
 * a row another tool wrote in another form of time SQLite reads
 * ("2024-01-02 10:00:00") is read in that form.
 */
#include "sq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of a tracking table of today. */
static const char sq_table_columns_sql[] =
	" (id VARCHAR(255) PRIMARY KEY, name VARCHAR(255) NOT NULL, "
	"executed_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), "
	"batch INTEGER NOT NULL, checksum VARCHAR(64), down_sql TEXT)";

/* Append table to t, each part quoted; see sq.h. */
void sq_table_quoted(struct drvkit_text *t, const char *table)
{
	const char *dot = strchr(table, '.');

	if (dot != NULL) {
		sq_text_ident(t, table, (size_t)(dot - table));
		drvkit_text_add(t, ".", 1);
		table = dot + 1;
	}
	sq_text_ident(t, table, strlen(table));
}

/* The unqualified name of table; see sq.h. */
const char *sq_table_base(const char *table)
{
	const char *dot = strchr(table, '.');

	return dot != NULL ? dot + 1 : table;
}

/* Refuse a name that is not NAME or SCHEMA.NAME. */
static dbmigrate_code sq_table_check(dbmigrate_conn *c, const char *table)
{
	const char *dot = strchr(table, '.');

	if (*table == '\0' || dot == table || (dot != NULL && dot[1] == '\0') ||
	    (dot != NULL && strchr(dot + 1, '.') != NULL))
		return sq_error(c, DBMIGRATE_EUSAGE, NULL,
				"Give the table as NAME or SCHEMA.NAME (SCHEMA: "
				"main, temp or an attached database).",
				"invalid tracking table name \"%s\"", table);
	return DBMIGRATE_OK;
}

/* prefix + quoted table + suffix, as a new string; NULL when out of
   memory (reported). */
static char *sq_table_sql(dbmigrate_conn *c, const char *prefix,
			  const char *table, const char *suffix)
{
	struct drvkit_text t = { 0 };

	drvkit_text_puts(&t, prefix);
	sq_table_quoted(&t, table);
	drvkit_text_puts(&t, suffix);
	if (t.failed) {
		free(t.s);
		sq_nomem(c);
		return NULL;
	}
	return t.s;
}

/* Finish a query that stepped to r: report a failure (while st still
   holds its message), then finalize st. */
static dbmigrate_code sq_table_done(dbmigrate_conn *c, sqlite3_stmt *st,
				    int r, const char *what)
{
	dbmigrate_code rc = DBMIGRATE_OK;

	if (r != SQLITE_DONE)
		rc = sq_fail(c, DBMIGRATE_EDATABASE, r, NULL,
			     DBMIGRATE_NO_STATEMENT, what);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Call fn with each column name of table, in order; *exists 0 and no
 * call when there is no such table. SQLite's pragma_table_info() takes
 * the schema apart (NULL: the first database that has the table, as an
 * unqualified name resolves).
 */
static dbmigrate_code sq_table_each_column(dbmigrate_conn *c,
					   const char *table, int *exists,
					   dbmigrate_name_fn fn, void *ctx)
{
	const char *dot = strchr(table, '.');
	sqlite3_stmt *st;
	int r;

	*exists = 0;
	if ((st = sq_prepare(c, "SELECT name FROM pragma_table_info(?1, ?2)",
			     "cannot look up the table")) == NULL)
		return DBMIGRATE_EDATABASE;
	if (dot != NULL) {
		sqlite3_bind_text(st, 1, dot + 1, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, table, (int)(dot - table),
				  SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		*exists = 1;
		if (fn != NULL && name != NULL && fn(ctx, name) != 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	/* An unknown schema is no table, as to_regclass() has it. */
	if (r != SQLITE_DONE &&
	    strstr(sqlite3_errmsg(c->db), "unknown database") != NULL)
		r = SQLITE_DONE;
	return sq_table_done(c, st, r, "cannot look up the table");
}

/* What a tracking table has. */
struct sq_table_shape {
	int checksum;
	int down_sql;
};

/* Note the columns that older tables lack. */
static int sq_table_shape_column(void *ctx, const char *name)
{
	struct sq_table_shape *s = ctx;

	if (strcmp(name, "checksum") == 0)
		s->checksum = 1;
	else if (strcmp(name, "down_sql") == 0)
		s->down_sql = 1;
	return 0;
}

/* Does the table exist, and what has it? */
static dbmigrate_code sq_table_probe(dbmigrate_conn *c, const char *table,
				     int *exists, struct sq_table_shape *s)
{
	memset(s, 0, sizeof *s);
	return sq_table_each_column(c, table, exists, sq_table_shape_column,
				    s);
}

/* Run prefix + table + suffix. */
static dbmigrate_code sq_table_command(dbmigrate_conn *c, const char *prefix,
				       const char *table, const char *suffix,
				       const char *what)
{
	char *sql = sq_table_sql(c, prefix, table, suffix);
	dbmigrate_code rc;

	if (sql == NULL)
		return DBMIGRATE_ENOMEM;
	rc = sq_exec_own(c, sql, what);
	free(sql);
	return rc;
}

/* Create the tracking table, or adopt an older one's. */
dbmigrate_code sq_table_ensure(dbmigrate_conn *c, const char *table)
{
	struct sq_table_shape s;
	int exists;
	dbmigrate_code rc = sq_table_check(c, table);

	if (rc == DBMIGRATE_OK)
		rc = sq_table_probe(c, table, &exists, &s);
	if (rc != DBMIGRATE_OK)
		return rc;
	sq_apply_forget(c);
	if (!exists)
		return sq_table_command(c, "CREATE TABLE IF NOT EXISTS ", table,
					sq_table_columns_sql,
					"cannot create the tracking table");
	/* A table of the seed tool or an older dbmigrate: add only what is
	   missing, nullable, so that the older tool still writes rows. */
	if (rc == DBMIGRATE_OK && !s.checksum)
		rc = sq_table_command(c, "ALTER TABLE ", table,
				      " ADD COLUMN checksum VARCHAR(64)",
				      "cannot add the checksum column to the "
				      "tracking table");
	if (rc == DBMIGRATE_OK && !s.down_sql)
		rc = sq_table_command(c, "ALTER TABLE ", table,
				      " ADD COLUMN down_sql TEXT",
				      "cannot add the down_sql column to the "
				      "tracking table");
	return rc;
}

/* Tell whether the tracking table exists. */
dbmigrate_code sq_table_exists(dbmigrate_conn *c, const char *table,
			       int *exists)
{
	dbmigrate_code rc = sq_table_check(c, table);

	*exists = 0;
	return rc != DBMIGRATE_OK ? rc
				  : sq_table_each_column(c, table, exists, NULL,
							 NULL);
}

/* Call fn for each tracking row (brief: "" for a down SQL, not its text). */
static dbmigrate_code sq_table_rows(dbmigrate_conn *c, const char *table,
				    int brief, dbmigrate_row_fn fn, void *ctx)
{
	struct sq_table_shape s;
	char prefix[320];
	char *sql;
	sqlite3_stmt *st;
	int exists, r;
	dbmigrate_code rc = sq_table_check(c, table);

	if (rc == DBMIGRATE_OK)
		rc = sq_table_probe(c, table, &exists, &s);
	if (rc != DBMIGRATE_OK || !exists)
		return rc;
	snprintf(prefix, sizeof prefix,
		 "SELECT id, name, coalesce(strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', "
		 "executed_at), executed_at), batch, %s, %s FROM ",
		 s.checksum ? "checksum" : "NULL",
		 !s.down_sql ? "NULL"
		 : brief     ? "CASE WHEN down_sql IS NOT NULL THEN '' END"
			     : "down_sql");
	if ((sql = sq_table_sql(c, prefix, table, "")) == NULL)
		return DBMIGRATE_ENOMEM;
	st = sq_prepare(c, sql, "cannot read the tracking table");
	free(sql);
	if (st == NULL)
		return DBMIGRATE_EDATABASE;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct dbmigrate_row row = {
			.id = (const char *)sqlite3_column_text(st, 0),
			.name = (const char *)sqlite3_column_text(st, 1),
			.executed_at = (const char *)sqlite3_column_text(st, 2),
			.batch = sqlite3_column_int(st, 3),
			.checksum = (const char *)sqlite3_column_text(st, 4),
			.down_sql = (const char *)sqlite3_column_text(st, 5),
		};

		if (row.id == NULL)
			continue; /* SQLite lets a non-INTEGER key be NULL */
		if (row.name == NULL)
			row.name = "";
		if (fn(ctx, &row) != 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	return sq_table_done(c, st, r, "cannot read the tracking table");
}

dbmigrate_code sq_table_read(dbmigrate_conn *c, const char *table,
			     dbmigrate_row_fn fn, void *ctx)
{
	return sq_table_rows(c, table, 0, fn, ctx);
}

dbmigrate_code sq_table_read_brief(dbmigrate_conn *c, const char *table,
				   dbmigrate_row_fn fn, void *ctx)
{
	return sq_table_rows(c, table, 1, fn, ctx);
}

/* Drop the tracking table. */
dbmigrate_code sq_table_drop(dbmigrate_conn *c, const char *table)
{
	dbmigrate_code rc = sq_table_check(c, table);

	if (rc != DBMIGRATE_OK)
		return rc;
	sq_apply_forget(c);
	return sq_table_command(c, "DROP TABLE ", table, "",
				"cannot drop the tracking table");
}

/* The columns of any table, in order (ABI 4). */
dbmigrate_code sq_table_columns(dbmigrate_conn *c, const char *table,
				int *exists, dbmigrate_name_fn fn, void *ctx)
{
	dbmigrate_code rc = sq_table_check(c, table);

	*exists = 0;
	return rc != DBMIGRATE_OK
		       ? rc
		       : sq_table_each_column(c, table, exists, fn, ctx);
}

/* SELECT the named columns of every row of a table, as text (ABI 4). */
dbmigrate_code sq_table_read_any(dbmigrate_conn *c, const char *table,
				 const char *const *columns, size_t ncolumns,
				 dbmigrate_values_fn fn, void *ctx)
{
	struct drvkit_text sql = { 0 };
	const char **values;
	sqlite3_stmt *st;
	dbmigrate_code rc = sq_table_check(c, table);
	int r;

	if (rc != DBMIGRATE_OK)
		return rc;
	drvkit_text_puts(&sql, "SELECT ");
	for (size_t k = 0; k < ncolumns; k++) {
		if (k > 0)
			drvkit_text_puts(&sql, ", ");
		sq_text_ident(&sql, columns[k], strlen(columns[k]));
	}
	if (ncolumns == 0)
		drvkit_text_puts(&sql, "1");
	drvkit_text_puts(&sql, " FROM ");
	sq_table_quoted(&sql, table);
	values = calloc(ncolumns + 1, sizeof *values);
	if (sql.failed || values == NULL) {
		free(sql.s);
		free(values);
		return sq_nomem(c);
	}
	st = sq_prepare(c, sql.s, "cannot read the table");
	free(sql.s);
	if (st == NULL) {
		free(values);
		return DBMIGRATE_EDATABASE;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t k = 0; k < ncolumns; k++)
			values[k] = (const char *)sqlite3_column_text(st, (int)k);
		if (fn(ctx, values, ncolumns) != 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	free(values);
	return sq_table_done(c, st, r, "cannot read the table");
}
