/*
 * lint.c - `dbmigrate lint`: migrations checked for operations that
 * lock or rewrite big tables or break the running application, without
 * connecting to anything.
 *
 * The up section of each migration is split as the runner splits it
 * (split_body(): the driver's split and classify); each statement goes
 * to the driver's lint(), which knows its backend's SQL, and the
 * findings are filtered
 * here with what spans statements: a warning about an existing table is
 * dropped when the migration created that table itself, a warning of a
 * rule an earlier statement guards against (SQLite: PRAGMA
 * foreign_keys=OFF before a table rebuild's DROP TABLE), the lock-timeout
 * warning when a lock timeout is already set (and it is given once per
 * migration). The core adds the rules every backend shares: a migration
 * without a down section, and a statement that cannot run in a
 * transaction block written inside the migration's own BEGIN ... COMMIT.
 *
 * A comment "-- dbmigrate:lint-ignore RULE[,RULE...]" on the lines
 * directly above a statement, inside it, or after it on its last line
 * silences those rules for that statement: a reviewed exception stays
 * written next to the SQL it excuses.
 */
#include "lint.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "directive.h"
#include "errors.h"
#include "handle.h"
#include "split.h"
#include "strbuf.h"

/* A set of names, few enough to search in order. */
struct lint_names {
	char **v;
	size_t n;
	size_t cap;
};

/* The state of one up section being linted, shared with the driver's
   callback. */
struct lint_run {
	struct dbmigrate_lint_result *r;
	const struct migration *mig;
	const struct migration_body *b;
	const struct split_result *sp;
	size_t stmt;          /* index in sp of the statement linted */
	bool unwrapped;       /* and the runner drops that BEGIN ... COMMIT */
	struct lint_names created; /* tables created so far (normalised) */
	struct lint_names guarded; /* rules an earlier statement made safe */
	struct lint_names notes; /* "table\nnote" given by NOTES, borrowed
				    from the result for the migration */
	bool timeout_set;     /* a lock timeout bounds the statements now */
	bool timeout_done;    /* no-lock-timeout was considered already */
	bool nomem;
};

