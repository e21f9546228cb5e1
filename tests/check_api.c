/*
 * check_api.c - the public API (dbmigrate.h) end to end against the mock
 * driver, loaded with dlopen from $DBMIGRATE_DRIVER_PATH exactly as a
 * user's program loads it: the seed workflow, atomic batches, errors
 * with file and line, transaction rules, events, drift, interrupts.
 */
#define _GNU_SOURCE /* asprintf in test code */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbmigrate.h"
#include "testutil.h"


/* Delete dir/name. */
static void remove_file(const char *dir, const char *name)
{
	char *path;

	ck_assert_int_ne(asprintf(&path, "%s/%s", dir, name), -1);
	ck_assert_int_eq(unlink(path), 0);
	free(path);
}

/* A scratch project: a directory with migrations/ and a mock state file. */
/* Make a project holding the seed's three migrations. */
static struct tu_project project_new(void)
{
	struct tu_project p = tu_project_new(NULL);

	ck_assert_int_ne(asprintf(&p.url, "mock:%s/state.db", p.root), -1);
	tu_write_seed(p.dir);
	return p;
}

/* A migrator on the project, with an optional URL suffix ("?fail=x"). */
static dbmigrate *open_project(const struct tu_project *p, const char *suffix)
{
	dbmigrate *m;
	char *url;

	ck_assert_int_ne(asprintf(&url, "%s%s", p->url, suffix ? suffix : ""), -1);
	m = tu_migrator(url, p->dir);
	free(url);
	return m;
}

/* Count entries of a status report in a state. */
static size_t count_state(dbmigrate *m, dbmigrate_state st)
{
	dbmigrate_report *r;
	size_t n = 0;

	ck_assert_int_eq(dbmigrate_status(m, &r), DBMIGRATE_OK);
	for (size_t i = 0; i < dbmigrate_report_count(r); i++)
		n += dbmigrate_report_get(r, i)->state == st;
	dbmigrate_report_free(r);
	return n;
}

/* Events recorded by record_event. */
struct events {
	char log[8192];
	int plan_outside;
};

static void record_event(const dbmigrate_event *ev, void *ctx)
{
	struct events *e = ctx;
	static const char *const names[] = { "PLAN", "START", "DONE", "COMMIT",
					     "WARNING", "NOTICE", "DEBUG", "LOCK",
					     "NOTE" };
	size_t len = strlen(e->log);
	char together[32] = "";

	if (ev->kind == DBMIGRATE_EVENT_DEBUG)
		return;
	/* " xN": sent to the server with N-1 others (apply_batch). */
	if (ev->together > 1)
		snprintf(together, sizeof together, " x%zu", ev->together);
	snprintf(e->log + len, sizeof e->log - len, "%s %s%s%s%s%s\n",
		 names[ev->kind],
		 ev->entry ? ev->entry->id : (ev->message ? ev->message : ""),
		 ev->outside_transaction ? " outside" : "",
		 ev->own_transaction ? " own" : "",
		 ev->not_atomic ? " not-atomic" : "", together);
	if (ev->kind == DBMIGRATE_EVENT_START || ev->kind == DBMIGRATE_EVENT_DONE)
		ck_assert_uint_ge(ev->together, 1);
	if (ev->kind == DBMIGRATE_EVENT_PLAN && ev->outside_transaction) {
		e->plan_outside++;
		ck_assert_ptr_nonnull(ev->reason);
		/* The seed's reason, or the mock's stand-ins for other
		   dialects. */
		ck_assert_msg(strstr(ev->reason, "CONCURRENTLY") != NULL ||
				      strncmp(ev->reason, "mock: ", 6) == 0,
			      "reason: %s", ev->reason);
	}
}

START_TEST(seed_workflow)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	struct events ev = { "", 0 };
	dbmigrate_report *r;

	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_init(m), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_PENDING), 3);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	/* 003 holds CREATE INDEX CONCURRENTLY: it runs on its own, after the
	   transaction of 001 and 002 committed. 001 and 002, small, travel
	   to the server together: both start, then both are done. */
	ck_assert_int_eq(ev.plan_outside, 1);
	ck_assert_msg(strstr(ev.log,
		"PLAN 001\nPLAN 002\nPLAN 003 outside\nSTART 001 x2\nSTART 002 x2\n"
		"DONE 001 x2\nDONE 002 x2\nCOMMIT \nSTART 003 outside\nDONE 003 outside\n")
		!= NULL, "events:\n%s", ev.log);
	ck_assert_int_eq(dbmigrate_status(m, &r), DBMIGRATE_OK);
	ck_assert_uint_eq(dbmigrate_report_count(r), 3);
	for (size_t i = 0; i < 3; i++) {
		const dbmigrate_entry *e = dbmigrate_report_get(r, i);

		ck_assert_int_eq(e->state, DBMIGRATE_EXECUTED);
		ck_assert_int_eq(e->batch, 1);
		ck_assert_ptr_nonnull(e->executed_at);
		ck_assert_uint_eq(strlen(e->checksum), 64);
		ck_assert_str_eq(e->checksum, e->recorded_checksum);
	}
	ck_assert_str_eq(dbmigrate_report_get(r, 0)->name, "create_users_table");
	dbmigrate_report_free(r);
	dbmigrate_close(m);

	/* A new run sees the persisted state; down undoes the last batch. */
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK); /* nothing */
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 3);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_PENDING), 3);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(batches_and_down_of_last_batch_only)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	dbmigrate_run_options one = { .step = 1 };
	dbmigrate_report *r;

	ck_assert_int_eq(dbmigrate_migrate(m, &one), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_status(m, &r), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_report_get(r, 0)->batch, 1);
	ck_assert_int_eq(dbmigrate_report_get(r, 1)->batch, 2);
	ck_assert_int_eq(dbmigrate_report_get(r, 2)->batch, 2);
	dbmigrate_report_free(r);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 1);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK); /* nothing left */
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(to_and_step)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	dbmigrate_run_options to2 = { .to = "002" }, to1 = { .to = "1" };
	dbmigrate_run_options step2 = { .step = 2 }, bad = { .to = "9" };

	ck_assert_int_eq(dbmigrate_migrate(m, &to2), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 2);
	ck_assert_int_eq(dbmigrate_migrate(m, &bad), DBMIGRATE_EUSAGE);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	/* down --step 2 crosses batches: 003 (batch 2) and 002 (batch 1) */
	ck_assert_int_eq(dbmigrate_rollback(m, &step2), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 1);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_rollback(m, &to1), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 1);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

