/*
 * dbmigrate.h - the public API of libdbmigrate.
 *
 * libdbmigrate applies numbered SQL migrations to a database in batches,
 * tracks them in a table and rolls them back batch by batch. It is the
 * C form of the seed's DatabaseMigrator: open a migrator from options,
 * migrate, status, rollback, close. The dbmigrate command is built on
 * exactly this API.
 *
 * Rules of the API:
 *  - the library never prints and never exits; every call returns a
 *    dbmigrate_code and, on failure, dbmigrate_last_error() describes it;
 *  - there is no global state: a dbmigrate handle is independent of any
 *    other, and one handle must not be used by two threads at once;
 *  - progress is reported through an optional event callback.
 */
#ifndef DBMIGRATE_H
#define DBMIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(DBMIGRATE_NO_VISIBILITY)
#define DBMIGRATE_API __attribute__((visibility("default")))
#else
#define DBMIGRATE_API
#endif

/* The result of every call. The CLI maps these to its exit codes. */
typedef enum dbmigrate_code {
	DBMIGRATE_OK = 0,
	DBMIGRATE_EMIGRATION,   /* a migration failed; its transaction rolled back */
	DBMIGRATE_EUSAGE,       /* bad option, key, value or argument */
	DBMIGRATE_EFILES,       /* bad migration files or a refused plan; nothing ran */
	DBMIGRATE_ECONNECT,     /* the driver cannot be loaded or cannot connect */
	DBMIGRATE_ELOCK,        /* another runner holds the lock past the timeout */
	DBMIGRATE_EINTERRUPTED, /* dbmigrate_interrupt() stopped the run */
	DBMIGRATE_EDATABASE,    /* a database operation of the tool itself failed */
	DBMIGRATE_EIO,          /* a file could not be read or written */
	DBMIGRATE_ENOMEM,       /* out of memory */
	DBMIGRATE_EUNSUPPORTED  /* the driver does not offer the operation */
} dbmigrate_code;

/*
 * A failure, owned by the handle and valid until its next call.
 * message is a short lowercase sentence without a final period; detail
 * and hint are full sentences (PostgreSQL's error style). The location
 * fields point into the migration file that caused the error.
 */
typedef struct dbmigrate_error {
	dbmigrate_code code;
	const char *message;     /* never NULL when code != DBMIGRATE_OK */
	const char *detail;      /* or NULL */
	const char *hint;        /* or NULL */
	const char *sqlstate;    /* five characters from the server, or NULL */
	const char *migration;   /* "001_create_users_table", or NULL */
	const char *file;        /* path of the file at fault, or NULL */
	unsigned line;           /* 1-based line in file, 0 when unknown */
	unsigned column;         /* 1-based column in that line, 0 when unknown */
	const char *source_line; /* the text of that line (no newline), or NULL */
	const char *backend_code; /* the database's own name or number for
				    the error ("SQLITE_CONSTRAINT_UNIQUE",
				    MySQL's "1062"), or NULL */
} dbmigrate_error;

/* Where a migration stands. */
typedef enum dbmigrate_state {
	DBMIGRATE_PENDING,  /* file present, not applied */
	DBMIGRATE_EXECUTED, /* applied, recorded in the tracking table */
	DBMIGRATE_MISSING,  /* recorded as applied, but its file is gone */
	DBMIGRATE_PARTIAL   /* started and did not finish, on a database
			       whose DDL commits on its own: some of its
			       statements ran (progress says how many);
			       up and down refuse to run until `mark` says
			       what the database holds */
} dbmigrate_state;

/* One migration as status reports it. Strings are owned by the report. */
typedef struct dbmigrate_entry {
	const char *id;          /* as written in the file name: "001", a
				    Flyway version "1.1", or "R__name" */
	const char *name;        /* "create_users_table" */
	const char *file;        /* path of its file, NULL when missing */
	dbmigrate_state state;
	int batch;               /* batch it was applied in; 0 when pending */
	const char *executed_at; /* "2026-11-24T10:00:00Z", NULL when pending */
	bool modified;           /* applied, and the file changed since */
	bool out_of_order;       /* pending, numbered below the newest applied */
	bool has_down;           /* the file has a down section */
	bool no_transaction;     /* declared to run outside a transaction */
	const char *checksum;    /* SHA-256 of the file (hex), NULL when missing */
	const char *recorded_checksum; /* as recorded when applied, or NULL */
	bool down_from_table;    /* applied, and its down would run the SQL
				    the tracking table kept when it was
				    applied: the file is gone or has no down */
	/* PARTIAL: how far it got, as recorded before each statement. */
	bool partial_down;       /* it was being rolled back (else applied) */
	unsigned partial_done;   /* statements that ran */
	unsigned partial_total;  /* statements in all */
	bool repeatable;         /* a repeatable migration (Flyway's
				    R__name.sql): applied after the versioned
				    ones, again whenever its file changes
				    (then pending, with modified set); never
				    rolled back */
} dbmigrate_entry;

