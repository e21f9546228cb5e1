/*
 * txcontrol.h - transaction control written inside a migration. A body
 * wrapped whole in BEGIN/START TRANSACTION ... COMMIT/END (the seed
 * recommends it) is unwrapped so it runs inside the batch transaction;
 * any other transaction control is refused before anything runs, since
 * it would commit or abort the batch half-way.
 */
#ifndef DBMIGRATE_TXCONTROL_H
#define DBMIGRATE_TXCONTROL_H

#include <stddef.h>

#include "lexer.h"

enum txcontrol_kind {
	TXCONTROL_NONE,    /* an ordinary statement (SAVEPOINT included) */
	TXCONTROL_BEGIN,   /* BEGIN, START TRANSACTION */
	TXCONTROL_COMMIT,  /* COMMIT, END */
	TXCONTROL_ABORT,   /* ROLLBACK, ABORT (not ROLLBACK TO SAVEPOINT) */
	TXCONTROL_OTHER    /* PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED */
};

/* Classify one statement. */
enum txcontrol_kind txcontrol_classify(const char *sql, size_t len);

/*
 * Check the statements of one body. On success (0), [*first, *first +
 * *count) is the range to run: everything, or everything but a whole-body
 * BEGIN ... COMMIT wrapper (*unwrapped set to 1). On failure (-1), *bad
 * is the index of the offending statement and *why a static sentence
 * ("COMMIT in the middle of a migration would commit the batch half-way").
 */
int txcontrol_check(const char *text, const struct lexer_result *r,
		    size_t *first, size_t *count, int *unwrapped, size_t *bad,
		    const char **why);

#endif
