/*
 * cmd-status.c - `dbmigrate status`: every migration, executed (with its
 * batch), pending or missing, with drift marked on its line; as the
 * seed's text or as one JSON object. It reports and never judges: the
 * exit code is 0 even with problems (validate is the gate).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char cmd_status_help[] =
	"List every migration in numeric order: executed (with its batch),\n"
	"pending, or missing (recorded as applied, but its file is gone).\n"
	"Problems are marked on the line: an applied migration whose file\n"
	"changed since (its checksum differs), and a pending migration\n"
	"numbered below the newest applied one (out of order).\n"
	"\n"
	"An applied migration whose down would run from the SQL the tracking\n"
	"table kept (its file is gone, or has no down section) says so.\n"
	"\n"
	"Repeatable migrations (Flyway's R__name.sql) come last, marked\n"
	"(repeatable); one whose file changed since it was applied is pending\n"
	"again (🔁, \"modified\" true in JSON): up runs it again. down never\n"
	"rolls one back: they have no undo, as in Flyway.\n"
	"\n"
	"--format json prints one JSON object instead: {\"migrations\": [{\"id\",\n"
	"\"name\", \"state\" (executed, pending or missing), \"batch\",\n"
	"\"executed_at\" (null when pending), \"modified\", \"out_of_order\",\n"
	"\"file\", \"down_from\" (\"file\", \"table\" or null: where a down\n"
	"would come from), \"repeatable\"}...], \"total\", \"executed\", \"pending\",\n"
	"\"missing\"}.\n"
	"\n"
	"The exit code is 0 even when there are problems; use validate to\n"
	"fail on them.\n"
	"\n"
	"To find changed files, status reads every file once, then remembers\n"
	"each one's checksum in a cache (--cache-dir, DBMIGRATE_CACHE_DIR;\n"
	"default $XDG_CACHE_HOME/dbmigrate or ~/.cache/dbmigrate) and only\n"
	"stats it next time: a file whose size, times or inode changed is\n"
	"read again. --cache-dir off reads every file every time. Commands\n"
	"that run migrations never use the cache.\n"
	"\n"
	"--targets FILE lists every target in FILE (a URL a line, optionally\n"
	"schema=NAME) as one line each: executed, pending and problems; with\n"
	"--format json, {\"command\": \"status\", \"targets\": [{\"target\",\n"
	"\"schema\", \"line\", \"state\", \"executed\", \"pending\", \"missing\",\n"
	"\"modified\", \"out_of_order\"...}...], \"total\", \"ok\", \"failed\"}.\n"
	"A target that cannot be read makes the exit code non-zero.\n";

/* How many migrations are in each state, and with which problem. */
struct cmd_status_counts {
	size_t executed;
	size_t pending;
	size_t missing;
	size_t partial;
	size_t modified;
	size_t out_of_order;
	size_t down_from_table;
};

/* Count the report's entries. */
static void cmd_status_count(const dbmigrate_report *r,
			     struct cmd_status_counts *c)
{
	size_t n = dbmigrate_report_count(r);

	*c = (struct cmd_status_counts){ 0 };
	for (size_t i = 0; i < n; i++) {
		const dbmigrate_entry *e = dbmigrate_report_get(r, i);

		c->executed += e->state == DBMIGRATE_EXECUTED;
		c->pending += e->state == DBMIGRATE_PENDING;
		c->missing += e->state == DBMIGRATE_MISSING;
		c->partial += e->state == DBMIGRATE_PARTIAL;
		c->modified += e->modified && !e->repeatable;
		c->out_of_order += e->out_of_order;
		c->down_from_table += e->down_from_table;
	}
}

