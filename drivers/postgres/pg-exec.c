/*
 * pg-exec.c - running statements on the connection and turning server
 * errors into driver errors.
 *
 * The connection is in nonblocking mode and every wait is a poll() of at
 * most 100 ms, so a user's interrupt is seen while a statement runs: a
 * cancellable statement then gets a cancel request from here too, which
 * covers the moment the signal handler's cancel() reached the server
 * between two statements and cancelled nothing.
 */
#include "pg.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/drvkit.h"

#define PG_EXEC_POLL_MS 100

/* What the copy refusal says; the COPY result itself carries no text. */
static const char pg_exec_copy_message[] =
    "COPY to or from the client is not supported in migrations";

/*
 * Wait until the socket is ready for events or 100 ms pass; then, for a
 * cancellable statement the user interrupted, send one cancel request
 * (one per query string: each request is a new connection).
 */
static void pg_exec_wait(dbmigrate_conn *c, short events, unsigned flags)
{
	struct pollfd p = {.fd = PQsocket(c->pg), .events = events};

	if (p.fd < 0)
		return;
	/* EINTR (the user's signal) simply ends this wait early. */
	(void)poll(&p, 1, PG_EXEC_POLL_MS);
	if ((flags & PG_EXEC_CANCELLABLE) && !c->cancel_sent &&
	    c->host->interrupted(c->host->ctx)) {
		pg_exec_cancel(c);
		c->cancel_sent = 1;
	}
}

/* Flush the output buffer, reading meanwhile (see pg.h). */
int pg_exec_flush(dbmigrate_conn *c, unsigned flags)
{
	int r;

	/* Read while writing: the server may be waiting for us to read. */
	while ((r = PQflush(c->pg)) == 1) {
		pg_exec_wait(c, POLLIN | POLLOUT, flags);
		if (!PQconsumeInput(c->pg))
			return -1;
	}
	return r;
}

/* Read and drop the rows of a COPY TO STDOUT. */
static void pg_exec_drain_copy(dbmigrate_conn *c, unsigned flags)
{
	char *buf;
	int n;

	while ((n = PQgetCopyData(c->pg, &buf, 1)) >= 0) {
		if (n > 0) {
			PQfreemem(buf);
			continue;
		}
		pg_exec_wait(c, POLLIN, flags);
		if (!PQconsumeInput(c->pg))
			return;
	}
}

/* End a COPY FROM STDIN with a failure, so the server stops waiting. */
static void pg_exec_refuse_copy(dbmigrate_conn *c, unsigned flags)
{
	int r;

	while ((r = PQputCopyEnd(c->pg, pg_exec_copy_message)) == 0)
		pg_exec_wait(c, POLLOUT, flags);
	if (r > 0)
		(void)pg_exec_flush(c, flags);
}

/* True when a result ends a statement badly. */
static int pg_exec_bad(ExecStatusType s)
{
	switch (s) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
	case PGRES_SINGLE_TUPLE:
		return 0;
	default:
		return 1;
	}
}

/* The next result of the query in flight (see pg.h). */
PGresult *pg_exec_next(dbmigrate_conn *c, unsigned flags)
{
	PGresult *res;

	while (PQisBusy(c->pg)) {
		pg_exec_wait(c, POLLIN, flags);
		/* On failure PQgetResult() below reports the broken link. */
		if (!PQconsumeInput(c->pg))
			break;
	}
	res = PQgetResult(c->pg);
	if (res == NULL)
		return NULL;
	switch (PQresultStatus(res)) {
	case PGRES_COPY_OUT:
		pg_exec_drain_copy(c, flags);
		break;
	case PGRES_COPY_IN:
	case PGRES_COPY_BOTH:
		pg_exec_refuse_copy(c, flags);
		break;
	default:
		break;
	}
	return res;
}

