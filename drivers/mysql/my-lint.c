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

#define MY_LINT_WORDS 64

/* A statement's words and where to report. */
struct my_lint {
	struct dbmigrate_word w[MY_LINT_WORDS];
	size_t n;
	const char *sql;
	dbmigrate_lint_fn fn;
	void *ctx;
	int stop;
	char table[256];
};

/* True when word i is kw (case-insensitive). */
static int my_lint_is(const struct my_lint *l, size_t i, const char *kw)
{
	size_t k;

	if (i >= l->n)
		return 0;
	for (k = 0; k < l->w[i].len; k++) {
		char a = l->w[i].s[k], b = kw[k];

		if (b == '\0')
			return 0;
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return kw[k] == '\0';
}

/* The index of the first word kw at or after i, or n. */
static size_t my_lint_find(const struct my_lint *l, size_t i, const char *kw)
{
	for (; i < l->n; i++)
		if (my_lint_is(l, i, kw))
			return i;
	return l->n;
}

/* Copy the table name at word i (`db`.`t`, db.t, t) into l->table,
   normalised: without backticks and database, as written otherwise
   (MySQL's table names are case-sensitive on Linux). 0 if none. */
static int my_lint_name(struct my_lint *l, size_t i)
{
	const struct dbmigrate_word *w;

	if (i >= l->n)
		return 0;
	if (i + 2 < l->n && l->w[i + 1].len == 1 && l->w[i + 1].s[0] == '.')
		i += 2;
	w = &l->w[i];
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

/* Report one finding. */
static void my_lint_report(struct my_lint *l, enum dbmigrate_lint_kind kind,
			   const char *rule, size_t word, unsigned flags,
			   const char *hint, const char *message)
{
	struct dbmigrate_lint_report r = {
	    .kind = kind,
	    .rule = rule,
	    .message = message,
	    .hint = hint,
	    .offset = word < l->n ? (size_t)(l->w[word].s - l->sql) : 0,
	    .table = l->table[0] != '\0' ? l->table : NULL,
	    .flags = flags};

	if (!l->stop)
		l->stop = l->fn(l->ctx, &r) != 0;
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

	if (my_lint_find(l, 0, "ALGORITHM") < l->n)
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
	struct my_lint l = {.sql = sql, .fn = fn, .ctx = ctx};
	size_t i;

	l.n = host->words(MY_LEX, sql, len, l.w, MY_LINT_WORDS);
	if (l.n < 2)
		return DBMIGRATE_OK;
	if (my_lint_is(&l, 0, "CREATE") && my_lint_is(&l, 1, "TABLE")) {
		i = 2;
		if (my_lint_is(&l, i, "IF"))
			i += 3;
		if (my_lint_name(&l, i))
			my_lint_report(&l, DBMIGRATE_LINT_CREATES_TABLE, NULL, i,
				       0, NULL, NULL);
		return DBMIGRATE_OK;
	}
	if (my_lint_is(&l, 0, "SET")) {
		for (i = 1; i < l.n; i++)
			if (my_lint_is(&l, i, "lock_wait_timeout"))
				my_lint_report(&l, DBMIGRATE_LINT_SETS_LOCK_TIMEOUT,
					       NULL, i, 0, NULL, NULL);
		return DBMIGRATE_OK;
	}
	if (my_lint_is(&l, 0, "ALTER")) {
		i = 1;
		if (my_lint_is(&l, i, "ONLINE") || my_lint_is(&l, i, "IGNORE"))
			i++;
		if (!my_lint_is(&l, i, "TABLE") || !my_lint_name(&l, i + 1))
			return DBMIGRATE_OK;
		my_lint_waits(&l, "ALTER TABLE");
		my_lint_copy(&l, "ALTER TABLE");
		return DBMIGRATE_OK;
	}
	if (my_lint_is(&l, 0, "CREATE")) {
		i = 1;
		while (i < l.n && (my_lint_is(&l, i, "UNIQUE") ||
				   my_lint_is(&l, i, "FULLTEXT") ||
				   my_lint_is(&l, i, "SPATIAL") ||
				   my_lint_is(&l, i, "OR") ||
				   my_lint_is(&l, i, "REPLACE")))
			i++;
		if (!my_lint_is(&l, i, "INDEX"))
			return DBMIGRATE_OK;
		i = my_lint_find(&l, i, "ON");
		if (!my_lint_name(&l, i + 1))
			return DBMIGRATE_OK;
		my_lint_waits(&l, "CREATE INDEX");
		my_lint_copy(&l, "CREATE INDEX");
		return DBMIGRATE_OK;
	}
	if (my_lint_is(&l, 0, "DROP") && my_lint_is(&l, 1, "TABLE")) {
		char msg[1024];

		i = 2;
		if (my_lint_is(&l, i, "IF"))
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