/* True for a byte that may continue a bare identifier. */
static bool lint_ident_byte(unsigned char c)
{
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* End of the quoted text opened at t[i] by q; with backslash escapes
   when esc (E'...'). A doubled quote stays inside. */
static size_t lint_skip_quoted(const char *t, size_t len, size_t i, char q,
			       bool esc)
{
	for (i++; i < len; i++) {
		if (esc && t[i] == '\\') {
			i++;
		} else if (t[i] == q) {
			if (i + 1 < len && t[i + 1] == q)
				i++;
			else
				return i + 1;
		}
	}
	return len;
}

/* End of the dollar-quoted string at t[i], or i when t[i] opens none. */
static size_t lint_skip_dollar(const char *t, size_t len, size_t i)
{
	size_t j = i + 1, taglen;

	if (i > 0 && lint_ident_byte((unsigned char)t[i - 1]))
		return i; /* a$b, $1 in an identifier or a parameter */
	if (j < len && t[j] >= '0' && t[j] <= '9')
		return i;
	while (j < len && t[j] != '$' && lint_ident_byte((unsigned char)t[j]))
		j++;
	if (j >= len || t[j] != '$')
		return i;
	taglen = j + 1 - i;
	for (j++; j + taglen <= len; j++)
		if (t[j] == '$' && memcmp(t + j, t + i, taglen) == 0)
			return j + taglen;
	return len;
}

/* End of the block comment at t[i] (they nest), or len. */
static size_t lint_skip_block(const char *t, size_t len, size_t i)
{
	int depth = 0;

	while (i + 1 < len) {
		if (t[i] == '/' && t[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (t[i] == '*' && t[i + 1] == '/') {
			i += 2;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return len;
}

/* True when the rule list that starts at p (to the end of the comment
   at end) names rule: RULE[, RULE...], then free text. */
static bool lint_list_names(const char *p, const char *end, const char *rule)
{
	size_t rlen = strlen(rule);

	for (;;) {
		const char *w;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		w = p;
		while (p < end && (lint_ident_byte((unsigned char)*p) ||
				   *p == '-') && *p != '$')
			p++;
		if (p == w)
			return false;
		if ((size_t)(p - w) == rlen && strncasecmp(w, rule, rlen) == 0)
			return true;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end || *p != ',')
			return false; /* the rest is a free comment */
		p++;
	}
}

/* True when the -- comment t[i, end) is a directive naming rule. */
static bool lint_directive_names(const char *t, size_t i, size_t end,
				 const char *rule)
{
	size_t klen = strlen(LINT_DIRECTIVE);

	for (i += 2; i < end && (t[i] == ' ' || t[i] == '\t'); i++)
		;
	if (end - i <= klen || strncasecmp(t + i, LINT_DIRECTIVE, klen) != 0 ||
	    (t[i + klen] != ' ' && t[i + klen] != '\t'))
		return false;
	return lint_list_names(t + i + klen, t + end, rule);
}

bool lint_silenced_in(const char *sql, size_t len, size_t from, size_t to,
		      const char *rule)
{
	size_t i = 0, end;

	while (i < len && i < to) {
		char c = sql[i];

		if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
			end = i + strcspn(sql + i, "\n");
			if (end > len)
				end = len;
			if (i >= from && lint_directive_names(sql, i, end, rule))
				return true;
			i = end;
		} else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
			i = lint_skip_block(sql, len, i);
		} else if (c == '\'') {
			bool esc = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
				   (i < 2 || !lint_ident_byte((unsigned char)sql[i - 2]));

			i = lint_skip_quoted(sql, len, i, '\'', esc);
		} else if (c == '"') {
			i = lint_skip_quoted(sql, len, i, '"', false);
		} else if (c == '$' && (end = lint_skip_dollar(sql, len, i)) != i) {
			i = end;
		} else {
			i++;
		}
	}
	return false;
}

/* The offset of the first newline at or after i in s, or len. */
static size_t lint_eol(const char *s, size_t len, size_t i)
{
	const char *nl = i < len ? memchr(s + i, '\n', len - i) : NULL;

	return nl != NULL ? (size_t)(nl - s) : len;
}

/*
 * True when a directive silences rule for statement k of the run: in
 * the comments between the line the previous statement ends on and the
 * statement, inside it, or after it on the line it ends on.
 */
static bool lint_silenced(const struct lint_run *run, size_t k,
			  const char *rule)
{
	const struct split_stmt *v = run->sp->v;
	const char *sql = run->b->sql;
	size_t len = run->b->len, from = 0, to;

	if (k > 0) {
		from = lint_eol(sql, len, v[k - 1].offset + v[k - 1].len);
		if (from > v[k].offset)
			from = v[k].offset;
	}
	to = lint_eol(sql, len, v[k].offset + v[k].len);
	if (k + 1 < run->sp->n && to > v[k + 1].offset)
		to = v[k + 1].offset;
	return lint_silenced_in(sql, len, from, to, rule);
}

/* Make room for one more warning; false when out of memory. */
static bool lint_grow(struct dbmigrate_lint_result *r)
{
	return array_grow(&r->v, &r->cap, r->n, sizeof *r->v, 16);
}

/* Free the strings of one warning. */
static void lint_warning_free(dbmigrate_lint_warning *w)
{
	free((void *)(uintptr_t)w->migration);
	free((void *)(uintptr_t)w->file);
	free((void *)(uintptr_t)w->source_line);
	free((void *)(uintptr_t)w->rule);
	free((void *)(uintptr_t)w->message);
	free((void *)(uintptr_t)w->hint);
}

/*
 * Append a warning located at loc (file, line, column, source line of
 * a dbmigrate_error filled by the location setters). False when out of
 * memory.
 */
static bool lint_add(struct dbmigrate_lint_result *r,
		     const struct migration *mig, const dbmigrate_error *loc,
		     const char *rule, const char *message, const char *hint)
{
	dbmigrate_lint_warning *w;
	bool fail = false;

	if (!lint_grow(r))
		return false;
	w = &r->v[r->n];
	memset(w, 0, sizeof *w);
	w->migration = str_dup(mig->label, &fail);
	w->file = str_dup(loc->file, &fail);
	w->line = loc->line;
	w->column = loc->column;
	w->source_line = str_dup(loc->source_line, &fail);
	w->rule = str_dup(rule, &fail);
	w->message = str_dup(message, &fail);
	w->hint = str_dup(hint, &fail);
	if (fail) {
		lint_warning_free(w);
		return false;
	}
	r->n++;
	return true;
}

/* Report rule at byte off of the run's body, for statement k, unless a
   directive silences it there. */
static void lint_warn(struct lint_run *run, size_t k, size_t off,
		      const char *rule, const char *message, const char *hint)
{
	dbmigrate_error loc = { .code = DBMIGRATE_OK };

	if (lint_silenced(run, k, rule)) {
		run->r->silenced++;
		return;
	}
	migration_locate(&loc, run->mig, run->b, off);
	if (!lint_add(run->r, run->mig, &loc, rule, message, hint))
		run->nomem = true;
	errors_clear(&loc);
}

/* True when names holds name. */
static bool lint_names_has(const struct lint_names *names, const char *name)
{
	for (size_t i = 0; i < names->n; i++)
		if (strcmp(names->v[i], name) == 0)
			return true;
	return false;
}

/* Add name to names (once); false when out of memory. */
static bool lint_names_add(struct lint_names *names, const char *name)
{
	char *copy;

	if (lint_names_has(names, name))
		return true;
	if (!array_grow(&names->v, &names->cap, names->n, sizeof *names->v, 8))
		return false;
	if ((copy = strdup(name)) == NULL)
		return false;
	names->v[names->n++] = copy;
	return true;
}

/* Free what names holds. */
static void lint_names_free(struct lint_names *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
	*names = (struct lint_names){ 0 };
}

/* "table\nnote", to free(), or NULL when out of memory. */
static char *lint_note_key(const char *table, const char *note, size_t len)
{
	size_t tl = strlen(table);
	char *k = malloc(tl + len + 2);

	if (k == NULL)
		return NULL;
	memcpy(k, table, tl);
	k[tl] = '\n';
	memcpy(k + tl + 1, note, len);
	k[tl + 1 + len] = '\0';
	return k;
}

/* Remember that table has property note; false when out of memory. */
static bool lint_note(struct lint_run *run, const char *table,
		      const char *note)
{
	char *k = lint_note_key(table, note, strlen(note));
	bool ok = k != NULL && lint_names_add(&run->notes, k);

	free(k);
	return ok;
}

/*
 * 1 when an earlier statement noted on table one of the comma-separated
 * properties in notes, 0 when none, -1 when out of memory.
 */
static int lint_noted(const struct lint_run *run, const char *table,
		      const char *notes)
{
	const char *p = notes;

	while (table != NULL && p != NULL && *p != '\0') {
		size_t len = strcspn(p, ",");
		char *k = lint_note_key(table, p, len);
		bool has;

		if (k == NULL)
			return -1;
		has = lint_names_has(&run->notes, k);
		free(k);
		if (has)
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* True when the notes drop the warning rep (IF_NOTED, UNLESS_NOTED). */
static bool lint_notes_drop(struct lint_run *run,
			    const struct dbmigrate_lint_report *rep)
{
	int r;

	if (rep->flags & DBMIGRATE_LINT_IF_NOTED) {
		r = lint_noted(run, rep->table, rep->note);
		if (r < 0)
			run->nomem = true;
		if (r <= 0)
			return true;
	}
	if (rep->flags & DBMIGRATE_LINT_UNLESS_NOTED) {
		r = lint_noted(run, rep->unless_table != NULL ? rep->unless_table
							      : rep->table,
			       rep->unless_note);
		if (r < 0)
			run->nomem = true;
		if (r != 0)
			return true;
	}
	return false;
}

/* A statement that cannot run in a transaction, inside the migration's
   own BEGIN: say what happens to it. */
static void lint_no_transaction(struct lint_run *run, size_t off,
				const char *reason)
{
	char msg[512];

	snprintf(msg, sizeof msg,
		 "%s, and this one is inside the migration's own BEGIN",
		 reason != NULL ? reason : "the statement cannot run inside a "
					   "transaction block");
	lint_warn(run, run->stmt, off, "concurrently-in-transaction", msg,
		  run->unwrapped
			  ? "dbmigrate drops this BEGIN ... COMMIT and runs "
			    "the migration outside any transaction, one "
			    "statement at a time, so it is not atomic as it "
			    "reads. Remove BEGIN and COMMIT, and give the "
			    "statement a migration of its own."
			  : "In a transaction:false migration BEGIN is sent as "
			    "written, so the server refuses the statement. "
			    "Move it out of BEGIN ... COMMIT, into a migration "
			    "of its own.");
}

/* The driver's callback: one finding about the current statement. */
static int lint_on_report(void *ctx, const struct dbmigrate_lint_report *rep)
{
	struct lint_run *run = ctx;
	size_t off = run->sp->v[run->stmt].offset;

	if (rep->offset < run->sp->v[run->stmt].len)
		off += rep->offset;
	switch (rep->kind) {
	case DBMIGRATE_LINT_CREATES_TABLE:
		if (rep->table != NULL && !lint_names_add(&run->created,
							  rep->table))
			run->nomem = true;
		break;
	case DBMIGRATE_LINT_GUARDS:
		if (rep->rule != NULL && !lint_names_add(&run->guarded,
							 rep->rule))
			run->nomem = true;
		break;
	case DBMIGRATE_LINT_SETS_LOCK_TIMEOUT:
		run->timeout_set = true;
		break;
	case DBMIGRATE_LINT_NOTES:
		if (rep->table != NULL && rep->note != NULL &&
		    !lint_note(run, rep->table, rep->note))
			run->nomem = true;
		break;
	case DBMIGRATE_LINT_WARNING:
		if (rep->rule == NULL || rep->message == NULL)
			break;
		if ((rep->flags & DBMIGRATE_LINT_EXISTING_TABLE) &&
		    rep->table != NULL &&
		    lint_names_has(&run->created, rep->table))
			break;
		if (lint_names_has(&run->guarded, rep->rule))
			break;
		if (lint_notes_drop(run, rep))
			break;
		if (rep->flags & DBMIGRATE_LINT_NEEDS_LOCK_TIMEOUT) {
			/* Once per migration: one SET at its top answers
			   them all, so the rest would only repeat it. */
			if (run->timeout_set || run->timeout_done)
				break;
			run->timeout_done = true;
		}
		lint_warn(run, run->stmt, off, rep->rule, rep->message,
			  rep->hint);
		break;
	}
	return run->nomem;
}

/* The missing-down rule: silenced by a directive anywhere in the up
   section, or anywhere in a .sql file (above -- migrate:up, say). */
static void lint_missing_down(struct lint_run *run)
{
	const struct migration *mig = run->mig;
	const char *rule = "missing-down";
	dbmigrate_error loc = { .code = DBMIGRATE_OK };
	bool silenced;

	if (mig->down.present)
		return;
	silenced = mig->up.present &&
		   lint_silenced_in(mig->up.sql, mig->up.len, 0, mig->up.len,
				    rule);
	if (!silenced && mig->format != MIGRATION_FORMAT_JS && mig->text != NULL)
		silenced = lint_silenced_in(mig->text, mig->text_len, 0,
					    mig->text_len, rule);
	if (silenced) {
		run->r->silenced++;
		return;
	}
	errors_location_at(&loc, mig->path, mig->text, mig->text_len, 0);
	if (!lint_add(run->r, mig, &loc, rule,
		      "no down section: this migration cannot be rolled back",
		      "Add a down section that undoes the up section "
		      "(-- migrate:down, export const down, or a .down.sql "
		      "file). If it truly cannot be undone, say so with "
		      "-- dbmigrate:lint-ignore missing-down."))
		run->nomem = true;
	errors_clear(&loc);
}

/*
 * The runner's per-migration lock timeout, a line of its own
 * "-- dbmigrate:lock-timeout 5s" in the body, read as the runner reads
 * it (directive_next(), directive_seconds()): 1 when the last one
 * sets a limit, 0 when it sets none ("0"), -1 when there is none (or no
 * valid one: the runner refuses the file then, and says so).
 */
static int lint_timeout_directive(const char *s, size_t len)
{
	struct directive d;
	size_t pos = 0;
	int found = -1;

	while (directive_next(s, len, &pos, &d)) {
		double secs;

		if (strcmp(d.word, "lock-timeout") == 0 &&
		    directive_seconds(&d, &secs))
			found = secs > 0;
	}
	return found;
}

/* Put the warnings r->v[from..] in file order: a statement's findings
   arrive rule by rule. Stable, so a line keeps its findings' order. */
static void lint_sort(struct dbmigrate_lint_result *r, size_t from)
{
	for (size_t i = from + 1; i < r->n; i++) {
		dbmigrate_lint_warning w = r->v[i];
		size_t j = i;

		while (j > from && (r->v[j - 1].line > w.line ||
				    (r->v[j - 1].line == w.line &&
				     r->v[j - 1].column > w.column))) {
			r->v[j] = r->v[j - 1];
			j--;
		}
		r->v[j] = w;
	}
}

dbmigrate_code lint_migration(const struct migration *mig,
			      const struct driver *d,
			      const struct dbmigrate_host *host,
			      bool timeout_configured,
			      struct dbmigrate_lint_result *r,
			      dbmigrate_error *err)
{
	struct split_result sp = { 0 };
	struct lint_run run = {
		.r = r,
		.mig = mig,
		.b = &mig->up,
		.sp = &sp,
		.timeout_set = timeout_configured,
		.notes = { r->notes, r->nnotes, r->capnotes },
	};
	size_t from = r->n;
	bool open = false;
	dbmigrate_code rc = DBMIGRATE_OK;

	r->checked++;
	lint_missing_down(&run);
	if (mig->up.present) {
		int t = lint_timeout_directive(mig->up.sql, mig->up.len);

		/* The migration's own limit wins over the configuration's,
		   as it does when the runner applies it. */
		if (t >= 0)
			run.timeout_set = t == 1;
		rc = split_body(d, host, mig, &mig->up, &sp, err);
	}
	run.unwrapped = sp.unwrapped;
	for (size_t k = 0; rc == DBMIGRATE_OK && !run.nomem && k < sp.n; k++) {
		const struct split_stmt *st = &sp.v[k];
		const char *sql = mig->up.sql + st->offset;
		unsigned f = st->cls.flags;

		/* transaction:false sends BEGIN and COMMIT as written; the
		   runner strips a whole-body wrapper otherwise. */
		if (f & DBMIGRATE_STMT_BEGIN) {
			open = true;
			continue;
		}
		if (f & (DBMIGRATE_STMT_COMMIT | DBMIGRATE_STMT_ROLLBACK)) {
			open = false;
			continue;
		}
		if (f & DBMIGRATE_STMT_TXCONTROL)
			continue;
		run.stmt = k;
		if (open && (f & DBMIGRATE_STMT_NO_TRANSACTION))
			lint_no_transaction(&run, st->offset, st->cls.reason);
		if (driver_lint(d, host, sql, st->len, lint_on_report, &run, &rc))
			if (rc != DBMIGRATE_OK && err->code == DBMIGRATE_OK)
				errors_set(err, rc, "driver %s failed to lint %s",
					   d->vt->name, mig->label);
	}
	if (rc == DBMIGRATE_OK && run.nomem)
		rc = errors_nomem(err);
	lint_sort(r, from);
	r->notes = run.notes.v;
	r->nnotes = run.notes.n;
	r->capnotes = run.notes.cap;
	lint_names_free(&run.created);
	lint_names_free(&run.guarded);
	split_result_free(&sp);
	return rc;
}

/* The migrations ids names in set: sel[i] true for each. */
static dbmigrate_code lint_select(const struct migration_set *set,
				  const char *const *ids, size_t nids,
				  bool *sel, dbmigrate_error *err)
{
	for (size_t i = 0; i < set->n; i++)
		sel[i] = nids == 0;
	for (size_t k = 0; k < nids; k++) {
		const struct migration *found;

		if (migration_id_class(ids[k]) == 2) {
			errors_set(err, DBMIGRATE_EUSAGE,
				   "invalid migration id \"%s\"", ids[k]);
			errors_hint(err, "An id is the number a migration's "
					 "file name starts with, such as 001 "
					 "(Flyway's version, as 1.1, or R__name); "
					 "`dbmigrate status` lists them.");
			return DBMIGRATE_EUSAGE;
		}
		found = migration_set_find(set, ids[k]);
		if (found == NULL) {
			errors_set(err, DBMIGRATE_EUSAGE,
				   "no migration %s in %s", ids[k], set->dir);
			errors_hint(err, "`dbmigrate status` lists the "
					 "migrations and their ids.");
			return DBMIGRATE_EUSAGE;
		}
		sel[found - set->v] = true;
	}
	return DBMIGRATE_OK;
}

/* True when the configuration gives every migration a lock timeout
   (the runner's option; absent from a build without it). */
static bool lint_timeout_configured(dbmigrate *m)
{
	const char *v = dbmigrate_get(m, "sql_lock_timeout");

	return v != NULL && strtod(v, NULL) > 0;
}

/* Load the configured driver, without connecting. */
static dbmigrate_code lint_load_driver(dbmigrate *m)
{
	char name[64];
	char msg[256];
	dbmigrate_event ev = { .kind = DBMIGRATE_EVENT_WARNING, .message = msg };
	dbmigrate_code rc;

	if (m->drv.vt != NULL)
		return DBMIGRATE_OK;
	rc = driver_load(config_driver(&m->cfg, name, sizeof name), &m->drv,
			 &m->err);
	if (rc != DBMIGRATE_OK || m->drv.vt->lint != NULL)
		return rc;
	snprintf(msg, sizeof msg,
		 "driver %s has no lint rules of its own; only the rules every "
		 "backend shares were checked",
		 m->drv.vt->name);
	if (m->on_event != NULL)
		m->on_event(&ev, m->event_ctx);
	return DBMIGRATE_OK;
}

/*
 * Lint mig only for the properties its statements give tables (NOTES),
 * added to r's; its warnings are dropped: it was not asked for.
 */
static dbmigrate_code lint_notes_only(const struct migration *mig,
				      dbmigrate *m,
				      struct dbmigrate_lint_result *r)
{
	struct dbmigrate_lint_result tmp = {
		.notes = r->notes, .nnotes = r->nnotes, .capnotes = r->capnotes};
	dbmigrate_code rc = lint_migration(mig, &m->drv, &m->host,
					   lint_timeout_configured(m), &tmp,
					   &m->err);

	r->notes = tmp.notes;
	r->nnotes = tmp.nnotes;
	r->capnotes = tmp.capnotes;
	for (size_t i = 0; i < tmp.n; i++)
		lint_warning_free(&tmp.v[i]);
	free(tmp.v);
	return rc;
}

dbmigrate_code dbmigrate_lint(dbmigrate *m, const char *const *ids,
			      size_t nids, dbmigrate_lint_result **out)
{
	struct migration_set set = { 0 };
	struct dbmigrate_lint_result *r = NULL;
	bool *sel = NULL, *load = NULL;
	dbmigrate_code rc;

	*out = NULL;
	errors_clear(&m->err);
	rc = discover_dir(config_dir(&m->cfg), &set, &m->err);
	if (rc == DBMIGRATE_OK) {
		sel = calloc(set.n + 1, sizeof *sel);
		r = calloc(1, sizeof *r);
		if (sel == NULL || r == NULL)
			rc = errors_nomem(&m->err);
	}
	if (rc == DBMIGRATE_OK)
		rc = lint_select(&set, ids, nids, sel, &m->err);
	/* The migrations before a selected one are read too, for the
	   properties their statements give tables (NOTES). */
	if (rc == DBMIGRATE_OK) {
		load = calloc(set.n + 1, sizeof *load);
		if (load == NULL)
			rc = errors_nomem(&m->err);
		for (size_t i = set.n; rc == DBMIGRATE_OK && i-- > 0;)
			load[i] = sel[i] || (i + 1 < set.n && load[i + 1]);
	}
	if (rc == DBMIGRATE_OK)
		rc = migration_load_set(&set, load, &m->err);
	if (rc == DBMIGRATE_OK)
		rc = lint_load_driver(m);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < set.n; i++) {
		if (sel[i])
			rc = lint_migration(&set.v[i], &m->drv, &m->host,
					    lint_timeout_configured(m), r,
					    &m->err);
		else if (load[i])
			rc = lint_notes_only(&set.v[i], m, r);
	}
	free(sel);
	free(load);
	migration_set_free(&set);
	if (rc != DBMIGRATE_OK) {
		dbmigrate_lint_free(r);
		return rc;
	}
	*out = r;
	return DBMIGRATE_OK;
}

size_t dbmigrate_lint_count(const dbmigrate_lint_result *r)
{
	return r != NULL ? r->n : 0;
}

const dbmigrate_lint_warning *dbmigrate_lint_get(const dbmigrate_lint_result *r,
						 size_t i)
{
	return r != NULL && i < r->n ? &r->v[i] : NULL;
}

size_t dbmigrate_lint_checked(const dbmigrate_lint_result *r)
{
	return r != NULL ? r->checked : 0;
}

size_t dbmigrate_lint_silenced(const dbmigrate_lint_result *r)
{
	return r != NULL ? r->silenced : 0;
}

void dbmigrate_lint_free(dbmigrate_lint_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		lint_warning_free(&r->v[i]);
	free(r->v);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r);
}
