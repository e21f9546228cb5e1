/*
 * my.h - what the files of the MySQL/MariaDB driver share: the
 * connection and the few functions one file offers the others. Private
 * to drivers/mysql/; the module exports only dbmigrate_driver_entry.
 *
 * The driver speaks to MySQL 5.7/8.x and MariaDB 10.x/11.x through
 * MariaDB Connector/C (libmariadb). Their DDL commits on its own, so the
 * driver declares no DBMIGRATE_CAP_TRANSACTIONAL_DDL, classifies DDL as
 * DBMIGRATE_STMT_IMPLICIT_COMMIT and writes the progress of such
 * migrations (record_progress()); the core does the rest.
 */
#ifndef DBMIGRATE_MY_H
#define DBMIGRATE_MY_H

#include <pthread.h>
#include <stddef.h>

#include <mysql.h>

#include "dbmigrate/driver.h"

#include "../common/drvkit.h"

#define MY_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* MySQL's lexical rules for host->words(): "x" is a string (ANSI_QUOTES
   off), `x` a name, backslashes escape, #, "-- " and the text of an
   executable comment is code. */
#define MY_LEX                                                               \
	(DBMIGRATE_LEX_DQUOTE_STRING | DBMIGRATE_LEX_BACKTICK_IDENT |        \
	 DBMIGRATE_LEX_BACKSLASH | DBMIGRATE_LEX_HASH_COMMENTS |             \
	 DBMIGRATE_LEX_DASH_SPACE | DBMIGRATE_LEX_EXEC_COMMENTS)

/* How to connect, as parsed from the URL or the parameters; kept so that
   the cancel thread and verify's scratch database connect the same way. */
struct my_target {
	char *host;      /* NULL: the library's default (or my.cnf's) */
	unsigned port;   /* 0: default */
	char *socket;    /* unix socket path, or NULL */
	char *user;      /* NULL: my.cnf's, else the login name */
	char *password;  /* NULL: read ~/.my.cnf [client] */
	char *database;  /* NULL: none selected */
	char *program;   /* program_name connection attribute */
	unsigned timeout; /* connect timeout, whole seconds; 0: default */
	/* TLS, named as the mysql client names them */
	char *ssl_ca, *ssl_capath, *ssl_cert, *ssl_key, *ssl_cipher, *ssl_crl;
	char *ssl_mode;  /* DISABLED PREFERRED REQUIRED VERIFY_CA VERIFY_IDENTITY */
	char *tls_version;
	char *defaults_file; /* ?defaults-file=PATH: MYSQL_READ_DEFAULT_FILE */
	int read_defaults;   /* read option files ([client]) */
};

/* The cancel thread: cancel() writes a byte into the pipe from a signal
   handler; the thread sends KILL QUERY over a connection of its own. */
struct my_killer {
	pthread_t thread;
	int started;
	int fds[2];               /* pipe: [0] the thread reads, [1] cancel() writes */
	unsigned long victim;     /* connection id to kill */
	volatile int kills;       /* KILL QUERY statements sent (tests, -v) */
};

/* A connection: everything the driver keeps between calls. */
struct dbmigrate_conn {
	const struct dbmigrate_host *host;
	MYSQL *my;
	struct my_target target;
	struct my_killer killer;
	int mariadb;            /* the server is MariaDB (not MySQL) */
	unsigned long version;  /* mysql_get_server_version(): 100611 */
	int in_tx;              /* begin() started a transaction */
	int locked;             /* lock() holds the named lock below */
	char lock_name[80];     /* GET_LOCK's name, as the server computed it */
	struct dbmigrate_settings limits; /* from configure() */
	int limits_dirty;       /* the session does not have them yet */
	int is_scratch;         /* made by scratch_open() */
	char *scratch_db;       /* its database's name */
};

/* A tracking table name: `db`.`name`, ready for SQL text, and its parts
   as values (escaped, for string literals). */
struct my_table {
	char *quoted;  /* `db`.`name` */
	char *db;      /* the database, as given or the connection's */
	char *name;    /* the table's own name */
};

/* my-exec.c: running statements and reporting errors. */

/*
 * Run one statement and read (and drop) all its results, forwarding the
 * server's notes and warnings to host->log(). 0 on success; on failure
 * -1, with the server's error left in c->my for my_exec_fail().
 */
int my_exec(dbmigrate_conn *c, const char *sql, size_t len);

/* my_exec() of a NUL-terminated statement. */
int my_exec_str(dbmigrate_conn *c, const char *sql);

/*
 * Run a query and keep its (first) result, stored. NULL on failure
 * (error in c->my) or when it returned no result set (then *ok is 1).
 */
MYSQL_RES *my_exec_query(dbmigrate_conn *c, const char *sql, int *ok);

