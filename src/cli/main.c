/*
 * main.c - the dbmigrate command: parse the command line (options before
 * or after the command, getopt_long), find the command, configure a
 * migrator from the flags, the environment and ./.env, handle SIGINT
 * and SIGTERM, run the command and exit with the code SPEC promises.
 * Everything behind it is the public API of libdbmigrate.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The most options the table may hold (checked when building getopt's). */
#define MAIN_MAX_OPTIONS 32

/*
 * The signal that asked us to stop (0: none), and the migrator the
 * handler interrupts. Signals are process-wide, so this is the one place
 * dbmigrate keeps file-static state; it is set before the handlers are
 * installed and cleared after they are removed.
 */
static volatile sig_atomic_t main_signal;
static dbmigrate *volatile main_migrator;
static volatile sig_atomic_t main_quiet;

/* The signal that asked us to stop, 0 when none did (cli.h). */
int cli_signal(void)
{
	return main_signal;
}

/* What the command line said, before the command is known. */
struct main_args {
	char **operands; /* command and its arguments, in order */
	int noperands;
	unsigned seen;   /* enum cli_opt bits given */
	const char *value[MAIN_MAX_OPTIONS]; /* option values by index */
	char *url;       /* private copy of --url (argv's is masked) */
	bool help;
	bool version;
	bool quiet;
	bool verbose;
	bool no_color;
	bool dry_run;
	bool force;
	unsigned step;
	unsigned parallel; /* --parallel N, 0 when not given */
	enum cli_format format;
	dbmigrate_transaction_mode transaction;
	int mark;        /* 1 --applied, -1 --pending */
	char *error;     /* the first mistake found, to free */
};

/* Remember the first command-line mistake; later ones are noise. */
static void main_mistake(struct main_args *a, char *msg)
{
	if (a->error == NULL)
		a->error = msg;
	else
		free(msg);
}

/* The index in cli_options of the option called name, or -1. */
static int main_option_index(const char *name)
{
	for (int i = 0; cli_options[i].name != NULL; i++)
		if (strcmp(cli_options[i].name, name) == 0)
			return i;
	return -1;
}

/* Parse a positive whole number; false when s is not one. */
static bool main_parse_count(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > UINT_MAX)
		return false;
	*out = (unsigned)v;
	return true;
}

/* True when s is a non-negative number of seconds. */
static bool main_parse_seconds(const char *s)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return false;
	errno = 0;
	v = strtod(s, &end);
	return errno == 0 && *end == '\0' && isfinite(v) && v >= 0;
}

