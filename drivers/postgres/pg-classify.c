/*
 * pg-classify.c - what a statement is, in PostgreSQL's dialect: the
 * transaction control the core unwraps or refuses (the host's shared
 * classifier covers PostgreSQL's forms), and the statements PostgreSQL
 * refuses inside a transaction block, so that the core runs their
 * migration on its own.
 *
 * The list follows the server's PreventInTransactionBlock() callers,
 * and Citus's create_distributed_table_concurrently().
 * Only the first words of a statement are looked at, through
 * host->words() with PostgreSQL's lexical rules, which skips comments
 * and string contents; keywords compare case-insensitively and a quoted
 * identifier never matches one (it keeps its quotes). Needs no
 * connection: lint and validate classify as up does.
 */
#include "pg.h"

#include <string.h>
#include <strings.h>

#define PG_CLASSIFY_WORDS 16

/* The words of one statement. */
struct pg_classify_words {
	struct dbmigrate_word v[PG_CLASSIFY_WORDS];
	size_t n;
};

/* True when word i exists and is the keyword kw. */
static int pg_classify_is(const struct pg_classify_words *w, size_t i,
			  const char *kw)
{
	return i < w->n && w->v[i].len == strlen(kw) &&
	       strncasecmp(w->v[i].s, kw, w->v[i].len) == 0;
}

/* The index of keyword kw at or after i, or w->n. */
static size_t pg_classify_find(const struct pg_classify_words *w, size_t i,
			       const char *kw)
{
	while (i < w->n && !pg_classify_is(w, i, kw))
		i++;
	return i;
}

/*
 * Skip a parenthesised option list at i, if any; *concurrently is set
 * when it holds CONCURRENTLY not followed by a false value.
 */
static size_t pg_classify_options(const struct pg_classify_words *w, size_t i,
				  int *concurrently)
{
	if (!pg_classify_is(w, i, "("))
		return i;
	for (i++; i < w->n && !pg_classify_is(w, i, ")"); i++)
		if (pg_classify_is(w, i, "CONCURRENTLY") &&
		    !pg_classify_is(w, i + 1, "FALSE") &&
		    !pg_classify_is(w, i + 1, "OFF") &&
		    !pg_classify_is(w, i + 1, "0"))
			*concurrently = 1;
	return i < w->n ? i + 1 : i;
}

/* CREATE ... */
static const char *pg_classify_create(const struct pg_classify_words *w)
{
	size_t i = 1;

	if (pg_classify_is(w, i, "UNIQUE"))
		i++;
	if (pg_classify_is(w, i, "INDEX") &&
	    pg_classify_is(w, i + 1, "CONCURRENTLY"))
		return "CREATE INDEX CONCURRENTLY cannot run inside a "
		       "transaction block";
	if (pg_classify_is(w, 1, "DATABASE"))
		return "CREATE DATABASE cannot run inside a transaction block";
	if (pg_classify_is(w, 1, "TABLESPACE"))
		return "CREATE TABLESPACE cannot run inside a transaction "
		       "block";
	if (pg_classify_is(w, 1, "SUBSCRIPTION"))
		return "CREATE SUBSCRIPTION cannot run inside a transaction "
		       "block when it creates a replication slot, so it "
		       "always runs on its own";
	return NULL;
}

/* DROP ... */
static const char *pg_classify_drop(const struct pg_classify_words *w)
{
	if (pg_classify_is(w, 1, "INDEX") &&
	    pg_classify_is(w, 2, "CONCURRENTLY"))
		return "DROP INDEX CONCURRENTLY cannot run inside a "
		       "transaction block";
	if (pg_classify_is(w, 1, "DATABASE"))
		return "DROP DATABASE cannot run inside a transaction block";
	if (pg_classify_is(w, 1, "TABLESPACE"))
		return "DROP TABLESPACE cannot run inside a transaction block";
	if (pg_classify_is(w, 1, "SUBSCRIPTION"))
		return "DROP SUBSCRIPTION cannot run inside a transaction "
		       "block when it drops a replication slot, so it always "
		       "runs on its own";
	return NULL;
}