/*
 * Statements are handed to the driver NUL-terminated in place, in the
 * file's text; the text is whole again afterwards: an error quotes its
 * source line entire, semicolons included, and the file still matches
 * its checksum.
 */
START_TEST(source_line_is_whole_after_a_failure)
{
	struct tu_project p = project_new();
	dbmigrate *m;
	const dbmigrate_error *e;

	remove_file(p.dir, "003_add_email_index_to_users.ts");
	free(tu_write(p.dir, "003_one_line.sql",
		      "-- migrate:up\nCREATE TABLE a (id int); SELECT boom; CREATE TABLE b (id int);\n"
		      "-- migrate:down\nDROP TABLE b; DROP TABLE a;\n"));
	m = open_project(&p, "?fail=boom");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	e = dbmigrate_last_error(m);
	ck_assert_uint_eq(e->line, 2);
	ck_assert_uint_eq(e->column, 26);
	ck_assert_str_eq(e->source_line,
			 "CREATE TABLE a (id int); SELECT boom; CREATE TABLE b (id int);");
	dbmigrate_close(m);
	/* Applied for real, rolled back (the down's statements are ended
	   in place too) and applied again: no file reads as changed. */
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 3);
	{
		dbmigrate_report *r;

		ck_assert_int_eq(dbmigrate_status(m, &r), DBMIGRATE_OK);
		for (size_t i = 0; i < dbmigrate_report_count(r); i++)
			ck_assert(!dbmigrate_report_get(r, i)->modified);
		dbmigrate_report_free(r);
	}
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(failure_rolls_back_the_whole_batch)
{
	struct tu_project p = project_new();
	struct events ev = { "", 0 };
	dbmigrate *m;
	const dbmigrate_error *e;

	/* 003 -> make a transactional failing migration 004 after 001, 002 */
	remove_file(p.dir, "003_add_email_index_to_users.ts");
	free(tu_write(p.dir, "003_bad.sql",
		      "-- migrate:up\nCREATE TABLE posts (id int);\n"
		      "INSERT INTO posts VALUES (1);\n  SELECT boom FROM posts;\n"
		      "-- migrate:down\nDROP TABLE posts;\n"));
	m = open_project(&p, "?fail=boom");
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	/* The three travelled together; the two before the failure ran. */
	ck_assert_msg(strstr(ev.log, "START 001 x3\nSTART 002 x3\nSTART 003 x3\n"
				     "DONE 001 x3\nDONE 002 x3\n") != NULL,
		      "events:\n%s", ev.log);
	ck_assert_int_eq(tu_count(ev.log, "DONE 003"), 0);
	e = dbmigrate_last_error(m);
	ck_assert_int_eq(e->code, DBMIGRATE_EMIGRATION);
	ck_assert_ptr_nonnull(strstr(e->file, "003_bad.sql"));
	ck_assert_uint_eq(e->line, 4);
	ck_assert_uint_eq(e->column, 3);
	ck_assert_str_eq(e->source_line, "  SELECT boom FROM posts;");
	ck_assert_str_eq(e->sqlstate, "XX000");
	ck_assert_str_eq(e->migration, "003_bad");
	ck_assert_ptr_nonnull(strstr(e->detail, "nothing of its 3 migrations was applied"));
	dbmigrate_close(m);
	/* Nothing of the batch is recorded, and nothing of it remains. */
	m = open_project(&p, NULL);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	/* With the fault gone, the same batch applies: users did not survive
	   the rolled-back batch (else CREATE TABLE users would fail). */
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(wrapped_migration_rolls_back_with_the_batch)
{
	struct tu_project p = project_new();
	dbmigrate *m;
	char *state;

	remove_file(p.dir, "003_add_email_index_to_users.ts");
	free(tu_write(p.dir, "003_wrapped.ts",
		      "export const up = `\n  BEGIN;\n  ALTER TABLE users ADD COLUMN temp TEXT;\n"
		      "  COMMIT;\n`;\nexport const down = `ALTER TABLE users DROP COLUMN temp;`;\n"));
	free(tu_write(p.dir, "004_fails.sql", "-- migrate:up\nSELECT kaboom;\n"));
	m = open_project(&p, "?fail=kaboom");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	dbmigrate_close(m);
	m = open_project(&p, NULL);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	dbmigrate_close(m);
	/* The wrapper was not sent: the mock would have logged BEGIN/COMMIT
	   statements in its journal. Nothing was committed at all. */
	state = tu_read(p.url + strlen("mock:"));
	ck_assert(state == NULL || strstr(state, "temp") == NULL);
	free(state);
	tu_project_free(&p);
}
END_TEST

START_TEST(commit_in_the_middle_is_refused)
{
	struct tu_project p = project_new();
	dbmigrate *m;
	const dbmigrate_error *e;

	free(tu_write(p.dir, "004_commit.sql",
		      "-- migrate:up\nCREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n"));
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EFILES);
	e = dbmigrate_last_error(m);
	ck_assert_ptr_nonnull(strstr(e->file, "004_commit.sql"));
	ck_assert_uint_eq(e->line, 3);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(bad_files_apply_nothing)
{
	struct tu_project p = project_new();
	dbmigrate *m;

	free(tu_write(p.dir, "004_quote.sql", "-- migrate:up\nSELECT 'unterminated;\n"));
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EFILES);
	ck_assert_uint_eq(dbmigrate_last_error(m)->line, 2);
	dbmigrate_close(m);
	remove_file(p.dir, "004_quote.sql");
	free(tu_write(p.dir, "1_dup.sql", "-- migrate:up\nSELECT 1;\n"));
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(m), "1_dup.sql"));
	dbmigrate_close(m);
	/* Nothing ran: no state file was ever written. */
	ck_assert(!tu_exists(p.url + strlen("mock:")));
	tu_project_free(&p);
}
END_TEST

