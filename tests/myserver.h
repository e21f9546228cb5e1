/*
 * myserver.h - a private MariaDB server for a Check program.
 *
 * myserver_start() makes a throwaway data directory (mariadb-install-db
 * into a scratch directory) and starts mariadbd on 127.0.0.1, a free
 * port, and a unix socket in that directory, once per test program:
 * call it in main() before srunner_run_all(), so that the forked test
 * processes inherit it. Each test then takes a fresh database with
 * myserver_new_database(). When the program ends (normally or not) a
 * watchdog process, the server's parent, stops it by its pid and
 * removes the directory.
 *
 * The binaries are DBMIGRATE_MYSQL_BINDIR's when it is set (holding
 * mariadbd or mysqld, and mariadb-install-db or mysql_install_db), else
 * found in PATH, /usr/sbin and /usr/bin.
 *
 * Without server binaries, myserver_start() prints a loud SKIP line and
 * exits 77 (automake's "skipped"); with CI=true in the environment it
 * exits 1 instead, since CI must never skip silently. Run as root, the
 * server runs as the user "mysql" when it exists, else "dbmigrate", else
 * "nobody".
 *
 * The user root logs in with a generated password over TCP
 * (root@127.0.0.1) and without one over the socket (root@localhost),
 * which the harness's own queries use.
 */
#ifndef DBMIGRATE_MYSERVER_H
#define DBMIGRATE_MYSERVER_H

/* Start the server (once; later calls do nothing). See above. */
void myserver_start(void);

/* Stop the server and remove its directory; safe to call twice. */
void myserver_stop(void);

/*
 * Create a new empty database (t_<pid>_<n>) and return its URL,
 * mysql://root:PASSWORD@127.0.0.1:PORT/NAME, to free().
 */
char *myserver_new_database(void);

/* The database name at the end of a URL from myserver_new_database(). */
const char *myserver_dbname(const char *url);

const char *myserver_port(void);     /* e.g. "45123" */
const char *myserver_password(void); /* root's, generated at start */
const char *myserver_socket(void);   /* the socket file's path */
const char *myserver_dir(void);      /* the scratch directory */

/*
 * Run sql (one statement) in database db (NULL: none) as root over the
 * socket, and return the first column of the first row, to free(), or
 * NULL when there is no row or the value is NULL. A failure fails the
 * calling test.
 */
char *myserver_query(const char *db, const char *sql);

/* Like myserver_query() of a formatted statement. */
char *myserver_queryf(const char *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The number of the first column of the first row (0 for no row). */
long myserver_count(const char *db, const char *sql);

#endif
