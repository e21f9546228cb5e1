/*
 * cmd-drivers.c - `dbmigrate drivers`: every driver on the search path,
 * in search order, with its description or why it cannot be used. It is
 * the first thing to run when "cannot load driver" puzzles someone.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char cmd_drivers_help[] =
	"List the drivers dbmigrate finds, in search order: first the\n"
	"directories of DBMIGRATE_DRIVER_PATH (colon-separated), then the\n"
	"installed driver directory. One line each: the name, what it is (or\n"
	"why it cannot be used: wrong ABI, missing entry point, unresolved\n"
	"library...), and its path. A driver found again later in the path is\n"
	"shadowed by the first one. Exit 4 when no driver is usable.\n";

/* What the listing has seen so far. */
struct cmd_drivers_seen {
	const struct output *out;
	char **names; /* usable names already listed */
	size_t n;
	size_t found;
};

/* dbmigrate_list_drivers callback: print one driver. */
static void cmd_drivers_one(const char *name, const char *path,
			    const char *description, const char *problem,
			    void *ctx)
{
	struct cmd_drivers_seen *s = ctx;
	const struct output *o = s->out;
	bool shadowed = false;

	for (size_t i = 0; i < s->n; i++)
		shadowed = shadowed || strcmp(s->names[i], name) == 0;
	printf("%s%-10s%s ", output_on(o, stdout, OUTPUT_SGR_BOLD), name,
	       output_off(o, stdout));
	if (problem != NULL)
		printf("%sunusable:%s %s", output_on(o, stdout, OUTPUT_SGR_RED),
		       output_off(o, stdout), problem);
	else if (shadowed)
		printf("shadowed by the %s listed above", name);
	else
		printf("%s", description != NULL ? description : "");
	printf(" (%s)\n", path != NULL ? path : "?");
	if (problem == NULL && !shadowed) {
		s->names = xreallocarray(s->names, s->n + 1, sizeof *s->names);
		s->names[s->n++] = xstrdup(name);
	}
	s->found++;
}

/* drivers. */
static int cmd_drivers_exec(struct cli *cli)
{
	struct cmd_drivers_seen s = { .out = &cli->out };
	const char *path = getenv("DBMIGRATE_DRIVER_PATH");
	dbmigrate_code rc;
	int status = CLI_EXIT_OK;

	output_debug(&cli->out, "searching %s%s%s", path != NULL ? path : "",
		     path != NULL ? ", then " : "", dbmigrate_driver_dir());
	rc = dbmigrate_list_drivers(cmd_drivers_one, &s);
	if (rc != DBMIGRATE_OK) {
		fflush(stdout);
		fprintf(stderr, "%serror:%s cannot list the drivers: %s\n",
			output_on(&cli->out, stderr, OUTPUT_SGR_RED),
			output_off(&cli->out, stderr), dbmigrate_code_name(rc));
		status = cmd_exit_code(rc);
	} else if (s.n == 0) {
		fflush(stdout);
		fprintf(stderr, "%serror:%s no %sdriver found in %s%s%s\n",
			output_on(&cli->out, stderr, OUTPUT_SGR_RED),
			output_off(&cli->out, stderr),
			s.found > 0 ? "usable " : "",
			path != NULL && *path != '\0' ? path : "",
			path != NULL && *path != '\0' ? " or " : "",
			dbmigrate_driver_dir());
		status = CLI_EXIT_CONNECT;
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.names[i]);
	free(s.names);
	return status;
}

const struct cmd_entry cmd_drivers_entry = {
	.name = "drivers",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.summary = "list the drivers it can load, and from where",
	.help = cmd_drivers_help,
	.options = 0,
	.config = false,
	.exec = cmd_drivers_exec,
};
