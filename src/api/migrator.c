/*
 * migrator.c - the commands of the public API (migrate, rollback, reset,
 * mark, repair, redo, import, init, status, validate, create), each a
 * session, a plan and its execution. The top of the library. This is where one migration travels from file to server:
 *
 *   discover_dir + migration_load   files -> parsed migrations
 *   driver read_rows + plan_build   tracking rows -> states
 *   plan_select_up / _down          what to run
 *   prepare_one                the driver's split and classification,
 *                                   BEGIN/COMMIT unwrapping (split.c)
 *   execute_run                transactions, apply(), events
 *
 * The library never prints: progress goes to the event callback and
 * failures into m->err, which the caller reads with dbmigrate_last_error.
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

#include "create.h"
#include "errors.h"
#include "handle.h"
#include "import.h"
#include "migration.h"
#include "plan.h"
#include "prepare.h"
#include "session.h"
#include "strbuf.h"

/* Warn about drift the user should know before changing anything. */
static void migrator_warn_drift(dbmigrate *m, const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_item *it = &p->v[i];

		if (it->modified)
			handle_warn(m, "%s changed since it was applied (checksum differs)",
				      prepare_label(it));
		else if (it->state == DBMIGRATE_MISSING)
			handle_warn(m, "%s is recorded as applied, but its file is gone",
				      prepare_label(it));
	}
}

/*
 * Migrations in one transaction above which the plan warns: every object
 * a migration creates stays locked until commit, and a server's lock
 * table is finite (PostgreSQL's default fits about 2,000 small CREATE
 * TABLE migrations in one transaction).
 */
#define MIGRATOR_BIG_TRANSACTION 1000

/* Warn when a run of transactional migrations is large enough to risk
   exhausting the server's lock table. */
static void migrator_warn_big_transactions(dbmigrate *m,
					   const struct run_item *v, size_t n,
					   const struct run_mode *mode)
{
	const char *note = m->drv.vt->lock_table_note;

	if (mode->per_migration || note == NULL)
		return;
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && !v[j].outside)
			j++;
		if (j - i >= MIGRATOR_BIG_TRANSACTION)
			handle_warn(m, "%zu migrations will run in one transaction; a transaction this large can exhaust the server's lock table (%s). If it fails so, use --step to apply them in smaller batches, or --transaction per-migration.",
				      j - i, note);
		i = j < n ? j + 1 : j;
	}
}

/*
 * Refuse to run over a migration that started and did not finish on a
 * database whose DDL commits on its own: what it left is unknown to us
 * until the user says, with mark, what the database holds.
 */
static dbmigrate_code migrator_refuse_partial(dbmigrate *m, const struct plan *p)
{
	struct strbuf list = STRBUF_INIT;
	const struct plan_item *first = NULL;
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct plan_item *it = &p->v[i];

		if (it->state != DBMIGRATE_PARTIAL)
			continue;
		strbuf_printf(&list, "%s%s (%u of %u statements of its %s ran)",
			      n > 0 ? ", " : "", prepare_label(it),
			      it->partial_done, it->partial_total,
			      it->partial_down ? "down" : "up");
		if (first == NULL)
			first = it;
		n++;
	}
	if (n == 0)
		return DBMIGRATE_OK;
	errors_set(&m->err, DBMIGRATE_EFILES,
		   "%zu migration%s failed part-way: %s", n, n == 1 ? "" : "s",
		   strbuf_failed(&list) ? "(out of memory)" : list.s);
	errors_detail(&m->err, "Nothing ran. Its statements commit on their own, so the database holds part of it, and dbmigrate cannot tell what the rest of the run would meet.");
	errors_hint(&m->err, "Look at what the database holds, finish or undo the migration by hand, then run `dbmigrate mark %s --applied` (all of it is there) or `dbmigrate mark %s --pending` (none of it is).",
		    first->row->id, first->row->id);
	strbuf_free(&list);
	return DBMIGRATE_EFILES;
}

/*
 * Say before the plan what a backend whose DDL commits on its own means
 * for this run: no batch transaction, each migration recorded as it
 * ends, and what a failure leaves.
 */
