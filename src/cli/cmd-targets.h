/*
 * cmd-targets.h - what the three files of --targets share: a run, its
 * targets, and the functions one file offers the others.
 * cmd-targets.c runs the targets (workers, signals, progress),
 * cmd-targets-file.c reads the targets file, cmd-targets-report.c
 * prints the summary table or the JSON and picks the exit code.
 */
#ifndef DBMIGRATE_CLI_CMD_TARGETS_H
#define DBMIGRATE_CLI_CMD_TARGETS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/* --parallel when not given: a few connections, not a stampede. */
#define CMD_TARGETS_DEFAULT_PARALLEL 4

/* The progress line is redrawn at most this often (seconds). */
#define CMD_TARGETS_REDRAW 0.1

/* Where a target stands. */
enum cmd_targets_state {
	CMD_TARGETS_WAITING,     /* not started */
	CMD_TARGETS_RUNNING,
	CMD_TARGETS_OK,
	CMD_TARGETS_FAILED,
	CMD_TARGETS_INTERRUPTED, /* stopped by Ctrl-C / SIGTERM while running */
	CMD_TARGETS_SKIPPED      /* never started: the run was stopped first */
};

/* One line of the targets file, and what running it gave. */
struct cmd_targets_target {
	char *url;     /* as written (may hold a password) */
	char *schema;  /* schema=NAME, or NULL */
	char *shown;   /* the URL with its password masked */
	char *label;   /* shown, then " schema=NAME" when there is one */
	unsigned line; /* in the file */

	enum cmd_targets_state state;
	dbmigrate_code rc;
	int exit;              /* the exit code this target alone would give */
	size_t planned;        /* PLAN events: migrations selected */
	size_t applied;        /* of them, those that took effect (committed) */
	size_t done;           /* DONE events, for the progress line */
	char *failed;          /* the migration that failed, or NULL */
	char *message;         /* the error's message, or NULL */
	char *detail;
	char *hint;
	char *sqlstate;
	char *file;            /* the file at fault, or NULL */
	unsigned file_line;
	double seconds;
	bool printed;          /* its error was printed in full */
	/* status */
	size_t executed, pending, missing, partial, modified, out_of_order;
};

/* A whole run. */
struct cmd_targets_run {
	struct cli *cli;
	enum cmd_targets_kind kind;
	const char *path;          /* the targets file */
	struct cmd_targets_target *t;
	size_t n;
	unsigned parallel;
	unsigned nslots;           /* workers' slots: parallel as asked */

	pthread_mutex_t mu;        /* guards everything below */
	size_t next;               /* the next target to start */
	size_t running, finished, nfailed;
	dbmigrate **slot;          /* per worker: the migrator running */
	bool stop;                 /* no new target starts */
	int signal;                /* the signal that stopped the run */
	bool watch_done;           /* the watcher thread may end */
	bool tty;                  /* stderr is a terminal: redraw in place */
	int columns;               /* its width */
	bool line_shown;           /* a progress line is on screen */
	double last_draw;
	size_t last_started;       /* for the progress line's label */
	double t0;
	double elapsed;            /* of the whole run, once it ended */
};

/* What a worker thread needs. */
struct cmd_targets_worker {
	struct cmd_targets_run *run;
	size_t id;
	pthread_t thread;
};

/* What a migrator's event callback needs. */
struct cmd_targets_ctx {
	struct cmd_targets_run *run;
	struct cmd_targets_target *t;
};

/* cmd-targets.c */
double cmd_targets_now(void);
const char *cmd_targets_verb(enum cmd_targets_kind kind);
char *cmd_targets_dup(const char *s);
void cmd_targets_target_free(struct cmd_targets_target *t);

/* cmd-targets-file.c: read the targets file into r; 0, or an exit code
   after printing why. */
int cmd_targets_file_read(struct cmd_targets_run *r);

/* cmd-targets-report.c */
const char *cmd_targets_state_name(enum cmd_targets_state s);
int cmd_targets_width(const char *s);
void cmd_targets_report_table(const struct cmd_targets_run *r);
void cmd_targets_report_json(const struct cmd_targets_run *r, int exit_code);
int cmd_targets_report_exit(const struct cmd_targets_run *r);

#endif
