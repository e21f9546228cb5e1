/*
 * import.h - another tool's history table (goose, golang-migrate,
 * dbmate, Flyway) read into the tracking rows dbmigrate would have
 * written, for `dbmigrate import`; and telling such a table when it is
 * given as dbmigrate's own (--table).
 */
#ifndef DBMIGRATE_IMPORT_H
#define DBMIGRATE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "dbmigrate.h"
#include "driver.h"
#include "plan.h"

enum import_tool {
	IMPORT_GOOSE,
	IMPORT_GOLANG_MIGRATE,
	IMPORT_DBMATE,
	IMPORT_FLYWAY,
	IMPORT_NTOOLS
};

/* One migration the peer applied, to record. */
struct import_row {
	struct plan_item *it; /* the plan's item: its file (mig), or NULL
				 when no file of the directory has the id */
	char *id;             /* the file's id, else the peer's version */
	char *name;           /* the file's name, else the peer's, or "" */
	char *executed_at;    /* ISO 8601 UTC from the peer, or NULL (now) */
};

/* What import found: the rows to write and what was left aside. */
struct import_plan {
	enum import_tool tool;
	const char *table;     /* the peer's table (static) */
	struct import_row *v;  /* in the plan's order */
	size_t n;
	size_t already;        /* applied by the peer, already recorded */
	size_t missing;        /* of v, those without a file */
	size_t pending;        /* files the peer had not applied */
	char **warnings;       /* sentences for the user, in order */
	size_t nwarnings;
};

/* What import_read() needs of the session. */
struct import_ctx {
	struct driver *drv;
	struct plan *plan;     /* the directory's files and dbmigrate's rows */
	dbmigrate_error *err;
};

/* The tool called name ("goose", "golang-migrate", "dbmate", "flyway";
   also "migrate" and "golang_migrate"), or -1. */
int import_tool_parse(const char *name);

/* The tool's name as users write it. */
const char *import_tool_name(enum import_tool tool);

/*
 * Read the history of tool (or, tool < 0, the one whose table the
 * database has: none or several is DBMIGRATE_EUSAGE, naming them) into
 * out, following that tool's rules. A history dbmigrate cannot take as
 * it is (golang-migrate's dirty flag, a failed Flyway migration) is
 * DBMIGRATE_EFILES (a refused plan) naming the version and what to check. Reads
 * only; out is freed with import_plan_free() in every case.
 */
dbmigrate_code import_read(struct import_ctx *c, int tool,
			   struct import_plan *out);

/* Free what import_read() made. */
void import_plan_free(struct import_plan *p);

/*
 * Refuse a table of another tool given as the tracking table: when table
 * exists and has a peer's columns, DBMIGRATE_EUSAGE naming the tool and
 * `dbmigrate import`; DBMIGRATE_OK otherwise, and when the driver cannot
 * tell (no table_columns()).
 */
dbmigrate_code import_check_tracking_table(struct driver *drv,
					   const char *table,
					   dbmigrate_error *err);

#endif
