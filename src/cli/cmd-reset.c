/*
 * cmd-reset.c - `dbmigrate reset`: roll back every batch, newest first,
 * then drop the tracking table. Destructive, so on a terminal it asks
 * first, and without a terminal it insists on --force.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char cmd_reset_help[] =
	"Roll back every applied migration, batch by batch, newest first, then\n"
	"drop the tracking table. This destroys what the migrations built:\n"
	"use it in development, never on a database you care about.\n"
	"\n"
	"On a terminal it asks you to type 'yes' first; anything else cancels\n"
	"it (exit 1). When standard input is not a terminal it refuses to run\n"
	"unless --force is given (exit 2). --dry-run prints the plan, asks\n"
	"nothing and changes nothing.\n";

/* reset. */
static int cmd_reset_exec(struct cli *cli)
{
	if (!cli->force && !cli->run.dry_run) {
		if (!isatty(STDIN_FILENO)) {
			output_usage_error(&cli->out,
					   "reset needs --force when standard input is not a terminal");
			return CLI_EXIT_USAGE;
		}
		char *warning = xasprintf("reset rolls back every applied migration and drops the tracking table \"%s\".",
					  cli->out.table);
		bool yes = cmd_confirm(cli, warning,
				       "roll back every migration and drop the tracking table");

		free(warning);
		if (!yes) {
			fputs("reset cancelled; nothing was changed\n", stderr);
			return CLI_EXIT_FAILED;
		}
	}
	return cmd_run(cli, OUTPUT_RESET, dbmigrate_reset);
}

const struct cmd_entry cmd_reset_entry = {
	.name = "reset",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "roll back every batch, then drop the tracking table",
	.help = cmd_reset_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT | CLI_OPT_DRY_RUN |
		   CLI_OPT_FORCE | CLI_OPTS_LIMITS,
	.config = true,
	.exec = cmd_reset_exec,
};
