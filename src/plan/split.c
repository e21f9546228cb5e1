/*
 * split.c - one body of a migration as the statements that run. The text
 * is split by the driver, which knows its dialect (PostgreSQL's dollar
 * quotes, SQLite's trigger bodies, MySQL's DELIMITER lines); ranges a
 * file format marks as one statement each (goose's StatementBegin ...
 * StatementEnd) are not given to it. Each statement is then classified
 * by the driver, and the core's one rule about transaction control
 * applies: a whole-body BEGIN ... COMMIT is a wrapper left out, anything
 * else is refused before anything runs.
 */
#include "split.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "strbuf.h"

/* The flags that make a statement transaction control. */
#define SPLIT_TX (DBMIGRATE_STMT_BEGIN | DBMIGRATE_STMT_COMMIT | \
		  DBMIGRATE_STMT_ROLLBACK | DBMIGRATE_STMT_TXCONTROL)

/* Why each kind of transaction control is refused (static sentences). */
static const char split_why_commit_middle[] =
	"COMMIT in the middle of a migration would commit the batch "
	"half-way, so a later failure could no longer roll it back; remove "
	"it (dbmigrate runs each batch in a transaction) or mark the "
	"migration transaction:false.";
static const char split_why_commit_alone[] =
	"COMMIT at the end of a migration that does not start with BEGIN "
	"would commit the batch half-way; remove it (dbmigrate runs each "
	"batch in a transaction), wrap the whole migration in BEGIN; ... "
	"COMMIT;, or mark the migration transaction:false.";
static const char split_why_begin_open[] =
	"BEGIN at the start of a migration must be matched by COMMIT as its "
	"last statement, or the migration would not run the way it reads "
	"inside the batch transaction; end it with COMMIT, remove the BEGIN "
	"(dbmigrate runs each batch in a transaction), or mark the migration "
	"transaction:false.";
static const char split_why_begin_inner[] =
	"BEGIN after the first statement of a migration does not start a "
	"transaction (the batch transaction is already open), so the COMMIT "
	"or ROLLBACK meant for it would end the batch half-way; remove it or "
	"mark the migration transaction:false.";
static const char split_why_abort[] =
	"ROLLBACK in a migration would abort the whole batch, including the "
	"migrations before it, and let the statements after it run outside "
	"any transaction; remove it (a failing statement already rolls the "
	"batch back) or mark the migration transaction:false.";
static const char split_why_other[] =
	"This statement controls the transaction, which would end the batch "
	"transaction half-way; remove it or mark the migration "
	"transaction:false.";

/* What split_push() appends to: the result, and where the text given to
   the driver starts in the body. */
struct split_sink {
	struct split_result *out;
	size_t base;
};

/* Append the statement [offset, offset + len) of the body; nonzero when
   out of memory. */
static int split_add(struct split_result *out, size_t offset, size_t len)
{
	struct split_stmt *v;

	if (!array_grow(&out->v, &out->cap, out->n, sizeof *out->v, 16))
		return -1;
	v = &out->v[out->n++];
	memset(v, 0, sizeof *v);
	v->offset = offset;
	v->len = len;
	return 0;
}

/* dbmigrate_span_fn: a statement the driver found. */
static int split_push(void *ctx, size_t offset, size_t len)
{
	const struct split_sink *s = ctx;

	return split_add(s->out, s->base + offset, len);
}

/* True for white space. */
static bool split_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Add the range r of the body, one statement whatever it holds, without
   the white space and -- comment lines before it, the white space after
   it and one final semicolon; a range of nothing else adds nothing. */
static int split_whole(const char *sql, const struct migration_segment *r,
		       struct split_result *out)
{
	size_t from = r->offset, to = r->offset + r->len;

	for (;;) {
		while (from < to && split_space(sql[from]))
			from++;
		if (to - from < 2 || sql[from] != '-' || sql[from + 1] != '-')
			break;
		while (from < to && sql[from] != '\n')
			from++;
	}
	while (to > from && split_space(sql[to - 1]))
		to--;
	if (to > from && sql[to - 1] == ';')
		to--;
	while (to > from && split_space(sql[to - 1]))
		to--;
	return to > from ? split_add(out, from, to - from) : 0;
}

/* Have the driver split [from, to) of the body into out. */
static dbmigrate_code split_range(const struct driver *d,
				  const struct dbmigrate_host *host,
				  const struct migration_body *b, size_t from,
				  size_t to, struct split_result *out,
				  struct dbmigrate_split_error *serr)
{
	struct split_sink sink = { out, from };

	if (to <= from)
		return DBMIGRATE_OK;
	return d->vt->split(host, b->sql + from, to - from, split_push, &sink,
			    serr);
}

/* Split the whole body into out, the driver splitting what lies between
   the ranges that are one statement each. */
