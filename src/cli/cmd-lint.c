/*
 * cmd-lint.c - `dbmigrate lint [ID...]`: warnings about migrations that
 * lock or rewrite big tables or break the running application, printed
 * the way compilers print them (file:line:column, the source line, a
 * hint), so editors and CI annotate the line; or as one JSON document,
 * or as SARIF 2.1.0 for code-scanning services. It exits 1 when
 * anything was found, so CI can gate a merge on it; no database is
 * needed.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The project's home page, for SARIF's informationUri: AC_INIT's URL
   argument (configure.ac); left out of the output while it is empty. */
#ifdef PACKAGE_URL
#define CMD_LINT_HOMEPAGE PACKAGE_URL
#else
#define CMD_LINT_HOMEPAGE ""
#endif

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
	"--format json prints one JSON document on stdout instead:\n"
	"{\"findings\": [{\"migration\", \"file\", \"line\", \"column\" (1-based\n"
	"characters), \"rule\", \"severity\" (\"warning\"), \"message\", \"hint\",\n"
	"\"source_line\"}...], \"summary\": {\"checked\", \"warnings\",\n"
	"\"silenced\"}}. --format sarif prints SARIF 2.1.0, the format code\n"
	"scanning services read: one run whose tool lists the rules found,\n"
	"one result per finding (ruleId, level, message, file and region).\n"
	"Errors still go to stderr as text, and nothing to stdout.\n"
	"\n"
	"Exit 0 when there is no warning, 1 when there are warnings, 3 when\n"
	"a file cannot be read or parsed, 4 when the driver cannot be loaded,\n"
	"whatever the format.\n";

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

/* Write a 1-based position as a JSON number, or null when unknown (0). */
static void cmd_lint_json_position(unsigned v)
{
	if (v > 0)
		printf("%u", v);
	else
		fputs("null", stdout);
}

/* --format json: every finding, then the summary, as one document. */
static void cmd_lint_json(const dbmigrate_lint_result *r)
{
	size_t n = dbmigrate_lint_count(r);

	fputs("{\"findings\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		const dbmigrate_lint_warning *w = dbmigrate_lint_get(r, i);

		fputs(i > 0 ? ", {\"migration\": " : "{\"migration\": ", stdout);
		output_json_string(stdout, w->migration);
		fputs(", \"file\": ", stdout);
		output_json_string(stdout, w->file);
		fputs(", \"line\": ", stdout);
		cmd_lint_json_position(w->line);
		fputs(", \"column\": ", stdout);
		cmd_lint_json_position(w->column);
		fputs(", \"rule\": ", stdout);
		output_json_string(stdout, w->rule);
		fputs(", \"severity\": \"warning\", \"message\": ", stdout);
		output_json_string(stdout, w->message);
		fputs(", \"hint\": ", stdout);
		output_json_string(stdout, w->hint);
		fputs(", \"source_line\": ", stdout);
		output_json_string(stdout, w->line > 0 ? w->source_line : NULL);
		putchar('}');
	}
	printf("], \"summary\": {\"checked\": %zu, \"warnings\": %zu, "
	       "\"silenced\": %zu}}\n", dbmigrate_lint_checked(r), n,
	       dbmigrate_lint_silenced(r));
}

/*
 * A file path as a SARIF artifact URI (RFC 3986): an absolute path as a
 * file: URI, a relative one as a relative reference without its "./";
 * every byte but unreserved characters and "/" percent-encoded. To free.
 */
static char *cmd_lint_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(path);
	char *uri = xmalloc(3 * len + sizeof "file://"), *o = uri;

	while (path[0] == '.' && path[1] == '/')
		for (path += 2; *path == '/'; path++)
			;
	if (path[0] == '/')
		o = stpcpy(o, "file://");
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0';
	     p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xF];
		}
	}
	*o = '\0';
	return uri;
}

/* The index of rule in rules[0..n), n when it is not there. */
static size_t cmd_lint_rule_index(const char *const *rules, size_t n,
				  const char *rule)
{
	size_t i = 0;

	while (i < n && strcmp(rules[i], rule) != 0)
		i++;
	return i;
}

/*
 * --format sarif: SARIF 2.1.0, one run. The tool's rules are those
 * found (SARIF needs no more), each result points at its rule by id and
 * index, and its message carries the hint, which is what a reviewer
 * reads. Columns count characters: "columnKind" says so.
 */
static void cmd_lint_sarif(const dbmigrate_lint_result *r)
{
	size_t n = dbmigrate_lint_count(r);
	/* The distinct rules, in order of first appearance: a dozen at
	   most, however many findings there are. */
	const char **rules = xreallocarray(NULL, n + 1, sizeof *rules);
	size_t nrules = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rule = dbmigrate_lint_get(r, i)->rule;

		if (cmd_lint_rule_index(rules, nrules, rule) == nrules)
			rules[nrules++] = rule;
	}
	fputs("{\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\", "
	      "\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": "
	      "{\"name\": \"dbmigrate\", \"version\": ", stdout);
	output_json_string(stdout, dbmigrate_version());
	if (CMD_LINT_HOMEPAGE[0] != '\0') {
		fputs(", \"informationUri\": ", stdout);
		output_json_string(stdout, CMD_LINT_HOMEPAGE);
	}
	fputs(", \"rules\": [", stdout);
	for (size_t k = 0; k < nrules; k++) {
		fputs(k > 0 ? ", {\"id\": " : "{\"id\": ", stdout);
		output_json_string(stdout, rules[k]);
		putchar('}');
	}
	fputs("]}}, \"columnKind\": \"unicodeCodePoints\", \"results\": [",
	      stdout);
	for (size_t i = 0; i < n; i++) {
		const dbmigrate_lint_warning *w = dbmigrate_lint_get(r, i);
		char *uri = cmd_lint_uri(w->file);
		char *text = xasprintf("%s.%s%s", w->message,
				       w->hint != NULL ? " " : "",
				       w->hint != NULL ? w->hint : "");

		fputs(i > 0 ? ", {\"ruleId\": " : "{\"ruleId\": ", stdout);
		output_json_string(stdout, w->rule);
		printf(", \"ruleIndex\": %zu, \"level\": \"warning\", "
		       "\"message\": {\"text\": ",
		       cmd_lint_rule_index(rules, nrules, w->rule));
		output_json_string(stdout, text);
		fputs("}, \"locations\": [{\"physicalLocation\": "
		      "{\"artifactLocation\": {\"uri\": ", stdout);
		output_json_string(stdout, uri);
		putchar('}');
		if (w->line > 0) {
			printf(", \"region\": {\"startLine\": %u", w->line);
			if (w->column > 0)
				printf(", \"startColumn\": %u", w->column);
			if (w->source_line != NULL) {
				fputs(", \"snippet\": {\"text\": ", stdout);
				output_json_string(stdout, w->source_line);
				putchar('}');
			}
			putchar('}');
		}
		fputs("}}], \"properties\": {\"migration\": ", stdout);
		output_json_string(stdout, w->migration);
		fputs("}}", stdout);
		free(text);
		free(uri);
	}
	fputs("]}]}\n", stdout);
	free(rules);
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
	if (cli->format != CLI_FORMAT_TEXT) {
		if (cli->format == CLI_FORMAT_JSON)
			cmd_lint_json(r);
		else
			cmd_lint_sarif(r);
		dbmigrate_lint_free(r);
		return n == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	}
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
		   CLI_OPT_SQL_LOCK_TIMEOUT | CLI_OPT_FORMAT,
	.config = true,
	.sarif = true,
	.exec = cmd_lint_exec,
};
