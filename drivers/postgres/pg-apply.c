/*
 * pg-apply.c - running a migration: its statements and the statement
 * that records it in (or removes it from) the tracking table, under the
 * limits configure() set; or several small migrations of a transaction
 * together (apply_batch, ABI 3), their queries laid out one after the
 * other and sent the same way, so that they share query strings and
 * round trips. A failure names its migration as well as its statement.
 *
 * Inside a transaction the queries of a migration travel as one query
 * string over the simple protocol: one message and one round trip, the
 * way psql sends a file's statements and the cheapest for the server
 * too (a message per statement costs it measurably more; see bench/).
 * The tracking statement goes in the same string, its values quoted by
 * PQescapeLiteral(), and so do the SET LOCAL of the limits and the
 * SAVEPOINT that a retry rolls back to: neither costs a round trip. A
 * migration of many megabytes (a data load) is cut between statements
 * into query strings of about PG_APPLY_CHUNK bytes, which keeps the
 * copies small; one statement is never cut.
 *
 * The server answers each statement of a string with one result, up to
 * the first error, after which it skips the rest: counting the results
 * names the statement that failed. A syntax error fails the whole
 * string before anything runs, but it carries a position, and the
 * position decides which statement it is in.
 *
 * Outside a transaction each statement goes alone, which is what CREATE
 * INDEX CONCURRENTLY and friends need (several statements in one string
 * would run in an implicit transaction block). The limits are then SET
 * for the session before the statements and RESET after them.
 *
 * COPY statements also take the one-by-one path, in the transaction: a
 * COPY FROM STDIN would wait for data from the client, and the COPY is
 * refused cleanly on its own.
 *
 * On Citus (the server has citus.version set) a statement whose DDL
 * Citus sends to the shards as the client's own query text refuses to
 * share a query string with another statement: the workers answer
 * "cannot insert multiple commands into a prepared statement". Found by
 * testing on Citus 13.2 (tests/check_citus): ALTER TABLE (DROP COLUMN,
 * ALTER TYPE, SET/DROP NOT NULL and DEFAULT, RENAME, ADD CHECK, UNIQUE,
 * EXCLUDE or FOREIGN KEY, VALIDATE, ATTACH/DETACH PARTITION, ENABLE ROW
 * LEVEL SECURITY, OWNER TO, SET (...), REPLICA IDENTITY, two actions
 * at once), ALTER INDEX, CREATE [UNIQUE] INDEX, DROP INDEX, REINDEX and
 * CLUSTER, on distributed and reference tables alike. Those go as query
 * strings of their own, still inside the batch's transaction; the rest
 * (ADD COLUMN alone, DROP CONSTRAINT, TRUNCATE, DROP TABLE, COMMENT,
 * GRANT, CREATE TABLE/VIEW/TYPE/FUNCTION, create_distributed_table())
 * stays joined. Every ALTER TABLE goes alone, since its kind of table is
 * not known here. A plain server never pays for it: the lock's first
 * query says whether the server runs Citus (pg-lock.c); without a lock,
 * apply() asks once per session, and only when a migration holds such a
 * statement.
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

#include "../common/drvkit.h"

/* At most two tracking statements: a delete and an insert. */
#define PG_APPLY_TRACKING 2

/* At most this many statements around a migration's own: a savepoint,
   two limits (before); a release, or two resets (after). */
#define PG_APPLY_AROUND 5

/* Statements are joined into query strings of about this many bytes
   (more when one statement alone is longer). */
#define PG_APPLY_CHUNK ((size_t)1 << 20)

/* The savepoint a retried migration goes back to. */
#define PG_APPLY_SAVEPOINT "dbmigrate_retry"

/* The first wait before a retry, and the longest, in milliseconds. */
#define PG_APPLY_BACKOFF_MS 500
#define PG_APPLY_BACKOFF_MAX_MS 10000

/* How often a wait checks host->interrupted(), in milliseconds. */
#define PG_APPLY_SLICE_MS 50

/* The SQLSTATE of a lock not available (lock_timeout, NOWAIT). */
#define PG_APPLY_LOCK_NOT_AVAILABLE "55P03"

/* One query of a migration's run, whatever its origin. */
struct pg_apply_q {
	const char *sql; /* NUL-terminated */
	size_t len;
	size_t stmt;   /* index in apply()'s array, or DBMIGRATE_NO_STATEMENT */
	size_t offset; /* where it starts in the query string that carried it */
	size_t item;   /* apply_batch(): the migration it belongs to */
	int alone;     /* goes in a query string of its own (Citus) */
};

