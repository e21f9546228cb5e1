/*
 * my-lint.c - the MySQL rules of `dbmigrate lint`, read from the words
 * of one statement (host->words with MySQL's rules), no connection.
 *
 *   alter-table-copy   ALTER TABLE (or CREATE INDEX) on an existing table
 *                      without ALGORITHM=: the server may copy the whole
 *                      table and block writes meanwhile; with ALGORITHM=
 *                      INSTANT or INPLACE, LOCK=NONE it refuses instead
 *   no-lock-timeout    ALTER TABLE, CREATE INDEX, DROP TABLE, RENAME
 *                      TABLE wait for a metadata lock behind every open
 *                      transaction on the table, and every later query
 *                      of it waits behind them, for lock_wait_timeout
 *                      (a year by default)
 *   drop-table         DROP TABLE loses the data, and with DDL committing
 *                      on its own nothing takes it back
 *
 * CREATE TABLE is reported (CREATES_TABLE) so that rules about existing
 * tables stay quiet for a table the same migration made; SET
 * lock_wait_timeout is reported (SETS_LOCK_TIMEOUT).
 */
#include "my.h"

#include <stdio.h>
#include <string.h>

#include "../common/lintkit.h"

/* How many of a statement's words the rules read. */
#define MY_LINT_WORDS 64

/* A statement's words and where to report (lintkit's), and the table
   the statement names. */
struct my_lint {
	struct lintkit k;
	char table[256];
};

/* Copy the table name at word i (`db`.`t`, db.t, t) into l->table,
   normalised: without backticks and database, as written otherwise
   (MySQL's table names are case-sensitive on Linux). 0 if none. */
static int my_lint_name(struct my_lint *l, size_t i)
{
	const struct dbmigrate_word *w;

	if (i >= l->k.n)
		return 0;
	if (i + 2 < l->k.n && lintkit_is(&l->k, i + 1, "."))
		i += 2;
	w = &l->k.w[i];
	if (w->len == 0 || (w->len == 1 && !(w->s[0] == '_' ||
					     (w->s[0] >= 'a' && w->s[0] <= 'z') ||
					     (w->s[0] >= 'A' && w->s[0] <= 'Z'))))
		return 0;
	if (w->s[0] == '`' && w->len >= 2) {
		size_t o = 0;

		for (size_t k = 1; k + 1 < w->len && o + 1 < sizeof l->table; k++) {
			if (w->s[k] == '`' && k + 2 < w->len && w->s[k + 1] == '`')
				k++;
			l->table[o++] = w->s[k];
		}
		l->table[o] = '\0';
	} else {
		snprintf(l->table, sizeof l->table, "%.*s", (int)w->len, w->s);
	}
	return 1;
}

/* Report one finding: message as it is (not a format), the table
   named, if any. */
static void my_lint_report(struct my_lint *l, enum dbmigrate_lint_kind kind,
			   const char *rule, size_t word, unsigned flags,
			   const char *hint, const char *message)
{
	struct dbmigrate_lint_report r = {
	    .kind = kind,
	    .rule = rule,
	    .message = message,
	    .hint = hint,
	    .table = l->table[0] != '\0' ? l->table : NULL,
	    .flags = flags};

	lintkit_emit(&l->k, &r, word, NULL);
}

/* The metadata lock wait of a DDL statement on table. */
static void my_lint_waits(struct my_lint *l, const char *what)
{
	char msg[1024];

	snprintf(msg, sizeof msg,
		 "%s waits for a metadata lock on %s behind every open "
		 "transaction that used it, and every later query of %s waits "
		 "behind it, for lock_wait_timeout (a year unless set)",
		 what, l->table, l->table);
	my_lint_report(l, DBMIGRATE_LINT_WARNING, "no-lock-timeout", 0,
		       DBMIGRATE_LINT_EXISTING_TABLE |
			   DBMIGRATE_LINT_NEEDS_LOCK_TIMEOUT,
		       "Start the migration with SET SESSION lock_wait_timeout "
		       "= 5 (or give --lock-timeout), so that the statement "
		       "gives up instead of stalling the application, and retry "
		       "(--lock-retries).",
		       msg);
}

