/*
 * cmd-targets-file.c - the targets file of --targets: one target a line,
 * a URL and optionally schema=NAME; blank lines and # comments skipped.
 * A mistake stops the run before anything runs, named FILE:LINE with
 * the fix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-targets.h"

/* ---- the targets file ---- */

/* The hint every mistake in the file ends with. */
static const char cmd_targets_syntax[] =
	"A target line is a URL, optionally followed by schema=NAME: "
	"postgres://app@db1.example.com/app schema=tenant_42, or "
	"sqlite:data/tenant_42.db. Blank lines and lines starting with # "
	"are ignored; a word starting with # ends the line.";

/* Report a mistake at path:line and return the usage exit code. */
static int cmd_targets_mistake(const struct cli *cli, const char *path,
			   unsigned line, const char *hint, const char *fmt, ...)
	CLI_PRINTF(5, 6);

static int cmd_targets_mistake(const struct cli *cli, const char *path,
			   unsigned line, const char *hint, const char *fmt, ...)
{
	va_list ap;
	char *msg, *where;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	where = line > 0 ? xasprintf("%s:%u", path, line) : xstrdup(path);
	fflush(stdout);
	fprintf(stderr, "%s%s:%s %serror:%s %s\n",
		output_on(&cli->out, stderr, OUTPUT_SGR_BOLD), where,
		output_off(&cli->out, stderr),
		output_on(&cli->out, stderr, OUTPUT_SGR_RED),
		output_off(&cli->out, stderr), msg);
	if (hint != NULL)
		fprintf(stderr, "%sHINT:%s %s\n",
			output_on(&cli->out, stderr, OUTPUT_SGR_BOLD),
			output_off(&cli->out, stderr), hint);
	free(where);
	free(msg);
	return CLI_EXIT_USAGE;
}

/* True for a byte that separates words on a target line. */
static bool cmd_targets_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Check the URL word of a line: a scheme (letters, digits, + - .) and a
 * colon. A libpq keyword string ("host=x dbname=y") has spaces, so it
 * cannot be one word; say how to write it as a URL.
 */