static void migrator_note_ddl(dbmigrate *m, size_t n)
{
	const struct dbmigrate_driver *vt = m->drv.vt;
	char buf[1024];
	dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_NOTE, .message = buf };

	if (n == 0 || (vt->caps & DBMIGRATE_CAP_TRANSACTIONAL_DDL))
		return;
	snprintf(buf, sizeof buf,
		 "%s commits each DDL statement on its own, so this batch cannot be one transaction: each migration commits with its tracking row as soon as it has run, and a failure leaves the migrations before it applied and recorded. A migration of data statements only runs in a transaction of its own and leaves nothing when it fails; one with DDL is recorded as it runs, and if it fails part-way, up and down refuse to run until `dbmigrate mark` says what the database holds.",
		 vt->backend != NULL ? vt->backend : vt->name);
	handle_emit(m, &ev);
}

/* True when a run on this driver commits migration by migration: asked
   for, or the backend's DDL commits on its own. */
static bool migrator_per_migration(const dbmigrate *m,
				   const dbmigrate_run_options *o)
{
	return o->transaction == DBMIGRATE_TRANSACTION_PER_MIGRATION ||
	       !(m->drv.vt->caps & DBMIGRATE_CAP_TRANSACTIONAL_DDL);
}

/*
 * Say what a rollback leaves of the repeatable migrations, which have no
 * undo (Flyway has none either): those applied in or after the oldest
 * batch rolled back stay applied; reset leaves their objects behind.
 */
static void migrator_warn_repeatables(dbmigrate *m, const struct plan *p,
				      const struct run_item *v, size_t n,
				      bool reset)
{
	int oldest = 0;

	for (size_t i = 0; i < n; i++)
		if (oldest == 0 || v[i].it->row->batch < oldest)
			oldest = v[i].it->row->batch;
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_item *it = &p->v[i];

		if (!it->repeatable || it->row == NULL)
			continue;
		if (reset)
			handle_warn(m, "%s is a repeatable migration, which has no undo: what it made stays in the database",
				      it->row->label);
		else if (n > 0 && it->row->batch >= oldest)
			handle_warn(m, "%s stays applied: a repeatable migration has no undo (it runs again when its file changes)",
				      it->row->label);
	}
}

/* Check the run options that every command shares. */
static dbmigrate_code migrator_check_options(dbmigrate *m,
					     const dbmigrate_run_options *o)
{
	if (o->transaction != DBMIGRATE_TRANSACTION_BATCH &&
	    o->transaction != DBMIGRATE_TRANSACTION_PER_MIGRATION)
		return errors_set(&m->err, DBMIGRATE_EUSAGE,
				  "unknown transaction mode %d", (int)o->transaction);
	return DBMIGRATE_OK;
}

/* The shared body of migrate, rollback and reset. */
static dbmigrate_code migrator_run(dbmigrate *m, const dbmigrate_run_options *o,
				   bool down, bool reset)
{
	static const dbmigrate_run_options none = { 0 };
	struct session s;
	struct run_item *items = NULL;
	struct run_mode mode = { 0 };
	size_t *idx = NULL, n = 0;
	dbmigrate_code rc;

	if (o == NULL)
		o = &none;
	errors_clear(&m->err);
	memset(&s, 0, sizeof s);
	rc = migrator_check_options(m, o);
	if (rc == DBMIGRATE_OK)
		rc = session_begin(m, &s, true, true);
	if (rc == DBMIGRATE_OK)
		rc = migrator_refuse_partial(m, &s.plan);
	if (rc != DBMIGRATE_OK)
		goto out;
	if (down)
		rc = plan_select_down(&s.plan, reset ? 0 : o->step, reset ? NULL : o->to,
				      reset, &idx, &n, &m->err);
	else
		rc = plan_select_up(&s.plan, o->step, o->to, &idx, &n, &m->err);
	if (rc != DBMIGRATE_OK)
		goto out;
	rc = prepare_all(m, &s, idx, n, down, &items);
	if (rc != DBMIGRATE_OK)
		goto out;
	migrator_warn_drift(m, &s.plan);
	if (down)
		migrator_warn_repeatables(m, &s.plan, items, n, reset);
	for (size_t i = 0; !down && i < n; i++)
		if (items[i].it->out_of_order)
			handle_warn(m, "%s is numbered below the newest applied migration; it runs now, out of order",
				      prepare_label(items[i].it));
	mode.batch = s.plan.max_batch + 1;
	mode.per_migration = migrator_per_migration(m, o);
	if (!down && !o->dry_run) {
		/* Before the plan is shown, so a bad --table fails first. */
		rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
		if (rc != DBMIGRATE_OK)
			goto out;
	}
	migrator_warn_big_transactions(m, items, n, &mode);
	migrator_note_ddl(m, n);
	prepare_emit_plan(m, items, n, mode.batch);
	if (o->dry_run)
		goto out;
	rc = execute_run(m, items, n, &mode);
	if (rc == DBMIGRATE_OK && reset) {
		int exists = 0;

		rc = m->drv.vt->table_exists(m->drv.conn, config_table(&m->cfg), &exists);
		if (rc == DBMIGRATE_OK && exists)
			rc = m->drv.vt->drop_table(m->drv.conn, config_table(&m->cfg));
	}
out:
	session_unlock(m, &s);
	prepare_items_free(items, n);
	free(idx);
	session_free(&s);
	return rc;
}

