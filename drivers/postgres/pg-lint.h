/*
 * pg-lint.h - what the two files of the PostgreSQL lint rules share:
 * pg-lint.c (the rules of plain PostgreSQL, and pg_lint() that reads a
 * statement) and pg-lint-citus.c (the citus-* rules).
 */
#ifndef DBMIGRATE_PG_LINT_H
#define DBMIGRATE_PG_LINT_H

#include <stddef.h>

#include "../common/lintkit.h"

/* pg-lint.c: words of a statement with PostgreSQL's rules. */
int pg_lint_ident(const struct lintkit *l, size_t i);
void pg_lint_copy(const struct lintkit *l, size_t i, char *out);
int pg_lint_name(const struct lintkit *l, size_t i,
		 struct lintkit_name *nm);

/* pg-lint-citus.c: the Citus rules, called by pg_lint() on the
   statements they concern. */
void pg_lint_fills(struct lintkit *l);
void pg_lint_citus_select(struct lintkit *l);
void pg_lint_citus_key(struct lintkit *l, size_t at, const char *table,
		       size_t i);
void pg_lint_citus_create_table(struct lintkit *l,
				const struct lintkit_name *t);
void pg_lint_citus_action(struct lintkit *l, const char *table,
			  size_t i, size_t end);
void pg_lint_citus_trigger(struct lintkit *l, size_t i,
			   const char *table);

#endif
