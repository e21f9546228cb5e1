/*
 * plan.c - the planner: files and tracking rows merged into one ordered
 * list, and the selections `up` and `down` make from it. It never talks
 * to a database; migrator.c feeds it what the driver read.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "strbuf.h"

dbmigrate_code applied_add(struct applied_set *s, const char *id,
			   const char *name, const char *executed_at,
			   const char *checksum, const char *down_sql,
			   int batch, dbmigrate_error *err)
{
	struct applied *a;

	if (!array_grow(&s->v, &s->cap, s->n, sizeof *s->v, 16))
		return errors_nomem(err);
	a = &s->v[s->n];
	memset(a, 0, sizeof *a);
	if (id == NULL)
		id = "";
	if (name == NULL)
		name = "";
	{
		/* One block for the row's strings: the id, the name, the
		   label, then those that may be NULL. */
		const char *opt[3] = { executed_at, checksum, down_sql };
		char **dst[3] = { &a->executed_at, &a->checksum, &a->down_sql };
		size_t lid = strlen(id), lname = strlen(name);
		size_t size = 2 * (lid + lname) + 4, len[3];
		char *p;

		for (int k = 0; k < 3; k++) {
			len[k] = opt[k] != NULL ? strlen(opt[k]) + 1 : 0;
			size += len[k];
		}
		if ((p = a->id = malloc(size)) == NULL)
			return errors_nomem(err);
		memcpy(p, id, lid + 1);
		p += lid + 1;
		a->name = memcpy(p, name, lname + 1);
		p += lname + 1;
		a->label = p;
		memcpy(p, id, lid);
		p += lid;
		if (lname > 0) {
			*p++ = '_';
			memcpy(p, name, lname);
			p += lname;
		}
		*p++ = '\0';
		for (int k = 0; k < 3; k++) {
			if (opt[k] == NULL)
				continue;
			*dst[k] = memcpy(p, opt[k], len[k]);
			p += len[k];
		}
	}
	a->batch = batch;
	a->cls = migration_id_class(a->id);
	/* A repeatable's label is its id: "R__views", not "R__views_views". */
	if (a->cls == 1)
		a->label[strlen(a->id)] = '\0';
	s->n++;
	return DBMIGRATE_OK;
}

dbmigrate_code applied_progress(struct applied *a, const char *progress,
				dbmigrate_error *err)
{
	unsigned done, total;
	char dir[8], extra;

	if (sscanf(progress, "%7s %u/%u%c", dir, &done, &total, &extra) != 3 ||
	    (strcmp(dir, "up") != 0 && strcmp(dir, "down") != 0) ||
	    done > total) {
		errors_set(err, DBMIGRATE_EDATABASE,
			   "the tracking table's progress of migration %s is \"%s\", which dbmigrate does not write",
			   a->id, progress);
		errors_hint(err, "Set it to NULL if the migration ran whole, or delete the row if none of it ran.");
		return DBMIGRATE_EDATABASE;
	}
	a->partial = true;
	a->partial_down = strcmp(dir, "down") == 0;
	a->partial_done = done;
	a->partial_total = total;
	return DBMIGRATE_OK;
}

void applied_free(struct applied_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].id); /* the block of all its strings */
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* migration_id_cmp() of ids whose classes are known (no rescan). */
static int plan_key_cmp(int ca, const char *a, int cb, const char *b)
{
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (ca == 0)
		return migration_version_cmp(a, strlen(a), b, strlen(b));
	return strcmp(a, b);
}

/* Order rows as migration_id_cmp() orders ids. */
static int plan_cmp_rows(const void *a, const void *b)
{
	const struct applied *x = *(const struct applied *const *)a;
	const struct applied *y = *(const struct applied *const *)b;

	return plan_key_cmp(x->cls, x->id, y->cls, y->id);
}

