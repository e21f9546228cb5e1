/*
 * execute.c - running prepared migrations: transactions, apply() and
 * apply_batch() through the driver, journaled and own-transaction runs,
 * the tracking rows written with them, events. Calls down only:
 * prepare.c, session.c, handle.c.
 */
#include "execute.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "errors.h"
#include "handle.h"
#include "plan.h"
#include "prepare.h"
#include "session.h"

/*
 * Small migrations in a transaction travel to the server together
 * (apply_batch(), driver ABI 3): at most this many, of at most
 * MIGRATOR_GROUP_ITEM bytes of SQL each and MIGRATOR_GROUP_BYTES in all.
 * A bigger migration goes alone, keeping a time of its own.
 */
#define MIGRATOR_GROUP_MAX 100
#define MIGRATOR_GROUP_ITEM ((size_t)16 << 10)
#define MIGRATOR_GROUP_BYTES ((size_t)256 << 10)

/* Give the driver the limits of the next migration, when they changed. */
static dbmigrate_code execute_configure(dbmigrate *m,
					const struct dbmigrate_settings *s)
{
	const struct dbmigrate_settings *old = &m->sent;
	bool zero = s->lock_timeout <= 0 && s->statement_timeout <= 0 &&
		    s->lock_retries == 0;
	dbmigrate_code rc;

	/* A new connection runs with the server's limits already. */
	if (!m->settings_sent && zero)
		return DBMIGRATE_OK;
	if (m->settings_sent && old->lock_timeout == s->lock_timeout &&
	    old->statement_timeout == s->statement_timeout &&
	    old->lock_retries == s->lock_retries)
		return DBMIGRATE_OK;
	rc = driver_configure(&m->drv, s, &m->err);
	if (rc != DBMIGRATE_OK) {
		if (m->err.code == DBMIGRATE_OK)
			errors_set(&m->err, rc, "driver %s failed without a message",
				   m->drv.vt->name);
		return rc;
	}
	m->sent = *s;
	m->settings_sent = true;
	return DBMIGRATE_OK;
}

/* The tracking row that applying item r writes (batch: the new one). */
static void execute_row(const struct run_item *r, int batch,
			struct dbmigrate_row *row)
{
	const struct plan_item *it = r->it;

	memset(row, 0, sizeof *row);
	if (r->down)
		return;
	row->id = it->mig->id;
	row->name = it->mig->name;
	row->checksum = it->mig->checksum;
	row->batch = batch;
	/* Kept so that a later down works without the file. */
	row->down_sql = it->mig->down.present ? it->mig->down.sql : NULL;
}

/*
 * The tracking row that running item r deletes: its own when it rolls
 * back, the previous one of a repeatable that runs again (replaced by
 * its new row in the same apply()), else none.
 */
static const char *execute_unrecord_id(const struct run_item *r)
{
	if (r->down || r->it->outdated)
		return r->it->row->id;
	return NULL;
}

/* Make the driver's failure rc in item r the session's error. */
static dbmigrate_code execute_apply_failed(dbmigrate *m,
					   const struct run_item *r,
					   dbmigrate_code rc)
{
	if (m->err.code == DBMIGRATE_OK)
		errors_set(&m->err, rc, "driver %s failed without a message",
			   m->drv.vt->name);
	if (m->interrupted && rc != DBMIGRATE_EINTERRUPTED) {
		rc = DBMIGRATE_EINTERRUPTED;
		m->err.code = rc;
	}
	prepare_locate_failure(m, r);
	return rc;
}

/* Emit kind (START or DONE) for item r. */
static void execute_emit_item(dbmigrate *m, const struct run_item *r,
			      dbmigrate_event_kind kind, int batch,
			      double seconds, size_t together)
{
	dbmigrate_entry e;
	dbmigrate_event ev = { .kind = kind, .entry = &e, .down = r->down,
			       .batch = r->down ? r->it->row->batch : batch,
			       .outside_transaction = r->outside,
			       .own_transaction = r->own_tx,
			       .not_atomic = r->journal,
			       .reason = r->reason, .seconds = seconds,
			       .together = together };

	session_entry(r->it, &e);
	handle_emit(m, &ev);
}

/* Run statements [from, to) of item r with one apply() (record and
   unrecord as apply() takes them); a failure's statement index is made
   one of r's. */
static dbmigrate_code execute_apply_range(dbmigrate *m, struct run_item *r,
					  size_t from, size_t to,
					  const struct dbmigrate_row *record,
					  const char *unrecord)
{
	dbmigrate_code rc;

	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	m->drv_position = 0;
	prepare_terminate(r);
	rc = m->drv.vt->apply(m->drv.conn, config_table(&m->cfg), r->stmts + from,
			      to - from, record, unrecord);
	prepare_unterminate(r);
	if (rc != DBMIGRATE_OK && m->drv_statement != DBMIGRATE_NO_STATEMENT)
		m->drv_statement += from;
	return rc;
}