/* A status listing: every migration, in numeric order. */
typedef struct dbmigrate_report dbmigrate_report;

/* How a run of migrations uses transactions. */
typedef enum dbmigrate_transaction_mode {
	DBMIGRATE_TRANSACTION_BATCH = 0,    /* the whole batch in one transaction */
	DBMIGRATE_TRANSACTION_PER_MIGRATION /* each migration commits on its own,
					       with its tracking row; still one
					       batch number */
} dbmigrate_transaction_mode;

/* Options for migrate and rollback; zero-initialise, then set fields. */
typedef struct dbmigrate_run_options {
	unsigned step; /* up: only the next N; down: the last N; 0 = default */
	const char *to;/* up: up to and including ID; down: down to but excluding ID */
	bool dry_run;  /* report the plan as events, change nothing */
	dbmigrate_transaction_mode transaction; /* up, down, redo */
} dbmigrate_run_options;

/* What an event reports. */
typedef enum dbmigrate_event_kind {
	DBMIGRATE_EVENT_PLAN,      /* before anything runs, once per migration to run */
	DBMIGRATE_EVENT_START,     /* a migration starts */
	DBMIGRATE_EVENT_DONE,      /* a migration finished (seconds) */
	DBMIGRATE_EVENT_COMMIT,    /* a transaction committed (count migrations) */
	DBMIGRATE_EVENT_WARNING,   /* something the user should know (message) */
	DBMIGRATE_EVENT_NOTICE,    /* a message from the database server,
				      its severity first ("NOTICE: ...",
				      "WARNING: ...", "INFO: ...") */
	DBMIGRATE_EVENT_DEBUG,     /* detail for -v (message) */
	DBMIGRATE_EVENT_LOCK_WAIT, /* waiting for another runner (message) */
	DBMIGRATE_EVENT_NOTE       /* before the PLAN events: what the
				      database cannot promise for this run,
				      and what it means (message) */
} dbmigrate_event_kind;

/* An event, valid during the callback only. */
typedef struct dbmigrate_event {
	dbmigrate_event_kind kind;
	const dbmigrate_entry *entry; /* PLAN, START, DONE: the migration */
	bool down;                    /* PLAN, START, DONE: rolling back */
	int batch;                    /* PLAN, START, DONE, COMMIT */
	bool outside_transaction;     /* PLAN, START: runs on its own */
	const char *reason;           /* why it runs outside, or NULL */
	double seconds;               /* DONE, COMMIT: elapsed time; DONE of a
					 migration sent with others
					 (together > 1): of them all */
	size_t count;                 /* COMMIT: migrations in the transaction */
	const char *message;          /* WARNING, NOTICE, DEBUG, LOCK_WAIT */
	size_t together;              /* START, DONE: migrations sent to the
					 server in one go with this one
					 (itself included), their time
					 shared: small migrations travel
					 together; 1 = alone */
	bool own_transaction;         /* PLAN, START: runs in a transaction
					 of its own, some of its statements
					 just before or after it (reason) */
	bool not_atomic;              /* PLAN, START: cannot roll back (its
					 DDL commits on its own): its
					 progress is recorded as it runs */
} dbmigrate_event;

typedef void (*dbmigrate_event_fn)(const dbmigrate_event *event, void *ctx);

/* An opaque migrator: options, a driver, a connection, the last error. */
typedef struct dbmigrate dbmigrate;

/* Make a migrator with default options; NULL only when out of memory. */
DBMIGRATE_API dbmigrate *dbmigrate_new(void);

