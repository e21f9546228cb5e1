/*
 * cmd-create.c - `dbmigrate create NAME`: write DIR/NNN_name.sql with
 * the next number. It prints only the new file's path, so scripts can
 * use it: "$EDITOR $(dbmigrate create add_users)".
 */
#include <stdlib.h>

#include "cli.h"

static const char cmd_create_help[] =
	"Write DIR/NNN_NAME.sql with the next number (one more than the\n"
	"highest in the directory, with at least three digits) and empty\n"
	"-- migrate:up and -- migrate:down sections, and print its path.\n"
	"NAME is written in lowercase snake_case (\"Add Users\" becomes\n"
	"add_users). The directory is created if it is missing; no database\n"
	"is needed.\n";

/* create NAME. */
static int cmd_create_exec(struct cli *cli)
{
	char *path = NULL;

	if (dbmigrate_create(cli->m, cli->args[0], &path) != DBMIGRATE_OK)
		return cmd_fail(cli);
	printf("%s\n", path);
	if (cli->out.verbose) {
		fflush(stdout);
		fprintf(stderr, "✅ Created %s: fill in its up and down sections, then run 'dbmigrate up'.\n",
			path);
	}
	free(path);
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_create_entry = {
	.name = "create",
	.args = "NAME",
	.min_args = 1,
	.max_args = 1,
	.summary = "write DIR/NNN_NAME.sql with the next number; print its path",
	.help = cmd_create_help,
	.options = CLI_OPT_DIR,
	.config = true,
	.exec = cmd_create_exec,
};