/* Record option i (index in cli_options) with its value. */
static void main_option(struct main_args *a, int i, char *value)
{
	const struct cli_option *o = &cli_options[i];

	a->seen |= o->bit;
	if (o->arg != NULL)
		a->value[i] = value;
	switch (o->bit) {
	case CLI_OPT_URL:
		/* Keep a copy, then hide the password from ps(1): value
		   points into argv, which is what /proc/PID/cmdline shows. */
		free(a->url);
		a->url = xstrdup(value);
		a->value[i] = a->url;
		dbmigrate_mask_password(value);
		break;
	case CLI_OPT_LOCK_TIMEOUT:
	case CLI_OPT_CONNECT_TIMEOUT:
		if (!main_parse_seconds(value))
			main_mistake(a, xasprintf("--%s needs a number of seconds, not '%s'",
						  o->name, value));
		break;
	case CLI_OPT_STEP:
		if (!main_parse_count(value, &a->step))
			main_mistake(a, xasprintf("--step needs a positive whole number, not '%s'",
						  value));
		break;
	case CLI_OPT_PARALLEL:
		if (!main_parse_count(value, &a->parallel) || a->parallel > 256)
			main_mistake(a, xasprintf("--parallel needs a whole number from 1 to 256, not '%s'",
						  value));
		break;
	case CLI_OPT_TARGETS:
		if (*value == '\0')
			main_mistake(a, xstrdup("--targets needs a file name, not an empty string"));
		break;
	case CLI_OPT_TO:
		if (*value == '\0')
			main_mistake(a, xstrdup("--to needs a migration id, not an empty string"));
		break;
	case CLI_OPT_FORMAT:
		if (strcmp(value, "text") == 0)
			a->format = CLI_FORMAT_TEXT;
		else if (strcmp(value, "json") == 0)
			a->format = CLI_FORMAT_JSON;
		else if (strcmp(value, "sarif") == 0)
			a->format = CLI_FORMAT_SARIF;
		else
			main_mistake(a, xasprintf("--format must be text, json or sarif, not '%s'",
						  value));
		break;
	case CLI_OPT_TRANSACTION:
		if (strcmp(value, "batch") == 0)
			a->transaction = DBMIGRATE_TRANSACTION_BATCH;
		else if (strcmp(value, "per-migration") == 0)
			a->transaction = DBMIGRATE_TRANSACTION_PER_MIGRATION;
		else
			main_mistake(a, xasprintf("--transaction must be batch or per-migration, not '%s'",
						  value));
		break;
	case CLI_OPT_MARK: {
		int want = strcmp(o->name, "applied") == 0 ? 1 : -1;

		if (a->mark != 0 && a->mark != want)
			main_mistake(a, xstrdup("--applied and --pending contradict each other: give one"));
		a->mark = want;
		break;
	}
	case CLI_OPT_DRY_RUN:
		a->dry_run = true;
		break;
	case CLI_OPT_FORCE:
		a->force = true;
		break;
	case CLI_OPT_GLOBAL:
		if (strcmp(o->name, "help") == 0)
			a->help = true;
		else if (strcmp(o->name, "version") == 0)
			a->version = true;
		else if (strcmp(o->name, "quiet") == 0)
			a->quiet = true;
		else if (strcmp(o->name, "verbose") == 0)
			a->verbose = true;
		else if (strcmp(o->name, "no-color") == 0)
			a->no_color = true;
		break;
	default:
		break;
	}
}

/* Explain an option getopt_long did not recognise (token: "--x=1"). */
static char *main_unknown(const char *token)
{
	size_t len;
	char *list = NULL, *msg;
	int n = 0;

	if (strncmp(token, "--", 2) != 0)
		return xasprintf("unknown option '%s'", token);
	token += 2;
	len = strcspn(token, "=");
	for (int i = 0; cli_options[i].name != NULL; i++) {
		char *l;

		if (strncmp(cli_options[i].name, token, len) != 0)
			continue;
		l = xasprintf("%s%s--%s", list != NULL ? list : "",
			      list != NULL ? ", " : "", cli_options[i].name);
		free(list);
		list = l;
		n++;
	}
	if (n > 1)
		msg = xasprintf("ambiguous option '--%.*s': could be %s",
				(int)len, token, list);
	else
		msg = xasprintf("unknown option '--%.*s'", (int)len, token);
	free(list);
	return msg;
}

/* The name of the option getopt returned as val, for messages. */
static const char *main_option_name(int val, char *buf, size_t n)
{
	if (val >= 256 && cli_options[val - 256].name != NULL) {
		snprintf(buf, n, "--%s", cli_options[val - 256].name);
	} else {
		for (int i = 0; cli_options[i].name != NULL; i++)
			if (cli_options[i].short_name == val)
				snprintf(buf, n, "-%c/--%s", val, cli_options[i].name);
	}
	return buf;
}

/*
 * Parse argv. Options may come anywhere ("-" first in the optstring
 * returns operands in order, whatever POSIXLY_CORRECT says); "--" ends
 * them. Mistakes are remembered, not printed, so that --help anywhere
 * still wins.
 */
