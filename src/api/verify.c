/*
 * verify.c - `dbmigrate verify`: prove on a scratch database that every
 * migration's down reverses its up.
 *
 * The migrations run through dbmigrate_migrate() and dbmigrate_rollback()
 * one step at a time, with the handle's connection swapped for the
 * scratch one, so each is applied exactly as `up` and `down` apply it
 * (statement splitting, BEGIN/COMMIT unwrapping, statements that must
 * run outside a transaction, tracking rows). Between steps the driver's
 * snapshot() describes the schema as text lines; verify.c compares them:
 *
 *   S0 (empty)  up 1  S1  up 2  S2 ... Sn          first pass
 *   down n == S(n-1) ... down 1 == S0               every down
 *   up 1 == S1 ... up n == Sn                       applied again
 *
 * The configured database is only the way to the server: the scratch
 * database is created there and dropped at the end, and nothing runs on
 * the configured one. With a scratch URL, the configured connection is
 * not used at all.
 */
#include "handle.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "migration.h"
#include "strbuf.h"
#include "url.h"

/* Snapshot lines shown when a given scratch database is not empty. */
#define VERIFY_SHOWN_LINES 5

/* One snapshot: the schema as sorted lines. */
struct verify_snap {
	char **v;
	size_t n;
	size_t cap;
	bool nomem;
};

/* The state of one run. */
struct verify {
	dbmigrate *m;
	struct migration_set files;
	struct verify_snap *snaps; /* files.n + 1: before any up, after each */
	dbmigrate_verify_result *res;
	dbmigrate_event_fn user_fn; /* the caller's callback, restored after */
	void *user_ctx;
	bool mute;                  /* swallow START too (the final reset) */
	bool outside;               /* the running step's START said so */
	const char *reason;
};

/* Seconds on the monotonic clock. */
static double verify_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Free a snapshot's lines. */
static void verify_snap_free(struct verify_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* snapshot() callback: keep a copy of the line. */
static int verify_collect(void *ctx, const char *line)
{
	struct verify_snap *s = ctx;
	char *d;

	if (s->n == s->cap) {
		size_t cap = s->cap != 0 ? 2 * s->cap : 64;
		char **v = realloc(s->v, cap * sizeof *v);

		if (v == NULL) {
			s->nomem = true;
			return 1;
		}
		s->v = v;
		s->cap = cap;
	}
	if ((d = strdup(line)) == NULL) {
		s->nomem = true;
		return 1;
	}
	s->v[s->n++] = d;
	return 0;
}

/* qsort comparator for lines. */
static int verify_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Describe the schema of the scratch connection into s, sorted. */
static dbmigrate_code verify_snapshot(dbmigrate *m, struct verify_snap *s)
{
	dbmigrate_code rc;

	verify_snap_free(s);
	rc = driver_snapshot(&m->drv, config_table(&m->cfg), verify_collect, s,
			     &m->err);
	if (rc == DBMIGRATE_OK && s->nomem)
		rc = errors_nomem(&m->err);
	if (rc != DBMIGRATE_OK) {
		if (m->err.code == DBMIGRATE_OK)
			errors_set(&m->err, rc, "driver %s could not describe the schema",
				   m->drv.vt->name);
		return rc;
	}
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, verify_cmp);
	return DBMIGRATE_OK;
}

/*
 * Compare found with expected. Returns the number of differing lines
 * and, when there are any, sets *diff (to free) to them: "- " before a
 * line expected but missing, "+ " before a line found but not expected,
 * in the lines' order so that the two versions of an object sit
 * together. *missing and *extra count each side.
 */