/* Run one item: events around driver apply(). */
static dbmigrate_code execute_apply(dbmigrate *m, struct run_item *r, int batch)
{
	struct dbmigrate_row row;
	double t0 = handle_now();
	dbmigrate_code rc;

	execute_emit_item(m, r, DBMIGRATE_EVENT_START, batch, 0, 1);
	if (m->interrupted)
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	m->drv_position = 0;
	execute_row(r, batch, &row);
	rc = execute_configure(m, &r->limits);
	if (rc == DBMIGRATE_OK)
		rc = execute_apply_range(m, r, 0, r->count, r->down ? NULL : &row,
					  execute_unrecord_id(r));
	if (rc != DBMIGRATE_OK)
		return execute_apply_failed(m, r, rc);
	execute_emit_item(m, r, DBMIGRATE_EVENT_DONE, batch,
			   handle_now() - t0, 1);
	return DBMIGRATE_OK;
}

/* Bytes of SQL item r sends. */
static size_t execute_item_bytes(const struct run_item *r)
{
	size_t n = 0;

	for (size_t k = 0; k < r->count; k++)
		n += r->stmts[k].len;
	return n;
}

/* True when items a and b run under the same limits. */
static bool execute_same_limits(const struct run_item *a,
				const struct run_item *b)
{
	return a->limits.lock_timeout == b->limits.lock_timeout &&
	       a->limits.statement_timeout == b->limits.statement_timeout &&
	       a->limits.lock_retries == b->limits.lock_retries;
}

/*
 * How many of the items v[0..n) (all in one transaction) travel
 * together from v[0]: 1 when the driver cannot send several, or v[0] is
 * big; else the small ones that follow it under the same limits.
 */
static size_t execute_group(const dbmigrate *m, const struct run_item *v,
			    size_t n)
{
	size_t k = 0, bytes = 0;

	if (m->drv.vt->apply_batch == NULL)
		return 1;
	while (k < n && k < MIGRATOR_GROUP_MAX) {
		size_t b = execute_item_bytes(&v[k]);

		if (b > MIGRATOR_GROUP_ITEM || bytes + b > MIGRATOR_GROUP_BYTES ||
		    !execute_same_limits(&v[0], &v[k]))
			break;
		bytes += b;
		k++;
	}
	return k > 0 ? k : 1;
}

/*
 * Run n small items (n >= 2) of one transaction with one apply_batch():
 * START for each (they are all on their way), then DONE for each with
 * the time of them all. On failure *failed is the item that failed
 * (the error is located in it).
 */
static dbmigrate_code execute_apply_group(dbmigrate *m, struct run_item *v,
					  size_t n, int batch, size_t *failed)
{
	struct dbmigrate_batch_item *items = calloc(n, sizeof *items);
	struct dbmigrate_row *rows = calloc(n, sizeof *rows);
	double t0 = handle_now(), took;
	size_t bad = n;
	dbmigrate_code rc;

	*failed = 0;
	if (items == NULL || rows == NULL) {
		free(items);
		free(rows);
		return errors_nomem(&m->err);
	}
	for (size_t k = 0; k < n; k++)
		execute_emit_item(m, &v[k], DBMIGRATE_EVENT_START, batch, 0, n);
	if (m->interrupted) {
		free(items);
		free(rows);
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	}
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	m->drv_position = 0;
	for (size_t k = 0; k < n; k++) {
		execute_row(&v[k], batch, &rows[k]);
		items[k].stmts = v[k].stmts;
		items[k].n = v[k].count;
		items[k].record = v[k].down ? NULL : &rows[k];
		items[k].unrecord_id = execute_unrecord_id(&v[k]);
	}
	rc = execute_configure(m, &v[0].limits);
	if (rc == DBMIGRATE_OK) {
		for (size_t k = 0; k < n; k++)
			prepare_terminate(&v[k]);
		rc = m->drv.vt->apply_batch(m->drv.conn,
						     config_table(&m->cfg),
						     items, n, &bad);
		for (size_t k = 0; k < n; k++)
			prepare_unterminate(&v[k]);
	}
	free(items);
	free(rows);
	took = handle_now() - t0;
	if (rc == DBMIGRATE_OK)
		bad = n;
	else if (bad >= n)
		bad = 0; /* the driver did not say: before the first */
	for (size_t k = 0; k < bad; k++)
		execute_emit_item(m, &v[k], DBMIGRATE_EVENT_DONE, batch, took, n);
	if (rc == DBMIGRATE_OK)
		return DBMIGRATE_OK;
	*failed = bad;
	return execute_apply_failed(m, &v[bad], rc);
}