dbmigrate_code dbmigrate_migrate(dbmigrate *m, const dbmigrate_run_options *o)
{
	return migrator_run(m, o, false, false);
}

dbmigrate_code dbmigrate_rollback(dbmigrate *m, const dbmigrate_run_options *o)
{
	return migrator_run(m, o, true, false);
}

dbmigrate_code dbmigrate_reset(dbmigrate *m, const dbmigrate_run_options *o)
{
	return migrator_run(m, o, true, true);
}

/* Write the tracking rows of a command that runs no migration SQL
   (mark, repair) in one transaction: apply() with no statements. */
static dbmigrate_code migrator_write_rows(dbmigrate *m,
					  const struct dbmigrate_row *const *rows,
					  const char *const *unrecord, size_t n)
{
	dbmigrate_code rc = m->drv.vt->begin(m->drv.conn);

	for (size_t i = 0; rc == DBMIGRATE_OK && i < n; i++)
		rc = m->drv.vt->apply(m->drv.conn, config_table(&m->cfg), NULL, 0,
				      rows[i], unrecord[i]);
	if (rc == DBMIGRATE_OK)
		return m->drv.vt->commit(m->drv.conn);
	session_cleanup_rollback(m);
	return rc;
}

dbmigrate_code dbmigrate_mark(dbmigrate *m, const char *id, bool applied,
			      const dbmigrate_run_options *o)
{
	static const dbmigrate_run_options none = { 0 };
	struct session s;
	struct plan_item *it = NULL;
	struct dbmigrate_row row = { 0 };
	const struct dbmigrate_row *rows[1] = { NULL };
	const char *unrecord[1] = { NULL };
	dbmigrate_entry e;
	dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_PLAN, .entry = &e,
			       .down = !applied };
	dbmigrate_code rc;

	if (o == NULL)
		o = &none;
	errors_clear(&m->err);
	rc = session_begin(m, &s, true, true);
	if (rc == DBMIGRATE_OK)
		rc = plan_find(&s.plan, id, "mark", &it, &m->err);
	if (rc != DBMIGRATE_OK)
		goto out;
	if (it == NULL) {
		rc = errors_set(&m->err, DBMIGRATE_EUSAGE,
				"no migration file or tracking row has id %s", id);
		errors_hint(&m->err, "Run `dbmigrate status` to see the ids.");
		goto out;
	}
	if (applied && it->row != NULL && !it->row->partial) {
		rc = errors_set(&m->err, DBMIGRATE_EUSAGE,
				"%s is already applied (batch %d)", prepare_label(it),
				it->row->batch);
		errors_hint(&m->err, "To record it again, mark it pending first; to re-record a changed file's checksum, use `dbmigrate repair`.");
		goto out;
	}
	if (!applied && it->row == NULL) {
		rc = errors_set(&m->err, DBMIGRATE_EUSAGE,
				"%s is not applied: it is already pending", prepare_label(it));
		goto out;
	}
	session_entry(it, &e);
	if (applied && it->row != NULL) {
		/* A migration that failed part-way, now whole: its row
		   stays in its batch, without the progress. */
		const struct applied *a = it->row;

		row.id = a->id;
		row.name = it->mig != NULL ? it->mig->name : a->name;
		row.checksum = it->mig != NULL ? it->mig->checksum : a->checksum;
		row.down_sql = it->mig != NULL ? (it->mig->down.present ? it->mig->down.sql : NULL)
					       : a->down_sql;
		row.executed_at = a->executed_at;
		row.batch = a->batch;
		rows[0] = &row;
		unrecord[0] = a->id;
		ev.batch = row.batch;
	} else if (applied) {
		row.id = it->mig->id;
		row.name = it->mig->name;
		row.checksum = it->mig->checksum;
		row.down_sql = it->mig->down.present ? it->mig->down.sql : NULL;
		row.batch = s.plan.max_batch + 1;
		rows[0] = &row;
		ev.batch = row.batch;
	} else {
		unrecord[0] = it->row->id;
		ev.batch = it->row->batch;
	}
	if (applied && !o->dry_run)
		rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
	if (rc != DBMIGRATE_OK)
		goto out;
	handle_emit(m, &ev);
	if (!o->dry_run)
		rc = migrator_write_rows(m, rows, unrecord, 1);