START_TEST(down_needs_every_down_section)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);

	free(tu_write(p.dir, "004_nodown.sql", "-- migrate:up\nCREATE TABLE x (id int);\n"));
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(m), "004_nodown"));
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 4);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(drift_is_reported)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	dbmigrate_report *r;
	char *path;

	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	/* CRLF line endings alone are not a change. */
	path = tu_write(p.dir, "002_create_user_sessions_table.sql",
			"-- migrate:up\r\nCREATE TABLE user_sessions (\r\n  id SERIAL PRIMARY KEY,\r\n"
			"  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE\r\n);\r\n\r\n"
			"-- migrate:down\r\nDROP TABLE user_sessions;\r\n");
	free(path);
	free(tu_write(p.dir, "001_create_users_table.ts", "export const up = `SELECT 2;`;\n"));
	path = tu_write(p.dir, "003_add_email_index_to_users.ts", "");
	unlink(path);
	free(path);
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_status(m, &r), DBMIGRATE_OK);
	ck_assert(dbmigrate_report_get(r, 0)->modified);
	ck_assert(!dbmigrate_report_get(r, 1)->modified);
	ck_assert_int_eq(dbmigrate_report_get(r, 2)->state, DBMIGRATE_MISSING);
	ck_assert_str_eq(dbmigrate_report_get(r, 2)->name, "add_email_index_to_users");
	dbmigrate_report_free(r);
	ck_assert_int_eq(dbmigrate_validate(m, NULL), DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(strstr(dbmigrate_last_error(m)->detail, "001_create_users_table"));
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(reset_drops_everything)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	dbmigrate_run_options one = { .step = 1 };

	ck_assert_int_eq(dbmigrate_migrate(m, &one), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_reset(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	/* and up again works from scratch (tables were dropped) */
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 3);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(dry_run_changes_nothing)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	dbmigrate_run_options dry = { .dry_run = true };
	struct events ev = { "", 0 };

	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, &dry), DBMIGRATE_OK);
	ck_assert_ptr_nonnull(strstr(ev.log, "PLAN 003 outside"));
	ck_assert_ptr_null(strstr(ev.log, "START"));
	ck_assert(!tu_exists(p.url + strlen("mock:")));
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(options_are_validated)
{
	dbmigrate *m = dbmigrate_new();

	ck_assert_int_eq(dbmigrate_set(m, "nosuch", "x"), DBMIGRATE_EUSAGE);
	ck_assert_int_eq(dbmigrate_set(m, "port", "99999"), DBMIGRATE_EUSAGE);
	ck_assert_int_eq(dbmigrate_set(m, "driver", "../evil"), DBMIGRATE_EUSAGE);
	ck_assert_int_eq(dbmigrate_set(m, "password", "hunter2"), DBMIGRATE_OK);
	ck_assert_ptr_null(dbmigrate_get(m, "password"));
	ck_assert_int_eq(dbmigrate_set(m, "table", "public.schema_migrations"), DBMIGRATE_OK);
	ck_assert_str_eq(dbmigrate_get(m, "table"), "public.schema_migrations");
	ck_assert_int_eq(dbmigrate_set(m, "table", "x; DROP TABLE y"), DBMIGRATE_EUSAGE);
	dbmigrate_close(m);
}
END_TEST

START_TEST(connection_refused_and_unknown_driver)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, "?refuse=1");

	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_ECONNECT);
	dbmigrate_close(m);
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_set(m, "driver", "nosuchdriver"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(m), "nosuchdriver"));
	dbmigrate_close(m);
	/* The driver is loaded before the files are read, but a file's
	   error still comes first: it is the one to fix. */
	free(tu_write(p.dir, "1_dup.sql", "-- migrate:up\nSELECT 1;\n"));
	for (int status = 0; status < 2; status++) {
		dbmigrate_report *r = NULL;

		m = open_project(&p, NULL);
		ck_assert_int_eq(dbmigrate_set(m, "driver", "nosuchdriver"), DBMIGRATE_OK);
		ck_assert_int_eq(status ? dbmigrate_status(m, &r)
					: dbmigrate_migrate(m, NULL), DBMIGRATE_EFILES);
		ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(m), "1_dup.sql"));
		ck_assert_ptr_null(r);
		dbmigrate_close(m);
	}
	remove_file(p.dir, "1_dup.sql");
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_set(m, "driver", "nosuchdriver"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_status(m, &(dbmigrate_report *){ NULL }),
			 DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(m), "nosuchdriver"));
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(lock_held_by_another_runner)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, "?lock=held");

	ck_assert_int_eq(dbmigrate_set(m, "lock_timeout", "0.3"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_ELOCK);
	ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(m), "lock"));
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

