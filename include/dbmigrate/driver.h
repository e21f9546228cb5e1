/*
 * dbmigrate/driver.h - the driver ABI: what a database backend implements.
 *
 * A driver is a shared object <name>.so that exports exactly one symbol,
 * dbmigrate_driver_entry, a function returning a pointer to a static const
 * struct dbmigrate_driver (write it with DBMIGRATE_DRIVER_DEFINE). The core
 * checks abi_version, then struct_size, then name, before it touches any
 * function pointer. Drivers never link against libdbmigrate: everything
 * they need from the host comes in struct dbmigrate_host, given to open(),
 * split(), classify() and lint().
 *
 * The driver owns its dialect. Everything that differs between databases
 * comes from the driver and never from a test of its name in the core:
 * how a migration's text splits into statements and where each starts
 * (split), which statements cannot run inside a transaction, which are
 * transaction control (so that a BEGIN; ... COMMIT; wrapper is
 * recognised and anything else refused) and which commit on their own
 * (classify), its quoting and comment rules (inside split and classify;
 * the host offers PostgreSQL's splitter and a word splitter that takes
 * the rules as flags, as services a driver may choose), whether DDL rolls
 * back (DBMIGRATE_CAP_TRANSACTIONAL_DDL) and what keeps two runners
 * apart (lock, described by lock_kind). The core plans from these answers
 * and the plan it shows says which answer shaped it.
 *
 * ABI rules:
 *  - DBMIGRATE_DRIVER_ABI_VERSION is bumped by hand when a member is
 *    added; it is not the package version;
 *  - ABI 4 moved the dialect into the driver and is not compatible with
 *    the drivers of ABI 1 to 3: the host refuses them with a message
 *    that says to rebuild the driver (DBMIGRATE_DRIVER_ABI_MIN);
 *  - from ABI 4 on, members are only ever appended, each later one
 *    marked "since ABI n"; the host loads drivers of every ABI from
 *    DBMIGRATE_DRIVER_ABI_MIN to its own, and never reads a member
 *    beyond the struct_size the driver declared (it counts as NULL);
 *  - structs the host and a driver pass each other grow the same way: a
 *    member "since ABI n" is read by the host only from a driver of ABI
 *    n or later, and given to such a driver only;
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

#define DBMIGRATE_DRIVER_ABI_VERSION 5u

/* The oldest driver ABI the host loads: ABI 4 moved the dialect into the
   driver, and a driver of ABI 3 or older cannot answer for it. */
#define DBMIGRATE_DRIVER_ABI_MIN 4u

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
	const char *backend_code; /* the backend's own name or number for
				  the error, shown beside the SQLSTATE
				  ("SQLITE_CONSTRAINT_FOREIGNKEY", MySQL's
				  "1064"), or NULL */
};

#define DBMIGRATE_NO_STATEMENT ((size_t)-1)

/* A word of SQL as host->words() returns it. */
struct dbmigrate_word {
	const char *s; /* points into the statement */
	size_t len;
};

/*
 * Lexical rules for host->words(), as flags: which quotes, comments and
 * literals a dialect has. Whatever the flags, white space separates
 * words and '...' is a string literal with '' doubling a quote.
 */
#define DBMIGRATE_LEX_DQUOTE_IDENT   0x001u /* "x" is an identifier ("" doubles) */
#define DBMIGRATE_LEX_DQUOTE_STRING  0x002u /* "x" is a string literal (MySQL) */
#define DBMIGRATE_LEX_BACKTICK_IDENT 0x004u /* `x` is an identifier (`` doubles) */
#define DBMIGRATE_LEX_BRACKET_IDENT  0x008u /* [x] is an identifier (SQLite) */
#define DBMIGRATE_LEX_BACKSLASH      0x010u /* a backslash escapes the next
					      byte in every string (MySQL) */
#define DBMIGRATE_LEX_E_STRINGS      0x020u /* E'x' takes backslash escapes;
					      B'', N'', X'', U&'' prefixes */
