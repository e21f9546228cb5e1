/*
 * migrator.c - the public API: a dbmigrate handle and the commands it
 * runs. This is where one migration travels from file to server:
 *
 *   discover_dir + migration_load   files -> parsed migrations
 *   driver read_rows + plan_build   tracking rows -> states
 *   plan_select_up / _down          what to run
 *   migrator_prepare                lexer split, BEGIN/COMMIT unwrapping,
 *                                   the driver's classification
 *   migrator_execute                transactions, apply(), events
 *
 * The library never prints: progress goes to the event callback and
 * failures into m->err, which the caller reads with dbmigrate_last_error.
 */
#include "migrator.h"

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
#include "lexer.h"
#include "migration.h"
#include "plan.h"
#include "strbuf.h"
#include "txcontrol.h"
#include "url.h"

#ifndef DBMIGRATE_VERSION
#define DBMIGRATE_VERSION "unknown"
#endif

/* A status listing: entries and the strings they point to. */
struct dbmigrate_report {
	dbmigrate_entry *v;
	size_t n;
};

/* One migration ready to run in one direction. */
struct run_item {
	struct plan_item *it;
	struct migration_body *body;
	struct lexer_result lex;
	size_t first;               /* first statement to run in lex */
	size_t count;               /* how many */
	struct dbmigrate_stmt *stmts;
	char *buf;                  /* NUL-terminated copies of the statements */
	bool outside;               /* runs outside the batch transaction */
	const char *reason;         /* why (static), or NULL */
};

/* Everything one command loads: files, rows, the plan. */
struct session {
	struct migration_set files;
	struct applied_set rows;
	struct plan plan;
	bool locked;
};

/* Seconds on the monotonic clock. */
static double migrator_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Deliver an event to the caller's callback, if any. */
static void migrator_emit(dbmigrate *m, const dbmigrate_event *ev)
{
	if (m->on_event != NULL)
		m->on_event(ev, m->event_ctx);
}

/* Emit a message event of the given kind. */
static void migrator_message(dbmigrate *m, dbmigrate_event_kind kind,
			     const char *message)
{
	dbmigrate_event ev = { .kind = kind, .message = message };

	migrator_emit(m, &ev);
}