/* Interrupt a migrator after a short delay, from another thread. */
static void *interrupt_later(void *arg)
{
	usleep(300000);
	dbmigrate_interrupt(arg);
	return NULL;
}

START_TEST(interrupt_rolls_back)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, "?sleep=5000");
	pthread_t t;

	pthread_create(&t, NULL, interrupt_later, m);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EINTERRUPTED);
	pthread_join(t, NULL);
	dbmigrate_close(m);
	m = open_project(&p, NULL);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(create_numbers_files)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	char *path = NULL;

	ck_assert_int_eq(dbmigrate_create(m, "Add Posts Table", &path), DBMIGRATE_OK);
	ck_assert_ptr_nonnull(strstr(path, "/004_add_posts_table.sql"));
	ck_assert(tu_exists(path));
	free(path);
	/* the new file's up section is empty: up refuses it, naming it */
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(strstr(dbmigrate_last_error(m)->file, "004_add_posts_table.sql"));
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(big_batch_warns)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	dbmigrate_run_options dry = { .dry_run = true };
	struct events ev = { "", 0 };

	for (int i = 4; i <= 1003; i++) {
		char name[64];

		snprintf(name, sizeof name, "%04d_t%d.sql", i, i);
		free(tu_write(p.dir, name, "-- migrate:up\nCREATE TABLE t (id int);\n"));
	}
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, &dry), DBMIGRATE_OK);
	/* 001, 002 and 004..1003 share one transaction; 003 runs outside */
	ck_assert_ptr_nonnull(strstr(ev.log, "WARNING 1000 migrations will run in one transaction"));
	ck_assert_ptr_nonnull(strstr(ev.log, "--step"));
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

/* The status entry of migration id, from a fresh report (to free). */
static dbmigrate_report *status_of(dbmigrate *m, const char *id,
				   const dbmigrate_entry **out)
{
	dbmigrate_report *r;

	*out = NULL;
	ck_assert_int_eq(dbmigrate_status(m, &r), DBMIGRATE_OK);
	for (size_t i = 0; i < dbmigrate_report_count(r); i++)
		if (strcmp(dbmigrate_report_get(r, i)->id, id) == 0)
			*out = dbmigrate_report_get(r, i);
	return r;
}

/* A project of two plain migrations (no CONCURRENTLY), 001 and 002. */
static struct tu_project project_plain(void)
{
	struct tu_project p = project_new();

	remove_file(p.dir, "003_add_email_index_to_users.ts");
	return p;
}

