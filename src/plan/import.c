/*
 * import.c - `dbmigrate import`: another tool's history table read and
 * turned into the rows dbmigrate would have written, following that
 * tool's own rules as its source keeps them:
 *
 *  - goose (goose_db_version: id, version_id, is_applied, tstamp): a row
 *    per up and, in goose before v3, per down (is_applied false); the
 *    newest row of a version (highest id) decides; version 0 is the row
 *    goose writes when it creates its table, not a migration;
 *  - golang-migrate (schema_migrations: version, dirty): one row, the
 *    current version; every migration at or below it is applied; dirty
 *    means the migration of that version failed part-way;
 *  - dbmate (schema_migrations: version): a row per applied version;
 *  - Flyway (flyway_schema_history): a row per run, ordered by
 *    installed_rank; success false marks a failed migration; for a
 *    version the newest row decides (UNDO_SQL and DELETE rows take it
 *    back); a BASELINE row means everything up to its version was there
 *    before Flyway; repeatable migrations (version NULL) count as
 *    applied when the file's Flyway checksum is the one of their newest
 *    run, else they run again, as flyway migrate would do.
 *
 * Only SELECTs go to the database here; migrator.c writes the rows.
 */
#include "import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "errors.h"
#include "migration.h"
#include "strbuf.h"

/* At most this many columns of a table are looked at. */
#define IMPORT_MAX_COLUMNS 32

/* Each tool's name, default table, and the columns read from it. */
static const struct import_tool_info {
	const char *name;
	const char *table;
	const char *columns[9];
	size_t ncolumns;
} import_tools[IMPORT_NTOOLS] = {
	[IMPORT_GOOSE] = { "goose", "goose_db_version",
			   { "id", "version_id", "is_applied", "tstamp" }, 4 },
	[IMPORT_GOLANG_MIGRATE] = { "golang-migrate", "schema_migrations",
				    { "version", "dirty" }, 2 },
	[IMPORT_DBMATE] = { "dbmate", "schema_migrations", { "version" }, 1 },
	[IMPORT_FLYWAY] = { "flyway", "flyway_schema_history",
			    { "installed_rank", "version", "description",
			      "type", "script", "checksum", "installed_on",
			      "success" }, 8 },
};

/* The columns of a table, as table_columns() gave them. */
struct import_cols {
	char name[IMPORT_MAX_COLUMNS][64];
	size_t n;
};

/* A table's rows, every cell a string (or NULL), row-major. */
struct import_table {
	char **cell;
	size_t ncols, nrows, cap;
	bool nomem;
};

/* What the peer applied, one version (or repeatable) each. */
struct import_peer {
	char *version;      /* NULL for a repeatable */
	char *name;         /* the peer's description, or NULL */
	char *executed_at;  /* ISO 8601 UTC, or NULL */
	long checksum;      /* Flyway's, when has_checksum */
	bool has_checksum;
	bool repeatable;
};

/* The state of one import_read(). */
struct import_state {
	struct import_ctx *c;
	struct import_plan *out;
	struct import_peer *peer;
	size_t npeer, peercap;
	char *bound;        /* every version at or below is applied
			       (golang-migrate's current, Flyway's
			       baseline), or NULL */
	bool nomem;
};

int import_tool_parse(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "migrate") == 0 || strcmp(name, "golang_migrate") == 0)
		return IMPORT_GOLANG_MIGRATE;
	for (int t = 0; t < IMPORT_NTOOLS; t++)
		if (strcmp(name, import_tools[t].name) == 0)
			return t;
	return -1;
}

const char *import_tool_name(enum import_tool tool)
{
	return (unsigned)tool < IMPORT_NTOOLS ? import_tools[tool].name : "?";
}

/* table_columns() callback: keep the name. */
static int import_col(void *ctx, const char *name)
{
	struct import_cols *c = ctx;

	if (c->n < IMPORT_MAX_COLUMNS) {
		snprintf(c->name[c->n], sizeof c->name[0], "%s", name);
		c->n++;
	}
	return 0;
}

