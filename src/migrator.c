/*
 * migrator.c - the public API: a dbmigrate handle and the commands it
 * runs. This is where one migration travels from file to server:
 *
 *   discover_dir + migration_load   files -> parsed migrations
 *   driver read_rows + plan_build   tracking rows -> states
 *   plan_select_up / _down          what to run
 *   migrator_prepare                the driver's split and classification,
 *                                   BEGIN/COMMIT unwrapping (split.c)
 *   migrator_execute                transactions, apply(), events
 *
 * The library never prints: progress goes to the event callback and
 * failures into m->err, which the caller reads with dbmigrate_last_error.
 */
#include "handle.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache.h"
#include "create.h"
#include "directive.h"
#include "errors.h"
#include "import.h"
#include "migration.h"
#include "plan.h"
#include "split.h"
#include "strbuf.h"
#include "url.h"

#ifndef DBMIGRATE_VERSION
#define DBMIGRATE_VERSION "unknown"
#endif

/* A status listing: entries and the strings they point to. */
struct dbmigrate_report {
	dbmigrate_entry *v;
	size_t n;
	char *strings;           /* every string of v, in one block; or */
	struct session *session; /* the session v points into (status) */
};

/* One migration ready to run in one direction. */
struct run_item {
	struct plan_item *it;
	struct migration *mig;      /* what errors point into: it->mig, or
				       stored for a down kept in the table */
	struct migration_body *body;
	struct split_result sp;     /* its statements, as the driver split
				       and classified them */
	size_t first;               /* first statement to run in sp */
	size_t count;               /* how many */
	struct dbmigrate_stmt *stmts; /* point into body->sql (no copies) */
	char *saved;                /* the byte after each statement, which
				       migrator_terminate() replaces */
	bool down;                  /* rolls back (else applies) */
	bool outside;               /* runs outside the batch transaction */
	bool own_tx;                /* runs in a transaction of its own, its
				       first pre and last post statements
				       just before and after it */
	size_t pre, post;
	bool journal;               /* cannot roll back: its progress is
				       recorded as it runs (record_progress) */
	bool commit_before;         /* the transaction before it must commit
				       first (redo's second step) */
	const char *reason;         /* why (static), or NULL */
	struct dbmigrate_settings limits; /* for its statements */
	struct migration stored;    /* the tracking row's down SQL as a
				       migration of its own (from_table) */
	struct migration_body stored_body;
	bool from_table;            /* runs the down SQL the tracking table kept */
};

/* A directive value not given in the migration. */
#define MIGRATOR_UNSET (-1.0)

/* Backoff of the retries is the driver's; this many it makes at most. */
#define MIGRATOR_DEFAULT_RETRIES 3

/*
 * Small migrations in a transaction travel to the server together
 * (apply_batch(), driver ABI 3): at most this many, of at most
 * MIGRATOR_GROUP_ITEM bytes of SQL each and MIGRATOR_GROUP_BYTES in all.
 * A bigger migration goes alone, keeping a time of its own.
 */
#define MIGRATOR_GROUP_MAX 100
#define MIGRATOR_GROUP_ITEM ((size_t)16 << 10)
#define MIGRATOR_GROUP_BYTES ((size_t)256 << 10)

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
	errors_backend_code(&m->err, e->backend_code);
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

/* host->interrupted: the user's interrupt, or (while connecting) the
   session's files failed to load, so there is no point waiting. */
