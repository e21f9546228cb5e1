/*
 * cli.h - the dbmigrate command's internals: the command table, the
 * parsed command line, the printer of events, errors and colours, and
 * the die-on-OOM allocators. The CLI is a plain user of the public API
 * (dbmigrate.h); it never includes the core's private headers.
 */
#ifndef DBMIGRATE_CLI_H
#define DBMIGRATE_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dbmigrate.h"

#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Options that apply to some commands only; one bit each. */
enum cli_opt {
	CLI_OPT_DIR = 0x001,
	CLI_OPT_URL = 0x002,
	CLI_OPT_DRIVER = 0x004,
	CLI_OPT_TABLE = 0x008,
	CLI_OPT_LOCK_TIMEOUT = 0x010,
	CLI_OPT_CONNECT_TIMEOUT = 0x020,
	CLI_OPT_DRY_RUN = 0x040,
	CLI_OPT_STEP = 0x080,
	CLI_OPT_TO = 0x100,
	CLI_OPT_FORMAT = 0x200,
	CLI_OPT_FORCE = 0x400,
	CLI_OPT_STATEMENT_TIMEOUT = 0x10000, /* --statement-timeout */
	CLI_OPT_SQL_LOCK_TIMEOUT = 0x20000,  /* --sql-lock-timeout */
	CLI_OPT_LOCK_RETRIES = 0x40000,      /* --lock-retries */
	CLI_OPT_TRANSACTION = 0x80000,       /* --transaction */
	CLI_OPT_MARK = 0x100000,             /* --applied, --pending */
	CLI_OPT_CACHE_DIR = 0x200000,        /* --cache-dir */
	CLI_OPT_SCHEMA = 0x1000,             /* --schema */
	CLI_OPT_TARGETS = 0x2000,            /* --targets */
	CLI_OPT_PARALLEL = 0x4000,           /* --parallel (with --targets) */
	/* Options every command accepts: -q, -v, --no-color, -h, -V. */
	CLI_OPT_GLOBAL = 0x800
};

/* The options of every command that reads migrations and a database. */
#define CLI_OPTS_DATABASE                                                  \
	(CLI_OPT_DIR | CLI_OPT_URL | CLI_OPT_DRIVER | CLI_OPT_TABLE |       \
	 CLI_OPT_CONNECT_TIMEOUT | CLI_OPT_SCHEMA)

/* Many databases in one run: up, down and status (cmd-targets.c). */
#define CLI_OPTS_TARGETS (CLI_OPT_TARGETS | CLI_OPT_PARALLEL)

/* The limits on the migrations' statements, for commands that run them. */
#define CLI_OPTS_LIMITS                                                    \
	(CLI_OPT_STATEMENT_TIMEOUT | CLI_OPT_SQL_LOCK_TIMEOUT |             \
	 CLI_OPT_LOCK_RETRIES)

/* One command-line option, for getopt_long and for the help texts. */
struct cli_option {
	const char *name;  /* long name without "--" */
	int short_name;    /* 'd', or 0 */
	const char *arg;   /* "DIR", or NULL for a flag */
	unsigned bit;      /* enum cli_opt */
	const char *key;   /* the dbmigrate_set() key it sets, or NULL */
	const char *help;  /* one line */
};

/* Every option, in the order help lists them; ends with a NULL name. */
extern const struct cli_option cli_options[];

/* How status and lint print (--format). */
enum cli_format {
	CLI_FORMAT_TEXT,
	CLI_FORMAT_JSON,
	CLI_FORMAT_SARIF /* lint only (cmd_entry.sarif) */
};

/* What output_event is printing progress for. */
enum output_mode {
	OUTPUT_UP,
	OUTPUT_DOWN,
	OUTPUT_RESET
};

/* One migration of the plan, kept until the plan is printed. */
struct output_plan_item {
	char *label;  /* "001_create_users_table" */
	char *reason; /* why it runs outside the transaction, or NULL */
	int batch;
	bool outside;
	bool own_tx;     /* in a transaction of its own (reason) */
	bool not_atomic; /* cannot roll back: recorded as it runs */
};

/* The printer's settings and the state of the run it reports. */
struct output {
	bool quiet;     /* -q: errors only */
	bool verbose;   /* -v: also START, COMMIT and DEBUG */
	bool color_out; /* ANSI colours allowed on stdout */
	bool color_err; /* and on stderr */
	const char *table; /* tracking table name, for messages */

	enum output_mode mode;
	struct output_plan_item *plan;
	size_t nplan;
	size_t plancap;
	bool plan_shown; /* the plan was printed */
	char *note;      /* the NOTE before the plan, or NULL */
	size_t done;     /* migrations finished */
};

struct cli;

