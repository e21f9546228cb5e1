/*
 * cmd-targets-report.c - the end of a --targets run: the summary table
 * (target, applied, time, failed) and its totals, or one JSON object,
 * and the exit code of the whole run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-targets.h"

/* ---- the summary ---- */

/* The word of a target's state. */
const char *cmd_targets_state_name(enum cmd_targets_state s)
{
	switch (s) {
	case CMD_TARGETS_OK:
		return "ok";
	case CMD_TARGETS_FAILED:
		return "failed";
	case CMD_TARGETS_INTERRUPTED:
		return "interrupted";
	case CMD_TARGETS_SKIPPED:
	case CMD_TARGETS_WAITING:
	case CMD_TARGETS_RUNNING:
		break;
	}
	return "skipped";
}

/* What the FAILED column shows for t: the migration, or the kind of
   failure ("cannot connect"), or "-". */
static const char *cmd_targets_failed_cell(const struct cmd_targets_target *t)
{
	if (t->state == CMD_TARGETS_FAILED)
		return t->failed != NULL ? t->failed : dbmigrate_code_name(t->rc);
	if (t->state == CMD_TARGETS_OK)
		return "-";
	return cmd_targets_state_name(t->state);
}

/* Problems of a status target, as a short phrase (to free). */
static char *cmd_targets_problems(const struct cmd_targets_target *t)
{
	char *s = xstrdup("");

	if (t->state != CMD_TARGETS_OK) {
		free(s);
		return xstrdup(cmd_targets_failed_cell(t));
	}
	if (t->modified > 0) {
		char *n = xasprintf("%s%zu modified", s, t->modified);
		free(s);
		s = n;
	}
	if (t->missing > 0) {
		char *n = xasprintf("%s%s%zu missing", s, *s ? ", " : "",
				    t->missing);
		free(s);
		s = n;
	}
	if (t->partial > 0) {
		char *n = xasprintf("%s%s%zu failed part-way", s, *s ? ", " : "",
				    t->partial);
		free(s);
		s = n;
	}
	if (t->out_of_order > 0) {
		char *n = xasprintf("%s%s%zu out of order", s, *s ? ", " : "",
				    t->out_of_order);
		free(s);
		s = n;
	}
	if (*s == '\0') {
		free(s);
		s = xstrdup("-");
	}
	return s;
}

/* Display width of s: UTF-8 characters (the labels are URLs). */
int cmd_targets_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* The summary table and its totals on stdout. */
void cmd_targets_report_table(const struct cmd_targets_run *r)
{
	const struct output *o = &r->cli->out;
	const bool status = r->kind == CMD_TARGETS_STATUS;
	const char *count_head = status ? "EXECUTED" :
				 r->cli->run.dry_run ? "PLANNED" :
				 r->kind == CMD_TARGETS_DOWN ? "ROLLED BACK" : "APPLIED";
	size_t total = 0, ok = 0, skipped = 0, interrupted = 0;
	int w = 6;
	char took[32];

	for (size_t i = 0; i < r->n; i++)
		if (cmd_targets_width(r->t[i].label) > w)
			w = cmd_targets_width(r->t[i].label);
	printf("%s%-*s  %11s  %s  %s%s\n", output_on(o, stdout, OUTPUT_SGR_BOLD),
	       w, "TARGET", count_head, status ? "PENDING" : "   TIME",
	       status ? "PROBLEMS" : "FAILED", output_off(o, stdout));
	for (size_t i = 0; i < r->n; i++) {
		const struct cmd_targets_target *t = &r->t[i];
		size_t count = status ? t->executed :
			       r->cli->run.dry_run ? t->planned : t->applied;
		const char *sgr = t->state == CMD_TARGETS_FAILED ? OUTPUT_SGR_RED :
				  t->state == CMD_TARGETS_OK ? "" : OUTPUT_SGR_YELLOW;

		output_duration(took, sizeof took, t->seconds);
		printf("%-*s  %11zu  ", w + (int)strlen(t->label) -
					   cmd_targets_width(t->label),
		       t->label, count);
		if (status) {
			char *p = cmd_targets_problems(t);

			printf("%7zu  %s%s%s\n", t->pending,
			       *sgr ? output_on(o, stdout, sgr) : "", p,
			       *sgr ? output_off(o, stdout) : "");
			free(p);
		} else {
			printf("%7s  %s%s%s\n", took,
			       *sgr ? output_on(o, stdout, sgr) : "",
			       cmd_targets_failed_cell(t),
			       *sgr ? output_off(o, stdout) : "");
		}
		total += count;
		ok += t->state == CMD_TARGETS_OK;
		skipped += t->state == CMD_TARGETS_SKIPPED ||
			   t->state == CMD_TARGETS_WAITING;
		interrupted += t->state == CMD_TARGETS_INTERRUPTED;
	}
	output_duration(took, sizeof took, r->elapsed);
	printf("\nTargets: %zu | OK: %zu | Failed: %zu", r->n, ok, r->nfailed);
	if (interrupted > 0)
		printf(" | Interrupted: %zu", interrupted);
	if (skipped > 0)
		printf(" | Not started: %zu", skipped);
	if (status)
		printf(" | Executed: %zu\n", total);
	else
		printf(" | %s: %zu migration%s in %s%s\n",
		       r->cli->run.dry_run ? "Would run" :
		       r->kind == CMD_TARGETS_DOWN ? "Rolled back" : "Applied",
		       total, total == 1 ? "" : "s", took,
		       r->cli->run.dry_run ? " (dry run: nothing was changed)" : "");
	if (r->nfailed > 0) {
		printf("Failed:\n");
		for (size_t i = 0; i < r->n; i++) {
			const struct cmd_targets_target *t = &r->t[i];
			char *msg;

			if (t->state != CMD_TARGETS_FAILED)
				continue;
			msg = output_safe(t->message != NULL ? t->message : "", false);
			printf("  %s (line %u): %s%s%s (exit %d)\n", t->label,
			       t->line, t->failed != NULL ? t->failed : "",
			       t->failed != NULL ? ": " : "", msg, t->exit);
			free(msg);
		}
	}
	if (skipped > 0)
		printf("Stopped before %zu target%s started: run the command again to carry on.\n",
		       skipped, skipped == 1 ? "" : "s");
}