static void main_parse(struct main_args *a, int argc, char **argv)
{
	struct option longopts[MAIN_MAX_OPTIONS + 1];
	char shortopts[2 * MAIN_MAX_OPTIONS + 3] = "-:";
	size_t ns = 2;
	int n = 0, c;

	for (; cli_options[n].name != NULL && n < MAIN_MAX_OPTIONS; n++) {
		const struct cli_option *o = &cli_options[n];

		longopts[n] = (struct option){ o->name,
					       o->arg != NULL ? required_argument : no_argument,
					       NULL, 256 + n };
		if (o->short_name != 0) {
			shortopts[ns++] = (char)o->short_name;
			if (o->arg != NULL)
				shortopts[ns++] = ':';
		}
	}
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[ns] = '\0';
	a->operands = xreallocarray(NULL, (size_t)argc + 1, sizeof *a->operands);
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		char name[64] = "";
		int i = -1;

		if (c == 1) {
			a->operands[a->noperands++] = optarg;
			continue;
		}
		if (c == ':') {
			main_mistake(a, xasprintf("option '%s' needs a value",
						  main_option_name(optopt, name, sizeof name)));
			continue;
		}
		if (c == '?') {
			if (optopt >= 256)
				main_mistake(a, xasprintf("option '%s' takes no value",
							  main_option_name(optopt, name, sizeof name)));
			else if (optopt != 0)
				main_mistake(a, xasprintf("unknown option '-%c'", optopt));
			else
				main_mistake(a, main_unknown(argv[optind - 1]));
			continue;
		}
		if (c >= 256) {
			i = c - 256;
		} else {
			for (int k = 0; cli_options[k].name != NULL; k++)
				if (cli_options[k].short_name == c)
					i = k;
		}
		if (i >= 0)
			main_option(a, i, optarg);
	}
	while (optind < argc)
		a->operands[a->noperands++] = argv[optind++];
	a->operands[a->noperands] = NULL;
}

/* --help: the help of the command named (or of `help X`), else general. */
static int main_help(struct main_args *a, struct cli *cli)
{
	const struct cmd_entry *e = NULL;
	char *why = NULL;

	if (a->noperands > 0 && (e = cmd_find(a->operands[0], &why)) == NULL) {
		output_usage_error(&cli->out, "%s", why);
		free(why);
		return CLI_EXIT_USAGE;
	}
	if (e == &cmd_help_entry && a->noperands > 1 &&
	    (e = cmd_find(a->operands[1], &why)) == NULL) {
		output_usage_error(&cli->out, "%s", why);
		free(why);
		return CLI_EXIT_USAGE;
	}
	if (e != NULL)
		cmd_help_command(stdout, e);
	else
		cmd_help_general(stdout);
	return CLI_EXIT_OK;
}

/* Check that the options given apply to command e; print why not. */
static bool main_options_apply(const struct main_args *a,
			       const struct cmd_entry *e, struct cli *cli)
{
	unsigned bad = a->seen & ~(e->options | CLI_OPT_GLOBAL);
	const struct cli_option *o;
	char *where = NULL;

	if (bad == 0)
		return true;
	for (o = cli_options; o->name != NULL && !(o->bit & bad); o++)
		;
	/* Say where it does apply, since that is usually the slip. */
	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		char *w;

		if (!(cmd_table[i]->options & o->bit))
			continue;
		w = xasprintf("%s%s%s", where != NULL ? where : "",
			      where != NULL ? ", " : "", cmd_table[i]->name);
		free(where);
		where = w;
	}
	output_usage_error(&cli->out, "option --%s does not apply to %s%s%s%s",
			   o->name, e->name, where != NULL ? " (only to " : "",
			   where != NULL ? where : "", where != NULL ? ")" : "");
	free(where);
	return false;
}

/* Check the number of arguments of command e; print what is wrong. */
static bool main_arguments(int nargs, char **args, const struct cmd_entry *e,
			   struct cli *cli)
{
	if (nargs < e->min_args) {
		output_usage_error(&cli->out, "%s needs an argument: dbmigrate %s %s",
				   e->name, e->name, e->args);
		return false;
	}
	if (nargs > e->max_args) {
		if (e->max_args == 0)
			output_usage_error(&cli->out, "%s takes no arguments (got '%s')",
					   e->name, args[0]);
		else
			output_usage_error(&cli->out, "too many arguments for %s: '%s'",
					   e->name, args[e->max_args]);
		return false;
	}
	return true;
}