/* Set the state of item it, which has a row (and maybe a file). */
static void plan_applied_state(struct plan *out, struct plan_item *it)
{
	struct migration *f = it->mig;
	struct applied *r = it->row;
	bool differ = f != NULL && r->checksum != NULL && r->checksum[0] != '\0' &&
		      f->checksum[0] != '\0' && strcmp(r->checksum, f->checksum) != 0;

	it->state = f != NULL ? DBMIGRATE_EXECUTED : DBMIGRATE_MISSING;
	it->repeatable = r->cls == 1;
	if (r->batch > out->max_batch)
		out->max_batch = r->batch;
	if (!it->repeatable && r->batch > out->max_down_batch)
		out->max_down_batch = r->batch;
	if (it->repeatable && differ) {
		/* Changed since applied: it runs again, replacing its row. */
		it->state = DBMIGRATE_PENDING;
		it->outdated = true;
	} else if (differ) {
		it->modified = true;
	}
	if (r->partial) {
		/* Started and did not finish: what it left is unknown. */
		it->state = DBMIGRATE_PARTIAL;
		it->partial_down = r->partial_down;
		it->partial_done = r->partial_done;
		it->partial_total = r->partial_total;
	}
	it->down_from_table = !it->repeatable && r->down_sql != NULL &&
			      (f == NULL || !f->down.present);
}

dbmigrate_code plan_build(struct migration_set *files,
			  struct applied_set *rows, struct plan *out,
			  dbmigrate_error *err)
{
	struct applied **sorted = NULL;
	size_t i = 0, j = 0, n = 0;
	const char *newest = NULL;

	memset(out, 0, sizeof *out);
	if (rows->n > 0) {
		sorted = malloc(rows->n * sizeof *sorted);
		if (sorted == NULL)
			return errors_nomem(err);
		for (size_t k = 0; k < rows->n; k++)
			sorted[k] = &rows->v[k];
		qsort(sorted, rows->n, sizeof *sorted, plan_cmp_rows);
	}
	for (size_t k = 0; k + 1 < rows->n; k++) {
		if (plan_cmp_rows(&sorted[k], &sorted[k + 1]) == 0) {
			errors_set(err, DBMIGRATE_EDATABASE,
				   "the tracking table records migration %s twice (as \"%s\" and \"%s\")",
				   sorted[k]->id, sorted[k]->id, sorted[k + 1]->id);
			errors_hint(err, "Delete the duplicate row from the tracking table.");
			free(sorted);
			return DBMIGRATE_EDATABASE;
		}
	}
	out->v = calloc(files->n + rows->n + 1, sizeof *out->v);
	if (out->v == NULL) {
		free(sorted);
		return errors_nomem(err);
	}
	/* Merge two lists sorted the same way. */
	while (i < files->n || j < rows->n) {
		struct plan_item *it = &out->v[n++];
		struct applied *r = j < rows->n ? sorted[j] : NULL;
		struct migration *f = i < files->n ? &files->v[i] : NULL;

		if (f != NULL && r != NULL) {
			int c = plan_key_cmp(f->repeatable, f->id, r->cls, r->id);

			if (c < 0)
				r = NULL; /* the file comes first: pending */
			else if (c > 0)
				f = NULL; /* the row comes first: missing */
		}
		it->mig = f;
		it->row = r;
		if (f != NULL)
			i++;
		if (r != NULL)
			j++;
		if (r == NULL) {
			it->state = DBMIGRATE_PENDING;
			it->repeatable = f->repeatable;
			continue;
		}
		plan_applied_state(out, it);
		if (r->cls == 0 && (newest == NULL ||
				    migration_id_cmp(r->id, newest) > 0))
			newest = r->id;
	}
	out->n = n;
	for (size_t k = 0; k < n && newest != NULL; k++)
		if (out->v[k].state == DBMIGRATE_PENDING && !out->v[k].repeatable &&
		    migration_id_cmp(out->v[k].mig->id, newest) < 0)
			out->v[k].out_of_order = true;
	free(sorted);
	return DBMIGRATE_OK;
}

/* Check a --to id; EUSAGE when it is not a version. */
static dbmigrate_code plan_parse_to(const char *to, dbmigrate_error *err)
{
	if (migration_id_class(to) != 0) {
		errors_set(err, DBMIGRATE_EUSAGE, "invalid migration id \"%s\" for --to", to);
		errors_hint(err, "Give the digits a migration file name starts with, e.g. --to 002 (or a Flyway version, e.g. --to 1.1).");
		return DBMIGRATE_EUSAGE;
	}
	return DBMIGRATE_OK;
}

