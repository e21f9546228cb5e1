/*
 * cmd-mark.c - `dbmigrate mark ID --applied|--pending`: change what the
 * tracking table says about one migration without running any of its
 * SQL, for a change made by hand, or a row to forget.
 */
#include <stdlib.h>

#include "cli.h"

static const char cmd_mark_help[] =
	"Record one migration as applied or as pending without running any of\n"
	"its SQL, under the runner lock.\n"
	"\n"
	"--applied adds its tracking row, as a batch of its own (the highest\n"
	"batch number plus one, so that `down` would roll back only it), with\n"
	"the file's checksum and down SQL: use it when the change was made by\n"
	"hand, or by another tool. --pending deletes its row, so that `up`\n"
	"applies it again; it also clears the row of a migration whose file is\n"
	"gone.\n"
	"\n"
	"ID is the number its file name starts with (002 and 2 are the same).\n"
	"An unknown ID, marking an applied migration applied or a pending one\n"
	"pending is refused (exit 2). --dry-run says what it would do.\n";

/* What the PLAN event of mark told, kept for the message. */
struct cmd_mark_seen {
	struct output *out;
	char *label;
	int batch;
};

/* Event callback: keep the PLAN event, print the others as usual. */
static void cmd_mark_event(const dbmigrate_event *ev, void *ctx)
{
	struct cmd_mark_seen *seen = ctx;

	if (ev->kind != DBMIGRATE_EVENT_PLAN) {
		output_event(ev, seen->out);
		return;
	}
	free(seen->label);
	seen->label = output_label(ev->entry);
	seen->batch = ev->batch;
}

/* mark. */
static int cmd_mark_exec(struct cli *cli)
{
	struct cmd_mark_seen seen = { .out = &cli->out };
	bool applied = cli->mark > 0;
	dbmigrate_code rc;

	if (cli->mark == 0) {
		output_usage_error(&cli->out, "mark needs --applied or --pending: dbmigrate mark %s --applied",
				   cli->args[0]);
		return CLI_EXIT_USAGE;
	}
	dbmigrate_on_event(cli->m, cmd_mark_event, &seen);
	rc = dbmigrate_mark(cli->m, cli->args[0], applied, &cli->run);
	dbmigrate_on_event(cli->m, output_event, &cli->out);
	if (rc != DBMIGRATE_OK) {
		free(seen.label);
		return cmd_fail(cli);
	}
	if (!cli->out.quiet && seen.label != NULL) {
		if (applied)
			printf("✅ %s %s as applied (batch %d); none of its SQL ran.\n",
			       cli->run.dry_run ? "Would mark" : "Marked", seen.label,
			       seen.batch);
		else
			printf("%s %s as pending: %s tracking row (batch %d); none of its SQL ran.\n",
			       cli->run.dry_run ? "Would mark" : "Marked", seen.label,
			       cli->run.dry_run ? "would delete its" : "deleted its",
			       seen.batch);
		if (cli->run.dry_run)
			printf("Dry run: nothing was changed.\n");
	}
	free(seen.label);
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_mark_entry = {
	.name = "mark",
	.args = "ID",
	.min_args = 1,
	.max_args = 1,
	.summary = "record ID as --applied or --pending, running none of it",
	.help = cmd_mark_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT | CLI_OPT_DRY_RUN |
		   CLI_OPT_MARK,
	.config = true,
	.exec = cmd_mark_exec,
};
