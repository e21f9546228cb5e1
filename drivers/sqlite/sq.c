/*
 * sq.c - the SQLite driver: its vtable, the URL, opening the database
 * file, transactions, limits and cancelling. The dialect, running
 * statements, migrations, the runner lock, the tracking table, verify
 * and lint live in sq-split.c, sq-classify.c, sq-exec.c, sq-apply.c,
 * sq-lock.c, sq-table.c, sq-snapshot.c and sq-lint.c.
 *
 * URLs: sqlite:PATH, sqlite://PATH, sqlite3:PATH and sqlite3://PATH; a
 * relative PATH is from the working directory, sqlite:///abs/path is
 * absolute, %XX escapes are decoded, and sqlite::memory: is a database
 * in memory that lives for one run. The file is created when missing,
 * never its directory.
 *
 * Every connection enforces foreign keys (PRAGMA foreign_keys=ON, as
 * Rails and Django do), reports extended result codes, and waits for
 * another connection's lock (an application's reader or writer) through
 * a busy handler of its own, which the user's interrupt ends; a
 * progress handler stops a statement at its statement timeout or at an
 * interrupt. A batch is one BEGIN IMMEDIATE transaction: the write lock
 * is taken at its start, so no statement of it can fail later for want
 * of it. The driver keeps no global state.
 */
#include "sq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/drvkit.h"

/* VM instructions between two calls of the progress handler. */
#define SQ_PROGRESS_OPS 1000

/* The hint for a URL the driver cannot read. */
#define SQ_URL_HINT                                                      \
	"Write the database file as sqlite:PATH (relative to the working " \
	"directory), sqlite:///ABSOLUTE/PATH, or sqlite::memory: for a "   \
	"database that lives for one run."

/*
 * The busy handler: another connection holds a lock the statement
 * needs. Wait for it (1 ms, doubling to 50 ms between tries) until the
 * busy wait is over or the user interrupts, saying so once a wait lasts
 * a second. Returns 0 to give up (SQLITE_BUSY).
 */
static int sq_busy(void *arg, int count)
{
	dbmigrate_conn *c = arg;
	double now = drvkit_now(), limit, waited, nap;

	if (count == 0)
		c->busy_start = now;
	limit = c->limits.lock_timeout > 0 ? c->limits.lock_timeout
					   : c->busy_wait;
	waited = now - c->busy_start;
	if (c->host->interrupted(c->host->ctx) || waited >= limit)
		return 0;
	if (!c->busy_logged && waited >= 1.0) {
		c->busy_logged = 1;
		sq_log(c, DBMIGRATE_LOG_LOCK_WAIT,
		       "waiting up to %g s for another connection's lock on "
		       "%s",
		       limit, c->path);
	}
	nap = count < 6 ? (double)(1 << count) / 1000 : 0.05;
	if (nap > limit - waited)
		nap = limit - waited;
	(void)drvkit_nap(c->host, nap, 0.05);
	return 1;
}

/* The progress handler: stop the statement at its deadline, or when the
   user interrupts a migration's statement. Nonzero stops it. */
static int sq_progress(void *arg)
{
	dbmigrate_conn *c = arg;

	if (c->deadline > 0 && drvkit_now() > c->deadline) {
		c->timed_out = 1;
		return 1;
	}
	return c->watch && c->host->interrupted(c->host->ctx);
}

/* Free c and what it holds; the database closes (an open transaction
   rolls back) and the runner lock is released. */
void sq_close(dbmigrate_conn *c)
{
	if (c == NULL)
		return;
	sq_apply_forget(c);
	if (c->db != NULL)
		sqlite3_close_v2(c->db);
	sq_lock_release(c);
	free(c->path);
	free(c);
}

/* Run sql on a connection being opened; a failure is DBMIGRATE_ECONNECT
   naming the file. */