/* Why a tracking statement's text failed besides memory: PQescapeLiteral()
   refused the value (see PQerrorMessage). */
#define PG_APPLY_NOQUOTE 2

/* The queries of one migration (of several, for apply_batch(), one
   after the other): before, its own, tracking, after. */
struct pg_apply_run {
	struct pg_apply_q *q;
	size_t n;
	size_t after; /* the first query after the tracking statements */
	size_t item;  /* the migration being laid out */
	size_t stopped; /* the query a failure without a server error (an
			   interrupt, a lost connection) came at */
	char set_lock[80];
	char set_statement[80];
	struct drvkit_text text; /* the query string being sent */
};

/* A failed query: the server's result, which query, and how many
   characters came before it in the query string that carried it. */
struct pg_apply_failure {
	PGresult *res;
	size_t at;
	unsigned skip;
};

/* Append value to t as a quoted literal, or NULL when it is NULL. */
static void pg_apply_literal(dbmigrate_conn *c, struct drvkit_text *t,
			     const char *value)
{
	char *lit;

	if (value == NULL) {
		drvkit_text_puts(t, "NULL");
		return;
	}
	/* Quoted for this connection's encoding and
	   standard_conforming_strings. */
	if (t->failed)
		return;
	lit = PQescapeLiteral(c->pg, value, strlen(value));
	if (lit == NULL) {
		t->failed = PG_APPLY_NOQUOTE;
		return;
	}
	drvkit_text_puts(t, lit);
	PQfreemem(lit);
}

/*
 * Build the tracking statements into tr[] (the caller frees them) and
 * their number into *n. The values are quoted literals, so that the
 * statements join a query string like the others.
 */
static dbmigrate_code pg_apply_tracking(dbmigrate_conn *c,
					const struct pg_table *t,
					const struct dbmigrate_row *record,
					const char *unrecord_id, char **tr,
					int *n)
{
	struct drvkit_text d = {0}, i = {0};

	/* The delete first: repair rewrites a row by deleting it and
	   inserting it again in one apply(). */
	if (unrecord_id != NULL) {
		drvkit_text_puts(&d, "DELETE FROM ");
		drvkit_text_puts(&d, t->quoted);
		drvkit_text_puts(&d, " WHERE id = ");
		pg_apply_literal(c, &d, unrecord_id);
	}
	if (record != NULL) {
		char batch[32];

		drvkit_text_puts(&i, "INSERT INTO ");
		drvkit_text_puts(&i, t->quoted);
		drvkit_text_puts(&i, " (id, name, batch, checksum, executed_at, "
				      "down_sql) VALUES (");
		pg_apply_literal(c, &i, record->id);
		drvkit_text_puts(&i, ", ");
		pg_apply_literal(c, &i, record->name);
		snprintf(batch, sizeof batch, ", %d, ", record->batch);
		drvkit_text_puts(&i, batch);
		pg_apply_literal(c, &i, record->checksum);
		drvkit_text_puts(&i, ", ");
		if (record->executed_at != NULL) {
			pg_apply_literal(c, &i, record->executed_at);
			drvkit_text_puts(&i, "::timestamptz, ");
		} else {
			drvkit_text_puts(&i, "now(), ");
		}
		/* A host of ABI 1 has no down_sql in its row. */
		pg_apply_literal(c, &i, c->host->abi_version >= 2
					    ? record->down_sql
					    : NULL);
		drvkit_text_puts(&i, ")");
	}
	*n = 0;
	if (d.failed || i.failed) {
		free(d.s);
		free(i.s);
		if (d.failed == PG_APPLY_NOQUOTE || i.failed == PG_APPLY_NOQUOTE)
			return pg_exec_fail(c, DBMIGRATE_EDATABASE, NULL,
					    DBMIGRATE_NO_STATEMENT,
					    "cannot quote the tracking row");
		return pg_exec_nomem(c);
	}
	if (d.s != NULL)
		tr[(*n)++] = d.s;
	if (i.s != NULL)
		tr[(*n)++] = i.s;
	return DBMIGRATE_OK;
}

