/*
 * cmd-targets.c - `up`, `down` and `status` with --targets FILE: one
 * command over many databases (or schemas), N at a time. The file holds
 * one target a line, a URL and optionally schema=NAME; each target gets
 * a migrator of its own (its own connection, runner lock and batch) on
 * a worker thread, configured like the command line's. A progress line
 * runs on stderr (redrawn on a terminal, one line per finished target
 * otherwise), then a summary table or one JSON object goes to stdout.
 *
 * The library keeps no global state, so a handle per thread is all the
 * threads need. Signals: SIGINT and SIGTERM are blocked in every thread
 * and taken by a watcher thread with sigtimedwait(), which interrupts
 * every running migrator under the lock (each cancels its statement and
 * rolls back its batch); targets not started yet are skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

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

/* Seconds on the monotonic clock. */
static double cmd_targets_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The command's name as the user typed it, for messages. */
static const char *cmd_targets_verb(enum cmd_targets_kind kind)
{
	switch (kind) {
	case CMD_TARGETS_DOWN:
		return "down";
	case CMD_TARGETS_STATUS:
		return "status";
	case CMD_TARGETS_UP:
		break;
	}
	return "up";
}

/* xstrdup of s, NULL for NULL. */
static char *cmd_targets_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Free what a target holds. */
static void cmd_targets_target_free(struct cmd_targets_target *t)
{
	if (t->url != NULL)
		memset(t->url, 0, strlen(t->url)); /* may hold a password */
	free(t->url);
	free(t->schema);
	free(t->shown);
	free(t->label);
	free(t->failed);
	free(t->message);
	free(t->detail);
	free(t->hint);
	free(t->sqlstate);
	free(t->file);
}

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
static int cmd_targets_parse(struct cmd_targets_run *r)
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

/* ---- progress ---- */

static int cmd_targets_width(const char *s);
static const char *cmd_targets_state_name(enum cmd_targets_state s);

/* Clear the progress line, if one is on screen; under r->mu. */
static void cmd_targets_clear_line(struct cmd_targets_run *r)
{
	if (r->line_shown) {
		fputs("\r\033[K", stderr);
		r->line_shown = false;
	}
}

/* Redraw the progress line on a terminal (force: now); under r->mu. It
   ends with the newest target started, its end kept (the database and
   schema) and cut to fit the terminal, so that it never wraps. */
static void cmd_targets_draw(struct cmd_targets_run *r, bool force)
{
	double now = cmd_targets_now();
	char took[32], head[160], failed[64] = "";
	int used;

	if (!r->tty || r->cli->out.quiet)
		return;
	if (!force && now - r->last_draw < CMD_TARGETS_REDRAW)
		return;
	r->last_draw = now;
	output_duration(took, sizeof took, now - r->t0);
	if (r->nfailed > 0)
		snprintf(failed, sizeof failed, ", %zu failed", r->nfailed);
	used = snprintf(head, sizeof head, "%s: %zu/%zu done, %zu running%s (%s)",
			cmd_targets_verb(r->kind), r->finished, r->n, r->running,
			failed, took);
	fprintf(stderr, "\r\033[K⏳ %s", head);
	used += 3; /* the hourglass, two columns, and a space */
	if (r->running > 0 && r->last_started < r->n && used + 12 < r->columns) {
		const char *label = r->t[r->last_started].label;
		int room = r->columns - used - 3, w = cmd_targets_width(label);

		/* Keep the end; the ellipsis takes a column. */
		while (w > room && *label != '\0') {
			label++;
			while (((unsigned char)*label & 0xC0) == 0x80)
				label++;
			w = cmd_targets_width(label) + 1;
		}
		fprintf(stderr, "  %s%s", label != r->t[r->last_started].label ? "…" : "",
			label);
	}
	fflush(stderr);
	r->line_shown = true;
}

