/*
 * mock-exec.c - running one statement against the emulated database:
 * transactions as snapshots of the state, the file state read before and
 * written after a change, sleep= and the interrupt, fail= and busy=, the
 * log= file, the tracking table's statements. Below mock.c (the
 * vtable); calls mock-state.c, mock-sql.c, mock-data.c and mock-report.c.
 */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>


/* Milliseconds on a monotonic clock. */
long long mock_clock_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The monotonic time, in milliseconds, timeout seconds from now. */
long long mock_deadline(double timeout)
{
	/* Clamped: a day is more than any lock wait, and no overflow. */
	if (!(timeout > 0))
		timeout = 0;
	if (timeout > 86400)
		timeout = 86400;
	return mock_clock_ms() + (long long)(timeout * 1000);
}

/* Sleep ms milliseconds (a signal may end it early; callers loop). */
void mock_nap(long long ms)
{
	struct timespec t;

	t.tv_sec = (time_t)(ms / 1000);
	t.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&t, NULL);
}

/* True when the user asked to stop. */
int mock_interrupted(dbmigrate_conn *c)
{
	return c->host->interrupted(c->host->ctx) != 0;
}

/* True when s[0, len) contains the string needle. */
int mock_contains(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (memcmp(s + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Append one line to the log=PATH file: text escaped like the journal. */
void mock_log_line(dbmigrate_conn *c, const char *text, size_t len)
{
	if (c->log == NULL)
		return;
	mock_state_escape(c->log, text, len);
	putc('\n', c->log);
	/* The log is a test aid: a failed write is a warning, not a failed
	   migration. */
	if ((fflush(c->log) != 0 || ferror(c->log)) && !c->log_failed) {
		c->log_failed = 1;
		mock_log(c, DBMIGRATE_LOG_WARNING,
			 "mock: cannot write log file %s: %s", c->log_path,
			 strerror(errno));
	}
}

/* The transaction is aborted: what PostgreSQL answers to any statement. */
dbmigrate_code mock_aborted(dbmigrate_conn *c)
{
	return mock_server_error(c, "25P02", NULL,
				 "current transaction is aborted, commands "
				 "ignored until end of transaction block");
}

/* Put back the state begin() saw. */
void mock_restore(dbmigrate_conn *c)
{
	mock_state_free(&c->state);
	c->state = c->snap;
	memset(&c->snap, 0, sizeof c->snap);
}

/* Make the working state durable (file-backed databases only). */
dbmigrate_code mock_persist(dbmigrate_conn *c)
{
	return c->path != NULL ? mock_state_write(c) : DBMIGRATE_OK;
}

/*
 * Prepare one change. Inside a transaction, refuse when it is aborted.
 * Outside one, start an implicit transaction (*implicit set) on the
 * latest committed state, since each change then commits on its own.
 */
dbmigrate_code mock_change_begin(dbmigrate_conn *c, int *implicit)
{
	dbmigrate_code rc;

	*implicit = !c->in_tx;
	if (c->in_tx)
		return c->aborted ? mock_aborted(c) : DBMIGRATE_OK;
	if ((rc = mock_state_refresh(c, DBMIGRATE_EDATABASE)) != DBMIGRATE_OK)
		return rc;
	if (mock_state_copy(&c->snap, &c->state) != 0)
		return mock_nomem(c);
	return DBMIGRATE_OK;
}

/*
 * Finish a change whose result is rc: an implicit transaction commits on
 * success and rolls back on failure; a failure aborts an explicit one.
 */
dbmigrate_code mock_change_end(dbmigrate_conn *c, int implicit,
			       dbmigrate_code rc)
{
	if (!implicit) {
		if (rc != DBMIGRATE_OK)
			c->aborted = 1;
		return rc;
	}
	if (rc == DBMIGRATE_OK)
		rc = mock_persist(c);
	if (rc != DBMIGRATE_OK)
		mock_restore(c);
	else
		mock_state_free(&c->snap);
	return rc;
}

/* Prepare a read: the working state in a transaction, else the latest. */
dbmigrate_code mock_read_begin(dbmigrate_conn *c)
{
	if (c->in_tx)
		return c->aborted ? mock_aborted(c) : DBMIGRATE_OK;
	return mock_state_refresh(c, DBMIGRATE_EDATABASE);
}

/*
 * Sleep sleep=MS milliseconds, as a slow statement; an interrupt from
 * the host or cancel() ends it with 57014, as a cancelled query.
 */
static dbmigrate_code mock_sleep(dbmigrate_conn *c)
{
	long long end, left, limit = 0;

	if (c->sleep_ms == 0)
		return DBMIGRATE_OK;
	/* A cancel only stops the statement running when it arrives, as a
	   server ignores a cancel request between statements. */
	c->cancelled = 0;
	end = mock_clock_ms() + c->sleep_ms;
	if (c->limits.statement_timeout > 0 &&
	    c->limits.statement_timeout * 1000 < (double)c->sleep_ms)
		limit = mock_clock_ms() +
			(long long)(c->limits.statement_timeout * 1000);
	while ((left = end - mock_clock_ms()) > 0) {
		if (c->cancelled || mock_interrupted(c)) {
			c->cancelled = 0;
			return mock_cancelled(c);
		}
		if (limit > 0 && mock_clock_ms() >= limit)
			return mock_server_error(c, "57014", NULL,
						 "canceling statement due to "
						 "statement timeout");
		mock_nap(left < MOCK_SLICE_MS ? left : MOCK_SLICE_MS);
	}
	return DBMIGRATE_OK;
}

/*
 * Run one statement on the working state, as the emulated server: the
 * transaction-block check, the injected fault, the sleep, the catalogue;
 * then journal and log it.
 */
dbmigrate_code mock_exec(dbmigrate_conn *c,
			 const struct dbmigrate_stmt *s)
{
	const char *refusal;
	dbmigrate_code rc;

	if (c->in_tx && (refusal = mock_sql_refusal(c->host, s->sql, s->len)) != NULL)
		return mock_server_error(c, "25001", NULL, "%s", refusal);
	/* The core must never send a statement that commits on its own
	   inside a transaction: it would take the batch with it. */
	if (c->in_tx && mock_contains(s->sql, s->len, MOCK_IMPLICIT_COMMIT))
		return mock_server_error(c, "25001", NULL,
					 "mock: a statement that commits on "
					 "its own (%s) inside a transaction",
					 MOCK_IMPLICIT_COMMIT);
	if (c->in_tx && mock_contains(s->sql, s->len, MOCK_EDGE))
		return mock_server_error(c, "25001", NULL,
					 "mock: a setting (%s) inside a "
					 "transaction, which would ignore it",
					 MOCK_EDGE);
	if (c->fail != NULL && mock_contains(s->sql, s->len, c->fail)) {
		rc = mock_server_error(c, "XX000", NULL,
				       "mock: injected failure on statement "
				       "containing \"%s\"",
				       c->fail);
		free(c->fail); /* it fires once */
		c->fail = NULL;
		return rc;
	}
	if (c->busy != NULL && c->busy_times > 0 &&
	    mock_contains(s->sql, s->len, c->busy)) {
		c->busy_times--;
		return mock_server_error(c, "55P03", NULL,
					 "canceling statement due to lock "
					 "timeout (mock: busy=%s)",
					 c->busy);
	}
	if ((rc = mock_sleep(c)) != DBMIGRATE_OK)
		return rc;
	if ((rc = mock_sql_catalogue(c, s)) != DBMIGRATE_OK)
		return rc;
	if (mock_state_journal_add(&c->state, s->sql, s->len) != 0)
		return mock_nomem(c);
	mock_log_line(c, s->sql, s->len);
	return DBMIGRATE_OK;
}

/* The current time as ISO 8601 UTC, "2026-11-24T10:00:00Z". */
static void mock_now(char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "1970-01-01T00:00:00Z");
}

/* Insert the tracking row record and/or delete the row unrecord_id. */
dbmigrate_code mock_track(dbmigrate_conn *c, const char *table,
			  const struct dbmigrate_row *record,
			  const char *unrecord_id)
{
	struct mock_table *t = mock_state_table_find(&c->state, table);
	const char *base = strrchr(table, '.');
	char now[32], detail[512];
	long at;

	base = base != NULL ? base + 1 : table;
	if (t == NULL)
		return mock_server_error(
		    c, "42P01", NULL, "relation \"%s\" does not exist", table);
	/* The delete first: repair rewrites a row by deleting it and
	   inserting it again in one apply(). */
	if (unrecord_id != NULL) {
		/* Deleting no row is no error in SQL; say so, since it
		   means the caller and the table disagree. */
		if ((at = mock_state_row_find(t, unrecord_id)) < 0)
			mock_log(
			    c, DBMIGRATE_LOG_WARNING,
			    "mock: no row with id \"%s\" in \"%s\" to delete",
			    unrecord_id, table);
		else
			mock_state_row_delete(t, (size_t)at);
	}
	if (record != NULL) {
		if (record->id == NULL || record->name == NULL)
			return mock_server_error(
			    c, "23502", NULL,
			    "null value in column \"%s\" of "
			    "relation \"%s\" violates "
			    "not-null constraint",
			    record->id == NULL ? "id" : "name", base);
		if (mock_state_row_find(t, record->id) >= 0) {
			snprintf(detail, sizeof detail,
				 "Key (id)=(%s) already exists.", record->id);
			return mock_server_error(c, "23505", detail,
						 "duplicate key value "
						 "violates unique constraint "
						 "\"%s_pkey\"",
						 base);
		}
		mock_now(now, sizeof now);
		if (mock_state_row_add(
			t, record->id, record->name,
			record->executed_at != NULL ? record->executed_at : now,
			record->checksum, record->down_sql, record->progress,
			record->batch) != 0)
			return mock_nomem(c);
	}
	return DBMIGRATE_OK;
}