/* A command: the table entry, with its help beside its code. */
struct cmd_entry {
	const char *name;
	const char *alias;    /* another name, or NULL */
	const char *args;     /* usage of the arguments, "" when none */
	int min_args;
	int max_args;
	const char *summary;  /* one line for the general help */
	const char *help;     /* paragraphs for `help COMMAND` */
	unsigned options;     /* enum cli_opt bits that apply */
	bool config;          /* needs a migrator with options and .env */
	bool sarif;           /* takes --format sarif too */
	bool format_with_targets; /* takes --format only with --targets */
	int (*exec)(struct cli *cli); /* returns the exit code */
};

/* An option the command line set, to configure more migrators the same
   way (--targets: one per target). */
struct cli_setting {
	const char *key;   /* dbmigrate_set() key */
	const char *value;
};

/* The parsed command line, handed to a command's exec. */
struct cli {
	const struct cmd_entry *entry;
	char **args;  /* the command's arguments */
	int nargs;
	dbmigrate *m; /* configured migrator, when entry->config */
	struct output out;
	dbmigrate_run_options run; /* --step, --to, --dry-run */
	bool force;
	enum cli_format format;
	int mark; /* mark: 1 for --applied, -1 for --pending, else 0 */
	const char *url_flag; /* --url as given on the command line, or NULL
				 (verify: the scratch database) */
	const char *targets;  /* --targets FILE, or NULL */
	unsigned parallel;    /* --parallel N, 0 when not given */
	struct cli_setting *settings; /* every option given with a key */
	size_t nsettings;
};

/* Exit codes (SPEC: "Exit codes"). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_FILES 3
#define CLI_EXIT_CONNECT 4
#define CLI_EXIT_LOCK 5
#define CLI_EXIT_SIGINT 130

/* What cmd-targets.c runs on every target. */
enum cmd_targets_kind {
	CMD_TARGETS_UP,
	CMD_TARGETS_DOWN,
	CMD_TARGETS_STATUS
};

/* cmd.c */
extern const struct cmd_entry *const cmd_table[];
const struct cmd_entry *cmd_find(const char *name, char **why);
int cmd_exit_code(dbmigrate_code rc);
int cmd_fail(struct cli *cli);
int cmd_run(struct cli *cli, enum output_mode mode,
	    dbmigrate_code (*fn)(dbmigrate *, const dbmigrate_run_options *));
const char *cmd_dir(const struct cli *cli);
bool cmd_confirm(const struct cli *cli, const char *warning,
		 const char *question);

/* The commands, one file each. */
extern const struct cmd_entry cmd_create_entry;
extern const struct cmd_entry cmd_down_entry;
extern const struct cmd_entry cmd_drivers_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_import_entry;
extern const struct cmd_entry cmd_init_entry;
extern const struct cmd_entry cmd_lint_entry;
extern const struct cmd_entry cmd_mark_entry;
extern const struct cmd_entry cmd_redo_entry;
extern const struct cmd_entry cmd_repair_entry;
extern const struct cmd_entry cmd_reset_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_up_entry;
extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_version_entry;

/* main.c: the signal that asked the run to stop, 0 when none did. */
int cli_signal(void);

/* cmd-targets.c */
int cmd_targets_run(struct cli *cli, enum cmd_targets_kind kind);

/* cmd-help.c */
void cmd_help_general(FILE *f);
void cmd_help_usage(FILE *f);
void cmd_help_command(FILE *f, const struct cmd_entry *e);

/* cmd-version.c */
void cmd_version_print(FILE *f);

/* output.c */
#define OUTPUT_SGR_BOLD "\033[1m"
#define OUTPUT_SGR_RED "\033[1;31m"
#define OUTPUT_SGR_GREEN "\033[32m"
#define OUTPUT_SGR_YELLOW "\033[33m"
#define OUTPUT_SGR_MAGENTA "\033[1;35m"
#define OUTPUT_SGR_CYAN "\033[36m"
#define OUTPUT_SGR_OFF "\033[0m"

void output_init(struct output *o, bool quiet, bool verbose, bool no_color);
void output_free(struct output *o);
const char *output_on(const struct output *o, FILE *f, const char *sgr);
const char *output_off(const struct output *o, FILE *f);
void output_begin_run(struct output *o, enum output_mode mode);
void output_end_run(struct output *o, dbmigrate_code rc, bool dry_run,
		    double seconds);
void output_event(const dbmigrate_event *ev, void *ctx);
void output_error(const struct output *o, const dbmigrate *m);
void output_option_error(const struct output *o, const dbmigrate *m,
			 const char *name);
void output_usage_error(const struct output *o, const char *fmt, ...)
	CLI_PRINTF(2, 3);
void output_warning(const struct output *o, const char *fmt, ...)
	CLI_PRINTF(2, 3);
void output_debug(const struct output *o, const char *fmt, ...)
	CLI_PRINTF(2, 3);
void output_json_string(FILE *f, const char *s);
char *output_label(const dbmigrate_entry *e);
char *output_safe(const char *s, bool multiline);
void output_duration(char *buf, size_t n, double seconds);

/* xalloc.c */
void *xmalloc(size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) CLI_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) CLI_PRINTF(1, 0);

#endif