/* Emit a formatted warning. */
static void migrator_warn(dbmigrate *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void migrator_warn(dbmigrate *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	migrator_message(m, DBMIGRATE_EVENT_WARNING, buf);
}

/* host->error: copy the driver's error into the handle. */
static void migrator_host_error(void *ctx, const struct dbmigrate_driver_error *e)
{
	dbmigrate *m = ctx;
	dbmigrate_code code = e->code != DBMIGRATE_OK ? e->code : DBMIGRATE_EDATABASE;

	errors_set(&m->err, code, "%s", e->message != NULL ? e->message : "database error");
	if (e->detail != NULL)
		errors_detail(&m->err, "%s", e->detail);
	if (e->hint != NULL)
		errors_hint(&m->err, "%s", e->hint);
	errors_sqlstate(&m->err, e->sqlstate);
	m->drv_statement = e->statement;
	m->drv_position = e->position;
}

/* host->log: forward as an event. */
static void migrator_host_log(void *ctx, enum dbmigrate_log_level level,
			      const char *message)
{
	static const dbmigrate_event_kind kinds[] = {
		[DBMIGRATE_LOG_DEBUG] = DBMIGRATE_EVENT_DEBUG,
		[DBMIGRATE_LOG_NOTICE] = DBMIGRATE_EVENT_NOTICE,
		[DBMIGRATE_LOG_WARNING] = DBMIGRATE_EVENT_WARNING,
		[DBMIGRATE_LOG_LOCK_WAIT] = DBMIGRATE_EVENT_LOCK_WAIT,
	};
	dbmigrate_event_kind kind = DBMIGRATE_EVENT_DEBUG;

	if ((unsigned)level < sizeof kinds / sizeof kinds[0])
		kind = kinds[level];
	migrator_message(ctx, kind, message);
}

/* host->interrupted. */
static int migrator_host_interrupted(void *ctx)
{
	const dbmigrate *m = ctx;

	return m->interrupted != 0;
}

dbmigrate *dbmigrate_new(void)
{
	dbmigrate *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->err.code = DBMIGRATE_OK;
	m->host.abi_version = DBMIGRATE_DRIVER_ABI_VERSION;
	m->host.struct_size = sizeof m->host;
	m->host.ctx = m;
	m->host.error = migrator_host_error;
	m->host.log = migrator_host_log;
	m->host.interrupted = migrator_host_interrupted;
	m->host.sql_words = lexer_words;
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	return m;
}

dbmigrate_code dbmigrate_set(dbmigrate *m, const char *key, const char *value)
{
	int k;

	errors_clear(&m->err);
	if (m->drv.conn != NULL)
		return errors_set(&m->err, DBMIGRATE_EUSAGE,
				  "options cannot change once the migrator is open");
	k = key != NULL ? config_key(key) : -1;
	if (k < 0)
		return errors_set(&m->err, DBMIGRATE_EUSAGE, "unknown option \"%s\"",
				  key != NULL ? key : "(null)");
	return config_set(&m->cfg, (enum config_key)k, value, CONFIG_FROM_CALLER, &m->err);
}

const char *dbmigrate_get(dbmigrate *m, const char *key)
{
	int k = key != NULL ? config_key(key) : -1;

	switch (k) {
	case -1:
	case CONFIG_PASSWORD:
		return NULL;
	case CONFIG_DIR:
		return config_dir(&m->cfg);
	case CONFIG_TABLE:
		return config_table(&m->cfg);
	case CONFIG_DRIVER:
		return config_driver(&m->cfg, m->driver_name, sizeof m->driver_name);
	default:
		return m->cfg.value[k];
	}
}

dbmigrate_code dbmigrate_load_env(dbmigrate *m, const char *dotenv_path)
{
	errors_clear(&m->err);
	return config_load_env(&m->cfg, dotenv_path != NULL ? dotenv_path : ".env",
			       &m->err);
}

void dbmigrate_on_event(dbmigrate *m, dbmigrate_event_fn fn, void *ctx)
{
	m->on_event = fn;
	m->event_ctx = ctx;
}

/* Load the driver and connect, once. */
static dbmigrate_code migrator_open(dbmigrate *m)
{
	struct dbmigrate_params p = { .struct_size = sizeof p };
	const struct config *c = &m->cfg;
	char namebuf[64];
	const char *name;
	dbmigrate_code rc;

	if (m->drv.conn != NULL)
		return DBMIGRATE_OK;
	if (m->drv.vt == NULL) {
		name = config_driver(c, namebuf, sizeof namebuf);
		rc = driver_load(name, &m->drv, &m->err);
		if (rc != DBMIGRATE_OK)
			return rc;
	}
	if (c->value[CONFIG_URL] != NULL) {
		p.url = c->value[CONFIG_URL];
	} else {
		p.host = c->value[CONFIG_HOST];
		p.port = c->value[CONFIG_PORT];
		p.database = c->value[CONFIG_DATABASE];
		p.user = c->value[CONFIG_USER];
		p.password = c->value[CONFIG_PASSWORD];
	}
	p.application_name = c->value[CONFIG_APPLICATION_NAME];
	p.connect_timeout = config_connect_timeout(c);
	m->interrupted = 0;
	return driver_open(&m->drv, &m->host, &p, &m->err);
}

dbmigrate_code dbmigrate_open(dbmigrate *m)
{
	errors_clear(&m->err);
	return migrator_open(m);
}

/* Keep the first error while running a clean-up step that may fail. */
static void migrator_cleanup_rollback(dbmigrate *m)
{
	dbmigrate_error saved = { .code = DBMIGRATE_OK };

	errors_move(&saved, &m->err);
	m->drv.vt->rollback(m->drv.conn);
	errors_move(&m->err, &saved);
}

/* Release the runner lock, keeping any error already set. */
static void migrator_unlock(dbmigrate *m, struct session *s)
{
	dbmigrate_error saved = { .code = DBMIGRATE_OK };
	dbmigrate_code rc;

	if (!s->locked)
		return;
	s->locked = false;
	errors_move(&saved, &m->err);
	rc = driver_unlock(&m->drv, config_table(&m->cfg));
	if (saved.code != DBMIGRATE_OK || rc == DBMIGRATE_OK)
		errors_move(&m->err, &saved);
	else
		errors_clear(&saved);
}

/* Free what a session loaded. */
static void session_free(struct session *s)
{
	plan_free(&s->plan);
	applied_free(&s->rows);
	migration_set_free(&s->files);
}

/* Discover and load every migration file of the directory. */
static dbmigrate_code migrator_load_files(dbmigrate *m, struct session *s)
{
	dbmigrate_code rc = discover_dir(config_dir(&m->cfg), &s->files, &m->err);

	for (size_t i = 0; rc == DBMIGRATE_OK && i < s->files.n; i++)
		rc = migration_load(&s->files.v[i], &m->err);
	return rc;
}

/* read_rows callback: collect a row. */
static int migrator_collect_row(void *ctx, const struct dbmigrate_row *r)
{
	struct { struct applied_set *rows; dbmigrate_error *err; } *c = ctx;

	return applied_add(c->rows, r->id, r->name, r->executed_at, r->checksum,
			   r->batch, c->err) != DBMIGRATE_OK;
}

/* Read the tracking rows and build the plan. */
static dbmigrate_code migrator_read_plan(dbmigrate *m, struct session *s)
{
	struct { struct applied_set *rows; dbmigrate_error *err; } c = { &s->rows, &m->err };
	dbmigrate_code rc;

	rc = m->drv.vt->read_rows(m->drv.conn, config_table(&m->cfg),
				  migrator_collect_row, &c);
	if (rc == DBMIGRATE_OK && m->err.code != DBMIGRATE_OK)
		rc = m->err.code; /* applied_add failed inside the callback */
	if (rc != DBMIGRATE_OK)
		return rc;
	return plan_build(&s->files, &s->rows, &s->plan, &m->err);
}

/* Load files, connect, optionally lock, read the plan. */
static dbmigrate_code migrator_begin_session(dbmigrate *m, struct session *s,
					     bool lock)
{
	dbmigrate_code rc;

	memset(s, 0, sizeof *s);
	rc = migrator_load_files(m, s);
	if (rc == DBMIGRATE_OK)
		rc = migrator_open(m);
	if (rc == DBMIGRATE_OK && lock) {
		rc = driver_lock(&m->drv, config_table(&m->cfg),
				 config_lock_timeout(&m->cfg));
		s->locked = rc == DBMIGRATE_OK;
	}
	if (rc == DBMIGRATE_OK)
		rc = migrator_read_plan(m, s);
	return rc;
}

/* Fill a public entry from a plan item (pointing at its strings). */
static void migrator_entry(const struct plan_item *it, dbmigrate_entry *e)
{
	memset(e, 0, sizeof *e);
	e->state = it->state;
	e->modified = it->modified;
	e->out_of_order = it->out_of_order;
	if (it->mig != NULL) {
		e->id = it->mig->id;
		e->name = it->mig->name;
		e->file = it->mig->path;
		e->has_down = it->mig->down.present;
		e->no_transaction = it->mig->no_transaction;
		e->checksum = it->mig->checksum;
	}
	if (it->row != NULL) {
		if (it->mig == NULL) {
			e->id = it->row->id;
			e->name = it->row->name;
		}
		e->batch = it->row->batch;
		e->executed_at = it->row->executed_at;
		e->recorded_checksum = it->row->checksum;
	}
}

/* The label of a plan item: "001_name". */
static const char *migrator_label(const struct plan_item *it)
{
	return it->mig != NULL ? it->mig->label : it->row->label;
}

/* The text of the file a body comes from. */
static const char *migrator_body_text(const struct migration *mig,
				      const struct migration_body *b,
				      size_t *len)
{
	if (mig->down_path != NULL && b->path == mig->down_path) {
		*len = mig->down_text_len;
		return mig->down_text;
	}
	*len = mig->text_len;
	return mig->text;
}

/* Point err at byte offset off of body b of mig. */
static void migrator_locate(dbmigrate_error *err, const struct migration *mig,
			    const struct migration_body *b, size_t off)
{
	size_t len, start = 0, end;
	const char *text = migrator_body_text(mig, b, &len);
	unsigned line = b->line, column;

	errors_migration(err, mig->label);
	if (off > b->len)
		off = b->len;
	if (b->verbatim && text != NULL) {
		errors_location_at(err, b->path, text, len, b->offset + off);
		return;
	}
	/* The body was decoded (JS escapes): count within the body itself. */
	for (size_t i = 0; i < off; i++) {
		if (b->sql[i] == '\n') {
			line++;
			start = i + 1;
		}
	}
	column = start == 0 ? b->column : 1;
	for (size_t i = start; i < off; i++)
		if (((unsigned char)b->sql[i] & 0xC0) != 0x80)
			column++;
	for (end = off; end < b->len && b->sql[end] != '\n'; end++)
		;
	errors_location(err, b->path, line, column, b->sql + start, end - start);
}

/* Byte offset of 1-based character position pos in s (len bytes). */
static size_t migrator_char_offset(const char *s, size_t len, unsigned pos)
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
static void run_item_free(struct run_item *r)
{
	lexer_result_free(&r->lex);
	free(r->stmts);
	free(r->buf);
}

/* Free an array of run items. */
static void run_items_free(struct run_item *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		run_item_free(&v[i]);
	free(v);
}

/*
 * Split one body into statements, unwrap a BEGIN/COMMIT wrapper, refuse
 * other transaction control, and ask the driver which statements cannot
 * run in a transaction. classify is false when no driver is open.
 */
static dbmigrate_code migrator_prepare(dbmigrate *m, struct run_item *r,
				       struct migration *mig,
				       struct migration_body *b, bool classify)
{
	struct lexer_error lerr;
	size_t bad, total = 0, pos = 0;
	const char *why;
	int unwrapped;
	enum lexer_status ls;

	r->body = b;
	ls = lexer_split(b->sql, b->len, &r->lex, &lerr);
	if (ls == LEXER_NOMEM)
		return errors_nomem(&m->err);
	if (ls != LEXER_OK) {
		errors_set(&m->err, DBMIGRATE_EFILES, "%s in %s", lerr.message, mig->label);
		errors_hint(&m->err, "Close the quote, dollar quote or comment that starts here.");
		migrator_locate(&m->err, mig, b, lerr.offset);
		return DBMIGRATE_EFILES;
	}
	if (mig->no_transaction) {
		/* Declared to run outside a transaction: its own BEGIN and
		   COMMIT are meaningful and are sent as written. */
		r->outside = true;
		r->reason = "declared transaction:false";
		r->first = 0;
		r->count = r->lex.n;
	} else if (txcontrol_check(b->sql, &r->lex, &r->first, &r->count,
				   &unwrapped, &bad, &why) != 0) {
		errors_set(&m->err, DBMIGRATE_EFILES,
			   "transaction control inside migration %s", mig->label);
		errors_detail(&m->err, "%s", why);
		errors_hint(&m->err, "dbmigrate runs each batch in a transaction; a migration that must manage its own transactions should be marked transaction:false.");
		migrator_locate(&m->err, mig, b, r->lex.v[bad].offset);
		return DBMIGRATE_EFILES;
	}
	for (size_t i = r->first; i < r->first + r->count; i++) {
		const struct lexer_stmt *st = &r->lex.v[i];
		const char *reason = NULL;

		total += st->len + 1;
		if (classify && !r->outside &&
		    driver_classify(&m->drv, b->sql + st->offset, st->len, &reason)) {
			r->outside = true;
			r->reason = reason;
		}
	}
	r->stmts = calloc(r->count + 1, sizeof *r->stmts);
	r->buf = malloc(total + 1);
	if (r->stmts == NULL || r->buf == NULL)
		return errors_nomem(&m->err);
	for (size_t i = 0; i < r->count; i++) {
		const struct lexer_stmt *st = &r->lex.v[r->first + i];

		memcpy(r->buf + pos, b->sql + st->offset, st->len);
		r->buf[pos + st->len] = '\0';
		r->stmts[i].sql = r->buf + pos;
		r->stmts[i].len = st->len;
		pos += st->len + 1;
	}
	return DBMIGRATE_OK;
}

/* Prepare the selected items for one direction; refuse unrunnable ones. */
static dbmigrate_code migrator_prepare_all(dbmigrate *m, struct session *s,
					   const size_t *idx, size_t n,
					   bool down, struct run_item **out)
{
	struct run_item *v = calloc(n + 1, sizeof *v);
	struct strbuf missing = STRBUF_INIT;
	size_t nmissing = 0;
	dbmigrate_code rc = DBMIGRATE_OK;

	*out = v;
	if (v == NULL)
		return errors_nomem(&m->err);
	for (size_t i = 0; i < n; i++) {
		struct plan_item *it = &s->plan.v[idx[i]];

		v[i].it = it;
		if (down && (it->mig == NULL || !it->mig->down.present)) {
			strbuf_printf(&missing, "%s%s (%s)", nmissing ? ", " : "",
				      migrator_label(it),
				      it->mig == NULL ? "its file is gone" : "no down section");
			nmissing++;
		}
	}
	if (nmissing > 0) {
		errors_set(&m->err, DBMIGRATE_EFILES, "cannot roll back %zu migration%s: %s",
			   nmissing, nmissing == 1 ? "" : "s",
			   strbuf_failed(&missing) ? "(out of memory)" : missing.s);
		errors_detail(&m->err, "Nothing was rolled back.");
		errors_hint(&m->err, "Add a `-- migrate:down` section (or `export const down`) to each, or restore the missing files.");
		strbuf_free(&missing);
		return DBMIGRATE_EFILES;
	}
	strbuf_free(&missing);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < n; i++) {
		struct migration *mig = v[i].it->mig;

		rc = migrator_prepare(m, &v[i], mig, down ? &mig->down : &mig->up, true);
	}
	return rc;
}

