/*
 * discover.c - listing the migrations directory: every file whose name
 * is meant to be a migration (name.c) must be a well-formed one, ids
 * must be unique (001, 1 and Flyway's V1.0__ are the same version), a
 * .down.sql needs its .up.sql and a Flyway U its V,
 * and migration names must be regular files. Every problem of the
 * directory is found in one pass, so a user fixes them all at once: the
 * first becomes the error, the others are listed in its detail.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "fsutil.h"
#include "migration.h"
#include "strbuf.h"

/* How many further problems the detail of the error lists. */
#define DISCOVER_MAX_LISTED 10

/* One directory entry that is, or tries to be, a migration file. */
struct discover_entry {
	char *file;             /* the name as listed; info.name points in */
	enum name_kind kind;    /* NAME_MIGRATION or NAME_MALFORMED */
	struct name_info info;  /* NAME_MIGRATION only */
	const char *why;        /* NAME_MALFORMED only: static */
	const char *key;        /* the id (a malformed name's leading digits,
				   maybe none), for sorting and grouping */
	size_t key_len;
	int cls;                /* 0 versioned (or malformed), 1 repeatable */
	int stat_errno;         /* lstat/stat failed with this, or 0 */
	mode_t mode;            /* what the name leads to (after a link) */
	bool link;              /* the entry itself is a symbolic link */
};

/* One problem found, all strings owned. */
struct discover_problem {
	char *message;
	char *detail;
	char *hint;
	char *file;
	bool list_reason;       /* listed among others with its detail's
				   first sentence (the specific reason) */
};

/* The state of one discover_dir() call. */
struct discover_ctx {
	char *dir;              /* as given, without trailing slashes */
	struct discover_entry *v;
	size_t n, cap;
	struct discover_problem *p;
	size_t np, pcap;
	bool nomem;
};

/* A copy of s, or NULL for NULL (and when out of memory). */
static char *discover_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/*
 * Record a problem about file (a name in the directory): message is
 * formatted, detail and hint are copied. Memory failures are sticky.
 */
static void discover_problem(struct discover_ctx *c, const char *file,
			     const char *detail, const char *hint,
			     const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void discover_problem(struct discover_ctx *c, const char *file,
			     const char *detail, const char *hint,
			     const char *fmt, ...)
{
	struct discover_problem *p;
	va_list ap;

	if (c->nomem)
		return;
	if (!array_grow(&c->p, &c->pcap, c->np, sizeof *c->p, 8)) {
		c->nomem = true;
		return;
	}
	p = &c->p[c->np];
	p->list_reason = false;
	va_start(ap, fmt);
	p->message = str_vformat(fmt, ap);
	va_end(ap);
	p->detail = discover_strdup(detail);
	p->hint = discover_strdup(hint);
	p->file = fsutil_join(c->dir, file);
	c->np++;
	if (p->message == NULL || (detail != NULL && p->detail == NULL) ||
	    (hint != NULL && p->hint == NULL) || p->file == NULL)
		c->nomem = true;
}

/* Free everything the context holds. */
static void discover_ctx_free(struct discover_ctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].file);
	free(c->v);
	free(c->dir);
	for (size_t i = 0; i < c->np; i++) {
		free(c->p[i].message);
		free(c->p[i].detail);
		free(c->p[i].hint);
		free(c->p[i].file);
	}
	free(c->p);
}

/* Compare the keys of a and b: the same class, then the same version
   (001 and 1 are one) or, for repeatables, the same id. */
static int discover_key_cmp(const struct discover_entry *a,
			    const struct discover_entry *b)
{
	size_t n;
	int c;

	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->cls == 0)
		return migration_version_cmp(a->key, a->key_len, b->key,
					     b->key_len);
	n = a->key_len < b->key_len ? a->key_len : b->key_len;
	if ((c = memcmp(a->key, b->key, n)) != 0)
		return c;
	return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* Order entries by id, migrations before malformed names, role, name. */
