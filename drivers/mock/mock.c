/*
 * mock.c - the mock driver: a fake database kept in memory or in a file,
 * for the core's tests and for users who test a migration set without a
 * server. It is also the reference implementation of the driver ABI
 * (include/dbmigrate/driver.h): each operation below carries its
 * contract, so start from this file to write a new driver.
 *
 * Like every driver it includes only the public headers, never links
 * libdbmigrate (what it needs from the core comes in struct
 * dbmigrate_host: errors, logging, the interrupt flag, the SQL word
 * splitter), keeps no global mutable state (everything lives in struct
 * dbmigrate_conn) and exports one symbol, dbmigrate_driver_entry.
 *
 * URLs: "mock:" or "mock://" is an in-memory database living as long as
 * the connection; "mock:PATH", "mock://PATH" and "mock:///abs/path" keep
 * it in the file PATH (mock-state.c) across runs. Query parameters after
 * "?", joined by "&" and percent-decoded, inject faults:
 *   fail=TEXT   the first statement containing TEXT fails (XX000), once;
 *   refuse=1    open() fails as if the server refused the connection;
 *   lock=held   lock() waits its timeout, then fails naming a fake holder;
 *   log=PATH    each statement that succeeds is appended to PATH, one a
 *               line (escaped like the journal), with BEGIN, COMMIT and
 *               ROLLBACK lines around transactions;
 *   sleep=MS    each statement takes MS milliseconds, ended early with
 *               57014 by an interrupt or cancel(), or by the statement
 *               timeout configure() set;
 *   busy=TEXT   a statement containing TEXT fails with 55P03 (lock not
 *               available), as if another session held a lock past the
 *               lock timeout; busy_times=N times (default 1), each a try
 *               that configure()'s lock_retries may repeat;
 *   progress_fail=N  the Nth call of record_progress() fails before
 *               writing anything, as a lost connection would.
 *
 * Two comments written inside a statement stand in for other dialects,
 * so that the core's plans for them are tested without their servers:
 * "mock:implicit-commit" (as a block comment) makes the statement commit
 * on its own, as DDL does on MySQL (its migration cannot roll back and is
 * recorded as it runs), and "mock:edge" makes it a setting a transaction
 * ignores, as SQLite's PRAGMA foreign_keys; both are refused inside a
 * transaction (25001), which is where a core bug would send them.
 *
 * The emulated server behaves as PostgreSQL where a core bug would show:
 * begin() snapshots the state and rollback() restores it, so a rolled-back
 * batch leaves no row, object or journal line; a failed statement aborts
 * the transaction (25P02 for everything until rollback()); outside a
 * transaction each statement commits on its own; a statement PostgreSQL
 * refuses in a transaction block is refused there (25001); tracking rows
 * have a primary key (23505); and object names are checked (mock-sql.c).
 * Another process's commits are seen at the next operation outside a
 * transaction; the runner lock is an exclusive flock(2) on PATH.lock
 * holding its owner's pid.
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

#include "../common/drvkit.h"

#define MOCK_BACKOFF_MS 200      /* longest wait between lock attempts */
#define MOCK_HELD_PID 4242       /* the fake holder of lock=held */
#define MOCK_RETRY_MS 10         /* first wait before a retry (doubles) */

/* Close a connection's lock file, releasing the lock. */
static void mock_lock_release(dbmigrate_conn *c)
{
	if (c->lock_fd < 0)
		return;
	/* No pid left behind; close() releases the flock. A failed
	   truncate only leaves a stale pid for a message. */
	if (ftruncate(c->lock_fd, 0) != 0)
		mock_log(c, DBMIGRATE_LOG_DEBUG,
			 "mock: cannot clear %s.lock: %s", c->path,
			 strerror(errno));
	close(c->lock_fd);
	c->lock_fd = -1;
}

/*
 * Disconnect and free c (which may be NULL), releasing the lock. A
 * transaction still open is rolled back, as a server does when the
 * client goes away.
 */