/* Add to m->err's detail what happened to the rest of the batch. */
static void migrator_explain_failure(dbmigrate *m, const struct run_item *r,
				     size_t failed_stmt, size_t committed,
				     size_t rolled_back, bool down)
{
	struct strbuf b = STRBUF_INIT;
	const char *verb = down ? "rolled back" : "applied";

	if (m->err.detail != NULL)
		strbuf_printf(&b, "%s\n", m->err.detail);
	if (r->outside) {
		if (failed_stmt == 0 || failed_stmt == DBMIGRATE_NO_STATEMENT)
			strbuf_printf(&b, "%s runs outside a transaction; none of its statements had run.",
				      migrator_label(r->it));
		else if (failed_stmt == 1)
			strbuf_printf(&b, "%s runs outside a transaction: its statement 1 ran and stays applied, and the migration was not recorded as %s.",
				      migrator_label(r->it), verb);
		else
			strbuf_printf(&b, "%s runs outside a transaction: its statements 1 to %zu ran and stay applied, and the migration was not recorded as %s.",
				      migrator_label(r->it), failed_stmt, verb);
	} else {
		strbuf_printf(&b, "The transaction was rolled back: nothing of its %zu migration%s was %s or recorded.",
			      rolled_back, rolled_back == 1 ? "" : "s", verb);
	}
	if (committed > 0)
		strbuf_printf(&b, " %zu earlier migration%s of this batch had already been committed (before a migration that runs outside the transaction) and stay%s %s.",
			      committed, committed == 1 ? "" : "s",
			      committed == 1 ? "s" : "", verb);
	if (!strbuf_failed(&b))
		errors_detail(&m->err, "%s", b.s);
	strbuf_free(&b);
	if (m->err.sqlstate != NULL && strcmp(m->err.sqlstate, "53200") == 0 &&
	    !r->outside) {
		/* PostgreSQL's lock table is shared and sized by
		   max_locks_per_transaction x max_connections: one transaction
		   creating thousands of tables runs out of it. */
		errors_hint(&m->err, "The batch holds more locks than one transaction may (each table, index and sequence a migration creates or alters is locked until the batch commits). Apply it in smaller batches with `dbmigrate up --step N` (e.g. --step 500), or raise max_locks_per_transaction in postgresql.conf and restart the server.");
	} else if (r->outside && failed_stmt != 0 && failed_stmt != DBMIGRATE_NO_STATEMENT &&
	    m->err.hint == NULL)
		errors_hint(&m->err, "Fix the failing statement, then either undo the statements that ran or make them safe to repeat (IF NOT EXISTS, IF EXISTS), and run dbmigrate again.");
}

