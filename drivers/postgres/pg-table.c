/*
 * pg-table.c - the tracking table: naming it safely, creating or
 * adopting it, reading its rows and dropping it.
 *
 * A table name is "name" or "schema.name"; each part is taken as written
 * and quoted with PQescapeIdentifier, so any name works and none can
 * inject SQL. Values always travel as query parameters.
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Quote part (len bytes) as an identifier; NULL with the error reported. */
static char *pg_table_quote(dbmigrate_conn *c, const char *part, size_t len)
{
	char *q = PQescapeIdentifier(c->pg, part, len);
	char *d;

	if (q == NULL) {
		pg_exec_error(c, DBMIGRATE_EDATABASE, NULL, NULL,
			      "cannot quote the table name: %s",
			      PQerrorMessage(c->pg));
		return NULL;
	}
	/* Copy to malloc'd memory so one free() fits every string here. */
	d = strdup(q);
	PQfreemem(q);
	if (d == NULL)
		pg_exec_nomem(c);
	return d;
}

/* Split "name" or "schema.name" and quote it for SQL text. */
dbmigrate_code pg_table_parse(dbmigrate_conn *c, const char *table,
			      struct pg_table *t)
{
	const char *dot = strchr(table, '.');
	char *qs = NULL;
	char *qn;

	memset(t, 0, sizeof *t);
	if (*table == '\0' || dot == table || (dot != NULL && dot[1] == '\0') ||
	    (dot != NULL && strchr(dot + 1, '.') != NULL))
		return pg_exec_error(c, DBMIGRATE_EUSAGE, NULL,
				     "Give the table as NAME or SCHEMA.NAME.",
				     "invalid tracking table name \"%s\"",
				     table);
	if (dot != NULL) {
		t->schema = strndup(table, (size_t)(dot - table));
		t->name = strdup(dot + 1);
	} else {
		t->name = strdup(table);
	}
	if (t->name == NULL || (dot != NULL && t->schema == NULL)) {
		pg_table_free(t);
		return pg_exec_nomem(c);
	}
	if ((dot != NULL &&
	     (qs = pg_table_quote(c, t->schema, strlen(t->schema))) == NULL) ||
	    (qn = pg_table_quote(c, t->name, strlen(t->name))) == NULL) {
		free(qs);
		pg_table_free(t);
		return DBMIGRATE_EDATABASE;
	}
	if (qs == NULL) {
		t->quoted = qn;
		return DBMIGRATE_OK;
	}
	t->quoted = malloc(strlen(qs) + strlen(qn) + 2);
	if (t->quoted != NULL) {
		strcpy(t->quoted, qs);
		strcat(t->quoted, ".");
		strcat(t->quoted, qn);
	}
	free(qs);
	free(qn);
	if (t->quoted == NULL) {
		pg_table_free(t);
		return pg_exec_nomem(c);
	}
	return DBMIGRATE_OK;
}

/* Free a parsed table name. */
void pg_table_free(struct pg_table *t)
{
	free(t->schema);
	free(t->name);
	free(t->quoted);
	memset(t, 0, sizeof *t);
}

/*
 * Build "prefix <quoted table> suffix" into a new string; NULL (with
 * the error reported) when out of memory.
 */
static char *pg_table_sql(dbmigrate_conn *c, const char *prefix,
			  const struct pg_table *t, const char *suffix)
{
	size_t n = strlen(prefix) + strlen(t->quoted) + strlen(suffix) + 1;
	char *sql = malloc(n);

	if (sql == NULL) {
		pg_exec_nomem(c);
		return NULL;
	}
	strcpy(sql, prefix);
	strcat(sql, t->quoted);
	strcat(sql, suffix);
	return sql;
}

/* Run a query of the tool; on failure report it with what and return NULL. */
static PGresult *pg_table_query(dbmigrate_conn *c, const char *sql, int nparams,
				const char *const *params, const char *what,
				dbmigrate_code *rc)
{
	PGresult *res = pg_exec_run(c, sql, nparams, params, 0);

	if (pg_exec_ok(res)) {
		*rc = DBMIGRATE_OK;
		return res;
	}
	*rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, res, DBMIGRATE_NO_STATEMENT,
			   what);
	PQclear(res);
	return NULL;
}

/* Run a statement built around the table name; report failures. */
static dbmigrate_code pg_table_command(dbmigrate_conn *c, const char *prefix,
				       const struct pg_table *t,
				       const char *suffix, const char *what)
{
	char *sql = pg_table_sql(c, prefix, t, suffix);
	dbmigrate_code rc;
	PGresult *res;

	if (sql == NULL)
		return DBMIGRATE_ENOMEM;
	res = pg_table_query(c, sql, 0, NULL, what, &rc);
	PQclear(res);
	free(sql);
	return rc;
}

