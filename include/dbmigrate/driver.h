/*
 * dbmigrate/driver.h - the driver ABI: what a database backend implements.
 *
 * A driver is a shared object <name>.so that exports exactly one symbol,
 * dbmigrate_driver_entry, a function returning a pointer to a static const
 * struct dbmigrate_driver (write it with DBMIGRATE_DRIVER_DEFINE). The core
 * checks abi_version, then struct_size, then name, before it touches any
 * function pointer. Drivers never link against libdbmigrate: everything
 * they need from the host comes in struct dbmigrate_host, given to open().
 *
 * ABI rules:
 *  - DBMIGRATE_DRIVER_ABI_VERSION is bumped by hand when a member is
 *    added; it is not the package version;
 *  - members are only ever appended, each later one marked "since ABI n";
 *    the host loads drivers of every ABI from 1 to its own, and never
 *    reads a member beyond the struct_size the driver declared (a
 *    missing member counts as NULL);
 *  - structs the host and a driver pass each other are append-only the
 *    same way: a member "since ABI n" is read by the host only from a
 *    driver of ABI n or later, and given to such a driver only;
 *  - an optional operation is NULL when the driver lacks it; the core
 *    turns that into a clear "not supported by driver X" error;
 *  - every operation returns a dbmigrate_code; on failure it first reports
 *    the error through host->error() (the core copies everything).
 *
 * drivers/mock/mock.c is the reference driver: read it as the template.
 */
#ifndef DBMIGRATE_DRIVER_H
#define DBMIGRATE_DRIVER_H

#include <stddef.h>

#include <dbmigrate.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DBMIGRATE_DRIVER_ABI_VERSION 3u

/* The one symbol a driver exports. */
#define DBMIGRATE_DRIVER_ENTRY_SYMBOL "dbmigrate_driver_entry"

/* A connection; each driver defines the struct. */
typedef struct dbmigrate_conn dbmigrate_conn;

/* Log levels for host->log(). */
enum dbmigrate_log_level {
	DBMIGRATE_LOG_DEBUG,   /* shown with -v */
	DBMIGRATE_LOG_NOTICE,  /* a message the server sent, shown as it
				  is: it starts with the server's own
				  severity word ("NOTICE: ...", "INFO:
				  ...", "WARNING: ..."), which the host
				  does not add */
	DBMIGRATE_LOG_WARNING, /* shown unless -q */
	DBMIGRATE_LOG_LOCK_WAIT/* waiting for another runner's lock */
};

/* An error as a driver reports it; the host copies every string. */
struct dbmigrate_driver_error {
	dbmigrate_code code;   /* EMIGRATION for a failed migration statement,
				  ECONNECT, ELOCK, EINTERRUPTED, EDATABASE... */
	const char *message;   /* short, lowercase, no final period */
	const char *detail;    /* full sentences, or NULL */
	const char *hint;      /* full sentences, or NULL */
	const char *sqlstate;  /* five characters, or NULL */
	unsigned position;     /* 1-based character (not byte) position in the
				  failing statement, 0 when unknown */
	size_t statement;      /* index in apply()'s array of the statement
				  that failed, or DBMIGRATE_NO_STATEMENT */
};

#define DBMIGRATE_NO_STATEMENT ((size_t)-1)

/* A word of SQL as host->sql_words() returns it. */
struct dbmigrate_word {
	const char *s; /* points into the statement */
	size_t len;
};

/* What the host offers the driver. Valid until close(). */
struct dbmigrate_host {
	unsigned abi_version;  /* DBMIGRATE_DRIVER_ABI_VERSION of the host */
	size_t struct_size;    /* sizeof(struct dbmigrate_host) of the host */
	void *ctx;             /* pass back as the first argument below */

	/* Record an error; call it before returning a failure code. */
	void (*error)(void *ctx, const struct dbmigrate_driver_error *e);
	/* Log a message (not an error); the host decides what to show. */
	void (*log)(void *ctx, enum dbmigrate_log_level level,
		    const char *message);
	/* Nonzero once the user asked to stop: end waits and loops early. */
	int (*interrupted)(void *ctx);
	/*
	 * Split the start of a statement into words, skipping white space,
	 * comments and the contents of string literals: keywords and bare
	 * identifiers as written (compare them case-insensitively), quoted
	 * identifiers with their quotes, and every other character as a
	 * word of its own. Returns how many of at most max it stored.
	 */
	size_t (*sql_words)(const char *sql, size_t len,
			    struct dbmigrate_word *words, size_t max);
};

