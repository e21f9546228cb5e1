/*
 * prepare.h - a migration ready to run (prepare.c): its statements, how
 * it runs, its limits. Below execute.h.
 */
#ifndef DBMIGRATE_PREPARE_H
#define DBMIGRATE_PREPARE_H

#include "session.h"
#include "split.h"

/* One migration ready to run in one direction. */
struct run_item {
	struct plan_item *it;
	struct migration *mig;      /* what errors point into: it->mig, or
				       stored for a down kept in the table */
	struct migration_body *body;
	struct split_result sp;     /* its statements, as the driver split
				       and classified them */
	size_t first;               /* first statement to run in sp */
	size_t count;               /* how many */
	struct dbmigrate_stmt *stmts; /* point into body->sql (no copies) */
	char *saved;                /* the byte after each statement, which
				       prepare_terminate() replaces */
	bool down;                  /* rolls back (else applies) */
	bool outside;               /* runs outside the batch transaction */
	bool own_tx;                /* runs in a transaction of its own, its
				       first pre and last post statements
				       just before and after it */
	size_t pre, post;
	bool journal;               /* cannot roll back: its progress is
				       recorded as it runs (record_progress) */
	size_t ran_unrecorded;      /* journal: statements that ran when
				       writing their progress failed (the
				       row says fewer); 0: not so */
	bool commit_before;         /* the transaction before it must commit
				       first (redo's second step) */
	const char *reason;         /* why (static), or NULL */
	struct dbmigrate_settings limits; /* for its statements */
	struct migration stored;    /* the tracking row's down SQL as a
				       migration of its own (from_table) */
	struct migration_body stored_body;
	bool from_table;            /* runs the down SQL the tracking table kept */
};

/* How a run commits; what execute_run and its failures need. */
struct run_mode {
	int batch;          /* of the migrations applied */
	bool per_migration; /* each migration commits on its own */
};

/* A directive value not given in the migration. */
#define MIGRATOR_UNSET (-1.0)

/* Backoff of the retries is the driver's; this many it makes at most. */
#define MIGRATOR_DEFAULT_RETRIES 3

/* The label of a plan item: "001_name". */
const char *prepare_label(const struct plan_item *it);

/* Free a run item's buffers. */
void prepare_item_free(struct run_item *r);

/* Free an array of run items. */
void prepare_items_free(struct run_item *v, size_t n);

/*
 * Read the limits of one body, split it into statements as the driver
 * does, unwrap a BEGIN/COMMIT wrapper and refuse other transaction
 * control (split_body()), and decide how it runs.
 */
dbmigrate_code prepare_one(dbmigrate *m, struct run_item *r,
			   struct migration *mig,
			   struct migration_body *b);

/*
 * The driver ABI promises each statement NUL-terminated. Rather than
 * copy every statement (a 15 MB data migration would sit in memory
 * twice), each is ended in place, in the body's text, for as long as
 * apply() runs: the byte after a statement is its semicolon, white
 * space, a comment or the body's own NUL, never part of another
 * statement. prepare_unterminate() puts the bytes back before anything
 * reads the text again (error locations quote source lines).
 */
void prepare_terminate(struct run_item *r);

/* Undo prepare_terminate(). */
void prepare_unterminate(struct run_item *r);

/*
 * Prepare the selected items for one direction into v[0..n) (zeroed);
 * refuse unrunnable ones. A down comes from the file, else from the
 * tracking table when it kept one (a warning says so).
 */
dbmigrate_code prepare_items(dbmigrate *m, struct session *s,
			     const size_t *idx, size_t n,
			     bool down, struct run_item *v);

/* Prepare the selected items for one direction; refuse unrunnable ones. */
dbmigrate_code prepare_all(dbmigrate *m, struct session *s,
			   const size_t *idx, size_t n,
			   bool down, struct run_item **out);

/* Add to m->err's detail what happened to the rest of the batch. */
void prepare_explain_failure(dbmigrate *m, const struct run_item *r,
			     size_t failed_stmt, size_t committed,
			     size_t rolled_back,
			     const struct run_mode *mode);

/* Map the driver's failure in item r to a file location. */
void prepare_locate_failure(dbmigrate *m, const struct run_item *r);

/* Emit PLAN events for every item. */
void prepare_emit_plan(dbmigrate *m, const struct run_item *v, size_t n,
		       int batch);

#endif
