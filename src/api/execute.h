/*
 * execute.h - running prepared migrations (execute.c). Used by the
 * commands in migrator.c.
 */
#ifndef DBMIGRATE_EXECUTE_H
#define DBMIGRATE_EXECUTE_H

#include "prepare.h"

/*
 * Run prepared items in order as one batch: consecutive transactional
 * items share one transaction (unless each commits on its own, or an
 * item asks the one before to commit first); an item that must run
 * outside one commits what came before, runs alone, and is recorded as
 * soon as it succeeds.
 */
dbmigrate_code execute_run(dbmigrate *m, struct run_item *v,
			   size_t n, const struct run_mode *mode);

#endif
