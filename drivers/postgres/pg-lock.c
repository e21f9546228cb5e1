/*
 * pg-lock.c - the runner lock: a session-level advisory lock keyed on
 * the database, the schema and the tracking table, so that runners on
 * different tracking tables do not exclude each other.
 *
 * It is taken by polling pg_try_advisory_lock() with backoff (50 ms,
 * doubling to 1 s). Never pg_advisory_lock(): a blocked waiter holds a
 * snapshot that a CREATE INDEX CONCURRENTLY in the holder waits for, so
 * both would wait forever. Never a transaction-scoped lock: migrations
 * that run outside a transaction must stay covered.
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/drvkit.h"

#define PG_LOCK_FIRST_SLEEP 0.05
#define PG_LOCK_MAX_SLEEP 1.0
#define PG_LOCK_SLICE 0.05 /* how often interrupted() is asked */

/*
 * The key, computed by the server: the first 64 bits of the MD5 of
 * "database.schema.table", where an unqualified table belongs to
 * current_schema(), the schema it would be created in.
 */
#define PG_LOCK_KEY_EXPR                                                \
	"('x' || substr(md5(current_database() || '.' || "              \
	"coalesce($1, current_schema(), '') || '.' || $2), 1, 16))"     \
	"::bit(64)::bigint"

/* The key, and whether the server runs Citus (see pg-apply.c): the
   round trip is paid anyway. */
static const char pg_lock_key_sql[] =
    "SELECT " PG_LOCK_KEY_EXPR ", NULL, " PG_CITUS_SQL;

/* The key and a first try of the lock, in one round trip, and Citus. */
static const char pg_lock_key_try_sql[] =
    "SELECT k, pg_try_advisory_lock(k), " PG_CITUS_SQL
    " FROM (SELECT " PG_LOCK_KEY_EXPR " AS k) AS key";

/*
 * Who holds an advisory lock on a bigint key: pg_locks splits it into
 * classid (high 32 bits) and objid (low 32 bits), objsubid 1.
 */
static const char pg_lock_holder_sql[] =
    "SELECT l.pid, a.application_name, "
    "CASE WHEN a.pid IS NULL THEN NULL "
    "WHEN a.client_addr IS NULL THEN 'local socket' "
    "ELSE host(a.client_addr) END, "
    "to_char(a.backend_start AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD HH24:MI:SS \"UTC\"'), "
    "a.state, "
    "to_char(a.state_change AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD HH24:MI:SS \"UTC\"') "
    "FROM pg_catalog.pg_locks l "
    "LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_catalog.pg_database "
    "WHERE datname = current_database()) "
    "AND l.classid = (($1::bigint >> 32) & 4294967295)::oid "
    "AND l.objid = ($1::bigint & 4294967295)::oid "
    "AND l.pid <> pg_backend_pid() LIMIT 1";

/*
 * Compute the lock key of table, as text, into key. With got non-NULL,
 * also try the lock in the same query (the round trip a runner would
 * otherwise spend on its first try): *got is 1 when it was taken, 0
 * when another session holds it.
 */
static dbmigrate_code pg_lock_key(dbmigrate_conn *c, const char *table,
				  char *key, size_t size, int *got)
{
	struct pg_table t;
	dbmigrate_code rc = pg_table_parse(c, table, &t);
	const char *params[2];
	PGresult *res;

	if (rc != DBMIGRATE_OK)
		return rc;
	params[0] = t.schema;
	params[1] = t.name;
	res = pg_exec_run(c, got != NULL ? pg_lock_key_try_sql : pg_lock_key_sql,
			  2, params, 0);
	if (pg_exec_ok(res) && PQntuples(res) == 1) {
		snprintf(key, size, "%s", PQgetvalue(res, 0, 0));
		pg_apply_set_citus(c, PQgetvalue(res, 0, 2));
		if (got != NULL)
			*got = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	} else {
		rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, res,
				  DBMIGRATE_NO_STATEMENT,
				  got != NULL
				      ? "cannot take the migration lock"
				      : "cannot compute the migration lock key");
	}
	PQclear(res);
	pg_table_free(&t);
	return rc;
}

/* Try the lock once: 1 taken, 0 held by another session, -1 error. */
static int pg_lock_try(dbmigrate_conn *c, const char *key)
{
	const char *params[1] = {key};
	PGresult *res = pg_exec_run(
	    c, "SELECT pg_try_advisory_lock($1::bigint)", 1, params, 0);
	int r = -1;

	if (pg_exec_ok(res) && PQntuples(res) == 1)
		r = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	else
		pg_exec_fail(c, DBMIGRATE_EDATABASE, res,
			     DBMIGRATE_NO_STATEMENT,
			     "cannot take the migration lock");
	PQclear(res);
	return r;
}

/* Append ", part" (or " (part" first) to buf, which holds o bytes. */
static size_t pg_lock_append(char *buf, size_t size, size_t o, int *n,
			     const char *part)
{
	if (o >= size)
		return o;
	return o + (size_t)snprintf(buf + o, size - o, "%s%s",
				    (*n)++ == 0 ? " (" : ", ", part);
}

/*
 * Describe the holder of the lock into buf: "PID 42 (application_name
 * "dbmigrate", from 10.0.0.5, connected since ..., idle since ...)".
 * Columns the server hides from us (another role's session) are left
 * out; a holder gone meanwhile becomes "another session".
 */