/* Map the driver's failure in item r to a file location. */
static void migrator_locate_failure(dbmigrate *m, const struct run_item *r)
{
	size_t k = m->drv_statement;

	if (k == DBMIGRATE_NO_STATEMENT || k >= r->count) {
		errors_migration(&m->err, migrator_label(r->it));
		if (r->it->mig != NULL)
			errors_location(&m->err, r->body->path, 0, 0, NULL, 0);
		return;
	}
	{
		const struct lexer_stmt *st = &r->lex.v[r->first + k];
		size_t off = migrator_char_offset(r->body->sql + st->offset,
						  st->len, m->drv_position);

		migrator_locate(&m->err, r->it->mig, r->body, st->offset + off);
	}
}

/* Emit PLAN events for every item. */
static void migrator_emit_plan(dbmigrate *m, const struct run_item *v, size_t n,
			       bool down, int batch)
{
	for (size_t i = 0; i < n; i++) {
		dbmigrate_entry e;
		dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_PLAN, .entry = &e,
				       .down = down, .batch = batch,
				       .outside_transaction = v[i].outside,
				       .reason = v[i].reason };

		migrator_entry(v[i].it, &e);
		if (down)
			ev.batch = v[i].it->row->batch;
		migrator_emit(m, &ev);
	}
}