static void mock_close(dbmigrate_conn *c)
{
	if (c == NULL)
		return;
	if (c->in_tx)
		mock_restore(c);
	mock_lock_release(c);
	if (c->log != NULL)
		fclose(c->log);
	mock_state_free(&c->state);
	mock_state_free(&c->snap);
	free(c->path);
	free(c->fail);
	free(c->busy);
	free(c->log_path);
	free(c);
}

/*
 * Connect: parse the URL, read the state file (a missing one is an
 * empty database) and open the log. params->url NULL (host, port...
 * given instead) is an in-memory database. On failure *out stays NULL
 * and the error (DBMIGRATE_ECONNECT) has been reported.
 *
 * Every member of host and params used here exists since ABI 4, the
 * oldest the host loads; a driver reading a member added later checks
 * first that struct_size covers it.
 */
static dbmigrate_code mock_open(const struct dbmigrate_host *host,
				const struct dbmigrate_params *params,
				dbmigrate_conn **out)
{
	struct dbmigrate_driver_error nomem = {
		.code = DBMIGRATE_ENOMEM, .message = "out of memory",
		.statement = DBMIGRATE_NO_STATEMENT,
	};
	dbmigrate_conn *c;
	dbmigrate_code rc = DBMIGRATE_OK;
	int fd;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		host->error(host->ctx, &nomem);
		return DBMIGRATE_ENOMEM;
	}
	c->host = host;
	c->lock_fd = -1;
	c->sql_code = DBMIGRATE_EDATABASE;
	c->stmt = DBMIGRATE_NO_STATEMENT;
	c->busy_times = 1;
	c->limits.struct_size = sizeof c->limits;
	if (params->url != NULL)
		rc = mock_parse_url(c, params->url);
	if (rc == DBMIGRATE_OK && c->path != NULL) {
		rc = mock_state_refresh(c, DBMIGRATE_ECONNECT);
		if (rc == DBMIGRATE_OK && !c->have_loaded)
			rc = mock_check_dir(c);
	}
	if (rc == DBMIGRATE_OK && c->log_path != NULL) {
		fd = open(c->log_path,
			  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || (c->log = fdopen(fd, "a")) == NULL) {
			rc = mock_report(c, DBMIGRATE_ECONNECT, NULL, NULL,
					 "mock: cannot open log file %s: %s",
					 c->log_path, strerror(errno));
			if (fd >= 0)
				close(fd);
		}
	}
	if (rc != DBMIGRATE_OK) {
		mock_close(c);
		return rc;
	}
	if (c->path != NULL)
		mock_log(c, DBMIGRATE_LOG_DEBUG, "mock: database in %s%s",
			 c->path, c->have_loaded ? "" : " (new)");
	else
		mock_log(c, DBMIGRATE_LOG_DEBUG,
			 "mock: in-memory database, gone at disconnect");
	*out = c;
	return DBMIGRATE_OK;
}

/*
 * Start a transaction: snapshot the latest committed state. begin()
 * inside a transaction is an error (a server would only warn, but it is
 * a bug of the caller, which the mock exists to catch).
 */
static dbmigrate_code mock_begin(dbmigrate_conn *c)
{
	dbmigrate_code rc;

	if (c->in_tx)
		return mock_server_error(c, "25001",
					 "begin() was called twice without "
					 "commit() or rollback() in between.",
					 "there is already a transaction in "
					 "progress");
	if ((rc = mock_state_refresh(c, DBMIGRATE_EDATABASE)) != DBMIGRATE_OK)
		return rc;
	if (mock_state_copy(&c->snap, &c->state) != 0)
		return mock_nomem(c);
	c->in_tx = 1;
	c->aborted = 0;
	mock_log_line(c, "BEGIN", 5);
	return DBMIGRATE_OK;
}

/*
 * Commit: make the working state durable. Committing an aborted
 * transaction rolls it back and fails (PostgreSQL answers ROLLBACK to
 * such a COMMIT, without an error a careless driver would notice).
 */
