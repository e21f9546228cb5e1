/*
 * sqliteutil.c - see sqliteutil.h.
 */
#include "sqliteutil.h"

#include <check.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

char *tu_sqlite_query(const char *db, const char *q)
{
	sqlite3 *c;
	sqlite3_stmt *st;
	char *v = NULL;

	ck_assert_int_eq(sqlite3_open(db, &c), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(c, q, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", q, sqlite3_errmsg(c));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(c);
	return v;
}

void tu_sqlite_exec(const char *db, const char *sql)
{
	sqlite3 *c;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(db, &c), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(c, sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg);
	sqlite3_close(c);
}