/* Read the results of one query, keeping the deciding one. */
PGresult *pg_exec_collect(dbmigrate_conn *c, unsigned flags)
{
	PGresult *keep = NULL;
	PGresult *res;

	while ((res = pg_exec_next(c, flags)) != NULL) {
		if (keep != NULL && pg_exec_bad(PQresultStatus(keep))) {
			PQclear(res); /* the first failure decides */
		} else {
			PQclear(keep);
			keep = res;
		}
		/*
		 * A broken connection keeps answering with errors: stop at
		 * the first instead of looping.
		 */
		if (PQstatus(c->pg) == CONNECTION_BAD)
			break;
	}
	return keep;
}

/* Send one statement and collect its results. */
PGresult *pg_exec_run(dbmigrate_conn *c, const char *sql, int nparams,
		      const char *const *params, unsigned flags)
{
	int sent;

	c->cancel_sent = 0;
	if (flags & PG_EXEC_SIMPLE)
		sent = PQsendQuery(c->pg, sql);
	else
		sent = PQsendQueryParams(c->pg, sql, nparams, NULL, params,
					 NULL, NULL, 0);
	if (!sent || pg_exec_flush(c, flags) < 0)
		return NULL;
	return pg_exec_collect(c, flags);
}

/* True for a successful result. */
int pg_exec_ok(const PGresult *res)
{
	return res != NULL && !pg_exec_bad(PQresultStatus(res));
}

