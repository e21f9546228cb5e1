/*
 * session.h - what one command loads (session.c): files, rows, the plan,
 * and the status listing made of them. Below prepare.h.
 */
#ifndef DBMIGRATE_SESSION_H
#define DBMIGRATE_SESSION_H

#include "handle.h"
#include "migration.h"
#include "plan.h"

/* Everything one command loads: files, rows, the plan. */
struct session {
	struct migration_set files;
	struct applied_set rows;
	struct plan plan;
	bool locked;
};

/* A status listing: entries and the strings they point to. */
struct dbmigrate_report {
	dbmigrate_entry *v;
	size_t n;
	char *strings;           /* every string of v, in one block; or */
	struct session *session; /* the session v points into (status) */
};

/* Load the driver the options name, once. */
dbmigrate_code session_load_driver(dbmigrate *m);

/* Load the driver and connect, once. */
dbmigrate_code session_open(dbmigrate *m);

/* Keep the first error while running a clean-up step that may fail. */
void session_cleanup_rollback(dbmigrate *m);

/* Release the runner lock, keeping any error already set. */
void session_unlock(dbmigrate *m, struct session *s);

/* Free what a session loaded. */
void session_free(struct session *s);

/* Discover and load every migration file of the directory. */
dbmigrate_code session_load_files(dbmigrate *m, struct session *s);

/* Read the tracking rows for a listing (validate) and build the plan. */
dbmigrate_code session_read_plan(dbmigrate *m, struct session *s);

/* Take the runner lock, saying with -v what kind of lock the driver
   keeps runners apart with. */
dbmigrate_code session_lock(dbmigrate *m);

/*
 * Load files and connect, optionally lock, read the plan. Without bodies
 * (status), files the status cache knows unchanged are not read: their
 * migrations hold a checksum and flags only (cache_load_status()).
 */
dbmigrate_code session_begin(dbmigrate *m, struct session *s,
			     bool lock, bool bodies);

/* Fill a public entry from a plan item (pointing at its strings). */
void session_entry(const struct plan_item *it, dbmigrate_entry *e);

#endif