/*
 * Does the table exist, and has it the checksum and down_sql columns
 * (either pointer may be NULL)? One query; to_regclass() answers NULL
 * (not an error) for a missing schema too.
 */
static dbmigrate_code pg_table_probe(dbmigrate_conn *c,
				     const struct pg_table *t, int *exists,
				     int *has_checksum, int *has_down_sql)
{
	const char *params[1] = {t->quoted};
	dbmigrate_code rc;
	PGresult *res =
	    pg_table_query(c,
			   "SELECT pg_catalog.to_regclass($1) IS NOT NULL, "
			   "EXISTS (SELECT 1 FROM pg_catalog.pg_attribute "
			   "WHERE attrelid = pg_catalog.to_regclass($1) "
			   "AND attname = 'checksum' AND NOT attisdropped), "
			   "EXISTS (SELECT 1 FROM pg_catalog.pg_attribute "
			   "WHERE attrelid = pg_catalog.to_regclass($1) "
			   "AND attname = 'down_sql' AND NOT attisdropped)",
			   1, params, "cannot look up the tracking table", &rc);

	if (res == NULL)
		return rc;
	*exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	if (has_checksum != NULL)
		*has_checksum = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	if (has_down_sql != NULL)
		*has_down_sql = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	PQclear(res);
	return DBMIGRATE_OK;
}

/* Fail clearly when the table's schema does not exist. */
static dbmigrate_code pg_table_check_schema(dbmigrate_conn *c,
					    const struct pg_table *t)
{
	const char *params[1] = {t->schema};
	dbmigrate_code rc;
	PGresult *res;
	int found;

	if (t->schema == NULL)
		return DBMIGRATE_OK;
	res = pg_table_query(c,
			     "SELECT 1 FROM pg_catalog.pg_namespace "
			     "WHERE nspname = $1",
			     1, params, "cannot look up the schema", &rc);
	if (res == NULL)
		return rc;
	found = PQntuples(res) > 0;
	PQclear(res);
	if (found)
		return DBMIGRATE_OK;
	return pg_exec_error(c, DBMIGRATE_EDATABASE,
			     "The tracking table is named with a schema, and "
			     "the database has no schema of that name.",
			     "Create the schema first (CREATE SCHEMA), or name "
			     "the table without a schema.",
			     "schema \"%s\" of tracking table \"%s.%s\" does "
			     "not exist",
			     t->schema, t->schema, t->name);
}

/* Create the tracking table, or adopt an older one. */
dbmigrate_code pg_table_ensure(dbmigrate_conn *c, const char *table)
{
	struct pg_table t;
	int exists = 0, has_checksum = 0, has_down_sql = 0;
	dbmigrate_code rc = pg_table_parse(c, table, &t);

	if (rc != DBMIGRATE_OK)
		return rc;
	rc = pg_table_check_schema(c, &t);
	/* Probing first keeps "already exists, skipping" notices away. */
	if (rc == DBMIGRATE_OK)
		rc = pg_table_probe(c, &t, &exists, &has_checksum,
				    &has_down_sql);
	if (rc == DBMIGRATE_OK && !exists)
		rc = pg_table_command(
		    c, "CREATE TABLE IF NOT EXISTS ", &t,
		    " (id VARCHAR(255) PRIMARY KEY, "
		    "name VARCHAR(255) NOT NULL, "
		    "executed_at TIMESTAMP WITH TIME ZONE "
		    "DEFAULT CURRENT_TIMESTAMP, "
		    "batch INTEGER NOT NULL, checksum VARCHAR(64), "
		    "down_sql TEXT)",
		    "cannot create the tracking table");
	else if (rc == DBMIGRATE_OK && (!has_checksum || !has_down_sql))
		/*
		 * A table of the seed tool or an older dbmigrate: adopt it,
		 * adding only what is missing (no "already exists" notice).
		 * Both columns are nullable, so the older tool still writes
		 * its rows (leaving them NULL).
		 */
		rc = pg_table_command(
		    c, "ALTER TABLE ", &t,
		    !has_checksum && !has_down_sql
			? " ADD COLUMN IF NOT EXISTS checksum VARCHAR(64), "
			  "ADD COLUMN IF NOT EXISTS down_sql TEXT"
		    : !has_checksum
			? " ADD COLUMN IF NOT EXISTS checksum VARCHAR(64)"
			: " ADD COLUMN IF NOT EXISTS down_sql TEXT",
		    "cannot add the checksum and down_sql columns to the "
		    "tracking table");
	pg_table_free(&t);
	return rc;
}