/* The run as one JSON object on stdout. */
void cmd_targets_report_json(const struct cmd_targets_run *r, int exit_code)
{
	const bool status = r->kind == CMD_TARGETS_STATUS;
	size_t ok = 0, skipped = 0, interrupted = 0, total = 0;

	printf("{\"command\": \"%s\", \"dry_run\": %s, \"targets\": [",
	       cmd_targets_verb(r->kind), r->cli->run.dry_run ? "true" : "false");
	for (size_t i = 0; i < r->n; i++) {
		const struct cmd_targets_target *t = &r->t[i];

		fputs(i > 0 ? ", {\"target\": " : "{\"target\": ", stdout);
		output_json_string(stdout, t->shown);
		fputs(", \"schema\": ", stdout);
		output_json_string(stdout, t->schema);
		printf(", \"line\": %u, \"state\": \"%s\", \"exit\": %d",
		       t->line, cmd_targets_state_name(t->state), t->exit);
		if (status)
			printf(", \"executed\": %zu, \"pending\": %zu, \"missing\": %zu, \"modified\": %zu, \"out_of_order\": %zu, \"partial\": %zu",
			       t->executed, t->pending, t->missing, t->modified,
			       t->out_of_order, t->partial);
		else
			printf(", \"planned\": %zu, \"%s\": %zu", t->planned,
			       r->kind == CMD_TARGETS_DOWN ? "rolled_back" : "applied",
			       t->applied);
		fputs(", \"failed\": ", stdout);
		output_json_string(stdout, t->state == CMD_TARGETS_FAILED ? t->failed : NULL);
		printf(", \"seconds\": %.3f, \"error\": ", t->seconds);
		if (t->state != CMD_TARGETS_FAILED) {
			fputs("null}", stdout);
		} else {
			fputs("{\"message\": ", stdout);
			output_json_string(stdout, t->message);
			fputs(", \"detail\": ", stdout);
			output_json_string(stdout, t->detail);
			fputs(", \"hint\": ", stdout);
			output_json_string(stdout, t->hint);
			fputs(", \"sqlstate\": ", stdout);
			output_json_string(stdout, t->sqlstate);
			fputs(", \"file\": ", stdout);
			output_json_string(stdout, t->file);
			printf(", \"file_line\": %u}}", t->file_line);
		}
		ok += t->state == CMD_TARGETS_OK;
		skipped += t->state == CMD_TARGETS_SKIPPED || t->state == CMD_TARGETS_WAITING;
		interrupted += t->state == CMD_TARGETS_INTERRUPTED;
		total += status ? t->executed : t->applied;
	}
	printf("], \"total\": %zu, \"ok\": %zu, \"failed\": %zu, \"interrupted\": %zu, \"skipped\": %zu, \"%s\": %zu, \"exit\": %d}\n",
	       r->n, ok, r->nfailed, interrupted, skipped,
	       status ? "executed" : r->kind == CMD_TARGETS_DOWN ? "rolled_back" : "applied",
	       total, exit_code);
}

/*
 * The exit code of the run: 128 + the signal that stopped it; 0 when
 * every target succeeded; when every failed target failed the same way,
 * that way's code (1 a migration, 3 files, 4 connect, 5 lock...), as
 * one target would exit; else 1.
 */
int cmd_targets_report_exit(const struct cmd_targets_run *r)
{
	int code = CLI_EXIT_OK;

	if (r->signal != 0)
		return 128 + r->signal;
	for (size_t i = 0; i < r->n; i++) {
		const struct cmd_targets_target *t = &r->t[i];

		if (t->state != CMD_TARGETS_FAILED)
			continue;
		if (code == CLI_EXIT_OK)
			code = t->exit;
		else if (code != t->exit)
			return CLI_EXIT_FAILED;
	}
	return code;
}