static size_t verify_diff(const struct verify_snap *expected,
			  const struct verify_snap *found, char **diff,
			  size_t *missing, size_t *extra)
{
	struct strbuf b = STRBUF_INIT;
	size_t i = 0, j = 0;

	*diff = NULL;
	*missing = *extra = 0;
	while (i < expected->n || j < found->n) {
		int c;

		if (i == expected->n)
			c = 1;
		else if (j == found->n)
			c = -1;
		else
			c = strcmp(expected->v[i], found->v[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			strbuf_printf(&b, "- %s\n", expected->v[i++]);
			(*missing)++;
		} else {
			strbuf_printf(&b, "+ %s\n", found->v[j++]);
			(*extra)++;
		}
	}
	if (*missing + *extra > 0)
		*diff = strbuf_failed(&b) ? strdup("(out of memory)\n") : strbuf_steal(&b);
	strbuf_free(&b);
	return *missing + *extra;
}

/* A public entry for a migration of the directory, for events. */
static void verify_entry(const struct migration *mig, bool applied,
			 dbmigrate_entry *e)
{
	memset(e, 0, sizeof *e);
	e->id = mig->id;
	e->name = mig->name;
	e->file = mig->path;
	e->state = applied ? DBMIGRATE_EXECUTED : DBMIGRATE_PENDING;
	e->has_down = mig->down.present;
	e->no_transaction = mig->no_transaction;
	e->checksum = mig->checksum;
}

/* Send an event to the caller's callback. */
static void verify_emit(struct verify *v, const dbmigrate_event *ev)
{
	if (v->user_fn != NULL)
		v->user_fn(ev, v->user_ctx);
}

/* Emit a formatted event of kind (WARNING, DEBUG). */
static void verify_message(struct verify *v, dbmigrate_event_kind kind,
			   const char *fmt, ...) ERRORS_PRINTF(3, 4);

static void verify_message(struct verify *v, dbmigrate_event_kind kind,
			   const char *fmt, ...)
{
	dbmigrate_event ev = { .kind = kind };
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	ev.message = buf;
	verify_emit(v, &ev);
}

/*
 * The events of the inner up and down runs: their plan, DONE and COMMIT
 * are theirs (one migration each), not verify's, so they are dropped;
 * DONE comes from verify once the step's schema is checked. START goes
 * through, and says whether the step runs outside a transaction.
 */
static void verify_on_event(const dbmigrate_event *ev, void *ctx)
{
	struct verify *v = ctx;

	switch (ev->kind) {
	case DBMIGRATE_EVENT_PLAN:
	case DBMIGRATE_EVENT_DONE:
	case DBMIGRATE_EVENT_COMMIT:
		return;
	case DBMIGRATE_EVENT_START:
		v->outside = ev->outside_transaction;
		v->reason = ev->reason;
		if (v->mute)
			return;
		break;
	default:
		break;
	}
	verify_emit(v, ev);
}

/* Emit DONE for step mig (verified). */
static void verify_done(struct verify *v, const struct migration *mig,
			bool down, double seconds)
{
	dbmigrate_entry e;
	dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_DONE, .entry = &e,
			       .down = down, .seconds = seconds,
			       .outside_transaction = v->outside,
			       .reason = v->reason };

	verify_entry(mig, !down, &e);
	verify_emit(v, &ev);
}

/* Set the result's migration (and diff, taken) for a failed step. */
static dbmigrate_code verify_fault(struct verify *v, const struct migration *mig,
				   char *diff)
{
	free((void *)(uintptr_t)v->res->migration);
	free((void *)(uintptr_t)v->res->diff);
	v->res->migration = strdup(mig->label);
	v->res->diff = diff;
	if (v->res->migration == NULL)
		return errors_nomem(&v->m->err);
	return DBMIGRATE_OK;
}

/* Run one up (down false) or down step of the scratch database. */
static dbmigrate_code verify_step(struct verify *v, bool down)
{
	dbmigrate_run_options o = { .step = 1 };

	v->outside = false;
	v->reason = NULL;
	if (v->m->interrupted)
		return errors_set(&v->m->err, DBMIGRATE_EINTERRUPTED, "interrupted");
	return down ? dbmigrate_rollback(v->m, &o) : dbmigrate_migrate(v->m, &o);
}

