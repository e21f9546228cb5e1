/*
 * session.c - what one command loads before it plans: the files, the
 * driver, the connection, the runner lock and the tracking rows, merged
 * into a plan (plan_build()). Calls down only: handle.c, the files, the
 * driver.
 */
#include "session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache.h"
#include "errors.h"
#include "handle.h"
#include "import.h"
#include "migration.h"
#include "plan.h"

/* Load the driver the options name, once. */
dbmigrate_code session_load_driver(dbmigrate *m)
{
	char namebuf[64];

	if (m->drv.vt != NULL)
		return DBMIGRATE_OK;
	return driver_load(config_driver(&m->cfg, namebuf, sizeof namebuf),
			   &m->drv, &m->err);
}

/*
 * Refuse a schema the driver cannot honour (no DBMIGRATE_CAP_SCHEMA, or
 * older than ABI 5), and a schema together with a tracking table that
 * names another one: with a schema, the tracking table is inside it.
 */
static dbmigrate_code session_check_schema(dbmigrate *m)
{
	const struct config *c = &m->cfg;
	const char *schema = c->value[CONFIG_SCHEMA];
	const char *table = c->value[CONFIG_TABLE];

	if (schema == NULL)
		return DBMIGRATE_OK;
	if (table != NULL && strchr(table, '.') != NULL) {
		errors_set(&m->err, DBMIGRATE_EUSAGE,
			   "the tracking table \"%s\" names a schema, and "
			   "schema \"%s\" is set too", table, schema);
		errors_hint(&m->err, "With a schema, the tracking table lives "
			    "in it: give the table without a schema (such as "
			    "--table migrations), or drop the schema.");
		return DBMIGRATE_EUSAGE;
	}
	if (m->drv.vt->abi_version >= 5 &&
	    (m->drv.vt->caps & DBMIGRATE_CAP_SCHEMA))
		return DBMIGRATE_OK;
	errors_set(&m->err, DBMIGRATE_EUSAGE,
		   "driver %s cannot run migrations in a schema (schema \"%s\")",
		   m->drv.vt->name, schema);
	errors_detail(&m->err, "%s has no schemas that a connection could "
		      "put first on its search path.",
		      m->drv.vt->backend != NULL ? m->drv.vt->backend
						 : m->drv.vt->name);
	errors_hint(&m->err, "Give each tenant a database of its own (one "
		    "target line each), or remove the schema (schema=, "
		    "--schema, DBMIGRATE_SCHEMA).");
	return DBMIGRATE_EUSAGE;
}

/* Load the driver and connect, once. */
dbmigrate_code session_open(dbmigrate *m)
{
	struct dbmigrate_params p = { .struct_size = sizeof p };
	const struct config *c = &m->cfg;
	dbmigrate_code rc;

	if (m->drv.conn != NULL)
		return DBMIGRATE_OK;
	if ((rc = session_load_driver(m)) != DBMIGRATE_OK)
		return rc;
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
	if ((rc = session_check_schema(m)) != DBMIGRATE_OK)
		return rc;
	p.schema = c->value[CONFIG_SCHEMA];
	m->interrupted = 0;
	m->settings_sent = false; /* a new connection has the server's limits */
	return driver_open(&m->drv, &m->host, &p, &m->err);
}

dbmigrate_code dbmigrate_open(dbmigrate *m)
{
	errors_clear(&m->err);
	return session_open(m);
}

/* Keep the first error while running a clean-up step that may fail. */
void session_cleanup_rollback(dbmigrate *m)
{
	dbmigrate_error saved = { .code = DBMIGRATE_OK };

	errors_move(&saved, &m->err);
	m->drv.vt->rollback(m->drv.conn);
	errors_move(&m->err, &saved);
}

/* Release the runner lock, keeping any error already set. */
void session_unlock(dbmigrate *m, struct session *s)
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
void session_free(struct session *s)
{
	plan_free(&s->plan);
	applied_free(&s->rows);
	migration_set_free(&s->files);
}

/*
 * Discover and load every migration file of directory dir into files;
 * without bodies (status), from the status cache in cache_dir where it
 * knows a file unchanged.
 */
static dbmigrate_code session_load(const char *dir, const char *cache_dir,
				   bool bodies, struct migration_set *files,
				   dbmigrate_error *err)
{
	dbmigrate_code rc = discover_dir(dir, files, err);

	if (rc != DBMIGRATE_OK)
		return rc;
	if (bodies)
		return migration_load_set(files, NULL, err);
	return cache_load_status(files, cache_dir, err);
}

/* Discover and load every migration file of the directory. */
dbmigrate_code session_load_files(dbmigrate *m, struct session *s)
{
	return session_load(config_dir(&m->cfg), NULL, true, &s->files, &m->err);
}

/*
 * After the tracking table could not be read (error rc in m->err): when
 * it is another tool's history table, say so instead (import.c), else
 * keep the error. Only on failure, so reading a good table costs no
 * catalog query.
 */
static dbmigrate_code session_peer_table(dbmigrate *m, dbmigrate_code rc)
{
	dbmigrate_error saved = { .code = DBMIGRATE_OK };

	errors_move(&saved, &m->err);
	if (import_check_tracking_table(&m->drv, config_table(&m->cfg),
					&m->err) != DBMIGRATE_OK) {
		errors_clear(&saved);
		return m->err.code;
	}
	errors_clear(&m->err);
	errors_move(&m->err, &saved);
	return rc;
}

/* What session_collect_row needs. */
struct session_rows_ctx {
	struct applied_set *rows;
	dbmigrate_error *err;
};

