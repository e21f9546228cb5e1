/*
 * check_plan.c - the planner: states, drift marks, and what up and down
 * select, from hand-made files and tracking rows (no database).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "migration.h"
#include "plan.h"
#include "testutil.h"

/* Fill a set with migrations numbered as given (checksum "c<number>"). */
static void make_files(struct migration_set *s, const char *const *ids, size_t n)
{
	s->v = calloc(n + 1, sizeof *s->v);
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		struct migration *m = &s->v[i];

		m->id = strdup(ids[i]);
		m->repeatable = migration_id_class(ids[i]) == 1;
		ck_assert(m->repeatable || migration_is_version(ids[i], strlen(ids[i])));
		m->name = strdup("m");
		m->label = malloc(strlen(ids[i]) + 3);
		strcpy(m->label, ids[i]);
		strcat(m->label, "_m");
		snprintf(m->checksum, sizeof m->checksum, "c%s", ids[i]);
		m->down.present = true;
	}
}

/* Add a row with the file's checksum unless sum is given. */
static void add_row(struct applied_set *r, const char *id, int batch, const char *sum)
{
	char buf[32];
	dbmigrate_error err = { 0 };

	if (sum == NULL) {
		snprintf(buf, sizeof buf, "c%s", id);
		sum = buf;
	}
	ck_assert_int_eq(applied_add(r, id, "m", "2026-11-24T10:00:00Z", sum, NULL, batch, &err),
			 DBMIGRATE_OK);
}

/* Flyway versions order part by part; repeatables come last, run
   again when changed, and down never picks them. */
