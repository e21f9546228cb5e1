/*
 * lintkit.h - what every driver's lint rules stand on: one statement's
 * first words (host->words() under the driver's lexical rules), reading
 * keywords and names among them, and reporting a finding to the host.
 * A source of the drivers' own, compiled into each driver that lints
 * (it is not the host's: a driver still needs only dbmigrate/driver.h
 * and never links against libdbmigrate). Each driver keeps what is its
 * dialect's: which words can be names, and how a name is normalised.
 */
#ifndef DBMIGRATE_LINTKIT_H
#define DBMIGRATE_LINTKIT_H

#include <stddef.h>

#include "dbmigrate/driver.h"

/* Enough for any DDL statement; a longer one (a data load) is read
   only this far, which no rule needs to exceed. */
#define LINTKIT_WORDS 1024

/* A normalised table or column name. */
#define LINTKIT_NAME 128

/* One statement being linted. */
struct lintkit {
	const struct dbmigrate_host *host;
	const char *sql;
	size_t len;
	struct dbmigrate_word w[LINTKIT_WORDS];
	size_t n;
	dbmigrate_lint_fn fn;
	void *ctx;
	int stop; /* fn asked to stop */
};

/* A name as read from the statement: normalised, and where it ends. */
struct lintkit_name {
	char s[LINTKIT_NAME];
	size_t next; /* index of the word after the name */
};

/* True when word i exists and is the keyword kw (ASCII case ignored). */
int lintkit_is(const struct lintkit *l, size_t i, const char *kw);

/* The index of keyword kw in [i, end), or end. */
size_t lintkit_find(const struct lintkit *l, size_t i, size_t end,
		    const char *kw);

/*
 * Read a possibly qualified name (schema.table) at word i into *nm: its
 * last part, since the rules compare tables of one migration, which
 * rarely name the same table two ways. ident says which words can be
 * names and copy normalises one into LINTKIT_NAME bytes, as the
 * dialect does. False when there is no name.
 */
int lintkit_name(const struct lintkit *l, size_t i,
		 int (*ident)(const struct lintkit *l, size_t i),
		 void (*copy)(const struct lintkit *l, size_t i, char *out),
		 struct lintkit_name *nm);

/*
 * The rule "rename", for ALTER TABLE t RENAME TO u | RENAME [COLUMN] a
 * TO b with RENAME at word i and the action's words ending at end: a
 * warning on the existing table, with table_hint for a table's rename
 * and column_hint for a column's, whose name name() reads as the
 * dialect does (nothing when it reads none).
 */
void lintkit_rename(struct lintkit *l, const char *table, size_t i,
		    size_t end,
		    int (*name)(const struct lintkit *l, size_t i,
				struct lintkit_name *nm),
		    const char *table_hint, const char *column_hint);

/* Report r, pointing at word i, its message made from fmt (NULL: r's
   own); nothing once fn asked to stop. */
void lintkit_emit(struct lintkit *l, struct dbmigrate_lint_report *r,
		  size_t i, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Report one finding at word i; fmt makes the message (NULL: none).
   Nothing once fn asked to stop. */
void lintkit_report(struct lintkit *l, enum dbmigrate_lint_kind kind,
		    const char *rule, size_t i, const char *table,
		    unsigned flags, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

#endif
