/*
 * sqliteutil.h - the SQLite tests' own connection to a database file,
 * to look at what dbmigrate left there or to set a scene up (a
 * libsqlite3 of the test's own, beside the driver's).
 */
#ifndef DBMIGRATE_SQLITEUTIL_H
#define DBMIGRATE_SQLITEUTIL_H

/* The first value of q on the database file db (NULL: no row, or
   NULL), to free. Fails the test when q does not prepare. */
char *tu_sqlite_query(const char *db, const char *q);

/* Run sql (one or more statements) on the database file db; fails the
   test when it fails. */
void tu_sqlite_exec(const char *db, const char *sql);

#endif
