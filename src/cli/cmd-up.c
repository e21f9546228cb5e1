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
	"waits up to --lock-timeout seconds (exit 5 after that).\n"
	"\n"
	"--transaction per-migration commits each migration with its tracking\n"
	"row on its own (still one batch number), as dbmate and goose do: when\n"
	"one fails, those before it stay applied.\n"
	"\n"
	"--statement-timeout and --sql-lock-timeout limit each statement of\n"
	"the migrations (not the tool's own): how long it may run, and how long\n"
	"it may wait for a lock on a table or row. A migration that gave up\n"
	"waiting for a lock is retried --lock-retries times (default 3 with\n"
	"--sql-lock-timeout), with backoff. A migration may set its own limits\n"
	"with a line '-- dbmigrate:statement-timeout 10min' or\n"
	"'-- dbmigrate:lock-timeout 5s' in its SQL.\n"
	"\n"
	"--targets FILE applies the pending migrations of every target in\n"
	"FILE, one a line: a URL, optionally followed by schema=NAME for a\n"
	"schema per tenant (blank lines and # comments are ignored). Each\n"
	"target gets its own connection, lock and batch, --parallel N at a\n"
	"time (default 4); a progress line runs on stderr, then a table says\n"
	"what each got (target, applied, time, failed), or --format json one\n"
	"object. The exit code is 0 when every target succeeded, else the\n"
	"code their failures share (1 when they differ); run it again to\n"
	"carry on. Ctrl-C stops and rolls back every running target (130).\n"
	"--schema NAME runs one database's migrations in schema NAME: first\n"
	"on the search path, the tracking table inside it (PostgreSQL).\n";

/* up: migrate. */
static int cmd_up_exec(struct cli *cli)
{
	if (cli->targets != NULL)
		return cmd_targets_run(cli, CMD_TARGETS_UP);
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
		   CLI_OPT_STEP | CLI_OPT_TO | CLI_OPT_TRANSACTION |
		   CLI_OPTS_LIMITS | CLI_OPTS_TARGETS | CLI_OPT_FORMAT,
	.config = true,
	.format_with_targets = true,
	.exec = cmd_up_exec,
};