static dbmigrate_code mock_commit(dbmigrate_conn *c)
{
	dbmigrate_code rc;

	if (!c->in_tx)
		return mock_server_error(c, "25P01",
					 "commit() was called without begin().",
					 "there is no transaction in progress");
	c->in_tx = 0;
	if (c->aborted) {
		mock_restore(c);
		mock_log_line(c, "ROLLBACK", 8);
		return mock_server_error(c, "25P02",
					 "A statement of the transaction "
					 "failed, so nothing of it was "
					 "committed.",
					 "current transaction is aborted; "
					 "commit rolled it back");
	}
	if ((rc = mock_persist(c)) != DBMIGRATE_OK) {
		mock_restore(c);
		mock_log_line(c, "ROLLBACK", 8);
		return rc;
	}
	mock_state_free(&c->snap);
	mock_log_line(c, "COMMIT", 6);
	return DBMIGRATE_OK;
}

/*
 * Roll back: restore the state begin() saw, so a rolled-back batch
 * leaves no row, object or journal entry. Outside a transaction there is
 * nothing to undo and it succeeds (the core calls it to clean up after
 * any failure).
 */
static dbmigrate_code mock_rollback(dbmigrate_conn *c)
{
	if (!c->in_tx)
		return DBMIGRATE_OK;
	mock_restore(c);
	c->in_tx = 0;
	c->aborted = 0;
	mock_log_line(c, "ROLLBACK", 8);
	return DBMIGRATE_OK;
}

/*
 * Wait out lock=held: the timeout passes (or the user interrupts), then
 * fail as if another runner held the lock.
 */
static dbmigrate_code mock_lock_held(dbmigrate_conn *c, double timeout)
{
	long long end = mock_deadline(timeout), left;

	mock_log(c, DBMIGRATE_LOG_LOCK_WAIT,
		 "waiting for the migration lock, held by pid %d (mock: "
		 "lock=held)",
		 MOCK_HELD_PID);
	while ((left = end - mock_clock_ms()) > 0) {
		if (mock_interrupted(c))
			return mock_report(c, DBMIGRATE_EINTERRUPTED, NULL,
					   NULL,
					   "interrupted while waiting for the "
					   "migration lock");
		mock_nap(left < MOCK_SLICE_MS ? left : MOCK_SLICE_MS);
	}
	return mock_report(c, DBMIGRATE_ELOCK,
			   "The URL asks the mock driver to act as if another "
			   "run held the lock.",
			   "Remove lock=held from the URL.",
			   "could not acquire the migration lock within %g s: "
			   "lock held by another dbmigrate (mock: lock=held; "
			   "pid %d)",
			   timeout, MOCK_HELD_PID);
}

/*
 * Optional. Take the runner lock, held by the session until unlock() or
 * close(), waiting at most timeout seconds: an exclusive flock(2) on
 * PATH.lock, tried without blocking with a backoff from 10 to 200 ms, so
 * that host->interrupted() is seen. One lock per state file, whatever
 * the table. In memory nothing else can run, so it always succeeds
 * (unless lock=held). On timeout DBMIGRATE_ELOCK names the holder's pid.
 */
