/*
 * prepare.c - a selected migration made ready to run, before anything
 * runs: its body split and classified by the driver (split_body()), its
 * limits from directives and options, how it runs (in the batch, outside
 * it, in a transaction of its own, journaled), and the words of the plan
 * and of failures. Calls down only: session.c, handle.c, split.c.
 */
#include "prepare.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "directive.h"
#include "errors.h"
#include "handle.h"
#include "migration.h"
#include "plan.h"
#include "session.h"
#include "split.h"
#include "strbuf.h"

/* The label of a plan item: "001_name". */
const char *prepare_label(const struct plan_item *it)
{
	return it->mig != NULL ? it->mig->label : it->row->label;
}

/* Point err at byte offset off of body b of mig (its migration too). */
static void prepare_locate(dbmigrate_error *err, const struct migration *mig,
			   const struct migration_body *b, size_t off)
{
	errors_migration(err, mig->label);
	migration_locate(err, mig, b, off);
}

/* Byte offset of 1-based character position pos in s (len bytes). */
static size_t prepare_char_offset(const char *s, size_t len, unsigned pos)
{
	size_t i = 0;

	if (pos <= 1)
		return 0;
	for (unsigned chars = 1; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == pos)
			return i;
	}
	return len;
}

/* Free a run item's buffers. */
void prepare_item_free(struct run_item *r)
{
	split_result_free(&r->sp);
	free(r->stmts);
	free(r->saved);
	free(r->stored.path);
	if (r->stored_body.whole_owned)
		free((void *)(uintptr_t)r->stored_body.whole);
}

/*
 * Make the tracking row's down SQL a migration of its own in r, so that
 * it is split, checked and located like a file's: errors name the row
 * (the "file" is the tracking table and id) and the line within the SQL.
 */
static dbmigrate_code prepare_stored_down(dbmigrate *m, struct run_item *r)
{
	const struct applied *row = r->it->row;
	struct migration *st = &r->stored;
	struct migration_body *b = &r->stored_body;
	struct strbuf path = STRBUF_INIT;

	if (!strbuf_printf(&path, "tracking table \"%s\", row %s (down SQL kept when applied)",
			   config_table(&m->cfg), row->id))
		return errors_nomem(&m->err);
	memset(st, 0, sizeof *st);
	st->id = row->id;
	st->name = row->name;
	st->label = row->label;
	st->path = strbuf_steal(&path);
	st->text = row->down_sql;
	st->text_len = strlen(row->down_sql);
	st->loaded = true;
	memset(b, 0, sizeof *b);
	b->present = true;
	b->sql = row->down_sql;
	b->len = st->text_len;
	b->verbatim = true;
	b->path = st->path;
	b->line = 1;
	b->column = 1;
	/* A goose down keeps its StatementBegin/End blocks whole. */
	if (strstr(row->down_sql, "+goose") != NULL) {
		struct migration_segment *segs;

		if (!parse_goose_segments(b->sql, b->len, &segs, &b->nwhole))
			return errors_nomem(&m->err);
		b->whole = segs;
		b->whole_owned = segs != NULL;
	}
	st->down = *b;
	r->from_table = true;
	return DBMIGRATE_OK;
}

/*
 * Read the per-migration limits written in the body as line comments of
 * their own, "-- dbmigrate:statement-timeout 30s" and
 * "-- dbmigrate:lock-timeout 5s" (underscores are accepted for dashes).
 * Other "-- dbmigrate:" words belong to other tools of the project and
 * are left alone. A bad value is DBMIGRATE_EFILES at its line.
 */
static dbmigrate_code prepare_directives(dbmigrate *m, struct migration *mig,
					 struct migration_body *b,
					 double *statement_timeout,
					 double *lock_timeout)
{
	struct directive d;
	size_t pos = 0;

	while (directive_next(b->sql, b->len, &pos, &d)) {
		double *target = NULL, secs;

		if (strcmp(d.word, "statement-timeout") == 0)
			target = statement_timeout;
		else if (strcmp(d.word, "lock-timeout") == 0)
			target = lock_timeout;
		else
			continue;
		if (!directive_seconds(&d, &secs)) {
			errors_set(&m->err, DBMIGRATE_EFILES,
				   "invalid dbmigrate:%s directive in %s",
				   d.word, mig->label);
			errors_hint(&m->err, "Write it as a line of its own, e.g. `-- dbmigrate:%s 30s`: a number of seconds, or a number with the unit ms, s or min.",
				    d.word);
			prepare_locate(&m->err, mig, b, d.offset);
			return DBMIGRATE_EFILES;
		}
		*target = secs;
	}
	return DBMIGRATE_OK;
}

