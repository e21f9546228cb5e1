/*
 * cmd-up.c - `dbmigrate up` (alias migrate): apply every pending
 * migration, in numeric order, as one new batch.
 */
#include "cli.h"

static const char cmd_up_help[] =
	"Apply every pending migration, in numeric order, as ONE new batch\n"
	"(the highest batch number plus one). The tracking table is created\n"
	"first if it is missing, as init does.\n"
	"\n"
	"Every pending file is read and checked before anything runs: a file\n"
	"that does not parse runs nothing (exit 3). The batch runs in one\n"
	"transaction together with its tracking rows, so when a migration\n"
	"fails, nothing of the batch remains and nothing is recorded (exit 1).\n"
	"A migration PostgreSQL refuses inside a transaction block (CREATE\n"
	"INDEX CONCURRENTLY, VACUUM...) or marked transaction:false runs on\n"
	"its own, after the migrations before it committed; the plan printed\n"
	"first says so.\n"
	"\n"
	"--step N applies only the next N pending migrations; --to ID applies\n"
	"those up to and including ID. --dry-run prints the plan and changes\n"
	"nothing. Only one runner migrates a database at a time; another one\n"
	"waits up to --lock-timeout seconds (exit 5 after that).\n";

/* up: migrate. */
static int cmd_up_exec(struct cli *cli)
{
	return cmd_run(cli, OUTPUT_UP, dbmigrate_migrate);
}

const struct cmd_entry cmd_up_entry = {
	.name = "up",
	.alias = "migrate",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "apply all pending migrations as one batch",
	.help = cmd_up_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT | CLI_OPT_DRY_RUN |
		   CLI_OPT_STEP | CLI_OPT_TO,
	.config = true,
	.exec = cmd_up_exec,
};
