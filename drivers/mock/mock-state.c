/*
 * mock-state.c - the mock driver's database: tracking tables and their
 * rows, the catalogue of objects, and the journal of committed
 * statements; copied whole by begin() (a snapshot for rollback()), and
 * kept in a state file for a file-backed database.
 *
 * The state file is line-oriented text a human can read and diff: the
 * version line "dbmigrate-mock 1", then one record a line, its fields
 * separated by tabs (inside a field \t, \n, \r and \\ are escapes and
 * \N alone is NULL), lines starting with "#" being comments:
 *
 *   table    NAME
 *   row      TABLE ID NAME EXECUTED_AT BATCH CHECKSUM [DOWN_SQL]
 *   object   KIND NAME OWNER
 *   journal  SQL
 *
 * in that order: tables each followed by their rows, objects, then the
 * journal, oldest statement first. DOWN_SQL (the down SQL kept with the
 * row) came later: a row without it is read as NULL, so older files
 * still load. A commit writes the whole state to a
 * temporary file in the same directory, fsyncs it and renames it over the
 * state file, so a crash leaves either the old state or the new one. A
 * file of another version, or one that does not parse, is refused with
 * its line number rather than half read.
 */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOCK_STATE_VERSION 1 /* of the file format */
#define MOCK_STATE_MAGIC "dbmigrate-mock"
#define MOCK_STATE_FIELDS 9  /* most fields of a record */

/* A copy of s[0, len) as a string, or NULL when out of memory. */
static char *mock_state_strndup(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d != NULL) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* A copy of s, NULL staying NULL; *fail is set when out of memory. */
static char *mock_state_strdup(const char *s, int *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*fail = 1;
	return d;
}

/* Grow array v of n elements of size bytes by one; NULL when out of
   memory (v is then unchanged). */
static void *mock_state_grow(void *v, size_t n, size_t size)
{
	return realloc(v, (n + 1) * size);
}

/* Free a row's strings. */
static void mock_state_row_free(struct mock_row *r)
{
	free(r->id);
	free(r->name);
	free(r->executed_at);
	free(r->checksum);
	free(r->down_sql);
	free(r->progress);
}

/* Free a tracking table. */
static void mock_state_table_free(struct mock_table *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		mock_state_row_free(&t->rows[i]);
	free(t->rows);
	free(t->name);
}

/* Free everything a state holds and empty it. */
void mock_state_free(struct mock_state *st)
{
	for (size_t i = 0; i < st->ntables; i++)
		mock_state_table_free(&st->tables[i]);
	for (size_t i = 0; i < st->nobjects; i++) {
		free(st->objects[i].name);
		free(st->objects[i].owner);
	}
	for (size_t i = 0; i < st->njournal; i++)
		free(st->journal[i]);
	free(st->tables);
	free(st->objects);
	free(st->journal);
	memset(st, 0, sizeof *st);
}

/* Make dst a deep copy of src; -1 when out of memory (dst then empty). */
int mock_state_copy(struct mock_state *dst, const struct mock_state *src)
{
	int fail = 0;

	memset(dst, 0, sizeof *dst);
	/* Zeroed arrays sized at once, so a half-made copy frees cleanly. */
	dst->tables = calloc(src->ntables + 1, sizeof *dst->tables);
	dst->objects = calloc(src->nobjects + 1, sizeof *dst->objects);
	dst->journal = calloc(src->njournal + 1, sizeof *dst->journal);
	if (dst->tables == NULL || dst->objects == NULL ||
	    dst->journal == NULL) {
		mock_state_free(dst);
		return -1;
	}
	dst->ntables = src->ntables;
	dst->nobjects = src->nobjects;
	dst->njournal = src->njournal;
	for (size_t i = 0; i < src->ntables && !fail; i++) {
		const struct mock_table *s = &src->tables[i];
		struct mock_table *d = &dst->tables[i];

		d->name = mock_state_strdup(s->name, &fail);
		d->rows = calloc(s->nrows + 1, sizeof *d->rows);
		if (d->rows == NULL) {
			fail = 1;
			break;
		}
		d->nrows = s->nrows;
		for (size_t j = 0; j < s->nrows; j++) {
			d->rows[j].id = mock_state_strdup(s->rows[j].id, &fail);
			d->rows[j].name =
			    mock_state_strdup(s->rows[j].name, &fail);
			d->rows[j].executed_at =
			    mock_state_strdup(s->rows[j].executed_at, &fail);
			d->rows[j].checksum =
			    mock_state_strdup(s->rows[j].checksum, &fail);
			d->rows[j].down_sql =
			    mock_state_strdup(s->rows[j].down_sql, &fail);
			d->rows[j].progress =
			    mock_state_strdup(s->rows[j].progress, &fail);
			d->rows[j].batch = s->rows[j].batch;
		}
	}
	for (size_t i = 0; i < src->nobjects; i++) {
		dst->objects[i].kind = src->objects[i].kind;
		dst->objects[i].name =
		    mock_state_strdup(src->objects[i].name, &fail);
		dst->objects[i].owner =
		    mock_state_strdup(src->objects[i].owner, &fail);
	}
	for (size_t i = 0; i < src->njournal; i++)
		dst->journal[i] = mock_state_strdup(src->journal[i], &fail);
	if (fail) {
		mock_state_free(dst);
		return -1;
	}
	return 0;
}

