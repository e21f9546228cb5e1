/*
 * pg-apply.c - running one migration: its statements and the statement
 * that records it in (or removes it from) the tracking table.
 *
 * Inside a transaction everything goes in one round trip, in pipeline
 * mode: each statement as its own extended-protocol query, the tracking
 * statement with its parameters, one Sync. After the first error the
 * server skips the rest up to the Sync, and its result names the
 * statement that failed.
 *
 * Outside a transaction each statement goes alone over the simple
 * protocol, which is what CREATE INDEX CONCURRENTLY and friends need
 * (the extended protocol would wrap them in an implicit transaction
 * block as soon as a second message shares the Sync).
 *
 * Built against a libpq older than 14 (no pipeline mode), the driver
 * takes the one-by-one path inside transactions too.
 *
 * COPY statements also take the one-by-one path, in the transaction:
 * a COPY FROM STDIN in a pipeline would read the next queued query as
 * its data, while over the simple protocol it is refused cleanly.
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* At most two tracking statements: a delete and an insert. */
#define PG_APPLY_TRACKING 2

/* A statement of the tracking table, with its parameters. */
struct pg_apply_track {
	char *sql;
	int nparams;
	const char *params[5];
};

/* The batch number as text, for the parameters. */
struct pg_apply_buf {
	char batch[16];
};

/* Build the tracking statements; returns how many, or -1 (reported). */
static int pg_apply_tracking(dbmigrate_conn *c, const struct pg_table *t,
			     const struct dbmigrate_row *record,
			     const char *unrecord_id, struct pg_apply_buf *b,
			     struct pg_apply_track *tr)
{
	static const char del[] = "DELETE FROM %s WHERE id = $1";
	static const char ins[] =
	    "INSERT INTO %s (id, name, batch, checksum, executed_at) "
	    "VALUES ($1, $2, $3::integer, $4, "
	    "COALESCE($5::timestamptz, now()))";
	size_t qlen = strlen(t->quoted);
	int n = 0;

	if (unrecord_id != NULL) {
		if ((tr[n].sql = malloc(sizeof del + qlen)) == NULL)
			goto nomem;
		snprintf(tr[n].sql, sizeof del + qlen, del, t->quoted);
		tr[n].nparams = 1;
		tr[n].params[0] = unrecord_id;
		n++;
	}
	if (record != NULL) {
		if ((tr[n].sql = malloc(sizeof ins + qlen)) == NULL)
			goto nomem;
		snprintf(tr[n].sql, sizeof ins + qlen, ins, t->quoted);
		snprintf(b->batch, sizeof b->batch, "%d", record->batch);
		tr[n].nparams = 5;
		tr[n].params[0] = record->id;
		tr[n].params[1] = record->name;
		tr[n].params[2] = b->batch;
		tr[n].params[3] = record->checksum;
		tr[n].params[4] = record->executed_at;
		n++;
	}
	return n;
nomem:
	for (int i = 0; i < n; i++)
		free(tr[i].sql);
	pg_exec_nomem(c);
	return -1;
}

/* True when the statement is a COPY (the first word decides). */
static int pg_apply_is_copy(dbmigrate_conn *c, const struct dbmigrate_stmt *s)
{
	struct dbmigrate_word w[1];

	if (c->host->sql_words == NULL)
		return 0;
	return c->host->sql_words(s->sql, s->len, w, 1) == 1 && w[0].len == 4 &&
	       strncasecmp(w[0].s, "copy", 4) == 0;
}

#ifdef LIBPQ_HAS_PIPELINING
/*
 * Read every result left in the pipeline up to its Sync, so that
 * pipeline mode can end; stops early on a broken connection.
 */
static void pg_apply_drain(dbmigrate_conn *c)
{
	for (;;) {
		PGresult *res = pg_exec_collect(c, 0);
		int done =
		    res == NULL || PQresultStatus(res) == PGRES_PIPELINE_SYNC;

		PQclear(res);
		if (done || PQstatus(c->pg) == CONNECTION_BAD)
			return;
	}
}

