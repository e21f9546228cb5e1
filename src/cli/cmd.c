/*
 * cmd.c - the command table and what the commands share: finding a
 * command by a unique prefix of its name or alias, the options and where
 * they apply, and the mapping of library results to exit codes. Each
 * command lives in its own cmd-<name>.c with its help text beside it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

/* Every command, in the order the general help lists them. */
const struct cmd_entry *const cmd_table[] = {
	&cmd_help_entry,
	&cmd_init_entry,
	&cmd_create_entry,
	&cmd_up_entry,
	&cmd_status_entry,
	&cmd_down_entry,
	&cmd_reset_entry,
	&cmd_redo_entry,
	&cmd_mark_entry,
	&cmd_repair_entry,
	&cmd_import_entry,
	&cmd_validate_entry,
	&cmd_verify_entry,
	&cmd_lint_entry,
	&cmd_version_entry,
	&cmd_drivers_entry,
	NULL
};

/* Every option; main.c builds getopt_long's table from this one. */
const struct cli_option cli_options[] = {
	{ .name = "dir", .short_name = 'd', .arg = "DIR", .bit = CLI_OPT_DIR,
	  .key = "dir",
	  .help = "migrations directory (default ./migrations)" },
	{ .name = "url", .arg = "URL", .bit = CLI_OPT_URL,
	  .key = "url",
	  .help = "postgres://..., sqlite:FILE, mysql://..., mock:, or libpq keywords" },
	{ .name = "driver", .arg = "NAME", .bit = CLI_OPT_DRIVER,
	  .key = "driver",
	  .help = "driver (default: URL scheme, else postgres)" },
	{ .name = "table", .arg = "NAME", .bit = CLI_OPT_TABLE,
	  .key = "table",
	  .help = "tracking table, may be schema.table" },
	{ .name = "schema", .arg = "NAME", .bit = CLI_OPT_SCHEMA,
	  .key = "schema",
	  .help = "run in schema NAME: first on the search path, table in it" },
	{ .name = "targets", .arg = "FILE", .bit = CLI_OPT_TARGETS,
	  .help = "up, down, status: every target (URL [schema=NAME]) of FILE" },
	{ .name = "parallel", .arg = "N", .bit = CLI_OPT_PARALLEL,
	  .help = "with --targets: N targets at a time (default 4)" },
	{ .name = "lock-timeout", .arg = "SECONDS", .bit = CLI_OPT_LOCK_TIMEOUT,
	  .key = "lock_timeout",
	  .help = "wait for another runner's lock (default 60)" },
	{ .name = "connect-timeout", .arg = "SECONDS",
	  .bit = CLI_OPT_CONNECT_TIMEOUT,
	  .key = "connect_timeout",
	  .help = "wait up to SECONDS for the server, retrying" },
	{ .name = "dry-run", .bit = CLI_OPT_DRY_RUN,
	  .help = "up, down, reset, redo, mark, repair: change nothing" },
	{ .name = "step", .arg = "N", .bit = CLI_OPT_STEP,
	  .help = "up: the next N only; down, redo: the last N" },
	{ .name = "to", .arg = "ID", .bit = CLI_OPT_TO,
	  .help = "up: up to ID, included; down: down to ID, kept" },
	{ .name = "format", .arg = "text|json|sarif", .bit = CLI_OPT_FORMAT,
	  .help = "status, lint, --targets: output (default text; sarif: lint)" },
	{ .name = "force", .bit = CLI_OPT_FORCE,
	  .help = "reset, repair: do not ask for confirmation" },
	{ .name = "transaction", .arg = "batch|per-migration",
	  .bit = CLI_OPT_TRANSACTION,
	  .help = "one transaction per batch (default) or per migration" },
	{ .name = "statement-timeout", .arg = "DURATION",
	  .bit = CLI_OPT_STATEMENT_TIMEOUT, .key = "statement_timeout",
	  .help = "limit each statement of a migration (30s, 500ms, 2min)" },
	{ .name = "sql-lock-timeout", .arg = "DURATION",
	  .bit = CLI_OPT_SQL_LOCK_TIMEOUT, .key = "sql_lock_timeout",
	  .help = "limit a migration's wait for a table or row lock" },
	{ .name = "lock-retries", .arg = "N", .bit = CLI_OPT_LOCK_RETRIES,
	  .key = "lock_retries",
	  .help = "retry a migration that timed out on a lock (default 3)" },
	{ .name = "cache-dir", .arg = "DIR", .bit = CLI_OPT_CACHE_DIR,
	  .key = "cache_dir",
	  .help = "status: cache of unchanged files (off: none)" },
	{ .name = "applied", .bit = CLI_OPT_MARK,
	  .help = "mark: record the migration as applied" },
	{ .name = "pending", .bit = CLI_OPT_MARK,
	  .help = "mark: remove its tracking row (pending again)" },
	{ .name = "quiet", .short_name = 'q', .bit = CLI_OPT_GLOBAL,
	  .help = "print errors only" },
	{ .name = "verbose", .short_name = 'v', .bit = CLI_OPT_GLOBAL,
	  .help = "also print each step and debug messages" },
	{ .name = "no-color", .bit = CLI_OPT_GLOBAL,
	  .help = "no colours (also when NO_COLOR is set)" },
	{ .name = "help", .short_name = 'h', .bit = CLI_OPT_GLOBAL,
	  .help = "print help (of COMMAND, when given)" },
	{ .name = "version", .short_name = 'V', .bit = CLI_OPT_GLOBAL,
	  .help = "print the version" },
	{ .name = NULL }
};