/* Print one migration's line of the text format. */
static void cmd_status_line(const struct cli *cli, const dbmigrate_entry *e)
{
	const struct output *o = &cli->out;
	const char *off = output_off(o, stdout);
	char *label = output_label(e);

	switch (e->state) {
	case DBMIGRATE_EXECUTED:
		printf("✅ %sExecuted%s %s (batch: %d)",
		       output_on(o, stdout, OUTPUT_SGR_GREEN), off, label, e->batch);
		break;
	case DBMIGRATE_PENDING:
		printf("%s %sPending%s %s", e->repeatable && e->modified ? "🔁" : "⏳",
		       output_on(o, stdout, OUTPUT_SGR_YELLOW), off, label);
		break;
	case DBMIGRATE_MISSING:
		printf("❌ %sMissing%s %s (batch: %d) file not found",
		       output_on(o, stdout, OUTPUT_SGR_RED), off, label, e->batch);
		break;
	case DBMIGRATE_PARTIAL:
		printf("❌ %sFailed part-way%s %s (batch: %d) %u of %u statements of its %s ran",
		       output_on(o, stdout, OUTPUT_SGR_RED), off, label, e->batch,
		       e->partial_done, e->partial_total,
		       e->partial_down ? "down" : "up");
		break;
	}
	if (o->verbose && e->executed_at != NULL)
		printf(" at %s", e->executed_at);
	if (e->repeatable && e->modified)
		printf(" (repeatable, changed since applied: up runs it again)");
	else if (e->repeatable)
		printf(" (repeatable)");
	else if (e->modified)
		printf(" %s⚠️ modified since applied%s",
		       output_on(o, stdout, OUTPUT_SGR_MAGENTA), off);
	if (e->out_of_order)
		printf(" %s⚠️ out of order%s",
		       output_on(o, stdout, OUTPUT_SGR_MAGENTA), off);
	putchar('\n');
	free(label);
}