/*
 * Set an option. Keys: url, driver, host, port, database, user, password,
 * dir, table, lock_timeout, connect_timeout (seconds), application_name;
 * statement_timeout and sql_lock_timeout (limits on the migrations' own
 * statements: seconds, or "500ms", "30s", "2min"; 0 = the server's) and
 * lock_retries (0..100; default 3 when a lock timeout is in effect);
 * cache_dir, a directory where dbmigrate_status() keeps what it learnt
 * of unchanged files so as not to read them again (unset, empty or
 * "off": no cache; nothing else uses it); schema, the schema (namespace)
 * the migrations run in: first on the connection's search path, the
 * tracking table inside it, for a driver that has schemas (PostgreSQL;
 * others refuse it with DBMIGRATE_EUSAGE when the migrator opens, as
 * they do a schema-qualified table with it). A NULL value unsets the key. An unknown key or a bad value fails with
 * DBMIGRATE_EUSAGE. Options cannot change once the migrator is open.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_set(dbmigrate *m, const char *key,
					   const char *value);

/*
 * An option's value in effect, or NULL when unset: for dir, table and
 * driver the default applies when unset ("migrations" or
 * "db/migrations", "migrations", the URL's scheme or "postgres"). The
 * password is never returned. Valid until the next call on m.
 */
DBMIGRATE_API const char *dbmigrate_get(dbmigrate *m, const char *key);

/*
 * Fill the options not set yet from the process environment, then from a
 * dotenv file (dotenv_path, or "./.env" when NULL; a missing file is not
 * an error). Variables: DATABASE_URL, DB_HOST, DB_PORT, DB_NAME, DB_USER,
 * DB_PASSWORD, DBMIGRATE_DRIVER, DBMIGRATE_DIR, DBMIGRATE_TABLE,
 * DBMIGRATE_STATEMENT_TIMEOUT, DBMIGRATE_SQL_LOCK_TIMEOUT,
 * DBMIGRATE_LOCK_RETRIES, DBMIGRATE_CACHE_DIR, DBMIGRATE_SCHEMA. The
 * dotenv file never changes the process environment.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_load_env(dbmigrate *m,
						const char *dotenv_path);

/* Receive progress events; fn NULL stops them. */
DBMIGRATE_API void dbmigrate_on_event(dbmigrate *m, dbmigrate_event_fn fn,
				      void *ctx);

/* Load the driver and connect; the calls below do it when needed. */
DBMIGRATE_API dbmigrate_code dbmigrate_open(dbmigrate *m);

/* Create the migrations directory if missing, and the tracking table. */
DBMIGRATE_API dbmigrate_code dbmigrate_init(dbmigrate *m);

/* Apply pending migrations as one new batch (opts may be NULL). */
DBMIGRATE_API dbmigrate_code dbmigrate_migrate(dbmigrate *m,
					       const dbmigrate_run_options *opts);

/* Roll back the newest batch (or opts->step / opts->to; may be NULL). */
DBMIGRATE_API dbmigrate_code dbmigrate_rollback(dbmigrate *m,
						const dbmigrate_run_options *opts);

/* Roll back every batch, newest first, then drop the tracking table. */
DBMIGRATE_API dbmigrate_code dbmigrate_reset(dbmigrate *m,
					     const dbmigrate_run_options *opts);

/*
 * Record migration id as applied (applied true: a tracking row with a
 * new batch number, the file's checksum and its down SQL) or as pending
 * (applied false: its row deleted), without running any of its SQL.
 * Under the runner lock. DBMIGRATE_EUSAGE for an id that names no file
 * nor row, marking an applied migration applied, a pending one pending,
 * or applied without its file. opts->dry_run changes nothing.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_mark(dbmigrate *m, const char *id,
					    bool applied,
					    const dbmigrate_run_options *opts);

/*
 * Re-record the checksum (and down SQL) of every applied migration whose
 * file changed since it was applied, keeping its batch and time; no SQL
 * of theirs runs. *out (may be NULL) gets the migrations concerned, as
 * they were before; with opts->dry_run nothing changes, so that a caller
 * can show the list and ask first.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_repair(dbmigrate *m,
					      const dbmigrate_run_options *opts,
					      dbmigrate_report **out);

/* What dbmigrate_import() did (or, with dry_run, would do). */
typedef struct dbmigrate_import_result {
	const char *tool;  /* "goose", "golang-migrate", "dbmate", "flyway" */
	const char *table; /* the tool's history table that was read */
	size_t recorded;   /* rows written in the tracking table (dry run:
			      that would be) */
	size_t missing;    /* of them, migrations no file of the directory
			      has (status shows them as missing) */
	size_t already;    /* applied by the tool and already recorded */
	size_t pending;    /* files the tool had not applied: `up` runs them */
	int batch;         /* the batch they were recorded as; 0 for none */
} dbmigrate_import_result;