/* True when the statement is a COPY (the first word decides). */
static int pg_apply_is_copy(dbmigrate_conn *c, const struct dbmigrate_stmt *s)
{
	struct dbmigrate_word w[1];

	return c->host->words(DBMIGRATE_LEX_POSTGRES, s->sql, s->len, w, 1) == 1 &&
	       w[0].len == 4 &&
	       strncasecmp(w[0].s, "copy", 4) == 0;
}

/*
 * True when the statement is one that Citus refuses in a query string
 * with others (see the top of the file): ALTER TABLE, ALTER INDEX,
 * CREATE [UNIQUE] INDEX, DROP INDEX, REINDEX, CLUSTER.
 */
static int pg_apply_citus_alone(dbmigrate_conn *c,
				const struct dbmigrate_stmt *s)
{
	struct dbmigrate_word w[3];
	size_t n = c->host->words(DBMIGRATE_LEX_POSTGRES, s->sql, s->len, w, 3);

#define PG_APPLY_IS(i, kw)                                              \
	(n > (i) && w[i].len == sizeof kw - 1 &&                        \
	 strncasecmp(w[i].s, kw, sizeof kw - 1) == 0)
	if (PG_APPLY_IS(0, "REINDEX") || PG_APPLY_IS(0, "CLUSTER"))
		return 1;
	if (PG_APPLY_IS(0, "ALTER"))
		return PG_APPLY_IS(1, "TABLE") || PG_APPLY_IS(1, "INDEX");
	if (PG_APPLY_IS(0, "DROP"))
		return PG_APPLY_IS(1, "INDEX");
	if (PG_APPLY_IS(0, "CREATE"))
		return PG_APPLY_IS(1, "INDEX") ||
		       (PG_APPLY_IS(1, "UNIQUE") && PG_APPLY_IS(2, "INDEX"));
#undef PG_APPLY_IS
	return 0;
}

/* Keep what the server said about Citus ("t", "f"; see pg.h). */
void pg_apply_set_citus(dbmigrate_conn *c, const char *value)
{
	if (value != NULL && (value[0] == 't' || value[0] == 'f'))
		c->citus = value[0] == 't';
}

/*
 * Whether statements Citus wants alone must go alone: 1 on Citus, 0 on
 * a plain server, -1 when asking failed (reported). Asked at most once
 * per session, and only when stmts hold such a statement.
 */