static dbmigrate_code mock_lock(dbmigrate_conn *c, const char *table,
				double timeout)
{
	long long end = mock_deadline(timeout), left;
	long long delay = 10;
	dbmigrate_code rc = DBMIGRATE_OK;
	char *path, detail[256], who[64];
	size_t plen;
	int fd, waited = 0;

	(void)table;
	if (c->lock_held)
		return mock_lock_held(c, timeout);
	if (c->path == NULL || c->lock_fd >= 0)
		return DBMIGRATE_OK;
	plen = strlen(c->path);
	if ((path = malloc(plen + sizeof ".lock")) == NULL)
		return mock_nomem(c);
	memcpy(path, c->path, plen);
	memcpy(path + plen, ".lock", sizeof ".lock");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		rc = mock_report(c, DBMIGRATE_EDATABASE, NULL, NULL,
				 "mock: cannot open lock file %s: %s", path,
				 strerror(errno));
		free(path);
		return rc;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = mock_report(c, DBMIGRATE_EDATABASE, NULL, NULL,
					 "mock: cannot lock %s: %s", path,
					 strerror(errno));
			break;
		}
		if (mock_interrupted(c)) {
			rc = mock_report(c, DBMIGRATE_EINTERRUPTED, NULL, NULL,
					 "interrupted while waiting for the "
					 "migration lock on %s",
					 path);
			break;
		}
		drvkit_lock_who(fd, who, sizeof who);
		if ((left = end - mock_clock_ms()) <= 0) {
			snprintf(detail, sizeof detail,
				 "Another dbmigrate (%s) is migrating the same "
				 "state file.",
				 who);
			rc = mock_report(c, DBMIGRATE_ELOCK, detail,
					 "Wait for it to finish, or give it "
					 "more time with --lock-timeout.",
					 "could not acquire the migration lock "
					 "on %s within %g s (held by %s)",
					 path, timeout, who);
			break;
		}
		if (!waited++)
			mock_log(c, DBMIGRATE_LOG_LOCK_WAIT,
				 "waiting for the migration lock on %s, held "
				 "by %s",
				 path, who);
		mock_nap(delay < left ? delay : left);
		delay =
		    delay * 2 < MOCK_BACKOFF_MS ? delay * 2 : MOCK_BACKOFF_MS;
	}
	free(path);
	if (rc != DBMIGRATE_OK) {
		close(fd);
		return rc;
	}
	c->lock_fd = fd;
	/* The pid, for the message of whoever waits for us. */
	if (drvkit_write_pid(fd) != 0)
		mock_log(c, DBMIGRATE_LOG_DEBUG,
			 "mock: cannot write the pid into the lock file: %s",
			 strerror(errno));
	return DBMIGRATE_OK;
}

/* Optional (with lock). Release the runner lock; nothing when not held. */
static dbmigrate_code mock_unlock(dbmigrate_conn *c, const char *table)
{
	(void)table;
	mock_lock_release(c);
	return DBMIGRATE_OK;
}

/*
 * Create the tracking table if it does not exist. (A real backend also
 * adds the checksum and down_sql columns to a table of an older tool;
 * the mock's tables always have them.) Inside a transaction it is part
 * of it.
 */
static dbmigrate_code mock_ensure_table(dbmigrate_conn *c, const char *table)
{
	char name[MOCK_NAME_MAX];
	dbmigrate_code rc;
	int implicit;

	if ((rc = mock_sql_table_name(c, table, name)) != DBMIGRATE_OK)
		return rc;
	if ((rc = mock_change_begin(c, &implicit)) != DBMIGRATE_OK)
		return rc;
	if (mock_state_table_find(&c->state, name) == NULL &&
	    mock_state_table_add(&c->state, name) == NULL)
		rc = mock_nomem(c);
	return mock_change_end(c, implicit, rc);
}

/* Set *exists to 1 when the tracking table exists, else 0. */
static dbmigrate_code mock_table_exists(dbmigrate_conn *c, const char *table,
					int *exists)
{
	char name[MOCK_NAME_MAX];
	dbmigrate_code rc;

	*exists = 0;
	if ((rc = mock_sql_table_name(c, table, name)) != DBMIGRATE_OK ||
	    (rc = mock_read_begin(c)) != DBMIGRATE_OK)
		return rc;
	*exists = mock_state_table_find(&c->state, name) != NULL;
	return DBMIGRATE_OK;
}

/*
 * Call fn for each tracking row, in insert order, until it returns
 * nonzero; none when the table does not exist. The row's strings are
 * valid during the call only.
 */
