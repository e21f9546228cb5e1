/*
 * pg-apply.c - running one migration: its statements and the statement
 * that records it in (or removes it from) the tracking table, under the
 * limits configure() set.
 *
 * Inside a transaction everything goes in one round trip, in pipeline
 * mode: each statement as its own extended-protocol query, the tracking
 * statement with its parameters, one Sync. After the first error the
 * server skips the rest up to the Sync, and its result names the
 * statement that failed. The limits travel in the same pipeline, as
 * SET LOCAL before the migration's statements, and so does the SAVEPOINT
 * that a retry rolls back to: limits never cost a round trip.
 *
 * Outside a transaction each statement goes alone over the simple
 * protocol, which is what CREATE INDEX CONCURRENTLY and friends need
 * (the extended protocol would wrap them in an implicit transaction
 * block as soon as a second message shares the Sync). The limits are
 * then SET for the session before the statements and RESET after them.
 *
 * Built against a libpq older than 14 (no pipeline mode), the driver
 * takes the one-by-one path inside transactions too.
 *
 * COPY statements also take the one-by-one path, in the transaction:
 * a COPY FROM STDIN in a pipeline would read the next queued query as
 * its data, while over the simple protocol it is refused cleanly.
 *
 * A statement that gives up waiting for a lock (lock_timeout, SQLSTATE
 * 55P03) is retried lock_retries times with backoff: in a transaction
 * the whole migration again, from its savepoint; outside one the failed
 * statement alone, since those before it have committed.
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* At most two tracking statements: a delete and an insert. */
#define PG_APPLY_TRACKING 2

/* At most this many statements around a migration's own: a savepoint,
   two limits (before); a release, or two resets (after). */
#define PG_APPLY_AROUND 5

/* The savepoint a retried migration goes back to. */
#define PG_APPLY_SAVEPOINT "dbmigrate_retry"

/* The first wait before a retry, and the longest, in milliseconds. */
#define PG_APPLY_BACKOFF_MS 500
#define PG_APPLY_BACKOFF_MAX_MS 10000

/* How often a wait checks host->interrupted(), in milliseconds. */
#define PG_APPLY_SLICE_MS 50

/* The SQLSTATE of a lock not available (lock_timeout, NOWAIT). */
#define PG_APPLY_LOCK_NOT_AVAILABLE "55P03"

/* A statement of the tracking table, with its parameters. */
struct pg_apply_track {
	char *sql;
	int nparams;
	const char *params[6];
};

/* The batch number as text, for the parameters. */
struct pg_apply_buf {
	char batch[16];
};

/* One query of a migration's run, whatever its origin. */
struct pg_apply_q {
	const char *sql;
	int nparams;
	const char *const *params;
	size_t stmt; /* index in apply()'s array, or DBMIGRATE_NO_STATEMENT */
	int simple;  /* over the simple protocol (a migration's statement on
			the one-by-one path) */
};

/* The queries of one migration: before, its own, tracking, after. */
struct pg_apply_run {
	struct pg_apply_q *q;
	size_t n;
	size_t first;  /* the first of the migration's own statements */
	size_t after;  /* the first query after the tracking statements */
	char set_lock[80];
	char set_statement[80];
};

/* Build the tracking statements; returns how many, or -1 (reported). */
static int pg_apply_tracking(dbmigrate_conn *c, const struct pg_table *t,
			     const struct dbmigrate_row *record,
			     const char *unrecord_id, struct pg_apply_buf *b,
			     struct pg_apply_track *tr)
{
	static const char del[] = "DELETE FROM %s WHERE id = $1";
	static const char ins[] =
	    "INSERT INTO %s (id, name, batch, checksum, executed_at, "
	    "down_sql) VALUES ($1, $2, $3::integer, $4, "
	    "COALESCE($5::timestamptz, now()), $6)";
	size_t qlen = strlen(t->quoted);
	int n = 0;