/*
 * Report that the schema after a step differs from the one expected:
 * the error names the migration, the result holds the diff.
 */
static dbmigrate_code verify_mismatch(struct verify *v, const struct migration *mig,
				      bool down, char *diff, size_t missing,
				      size_t extra)
{
	dbmigrate_error *err = &v->m->err;
	dbmigrate_code rc = verify_fault(v, mig, diff);

	if (rc != DBMIGRATE_OK)
		return rc;
	if (down) {
		errors_set(err, DBMIGRATE_EMIGRATION, "%s: down does not reverse up",
			   mig->label);
		errors_detail(err, "After its down, the schema differs from the one before its up: %zu line%s the down left behind or changed (+), %zu missing (-).",
			      extra, extra == 1 ? "" : "s", missing);
		errors_hint(err, "Make the down section undo everything the up section does, in reverse order: drop what it creates, restore what it drops or alters.");
	} else {
		errors_set(err, DBMIGRATE_EMIGRATION,
			   "%s: up applied again after its down gives a different schema",
			   mig->label);
		errors_detail(err, "After its down and up ran once more, the schema differs from the one the first up made: %zu line%s more or changed (+), %zu missing (-).",
			      extra, extra == 1 ? "" : "s", missing);
		errors_hint(err, "Something the down leaves behind (data, a setting, an object the snapshot does not cover) changes what the up does; make the down undo it.");
	}
	errors_migration(err, mig->label);
	errors_location(err, mig->path, 0, 0, NULL, 0);
	return DBMIGRATE_EMIGRATION;
}

/* Apply every migration, keeping the snapshot after each. */
static dbmigrate_code verify_first_pass(struct verify *v)
{
	dbmigrate *m = v->m;
	dbmigrate_code rc;

	rc = m->drv.vt->ensure_table(m->drv.conn, config_table(&m->cfg));
	/* After the tracking table: creating it (and its schema) is not a
	   migration's doing. */
	if (rc == DBMIGRATE_OK)
		rc = verify_snapshot(m, &v->snaps[0]);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < v->files.n; i++) {
		double t0 = verify_now();

		rc = verify_step(v, false);
		if (rc != DBMIGRATE_OK) {
			verify_fault(v, &v->files.v[i], NULL);
			return rc;
		}
		rc = verify_snapshot(m, &v->snaps[i + 1]);
		if (rc == DBMIGRATE_OK)
			verify_done(v, &v->files.v[i], false, verify_now() - t0);
	}
	return rc;
}

/*
 * Roll back one at a time, newest first, comparing each result with the
 * snapshot before that up. Stops below a migration without a down
 * section. *lowest gets the index of the last migration rolled back.
 */
static dbmigrate_code verify_downs(struct verify *v, size_t *lowest)
{
	struct verify_snap now = { 0 };
	dbmigrate_code rc = DBMIGRATE_OK;

	*lowest = v->files.n;
	for (size_t i = v->files.n; rc == DBMIGRATE_OK && i-- > 0;) {
		const struct migration *mig = &v->files.v[i];
		double t0 = verify_now();
		size_t missing, extra;
		char *diff;

		if (!mig->down.present) {
			v->res->unverifiable = strdup(mig->label);
			if (v->res->unverifiable == NULL)
				rc = errors_nomem(&v->m->err);
			else if (i > 0)
				verify_message(v, DBMIGRATE_EVENT_WARNING,
					       "%s has no down section: it and the %zu migration%s below it cannot be rolled back, so their downs were not verified",
					       mig->label, i, i == 1 ? "" : "s");
			else
				verify_message(v, DBMIGRATE_EVENT_WARNING,
					       "%s has no down section, so it cannot be rolled back",
					       mig->label);
			break;
		}
		rc = verify_step(v, true);
		if (rc != DBMIGRATE_OK) {
			verify_fault(v, mig, NULL);
			break;
		}
		rc = verify_snapshot(v->m, &now);
		if (rc != DBMIGRATE_OK)
			break;
		if (verify_diff(&v->snaps[i], &now, &diff, &missing, &extra) > 0) {
			rc = verify_mismatch(v, mig, true, diff, missing, extra);
			break;
		}
		v->res->verified++;
		*lowest = i;
		verify_done(v, mig, true, verify_now() - t0);
	}
	verify_snap_free(&now);
	return rc;
}