/*
 * Report the failure of the last statement on c (mysql_errno/error/
 * sqlstate) through host->error(): statement is the index in apply()'s
 * array, stmt (may be NULL) its text, for the position of a syntax
 * error ("near '...' at line N"). what (may be NULL) prefixes the
 * message. A statement killed while the user interrupts becomes
 * DBMIGRATE_EINTERRUPTED. Returns the code reported.
 */
dbmigrate_code my_exec_fail(dbmigrate_conn *c, dbmigrate_code code,
			    size_t statement, const char *stmt, size_t len,
			    const char *what);

/* The 1-based character position in stmt that a MySQL error message
   points at ("near 'x' at line 3"), or 0. For tests too. */
unsigned my_exec_position(const char *msg, const char *stmt, size_t len);

/* Report an error the driver itself found (returns code), running out
   of memory (DBMIGRATE_ENOMEM), log a formatted message: drvkit's. */
#define my_exec_error(c, ...) drvkit_error((c)->host, __VA_ARGS__)
#define my_exec_nomem(c) drvkit_nomem((c)->host)
#define my_exec_log(c, ...) drvkit_log((c)->host, __VA_ARGS__)

/* Append a formatted string. */
void my_text_printf(struct drvkit_text *t, const char *fmt, ...) MY_PRINTF(2, 3);
/* Append s as a string literal ('...', escaped for the connection). */
void my_text_literal(dbmigrate_conn *c, struct drvkit_text *t, const char *s);
/* Append s as a `name`. */
void my_text_ident(struct drvkit_text *t, const char *s);

/* my-table.c: the tracking table. */
dbmigrate_code my_table_parse(dbmigrate_conn *c, const char *table,
			      struct my_table *t);
void my_table_free(struct my_table *t);
dbmigrate_code my_table_ensure(dbmigrate_conn *c, const char *table);
dbmigrate_code my_table_exists(dbmigrate_conn *c, const char *table,
			       int *exists);
dbmigrate_code my_table_read(dbmigrate_conn *c, const char *table,
			     dbmigrate_row_fn fn, void *ctx);
dbmigrate_code my_table_read_brief(dbmigrate_conn *c, const char *table,
				   dbmigrate_row_fn fn, void *ctx);
dbmigrate_code my_table_drop(dbmigrate_conn *c, const char *table);
dbmigrate_code my_table_progress(dbmigrate_conn *c, const char *table,
				 const struct dbmigrate_row *row);
/* Append the INSERT of row (or DELETE of id) to t. */
void my_table_insert_sql(dbmigrate_conn *c, struct drvkit_text *t,
			 const struct my_table *tb,
			 const struct dbmigrate_row *row, int replace);
void my_table_delete_sql(dbmigrate_conn *c, struct drvkit_text *t,
			 const struct my_table *tb, const char *id);
dbmigrate_code my_table_columns(dbmigrate_conn *c, const char *table,
				int *exists, dbmigrate_name_fn fn, void *ctx);
dbmigrate_code my_table_read_any(dbmigrate_conn *c, const char *table,
				 const char *const *columns, size_t ncolumns,
				 dbmigrate_values_fn fn, void *ctx);

/* my-apply.c: running migrations. */
dbmigrate_code my_apply(dbmigrate_conn *c, const char *table,
			const struct dbmigrate_stmt *stmts, size_t n,
			const struct dbmigrate_row *record,
			const char *unrecord_id);
dbmigrate_code my_apply_configure(dbmigrate_conn *c,
				  const struct dbmigrate_settings *s);

/* my-lock.c: the runner lock. */
dbmigrate_code my_lock(dbmigrate_conn *c, const char *table, double timeout);
dbmigrate_code my_lock_release(dbmigrate_conn *c, const char *table);

/* my-split.c: the dialect. */
dbmigrate_code my_split(const struct dbmigrate_host *host, const char *text,
			size_t len, dbmigrate_span_fn fn, void *ctx,
			struct dbmigrate_split_error *err);
void my_classify(const struct dbmigrate_host *host, const char *sql,
		 size_t len, struct dbmigrate_stmt_class *out);

/* my-lint.c: MySQL's lint rules (no connection). */
dbmigrate_code my_lint(const struct dbmigrate_host *host, const char *sql,
		       size_t len, dbmigrate_lint_fn fn, void *ctx);

/* my-snapshot.c: verify's scratch database and schema snapshot. */
dbmigrate_code my_scratch_open(dbmigrate_conn *c, dbmigrate_conn **out);
dbmigrate_code my_scratch_close(dbmigrate_conn *c, dbmigrate_conn *scratch);
dbmigrate_code my_snapshot(dbmigrate_conn *c, const char *table,
			   dbmigrate_line_fn fn, void *ctx);

/* my.c: connecting with a target (verify's scratch database). */
dbmigrate_code my_connect_target(const struct dbmigrate_host *host,
				 const struct my_target *t, dbmigrate_conn **out);
void my_close(dbmigrate_conn *c);
/* Copy a target (deep); 0 on success. */
int my_target_copy(struct my_target *dst, const struct my_target *src);
void my_target_free(struct my_target *t);

#endif
