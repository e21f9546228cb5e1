/*
 * mock.h - the mock driver's insides, shared by its three files: mock.c
 * (the connection, the URL, transactions, locking and the driver
 * operations: start reading there), mock-state.c (the emulated database
 * in memory and in its state file) and mock-sql.c (what the emulated
 * server checks: object names, statements refused in a transaction).
 * Nothing here leaves the driver, which exports only
 * dbmigrate_driver_entry.
 */
#ifndef DBMIGRATE_MOCK_H
#define DBMIGRATE_MOCK_H

#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include <dbmigrate/driver.h>
#include "../common/drvkit.h"

/* Shared between the driver's files, hidden from everyone else: the
   driver exports dbmigrate_driver_entry only, even when built without
   libtool's export list. */
#pragma GCC visibility push(hidden)

#define MOCK_NAME_MAX 200 /* a normalised name, db.schema.name, with room */

/* A statement holding this comment commits on its own (mock_classify). */
#define MOCK_IMPLICIT_COMMIT "/* mock:implicit-commit */"
/* One holding this is a setting a transaction would ignore, which may run
   just before or after the migration's own transaction. */
#define MOCK_EDGE "/* mock:edge */"

/* What the catalogue knows; tables, indexes, views and sequences are
   relations and share one namespace, as in PostgreSQL's pg_class. */
enum mock_kind {
	MOCK_TABLE,
	MOCK_INDEX,
	MOCK_VIEW,
	MOCK_SEQUENCE,
	MOCK_TYPE,
	MOCK_FUNCTION,
	MOCK_SCHEMA,
	MOCK_EXTENSION,
	MOCK_TRIGGER,
	MOCK_NKINDS
};

/* A kind's keyword and the SQLSTATEs PostgreSQL gives for it. */
struct mock_kind_info {
	const char *word;    /* keyword, lowercase; also its name in messages */
	int relation;	     /* shares the relation namespace */
	const char *exists;  /* SQLSTATE when the name is taken */
	const char *missing; /* SQLSTATE when it does not exist */
};

/* A row of a tracking table. */
struct mock_row {
	char *id;
	char *name;
	char *executed_at;
	char *checksum; /* NULL for rows of older tools */
	char *down_sql; /* the down SQL kept with the row, or NULL */
	char *progress; /* record_progress()'s note, or NULL when whole */
	int batch;
};

/* A tracking table: its normalised name and its rows, in insert order. */
struct mock_table {
	char *name;
	struct mock_row *rows;
	size_t nrows;
};

/* An object of the catalogue. */
struct mock_object {
	enum mock_kind kind;
	char *name;  /* normalised; a trigger's own name */
	char *owner; /* the relation of an index or trigger, else NULL */
};

/* Everything the emulated database holds. */
struct mock_state {
	struct mock_table *tables;
	size_t ntables;
	struct mock_object *objects;
	size_t nobjects;
	char **journal; /* committed statements, oldest first */
	size_t njournal;
};

/* A connection: the database, its options and the session. */
struct dbmigrate_conn {
	const struct dbmigrate_host *host;

	/* From the URL. */
	char *path;    /* the state file; NULL for an in-memory database */
	char *fail;    /* fail=TEXT; NULL once it fired */
	int lock_held; /* lock=held */
	unsigned sleep_ms;
	char *busy;	     /* busy=TEXT: 55P03 on statements containing it */
	unsigned busy_times; /* busy_times=N: that many times (default 1) */
	unsigned progress_fail;  /* progress_fail=N: the Nth record_progress()
				    fails; 0: none */
	unsigned progress_calls; /* record_progress() calls so far */
	char *log_path; /* log=PATH */
	FILE *log;
	int log_failed; /* a log write failed (warned once) */

	/* The database. */
	struct mock_state state; /* committed; in a transaction, working */
	struct mock_state snap;	 /* the state begin() saw, for rollback() */
	int in_tx;		 /* between begin() and commit()/rollback() */
	int aborted;		 /* a statement of the transaction failed */
	struct stat loaded;	 /* the state file state was read from */
	int have_loaded;	 /* loaded is set */