START_TEST(down_after_file_deleted_uses_stored_sql)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	struct events ev = { "", 0 };
	const dbmigrate_entry *e;
	dbmigrate_report *r;

	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	remove_file(p.dir, "002_create_user_sessions_table.sql");
	r = status_of(m, "002", &e);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->state, DBMIGRATE_MISSING);
	ck_assert(e->down_from_table);
	dbmigrate_report_free(r);
	r = status_of(m, "001", &e);
	ck_assert(!e->down_from_table);
	dbmigrate_report_free(r);
	/* Without the kept SQL this fails: "its file is gone". */
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_msg(dbmigrate_rollback(m, NULL) == DBMIGRATE_OK, "%s",
		      dbmigrate_errmsg(m));
	ck_assert_ptr_nonnull(strstr(ev.log, "tracking table kept"));
	ck_assert_uint_eq(count_state(m, DBMIGRATE_MISSING), 0);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	/* The kept DROP TABLE ran: up can create the table again. */
	free(tu_write(p.dir, tu_seed[1].name, tu_seed[1].text));
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(stored_down_error_names_the_row)
{
	struct tu_project p = project_plain();
	dbmigrate *m = open_project(&p, NULL);
	const dbmigrate_error *err;

	free(tu_write(p.dir, "003_bad_down.sql",
		      "-- migrate:up\nCREATE TABLE t3 (id int);\n"
		      "-- migrate:down\nDROP TABLE t3;\nDROP TABLE nosuch;\n"));
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	remove_file(p.dir, "003_bad_down.sql");
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_EMIGRATION);
	err = dbmigrate_last_error(m);
	ck_assert_ptr_nonnull(err->file);
	ck_assert_msg(strstr(err->file, "tracking table \"migrations\", row 003") != NULL,
		      "file: %s", err->file);
	ck_assert_uint_eq(err->line, 2);
	ck_assert_str_eq(err->source_line, "DROP TABLE nosuch;");
	ck_assert_str_eq(err->migration, "003_bad_down");
	ck_assert_uint_eq(count_state(m, DBMIGRATE_MISSING), 1);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(statement_timeout_stops_a_slow_migration)
{
	struct tu_project p = project_plain();
	dbmigrate *m;
	const dbmigrate_error *err;

	/* The option: every statement sleeps 300 ms, the limit is 50 ms. */
	m = open_project(&p, "?sleep=300");
	ck_assert_int_eq(dbmigrate_set(m, "statement_timeout", "50ms"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	err = dbmigrate_last_error(m);
	ck_assert_str_eq(err->sqlstate, "57014");
	ck_assert_ptr_nonnull(strstr(err->hint, "statement timeout of 0.05 s"));
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	dbmigrate_close(m);

	/* The directive, in the migration's own SQL, wins over the option. */
	free(tu_write(p.dir, "002_create_user_sessions_table.sql",
		      "-- migrate:up\n-- dbmigrate:statement-timeout 100ms\n"
		      "CREATE TABLE user_sessions (id int);\n"
		      "-- migrate:down\nDROP TABLE user_sessions;\n"));
	m = open_project(&p, "?sleep=300");
	ck_assert_int_eq(dbmigrate_set(m, "statement_timeout", "10s"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	err = dbmigrate_last_error(m);
	ck_assert_str_eq(err->sqlstate, "57014");
	ck_assert_str_eq(err->migration, "002_create_user_sessions_table");
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	dbmigrate_close(m);

	/* Without any limit the same migrations simply take their time. */
	free(tu_write(p.dir, tu_seed[1].name, tu_seed[1].text));
	m = open_project(&p, "?sleep=300");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(bad_directive_is_refused_with_its_line)
{
	struct tu_project p = project_plain();
	dbmigrate *m = open_project(&p, NULL);
	const dbmigrate_error *err;

	free(tu_write(p.dir, "003_x.sql",
		      "-- migrate:up\nCREATE TABLE x (id int);\n"
		      "-- dbmigrate:lock-timeout soon\n"));
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EFILES);
	err = dbmigrate_last_error(m);
	ck_assert_ptr_nonnull(strstr(err->message, "lock-timeout"));
	ck_assert_uint_eq(err->line, 3);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	/* validate checks it too, without a database */
	ck_assert_int_eq(dbmigrate_validate(m, NULL), DBMIGRATE_EFILES);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(lock_not_available_is_retried)
{
	struct tu_project p = project_plain();
	dbmigrate *m;
	struct events ev = { "", 0 };
	const dbmigrate_error *err;

	/* Twice busy, then free: the default 3 retries get through. */
	m = open_project(&p, "?busy=user_sessions&busy_times=2");
	ck_assert_int_eq(dbmigrate_set(m, "sql_lock_timeout", "1s"), DBMIGRATE_OK);
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_msg(dbmigrate_migrate(m, NULL) == DBMIGRATE_OK, "%s",
		      dbmigrate_errmsg(m));
	ck_assert_int_eq(tu_count(ev.log, "[SQLSTATE 55P03]; retry"), 2);
	ck_assert_ptr_nonnull(strstr(ev.log, "retry 2 of 3"));
	ck_assert_str_eq(dbmigrate_errmsg(m), "");
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 2);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);

	/* Busy longer than the retries: a clear failure, nothing recorded. */
	ev.log[0] = '\0';
	m = open_project(&p, "?busy=user_sessions&busy_times=9");
	ck_assert_int_eq(dbmigrate_set(m, "sql_lock_timeout", "1s"), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_set(m, "lock_retries", "2"), DBMIGRATE_OK);
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	ck_assert_int_eq(tu_count(ev.log, "[SQLSTATE 55P03]; retry"), 2);
	err = dbmigrate_last_error(m);
	ck_assert_str_eq(err->sqlstate, "55P03");
	ck_assert_str_eq(err->migration, "002_create_user_sessions_table");
	ck_assert_ptr_nonnull(strstr(err->hint, "3 times"));
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	dbmigrate_close(m);

	/* No lock timeout and no --lock-retries: no retry at all. */
	ev.log[0] = '\0';
	m = open_project(&p, "?busy=user_sessions");
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	ck_assert_int_eq(tu_count(ev.log, "retry"), 0);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(per_migration_keeps_earlier_ones)
{
	struct tu_project p = project_plain();
	dbmigrate *m;
	dbmigrate_run_options per = { .transaction = DBMIGRATE_TRANSACTION_PER_MIGRATION };
	struct events ev = { "", 0 };
	const dbmigrate_entry *e;
	dbmigrate_report *r;

	free(tu_write(p.dir, "003_c.sql", "-- migrate:up\nCREATE TABLE c (id int);\n"
		      "-- migrate:down\nDROP TABLE c;\n"));
	/* The default: one transaction, nothing stays. */
	m = open_project(&p, "?fail=TABLE c");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 0);
	dbmigrate_close(m);
	/* Per migration: 001 and 002 committed, each on its own. */
	m = open_project(&p, "?fail=TABLE c");
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, &per), DBMIGRATE_EMIGRATION);
	ck_assert_ptr_nonnull(strstr(dbmigrate_last_error(m)->detail,
				     "2 earlier migrations of this batch had already been committed"));
	ck_assert_int_eq(tu_count(ev.log, "COMMIT"), 2);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 2);
	r = status_of(m, "002", &e);
	ck_assert_int_eq(e->batch, 1);
	dbmigrate_report_free(r);
	/* The rest goes in as the next batch. */
	ck_assert_int_eq(dbmigrate_migrate(m, &per), DBMIGRATE_OK);
	r = status_of(m, "003", &e);
	ck_assert_int_eq(e->batch, 2);
	dbmigrate_report_free(r);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(mark_applied_and_pending)
{
	struct tu_project p = project_plain();
	dbmigrate *m = open_project(&p, NULL);
	dbmigrate_run_options dry = { .dry_run = true };
	const dbmigrate_entry *e;
	dbmigrate_report *r;

	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	free(tu_write(p.dir, "003_by_hand.sql", "-- migrate:up\nCREATE TABLE h (id int);\n"
		      "-- migrate:down\nDROP TABLE h;\n"));
	ck_assert_int_eq(dbmigrate_mark(m, "3", true, &dry), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_PENDING), 1);
	ck_assert_int_eq(dbmigrate_mark(m, "003", true, NULL), DBMIGRATE_OK);
	r = status_of(m, "003", &e);
	ck_assert_int_eq(e->state, DBMIGRATE_EXECUTED);
	ck_assert_int_eq(e->batch, 2);
	ck_assert_str_eq(e->checksum, e->recorded_checksum);
	dbmigrate_report_free(r);
	/* Nothing ran: the table h does not exist, so up's CREATE would
	   work; down's DROP fails on the emulated server. */
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_EMIGRATION);
	/* Refusals. */
	ck_assert_int_eq(dbmigrate_mark(m, "003", true, NULL), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(m), "already applied"));
	ck_assert_int_eq(dbmigrate_mark(m, "9", true, NULL), DBMIGRATE_EUSAGE);
	ck_assert_int_eq(dbmigrate_mark(m, "x1", false, NULL), DBMIGRATE_EUSAGE);
	ck_assert_int_eq(dbmigrate_mark(m, "003", false, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_mark(m, "003", false, NULL), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(dbmigrate_errmsg(m), "not applied"));
	ck_assert_uint_eq(count_state(m, DBMIGRATE_PENDING), 1);
	/* A row whose file is gone can be forgotten. */
	remove_file(p.dir, "002_create_user_sessions_table.sql");
	ck_assert_int_eq(dbmigrate_mark(m, "002", false, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_MISSING), 0);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(repair_rerecords_checksums)
{
	struct tu_project p = project_plain();
	dbmigrate *m = open_project(&p, NULL);
	dbmigrate_run_options dry = { .dry_run = true };
	const dbmigrate_entry *e;
	dbmigrate_report *r, *fixed;
	char *at;

	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_repair(m, NULL, &fixed), DBMIGRATE_OK);
	ck_assert_uint_eq(dbmigrate_report_count(fixed), 0);
	dbmigrate_report_free(fixed);
	free(tu_write(p.dir, "002_create_user_sessions_table.sql",
		      "-- migrate:up\n-- a comment\nCREATE TABLE user_sessions (id int);\n"
		      "-- migrate:down\nDROP TABLE user_sessions CASCADE;\n"));
	r = status_of(m, "002", &e);
	ck_assert(e->modified);
	at = strdup(e->executed_at);
	dbmigrate_report_free(r);
	ck_assert_int_eq(dbmigrate_repair(m, &dry, &fixed), DBMIGRATE_OK);
	ck_assert_uint_eq(dbmigrate_report_count(fixed), 1);
	ck_assert_str_eq(dbmigrate_report_get(fixed, 0)->id, "002");
	dbmigrate_report_free(fixed);
	r = status_of(m, "002", &e);
	ck_assert(e->modified); /* the dry run changed nothing */
	dbmigrate_report_free(r);
	ck_assert_int_eq(dbmigrate_repair(m, NULL, NULL), DBMIGRATE_OK);
	r = status_of(m, "002", &e);
	ck_assert(!e->modified);
	ck_assert_int_eq(e->batch, 1);
	ck_assert_str_eq(e->executed_at, at);
	dbmigrate_report_free(r);
	ck_assert_int_eq(dbmigrate_validate(m, NULL), DBMIGRATE_OK);
	free(at);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(redo_in_one_transaction)
{
	struct tu_project p = project_plain();
	dbmigrate *m = open_project(&p, NULL);
	struct events ev = { "", 0 };
	const dbmigrate_entry *e;
	dbmigrate_report *r;

	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_msg(dbmigrate_redo(m, NULL) == DBMIGRATE_OK, "%s", dbmigrate_errmsg(m));
	/* down newest first, then up, one commit (the four together) */
	ck_assert_msg(strstr(ev.log, "START 002 x4\nSTART 001 x4\nSTART 001 x4\nSTART 002 x4\n"
				     "DONE 002 x4\nDONE 001 x4\nDONE 001 x4\nDONE 002 x4\nCOMMIT \n")
		      != NULL, "events:\n%s", ev.log);
	ck_assert_int_eq(tu_count(ev.log, "COMMIT"), 1);
	r = status_of(m, "002", &e);
	ck_assert_int_eq(e->state, DBMIGRATE_EXECUTED);
	ck_assert_int_eq(e->batch, 1);
	dbmigrate_report_free(r);
	dbmigrate_close(m);

	/* A failure in the up step leaves everything as it was. */
	m = open_project(&p, "?fail=CREATE TABLE user_sessions");
	ck_assert_int_eq(dbmigrate_redo(m, NULL), DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 2);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

START_TEST(redo_outside_a_transaction_runs_in_two_steps)
{
	struct tu_project p = project_new();
	dbmigrate *m = open_project(&p, NULL);
	struct events ev = { "", 0 };
	dbmigrate_run_options one = { .step = 1 };

	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_redo(m, &one), DBMIGRATE_OK);
	ck_assert_ptr_nonnull(strstr(ev.log, "WARNING redo runs in two steps"));
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 3);
	/* a migration whose file is gone cannot come back */
	remove_file(p.dir, "003_add_email_index_to_users.ts");
	ck_assert_int_eq(dbmigrate_redo(m, NULL), DBMIGRATE_EFILES);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_MISSING), 1);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

