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

#include "cmd-targets.h"

/* Seconds on the monotonic clock. */
double cmd_targets_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The command's name as the user typed it, for messages. */
const char *cmd_targets_verb(enum cmd_targets_kind kind)
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
char *cmd_targets_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Free what a target holds. */
void cmd_targets_target_free(struct cmd_targets_target *t)
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

/* ---- progress ---- */

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
	if ((status = cmd_targets_file_read(&r)) != 0)
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
	status = cmd_targets_report_exit(&r);
	if (cli->format == CLI_FORMAT_JSON)
		cmd_targets_report_json(&r, status);
	else if (!cli->out.quiet || kind == CMD_TARGETS_STATUS)
		cmd_targets_report_table(&r); /* status's table is its result, as ever */
	pthread_mutex_destroy(&r.mu);
out:
	for (size_t i = 0; i < r.n; i++)
		cmd_targets_target_free(&r.t[i]);
	free(r.t);
	free(r.slot);
	return status;
}