out:
	session_unlock(m, &s);
	session_free(&s);
	return rc;
}

/* Make a report from a plan (with the status code, below). */
static dbmigrate_code migrator_report(dbmigrate *m, const struct plan *p,
				      dbmigrate_report **out);

dbmigrate_code dbmigrate_repair(dbmigrate *m, const dbmigrate_run_options *o,
				dbmigrate_report **out)
{
	static const dbmigrate_run_options none = { 0 };
	struct session s;
	struct plan fixed = { 0 };
	struct dbmigrate_row *rowv = NULL;
	const struct dbmigrate_row **rows = NULL;
	const char **unrecord = NULL;
	dbmigrate_code rc;

	if (out != NULL)
		*out = NULL;
	if (o == NULL)
		o = &none;
	errors_clear(&m->err);
	rc = session_begin(m, &s, true, true);
	if (rc != DBMIGRATE_OK)
		goto out;
	fixed.v = calloc(s.plan.n + 1, sizeof *fixed.v);
	rowv = calloc(s.plan.n + 1, sizeof *rowv);
	rows = calloc(s.plan.n + 1, sizeof *rows);
	unrecord = calloc(s.plan.n + 1, sizeof *unrecord);
	if (fixed.v == NULL || rowv == NULL || rows == NULL || unrecord == NULL) {
		rc = errors_nomem(&m->err);
		goto out;
	}
	for (size_t i = 0; i < s.plan.n; i++) {
		const struct plan_item *it = &s.plan.v[i];
		struct dbmigrate_row *r = &rowv[fixed.n];

		if (!it->modified)
			continue;
		/* Batch and time stay: only what the file says changes. */
		r->id = it->row->id;
		r->name = it->mig->name;
		r->executed_at = it->row->executed_at;
		r->checksum = it->mig->checksum;
		r->batch = it->row->batch;
		r->down_sql = it->mig->down.present ? it->mig->down.sql : NULL;
		rows[fixed.n] = r;
		unrecord[fixed.n] = it->row->id;
		fixed.v[fixed.n++] = *it;
	}
	if (out != NULL)
		rc = migrator_report(m, &fixed, out);
	if (rc != DBMIGRATE_OK || o->dry_run || fixed.n == 0)
		goto out;
	/* An older table gets its down_sql column, to keep the down SQL. */
	rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
	if (rc == DBMIGRATE_OK)
		rc = migrator_write_rows(m, rows, unrecord, fixed.n);
out:
	if (rc != DBMIGRATE_OK && out != NULL) {
		dbmigrate_report_free(*out);
		*out = NULL;
	}
	free(fixed.v);
	free(rowv);
	free(rows);
	free(unrecord);
	session_unlock(m, &s);
	session_free(&s);
	return rc;
}