	/* The delete first: repair rewrites a row by deleting it and
	   inserting it again in one apply(). */
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
		tr[n].nparams = 6;
		tr[n].params[0] = record->id;
		tr[n].params[1] = record->name;
		tr[n].params[2] = b->batch;
		tr[n].params[3] = record->checksum;
		tr[n].params[4] = record->executed_at;
		/* A host of ABI 1 has no down_sql in its row. */
		tr[n].params[5] =
		    c->host->abi_version >= 2 ? record->down_sql : NULL;
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

/* Set a limit: "SET [LOCAL] name = 'Nms'", or TO DEFAULT when 0. */
static void pg_apply_set(char *buf, size_t size, const char *name,
			 double seconds, int local)
{
	if (seconds > 0) {
		/* Rounded up: a tiny limit must not become 0, "no limit".
		   The server takes at most INT_MAX ms. */
		double exact = seconds * 1000;
		long long ms = exact < 2147483647.0 ? (long long)exact
						    : 2147483647LL;

		if ((double)ms < exact && ms < 2147483647LL)
			ms++;
		snprintf(buf, size, "SET %s%s = '%lldms'", local ? "LOCAL " : "",
			 name, ms);
	} else {
		snprintf(buf, size, "SET %s%s TO DEFAULT", local ? "LOCAL " : "",
			 name);
	}
}

/* Add a query without parameters to the run. */
static void pg_apply_add(struct pg_apply_run *r, const char *sql, size_t stmt,
			 int simple)
{
	struct pg_apply_q *q = &r->q[r->n++];

	q->sql = sql;
	q->nparams = 0;
	q->params = NULL;
	q->stmt = stmt;
	q->simple = simple;
}

/*
 * Lay out the queries of one migration in r (r->q sized for all of
 * them): inside a transaction a savepoint (when retries are on) and SET
 * LOCAL of the limits; outside one SET of the limits, and their RESET
 * after the tracking statements. The limits are sent only once
 * configure() has set one.
 */
static void pg_apply_layout(dbmigrate_conn *c, struct pg_apply_run *r,
			    const struct dbmigrate_stmt *stmts, size_t n,
			    struct pg_apply_track *tr, int ntr, int in_tx,
			    int simple)
{
	r->n = 0;
	if (in_tx && c->limits.lock_retries > 0)
		pg_apply_add(r, "SAVEPOINT " PG_APPLY_SAVEPOINT,
			     DBMIGRATE_NO_STATEMENT, 0);
	if (c->limits_used) {
		pg_apply_set(r->set_lock, sizeof r->set_lock, "lock_timeout",
			     c->limits.lock_timeout, in_tx);
		pg_apply_set(r->set_statement, sizeof r->set_statement,
			     "statement_timeout", c->limits.statement_timeout,
			     in_tx);
		pg_apply_add(r, r->set_lock, DBMIGRATE_NO_STATEMENT, 0);
		pg_apply_add(r, r->set_statement, DBMIGRATE_NO_STATEMENT, 0);
	}
	r->first = r->n;
	for (size_t i = 0; i < n; i++)
		pg_apply_add(r, stmts[i].sql, i, simple);
	for (int i = 0; i < ntr; i++) {
		struct pg_apply_q *q = &r->q[r->n++];

		q->sql = tr[i].sql;
		q->nparams = tr[i].nparams;
		q->params = tr[i].params;
		q->stmt = DBMIGRATE_NO_STATEMENT;
		q->simple = 0;
	}
	r->after = r->n;
	if (in_tx && c->limits.lock_retries > 0)
		pg_apply_add(r, "RELEASE SAVEPOINT " PG_APPLY_SAVEPOINT,
			     DBMIGRATE_NO_STATEMENT, 0);
	/* Outside a transaction the limits were set for the session. */
	if (!in_tx && c->limits_used) {
		pg_apply_add(r, "RESET lock_timeout", DBMIGRATE_NO_STATEMENT, 0);
		pg_apply_add(r, "RESET statement_timeout",
			     DBMIGRATE_NO_STATEMENT, 0);
	}
}

/* Send query q on its own (not in a pipeline) and collect its result. */
static PGresult *pg_apply_send_one(dbmigrate_conn *c, const struct pg_apply_q *q)
{
	return pg_exec_run(c, q->sql, q->nparams, q->params,
			   PG_EXEC_CANCELLABLE | (q->simple ? PG_EXEC_SIMPLE : 0));
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

/*
 * Queries q[0..n) in one round trip (see the top of the file). A server
 * error is not reported: *failed gets its result and *at its index, for
 * the caller to retry or report. Other failures are reported, with
 * *failed left NULL.
 */
static dbmigrate_code pg_apply_pipeline(dbmigrate_conn *c,
					const struct pg_apply_q *q, size_t n,
					PGresult **failed, size_t *at)
{
	const unsigned flags = PG_EXEC_CANCELLABLE;
	dbmigrate_code rc = DBMIGRATE_OK;
	size_t total = n;
	PGresult *res;

	c->cancel_sent = 0;
	if (!PQenterPipelineMode(c->pg))
		return pg_exec_fail(c, DBMIGRATE_EDATABASE, NULL,
				    DBMIGRATE_NO_STATEMENT,
				    "cannot enter pipeline mode");
	for (size_t i = 0; i < total; i++) {
		if (!PQsendQueryParams(c->pg, q[i].sql, q[i].nparams, NULL,
				       q[i].params, NULL, NULL, 0)) {
			rc = pg_exec_fail(c, DBMIGRATE_EMIGRATION, NULL,
					  q[i].stmt,
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
		if (rc == DBMIGRATE_OK && !pg_exec_ok(res)) {
			rc = DBMIGRATE_EMIGRATION;
			*failed = res;
			*at = i;
			res = NULL;
			if (*failed == NULL)
				rc = pg_exec_fail(c, DBMIGRATE_EMIGRATION, NULL,
						  q[i].stmt, NULL);
		}
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

/*
 * Queries q[from..n) one at a time (see the top of the file); failures
 * as pg_apply_pipeline() hands them back.
 */
static dbmigrate_code pg_apply_each(dbmigrate_conn *c,
				    const struct pg_apply_q *q, size_t from,
				    size_t n, PGresult **failed, size_t *at)
{
	PGresult *res;

	for (size_t i = from; i < n; i++) {
		if (q[i].stmt != DBMIGRATE_NO_STATEMENT &&
		    c->host->interrupted(c->host->ctx)) {
			struct dbmigrate_driver_error e = {
			    .code = DBMIGRATE_EINTERRUPTED,
			    .message = "interrupted before the statement ran",
			    .statement = q[i].stmt};

			c->host->error(c->host->ctx, &e);
			return e.code;
		}
		res = pg_apply_send_one(c, &q[i]);
		if (res == NULL)
			return pg_exec_fail(c, DBMIGRATE_EMIGRATION, NULL,
					    q[i].stmt, NULL);
		if (!pg_exec_ok(res)) {
			*failed = res;
			*at = i;
			return DBMIGRATE_EMIGRATION;
		}
		PQclear(res);
	}
	return DBMIGRATE_OK;
}

/* True when res says a lock was not available in time. */
static int pg_apply_lock_failure(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state != NULL && strcmp(state, PG_APPLY_LOCK_NOT_AVAILABLE) == 0;
}

/*
 * Wait ms milliseconds before retry number attempt (1-based), saying so
 * with a warning that quotes the statement. Returns nonzero when the
 * user interrupted the wait (reported).
 */
static int pg_apply_backoff(dbmigrate_conn *c, const PGresult *res,
			    const char *sql, unsigned attempt, long ms)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	size_t len = strcspn(sql, "\n");
	long waited = 0;

	pg_exec_log(c, DBMIGRATE_LOG_WARNING,
		    "%s [SQLSTATE 55P03] in \"%.*s%s\"; retry %u of %u in %.1f s",
		    msg != NULL ? msg : "lock not available",
		    (int)(len > 60 ? 60 : len), sql, len > 60 ? "..." : "",
		    attempt, c->limits.lock_retries, (double)ms / 1000);
	while (waited < ms) {
		struct timespec ts = {0, PG_APPLY_SLICE_MS * 1000000L};

		if (c->host->interrupted(c->host->ctx)) {
			pg_exec_error(c, DBMIGRATE_EINTERRUPTED, NULL, NULL,
				      "interrupted while waiting to retry "
				      "the migration");
			return 1;
		}
		nanosleep(&ts, NULL);
		waited += PG_APPLY_SLICE_MS;
	}
	return 0;
}

/* Report the failure res (of query q) and free it. */
static dbmigrate_code pg_apply_report(dbmigrate_conn *c, PGresult *res,
				      const struct pg_apply_q *q)
{
	dbmigrate_code rc = pg_exec_fail(c, DBMIGRATE_EMIGRATION, res, q->stmt,
					 NULL);

	PQclear(res);
	return rc;
}

/* Run the laid-out queries inside a transaction, retrying from the
   savepoint when a lock was not available. */
static dbmigrate_code pg_apply_in_tx(dbmigrate_conn *c,
				     const struct pg_apply_run *r,
				     int pipeline)
{
	long delay = PG_APPLY_BACKOFF_MS;

	for (unsigned attempt = 1;; attempt++) {
		PGresult *failed = NULL, *res;
		size_t at = 0;
		dbmigrate_code rc;

		(void)pipeline; /* unused without pipeline mode */
#ifdef LIBPQ_HAS_PIPELINING
		if (pipeline)
			rc = pg_apply_pipeline(c, r->q, r->n, &failed, &at);
		else
#endif
			rc = pg_apply_each(c, r->q, 0, r->n, &failed, &at);
		if (failed == NULL)
			return rc;
		if (!pg_apply_lock_failure(failed) ||
		    attempt > c->limits.lock_retries ||
		    c->host->interrupted(c->host->ctx))
			return pg_apply_report(c, failed, &r->q[at]);
		/* The savepoint was the first query: it exists. */
		res = pg_exec_run(c, "ROLLBACK TO SAVEPOINT " PG_APPLY_SAVEPOINT,
				  0, NULL, 0);
		if (!pg_exec_ok(res)) {
			PQclear(res);
			return pg_apply_report(c, failed, &r->q[at]);
		}
		PQclear(res);
		if (pg_apply_backoff(c, failed, r->q[at].sql, attempt, delay)) {
			PQclear(failed);
			return DBMIGRATE_EINTERRUPTED;
		}
		PQclear(failed);
		delay = delay * 2 < PG_APPLY_BACKOFF_MAX_MS ? delay * 2
							    : PG_APPLY_BACKOFF_MAX_MS;
	}
}

/* Run the laid-out queries outside a transaction: a statement that
   waited too long for a lock runs again alone; the limits are reset
   whatever happens. */
static dbmigrate_code pg_apply_outside(dbmigrate_conn *c,
				       const struct pg_apply_run *r)
{
	long delay = PG_APPLY_BACKOFF_MS;
	unsigned attempt = 1;
	size_t from = 0;
	dbmigrate_code rc;

	for (;;) {
		PGresult *failed = NULL;
		size_t at = 0;

		rc = pg_apply_each(c, r->q, from, r->after, &failed, &at);
		if (failed == NULL)
			break;
		if (!pg_apply_lock_failure(failed) ||
		    attempt > c->limits.lock_retries ||
		    c->host->interrupted(c->host->ctx)) {
			rc = pg_apply_report(c, failed, &r->q[at]);
			break;
		}
		if (pg_apply_backoff(c, failed, r->q[at].sql, attempt, delay)) {
			PQclear(failed);
			rc = DBMIGRATE_EINTERRUPTED;
			break;
		}
		PQclear(failed);
		from = at;
		attempt++;
		delay = delay * 2 < PG_APPLY_BACKOFF_MAX_MS ? delay * 2
							    : PG_APPLY_BACKOFF_MAX_MS;
	}
	/* Best effort, and not the migration's error: its own error (if
	   any) is already reported, and a broken link fails the next call. */
	for (size_t i = r->after; i < r->n; i++)
		PQclear(pg_exec_run(c, r->q[i].sql, 0, NULL, 0));
	return rc;
}

/* Run one migration: pipelined in a transaction, else one by one. */
dbmigrate_code pg_apply(dbmigrate_conn *c, const char *table,
			const struct dbmigrate_stmt *stmts, size_t n,
			const struct dbmigrate_row *record,
			const char *unrecord_id)
{
	struct pg_apply_track tr[PG_APPLY_TRACKING];
	struct pg_apply_buf buf;
	struct pg_apply_run run;
	struct pg_table t;
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);
	int in_tx = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
	int pipeline = in_tx;
	dbmigrate_code rc;
	int ntr;

	rc = pg_table_parse(c, table, &t);
	if (rc != DBMIGRATE_OK)
		return rc;
	ntr = pg_apply_tracking(c, &t, record, unrecord_id, &buf, tr);
	pg_table_free(&t);
	if (ntr < 0)
		return DBMIGRATE_ENOMEM;
	if (n + (size_t)ntr == 0) {
		rc = DBMIGRATE_OK;
		goto out;
	}
	for (size_t i = 0; pipeline && i < n; i++)
		if (pg_apply_is_copy(c, &stmts[i]))
			pipeline = 0;
#ifndef LIBPQ_HAS_PIPELINING
	pipeline = 0;
#endif
	run.q = calloc(n + (size_t)ntr + PG_APPLY_AROUND, sizeof *run.q);
	if (run.q == NULL) {
		rc = pg_exec_nomem(c);
		goto out;
	}
	/* Statements go over the simple protocol unless pipelined. */
	pg_apply_layout(c, &run, stmts, n, tr, ntr, in_tx, !pipeline);
	if (in_tx)
		rc = pg_apply_in_tx(c, &run, pipeline);
	else
		rc = pg_apply_outside(c, &run);
	free(run.q);
out:
	for (int i = 0; i < ntr; i++)
		free(tr[i].sql);
	return rc;
}

/*
 * Keep the limits for the migrations that follow. Nothing is sent now:
 * apply() sends them with each migration (see the top of the file).
 */
dbmigrate_code pg_apply_configure(dbmigrate_conn *c,
				  const struct dbmigrate_settings *s)
{
	struct dbmigrate_settings v = {.struct_size = sizeof v};

	/* A host's struct may be older (shorter) than ours. */
	if (s->struct_size >= offsetof(struct dbmigrate_settings, lock_retries) +
				  sizeof s->lock_retries)
		v = *s;
	if (!(v.lock_timeout >= 0) || !(v.statement_timeout >= 0))
		return pg_exec_error(c, DBMIGRATE_EUSAGE, NULL, NULL,
				     "invalid limits for the migrations' "
				     "statements (negative or not a number)");
	c->limits = v;
	if (v.lock_timeout > 0 || v.statement_timeout > 0)
		c->limits_used = 1;
	return DBMIGRATE_OK;
}
