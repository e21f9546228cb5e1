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
} dbmigrate_error;

/* Where a migration stands. */
typedef enum dbmigrate_state {
	DBMIGRATE_PENDING,  /* file present, not applied */
	DBMIGRATE_EXECUTED, /* applied, recorded in the tracking table */
	DBMIGRATE_MISSING   /* recorded as applied, but its file is gone */
} dbmigrate_state;

/* One migration as status reports it. Strings are owned by the report. */
typedef struct dbmigrate_entry {
	const char *id;          /* digits as written in the file name: "001" */
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
} dbmigrate_entry;

/* A status listing: every migration, in numeric order. */
typedef struct dbmigrate_report dbmigrate_report;

/* Options for migrate and rollback; zero-initialise, then set fields. */
typedef struct dbmigrate_run_options {
	unsigned step; /* up: only the next N; down: the last N; 0 = default */
	const char *to;/* up: up to and including ID; down: down to but excluding ID */
	bool dry_run;  /* report the plan as events, change nothing */
} dbmigrate_run_options;

/* What an event reports. */
typedef enum dbmigrate_event_kind {
	DBMIGRATE_EVENT_PLAN,      /* before anything runs, once per migration to run */
	DBMIGRATE_EVENT_START,     /* a migration starts */
	DBMIGRATE_EVENT_DONE,      /* a migration finished (seconds) */
	DBMIGRATE_EVENT_COMMIT,    /* a transaction committed (count migrations) */
	DBMIGRATE_EVENT_WARNING,   /* something the user should know (message) */
	DBMIGRATE_EVENT_NOTICE,    /* a message from the database server */
	DBMIGRATE_EVENT_DEBUG,     /* detail for -v (message) */
	DBMIGRATE_EVENT_LOCK_WAIT  /* waiting for another runner (message) */
} dbmigrate_event_kind;

/* An event, valid during the callback only. */
typedef struct dbmigrate_event {
	dbmigrate_event_kind kind;
	const dbmigrate_entry *entry; /* PLAN, START, DONE: the migration */
	bool down;                    /* PLAN, START, DONE: rolling back */
	int batch;                    /* PLAN, START, DONE, COMMIT */
	bool outside_transaction;     /* PLAN, START: runs on its own */
	const char *reason;           /* why it runs outside, or NULL */
	double seconds;               /* DONE, COMMIT: elapsed time */
	size_t count;                 /* COMMIT: migrations in the transaction */
	const char *message;          /* WARNING, NOTICE, DEBUG, LOCK_WAIT */
} dbmigrate_event;

typedef void (*dbmigrate_event_fn)(const dbmigrate_event *event, void *ctx);

/* An opaque migrator: options, a driver, a connection, the last error. */
typedef struct dbmigrate dbmigrate;

/* Make a migrator with default options; NULL only when out of memory. */
DBMIGRATE_API dbmigrate *dbmigrate_new(void);

/*
 * Set an option. Keys: url, driver, host, port, database, user, password,
 * dir, table, lock_timeout, connect_timeout (seconds), application_name.
 * A NULL value unsets the key. An unknown key or a bad value fails with
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
 * DB_PASSWORD, DBMIGRATE_DRIVER, DBMIGRATE_DIR, DBMIGRATE_TABLE. The
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

/* @API-MARK-REPAIR-REDO@ */

/* @API-VERIFY@ */

/* @API-LINT@ */

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