static dbmigrate_code mock_read_some_rows(dbmigrate_conn *c,
					  const char *table, int brief,
					  dbmigrate_row_fn fn, void *ctx)
{
	char name[MOCK_NAME_MAX];
	const struct mock_table *t;
	dbmigrate_code rc;

	if ((rc = mock_sql_table_name(c, table, name)) != DBMIGRATE_OK ||
	    (rc = mock_read_begin(c)) != DBMIGRATE_OK)
		return rc;
	if ((t = mock_state_table_find(&c->state, name)) == NULL)
		return DBMIGRATE_OK;
	for (size_t i = 0; i < t->nrows; i++) {
		struct dbmigrate_row r = {
			.id = t->rows[i].id,
			.name = t->rows[i].name,
			.executed_at = t->rows[i].executed_at,
			.checksum = t->rows[i].checksum,
			.batch = t->rows[i].batch,
			.down_sql = t->rows[i].down_sql,
			.progress = t->rows[i].progress,
		};

		if (brief && r.down_sql != NULL)
			r.down_sql = "";
		if (fn(ctx, &r) != 0)
			break;
	}
	return DBMIGRATE_OK;
}

static dbmigrate_code mock_read_rows(dbmigrate_conn *c, const char *table,
				     dbmigrate_row_fn fn, void *ctx)
{
	return mock_read_some_rows(c, table, 0, fn, ctx);
}

/*
 * Optional. read_rows() for a listing: a row's down_sql is ""
 * when it keeps one, its text left out (a server driver saves sending
 * it), NULL when not.
 */
static dbmigrate_code mock_read_rows_brief(dbmigrate_conn *c,
					   const char *table,
					   dbmigrate_row_fn fn, void *ctx)
{
	return mock_read_some_rows(c, table, 1, fn, ctx);
}

/* Drop the tracking table and its rows; 42P01 when it does not exist. */
static dbmigrate_code mock_drop_table(dbmigrate_conn *c, const char *table)
{
	char name[MOCK_NAME_MAX];
	struct mock_table *t;
	dbmigrate_code rc;
	int implicit;

	if ((rc = mock_sql_table_name(c, table, name)) != DBMIGRATE_OK)
		return rc;
	if ((rc = mock_change_begin(c, &implicit)) != DBMIGRATE_OK)
		return rc;
	if ((t = mock_state_table_find(&c->state, name)) == NULL) {
		rc = mock_server_error(c, "42P01", NULL,
				       "table \"%s\" does not exist", name);
	} else {
		mock_state_table_drop(&c->state, t);
	}
	return mock_change_end(c, implicit, rc);
}

/* True when the error held back says a lock was not available. */
static int mock_held_lock_failure(const dbmigrate_conn *c)
{
	return c->held.set && strcmp(c->held.sqlstate, "55P03") == 0;
}

/*
 * Before retry number attempt (1-based): forget the held error, warn,
 * and wait (10 ms, doubling: the mock has no one to wait for). Returns
 * nonzero when the user interrupted (nothing reported yet).
 */
static int mock_retry_wait(dbmigrate_conn *c, unsigned attempt)
{
	long long ms = (long long)MOCK_RETRY_MS << (attempt < 8 ? attempt - 1 : 7);
	long long end = mock_clock_ms() + ms, left;

	mock_log(c, DBMIGRATE_LOG_WARNING, "%s [SQLSTATE 55P03]; retry %u of %u",
		 c->held.message, attempt, c->limits.lock_retries);
	c->held.set = 0;
	while ((left = end - mock_clock_ms()) > 0) {
		if (mock_interrupted(c))
			return 1;
		mock_nap(left < MOCK_SLICE_MS ? left : MOCK_SLICE_MS);
	}
	return 0;
}

/* One try of a migration's statements from index from, then its row;
   *failed gets the index of the statement that failed. */
static dbmigrate_code mock_apply_once(dbmigrate_conn *c, const char *name,
				      const struct dbmigrate_stmt *stmts,
				      size_t from, size_t n,
				      const struct dbmigrate_row *record,
				      const char *unrecord_id, size_t *failed)
{
	dbmigrate_code rc = DBMIGRATE_OK;
	int implicit;

	if (c->in_tx && c->aborted) {
		c->stmt = n > 0 ? 0 : DBMIGRATE_NO_STATEMENT;
		rc = mock_aborted(c);
	}
	for (size_t i = from; rc == DBMIGRATE_OK && i < n; i++) {
		c->stmt = i;
		*failed = i;
		if ((rc = mock_change_begin(c, &implicit)) == DBMIGRATE_OK)
			rc = mock_change_end(c, implicit,
					     mock_exec(c, &stmts[i]));
	}
	c->stmt = DBMIGRATE_NO_STATEMENT;
	if (rc != DBMIGRATE_OK)
		return rc;
	*failed = DBMIGRATE_NO_STATEMENT;
	if ((record != NULL || unrecord_id != NULL) &&
	    (rc = mock_change_begin(c, &implicit)) == DBMIGRATE_OK)
		rc = mock_change_end(c, implicit,
				     mock_track(c, name, record, unrecord_id));
	return rc;
}