/* Copy s without trailing white space; NULL when s is NULL or empty. */
static char *pg_exec_trim(const char *s)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' ||
			 s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0 || (d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* The message of a libpq-made error: its text after any "ERROR:  ". */
static char *pg_exec_client_message(const char *text)
{
	const char *p = text;

	if (p == NULL || *p == '\0')
		return NULL;
	if (strncmp(p, "ERROR:", 6) == 0 || strncmp(p, "FATAL:", 6) == 0)
		for (p += 6; *p == ' '; p++)
			;
	return pg_exec_trim(p);
}

/*
 * A hint of ours for a server error that comes without one, when its
 * SQLSTATE has a known way out (hint is the buffer to write it to), or
 * NULL. These are PostgreSQL's facts, so they live here, not in the
 * core.
 */
static const char *pg_exec_hint(const dbmigrate_conn *c, const char *state,
				char *hint, size_t size)
{
	if (strcmp(state, "53200") == 0) {
		/* The lock table is shared, max_locks_per_transaction x
		   (max_connections + max_prepared_transactions) slots: one
		   transaction creating thousands of tables runs out. */
		return "The batch holds more locks than one transaction may "
		       "(each table, index and sequence a migration creates or "
		       "alters stays locked until the batch commits). Apply it "
		       "in smaller batches with `dbmigrate up --step N` (e.g. "
		       "--step 500), or raise max_locks_per_transaction in "
		       "postgresql.conf and restart the server.";
	}
	if (strcmp(state, "55P04") == 0) {
		/* ALTER TYPE ... ADD VALUE inside a transaction block: the
		   new value is unusable until it commits (12 and later). */
		return "An enum value added by ALTER TYPE ... ADD VALUE cannot "
		       "be used in the transaction that added it. Mark the "
		       "migration that adds it transaction:false (it then runs "
		       "and commits on its own), or apply the migrations that "
		       "use the value in a later batch (dbmigrate up --step N).";
	}
	if (strcmp(state, "57014") == 0) {
		if (c->limits_used && c->limits.statement_timeout > 0) {
			snprintf(hint, size,
				 "The statement ran longer than the statement "
				 "timeout of %g s set for this migration "
				 "(--statement-timeout, DBMIGRATE_STATEMENT_TIMEOUT "
				 "or a `-- dbmigrate:statement-timeout` line). Make "
				 "the migration cheaper (split it, build indexes "
				 "CONCURRENTLY), or give it a longer limit with a "
				 "line `-- dbmigrate:statement-timeout 10min` in "
				 "its SQL.",
				 c->limits.statement_timeout);
			return hint;
		}
		return "The server cancelled the statement: its own "
		       "statement_timeout (for the database or role), or another "
		       "session, stopped it. Set a limit for this migration with "
		       "a line `-- dbmigrate:statement-timeout 10min` in its SQL.";
	}
	if (strcmp(state, "55P03") == 0) {
		unsigned tries = c->limits_used ? c->limits.lock_retries + 1 : 1;

		snprintf(hint, size,
			 "Another session held a lock this migration needed for "
			 "longer than the lock timeout%s, %u time%s in a row. Find "
			 "the session holding it (pg_stat_activity, pg_locks) and "
			 "let it finish, then run dbmigrate again; or wait longer "
			 "with --sql-lock-timeout or more --lock-retries.",
			 c->limits_used && c->limits.lock_timeout > 0
				 ? ""
				 : " of the server",
			 tries, tries == 1 ? "" : "s");
		return hint;
	}
	return NULL;
}

/* Report the server error res carries (see pg.h). */
dbmigrate_code pg_exec_fail(dbmigrate_conn *c, dbmigrate_code code,
			    const PGresult *res, size_t statement,
			    const char *what)
{
	return pg_exec_fail_in(c, code, res, statement, 0, what);
}

/* Report the server error of a statement inside a longer query string
   (see pg.h). */
dbmigrate_code pg_exec_fail_in(dbmigrate_conn *c, dbmigrate_code code,
			       const PGresult *res, size_t statement,
			       unsigned skip, const char *what)
{
	struct dbmigrate_driver_error e = {.code = code,
					   .statement = statement};
	const char *primary = NULL;
	const char *pos;
	char *owned = NULL;
	char *full = NULL;
	char hint[1024];

	if (res != NULL && (PQresultStatus(res) == PGRES_COPY_IN ||
			    PQresultStatus(res) == PGRES_COPY_OUT ||
			    PQresultStatus(res) == PGRES_COPY_BOTH)) {
		primary = pg_exec_copy_message;
		e.detail = "Each statement of a migration runs on the server, "
			   "with no client to send or receive COPY data.";
		e.hint = "Load the data with INSERT statements, or COPY from "
			 "a file the server can read.";
	} else if (res != NULL) {
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		e.detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		e.hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
		e.sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
		if (pos != NULL) {
			unsigned long p = strtoul(pos, NULL, 10);

			/* A position before the statement is no position
			   in it. */
			e.position = p > skip && p - skip <= UINT_MAX
					 ? (unsigned)(p - skip)
					 : 0;
		}
		if (primary == NULL)
			primary = owned =
			    pg_exec_client_message(PQresultErrorMessage(res));
	}
	if (primary == NULL)
		primary = owned = pg_exec_client_message(PQerrorMessage(c->pg));
	if (primary == NULL)
		primary = "the server sent an unexpected response";
	if (e.sqlstate != NULL && strcmp(e.sqlstate, "57014") == 0 &&
	    c->host->interrupted(c->host->ctx))
		e.code = DBMIGRATE_EINTERRUPTED;
	else if (e.hint == NULL && e.sqlstate != NULL)
		e.hint = pg_exec_hint(c, e.sqlstate, hint, sizeof hint);
	else if (e.sqlstate != NULL && strcmp(e.sqlstate, "55P04") == 0) {
		/* The server says what (commit first), we say how. */
		char ours[512];
		const char *how = pg_exec_hint(c, e.sqlstate, ours, sizeof ours);

		snprintf(hint, sizeof hint, "%s %s", e.hint, how);
		e.hint = hint;
	}
	if (what != NULL) {
		size_t n = strlen(what) + strlen(primary) + 3;

		if ((full = malloc(n)) != NULL)
			snprintf(full, n, "%s: %s", what, primary);
	}
	e.message = full != NULL ? full : primary;
	c->host->error(c->host->ctx, &e);
	free(full);
	free(owned);
	return e.code;
}

/* Ask the server to cancel what runs on c; async-signal-safe. */
void pg_exec_cancel(dbmigrate_conn *c)
{
	char errbuf[256]; /* on the stack: PQcancel is then signal-safe */
	int saved = errno;

	if (c != NULL && c->cancel != NULL)
		(void)PQcancel(c->cancel, errbuf, sizeof errbuf);
	errno = saved;
}