/* ALTER TABLE or CREATE INDEX without ALGORITHM=. */
static void my_lint_copy(struct my_lint *l, const char *what)
{
	char msg[1024];

	if (lintkit_find(&l->k, 0, l->k.n, "ALGORITHM") < l->k.n)
		return;
	snprintf(msg, sizeof msg,
		 "%s without ALGORITHM= lets the server copy all of %s and "
		 "block writes to it while it does",
		 what, l->table);
	my_lint_report(l, DBMIGRATE_LINT_WARNING, "alter-table-copy", 0,
		       DBMIGRATE_LINT_EXISTING_TABLE,
		       "Add ALGORITHM=INSTANT, or ALGORITHM=INPLACE, LOCK=NONE: "
		       "the server then refuses a change it cannot make "
		       "online instead of making it by copying the table.",
		       msg);
}

/* Look at one statement; see driver.h. */
dbmigrate_code my_lint(const struct dbmigrate_host *host, const char *sql,
		       size_t len, dbmigrate_lint_fn fn, void *ctx)
{
	struct my_lint l = {
	    .k = {.host = host, .sql = sql, .len = len, .fn = fn, .ctx = ctx}};
	size_t i;

	l.k.n = host->words(MY_LEX, sql, len, l.k.w, MY_LINT_WORDS);
	if (l.k.n < 2)
		return DBMIGRATE_OK;
	if (lintkit_is(&l.k, 0, "CREATE") && lintkit_is(&l.k, 1, "TABLE")) {
		i = 2;
		if (lintkit_is(&l.k, i, "IF"))
			i += 3;
		if (my_lint_name(&l, i))
			my_lint_report(&l, DBMIGRATE_LINT_CREATES_TABLE, NULL, i,
				       0, NULL, NULL);
		return DBMIGRATE_OK;
	}
	if (lintkit_is(&l.k, 0, "SET")) {
		for (i = 1; i < l.k.n; i++)
			if (lintkit_is(&l.k, i, "lock_wait_timeout"))
				my_lint_report(&l, DBMIGRATE_LINT_SETS_LOCK_TIMEOUT,
					       NULL, i, 0, NULL, NULL);
		return DBMIGRATE_OK;
	}
	if (lintkit_is(&l.k, 0, "ALTER")) {
		i = 1;
		if (lintkit_is(&l.k, i, "ONLINE") ||
		    lintkit_is(&l.k, i, "IGNORE"))
			i++;
		if (!lintkit_is(&l.k, i, "TABLE") || !my_lint_name(&l, i + 1))
			return DBMIGRATE_OK;
		my_lint_waits(&l, "ALTER TABLE");
		my_lint_copy(&l, "ALTER TABLE");
		return DBMIGRATE_OK;
	}
	if (lintkit_is(&l.k, 0, "CREATE")) {
		i = 1;
		while (i < l.k.n && (lintkit_is(&l.k, i, "UNIQUE") ||
				   lintkit_is(&l.k, i, "FULLTEXT") ||
				   lintkit_is(&l.k, i, "SPATIAL") ||
				   lintkit_is(&l.k, i, "OR") ||
				   lintkit_is(&l.k, i, "REPLACE")))
			i++;
		if (!lintkit_is(&l.k, i, "INDEX"))
			return DBMIGRATE_OK;
		i = lintkit_find(&l.k, i, l.k.n, "ON");
		if (!my_lint_name(&l, i + 1))
			return DBMIGRATE_OK;
		my_lint_waits(&l, "CREATE INDEX");
		my_lint_copy(&l, "CREATE INDEX");
		return DBMIGRATE_OK;
	}
	if (lintkit_is(&l.k, 0, "DROP") && lintkit_is(&l.k, 1, "TABLE")) {
		char msg[1024];

		i = 2;
		if (lintkit_is(&l.k, i, "IF"))
			i += 2;
		if (!my_lint_name(&l, i))
			return DBMIGRATE_OK;
		snprintf(msg, sizeof msg,
			 "DROP TABLE deletes %s and its rows, and MySQL commits "
			 "it at once: neither a failure later in the migration "
			 "nor its down brings them back",
			 l.table);
		my_lint_report(&l, DBMIGRATE_LINT_WARNING, "drop-table", 0,
			       DBMIGRATE_LINT_EXISTING_TABLE,
			       "Keep a copy first (CREATE TABLE ... AS SELECT, or "
			       "RENAME TABLE to an archive name) and drop it in "
			       "a later release, once nothing reads it.",
			       msg);
		my_lint_waits(&l, "DROP TABLE");
		return DBMIGRATE_OK;
	}
	return DBMIGRATE_OK;
}