	/* The session. */
	int lock_fd; /* PATH.lock while held, else -1 */
	dbmigrate_code
	    sql_code; /* code for SQL errors: EMIGRATION in apply() */
	size_t stmt;  /* index of the statement apply() runs */
	volatile sig_atomic_t cancelled; /* set by cancel(), a signal handler */
	struct dbmigrate_settings limits; /* from configure() */
	int holding; /* apply() may retry: errors wait in held */
	struct {
		int set;
		dbmigrate_code code;
		char sqlstate[6];
		char message[2048];
		char detail[512];
		char hint[512];
		size_t statement;
	} held;      /* the error a retry may make moot */
};

/* mock-report.c: reporting to the host (the bottom layer: calls nothing
   else of the driver). */

/* Report an error of the driver itself (no SQLSTATE); returns code. */
dbmigrate_code mock_report(dbmigrate_conn *c, dbmigrate_code code,
			   const char *detail, const char *hint,
			   const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Report an error of the emulated server with its SQLSTATE, with code
   c->sql_code and statement c->stmt; returns the code. */
dbmigrate_code mock_server_error(dbmigrate_conn *c, const char *sqlstate,
				 const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Report that memory ran out; returns DBMIGRATE_ENOMEM. */
dbmigrate_code mock_nomem(dbmigrate_conn *c);

/* Report a statement cancelled by an interrupt (57014); returns the code. */
dbmigrate_code mock_cancelled(dbmigrate_conn *c);

/* Report the error apply() held back for a retry, if any; stop holding. */
void mock_release_held(dbmigrate_conn *c);

/* Send a message to the host's log (drvkit's). */
#define mock_log(c, ...) drvkit_log((c)->host, __VA_ARGS__)

/* mock-state.c: the emulated database. Functions returning int give
   -1 when out of memory, leaving the state as it was. */

/* Free everything a state holds and empty it. */
void mock_state_free(struct mock_state *st);

/* Make dst a deep copy of src (dst is overwritten, not freed). */
int mock_state_copy(struct mock_state *dst, const struct mock_state *src);

/* The tracking table called name (normalised), or NULL. */
struct mock_table *mock_state_table_find(const struct mock_state *st,
					 const char *name);

/* Add an empty tracking table; NULL when out of memory. */
struct mock_table *mock_state_table_add(struct mock_state *st,
					const char *name);

/* Drop tracking table t (a member of st) and its rows. */
void mock_state_table_drop(struct mock_state *st, struct mock_table *t);

/* The index of the row with this id, or -1. */
long mock_state_row_find(const struct mock_table *t, const char *id);

/* Append a row; checksum, down_sql and progress may be NULL. */
int mock_state_row_add(struct mock_table *t, const char *id, const char *name,
		       const char *executed_at, const char *checksum,
		       const char *down_sql, const char *progress, int batch);

/* Delete row i, keeping the order of the others. */
void mock_state_row_delete(struct mock_table *t, size_t i);

/*
 * The index of the object a statement about kind k means, or -1: any
 * relation of that name for a relation kind, a trigger of that name on
 * owner (any owner when NULL), else the kind and name.
 */
long mock_state_object_find(const struct mock_state *st, enum mock_kind k,
			    const char *name, const char *owner);

/* Add an object; owner may be NULL. */
int mock_state_object_add(struct mock_state *st, enum mock_kind k,
			  const char *name, const char *owner);

/* Remove object i, keeping the order of the others. */
void mock_state_object_remove(struct mock_state *st, size_t i);

/* Append a statement (len bytes) to the journal. */
int mock_state_journal_add(struct mock_state *st, const char *sql, size_t len);

/* Write s[0, len) with backslash, tab, newline and CR escaped. */
void mock_state_escape(FILE *f, const char *s, size_t len);

/* The directory holding path, as a new string ("." for a bare name). */
char *mock_state_dirname(const char *path);

/*
 * Read the state file c->path into *out. A missing file is an empty
 * database. Errors are reported with code, naming the file and line.
 */
dbmigrate_code mock_state_read(dbmigrate_conn *c, struct mock_state *out,
			       dbmigrate_code code);

/* Write c->state to the state file, atomically and durably. */
dbmigrate_code mock_state_write(dbmigrate_conn *c);

/* Reread the state file into c->state when another connection changed
   it since (never call it inside a transaction). */
dbmigrate_code mock_state_refresh(dbmigrate_conn *c, dbmigrate_code code);

/* mock-sql.c: the emulated server's checks. */

/* The kinds of objects, indexed by enum mock_kind. */
extern const struct mock_kind_info mock_sql_kinds[MOCK_NKINDS];

/* Normalise a table argument ("public.migrations") into out
   (MOCK_NAME_MAX bytes); DBMIGRATE_EDATABASE when it is no name. */
dbmigrate_code mock_sql_table_name(dbmigrate_conn *c, const char *table,
				   char *out);

/* Apply a statement's effect on the catalogue of c->state, or fail
   with PostgreSQL's SQLSTATE. */
dbmigrate_code mock_sql_catalogue(dbmigrate_conn *c,
				  const struct dbmigrate_stmt *s);

/* The static reason a statement cannot run inside a transaction block,
   or NULL. */
const char *mock_sql_refusal(const struct dbmigrate_host *host, const char *sql,
			     size_t len);

/* mock-data.c: the rows of ordinary tables, replayed from the journal
   (table_columns() and read_table(), ABI 4). */
dbmigrate_code mock_data_columns(dbmigrate_conn *c, const char *table,
				 int *exists, dbmigrate_name_fn fn, void *ctx);
dbmigrate_code mock_data_read(dbmigrate_conn *c, const char *table,
			      const char *const *columns, size_t ncolumns,
			      dbmigrate_values_fn fn, void *ctx);

/* mock-snapshot.c: verify's scratch database and schema snapshot. */
dbmigrate_code mock_scratch_open(dbmigrate_conn *c, dbmigrate_conn **out);
dbmigrate_code mock_scratch_close(dbmigrate_conn *c, dbmigrate_conn *scratch);
dbmigrate_code mock_snapshot(dbmigrate_conn *c, const char *table,
			     dbmigrate_line_fn fn, void *ctx);

#pragma GCC visibility pop

/* mock-url.c: the URL and its fault parameters. */

/*
 * Take a mock URL apart: "mock:" or "mock://", then the state file path
 * (none: in memory), then "?" and parameters joined by "&". The URL is
 * never quoted in a message: a URL meant for another driver may hold a
 * password.
 */
dbmigrate_code mock_parse_url(dbmigrate_conn *c, const char *url);

/* Check that a state file that does not exist yet can be created. */
dbmigrate_code mock_check_dir(dbmigrate_conn *c);


/* mock-exec.c: running statements (below the vtable in mock.c). */

#define MOCK_SLICE_MS 10         /* how often a sleep checks interrupts */

/* Milliseconds on a monotonic clock. */
long long mock_clock_ms(void);

/* The monotonic time, in milliseconds, timeout seconds from now. */
long long mock_deadline(double timeout);

/* Sleep ms milliseconds (a signal may end it early; callers loop). */
void mock_nap(long long ms);

/* True when the user asked to stop. */
int mock_interrupted(dbmigrate_conn *c);

/* True when s[0, len) contains the string needle. */
int mock_contains(const char *s, size_t len, const char *needle);

/* Append one line to the log=PATH file: text escaped like the journal. */
void mock_log_line(dbmigrate_conn *c, const char *text, size_t len);

/* The transaction is aborted: what PostgreSQL answers to any statement. */
dbmigrate_code mock_aborted(dbmigrate_conn *c);

/* Put back the state begin() saw. */
void mock_restore(dbmigrate_conn *c);

/* Make the working state durable (file-backed databases only). */
dbmigrate_code mock_persist(dbmigrate_conn *c);

/*
 * Prepare one change. Inside a transaction, refuse when it is aborted.
 * Outside one, start an implicit transaction (*implicit set) on the
 * latest committed state, since each change then commits on its own.
 */
dbmigrate_code mock_change_begin(dbmigrate_conn *c, int *implicit);

/*
 * Finish a change whose result is rc: an implicit transaction commits on
 * success and rolls back on failure; a failure aborts an explicit one.
 */
dbmigrate_code mock_change_end(dbmigrate_conn *c, int implicit,
			       dbmigrate_code rc);

/* Prepare a read: the working state in a transaction, else the latest. */
dbmigrate_code mock_read_begin(dbmigrate_conn *c);

/*
 * Run one statement on the working state, as the emulated server: the
 * transaction-block check, the injected fault, the sleep, the catalogue;
 * then journal and log it.
 */
dbmigrate_code mock_exec(dbmigrate_conn *c,
			 const struct dbmigrate_stmt *s);

/* Insert the tracking row record and/or delete the row unrecord_id. */
dbmigrate_code mock_track(dbmigrate_conn *c, const char *table,
			  const struct dbmigrate_row *record,
			  const char *unrecord_id);

#endif