/*
 * Adopt another tool's history: read its table (tool "goose",
 * "golang-migrate", "dbmate" or "flyway"; NULL: the one whose table the
 * database has, an error when none or several) and record every
 * migration it applied in the tracking table, with the checksum and down
 * SQL of its file, as one new batch, under the runner lock. Nothing of
 * the migrations runs and the tool's table is only read. Each tool's
 * rules are its own: goose's newest row per version decides (version 0
 * is goose's); golang-migrate's one row is the current version, every
 * migration at or below it applied, and a dirty one is refused
 * (DBMIGRATE_EFILES naming the version); dbmate keeps a row per
 * version; Flyway's failed rows are refused, a BASELINE covers what is
 * below it, a repeatable counts when the file's Flyway checksum is that
 * of its newest run. A migration the tool applied that no file has is
 * recorded all the same (status: missing) with a WARNING event. A PLAN
 * event comes for each row written; importing again writes none.
 * opts->dry_run changes nothing. *out (may be NULL) gets the counts.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_import(dbmigrate *m, const char *tool,
					      const dbmigrate_run_options *opts,
					      dbmigrate_import_result *out);

/*
 * Roll back the newest batch (or opts->step migrations) and apply the
 * same migrations again as one batch: in one transaction when every one
 * of them can run in a transaction, else in two steps (a WARNING event
 * says so). Every migration needs its file, with a down section or a
 * down kept in the tracking table.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_redo(dbmigrate *m,
					    const dbmigrate_run_options *opts);

/*
 * What dbmigrate_verify() found; free it with dbmigrate_verify_free().
 * Strings are owned by the result.
 */
typedef struct dbmigrate_verify_result {
	size_t total;          /* migrations in the directory */
	size_t verified;       /* of them, those whose down was shown to
				  restore the schema their up started from */
	const char *migration; /* the migration at fault ("002_add_email"):
				  the newest whose down does not reverse its
				  up, or whose second up differs from its
				  first; NULL when there is none */
	const char *diff;      /* with migration: the schema found against
				  the one expected, one object a line, "- "
				  before a line expected but missing, "+ "
				  before a line found but not expected, each
				  line ending in a newline; else NULL */
	const char *unverifiable; /* the newest migration without a down
				  section: nothing below it could be rolled
				  back, so those were not verified; or NULL */
} dbmigrate_verify_result;

/*
 * Prove that every migration's down reverses its up, on a scratch
 * database: apply the migrations one at a time as `up` would, taking a
 * snapshot of the schema after each (from the catalogs: tables, columns,
 * indexes, constraints, sequences, views, functions, triggers, types,
 * extensions...); roll them back one at a time, checking that each
 * down returns the schema to the snapshot before its up; then apply
 * them again, comparing with the first pass. Progress comes as events:
 * START (with down set for a rollback), and DONE once the step is
 * verified. The configured database itself is never changed.
 *
 * scratch_url NULL: a new database is created on the server of the
 * configured connection (the user needs the right to create databases)
 * and dropped at the end, whatever happens. Else scratch_url names an
 * existing database to work in, which must be empty (no objects, no
 * tracking table) and is emptied again after a successful run; the
 * configured connection is then not used at all.
 *
 * Returns DBMIGRATE_EMIGRATION when a down does not reverse its up (or a
 * second up differs), with (*out)->migration and diff set, and the error
 * naming the migration; a migration failing to apply fails as in `up`.
 * *out (may be NULL) is set whenever the migrations were run.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_verify(dbmigrate *m,
					      const char *scratch_url,
					      dbmigrate_verify_result **out);

/* Free a result of dbmigrate_verify(); r may be NULL. */
DBMIGRATE_API void dbmigrate_verify_free(dbmigrate_verify_result *r);

/* One warning of dbmigrate_lint(). Strings are owned by the result. */
typedef struct dbmigrate_lint_warning {
	const char *migration;   /* "002_create_user_sessions_table" */
	const char *file;        /* path of the file */
	unsigned line;           /* 1-based line in file */
	unsigned column;         /* 1-based column (characters) in that line */
	const char *source_line; /* the text of that line (no newline), or NULL */
	const char *rule;        /* "index-not-concurrent": what silences it */
	const char *message;     /* the risk: short, lowercase, no final period */
	const char *hint;        /* the safer pattern: full sentences */
} dbmigrate_lint_warning;

/* What dbmigrate_lint() found; free it with dbmigrate_lint_free(). */
typedef struct dbmigrate_lint_result dbmigrate_lint_result;