/* The limits for item r: its directives, else the options. */
static dbmigrate_code prepare_limits(dbmigrate *m, struct run_item *r,
				     struct migration *mig,
				     struct migration_body *b)
{
	double st = MIGRATOR_UNSET, lt = MIGRATOR_UNSET;
	int retries = config_lock_retries(&m->cfg);
	dbmigrate_code rc = prepare_directives(m, mig, b, &st, &lt);

	if (rc != DBMIGRATE_OK)
		return rc;
	r->limits.struct_size = sizeof r->limits;
	r->limits.statement_timeout = st >= 0 ? st : config_statement_timeout(&m->cfg);
	r->limits.lock_timeout = lt >= 0 ? lt : config_sql_lock_timeout(&m->cfg);
	/* Retrying only makes sense when a lock wait can end in an error. */
	if (retries < 0)
		retries = r->limits.lock_timeout > 0 ? MIGRATOR_DEFAULT_RETRIES : 0;
	r->limits.lock_retries = (unsigned)retries;
	return DBMIGRATE_OK;
}

/* Free an array of run items. */
void prepare_items_free(struct run_item *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		prepare_item_free(&v[i]);
	free(v);
}

/* The reason the driver gave for the first statement of r to run whose
   flags hold all of want. */
static const char *prepare_reason(const struct run_item *r, unsigned want)
{
	for (size_t i = r->first; i < r->first + r->count; i++)
		if ((r->sp.v[i].cls.flags & want) == want)
			return r->sp.v[i].cls.reason;
	return NULL;
}

/* True when statement i of r is a setting that may run just before or
   after the migration's own transaction. */
static bool prepare_edge(const struct run_item *r, size_t i)
{
	const unsigned edge = DBMIGRATE_STMT_NO_TRANSACTION | DBMIGRATE_STMT_EDGE;

	return (r->sp.v[i].cls.flags & edge) == edge;
}

/*
 * Decide how item r runs from what the driver said of its statements:
 * in the batch's transaction; outside it, statement by statement (a
 * statement that cannot run in a transaction, transaction:false); in a
 * transaction of its own with settings just before and after it (the
 * statements that cannot run in a transaction are all such settings,
 * at its start and end); and, on a backend whose DDL commits on its
 * own, with its progress recorded as it runs when it cannot roll back.
 */
static void prepare_plan_item(const dbmigrate *m, struct run_item *r)
{
	bool tx_ddl = (m->drv.vt->caps & DBMIGRATE_CAP_TRANSACTIONAL_DDL) != 0;
	unsigned flags = r->sp.flags;
	size_t lo = r->first, hi = r->first + r->count, pre = 0, post = 0;

	if (r->mig->no_transaction) {
		/* Declared to run outside a transaction: its own BEGIN and
		   COMMIT are meaningful and are sent as written. */
		r->outside = true;
		r->journal = !tx_ddl;
		r->reason = "declared transaction:false";
		return;
	}
	if (flags & DBMIGRATE_STMT_IMPLICIT_COMMIT) {
		r->outside = true;
		r->journal = true;
		r->reason = prepare_reason(r, DBMIGRATE_STMT_IMPLICIT_COMMIT);
		return;
	}
	if (!(flags & DBMIGRATE_STMT_NO_TRANSACTION))
		return;
	while (lo + pre < hi && prepare_edge(r, lo + pre))
		pre++;
	while (hi - post > lo + pre && prepare_edge(r, hi - 1 - post))
		post++;
	for (size_t i = lo + pre; i < hi - post; i++) {
		if (r->sp.v[i].cls.flags & DBMIGRATE_STMT_NO_TRANSACTION) {
			pre = post = 0;
			break;
		}
	}
	if ((pre > 0 || post > 0) && lo + pre < hi - post) {
		r->own_tx = true;
		r->pre = pre;
		r->post = post;
		r->reason = prepare_reason(r, DBMIGRATE_STMT_NO_TRANSACTION |
						       DBMIGRATE_STMT_EDGE);
		return;
	}
	r->outside = true;
	r->journal = !tx_ddl;
	r->reason = prepare_reason(r, DBMIGRATE_STMT_NO_TRANSACTION);
}