/* The tracking table called name, or NULL. */
struct mock_table *mock_state_table_find(const struct mock_state *st,
					 const char *name)
{
	for (size_t i = 0; i < st->ntables; i++)
		if (strcmp(st->tables[i].name, name) == 0)
			return &st->tables[i];
	return NULL;
}

/* Add an empty tracking table; NULL when out of memory. */
struct mock_table *mock_state_table_add(struct mock_state *st, const char *name)
{
	struct mock_table *v =
	    mock_state_grow(st->tables, st->ntables, sizeof *v);
	struct mock_table *t;

	if (v == NULL)
		return NULL;
	st->tables = v;
	t = &v[st->ntables];
	memset(t, 0, sizeof *t);
	if ((t->name = strdup(name)) == NULL)
		return NULL;
	st->ntables++;
	return t;
}

/* Drop tracking table t (a member of st) and its rows. */
void mock_state_table_drop(struct mock_state *st, struct mock_table *t)
{
	size_t at = (size_t)(t - st->tables);

	mock_state_table_free(t);
	memmove(t, t + 1, (st->ntables - at - 1) * sizeof *t);
	st->ntables--;
}

/* The index of the row with this id, or -1. */
long mock_state_row_find(const struct mock_table *t, const char *id)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (strcmp(t->rows[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* Append a row (checksum, down_sql, progress may be NULL); -1 when out
   of memory. */
int mock_state_row_add(struct mock_table *t, const char *id, const char *name,
		       const char *executed_at, const char *checksum,
		       const char *down_sql, const char *progress, int batch)
{
	struct mock_row *v = mock_state_grow(t->rows, t->nrows, sizeof *v);
	struct mock_row r;
	int fail = 0;

	if (v == NULL)
		return -1;
	t->rows = v;
	r.id = mock_state_strdup(id, &fail);
	r.name = mock_state_strdup(name, &fail);
	r.executed_at = mock_state_strdup(executed_at, &fail);
	r.checksum = mock_state_strdup(checksum, &fail);
	r.down_sql = mock_state_strdup(down_sql, &fail);
	r.progress = mock_state_strdup(progress, &fail);
	r.batch = batch;
	if (fail) {
		mock_state_row_free(&r);
		return -1;
	}
	t->rows[t->nrows++] = r;
	return 0;
}

/* Delete row i, keeping the order of the others. */
void mock_state_row_delete(struct mock_table *t, size_t i)
{
	mock_state_row_free(&t->rows[i]);
	memmove(&t->rows[i], &t->rows[i + 1],
		(t->nrows - i - 1) * sizeof t->rows[0]);
	t->nrows--;
}

/*
 * The index of the object a statement about kind k means, or -1: any
 * relation of that name for a relation kind, a trigger of that name on
 * owner (any owner when NULL), else the kind and name.
 */
long mock_state_object_find(const struct mock_state *st, enum mock_kind k,
			    const char *name, const char *owner)
{
	for (size_t i = 0; i < st->nobjects; i++) {
		const struct mock_object *o = &st->objects[i];

		if (strcmp(o->name, name) != 0)
			continue;
		if (mock_sql_kinds[k].relation &&
		    mock_sql_kinds[o->kind].relation)
			return (long)i;
		if (o->kind == k &&
		    (k != MOCK_TRIGGER || owner == NULL ||
		     (o->owner && strcmp(o->owner, owner) == 0)))
			return (long)i;
	}
	return -1;
}

/* Add an object (owner may be NULL); -1 when out of memory. */
int mock_state_object_add(struct mock_state *st, enum mock_kind k,
			  const char *name, const char *owner)
{
	struct mock_object *v =
	    mock_state_grow(st->objects, st->nobjects, sizeof *v);
	struct mock_object o;
	int fail = 0;

	if (v == NULL)
		return -1;
	st->objects = v;
	o.kind = k;
	o.name = mock_state_strdup(name, &fail);
	o.owner = mock_state_strdup(owner, &fail);
	if (fail) {
		free(o.name);
		free(o.owner);
		return -1;
	}
	st->objects[st->nobjects++] = o;
	return 0;
}

/* Remove object i, keeping the order of the others. */
void mock_state_object_remove(struct mock_state *st, size_t i)
{
	free(st->objects[i].name);
	free(st->objects[i].owner);
	memmove(&st->objects[i], &st->objects[i + 1],
		(st->nobjects - i - 1) * sizeof st->objects[0]);
	st->nobjects--;
}

/* Append a statement to the journal; -1 when out of memory. */
int mock_state_journal_add(struct mock_state *st, const char *sql, size_t len)
{
	char **v = mock_state_grow(st->journal, st->njournal, sizeof *v);

	if (v == NULL)
		return -1;
	st->journal = v;
	if ((v[st->njournal] = mock_state_strndup(sql, len)) == NULL)
		return -1;
	st->njournal++;
	return 0;
}

/* Write s[0, len) with backslash, tab, newline and CR escaped. */
void mock_state_escape(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '\\':
			fputs("\\\\", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			putc(s[i], f);
		}
	}
}

/* Write a field of a state file record, preceded by a tab; \N is NULL. */
static void mock_state_put_field(FILE *f, const char *s)
{
	putc('\t', f);
	if (s == NULL)
		fputs("\\N", f);
	else
		mock_state_escape(f, s, strlen(s));
}

/* Undo mock_state_put_field() in place; *out is NULL for \N. -1 on a bad
 * escape. */
static int mock_state_unescape(char *s, char **out)
{
	char *r = s, *w = s;

	*out = NULL;
	if (strcmp(s, "\\N") == 0)
		return 0;
	while (*r != '\0') {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		switch (r[1]) {
		case '\\':
			*w++ = '\\';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'r':
			*w++ = '\r';
			break;
		default:
			return -1;
		}
		r += 2;
	}
	*w = '\0';
	*out = s;
	return 0;
}

/* The directory holding path, as a new string ("." for a bare name). */
char *mock_state_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return mock_state_strndup(path, (size_t)(slash - path));
}

/* True when two stats describe the same version of a file. */
static int mock_state_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Parse one record (fields f[0..nf), already unescaped) into st. Returns
 * NULL, or why the record is bad, written into why.
 */
static const char *mock_state_parse_record(struct mock_state *st, char **f,
					   size_t nf, char *why, size_t whysize)
{
	static const struct { const char *type; size_t nf; } shapes[] = {
		{ "table", 2 }, { "row", 9 }, { "object", 4 }, { "journal", 2 },
	};
	struct mock_table *t;
	size_t s;
	long batch;
	char *end;
	int k;

	if (f[0] == NULL)
		return "a record type cannot be \\N";
	for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
		if (strcmp(f[0], shapes[s].type) == 0)
			break;
	if (s == sizeof shapes / sizeof shapes[0]) {
		snprintf(why, whysize, "unknown record \"%s\"", f[0]);
		return why;
	}
	/* A row of an older file has no DOWN_SQL; a row without PROGRESS
	   (a migration that ran whole) leaves it out. */
	if (s == 1 && (nf < shapes[s].nf - 2 || nf > shapes[s].nf)) {
		snprintf(why, whysize,
			 "a \"%s\" record has %zu to %zu fields, not %zu", f[0],
			 shapes[s].nf - 2, shapes[s].nf, nf);
		return why;
	}
	if (s != 1 && nf != shapes[s].nf) {
		snprintf(why, whysize,
			 "a \"%s\" record has %zu fields, not %zu", f[0],
			 shapes[s].nf, nf);
		return why;
	}
	/* Only a row's checksum and down SQL, and an object's owner, may
	   be NULL. */
	for (size_t i = 1; i < nf; i++)
		if (f[i] == NULL && !(s == 1 && i >= 6) && !(s == 2 && i == 3))
			return "a NULL (\\N) where a value is needed";
	switch (s) {
	case 0:
		if (mock_state_table_find(st, f[1]) != NULL)
			return "a table is declared twice";
		if (mock_state_table_add(st, f[1]) == NULL)
			return "out of memory";
		return NULL;
	case 1:
		if ((t = mock_state_table_find(st, f[1])) == NULL)
			return "a row of a table not declared above it";
		if (mock_state_row_find(t, f[2]) >= 0)
			return "a second row with the same id";
		errno = 0;
		batch = strtol(f[5], &end, 10);
		if (errno != 0 || end == f[5] || *end != '\0' || batch < 0 ||
		    batch > 2147483647L) {
			snprintf(why, whysize, "bad batch number \"%s\"", f[5]);
			return why;
		}
		if (mock_state_row_add(t, f[2], f[3], f[4], f[6],
				       nf > 7 ? f[7] : NULL, nf > 8 ? f[8] : NULL,
				       (int)batch) != 0)
			return "out of memory";
		return NULL;
	case 2:
		for (k = 0; k < MOCK_NKINDS; k++)
			if (strcmp(f[1], mock_sql_kinds[k].word) == 0)
				break;
		if (k == MOCK_NKINDS) {
			snprintf(why, whysize, "unknown object kind \"%s\"",
				 f[1]);
			return why;
		}
		if (mock_state_object_add(st, (enum mock_kind)k, f[2], f[3]) !=
		    0)
			return "out of memory";
		return NULL;
	default:
		if (mock_state_journal_add(st, f[1], strlen(f[1])) != 0)
			return "out of memory";
		return NULL;
	}
}

/*
 * Read the state file into *out. A missing file is an empty database
 * (have_loaded is then cleared). Errors are reported with code, naming
 * the file and the line.
 */
dbmigrate_code mock_state_read(dbmigrate_conn *c, struct mock_state *out,
			       dbmigrate_code code)
{
	static const char hint[] =
		"The mock driver writes this file itself: restore it from a "
		"copy, or delete it to start from an empty database.";
	const char *why = NULL;
	char whybuf[256];
	char *line = NULL, *f[MOCK_STATE_FIELDS + 1];
	size_t cap = 0, nf;
	unsigned lineno = 0;
	ssize_t len;
	struct stat st;
	FILE *file;
	int version;

	memset(out, 0, sizeof *out);
	if ((file = fopen(c->path, "r")) == NULL) {
		if (errno == ENOENT) {
			c->have_loaded = 0;
			return DBMIGRATE_OK;
		}
		return mock_report(c, code, NULL, NULL,
				   "mock: cannot read state file %s: %s",
				   c->path, strerror(errno));
	}
	if (fstat(fileno(file), &st) != 0) {
		fclose(file);
		return mock_report(c, code, NULL, NULL,
				   "mock: cannot read state file %s: %s",
				   c->path, strerror(errno));
	}
	while (why == NULL && (len = getline(&line, &cap, file)) >= 0) {
		lineno++;
		if (strlen(line) != (size_t)len) {
			why = "a NUL byte";
			break;
		}
		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (lineno == 1) {
			/* The version line first: nothing else is read when
			   it is wrong, since the rest may mean other things. */
			if (sscanf(line, MOCK_STATE_MAGIC " %d", &version) !=
			    1) {
				why = "not a mock state file (the first line "
				      "is not \"" MOCK_STATE_MAGIC " 1\")";
			} else if (version != MOCK_STATE_VERSION) {
				snprintf(whybuf, sizeof whybuf,
					 "unsupported version %d (this mock "
					 "driver reads version %d)",
					 version, MOCK_STATE_VERSION);
				why = whybuf;
			}
			continue;
		}
		if (line[0] == '\0' || line[0] == '#')
			continue;
		nf = 0;
		for (char *p = line, *tab;; p = tab + 1) {
			if (nf == MOCK_STATE_FIELDS) {
				why = "too many fields";
				break;
			}
			f[nf] = p;
			tab = strchr(p, '\t');
			if (tab != NULL)
				*tab = '\0';
			if (mock_state_unescape(p, &f[nf]) != 0)
				why = "a bad backslash escape";
			nf++;
			if (tab == NULL || why != NULL)
				break;
		}
		if (why == NULL)
			why = mock_state_parse_record(out, f, nf, whybuf,
						      sizeof whybuf);
	}
	if (why == NULL && ferror(file)) {
		fclose(file);
		free(line);
		mock_state_free(out);
		return mock_report(c, code, NULL, NULL,
				   "mock: cannot read state file %s: %s",
				   c->path, strerror(errno));
	}
	fclose(file);
	free(line);
	if (why != NULL) {
		mock_state_free(out);
		if (strcmp(why, "out of memory") == 0)
			return mock_nomem(c);
		return mock_report(c, code, NULL, hint,
				   "mock: bad state file %s, line %u: %s",
				   c->path, lineno, why);
	}
	c->loaded = st;
	c->have_loaded = 1;
	return DBMIGRATE_OK;
}

/* Write the whole state to a new file and rename it over the state file. */
dbmigrate_code mock_state_write(dbmigrate_conn *c)
{
	const struct mock_state *s = &c->state;
	size_t plen = strlen(c->path);
	char *tmp = malloc(plen + sizeof ".XXXXXX");
	char *dir;
	struct stat st;
	FILE *f = NULL;
	int fd, dfd, ok;

	if (tmp == NULL)
		return mock_nomem(c);
	memcpy(tmp, c->path, plen);
	memcpy(tmp + plen, ".XXXXXX", sizeof ".XXXXXX");
	/* The same directory, so that rename() is atomic. */
	if ((fd = mkstemp(tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return mock_report(c, DBMIGRATE_EDATABASE, NULL, NULL,
				   "mock: cannot write state file %s: %s",
				   c->path, strerror(e));
	}
	fprintf(f, "%s %d\n", MOCK_STATE_MAGIC, MOCK_STATE_VERSION);
	fputs("# The dbmigrate mock driver's database: tracking tables and "
	      "rows, catalogue\n# objects, and the journal of committed "
	      "statements. Fields are separated\n# by tabs; \\t \\n \\r \\\\ "
	      "are escapes and \\N is NULL.\n", f);
	for (size_t i = 0; i < s->ntables; i++) {
		const struct mock_table *t = &s->tables[i];

		fputs("table", f);
		mock_state_put_field(f, t->name);
		putc('\n', f);
		for (size_t j = 0; j < t->nrows; j++) {
			const struct mock_row *r = &t->rows[j];

			fputs("row", f);
			mock_state_put_field(f, t->name);
			mock_state_put_field(f, r->id);
			mock_state_put_field(f, r->name);
			mock_state_put_field(f, r->executed_at);
			fprintf(f, "\t%d", r->batch);
			mock_state_put_field(f, r->checksum);
			mock_state_put_field(f, r->down_sql);
			if (r->progress != NULL)
				mock_state_put_field(f, r->progress);
			putc('\n', f);
		}
	}
	for (size_t i = 0; i < s->nobjects; i++) {
		fputs("object", f);
		mock_state_put_field(f,
				     mock_sql_kinds[s->objects[i].kind].word);
		mock_state_put_field(f, s->objects[i].name);
		mock_state_put_field(f, s->objects[i].owner);
		putc('\n', f);
	}
	for (size_t i = 0; i < s->njournal; i++) {
		fputs("journal", f);
		mock_state_put_field(f, s->journal[i]);
		putc('\n', f);
	}
	ok = fflush(f) == 0 && !ferror(f) && fsync(fd) == 0 &&
	     fstat(fd, &st) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, c->path) != 0) {
		int e = errno;

		unlink(tmp);
		free(tmp);
		return mock_report(c, DBMIGRATE_EDATABASE, NULL, NULL,
				   "mock: cannot write state file %s: %s",
				   c->path, strerror(e));
	}
	free(tmp);
	/* Make the rename itself durable. Best effort: the new state is
	   already in place, and failing the commit now would lie. */
	if ((dir = mock_state_dirname(c->path)) != NULL) {
		if ((dfd = open(dir, O_RDONLY | O_CLOEXEC)) >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
	c->loaded = st;
	c->have_loaded = 1;
	return DBMIGRATE_OK;
}

/*
 * Make c->state the committed state of the file when another connection
 * changed it since it was read (never in a transaction, whose working
 * state is its own).
 */
dbmigrate_code mock_state_refresh(dbmigrate_conn *c, dbmigrate_code code)
{
	struct mock_state fresh;
	struct stat st;
	dbmigrate_code rc;

	if (c->path == NULL)
		return DBMIGRATE_OK;
	if (stat(c->path, &st) == 0) {
		if (c->have_loaded && mock_state_same_file(&st, &c->loaded))
			return DBMIGRATE_OK;
	} else if (errno == ENOENT) {
		if (!c->have_loaded)
			return DBMIGRATE_OK;
	} else {
		return mock_report(c, code, NULL, NULL,
				   "mock: cannot read state file %s: %s",
				   c->path, strerror(errno));
	}
	if ((rc = mock_state_read(c, &fresh, code)) != DBMIGRATE_OK)
		return rc;
	mock_state_free(&c->state);
	c->state = fresh;
	return DBMIGRATE_OK;
}