/* True when word is a prefix of the command's name or of its alias. */
static bool cmd_prefix_of(const struct cmd_entry *e, const char *word,
			  size_t len)
{
	return strncmp(e->name, word, len) == 0 ||
	       (e->alias != NULL && strncmp(e->alias, word, len) == 0);
}

/*
 * The command called name: an exact name or alias, else the only one
 * that name is a prefix of. NULL when there is none or several; then
 * *why (to free) says which.
 */
const struct cmd_entry *cmd_find(const char *name, char **why)
{
	const struct cmd_entry *found = NULL;
	size_t len = strlen(name), n = 0, size = 1;
	char *list;

	*why = NULL;
	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (strcmp(e->name, name) == 0 ||
		    (e->alias != NULL && strcmp(e->alias, name) == 0))
			return e;
	}
	if (len == 0) {
		*why = xstrdup("empty command name");
		return NULL;
	}
	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (cmd_prefix_of(e, name, len)) {
			found = e;
			n++;
			size += strlen(e->name) + 2 +
				(e->alias != NULL ? strlen(e->alias) + 2 : 0);
		}
	}
	if (n == 1)
		return found;
	if (n == 0) {
		*why = xasprintf("unknown command '%s'", name);
		return NULL;
	}
	/* Name every candidate, aliases too: "r" is reset or rollback. */
	list = xmalloc(size);
	list[0] = '\0';
	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (strncmp(e->name, name, len) == 0) {
			strcat(list, *list != '\0' ? ", " : "");
			strcat(list, e->name);
		}
		if (e->alias != NULL && strncmp(e->alias, name, len) == 0) {
			strcat(list, *list != '\0' ? ", " : "");
			strcat(list, e->alias);
		}
	}
	*why = xasprintf("ambiguous command '%s': could be %s", name, list);
	free(list);
	return NULL;
}

/* The exit code of a library result (SPEC: "Exit codes"). */
int cmd_exit_code(dbmigrate_code rc)
{
	switch (rc) {
	case DBMIGRATE_OK:
		return CLI_EXIT_OK;
	case DBMIGRATE_EUSAGE:
		return CLI_EXIT_USAGE;
	case DBMIGRATE_EFILES:
	case DBMIGRATE_EIO:
		return CLI_EXIT_FILES;
	case DBMIGRATE_ECONNECT:
		return CLI_EXIT_CONNECT;
	case DBMIGRATE_ELOCK:
		return CLI_EXIT_LOCK;
	case DBMIGRATE_EINTERRUPTED:
		/* main() turns this into 128 + the signal that arrived. */
		return CLI_EXIT_SIGINT;
	case DBMIGRATE_EMIGRATION:
	case DBMIGRATE_EDATABASE:
	case DBMIGRATE_ENOMEM:
	case DBMIGRATE_EUNSUPPORTED:
		break;
	}
	return CLI_EXIT_FAILED;
}

/* Print the migrator's last error and return its exit code. */
int cmd_fail(struct cli *cli)
{
	output_error(&cli->out, cli->m);
	return cmd_exit_code(dbmigrate_last_error(cli->m)->code);
}

/* The migrations directory in effect (the library applies the default). */
const char *cmd_dir(const struct cli *cli)
{
	const char *dir = cli->m != NULL ? dbmigrate_get(cli->m, "dir") : NULL;

	return dir != NULL ? dir : "migrations";
}

/* Seconds on the monotonic clock. */
static double cmd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Run up, down or reset (fn) with the command line's run options,
 * printing the plan, the progress and a summary; returns the exit code.
 */
int cmd_run(struct cli *cli, enum output_mode mode,
	    dbmigrate_code (*fn)(dbmigrate *, const dbmigrate_run_options *))
{
	double t0 = cmd_now();
	dbmigrate_code rc;

	output_begin_run(&cli->out, mode);
	rc = fn(cli->m, &cli->run);
	output_end_run(&cli->out, rc, cli->run.dry_run, cmd_now() - t0);
	if (rc != DBMIGRATE_OK)
		return cmd_fail(cli);
	return CLI_EXIT_OK;
}

/*
 * Warn (one line, in magenta), then ask on the terminal; true only for
 * the answer "yes". A signal while waiting ends the read (no
 * SA_RESTART) and counts as no. reset and repair ask this way.
 */
bool cmd_confirm(const struct cli *cli, const char *warning,
		 const char *question)
{
	char answer[64];

	fflush(stdout);
	fprintf(stderr, "%s⚠️  %s%s\n",
		output_on(&cli->out, stderr, OUTPUT_SGR_MAGENTA), warning,
		output_off(&cli->out, stderr));
	fprintf(stderr, "Type 'yes' to %s: ", question);
	fflush(stderr);
	if (fgets(answer, sizeof answer, stdin) == NULL) {
		fputc('\n', stderr);
		return false;
	}
	answer[strcspn(answer, "\r\n")] = '\0';
	return strcmp(answer, "yes") == 0;
}