static void pg_lock_holder(dbmigrate_conn *c, const char *key, char *buf,
			   size_t size)
{
	const char *params[1] = {key};
	PGresult *res = pg_exec_run(c, pg_lock_holder_sql, 1, params, 0);
	char part[256];
	size_t o;
	int n = 0;

	snprintf(buf, size, "another session");
	if (!pg_exec_ok(res) || PQntuples(res) != 1) {
		PQclear(res);
		return;
	}
	o = (size_t)snprintf(buf, size, "PID %s", PQgetvalue(res, 0, 0));
	if (!PQgetisnull(res, 0, 1)) {
		snprintf(part, sizeof part, "application_name \"%s\"",
			 PQgetvalue(res, 0, 1));
		o = pg_lock_append(buf, size, o, &n, part);
	}
	if (!PQgetisnull(res, 0, 2)) {
		snprintf(part, sizeof part, "from %s", PQgetvalue(res, 0, 2));
		o = pg_lock_append(buf, size, o, &n, part);
	}
	if (!PQgetisnull(res, 0, 3)) {
		snprintf(part, sizeof part, "connected since %s",
			 PQgetvalue(res, 0, 3));
		o = pg_lock_append(buf, size, o, &n, part);
	}
	if (!PQgetisnull(res, 0, 4) && !PQgetisnull(res, 0, 5)) {
		snprintf(part, sizeof part, "%s since %s",
			 PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
		o = pg_lock_append(buf, size, o, &n, part);
	}
	if (n > 0 && o < size)
		snprintf(buf + o, size - o, ")");
	PQclear(res);
}

/* Report the timeout, naming the holder. */
static dbmigrate_code pg_lock_timeout(dbmigrate_conn *c, const char *table,
				      const char *key, double timeout)
{
	char holder[512];
	char detail[700];

	pg_lock_holder(c, key, holder, sizeof holder);
	snprintf(detail, sizeof detail,
		 "The lock for tracking table \"%s\" is held by %s.", table,
		 holder);
	return pg_exec_error(
	    c, DBMIGRATE_ELOCK, detail,
	    "Another dbmigrate is probably migrating this "
	    "database: wait for it to finish, or wait longer "
	    "with --lock-timeout SECONDS. A holder that is "
	    "stuck can be ended with pg_terminate_backend(PID).",
	    "could not acquire the migration lock within %g s", timeout);
}

/* Take the runner lock, polling with backoff until timeout. */
dbmigrate_code pg_lock(dbmigrate_conn *c, const char *table, double timeout)
{
	char key[sizeof c->lock_key];
	double deadline, sleep = PG_LOCK_FIRST_SLEEP;
	int waited = 0, got = -1;
	dbmigrate_code rc;

	/*
	 * The first try goes with the key, unless this session holds a lock
	 * already: taken again, the server would count it twice.
	 */
	rc = pg_lock_key(c, table, key, sizeof key, c->locked ? NULL : &got);
	if (rc != DBMIGRATE_OK)
		return rc;
	if (c->locked && strcmp(key, c->lock_key) == 0)
		return DBMIGRATE_OK;
	deadline = drvkit_now() + (timeout > 0 ? timeout : 0);
	for (;;) {
		double left;
		int r = got >= 0 ? got : pg_lock_try(c, key);

		got = -1;

		if (r < 0)
			return DBMIGRATE_EDATABASE;
		if (r > 0)
			break;
		left = deadline - drvkit_now();
		if (left <= 0)
			return pg_lock_timeout(c, table, key, timeout);
		if (!waited) {
			char holder[512];

			pg_lock_holder(c, key, holder, sizeof holder);
			pg_exec_log(c, DBMIGRATE_LOG_LOCK_WAIT,
				    "waiting up to %g s for the migration lock "
				    "held by %s",
				    timeout, holder);
			waited = 1;
		}
		if (drvkit_nap(c->host, sleep < left ? sleep : left,
			       PG_LOCK_SLICE) != 0)
			return pg_exec_error(c, DBMIGRATE_EINTERRUPTED, NULL,
					     NULL,
					     "interrupted while waiting for "
					     "the migration lock");
		sleep *= 2;
		if (sleep > PG_LOCK_MAX_SLEEP)
			sleep = PG_LOCK_MAX_SLEEP;
	}
	memcpy(c->lock_key, key, sizeof c->lock_key);
	c->locked = 1;
	if (waited)
		pg_exec_log(c, DBMIGRATE_LOG_DEBUG,
			    "acquired the migration lock");
	return DBMIGRATE_OK;
}

/* Release the runner lock taken by pg_lock(). */
dbmigrate_code pg_lock_release(dbmigrate_conn *c, const char *table)
{
	const char *params[1] = {c->lock_key};
	dbmigrate_code rc = DBMIGRATE_OK;
	PGresult *res;

	(void)table; /* the key taken by lock() is the one to free */
	if (!c->locked)
		return DBMIGRATE_OK;
	res = pg_exec_run(c, "SELECT pg_advisory_unlock($1::bigint)", 1, params,
			  0);
	if (!pg_exec_ok(res))
		rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, res,
				  DBMIGRATE_NO_STATEMENT,
				  "cannot release the migration lock");
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		pg_exec_log(c, DBMIGRATE_LOG_WARNING,
			    "the migration lock was no longer held by this "
			    "session");
	PQclear(res);
	c->locked = 0;
	return rc;
}