/* True when the table has column name (case-insensitively). */
static bool import_has(const struct import_cols *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(c->name[i], name) == 0)
			return true;
	return false;
}

/* The tool whose history table has these columns, or -1. */
static int import_tool_of(const struct import_cols *c)
{
	if (import_has(c, "id") && import_has(c, "batch"))
		return -1; /* dbmigrate's own (or the seed's) */
	if (import_has(c, "version_id") && import_has(c, "is_applied"))
		return IMPORT_GOOSE;
	if (import_has(c, "installed_rank") && import_has(c, "success") &&
	    import_has(c, "script"))
		return IMPORT_FLYWAY;
	if (import_has(c, "version") && import_has(c, "dirty"))
		return IMPORT_GOLANG_MIGRATE;
	if (import_has(c, "version"))
		return IMPORT_DBMATE;
	return -1;
}

/* The columns of table; *exists 0 when there is no such table. */
static dbmigrate_code import_columns(struct driver *drv, const char *table,
				     int *exists, struct import_cols *cols,
				     dbmigrate_error *err)
{
	memset(cols, 0, sizeof *cols);
	return driver_table_columns(drv, table, exists, import_col, cols,
				    "import reads another tool's history "
				    "table", err);
}

dbmigrate_code import_check_tracking_table(struct driver *drv,
					   const char *table,
					   dbmigrate_error *err)
{
	struct import_cols cols;
	dbmigrate_error ignored = { .code = DBMIGRATE_OK };
	int exists = 0, tool;

	if (drv->vt->table_columns == NULL)
		return DBMIGRATE_OK;
	if (import_columns(drv, table, &exists, &cols, &ignored) != DBMIGRATE_OK) {
		errors_clear(&ignored);
		return DBMIGRATE_OK; /* the caller's own error says more */
	}
	if (!exists || (tool = import_tool_of(&cols)) < 0)
		return DBMIGRATE_OK;
	errors_set(err, DBMIGRATE_EUSAGE,
		   "table %s is %s's history table, not a dbmigrate tracking table",
		   table, import_tools[tool].name);
	errors_detail(err, "dbmigrate keeps its own table (id, name, batch, "
		      "checksum...) and never alters %s's; nothing was run.",
		      import_tools[tool].name);
	errors_hint(err, "Run `dbmigrate import %s` to record what %s applied "
		    "in dbmigrate's table (--table migrations, the default), "
		    "then use that table.", import_tools[tool].name,
		    import_tools[tool].name);
	return DBMIGRATE_EUSAGE;
}

/* read_table() callback: keep a copy of the row. */
static int import_row_cb(void *ctx, const char *const *values, size_t n)
{
	struct import_table *t = ctx;

	if (t->nomem || n != t->ncols)
		return t->nomem;
	if ((t->nrows + 1) * t->ncols > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64 * t->ncols;
		char **v = realloc(t->cell, cap * sizeof *v);

		if (v == NULL) {
			t->nomem = true;
			return 1;
		}
		t->cell = v;
		t->cap = cap;
	}
	for (size_t k = 0; k < n; k++) {
		char **dst = &t->cell[t->nrows * t->ncols + k];

		*dst = values[k] != NULL ? strdup(values[k]) : NULL;
		if (values[k] != NULL && *dst == NULL)
			t->nomem = true;
	}
	t->nrows++;
	return t->nomem;
}

/* Free a table read. */
static void import_table_free(struct import_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof *t);
}

/* Cell (row, col) of t. */
static const char *import_cell(const struct import_table *t, size_t row,
			       size_t col)
{
	return t->cell[row * t->ncols + col];
}

/* True for a true boolean as servers render it ("t", "true", "1"). */
static bool import_true(const char *v)
{
	return v != NULL && (strcmp(v, "t") == 0 || strcasecmp(v, "true") == 0 ||
			     strcmp(v, "1") == 0);
}