/* Tell whether the tracking table exists. */
dbmigrate_code pg_table_exists(dbmigrate_conn *c, const char *table,
			       int *exists)
{
	struct pg_table t;
	dbmigrate_code rc = pg_table_parse(c, table, &t);

	*exists = 0;
	if (rc != DBMIGRATE_OK)
		return rc;
	rc = pg_table_probe(c, &t, exists, NULL, NULL);
	pg_table_free(&t);
	return rc;
}

/*
 * The query for the rows of t: the seed's tool wrote no checksum column,
 * an older dbmigrate no down_sql; NULL stands in for what is missing.
 * brief: '' for a down SQL that is there, instead of its text. The cast
 * makes a seed table's TIMESTAMP (without time zone) read in the
 * session's zone, as it was written, before turning to UTC.
 */
static char *pg_table_rows_sql(dbmigrate_conn *c, const struct pg_table *t,
			       int has_checksum, int has_down_sql, int brief)
{
	char prefix[320];

	snprintf(prefix, sizeof prefix,
		 "SELECT id, name, to_char(executed_at::timestamptz "
		 "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
		 "batch, %s, %s FROM ",
		 has_checksum ? "checksum" : "NULL",
		 !has_down_sql ? "NULL"
		 : brief ? "CASE WHEN down_sql IS NOT NULL THEN '' END"
			 : "down_sql");
	return pg_table_sql(c, prefix, t, "");
}

/* Call fn for each row of res (from pg_table_rows_sql()'s query). */
static void pg_table_rows(const PGresult *res, dbmigrate_row_fn fn, void *ctx)
{
	for (int i = 0; i < PQntuples(res); i++) {
		struct dbmigrate_row row = {
		    .id = PQgetvalue(res, i, 0),
		    .name = PQgetvalue(res, i, 1),
		    .executed_at =
			PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2),
		    .batch = atoi(PQgetvalue(res, i, 3)),
		    .checksum =
			PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
		    .down_sql =
			PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
		};

		if (fn(ctx, &row) != 0)
			break;
	}
}

/*
 * Read a table of today's shape in one query, without asking the
 * catalogs first: on a new session that lookup costs as much as the
 * rows themselves (6 ms of 16 for 10,000 rows). Only outside a
 * transaction, where a failed query spoils nothing. *done is 0 when the
 * table or a column is missing (the caller then looks before it reads:
 * a seed table, or none yet); any other failure is reported.
 */
static dbmigrate_code pg_table_read_current(dbmigrate_conn *c,
					    const struct pg_table *t, int brief,
					    dbmigrate_row_fn fn, void *ctx,
					    int *done)
{
	char *sql;
	PGresult *res;
	const char *state;
	dbmigrate_code rc;

	*done = 0;
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		return DBMIGRATE_OK;
	if ((sql = pg_table_rows_sql(c, t, 1, 1, brief)) == NULL)
		return DBMIGRATE_ENOMEM;
	res = pg_exec_run(c, sql, 0, NULL, 0);
	free(sql);
	if (pg_exec_ok(res)) {
		*done = 1;
		pg_table_rows(res, fn, ctx);
		PQclear(res);
		return DBMIGRATE_OK;
	}
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	/* undefined_table, undefined_column, invalid_schema_name */
	if (state != NULL && (strcmp(state, "42P01") == 0 ||
			      strcmp(state, "42703") == 0 ||
			      strcmp(state, "3F000") == 0)) {
		PQclear(res);
		return DBMIGRATE_OK;
	}
	*done = 1;
	rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, res, DBMIGRATE_NO_STATEMENT,
			  "cannot read the tracking table");
	PQclear(res);
	return rc;
}

/* Call fn for each tracking row (brief: without the down SQL's text);
   none when the table is missing. */
static dbmigrate_code pg_table_read_rows(dbmigrate_conn *c, const char *table,
					 int brief, dbmigrate_row_fn fn,
					 void *ctx)
{
	struct pg_table t;
	int exists = 0, has_checksum = 0, has_down_sql = 0, done = 0;
	dbmigrate_code rc = pg_table_parse(c, table, &t);
	PGresult *res = NULL;
	char *sql = NULL;

	if (rc != DBMIGRATE_OK)
		return rc;
	rc = pg_table_read_current(c, &t, brief, fn, ctx, &done);
	if (rc != DBMIGRATE_OK || done)
		goto out;
	/* Reading (status) must not alter an older table: ask what it has. */
	rc = pg_table_probe(c, &t, &exists, &has_checksum, &has_down_sql);
	if (rc != DBMIGRATE_OK || !exists)
		goto out;
	sql = pg_table_rows_sql(c, &t, has_checksum, has_down_sql, brief);
	if (sql == NULL) {
		rc = DBMIGRATE_ENOMEM;
		goto out;
	}
	res = pg_table_query(c, sql, 0, NULL, "cannot read the tracking table",
			     &rc);
	if (res != NULL)
		pg_table_rows(res, fn, ctx);
out:
	PQclear(res);
	free(sql);
	pg_table_free(&t);
	return rc;
}