#define DBMIGRATE_LEX_DOLLAR_QUOTES  0x040u /* $tag$ ... $tag$ strings */
#define DBMIGRATE_LEX_NESTED_COMMENTS 0x080u /* block comments nest */
#define DBMIGRATE_LEX_HASH_COMMENTS  0x100u /* # runs to the end of the line */
#define DBMIGRATE_LEX_DASH_SPACE     0x200u /* -- starts a comment only when
					      followed by white space */
#define DBMIGRATE_LEX_EXEC_COMMENTS  0x400u /* the text of a MySQL
					      executable comment (a block
					      comment opened with '!' and
					      an optional version) is code */

/* PostgreSQL's rules (standard_conforming_strings on). */
#define DBMIGRATE_LEX_POSTGRES                                        \
	(DBMIGRATE_LEX_DQUOTE_IDENT | DBMIGRATE_LEX_E_STRINGS |       \
	 DBMIGRATE_LEX_DOLLAR_QUOTES | DBMIGRATE_LEX_NESTED_COMMENTS)

/* Called by split() once per statement: text[offset, offset + len).
   A nonzero return stops the split (out of memory). */
typedef int (*dbmigrate_span_fn)(void *ctx, size_t offset, size_t len);

/* Why split() refused a text. */
struct dbmigrate_split_error {
	const char *message; /* static, lowercase: "unterminated quoted string" */
	const char *hint;    /* static full sentences, or NULL: the host
				then says to close the construct */
	size_t offset;       /* byte offset in the text where the construct
				at fault starts */
};

/*
 * What classify() says of a statement: DBMIGRATE_STMT_* flags, and the
 * reason for the flags that change the plan.
 */
struct dbmigrate_stmt_class {
	unsigned flags;
	/*
	 * Static. For NO_TRANSACTION and IMPLICIT_COMMIT, a phrase the
	 * plan quotes (lowercase, no final period): "CREATE INDEX
	 * CONCURRENTLY cannot run inside a transaction block". For
	 * TXCONTROL, full sentences saying what it would break and how to
	 * fix it: the refusal's detail.
	 */
	const char *reason;
};

/* Transaction control: a body whose first statement is BEGIN and whose
   last is COMMIT is a wrapper the core does not send (the migration runs
   in the batch's transaction); elsewhere these are refused. */
#define DBMIGRATE_STMT_BEGIN     0x01u /* starts a transaction */
#define DBMIGRATE_STMT_COMMIT    0x02u /* commits it */
#define DBMIGRATE_STMT_ROLLBACK  0x04u /* aborts it (not ROLLBACK TO SAVEPOINT) */
#define DBMIGRATE_STMT_TXCONTROL 0x08u /* other transaction control a batch
					  cannot hold (PREPARE TRANSACTION,
					  SET autocommit...): refused, with
					  reason, unless transaction:false */
/* Cannot run inside a transaction block: its migration runs outside the
   batch's transaction, statement by statement, and the plan says why. */
#define DBMIGRATE_STMT_NO_TRANSACTION 0x10u
/* With NO_TRANSACTION: a setting of the connection that may run just
   before or just after the migration's own transaction (SQLite's PRAGMA
   foreign_keys, which a transaction ignores). When such statements
   stand only at the start and the end of a migration, the core runs
   them around a transaction of the migration's own instead of giving
   up the transaction. */
#define DBMIGRATE_STMT_EDGE 0x20u
/* Commits on its own, whatever transaction is open (DDL on a backend
   without DBMIGRATE_CAP_TRANSACTIONAL_DDL): its migration cannot roll
   back, and the core records how far it got (record_progress()). */
