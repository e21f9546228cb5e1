/*
 * my-lock.c - the runner lock: a named lock (GET_LOCK) of the session,
 * keyed on the database and the tracking table, so that runners on
 * different tracking tables do not exclude each other. The server drops
 * it with the session, so a runner killed with -9 leaves nothing stale.
 *
 * The name is "dbmigrate:DB.TABLE", computed by the server (DATABASE()
 * for an unqualified table); MySQL limits lock names to 64 characters,
 * so a longer one becomes "dbmigrate:" and the MD5 of it. It is taken
 * by polling GET_LOCK(name, 0) with backoff (50 ms doubling to 1 s), so
 * that the wait checks for an interrupt and ends at --lock-timeout with
 * the holder named: its connection id (IS_USED_LOCK) and, from the
 * processlist, its user, host and since when it is in its state.
 */
#include "my.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/drvkit.h"

#define MY_LOCK_FIRST_SLEEP 0.05
#define MY_LOCK_MAX_SLEEP 1.0
#define MY_LOCK_SLICE 0.05 /* how often interrupted() is asked */

/* Run a one-row query of the lock; the row's values into v (up to n),
   copied. Returns 0, or -1 with the error reported. */
static int my_lock_query(dbmigrate_conn *c, const char *sql, char **v,
			 size_t n, const char *what)
{
	int ok;
	MYSQL_RES *res = my_exec_query(c, sql, &ok);
	MYSQL_ROW row;

	for (size_t i = 0; i < n; i++)
		v[i] = NULL;
	if (!ok) {
		my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT, NULL,
			     0, what);
		return -1;
	}
	if (res != NULL && (row = mysql_fetch_row(res)) != NULL &&
	    mysql_num_fields(res) >= n)
		for (size_t i = 0; i < n; i++)
			v[i] = row[i] != NULL ? strdup(row[i]) : NULL;
	mysql_free_result(res);
	return 0;
}

/* Free n values of my_lock_query(). */
static void my_lock_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

/* The lock's name and a first try of it, in one round trip: *got 1
   taken, 0 held by another session. */
static dbmigrate_code my_lock_first(dbmigrate_conn *c, const char *table,
				    int *got)
{
	const char *dot = strchr(table, '.');
	struct drvkit_text q = {0};
	char *v[2];

	drvkit_text_puts(&q, "SELECT k, GET_LOCK(k, 0) FROM (SELECT IF(CHAR_LENGTH(n) "
			     "> 64, CONCAT('dbmigrate:', MD5(n)), n) AS k FROM "
			     "(SELECT CONCAT('dbmigrate:', ");
	if (dot != NULL) {
		char *db = strndup(table, (size_t)(dot - table));

		my_text_literal(c, &q, db != NULL ? db : "");
		free(db);
		drvkit_text_puts(&q, ", '.', ");
		my_text_literal(c, &q, dot + 1);
	} else {
		drvkit_text_puts(&q, "COALESCE(DATABASE(), ''), '.', ");
		my_text_literal(c, &q, table);
	}
	drvkit_text_puts(&q, ") AS n) AS named) AS keyed");
	if (q.failed) {
		free(q.s);
		return my_exec_nomem(c);
	}
	if (my_lock_query(c, q.s, v, 2, "cannot take the migration lock") != 0) {
		free(q.s);
		return DBMIGRATE_EDATABASE;
	}
	free(q.s);
	if (v[0] == NULL || v[1] == NULL) {
		my_lock_free(v, 2);
		return my_exec_error(c, DBMIGRATE_EDATABASE, NULL, NULL,
				     "cannot take the migration lock: GET_LOCK "
				     "returned NULL");
	}
	snprintf(c->lock_name, sizeof c->lock_name, "%s", v[0]);
	*got = strcmp(v[1], "1") == 0;
	my_lock_free(v, 2);
	return DBMIGRATE_OK;
}

/* Try the lock again: 1 taken, 0 held, -1 error (reported). */
static int my_lock_try(dbmigrate_conn *c)
{
	struct drvkit_text q = {0};
	char *v[1];
	int r;

	drvkit_text_puts(&q, "SELECT GET_LOCK(");
	my_text_literal(c, &q, c->lock_name);
	drvkit_text_puts(&q, ", 0)");
	if (q.failed) {
		free(q.s);
		my_exec_nomem(c);
		return -1;
	}
	r = my_lock_query(c, q.s, v, 1, "cannot take the migration lock");
	free(q.s);
	if (r != 0)
		return -1;
	r = v[0] != NULL && strcmp(v[0], "1") == 0;
	my_lock_free(v, 1);
	return r;
}

/*
 * Describe the holder into buf: "connection 42 (user root from
 * 127.0.0.1:50312, Sleep since 2026-12-07 11:52:22 UTC)". Without the
 * PROCESS privilege the processlist shows only our own user's sessions:
 * then the id alone.
 */