/* Run one item: events around driver apply(). */
static dbmigrate_code migrator_apply(dbmigrate *m, struct run_item *r,
				     bool down, int batch)
{
	struct plan_item *it = r->it;
	struct dbmigrate_row row = { 0 };
	dbmigrate_entry e;
	dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_START, .entry = &e,
			       .down = down, .batch = down ? it->row->batch : batch,
			       .outside_transaction = r->outside, .reason = r->reason };
	double t0 = migrator_now();
	dbmigrate_code rc;

	migrator_entry(it, &e);
	migrator_emit(m, &ev);
	if (m->interrupted)
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	m->drv_position = 0;
	if (!down) {
		row.id = it->mig->id;
		row.name = it->mig->name;
		row.checksum = it->mig->checksum;
		row.batch = batch;
	}
	rc = m->drv.vt->apply(m->drv.conn, config_table(&m->cfg), r->stmts, r->count,
			      down ? NULL : &row, down ? it->row->id : NULL);
	if (rc != DBMIGRATE_OK) {
		if (m->err.code == DBMIGRATE_OK)
			errors_set(&m->err, rc, "driver %s failed without a message",
				   m->drv.vt->name);
		if (m->interrupted && rc != DBMIGRATE_EINTERRUPTED) {
			rc = DBMIGRATE_EINTERRUPTED;
			m->err.code = rc;
		}
		migrator_locate_failure(m, r);
		return rc;
	}
	ev.kind = DBMIGRATE_EVENT_DONE;
	ev.seconds = migrator_now() - t0;
	migrator_emit(m, &ev);
	return DBMIGRATE_OK;
}

