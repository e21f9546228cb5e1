/*
 * cmd-redo.c - `dbmigrate redo`: roll back the most recent batch and
 * apply the same migrations again, the edit-and-retry loop of writing a
 * migration. One transaction when they all can share one.
 */
#include <stdlib.h>
#include <time.h>

#include "cli.h"

static const char cmd_redo_help[] =
	"Roll back the most recent batch, then apply the same migrations\n"
	"again from their files, as one batch: the loop of editing a migration\n"
	"during development. When every migration involved can run in a\n"
	"transaction, both steps are ONE transaction: if anything fails,\n"
	"nothing changed. Otherwise (CREATE INDEX CONCURRENTLY,\n"
	"transaction:false) the rollback commits first and the plan says so.\n"
	"\n"
	"--step N redoes the last N migrations whatever their batch. Each\n"
	"needs its file (the up SQL comes from it) and a down (from the file,\n"
	"or kept in the tracking table). --dry-run prints the plan and changes\n"
	"nothing. --transaction per-migration commits each step on its own.\n";

/* The plan of a redo, gathered from its PLAN events. */
struct cmd_redo_run {
	struct output *out;
	char **labels;  /* the migrations rolled back, newest first */
	size_t n;
	int from_batch; /* the newest batch rolled back */
	int to_batch;   /* the batch they come back as */
	bool shown;
	bool dry_run;
};

/* Print the plan once, before the first migration runs. */
static void cmd_redo_show(struct cmd_redo_run *r)
{
	const struct output *o = r->out;

	if (r->shown || r->n == 0)
		return;
	r->shown = true;
	if (o->quiet)
		return;
	printf("%sRedo: %s %zu migration%s (batch %d), then %s %s again as batch %d%s\n",
	       output_on(o, stdout, OUTPUT_SGR_BOLD),
	       r->dry_run ? "would roll back" : "rolling back", r->n,
	       r->n == 1 ? "" : "s", r->from_batch,
	       r->dry_run ? "apply" : "applying", r->n == 1 ? "it" : "them",
	       r->to_batch, output_off(o, stdout));
	for (size_t i = 0; i < r->n; i++)
		printf("  %s\n", r->labels[i]);
	if (!r->dry_run)
		putchar('\n');
	fflush(stdout);
}

/* Event callback: gather the plan, print the rest as up and down do. */
static void cmd_redo_event(const dbmigrate_event *ev, void *ctx)
{
	struct cmd_redo_run *r = ctx;

	if (ev->kind != DBMIGRATE_EVENT_PLAN) {
		if (ev->kind == DBMIGRATE_EVENT_START || ev->kind == DBMIGRATE_EVENT_DONE)
			cmd_redo_show(r);
		output_event(ev, r->out);
		return;
	}
	if (!ev->down) {
		r->to_batch = ev->batch;
		return;
	}
	if (ev->batch > r->from_batch)
		r->from_batch = ev->batch;
	r->labels = xreallocarray(r->labels, r->n + 1, sizeof *r->labels);
	r->labels[r->n++] = output_label(ev->entry);
}

/* Seconds on the monotonic clock. */
static double cmd_redo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* redo. */
static int cmd_redo_exec(struct cli *cli)
{
	struct cmd_redo_run r = { .out = &cli->out, .dry_run = cli->run.dry_run };
	double t0 = cmd_redo_now();
	dbmigrate_code rc;
	char took[32];
	int status = CLI_EXIT_OK;

	dbmigrate_on_event(cli->m, cmd_redo_event, &r);
	rc = dbmigrate_redo(cli->m, &cli->run);
	dbmigrate_on_event(cli->m, output_event, &cli->out);
	cmd_redo_show(&r);
	if (rc != DBMIGRATE_OK) {
		status = cmd_fail(cli);
	} else if (!cli->out.quiet) {
		output_duration(took, sizeof took, cmd_redo_now() - t0);
		if (r.n == 0)
			printf("Nothing to redo: no migration is applied.\n");
		else if (cli->run.dry_run)
			printf("Dry run: nothing was changed.\n");
		else
			printf("✅ %sRedo: rolled back and applied again %zu migration%s (batch %d) in %s.%s\n",
			       output_on(&cli->out, stdout, OUTPUT_SGR_GREEN), r.n,
			       r.n == 1 ? "" : "s", r.to_batch, took,
			       output_off(&cli->out, stdout));
	}
	for (size_t i = 0; i < r.n; i++)
		free(r.labels[i]);
	free(r.labels);
	return status;
}

const struct cmd_entry cmd_redo_entry = {
	.name = "redo",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "roll back the most recent batch and apply it again",
	.help = cmd_redo_help,
	.options = CLI_OPTS_DATABASE | CLI_OPT_LOCK_TIMEOUT | CLI_OPT_DRY_RUN |
		   CLI_OPT_STEP | CLI_OPT_TRANSACTION | CLI_OPTS_LIMITS,
	.config = true,
	.exec = cmd_redo_exec,
};
