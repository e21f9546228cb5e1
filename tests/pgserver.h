/*
 * pgserver.h - a private PostgreSQL server for a Check program.
 *
 * pgserver_start() makes a throwaway cluster (initdb into a scratch
 * directory, 127.0.0.1 on a free port plus a unix socket in that
 * directory, fsync off) and starts it, once per test program: call it in
 * main() before srunner_run_all(), so that the forked test processes
 * inherit it. Each test then takes a fresh database with
 * pgserver_new_database(). When the program ends (normally or not) a
 * watchdog process stops the server and removes the directory.
 *
 * The server binaries are DBMIGRATE_PG_BINDIR's when it is set, else the
 * first of PATH, `pg_config --bindir` and /usr/lib/postgresql/<newest>/bin
 * holding initdb, pg_ctl and postgres.
 *
 * Without PostgreSQL server binaries, pgserver_start() prints a loud
 * SKIP line and exits 77 (automake's "skipped"); with CI=true in the
 * environment it exits 1 instead, since CI must never skip silently.
 * Running as root, the server runs as the user "dbmigrate" when it
 * exists, else "nobody" (PostgreSQL refuses to run as root).
 */
#ifndef DBMIGRATE_PGSERVER_H
#define DBMIGRATE_PGSERVER_H

/* Start the server (once; later calls do nothing). See above. */
void pgserver_start(void);

/* Start the server (before the tests fork, so that they all share it),
   run suite s as tu_run_suite() does, stop the server; its result. */
struct Suite;
int pgserver_run_suite(struct Suite *s);

/* Stop the server and remove its directory; safe to call twice. */
void pgserver_stop(void);

/*
 * Create a new empty database (t_<pid>_<n>) and return its URL,
 * postgres://postgres:PASSWORD@127.0.0.1:PORT/NAME, to free(). The
 * superuser "postgres" authenticates with scram-sha-256 over TCP.
 */
char *pgserver_new_database(void);

/* The database name at the end of a URL from pgserver_new_database(). */
const char *pgserver_dbname(const char *url);

/* Where the server listens and who may log in. */
const char *pgserver_host(void);       /* "127.0.0.1" */
const char *pgserver_port(void);       /* e.g. "45123" */
const char *pgserver_user(void);       /* "postgres" */
const char *pgserver_password(void);   /* generated at start */
const char *pgserver_socket_dir(void); /* trust login; NULL if none */

/*
 * Run sql (one or more statements) on the database at url and return
 * the first column of the first row of the last result, to free(), or
 * NULL when there is no row or the value is NULL. A connection or SQL
 * failure fails the calling test.
 */
char *pgserver_psql(const char *url, const char *sql);

#endif
