/*
 * check_import.c - dbmigrate_import() through the public API over the
 * mock driver: each tool's rules on its history table (made by a setup
 * migration of plain SQL, which the mock's table_columns() and
 * read_table() read back), the counts and events, a second import, the
 * dry run, and the refusals. check_pg_import does the same on a real
 * PostgreSQL with the tools' own DDL.
 */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dbmigrate.h"
#include "testutil.h"

/* A scratch project: migrations/, setup/ and a mock state file. */
struct project {
	char *root, *dir, *setup, *url;
};

/* Make a project. */
static struct project project_new(void)
{
	struct project p;

	p.root = tu_mkdtemp();
	ck_assert_int_ne(asprintf(&p.dir, "%s/migrations", p.root), -1);
	ck_assert_int_ne(asprintf(&p.setup, "%s/setup", p.root), -1);
	ck_assert_int_ne(asprintf(&p.url, "mock:%s/state.db", p.root), -1);
	ck_assert_int_eq(mkdir(p.dir, 0755), 0);
	ck_assert_int_eq(mkdir(p.setup, 0755), 0);
	return p;
}

/* Remove and free the project. */
static void project_free(struct project *p)
{
	tu_rm_rf(p->root);
	free(p->root);
	free(p->dir);
	free(p->setup);
	free(p->url);
}

/* A migrator on the project (dir: its migrations, or setup). */
static dbmigrate *open_on(const struct project *p, const char *dir,
			  const char *table)
{
	dbmigrate *m = tu_migrator(p->url, dir);

	if (table != NULL)
		ck_assert_int_eq(dbmigrate_set(m, "table", table), DBMIGRATE_OK);
	return m;
}

/* Make the tool's table as a tool would: sql applied by a setup
   migration tracked elsewhere. */
static void peer_table(const struct project *p, const char *sql)
{
	static int n;
	char name[32];
	dbmigrate *m;

	snprintf(name, sizeof name, "%03d_setup.up.sql", ++n);
	free(tu_write(p->setup, name, sql));
	m = open_on(p, p->setup, "setup_migrations");
	ck_assert_msg(dbmigrate_migrate(m, NULL) == DBMIGRATE_OK, "setup: %s",
		      dbmigrate_errmsg(m));
	dbmigrate_close(m);
}

/* Add a migration file. */
static void add(const struct project *p, const char *name, const char *text)
{
	free(tu_write(p->dir, name, text));
}

/* What the PLAN events said: the ids recorded, "a,b". */
struct seen {
	char ids[512];
	int warnings;
	char warning[1024];
};

/* Event callback: collect. */
static void on_event(const dbmigrate_event *ev, void *ctx)
{
	struct seen *s = ctx;

	if (ev->kind == DBMIGRATE_EVENT_PLAN) {
		size_t n = strlen(s->ids);

		snprintf(s->ids + n, sizeof s->ids - n, "%s%s:%d", n ? "," : "",
			 ev->entry->id, ev->batch);
	} else if (ev->kind == DBMIGRATE_EVENT_WARNING) {
		s->warnings++;
		snprintf(s->warning, sizeof s->warning, "%s", ev->message);
	}
}

/* Import on the project; the result and what the events said. */
static dbmigrate_code import(const struct project *p, const char *tool,
			     bool dry_run, dbmigrate_import_result *res,
			     struct seen *seen, char **err)
{
	dbmigrate *m = open_on(p, p->dir, NULL);
	dbmigrate_run_options o = { .dry_run = dry_run };
	dbmigrate_code rc;

	memset(seen, 0, sizeof *seen);
	dbmigrate_on_event(m, on_event, seen);
	rc = dbmigrate_import(m, tool, &o, res);
	if (err != NULL)
		*err = strdup(dbmigrate_errmsg(m));
	dbmigrate_close(m);
	return rc;
}

/* The status of the project, as "id:state:batch" entries. */
static char *status_of(const struct project *p)
{
	dbmigrate *m = open_on(p, p->dir, NULL);
	dbmigrate_report *r = NULL;
	char *out = calloc(1, 4096);

	ck_assert_int_eq(dbmigrate_status(m, &r), DBMIGRATE_OK);
	for (size_t i = 0; i < dbmigrate_report_count(r); i++) {
		const dbmigrate_entry *e = dbmigrate_report_get(r, i);
		size_t n = strlen(out);

		snprintf(out + n, 4096 - n, "%s%s:%c:%d", n ? "," : "", e->id,
			 "epm"[e->state == DBMIGRATE_EXECUTED ? 0 :
			       e->state == DBMIGRATE_PENDING ? 1 : 2], e->batch);
	}
	dbmigrate_report_free(r);
	dbmigrate_close(m);
	return out;
}

/* Assert the status string. */
static void expect_status(const struct project *p, const char *expected)
{
	char *got = status_of(p);

	ck_assert_msg(strcmp(got, expected) == 0, "status %s, expected %s", got,
		      expected);
	free(got);
}