START_TEST(versions_and_repeatables)
{
	static const char *const ids[] = { "1", "1.1", "1_2", "1.10", "2",
					   "R__a", "R__b" };
	struct migration_set files = { 0 };
	struct applied_set rows = { 0 };
	struct plan p;
	dbmigrate_error err = { 0 };
	size_t *idx, n;

	make_files(&files, ids, 7);
	add_row(&rows, "1.0", 1, "c1");     /* the same version as "1" */
	add_row(&rows, "1.1", 1, NULL);
	add_row(&rows, "R__a", 2, "old");  /* changed since */
	add_row(&rows, "R__b", 2, NULL);   /* unchanged */
	ck_assert_int_eq(plan_build(&files, &rows, &p, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(p.n, 7);
	ck_assert_int_eq(p.v[0].state, DBMIGRATE_EXECUTED);
	ck_assert_int_eq(p.v[2].state, DBMIGRATE_PENDING);
	ck_assert(!p.v[2].out_of_order);
	ck_assert_str_eq(p.v[3].mig->id, "1.10");
	ck_assert_int_eq(p.v[5].state, DBMIGRATE_PENDING);
	ck_assert(p.v[5].repeatable && p.v[5].outdated && !p.v[5].modified);
	ck_assert_ptr_nonnull(p.v[5].row);
	ck_assert_int_eq(p.v[6].state, DBMIGRATE_EXECUTED);
	ck_assert_int_eq(p.max_batch, 2);
	ck_assert_int_eq(p.max_down_batch, 1);
	/* up: the versions in order, then the changed repeatable. */
	ck_assert_int_eq(plan_select_up(&p, 0, NULL, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(p.v[idx[0]].mig->id, "1_2");
	ck_assert_str_eq(p.v[idx[2]].mig->id, "2");
	ck_assert_str_eq(p.v[idx[3]].mig->id, "R__a");
	free(idx);
	/* --to 1.10 (as 1.10.0): no repeatable. */
	ck_assert_int_eq(plan_select_up(&p, 0, "1.10.0", &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 2);
	free(idx);
	/* down: batch 1, never a repeatable, even with --step. */
	ck_assert_int_eq(plan_select_down(&p, 0, NULL, false, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(p.v[idx[0]].row->id, "1.1");
	free(idx);
	ck_assert_int_eq(plan_select_down(&p, 10, NULL, true, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 2);
	free(idx);
	/* A repeatable's row label is its id. */
	ck_assert_str_eq(p.v[6].row->label, "R__b");
	plan_free(&p);
	applied_free(&rows);
	migration_set_free(&files);
}
END_TEST

START_TEST(states_and_marks)
{
	static const char *const ids[] = { "001", "002", "003", "004" };
	struct migration_set files = { 0 };
	struct applied_set rows = { 0 };
	struct plan p;
	dbmigrate_error err = { 0 };

	make_files(&files, ids, 4);
	add_row(&rows, "001", 1, NULL);
	add_row(&rows, "003", 2, "changed");
	add_row(&rows, "005", 2, NULL);   /* file gone */
	ck_assert_int_eq(plan_build(&files, &rows, &p, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(p.n, 5);
	ck_assert_int_eq(p.max_batch, 2);
	ck_assert_int_eq(p.v[0].state, DBMIGRATE_EXECUTED);
	ck_assert(!p.v[0].modified);
	ck_assert_int_eq(p.v[1].state, DBMIGRATE_PENDING);
	ck_assert(p.v[1].out_of_order);  /* 002 < newest applied 005 */
	ck_assert_int_eq(p.v[2].state, DBMIGRATE_EXECUTED);
	ck_assert(p.v[2].modified);
	ck_assert_int_eq(p.v[3].state, DBMIGRATE_PENDING);
	ck_assert(p.v[3].out_of_order);
	ck_assert_int_eq(p.v[4].state, DBMIGRATE_MISSING);
	ck_assert_str_eq(p.v[4].row->id, "005");
	plan_free(&p);
	applied_free(&rows);
	migration_set_free(&files);
}
END_TEST

START_TEST(seed_ids_match_by_number)
{
	static const char *const ids[] = { "001", "002" };
	struct migration_set files = { 0 };
	struct applied_set rows = { 0 };
	struct plan p;
	dbmigrate_error err = { 0 };

	make_files(&files, ids, 2);
	add_row(&rows, "1", 1, "c001");      /* written by a tool without padding */
	add_row(&rows, "002", 1, NULL);
	ck_assert_int_eq(plan_build(&files, &rows, &p, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_int_eq(p.v[0].state, DBMIGRATE_EXECUTED);
	ck_assert_int_eq(p.v[1].state, DBMIGRATE_EXECUTED);
	plan_free(&p);
	applied_free(&rows);
	migration_set_free(&files);
}
END_TEST

START_TEST(rows_without_checksum_are_not_modified)
{
	static const char *const ids[] = { "001" };
	struct migration_set files = { 0 };
	struct applied_set rows = { 0 };
	struct plan p;
	dbmigrate_error err = { 0 };

	make_files(&files, ids, 1);
	ck_assert_int_eq(applied_add(&rows, "001", "m", NULL, NULL, NULL, 1, &err), DBMIGRATE_OK);
	ck_assert_int_eq(plan_build(&files, &rows, &p, &err), DBMIGRATE_OK);
	ck_assert(!p.v[0].modified);
	plan_free(&p);
	applied_free(&rows);
	migration_set_free(&files);
}
END_TEST

START_TEST(duplicate_rows_are_an_error)
{
	static const char *const ids[] = { "001" };
	struct migration_set files = { 0 };
	struct applied_set rows = { 0 };
	struct plan p;
	dbmigrate_error err = { 0 };

	make_files(&files, ids, 1);
	add_row(&rows, "1", 1, NULL);
	add_row(&rows, "001", 1, NULL);
	ck_assert_int_eq(plan_build(&files, &rows, &p, &err), DBMIGRATE_EDATABASE);
	ck_assert_ptr_nonnull(strstr(err.message, "twice"));
	errors_clear(&err);
	applied_free(&rows);
	migration_set_free(&files);
}
END_TEST

START_TEST(up_selection)
{
	static const char *const ids[] = { "1", "2", "10", "11", "999", "1000" };
	struct migration_set files = { 0 };
	struct applied_set rows = { 0 };
	struct plan p;
	dbmigrate_error err = { 0 };
	size_t *idx, n;

	make_files(&files, ids, 6);
	add_row(&rows, "1", 1, NULL);
	ck_assert_int_eq(plan_build(&files, &rows, &p, &err), DBMIGRATE_OK);
	ck_assert_int_eq(plan_select_up(&p, 0, NULL, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(p.v[idx[0]].mig->id, "2");
	ck_assert_str_eq(p.v[idx[1]].mig->id, "10");
	ck_assert_str_eq(p.v[idx[3]].mig->id, "999");
	ck_assert_str_eq(p.v[idx[4]].mig->id, "1000");
	free(idx);
	ck_assert_int_eq(plan_select_up(&p, 2, NULL, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(p.v[idx[1]].mig->id, "10");
	free(idx);
	ck_assert_int_eq(plan_select_up(&p, 0, "011", &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(p.v[idx[2]].mig->id, "11");
	free(idx);
	ck_assert_int_eq(plan_select_up(&p, 0, "12", &idx, &n, &err), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err.message, "12"));
	ck_assert_int_eq(plan_select_up(&p, 0, "x1", &idx, &n, &err), DBMIGRATE_EUSAGE);
	errors_clear(&err);
	plan_free(&p);
	applied_free(&rows);
	migration_set_free(&files);
}
END_TEST

START_TEST(down_selection)
{
	static const char *const ids[] = { "001", "002", "003", "004", "005" };
	struct migration_set files = { 0 };
	struct applied_set rows = { 0 };
	struct plan p;
	dbmigrate_error err = { 0 };
	size_t *idx, n;

	make_files(&files, ids, 5);
	add_row(&rows, "001", 1, NULL);
	add_row(&rows, "002", 1, NULL);
	add_row(&rows, "004", 2, NULL);
	add_row(&rows, "003", 3, NULL);   /* applied out of order, newest batch */
	ck_assert_int_eq(plan_build(&files, &rows, &p, &err), DBMIGRATE_OK);
	/* default: the newest batch only */
	ck_assert_int_eq(plan_select_down(&p, 0, NULL, false, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p.v[idx[0]].mig->id, "003");
	free(idx);
	/* --step 3: the last three applied, whatever their batch */
	ck_assert_int_eq(plan_select_down(&p, 3, NULL, false, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(p.v[idx[0]].mig->id, "003");
	ck_assert_str_eq(p.v[idx[1]].mig->id, "004");
	ck_assert_str_eq(p.v[idx[2]].mig->id, "002");
	free(idx);
	/* --to 001: everything above 001, newest batch first */
	ck_assert_int_eq(plan_select_down(&p, 0, "001", false, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(p.v[idx[0]].mig->id, "003");
	ck_assert_str_eq(p.v[idx[2]].mig->id, "002");
	free(idx);
	/* all (reset): every applied migration */
	ck_assert_int_eq(plan_select_down(&p, 0, NULL, true, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(p.v[idx[3]].mig->id, "001");
	free(idx);
	plan_free(&p);
	applied_free(&rows);
	migration_set_free(&files);
}
END_TEST

START_TEST(empty_everything)
{
	struct migration_set files = { 0 };
	struct applied_set rows = { 0 };
	struct plan p;
	dbmigrate_error err = { 0 };
	size_t *idx, n;

	ck_assert_int_eq(plan_build(&files, &rows, &p, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_int_eq(plan_select_down(&p, 0, NULL, false, &idx, &n, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(n, 0);
	free(idx);
	plan_free(&p);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		states_and_marks, seed_ids_match_by_number,
		rows_without_checksum_are_not_modified,
		duplicate_rows_are_an_error, up_selection, down_selection,
		empty_everything, versions_and_repeatables, NULL
	};

	return tu_run_suite(tu_suite("plan", 0, tests));
}