/* read_rows callback: collect a row. */
static int session_collect_row(void *ctx, const struct dbmigrate_row *r)
{
	struct session_rows_ctx *c = ctx;

	if (applied_add(c->rows, r->id, r->name, r->executed_at, r->checksum,
			r->down_sql, r->batch, c->err) != DBMIGRATE_OK)
		return 1;
	return r->progress != NULL &&
	       applied_progress(&c->rows->v[c->rows->n - 1], r->progress,
				c->err) != DBMIGRATE_OK;
}

/*
 * Read the tracking rows into s->rows; brief (a listing: status,
 * validate) without the text of their down SQL when the driver can
 * leave it out (a row's down_sql is then "" when it has one).
 */
static dbmigrate_code session_read_rows(dbmigrate *m, struct session *s,
					bool brief)
{
	struct session_rows_ctx c = { &s->rows, &m->err };
	dbmigrate_code (*read)(dbmigrate_conn *, const char *,
			       dbmigrate_row_fn, void *) = m->drv.vt->read_rows;
	dbmigrate_code rc;

	if (brief && m->drv.vt->read_rows_brief != NULL)
		read = m->drv.vt->read_rows_brief;
	rc = read(m->drv.conn, config_table(&m->cfg), session_collect_row, &c);
	if (rc == DBMIGRATE_OK && m->err.code != DBMIGRATE_OK)
		rc = m->err.code; /* applied_add failed inside the callback */
	if (rc == DBMIGRATE_EDATABASE)
		rc = session_peer_table(m, rc);
	return rc;
}

/* Read the tracking rows for a listing (validate) and build the plan. */
dbmigrate_code session_read_plan(dbmigrate *m, struct session *s)
{
	dbmigrate_code rc = session_read_rows(m, s, true);

	if (rc != DBMIGRATE_OK)
		return rc;
	return plan_build(&s->files, &s->rows, &s->plan, &m->err);
}

/*
 * Load the files, then connect and, when rows is true (status: no lock
 * to take first), read the tracking rows. The files come first, so that
 * their errors win over the connection's and nothing connects for a
 * directory that cannot run.
 *
 * Loading the files on a thread of their own while the connection
 * opened was measured against this with bench/compare (2026-12-07) and
 * was within the noise everywhere (median of the paired ratios without
 * the thread: status over 10,000 files 1.04x, IQR 0.82-1.30, 31 pairs;
 * up of 100 1.08x, IQR 0.96-1.19; up and down of 1,000 1.02x and
 * 0.89x): it was removed.
 */
static dbmigrate_code session_load_and_open(dbmigrate *m, struct session *s,
					    bool bodies, bool rows)
{
	const char *cache_dir = bodies ? NULL : config_cache_dir(&m->cfg);
	dbmigrate_code rc = session_load(config_dir(&m->cfg), cache_dir, bodies,
					 &s->files, &m->err);

	if (rc == DBMIGRATE_OK)
		rc = session_open(m);
	if (rc == DBMIGRATE_OK && rows)
		rc = session_read_rows(m, s, !bodies);
	return rc;
}

/* Take the runner lock, saying with -v what kind of lock the driver
   keeps runners apart with. */
dbmigrate_code session_lock(dbmigrate *m)
{
	if (m->drv.vt->lock_kind != NULL && m->drv.vt->lock != NULL) {
		char msg[256];

		snprintf(msg, sizeof msg, "runner lock on \"%s\": %s",
			 config_table(&m->cfg), m->drv.vt->lock_kind);
		handle_message(m, DBMIGRATE_EVENT_DEBUG, msg);
	}
	return driver_lock(&m->drv, config_table(&m->cfg),
			   config_lock_timeout(&m->cfg));
}

/*
 * Load files and connect, optionally lock, read the plan. Without bodies
 * (status), files the status cache knows unchanged are not read: their
 * migrations hold a checksum and flags only (cache_load_status()).
 */
dbmigrate_code session_begin(dbmigrate *m, struct session *s,
			     bool lock, bool bodies)
{
	dbmigrate_code rc;

	memset(s, 0, sizeof *s);
	/* Without a lock to take first, the rows are read at once; with
	   one, only once the lock is held. */
	rc = session_load_and_open(m, s, bodies, !lock);
	if (rc == DBMIGRATE_OK && lock) {
		rc = session_lock(m);
		s->locked = rc == DBMIGRATE_OK;
		if (rc == DBMIGRATE_OK)
			rc = session_read_rows(m, s, false);
	}
	if (rc == DBMIGRATE_OK)
		rc = plan_build(&s->files, &s->rows, &s->plan, &m->err);
	return rc;
}

/* Fill a public entry from a plan item (pointing at its strings). */
void session_entry(const struct plan_item *it, dbmigrate_entry *e)
{
	memset(e, 0, sizeof *e);
	e->state = it->state;
	e->modified = it->modified || it->outdated;
	e->out_of_order = it->out_of_order;
	e->repeatable = it->repeatable;
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
		e->recorded_checksum = it->row->checksum;
		/* An outdated repeatable is pending: no batch until it runs. */
		if (it->state != DBMIGRATE_PENDING) {
			e->batch = it->row->batch;
			e->executed_at = it->row->executed_at;
		}
	}
	e->down_from_table = it->down_from_table;
	if (it->state == DBMIGRATE_PARTIAL) {
		e->partial_down = it->partial_down;
		e->partial_done = it->partial_done;
		e->partial_total = it->partial_total;
	}
}