static dbmigrate_code split_text(const struct driver *d,
				 const struct dbmigrate_host *host,
				 const struct migration_body *b,
				 struct split_result *out,
				 struct dbmigrate_split_error *serr)
{
	size_t at = 0;
	dbmigrate_code rc = DBMIGRATE_OK;

	for (size_t i = 0; rc == DBMIGRATE_OK && i < b->nwhole; i++) {
		const struct migration_segment *r = &b->whole[i];

		/* The parser's ranges are sorted and inside the body; one
		   that is not is left to the splitter. */
		if (r->offset < at || r->offset > b->len ||
		    r->len > b->len - r->offset)
			continue;
		rc = split_range(d, host, b, at, r->offset, out, serr);
		if (rc == DBMIGRATE_OK && split_whole(b->sql, r, out) != 0)
			rc = DBMIGRATE_ENOMEM;
		at = r->offset + r->len;
	}
	if (rc == DBMIGRATE_OK)
		rc = split_range(d, host, b, at, b->len, out, serr);
	return rc;
}

/* The transaction control flags of statement i of out. */
static unsigned split_tx(const struct split_result *out, size_t i)
{
	return out->v[i].cls.flags & SPLIT_TX;
}

/*
 * The core's rule on transaction control: a body whose first statement
 * is BEGIN and whose last is COMMIT is a wrapper, left out (first and
 * count are set without them); any other is refused, *bad set to its
 * index and *why to the sentence saying what it would break.
 */
static int split_unwrap(struct split_result *out, size_t *bad,
			const char **why)
{
	size_t n = out->n, lo = 0, hi = n;
	bool opened = false;

	if (n > 0 && split_tx(out, 0) == DBMIGRATE_STMT_BEGIN) {
		opened = true;
		lo = 1;
		if (n > 1 && split_tx(out, n - 1) == DBMIGRATE_STMT_COMMIT)
			hi = n - 1;
	}
	for (size_t i = lo; i < hi; i++) {
		unsigned f = split_tx(out, i);

		if (f == 0)
			continue;
		*bad = i;
		if (f & DBMIGRATE_STMT_TXCONTROL)
			*why = out->v[i].cls.reason != NULL ? out->v[i].cls.reason
							    : split_why_other;
		else if (f & DBMIGRATE_STMT_BEGIN)
			*why = split_why_begin_inner;
		else if (f & DBMIGRATE_STMT_COMMIT)
			*why = i == n - 1 && !opened ? split_why_commit_alone
						     : split_why_commit_middle;
		else
			*why = split_why_abort;
		return -1;
	}
	if (opened && hi == n) {
		/* BEGIN with no COMMIT closing the body (and nothing worse). */
		*bad = 0;
		*why = split_why_begin_open;
		return -1;
	}
	if (opened) {
		out->first = 1;
		out->count = n - 2;
		out->unwrapped = true;
	}
	return 0;
}

dbmigrate_code split_body(const struct driver *d,
			  const struct dbmigrate_host *host,
			  const struct migration *mig,
			  const struct migration_body *b,
			  struct split_result *out, dbmigrate_error *err)
{
	struct dbmigrate_split_error serr = { 0 };
	const char *why = NULL;
	size_t bad = 0;
	dbmigrate_code rc;

	rc = split_text(d, host, b, out, &serr);
	if (rc == DBMIGRATE_ENOMEM)
		return errors_nomem(err);
	if (rc != DBMIGRATE_OK) {
		errors_set(err, DBMIGRATE_EFILES, "%s in %s",
			   serr.message != NULL ? serr.message : "cannot split the SQL",
			   mig->label);
		errors_hint(err, "%s", serr.hint != NULL ? serr.hint :
			    "Close the quote or comment that starts here.");
		errors_migration(err, mig->label);
		migration_locate(err, mig, b, serr.offset);
		return DBMIGRATE_EFILES;
	}
	for (size_t i = 0; i < out->n; i++)
		driver_classify(d, host, b->sql + out->v[i].offset,
				out->v[i].len, &out->v[i].cls);
	out->first = 0;
	out->count = out->n;
	/* transaction:false sends its BEGIN and COMMIT as written. */
	if (!mig->no_transaction && split_unwrap(out, &bad, &why) != 0) {
		errors_set(err, DBMIGRATE_EFILES,
			   "transaction control inside migration %s", mig->label);
		errors_detail(err, "%s", why);
		errors_hint(err, "dbmigrate runs each batch in a transaction; a "
				 "migration that must manage its own "
				 "transactions should be marked "
				 "transaction:false.");
		errors_migration(err, mig->label);
		migration_locate(err, mig, b, out->v[bad].offset);
		return DBMIGRATE_EFILES;
	}
	out->flags = 0;
	for (size_t i = out->first; i < out->first + out->count; i++)
		out->flags |= out->v[i].cls.flags;
	return DBMIGRATE_OK;
}

void split_result_free(struct split_result *out)
{
	free(out->v);
	memset(out, 0, sizeof *out);
}