/*
 * Run one migration: each statement in order, then delete the row
 * unrecord_id and/or insert record. In a transaction everything joins
 * it, and the first failure aborts it (25P02 for anything else until
 * rollback()). Outside one, each statement commits on its own, and the
 * row only after all of them succeeded. A failure is reported with code
 * DBMIGRATE_EMIGRATION (DBMIGRATE_EINTERRUPTED for a cancelled sleep),
 * the SQLSTATE, and the index of the failing statement, or
 * DBMIGRATE_NO_STATEMENT when writing the row failed.
 *
 * A statement failing with 55P03 (busy=TEXT) is retried up to
 * configure()'s lock_retries times: in a transaction the whole migration
 * again from the state before it (a savepoint), outside one the failed
 * statement alone. Only the last failure is reported.
 */
static dbmigrate_code mock_apply(dbmigrate_conn *c, const char *table,
				 const struct dbmigrate_stmt *stmts, size_t n,
				 const struct dbmigrate_row *record,
				 const char *unrecord_id)
{
	char name[MOCK_NAME_MAX];
	struct mock_state savepoint = { 0 };
	int have_savepoint = 0;
	size_t from = 0, failed = DBMIGRATE_NO_STATEMENT;
	dbmigrate_code rc;

	if ((rc = mock_sql_table_name(c, table, name)) != DBMIGRATE_OK)
		return rc;
	c->sql_code = DBMIGRATE_EMIGRATION;
	c->holding = c->limits.lock_retries > 0;
	c->held.set = 0;
	if (c->holding && c->in_tx && !c->aborted) {
		if (mock_state_copy(&savepoint, &c->state) != 0) {
			c->holding = 0;
			c->sql_code = DBMIGRATE_EDATABASE;
			return mock_nomem(c);
		}
		have_savepoint = 1;
	}
	for (unsigned attempt = 1;; attempt++) {
		rc = mock_apply_once(c, name, stmts, from, n, record,
				     unrecord_id, &failed);
		if (rc == DBMIGRATE_OK || !mock_held_lock_failure(c) ||
		    attempt > c->limits.lock_retries ||
		    (c->in_tx && !have_savepoint) || mock_interrupted(c))
			break;
		if (c->in_tx) {
			/* ROLLBACK TO SAVEPOINT: as before the migration. */
			mock_state_free(&c->state);
			if (mock_state_copy(&c->state, &savepoint) != 0) {
				c->holding = 0;
				rc = mock_nomem(c);
				break;
			}
			c->aborted = 0;
			mock_log_line(c, "ROLLBACK TO SAVEPOINT", 21);
		} else if (failed != DBMIGRATE_NO_STATEMENT) {
			from = failed; /* those before it have committed */
		}
		if (mock_retry_wait(c, attempt)) {
			c->holding = 0;
			rc = mock_report(c, DBMIGRATE_EINTERRUPTED, NULL, NULL,
					 "interrupted while waiting to retry "
					 "the migration");
			break;
		}
	}
	mock_release_held(c);
	if (have_savepoint)
		mock_state_free(&savepoint);
	c->sql_code = DBMIGRATE_EDATABASE;
	return rc;
}

/*
 * Optional. Run n migrations of one transaction as n apply()
 * calls would, in order; on failure *failed names the one that failed
 * (those before it ran, those after it did not). A server driver sends
 * them in as few round trips as it can; the mock has none to save, so it
 * is apply() in a loop, which is also the simplest correct version.
 */