/* Add to the error of an up that failed the second time why it may. */
static void verify_explain_again(dbmigrate *m)
{
	struct strbuf b = STRBUF_INIT;

	if (m->err.detail != NULL)
		strbuf_printf(&b, "%s\n", m->err.detail);
	strbuf_puts(&b, "It failed when applied again, after its down ran: the down leaves something behind that the schema snapshot does not show (a role, data, a setting), or the up depends on something the first pass changed.");
	if (!strbuf_failed(&b))
		errors_detail(&m->err, "%s", b.s);
	strbuf_free(&b);
}

/* Apply again what was rolled back, comparing with the first pass. */
static dbmigrate_code verify_again(struct verify *v, size_t lowest)
{
	struct verify_snap now = { 0 };
	dbmigrate_code rc = DBMIGRATE_OK;

	for (size_t i = lowest; rc == DBMIGRATE_OK && i < v->files.n; i++) {
		const struct migration *mig = &v->files.v[i];
		double t0 = verify_now();
		size_t missing, extra;
		char *diff;

		rc = verify_step(v, false);
		if (rc != DBMIGRATE_OK) {
			verify_fault(v, mig, NULL);
			if (rc != DBMIGRATE_EINTERRUPTED)
				verify_explain_again(v->m);
			break;
		}
		rc = verify_snapshot(v->m, &now);
		if (rc != DBMIGRATE_OK)
			break;
		if (verify_diff(&v->snaps[i + 1], &now, &diff, &missing, &extra) > 0) {
			rc = verify_mismatch(v, mig, false, diff, missing, extra);
			break;
		}
		verify_done(v, mig, false, verify_now() - t0);
	}
	verify_snap_free(&now);
	return rc;
}

/* Load and parse every migration file, before any database work. */
static dbmigrate_code verify_load(struct verify *v)
{
	dbmigrate *m = v->m;
	dbmigrate_code rc = discover_dir(config_dir(&m->cfg), &v->files, &m->err);

	if (rc == DBMIGRATE_OK)
		rc = migration_load_set(&v->files, NULL, &m->err);
	return rc;
}

/*
 * Refuse a given scratch database that holds anything: verify creates,
 * drops and rolls back there, which must never meet real data.
 */
static dbmigrate_code verify_check_empty(struct verify *v, const char *url)
{
	dbmigrate *m = v->m;
	const char *table = config_table(&m->cfg);
	struct verify_snap s = { 0 };
	struct strbuf b = STRBUF_INIT;
	char *shown = url_redact(url);
	dbmigrate_code rc;
	int exists = 0;

	rc = m->drv.vt->table_exists(m->drv.conn, table, &exists);
	if (rc == DBMIGRATE_OK)
		rc = verify_snapshot(m, &s);
	if (rc == DBMIGRATE_OK && (exists || s.n > 0)) {
		if (exists)
			strbuf_printf(&b, "It has a tracking table, %s", table);
		for (size_t i = 0; i < s.n && i < VERIFY_SHOWN_LINES; i++)
			strbuf_printf(&b, "%s%s", i == 0 && !exists ? "It holds: " : "; ",
				      s.v[i]);
		if (s.n > VERIFY_SHOWN_LINES)
			strbuf_printf(&b, "; and %zu more", s.n - VERIFY_SHOWN_LINES);
		rc = errors_set(&m->err, DBMIGRATE_EUSAGE,
				"scratch database %s is not empty",
				shown != NULL ? shown : "(given)");
		errors_detail(&m->err, "%s. verify applies and rolls back every migration there, so it only works in an empty database.",
			      strbuf_failed(&b) ? "It holds objects" : b.s);
		errors_hint(&m->err, "Give an empty database (one made with CREATE DATABASE for the purpose), or none: without a scratch URL (no --url), verify creates a database of its own on the server of DATABASE_URL and drops it at the end.");
	}
	strbuf_free(&b);
	verify_snap_free(&s);
	free(shown);
	return rc;
}