/* Compare whole numbers written as text ("-1", "12"). */
static int import_int_cmp(const char *a, const char *b)
{
	long long x = a != NULL ? strtoll(a, NULL, 10) : 0;
	long long y = b != NULL ? strtoll(b, NULL, 10) : 0;

	return x < y ? -1 : x > y;
}

/*
 * A server's timestamp ("2024-01-02 10:00:00.123456", maybe with an
 * offset "+02" or "+05:30") as ISO 8601 UTC; one without an offset is
 * taken as UTC. NULL when it is not one.
 */
static char *import_iso(const char *ts)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, s, n = 0, off = 0;
	const char *p;
	time_t t;
	char buf[32];

	if (ts == NULL || sscanf(ts, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &y, &mo,
				 &d, &h, &mi, &s, &n) != 6)
		return NULL;
	p = ts + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '+' || *p == '-') {
		int oh = 0, om = 0;

		if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
			return NULL;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm) - off;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return strdup(buf);
}

/* Add a warning sentence to the plan. Memory failures are sticky. */
static void import_warn(struct import_state *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void import_warn(struct import_state *s, const char *fmt, ...)
{
	struct import_plan *p = s->out;
	char buf[1024], **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	v = realloc(p->warnings, (p->nwarnings + 1) * sizeof *v);
	if (v == NULL) {
		s->nomem = true;
		return;
	}
	p->warnings = v;
	if ((p->warnings[p->nwarnings] = strdup(buf)) == NULL)
		s->nomem = true;
	else
		p->nwarnings++;
}

/* Add what the peer applied; strings are copied (NULL allowed). */
static struct import_peer *import_peer_add(struct import_state *s,
					   const char *version,
					   const char *name,
					   const char *executed_at)
{
	struct import_peer *e;

	if (!array_grow(&s->peer, &s->peercap, s->npeer, sizeof *s->peer, 32)) {
		s->nomem = true;
		return NULL;
	}
	e = &s->peer[s->npeer++];
	memset(e, 0, sizeof *e);
	e->version = version != NULL ? strdup(version) : NULL;
	e->name = name != NULL ? strdup(name) : NULL;
	e->executed_at = import_iso(executed_at);
	e->repeatable = version == NULL;
	if ((version != NULL && e->version == NULL) ||
	    (name != NULL && e->name == NULL))
		s->nomem = true;
	return e;
}

/* The table's rows: sort keys for goose and Flyway. */
struct import_key {
	const struct import_table *t;
	size_t row;
	size_t group; /* column grouped by (version or description) */
	size_t order; /* column ordered by, newest first (id, rank) */
};

/* Group by version (as versions), newest row first within. */
static int import_key_cmp(const void *pa, const void *pb)
{
	const struct import_key *a = pa, *b = pb;
	const char *ga = import_cell(a->t, a->row, a->group);
	const char *gb = import_cell(b->t, b->row, b->group);
	int c;

	if (ga == NULL || gb == NULL)
		c = (ga == NULL) - (gb == NULL);
	else if (migration_is_version(ga, strlen(ga)) &&
		 migration_is_version(gb, strlen(gb)))
		c = migration_version_cmp(ga, strlen(ga), gb, strlen(gb));
	else
		c = strcmp(ga, gb);
	if (c != 0)
		return c;
	return -import_int_cmp(import_cell(a->t, a->row, a->order),
			       import_cell(b->t, b->row, b->order));
}

/* The rows of t sorted by group, newest first within; NULL when out of
   memory. */
static struct import_key *import_sort(const struct import_table *t,
				      size_t group, size_t order)
{
	struct import_key *k = calloc(t->nrows + 1, sizeof *k);

	if (k == NULL)
		return NULL;
	for (size_t i = 0; i < t->nrows; i++)
		k[i] = (struct import_key){ t, i, group, order };
	qsort(k, t->nrows, sizeof *k, import_key_cmp);
	return k;
}

/* True when key i starts a new group (of the sorted keys k). */
static bool import_first(const struct import_key *k, size_t i)
{
	const char *a, *b;

	if (i == 0)
		return true;
	a = import_cell(k[i].t, k[i].row, k[i].group);
	b = import_cell(k[i - 1].t, k[i - 1].row, k[i - 1].group);
	if (a == NULL || b == NULL)
		return (a == NULL) != (b == NULL);
	if (migration_is_version(a, strlen(a)) && migration_is_version(b, strlen(b)))
		return migration_version_cmp(a, strlen(a), b, strlen(b)) != 0;
	return strcmp(a, b) != 0;
}

/* A version the peer wrote that no file name could hold: say so. */
static bool import_check_version(struct import_state *s, const char *v)
{
	if (v != NULL && migration_is_version(v, strlen(v)))
		return true;
	import_warn(s, "%s's table holds version \"%s\", which is no migration "
		    "id; it was left out", import_tool_name(s->out->tool),
		    v != NULL ? v : "NULL");
	return false;
}

/* goose: the newest row of each version decides; 0 is goose's own. */
static dbmigrate_code import_goose(struct import_state *s,
				   const struct import_table *t)
{
	struct import_key *k = import_sort(t, 1, 0);

	if (k == NULL)
		return errors_nomem(s->c->err);
	for (size_t i = 0; i < t->nrows; i++) {
		const char *v = import_cell(t, k[i].row, 1);

		if (!import_first(k, i) || (v != NULL && strcmp(v, "0") == 0))
			continue;
		if (!import_true(import_cell(t, k[i].row, 2)))
			continue; /* rolled back (goose before v3) */
		if (import_check_version(s, v))
			import_peer_add(s, v, NULL, import_cell(t, k[i].row, 3));
	}
	free(k);
	return DBMIGRATE_OK;
}

/* golang-migrate: one row, the current version; refuse a dirty one. */
static dbmigrate_code import_golang(struct import_state *s,
				    const struct import_table *t)
{
	const char *v, *name = import_tools[IMPORT_GOLANG_MIGRATE].table;

	if (t->nrows == 0)
		return DBMIGRATE_OK;
	if (t->nrows > 1) {
		errors_set(s->c->err, DBMIGRATE_EFILES,
			   "%s holds %zu rows; golang-migrate keeps exactly one "
			   "(the current version)", name, t->nrows);
		errors_hint(s->c->err, "Check which version the database is at "
			    "and keep only its row (`migrate force VERSION` "
			    "rewrites it), then run dbmigrate import again.");
		return DBMIGRATE_EFILES;
	}
	v = import_cell(t, 0, 0);
	if (import_true(import_cell(t, 0, 1))) {
		errors_set(s->c->err, DBMIGRATE_EFILES,
			   "golang-migrate's %s is dirty at version %s: that "
			   "migration failed part-way", name, v != NULL ? v : "?");
		errors_detail(s->c->err, "golang-migrate marks the version dirty "
			      "when its migration starts and clears the mark "
			      "when it succeeds; some of its statements may "
			      "have run. Nothing was recorded.");
		errors_hint(s->c->err, "Check which statements of migration %s "
			    "are in the database and finish or undo them by "
			    "hand; then run `migrate force %s` if it is fully "
			    "applied (or force the version before it if it is "
			    "not), and run dbmigrate import again.",
			    v != NULL ? v : "?", v != NULL ? v : "VERSION");
		return DBMIGRATE_EFILES;
	}
	if (v != NULL && strcmp(v, "-1") == 0)
		return DBMIGRATE_OK; /* golang-migrate's "no version" */
	if (!import_check_version(s, v))
		return DBMIGRATE_OK;
	if ((s->bound = strdup(v)) == NULL)
		return errors_nomem(s->c->err);
	import_peer_add(s, v, NULL, NULL);
	return DBMIGRATE_OK;
}

/* dbmate: one row per applied version. */
static dbmigrate_code import_dbmate(struct import_state *s,
				    const struct import_table *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		const char *v = import_cell(t, i, 0);

		if (import_check_version(s, v))
			import_peer_add(s, v, NULL, NULL);
	}
	return DBMIGRATE_OK;
}

