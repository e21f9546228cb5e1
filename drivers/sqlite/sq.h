/*
 * sq.h - what the files of the SQLite driver share: the connection and
 * the few functions one file offers the others. Private to
 * drivers/sqlite/; the module exports only dbmigrate_driver_entry.
 *
 * The files by job: sq.c (the vtable, the URL, opening the file,
 * transactions, limits, cancel), sq-split.c (the dialect's splitter, no
 * libsqlite3 needed), sq-classify.c (what a statement is), sq-exec.c
 * (running statements, errors with SQLite's extended result code),
 * sq-apply.c (a migration and its tracking row), sq-lock.c (the runner
 * lock), sq-table.c (the tracking table, other tools' tables),
 * sq-snapshot.c (verify's scratch database and schema), sq-lint.c (the
 * SQLite hazards of `dbmigrate lint`).
 */
#ifndef DBMIGRATE_SQ_H
#define DBMIGRATE_SQ_H

#include <stddef.h>

#include <sqlite3.h>

#include "dbmigrate/driver.h"
#include "sq-split.h"

#include "../common/drvkit.h"

#define SQ_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* What sqlite3_busy_timeout() would be when nothing says otherwise:
   another connection's lock (an application's reader or writer) is
   waited for this long before a statement fails with SQLITE_BUSY. */
#define SQ_BUSY_DEFAULT 60.0

/* A connection: everything the driver keeps between calls. */
struct dbmigrate_conn {
	const struct dbmigrate_host *host;
	sqlite3 *db;
	char *path;         /* the database file as opened (absolute), or
			       ":memory:" */
	int memory;         /* an in-memory database: nothing to lock */
	int scratch;        /* made by scratch_open(): its files go with it */
	int lock_fd;        /* the runner lock's file, or -1 */
	struct dbmigrate_settings limits; /* from configure() */
	double busy_wait;   /* seconds another connection's lock is waited
			       for unless limits.lock_timeout says: lock()'s
			       timeout, else SQ_BUSY_DEFAULT */
	double busy_start;  /* when the current wait began */
	int busy_logged;    /* the current wait was reported */
	int watch;          /* a migration's statement runs: an interrupt
			       stops it (not the driver's own ROLLBACK) */
	double deadline;    /* the running statement's end (statement
			       timeout), monotonic seconds, or 0 */
	int timed_out;      /* the progress handler stopped it for that */
	sqlite3_stmt *insert; /* the tracking row's INSERT, kept for */
	sqlite3_stmt *remove; /* and its DELETE, kept for */
	char *prepared_for; /* the table they were prepared for */
};

/* sq.c: open a database file with the connection's settings (foreign
   keys on, the busy handler, extended result codes); path must exist
   or be creatable. */
dbmigrate_code sq_open_path(const struct dbmigrate_host *host,
			    const char *path, int create, dbmigrate_conn **out);

/* sq.c: free a connection (closing its database, releasing its lock). */
void sq_close(dbmigrate_conn *c);

/* sq-exec.c: running statements and reporting errors. */

/* Report an error the driver itself found (returns code), running out
   of memory (DBMIGRATE_ENOMEM), log a formatted message: drvkit's. */
#define sq_error(c, ...) drvkit_error((c)->host, __VA_ARGS__)
#define sq_nomem(c) drvkit_nomem((c)->host)
#define sq_log(c, ...) drvkit_log((c)->host, __VA_ARGS__)

/* The name of an extended result code ("SQLITE_CONSTRAINT_FOREIGNKEY"). */
const char *sq_code_name(int code);

/*
 * Report what SQLite said of the last call on c->db (rc its result):
 * its message, its extended result code's name as backend_code, the
 * character position of sqlite3_error_offset() in sql (when sql is not
 * NULL), what (when not NULL) before the message. SQLITE_INTERRUPT
 * becomes DBMIGRATE_EINTERRUPTED, or a statement timeout. Returns the
 * code reported.
 */
dbmigrate_code sq_fail(dbmigrate_conn *c, dbmigrate_code code, int rc,
		       const char *sql, size_t statement, const char *what);

/*
 * Run the SQL text sql (len bytes; sql[len] is '\0'), every statement
 * in it, to the end, under the statement timeout. For a PRAGMA
 * foreign_key_check or integrity_check, rows that report a problem are
 * a failure. On failure reports it (statement: the index to name) and
 * returns the code.
 */
dbmigrate_code sq_exec(dbmigrate_conn *c, const char *sql, size_t len,
		       size_t statement);