/*
 * Run prepared items in order as one batch: consecutive transactional
 * items share one transaction; an item that must run outside one commits
 * what came before, runs alone, and is recorded as soon as it succeeds.
 */
static dbmigrate_code migrator_execute(dbmigrate *m, struct run_item *v,
				       size_t n, bool down, int batch)
{
	size_t committed = 0;

	for (size_t i = 0; i < n;) {
		dbmigrate_code rc;
		double t0 = migrator_now();
		size_t j = i;

		if (v[i].outside) {
			rc = migrator_apply(m, &v[i], down, batch);
			if (rc != DBMIGRATE_OK) {
				migrator_explain_failure(m, &v[i], m->drv_statement,
							 committed, 0, down);
				return rc;
			}
			committed++;
			i++;
			continue;
		}
		rc = m->drv.vt->begin(m->drv.conn);
		if (rc != DBMIGRATE_OK)
			return rc;
		for (; j < n && !v[j].outside; j++) {
			rc = migrator_apply(m, &v[j], down, batch);
			if (rc != DBMIGRATE_OK) {
				size_t k = j;

				while (k < n && !v[k].outside)
					k++;
				migrator_cleanup_rollback(m);
				migrator_explain_failure(m, &v[j], m->drv_statement,
							 committed, k - i, down);
				return rc;
			}
		}
		if (m->interrupted) {
			migrator_cleanup_rollback(m);
			errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
			migrator_explain_failure(m, &v[j - 1], DBMIGRATE_NO_STATEMENT,
						 committed, j - i, down);
			return DBMIGRATE_EINTERRUPTED;
		}
		rc = m->drv.vt->commit(m->drv.conn);
		if (rc != DBMIGRATE_OK) {
			migrator_cleanup_rollback(m);
			return rc;
		}
		{
			dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_COMMIT,
					       .batch = batch, .count = j - i,
					       .down = down,
					       .seconds = migrator_now() - t0 };
			migrator_emit(m, &ev);
		}
		committed += j - i;
		i = j;
	}
	return DBMIGRATE_OK;
}