/* The tracking row item r had or gets, for record_progress(): the new
   row of an up, the existing row of a down. */
static void execute_journal_row(const struct run_item *r, int batch,
				struct dbmigrate_row *row)
{
	const struct applied *a = r->it->row;

	if (!r->down) {
		execute_row(r, batch, row);
		return;
	}
	memset(row, 0, sizeof *row);
	row->id = a->id;
	row->name = a->name;
	row->executed_at = a->executed_at;
	row->checksum = a->checksum;
	row->batch = a->batch;
	row->down_sql = a->down_sql;
}

/* Write row with the progress of item r after done statements ("up
   2/5"), or complete (done == SIZE_MAX). */
static dbmigrate_code execute_record_progress(dbmigrate *m,
					      const struct run_item *r,
					      struct dbmigrate_row *row,
					      size_t done)
{
	char note[64];

	if (done == SIZE_MAX) {
		row->progress = NULL;
	} else {
		snprintf(note, sizeof note, "%s %zu/%zu", r->down ? "down" : "up",
			 done, r->count);
		row->progress = note;
	}
	return m->drv.vt->record_progress(m->drv.conn, config_table(&m->cfg), row);
}

/*
 * Undo the progress row of item r when its first statement failed on the
 * server, so that a failure that changed nothing leaves nothing: the row
 * of an up goes, that of a down is whole again. The migration's error
 * stays the session's.
 */
static void execute_journal_undo(dbmigrate *m, const struct run_item *r,
				 struct dbmigrate_row *row)
{
	dbmigrate_error saved = { .code = DBMIGRATE_OK };

	errors_move(&saved, &m->err);
	if (r->down)
		execute_record_progress(m, r, row, SIZE_MAX);
	else
		m->drv.vt->apply(m->drv.conn, config_table(&m->cfg), NULL, 0,
				 NULL, row->id);
	errors_move(&m->err, &saved);
}

/*
 * Run item r, which cannot roll back (its statements commit on their
 * own), outside any transaction: its tracking row, marked with its
 * progress, is written before the first statement and after each one,
 * so that whatever stops it (a failure, kill -9) the table says how far
 * it got; once all ran, the row is made whole (up) or deleted (down).
 */
static dbmigrate_code execute_apply_journaled(dbmigrate *m,
					      struct run_item *r, int batch)
{
	struct dbmigrate_row row;
	double t0 = handle_now();
	size_t k = 0;
	dbmigrate_code rc;

	execute_emit_item(m, r, DBMIGRATE_EVENT_START, batch, 0, 1);
	if (m->interrupted)
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	execute_journal_row(r, batch, &row);
	rc = execute_configure(m, &r->limits);
	if (rc == DBMIGRATE_OK)
		rc = execute_record_progress(m, r, &row, 0);
	for (; rc == DBMIGRATE_OK && k < r->count; k++) {
		if (m->interrupted) {
			rc = errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
			m->drv_statement = k;
			break;
		}
		rc = execute_apply_range(m, r, k, k + 1, NULL, NULL);
		if (rc != DBMIGRATE_OK) {
			m->drv_statement = k;
			break;
		}
		/* After the last statement the row is completed at once: an
		   "up N/N" before it would cost a round trip and say
		   nothing more. */
		if (k + 1 < r->count &&
		    (rc = execute_record_progress(m, r, &row, k + 1)) != DBMIGRATE_OK)
			r->ran_unrecorded = k + 1;
	}
	if (rc == DBMIGRATE_OK) {
		rc = r->down ? execute_apply_range(m, r, 0, 0, NULL, row.id)
			     : execute_record_progress(m, r, &row, SIZE_MAX);
		if (rc != DBMIGRATE_OK && r->count > 0)
			r->ran_unrecorded = r->count;
	}
	if (rc != DBMIGRATE_OK) {
		if (r->ran_unrecorded > 0)
			m->drv_statement = DBMIGRATE_NO_STATEMENT;
		if (k == 0 && m->drv_statement == 0 && rc == DBMIGRATE_EMIGRATION)
			execute_journal_undo(m, r, &row);
		return execute_apply_failed(m, r, rc);
	}
	execute_emit_item(m, r, DBMIGRATE_EVENT_DONE, batch,
			   handle_now() - t0, 1);
	return DBMIGRATE_OK;
}