#define DBMIGRATE_STMT_IMPLICIT_COMMIT 0x40u

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
	 * Split the start of a statement into words under the lexical rules
	 * lex (DBMIGRATE_LEX_* flags), skipping white space, comments and
	 * the contents of string literals: keywords and bare identifiers as
	 * written (compare them case-insensitively), quoted identifiers
	 * with their quotes, and every other character as a word of its
	 * own. Returns how many of at most max it stored. A service: the
	 * core calls it only through a driver.
	 */
	size_t (*words)(unsigned lex, const char *sql, size_t len,
			struct dbmigrate_word *words, size_t max);
	/*
	 * PostgreSQL's statement splitter, as psql splits a script: quotes,
	 * E'' strings, dollar quotes, nested comments, BEGIN ATOMIC bodies.
	 * Calls fn once per statement as split() documents. Returns
	 * DBMIGRATE_OK, DBMIGRATE_EFILES with err filled, or
	 * DBMIGRATE_ENOMEM when fn returned nonzero. A service for drivers
	 * whose dialect is PostgreSQL's; the core never calls it itself.
	 */
	dbmigrate_code (*split_postgres)(const char *text, size_t len,
					 dbmigrate_span_fn fn, void *ctx,
					 struct dbmigrate_split_error *err);
	/*
	 * Add to *out the DBMIGRATE_STMT_* flags of the transaction control
	 * most SQL dialects share, read from the words of sql under the
	 * rules lex: BEGIN... and START TRANSACTION (BEGIN), COMMIT and END
	 * (COMMIT), ROLLBACK and ABORT but not ROLLBACK TO SAVEPOINT
	 * (ROLLBACK), and COMMIT AND CHAIN, PREPARE TRANSACTION, COMMIT or
	 * ROLLBACK PREPARED (TXCONTROL, with a reason). A service for
	 * classify(); a driver adds its dialect's own after it.
	 */
	void (*classify_txcontrol)(unsigned lex, const char *sql, size_t len,
				   struct dbmigrate_stmt_class *out);
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
	/*
	 * Since ABI 5, given only to a driver with DBMIGRATE_CAP_SCHEMA (else
	 * the host refuses the option): the schema (namespace) the
	 * migrations run in, or NULL. The driver puts it first on the
	 * connection's name search path, so that unqualified names in the
	 * migrations resolve and are created there (PostgreSQL:
	 * search_path). The host qualifies the tracking table with it.
	 */
	const char *schema;
};

/* A row of the tracking table. */
struct dbmigrate_row {
	const char *id;          /* "001" */
	const char *name;        /* "create_users_table" */
	const char *executed_at; /* ISO 8601 UTC; NULL in record() = now */
	const char *checksum;    /* 64 hex digits, or NULL */
	int batch;
	/* The migration's down SQL, kept so that `down` works when the
	   file is gone; NULL when there is none. */
	const char *down_sql;
	/*
	 * NULL for a migration that ran whole; else the
	 * host's note of one that started and did not finish ("up 2/5":
	 * direction, statements done, statements in all), written by
	 * record_progress() before its first statement runs, on a backend
	 * whose DDL commits on its own. Stored and returned as given.
	 */
	const char *progress;
};

/* One SQL statement; sql[len] is '\0'. */
struct dbmigrate_stmt {
	const char *sql;
	size_t len;
};

/* One migration of apply_batch(): apply()'s arguments. */
struct dbmigrate_batch_item {
	const struct dbmigrate_stmt *stmts;
	size_t n;
	const struct dbmigrate_row *record; /* or NULL */
	const char *unrecord_id;            /* or NULL */
};

/*
 * Limits on the migrations' own statements, as configure() receives
 * them. Distinct from lock()'s timeout, the wait for the runner
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

/* Called by snapshot() once per line; the line is valid during the
   call only. A nonzero return stops the listing. */
typedef int (*dbmigrate_line_fn)(void *ctx, const char *line);

/* Capability bits. */
#define DBMIGRATE_CAP_TRANSACTIONAL_DDL 0x1u /* DDL rolls back */
#define DBMIGRATE_CAP_LOCK              0x2u /* lock() excludes other runners */
#define DBMIGRATE_CAP_CANCEL            0x4u /* cancel() stops a statement */
#define DBMIGRATE_CAP_SCHEMA            0x8u /* since ABI 5: open() takes
						params->schema (a schema
						first on the search path) */


