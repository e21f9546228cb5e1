/*
 * cmd-down.c - `dbmigrate down` (alias rollback): roll back the most
 * recent batch, newest migration first, in one transaction.
 */
#include "cli.h"

static const char cmd_down_help[] =
	"Roll back the most recent batch: its migrations' down sections run,\n"
	"newest first, in one transaction that also removes their tracking\n"
	"rows. The down SQL of each migration is kept in the tracking table\n"
	"when it is applied, so a migration whose file is gone (or an older\n"
	"build without it) still rolls back; a warning says so. If one has no\n"
	"down at all, nothing runs and the error lists them (exit 3).\n"
	"\n"
	"--step N rolls back the last N migrations whatever their batch;\n"
	"--to ID rolls back every migration after ID (ID itself stays).\n"
	"--dry-run prints the plan and changes nothing. --transaction\n"
	"per-migration commits each rollback on its own; --statement-timeout,\n"
	"--sql-lock-timeout and --lock-retries limit the statements as for up.\n"
	"\n"
	"--targets FILE rolls back the newest batch of every target in FILE\n"
	"(a URL a line, optionally schema=NAME), --parallel N at a time, as\n"
	"up --targets does; --format json prints one object.\n";

/* down: rollback. */
static int cmd_down_exec(struct cli *cli)
{
	if (cli->targets != NULL)
		return cmd_targets_run(cli, CMD_TARGETS_DOWN);
	return cmd_run(cli, OUTPUT_DOWN, dbmigrate_rollback);
}

const struct cmd_entry cmd_down_entry = {
	.name = "down",
	.alias = "rollback",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "roll back the most recent batch",
	.help = cmd_down_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT | CLI_OPT_DRY_RUN |
		   CLI_OPT_STEP | CLI_OPT_TO | CLI_OPT_TRANSACTION |
		   CLI_OPTS_LIMITS | CLI_OPTS_TARGETS | CLI_OPT_FORMAT,
	.config = true,
	.format_with_targets = true,
	.exec = cmd_down_exec,
};
