/*
 * cmd-verify.c - `dbmigrate verify`: prove on a scratch database that
 * every down reverses its up, printing each step and, when one does not,
 * the schema difference.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char cmd_verify_help[] =
	"Prove that every migration's down reverses its up, on a scratch\n"
	"database: apply the migrations one at a time (exactly as up does,\n"
	"CREATE INDEX CONCURRENTLY and transaction:false outside a\n"
	"transaction), taking a snapshot of the schema after each from the\n"
	"catalogs (tables, columns with types, defaults and nullability,\n"
	"indexes, constraints, sequences, views, functions, triggers, types,\n"
	"extensions, policies, comments, privileges); then roll them back one\n"
	"at a time, checking that each down returns the schema to the\n"
	"snapshot before its up; then apply them all again and compare with\n"
	"the first pass.\n"
	"\n"
	"By default the scratch database is created on the server of the\n"
	"configured database (DATABASE_URL, DB_*, PG*), which needs the\n"
	"CREATEDB privilege, and dropped at the end, whatever happens. The\n"
	"configured database itself is only used to reach the server:\n"
	"nothing runs in it. Given on the command line, --url names the\n"
	"scratch database itself instead: an existing database, which must\n"
	"be empty (verify refuses one with any table, object or tracking\n"
	"table) and is emptied again after a successful run.\n"
	"\n"
	"Exit 0 when every down reverses its up. Exit 1 at the first one that\n"
	"does not (the newest, since downs run newest first), with the\n"
	"difference: lines marked + are left behind (or changed) by the down,\n"
	"lines marked - are missing after it. A migration that fails to apply\n"
	"fails as in up (exit 1). A migration without a down section stops\n"
	"the rollback there: it and those below it are not verified (a\n"
	"warning says so). Column order is not compared.\n";

/* What the progress printer knows of the run. */
struct cmd_verify {
	struct output *out;
	bool seen_down; /* ups after a down are the second pass */
	char *label;    /* the step running now, for a failure line */
	const char *phase;
};

/* The step's name as printed: up, down, then "up again". */
static const char *cmd_verify_phase(struct cmd_verify *v, bool down)
{
	if (down) {
		v->seen_down = true;
		return "down    ";
	}
	return v->seen_down ? "up again" : "up      ";
}

/* Events: one line per verified step; the rest as other commands show
   them (warnings, notices, -v debug lines). */
static void cmd_verify_event(const dbmigrate_event *ev, void *ctx)
{
	struct cmd_verify *v = ctx;
	const struct output *o = v->out;

	switch (ev->kind) {
	case DBMIGRATE_EVENT_START:
		free(v->label);
		v->label = output_label(ev->entry);
		v->phase = cmd_verify_phase(v, ev->down);
		break;
	case DBMIGRATE_EVENT_DONE:
		if (!o->quiet) {
			char took[32];

			output_duration(took, sizeof took, ev->seconds);
			printf("%s %s ... %sok%s (%s%s)\n", v->phase, v->label,
			       output_on(o, stdout, OUTPUT_SGR_GREEN),
			       output_off(o, stdout), took,
			       ev->outside_transaction ? ", outside a transaction" : "");
			fflush(stdout);
		}
		free(v->label);
		v->label = NULL;
		break;
	default:
		output_event(ev, v->out);
		break;
	}
}

/* Print a schema difference to stderr, one indented line each. */
static void cmd_verify_diff(const struct output *o, const char *diff)
{
	char *safe = output_safe(diff, true);

	for (const char *p = safe; *p != '\0';) {
		size_t n = strcspn(p, "\n");
		const char *sgr = *p == '+' ? OUTPUT_SGR_GREEN :
				  *p == '-' ? OUTPUT_SGR_RED : "";

		fprintf(stderr, "    %s%.*s%s\n", *sgr ? output_on(o, stderr, sgr) : "",
			(int)n, p, *sgr ? output_off(o, stderr) : "");
		p += n;
		if (*p == '\n')
			p++;
	}
	free(safe);
}

/* Report a down (or second up) that does not give the expected schema. */
static void cmd_verify_mismatch(const struct cli *cli,
				const dbmigrate_verify_result *r)
{
	const struct output *o = &cli->out;
	const dbmigrate_error *e = dbmigrate_last_error(cli->m);
	char *msg = output_safe(e->message, false);

	fflush(stdout);
	fprintf(stderr, "%sverify:%s %s\n", output_on(o, stderr, OUTPUT_SGR_RED),
		output_off(o, stderr), msg);
	fprintf(stderr, "  schema expected (-) against schema found (+):\n");
	cmd_verify_diff(o, r->diff);
	if (e->hint != NULL) {
		char *hint = output_safe(e->hint, true);

		fprintf(stderr, "%sHINT:%s %s\n", output_on(o, stderr, OUTPUT_SGR_BOLD),
			output_off(o, stderr), hint);
		free(hint);
	}
	free(msg);
}

/* verify. */
static int cmd_verify_exec(struct cli *cli)
{
	struct cmd_verify v = { .out = &cli->out };
	dbmigrate_verify_result *r = NULL;
	/* --url on the command line names the scratch database; the
	   connection settings otherwise (DATABASE_URL, DB_*) name the
	   server to create one on. */
	char *scratch = cli->url_flag != NULL ? xstrdup(cli->url_flag) : NULL;
	dbmigrate_code rc;
	int status = CLI_EXIT_OK;

	if (!cli->out.quiet) {
		if (scratch != NULL)
			printf("Verifying %s on the given scratch database\n",
			       cmd_dir(cli));
		else
			printf("Verifying %s on a new scratch database (dropped at the end)\n",
			       cmd_dir(cli));
		fflush(stdout);
	}
	dbmigrate_on_event(cli->m, cmd_verify_event, &v);
	rc = dbmigrate_verify(cli->m, scratch, &r);
	dbmigrate_on_event(cli->m, output_event, &cli->out);
	if (rc != DBMIGRATE_OK) {
		if (v.label != NULL && !cli->out.quiet) {
			printf("%s %s ... %sFAILED%s\n", v.phase, v.label,
			       output_on(&cli->out, stdout, OUTPUT_SGR_RED),
			       output_off(&cli->out, stdout));
			fflush(stdout);
		}
		if (r != NULL && r->diff != NULL) {
			cmd_verify_mismatch(cli, r);
			status = cmd_exit_code(rc);
		} else {
			status = cmd_fail(cli);
		}
	} else if (!cli->out.quiet) {
		if (r->unverifiable != NULL)
			printf("⚠️  %zu of %zu migration%s verified: nothing at or below %s could be rolled back.\n",
			       r->verified, r->total, r->total == 1 ? "" : "s",
			       r->unverifiable);
		else if (r->total == 0)
			printf("Nothing to verify: no migrations in %s.\n", cmd_dir(cli));
		else
			printf("✅ %s%zu migration%s verified: every down reverses its up.%s\n",
			       output_on(&cli->out, stdout, OUTPUT_SGR_GREEN), r->verified,
			       r->verified == 1 ? "" : "s", output_off(&cli->out, stdout));
	}
	free(v.label);
	free(scratch);
	dbmigrate_verify_free(r);
	return status;
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "prove on a scratch database that every down reverses its up",
	.help = cmd_verify_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT | CLI_OPTS_LIMITS,
	.config = true,
	.exec = cmd_verify_exec,
};