/* Warn about drift the user should know before changing anything. */
static void migrator_warn_drift(dbmigrate *m, const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_item *it = &p->v[i];

		if (it->modified)
			migrator_warn(m, "%s changed since it was applied (checksum differs)",
				      migrator_label(it));
		else if (it->state == DBMIGRATE_MISSING)
			migrator_warn(m, "%s is recorded as applied, but its file is gone",
				      migrator_label(it));
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
					   const struct run_item *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && !v[j].outside)
			j++;
		if (j - i >= MIGRATOR_BIG_TRANSACTION)
			migrator_warn(m, "%zu migrations will run in one transaction; a transaction this large can exhaust the server's lock table (PostgreSQL: \"out of shared memory\", max_locks_per_transaction). If it fails so, use --step to apply them in smaller batches.",
				      j - i);
		i = j < n ? j + 1 : j;
	}
}

/* The shared body of migrate, rollback and reset. */
static dbmigrate_code migrator_run(dbmigrate *m, const dbmigrate_run_options *o,
				   bool down, bool reset)
{
	static const dbmigrate_run_options none = { 0 };
	struct session s;
	struct run_item *items = NULL;
	size_t *idx = NULL, n = 0;
	dbmigrate_code rc;
	int batch;

	if (o == NULL)
		o = &none;
	errors_clear(&m->err);
	rc = migrator_begin_session(m, &s, true);
	if (rc != DBMIGRATE_OK)
		goto out;
	if (down)
		rc = plan_select_down(&s.plan, reset ? 0 : o->step, reset ? NULL : o->to,
				      reset, &idx, &n, &m->err);
	else
		rc = plan_select_up(&s.plan, o->step, o->to, &idx, &n, &m->err);
	if (rc != DBMIGRATE_OK)
		goto out;
	rc = migrator_prepare_all(m, &s, idx, n, down, &items);
	if (rc != DBMIGRATE_OK)
		goto out;
	migrator_warn_drift(m, &s.plan);
	for (size_t i = 0; !down && i < n; i++)
		if (items[i].it->out_of_order)
			migrator_warn(m, "%s is numbered below the newest applied migration; it runs now, out of order",
				      migrator_label(items[i].it));
	batch = s.plan.max_batch + 1;
	if (!down && !o->dry_run) {
		/* Before the plan is shown, so a bad --table fails first. */
		rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
		if (rc != DBMIGRATE_OK)
			goto out;
	}
	migrator_warn_big_transactions(m, items, n);
	migrator_emit_plan(m, items, n, down, batch);
	if (o->dry_run)
		goto out;
	rc = migrator_execute(m, items, n, down, batch);
	if (rc == DBMIGRATE_OK && reset) {
		int exists = 0;

		rc = m->drv.vt->table_exists(m->drv.conn, config_table(&m->cfg), &exists);
		if (rc == DBMIGRATE_OK && exists)
			rc = m->drv.vt->drop_table(m->drv.conn, config_table(&m->cfg));
	}
out:
	migrator_unlock(m, &s);
	run_items_free(items, n);
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
		rc = migrator_open(m);
	if (rc == DBMIGRATE_OK) {
		rc = driver_lock(&m->drv, config_table(&m->cfg),
				 config_lock_timeout(&m->cfg));
		s.locked = rc == DBMIGRATE_OK;
	}
	if (rc == DBMIGRATE_OK)
		rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
	migrator_unlock(m, &s);
	return rc;
}

/* Copy a string into a report; NULL stays NULL. */
static const char *report_dup(const char *s, bool *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*fail = true;
	return d;
}

/* Make a report from a plan. */
static dbmigrate_code migrator_report(dbmigrate *m, const struct plan *p,
				      dbmigrate_report **out)
{
	dbmigrate_report *r = calloc(1, sizeof *r);
	bool fail = false;

	if (r == NULL || (r->v = calloc(p->n + 1, sizeof *r->v)) == NULL) {
		free(r);
		return errors_nomem(&m->err);
	}
	for (size_t i = 0; i < p->n; i++) {
		dbmigrate_entry e, *d = &r->v[i];

		migrator_entry(&p->v[i], &e);
		*d = e;
		d->id = report_dup(e.id, &fail);
		d->name = report_dup(e.name, &fail);
		d->file = report_dup(e.file, &fail);
		d->executed_at = report_dup(e.executed_at, &fail);
		d->checksum = report_dup(e.checksum, &fail);
		d->recorded_checksum = report_dup(e.recorded_checksum, &fail);
		r->n = i + 1;
	}
	if (fail) {
		dbmigrate_report_free(r);
		return errors_nomem(&m->err);
	}
	*out = r;
	return DBMIGRATE_OK;
}