dbmigrate_code plan_select_up(const struct plan *p, unsigned step,
			      const char *to, size_t **idx, size_t *n,
			      dbmigrate_error *err)
{
	size_t *v, k = 0;

	*idx = NULL;
	*n = 0;
	if (to != NULL) {
		bool known = false;

		if (plan_parse_to(to, err) != DBMIGRATE_OK)
			return DBMIGRATE_EUSAGE;
		for (size_t i = 0; i < p->n; i++)
			if (p->v[i].mig != NULL && !p->v[i].repeatable &&
			    migration_id_cmp(p->v[i].mig->id, to) == 0)
				known = true;
		if (!known) {
			errors_set(err, DBMIGRATE_EUSAGE, "no migration file has id %s (--to)", to);
			errors_hint(err, "Run `dbmigrate status` to see the ids.");
			return DBMIGRATE_EUSAGE;
		}
	}
	v = malloc((p->n + 1) * sizeof *v);
	if (v == NULL)
		return errors_nomem(err);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_item *it = &p->v[i];

		if (it->state != DBMIGRATE_PENDING ||
		    (to != NULL && (it->repeatable ||
				    migration_id_cmp(it->mig->id, to) > 0)))
			continue;
		if (step > 0 && k == step)
			break;
		v[k++] = i;
	}
	*idx = v;
	*n = k;
	return DBMIGRATE_OK;
}

/* A rollback candidate: its batch and its index in the plan. */
struct plan_down_key {
	int batch;
	size_t index;
};

/* Newest batch first, then the later plan position (higher number). */
static int plan_cmp_down(const void *a, const void *b)
{
	const struct plan_down_key *x = a, *y = b;

	if (x->batch != y->batch)
		return x->batch > y->batch ? -1 : 1;
	return x->index > y->index ? -1 : x->index < y->index;
}

/* Sort plan indices v[0..n) into rollback order. */
static dbmigrate_code plan_sort_down(size_t *v, size_t n, const struct plan *p,
				     dbmigrate_error *err)
{
	struct plan_down_key *keys;

	if (n < 2)
		return DBMIGRATE_OK;
	keys = malloc(n * sizeof *keys);
	if (keys == NULL)
		return errors_nomem(err);
	for (size_t i = 0; i < n; i++) {
		keys[i].batch = p->v[v[i]].row->batch;
		keys[i].index = v[i];
	}
	qsort(keys, n, sizeof *keys, plan_cmp_down);
	for (size_t i = 0; i < n; i++)
		v[i] = keys[i].index;
	free(keys);
	return DBMIGRATE_OK;
}

dbmigrate_code plan_select_down(const struct plan *p, unsigned step,
				const char *to, bool all, size_t **idx,
				size_t *n, dbmigrate_error *err)
{
	size_t *v, k = 0;

	*idx = NULL;
	*n = 0;
	if (to != NULL && plan_parse_to(to, err) != DBMIGRATE_OK)
		return DBMIGRATE_EUSAGE;
	v = malloc((p->n + 1) * sizeof *v);
	if (v == NULL)
		return errors_nomem(err);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_item *it = &p->v[i];

		if (it->row == NULL || it->repeatable)
			continue;
		if (all || step > 0)
			v[k++] = i;
		else if (to != NULL) {
			if (it->row->cls != 0 || migration_id_cmp(it->row->id, to) > 0)
				v[k++] = i;
		} else if (it->row->batch == p->max_down_batch)
			v[k++] = i;
	}
	if (plan_sort_down(v, k, p, err) != DBMIGRATE_OK) {
		free(v);
		return DBMIGRATE_ENOMEM;
	}
	if (step > 0 && k > step)
		k = step;
	*idx = v;
	*n = k;
	return DBMIGRATE_OK;
}

dbmigrate_code plan_find(const struct plan *p, const char *id,
			 const char *what, struct plan_item **out,
			 dbmigrate_error *err)
{
	*out = NULL;
	if (id == NULL || migration_id_class(id) == 2) {
		errors_set(err, DBMIGRATE_EUSAGE, "invalid migration id \"%s\" for %s",
			   id != NULL ? id : "", what);
		errors_hint(err, "Give the digits a migration file name starts with, e.g. 002 (a Flyway version such as 1.1, or R__name for a repeatable).");
		return DBMIGRATE_EUSAGE;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_item *it = &p->v[i];

		if ((it->mig != NULL && migration_id_cmp(it->mig->id, id) == 0) ||
		    (it->row != NULL && migration_id_cmp(it->row->id, id) == 0)) {
			*out = &p->v[i];
			break;
		}
	}
	return DBMIGRATE_OK;
}

void plan_free(struct plan *p)
{
	free(p->v);
	memset(p, 0, sizeof *p);
}
