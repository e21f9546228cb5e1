/*
 * import-cases.h - the `dbmigrate import` tests, written once and run on
 * each backend (check_pg_import, check_sqlite_import): each program
 * gives a struct ic_backend, the SQL that differs between backends
 * (each tool's history table as its dialect writes it, how to ask the
 * catalog), and adds ic_import_tcase() to its suite.
 */
#ifndef DBMIGRATE_TESTS_IMPORT_CASES_H
#define DBMIGRATE_TESTS_IMPORT_CASES_H

#include <check.h>

#include "testutil.h"

struct ic_backend {
	/* A project with url set to a new, empty database. */
	struct tu_project (*project_new)(void);
	/* The first value of q on the project's database (NULL: none). */
	char *(*query)(const struct tu_project *p, const char *q);
	/* Run SQL of the test's own (several statements). */
	void (*exec)(const struct tu_project *p, const char *sql);
	/* goose's files in the backend's SQL: 00001_create_users (users,
	   email, index users_email in 00002_index) and 20240102030405_*. */
	void (*goose_files)(const struct tu_project *p);
	/* The schema goose's 00001 and 00002 made. */
	const char *goose_schema;
	/* Made before goose_ran[1]: what shows 20240102030405 ran; its
	   value goose_ran[2]. */
	const char *goose_ran[3];
	/* Each tool's history table, as the tool creates it. */
	const char *goose_table;     /* goose v3.16+ */
	const char *goose_old_table; /* goose before (serial id) */
	const char *golang_table;
	const char *dbmate_table;
	const char *flyway_table;
	/* Flyway's V1__init.sql (creates log (n, v)) and R__answer.sql
	   (answer, 42), and Flyway's checksums of them and of V1.1. */
	const char *flyway_v1, *flyway_r;
	const char *ck_v1, *ck_v1_1, *ck_r;
	/* log's v in n order, space-separated. */
	const char *log_values;
	/* A boolean true as a query gives it back. */
	const char *true_value;
	/* A query and its value: 00001's executed_at is 2024-01-02 10:00 UTC. */
	const char *executed_at[2];
	/* A condition: checksum is 64 lowercase hex digits. */
	const char *checksum_is_sha256;
	/* Queries around a table's name ([0], the name, [1]): 1 if it
	   exists, else 0; the count of its columns. */
	const char *table_exists[2], *count_columns[2];
	/* dbmigrate's versioned rows "id:batch,..." in version order. */
	const char *tracked_rows;
};

/* The import test case on backend b (kept for the program's life). */
TCase *ic_import_tcase(const struct ic_backend *b);

/* Shared with the program's own tests, on the backend of
   ic_import_tcase(). */
struct tu_project ic_project_new(void);
char *ic_query(const struct tu_project *p, const char *q);
void ic_exec(const struct tu_project *p, const char *sql);
void ic_expect_sql(const struct tu_project *p, const char *q, const char *want);
/* want: "1:1,2:1"; "" a tracking table without rows; NULL no table. */
void ic_expect_tracked(const struct tu_project *p, const char *want);
void ic_expect_no_table(const struct tu_project *p, const char *table);
void ic_golang_files(const struct tu_project *p);
void ic_flyway_files(const struct tu_project *p);

/* Run dbmigrate on the project: --url and --dir given. */
#define IC_DB(p, ...) \
	TU_RUN((p)->root, NULL, "--url", (p)->url, "--dir", (p)->dir, __VA_ARGS__)

#endif