/* REINDEX [ (options) ] kind [ CONCURRENTLY ] name */
static const char *pg_classify_reindex(const struct pg_classify_words *w)
{
	int concurrently = 0;
	size_t i = pg_classify_options(w, 1, &concurrently);

	if (pg_classify_is(w, i + 1, "CONCURRENTLY"))
		concurrently = 1;
	if (concurrently)
		return "REINDEX CONCURRENTLY cannot run inside a transaction "
		       "block";
	if (pg_classify_is(w, i, "SCHEMA"))
		return "REINDEX SCHEMA cannot run inside a transaction block";
	if (pg_classify_is(w, i, "DATABASE"))
		return "REINDEX DATABASE cannot run inside a transaction block";
	if (pg_classify_is(w, i, "SYSTEM"))
		return "REINDEX SYSTEM cannot run inside a transaction block";
	return NULL;
}

/*
 * ALTER ... (ALTER TYPE ... ADD VALUE ran only outside a transaction
 * block before PostgreSQL 12, which dbmigrate does not support.)
 */
static const char *pg_classify_alter(const struct pg_classify_words *w)
{
	size_t i;

	if (pg_classify_is(w, 1, "SYSTEM"))
		return "ALTER SYSTEM cannot run inside a transaction block";
	if (pg_classify_is(w, 1, "SUBSCRIPTION"))
		return "ALTER SUBSCRIPTION cannot run inside a transaction "
		       "block when it refreshes the publication, so it always "
		       "runs on its own";
	if (pg_classify_is(w, 1, "DATABASE")) {
		i = pg_classify_find(w, 2, "SET");
		if (pg_classify_is(w, i + 1, "TABLESPACE"))
			return "ALTER DATABASE ... SET TABLESPACE cannot run "
			       "inside a transaction block";
	}
	if (pg_classify_is(w, 1, "TABLE")) {
		i = pg_classify_find(w, 2, "DETACH");
		if (pg_classify_is(w, i + 1, "PARTITION") &&
		    pg_classify_find(w, i + 2, "CONCURRENTLY") < w->n)
			return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY "
			       "cannot run inside a transaction block";
	}
	return NULL;
}

/* CLUSTER [VERBOSE | (options)] [name ...]: only without a name. */
static const char *pg_classify_cluster(const struct pg_classify_words *w)
{
	int unused = 0;
	size_t i = pg_classify_options(w, 1, &unused);

	if (pg_classify_is(w, i, "VERBOSE"))
		i++;
	if (i >= w->n)
		return "CLUSTER without a table name cannot run inside a "
		       "transaction block";
	return NULL;
}

/* What one statement is: see driver.h's classify(). */
void pg_classify(const struct dbmigrate_host *host, const char *sql,
		 size_t len, struct dbmigrate_stmt_class *out)
{
	struct pg_classify_words w;
	const char *r = NULL;

	host->classify_txcontrol(DBMIGRATE_LEX_POSTGRES, sql, len, out);
	if (out->flags != 0)
		return;
	w.n = host->words(DBMIGRATE_LEX_POSTGRES, sql, len, w.v,
			  PG_CLASSIFY_WORDS);
	if (pg_classify_is(&w, 0, "CREATE"))
		r = pg_classify_create(&w);
	else if (pg_classify_is(&w, 0, "DROP"))
		r = pg_classify_drop(&w);
	else if (pg_classify_is(&w, 0, "REINDEX"))
		r = pg_classify_reindex(&w);
	else if (pg_classify_is(&w, 0, "VACUUM"))
		r = "VACUUM cannot run inside a transaction block";
	else if (pg_classify_is(&w, 0, "ALTER"))
		r = pg_classify_alter(&w);
	else if (pg_classify_is(&w, 0, "CLUSTER"))
		r = pg_classify_cluster(&w);
	else if (pg_classify_is(&w, 0, "SELECT") &&
		 (pg_classify_is(&w, 1, "create_distributed_table_concurrently") ||
		  (pg_classify_is(&w, 2, ".") &&
		   pg_classify_is(&w, 3, "create_distributed_table_concurrently"))))
		/* Citus: it commits shard by shard, as CONCURRENTLY does. */
		r = "create_distributed_table_concurrently() cannot run inside "
		    "a transaction block";
	else if (pg_classify_is(&w, 0, "DISCARD") &&
		 pg_classify_is(&w, 1, "ALL"))
		r = "DISCARD ALL cannot run inside a transaction block";
	if (r != NULL) {
		out->flags |= DBMIGRATE_STMT_NO_TRANSACTION;
		out->reason = r;
	}
}

/* Split a migration's text: PostgreSQL's splitter, the host's. */
dbmigrate_code pg_split(const struct dbmigrate_host *host, const char *text,
			size_t len, dbmigrate_span_fn fn, void *ctx,
			struct dbmigrate_split_error *err)
{
	return host->split_postgres(text, len, fn, ctx, err);
}
