/*
 * example.c - libdbmigrate's whole cycle: open a migrator, apply the
 * pending migrations as one batch, list them, roll the batch back, close.
 *
 *   cc example.c $(pkg-config --cflags --libs dbmigrate) -o example
 *   ./example mock: migrations      (no server: the in-memory mock driver)
 *   ./example                       (DATABASE_URL or ./.env, ./migrations)
 */
#include <stdio.h>
#include <stdlib.h>

#include <dbmigrate.h>

/* Print each migration as it finishes. */
static void example_event(const dbmigrate_event *ev, void *ctx)
{
	(void)ctx;
	if (ev->kind == DBMIGRATE_EVENT_DONE)
		printf("%s %s_%s\n", ev->down ? "rolled back" : "applied",
		       ev->entry->id, ev->entry->name);
}

/* Print where every migration stands. */
static dbmigrate_code example_status(dbmigrate *m)
{
	dbmigrate_report *report;
	dbmigrate_code rc = dbmigrate_status(m, &report);

	if (rc != DBMIGRATE_OK)
		return rc;
	for (size_t i = 0; i < dbmigrate_report_count(report); i++) {
		const dbmigrate_entry *e = dbmigrate_report_get(report, i);

		if (e->state == DBMIGRATE_EXECUTED)
			printf("  %s_%s: batch %d\n", e->id, e->name, e->batch);
		else if (e->state == DBMIGRATE_PENDING)
			printf("  %s_%s: pending\n", e->id, e->name);
		else
			printf("  %s_%s: file missing\n", e->id, e->name);
	}
	dbmigrate_report_free(report);
	return DBMIGRATE_OK;
}

/* Print the last error of m, close it and return the exit status. */
static int example_fail(dbmigrate *m)
{
	const dbmigrate_error *err = dbmigrate_last_error(m);

	if (err->file != NULL && err->line > 0)
		fprintf(stderr, "%s:%u: ", err->file, err->line);
	fprintf(stderr, "error: %s\n", err->message);
	if (err->detail != NULL)
		fprintf(stderr, "detail: %s\n", err->detail);
	if (err->hint != NULL)
		fprintf(stderr, "hint: %s\n", err->hint);
	dbmigrate_close(m);
	return EXIT_FAILURE;
}

/* example [URL [DIR]]: migrate, show, roll back, show. */
int main(int argc, char **argv)
{
	dbmigrate *m = dbmigrate_new();

	if (m == NULL)
		return EXIT_FAILURE;
	/* Options set here win; dbmigrate_load_env() fills in the rest. */
	if (argc > 1 && dbmigrate_set(m, "url", argv[1]) != DBMIGRATE_OK)
		return example_fail(m);
	if (argc > 2 && dbmigrate_set(m, "dir", argv[2]) != DBMIGRATE_OK)
		return example_fail(m);
	if (dbmigrate_load_env(m, NULL) != DBMIGRATE_OK)
		return example_fail(m);
	dbmigrate_on_event(m, example_event, NULL);

	if (dbmigrate_open(m) != DBMIGRATE_OK ||
	    dbmigrate_migrate(m, NULL) != DBMIGRATE_OK ||
	    example_status(m) != DBMIGRATE_OK ||
	    dbmigrate_rollback(m, NULL) != DBMIGRATE_OK ||
	    example_status(m) != DBMIGRATE_OK)
		return example_fail(m);
	dbmigrate_close(m);
	return EXIT_SUCCESS;
}