/* How to connect; NULL members are unset. */
struct dbmigrate_params {
	size_t struct_size;      /* sizeof(struct dbmigrate_params) */
	const char *url;         /* URL or keyword string; when set, the
				    members host..password are NULL */
	const char *host;
	const char *port;
	const char *database;
	const char *user;
	const char *password;
	const char *application_name; /* default "dbmigrate" */
	double connect_timeout;  /* seconds; 0 = the driver's default */
};

/* A row of the tracking table. */
struct dbmigrate_row {
	const char *id;          /* "001" */
	const char *name;        /* "create_users_table" */
	const char *executed_at; /* ISO 8601 UTC; NULL in record() = now */
	const char *checksum;    /* 64 hex digits, or NULL */
	int batch;
	/* Since ABI 2: the migration's down SQL, kept so that `down` works
	   when the file is gone; NULL when there is none. */
	const char *down_sql;
};

/* One SQL statement; sql[len] is '\0'. */
struct dbmigrate_stmt {
	const char *sql;
	size_t len;
};

/* One migration of apply_batch() (since ABI 3): apply()'s arguments. */
struct dbmigrate_batch_item {
	const struct dbmigrate_stmt *stmts;
	size_t n;
	const struct dbmigrate_row *record; /* or NULL */
	const char *unrecord_id;            /* or NULL */
};

/*
 * Limits on the migrations' own statements (since ABI 2), as configure()
 * receives them. Distinct from lock()'s timeout, the wait for the runner
 * lock.
 */
struct dbmigrate_settings {
	size_t struct_size;       /* sizeof(struct dbmigrate_settings) */
	double lock_timeout;      /* seconds a statement may wait for a lock on
				     a table or row; 0 = the server's own */
	double statement_timeout; /* seconds a statement may run; 0 = the
				     server's own */
	unsigned lock_retries;    /* times apply() retries a migration whose
				     statement gave up waiting for a lock;
				     0 = never */
};

/* Called once per tracking row; a nonzero return stops the listing. */
typedef int (*dbmigrate_row_fn)(void *ctx, const struct dbmigrate_row *row);

/* Called by snapshot() once per line (since ABI 2); the line is valid
   during the call only. A nonzero return stops the listing. */
typedef int (*dbmigrate_line_fn)(void *ctx, const char *line);

/* Capability bits. */
#define DBMIGRATE_CAP_TRANSACTIONAL_DDL 0x1u /* DDL rolls back */
#define DBMIGRATE_CAP_LOCK              0x2u /* lock() excludes other runners */
#define DBMIGRATE_CAP_CANCEL            0x4u /* cancel() stops a statement */

/* What a lint() finding is (since ABI 2). */
enum dbmigrate_lint_kind {
	DBMIGRATE_LINT_WARNING,           /* a hazard: rule, message, hint */
	DBMIGRATE_LINT_CREATES_TABLE,     /* the statement creates table */
	DBMIGRATE_LINT_SETS_LOCK_TIMEOUT, /* it bounds the lock waits of the
					     statements after it */
	DBMIGRATE_LINT_NO_TRANSACTION     /* it cannot run inside a
					     transaction block; message says
					     why */
};

/* Flags of a DBMIGRATE_LINT_WARNING. */
#define DBMIGRATE_LINT_EXISTING_TABLE 0x1u /* a hazard only for a table
					      that existed before the
					      migration: dropped when an
					      earlier statement of the same
					      migration created table */
#define DBMIGRATE_LINT_NEEDS_LOCK_TIMEOUT 0x2u /* the statement waits for a
						  lock: dropped when an
						  earlier statement set a
						  lock timeout; the host
						  reports one per migration */

/*
 * One finding of lint() (since ABI 2). The host copies every string
 * before fn returns.
 */
struct dbmigrate_lint_report {
	enum dbmigrate_lint_kind kind;
	const char *rule;    /* WARNING: kebab-case id, "index-not-concurrent";
				users silence it by this name */
	const char *message; /* WARNING: the risk, short and lowercase, no
				final period; NO_TRANSACTION: the reason */
	const char *hint;    /* WARNING: the safer pattern, full sentences */
	size_t offset;       /* byte offset in the statement it points at */
	const char *table;   /* the table concerned (WARNING, CREATES_TABLE),
				or NULL; normalised by the driver so that two
				names of the same table compare equal with
				strcmp (PostgreSQL: case-folded unless quoted,
				without quotes and schema) */
	unsigned flags;      /* WARNING: DBMIGRATE_LINT_* flags */
};

/* Called by lint() once per finding; a nonzero return stops it. */
typedef int (*dbmigrate_lint_fn)(void *ctx,
				 const struct dbmigrate_lint_report *r);