START_TEST(goose_rules)
{
	struct project p = project_new();
	dbmigrate_import_result res;
	struct seen seen;

	add(&p, "00001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n");
	add(&p, "00002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n");
	add(&p, "00003_c.sql", "-- +goose Up\nCREATE TABLE c (id int);\n-- +goose Down\nDROP TABLE c;\n");
	peer_table(&p, "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL,"
		   " is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id));\n"
		   "INSERT INTO goose_db_version (id, version_id, is_applied) VALUES (1, 0, true);\n"
		   "INSERT INTO goose_db_version (id, version_id, is_applied, tstamp) VALUES"
		   " (2, 1, true, '2024-01-02 10:00:00'), (3, 3, true, NULL), (4, 3, false, NULL),"
		   " (5, 9, true, '2024-01-09 09:09:09+01');\n");
	/* The dry run says what it would record, and records nothing. */
	ck_assert_int_eq(import(&p, NULL, true, &res, &seen, NULL), DBMIGRATE_OK);
	ck_assert_str_eq(res.tool, "goose");
	ck_assert_str_eq(res.table, "goose_db_version");
	ck_assert_str_eq(seen.ids, "00001:1,9:1");
	ck_assert_uint_eq(res.recorded, 2);
	ck_assert_uint_eq(res.missing, 1);
	ck_assert_uint_eq(res.pending, 2);
	ck_assert_int_eq(seen.warnings, 1);
	ck_assert_ptr_nonnull(strstr(seen.warning, "version 9, but no file"));
	expect_status(&p, "00001:p:0,00002:p:0,00003:p:0");
	/* For real: 1 applied, 3 rolled back, 9 without a file. */
	ck_assert_int_eq(import(&p, "goose", false, &res, &seen, NULL), DBMIGRATE_OK);
	ck_assert_int_eq(res.batch, 1);
	expect_status(&p, "00001:e:1,00002:p:0,00003:p:0,9:m:1");
	/* Again: nothing new. */
	ck_assert_int_eq(import(&p, "goose", false, &res, &seen, NULL), DBMIGRATE_OK);
	ck_assert_uint_eq(res.recorded, 0);
	ck_assert_uint_eq(res.already, 2);
	ck_assert_str_eq(seen.ids, "");
	project_free(&p);
}
END_TEST

START_TEST(golang_migrate_rules)
{
	struct project p = project_new();
	dbmigrate_import_result res;
	struct seen seen;
	char *err = NULL;

	add(&p, "1_a.up.sql", "SELECT 1;\n");
	add(&p, "2_b.up.sql", "SELECT 2;\n");
	add(&p, "3_c.up.sql", "SELECT 3;\n");
	peer_table(&p, "CREATE TABLE schema_migrations (version bigint not null primary key,"
		   " dirty boolean not null);\nINSERT INTO schema_migrations VALUES (2, true);\n");
	ck_assert_int_eq(import(&p, NULL, false, &res, &seen, &err), DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(strstr(err, "dirty at version 2"));
	free(err);
	expect_status(&p, "1:p:0,2:p:0,3:p:0");
	peer_table(&p, "DELETE FROM schema_migrations;\nINSERT INTO schema_migrations VALUES (2, false);\n");
	ck_assert_int_eq(import(&p, "golang-migrate", false, &res, &seen, NULL), DBMIGRATE_OK);
	expect_status(&p, "1:e:1,2:e:1,3:p:0");
	/* dbmate's table has the same name and one column: not golang-migrate's. */
	ck_assert_int_eq(import(&p, "dbmate", false, &res, &seen, &err), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err, "not dbmate's"));
	free(err);
	project_free(&p);
}
END_TEST

START_TEST(flyway_rules)
{
	struct project p = project_new();
	dbmigrate_import_result res;
	struct seen seen;
	char *err = NULL;

	add(&p, "V1__a.sql", "SELECT 1;\n");
	add(&p, "V1.5__b.sql", "SELECT 2;\n");
	add(&p, "V2__c.sql", "SELECT 3;\n");
	add(&p, "R__v.sql", "SELECT 4;\n");
	peer_table(&p, "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL,"
		   " version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL,"
		   " script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL,"
		   " installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL,"
		   " success BOOLEAN NOT NULL);\n"
		   /* The checksum: zlib.crc32(b"SELECT 4;"). */
		   "INSERT INTO flyway_schema_history VALUES"
		   " (1, '1.5', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'u', '2024-01-01 00:00:00', 0, true),"
		   " (2, NULL, 'v', 'SQL', 'R__v.sql', 2043004697, 'u', '2024-01-02 00:00:00', 1, true);\n");
	ck_assert_int_eq(import(&p, "flyway", false, &res, &seen, NULL), DBMIGRATE_OK);
	expect_status(&p, "1:e:1,1.5:e:1,2:p:0,R__v:e:1");
	/* A failed row stops it. */
	peer_table(&p, "INSERT INTO flyway_schema_history VALUES"
		   " (3, '2', 'c', 'SQL', 'V2__c.sql', 1, 'u', '2024-01-03 00:00:00', 1, false);\n");
	ck_assert_int_eq(import(&p, "flyway", false, &res, &seen, &err), DBMIGRATE_EFILES);
	ck_assert_ptr_nonnull(strstr(err, "version 2"));
	free(err);
	project_free(&p);
}
END_TEST

START_TEST(nothing_to_import_from)
{
	struct project p = project_new();
	dbmigrate_import_result res;
	struct seen seen;
	char *err = NULL;

	add(&p, "001_a.sql", "-- migrate:up\nSELECT 1;\n");
	ck_assert_int_eq(import(&p, NULL, false, &res, &seen, &err), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err, "no history table"));
	free(err);
	ck_assert_int_eq(import(&p, "sqitch", false, &res, &seen, &err), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err, "unknown tool"));
	free(err);
	project_free(&p);
}
END_TEST

/* The suite. */
static Suite *import_suite(void)
{
	const TTest *const import[] = {
		goose_rules, golang_migrate_rules, flyway_rules,
		nothing_to_import_from, NULL
	};
	Suite *s = suite_create("import over the mock");

	tu_tcase(s, "import", 0, import);
	return s;
}

int main(void)
{
	return tu_run_suite(import_suite());
}