/* The seed's text format, then a line explaining any problem. */
static void cmd_status_text(const struct cli *cli, const dbmigrate_report *r)
{
	const struct output *o = &cli->out;
	size_t n = dbmigrate_report_count(r);
	struct cmd_status_counts c;

	cmd_status_count(r, &c);
	printf("📊 %sMigration Status:%s\n===================\n",
	       output_on(o, stdout, OUTPUT_SGR_BOLD), output_off(o, stdout));
	for (size_t i = 0; i < n; i++)
		cmd_status_line(cli, dbmigrate_report_get(r, i));
	if (n == 0) {
		const char *dir = cmd_dir(cli);

		printf("No migrations in %s%s yet: create one with 'dbmigrate create NAME'.\n",
		       dir, *dir != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/");
	}
	printf("\nTotal: %zu | Executed: %zu | Pending: %zu", n, c.executed,
	       c.pending);
	if (c.missing > 0)
		printf(" | Missing: %zu", c.missing);
	if (c.partial > 0)
		printf(" | Failed part-way: %zu", c.partial);
	putchar('\n');
	if (c.partial > 0)
		printf("❌ %zu migration%s failed part-way: the database holds some of %s statements. Finish or undo %s by hand, then run 'dbmigrate mark ID --applied' or 'dbmigrate mark ID --pending'; until then up and down refuse to run.\n",
		       c.partial, c.partial == 1 ? "" : "s",
		       c.partial == 1 ? "its" : "their",
		       c.partial == 1 ? "it" : "them");
	if (c.modified > 0 || c.missing > 0) {
		printf("⚠️  Problems: ");
		if (c.modified > 0)
			printf("%zu migration%s modified since applied%s", c.modified,
			       c.modified == 1 ? "" : "s", c.missing > 0 ? ", " : "");
		if (c.missing > 0)
			printf("%zu applied migration%s without %s file", c.missing,
			       c.missing == 1 ? "" : "s",
			       c.missing == 1 ? "its" : "their");
		printf(". Run 'dbmigrate validate' for details.\n");
	}
	if (c.out_of_order > 0)
		printf("⚠️  %zu pending migration%s numbered below the newest applied one; 'dbmigrate up' applies %s out of order.\n",
		       c.out_of_order, c.out_of_order == 1 ? " is" : "s are",
		       c.out_of_order == 1 ? "it" : "them");
	/* Below the list, whose lines keep the seed's format. */
	if (c.down_from_table > 0) {
		const char *sep = "";

		printf("↩️  Down from the tracking table (the file is gone or has no down section): ");
		for (size_t i = 0; i < n; i++) {
			const dbmigrate_entry *e = dbmigrate_report_get(r, i);
			char *label;

			if (!e->down_from_table)
				continue;
			label = output_label(e);
			printf("%s%s", sep, label);
			free(label);
			sep = ", ";
		}
		putchar('\n');
	}
}

/* The state's name in JSON. */
static const char *cmd_status_state(dbmigrate_state s)
{
	switch (s) {
	case DBMIGRATE_EXECUTED:
		return "executed";
	case DBMIGRATE_MISSING:
		return "missing";
	case DBMIGRATE_PARTIAL:
		return "partial";
	case DBMIGRATE_PENDING:
		break;
	}
	return "pending";
}

/* Where a rollback of e would take its SQL: "file", "table" or NULL. */
static const char *cmd_status_down_from(const dbmigrate_entry *e)
{
	if (e->state == DBMIGRATE_PENDING)
		return NULL;
	if (e->down_from_table)
		return "table";
	return e->file != NULL && e->has_down ? "file" : NULL;
}

/* One JSON object, as SPEC shows it, plus "file", "down_from" and
   "missing". */
static void cmd_status_json(const dbmigrate_report *r)
{
	size_t n = dbmigrate_report_count(r);
	struct cmd_status_counts c;

	cmd_status_count(r, &c);
	fputs("{\"migrations\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		const dbmigrate_entry *e = dbmigrate_report_get(r, i);

		fputs(i > 0 ? ", {\"id\": " : "{\"id\": ", stdout);
		output_json_string(stdout, e->id);
		fputs(", \"name\": ", stdout);
		output_json_string(stdout, e->name);
		printf(", \"state\": \"%s\", \"batch\": ", cmd_status_state(e->state));
		if (e->state == DBMIGRATE_PENDING)
			fputs("null", stdout);
		else
			printf("%d", e->batch);
		fputs(", \"executed_at\": ", stdout);
		output_json_string(stdout, e->state == DBMIGRATE_PENDING ?
					   NULL : e->executed_at);
		printf(", \"modified\": %s, \"out_of_order\": %s, \"file\": ",
		       e->modified ? "true" : "false",
		       e->out_of_order ? "true" : "false");
		output_json_string(stdout, e->file);
		fputs(", \"down_from\": ", stdout);
		output_json_string(stdout, cmd_status_down_from(e));
		if (e->state == DBMIGRATE_PARTIAL)
			printf(", \"progress\": {\"direction\": \"%s\", \"done\": %u, \"total\": %u}",
			       e->partial_down ? "down" : "up", e->partial_done,
			       e->partial_total);
		printf(", \"repeatable\": %s}", e->repeatable ? "true" : "false");
	}
	printf("], \"total\": %zu, \"executed\": %zu, \"pending\": %zu, \"missing\": %zu, \"partial\": %zu}\n",
	       n, c.executed, c.pending, c.missing, c.partial);
}

/* status. */
static int cmd_status_exec(struct cli *cli)
{
	dbmigrate_report *r = NULL;

	if (cli->targets != NULL)
		return cmd_targets_run(cli, CMD_TARGETS_STATUS);
	if (dbmigrate_status(cli->m, &r) != DBMIGRATE_OK)
		return cmd_fail(cli);
	if (cli->format == CLI_FORMAT_JSON)
		cmd_status_json(r);
	else
		cmd_status_text(cli, r);
	dbmigrate_report_free(r);
	return CLI_EXIT_OK;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "list every migration: executed, pending, and problems",
	.help = cmd_status_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_FORMAT | CLI_OPT_CACHE_DIR |
		   CLI_OPTS_TARGETS,
	.config = true,
	.exec = cmd_status_exec,
};
