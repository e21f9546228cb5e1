/*
 * cmd-validate.c - `dbmigrate validate`: the gate for CI. The files
 * must parse, numbers must not repeat, and, when a database is
 * configured, every applied migration's file must exist unchanged.
 */
#include <stdlib.h>

#include "cli.h"

static const char cmd_validate_help[] =
	"Check the migration files without applying anything: names and\n"
	"numbers (no duplicates, no .down.sql without its .up.sql), formats,\n"
	"statements (quotes closed, no stray transaction control). When a\n"
	"database is configured (--url, DATABASE_URL, DB_*), also check that\n"
	"every applied migration's file still exists and has not changed\n"
	"since it was applied (its checksum).\n"
	"\n"
	"Exit 0 when everything is valid, 3 when there are problems, each\n"
	"printed; use it in CI before up.\n";

/* Print each applied migration that no longer matches its file. */
static void cmd_validate_problems(const struct cli *cli,
				  const dbmigrate_report *r)
{
	for (size_t i = 0; i < dbmigrate_report_count(r); i++) {
		const dbmigrate_entry *e = dbmigrate_report_get(r, i);
		char *label;

		if (!e->modified && e->state != DBMIGRATE_MISSING)
			continue;
		label = output_label(e);
		printf("❌ %s%s%s: ", output_on(&cli->out, stdout, OUTPUT_SGR_RED),
		       label, output_off(&cli->out, stdout));
		if (e->state == DBMIGRATE_MISSING)
			printf("applied in batch %d, but its file is gone\n",
			       e->batch);
		else
			printf("%s changed since it was applied in batch %d (checksum differs)\n",
			       e->file != NULL ? e->file : "its file", e->batch);
		free(label);
	}
}

/* validate. */
static int cmd_validate_exec(struct cli *cli)
{
	dbmigrate_report *r = NULL;
	size_t files = 0;
	int status;

	if (dbmigrate_validate(cli->m, &r) != DBMIGRATE_OK) {
		cmd_validate_problems(cli, r);
		status = cmd_fail(cli);
		dbmigrate_report_free(r);
		return status;
	}
	for (size_t i = 0; i < dbmigrate_report_count(r); i++)
		files += dbmigrate_report_get(r, i)->file != NULL;
	if (!cli->out.quiet)
		printf("✅ %zu migration%s valid\n", files, files == 1 ? "" : "s");
	dbmigrate_report_free(r);
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_validate_entry = {
	.name = "validate",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "check the files (and drift); exit 3 on problems",
	.help = cmd_validate_help,
	.options = CLI_OPTS_DATABASE,
	.config = true,
	.exec = cmd_validate_exec,
};