/* One line per finished target where there is no terminal; under r->mu. */
static void cmd_targets_report_line(struct cmd_targets_run *r,
				const struct cmd_targets_target *t)
{
	char took[32];

	if (r->cli->out.quiet || r->tty)
		return;
	output_duration(took, sizeof took, t->seconds);
	fprintf(stderr, "[%zu/%zu] %s %s (", r->finished, r->n,
		t->state == CMD_TARGETS_OK ? "ok" :
		t->state == CMD_TARGETS_FAILED ? "FAILED" : cmd_targets_state_name(t->state),
		t->label);
	if (t->state == CMD_TARGETS_OK && r->kind == CMD_TARGETS_STATUS)
		fprintf(stderr, "%zu executed, %zu pending, ", t->executed,
			t->pending);
	else if (t->state == CMD_TARGETS_OK && r->cli->run.dry_run)
		fprintf(stderr, "%zu planned, ", t->planned);
	else if (t->state == CMD_TARGETS_OK)
		fprintf(stderr, "%zu %s, ", t->applied,
			r->kind == CMD_TARGETS_DOWN ? "rolled back" : "applied");
	fprintf(stderr, "%s)\n", took);
	fflush(stderr);
}

/* The event callback of a target's migrator (its worker's thread). */
static void cmd_targets_event(const dbmigrate_event *ev, void *arg)
{
	struct cmd_targets_ctx *c = arg;
	struct cmd_targets_run *r = c->run;
	const struct output *o = &r->cli->out;
	const char *what = NULL;

	pthread_mutex_lock(&r->mu);
	switch (ev->kind) {
	case DBMIGRATE_EVENT_PLAN:
		c->t->planned++;
		break;
	case DBMIGRATE_EVENT_DONE:
		c->t->done++;
		/* Outside the batch's transaction: it stays, whatever
		   follows. */
		if (ev->outside_transaction || ev->own_transaction ||
		    ev->not_atomic)
			c->t->applied++;
		break;
	case DBMIGRATE_EVENT_COMMIT:
		c->t->applied += ev->count;
		break;
	case DBMIGRATE_EVENT_WARNING:
		if (!o->quiet)
			what = "⚠️  warning";
		break;
	case DBMIGRATE_EVENT_LOCK_WAIT:
		if (!o->quiet)
			what = "⏳";
		break;
	case DBMIGRATE_EVENT_NOTICE:
	case DBMIGRATE_EVENT_DEBUG:
	case DBMIGRATE_EVENT_NOTE:
		if (o->verbose)
			what = ev->kind == DBMIGRATE_EVENT_DEBUG ? "debug" : "note";
		break;
	case DBMIGRATE_EVENT_START:
		break;
	}
	if (what != NULL && ev->message != NULL) {
		char *msg = output_safe(ev->message, true);

		cmd_targets_clear_line(r);
		fprintf(stderr, "%s [%s]: %s\n", what, c->t->label, msg);
		free(msg);
	}
	cmd_targets_draw(r, false);
	pthread_mutex_unlock(&r->mu);
}

/* ---- running one target ---- */

/* Configure a migrator for target t like the command line's; NULL when
   a setting is refused (t then holds the error). */
static dbmigrate *cmd_targets_migrator(struct cmd_targets_run *r,
				   struct cmd_targets_target *t)
{
	const struct cli *cli = r->cli;
	dbmigrate *m = dbmigrate_new();
	const char *cache;