static int discover_cmp(const void *pa, const void *pb)
{
	const struct discover_entry *a = pa, *b = pb;
	int c = discover_key_cmp(a, b);

	if (c != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind == NAME_MIGRATION ? -1 : 1;
	if (a->kind == NAME_MIGRATION && a->info.role != b->info.role)
		return a->info.role < b->info.role ? -1 : 1;
	return strcmp(a->file, b->file);
}

/* discover_cmp() on pointers to entries. */
static int discover_cmp_ref(const void *pa, const void *pb)
{
	return discover_cmp(*(const struct discover_entry *const *)pa,
			    *(const struct discover_entry *const *)pb);
}

/*
 * Sort c's entries with discover_cmp(). The entries are large and qsort
 * moves what it sorts: sorting pointers and then moving each entry once
 * is several times cheaper over 10,000 files. False when out of memory.
 */
static bool discover_sort(struct discover_ctx *c)
{
	struct discover_entry **ref = malloc(c->n * sizeof *ref);
	struct discover_entry *v = malloc(c->n * sizeof *v);

	if (ref == NULL || v == NULL) {
		free(ref);
		free(v);
		return false;
	}
	for (size_t i = 0; i < c->n; i++)
		ref[i] = &c->v[i];
	qsort(ref, c->n, sizeof *ref, discover_cmp_ref);
	for (size_t i = 0; i < c->n; i++)
		v[i] = *ref[i];
	free(ref);
	free(c->v);
	c->v = v;
	c->cap = c->n;
	return true;
}

/*
 * Add one listed name that starts with a digit; find what it leads to.
 * type is the entry's d_type: a regular file needs no stat (10,000
 * migrations would be 10,000 system calls), anything else, or a file
 * system that does not say (DT_UNKNOWN), is looked at with fstatat.
 */
static void discover_add(struct discover_ctx *c, int dfd, const char *file,
			 unsigned char type)
{
	struct discover_entry *e;
	struct stat st;

	if (!array_grow(&c->v, &c->cap, c->n, sizeof *c->v, 32)) {
		c->nomem = true;
		return;
	}
	e = &c->v[c->n];
	memset(e, 0, sizeof *e);
	e->file = strdup(file);
	if (e->file == NULL) {
		c->nomem = true;
		return;
	}
	c->n++;
	/* Parse the copy: info.name must outlive the dirent buffer. */
	e->kind = name_parse(e->file, &e->info, &e->why);
	if (e->kind == NAME_MIGRATION) {
		e->key = e->info.id;
		e->key_len = e->info.id_len;
		e->cls = e->info.role == NAME_ROLE_REPEATABLE;
	} else {
		e->key = e->file;
		e->key_len = strspn(e->file, "0123456789");
	}
	if (e->kind != NAME_MIGRATION)
		return;
	if (type == DT_REG) {
		e->mode = S_IFREG;
		return;
	}
	if (fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		e->stat_errno = errno;
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		/* A link to a regular file is fine (shared migrations). */
		e->link = true;
		if (fstatat(dfd, file, &st, 0) < 0) {
			e->stat_errno = errno;
			return;
		}
	}
	e->mode = st.st_mode;
}

/* Report an entry that is not a readable regular file, if it is not. */
static void discover_check_file(struct discover_ctx *c,
				const struct discover_entry *e)
{
	static const char move_hint[] = "Migrations must be regular files; "
		"move it out of the migrations directory, or rename it so "
		"that its name does not start with a digit.";
	const char *kind;

	if (e->stat_errno == ELOOP) {
		discover_problem(c, e->file, NULL, "Point the link at the "
				 "migration file, or remove it.",
				 "%s/%s is a symbolic link loop", c->dir,
				 e->file);
		return;
	}
	if (e->stat_errno == ENOENT && e->link) {
		discover_problem(c, e->file, NULL, "Point the link at an "
				 "existing migration file, or remove it.",
				 "%s/%s is a broken symbolic link", c->dir,
				 e->file);
		return;
	}
	if (e->stat_errno != 0) {
		char why[256];

		discover_problem(c, e->file, NULL, "Check that the file "
				 "exists and that its directory can be "
				 "searched.", "cannot read %s/%s: %s", c->dir,
				 e->file, errors_strerror(e->stat_errno, why,
							  sizeof why));
		return;
	}
	if (S_ISREG(e->mode))
		return;
	if (S_ISDIR(e->mode))
		kind = "a directory";
	else if (S_ISFIFO(e->mode))
		kind = "a FIFO";
	else if (S_ISSOCK(e->mode))
		kind = "a socket";
	else if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
		kind = "a device";
	else
		kind = "not a regular file";
	discover_problem(c, e->file, NULL, move_hint,
			 "%s/%s is %s, not a migration file", c->dir, e->file,
			 kind);
}

/* True when the ids of a and b are written the same way. */
static bool discover_same_id(const struct discover_entry *a,
			     const struct discover_entry *b)
{
	return a->info.id_len == b->info.id_len &&
	       memcmp(a->info.id, b->info.id, a->info.id_len) == 0;
}

/*
 * True when a and b are NNN_name.up.sql and NNN_name.down.sql, or a
 * Flyway V and its U (which Flyway pairs by version alone: the
 * descriptions may differ).
 */
static bool discover_is_pair(const struct discover_entry *a,
			     const struct discover_entry *b)
{
	if (a->info.role == NAME_ROLE_FLYWAY_V)
		return b->info.role == NAME_ROLE_FLYWAY_U;
	return a->info.role == NAME_ROLE_UP && b->info.role == NAME_ROLE_DOWN &&
	       discover_same_id(a, b) &&
	       a->info.name_len == b->info.name_len &&
	       memcmp(a->info.name, b->info.name, a->info.name_len) == 0;
}

/* Report two entries that share a number without being a pair. */
static void discover_duplicate(struct discover_ctx *c,
			       const struct discover_entry *a,
			       const struct discover_entry *b)
{
	const char *detail;

	if (discover_same_id(a, b) &&
	    a->info.name_len == b->info.name_len &&
	    memcmp(a->info.name, b->info.name, a->info.name_len) == 0)
		detail = "The same migration exists in two formats; only a "
			 "NNN_name.up.sql and NNN_name.down.sql pair may share "
			 "a number.";
	else if ((a->info.role == NAME_ROLE_UP && b->info.role == NAME_ROLE_DOWN) ||
		 (a->info.role == NAME_ROLE_DOWN && b->info.role == NAME_ROLE_UP))
		detail = "An up/down pair must have the same number, written "
			 "the same way, and the same name.";
	else
		detail = "Each migration needs its own number, and leading "
			 "zeros do not count: 001 and 1 are the same number.";
	if (a->info.role == NAME_ROLE_FLYWAY_V || a->info.role == NAME_ROLE_FLYWAY_U ||
	    b->info.role == NAME_ROLE_FLYWAY_V || b->info.role == NAME_ROLE_FLYWAY_U)
		discover_problem(c, a->file, "Versions are compared part by "
				 "part as numbers: 1, 1.0, 001 and V1__ are the "
				 "same version.",
				 "Keep one of them, or give the other a version "
				 "higher than every existing migration.",
				 "duplicate migration version %.*s: %s/%s and %s/%s",
				 (int)a->info.id_len, a->info.id, c->dir, a->file,
				 c->dir, b->file);
	else
		discover_problem(c, a->file, detail,
				 "Keep one of them, or give the other a number higher "
				 "than every existing migration.",
				 "duplicate migration number %llu: %s/%s and %s/%s",
				 (unsigned long long)a->info.number, c->dir, a->file,
				 c->dir, b->file);
}

/* Report a .down.sql that has no .up.sql, or a Flyway U without its V. */
static void discover_orphan(struct discover_ctx *c,
			    const struct discover_entry *e)
{
	char *hint = NULL;
	struct strbuf b = STRBUF_INIT;
	bool flyway = e->info.role == NAME_ROLE_FLYWAY_U;

	if (flyway)
		strbuf_printf(&b, "Add V%.*s__%.*s.sql with the SQL to apply, or "
			      "delete the undo file.", (int)e->info.id_len,
			      e->info.id, (int)e->info.name_len, e->info.name);
	else
		strbuf_printf(&b, "Add %.*s_%.*s.up.sql with the SQL to apply, or "
			      "delete the .down.sql file.", (int)e->info.id_len,
			      e->info.id, (int)e->info.name_len, e->info.name);
	hint = strbuf_steal(&b);
	if (hint == NULL) {
		c->nomem = true;
		return;
	}
	if (flyway)
		discover_problem(c, e->file,
				 "A Flyway undo file (U) holds the rollback of the "
				 "versioned migration (V) with the same version.",
				 hint, "%s/%s has no matching V%.*s__*.sql", c->dir,
				 e->file, (int)e->info.id_len, e->info.id);
	else
		discover_problem(c, e->file,
				 "A .down.sql file holds the rollback of the .up.sql "
				 "file with the same number and name.", hint,
				 "%s/%s has no matching %.*s_%.*s.up.sql", c->dir,
				 e->file, (int)e->info.id_len, e->info.id,
				 (int)e->info.name_len, e->info.name);
	free(hint);
}

/*
 * Check the entries [i, j) that share one number; returns true when they
 * make one good migration.
 */
static bool discover_check_group(struct discover_ctx *c, size_t i, size_t j)
{
	const struct discover_entry *e = &c->v[i];
	bool ok = true;

	for (size_t k = i; k < j; k++) {
		size_t before = c->np;

		discover_check_file(c, &c->v[k]);
		if (c->np != before)
			ok = false;
	}
	if (j - i == 1 && (e->info.role == NAME_ROLE_DOWN ||
			   e->info.role == NAME_ROLE_FLYWAY_U)) {
		discover_orphan(c, e);
		return false;
	}
	if (j - i == 2 && discover_is_pair(e, &c->v[i + 1]))
		return ok;
	for (size_t k = i + 1; k < j; k++) {
		discover_duplicate(c, e, &c->v[k]);
		ok = false;
	}
	return ok;
}

/* Turn the error of the first problem into err, listing the others. */
static dbmigrate_code discover_fail(struct discover_ctx *c,
				    dbmigrate_error *err)
{
	const struct discover_problem *first = &c->p[0];
	struct strbuf b = STRBUF_INIT;

	if (c->nomem)
		return errors_nomem(err);
	errors_set(err, DBMIGRATE_EFILES, "%s", first->message);
	if (first->detail != NULL)
		strbuf_puts(&b, first->detail);
	if (c->np > 1) {
		if (b.len > 0)
			strbuf_putc(&b, '\n');
		strbuf_printf(&b, "%zu more problem%s in %s:", c->np - 1,
			      c->np == 2 ? "" : "s", c->dir);
		for (size_t i = 1; i < c->np && i <= DISCOVER_MAX_LISTED; i++) {
			const struct discover_problem *p = &c->p[i];
			/* The reason is the detail's first sentence. */
			const char *end = p->detail ? strstr(p->detail, ". ") : NULL;

			strbuf_printf(&b, "\n  %s", p->message);
			if (p->list_reason && end != NULL)
				strbuf_printf(&b, ": %.*s", (int)(end - p->detail),
					      p->detail);
		}
		if (c->np - 1 > DISCOVER_MAX_LISTED)
			strbuf_printf(&b, "\n  ... and %zu more",
				      c->np - 1 - DISCOVER_MAX_LISTED);
	}
	if (b.len > 0) {
		if (strbuf_failed(&b)) {
			strbuf_free(&b);
			return errors_nomem(err);
		}
		errors_detail(err, "%s", b.s);
	}
	strbuf_free(&b);
	if (first->hint != NULL)
		errors_hint(err, "%s", first->hint);
	errors_location(err, first->file, 0, 0, NULL, 0);
	return DBMIGRATE_EFILES;
}

/*
 * The label of a migration as messages and status show it: what its
 * file name says without the extension ("001_create_users",
 * "V1.1__add_email", "R__views").
 */
static char *discover_label(const struct discover_entry *e)
{
	struct strbuf b = STRBUF_INIT;

	switch (e->info.role) {
	case NAME_ROLE_REPEATABLE:
		strbuf_add(&b, e->info.id, e->info.id_len);
		break;
	case NAME_ROLE_FLYWAY_V:
	case NAME_ROLE_FLYWAY_U:
		strbuf_printf(&b, "V%.*s__%.*s", (int)e->info.id_len, e->info.id,
			      (int)e->info.name_len, e->info.name);
		break;
	default:
		strbuf_printf(&b, "%.*s_%.*s", (int)e->info.id_len, e->info.id,
			      (int)e->info.name_len, e->info.name);
		break;
	}
	return strbuf_steal(&b);
}

/* Fill one migration from the entries [i, j) of a good group. */
static bool discover_build(struct discover_ctx *c, size_t i, size_t j,
			   struct migration *m)
{
	const struct discover_entry *e = &c->v[i];

	memset(m, 0, sizeof *m);
	m->number = e->info.number;
	m->id = strndup(e->info.id, e->info.id_len);
	m->name = strndup(e->info.name, e->info.name_len);
	m->label = discover_label(e);
	m->path = fsutil_join(c->dir, e->file);
	switch (e->info.role) {
	case NAME_ROLE_SQL:
		m->format = MIGRATION_FORMAT_SQL;
		break;
	case NAME_ROLE_JS:
		m->format = MIGRATION_FORMAT_JS;
		break;
	case NAME_ROLE_UP:
	case NAME_ROLE_DOWN:
		/* An .up.sql alone is a pair that cannot be rolled back. */
		m->format = MIGRATION_FORMAT_PAIR;
		if (j - i == 2 &&
		    (m->down_path = fsutil_join(c->dir, c->v[i + 1].file)) == NULL)
			return false;
		break;
	case NAME_ROLE_FLYWAY_V:
	case NAME_ROLE_FLYWAY_U:
		m->format = MIGRATION_FORMAT_FLYWAY;
		if (j - i == 2 &&
		    (m->down_path = fsutil_join(c->dir, c->v[i + 1].file)) == NULL)
			return false;
		break;
	case NAME_ROLE_REPEATABLE:
		m->format = MIGRATION_FORMAT_FLYWAY;
		m->repeatable = true;
		break;
	}
	return m->id != NULL && m->name != NULL && m->label != NULL &&
	       m->path != NULL;
}

/* End of the group of entries starting at i (same id, migrations). */
static size_t discover_group_end(const struct discover_ctx *c, size_t i)
{
	size_t j = i + 1;

	if (c->v[i].kind != NAME_MIGRATION)
		return j;
	while (j < c->n && c->v[j].kind == NAME_MIGRATION &&
	       discover_key_cmp(&c->v[j], &c->v[i]) == 0)
		j++;
	return j;
}

/* Open dir for listing, explaining a failure in err. */
static DIR *discover_open(const char *dir, dbmigrate_error *err)
{
	DIR *d = opendir(dir);
	int e = errno;

	if (d != NULL)
		return d;
	if (e == ENOENT) {
		errors_set(err, DBMIGRATE_EFILES,
			   "migrations directory %s does not exist", dir);
		errors_hint(err, "Run `dbmigrate init` to create it, or pass "
			    "--dir with the directory that holds your "
			    "migrations.");
	} else if (e == ENOTDIR) {
		errors_set(err, DBMIGRATE_EFILES,
			   "migrations directory %s is not a directory", dir);
		errors_hint(err, "Pass --dir with the directory that holds "
			    "your migrations.");
	} else {
		errors_set_errno(err, DBMIGRATE_EFILES, e,
				 "cannot read migrations directory %s", dir);
		errors_hint(err, "Check the directory's permissions: dbmigrate "
			    "needs to list it and read its files.");
	}
	errors_location(err, dir, 0, 0, NULL, 0);
	return NULL;
}

/* List dir into c; false (err set) when the directory cannot be read. */
static bool discover_list(struct discover_ctx *c, dbmigrate_error *err)
{
	DIR *d = discover_open(c->dir, err);
	struct dirent *de;

	if (d == NULL)
		return false;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (name_parse(de->d_name, NULL, NULL) == NAME_IGNORED)
			continue;
		discover_add(c, dirfd(d), de->d_name, de->d_type);
	}
	if (errno != 0) {
		errors_set_errno(err, DBMIGRATE_EFILES, errno,
				 "cannot read migrations directory %s", c->dir);
		errors_location(err, c->dir, 0, 0, NULL, 0);
		closedir(d);
		return false;
	}
	closedir(d);
	return true;
}