/* Write migration dir/name with an up and a down section. */
static void write_migration(const char *dir, const char *name, const char *up,
			    const char *down)
{
	char *text;

	ck_assert_int_ne(asprintf(&text, "-- migrate:up\n%s\n-- migrate:down\n%s\n",
				  up, down), -1);
	free(tu_write(dir, name, text));
	free(text);
}

/*
 * A migration whose statements commit on their own (the mock's stand-in
 * for MySQL's DDL) cannot roll back: it runs outside any transaction,
 * after what came before committed, with its progress recorded before
 * each statement. A failure part-way leaves it PARTIAL, which up and
 * down refuse until mark says what the database holds; a failure of its
 * first statement leaves nothing.
 */
START_TEST(migration_that_cannot_roll_back_records_its_progress)
{
	struct tu_project p = project_plain();
	dbmigrate *m;
	struct events ev = { "", 0 };
	const dbmigrate_error *err;
	const dbmigrate_entry *e;
	dbmigrate_report *r;

	write_migration(p.dir, "003_ddl.sql",
			"CREATE TABLE /* mock:implicit-commit */ c (id int);\n"
			"CREATE TABLE /* mock:implicit-commit */ d (id int);\n"
			"SELECT 'up boom';",
			"DROP TABLE /* mock:implicit-commit */ d;\n"
			"DROP TABLE /* mock:implicit-commit */ c;\n"
			"SELECT 'down boom';");
	m = open_project(&p, "?fail=up boom");
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	/* The plan says so; 001 and 002 committed before it ran. */
	ck_assert_ptr_nonnull(strstr(ev.log, "PLAN 003 outside not-atomic\n"));
	ck_assert_ptr_nonnull(strstr(ev.log, "START 003 outside not-atomic\n"));
	err = dbmigrate_last_error(m);
	ck_assert_str_eq(err->migration, "003_ddl");
	ck_assert_uint_eq(err->line, 4);
	ck_assert_ptr_nonnull(strstr(err->detail, "statements 1 to 2 of 3 ran and stay"));
	ck_assert_ptr_nonnull(strstr(err->detail, "failed part-way"));
	ck_assert_ptr_nonnull(strstr(err->hint, "dbmigrate mark 003 --applied"));
	r = status_of(m, "003", &e);
	ck_assert_int_eq(e->state, DBMIGRATE_PARTIAL);
	ck_assert(!e->partial_down);
	ck_assert_uint_eq(e->partial_done, 2);
	ck_assert_uint_eq(e->partial_total, 3);
	ck_assert_int_eq(e->batch, 1);
	dbmigrate_report_free(r);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 2);
	/* up and down refuse, naming it; nothing runs. */
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EFILES);
	ck_assert_str_eq(dbmigrate_errmsg(m),
			 "1 migration failed part-way: 003_ddl (2 of 3 statements of its up ran)");
	ck_assert_ptr_nonnull(strstr(dbmigrate_last_error(m)->hint, "mark 003 --pending"));
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_EFILES);
	ck_assert_int_eq(dbmigrate_redo(m, NULL), DBMIGRATE_EFILES);
	/* The user finished it by hand: mark says so, in its batch. */
	ck_assert_int_eq(dbmigrate_mark(m, "003", true, NULL), DBMIGRATE_OK);
	r = status_of(m, "003", &e);
	ck_assert_int_eq(e->state, DBMIGRATE_EXECUTED);
	ck_assert_int_eq(e->batch, 1);
	dbmigrate_report_free(r);
	dbmigrate_close(m);
	/* Its down is recorded the same way: a failure part-way through
	   the rollback is PARTIAL too, and mark --pending ends it. */
	m = open_project(&p, "?fail=down boom");
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_EMIGRATION);
	r = status_of(m, "003", &e);
	ck_assert_int_eq(e->state, DBMIGRATE_PARTIAL);
	ck_assert(e->partial_down);
	ck_assert_uint_eq(e->partial_done, 2);
	dbmigrate_report_free(r);
	ck_assert_int_eq(dbmigrate_mark(m, "003", false, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_PENDING), 1);
	dbmigrate_close(m);
	/* Its first statement failing leaves no row: nothing ran. (The
	   tables c and d are gone: the user finished the rollback.) */
	m = open_project(&p, "?fail=TABLE /* mock:implicit-commit */ c");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	ck_assert_ptr_nonnull(strstr(dbmigrate_last_error(m)->detail,
				     "none of its statements had run"));
	r = status_of(m, "003", &e);
	ck_assert_int_eq(e->state, DBMIGRATE_PENDING);
	dbmigrate_report_free(r);
	dbmigrate_close(m);
	/* Whole, it applies and rolls back. */
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 3);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_PENDING), 1);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