/* True for a Flyway row type that takes a version back. */
static bool import_flyway_undo(const char *type)
{
	return type != NULL && (strncmp(type, "UNDO_", 5) == 0 ||
				strcmp(type, "DELETE") == 0);
}

/* Flyway: refuse failed rows; the newest row per version decides;
   BASELINE covers what is below it; repeatables by description. */
static dbmigrate_code import_flyway(struct import_state *s,
				    const struct import_table *t)
{
	struct import_key *k;

	for (size_t i = 0; i < t->nrows; i++) {
		const char *v = import_cell(t, i, 1), *script = import_cell(t, i, 4);

		if (import_true(import_cell(t, i, 7)))
			continue;
		errors_set(s->c->err, DBMIGRATE_EFILES,
			   "flyway_schema_history records a failed migration: "
			   "%s%s (%s)", v != NULL ? "version " : "",
			   v != NULL ? v : import_cell(t, i, 2) != NULL ?
					   import_cell(t, i, 2) : "?",
			   script != NULL ? script : "?");
		errors_detail(s->c->err, "Flyway keeps the row of a migration "
			      "that stopped part-way (success false); some of "
			      "its statements may have run. Nothing was "
			      "recorded.");
		errors_hint(s->c->err, "Finish or undo what of it is in the "
			    "database by hand, run `flyway repair` to remove the "
			    "failed row, then run dbmigrate import again.");
		return DBMIGRATE_EFILES;
	}
	/* Versions, newest row first within each. */
	if ((k = import_sort(t, 1, 0)) == NULL)
		return errors_nomem(s->c->err);
	for (size_t i = 0; i < t->nrows; i++) {
		size_t r = k[i].row;
		const char *v = import_cell(t, r, 1), *type = import_cell(t, r, 3);
		const char *sum = import_cell(t, r, 5);
		struct import_peer *e;

		if (v == NULL || v[0] == '\0' || type == NULL ||
		    strcmp(type, "SCHEMA") == 0 || strcmp(type, "TABLE") == 0)
			continue;
		if (strcmp(type, "BASELINE") == 0) {
			if (import_check_version(s, v) &&
			    (s->bound == NULL ||
			     migration_id_cmp(v, s->bound) > 0)) {
				free(s->bound);
				if ((s->bound = strdup(v)) == NULL)
					s->nomem = true;
			}
			continue;
		}
		if (!import_first(k, i) || import_flyway_undo(type) ||
		    !import_check_version(s, v))
			continue;
		e = import_peer_add(s, v, import_cell(t, r, 2),
				    import_cell(t, r, 6));
		if (e != NULL && sum != NULL) {
			e->checksum = strtol(sum, NULL, 10);
			e->has_checksum = true;
		}
	}
	free(k);
	/* Repeatables (no version): by description, newest run first. */
	if ((k = import_sort(t, 2, 0)) == NULL)
		return errors_nomem(s->c->err);
	{
		size_t n = 0;

		for (size_t i = 0; i < t->nrows; i++) {
			const char *v = import_cell(t, k[i].row, 1);

			if (v == NULL || v[0] == '\0')
				k[n++] = k[i];
		}
		for (size_t i = 0; i < n; i++) {
			size_t r = k[i].row;
			const char *type = import_cell(t, r, 3);
			const char *sum = import_cell(t, r, 5);
			struct import_peer *e;

			if (!import_first(k, i) || type == NULL ||
			    import_flyway_undo(type))
				continue;
			e = import_peer_add(s, NULL, import_cell(t, r, 2),
					    import_cell(t, r, 6));
			if (e != NULL && sum != NULL) {
				e->checksum = strtol(sum, NULL, 10);
				e->has_checksum = true;
			}
		}
	}
	free(k);
	return DBMIGRATE_OK;
}

