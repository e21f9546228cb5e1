/*
 * split.h - a migration body as the statements that run: the driver
 * splits the text (split()) and says what each statement is
 * (classify()); the core unwraps a whole-body BEGIN ... COMMIT, refuses
 * other transaction control, and points errors at file:line:column. The
 * runner, validate and lint all take a body through here, so that they
 * see the same statements.
 */
#ifndef DBMIGRATE_SPLIT_H
#define DBMIGRATE_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "dbmigrate/driver.h"
#include "driver.h"
#include "migration.h"

/* One statement of a body. */
struct split_stmt {
	size_t offset;                   /* in the body's sql */
	size_t len;                      /* without its terminator */
	struct dbmigrate_stmt_class cls; /* what the driver said of it */
};

/* The statements of a body. */
struct split_result {
	struct split_stmt *v;
	size_t n;
	size_t cap;
	size_t first;    /* [first, first + count) is what runs: every */
	size_t count;    /* statement, or all but a BEGIN/COMMIT wrapper */
	bool unwrapped;  /* a wrapper was left out */
	unsigned flags;  /* the DBMIGRATE_STMT_* flags of the statements
			    that run, or'ed together */
};

/*
 * Split body b of migration mig with driver d (host for its services),
 * classify every statement, and, unless mig is transaction:false (its
 * BEGIN and COMMIT are then sent as written), unwrap a whole-body
 * wrapper and refuse other transaction control. Errors are
 * DBMIGRATE_EFILES located in the file (or DBMIGRATE_ENOMEM). out must
 * be zeroed; free it with split_result_free() whatever happens.
 */
dbmigrate_code split_body(const struct driver *d,
			  const struct dbmigrate_host *host,
			  const struct migration *mig,
			  const struct migration_body *b,
			  struct split_result *out, dbmigrate_error *err);

/* Free out's array and reset it. */
void split_result_free(struct split_result *out);

#endif
