/*
 * cmd-lint.c - `dbmigrate lint [ID...]`: warnings about migrations that
 * lock or rewrite big tables or break the running application, printed
 * the way compilers print them (file:line:column, the source line, a
 * hint), so editors and CI annotate the line. It exits 1 when anything
 * was found, so CI can gate a merge on it; no database is needed.
 */
#include <limits.h>
#include <stdio.h>

#include "cli.h"

static const char cmd_lint_help[] =
	"Check the up sections of the migrations (only those given by ID,\n"
	"else all) for operations that lock or rewrite big tables or break\n"
	"the application still running on the old schema, without a\n"
	"database: CREATE INDEX without CONCURRENTLY, foreign keys and CHECKs\n"
	"added without NOT VALID, SET NOT NULL, ALTER COLUMN ... TYPE, ADD\n"
	"COLUMN with a volatile default, DROP COLUMN, DROP TABLE, renames,\n"
	"lock-taking DDL with no lock_timeout set, CONCURRENTLY inside the\n"
	"migration's own BEGIN ... COMMIT, and a missing down section. Rules\n"
	"about existing tables skip tables the same migration created. The\n"
	"backend's rules come from the driver (--driver, the URL's scheme, or\n"
	"postgres); nothing connects.\n"
	"\n"
	"Each warning names file:line:column, the risk and the rule, then the\n"
	"safer pattern. A comment on the lines above a statement, inside it or\n"
	"after it on its last line silences rules for that statement:\n"
	"\n"
	"  -- dbmigrate:lint-ignore index-not-concurrent,no-lock-timeout small table\n"
	"\n"
	"(text after the list is free, for the reason). missing-down is\n"
	"silenced by the comment anywhere in the up section. With\n"
	"--sql-lock-timeout (or DBMIGRATE_SQL_LOCK_TIMEOUT), as the deploy's\n"
	"up will run, no-lock-timeout stays quiet.\n"
	"\n"
	"Exit 0 when there is no warning, 1 when there are warnings, 3 when\n"
	"a file cannot be read or parsed, 4 when the driver cannot be loaded.\n";

/* Print the source line and a caret under column (1-based characters),
   copying its tabs so that the caret lines up. */
static void cmd_lint_source(const struct output *o,
			    const dbmigrate_lint_warning *w)
{
	char gutter[16];
	unsigned chars = 1;
	int width = snprintf(gutter, sizeof gutter, "%u", w->line);

	fprintf(stderr, " %s%s |%s %s\n", output_on(o, stderr, OUTPUT_SGR_BOLD),
		gutter, output_off(o, stderr), w->source_line);
	if (w->column == 0)
		return;
	fprintf(stderr, " %*s | ", width, "");
	for (const char *p = w->source_line; *p != '\0' && chars < w->column;
	     p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue;
		fputc(*p == '\t' ? '\t' : ' ', stderr);
		chars++;
	}
	fprintf(stderr, "%s^%s\n", output_on(o, stderr, OUTPUT_SGR_GREEN),
		output_off(o, stderr));
}

/* Print one warning: "file:line:col: warning: message [rule]", the
   source line, the hint. */
static void cmd_lint_warning(const struct output *o,
			     const dbmigrate_lint_warning *w)
{
	fprintf(stderr, "%s%s:%u:%u:%s %swarning:%s %s [%s]\n",
		output_on(o, stderr, OUTPUT_SGR_BOLD), w->file, w->line,
		w->column, output_off(o, stderr),
		output_on(o, stderr, OUTPUT_SGR_MAGENTA), output_off(o, stderr),
		w->message, w->rule);
	if (w->source_line != NULL && w->line > 0)
		cmd_lint_source(o, w);
	if (w->hint != NULL)
		fprintf(stderr, "  %shint:%s %s\n",
			output_on(o, stderr, OUTPUT_SGR_CYAN),
			output_off(o, stderr), w->hint);
}

/* lint [ID...]. */
static int cmd_lint_exec(struct cli *cli)
{
	dbmigrate_lint_result *r = NULL;
	size_t n, checked, silenced;

	if (dbmigrate_lint(cli->m, (const char *const *)cli->args,
			   (size_t)cli->nargs, &r) != DBMIGRATE_OK)
		return cmd_fail(cli);
	n = dbmigrate_lint_count(r);
	checked = dbmigrate_lint_checked(r);
	silenced = dbmigrate_lint_silenced(r);
	fflush(stdout);
	/* Warnings are what lint is for: printed even with -q. */
	for (size_t i = 0; i < n; i++)
		cmd_lint_warning(&cli->out, dbmigrate_lint_get(r, i));
	if (!cli->out.quiet) {
		if (n == 0)
			printf("✅ %zu migration%s checked, no warnings", checked,
			       checked == 1 ? "" : "s");
		else
			printf("⚠️  %zu warning%s in %zu migration%s checked",
			       n, n == 1 ? "" : "s", checked,
			       checked == 1 ? "" : "s");
		if (silenced > 0)
			printf(" (%zu silenced by directives)", silenced);
		printf("\n");
	}
	dbmigrate_lint_free(r);
	return n == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

const struct cmd_entry cmd_lint_entry = {
	.name = "lint",
	.args = "[ID...]",
	.min_args = 0,
	.max_args = INT_MAX,
	.summary = "warn about locking and breaking migrations; exit 1 on any",
	.help = cmd_lint_help,
	/* --sql-lock-timeout: the runs this lint gates will set one, so
	   no-lock-timeout need not ask each migration for its own. */
	.options = CLI_OPT_DIR | CLI_OPT_URL | CLI_OPT_DRIVER |
		   CLI_OPT_SQL_LOCK_TIMEOUT,
	.config = true,
	.exec = cmd_lint_exec,
};