/* Add a row to record for item it (or none) with these strings. */
static void import_record(struct import_state *s, struct plan_item *it,
			  const char *id, const char *name,
			  const char *executed_at)
{
	struct import_plan *p = s->out;
	struct import_row *v = realloc(p->v, (p->n + 1) * sizeof *v), *r;

	if (v == NULL) {
		s->nomem = true;
		return;
	}
	p->v = v;
	r = &p->v[p->n++];
	r->it = it;
	r->id = strdup(id);
	r->name = strdup(name != NULL ? name : "");
	r->executed_at = executed_at != NULL ? strdup(executed_at) : NULL;
	if (r->id == NULL || r->name == NULL ||
	    (executed_at != NULL && r->executed_at == NULL))
		s->nomem = true;
	if (it == NULL)
		p->missing++;
}

/* The peer's entry for version v (or repeatable description d), or NULL. */
static struct import_peer *import_peer_find(struct import_state *s,
					    const char *v, const char *d)
{
	for (size_t i = 0; i < s->npeer; i++) {
		struct import_peer *e = &s->peer[i];

		if (v != NULL && !e->repeatable && migration_id_cmp(e->version, v) == 0)
			return e;
		if (d != NULL && e->repeatable && e->name != NULL) {
			size_t k;

			/* Flyway's description is the file's with spaces. */
			for (k = 0; d[k] != '\0' && e->name[k] != '\0'; k++)
				if (e->name[k] != (d[k] == '_' ? ' ' : d[k]))
					break;
			if (d[k] == '\0' && e->name[k] == '\0')
				return e;
		}
	}
	return NULL;
}

