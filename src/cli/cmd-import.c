/*
 * cmd-import.c - `dbmigrate import [TOOL]`: adopt the history table of
 * goose, golang-migrate, dbmate or Flyway, so that a project switches to
 * dbmigrate with its files and database as they are.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char cmd_import_help[] =
	"Record in dbmigrate's tracking table every migration another tool\n"
	"applied, read from that tool's history table, as one new batch: with\n"
	"the checksum and down SQL of each file, as if dbmigrate had applied\n"
	"it. None of their SQL runs, and the tool's table is only read (it\n"
	"stays as it is, so the tool still works until you drop it). Under the\n"
	"runner lock; --dry-run prints what would be recorded.\n"
	"\n"
	"TOOL is goose, golang-migrate, dbmate or flyway; without it, the tool\n"
	"is found from the tables of the database (goose_db_version,\n"
	"schema_migrations with or without golang-migrate's dirty column,\n"
	"flyway_schema_history), and several of them is an error.\n"
	"\n"
	"Each tool's own rules decide what was applied:\n"
	"  goose           the newest row of each version (a version rolled\n"
	"                  back is pending); version 0 is goose's own row\n"
	"  golang-migrate  its one row is the current version: every\n"
	"                  migration at or below it is applied; a dirty\n"
	"                  version (a failed migration) is refused\n"
	"  dbmate          one row per applied version\n"
	"  flyway          a failed migration (success false) is refused; a\n"
	"                  BASELINE covers every version up to it; undone\n"
	"                  versions are pending; a repeatable counts when its\n"
	"                  file is the one Flyway last ran (its checksum)\n"
	"\n"
	"A migration the tool applied whose file is not in the directory is\n"
	"recorded all the same and shown as missing by status. Importing\n"
	"again records nothing new. Run `dbmigrate status` afterwards: what\n"
	"the tool had not applied is pending, and `dbmigrate up` runs it.\n";

/* What the PLAN events told, for the summary. */
struct cmd_import_seen {
	struct output *out;
	bool dry_run;
};

/* Event callback: one line per recorded migration, the rest as usual. */
static void cmd_import_event(const dbmigrate_event *ev, void *ctx)
{
	struct cmd_import_seen *seen = ctx;
	char *label;

	if (ev->kind != DBMIGRATE_EVENT_PLAN) {
		output_event(ev, seen->out);
		return;
	}
	if (seen->out->quiet)
		return;
	label = output_label(ev->entry);
	printf("📥 %s %s (batch %d)%s\n",
	       seen->dry_run ? "Would record" : "Recorded", label, ev->batch,
	       ev->entry->state == DBMIGRATE_MISSING ? ": no file" : "");
	free(label);
}

/* import. */
static int cmd_import_exec(struct cli *cli)
{
	struct cmd_import_seen seen = { &cli->out, cli->run.dry_run };
	dbmigrate_import_result res;
	dbmigrate_code rc;

	dbmigrate_on_event(cli->m, cmd_import_event, &seen);
	rc = dbmigrate_import(cli->m, cli->nargs > 0 ? cli->args[0] : NULL,
			      &cli->run, &res);
	dbmigrate_on_event(cli->m, output_event, &cli->out);
	if (rc != DBMIGRATE_OK)
		return cmd_fail(cli);
	if (cli->out.quiet)
		return CLI_EXIT_OK;
	if (res.recorded == 0)
		printf("Nothing to import from %s (%s): %zu migration%s it applied %s recorded already.\n",
		       res.tool, res.table, res.already,
		       res.already == 1 ? "" : "s",
		       res.already == 1 ? "is" : "are");
	else
		printf("%s %zu migration%s applied by %s (%s) as batch %d; none of their SQL ran.\n",
		       cli->run.dry_run ? "Would import" : "Imported",
		       res.recorded, res.recorded == 1 ? "" : "s", res.tool,
		       res.table, res.batch);
	if (res.recorded > 0 && res.already > 0)
		printf("%zu were recorded already.\n", res.already);
	if (res.pending > 0)
		printf("⏳ %zu migration%s %s had not applied %s pending: 'dbmigrate up' runs %s.\n",
		       res.pending, res.pending == 1 ? "" : "s", res.tool,
		       res.pending == 1 ? "is" : "are",
		       res.pending == 1 ? "it" : "them");
	if (cli->run.dry_run)
		printf("Dry run: nothing was changed.\n");
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_import_entry = {
	.name = "import",
	.args = "[TOOL]",
	.min_args = 0,
	.max_args = 1,
	.summary = "adopt another tool's history (goose, golang-migrate, dbmate, flyway)",
	.help = cmd_import_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT | CLI_OPT_DRY_RUN,
	.config = true,
	.exec = cmd_import_exec,
};