/*
 * Read the limits of one body, split it into statements as the driver
 * does, unwrap a BEGIN/COMMIT wrapper and refuse other transaction
 * control (split_body()), and decide how it runs.
 */
dbmigrate_code prepare_one(dbmigrate *m, struct run_item *r,
			   struct migration *mig,
			   struct migration_body *b)
{
	dbmigrate_code rc;

	r->body = b;
	r->mig = mig;
	if (prepare_limits(m, r, mig, b) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	rc = split_body(&m->drv, &m->host, mig, b, &r->sp, &m->err);
	if (rc != DBMIGRATE_OK)
		return rc;
	r->first = r->sp.first;
	r->count = r->sp.count;
	prepare_plan_item(m, r);
	r->stmts = calloc(r->count + 1, sizeof *r->stmts);
	r->saved = malloc(r->count + 1);
	if (r->stmts == NULL || r->saved == NULL)
		return errors_nomem(&m->err);
	for (size_t i = 0; i < r->count; i++) {
		const struct split_stmt *st = &r->sp.v[r->first + i];

		r->stmts[i].sql = b->sql + st->offset;
		r->stmts[i].len = st->len;
	}
	return DBMIGRATE_OK;
}

/*
 * The driver ABI promises each statement NUL-terminated. Rather than
 * copy every statement (a 15 MB data migration would sit in memory
 * twice), each is ended in place, in the body's text, for as long as
 * apply() runs: the byte after a statement is its semicolon, white
 * space, a comment or the body's own NUL, never part of another
 * statement. prepare_unterminate() puts the bytes back before anything
 * reads the text again (error locations quote source lines).
 */
void prepare_terminate(struct run_item *r)
{
	for (size_t i = 0; i < r->count; i++) {
		char *end = r->body->sql + r->sp.v[r->first + i].offset +
			    r->sp.v[r->first + i].len;

		r->saved[i] = *end;
		*end = '\0';
	}
}

/* Undo prepare_terminate(). */
void prepare_unterminate(struct run_item *r)
{
	for (size_t i = 0; i < r->count; i++)
		r->body->sql[r->sp.v[r->first + i].offset +
			     r->sp.v[r->first + i].len] = r->saved[i];
}

/* True when item it can be rolled back: a down in its file, or one the
   tracking table kept. */
static bool prepare_has_down(const struct plan_item *it)
{
	return (it->mig != NULL && it->mig->down.present) ||
	       (it->row != NULL && it->row->down_sql != NULL);
}

/*
 * Prepare the selected items for one direction into v[0..n) (zeroed);
 * refuse unrunnable ones. A down comes from the file, else from the
 * tracking table when it kept one (a warning says so).
 */
dbmigrate_code prepare_items(dbmigrate *m, struct session *s,
			     const size_t *idx, size_t n,
			     bool down, struct run_item *v)
{
	struct strbuf missing = STRBUF_INIT;
	size_t nmissing = 0, ngone = 0;
	dbmigrate_code rc = DBMIGRATE_OK;

	for (size_t i = 0; i < n; i++) {
		struct plan_item *it = &s->plan.v[idx[i]];

		v[i].it = it;
		v[i].down = down;
		if (down && !prepare_has_down(it)) {
			/* Only a row without a checksum is known to come
			   from an older tool, one that kept no downs. */
			strbuf_printf(&missing, "%s%s (%s)", nmissing ? ", " : "",
				      prepare_label(it),
				      it->mig != NULL ? "its file has no down section" :
				      it->row->checksum == NULL ? "its file is gone, and its tracking row, written by an older tool, kept no down SQL" :
				      "its file is gone, and its tracking row kept no down SQL");
			nmissing++;
			ngone += it->mig == NULL;
		}
	}
	if (nmissing > 0) {
		errors_set(&m->err, DBMIGRATE_EFILES, "cannot roll back %zu migration%s: %s",
			   nmissing, nmissing == 1 ? "" : "s",
			   strbuf_failed(&missing) ? "(out of memory)" : missing.s);
		errors_detail(&m->err, "Nothing was rolled back. A down runs from the migration's file, else from the down SQL its tracking row kept when it was applied; %s.%s",
			      nmissing == 1 ? "this one has neither" : "these have neither",
			      ngone == 0 ? "" : " A row keeps no down SQL when its file had no down section then, or when it was written before dbmigrate kept down SQL (by an older version, or another tool) or by a driver that cannot keep it.");
		errors_hint(&m->err, "%s",
			    ngone == 0 ? "Add a down section to each file (`-- migrate:down`, `export const down`, `-- +goose Down`, a .down.sql or a Flyway U<version>__name.sql file)." :
			    ngone == nmissing ? "Restore the missing files, each with a down section." :
			    "Add a down section to each file that has none (`-- migrate:down`, `export const down`, `-- +goose Down`, a .down.sql or a Flyway U<version>__name.sql file), and restore the missing files.");
		strbuf_free(&missing);
		return DBMIGRATE_EFILES;
	}
	strbuf_free(&missing);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < n; i++) {
		struct migration *mig = v[i].it->mig;

		if (!down) {
			rc = prepare_one(m, &v[i], mig, &mig->up);
		} else if (mig != NULL && mig->down.present) {
			rc = prepare_one(m, &v[i], mig, &mig->down);
		} else {
			rc = prepare_stored_down(m, &v[i]);
			if (rc == DBMIGRATE_OK)
				rc = prepare_one(m, &v[i], &v[i].stored,
						      &v[i].stored.down);
			if (rc == DBMIGRATE_OK)
				handle_warn(m, "%s: %s; its down runs from the SQL the tracking table kept when it was applied",
					      prepare_label(v[i].it),
					      mig == NULL ? "its file is gone" : "its file has no down section");
		}
	}
	return rc;
}