static dbmigrate_code mock_apply_batch(dbmigrate_conn *c, const char *table,
				       const struct dbmigrate_batch_item *items,
				       size_t n, size_t *failed)
{
	*failed = 0;
	for (size_t k = 0; k < n; k++) {
		dbmigrate_code rc = mock_apply(c, table, items[k].stmts,
					       items[k].n, items[k].record,
					       items[k].unrecord_id);

		if (rc != DBMIGRATE_OK) {
			*failed = k;
			return rc;
		}
	}
	return DBMIGRATE_OK;
}

/*
 * Optional. Keep the limits for the apply() calls that follow:
 * a sleep=MS statement longer than the statement timeout fails with
 * 57014, and lock_retries retries a busy=TEXT statement's 55P03. The
 * mock has no locks to wait for, so lock_timeout only needs to be valid.
 */
static dbmigrate_code mock_configure(dbmigrate_conn *c,
				     const struct dbmigrate_settings *s)
{
	if (drvkit_settings(s, &c->limits) != 0)
		return mock_report(c, DBMIGRATE_EUSAGE, NULL, NULL,
				   "mock: invalid limits (negative or not a "
				   "number)");
	return DBMIGRATE_OK;
}

/*
 * Mandatory. Split a migration's text into statements: the mock speaks
 * PostgreSQL's dialect, so it takes the host's PostgreSQL splitter (a
 * driver of another dialect splits as its backend's client does, and
 * reports each statement's byte range to fn). Needs no connection.
 */
static dbmigrate_code mock_split(const struct dbmigrate_host *host,
				 const char *text, size_t len,
				 dbmigrate_span_fn fn, void *ctx,
				 struct dbmigrate_split_error *err)
{
	return host->split_postgres(text, len, fn, ctx, err);
}

/*
 * Optional. What a statement is, as PostgreSQL would have it: the
 * transaction control the host's shared classifier recognises, and the
 * statements PostgreSQL refuses inside a transaction block (with the
 * reason the plan shows). So that the core's paths for other dialects
 * are tested without their servers, a statement holding the comment
 * MOCK_IMPLICIT_COMMIT commits on its own, as DDL does on MySQL, and one
 * holding MOCK_EDGE is a setting a transaction would ignore, as SQLite's
 * PRAGMA foreign_keys (the comment must lie inside the statement:
 * comments before it are not part of it). Needs no connection.
 */
static void mock_classify(const struct dbmigrate_host *host, const char *sql,
			  size_t len, struct dbmigrate_stmt_class *out)
{
	const char *reason;

	host->classify_txcontrol(DBMIGRATE_LEX_POSTGRES, sql, len, out);
	if (out->flags != 0)
		return;
	if ((reason = mock_sql_refusal(host, sql, len)) != NULL) {
		out->flags |= DBMIGRATE_STMT_NO_TRANSACTION;
		out->reason = reason;
	}
	if (mock_contains(sql, len, MOCK_IMPLICIT_COMMIT)) {
		out->flags |= DBMIGRATE_STMT_IMPLICIT_COMMIT;
		out->reason = "mock: the statement commits on its own";
	}
	if (mock_contains(sql, len, MOCK_EDGE)) {
		out->flags |= DBMIGRATE_STMT_NO_TRANSACTION | DBMIGRATE_STMT_EDGE;
		out->reason = "mock: a setting a transaction would ignore";
	}
}

/*
 * Optional here (mandatory for a driver whose DDL commits on its own).
 * Outside a transaction, write row, its progress included, replacing a
 * row with its id, and commit (the state file is rewritten, as a server
 * makes a commit durable).
 */