	if (m == NULL) {
		t->rc = DBMIGRATE_ENOMEM;
		t->message = xstrdup("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cli->nsettings; i++)
		if (strcmp(cli->settings[i].key, "url") != 0 &&
		    dbmigrate_set(m, cli->settings[i].key,
				  cli->settings[i].value) != DBMIGRATE_OK)
			goto refused;
	if (dbmigrate_set(m, "url", t->url) != DBMIGRATE_OK)
		goto refused;
	if (t->schema != NULL &&
	    dbmigrate_set(m, "schema", t->schema) != DBMIGRATE_OK)
		goto refused;
	if (dbmigrate_load_env(m, NULL) != DBMIGRATE_OK)
		goto refused;
	/* status: the cache main.c chose for the first migrator. */
	cache = cli->m != NULL ? dbmigrate_get(cli->m, "cache_dir") : NULL;
	if (dbmigrate_get(m, "cache_dir") == NULL && cache != NULL)
		(void)dbmigrate_set(m, "cache_dir", cache);
	return m;
refused:
	t->rc = dbmigrate_last_error(m)->code;
	t->message = xstrdup(dbmigrate_errmsg(m));
	t->hint = cmd_targets_dup(dbmigrate_last_error(m)->hint);
	dbmigrate_close(m);
	return NULL;
}

/* Keep what the migrator's last error says in t. */
static void cmd_targets_keep_error(struct cmd_targets_target *t, const dbmigrate *m)
{
	const dbmigrate_error *e = dbmigrate_last_error(m);

	t->rc = e->code;
	t->message = xstrdup(e->message != NULL ? e->message
					        : dbmigrate_code_name(e->code));
	t->detail = cmd_targets_dup(e->detail);
	t->hint = cmd_targets_dup(e->hint);
	t->sqlstate = cmd_targets_dup(e->sqlstate);
	t->failed = cmd_targets_dup(e->migration);
	t->file = cmd_targets_dup(e->file);
	t->file_line = e->line;
}

/* Count a status report into t. */
static void cmd_targets_count_status(struct cmd_targets_target *t,
				 const dbmigrate_report *rep)
{
	size_t n = dbmigrate_report_count(rep);

	for (size_t i = 0; i < n; i++) {
		const dbmigrate_entry *e = dbmigrate_report_get(rep, i);

		t->executed += e->state == DBMIGRATE_EXECUTED;
		t->pending += e->state == DBMIGRATE_PENDING;
		t->missing += e->state == DBMIGRATE_MISSING;
		t->partial += e->state == DBMIGRATE_PARTIAL;
		t->modified += e->modified && !e->repeatable;
		t->out_of_order += e->out_of_order;
	}
}

/* Run the command on target t with migrator m; the library's result. */
static dbmigrate_code cmd_targets_command(struct cmd_targets_run *r,
				      struct cmd_targets_target *t, dbmigrate *m)
{
	dbmigrate_report *rep = NULL;
	dbmigrate_code rc;

	switch (r->kind) {
	case CMD_TARGETS_UP:
		return dbmigrate_migrate(m, &r->cli->run);
	case CMD_TARGETS_DOWN:
		return dbmigrate_rollback(m, &r->cli->run);
	case CMD_TARGETS_STATUS:
		break;
	}
	rc = dbmigrate_status(m, &rep);
	if (rc == DBMIGRATE_OK)
		cmd_targets_count_status(t, rep);
	dbmigrate_report_free(rep);
	return rc;
}

/* True when a and b (either may be NULL) are equal strings. */
static bool cmd_targets_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Print why target t failed (the migrator's error as the one-target
   command prints it, under a line naming the target); under r->mu. */
static void cmd_targets_print_failure(struct cmd_targets_run *r,
				  struct cmd_targets_target *t,
				  const dbmigrate *m)
{
	const struct output *o = &r->cli->out;

	cmd_targets_clear_line(r);
	fflush(stdout);
	fprintf(stderr, "%s❌ target %s (line %u) failed:%s",
		output_on(o, stderr, OUTPUT_SGR_BOLD), t->label, t->line,
		output_off(o, stderr));
	/* Bad migration files fail every target the same way: say it once. */
	for (size_t i = 0; i < r->n; i++) {
		const struct cmd_targets_target *p = &r->t[i];

		if (p->printed && cmd_targets_same(p->message, t->message) &&
		    cmd_targets_same(p->detail, t->detail) &&
		    cmd_targets_same(p->file, t->file) &&
		    cmd_targets_same(p->sqlstate, t->sqlstate) &&
		    p->file_line == t->file_line) {
			fprintf(stderr, " the same error as line %u\n", p->line);
			fflush(stderr);
			return;
		}
	}
	fputc('\n', stderr);
	t->printed = true;
	if (m != NULL) {
		output_error(o, m);
	} else {
		fprintf(stderr, "%serror:%s %s\n",
			output_on(o, stderr, OUTPUT_SGR_RED),
			output_off(o, stderr), t->message);
		if (t->hint != NULL)
			fprintf(stderr, "HINT: %s\n", t->hint);
	}
	fflush(stderr);
}

/* Run target t on worker w, from its migrator to its result. */
static void cmd_targets_run_one(struct cmd_targets_run *r, struct cmd_targets_worker *w,
			    struct cmd_targets_target *t)
{
	struct cmd_targets_ctx ctx = { r, t };
	double t0 = cmd_targets_now();
	dbmigrate_code rc;
	dbmigrate *m = cmd_targets_migrator(r, t);
	bool stopped, ran = false;

	if (m != NULL) {
		dbmigrate_on_event(m, cmd_targets_event, &ctx);
		pthread_mutex_lock(&r->mu);
		r->slot[w->id] = m;
		stopped = r->stop;
		pthread_mutex_unlock(&r->mu);
		/* Connect first: opening clears an interrupt that came
		   before, so the stop flag is read again after it. */
		rc = stopped ? DBMIGRATE_EINTERRUPTED : dbmigrate_open(m);
		pthread_mutex_lock(&r->mu);
		stopped = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (rc == DBMIGRATE_OK && !stopped) {
			ran = true;
			rc = cmd_targets_command(r, t, m);
		} else if (rc == DBMIGRATE_OK) {
			rc = DBMIGRATE_EINTERRUPTED;
		}
		pthread_mutex_lock(&r->mu);
		r->slot[w->id] = NULL;
		pthread_mutex_unlock(&r->mu);
		if (rc != DBMIGRATE_OK && rc != DBMIGRATE_EINTERRUPTED)
			cmd_targets_keep_error(t, m);
		t->rc = rc;
	} else {
		rc = t->rc;
	}
	t->seconds = cmd_targets_now() - t0;
	t->exit = cmd_exit_code(rc);
	pthread_mutex_lock(&r->mu);
	r->running--;
	r->finished++;
	if (rc == DBMIGRATE_OK) {
		t->state = CMD_TARGETS_OK;
		if (r->cli->run.dry_run)
			t->applied = 0;
	} else if (rc == DBMIGRATE_EINTERRUPTED) {
		/* Stopped before its command began: it never started. */
		t->state = ran || !r->stop ? CMD_TARGETS_INTERRUPTED : CMD_TARGETS_SKIPPED;
		if (r->signal != 0)
			t->exit = 128 + r->signal;
	} else {
		/* Errors are shown with -q too, as for one target. */
		t->state = CMD_TARGETS_FAILED;
		r->nfailed++;
		cmd_targets_print_failure(r, t, m);
	}
	cmd_targets_report_line(r, t);
	cmd_targets_draw(r, true);
	pthread_mutex_unlock(&r->mu);
	dbmigrate_close(m);
}

/* A worker: take the next target until none is left or the run stops. */
static void *cmd_targets_worker_main(void *arg)
{
	struct cmd_targets_worker *w = arg;
	struct cmd_targets_run *r = w->run;

	for (;;) {
		struct cmd_targets_target *t;

		pthread_mutex_lock(&r->mu);
		if (r->stop || r->next >= r->n) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		t = &r->t[r->next];
		r->last_started = r->next++;
		r->running++;
		t->state = CMD_TARGETS_RUNNING;
		cmd_targets_draw(r, true);
		pthread_mutex_unlock(&r->mu);
		cmd_targets_run_one(r, w, t);
	}
	return NULL;
}

/*
 * The watcher: takes SIGINT and SIGTERM (blocked in every thread) and
 * stops the run: no target starts any more, every running migrator is
 * interrupted. A second SIGINT quits at once, as with one target.
 */
static void *cmd_targets_watch(void *arg)
{
	static const char msg[] =
		"Interrupted: stopping every target and rolling back "
		"(Ctrl-C again quits at once)\n";
	struct cmd_targets_run *r = arg;
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &tick);

		pthread_mutex_lock(&r->mu);
		if (sig > 0 && r->signal != 0 && sig == SIGINT)
			_exit(CLI_EXIT_SIGINT);
		if (sig > 0 && r->signal == 0) {
			r->signal = sig;
			r->stop = true;
			cmd_targets_clear_line(r);
			if (!r->cli->out.quiet)
				fputs(msg, stderr);
			for (unsigned i = 0; i < r->nslots; i++)
				if (r->slot[i] != NULL)
					dbmigrate_interrupt(r->slot[i]);
		}
		if (r->watch_done) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

/* ---- the summary ---- */

/* The word of a target's state. */
static const char *cmd_targets_state_name(enum cmd_targets_state s)
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
static int cmd_targets_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* The summary table and its totals on stdout. */
static void cmd_targets_table(const struct cmd_targets_run *r)
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
static void cmd_targets_json(const struct cmd_targets_run *r, int exit_code)
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
static int cmd_targets_exit(const struct cmd_targets_run *r)
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

/* up, down or status over every target of --targets FILE. */
int cmd_targets_run(struct cli *cli, enum cmd_targets_kind kind)
{
	struct cmd_targets_run r;
	struct cmd_targets_worker *w;
	pthread_t watcher;
	sigset_t block, old;
	int status, err;

	memset(&r, 0, sizeof r);
	r.cli = cli;
	r.kind = kind;
	r.path = cli->targets;
	if ((status = cmd_targets_parse(&r)) != 0)
		goto out;
	r.parallel = cli->parallel > 0 ? cli->parallel : CMD_TARGETS_DEFAULT_PARALLEL;
	if (r.parallel > r.n)
		r.parallel = (unsigned)r.n;
	r.tty = isatty(STDERR_FILENO);
	r.columns = 80;
	{
		struct winsize ws;

		if (r.tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_col > 20)
			r.columns = ws.ws_col;
	}
	r.t0 = cmd_targets_now();
	r.nslots = r.parallel;
	r.slot = xreallocarray(NULL, r.parallel, sizeof *r.slot);
	memset(r.slot, 0, r.parallel * sizeof *r.slot);
	w = xreallocarray(NULL, r.parallel, sizeof *w);
	pthread_mutex_init(&r.mu, NULL);
	if (!cli->out.quiet && !r.tty)
		fprintf(stderr, "%s on %zu target%s, %u at a time\n",
			cmd_targets_verb(kind), r.n, r.n == 1 ? "" : "s", r.parallel);

	/* Every thread made from here on inherits the mask: only the
	   watcher takes the signals. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	/* One that came before the mask went to main.c's handler. */
	if (cli_signal() != 0) {
		r.signal = cli_signal();
		r.stop = true;
	}
	if ((err = pthread_create(&watcher, NULL, cmd_targets_watch, &r)) != 0) {
		fprintf(stderr, "error: cannot start a thread: %s\n", strerror(err));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		free(w);
		status = CLI_EXIT_FAILED;
		goto out;
	}
	for (unsigned i = 0; i < r.parallel; i++) {
		w[i] = (struct cmd_targets_worker){ .run = &r, .id = i };
		if (pthread_create(&w[i].thread, NULL, cmd_targets_worker_main, &w[i]) != 0) {
			/* Fewer workers: the others take the targets. */
			r.parallel = i;
			break;
		}
	}
	if (r.parallel == 0)
		cmd_targets_worker_main(&(struct cmd_targets_worker){ .run = &r, .id = 0 });
	for (unsigned i = 0; i < r.parallel; i++)
		pthread_join(w[i].thread, NULL);
	r.elapsed = cmd_targets_now() - r.t0;
	pthread_mutex_lock(&r.mu);
	r.watch_done = true;
	cmd_targets_clear_line(&r);
	pthread_mutex_unlock(&r.mu);
	pthread_join(watcher, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(w);

	for (size_t i = 0; i < r.n; i++)
		if (r.t[i].state == CMD_TARGETS_WAITING)
			r.t[i].state = CMD_TARGETS_SKIPPED;
	status = cmd_targets_exit(&r);
	if (cli->format == CLI_FORMAT_JSON)
		cmd_targets_json(&r, status);
	else if (!cli->out.quiet || kind == CMD_TARGETS_STATUS)
		cmd_targets_table(&r); /* status's table is its result, as ever */
	pthread_mutex_destroy(&r.mu);
out:
	for (size_t i = 0; i < r.n; i++)
		cmd_targets_target_free(&r.t[i]);
	free(r.t);
	free(r.slot);
	return status;
}