static dbmigrate_code sq_open_exec(dbmigrate_conn *c, const char *sql)
{
	char what[4200];
	sqlite3_stmt *st = NULL;
	int r = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	dbmigrate_code rc = DBMIGRATE_OK;

	if (r == SQLITE_OK) {
		r = sq_step_all(c, st);
		if (r == SQLITE_DONE)
			r = SQLITE_OK;
	}
	if (r != SQLITE_OK) {
		snprintf(what, sizeof what, "cannot open SQLite database %s",
			 c->path);
		rc = sq_fail(c, DBMIGRATE_ECONNECT, r, NULL,
			     DBMIGRATE_NO_STATEMENT, what);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Open path (created when create is set) with the connection's
   settings; see sq.h. */
dbmigrate_code sq_open_path(const struct dbmigrate_host *host,
			    const char *path, int create, dbmigrate_conn **out)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE |
		    (create ? SQLITE_OPEN_CREATE : 0);
	dbmigrate_conn *c = calloc(1, sizeof *c);
	dbmigrate_code rc;
	int r;

	*out = NULL;
	if (c == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		return drvkit_error(host, DBMIGRATE_ENOMEM, NULL, NULL,
				    "out of memory");
	}
	c->host = host;
	c->lock_fd = -1;
	c->busy_wait = SQ_BUSY_DEFAULT;
	c->memory = strcmp(path, ":memory:") == 0;
	r = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (r != SQLITE_OK) {
		rc = sq_error(c, DBMIGRATE_ECONNECT, NULL, NULL,
			      "cannot open SQLite database %s: %s", path,
			      c->db != NULL ? sqlite3_errmsg(c->db)
					    : sqlite3_errstr(r));
		sq_close(c);
		return rc;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_handler(c->db, sq_busy, c);
	sqlite3_progress_handler(c->db, SQ_PROGRESS_OPS, sq_progress, c);
	/* Reading the schema proves the file is a database (or empty). */
	rc = sq_open_exec(c, "PRAGMA foreign_keys = ON");
	if (rc == DBMIGRATE_OK)
		rc = sq_open_exec(c, "SELECT count(*) FROM sqlite_schema");
	if (rc != DBMIGRATE_OK) {
		sq_close(c);
		return rc;
	}
	*out = c;
	return DBMIGRATE_OK;
}

/*
 * The path of a URL (or of a bare path given as the database name):
 * scheme and "//" taken off, %XX decoded, made absolute from the working
 * directory. NULL with the error reported.
 */
static char *sq_url_path(const struct dbmigrate_host *host, const char *url,
			 int is_url)
{
	const char *rest = url;
	char cwd[4096], *path, *w;
	size_t n;

	if (is_url) {
		if (strncasecmp(url, "sqlite3:", 8) == 0)
			rest = url + 8;
		else if (strncasecmp(url, "sqlite:", 7) == 0)
			rest = url + 7;
		else {
			drvkit_error(host, DBMIGRATE_ECONNECT, NULL, SQ_URL_HINT,
				     "sqlite: the URL does not start with "
				     "\"sqlite:\" or \"sqlite3:\"");
			return NULL;
		}
		if (rest[0] == '/' && rest[1] == '/')
			rest += 2;
		if (strchr(rest, '?') != NULL) {
			drvkit_error(host, DBMIGRATE_ECONNECT, NULL,
				     "Write the path alone; a ? in a file "
				     "name is written %3F.",
				     "sqlite: the URL has parameters (after "
				     "\"?\"), which the sqlite driver does "
				     "not take");
			return NULL;
		}
	}
	if (*rest == '\0') {
		drvkit_error(host, DBMIGRATE_ECONNECT, NULL, SQ_URL_HINT,
			     "sqlite: the URL names no database file");
		return NULL;
	}
	if (strcmp(rest, ":memory:") == 0)
		return strdup(rest);
	cwd[0] = '\0';
	if (rest[0] != '/' && getcwd(cwd, sizeof cwd) == NULL) {
		drvkit_error(host, DBMIGRATE_ECONNECT, NULL, NULL,
			     "sqlite: cannot tell the working directory: %s",
			     strerror(errno));
		return NULL;
	}
	n = strlen(cwd) + strlen(rest) + 2;
	if ((path = malloc(n)) == NULL) {
		drvkit_error(host, DBMIGRATE_ENOMEM, NULL, NULL,
			     "out of memory");
		return NULL;
	}
	w = path;
	if (cwd[0] != '\0') {
		w += snprintf(path, n, "%s", cwd);
		if (w == path || w[-1] != '/')
			*w++ = '/';
	}
	for (const char *p = rest; *p != '\0'; p++) {
		if (*p == '%' && drvkit_hex(p[1]) >= 0 && drvkit_hex(p[2]) >= 0) {
			*w++ = (char)(drvkit_hex(p[1]) * 16 + drvkit_hex(p[2]));
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return path;
}

/*
 * Check that path can be a database: its directory exists and is one,
 * and path is not a directory itself. The error names what is missing.
 */
static dbmigrate_code sq_check_path(const struct dbmigrate_host *host,
				    const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct stat st;
	dbmigrate_code rc = DBMIGRATE_OK;

	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode)
			       ? drvkit_error(host, DBMIGRATE_ECONNECT, NULL,
					      "Name a file in it instead, "
					      "e.g. sqlite:DIR/app.db.",
					      "sqlite: %s is a directory, not "
					      "a database file",
					      path)
			       : DBMIGRATE_OK;
	if (slash == NULL || slash == path)
		return DBMIGRATE_OK;
	if ((dir = strndup(path, (size_t)(slash - path))) == NULL)
		return drvkit_error(host, DBMIGRATE_ENOMEM, NULL, NULL,
				    "out of memory");
	if (stat(dir, &st) != 0)
		rc = drvkit_error(host, DBMIGRATE_ECONNECT, NULL,
				  "Create the directory first: the sqlite "
				  "driver creates the database file when it "
				  "is missing, but not its directory.",
				  "cannot create SQLite database %s: directory "
				  "%s: %s",
				  path, dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = drvkit_error(host, DBMIGRATE_ECONNECT, NULL, NULL,
				  "cannot create SQLite database %s: %s is not "
				  "a directory",
				  path, dir);
	free(dir);
	return rc;
}

/* Connect: the URL's file, opened (created when missing); see driver.h. */
static dbmigrate_code sq_open(const struct dbmigrate_host *host,
			      const struct dbmigrate_params *p,
			      dbmigrate_conn **out)
{
	const char *src = p->url != NULL ? p->url : p->database;
	char *path;
	dbmigrate_code rc;

	*out = NULL;
	if (src == NULL)
		return drvkit_error(host, DBMIGRATE_ECONNECT, NULL,
				    SQ_URL_HINT,
				    "sqlite: no database file given");
	if ((path = sq_url_path(host, src, p->url != NULL)) == NULL)
		return DBMIGRATE_ECONNECT;
	rc = strcmp(path, ":memory:") == 0 ? DBMIGRATE_OK
					   : sq_check_path(host, path);
	if (rc == DBMIGRATE_OK)
		rc = sq_open_path(host, path, 1, out);
	if (rc == DBMIGRATE_OK)
		sq_log(*out, DBMIGRATE_LOG_DEBUG,
		       "opened SQLite %s database %s", sqlite3_libversion(),
		       path);
	free(path);
	return rc;
}

/* Disconnect; see driver.h. */
static void sq_driver_close(dbmigrate_conn *c)
{
	sq_close(c);
}

/* Stop the running statement: sqlite3_interrupt() only sets a flag the
   statement checks, so it is safe in a signal handler. */
static void sq_cancel(dbmigrate_conn *c)
{
	if (c != NULL && c->db != NULL)
		sqlite3_interrupt(c->db);
}

/*
 * Keep the limits for the statements that follow: statement_timeout
 * through the progress handler, lock_timeout as the busy wait (0: the
 * runner lock's timeout). lock_retries has nothing to retry: SQLite's
 * only lock is the whole database's, and BEGIN IMMEDIATE waits for it.
 */
static dbmigrate_code sq_configure(dbmigrate_conn *c,
				   const struct dbmigrate_settings *s)
{
	if (drvkit_settings(s, &c->limits) != 0)
		return sq_error(c, DBMIGRATE_EUSAGE, NULL, NULL,
				"sqlite: invalid limits (negative or not a "
				"number)");
	return DBMIGRATE_OK;
}

/* BEGIN IMMEDIATE: the write lock now, waited for by the busy handler
   (an interrupt ends the wait: DBMIGRATE_EINTERRUPTED). */
static dbmigrate_code sq_begin(dbmigrate_conn *c)
{
	return sq_exec_own(c, "BEGIN IMMEDIATE", "cannot start a transaction");
}

/* COMMIT. A failure (a deferred foreign key) is the migrations'. */
static dbmigrate_code sq_commit(dbmigrate_conn *c)
{
	sqlite3_stmt *st = sq_prepare(c, "COMMIT", "cannot commit");
	dbmigrate_code rc = DBMIGRATE_OK;
	int r;

	if (st == NULL)
		return DBMIGRATE_EDATABASE;
	r = sq_step_all(c, st);
	if (r != SQLITE_DONE)
		rc = sq_fail(c, (r & 0xff) == SQLITE_CONSTRAINT
					? DBMIGRATE_EMIGRATION
					: DBMIGRATE_EDATABASE,
			     r, NULL, DBMIGRATE_NO_STATEMENT,
			     "cannot commit the transaction");
	sqlite3_finalize(st);
	return rc;
}

/*
 * ROLLBACK, unless SQLite already rolled the transaction back (as it
 * does after some errors: SQLITE_FULL, SQLITE_NOMEM, an interrupt).
 * Foreign keys are then enforced again: a migration that turned them
 * off before its transaction did not reach the statement turning them
 * back on.
 */
static dbmigrate_code sq_rollback(dbmigrate_conn *c)
{
	dbmigrate_code rc = DBMIGRATE_OK;

	if (!sqlite3_get_autocommit(c->db))
		rc = sq_exec_own(c, "ROLLBACK",
				 "cannot roll back the transaction");
	if (rc == DBMIGRATE_OK)
		rc = sq_exec_own(c, "PRAGMA foreign_keys = ON",
				 "cannot enable foreign keys");
	return rc;
}

/* The URL schemes the driver serves besides its name. */
static const char *const sq_schemes[] = { "sqlite3", NULL };

static const struct dbmigrate_driver sq_driver = {
	.abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
	.struct_size = sizeof(struct dbmigrate_driver),
	.name = "sqlite",
	.description = "SQLite through libsqlite3 (sqlite:PATH)",
	.caps = DBMIGRATE_CAP_TRANSACTIONAL_DDL | DBMIGRATE_CAP_LOCK |
		DBMIGRATE_CAP_CANCEL,
	.backend = "SQLite",
	.schemes = sq_schemes,
	.lock_kind = "an exclusive lock (fcntl F_OFD_SETLK) on "
		     "DATABASE-dbmigrate.lock, which holds the holder's pid; "
		     "polled",
	.lock_table_note = NULL,
	.split = sq_split,
	.classify = sq_classify,
	.open = sq_open,
	.close = sq_driver_close,
	.cancel = sq_cancel,
	.configure = sq_configure,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.lock = sq_lock,
	.unlock = sq_unlock,
	.ensure_table = sq_table_ensure,
	.table_exists = sq_table_exists,
	.read_rows = sq_table_read,
	.read_rows_brief = sq_table_read_brief,
	.drop_table = sq_table_drop,
	.apply = sq_apply,
	.scratch_open = sq_scratch_open,
	.scratch_close = sq_scratch_close,
	.snapshot = sq_snapshot,
	.lint = sq_lint,
	.table_columns = sq_table_columns,
	.read_table = sq_table_read_any,
};

DBMIGRATE_DRIVER_DEFINE(sq_driver)