/* What a lint() finding is. */
enum dbmigrate_lint_kind {
	DBMIGRATE_LINT_WARNING,           /* a hazard: rule, message, hint */
	DBMIGRATE_LINT_CREATES_TABLE,     /* the statement creates table */
	DBMIGRATE_LINT_SETS_LOCK_TIMEOUT, /* it bounds the lock waits of the
					     statements after it */
	DBMIGRATE_LINT_GUARDS,            /* it makes the hazard of rule safe
					     for the statements after it in
					     the same migration (SQLite:
					     PRAGMA foreign_keys=OFF guards
					     a rebuild's drop-table); their
					     findings of rule are dropped */
	DBMIGRATE_LINT_NOTES              /* since ABI 5: it gives table a
					     property, note (the driver's
					     own word: postgres notes
					     "citus-distributed" after
					     create_distributed_table())
					     that later findings depend on
					     (IF_NOTED, UNLESS_NOTED); kept
					     for the rest of the lint run,
					     later migrations included */
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
/* Since ABI 5: dropped unless an earlier statement noted one of the
   properties in note (comma-separated) on table. */
#define DBMIGRATE_LINT_IF_NOTED 0x4u
/* Since ABI 5: dropped when an earlier statement noted one of the
   properties in unless_note (comma-separated) on unless_table (NULL:
   table). */
#define DBMIGRATE_LINT_UNLESS_NOTED 0x8u

/*
 * One finding of lint(). The host copies every string before fn
 * returns.
 */
struct dbmigrate_lint_report {
	enum dbmigrate_lint_kind kind;
	const char *rule;    /* WARNING: kebab-case id, "index-not-concurrent";
				users silence it by this name. GUARDS: the
				rule guarded against */
	const char *message; /* WARNING: the risk, short and lowercase, no
				final period */
	const char *hint;    /* WARNING: the safer pattern, full sentences */
	size_t offset;       /* byte offset in the statement it points at */
	const char *table;   /* the table concerned (WARNING, CREATES_TABLE),
				or NULL; normalised by the driver so that two
				names of the same table compare equal with
				strcmp (PostgreSQL: case-folded unless quoted,
				without quotes and schema) */
	unsigned flags;      /* WARNING: DBMIGRATE_LINT_* flags */
	/* Since ABI 5. The host reads them only for NOTES and with the
	   flags that name them, which a driver of ABI 4 never sets. */
	const char *note;    /* NOTES: the property given to table; WARNING
				with IF_NOTED: the properties, one of which
				table must have */
	const char *unless_note;  /* WARNING with UNLESS_NOTED: properties,
				     any of which drops the finding */
	const char *unless_table; /* ... when unless_table has it (NULL:
				     table) */
};

/* Called by lint() once per finding; a nonzero return stops it. */
typedef int (*dbmigrate_lint_fn)(void *ctx,
				 const struct dbmigrate_lint_report *r);

/* Called by read_table() once per row: values[i] is column i as text,
   NULL for SQL NULL. A nonzero return stops the listing. */
typedef int (*dbmigrate_values_fn)(void *ctx, const char *const *values,
				   size_t n);

/* Called by table_columns() once per column, the name as the catalog
   spells it. A nonzero return stops the listing. */
typedef int (*dbmigrate_name_fn)(void *ctx, const char *name);

/*
 * The vtable. Identity first, then the dialect, then the operations;
 * append-only from ABI 4 on. Mandatory: split and every operation from
 * open to apply below that is not marked optional; lock and unlock with
 * DBMIGRATE_CAP_LOCK, cancel with DBMIGRATE_CAP_CANCEL, record_progress
 * without DBMIGRATE_CAP_TRANSACTIONAL_DDL.
 */
struct dbmigrate_driver {
	unsigned abi_version;    /* DBMIGRATE_DRIVER_ABI_VERSION */
	size_t struct_size;      /* sizeof(struct dbmigrate_driver) */
	const char *name;        /* equal to the file name without ".so" */
	const char *description; /* one line for `dbmigrate drivers` */
	unsigned caps;           /* DBMIGRATE_CAP_* */