dbmigrate_code dbmigrate_redo(dbmigrate *m, const dbmigrate_run_options *o)
{
	static const dbmigrate_run_options none = { 0 };
	struct session s;
	struct run_item *items = NULL;
	struct run_mode mode = { 0 };
	struct strbuf gone = STRBUF_INIT;
	size_t *idx = NULL, n = 0, ngone = 0;
	bool outside = false;
	dbmigrate_code rc;

	if (o == NULL)
		o = &none;
	errors_clear(&m->err);
	memset(&s, 0, sizeof s);
	rc = migrator_check_options(m, o);
	if (rc == DBMIGRATE_OK && o->to != NULL)
		rc = errors_set(&m->err, DBMIGRATE_EUSAGE, "redo takes --step, not --to");
	if (rc == DBMIGRATE_OK)
		rc = session_begin(m, &s, true, true);
	if (rc == DBMIGRATE_OK)
		rc = migrator_refuse_partial(m, &s.plan);
	if (rc == DBMIGRATE_OK)
		rc = plan_select_down(&s.plan, o->step, NULL, false, &idx, &n, &m->err);
	if (rc != DBMIGRATE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct plan_item *it = &s.plan.v[idx[i]];

		if (it->mig != NULL)
			continue;
		strbuf_printf(&gone, "%s%s", ngone ? ", " : "", prepare_label(it));
		ngone++;
	}
	if (ngone > 0) {
		rc = errors_set(&m->err, DBMIGRATE_EFILES,
				"cannot redo %s: %s file%s gone",
				strbuf_failed(&gone) ? "(out of memory)" : gone.s,
				ngone == 1 ? "its" : "their", ngone == 1 ? " is" : "s are");
		errors_detail(&m->err, "Nothing was rolled back: redo applies each migration again from its file.");
		errors_hint(&m->err, "Restore the files, or roll back with `dbmigrate down` alone.");
		goto out;
	}
	/* Down newest first, then up in numeric order: 2n items. */
	items = calloc(2 * n + 1, sizeof *items);
	if (items == NULL) {
		rc = errors_nomem(&m->err);
		goto out;
	}
	rc = prepare_items(m, &s, idx, n, true, items);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < n; i++) {
		size_t k = n - 1 - i;
		size_t one = idx[k];

		rc = prepare_items(m, &s, &one, 1, false, &items[n + i]);
	}
	if (rc != DBMIGRATE_OK)
		goto out;
	/* The migrations come back as one batch above those that stay. */
	mode.batch = 0;
	for (size_t i = 0; i < s.plan.n; i++) {
		const struct applied *row = s.plan.v[i].row;
		bool chosen = false;

		for (size_t k = 0; k < n && row != NULL; k++)
			chosen = chosen || idx[k] == i;
		if (row != NULL && !chosen && row->batch > mode.batch)
			mode.batch = row->batch;
	}
	mode.batch++;
	mode.per_migration = migrator_per_migration(m, o);
	for (size_t i = 0; i < 2 * n; i++)
		outside = outside || items[i].outside || items[i].own_tx;
	if (n > 0 && (outside || mode.per_migration)) {
		items[n].commit_before = true;
		if (outside)
			handle_warn(m, "redo runs in two steps: a migration involved runs outside a transaction, so the rollback of %zu migration%s commits before %s applied again",
				      n, n == 1 ? "" : "s", n == 1 ? "it is" : "they are");
	}
	migrator_warn_drift(m, &s.plan);
	if (n > 0 && !o->dry_run) {
		rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
		if (rc != DBMIGRATE_OK)
			goto out;
	}
	migrator_note_ddl(m, n);
	prepare_emit_plan(m, items, 2 * n, mode.batch);
	if (o->dry_run)
		goto out;
	rc = execute_run(m, items, 2 * n, &mode);
out:
	strbuf_free(&gone);
	session_unlock(m, &s);
	prepare_items_free(items, 2 * n);
	free(idx);
	session_free(&s);
	return rc;
}