static int pg_apply_split_for_citus(dbmigrate_conn *c,
				    const struct dbmigrate_stmt *stmts,
				    size_t n)
{
	PGresult *res;
	size_t i;

	if (c->citus == 0)
		return 0;
	for (i = 0; i < n && !pg_apply_citus_alone(c, &stmts[i]); i++)
		;
	if (i == n)
		return 0;
	if (c->citus > 0)
		return 1;
	res = pg_exec_run(c, "SELECT " PG_CITUS_SQL, 0, NULL, 0);
	if (!pg_exec_ok(res) || PQntuples(res) != 1) {
		pg_exec_fail(c, DBMIGRATE_EDATABASE, res, DBMIGRATE_NO_STATEMENT,
			     "cannot ask whether the server runs Citus");
		PQclear(res);
		return -1;
	}
	pg_apply_set_citus(c, PQgetvalue(res, 0, 0));
	PQclear(res);
	return c->citus > 0;
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

/* Add a query to the run. */
static void pg_apply_add(struct pg_apply_run *r, const char *sql, size_t len,
			 size_t stmt)
{
	struct pg_apply_q *q = &r->q[r->n++];

	q->sql = sql;
	q->len = len;
	q->stmt = stmt;
	q->offset = 0;
	q->item = r->item;
	q->alone = 0;
}

/*
 * Lay out the queries of one migration in r after those already there
 * (r->q sized for all of them): inside a transaction a savepoint (when
 * retries are on) and SET LOCAL of the limits; outside one SET of the
 * limits, and their RESET after the tracking statements. The limits are
 * sent only once configure() has set one.
 */
static void pg_apply_layout(dbmigrate_conn *c, struct pg_apply_run *r,
			    const struct dbmigrate_stmt *stmts, size_t n,
			    char **tr, int ntr, int in_tx, int citus)
{
	static const char savepoint[] = "SAVEPOINT " PG_APPLY_SAVEPOINT;
	static const char release[] = "RELEASE SAVEPOINT " PG_APPLY_SAVEPOINT;
	const size_t none = DBMIGRATE_NO_STATEMENT;

	if (in_tx && c->limits.lock_retries > 0)
		pg_apply_add(r, savepoint, sizeof savepoint - 1, none);
	if (c->limits_used) {
		pg_apply_set(r->set_lock, sizeof r->set_lock, "lock_timeout",
			     c->limits.lock_timeout, in_tx);
		pg_apply_set(r->set_statement, sizeof r->set_statement,
			     "statement_timeout", c->limits.statement_timeout,
			     in_tx);
		pg_apply_add(r, r->set_lock, strlen(r->set_lock), none);
		pg_apply_add(r, r->set_statement, strlen(r->set_statement),
			     none);
	}
	for (size_t i = 0; i < n; i++) {
		pg_apply_add(r, stmts[i].sql, stmts[i].len, i);
		if (citus)
			r->q[r->n - 1].alone = pg_apply_citus_alone(c, &stmts[i]);
	}
	for (int i = 0; i < ntr; i++)
		pg_apply_add(r, tr[i], strlen(tr[i]), none);
	r->after = r->n;
	if (in_tx && c->limits.lock_retries > 0)
		pg_apply_add(r, release, sizeof release - 1, none);
	/* Outside a transaction the limits were set for the session. */
	if (!in_tx && c->limits_used) {
		pg_apply_add(r, "RESET lock_timeout", 18, none);
		pg_apply_add(r, "RESET statement_timeout", 23, none);
	}
}

/* Report an interrupt before statement stmt ran; DBMIGRATE_OK when the
   user did not interrupt. */
static dbmigrate_code pg_apply_interrupted(dbmigrate_conn *c, size_t stmt)
{
	struct dbmigrate_driver_error e = {
	    .code = DBMIGRATE_EINTERRUPTED,
	    .message = "interrupted before the statement ran",
	    .statement = stmt};

	if (!c->host->interrupted(c->host->ctx))
		return DBMIGRATE_OK;
	c->host->error(c->host->ctx, &e);
	return e.code;
}

/* True when the last line of q holds "--": a semicolon put right after
   it could be inside a comment. */
static int pg_apply_ends_in_comment(const struct pg_apply_q *q)
{
	size_t i = q->len;

	while (i > 0 && q->sql[i - 1] != '\n') {
		if (i >= 2 && q->sql[i - 1] == '-' && q->sql[i - 2] == '-')
			return 1;
		i--;
	}
	return 0;
}

/* Characters (UTF-8) in s[0..len). */
static unsigned long pg_apply_chars(const char *s, size_t len)
{
	unsigned long n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/*
 * A failure in the query string that carried q[from..to): with a
 * position, the query it falls in (a syntax error fails the whole
 * string before anything runs), and the characters before that query.
 */
static void pg_apply_place(const struct pg_apply_run *r, const char *sql,
			   size_t from, size_t to, struct pg_apply_failure *f)
{
	const char *pos = PQresultErrorField(f->res, PG_DIAG_STATEMENT_POSITION);
	unsigned long p, before = 0, chars;

	if (pos == NULL || (p = strtoul(pos, NULL, 10)) == 0)
		return;
	for (size_t k = from; k < to; k++) {
		size_t next = k + 1 < to ? r->q[k + 1].offset : strlen(sql);

		chars = pg_apply_chars(sql + r->q[k].offset, next - r->q[k].offset);
		if (p <= before + chars || k + 1 == to) {
			f->at = k;
			f->skip = before > (unsigned)-1 ? 0 : (unsigned)before;
			return;
		}
		before += chars;
	}
}

/*
 * Send the queries from *next on as one query string of about
 * PG_APPLY_CHUNK bytes (at least one query), and read a result for each;
 * *next moves past them. A server error comes back in *f; other
 * failures are reported.
 */
static dbmigrate_code pg_apply_chunk(dbmigrate_conn *c, struct pg_apply_run *r,
				     size_t *next, struct pg_apply_failure *f)
{
	const unsigned flags = PG_EXEC_CANCELLABLE;
	size_t from = *next, to = from, done = 0;
	const char *sql;
	PGresult *res;

	if (from + 1 == r->n || r->q[from].len >= PG_APPLY_CHUNK ||
	    r->q[from].alone || r->q[from + 1].alone) {
		/* One query alone goes as it is: no copy. */
		sql = r->q[from].sql;
		r->q[from].offset = 0;
		to = from + 1;
	} else {
		r->text.len = 0;
		while (to < r->n && (to == from || (r->text.len < PG_APPLY_CHUNK &&
						    !r->q[to].alone))) {
			struct pg_apply_q *q = &r->q[to++];

			q->offset = r->text.len;
			drvkit_text_add(&r->text, q->sql, q->len);
			drvkit_text_puts(&r->text,
					  pg_apply_ends_in_comment(q) ? "\n;\n" : ";\n");
		}
		if (r->text.failed)
			return pg_exec_nomem(c);
		sql = r->text.s;
	}
	*next = to;
	c->cancel_sent = 0;
	r->stopped = from;
	if (!PQsendQuery(c->pg, sql) || pg_exec_flush(c, flags) < 0)
		return pg_exec_fail(c, DBMIGRATE_EMIGRATION, NULL,
				    r->q[from].stmt, "cannot send the migration");
	/* One result per query up to the first failure, then none. */
	while ((res = pg_exec_next(c, flags)) != NULL) {
		if (f->res == NULL && !pg_exec_ok(res)) {
			f->res = res;
			f->at = from + (done < to - from ? done : to - from - 1);
			f->skip = 0;
		} else {
			done += f->res == NULL;
			PQclear(res);
		}
		if (PQstatus(c->pg) == CONNECTION_BAD)
			break;
	}
	if (f->res != NULL) {
		pg_apply_place(r, sql, from, to, f);
		/* Offsets count in the string only when it was built. */
		if (to - from == 1)
			f->skip = 0;
		return DBMIGRATE_EMIGRATION;
	}
	if (done < to - from) {
		r->stopped = from + done;
		return pg_exec_fail(c, DBMIGRATE_EMIGRATION, NULL,
				    r->q[from + done].stmt, NULL);
	}
	return DBMIGRATE_OK;
}

/* The queries of the run from start on as query strings (see the top
   of the file). */
static dbmigrate_code pg_apply_strings(dbmigrate_conn *c,
				       struct pg_apply_run *r, size_t start,
				       struct pg_apply_failure *f)
{
	size_t next = start;
	dbmigrate_code rc = DBMIGRATE_OK;

	while (rc == DBMIGRATE_OK && f->res == NULL && next < r->n) {
		r->stopped = next;
		rc = pg_apply_interrupted(c, r->q[next].stmt);
		if (rc == DBMIGRATE_OK)
			rc = pg_apply_chunk(c, r, &next, f);
	}
	return rc;
}

/*
 * Queries q[from..n) one at a time, each as its own query string;
 * failures as pg_apply_chunk() hands them back.
 */
static dbmigrate_code pg_apply_each(dbmigrate_conn *c,
				    const struct pg_apply_q *q, size_t from,
				    size_t n, struct pg_apply_failure *f,
				    size_t *stopped)
{
	PGresult *res;
	dbmigrate_code rc;

	for (size_t i = from; i < n; i++) {
		*stopped = i;
		if (q[i].stmt != DBMIGRATE_NO_STATEMENT &&
		    (rc = pg_apply_interrupted(c, q[i].stmt)) != DBMIGRATE_OK)
			return rc;
		res = pg_exec_run(c, q[i].sql, 0, NULL,
				  PG_EXEC_CANCELLABLE | PG_EXEC_SIMPLE);
		if (res == NULL)
			return pg_exec_fail(c, DBMIGRATE_EMIGRATION, NULL,
					    q[i].stmt, NULL);
		if (!pg_exec_ok(res)) {
			f->res = res;
			f->at = i;
			f->skip = 0;
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

/* Report failure f (of a query of r) and free its result. */
static dbmigrate_code pg_apply_report(dbmigrate_conn *c,
				      const struct pg_apply_run *r,
				      struct pg_apply_failure *f)
{
	dbmigrate_code rc = pg_exec_fail_in(c, DBMIGRATE_EMIGRATION, f->res,
					    r->q[f->at].stmt, f->skip, NULL);

	PQclear(f->res);
	f->res = NULL;
	return rc;
}

/*
 * Run the laid-out queries inside a transaction: as query strings, or
 * one_by_one. first[k] is the first query of migration k (one migration:
 * first[0] = 0). When a lock was not available, roll back to the
 * savepoint of the migration that waited (those before it stay done) and
 * start again from it, up to lock_retries times for each migration. On
 * failure *failed is the migration that failed.
 */
static dbmigrate_code pg_apply_in_tx(dbmigrate_conn *c, struct pg_apply_run *r,
				     const size_t *first, int one_by_one,
				     size_t *failed)
{
	long delay = PG_APPLY_BACKOFF_MS;
	unsigned attempt = 0;
	size_t start = 0, waiting = (size_t)-1;

	for (;;) {
		struct pg_apply_failure f = {0};
		PGresult *res;
		dbmigrate_code rc;
		size_t k;

		if (one_by_one)
			rc = pg_apply_each(c, r->q, start, r->n, &f, &r->stopped);
		else
			rc = pg_apply_strings(c, r, start, &f);
		if (f.res == NULL) {
			if (rc != DBMIGRATE_OK && r->stopped < r->n)
				*failed = r->q[r->stopped].item;
			return rc;
		}
		k = *failed = r->q[f.at].item;
		if (k != waiting) {
			waiting = k;
			attempt = 0;
			delay = PG_APPLY_BACKOFF_MS;
		}
		attempt++;
		if (!pg_apply_lock_failure(f.res) ||
		    attempt > c->limits.lock_retries ||
		    c->host->interrupted(c->host->ctx))
			return pg_apply_report(c, r, &f);
		/* The savepoint was the migration's first query: it exists. */
		res = pg_exec_run(c, "ROLLBACK TO SAVEPOINT " PG_APPLY_SAVEPOINT,
				  0, NULL, 0);
		if (!pg_exec_ok(res)) {
			PQclear(res);
			return pg_apply_report(c, r, &f);
		}
		PQclear(res);
		if (pg_apply_backoff(c, f.res, r->q[f.at].sql, attempt, delay)) {
			PQclear(f.res);
			return DBMIGRATE_EINTERRUPTED;
		}
		PQclear(f.res);
		delay = delay * 2 < PG_APPLY_BACKOFF_MAX_MS ? delay * 2
							    : PG_APPLY_BACKOFF_MAX_MS;
		start = first[k];
	}
}

/* Run the laid-out queries outside a transaction: a statement that
   waited too long for a lock runs again alone; the limits are reset
   whatever happens. */
static dbmigrate_code pg_apply_outside(dbmigrate_conn *c,
				       struct pg_apply_run *r)
{
	long delay = PG_APPLY_BACKOFF_MS;
	unsigned attempt = 1;
	size_t from = 0;
	dbmigrate_code rc;

	for (;;) {
		struct pg_apply_failure f = {0};

		rc = pg_apply_each(c, r->q, from, r->after, &f, &r->stopped);
		if (f.res == NULL)
			break;
		if (!pg_apply_lock_failure(f.res) ||
		    attempt > c->limits.lock_retries ||
		    c->host->interrupted(c->host->ctx)) {
			rc = pg_apply_report(c, r, &f);
			break;
		}
		if (pg_apply_backoff(c, f.res, r->q[f.at].sql, attempt, delay)) {
			PQclear(f.res);
			rc = DBMIGRATE_EINTERRUPTED;
			break;
		}
		PQclear(f.res);
		from = f.at;
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

/* Run one migration: as query strings in a transaction, else one by one. */
dbmigrate_code pg_apply(dbmigrate_conn *c, const char *table,
			const struct dbmigrate_stmt *stmts, size_t n,
			const struct dbmigrate_row *record,
			const char *unrecord_id)
{
	char *tr[PG_APPLY_TRACKING];
	struct pg_apply_run run = {0};
	struct pg_table t;
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);
	int in_tx = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
	int one_by_one = !in_tx, citus = 0;
	dbmigrate_code rc;
	int ntr;

	rc = pg_table_parse(c, table, &t);
	if (rc != DBMIGRATE_OK)
		return rc;
	rc = pg_apply_tracking(c, &t, record, unrecord_id, tr, &ntr);
	pg_table_free(&t);
	if (rc != DBMIGRATE_OK)
		return rc;
	if (n + (size_t)ntr == 0) {
		rc = DBMIGRATE_OK;
		goto out;
	}
	for (size_t i = 0; !one_by_one && i < n; i++)
		if (pg_apply_is_copy(c, &stmts[i]))
			one_by_one = 1;
	if (!one_by_one && (citus = pg_apply_split_for_citus(c, stmts, n)) < 0) {
		rc = DBMIGRATE_EDATABASE;
		goto out;
	}
	run.q = calloc(n + (size_t)ntr + PG_APPLY_AROUND, sizeof *run.q);
	if (run.q == NULL) {
		rc = pg_exec_nomem(c);
		goto out;
	}
	pg_apply_layout(c, &run, stmts, n, tr, ntr, in_tx, citus);
	if (in_tx) {
		const size_t first[1] = {0};
		size_t failed = 0;

		rc = pg_apply_in_tx(c, &run, first, one_by_one, &failed);
	} else {
		rc = pg_apply_outside(c, &run);
	}
	free(run.q);
	free(run.text.s);
out:
	for (int i = 0; i < ntr; i++)
		free(tr[i]);
	return rc;
}

/*
 * Run several migrations of one transaction (apply_batch, driver ABI 3):
 * their queries laid out one after the other in one run, so that many
 * small migrations share a query string and a round trip; a COPY in any
 * of them sends every query on its own, as apply() does for one.
 * Outside a transaction (the host never asks) each goes through apply().
 */
dbmigrate_code pg_apply_batch(dbmigrate_conn *c, const char *table,
			      const struct dbmigrate_batch_item *items,
			      size_t n, size_t *failed)
{
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);
	struct pg_apply_run run = {0};
	size_t total = 0, *first = NULL;
	char **tr = NULL;
	int *ntr = NULL, one_by_one = 0, citus = 0;
	struct pg_table t;
	dbmigrate_code rc;

	*failed = 0;
	if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR) {
		for (size_t k = 0; k < n; k++) {
			rc = pg_apply(c, table, items[k].stmts, items[k].n,
				      items[k].record, items[k].unrecord_id);
			if (rc != DBMIGRATE_OK) {
				*failed = k;
				return rc;
			}
		}
		return DBMIGRATE_OK;
	}
	rc = pg_table_parse(c, table, &t);
	if (rc != DBMIGRATE_OK)
		return rc;
	tr = calloc(n * PG_APPLY_TRACKING + 1, sizeof *tr);
	ntr = calloc(n + 1, sizeof *ntr);
	first = calloc(n + 1, sizeof *first);
	if (tr == NULL || ntr == NULL || first == NULL) {
		rc = pg_exec_nomem(c);
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		rc = pg_apply_tracking(c, &t, items[k].record,
				       items[k].unrecord_id,
				       tr + k * PG_APPLY_TRACKING, &ntr[k]);
		if (rc != DBMIGRATE_OK) {
			*failed = k;
			goto out;
		}
		total += items[k].n + (size_t)ntr[k] + PG_APPLY_AROUND;
		for (size_t i = 0; !one_by_one && i < items[k].n; i++)
			one_by_one = pg_apply_is_copy(c, &items[k].stmts[i]);
	}
	for (size_t k = 0; !one_by_one && !citus && k < n; k++) {
		citus = pg_apply_split_for_citus(c, items[k].stmts, items[k].n);
		if (citus < 0) {
			*failed = k;
			rc = DBMIGRATE_EDATABASE;
			goto out;
		}
	}
	run.q = calloc(total + 1, sizeof *run.q);
	if (run.q == NULL) {
		rc = pg_exec_nomem(c);
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		first[k] = run.n;
		run.item = k;
		pg_apply_layout(c, &run, items[k].stmts, items[k].n,
				tr + k * PG_APPLY_TRACKING, ntr[k], 1, citus);
	}
	first[n] = run.n;
	if (run.n > 0)
		rc = pg_apply_in_tx(c, &run, first, one_by_one, failed);
out:
	if (tr != NULL)
		for (size_t k = 0; k < n * PG_APPLY_TRACKING; k++)
			free(tr[k]);
	free(tr);
	free(ntr);
	free(first);
	free(run.q);
	free(run.text.s);
	pg_table_free(&t);
	return rc;
}

/*
 * Keep the limits for the migrations that follow. Nothing is sent now:
 * apply() sends them with each migration (see the top of the file).
 */
dbmigrate_code pg_apply_configure(dbmigrate_conn *c,
				  const struct dbmigrate_settings *s)
{
	if (drvkit_settings(s, &c->limits) != 0)
		return pg_exec_error(c, DBMIGRATE_EUSAGE, NULL, NULL,
				     "invalid limits for the migrations' "
				     "statements (negative or not a number)");
	if (c->limits.lock_timeout > 0 || c->limits.statement_timeout > 0)
		c->limits_used = 1;
	return DBMIGRATE_OK;
}