static dbmigrate_code mock_record_progress(dbmigrate_conn *c, const char *table,
					   const struct dbmigrate_row *row)
{
	char name[MOCK_NAME_MAX];
	struct mock_table *t;
	dbmigrate_code rc;
	long at;
	int implicit;

	if (c->in_tx)
		return mock_report(c, DBMIGRATE_EDATABASE, NULL, NULL,
				   "mock: record_progress() inside a transaction");
	if (++c->progress_calls == c->progress_fail)
		return mock_report(c, DBMIGRATE_EDATABASE, NULL, NULL,
				   "mock: progress write %u failed",
				   c->progress_calls);
	if ((rc = mock_sql_table_name(c, table, name)) != DBMIGRATE_OK)
		return rc;
	if ((rc = mock_change_begin(c, &implicit)) != DBMIGRATE_OK)
		return rc;
	t = mock_state_table_find(&c->state, name);
	if (t != NULL && (at = mock_state_row_find(t, row->id)) >= 0)
		mock_state_row_delete(t, (size_t)at);
	return mock_change_end(c, implicit, mock_track(c, name, row, NULL));
}

/*
 * Optional. Cancel the running statement: a sleep=MS statement ends
 * with 57014. Async-signal-safe (it only sets a flag), since the core
 * calls it from a signal handler.
 */
static void mock_cancel(dbmigrate_conn *c)
{
	if (c != NULL)
		c->cancelled = 1;
}

/*
 * Optional (ABI 4). The columns of an ordinary table (one a migration
 * made with CREATE TABLE), in order; *exists 0 when the catalogue has
 * no such table. The mock keeps no data: mock-data.c replays the
 * journal.
 */
static dbmigrate_code mock_table_columns(dbmigrate_conn *c, const char *table,
					 int *exists, dbmigrate_name_fn fn,
					 void *ctx)
{
	dbmigrate_code rc = mock_read_begin(c);

	*exists = 0;
	return rc != DBMIGRATE_OK ? rc : mock_data_columns(c, table, exists, fn, ctx);
}

/*
 * Optional (ABI 4). The named columns of every row INSERT statements
 * put in an ordinary table, as text (booleans "t"/"f", as PostgreSQL
 * renders them); 42P01 or 42703 as PostgreSQL for a missing table or
 * column.
 */
static dbmigrate_code mock_read_table(dbmigrate_conn *c, const char *table,
				      const char *const *columns,
				      size_t ncolumns, dbmigrate_values_fn fn,
				      void *ctx)
{
	dbmigrate_code rc = mock_read_begin(c);

	return rc != DBMIGRATE_OK ? rc
				  : mock_data_read(c, table, columns, ncolumns,
						   fn, ctx);
}

/* The vtable: identity first, then the operations (see driver.h). */
static const struct dbmigrate_driver mock_driver = {
	.abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
	.struct_size = sizeof(struct dbmigrate_driver),
	.name = "mock",
	.description = "a fake database in memory (mock:) or in a file "
		       "(mock:PATH), with fault injection, for tests",
	.caps = DBMIGRATE_CAP_TRANSACTIONAL_DDL | DBMIGRATE_CAP_LOCK |
		DBMIGRATE_CAP_CANCEL,
	.backend = "the mock database",
	.lock_kind = "an exclusive flock(2) on PATH.lock, polled",
	/* As PostgreSQL, which the mock emulates where a core bug would
	   show (the plan's warning is the core's). */
	.lock_table_note = "PostgreSQL: \"out of shared memory\", "
			   "max_locks_per_transaction",
	.split = mock_split,
	.classify = mock_classify,
	.open = mock_open,
	.close = mock_close,
	.cancel = mock_cancel,
	.configure = mock_configure,
	.begin = mock_begin,
	.commit = mock_commit,
	.rollback = mock_rollback,
	.lock = mock_lock,
	.unlock = mock_unlock,
	.ensure_table = mock_ensure_table,
	.table_exists = mock_table_exists,
	.read_rows = mock_read_rows,
	.read_rows_brief = mock_read_rows_brief,
	.drop_table = mock_drop_table,
	.record_progress = mock_record_progress,
	.apply = mock_apply,
	.apply_batch = mock_apply_batch,
	.scratch_open = mock_scratch_open,
	.scratch_close = mock_scratch_close,
	.snapshot = mock_snapshot,
	.table_columns = mock_table_columns,
	.read_table = mock_read_table,
};

DBMIGRATE_DRIVER_DEFINE(mock_driver)