static bool cmd_targets_url_ok(const char *w, const char **hint)
{
	size_t i = 0;

	while ((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') ||
	       (w[i] >= '0' && w[i] <= '9') || w[i] == '+' || w[i] == '-' ||
	       w[i] == '.')
		i++;
	if (i > 0 && w[i] == ':')
		return true;
	if (strchr(w, '=') != NULL)
		*hint = "libpq keyword strings (host=... dbname=...) hold "
			"spaces and cannot be targets: write the target as "
			"a URL, postgres://USER@HOST:PORT/DBNAME.";
	else
		*hint = cmd_targets_syntax;
	return false;
}

/* Check a schema name with the library's own rule: false, with its
   message and hint (to free), when it is refused. */
static bool cmd_targets_schema_ok(const char *name, char **why, char **hint)
{
	dbmigrate *m = dbmigrate_new();
	bool ok = true;

	*why = *hint = NULL;
	if (m == NULL) {
		*why = xstrdup("out of memory");
		return false;
	}
	if (dbmigrate_set(m, "schema", name) != DBMIGRATE_OK) {
		const dbmigrate_error *e = dbmigrate_last_error(m);

		*why = xstrdup(e->message);
		*hint = cmd_targets_dup(e->hint);
		ok = false;
	}
	dbmigrate_close(m);
	return ok;
}

/*
 * url with each password shown as "********" whatever its length (the
 * library's mask keeps the length, for argv): every run of characters
 * dbmigrate_mask_password() changed becomes one mask. To free.
 */
static char *cmd_targets_mask(const char *url)
{
	char *masked = xstrdup(url);
	char *out = xmalloc(strlen(url) * 8 + 1);
	size_t o = 0;

	dbmigrate_mask_password(masked);
	for (size_t i = 0; url[i] != '\0';) {
		if (masked[i] == url[i]) {
			out[o++] = url[i++];
			continue;
		}
		memcpy(out + o, "********", 8);
		o += 8;
		while (url[i] != '\0' && masked[i] != url[i])
			i++;
	}
	out[o] = '\0';
	free(masked);
	return out;
}

/* Add a target to the run's list. */
static void cmd_targets_add(struct cmd_targets_run *r, size_t *cap, char *url,
			char *schema, unsigned line)
{
	struct cmd_targets_target *t;

	if (r->n == *cap) {
		*cap = *cap * 2 + 16;
		r->t = xreallocarray(r->t, *cap, sizeof *r->t);
	}
	t = &r->t[r->n++];
	memset(t, 0, sizeof *t);
	t->url = url;
	t->schema = schema;
	t->line = line;
	t->shown = cmd_targets_mask(url);
	t->label = schema != NULL ? xasprintf("%s schema=%s", t->shown, schema)
				  : xstrdup(t->shown);
}

/*
 * Parse one line (NUL-terminated, newline removed) into r. Returns 0,
 * or the usage exit code after printing the mistake.
 */
static int cmd_targets_parse_line(struct cmd_targets_run *r, size_t *cap, char *s,
			      unsigned line)
{
	const struct cli *cli = r->cli;
	char *url = NULL, *schema = NULL;
	const char *hint = NULL;

	for (;;) {
		char *w, *problem, *why;

		while (cmd_targets_space(*s))
			s++;
		if (*s == '\0' || *s == '#')
			break;
		w = s;
		while (*s != '\0' && !cmd_targets_space(*s))
			s++;
		if (*s != '\0')
			*s++ = '\0';
		if (url == NULL) {
			if (!cmd_targets_url_ok(w, &hint)) {
				char *shown = cmd_targets_mask(w);

				cmd_targets_mistake(cli, r->path, line, hint,
						"'%s' is not a URL", shown);
				free(shown);
				return CLI_EXIT_USAGE;
			}
			url = xstrdup(w);
			continue;
		}
		if (strncmp(w, "schema=", 7) != 0) {
			cmd_targets_mistake(cli, r->path, line, cmd_targets_syntax,
					"unknown word '%s' after the URL", w);
			goto bad;
		}
		if (schema != NULL) {
			cmd_targets_mistake(cli, r->path, line,
					"Give one schema a line; a target per "
					"schema is a line per schema.",
					"schema= given twice");
			goto bad;
		}
		if (!cmd_targets_schema_ok(w + 7, &problem, &why)) {
			cmd_targets_mistake(cli, r->path, line, why, "%s", problem);
			free(problem);
			free(why);
			goto bad;
		}
		schema = xstrdup(w + 7);
	}
	if (url == NULL)
		return 0; /* blank or comment */
	for (size_t i = 0; i < r->n; i++) {
		const struct cmd_targets_target *o = &r->t[i];

		if (strcmp(o->url, url) == 0 &&
		    (o->schema == NULL) == (schema == NULL) &&
		    (schema == NULL || strcmp(o->schema, schema) == 0)) {
			cmd_targets_mistake(cli, r->path, line,
					"Each target runs once; remove one of "
					"the two lines.",
					"the same target as line %u", o->line);
			goto bad;
		}
	}
	cmd_targets_add(r, cap, url, schema, line);
	return 0;
bad:
	if (url != NULL)
		memset(url, 0, strlen(url));
	free(url);
	free(schema);
	return CLI_EXIT_USAGE;
}

/* Read the targets file into r; 0, or an exit code after printing why. */
int cmd_targets_file_read(struct cmd_targets_run *r)
{
	FILE *f = strcmp(r->path, "-") == 0 ? stdin : fopen(r->path, "r");
	char *buf = NULL;
	size_t bufcap = 0, cap = 0;
	unsigned line = 0;
	ssize_t len;
	int status = 0;

	if (f == NULL)
		return cmd_targets_mistake(r->cli, r->path, 0,
				       "Give --targets a file with one target "
				       "a line (or - for standard input).",
				       "cannot read the targets file: %s",
				       strerror(errno));
	while (status == 0 && (len = getline(&buf, &bufcap, f)) >= 0) {
		line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (strlen(buf) != (size_t)len) {
			status = cmd_targets_mistake(r->cli, r->path, line, NULL,
						 "a NUL byte in the line");
			break;
		}
		status = cmd_targets_parse_line(r, &cap, buf, line);
	}
	if (status == 0 && ferror(f))
		status = cmd_targets_mistake(r->cli, r->path, 0, NULL,
					 "cannot read the targets file: %s",
					 strerror(errno));
	if (buf != NULL)
		memset(buf, 0, bufcap);
	free(buf);
	if (f != stdin)
		fclose(f);
	if (status == 0 && r->n == 0)
		status = cmd_targets_mistake(r->cli, r->path, 0, cmd_targets_syntax,
					 "the targets file names no target");
	return status;
}