/*
 * Run item r in a transaction of its own, its first r->pre statements
 * (settings a transaction would ignore, such as SQLite's PRAGMA
 * foreign_keys) just before it and its last r->post just after it.
 */
static dbmigrate_code execute_apply_own(dbmigrate *m, struct run_item *r,
					int batch)
{
	struct dbmigrate_row row;
	double t0 = handle_now();
	size_t mid = r->count - r->post;
	dbmigrate_code rc;

	execute_emit_item(m, r, DBMIGRATE_EVENT_START, batch, 0, 1);
	if (m->interrupted)
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	execute_row(r, batch, &row);
	rc = execute_configure(m, &r->limits);
	if (rc == DBMIGRATE_OK && r->pre > 0)
		rc = execute_apply_range(m, r, 0, r->pre, NULL, NULL);
	if (rc == DBMIGRATE_OK)
		rc = m->drv.vt->begin(m->drv.conn);
	if (rc == DBMIGRATE_OK) {
		rc = execute_apply_range(m, r, r->pre, mid,
					  r->down ? NULL : &row,
					  execute_unrecord_id(r));
		if (rc == DBMIGRATE_OK && m->interrupted)
			rc = errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
		if (rc == DBMIGRATE_OK)
			rc = m->drv.vt->commit(m->drv.conn);
		if (rc != DBMIGRATE_OK)
			session_cleanup_rollback(m);
	}
	if (rc == DBMIGRATE_OK && r->post > 0)
		rc = execute_apply_range(m, r, mid, r->count, NULL, NULL);
	if (rc != DBMIGRATE_OK)
		return execute_apply_failed(m, r, rc);
	execute_emit_item(m, r, DBMIGRATE_EVENT_DONE, batch,
			   handle_now() - t0, 1);
	return DBMIGRATE_OK;
}

/* True when item j ends the transaction that started at item i. */
static bool execute_tx_ends(const struct run_item *v, size_t i, size_t j,
			    const struct run_mode *mode)
{
	return v[j].outside || v[j].own_tx ||
	       (j > i && (v[j].commit_before || mode->per_migration));
}

/*
 * Run prepared items in order as one batch: consecutive transactional
 * items share one transaction (unless each commits on its own, or an
 * item asks the one before to commit first); an item that must run
 * outside one commits what came before, runs alone, and is recorded as
 * soon as it succeeds.
 */
dbmigrate_code execute_run(dbmigrate *m, struct run_item *v,
			   size_t n, const struct run_mode *mode)
{
	size_t committed = 0;

	for (size_t i = 0; i < n;) {
		dbmigrate_code rc;
		double t0 = handle_now();
		size_t j = i, end = i;

		if (v[i].outside || v[i].own_tx) {
			if (v[i].journal)
				rc = execute_apply_journaled(m, &v[i], mode->batch);
			else if (v[i].own_tx)
				rc = execute_apply_own(m, &v[i], mode->batch);
			else
				rc = execute_apply(m, &v[i], mode->batch);
			if (rc != DBMIGRATE_OK) {
				prepare_explain_failure(m, &v[i], m->drv_statement,
							 committed, 0, mode);
				return rc;
			}
			committed++;
			i++;
			continue;
		}
		rc = m->drv.vt->begin(m->drv.conn);
		if (rc != DBMIGRATE_OK)
			return rc;
		while (end < n && !execute_tx_ends(v, i, end, mode))
			end++;
		while (j < end) {
			size_t g = execute_group(m, &v[j], end - j), bad = 0;

			if (g > 1)
				rc = execute_apply_group(m, &v[j], g, mode->batch,
							  &bad);
			else
				rc = execute_apply(m, &v[j], mode->batch);
			if (rc != DBMIGRATE_OK) {
				session_cleanup_rollback(m);
				prepare_explain_failure(m, &v[j + bad],
							 m->drv_statement,
							 committed, end - i, mode);
				return rc;
			}
			j += g;
		}
		if (m->interrupted) {
			session_cleanup_rollback(m);
			errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
			prepare_explain_failure(m, &v[j - 1], DBMIGRATE_NO_STATEMENT,
						 committed, j - i, mode);
			return DBMIGRATE_EINTERRUPTED;
		}
		rc = m->drv.vt->commit(m->drv.conn);
		if (rc != DBMIGRATE_OK) {
			session_cleanup_rollback(m);
			return rc;
		}
		{
			dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_COMMIT,
					       .batch = mode->batch, .count = j - i,
					       .down = v[i].down,
					       .seconds = handle_now() - t0 };
			handle_emit(m, &ev);
		}
		committed += j - i;
		i = j;
	}
	return DBMIGRATE_OK;
}