/* Prepare the selected items for one direction; refuse unrunnable ones. */
dbmigrate_code prepare_all(dbmigrate *m, struct session *s,
			   const size_t *idx, size_t n,
			   bool down, struct run_item **out)
{
	struct run_item *v = calloc(n + 1, sizeof *v);

	*out = v;
	if (v == NULL)
		return errors_nomem(&m->err);
	return prepare_items(m, s, idx, n, down, v);
}

/* What a failure of item r, which cannot roll back, left: its
   statements before failed_stmt ran and its row says so. */
static void prepare_explain_journal(const struct run_item *r,
				    size_t failed_stmt, struct strbuf *b)
{
	const char *label = prepare_label(r->it);
	const char *what = r->down ? "rollback" : "migration";

	if (failed_stmt == 0 || failed_stmt == DBMIGRATE_NO_STATEMENT)
		strbuf_printf(b, "%s cannot roll back (its statements commit on their own); none of its statements had run, and it stays %s.",
			      label, r->down ? "applied" : "pending");
	else if (failed_stmt == 1)
		strbuf_printf(b, "%s cannot roll back (its statements commit on their own): statement 1 of %zu ran and stays, and the tracking table records the %s as failed part-way.",
			      label, r->count, what);
	else
		strbuf_printf(b, "%s cannot roll back (its statements commit on their own): statements 1 to %zu of %zu ran and stay, and the tracking table records the %s as failed part-way.",
			      label, failed_stmt, r->count, what);
}

/* What a failure of item r, run in a transaction of its own between
   settings, left. */
static void prepare_explain_own(const struct run_item *r, size_t failed_stmt,
				struct strbuf *b)
{
	const char *label = prepare_label(r->it);

	if (failed_stmt != DBMIGRATE_NO_STATEMENT && failed_stmt >= r->count - r->post)
		strbuf_printf(b, "%s was %s and recorded; a setting after its transaction failed, so this connection may keep the setting before it.",
			      label, r->down ? "rolled back" : "applied");
	else
		strbuf_printf(b, "%s runs in a transaction of its own, which was rolled back: nothing of it was %s or recorded.",
			      label, r->down ? "rolled back" : "applied");
}

