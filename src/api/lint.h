/*
 * lint.h - `dbmigrate lint`: warnings about migrations that would lock
 * or rewrite big tables or break the application still running, found
 * without a database. The core's own rules (a missing down section, a
 * statement that cannot run in a transaction written inside the
 * migration's BEGIN ... COMMIT), the silencing directive and file:line
 * live here; the backend's rules come from the driver's lint() and are
 * filtered here with what spans statements: tables the migration
 * created itself, a lock_timeout it already set, and the properties the
 * driver noted on tables (DBMIGRATE_LINT_NOTES), which span migrations:
 * they come from the migrations linted before, in order.
 */
#ifndef DBMIGRATE_LINT_H
#define DBMIGRATE_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "dbmigrate.h"
#include "driver.h"
#include "migration.h"

/* The comment that silences rules: -- dbmigrate:lint-ignore RULE[,RULE]. */
#define LINT_DIRECTIVE "dbmigrate:lint-ignore"

struct dbmigrate_lint_result {
	dbmigrate_lint_warning *v;
	size_t n;
	size_t cap;
	size_t checked;  /* migrations looked at */
	size_t silenced; /* warnings a directive silenced */
	char **notes;    /* the driver's NOTES so far, "table\nnote": they
			    hold for the migrations linted after them */
	size_t nnotes;
	size_t capnotes;
};

/*
 * Lint the up section of mig (loaded) and append its warnings to r. The
 * driver d (loaded; it need not be connected) splits and classifies the
 * statements and, with lint(), supplies the backend's rules, called
 * with host. timeout_configured says the runner sets a
 * lock timeout for every migration, which makes the no-lock-timeout
 * findings moot. A body that does not split, or holds transaction
 * control the runner would refuse, is DBMIGRATE_EFILES in err.
 */
dbmigrate_code lint_migration(const struct migration *mig,
			      const struct driver *d,
			      const struct dbmigrate_host *host,
			      bool timeout_configured,
			      struct dbmigrate_lint_result *r,
			      dbmigrate_error *err);

/*
 * True when the directive comments of sql (len bytes) in [from, to)
 * name rule. Comments are found as the lexer would (never inside a
 * string or a quoted name).
 */
bool lint_silenced_in(const char *sql, size_t len, size_t from, size_t to,
		      const char *rule);

#endif
