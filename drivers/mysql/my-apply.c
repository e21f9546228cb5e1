/*
 * my-apply.c - running one migration on MySQL: its statements one by
 * one (the server refuses several in one query string unless the
 * connection asked for that, which dbmigrate never does: a statement
 * split wrong then fails, instead of running as two), then its tracking
 * row; and the limits configure() sets, sent as one SET before the next
 * statement.
 *
 * A statement that gave up waiting for a lock (error 1205, "Lock wait
 * timeout exceeded") is retried lock_retries times with backoff: inside
 * a transaction from a savepoint taken before the migration, outside
 * one from the statement that waited (it changed nothing).
 */
#include "my.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/drvkit.h"

#define MY_ER_LOCK_WAIT_TIMEOUT 1205

/* Keep the limits for the next apply(); see driver.h. A host's older,
   shorter struct sets none; a negative or NaN timeout is refused. */
dbmigrate_code my_apply_configure(dbmigrate_conn *c,
				  const struct dbmigrate_settings *s)
{
	if (drvkit_settings(s, &c->limits) != 0)
		return my_exec_error(c, DBMIGRATE_EUSAGE, NULL, NULL,
				     "mysql: invalid limits (negative or not "
				     "a number)");
	c->limits_dirty = 1;
	return DBMIGRATE_OK;
}

/* Send the limits when they changed: one SET of the session's
   variables, DEFAULT (the server's own) for an unset one. */
static dbmigrate_code my_apply_limits(dbmigrate_conn *c)
{
	struct drvkit_text q = {0};
	double lt = c->limits.lock_timeout, st = c->limits.statement_timeout;
	dbmigrate_code rc = DBMIGRATE_OK;

	if (!c->limits_dirty)
		return DBMIGRATE_OK;
	if (lt > 0) {
		long s = (long)ceil(lt);

		my_text_printf(&q, "SET SESSION lock_wait_timeout = %ld, "
				   "innodb_lock_wait_timeout = %ld",
			       s < 1 ? 1 : s, s < 1 ? 1 : s);
	} else {
		drvkit_text_puts(&q, "SET SESSION lock_wait_timeout = DEFAULT, "
				     "innodb_lock_wait_timeout = DEFAULT");
	}
	if (c->mariadb) {
		if (st > 0)
			my_text_printf(&q, ", max_statement_time = %.3f", st);
		else
			drvkit_text_puts(&q, ", max_statement_time = DEFAULT");
	} else {
		/* MySQL bounds only SELECTs, in milliseconds. */
		if (st > 0)
			my_text_printf(&q, ", max_execution_time = %lu",
				       (unsigned long)ceil(st * 1000));
		else
			drvkit_text_puts(&q, ", max_execution_time = DEFAULT");
	}
	if (q.failed)
		rc = my_exec_nomem(c);
	else if (my_exec(c, q.s, q.len) != 0)
		rc = my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				  NULL, 0, "cannot set the statement limits");
	else
		c->limits_dirty = 0;
	free(q.s);
	return rc;
}

/* Run one migration; see driver.h. */
dbmigrate_code my_apply(dbmigrate_conn *c, const char *table,
			const struct dbmigrate_stmt *stmts, size_t n,
			const struct dbmigrate_row *record,
			const char *unrecord_id)
{
	struct my_table t;
	struct drvkit_text q = {0};
	unsigned attempt = 0;
	size_t k = 0;
	int savepoint = 0;
	dbmigrate_code rc;

	if ((rc = my_apply_limits(c)) != DBMIGRATE_OK)
		return rc;
	if (c->in_tx && c->limits.lock_retries > 0 && n > 0) {
		if (my_exec_str(c, "SAVEPOINT dbmigrate_retry") != 0)
			return my_exec_fail(c, DBMIGRATE_EDATABASE,
					    DBMIGRATE_NO_STATEMENT, NULL, 0,
					    "cannot take a savepoint");
		savepoint = 1;
	}
	while (k < n) {
		unsigned err;

		if (c->host->interrupted(c->host->ctx))
			return my_exec_error(c, DBMIGRATE_EINTERRUPTED, NULL, NULL,
					     "interrupted");
		if (my_exec(c, stmts[k].sql, stmts[k].len) == 0) {
			k++;
			continue;
		}
		err = mysql_errno(c->my);
		if (err == MY_ER_LOCK_WAIT_TIMEOUT &&
		    attempt < c->limits.lock_retries &&
		    !c->host->interrupted(c->host->ctx)) {
			double wait = 0.1 * (double)(1u << (attempt < 5 ? attempt : 5));

			attempt++;
			my_exec_log(c, DBMIGRATE_LOG_WARNING,
				    "statement %zu gave up waiting for a lock "
				    "(%s); retrying in %g s (%u of %u)",
				    k + 1, mysql_error(c->my), wait, attempt,
				    c->limits.lock_retries);
			if (savepoint) {
				if (my_exec_str(c, "ROLLBACK TO SAVEPOINT "
						   "dbmigrate_retry") != 0)
					return my_exec_fail(
					    c, DBMIGRATE_EDATABASE,
					    DBMIGRATE_NO_STATEMENT, NULL, 0,
					    "cannot roll back to the savepoint");
				k = 0;
			}
			if (drvkit_nap(c->host, wait, 0.05))
				return my_exec_error(c, DBMIGRATE_EINTERRUPTED,
						     NULL, NULL, "interrupted");
			continue;
		}
		return my_exec_fail(c, DBMIGRATE_EMIGRATION, k, stmts[k].sql,
				    stmts[k].len, NULL);
	}
	if (record == NULL && unrecord_id == NULL)
		return DBMIGRATE_OK;
	if ((rc = my_table_parse(c, table, &t)) != DBMIGRATE_OK)
		return rc;
	if (unrecord_id != NULL) {
		my_table_delete_sql(c, &q, &t, unrecord_id);
		if (q.failed)
			rc = my_exec_nomem(c);
		else if (my_exec(c, q.s, q.len) != 0)
			rc = my_exec_fail(c, DBMIGRATE_EDATABASE,
					  DBMIGRATE_NO_STATEMENT, NULL, 0,
					  "cannot delete the tracking row");
		free(q.s);
		memset(&q, 0, sizeof q);
	}
	if (rc == DBMIGRATE_OK && record != NULL) {
		my_table_insert_sql(c, &q, &t, record, 0);
		if (q.failed)
			rc = my_exec_nomem(c);
		else if (my_exec(c, q.s, q.len) != 0)
			rc = my_exec_fail(c, DBMIGRATE_EDATABASE,
					  DBMIGRATE_NO_STATEMENT, NULL, 0,
					  "cannot record the migration");
		free(q.s);
	}
	my_table_free(&t);
	return rc;
}