/* List dir into out, or report every problem of it in err. */
dbmigrate_code discover_dir(const char *dir, struct migration_set *out,
			    dbmigrate_error *err)
{
	struct discover_ctx c = { 0 };
	size_t groups = 0, k = 0, dl = strlen(dir);
	dbmigrate_code rc;

	memset(out, 0, sizeof *out);
	/* Messages say dir/file: drop trailing slashes ("migrations/"). */
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	c.dir = strndup(dir, dl);
	if (c.dir == NULL)
		return errors_nomem(err);
	if (!discover_list(&c, err)) {
		discover_ctx_free(&c);
		return err->code;
	}
	if (c.nomem) {
		discover_ctx_free(&c);
		return errors_nomem(err);
	}
	if (c.n > 0 && !discover_sort(&c)) {
		discover_ctx_free(&c);
		return errors_nomem(err);
	}
	for (size_t i = 0, j; i < c.n; i = j) {
		j = discover_group_end(&c, i);
		if (c.v[i].kind == NAME_MALFORMED) {
			discover_problem(&c, c.v[i].file, c.v[i].why,
					 "Rename it, or move it out of the "
					 "migrations directory if it is not a "
					 "migration.",
					 "invalid migration file name %s/%s",
					 c.dir, c.v[i].file);
			if (!c.nomem)
				c.p[c.np - 1].list_reason = true;
		}
		else if (discover_check_group(&c, i, j))
			groups++;
	}
	if (c.np > 0 || c.nomem) {
		rc = discover_fail(&c, err);
		discover_ctx_free(&c);
		return rc;
	}
	out->dir = strdup(dir);
	out->v = calloc(groups > 0 ? groups : 1, sizeof *out->v);
	if (out->dir == NULL || out->v == NULL)
		goto nomem;
	for (size_t i = 0, j; i < c.n; i = j, k++) {
		j = discover_group_end(&c, i);
		out->n = k + 1;
		if (!discover_build(&c, i, j, &out->v[k]))
			goto nomem;
	}
	discover_ctx_free(&c);
	return DBMIGRATE_OK;
nomem:
	discover_ctx_free(&c);
	migration_set_free(out);
	return errors_nomem(err);
}
