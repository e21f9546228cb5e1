/*
 * pg.h - what the files of the PostgreSQL driver share: the connection
 * and the few functions one file offers the others. Private to
 * drivers/postgres/; the module exports only dbmigrate_driver_entry.
 */
#ifndef DBMIGRATE_PG_H
#define DBMIGRATE_PG_H

#include <stddef.h>

#include <libpq-fe.h>

#include "dbmigrate/driver.h"

#include "../common/drvkit.h"

#define PG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* A connection: everything the driver keeps between calls. */
struct dbmigrate_conn {
	const struct dbmigrate_host *host;
	PGconn *pg;
	PGcancel *cancel;   /* made at open(), so cancel() allocates nothing */
	int server_version; /* PQserverVersion(), e.g. 150004 */
	int cancel_sent;    /* the wait loop cancelled the running work */
	int locked;	    /* lock() holds the advisory lock below */
	char lock_key[24];  /* its key as text; kept so that unlock() frees
			       the same key even if a migration changed
			       search_path since */
	struct dbmigrate_settings limits; /* from configure(), for apply() */
	int limits_used;    /* configure() ever set a limit: apply() then
			       sets both for every migration, DEFAULT for
			       an unset one, so none leaks into the next */
	int citus;	    /* the server runs Citus (citus.version is set):
			       1 yes, 0 no, -1 not asked yet. Learnt with
			       the lock's first query, else asked by apply()
			       once, when a migration needs to know */
};

/* A tracking table name, split and quoted. */
struct pg_table {
	char *schema; /* as given, or NULL when unqualified */
	char *name;   /* as given */
	char *quoted; /* "schema"."name" or "name", ready for SQL text */
};

/* Flags for pg_exec_run(). */
#define PG_EXEC_SIMPLE 0x1u	 /* simple protocol (PQsendQuery) */
#define PG_EXEC_CANCELLABLE 0x2u /* cancel it when the user interrupts */

/* pg-exec.c: running statements and reporting errors. */

/*
 * Run one statement and wait for it, polling so that an interrupt is
 * noticed. Returns the result that decides (the first failure, else the
 * last), or NULL when it could not be sent (see PQerrorMessage). A COPY
 * is ended at once and its result returned: pg_exec_ok() refuses it.
 */
PGresult *pg_exec_run(dbmigrate_conn *c, const char *sql, int nparams,
		      const char *const *params, unsigned flags);

/*
 * Send what libpq holds in its output buffer; -1 on a broken connection.
 * Whoever sends a cancellable statement without pg_exec_run() clears
 * c->cancel_sent first.
 */
int pg_exec_flush(dbmigrate_conn *c, unsigned flags);

/*
 * The next result of the query string in flight, waiting for it without
 * blocking; NULL when there is none left (or the link broke: see
 * PQstatus()). A COPY is ended at once: its data is read and dropped,
 * or refused; pg_exec_ok() refuses its result.
 */
PGresult *pg_exec_next(dbmigrate_conn *c, unsigned flags);

/*
 * Collect the results of one query string: read until PQgetResult()
 * returns NULL, keeping the deciding one as pg_exec_run() does.
 */
PGresult *pg_exec_collect(dbmigrate_conn *c, unsigned flags);

/* True when res is a success (NULL is not). */
int pg_exec_ok(const PGresult *res);

/*
 * Report the failure res stands for (or the connection's error when res
 * is NULL) through host->error(): the server's message, detail, hint,
 * SQLSTATE and position, what (when not NULL) prefixed to the message.
 * A statement cancelled while the user interrupts becomes
 * DBMIGRATE_EINTERRUPTED. Returns the code reported.
 */
dbmigrate_code pg_exec_fail(dbmigrate_conn *c, dbmigrate_code code,
			    const PGresult *res, size_t statement,
			    const char *what);

/*
 * pg_exec_fail() for a statement that was sent inside a longer query
 * string: skip is the number of characters before it in that string,
 * taken off the server's position so that it counts in the statement.
 */
dbmigrate_code pg_exec_fail_in(dbmigrate_conn *c, dbmigrate_code code,
			       const PGresult *res, size_t statement,
			       unsigned skip, const char *what);


/* Report an error the driver itself found (returns code), running out
   of memory (DBMIGRATE_ENOMEM), log a formatted message: drvkit's. */