/* Connect m->drv to the given scratch database (m->drv is empty). */
static dbmigrate_code verify_open_url(dbmigrate *m, const char *url)
{
	struct dbmigrate_params p = { .struct_size = sizeof p };
	char buf[64];
	const char *name = m->cfg.value[CONFIG_DRIVER];
	dbmigrate_code rc;

	if (name == NULL)
		name = url_driver(url, buf, sizeof buf);
	if (name == NULL)
		name = config_driver(&m->cfg, m->driver_name, sizeof m->driver_name);
	rc = driver_load(name, &m->drv, &m->err);
	if (rc != DBMIGRATE_OK)
		return rc;
	p.url = url;
	p.application_name = m->cfg.value[CONFIG_APPLICATION_NAME];
	p.connect_timeout = config_connect_timeout(&m->cfg);
	m->interrupted = 0;
	return driver_open(&m->drv, &m->host, &p, &m->err);
}

/* Keep the error of the run while a clean-up step reports its own. */
static void verify_cleanup_error(dbmigrate *m, dbmigrate_error *saved,
				 dbmigrate_code rc, const char *what)
{
	if (rc == DBMIGRATE_OK || m->err.code == DBMIGRATE_OK) {
		errors_move(&m->err, saved);
		return;
	}
	if (saved->code != DBMIGRATE_OK) {
		/* The run's failure matters more; the clean-up's is news. */
		char msg[1024];

		snprintf(msg, sizeof msg, "%s: %s", what, m->err.message);
		errors_move(&m->err, saved);
		if (m->on_event != NULL) {
			dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_WARNING,
					       .message = msg };

			m->on_event(&ev, m->event_ctx);
		}
	} else {
		errors_clear(saved);
	}
}

/* The three passes, on the scratch database m->drv.conn now is. */
static dbmigrate_code verify_run(struct verify *v)
{
	dbmigrate_code rc;
	size_t lowest;

	v->snaps = calloc(v->files.n + 1, sizeof *v->snaps);
	if (v->snaps == NULL)
		return errors_nomem(&v->m->err);
	rc = verify_first_pass(v);
	if (rc == DBMIGRATE_OK)
		rc = verify_downs(v, &lowest);
	if (rc == DBMIGRATE_OK)
		rc = verify_again(v, lowest);
	return rc;
}

