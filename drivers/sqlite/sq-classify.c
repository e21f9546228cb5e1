/*
 * sq-classify.c - what a statement is, in SQLite's dialect: the
 * transaction control the core unwraps or refuses (BEGIN [DEFERRED |
 * IMMEDIATE | EXCLUSIVE], COMMIT, END, ROLLBACK: the host's shared
 * classifier covers them), and what SQLite refuses or ignores inside a
 * transaction, so that the core runs it outside one:
 *
 *  - VACUUM (and VACUUM INTO) fails in a transaction;
 *  - PRAGMA foreign_keys = ... is silently a no-op in one, PRAGMA
 *    journal_mode = ... is silently ignored (SQLite 3.40 answers with
 *    the old mode), PRAGMA temp_store = ... fails once temporary tables
 *    exist; PRAGMA wal_checkpoint fails ("database table is locked")
 *    while the connection writes.
 *
 * (ATTACH and DETACH run inside a transaction since SQLite 3.21.)
 *
 * The PRAGMA settings are EDGE: at the start or the
 * end of a migration they run just before or after a transaction of the
 * migration's own (the table rebuild SQLite documents: PRAGMA
 * foreign_keys=OFF, BEGIN, rebuild, PRAGMA foreign_key_check, COMMIT,
 * PRAGMA foreign_keys=ON). Only the first words are read, through
 * host->words() with SQLite's lexical rules; a quoted word never
 * matches a keyword. Needs no connection.
 */
#include "sq.h"

#include <string.h>
#include <strings.h>

#define SQ_CLASSIFY_WORDS 8

/* The words of one statement. */
struct sq_words {
	struct dbmigrate_word v[SQ_CLASSIFY_WORDS];
	size_t n;
};

/* True when word i exists and is the keyword kw. */
static int sq_classify_is(const struct sq_words *w, size_t i, const char *kw)
{
	return i < w->n && w->v[i].len == strlen(kw) &&
	       strncasecmp(w->v[i].s, kw, w->v[i].len) == 0;
}

/* The PRAGMA a statement runs; see sq.h. */
const char *sq_classify_pragma(const struct dbmigrate_host *host,
			       const char *sql, size_t len, size_t *name_len,
			       int *assigns)
{
	struct sq_words w;
	size_t k = 1;

	w.n = host->words(SQ_LEX, sql, len, w.v, SQ_CLASSIFY_WORDS);
	if (!sq_classify_is(&w, 0, "PRAGMA") || w.n < 2)
		return NULL;
	/* PRAGMA schema.name */
	if (sq_classify_is(&w, 2, "."))
		k = 3;
	if (k >= w.n)
		return NULL;
	*name_len = w.v[k].len;
	*assigns = sq_classify_is(&w, k + 1, "=") ||
		   sq_classify_is(&w, k + 1, "(");
	return w.v[k].s;
}

/* The reason a PRAGMA cannot run in a transaction, or NULL; *edge set
   when it is a setting that may run just around one. */
static const char *sq_classify_pragma_reason(const char *name, size_t n,
					     int assigns, int *edge)
{
	static const struct {
		const char *name;
		int edge;
		const char *reason;
	} pragmas[] = {
		{ "foreign_keys", 1,
		  "PRAGMA foreign_keys has no effect inside a transaction" },
		{ "journal_mode", 1,
		  "PRAGMA journal_mode cannot change the journal mode inside "
		  "a transaction" },
		{ "temp_store", 1,
		  "PRAGMA temp_store cannot change inside a transaction" },
	};

	if (n == strlen("wal_checkpoint") &&
	    strncasecmp(name, "wal_checkpoint", n) == 0)
		return "PRAGMA wal_checkpoint cannot checkpoint inside a "
		       "transaction";
	if (!assigns)
		return NULL;
	for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++)
		if (n == strlen(pragmas[i].name) &&
		    strncasecmp(name, pragmas[i].name, n) == 0) {
			*edge = pragmas[i].edge;
			return pragmas[i].reason;
		}
	return NULL;
}

/* What one statement is: see driver.h's classify(). */
void sq_classify(const struct dbmigrate_host *host, const char *sql,
		 size_t len, struct dbmigrate_stmt_class *out)
{
	struct sq_words w;
	const char *r = NULL, *name;
	size_t name_len;
	int edge = 0, assigns;

	host->classify_txcontrol(SQ_LEX, sql, len, out);
	if (out->flags != 0)
		return;
	w.n = host->words(SQ_LEX, sql, len, w.v, SQ_CLASSIFY_WORDS);
	if (sq_classify_is(&w, 0, "VACUUM")) {
		r = "VACUUM cannot run inside a transaction";
	} else if ((name = sq_classify_pragma(host, sql, len, &name_len,
					      &assigns)) != NULL) {
		r = sq_classify_pragma_reason(name, name_len, assigns, &edge);
	}
	if (r == NULL)
		return;
	out->flags |= DBMIGRATE_STMT_NO_TRANSACTION;
	if (edge)
		out->flags |= DBMIGRATE_STMT_EDGE;
	out->reason = r;
}

/* Split a migration's text where sqlite3_complete() would (sq-split.c). */
dbmigrate_code sq_split(const struct dbmigrate_host *host, const char *text,
			size_t len, dbmigrate_span_fn fn, void *ctx,
			struct dbmigrate_split_error *err)
{
	(void)host;
	return sq_split_text(text, len, fn, ctx, err);
}