#define pg_exec_error(c, ...) drvkit_error((c)->host, __VA_ARGS__)
#define pg_exec_nomem(c) drvkit_nomem((c)->host)
#define pg_exec_log(c, ...) drvkit_log((c)->host, __VA_ARGS__)

/* Send a cancel request for what c runs now; async-signal-safe. */
void pg_exec_cancel(dbmigrate_conn *c);

/* pg-table.c: the tracking table. */

/* Split and quote a table name ("name" or "schema.name"). */
dbmigrate_code pg_table_parse(dbmigrate_conn *c, const char *table,
			      struct pg_table *t);

/* Free what pg_table_parse() made. */
void pg_table_free(struct pg_table *t);

dbmigrate_code pg_table_ensure(dbmigrate_conn *c, const char *table);
dbmigrate_code pg_table_exists(dbmigrate_conn *c, const char *table,
			       int *exists);
dbmigrate_code pg_table_read(dbmigrate_conn *c, const char *table,
			     dbmigrate_row_fn fn, void *ctx);
/* pg_table_read() without the down SQL's text ("" when there is one). */
dbmigrate_code pg_table_read_brief(dbmigrate_conn *c, const char *table,
				   dbmigrate_row_fn fn, void *ctx);
dbmigrate_code pg_table_drop(dbmigrate_conn *c, const char *table);
/* The columns of any table (ABI 4). */
dbmigrate_code pg_table_columns(dbmigrate_conn *c, const char *table,
				int *exists, dbmigrate_name_fn fn, void *ctx);
/* The rows of any table, the named columns as text (ABI 4). */
dbmigrate_code pg_table_read_any(dbmigrate_conn *c, const char *table,
				 const char *const *columns, size_t ncolumns,
				 dbmigrate_values_fn fn, void *ctx);

/* pg-apply.c: running a migration. */
dbmigrate_code pg_apply(dbmigrate_conn *c, const char *table,
			const struct dbmigrate_stmt *stmts, size_t n,
			const struct dbmigrate_row *record,
			const char *unrecord_id);
/* pg-apply.c: several migrations of one transaction together (ABI 3). */
dbmigrate_code pg_apply_batch(dbmigrate_conn *c, const char *table,
			      const struct dbmigrate_batch_item *items,
			      size_t n, size_t *failed);

/* pg-apply.c: the limits on the migrations' statements (ABI 2). */
dbmigrate_code pg_apply_configure(dbmigrate_conn *c,
				  const struct dbmigrate_settings *s);

/* pg-apply.c: learn whether the server runs Citus, from the value of
   "current_setting('citus.version', true) IS NOT NULL" (PG_CITUS_SQL). */
#define PG_CITUS_SQL "current_setting('citus.version', true) IS NOT NULL"
void pg_apply_set_citus(dbmigrate_conn *c, const char *value);

/* pg-lock.c: the runner lock. */
dbmigrate_code pg_lock(dbmigrate_conn *c, const char *table, double timeout);
dbmigrate_code pg_lock_release(dbmigrate_conn *c, const char *table);

/* pg-classify.c: the dialect: splitting, transaction control, and the
   statements that cannot run in a transaction block. */
void pg_classify(const struct dbmigrate_host *host, const char *sql,
		 size_t len, struct dbmigrate_stmt_class *out);
dbmigrate_code pg_split(const struct dbmigrate_host *host, const char *text,
			size_t len, dbmigrate_span_fn fn, void *ctx,
			struct dbmigrate_split_error *err);

/* pg-snapshot.c: verify's scratch database and schema snapshot. */
dbmigrate_code pg_scratch_open(dbmigrate_conn *c, dbmigrate_conn **out);
dbmigrate_code pg_scratch_close(dbmigrate_conn *c, dbmigrate_conn *scratch);
dbmigrate_code pg_snapshot(dbmigrate_conn *c, const char *table,
			   dbmigrate_line_fn fn, void *ctx);

/* pg-lint.c: the PostgreSQL rules of `dbmigrate lint` (no connection). */
dbmigrate_code pg_lint(const struct dbmigrate_host *host, const char *sql,
		       size_t len, dbmigrate_lint_fn fn, void *ctx);

#endif