dbmigrate_code dbmigrate_verify(dbmigrate *m, const char *scratch_url,
				dbmigrate_verify_result **out)
{
	struct verify v = { .m = m };
	dbmigrate_error saved = { .code = DBMIGRATE_OK };
	struct driver real = { 0 };
	dbmigrate_conn *scratch = NULL;
	struct dbmigrate_settings sent = m->sent;
	bool settings_sent = m->settings_sent;
	dbmigrate_code rc;

	if (out != NULL)
		*out = NULL;
	errors_clear(&m->err);
	if (m->cfg.value[CONFIG_SCHEMA] != NULL) {
		/* The scratch database has none of the configured one's
		   schemas; migrations written for a schema of their own name
		   nothing of it, so they prove the same without it. */
		errors_set(&m->err, DBMIGRATE_EUSAGE,
			   "verify does not take a schema (schema \"%s\")",
			   m->cfg.value[CONFIG_SCHEMA]);
		errors_hint(&m->err, "Run verify without the schema (--schema, "
			    "DBMIGRATE_SCHEMA): the migrations' unqualified names "
			    "then land in the scratch database's default schema, "
			    "which proves the same of their downs.");
		return DBMIGRATE_EUSAGE;
	}
	rc = verify_load(&v);
	if (rc == DBMIGRATE_OK && (v.res = calloc(1, sizeof *v.res)) == NULL)
		rc = errors_nomem(&m->err);
	if (rc != DBMIGRATE_OK)
		goto out;
	v.res->total = v.files.n;
	v.user_fn = m->on_event;
	v.user_ctx = m->event_ctx;

	if (scratch_url != NULL) {
		/* The handle's own connection, if any, waits aside. */
		real = m->drv;
		memset(&m->drv, 0, sizeof m->drv);
		rc = verify_open_url(m, scratch_url);
		if (rc == DBMIGRATE_OK)
			rc = verify_check_empty(&v, scratch_url);
	} else {
		rc = dbmigrate_open(m);
		if (rc == DBMIGRATE_OK)
			rc = driver_scratch_open(&m->drv, &scratch, &m->err);
		if (rc != DBMIGRATE_OK && rc != DBMIGRATE_EINTERRUPTED &&
		    m->drv.conn != NULL && m->err.hint == NULL)
			errors_hint(&m->err, "Give verify an existing, empty database to work in instead (dbmigrate verify --url SCRATCH_URL), or let this user create databases.");
		if (rc == DBMIGRATE_OK) {
			real.conn = m->drv.conn;
			m->drv.conn = scratch;
		}
	}
	if (rc != DBMIGRATE_OK)
		goto restore;

	/* A new connection has the server's limits, not the handle's. */
	m->settings_sent = false;
	m->on_event = verify_on_event;
	m->event_ctx = &v;
	rc = verify_run(&v);

	errors_move(&saved, &m->err);
	if (scratch_url != NULL && rc == DBMIGRATE_OK) {
		/* Leave the database empty, as it was given, for the next
		   run; the verdict stands whatever happens here. */
		v.mute = true;
		if (dbmigrate_reset(m, NULL) != DBMIGRATE_OK)
			verify_message(&v, DBMIGRATE_EVENT_WARNING,
				       "the scratch database could not be emptied: %s",
				       dbmigrate_errmsg(m));
		errors_clear(&m->err);
	} else if (scratch_url != NULL && rc != DBMIGRATE_EINTERRUPTED) {
		verify_message(&v, DBMIGRATE_EVENT_WARNING,
			       "the scratch database was left as the failed step left it; empty it (or make a new one) before the next verify");
	}
	m->on_event = v.user_fn;
	m->event_ctx = v.user_ctx;
	if (scratch_url == NULL) {
		m->drv.conn = real.conn;
		real.conn = NULL;
		verify_cleanup_error(m, &saved, driver_scratch_close(&m->drv, scratch),
				     "the scratch database could not be dropped");
	} else {
		errors_move(&m->err, &saved);
	}
	rc = m->err.code;

restore:
	if (scratch_url != NULL) {
		driver_close(&m->drv);
		free(m->drv.path);
		m->drv = real;
	}
	m->sent = sent;
	m->settings_sent = settings_sent;
out:
	for (size_t i = 0; v.snaps != NULL && i <= v.files.n; i++)
		verify_snap_free(&v.snaps[i]);
	free(v.snaps);
	migration_set_free(&v.files);
	if (out != NULL && v.res != NULL && rc != DBMIGRATE_OK &&
	    v.res->migration == NULL && v.res->verified == 0 &&
	    v.res->unverifiable == NULL) {
		/* Nothing ran: there is no result to show. */
		dbmigrate_verify_free(v.res);
		v.res = NULL;
	}
	if (out != NULL)
		*out = v.res;
	else
		dbmigrate_verify_free(v.res);
	return rc;
}

void dbmigrate_verify_free(dbmigrate_verify_result *r)
{
	if (r == NULL)
		return;
	free((void *)(uintptr_t)r->migration);
	free((void *)(uintptr_t)r->diff);
	free((void *)(uintptr_t)r->unverifiable);
	free(r);
}
