/*
 * cmd-repair.c - `dbmigrate repair`: accept the current contents of the
 * applied migrations whose files changed since, by re-recording their
 * checksums (and down SQL), without running any SQL. It hides drift from
 * status and validate, so on a terminal it lists them and asks first,
 * and without a terminal it insists on --force.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char cmd_repair_help[] =
	"Re-record the checksum, and the down SQL, of every applied migration\n"
	"whose file changed since it was applied (status marks them \"modified\n"
	"since applied\"), keeping its batch and time. None of their SQL runs:\n"
	"use it when the change is cosmetic (comments, formatting) or was made\n"
	"to the database by hand too.\n"
	"\n"
	"It lists the migrations first. On a terminal it asks you to type\n"
	"'yes'; anything else cancels it (exit 1). When standard input is not\n"
	"a terminal it refuses to run unless --force is given (exit 2).\n"
	"--dry-run lists them, asks nothing and changes nothing.\n";

/* Print the migrations of r, one a line. */
static void cmd_repair_list(const struct cli *cli, const dbmigrate_report *r)
{
	size_t n = dbmigrate_report_count(r);

	if (cli->out.quiet)
		return;
	for (size_t i = 0; i < n; i++) {
		const dbmigrate_entry *e = dbmigrate_report_get(r, i);
		char *label = output_label(e);

		printf("  %s (batch %d)\n", label, e->batch);
		free(label);
	}
	fflush(stdout);
}

/* repair. */
static int cmd_repair_exec(struct cli *cli)
{
	dbmigrate_run_options look = cli->run;
	dbmigrate_report *r = NULL;
	size_t n;

	if (!cli->force && !cli->run.dry_run && !isatty(STDIN_FILENO)) {
		output_usage_error(&cli->out,
				   "repair needs --force when standard input is not a terminal");
		return CLI_EXIT_USAGE;
	}
	look.dry_run = true;
	if (dbmigrate_repair(cli->m, &look, &r) != DBMIGRATE_OK)
		return cmd_fail(cli);
	n = dbmigrate_report_count(r);
	if (n == 0) {
		if (!cli->out.quiet)
			printf("✅ Nothing to repair: every applied migration matches its file.\n");
		dbmigrate_report_free(r);
		return CLI_EXIT_OK;
	}
	if (!cli->out.quiet)
		printf("%zu applied migration%s changed since applied:\n", n,
		       n == 1 ? "" : "s");
	cmd_repair_list(cli, r);
	dbmigrate_report_free(r);
	r = NULL;
	if (cli->run.dry_run) {
		if (!cli->out.quiet)
			printf("Dry run: nothing was changed.\n");
		return CLI_EXIT_OK;
	}
	if (!cli->force &&
	    !cmd_confirm(cli, n == 1
				  ? "repair records the file above as it is now, as if it had been applied so; none of its SQL runs."
				  : "repair records the files above as they are now, as if they had been applied so; none of their SQL runs.",
			 "re-record their checksums")) {
		fputs("repair cancelled; nothing was changed\n", stderr);
		return CLI_EXIT_FAILED;
	}
	if (dbmigrate_repair(cli->m, &cli->run, &r) != DBMIGRATE_OK)
		return cmd_fail(cli);
	n = dbmigrate_report_count(r);
	if (!cli->out.quiet)
		printf("✅ Re-recorded the checksum of %zu migration%s; none of their SQL ran.\n",
		       n, n == 1 ? "" : "s");
	dbmigrate_report_free(r);
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_repair_entry = {
	.name = "repair",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "re-record the checksums of changed applied files",
	.help = cmd_repair_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT | CLI_OPT_DRY_RUN |
		   CLI_OPT_FORCE,
	.config = true,
	.exec = cmd_repair_exec,
};
