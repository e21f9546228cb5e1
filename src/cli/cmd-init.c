/*
 * cmd-init.c - `dbmigrate init`: create the migrations directory if it
 * is missing and the tracking table if it is missing. Idempotent, so it
 * is safe in every deployment script.
 */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char cmd_init_help[] =
	"Create the migrations directory (with its parents) if it is missing,\n"
	"connect, and create the tracking table if it is missing. Running it\n"
	"again changes nothing. A tracking table written by the seed's tool\n"
	"(no checksum column) is adopted as it is and gets the column.\n";

/* init. */
static int cmd_init_exec(struct cli *cli)
{
	const char *dir = cmd_dir(cli);
	const char *slash = *dir != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/";
	struct stat st;
	bool existed = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);

	if (dbmigrate_init(cli->m) != DBMIGRATE_OK)
		return cmd_fail(cli);
	if (cli->out.quiet)
		return CLI_EXIT_OK;
	if (existed)
		printf("✅ %s%s exists; the tracking table \"%s\" is ready.\n",
		       dir, slash, cli->out.table);
	else
		printf("✅ Created %s%s; the tracking table \"%s\" is ready.\n",
		       dir, slash, cli->out.table);
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "create the migrations directory and the tracking table",
	.help = cmd_init_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT,
	.config = true,
	.exec = cmd_init_exec,
};