/*
 * A migration that cannot roll back writes its progress before its first
 * statement and after each but the last, whose row is completed at once
 * (no "3/3" before the whole row): four writes for three statements. A
 * write that fails after a statement ran is reported as such: which
 * statements ran, and that the row says one fewer.
 */
START_TEST(failed_progress_write_is_reported)
{
	static const char up[] =
		"CREATE TABLE /* mock:implicit-commit */ c (id int);\n"
		"CREATE TABLE /* mock:implicit-commit */ d (id int);\n"
		"CREATE TABLE /* mock:implicit-commit */ e (id int);";
	static const char down[] =
		"DROP TABLE /* mock:implicit-commit */ e;\n"
		"DROP TABLE /* mock:implicit-commit */ d;\n"
		"DROP TABLE /* mock:implicit-commit */ c;";
	struct tu_project p = project_plain();
	dbmigrate *m;
	const dbmigrate_error *err;
	const dbmigrate_entry *e;
	dbmigrate_report *r;

	/* Write 2 ("up 1/3", after statement 1) fails. */
	write_migration(p.dir, "003_ddl.sql", up, down);
	m = open_project(&p, "?progress_fail=2");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EDATABASE);
	err = dbmigrate_last_error(m);
	ck_assert_msg(strstr(err->detail, "statement 1 of 3 ran and stays, but writing its "
					  "progress to the tracking table failed") != NULL,
		      "detail: %s", err->detail);
	ck_assert_ptr_nonnull(strstr(err->detail, "with 0 of them"));
	ck_assert_ptr_nonnull(strstr(err->hint, "dbmigrate mark 003 --applied"));
	r = status_of(m, "003", &e);
	ck_assert_int_eq(e->state, DBMIGRATE_PARTIAL);
	ck_assert_uint_eq(e->partial_done, 0);
	dbmigrate_report_free(r);
	dbmigrate_close(m);
	tu_project_free(&p);

	/* Write 4 is the one that completes the row: it fails after all
	   three ran, and the row says 2 of 3. */
	p = project_plain();
	write_migration(p.dir, "003_ddl.sql", up, down);
	m = open_project(&p, "?progress_fail=4");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EDATABASE);
	err = dbmigrate_last_error(m);
	ck_assert_msg(strstr(err->detail, "statements 1 to 3 of 3 ran and stay, but") != NULL,
		      "detail: %s", err->detail);
	r = status_of(m, "003", &e);
	ck_assert_int_eq(e->state, DBMIGRATE_PARTIAL);
	ck_assert_uint_eq(e->partial_done, 2);
	ck_assert_uint_eq(e->partial_total, 3);
	dbmigrate_report_free(r);
	dbmigrate_close(m);
	tu_project_free(&p);

	/* There is no fifth write: an up of three statements succeeds with
	   progress_fail=5, and its down (whose row is deleted at the end)
	   with progress_fail=4. */
	p = project_plain();
	write_migration(p.dir, "003_ddl.sql", up, down);
	m = open_project(&p, "?progress_fail=5");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	m = open_project(&p, "?progress_fail=4");
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_PENDING), 3);
	dbmigrate_close(m);
	tu_project_free(&p);
}
END_TEST