/* A Flyway description as a name: spaces back to underscores. */
static char *import_flyway_name(const char *d)
{
	char *n = strdup(d != NULL ? d : "");

	for (char *p = n; p != NULL && *p != '\0'; p++)
		if (*p == ' ')
			*p = '_';
	return n;
}

/* Match the peer's entries with the plan: what to record, what not. */
static void import_match(struct import_state *s)
{
	struct plan *plan = s->c->plan;
	struct import_plan *p = s->out;
	bool *used = calloc(s->npeer + 1, sizeof *used);

	if (used == NULL) {
		s->nomem = true;
		return;
	}
	for (size_t i = 0; i < plan->n; i++) {
		struct plan_item *it = &plan->v[i];
		struct migration *m = it->mig;
		struct import_peer *e;
		bool covered;

		if (m == NULL)
			continue;
		e = import_peer_find(s, m->repeatable ? NULL : m->id,
				     m->repeatable ? m->name : NULL);
		if (e != NULL)
			used[e - s->peer] = true;
		covered = e != NULL || (!m->repeatable && s->bound != NULL &&
					migration_id_cmp(m->id, s->bound) <= 0);
		if (!covered) {
			if (it->row == NULL)
				p->pending++;
			continue;
		}
		if (it->row != NULL) {
			p->already++;
			continue;
		}
		if (e != NULL && e->has_checksum && m->text != NULL &&
		    parse_flyway_checksum(m->text, m->text_len) != e->checksum) {
			if (m->repeatable) {
				import_warn(s, "%s changed since flyway last applied "
					    "it (checksum %ld, the file's %ld): it is "
					    "left pending, and `dbmigrate up` applies "
					    "it again, as flyway migrate would",
					    m->label, e->checksum,
					    parse_flyway_checksum(m->text, m->text_len));
				p->pending++;
				continue;
			}
			import_warn(s, "%s changed since flyway applied it "
				    "(checksum %ld, the file's %ld); it is recorded "
				    "with the file as it is now", m->label,
				    e->checksum,
				    parse_flyway_checksum(m->text, m->text_len));
		}
		import_record(s, it, m->id, m->name,
			      e != NULL ? e->executed_at : NULL);
	}
	/* What the peer applied that no file of the directory holds. */
	for (size_t i = 0; i < s->npeer; i++) {
		struct import_peer *e = &s->peer[i];
		struct plan_item *it = NULL;
		char *id = NULL, *name = NULL;

		if (used[i])
			continue;
		if (e->repeatable) {
			name = import_flyway_name(e->name);
			id = name != NULL ? malloc(strlen(name) + 4) : NULL;
			if (id != NULL)
				sprintf(id, "R__%s", name);
		} else {
			id = strdup(e->version);
			name = e->name != NULL ? import_flyway_name(e->name) : NULL;
		}
		if (id == NULL) {
			s->nomem = true;
			free(name);
			continue;
		}
		if (migration_id_class(id) == 2) {
			import_warn(s, "%s's table holds a migration dbmigrate cannot "
				    "name (\"%s\"); it was left out",
				    import_tool_name(p->tool), id);
			free(id);
			free(name);
			continue;
		}
		plan_find(plan, id, "import", &it, s->c->err);
		if (it != NULL && it->row != NULL) {
			p->already++;
		} else {
			import_warn(s, "%s applied %s%s, but no file of the "
				    "directory has it: it is recorded, and status "
				    "shows it as missing",
				    import_tool_name(p->tool),
				    e->repeatable ? "repeatable migration " : "version ",
				    e->repeatable ? e->name : e->version);
			import_record(s, NULL, id, name, e->executed_at);
		}
		free(id);
		free(name);
	}
	free(used);
}

