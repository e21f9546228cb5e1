/*
 * cmd-down.c - `dbmigrate down` (alias rollback): roll back the most
 * recent batch, newest migration first, in one transaction.
 */
#include "cli.h"

static const char cmd_down_help[] =
	"Roll back the most recent batch: its migrations' down sections run,\n"
	"newest first, in one transaction that also removes their tracking\n"
	"rows. If any of them has no down section (or its file is gone),\n"
	"nothing runs and the error lists them (exit 3).\n"
	"\n"
	"--step N rolls back the last N migrations whatever their batch;\n"
	"--to ID rolls back every migration after ID (ID itself stays).\n"
	"--dry-run prints the plan and changes nothing.\n";

/* down: rollback. */
static int cmd_down_exec(struct cli *cli)
{
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
		   CLI_OPT_STEP | CLI_OPT_TO,
	.config = true,
	.exec = cmd_down_exec,
};