/*
 * Settings a transaction would ignore (SQLite's PRAGMA foreign_keys,
 * here the mock's stand-in) at the start and end of a migration run
 * just before and after a transaction of its own, which keeps the
 * migration atomic; one in the middle makes it run outside.
 */
START_TEST(settings_around_a_transaction_of_its_own)
{
	struct tu_project p = project_plain();
	char *log, *url_suffix, *text;
	dbmigrate *m;
	struct events ev = { "", 0 };
	const char *at;

	ck_assert_int_ne(asprintf(&log, "%s/statements.log", p.root), -1);
	ck_assert_int_ne(asprintf(&url_suffix, "?log=%s", log), -1);
	write_migration(p.dir, "003_rebuild.sql",
			"SELECT /* mock:edge */ 'off';\n"
			"CREATE TABLE t2 (id int);\n"
			"SELECT /* mock:edge */ 'check';\n",
			"DROP TABLE t2;");
	/* A failure inside it: its transaction is rolled back, nothing of
	   it stays or is recorded, the batch before it committed. */
	m = open_project(&p, "?fail=TABLE t2");
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_EMIGRATION);
	ck_assert_ptr_nonnull(strstr(dbmigrate_last_error(m)->detail,
				     "runs in a transaction of its own, which was rolled back"));
	ck_assert_uint_eq(count_state(m, DBMIGRATE_EXECUTED), 2);
	ck_assert_uint_eq(count_state(m, DBMIGRATE_PENDING), 1);
	dbmigrate_close(m);
	m = open_project(&p, url_suffix);
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_ptr_nonnull(strstr(ev.log, "PLAN 003 own\n"));
	dbmigrate_close(m);
	/* The settings ran outside the transaction, the rest inside. */
	text = tu_read(log);
	ck_assert_ptr_nonnull(text);
	at = strstr(text, "SELECT /* mock:edge */ 'off'\nBEGIN\nCREATE TABLE t2 (id int)\n");
	ck_assert_msg(at != NULL, "log: %s", text);
	ck_assert_ptr_nonnull(strstr(at, "COMMIT\nSELECT /* mock:edge */ 'check'\n"));
	free(text);
	/* A setting in the middle: the migration runs outside. */
	m = open_project(&p, NULL);
	ck_assert_int_eq(dbmigrate_rollback(m, NULL), DBMIGRATE_OK);
	dbmigrate_close(m);
	write_migration(p.dir, "003_rebuild.sql",
			"CREATE TABLE t2 (id int);\n"
			"SELECT /* mock:edge */ 'middle';\n"
			"CREATE TABLE t3 (id int);\n",
			"DROP TABLE t3; DROP TABLE t2;");
	memset(&ev, 0, sizeof ev);
	m = open_project(&p, NULL);
	dbmigrate_on_event(m, record_event, &ev);
	ck_assert_int_eq(dbmigrate_migrate(m, NULL), DBMIGRATE_OK);
	ck_assert_ptr_nonnull(strstr(ev.log, "PLAN 003 outside\n"));
	dbmigrate_close(m);
	free(url_suffix);
	free(log);
	tu_project_free(&p);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		seed_workflow, batches_and_down_of_last_batch_only,
		to_and_step, failure_rolls_back_the_whole_batch,
		source_line_is_whole_after_a_failure,
		wrapped_migration_rolls_back_with_the_batch,
		commit_in_the_middle_is_refused, bad_files_apply_nothing,
		down_needs_every_down_section, drift_is_reported,
		reset_drops_everything, dry_run_changes_nothing,
		options_are_validated, connection_refused_and_unknown_driver,
		lock_held_by_another_runner, interrupt_rolls_back,
		create_numbers_files, big_batch_warns,
		down_after_file_deleted_uses_stored_sql,
		stored_down_error_names_the_row,
		statement_timeout_stops_a_slow_migration,
		bad_directive_is_refused_with_its_line,
		lock_not_available_is_retried,
		per_migration_keeps_earlier_ones, mark_applied_and_pending,
		repair_rerecords_checksums, redo_in_one_transaction,
		redo_outside_a_transaction_runs_in_two_steps,
		migration_that_cannot_roll_back_records_its_progress,
		failed_progress_write_is_reported,
		settings_around_a_transaction_of_its_own, NULL
	};

	return tu_run_suite(tu_suite("api", 30, tests));
}