/* The vtable. Identity first; then operations, append-only. */
struct dbmigrate_driver {
	unsigned abi_version;    /* DBMIGRATE_DRIVER_ABI_VERSION */
	size_t struct_size;      /* sizeof(struct dbmigrate_driver) */
	const char *name;        /* equal to the file name without ".so" */
	const char *description; /* one line for `dbmigrate drivers` */
	unsigned caps;           /* DBMIGRATE_CAP_* */

	/*
	 * Connect. host stays valid until close(). On failure *out is left
	 * NULL and the error is reported (code DBMIGRATE_ECONNECT); the
	 * message must never contain the password.
	 */
	dbmigrate_code (*open)(const struct dbmigrate_host *host,
			       const struct dbmigrate_params *params,
			       dbmigrate_conn **out);
	/* Disconnect and free c (which may be NULL); releases held locks. */
	void (*close)(dbmigrate_conn *c);

	/* Start a transaction. apply() then runs inside it. */
	dbmigrate_code (*begin)(dbmigrate_conn *c);
	/* Commit the transaction begin() started. */
	dbmigrate_code (*commit)(dbmigrate_conn *c);
	/* Roll it back; also the way out of a failed transaction. */
	dbmigrate_code (*rollback)(dbmigrate_conn *c);

	/*
	 * Optional. Take the runner lock for this database and tracking
	 * table, held by the session (not a transaction) until unlock() or
	 * close(); wait at most timeout seconds, polling and checking
	 * host->interrupted(). On timeout: DBMIGRATE_ELOCK with a message
	 * that names the holder when the backend can tell.
	 */
	dbmigrate_code (*lock)(dbmigrate_conn *c, const char *table,
			       double timeout);
	/* Optional (with lock). Release the runner lock. */
	dbmigrate_code (*unlock)(dbmigrate_conn *c, const char *table);

	/*
	 * Create the tracking table (id, name, executed_at, batch, checksum)
	 * if it does not exist; a table without the checksum column (older
	 * tools) gets it added. table may be schema-qualified ("s.t").
	 */
	dbmigrate_code (*ensure_table)(dbmigrate_conn *c, const char *table);
	/* Set *exists to 1 when the tracking table exists, else 0. */
	dbmigrate_code (*table_exists)(dbmigrate_conn *c, const char *table,
				       int *exists);
	/* Call fn for each tracking row, in any order; none if no table. */
	dbmigrate_code (*read_rows)(dbmigrate_conn *c, const char *table,
				    dbmigrate_row_fn fn, void *ctx);
	/* Drop the tracking table. */
	dbmigrate_code (*drop_table)(dbmigrate_conn *c, const char *table);

	/*
	 * Run one migration: the statements in order, then insert the row
	 * record (when not NULL) or delete the row whose id is unrecord_id
	 * (when not NULL). Inside a transaction (after begin()) everything
	 * runs in it, ideally in one round trip. Outside one, each statement
	 * runs and commits on its own, and the row is written only after all
	 * succeeded. On failure, the error's statement member names the
	 * statement that failed; the transaction, if any, is then aborted
	 * and the core calls rollback().
	 */
	dbmigrate_code (*apply)(dbmigrate_conn *c, const char *table,
				const struct dbmigrate_stmt *stmts, size_t n,
				const struct dbmigrate_row *record,
				const char *unrecord_id);

	/*
	 * Optional. Return 1 when the statement cannot run inside a
	 * transaction block, setting *reason to a static sentence such as
	 * "CREATE INDEX CONCURRENTLY cannot run inside a transaction block";
	 * else 0. Called after open(), before anything runs.
	 */
	int (*classify)(dbmigrate_conn *c, const char *sql, size_t len,
			const char **reason);

	/*
	 * Optional. Ask the server to cancel the statement running on c.
	 * Must be async-signal-safe: it is called from a signal handler.
	 */
	void (*cancel)(dbmigrate_conn *c);

	/* ---- since ABI 2 ---- */

	/*
	 * Optional. Set the limits for the statements of every apply() that
	 * follows, until the next configure(). Inside a transaction they hold
	 * for one migration only (PostgreSQL: SET LOCAL, sent with it); outside
	 * one, for its statements only. A migration that fails because a lock
	 * was not available within lock_timeout (PostgreSQL: SQLSTATE 55P03)
	 * is retried up to lock_retries times with backoff (in a transaction,
	 * from a savepoint taken before it), with a DBMIGRATE_LOG_WARNING
	 * each time. Without configure() a driver uses the server's limits.
	 */
	dbmigrate_code (*configure)(dbmigrate_conn *c,
				    const struct dbmigrate_settings *s);