/* Order the rows to record as the plan orders their ids. */
static int import_row_cmp(const void *a, const void *b)
{
	return migration_id_cmp(((const struct import_row *)a)->id,
				((const struct import_row *)b)->id);
}

/* Find the tool whose table the database has; EUSAGE for none or several. */
static dbmigrate_code import_detect(struct import_ctx *c, int *tool)
{
	static const char *const tables[] = { "goose_db_version",
					      "schema_migrations",
					      "flyway_schema_history" };
	struct strbuf found = STRBUF_INIT;
	int nfound = 0;

	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		struct import_cols cols;
		int exists = 0, t;
		dbmigrate_code rc = import_columns(c->drv, tables[i], &exists,
						   &cols, c->err);

		if (rc != DBMIGRATE_OK) {
			strbuf_free(&found);
			return rc;
		}
		if (!exists || (t = import_tool_of(&cols)) < 0)
			continue;
		strbuf_printf(&found, "%s%s (%s)", nfound ? ", " : "",
			      import_tools[t].name, tables[i]);
		*tool = t;
		nfound++;
	}
	if (nfound == 1) {
		strbuf_free(&found);
		return DBMIGRATE_OK;
	}
	if (nfound == 0) {
		errors_set(c->err, DBMIGRATE_EUSAGE,
			   "no history table of goose, golang-migrate, dbmate or "
			   "flyway in this database");
		errors_detail(c->err, "dbmigrate looked for goose_db_version, "
			      "schema_migrations and flyway_schema_history "
			      "(through the connection's search_path).");
		errors_hint(c->err, "Check --url, or name the tool: dbmigrate "
			    "import goose|golang-migrate|dbmate|flyway.");
	} else {
		errors_set(c->err, DBMIGRATE_EUSAGE,
			   "this database has the history tables of %d tools: %s",
			   nfound, strbuf_failed(&found) ? "?" : found.s);
		errors_hint(c->err, "Name the one to import: dbmigrate import "
			    "TOOL.");
	}
	strbuf_free(&found);
	return DBMIGRATE_EUSAGE;
}

/* The peer's table, checked to be the tool's; read into t. */
static dbmigrate_code import_load(struct import_ctx *c, int tool,
				  struct import_table *t)
{
	const struct import_tool_info *ti = &import_tools[tool];
	struct import_cols cols;
	int exists = 0, got;
	dbmigrate_code rc = import_columns(c->drv, ti->table, &exists, &cols,
					   c->err);