dbmigrate_code dbmigrate_import(dbmigrate *m, const char *tool,
				const dbmigrate_run_options *o,
				dbmigrate_import_result *out)
{
	static const dbmigrate_run_options none = { 0 };
	struct session s;
	struct import_plan ip = { 0 };
	struct import_ctx ic;
	struct dbmigrate_row *rowv = NULL;
	const struct dbmigrate_row **rows = NULL;
	const char **unrecord = NULL;
	int t = -1, batch;
	dbmigrate_code rc;

	if (o == NULL)
		o = &none;
	if (out != NULL)
		memset(out, 0, sizeof *out);
	errors_clear(&m->err);
	if (tool != NULL && (t = import_tool_parse(tool)) < 0) {
		errors_set(&m->err, DBMIGRATE_EUSAGE, "unknown tool \"%s\" for import", tool);
		errors_hint(&m->err, "Name one of goose, golang-migrate, dbmate and flyway, or none to find it from the tables of the database.");
		return DBMIGRATE_EUSAGE;
	}
	rc = session_begin(m, &s, true, true);
	ic = (struct import_ctx){ &m->drv, &s.plan, &m->err };
	if (rc == DBMIGRATE_OK)
		rc = import_read(&ic, t, &ip);
	if (rc != DBMIGRATE_OK)
		goto out;
	batch = s.plan.max_batch + 1;
	for (size_t i = 0; i < ip.nwarnings; i++)
		handle_message(m, DBMIGRATE_EVENT_WARNING, ip.warnings[i]);
	rowv = calloc(ip.n + 1, sizeof *rowv);
	rows = calloc(ip.n + 1, sizeof *rows);
	unrecord = calloc(ip.n + 1, sizeof *unrecord);
	if (rowv == NULL || rows == NULL || unrecord == NULL) {
		rc = errors_nomem(&m->err);
		goto out;
	}
	for (size_t i = 0; i < ip.n; i++) {
		const struct import_row *r = &ip.v[i];
		const struct migration *mig = r->it != NULL ? r->it->mig : NULL;
		dbmigrate_entry e = { .id = r->id, .name = r->name,
				      .state = mig != NULL ? DBMIGRATE_EXECUTED
							   : DBMIGRATE_MISSING,
				      .batch = batch, .executed_at = r->executed_at };
		dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_PLAN, .entry = &e,
				       .batch = batch };

		rowv[i].id = r->id;
		rowv[i].name = r->name;
		rowv[i].executed_at = r->executed_at;
		rowv[i].batch = batch;
		if (mig != NULL) {
			e.file = mig->path;
			e.checksum = mig->checksum;
			e.has_down = mig->down.present;
			e.repeatable = mig->repeatable;
			rowv[i].checksum = mig->checksum;
			rowv[i].down_sql = mig->down.present ? mig->down.sql : NULL;
		}
		rows[i] = &rowv[i];
		handle_emit(m, &ev);
	}
	if (out != NULL) {
		out->tool = import_tool_name(ip.tool);
		out->table = ip.table;
		out->recorded = ip.n;
		out->missing = ip.missing;
		out->already = ip.already;
		out->pending = ip.pending;
		out->batch = ip.n > 0 ? batch : 0;
	}
	if (o->dry_run || ip.n == 0)
		goto out;
	/* The peer's table is only read; dbmigrate's own gets the rows, in
	   one transaction, under the runner lock. */
	rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
	if (rc == DBMIGRATE_OK)
		rc = migrator_write_rows(m, rows, unrecord, ip.n);
out:
	free(rowv);
	free(rows);
	free(unrecord);
	import_plan_free(&ip);
	session_unlock(m, &s);
	session_free(&s);
	return rc;
}