dbmigrate_code dbmigrate_status(dbmigrate *m, dbmigrate_report **out)
{
	struct session s;
	dbmigrate_code rc;

	*out = NULL;
	errors_clear(&m->err);
	rc = migrator_begin_session(m, &s, false);
	if (rc == DBMIGRATE_OK)
		rc = migrator_report(m, &s.plan, out);
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
	rc = migrator_load_files(m, &s);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < s.files.n; i++) {
		struct migration *mig = &s.files.v[i];
		struct run_item r = { 0 };

		rc = migrator_prepare(m, &r, mig, &mig->up, false);
		run_item_free(&r);
		if (rc == DBMIGRATE_OK && mig->down.present) {
			memset(&r, 0, sizeof r);
			rc = migrator_prepare(m, &r, mig, &mig->down, false);
			run_item_free(&r);
		}
	}
	if (rc == DBMIGRATE_OK && migrator_has_database(m)) {
		rc = migrator_open(m);
		if (rc == DBMIGRATE_OK)
			rc = migrator_read_plan(m, &s);
		for (size_t i = 0; rc == DBMIGRATE_OK && i < s.plan.n; i++) {
			const struct plan_item *it = &s.plan.v[i];

			if (!it->modified && it->state != DBMIGRATE_MISSING)
				continue;
			strbuf_printf(&problems, "%s%s %s", nproblems ? "; " : "",
				      migrator_label(it),
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
	for (size_t i = 0; i < r->n; i++) {
		dbmigrate_entry *e = &r->v[i];

		free((void *)(uintptr_t)e->id);
		free((void *)(uintptr_t)e->name);
		free((void *)(uintptr_t)e->file);
		free((void *)(uintptr_t)e->executed_at);
		free((void *)(uintptr_t)e->checksum);
		free((void *)(uintptr_t)e->recorded_checksum);
	}
	free(r->v);
	free(r);
}

const dbmigrate_error *dbmigrate_last_error(const dbmigrate *m)
{
	return &m->err;
}

const char *dbmigrate_errmsg(const dbmigrate *m)
{
	return m->err.message != NULL ? m->err.message : "";
}

void dbmigrate_interrupt(dbmigrate *m)
{
	m->interrupted = 1;
	driver_cancel(&m->drv);
}

void dbmigrate_close(dbmigrate *m)
{
	if (m == NULL)
		return;
	driver_close(&m->drv);
	free(m->drv.path);
	config_free(&m->cfg);
	errors_clear(&m->err);
	free(m);
}

void dbmigrate_mask_password(char *s)
{
	url_mask(s);
}

dbmigrate_code dbmigrate_list_drivers(dbmigrate_driver_fn fn, void *ctx)
{
	return driver_list(fn, ctx);
}

const char *dbmigrate_version(void)
{
	return DBMIGRATE_VERSION;
}

unsigned dbmigrate_driver_abi(void)
{
	return DBMIGRATE_DRIVER_ABI_VERSION;
}

const char *dbmigrate_driver_dir(void)
{
	return driver_installed_dir();
}

const char *dbmigrate_code_name(dbmigrate_code code)
{
	static const char *const names[] = {
		[DBMIGRATE_OK] = "success",
		[DBMIGRATE_EMIGRATION] = "migration failed",
		[DBMIGRATE_EUSAGE] = "usage error",
		[DBMIGRATE_EFILES] = "bad migration files",
		[DBMIGRATE_ECONNECT] = "cannot connect",
		[DBMIGRATE_ELOCK] = "lock not acquired",
		[DBMIGRATE_EINTERRUPTED] = "interrupted",
		[DBMIGRATE_EDATABASE] = "database error",
		[DBMIGRATE_EIO] = "file error",
		[DBMIGRATE_ENOMEM] = "out of memory",
		[DBMIGRATE_EUNSUPPORTED] = "not supported by the driver",
	};

	if ((unsigned)code < sizeof names / sizeof names[0] && names[code] != NULL)
		return names[code];
	return "unknown error";
}