	/*
	 * Optional (since ABI 2; with scratch_close and snapshot, for
	 * `verify`). Create a new, empty database on the server c is
	 * connected to, under a name nobody else uses (PostgreSQL:
	 * dbmigrate_verify_<pid>_<random>), and connect to it with c's
	 * parameters otherwise (user, password, TLS...). *out is a
	 * connection as open() makes; it goes back to scratch_close(), never
	 * to close(). Nothing runs on c's own database. When the server
	 * refuses for want of a privilege (PostgreSQL: CREATEDB), say so in
	 * the error; the core adds how to give a scratch database instead.
	 */
	dbmigrate_code (*scratch_open)(dbmigrate_conn *c, dbmigrate_conn **out);
	/*
	 * Disconnect scratch (from scratch_open() on c) and drop its
	 * database, even when the user interrupted the run or a migration
	 * left sessions or locks behind (PostgreSQL 13 and later: DROP
	 * DATABASE ... WITH (FORCE)). Frees scratch in every case.
	 */
	dbmigrate_code (*scratch_close)(dbmigrate_conn *c, dbmigrate_conn *scratch);
	/*
	 * Describe the schema of c's database as text lines, one per object
	 * or attribute, each beginning with the kind and the qualified name
	 * ("table public.users", "column public.users.email character
	 * varying(255) not null", "index public.users_email_key ..."), and
	 * holding everything about it a migration can change: two databases
	 * with the same lines have the same schema. Read from the catalogs,
	 * in any order (the core sorts). Leave out the tracking table table
	 * and everything belonging to it, and the objects every new database
	 * has (PostgreSQL: the public schema, plpgsql), so that a new
	 * database has no lines. Stop, returning DBMIGRATE_OK, when fn
	 * returns nonzero.
	 */
	dbmigrate_code (*snapshot)(dbmigrate_conn *c, const char *table,
				   dbmigrate_line_fn fn, void *ctx);

	/*
	 * Optional (since ABI 2). Look at one statement of a migration for
	 * operations that lock or rewrite big tables or break the running
	 * application, and call fn once per finding (see struct
	 * dbmigrate_lint_report): CREATES_TABLE first, since a table made
	 * by the statement itself (a self-referencing foreign key) is new. sql
	 * (len bytes, not NUL-terminated) is one statement as the host split
	 * it, without its semicolon. Needs no connection and keeps no state
	 * between calls: the host is given for host->sql_words() only and
	 * lint() must not call host->error() unless it fails. Stop early,
	 * returning DBMIGRATE_OK, when fn returns nonzero.
	 */
	dbmigrate_code (*lint)(const struct dbmigrate_host *host,
			       const char *sql, size_t len, dbmigrate_lint_fn fn,
			       void *ctx);

	/* ---- since ABI 3 ---- */

	/*
	 * Optional. Inside a transaction (after begin()), run n migrations
	 * as n apply() calls would, in order, under the limits of the last
	 * configure() (the same for all of them: the host groups only
	 * migrations whose limits agree), in as few round trips as the
	 * backend allows (PostgreSQL: their query strings joined, one round
	 * trip for many small migrations; a server's cost per message is
	 * what remains of a migration tool's own). A lock retry starts
	 * again from the migration that waited, as apply() would.
	 * On success all n ran. On failure *failed is the index of the
	 * migration that failed (those before it ran or were sent with it,
	 * those after it did not run), whose error is reported as apply()
	 * reports it (statement: an index in that migration's stmts); the
	 * transaction is then aborted and the core calls rollback(). The
	 * host only gives it migrations that run in a transaction.
	 */
	dbmigrate_code (*apply_batch)(dbmigrate_conn *c, const char *table,
				      const struct dbmigrate_batch_item *items,
				      size_t n, size_t *failed);

	/*
	 * Optional. read_rows() without the down SQL, for listings
	 * (status) that only say whether a row keeps one: each row's
	 * down_sql is "" when the table keeps down SQL for it (its text is
	 * not fetched) and NULL when not. Without it the host calls
	 * read_rows().
	 */
	dbmigrate_code (*read_rows_brief)(dbmigrate_conn *c, const char *table,
					  dbmigrate_row_fn fn, void *ctx);
};

/* Define the entry function returning the driver's vtable. */
#define DBMIGRATE_DRIVER_DEFINE(vtable)                                       \
	const struct dbmigrate_driver *dbmigrate_driver_entry(void);          \
	__attribute__((visibility("default"))) const struct dbmigrate_driver \
		*dbmigrate_driver_entry(void)                                 \
	{                                                                     \
		return &(vtable);                                             \
	}

/* The type of the entry function, for the loader. */
typedef const struct dbmigrate_driver *(*dbmigrate_driver_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* DBMIGRATE_DRIVER_H */
