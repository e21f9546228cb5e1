/*
 * sqlite-limit.c - the physical limit of a migration tool on SQLite: the
 * library executing the same SQL with nothing in between. It opens the
 * database file and runs each FILE whole with sqlite3_exec(), which
 * prepares and steps one statement after another. bench/run writes the
 * files: the migrations' statements and their tracking rows between
 * BEGIN IMMEDIATE and COMMIT, so SQLite does exactly the work dbmigrate
 * asks of it. Foreign keys are on, as on dbmigrate's connection (the
 * sqlite driver enforces them, as Rails and Django do): with them on, a
 * DROP TABLE first deletes the table's rows, which is SQLite's work, not
 * the tool's.
 *
 *   sqlite-limit DBFILE FILE...   exit 0 when every file ran
 *   sqlite-limit --read DIR DBFILE FILE...
 *                                 first read every file of DIR, as a tool
 *                                 must to see what changed (the limit of
 *                                 `status`); rows a FILE's SELECT returns
 *                                 are stepped through and dropped
 *
 * Nothing is timed here: bench/run times this whole process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define LIMIT_NAME "sqlite-limit"
#include "limit-files.h"

/* A row of a SELECT: taken and dropped. */
static int limit_row(void *arg, int n, char **values, char **names)
{
	(void)arg;
	(void)n;
	(void)values;
	(void)names;
	return 0;
}

/* Run one file whole; 0 when every statement succeeded. */
static int limit_run(sqlite3 *db, const char *path)
{
	char *sql = limit_read(path);
	char *err = NULL;
	int rc;

	if (sql == NULL)
		return 1;
	rc = sqlite3_exec(db, sql, limit_row, NULL, &err);
	if (rc != SQLITE_OK)
		fprintf(stderr, "sqlite-limit: %s: %s\n", path,
			err != NULL ? err : sqlite3_errstr(rc));
	sqlite3_free(err);
	free(sql);
	return rc != SQLITE_OK;
}

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	int rc = 0;

	if (limit_read_option(&argc, &argv) != 0)
		return 1;
	if (argc < 3) {
		fprintf(stderr, "usage: sqlite-limit [--read DIR] DBFILE FILE...\n");
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "sqlite-limit: %s: %s\n", argv[1],
			db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return 1;
	}
	if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "sqlite-limit: %s: %s\n", argv[1],
			sqlite3_errmsg(db));
		rc = 1;
	}
	for (int i = 2; i < argc && rc == 0; i++)
		rc = limit_run(db, argv[i]);
	sqlite3_close(db);
	return rc;
}