/*
 * The status cache's default place when neither --cache-dir nor
 * DBMIGRATE_CACHE_DIR says: $XDG_CACHE_HOME/dbmigrate, else
 * ~/.cache/dbmigrate (the XDG base directory rules); none without an
 * absolute home. The library has no default: a program using it opts in.
 */
static void main_default_cache(dbmigrate *m)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *dir = NULL;

	if (dbmigrate_get(m, "cache_dir") != NULL)
		return;
	if (xdg != NULL && xdg[0] == '/')
		dir = xasprintf("%s/dbmigrate", xdg);
	else if (home != NULL && home[0] == '/')
		dir = xasprintf("%s/.cache/dbmigrate", home);
	if (dir != NULL)
		(void)dbmigrate_set(m, "cache_dir", dir);
	free(dir);
}

/*
 * Make the migrator: flags first (they win), then the environment and
 * ./.env fill what is left. Returns an exit code, 0 when ready.
 */
static int main_configure(struct main_args *a, struct cli *cli)
{
	dbmigrate *m = dbmigrate_new();
	const char *url, *driver;
	dbmigrate_code rc;

	if (m == NULL) {
		output_usage_error(NULL, "out of memory");
		return CLI_EXIT_FAILED;
	}
	cli->m = m;
	for (int i = 0; cli_options[i].name != NULL; i++) {
		const struct cli_option *o = &cli_options[i];

		if (o->key == NULL || a->value[i] == NULL)
			continue;
		if ((rc = dbmigrate_set(m, o->key, a->value[i])) != DBMIGRATE_OK) {
			output_option_error(&cli->out, m, o->name);
			return cmd_exit_code(rc);
		}
	}
	if ((rc = dbmigrate_load_env(m, NULL)) != DBMIGRATE_OK) {
		output_error(&cli->out, m);
		return cmd_exit_code(rc);
	}
	main_default_cache(m);
	cli->out.table = dbmigrate_get(m, "table");
	dbmigrate_on_event(m, output_event, &cli->out);
	if (cli->out.verbose) {
		char *shown = NULL;

		url = dbmigrate_get(m, "url");
		if (url != NULL) {
			shown = xstrdup(url);
			dbmigrate_mask_password(shown);
		}
		driver = dbmigrate_get(m, "driver");
		output_debug(&cli->out, "directory %s, tracking table %s, driver %s, %s%s",
			     cmd_dir(cli), cli->out.table,
			     driver,
			     shown != NULL ? "url " : "no URL (DB_* variables or libpq's defaults)",
			     shown != NULL ? shown : "");
		free(shown);
	}
	return CLI_EXIT_OK;
}

/*
 * SIGINT/SIGTERM: ask the migrator to stop (it cancels the statement and
 * rolls back); a second SIGINT while stopping quits at once.
 */
static void main_on_signal(int sig)
{
	static const char msg[] =
		"\nInterrupted: stopping and rolling back (Ctrl-C again quits at once)\n";
	dbmigrate *m = main_migrator;

	if (main_signal != 0) {
		if (sig == SIGINT)
			_exit(CLI_EXIT_SIGINT);
		return;
	}
	main_signal = sig;
	if (!main_quiet && write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
		main_quiet = 1; /* nothing else is safe to do here */
	if (m != NULL)
		dbmigrate_interrupt(m);
}

/* Install (or, with m NULL, remove) the SIGINT and SIGTERM handlers. */
static void main_signals(dbmigrate *m)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a read of the reset prompt must return EINTR. */
	sa.sa_flags = 0;
	sa.sa_handler = m != NULL ? main_on_signal : SIG_DFL;
	if (m != NULL)
		main_migrator = m;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (m == NULL)
		main_migrator = NULL;
}

/* Flush stdout; a failed write (other than a closed pipe) is an error. */
static int main_finish_output(int status)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	if (errno == EPIPE)
		return status;
	fprintf(stderr, "error: cannot write the output: %s\n", strerror(errno));
	return status == CLI_EXIT_OK ? CLI_EXIT_FAILED : status;
}