/*
 * Check migrations for operations that lock or rewrite big tables or
 * break the running application, without connecting: the files' up
 * sections are read, and the configured driver is loaded for its
 * backend's rules (a driver without them leaves the rules every backend
 * shares). ids (nids of them; none = every migration) picks migrations
 * by id; an unknown id is DBMIGRATE_EUSAGE. A comment
 * "-- dbmigrate:lint-ignore RULE[,RULE...]" directly above a statement
 * or inside it silences those rules for that statement. Warnings are
 * results, not failures: the call returns DBMIGRATE_OK with *out set;
 * bad files are DBMIGRATE_EFILES as for validate.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_lint(dbmigrate *m,
					    const char *const *ids,
					    size_t nids,
					    dbmigrate_lint_result **out);

/* The warnings, in migration order, then by position in the file. */
DBMIGRATE_API size_t dbmigrate_lint_count(const dbmigrate_lint_result *r);
DBMIGRATE_API const dbmigrate_lint_warning *
dbmigrate_lint_get(const dbmigrate_lint_result *r, size_t i);
/* How many migrations were checked, and how many warnings directives
   silenced. */
DBMIGRATE_API size_t dbmigrate_lint_checked(const dbmigrate_lint_result *r);
DBMIGRATE_API size_t dbmigrate_lint_silenced(const dbmigrate_lint_result *r);
DBMIGRATE_API void dbmigrate_lint_free(dbmigrate_lint_result *r);

/* List every migration; free the report with dbmigrate_report_free(). */
DBMIGRATE_API dbmigrate_code dbmigrate_status(dbmigrate *m,
					      dbmigrate_report **out);

/*
 * Check the migration files without applying anything: names, formats,
 * statements; when a database is configured, also that every applied
 * migration's file exists unchanged. *out (may be NULL) gets the listing.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_validate(dbmigrate *m,
						dbmigrate_report **out);

/*
 * Write DIR/NNN_name.sql with the next number and an empty up and down
 * section. *path_out (may be NULL) gets the path, to free() by the caller.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_create(dbmigrate *m, const char *name,
					      char **path_out);

DBMIGRATE_API size_t dbmigrate_report_count(const dbmigrate_report *r);
DBMIGRATE_API const dbmigrate_entry *
dbmigrate_report_get(const dbmigrate_report *r, size_t i);
DBMIGRATE_API void dbmigrate_report_free(dbmigrate_report *r);

/* The last failure of m; code DBMIGRATE_OK when the last call succeeded. */
DBMIGRATE_API const dbmigrate_error *dbmigrate_last_error(const dbmigrate *m);

/* Shorthand for dbmigrate_last_error(m)->message ("" after success). */
DBMIGRATE_API const char *dbmigrate_errmsg(const dbmigrate *m);

/*
 * Ask a running call to stop: the running statement is cancelled on the
 * server, the transaction rolls back and the call returns
 * DBMIGRATE_EINTERRUPTED. Async-signal-safe: call it from a handler.
 */
DBMIGRATE_API void dbmigrate_interrupt(dbmigrate *m);

/* Disconnect and free everything; m may be NULL. */
DBMIGRATE_API void dbmigrate_close(dbmigrate *m);

/*
 * Overwrite in place, with '*' characters, every password a connection
 * string holds: a URI's userinfo password, a password= query parameter,
 * the password keyword of a libpq keyword string. The length never
 * changes, so it can mask argv. Async-signal-unsafe; s may be NULL.
 */
DBMIGRATE_API void dbmigrate_mask_password(char *s);

/* A driver found on the search path, as dbmigrate_list_drivers reports. */
typedef void (*dbmigrate_driver_fn)(const char *name, const char *path,
				    const char *description,
				    const char *problem, void *ctx);

/*
 * Report every driver in DBMIGRATE_DRIVER_PATH and the installed driver
 * directory, in search order; problem is NULL for a loadable driver, else
 * why it cannot be used.
 */
DBMIGRATE_API dbmigrate_code dbmigrate_list_drivers(dbmigrate_driver_fn fn,
						    void *ctx);

/* The package version, e.g. "0.1.0". */
DBMIGRATE_API const char *dbmigrate_version(void);

/* The driver ABI version this library loads (DBMIGRATE_DRIVER_ABI_VERSION). */
DBMIGRATE_API unsigned dbmigrate_driver_abi(void);

/* The installed driver directory. */
DBMIGRATE_API const char *dbmigrate_driver_dir(void);

/* A static English name of a code, e.g. "migration failed". */
DBMIGRATE_API const char *dbmigrate_code_name(dbmigrate_code code);

#ifdef __cplusplus
}
#endif

#endif /* DBMIGRATE_H */