static void my_lock_holder(dbmigrate_conn *c, char *buf, size_t size)
{
	struct drvkit_text q = {0};
	char *v[5];

	snprintf(buf, size, "another session");
	drvkit_text_puts(&q, "SELECT h.id, p.USER, p.HOST, p.COMMAND, "
			     "DATE_FORMAT(UTC_TIMESTAMP() - INTERVAL p.TIME SECOND, "
			     "'%Y-%m-%d %H:%i:%s UTC') FROM (SELECT IS_USED_LOCK(");
	my_text_literal(c, &q, c->lock_name);
	drvkit_text_puts(&q, ") AS id) AS h LEFT JOIN information_schema.PROCESSLIST "
			     "AS p ON p.ID = h.id");
	if (q.failed || my_lock_query(c, q.s, v, 5, "cannot look up the lock's "
						    "holder") != 0) {
		free(q.s);
		return;
	}
	free(q.s);
	if (v[0] == NULL) {
		snprintf(buf, size, "another session, which has just released it");
	} else if (v[1] == NULL) {
		snprintf(buf, size, "connection %s (its user and host are hidden "
				    "without the PROCESS privilege)",
			 v[0]);
	} else {
		snprintf(buf, size, "connection %s (user %s from %s, %s since %s)",
			 v[0], v[1], v[2] != NULL ? v[2] : "?",
			 v[3] != NULL ? v[3] : "?", v[4] != NULL ? v[4] : "?");
	}
	my_lock_free(v, 5);
}

/* Take the runner lock, polling with backoff until timeout. */
dbmigrate_code my_lock(dbmigrate_conn *c, const char *table, double timeout)
{
	double deadline, sleep = MY_LOCK_FIRST_SLEEP;
	int waited = 0, got = 0;
	dbmigrate_code rc;

	/* MySQL 5.7+ and MariaDB count a lock taken twice: once is enough. */
	if (c->locked)
		return DBMIGRATE_OK;
	if ((rc = my_lock_first(c, table, &got)) != DBMIGRATE_OK)
		return rc;
	deadline = drvkit_now() + (timeout > 0 ? timeout : 0);
	while (!got) {
		double left = deadline - drvkit_now();
		char holder[512];

		if (left <= 0) {
			char detail[800];

			my_lock_holder(c, holder, sizeof holder);
			snprintf(detail, sizeof detail,
				 "The lock %s for tracking table \"%s\" is held by %s.",
				 c->lock_name, table, holder);
			return my_exec_error(
			    c, DBMIGRATE_ELOCK, detail,
			    "Another dbmigrate is probably migrating this "
			    "database: wait for it to finish, or wait longer "
			    "with --lock-timeout SECONDS. A holder that is stuck "
			    "can be ended with KILL and its connection id.",
			    "could not acquire the migration lock within %g s",
			    timeout);
		}
		if (!waited) {
			my_lock_holder(c, holder, sizeof holder);
			my_exec_log(c, DBMIGRATE_LOG_LOCK_WAIT,
				    "waiting up to %g s for the migration lock "
				    "held by %s",
				    timeout, holder);
			waited = 1;
		}
		if (drvkit_nap(c->host, sleep < left ? sleep : left,
			       MY_LOCK_SLICE) != 0)
			return my_exec_error(c, DBMIGRATE_EINTERRUPTED, NULL, NULL,
					     "interrupted while waiting for the "
					     "migration lock");
		sleep = sleep * 2 > MY_LOCK_MAX_SLEEP ? MY_LOCK_MAX_SLEEP
						      : sleep * 2;
		if ((got = my_lock_try(c)) < 0)
			return DBMIGRATE_EDATABASE;
	}
	c->locked = 1;
	if (waited)
		my_exec_log(c, DBMIGRATE_LOG_DEBUG, "acquired the migration lock");
	return DBMIGRATE_OK;
}

/* Release the runner lock. */
dbmigrate_code my_lock_release(dbmigrate_conn *c, const char *table)
{
	struct drvkit_text q = {0};
	char *v[1];
	int r;

	(void)table; /* the name lock() computed is the one to free */
	if (!c->locked)
		return DBMIGRATE_OK;
	c->locked = 0;
	drvkit_text_puts(&q, "SELECT RELEASE_LOCK(");
	my_text_literal(c, &q, c->lock_name);
	drvkit_text_puts(&q, ")");
	if (q.failed) {
		free(q.s);
		return my_exec_nomem(c);
	}
	r = my_lock_query(c, q.s, v, 1, "cannot release the migration lock");
	free(q.s);
	if (r != 0)
		return DBMIGRATE_EDATABASE;
	if (v[0] == NULL || strcmp(v[0], "1") != 0)
		my_exec_log(c, DBMIGRATE_LOG_WARNING,
			    "the migration lock was no longer held by this "
			    "session");
	my_lock_free(v, 1);
	return DBMIGRATE_OK;
}