	if (rc != DBMIGRATE_OK)
		return rc;
	if (!exists) {
		errors_set(c->err, DBMIGRATE_EUSAGE, "no table %s in this database: "
			   "%s has not run here", ti->table, ti->name);
		errors_hint(c->err, "Check --url (and the connection's "
			    "search_path), or name another tool.");
		return DBMIGRATE_EUSAGE;
	}
	if ((got = import_tool_of(&cols)) != tool) {
		errors_set(c->err, DBMIGRATE_EUSAGE,
			   "table %s is not %s's history table", ti->table, ti->name);
		if (got >= 0) {
			errors_detail(c->err, "Its columns are those of %s's.",
				      import_tools[got].name);
			errors_hint(c->err, "Run `dbmigrate import %s`.",
				    import_tools[got].name);
		} else {
			errors_hint(c->err, "Check that this is the database %s "
				    "migrated.", ti->name);
		}
		return DBMIGRATE_EUSAGE;
	}
	for (size_t k = 0; k < ti->ncolumns; k++) {
		if (import_has(&cols, ti->columns[k]) ||
		    (tool == IMPORT_GOOSE && strcmp(ti->columns[k], "tstamp") == 0))
			continue;
		errors_set(c->err, DBMIGRATE_EUSAGE,
			   "table %s has no column %s, which %s writes",
			   ti->table, ti->columns[k], ti->name);
		errors_hint(c->err, "Check that this is %s's table, as that "
			    "tool made it.", ti->name);
		return DBMIGRATE_EUSAGE;
	}
	t->ncols = ti->ncolumns;
	/* goose tables of old versions may lack tstamp: read it as NULL. */
	if (tool == IMPORT_GOOSE && !import_has(&cols, "tstamp"))
		t->ncols = 3;
	rc = driver_read_table(c->drv, ti->table, ti->columns, t->ncols,
			       import_row_cb, t, "import reads another tool's "
			       "history table", c->err);
	if (rc == DBMIGRATE_OK && t->nomem)
		rc = errors_nomem(c->err);
	if (rc == DBMIGRATE_OK && t->ncols < ti->ncolumns) {
		/* Pad to the tool's columns with NULL. */
		struct import_table full = { .ncols = ti->ncolumns };

		for (size_t i = 0; i < t->nrows && !full.nomem; i++) {
			const char *row[9] = { NULL };

			for (size_t k = 0; k < t->ncols; k++)
				row[k] = import_cell(t, i, k);
			import_row_cb(&full, row, full.ncols);
		}
		import_table_free(t);
		*t = full;
		if (t->nomem)
			rc = errors_nomem(c->err);
	}
	return rc;
}

dbmigrate_code import_read(struct import_ctx *c, int tool,
			   struct import_plan *out)
{
	struct import_state s = { .c = c, .out = out };
	struct import_table t = { 0 };
	dbmigrate_code rc = DBMIGRATE_OK;

	memset(out, 0, sizeof *out);
	if (tool < 0)
		rc = import_detect(c, &tool);
	if (rc != DBMIGRATE_OK)
		return rc;
	out->tool = (enum import_tool)tool;
	out->table = import_tools[tool].table;
	rc = import_load(c, tool, &t);
	if (rc == DBMIGRATE_OK) {
		switch (out->tool) {
		case IMPORT_GOOSE:
			rc = import_goose(&s, &t);
			break;
		case IMPORT_GOLANG_MIGRATE:
			rc = import_golang(&s, &t);
			break;
		case IMPORT_DBMATE:
			rc = import_dbmate(&s, &t);
			break;
		default:
			rc = import_flyway(&s, &t);
			break;
		}
	}
	if (rc == DBMIGRATE_OK && !s.nomem)
		import_match(&s);
	if (rc == DBMIGRATE_OK && s.nomem)
		rc = errors_nomem(c->err);
	if (rc == DBMIGRATE_OK && out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, import_row_cmp);
	for (size_t i = 0; i < s.npeer; i++) {
		free(s.peer[i].version);
		free(s.peer[i].name);
		free(s.peer[i].executed_at);
	}
	free(s.peer);
	free(s.bound);
	import_table_free(&t);
	return rc;
}

void import_plan_free(struct import_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].id);
		free(p->v[i].name);
		free(p->v[i].executed_at);
	}
	free(p->v);
	for (size_t i = 0; i < p->nwarnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	memset(p, 0, sizeof *p);
}
