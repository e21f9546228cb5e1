/*
 * citus.h - a private Citus cluster for a Check program: a coordinator
 * and two workers, each a PostgreSQL server of its own.
 *
 * citus_start() makes the three clusters (one initdb, copied twice) in
 * a scratch directory, each listening on 127.0.0.1 only, on a free port
 * (no unix socket), with shared_preload_libraries = 'citus',
 * citus.node_conninfo = 'sslmode=disable' (the nodes talk over
 * loopback), citus.shard_count = 4, max_prepared_transactions (for
 * Citus's two-phase commit), wal_level = logical and room for logical
 * replication workers (for create_distributed_table_concurrently()),
 * and starts them, once per test program:
 * call it in main() before the tests fork. TCP logins from 127.0.0.1
 * are trusted, so that the nodes reach each other without a password
 * file. Each test takes a fresh database with citus_new_database():
 * made on every node with CREATE EXTENSION citus, its coordinator
 * registered with citus_set_coordinator_host() and both workers added
 * with citus_add_node() (about 3 s). When the program ends (normally or
 * not) a watchdog process stops the three servers (pg_ctl, by the PID
 * in each postmaster.pid) and removes the directory.
 *
 * The server binaries are PostgreSQL 15's (Citus 13.2 is built for it
 * by ../shared/citus/build.sh): DBMIGRATE_CITUS_BINDIR when set, else
 * /usr/lib/postgresql/15/bin. Citus is there when citus.so is in that
 * server's pkglibdir. Without it, citus_start() prints a loud SKIP line
 * and exits 77 (automake's "skipped"); with DBMIGRATE_REQUIRE_CITUS=1
 * (CI sets it) it exits 1 instead. Running as root, the servers run as
 * the user "dbmigrate" when it exists, else "nobody".
 */
#ifndef DBMIGRATE_CITUS_H
#define DBMIGRATE_CITUS_H

/* The number of workers. */
#define CITUS_WORKERS 2

/* Start the cluster (once; later calls do nothing). See above. */
void citus_start(void);

/* Stop the cluster and remove its directory; safe to call twice. */
void citus_stop(void);

/*
 * Create a new database (c_<pid>_<n>) on every node, with the extension
 * and the workers added, and return the coordinator's URL,
 * postgres://postgres@127.0.0.1:PORT/NAME, to free().
 */
char *citus_new_database(void);

/* Drop the database of a URL from citus_new_database() on every node
   (best effort): each such database keeps a Citus background worker. */
void citus_drop_database(const char *coordinator_url);

/* The URL of the same database on worker i (0 or 1), to free(). */
char *citus_worker_url(const char *coordinator_url, int i);

/*
 * Run sql on url and return the first column of the first row of the
 * last result, to free(), or NULL when there is no row or it is NULL.
 * A connection or SQL failure fails the calling test.
 */
char *citus_psql(const char *url, const char *sql);

/*
 * Run sql on url and return the server's error message (to free()), or
 * NULL when it succeeded.
 */
char *citus_psql_error(const char *url, const char *sql);

#endif
