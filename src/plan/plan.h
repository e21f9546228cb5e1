/*
 * plan.h - matching migration files with tracking rows: which
 * migrations are pending, executed, missing (applied, file gone),
 * modified (file changed since applied) or out of order (pending but
 * numbered below the newest applied), and which of them `up` and `down`
 * select.
 */
#ifndef DBMIGRATE_PLAN_H
#define DBMIGRATE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbmigrate.h"
#include "migration.h"

/* A row of the tracking table, as read. */
struct applied {
	char *id;          /* as recorded: "001"; the block holding every
			      string of the row (applied_free() frees it) */
	int cls;           /* migration_id_class(): 0 a version, 1 a
			      repeatable's id, 2 text no file name gives */
	char *name;
	char *label;       /* "001_name", or the id when the name is empty */
	char *executed_at; /* ISO 8601 UTC, or NULL */
	char *checksum;    /* hex, or NULL for rows of older tools */
	char *down_sql;    /* the down SQL kept when it was applied, or NULL
			      (no down, or an older tool) */
	int batch;
	/* A migration that started and did not finish ("up 2/5"); the
	   text is kept as read, so that mark can say what it replaces. */
	bool partial;
	bool partial_down;
	unsigned partial_done, partial_total;
};

struct applied_set {
	struct applied *v;
	size_t n;
	size_t cap;
};

/* One migration in the plan: a file, a row, or both. */
struct plan_item {
	struct migration *mig; /* NULL when missing */
	struct applied *row;   /* NULL when pending */
	dbmigrate_state state;
	bool modified;         /* checksums differ (rows without one never) */
	bool out_of_order;     /* pending, below the newest applied version */
	bool repeatable;       /* a repeatable migration (file or row) */
	bool outdated;         /* repeatable, applied, and its file changed
				  since: pending again (row set) */
	bool down_from_table;  /* applied, and a down would run the SQL kept
				  in the tracking table: the file is gone or
				  has no down section, the row has one */
	bool partial_down;     /* PARTIAL: it was rolling back */
	unsigned partial_done, partial_total; /* PARTIAL: statements */
};

struct plan {
	struct plan_item *v; /* migration_id_cmp() order: versions,
				repeatables, then rows of other ids */
	size_t n;
	int max_batch;       /* 0 when nothing is applied */
	int max_down_batch;  /* the newest batch of versioned migrations
				(what `down` rolls back); 0 when none */
};

/* Add a row (copying strings; down_sql may be NULL). Returns
   DBMIGRATE_ENOMEM on failure. */
dbmigrate_code applied_add(struct applied_set *s, const char *id,
			   const char *name, const char *executed_at,
			   const char *checksum, const char *down_sql,
			   int batch, dbmigrate_error *err);

/*
 * Mark row a as a migration that started and did not finish, from the
 * progress the tracking table holds ("up 2/5", "down 0/3").
 * DBMIGRATE_EDATABASE when the text is none of these.
 */
dbmigrate_code applied_progress(struct applied *a, const char *progress,
				dbmigrate_error *err);

/* Free the rows. */
void applied_free(struct applied_set *s);

/*
 * Merge files and rows into a plan. Two rows with the same version are a
 * DBMIGRATE_EDATABASE error (the tracking table is inconsistent). A
 * repeatable whose file changed since it was applied is pending again
 * (outdated, with its row); it is never modified nor out of order.
 */
dbmigrate_code plan_build(struct migration_set *files,
			  struct applied_set *rows, struct plan *out,
			  dbmigrate_error *err);

/*
 * The pending items `up` runs, in order (repeatables after the
 * versioned ones): all, the first step (step > 0), or the versioned
 * ones up to and including version to (to != NULL; no repeatable then;
 * an id that names no migration is DBMIGRATE_EUSAGE). *idx gets
 * indices into p->v (free it).
 */
dbmigrate_code plan_select_up(const struct plan *p, unsigned step,
			      const char *to, size_t **idx, size_t *n,
			      dbmigrate_error *err);

/*
 * The executed or missing items `down` rolls back, newest first (batch
 * descending, then version descending): the newest batch of versioned
 * migrations by default, the last step migrations whatever their batch
 * (step > 0), or every one above version to (to != NULL; "0" means
 * all). all=true selects every applied migration (reset). Repeatable
 * migrations are never selected: they have no undo (as in Flyway).
 */
dbmigrate_code plan_select_down(const struct plan *p, unsigned step,
				const char *to, bool all, size_t **idx,
				size_t *n, dbmigrate_error *err);

/*
 * The item whose migration (file or row) has the id id stands for (001
 * and 1 are one), or NULL; DBMIGRATE_EUSAGE when id is neither a
 * version nor a repeatable's id (what names the option or command in
 * the message).
 */
dbmigrate_code plan_find(const struct plan *p, const char *id,
			 const char *what, struct plan_item **out,
			 dbmigrate_error *err);

/* Free the plan (not the files or rows it points to). */
void plan_free(struct plan *p);

#endif
