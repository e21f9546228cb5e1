/*
 * cmd-version.c - `dbmigrate version` and --version: the package
 * version and the driver ABI this build loads, which is what a user
 * needs to match a third-party driver.
 */
#include <stdlib.h>

#include "cli.h"

static const char cmd_version_help[] =
	"Print the version of dbmigrate and the driver ABI it loads, as\n"
	"\"dbmigrate VERSION (driver ABI N)\". With -v, also where drivers are\n"
	"looked up. --version (-V) prints the first line too.\n";

/* The version line. */
void cmd_version_print(FILE *f)
{
	fprintf(f, "dbmigrate %s (driver ABI %u)\n", dbmigrate_version(),
		dbmigrate_driver_abi());
}

/* version. */
static int cmd_version_exec(struct cli *cli)
{
	const char *path = getenv("DBMIGRATE_DRIVER_PATH");

	cmd_version_print(stdout);
	if (cli->out.verbose)
		printf("drivers: %s%s%s\n",
		       path != NULL && *path != '\0' ? path : "",
		       path != NULL && *path != '\0' ? ", then " : "",
		       dbmigrate_driver_dir());
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "print the version and the driver ABI",
	.help = cmd_version_help,
	.options = 0,
	.config = false,
	.exec = cmd_version_exec,
};