dbmigrate_code pg_table_read(dbmigrate_conn *c, const char *table,
			     dbmigrate_row_fn fn, void *ctx)
{
	return pg_table_read_rows(c, table, 0, fn, ctx);
}

dbmigrate_code pg_table_read_brief(dbmigrate_conn *c, const char *table,
				   dbmigrate_row_fn fn, void *ctx)
{
	return pg_table_read_rows(c, table, 1, fn, ctx);
}

/* Drop the tracking table. */
dbmigrate_code pg_table_drop(dbmigrate_conn *c, const char *table)
{
	struct pg_table t;
	dbmigrate_code rc = pg_table_parse(c, table, &t);

	if (rc != DBMIGRATE_OK)
		return rc;
	rc = pg_table_command(c, "DROP TABLE ", &t, "",
			      "cannot drop the tracking table");
	pg_table_free(&t);
	return rc;
}

/* List the columns of any table, in their order (ABI 4). */
dbmigrate_code pg_table_columns(dbmigrate_conn *c, const char *table,
				int *exists, dbmigrate_name_fn fn, void *ctx)
{
	struct pg_table t;
	const char *params[1];
	dbmigrate_code rc = pg_table_parse(c, table, &t);
	PGresult *res;

	*exists = 0;
	if (rc != DBMIGRATE_OK)
		return rc;
	params[0] = t.quoted;
	/* One query: whether it exists, and its columns (none: one row
	   with a NULL name). to_regclass() follows search_path, as the
	   tools that made the table do. */
	res = pg_table_query(c,
			     "SELECT r.oid IS NOT NULL, a.attname "
			     "FROM (SELECT pg_catalog.to_regclass($1) AS oid) r "
			     "LEFT JOIN pg_catalog.pg_attribute a "
			     "ON a.attrelid = r.oid AND a.attnum > 0 "
			     "AND NOT a.attisdropped ORDER BY a.attnum",
			     1, params, "cannot look up the table's columns",
			     &rc);
	pg_table_free(&t);
	if (res == NULL)
		return rc;
	*exists = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	for (int i = 0; *exists && i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 1) && fn(ctx, PQgetvalue(res, i, 1)) != 0)
			break;
	PQclear(res);
	return DBMIGRATE_OK;
}

/* SELECT the named columns of every row of a table, as text (ABI 4). */
dbmigrate_code pg_table_read_any(dbmigrate_conn *c, const char *table,
				 const char *const *columns, size_t ncolumns,
				 dbmigrate_values_fn fn, void *ctx)
{
	struct pg_table t;
	struct drvkit_text sql = {0};
	const char **values = NULL;
	dbmigrate_code rc = pg_table_parse(c, table, &t);
	PGresult *res;

	if (rc != DBMIGRATE_OK)
		return rc;
	drvkit_text_puts(&sql, "SELECT ");
	for (size_t k = 0; k < ncolumns; k++) {
		char *q = pg_table_quote(c, columns[k], strlen(columns[k]));

		if (q == NULL) {
			free(sql.s);
			pg_table_free(&t);
			return DBMIGRATE_EDATABASE;
		}
		if (k > 0)
			drvkit_text_puts(&sql, ", ");
		drvkit_text_puts(&sql, q);
		free(q);
	}
	drvkit_text_puts(&sql, " FROM ");
	drvkit_text_puts(&sql, t.quoted);
	pg_table_free(&t);
	values = calloc(ncolumns + 1, sizeof *values);
	if (sql.failed || values == NULL) {
		free(sql.s);
		free(values);
		return pg_exec_nomem(c);
	}
	res = pg_table_query(c, sql.s, 0, NULL, "cannot read the table", &rc);
	free(sql.s);
	for (int i = 0; res != NULL && i < PQntuples(res); i++) {
		for (size_t k = 0; k < ncolumns; k++)
			values[k] = PQgetisnull(res, i, (int)k)
					? NULL
					: PQgetvalue(res, i, (int)k);
		if (fn(ctx, values, ncolumns) != 0)
			break;
	}
	PQclear(res);
	free(values);
	return rc;
}