/* Run a statement of the driver's own (NUL-terminated) to the end;
   what prefixes a failure's message. */
dbmigrate_code sq_exec_own(dbmigrate_conn *c, const char *sql,
			   const char *what);

/* Prepare a statement of the driver's own; NULL with the error reported. */
sqlite3_stmt *sq_prepare(dbmigrate_conn *c, const char *sql,
			 const char *what);

/* Step st to the end, discarding rows; SQLITE_DONE or an error code. */
int sq_step_all(dbmigrate_conn *c, sqlite3_stmt *st);

/* Arm the limits for one statement (its deadline, a fresh busy wait). */
void sq_exec_arm(dbmigrate_conn *c);

/* Append s quoted as an identifier ("x", "" doubling a quote). */
void sq_text_ident(struct drvkit_text *t, const char *s, size_t len);

/* sq-table.c: the tracking table and other tools' tables. */

/* Append table ("name" or "schema.name") to t, each part quoted. */
void sq_table_quoted(struct drvkit_text *t, const char *table);

/* The unqualified name of table (after the first dot, if any). */
const char *sq_table_base(const char *table);

dbmigrate_code sq_table_ensure(dbmigrate_conn *c, const char *table);
dbmigrate_code sq_table_exists(dbmigrate_conn *c, const char *table,
			       int *exists);
dbmigrate_code sq_table_read(dbmigrate_conn *c, const char *table,
			     dbmigrate_row_fn fn, void *ctx);
dbmigrate_code sq_table_read_brief(dbmigrate_conn *c, const char *table,
				   dbmigrate_row_fn fn, void *ctx);
dbmigrate_code sq_table_drop(dbmigrate_conn *c, const char *table);
dbmigrate_code sq_table_columns(dbmigrate_conn *c, const char *table,
				int *exists, dbmigrate_name_fn fn, void *ctx);
dbmigrate_code sq_table_read_any(dbmigrate_conn *c, const char *table,
				 const char *const *columns, size_t ncolumns,
				 dbmigrate_values_fn fn, void *ctx);

/* sq-apply.c: running migrations. */
dbmigrate_code sq_apply(dbmigrate_conn *c, const char *table,
			const struct dbmigrate_stmt *stmts, size_t n,
			const struct dbmigrate_row *record,
			const char *unrecord_id);
/* Forget the tracking row statements kept (before the table changes). */
void sq_apply_forget(dbmigrate_conn *c);

/* sq-lock.c: the runner lock. */
dbmigrate_code sq_lock(dbmigrate_conn *c, const char *table, double timeout);
dbmigrate_code sq_unlock(dbmigrate_conn *c, const char *table);
/* Release the lock, if held (close()). */
void sq_lock_release(dbmigrate_conn *c);

/* sq-classify.c: splitting (sq-split.c's), and what a statement is. */
dbmigrate_code sq_split(const struct dbmigrate_host *host, const char *text,
			size_t len, dbmigrate_span_fn fn, void *ctx,
			struct dbmigrate_split_error *err);
void sq_classify(const struct dbmigrate_host *host, const char *sql,
		 size_t len, struct dbmigrate_stmt_class *out);
/* The PRAGMA a statement runs ("foreign_key_check", without a schema),
   its length in *name_len, *assigns set when it sets a value (= or
   parentheses); NULL for another statement. */
const char *sq_classify_pragma(const struct dbmigrate_host *host,
			       const char *sql, size_t len, size_t *name_len,
			       int *assigns);

/* sq-snapshot.c: verify's scratch database and schema snapshot. */
dbmigrate_code sq_scratch_open(dbmigrate_conn *c, dbmigrate_conn **out);
dbmigrate_code sq_scratch_close(dbmigrate_conn *c, dbmigrate_conn *scratch);
dbmigrate_code sq_snapshot(dbmigrate_conn *c, const char *table,
			   dbmigrate_line_fn fn, void *ctx);

/* sq-lint.c: the SQLite rules of `dbmigrate lint` (no connection). */
dbmigrate_code sq_lint(const struct dbmigrate_host *host, const char *sql,
		       size_t len, dbmigrate_lint_fn fn, void *ctx);

/* The lexical rules of SQLite for host->words(): "x", `x` and [x] are
   identifiers, '' strings, -- and non-nesting block comments. */
#define SQ_LEX                                                        \
	(DBMIGRATE_LEX_DQUOTE_IDENT | DBMIGRATE_LEX_BACKTICK_IDENT |  \
	 DBMIGRATE_LEX_BRACKET_IDENT)

#endif