static int migrator_host_interrupted(void *ctx)
{
	dbmigrate *m = ctx;

	return m->interrupted != 0 || atomic_load(&m->files_failed) != 0;
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
	driver_host_services(&m->host);
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	atomic_init(&m->files_failed, 0);
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

/* Load the driver the options name, once. */
static dbmigrate_code migrator_load_driver(dbmigrate *m)
{
	char namebuf[64];

	if (m->drv.vt != NULL)
		return DBMIGRATE_OK;
	return driver_load(config_driver(&m->cfg, namebuf, sizeof namebuf),
			   &m->drv, &m->err);
}

/* Load the driver and connect, once. */
static dbmigrate_code migrator_open(dbmigrate *m)
{
	struct dbmigrate_params p = { .struct_size = sizeof p };
	const struct config *c = &m->cfg;
	dbmigrate_code rc;

	if (m->drv.conn != NULL)
		return DBMIGRATE_OK;
	if ((rc = migrator_load_driver(m)) != DBMIGRATE_OK)
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
	m->interrupted = 0;
	m->settings_sent = false; /* a new connection has the server's limits */
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

/*
 * Discover and load every migration file of directory dir into files;
 * without bodies (status), from the status cache in cache_dir where it
 * knows a file unchanged. Touches nothing of the handle: it may run on
 * a thread of its own (migrator_begin_session()).
 */
static dbmigrate_code migrator_load(const char *dir, const char *cache_dir,
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
static dbmigrate_code migrator_load_files(dbmigrate *m, struct session *s)
{
	return migrator_load(config_dir(&m->cfg), NULL, true, &s->files, &m->err);
}

/*
 * After the tracking table could not be read (error rc in m->err): when
 * it is another tool's history table, say so instead (import.c), else
 * keep the error. Only on failure, so reading a good table costs no
 * catalog query.
 */
static dbmigrate_code migrator_peer_table(dbmigrate *m, dbmigrate_code rc)
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

/* What migrator_collect_row needs. */
struct migrator_rows_ctx {
	struct applied_set *rows;
	dbmigrate_error *err;
};

/* read_rows callback: collect a row. */
static int migrator_collect_row(void *ctx, const struct dbmigrate_row *r)
{
	struct migrator_rows_ctx *c = ctx;

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
static dbmigrate_code migrator_read_rows(dbmigrate *m, struct session *s,
					 bool brief)
{
	struct migrator_rows_ctx c = { &s->rows, &m->err };
	dbmigrate_code (*read)(dbmigrate_conn *, const char *,
			       dbmigrate_row_fn, void *) = m->drv.vt->read_rows;
	dbmigrate_code rc;

	if (brief && m->drv.vt->read_rows_brief != NULL)
		read = m->drv.vt->read_rows_brief;
	rc = read(m->drv.conn, config_table(&m->cfg), migrator_collect_row, &c);
	if (rc == DBMIGRATE_OK && m->err.code != DBMIGRATE_OK)
		rc = m->err.code; /* applied_add failed inside the callback */
	if (rc == DBMIGRATE_EDATABASE)
		rc = migrator_peer_table(m, rc);
	return rc;
}

/* Read the tracking rows for a listing (validate) and build the plan. */
static dbmigrate_code migrator_read_plan(dbmigrate *m, struct session *s)
{
	dbmigrate_code rc = migrator_read_rows(m, s, true);

	if (rc != DBMIGRATE_OK)
		return rc;
	return plan_build(&s->files, &s->rows, &s->plan, &m->err);
}

/* The loading thread of a session: what it reads and what it writes,
   none of which the connecting thread touches until it is joined. */
struct session_load {
	const char *dir;
	const char *cache_dir;
	bool bodies;
	struct migration_set *files;
	dbmigrate_error err;
	dbmigrate_code rc;
	atomic_int *failed; /* set on failure, so that connecting stops */
};

/* Thread body: migrator_load(). */
static void *migrator_load_thread(void *arg)
{
	struct session_load *l = arg;

	l->rc = migrator_load(l->dir, l->cache_dir, l->bodies, l->files, &l->err);
	if (l->rc != DBMIGRATE_OK)
		atomic_store(l->failed, 1);
	return NULL;
}

/*
 * Load the files and connect at the same time: the files on a thread of
 * the session's own, while this thread opens the connection (a server
 * starting a session and checking a password takes about as long as
 * reading ten thousand files) and, when rows is true (status: no lock
 * to take first), reads the tracking rows. The loading thread calls
 * nothing of the caller's (no events, no callbacks) and is joined
 * before anything runs, so callers see what they saw before: the
 * files' errors first (a failed load stops a connection that is still
 * being retried), and no migration run before every file was read and
 * checked. Without a thread (pthread_create failed) it is done one
 * after the other.
 *
 * The driver is loaded before the thread starts. Loading libpq maps two
 * dozen libraries, and while another thread of the process runs on the
 * other CPU, each mmap() and mprotect() of the loader costs a TLB
 * shootdown (an interrupt to that CPU, dear on virtual machines):
 * beside the loading thread, dlopen() took 17 ms instead of 10.
 */
static dbmigrate_code migrator_load_and_open(dbmigrate *m, struct session *s,
					     bool bodies, bool rows)
{
	struct session_load l = {
		.dir = config_dir(&m->cfg),
		.cache_dir = bodies ? NULL : config_cache_dir(&m->cfg),
		.bodies = bodies,
		.files = &s->files,
		.err = { .code = DBMIGRATE_OK },
		.failed = &m->files_failed,
	};
	dbmigrate_code rc;
	sigset_t all, old;
	pthread_t t;
	int made;

	atomic_store(&m->files_failed, 0);
	if ((rc = migrator_load_driver(m)) != DBMIGRATE_OK) {
		/* The files' error wins, as when they were read first. */
		dbmigrate_code frc = migrator_load(l.dir, l.cache_dir, bodies,
						   &s->files, &l.err);

		if (frc != DBMIGRATE_OK) {
			errors_move(&m->err, &l.err);
			return frc;
		}
		errors_clear(&l.err);
		return rc;
	}
	/* The thread takes no signals: the caller's, a CLI's SIGINT
	   handler for one, go to the thread that connects and runs. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	made = pthread_create(&t, NULL, migrator_load_thread, &l) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!made) {
		rc = migrator_load(l.dir, l.cache_dir, bodies, &s->files, &m->err);
		if (rc == DBMIGRATE_OK)
			rc = migrator_open(m);
		if (rc == DBMIGRATE_OK && rows)
			rc = migrator_read_rows(m, s, !bodies);
		return rc;
	}
	rc = migrator_open(m);
	if (rc == DBMIGRATE_OK && rows)
		rc = migrator_read_rows(m, s, !bodies);
	pthread_join(t, NULL);
	atomic_store(&m->files_failed, 0);
	if (l.rc != DBMIGRATE_OK) {
		/* The files' error wins, as when they were read first. */
		errors_move(&m->err, &l.err);
		return l.rc;
	}
	errors_clear(&l.err);
	return rc;
}

/* Take the runner lock, saying with -v what kind of lock the driver
   keeps runners apart with. */
static dbmigrate_code migrator_lock(dbmigrate *m)
{
	if (m->drv.vt->lock_kind != NULL && m->drv.vt->lock != NULL) {
		char msg[256];

		snprintf(msg, sizeof msg, "runner lock on \"%s\": %s",
			 config_table(&m->cfg), m->drv.vt->lock_kind);
		migrator_message(m, DBMIGRATE_EVENT_DEBUG, msg);
	}
	return driver_lock(&m->drv, config_table(&m->cfg),
			   config_lock_timeout(&m->cfg));
}

/*
 * Load files and connect, optionally lock, read the plan. Without bodies
 * (status), files the status cache knows unchanged are not read: their
 * migrations hold a checksum and flags only (cache_load_status()).
 */
static dbmigrate_code migrator_begin_session(dbmigrate *m, struct session *s,
					     bool lock, bool bodies)
{
	dbmigrate_code rc;

	memset(s, 0, sizeof *s);
	/* Without a lock to take first, the rows are read while the files
	   load; with one, only once the lock is held. */
	rc = migrator_load_and_open(m, s, bodies, !lock);
	if (rc == DBMIGRATE_OK && lock) {
		rc = migrator_lock(m);
		s->locked = rc == DBMIGRATE_OK;
		if (rc == DBMIGRATE_OK)
			rc = migrator_read_rows(m, s, false);
	}
	if (rc == DBMIGRATE_OK)
		rc = plan_build(&s->files, &s->rows, &s->plan, &m->err);
	return rc;
}

/* Fill a public entry from a plan item (pointing at its strings). */
static void migrator_entry(const struct plan_item *it, dbmigrate_entry *e)
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

/* The label of a plan item: "001_name". */
static const char *migrator_label(const struct plan_item *it)
{
	return it->mig != NULL ? it->mig->label : it->row->label;
}

/* Point err at byte offset off of body b of mig (its migration too). */
static void migrator_locate(dbmigrate_error *err, const struct migration *mig,
			    const struct migration_body *b, size_t off)
{
	errors_migration(err, mig->label);
	migration_locate(err, mig, b, off);
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
static dbmigrate_code migrator_stored_down(dbmigrate *m, struct run_item *r)
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
static dbmigrate_code migrator_directives(dbmigrate *m, struct migration *mig,
					  struct migration_body *b,
					  double *statement_timeout,
					  double *lock_timeout)
{
	struct directive d;
	size_t pos = 0;

	while (directive_next(b->sql, b->len, &pos, &d)) {
		double *target = NULL, secs;
		char value[64];

		if (strcmp(d.word, "statement-timeout") == 0)
			target = statement_timeout;
		else if (strcmp(d.word, "lock-timeout") == 0)
			target = lock_timeout;
		else
			continue;
		if (d.value_len >= sizeof value || d.trailing ||
		    (memcpy(value, d.value, d.value_len), value[d.value_len] = '\0',
		     config_parse_duration(value, &secs) != 0)) {
			errors_set(&m->err, DBMIGRATE_EFILES,
				   "invalid dbmigrate:%s directive in %s",
				   d.word, mig->label);
			errors_hint(&m->err, "Write it as a line of its own, e.g. `-- dbmigrate:%s 30s`: a number of seconds, or a number with the unit ms, s or min.",
				    d.word);
			migrator_locate(&m->err, mig, b, d.offset);
			return DBMIGRATE_EFILES;
		}
		*target = secs;
	}
	return DBMIGRATE_OK;
}

/* The limits for item r: its directives, else the options. */
static dbmigrate_code migrator_limits(dbmigrate *m, struct run_item *r,
				      struct migration *mig,
				      struct migration_body *b)
{
	double st = MIGRATOR_UNSET, lt = MIGRATOR_UNSET;
	int retries = config_lock_retries(&m->cfg);
	dbmigrate_code rc = migrator_directives(m, mig, b, &st, &lt);

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
static void run_items_free(struct run_item *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		run_item_free(&v[i]);
	free(v);
}

/* The reason the driver gave for the first statement of r to run whose
   flags hold all of want. */
static const char *migrator_reason(const struct run_item *r, unsigned want)
{
	for (size_t i = r->first; i < r->first + r->count; i++)
		if ((r->sp.v[i].cls.flags & want) == want)
			return r->sp.v[i].cls.reason;
	return NULL;
}

/* True when statement i of r is a setting that may run just before or
   after the migration's own transaction. */
static bool migrator_edge(const struct run_item *r, size_t i)
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
static void migrator_plan_item(const dbmigrate *m, struct run_item *r)
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
		r->reason = migrator_reason(r, DBMIGRATE_STMT_IMPLICIT_COMMIT);
		return;
	}
	if (!(flags & DBMIGRATE_STMT_NO_TRANSACTION))
		return;
	while (lo + pre < hi && migrator_edge(r, lo + pre))
		pre++;
	while (hi - post > lo + pre && migrator_edge(r, hi - 1 - post))
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
		r->reason = migrator_reason(r, DBMIGRATE_STMT_NO_TRANSACTION |
						       DBMIGRATE_STMT_EDGE);
		return;
	}
	r->outside = true;
	r->journal = !tx_ddl;
	r->reason = migrator_reason(r, DBMIGRATE_STMT_NO_TRANSACTION);
}

/*
 * Read the limits of one body, split it into statements as the driver
 * does, unwrap a BEGIN/COMMIT wrapper and refuse other transaction
 * control (split_body()), and decide how it runs.
 */
static dbmigrate_code migrator_prepare(dbmigrate *m, struct run_item *r,
				       struct migration *mig,
				       struct migration_body *b)
{
	dbmigrate_code rc;

	r->body = b;
	r->mig = mig;
	if (migrator_limits(m, r, mig, b) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	rc = split_body(&m->drv, &m->host, mig, b, &r->sp, &m->err);
	if (rc != DBMIGRATE_OK)
		return rc;
	r->first = r->sp.first;
	r->count = r->sp.count;
	migrator_plan_item(m, r);
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
 * statement. migrator_unterminate() puts the bytes back before anything
 * reads the text again (error locations quote source lines).
 */
static void migrator_terminate(struct run_item *r)
{
	for (size_t i = 0; i < r->count; i++) {
		char *end = r->body->sql + r->sp.v[r->first + i].offset +
			    r->sp.v[r->first + i].len;

		r->saved[i] = *end;
		*end = '\0';
	}
}

/* Undo migrator_terminate(). */
static void migrator_unterminate(struct run_item *r)
{
	for (size_t i = 0; i < r->count; i++)
		r->body->sql[r->sp.v[r->first + i].offset +
			     r->sp.v[r->first + i].len] = r->saved[i];
}

/* True when item it can be rolled back: a down in its file, or one the
   tracking table kept. */
static bool migrator_has_down(const struct plan_item *it)
{
	return (it->mig != NULL && it->mig->down.present) ||
	       (it->row != NULL && it->row->down_sql != NULL);
}

/*
 * Prepare the selected items for one direction into v[0..n) (zeroed);
 * refuse unrunnable ones. A down comes from the file, else from the
 * tracking table when it kept one (a warning says so).
 */
static dbmigrate_code migrator_prepare_items(dbmigrate *m, struct session *s,
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
		if (down && !migrator_has_down(it)) {
			/* Only a row without a checksum is known to come
			   from an older tool, one that kept no downs. */
			strbuf_printf(&missing, "%s%s (%s)", nmissing ? ", " : "",
				      migrator_label(it),
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
			rc = migrator_prepare(m, &v[i], mig, &mig->up);
		} else if (mig != NULL && mig->down.present) {
			rc = migrator_prepare(m, &v[i], mig, &mig->down);
		} else {
			rc = migrator_stored_down(m, &v[i]);
			if (rc == DBMIGRATE_OK)
				rc = migrator_prepare(m, &v[i], &v[i].stored,
						      &v[i].stored.down);
			if (rc == DBMIGRATE_OK)
				migrator_warn(m, "%s: %s; its down runs from the SQL the tracking table kept when it was applied",
					      migrator_label(v[i].it),
					      mig == NULL ? "its file is gone" : "its file has no down section");
		}
	}
	return rc;
}

/* Prepare the selected items for one direction; refuse unrunnable ones. */
static dbmigrate_code migrator_prepare_all(dbmigrate *m, struct session *s,
					   const size_t *idx, size_t n,
					   bool down, struct run_item **out)
{
	struct run_item *v = calloc(n + 1, sizeof *v);

	*out = v;
	if (v == NULL)
		return errors_nomem(&m->err);
	return migrator_prepare_items(m, s, idx, n, down, v);
}

/* How a run commits; what migrator_execute and its failures need. */
struct run_mode {
	int batch;          /* of the migrations applied */
	bool per_migration; /* each migration commits on its own */
};

/* What a failure of item r, which cannot roll back, left: its
   statements before failed_stmt ran and its row says so. */
static void migrator_explain_journal(const struct run_item *r,
				     size_t failed_stmt, struct strbuf *b)
{
	const char *label = migrator_label(r->it);
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
static void migrator_explain_own(const struct run_item *r, size_t failed_stmt,
				 struct strbuf *b)
{
	const char *label = migrator_label(r->it);

	if (failed_stmt != DBMIGRATE_NO_STATEMENT && failed_stmt >= r->count - r->post)
		strbuf_printf(b, "%s was %s and recorded; a setting after its transaction failed, so this connection may keep the setting before it.",
			      label, r->down ? "rolled back" : "applied");
	else
		strbuf_printf(b, "%s runs in a transaction of its own, which was rolled back: nothing of it was %s or recorded.",
			      label, r->down ? "rolled back" : "applied");
}

/* Add to m->err's detail what happened to the rest of the batch. */
static void migrator_explain_failure(dbmigrate *m, const struct run_item *r,
				     size_t failed_stmt, size_t committed,
				     size_t rolled_back,
				     const struct run_mode *mode)
{
	struct strbuf b = STRBUF_INIT;
	const char *verb = r->down ? "rolled back" : "applied";

	if (m->err.detail != NULL)
		strbuf_printf(&b, "%s\n", m->err.detail);
	if (r->journal) {
		migrator_explain_journal(r, failed_stmt, &b);
	} else if (r->own_tx) {
		migrator_explain_own(r, failed_stmt, &b);
	} else if (r->outside) {
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
static void migrator_locate_failure(dbmigrate *m, const struct run_item *r)
{
	size_t k = m->drv_statement;

	if (k == DBMIGRATE_NO_STATEMENT || k >= r->count) {
		errors_migration(&m->err, migrator_label(r->it));
		if (r->mig != NULL)
			errors_location(&m->err, r->body->path, 0, 0, NULL, 0);
		return;
	}
	{
		const struct split_stmt *st = &r->sp.v[r->first + k];
		size_t off = migrator_char_offset(r->body->sql + st->offset,
						  st->len, m->drv_position);

		migrator_locate(&m->err, r->mig, r->body, st->offset + off);
	}
}

/* Emit PLAN events for every item. */
static void migrator_emit_plan(dbmigrate *m, const struct run_item *v, size_t n,
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

		migrator_entry(v[i].it, &e);
		if (v[i].down)
			ev.batch = v[i].it->row->batch;
		migrator_emit(m, &ev);
	}
}

/* Give the driver the limits of the next migration, when they changed. */
static dbmigrate_code migrator_configure(dbmigrate *m,
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
static void migrator_row(const struct run_item *r, int batch,
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
static const char *migrator_unrecord_id(const struct run_item *r)
{
	if (r->down || r->it->outdated)
		return r->it->row->id;
	return NULL;
}

/* Make the driver's failure rc in item r the session's error. */
static dbmigrate_code migrator_apply_failed(dbmigrate *m,
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
	migrator_locate_failure(m, r);
	return rc;
}

/* Emit kind (START or DONE) for item r. */
static void migrator_emit_item(dbmigrate *m, const struct run_item *r,
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

	migrator_entry(r->it, &e);
	migrator_emit(m, &ev);
}

/* Run statements [from, to) of item r with one apply() (record and
   unrecord as apply() takes them); a failure's statement index is made
   one of r's. */
static dbmigrate_code migrator_apply_range(dbmigrate *m, struct run_item *r,
					   size_t from, size_t to,
					   const struct dbmigrate_row *record,
					   const char *unrecord)
{
	dbmigrate_code rc;

	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	m->drv_position = 0;
	migrator_terminate(r);
	rc = m->drv.vt->apply(m->drv.conn, config_table(&m->cfg), r->stmts + from,
			      to - from, record, unrecord);
	migrator_unterminate(r);
	if (rc != DBMIGRATE_OK && m->drv_statement != DBMIGRATE_NO_STATEMENT)
		m->drv_statement += from;
	return rc;
}

/* Run one item: events around driver apply(). */
static dbmigrate_code migrator_apply(dbmigrate *m, struct run_item *r, int batch)
{
	struct dbmigrate_row row;
	double t0 = migrator_now();
	dbmigrate_code rc;

	migrator_emit_item(m, r, DBMIGRATE_EVENT_START, batch, 0, 1);
	if (m->interrupted)
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	m->drv_position = 0;
	migrator_row(r, batch, &row);
	rc = migrator_configure(m, &r->limits);
	if (rc == DBMIGRATE_OK)
		rc = migrator_apply_range(m, r, 0, r->count, r->down ? NULL : &row,
					  migrator_unrecord_id(r));
	if (rc != DBMIGRATE_OK)
		return migrator_apply_failed(m, r, rc);
	migrator_emit_item(m, r, DBMIGRATE_EVENT_DONE, batch,
			   migrator_now() - t0, 1);
	return DBMIGRATE_OK;
}

/* Bytes of SQL item r sends. */
static size_t migrator_item_bytes(const struct run_item *r)
{
	size_t n = 0;

	for (size_t k = 0; k < r->count; k++)
		n += r->stmts[k].len;
	return n;
}

/* True when items a and b run under the same limits. */
static bool migrator_same_limits(const struct run_item *a,
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
static size_t migrator_group(const dbmigrate *m, const struct run_item *v,
			     size_t n)
{
	size_t k = 0, bytes = 0;

	if (m->drv.vt->apply_batch == NULL)
		return 1;
	while (k < n && k < MIGRATOR_GROUP_MAX) {
		size_t b = migrator_item_bytes(&v[k]);

		if (b > MIGRATOR_GROUP_ITEM || bytes + b > MIGRATOR_GROUP_BYTES ||
		    !migrator_same_limits(&v[0], &v[k]))
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
static dbmigrate_code migrator_apply_group(dbmigrate *m, struct run_item *v,
					   size_t n, int batch, size_t *failed)
{
	struct dbmigrate_batch_item *items = calloc(n, sizeof *items);
	struct dbmigrate_row *rows = calloc(n, sizeof *rows);
	double t0 = migrator_now(), took;
	size_t bad = n;
	dbmigrate_code rc;

	*failed = 0;
	if (items == NULL || rows == NULL) {
		free(items);
		free(rows);
		return errors_nomem(&m->err);
	}
	for (size_t k = 0; k < n; k++)
		migrator_emit_item(m, &v[k], DBMIGRATE_EVENT_START, batch, 0, n);
	if (m->interrupted) {
		free(items);
		free(rows);
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	}
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	m->drv_position = 0;
	for (size_t k = 0; k < n; k++) {
		migrator_row(&v[k], batch, &rows[k]);
		items[k].stmts = v[k].stmts;
		items[k].n = v[k].count;
		items[k].record = v[k].down ? NULL : &rows[k];
		items[k].unrecord_id = migrator_unrecord_id(&v[k]);
	}
	rc = migrator_configure(m, &v[0].limits);
	if (rc == DBMIGRATE_OK) {
		for (size_t k = 0; k < n; k++)
			migrator_terminate(&v[k]);
		rc = m->drv.vt->apply_batch(m->drv.conn,
						     config_table(&m->cfg),
						     items, n, &bad);
		for (size_t k = 0; k < n; k++)
			migrator_unterminate(&v[k]);
	}
	free(items);
	free(rows);
	took = migrator_now() - t0;
	if (rc == DBMIGRATE_OK)
		bad = n;
	else if (bad >= n)
		bad = 0; /* the driver did not say: before the first */
	for (size_t k = 0; k < bad; k++)
		migrator_emit_item(m, &v[k], DBMIGRATE_EVENT_DONE, batch, took, n);
	if (rc == DBMIGRATE_OK)
		return DBMIGRATE_OK;
	*failed = bad;
	return migrator_apply_failed(m, &v[bad], rc);
}

/* The tracking row item r had or gets, for record_progress(): the new
   row of an up, the existing row of a down. */
static void migrator_journal_row(const struct run_item *r, int batch,
				 struct dbmigrate_row *row)
{
	const struct applied *a = r->it->row;

	if (!r->down) {
		migrator_row(r, batch, row);
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
static dbmigrate_code migrator_record_progress(dbmigrate *m,
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
static void migrator_journal_undo(dbmigrate *m, const struct run_item *r,
				  struct dbmigrate_row *row)
{
	dbmigrate_error saved = { .code = DBMIGRATE_OK };

	errors_move(&saved, &m->err);
	if (r->down)
		migrator_record_progress(m, r, row, SIZE_MAX);
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
static dbmigrate_code migrator_apply_journaled(dbmigrate *m,
					       struct run_item *r, int batch)
{
	struct dbmigrate_row row;
	double t0 = migrator_now();
	size_t k = 0;
	dbmigrate_code rc;

	migrator_emit_item(m, r, DBMIGRATE_EVENT_START, batch, 0, 1);
	if (m->interrupted)
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	migrator_journal_row(r, batch, &row);
	rc = migrator_configure(m, &r->limits);
	if (rc == DBMIGRATE_OK)
		rc = migrator_record_progress(m, r, &row, 0);
	for (; rc == DBMIGRATE_OK && k < r->count; k++) {
		if (m->interrupted) {
			rc = errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
			m->drv_statement = k;
			break;
		}
		rc = migrator_apply_range(m, r, k, k + 1, NULL, NULL);
		if (rc != DBMIGRATE_OK) {
			m->drv_statement = k;
			break;
		}
		rc = migrator_record_progress(m, r, &row, k + 1);
	}
	if (rc == DBMIGRATE_OK)
		rc = r->down ? migrator_apply_range(m, r, 0, 0, NULL, row.id)
			     : migrator_record_progress(m, r, &row, SIZE_MAX);
	if (rc != DBMIGRATE_OK) {
		if (k == 0 && m->drv_statement == 0 && rc == DBMIGRATE_EMIGRATION)
			migrator_journal_undo(m, r, &row);
		return migrator_apply_failed(m, r, rc);
	}
	migrator_emit_item(m, r, DBMIGRATE_EVENT_DONE, batch,
			   migrator_now() - t0, 1);
	return DBMIGRATE_OK;
}

/*
 * Run item r in a transaction of its own, its first r->pre statements
 * (settings a transaction would ignore, such as SQLite's PRAGMA
 * foreign_keys) just before it and its last r->post just after it.
 */
static dbmigrate_code migrator_apply_own(dbmigrate *m, struct run_item *r,
					 int batch)
{
	struct dbmigrate_row row;
	double t0 = migrator_now();
	size_t mid = r->count - r->post;
	dbmigrate_code rc;

	migrator_emit_item(m, r, DBMIGRATE_EVENT_START, batch, 0, 1);
	if (m->interrupted)
		return errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	migrator_row(r, batch, &row);
	rc = migrator_configure(m, &r->limits);
	if (rc == DBMIGRATE_OK && r->pre > 0)
		rc = migrator_apply_range(m, r, 0, r->pre, NULL, NULL);
	if (rc == DBMIGRATE_OK)
		rc = m->drv.vt->begin(m->drv.conn);
	if (rc == DBMIGRATE_OK) {
		rc = migrator_apply_range(m, r, r->pre, mid,
					  r->down ? NULL : &row,
					  migrator_unrecord_id(r));
		if (rc == DBMIGRATE_OK && m->interrupted)
			rc = errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
		if (rc == DBMIGRATE_OK)
			rc = m->drv.vt->commit(m->drv.conn);
		if (rc != DBMIGRATE_OK)
			migrator_cleanup_rollback(m);
	}
	if (rc == DBMIGRATE_OK && r->post > 0)
		rc = migrator_apply_range(m, r, mid, r->count, NULL, NULL);
	if (rc != DBMIGRATE_OK)
		return migrator_apply_failed(m, r, rc);
	migrator_emit_item(m, r, DBMIGRATE_EVENT_DONE, batch,
			   migrator_now() - t0, 1);
	return DBMIGRATE_OK;
}

/* True when item j ends the transaction that started at item i. */
static bool migrator_tx_ends(const struct run_item *v, size_t i, size_t j,
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
static dbmigrate_code migrator_execute(dbmigrate *m, struct run_item *v,
				       size_t n, const struct run_mode *mode)
{
	size_t committed = 0;

	for (size_t i = 0; i < n;) {
		dbmigrate_code rc;
		double t0 = migrator_now();
		size_t j = i, end = i;

		if (v[i].outside || v[i].own_tx) {
			if (v[i].journal)
				rc = migrator_apply_journaled(m, &v[i], mode->batch);
			else if (v[i].own_tx)
				rc = migrator_apply_own(m, &v[i], mode->batch);
			else
				rc = migrator_apply(m, &v[i], mode->batch);
			if (rc != DBMIGRATE_OK) {
				migrator_explain_failure(m, &v[i], m->drv_statement,
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
		while (end < n && !migrator_tx_ends(v, i, end, mode))
			end++;
		while (j < end) {
			size_t g = migrator_group(m, &v[j], end - j), bad = 0;

			if (g > 1)
				rc = migrator_apply_group(m, &v[j], g, mode->batch,
							  &bad);
			else
				rc = migrator_apply(m, &v[j], mode->batch);
			if (rc != DBMIGRATE_OK) {
				migrator_cleanup_rollback(m);
				migrator_explain_failure(m, &v[j + bad],
							 m->drv_statement,
							 committed, end - i, mode);
				return rc;
			}
			j += g;
		}
		if (m->interrupted) {
			migrator_cleanup_rollback(m);
			errors_set(&m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
			migrator_explain_failure(m, &v[j - 1], DBMIGRATE_NO_STATEMENT,
						 committed, j - i, mode);
			return DBMIGRATE_EINTERRUPTED;
		}
		rc = m->drv.vt->commit(m->drv.conn);
		if (rc != DBMIGRATE_OK) {
			migrator_cleanup_rollback(m);
			return rc;
		}
		{
			dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_COMMIT,
					       .batch = mode->batch, .count = j - i,
					       .down = v[i].down,
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
			migrator_warn(m, "%zu migrations will run in one transaction; a transaction this large can exhaust the server's lock table (%s). If it fails so, use --step to apply them in smaller batches, or --transaction per-migration.",
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
			      n > 0 ? ", " : "", migrator_label(it),
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
	migrator_emit(m, &ev);
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
			migrator_warn(m, "%s is a repeatable migration, which has no undo: what it made stays in the database",
				      it->row->label);
		else if (n > 0 && it->row->batch >= oldest)
			migrator_warn(m, "%s stays applied: a repeatable migration has no undo (it runs again when its file changes)",
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
		rc = migrator_begin_session(m, &s, true, true);
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
	rc = migrator_prepare_all(m, &s, idx, n, down, &items);
	if (rc != DBMIGRATE_OK)
		goto out;
	migrator_warn_drift(m, &s.plan);
	if (down)
		migrator_warn_repeatables(m, &s.plan, items, n, reset);
	for (size_t i = 0; !down && i < n; i++)
		if (items[i].it->out_of_order)
			migrator_warn(m, "%s is numbered below the newest applied migration; it runs now, out of order",
				      migrator_label(items[i].it));
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
	migrator_emit_plan(m, items, n, mode.batch);
	if (o->dry_run)
		goto out;
	rc = migrator_execute(m, items, n, &mode);
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
	migrator_cleanup_rollback(m);
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
	rc = migrator_begin_session(m, &s, true, true);
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
				"%s is already applied (batch %d)", migrator_label(it),
				it->row->batch);
		errors_hint(&m->err, "To record it again, mark it pending first; to re-record a changed file's checksum, use `dbmigrate repair`.");
		goto out;
	}
	if (!applied && it->row == NULL) {
		rc = errors_set(&m->err, DBMIGRATE_EUSAGE,
				"%s is not applied: it is already pending", migrator_label(it));
		goto out;
	}
	migrator_entry(it, &e);
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
	migrator_emit(m, &ev);
	if (!o->dry_run)
		rc = migrator_write_rows(m, rows, unrecord, 1);
out:
	migrator_unlock(m, &s);
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
	rc = migrator_begin_session(m, &s, true, true);
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
	migrator_unlock(m, &s);
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
		rc = migrator_begin_session(m, &s, true, true);
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
		strbuf_printf(&gone, "%s%s", ngone ? ", " : "", migrator_label(it));
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
	rc = migrator_prepare_items(m, &s, idx, n, true, items);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < n; i++) {
		size_t k = n - 1 - i;
		size_t one = idx[k];

		rc = migrator_prepare_items(m, &s, &one, 1, false, &items[n + i]);
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
			migrator_warn(m, "redo runs in two steps: a migration involved runs outside a transaction, so the rollback of %zu migration%s commits before %s applied again",
				      n, n == 1 ? "" : "s", n == 1 ? "it is" : "they are");
	}
	migrator_warn_drift(m, &s.plan);
	if (n > 0 && !o->dry_run) {
		rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
		if (rc != DBMIGRATE_OK)
			goto out;
	}
	migrator_note_ddl(m, n);
	migrator_emit_plan(m, items, 2 * n, mode.batch);
	if (o->dry_run)
		goto out;
	rc = migrator_execute(m, items, 2 * n, &mode);
out:
	strbuf_free(&gone);
	migrator_unlock(m, &s);
	run_items_free(items, 2 * n);
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
	rc = migrator_begin_session(m, &s, true, true);
	ic = (struct import_ctx){ &m->drv, &s.plan, &m->err };
	if (rc == DBMIGRATE_OK)
		rc = import_read(&ic, t, &ip);
	if (rc != DBMIGRATE_OK)
		goto out;
	batch = s.plan.max_batch + 1;
	for (size_t i = 0; i < ip.nwarnings; i++)
		migrator_message(m, DBMIGRATE_EVENT_WARNING, ip.warnings[i]);
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
		migrator_emit(m, &ev);
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
	migrator_unlock(m, &s);
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
		rc = migrator_open(m);
	if (rc == DBMIGRATE_OK) {
		rc = migrator_lock(m);
		s.locked = rc == DBMIGRATE_OK;
	}
	/* Another tool's table given as --table is never altered. */
	if (rc == DBMIGRATE_OK)
		rc = import_check_tracking_table(&m->drv, config_table(&m->cfg),
						 &m->err);
	if (rc == DBMIGRATE_OK)
		rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
	migrator_unlock(m, &s);
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

		migrator_entry(&p->v[i], e);
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
		migrator_entry(&s->plan.v[i], &r->v[i]);
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
	rc = migrator_begin_session(m, &s, false, false);
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
	rc = migrator_load_files(m, &s);
	/* The driver splits the statements, which needs no connection. */
	if (rc == DBMIGRATE_OK)
		rc = migrator_load_driver(m);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < s.files.n; i++) {
		struct migration *mig = &s.files.v[i];
		struct run_item r = { 0 };

		rc = migrator_prepare(m, &r, mig, &mig->up);
		run_item_free(&r);
		if (rc == DBMIGRATE_OK && mig->down.present) {
			memset(&r, 0, sizeof r);
			rc = migrator_prepare(m, &r, mig, &mig->down);
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
	if (r->session != NULL) {
		session_free(r->session);
		free(r->session);
	}
	free(r->strings);
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