	/* ---- the dialect ---- */

	/* The database's name in messages: "PostgreSQL", "SQLite". */
	const char *backend;
	/*
	 * The URL schemes the driver serves besides its name, or NULL:
	 * {"postgresql", NULL}. A URL whose scheme names no driver file is
	 * given to the driver that lists it here.
	 */
	const char *const *schemes;
	/* How lock() keeps runners apart, a phrase the plan (-v) and
	   `dbmigrate drivers` show: "a session advisory lock, polled". NULL
	   without DBMIGRATE_CAP_LOCK. */
	const char *lock_kind;
	/* How a transaction that takes very many locks fails on this
	   backend, for the plan's warning when a transaction would hold
	   more than a thousand migrations ("PostgreSQL: \"out of shared
	   memory\", max_locks_per_transaction"), or NULL when it does not. */
	const char *lock_table_note;

	/*
	 * Split a migration's text (len bytes, not NUL-terminated: it may
	 * be a part of a body) into statements as the backend's own client
	 * would, calling fn once per
	 * statement in order with its byte range: without leading white
	 * space and comments, without its terminator (';', or what a
	 * DELIMITER line made it), and ending before the comments that close
	 * it. Ranges lie within text and do not overlap; the byte after each
	 * is not part of any statement (the core writes a NUL there while
	 * the statement runs). Statements holding only white space and
	 * comments are not reported, nor are the client's own commands
	 * (DELIMITER). An unterminated quote or comment: DBMIGRATE_EFILES
	 * with err filled (never host->error()); fn returning nonzero:
	 * DBMIGRATE_ENOMEM. Needs no connection and keeps no state; host is
	 * given for its services (split_postgres, words).
	 */
	dbmigrate_code (*split)(const struct dbmigrate_host *host,
				const char *text, size_t len,
				dbmigrate_span_fn fn, void *ctx,
				struct dbmigrate_split_error *err);
	/*
	 * Optional. Fill *out (zeroed by the host) with what one statement
	 * (as split() found it; sql[len] is not necessarily '\0') is: the
	 * DBMIGRATE_STMT_* flags and their reason. Needs no connection, so
	 * that validate and lint plan as up would. Without it every
	 * statement is ordinary: no wrapper is recognised, nothing runs
	 * outside a transaction.
	 */
	void (*classify)(const struct dbmigrate_host *host, const char *sql,
			 size_t len, struct dbmigrate_stmt_class *out);

	/* ---- connections ---- */

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
	/*
	 * Optional (DBMIGRATE_CAP_CANCEL). Ask the server to stop the
	 * statement running on c. Must be async-signal-safe: it is called
	 * from a signal handler (a driver that must talk to the server to
	 * cancel hands the work to a thread of its own).
	 */
	void (*cancel)(dbmigrate_conn *c);
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

	/* ---- transactions ---- */

	/* Start a transaction. apply() then runs inside it. */
	dbmigrate_code (*begin)(dbmigrate_conn *c);
	/* Commit the transaction begin() started. */
	dbmigrate_code (*commit)(dbmigrate_conn *c);
	/* Roll it back; also the way out of a failed transaction. */
	dbmigrate_code (*rollback)(dbmigrate_conn *c);

	/* ---- the runner lock ---- */

	/*
	 * Optional (DBMIGRATE_CAP_LOCK). Take the runner lock for this
	 * database and tracking table, held by the session (not a
	 * transaction) until unlock() or close(), and released by the
	 * server or the kernel when the process dies; wait at most timeout
	 * seconds, polling and checking host->interrupted(). On timeout:
	 * DBMIGRATE_ELOCK with a message that names the holder when the
	 * backend can tell.
	 */
	dbmigrate_code (*lock)(dbmigrate_conn *c, const char *table,
			       double timeout);
	/* Optional (with lock). Release the runner lock. */
	dbmigrate_code (*unlock)(dbmigrate_conn *c, const char *table);

	/* ---- the tracking table ---- */