/* Add to m->err's detail what happened to the rest of the batch. */
void prepare_explain_failure(dbmigrate *m, const struct run_item *r,
			     size_t failed_stmt, size_t committed,
			     size_t rolled_back,
			     const struct run_mode *mode)
{
	struct strbuf b = STRBUF_INIT;
	const char *verb = r->down ? "rolled back" : "applied";

	if (m->err.detail != NULL)
		strbuf_printf(&b, "%s\n", m->err.detail);
	if (r->journal) {
		prepare_explain_journal(r, failed_stmt, &b);
	} else if (r->own_tx) {
		prepare_explain_own(r, failed_stmt, &b);
	} else if (r->outside) {
		if (failed_stmt == 0 || failed_stmt == DBMIGRATE_NO_STATEMENT)
			strbuf_printf(&b, "%s runs outside a transaction; none of its statements had run.",
				      prepare_label(r->it));
		else if (failed_stmt == 1)
			strbuf_printf(&b, "%s runs outside a transaction: its statement 1 ran and stays applied, and the migration was not recorded as %s.",
				      prepare_label(r->it), verb);
		else
			strbuf_printf(&b, "%s runs outside a transaction: its statements 1 to %zu ran and stay applied, and the migration was not recorded as %s.",
				      prepare_label(r->it), failed_stmt, verb);
	} else {
		strbuf_printf(&b, "The transaction was rolled back: nothing of its %zu migration%s was %s or recorded.",
			      rolled_back, rolled_back == 1 ? "" : "s", verb);
	}
	if (committed > 0 && mode->per_migration)
		strbuf_printf(&b, " %zu earlier migration%s of this batch had already been committed (--transaction per-migration) and stay%s %s.",
			      committed, committed == 1 ? "" : "s",
			      committed == 1 ? "s" : "", verb);
	else if (committed > 0)
		strbuf_printf(&b, " %zu earlier migration%s of this batch had already been committed (before a migration that runs outside the transaction) and stay%s %s.",
			      committed, committed == 1 ? "" : "s",
			      committed == 1 ? "s" : "", verb);
	if (!strbuf_failed(&b))
		errors_detail(&m->err, "%s", b.s);
	strbuf_free(&b);
	/* The driver explains what its backend's errors need (a batch too
	   big for the lock table, a lock or statement timeout...). */
	if (r->journal && failed_stmt != 0 && failed_stmt != DBMIGRATE_NO_STATEMENT)
		errors_hint(&m->err, "Fix the failing statement, then make the database whole by hand: finish what %s started or undo what it did, and say which with `dbmigrate mark %s --applied` or `dbmigrate mark %s --pending`; until then up and down refuse to run.",
			    r->down ? "the rollback" : "the migration",
			    r->it->row != NULL ? r->it->row->id : r->it->mig->id,
			    r->it->row != NULL ? r->it->row->id : r->it->mig->id);
	else if (r->outside && !r->journal && failed_stmt != 0 &&
		 failed_stmt != DBMIGRATE_NO_STATEMENT && m->err.hint == NULL)
		errors_hint(&m->err, "Fix the failing statement, then either undo the statements that ran or make them safe to repeat (IF NOT EXISTS, IF EXISTS), and run dbmigrate again.");
}

/* Map the driver's failure in item r to a file location. */
void prepare_locate_failure(dbmigrate *m, const struct run_item *r)
{
	size_t k = m->drv_statement;

	if (k == DBMIGRATE_NO_STATEMENT || k >= r->count) {
		errors_migration(&m->err, prepare_label(r->it));
		if (r->mig != NULL)
			errors_location(&m->err, r->body->path, 0, 0, NULL, 0);
		return;
	}
	{
		const struct split_stmt *st = &r->sp.v[r->first + k];
		size_t off = prepare_char_offset(r->body->sql + st->offset,
						  st->len, m->drv_position);

		prepare_locate(&m->err, r->mig, r->body, st->offset + off);
	}
}

/* Emit PLAN events for every item. */
void prepare_emit_plan(dbmigrate *m, const struct run_item *v, size_t n,
		       int batch)
{
	for (size_t i = 0; i < n; i++) {
		dbmigrate_entry e;
		dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_PLAN, .entry = &e,
				       .down = v[i].down, .batch = batch,
				       .outside_transaction = v[i].outside,
				       .own_transaction = v[i].own_tx,
				       .not_atomic = v[i].journal,
				       .reason = v[i].reason };

		session_entry(v[i].it, &e);
		if (v[i].down)
			ev.batch = v[i].it->row->batch;
		handle_emit(m, &ev);
	}
}