/* Everything in one round trip (see the top of the file). */
static dbmigrate_code pg_apply_pipeline(dbmigrate_conn *c,
					const struct dbmigrate_stmt *stmts,
					size_t n, struct pg_apply_track *tr,
					int ntr)
{
	const unsigned flags = PG_EXEC_CANCELLABLE;
	dbmigrate_code rc = DBMIGRATE_OK;
	size_t total = n + (size_t)ntr;
	PGresult *res;

	c->cancel_sent = 0;
	if (!PQenterPipelineMode(c->pg))
		return pg_exec_fail(c, DBMIGRATE_EDATABASE, NULL,
				    DBMIGRATE_NO_STATEMENT,
				    "cannot enter pipeline mode");
	for (size_t i = 0; i < total; i++) {
		const struct pg_apply_track *t = i < n ? NULL : &tr[i - n];
		int sent =
		    t == NULL
			? PQsendQueryParams(c->pg, stmts[i].sql, 0, NULL, NULL,
					    NULL, NULL, 0)
			: PQsendQueryParams(c->pg, t->sql, t->nparams, NULL,
					    t->params, NULL, NULL, 0);

		if (!sent) {
			rc = pg_exec_fail(c, DBMIGRATE_EMIGRATION, NULL,
					  i < n ? i : DBMIGRATE_NO_STATEMENT,
					  "cannot send the statement");
			total = i; /* only these wait for results */
			break;
		}
	}
	if (!PQpipelineSync(c->pg) || pg_exec_flush(c, flags) < 0) {
		if (rc == DBMIGRATE_OK)
			rc = pg_exec_fail(c, DBMIGRATE_EMIGRATION, NULL,
					  DBMIGRATE_NO_STATEMENT,
					  "cannot send the migration");
		(void)PQexitPipelineMode(c->pg);
		return rc;
	}
	for (size_t i = 0; i < total; i++) {
		res = pg_exec_collect(c, flags);
		if (rc == DBMIGRATE_OK && !pg_exec_ok(res))
			rc = pg_exec_fail(c, DBMIGRATE_EMIGRATION, res,
					  i < n ? i : DBMIGRATE_NO_STATEMENT,
					  NULL);
		PQclear(res);
		if (PQstatus(c->pg) == CONNECTION_BAD)
			return rc;
	}
	pg_apply_drain(c);
	if (!PQexitPipelineMode(c->pg) && rc == DBMIGRATE_OK)
		rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, NULL,
				  DBMIGRATE_NO_STATEMENT,
				  "cannot leave pipeline mode");
	return rc;
}

#endif

/* One statement at a time (see the top of the file). */
static dbmigrate_code pg_apply_each(dbmigrate_conn *c,
				    const struct dbmigrate_stmt *stmts,
				    size_t n, struct pg_apply_track *tr,
				    int ntr)
{
	const unsigned flags = PG_EXEC_CANCELLABLE;
	dbmigrate_code rc = DBMIGRATE_OK;
	PGresult *res;

	for (size_t i = 0; i < n; i++) {
		if (c->host->interrupted(c->host->ctx)) {
			struct dbmigrate_driver_error e = {
			    .code = DBMIGRATE_EINTERRUPTED,
			    .message = "interrupted before the statement ran",
			    .statement = i};

			c->host->error(c->host->ctx, &e);
			return e.code;
		}
		res = pg_exec_run(c, stmts[i].sql, 0, NULL,
				  flags | PG_EXEC_SIMPLE);
		if (!pg_exec_ok(res))
			rc =
			    pg_exec_fail(c, DBMIGRATE_EMIGRATION, res, i, NULL);
		PQclear(res);
		if (rc != DBMIGRATE_OK)
			return rc;
	}
	for (int i = 0; i < ntr; i++) {
		res = pg_exec_run(c, tr[i].sql, tr[i].nparams, tr[i].params, 0);
		if (!pg_exec_ok(res))
			rc = pg_exec_fail(c, DBMIGRATE_EMIGRATION, res,
					  DBMIGRATE_NO_STATEMENT, NULL);
		PQclear(res);
		if (rc != DBMIGRATE_OK)
			return rc;
	}
	return DBMIGRATE_OK;
}

/* Run one migration: pipelined in a transaction, else one by one. */
dbmigrate_code pg_apply(dbmigrate_conn *c, const char *table,
			const struct dbmigrate_stmt *stmts, size_t n,
			const struct dbmigrate_row *record,
			const char *unrecord_id)
{
	struct pg_apply_track tr[PG_APPLY_TRACKING];
	struct pg_apply_buf buf;
	struct pg_table t;
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);
	int pipeline = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
	dbmigrate_code rc;
	int ntr;

	rc = pg_table_parse(c, table, &t);
	if (rc != DBMIGRATE_OK)
		return rc;
	ntr = pg_apply_tracking(c, &t, record, unrecord_id, &buf, tr);
	pg_table_free(&t);
	if (ntr < 0)
		return DBMIGRATE_ENOMEM;
	for (size_t i = 0; pipeline && i < n; i++)
		if (pg_apply_is_copy(c, &stmts[i]))
			pipeline = 0;
	if (n + (size_t)ntr == 0)
		rc = DBMIGRATE_OK;
#ifdef LIBPQ_HAS_PIPELINING
	else if (pipeline)
		rc = pg_apply_pipeline(c, stmts, n, tr, ntr);
#endif
	else
		rc = pg_apply_each(c, stmts, n, tr, ntr);
	for (int i = 0; i < ntr; i++)
		free(tr[i].sql);
	return rc;
}