/* mkdir -p for the migrations directory. */
static dbmigrate_code migrator_mkdirs(const char *dir, dbmigrate_error *err)
{
	char *p = strdup(dir);
	dbmigrate_code rc = DBMIGRATE_OK;

	if (p == NULL)
		return errors_nomem(err);
	for (char *s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			rc = errors_set_errno(err, DBMIGRATE_EIO, errno,
					      "cannot create directory %s", p);
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

dbmigrate_code dbmigrate_init(dbmigrate *m)
{
	struct session s = { 0 };
	dbmigrate_code rc;

	errors_clear(&m->err);
	rc = migrator_mkdirs(config_dir(&m->cfg), &m->err);
	if (rc == DBMIGRATE_OK)
		rc = session_open(m);
	if (rc == DBMIGRATE_OK) {
		rc = session_lock(m);
		s.locked = rc == DBMIGRATE_OK;
	}
	/* Another tool's table given as --table is never altered. */
	if (rc == DBMIGRATE_OK)
		rc = import_check_tracking_table(&m->drv, config_table(&m->cfg),
						 &m->err);
	if (rc == DBMIGRATE_OK)
		rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
	session_unlock(m, &s);
	return rc;
}

/* Make a report from a plan. */
static dbmigrate_code migrator_report(dbmigrate *m, const struct plan *p,
				      dbmigrate_report **out)
{
	dbmigrate_report *r = calloc(1, sizeof *r);
	size_t size = 1;
	char *at;

	if (r == NULL || (r->v = calloc(p->n + 1, sizeof *r->v)) == NULL) {
		free(r);
		return errors_nomem(&m->err);
	}
	/* The strings of 10,000 entries in one block, not 60,000. */
	for (size_t i = 0; i < p->n; i++) {
		dbmigrate_entry *e = &r->v[i];
		const char *f[6];

		session_entry(&p->v[i], e);
		f[0] = e->id, f[1] = e->name, f[2] = e->file;
		f[3] = e->executed_at, f[4] = e->checksum;
		f[5] = e->recorded_checksum;
		for (size_t k = 0; k < 6; k++)
			if (f[k] != NULL)
				size += strlen(f[k]) + 1;
	}
	if ((at = r->strings = malloc(size)) == NULL) {
		dbmigrate_report_free(r);
		return errors_nomem(&m->err);
	}
	for (size_t i = 0; i < p->n; i++) {
		dbmigrate_entry *e = &r->v[i];
		const char **f[6] = { &e->id, &e->name, &e->file, &e->executed_at,
				      &e->checksum, &e->recorded_checksum };

		for (size_t k = 0; k < 6; k++) {
			size_t len;

			if (*f[k] == NULL)
				continue;
			len = strlen(*f[k]) + 1;
			memcpy(at, *f[k], len);
			*f[k] = at;
			at += len;
		}
		r->n = i + 1;
	}
	*out = r;
	return DBMIGRATE_OK;
}

/*
 * A report that takes the session over: its entries point into the
 * session's files and rows, which it frees with itself, instead of
 * copying 60,000 strings for a status of 10,000 migrations.
 */
static dbmigrate_code migrator_report_session(dbmigrate *m, struct session *s,
					      dbmigrate_report **out)
{
	dbmigrate_report *r = calloc(1, sizeof *r);

	if (r == NULL || (r->v = calloc(s->plan.n + 1, sizeof *r->v)) == NULL ||
	    (r->session = malloc(sizeof *r->session)) == NULL) {
		if (r != NULL)
			free(r->v);
		free(r);
		return errors_nomem(&m->err);
	}
	for (size_t i = 0; i < s->plan.n; i++)
		session_entry(&s->plan.v[i], &r->v[i]);
	r->n = s->plan.n;
	*r->session = *s;
	memset(s, 0, sizeof *s);
	*out = r;
	return DBMIGRATE_OK;
}

dbmigrate_code dbmigrate_status(dbmigrate *m, dbmigrate_report **out)
{
	struct session s;
	dbmigrate_code rc;

	*out = NULL;
	errors_clear(&m->err);
	rc = session_begin(m, &s, false, false);
	if (rc == DBMIGRATE_OK)
		rc = migrator_report_session(m, &s, out);
	session_free(&s);
	return rc;
}

/* True when the options name a database (so validate can compare). */
static bool migrator_has_database(const dbmigrate *m)
{
	return m->cfg.value[CONFIG_URL] != NULL || m->cfg.value[CONFIG_HOST] != NULL ||
	       m->cfg.value[CONFIG_DATABASE] != NULL || m->cfg.value[CONFIG_DRIVER] != NULL;
}

dbmigrate_code dbmigrate_validate(dbmigrate *m, dbmigrate_report **out)
{
	struct session s;
	struct strbuf problems = STRBUF_INIT;
	size_t nproblems = 0;
	dbmigrate_code rc;

	if (out != NULL)
		*out = NULL;
	errors_clear(&m->err);
	memset(&s, 0, sizeof s);
	rc = session_load_files(m, &s);
	/* The driver splits the statements, which needs no connection. */
	if (rc == DBMIGRATE_OK)
		rc = session_load_driver(m);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < s.files.n; i++) {
		struct migration *mig = &s.files.v[i];
		struct run_item r = { 0 };

		rc = prepare_one(m, &r, mig, &mig->up);
		prepare_item_free(&r);
		if (rc == DBMIGRATE_OK && mig->down.present) {
			memset(&r, 0, sizeof r);
			rc = prepare_one(m, &r, mig, &mig->down);
			prepare_item_free(&r);
		}
	}
	if (rc == DBMIGRATE_OK && migrator_has_database(m)) {
		rc = session_open(m);
		if (rc == DBMIGRATE_OK)
			rc = session_read_plan(m, &s);
		for (size_t i = 0; rc == DBMIGRATE_OK && i < s.plan.n; i++) {
			const struct plan_item *it = &s.plan.v[i];

			if (!it->modified && it->state != DBMIGRATE_MISSING)
				continue;
			strbuf_printf(&problems, "%s%s %s", nproblems ? "; " : "",
				      prepare_label(it),
				      it->modified ? "changed since it was applied" :
						     "is applied but its file is gone");
			nproblems++;
		}
		if (rc == DBMIGRATE_OK && out != NULL)
			rc = migrator_report(m, &s.plan, out);
		if (rc == DBMIGRATE_OK && nproblems > 0) {
			rc = errors_set(&m->err, DBMIGRATE_EFILES,
					"%zu applied migration%s differ%s from the files",
					nproblems, nproblems == 1 ? "" : "s",
					nproblems == 1 ? "s" : "");
			errors_detail(&m->err, "%s.", strbuf_failed(&problems) ? "" : problems.s);
			errors_hint(&m->err, "Restore the files as they were applied; a changed migration should be a new migration instead.");
		}
	} else if (rc == DBMIGRATE_OK && out != NULL) {
		struct applied_set none = { 0 };

		rc = plan_build(&s.files, &none, &s.plan, &m->err);
		if (rc == DBMIGRATE_OK)
			rc = migrator_report(m, &s.plan, out);
	}
	strbuf_free(&problems);
	session_free(&s);
	return rc;
}

dbmigrate_code dbmigrate_create(dbmigrate *m, const char *name, char **path_out)
{
	struct migration_set set = { 0 };
	const char *dir = config_dir(&m->cfg);
	struct stat st;
	dbmigrate_code rc = DBMIGRATE_OK;

	if (path_out != NULL)
		*path_out = NULL;
	errors_clear(&m->err);
	if (name == NULL)
		return errors_set(&m->err, DBMIGRATE_EUSAGE, "create needs a migration name");
	if (stat(dir, &st) == 0)
		rc = discover_dir(dir, &set, &m->err);
	if (rc == DBMIGRATE_OK)
		rc = create_migration(dir, &set, name, path_out, &m->err);
	migration_set_free(&set);
	return rc;
}

size_t dbmigrate_report_count(const dbmigrate_report *r)
{
	return r != NULL ? r->n : 0;
}

const dbmigrate_entry *dbmigrate_report_get(const dbmigrate_report *r, size_t i)
{
	return r != NULL && i < r->n ? &r->v[i] : NULL;
}

void dbmigrate_report_free(dbmigrate_report *r)
{
	if (r == NULL)
		return;
	if (r->session != NULL) {
		session_free(r->session);
		free(r->session);
	}
	free(r->strings);
	free(r->v);
	free(r);
}
