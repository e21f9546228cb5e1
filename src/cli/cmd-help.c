/*
 * cmd-help.c - `dbmigrate help [COMMAND]` and the texts of --help: the
 * general help is built from the command and option tables, so it never
 * lists a command or an option that does not exist; a command's own help
 * text lives in its cmd-<name>.c.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Width of the left column of command and option lists. */
#define CMD_HELP_COLUMN 30

/* Width of the left column of the command list. */
#define CMD_HELP_CMD_COLUMN 18

static const char cmd_help_help[] =
	"Print the general help: commands, options, environment and exit\n"
	"codes. With COMMAND, print that command's help. `dbmigrate --help`\n"
	"and `dbmigrate COMMAND --help` do the same.\n";

static const char cmd_help_environment[] =
	"Environment (flags win over the environment, which wins over ./.env):\n"
	"  DATABASE_URL               connection URL, as --url\n"
	"  DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD\n"
	"                             the connection, when there is no URL\n"
	"  DBMIGRATE_DRIVER, DBMIGRATE_DIR, DBMIGRATE_TABLE\n"
	"                             as --driver, --dir, --table\n"
	"  DBMIGRATE_STATEMENT_TIMEOUT, DBMIGRATE_SQL_LOCK_TIMEOUT,\n"
	"  DBMIGRATE_LOCK_RETRIES     as --statement-timeout, --sql-lock-timeout,\n"
	"                             --lock-retries\n"
	"  DBMIGRATE_CACHE_DIR        as --cache-dir (status)\n"
	"  XDG_CACHE_HOME, HOME       where status keeps its cache by default\n"
	"  DBMIGRATE_DRIVER_PATH      directories searched for drivers first\n"
	"  NO_COLOR                   when set and not empty, no colours\n"
	"  PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, ~/.pgpass\n"
	"                             libpq's defaults, when nothing else is set\n";

static const char cmd_help_exit[] =
	"Exit status:\n"
	"  0    success\n"
	"  1    a migration failed (its transaction was rolled back); also\n"
	"       lint: warnings found; verify: a down does not reverse its up;\n"
	"       reset, repair: cancelled at the prompt\n"
	"  2    usage error; verify: the --url scratch database is not empty\n"
	"  3    bad migration files or a refused plan (nothing ran)\n"
	"  4    cannot load the driver or connect\n"
	"  5    another runner held the lock past --lock-timeout\n"
	"  130  interrupted by SIGINT (143: by SIGTERM)\n";

/* Print one option line: "  -d, --dir DIR   help". */
static void cmd_help_option(FILE *f, const struct cli_option *o)
{
	char left[64];

	if (o->short_name != 0)
		snprintf(left, sizeof left, "  -%c, --%s%s%s", o->short_name,
			 o->name, o->arg != NULL ? " " : "",
			 o->arg != NULL ? o->arg : "");
	else
		snprintf(left, sizeof left, "      --%s%s%s", o->name,
			 o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
	if (strlen(left) < CMD_HELP_COLUMN - 1)
		fprintf(f, "%-*s%s\n", CMD_HELP_COLUMN, left, o->help);
	else
		fprintf(f, "%s\n%*s%s\n", left, CMD_HELP_COLUMN, "", o->help);
}

/* One line a command: its synopsis, summary and alias. */
static void cmd_help_commands(FILE *f)
{
	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *e = cmd_table[i];
		char left[64];

		snprintf(left, sizeof left, "  %s%s%s", e->name,
			 *e->args != '\0' ? " " : "", e->args);
		fprintf(f, "%-*s%s", CMD_HELP_CMD_COLUMN, left, e->summary);
		if (e->alias != NULL)
			fprintf(f, " (alias: %s)", e->alias);
		fputc('\n', f);
	}
}

/* The short usage: synopsis and commands (stderr when none was given). */
void cmd_help_usage(FILE *f)
{
	fputs("Usage: dbmigrate [OPTIONS] COMMAND [ARGS]\n\nCommands:\n", f);
	cmd_help_commands(f);
	fputs("\nRun 'dbmigrate help' for the options, the environment and the exit codes,\n"
	      "and 'dbmigrate help COMMAND' for one command.\n", f);
}

/* The general help. */
void cmd_help_general(FILE *f)
{
	fputs("Usage: dbmigrate [OPTIONS] COMMAND [ARGS]\n\n"
	      "Apply numbered SQL migrations to a database in batches, inside\n"
	      "transactions; track them in a table; roll them back batch by batch.\n\n"
	      "Commands (a unique prefix is enough: 'stat' is status):\n", f);
	cmd_help_commands(f);
	fputs("\nOptions (before or after the command; '--' ends them):\n", f);
	for (const struct cli_option *o = cli_options; o->name != NULL; o++)
		cmd_help_option(f, o);
	fputc('\n', f);
	fputs(cmd_help_environment, f);
	fputc('\n', f);
	fputs(cmd_help_exit, f);
	fputs("\nRun 'dbmigrate help COMMAND' for a command's details; see also dbmigrate(1).\n",
	      f);
}

/* The help of one command: usage, text, and the options that apply. */
void cmd_help_command(FILE *f, const struct cmd_entry *e)
{
	bool any = false;

	fprintf(f, "Usage: dbmigrate %s [OPTIONS]%s%s\n", e->name,
		*e->args != '\0' ? " " : "", e->args);
	if (e->alias != NULL)
		fprintf(f, "   or: dbmigrate %s [OPTIONS]%s%s\n", e->alias,
			*e->args != '\0' ? " " : "", e->args);
	fprintf(f, "\n%s\n", e->help);
	for (const struct cli_option *o = cli_options; o->name != NULL; o++) {
		if (!(o->bit & e->options))
			continue;
		if (!any)
			fputs("Options:\n", f);
		any = true;
		cmd_help_option(f, o);
	}
	fprintf(f, "%s: -q/--quiet, -v/--verbose, --no-color, -h/--help.\n",
		any ? "Also" : "Options");
}

/* help [COMMAND]. */
static int cmd_help_exec(struct cli *cli)
{
	const struct cmd_entry *e;
	char *why = NULL;

	if (cli->nargs == 0) {
		cmd_help_general(stdout);
		return CLI_EXIT_OK;
	}
	if ((e = cmd_find(cli->args[0], &why)) == NULL) {
		output_usage_error(&cli->out, "%s", why);
		free(why);
		return CLI_EXIT_USAGE;
	}
	cmd_help_command(stdout, e);
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.args = "[COMMAND]",
	.min_args = 0,
	.max_args = 1,
	.summary = "print help, of COMMAND when given",
	.help = cmd_help_help,
	.options = 0,
	.config = false,
	.exec = cmd_help_exec,
};