	/*
	 * Create the tracking table (id, name, executed_at, batch,
	 * checksum, down_sql; and progress without
	 * DBMIGRATE_CAP_TRANSACTIONAL_DDL) if it does not exist; a table
	 * of older tools gets the missing columns added. table may be
	 * schema-qualified ("s.t").
	 */
	dbmigrate_code (*ensure_table)(dbmigrate_conn *c, const char *table);
	/* Set *exists to 1 when the tracking table exists, else 0. */
	dbmigrate_code (*table_exists)(dbmigrate_conn *c, const char *table,
				       int *exists);
	/* Call fn for each tracking row, in any order; none if no table. */
	dbmigrate_code (*read_rows)(dbmigrate_conn *c, const char *table,
				    dbmigrate_row_fn fn, void *ctx);
	/*
	 * Optional. read_rows() without the down SQL, for listings
	 * (status) that only say whether a row keeps one: each row's
	 * down_sql is "" when the table keeps down SQL for it (its text is
	 * not fetched) and NULL when not. Without it the host calls
	 * read_rows().
	 */
	dbmigrate_code (*read_rows_brief)(dbmigrate_conn *c, const char *table,
					  dbmigrate_row_fn fn, void *ctx);
	/* Drop the tracking table. */
	dbmigrate_code (*drop_table)(dbmigrate_conn *c, const char *table);
	/*
	 * Mandatory without DBMIGRATE_CAP_TRANSACTIONAL_DDL, else optional.
	 * Outside a transaction, write row (inserting it, or replacing the
	 * row that has its id), its progress included, and make it durable
	 * before returning: the host calls it before the first statement of
	 * a migration that cannot roll back, after each of its statements,
	 * and with progress NULL once the migration has run whole.
	 */
	dbmigrate_code (*record_progress)(dbmigrate_conn *c, const char *table,
					  const struct dbmigrate_row *row);

	/* ---- running migrations ---- */

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

	/* ---- verify ---- */

	/*
	 * Optional (with scratch_close and snapshot, for `verify`). Create
	 * a new, empty database beside the one c is connected to, under a
	 * name nobody else uses (PostgreSQL: dbmigrate_verify_<pid>_<random>
	 * on the same server; SQLite: a new file), and connect to it with
	 * c's parameters otherwise (user, password, TLS...). *out is a
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

	/* ---- lint ---- */

	/*
	 * Optional. Look at one statement of a migration for operations
	 * that lock or rewrite big tables or break the running
	 * application, and call fn once per finding (see struct
	 * dbmigrate_lint_report): CREATES_TABLE first, since a table made
	 * by the statement itself (a self-referencing foreign key) is new. sql
	 * (len bytes, not NUL-terminated) is one statement as split() found
	 * it. Needs no connection and keeps no state between calls: the
	 * host is given for its services only and lint() must not call
	 * host->error() unless it fails. Stop early, returning
	 * DBMIGRATE_OK, when fn returns nonzero.
	 */
	dbmigrate_code (*lint)(const struct dbmigrate_host *host,
			       const char *sql, size_t len, dbmigrate_lint_fn fn,
			       void *ctx);

	/* ---- other tools' tables (import) ---- */

	/*
	 * Optional. The columns of any table of c's database (table may be
	 * schema-qualified); *exists 0 and no call when there is no such
	 * table. Outside a transaction.
	 */
	dbmigrate_code (*table_columns)(dbmigrate_conn *c, const char *table,
					int *exists, dbmigrate_name_fn fn,
					void *ctx);
	/*
	 * Optional. SELECT the named columns of every row of table
	 * (identifiers quoted by the driver), in no particular order,
	 * values as the server renders them as text (PostgreSQL booleans
	 * "t"/"f", timestamps in the server's text form). Outside a
	 * transaction.
	 */
	dbmigrate_code (*read_table)(dbmigrate_conn *c, const char *table,
				     const char *const *columns,
				     size_t ncolumns, dbmigrate_values_fn fn,
				     void *ctx);
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