/* Find and run the command; returns the exit code. */
static int main_run(struct main_args *a, struct cli *cli)
{
	const struct cmd_entry *e;
	char *why = NULL;
	int status;

	if (a->help)
		return main_help(a, cli);
	if (a->error != NULL) {
		output_usage_error(&cli->out, "%s", a->error);
		return CLI_EXIT_USAGE;
	}
	if (a->version) {
		cmd_version_print(stdout);
		return CLI_EXIT_OK;
	}
	if (a->noperands == 0) {
		cmd_help_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if ((e = cmd_find(a->operands[0], &why)) == NULL) {
		output_usage_error(&cli->out, "%s", why);
		free(why);
		return CLI_EXIT_USAGE;
	}
	if (!main_options_apply(a, e, cli) ||
	    !main_arguments(a->noperands - 1, a->operands + 1, e, cli))
		return CLI_EXIT_USAGE;
	if ((a->seen & CLI_OPT_PARALLEL) && !(a->seen & CLI_OPT_TARGETS)) {
		output_usage_error(&cli->out, "--parallel applies with --targets FILE only");
		return CLI_EXIT_USAGE;
	}
	if ((a->seen & CLI_OPT_TARGETS) && (a->seen & CLI_OPT_URL)) {
		output_usage_error(&cli->out, "--url and --targets contradict each other: "
				   "give one database with --url, or many in the --targets file");
		return CLI_EXIT_USAGE;
	}
	if (a->format != CLI_FORMAT_TEXT && e->format_with_targets &&
	    !(a->seen & CLI_OPT_TARGETS)) {
		output_usage_error(&cli->out, "--format applies to %s with --targets FILE only",
				   e->name);
		return CLI_EXIT_USAGE;
	}
	if (a->format == CLI_FORMAT_SARIF && !e->sarif) {
		output_usage_error(&cli->out, "--format sarif applies to lint only "
				   "(%s prints text or json)", e->name);
		return CLI_EXIT_USAGE;
	}
	cli->entry = e;
	cli->args = a->operands + 1;
	cli->nargs = a->noperands - 1;
	cli->run.step = a->step;
	cli->run.to = a->value[main_option_index("to")];
	cli->run.dry_run = a->dry_run;
	cli->run.transaction = a->transaction;
	cli->mark = a->mark;
	cli->force = a->force;
	cli->url_flag = a->url;
	cli->format = a->format;
	cli->targets = a->value[main_option_index("targets")];
	cli->parallel = a->parallel;
	cli->settings = xreallocarray(NULL, MAIN_MAX_OPTIONS, sizeof *cli->settings);
	for (int i = 0; cli_options[i].name != NULL; i++)
		if (cli_options[i].key != NULL && a->value[i] != NULL)
			cli->settings[cli->nsettings++] = (struct cli_setting){
				cli_options[i].key, a->value[i] };
	if (e->config && (status = main_configure(a, cli)) != CLI_EXIT_OK)
		return status;
	if (cli->m != NULL)
		main_signals(cli->m);
	status = e->exec(cli);
	if (cli->m != NULL)
		main_signals(NULL);
	/* A signal wins: 130 for SIGINT, 143 for SIGTERM. */
	if (main_signal != 0)
		status = 128 + main_signal;
	return status;
}

int main(int argc, char **argv)
{
	struct main_args a;
	struct cli cli;
	int status;

	memset(&a, 0, sizeof a);
	memset(&cli, 0, sizeof cli);
	/* A closed pipe must never kill a run half-way: writes fail instead. */
	signal(SIGPIPE, SIG_IGN);
	main_parse(&a, argc, argv);
	main_quiet = a.quiet;
	output_init(&cli.out, a.quiet, a.verbose, a.no_color);
	status = main_run(&a, &cli);
	status = main_finish_output(status);
	dbmigrate_close(cli.m);
	output_free(&cli.out);
	free(cli.settings);
	free(a.operands);
	free(a.url);
	free(a.error);
	return status;
}
