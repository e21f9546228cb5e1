/*
 * output.c - everything the CLI prints besides help: progress from the
 * library's events, errors in a compiler's style (file:line:column, the
 * source line and a caret, then DETAIL and HINT), warnings, JSON
 * strings, and colours. Results go to stdout, errors and warnings to
 * stderr; colours only on a terminal, never with --no-color or NO_COLOR.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

/* Set the printer up: quietness and which streams may have colours. */
void output_init(struct output *o, bool quiet, bool verbose, bool no_color)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	bool colors = !no_color && (nc == NULL || *nc == '\0') &&
		      (term == NULL || strcmp(term, "dumb") != 0);

	memset(o, 0, sizeof *o);
	o->quiet = quiet;
	o->verbose = verbose && !quiet;
	o->color_out = colors && isatty(STDOUT_FILENO);
	o->color_err = colors && isatty(STDERR_FILENO);
	o->table = "migrations";
}

/* Forget the plan of the last run. */
static void output_plan_clear(struct output *o)
{
	for (size_t i = 0; i < o->nplan; i++) {
		free(o->plan[i].label);
		free(o->plan[i].reason);
	}
	o->nplan = 0;
	free(o->note);
	o->note = NULL;
	o->plan_shown = false;
	o->done = 0;
}

/* Free what the printer holds. */
void output_free(struct output *o)
{
	output_plan_clear(o);
	free(o->plan);
	o->plan = NULL;
	o->plancap = 0;
}

/* True when f may get colours. */
static bool output_colored(const struct output *o, FILE *f)
{
	if (o == NULL)
		return false;
	return f == stdout ? o->color_out : f == stderr ? o->color_err : false;
}

/* The escape sequence sgr when f may get colours, else "". */
const char *output_on(const struct output *o, FILE *f, const char *sgr)
{
	return output_colored(o, f) ? sgr : "";
}

/* The sequence ending a colour on f, or "". */
const char *output_off(const struct output *o, FILE *f)
{
	return output_colored(o, f) ? OUTPUT_SGR_OFF : "";
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t output_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

/*
 * A copy of s that is safe to print on a terminal: every control
 * character (C0 but tab, and newline unless multiline; DEL; C1, which
 * some terminals obey as escapes) and every byte that is not UTF-8 is
 * shown as \xNN, so a file name or a server message cannot move the
 * cursor, recolour the screen or forge lines. Everything the CLI prints
 * that comes from files, the database or the environment passes here.
 */
char *output_safe(const char *s, bool multiline)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p), o = 0;
	char *out = xmalloc(len * 4 + 1);

	while (*p != '\0') {
		size_t n = *p >= 0x80 ? output_utf8_len(p) : 1;
		bool c1 = n == 2 && p[0] == 0xC2 && p[1] < 0xA0;

		if (n == 0 || c1 || *p == 0x7F ||
		    (*p < 0x20 && *p != '\t' && !(multiline && *p == '\n'))) {
			/* A C1 character shows as its two bytes. */
			for (size_t i = 0; i < (c1 ? 2u : 1u); i++)
				o += (size_t)snprintf(out + o, 5, "\\x%02X", p[i]);
			p += c1 ? 2 : 1;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

/* "001_create_users_table" for an entry (to free). */
char *output_label(const dbmigrate_entry *e)
{
	const char *id = e->id != NULL ? e->id : "?";
	size_t lid, lname;
	char *raw, *label;

	if (e->file != NULL) {
		/* What the file is called, less its extension: 001_name,
		   V1.1__name, R__name. */
		const char *base = strrchr(e->file, '/');
		static const char *const exts[] = { ".up.sql", ".sql", ".ts", ".js" };
		size_t n;

		base = base != NULL ? base + 1 : e->file;
		n = strlen(base);
		for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++) {
			size_t x = strlen(exts[k]);

			if (n > x && strcmp(base + n - x, exts[k]) == 0) {
				raw = xmalloc(n - x + 1);
				memcpy(raw, base, n - x);
				raw[n - x] = '\0';
				label = output_safe(raw, false);
				free(raw);
				return label;
			}
		}
	}
	if (e->repeatable || e->name == NULL || *e->name == '\0')
		return output_safe(id, false);
	/* Joined by hand: status prints ten thousand of these. */
	lid = strlen(id);
	lname = strlen(e->name);
	raw = xmalloc(lid + lname + 2);
	memcpy(raw, id, lid);
	raw[lid] = '_';
	memcpy(raw + lid + 1, e->name, lname + 1);
	label = output_safe(raw, false);
	free(raw);
	return label;
}

/* A duration for people: "12 ms" under ten seconds, else "12.3 s". */
void output_duration(char *buf, size_t n, double seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 10)
		snprintf(buf, n, "%ld ms", (long)(seconds * 1000 + 0.5));
	else
		snprintf(buf, n, "%.1f s", seconds);
}

/* Print text whose later lines are indented by indent spaces. */
static void output_indented(const char *raw, int indent)
{
	char *text = output_safe(raw, true);

	for (const char *p = text; *p != '\0';) {
		size_t n = strcspn(p, "\n");

		fwrite(p, 1, n, stderr);
		fputc('\n', stderr);
		p += n;
		if (*p == '\n' && *++p != '\0')
			fprintf(stderr, "%*s", indent, "");
	}
	free(text);
}

/* Print a message line to stderr with a coloured prefix. */
static void output_vmessage(const struct output *o, const char *prefix,
			    const char *sgr, const char *fmt, va_list ap)
	CLI_PRINTF(4, 0);

static void output_vmessage(const struct output *o, const char *prefix,
			    const char *sgr, const char *fmt, va_list ap)
{
	/* Keep stdout's lines before this one when both go to one file. */
	fflush(stdout);
	char *raw = xvasprintf(fmt, ap), *text = output_safe(raw, true);

	fprintf(stderr, "%s%s%s%s\n", output_on(o, stderr, sgr), prefix,
		output_off(o, stderr), text);
	free(text);
	free(raw);
}

/* A command-line mistake: one line, then where to read about it. */
void output_usage_error(const struct output *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	output_vmessage(o, "error: ", OUTPUT_SGR_RED, fmt, ap);
	va_end(ap);
	fputs("Try 'dbmigrate help'.\n", stderr);
}

/*
 * The library refused the value of option name: "error: --name: why",
 * its hint (which says what is accepted), then where to read more.
 */
void output_option_error(const struct output *o, const dbmigrate *m,
			 const char *name)
{
	const dbmigrate_error *e = dbmigrate_last_error(m);
	char *msg = output_safe(e->message != NULL ? e->message :
				dbmigrate_code_name(e->code), true);

	fflush(stdout);
	fprintf(stderr, "%serror:%s --%s: %s\n", output_on(o, stderr, OUTPUT_SGR_RED),
		output_off(o, stderr), name, msg);
	free(msg);
	if (e->hint != NULL) {
		fprintf(stderr, "%sHINT:%s ", output_on(o, stderr, OUTPUT_SGR_BOLD),
			output_off(o, stderr));
		output_indented(e->hint, 6);
	}
	fputs("Try 'dbmigrate help'.\n", stderr);
}

/* A warning, unless -q. */
void output_warning(const struct output *o, const char *fmt, ...)
{
	va_list ap;

	if (o != NULL && o->quiet)
		return;
	va_start(ap, fmt);
	output_vmessage(o, "⚠️  warning: ", OUTPUT_SGR_MAGENTA, fmt, ap);
	va_end(ap);
}

/* A debug line, with -v only. */
void output_debug(const struct output *o, const char *fmt, ...)
{
	va_list ap;

	if (o == NULL || !o->verbose)
		return;
	va_start(ap, fmt);
	output_vmessage(o, "debug: ", OUTPUT_SGR_CYAN, fmt, ap);
	va_end(ap);
}

/*
 * The source line and a caret under column (1-based characters): the
 * caret line copies the tabs of the source so it lines up on screen.
 */
static void output_source(const struct output *o, const dbmigrate_error *e)
{
	char *s = output_safe(e->source_line, false);
	unsigned chars = 1;
	char gutter[16];
	int width;

	width = snprintf(gutter, sizeof gutter, "%u", e->line);
	fprintf(stderr, " %s%s |%s %s\n", output_on(o, stderr, OUTPUT_SGR_BOLD),
		gutter, output_off(o, stderr), s);
	if (e->column == 0) {
		free(s);
		return;
	}
	fprintf(stderr, " %*s |%s ", width, "", "");
	/* The column counts characters of the raw line; an escaped one
	   (\xNN) takes four places on screen. */
	for (const char *p = e->source_line; *p != '\0' && chars < e->column;
	     p++) {
		const unsigned char c = (unsigned char)*p;

		if ((c & 0xC0) == 0x80)
			continue; /* a UTF-8 continuation byte: same character */
		if ((c < 0x20 && c != '\t') || c == 0x7F)
			fputs("    ", stderr);
		else
			fputc(c == '\t' ? '\t' : ' ', stderr);
		chars++;
	}
	fprintf(stderr, "%s^%s\n", output_on(o, stderr, OUTPUT_SGR_GREEN),
		output_off(o, stderr));
	free(s);
}

/*
 * Print the migrator's last error: "file:line:column: error: message
 * [SQLSTATE x, code y]" (y: the backend's own error number or name), the
 * source line with a caret, DETAIL and HINT.
 */
void output_error(const struct output *o, const dbmigrate *m)
{
	const dbmigrate_error *e = dbmigrate_last_error(m);
	char *msg = output_safe(e->message != NULL ? e->message :
				dbmigrate_code_name(e->code), true);

	fflush(stdout);
	if (e->file != NULL) {
		char *file = output_safe(e->file, false);

		fprintf(stderr, "%s%s", output_on(o, stderr, OUTPUT_SGR_BOLD), file);
		free(file);
		if (e->line > 0)
			fprintf(stderr, ":%u", e->line);
		if (e->line > 0 && e->column > 0)
			fprintf(stderr, ":%u", e->column);
		fprintf(stderr, ":%s ", output_off(o, stderr));
	}
	fprintf(stderr, "%serror:%s %s", output_on(o, stderr, OUTPUT_SGR_RED),
		output_off(o, stderr), msg);
	free(msg);
	if (e->backend_code != NULL) {
		/* The backend's own name or number for the error, as its docs
		   spell it: beside the SQLSTATE when there is one (MySQL's
		   "[SQLSTATE 42S02, code 1146]"), alone otherwise. */
		char *code = output_safe(e->backend_code, true);

		if (e->sqlstate != NULL)
			fprintf(stderr, " [SQLSTATE %.5s, code %s]", e->sqlstate, code);
		else if (code[0] >= '0' && code[0] <= '9')
			fprintf(stderr, " [code %s]", code); /* a number */
		else
			fprintf(stderr, " [%s]", code);
		free(code);
	} else if (e->sqlstate != NULL) {
		fprintf(stderr, " [SQLSTATE %.5s]", e->sqlstate);
	}
	fputc('\n', stderr);
	if (e->source_line != NULL && e->line > 0)
		output_source(o, e);
	if (e->detail != NULL) {
		fprintf(stderr, "%sDETAIL:%s ", output_on(o, stderr, OUTPUT_SGR_BOLD),
			output_off(o, stderr));
		output_indented(e->detail, 8);
	} else if (e->code == DBMIGRATE_EMIGRATION) {
		/* The library explains partial runs in the detail; without
		   one, the whole batch went back. */
		fprintf(stderr, "%sDETAIL:%s The batch was rolled back; nothing of it was recorded.\n",
			output_on(o, stderr, OUTPUT_SGR_BOLD), output_off(o, stderr));
	}
	if (e->hint != NULL) {
		fprintf(stderr, "%sHINT:%s ", output_on(o, stderr, OUTPUT_SGR_BOLD),
			output_off(o, stderr));
		output_indented(e->hint, 6);
	}
}

/* Start reporting a run of up, down or reset. */
void output_begin_run(struct output *o, enum output_mode mode)
{
	output_plan_clear(o);
	o->mode = mode;
}

/* The lowest and highest batch of the plan. */
static void output_plan_batches(const struct output *o, int *lo, int *hi)
{
	*lo = *hi = o->nplan > 0 ? o->plan[0].batch : 0;
	for (size_t i = 1; i < o->nplan; i++) {
		if (o->plan[i].batch < *lo)
			*lo = o->plan[i].batch;
		if (o->plan[i].batch > *hi)
			*hi = o->plan[i].batch;
	}
}

/* "batch 3" or "batches 1 to 3" (to free). */
static char *output_batches(const struct output *o)
{
	int lo, hi;

	output_plan_batches(o, &lo, &hi);
	if (lo == hi)
		return xasprintf("batch %d", lo);
	return xasprintf("batches %d to %d", lo, hi);
}

/* Print the plan once, before the first migration starts. */
static void output_plan_show(struct output *o, bool dry_run)
{
	const char *b = output_on(o, stdout, OUTPUT_SGR_BOLD);
	const char *off = output_off(o, stdout);
	const char *s = o->nplan == 1 ? "" : "s";
	char *batches;

	if (o->plan_shown || o->nplan == 0)
		return;
	o->plan_shown = true;
	if (o->quiet)
		return;
	batches = output_batches(o);
	switch (o->mode) {
	case OUTPUT_UP:
		printf("%sBatch %d: %s %zu migration%s%s\n", b, o->plan[0].batch,
		       dry_run ? "would apply" : "applying", o->nplan, s, off);
		break;
	case OUTPUT_DOWN:
		printf("%s%s %zu migration%s of %s%s\n", b,
		       dry_run ? "Would roll back" : "Rolling back", o->nplan, s,
		       batches, off);
		break;
	case OUTPUT_RESET:
		printf("%sReset: %s %zu migration%s (%s), then %s the tracking table \"%s\"%s\n",
		       b, dry_run ? "would roll back" : "rolling back", o->nplan,
		       s, batches, dry_run ? "drop" : "dropping", o->table, off);
		break;
	}
	free(batches);
	if (o->note != NULL)
		printf("%s%s%s\n", output_on(o, stdout, OUTPUT_SGR_YELLOW),
		       o->note, output_off(o, stdout));
	for (size_t i = 0; i < o->nplan; i++) {
		const struct output_plan_item *it = &o->plan[i];
		const char *how = it->not_atomic ? "cannot roll back, recorded as it runs"
				  : it->own_tx	 ? "in a transaction of its own"
				  : it->outside	 ? "outside the transaction"
						 : NULL;

		printf("  %s", it->label);
		if (how != NULL)
			printf("  %s(%s%s%s)%s",
			       output_on(o, stdout, OUTPUT_SGR_YELLOW), how,
			       it->reason != NULL ? ": " : "",
			       it->reason != NULL ? it->reason : "",
			       output_off(o, stdout));
		putchar('\n');
	}
	if (!dry_run)
		putchar('\n');
	fflush(stdout);
}

/* Remember one PLAN event. */
static void output_plan_add(struct output *o, const dbmigrate_event *ev)
{
	struct output_plan_item *it;

	if (o->nplan == o->plancap) {
		o->plancap = o->plancap * 2 + 8;
		o->plan = xreallocarray(o->plan, o->plancap, sizeof *o->plan);
	}
	it = &o->plan[o->nplan++];
	it->label = output_label(ev->entry);
	it->reason = ev->reason != NULL ? output_safe(ev->reason, false) : NULL;
	it->batch = ev->batch;
	it->outside = ev->outside_transaction;
	it->own_tx = ev->own_transaction;
	it->not_atomic = ev->not_atomic;
}

/* A migration started (printed with -v only). */
static void output_start(struct output *o, const dbmigrate_event *ev)
{
	char *label;

	output_plan_show(o, false);
	if (!o->verbose)
		return;
	label = output_label(ev->entry);
	printf("%s %s%s...\n", ev->down ? "Rolling back" : "Applying", label,
	       ev->outside_transaction ? " (outside the transaction)" : "");
	fflush(stdout);
	free(label);
}

/* A migration finished. */
static void output_done(struct output *o, const dbmigrate_event *ev)
{
	char *label;
	char took[64];

	output_plan_show(o, false);
	o->done++;
	if (o->quiet)
		return;
	label = output_label(ev->entry);
	output_duration(took, sizeof took, ev->seconds);
	/* Small migrations travel to the server together: their time is
	   that of them all, and says so. */
	if (ev->together > 1) {
		size_t n = strlen(took);

		snprintf(took + n, sizeof took - n, " for %zu sent together",
			 ev->together);
	}
	if (ev->down)
		printf("↩️  Rolled back %s (%s)\n", label, took);
	else
		printf("✅ %sApplied%s %s (%s)\n",
		       output_on(o, stdout, OUTPUT_SGR_GREEN), output_off(o, stdout),
		       label, took);
	fflush(stdout);
	free(label);
}

/* The event callback given to dbmigrate_on_event; ctx is the output. */
void output_event(const dbmigrate_event *ev, void *ctx)
{
	struct output *o = ctx;
	char took[32];

	switch (ev->kind) {
	case DBMIGRATE_EVENT_PLAN:
		output_plan_add(o, ev);
		break;
	case DBMIGRATE_EVENT_NOTE:
		free(o->note);
		o->note = output_safe(ev->message != NULL ? ev->message : "", false);
		break;
	case DBMIGRATE_EVENT_START:
		output_start(o, ev);
		break;
	case DBMIGRATE_EVENT_DONE:
		output_done(o, ev);
		break;
	case DBMIGRATE_EVENT_COMMIT:
		if (!o->verbose)
			break;
		output_duration(took, sizeof took, ev->seconds);
		printf("Committed %zu migration%s (%s)\n", ev->count,
		       ev->count == 1 ? "" : "s", took);
		fflush(stdout);
		break;
	case DBMIGRATE_EVENT_WARNING:
		output_warning(o, "%s", ev->message != NULL ? ev->message : "");
		break;
	case DBMIGRATE_EVENT_NOTICE:
		if (!o->quiet) {
			char *msg = output_safe(ev->message, true);

			/* The driver starts it with the server's severity
			   ("NOTICE:", "INFO:", "WARNING:"): no prefix of
			   ours, or a notice reads "NOTICE: NOTICE: ...". */
			fflush(stdout);
			fprintf(stderr, "%s\n", msg);
			free(msg);
		}
		break;
	case DBMIGRATE_EVENT_DEBUG:
		output_debug(o, "%s", ev->message != NULL ? ev->message : "");
		break;
	case DBMIGRATE_EVENT_LOCK_WAIT:
		if (!o->quiet) {
			char *msg = output_safe(ev->message, true);

			/* Drivers often say "waiting for ..." themselves. */
			fflush(stdout);
			fprintf(stderr, "⏳ %s%s\n",
				strncmp(msg, "waiting", 7) == 0 ? "" : "waiting for lock: ",
				msg);
			free(msg);
		}
		break;
	}
}

/* The line saying there was nothing to do. */
static void output_nothing(const struct output *o, bool dry_run)
{
	switch (o->mode) {
	case OUTPUT_UP:
		printf("✅ Nothing to migrate: the database is up to date.\n");
		break;
	case OUTPUT_DOWN:
		printf("Nothing to roll back.\n");
		break;
	case OUTPUT_RESET:
		if (dry_run)
			printf("Nothing to roll back; reset would drop the tracking table \"%s\".\n",
			       o->table);
		else
			printf("✅ Reset: nothing was applied; the tracking table \"%s\" is gone.\n",
			       o->table);
		break;
	}
}

/* Finish reporting a run: the plan if not shown yet, then a summary. */
void output_end_run(struct output *o, dbmigrate_code rc, bool dry_run,
		    double seconds)
{
	const char *s = o->nplan == 1 ? "" : "s";
	char took[32], *batches;

	output_plan_show(o, dry_run);
	if (rc != DBMIGRATE_OK || o->quiet) {
		fflush(stdout);
		return;
	}
	if (o->nplan == 0) {
		output_nothing(o, dry_run);
	} else if (!dry_run) {
		output_duration(took, sizeof took, seconds);
		batches = output_batches(o);
		switch (o->mode) {
		case OUTPUT_UP:
			printf("✅ %sBatch %d: applied %zu migration%s in %s.%s\n",
			       output_on(o, stdout, OUTPUT_SGR_GREEN), o->plan[0].batch,
			       o->nplan, s, took, output_off(o, stdout));
			break;
		case OUTPUT_DOWN:
			printf("↩️  Rolled back %zu migration%s of %s in %s.\n",
			       o->nplan, s, batches, took);
			break;
		case OUTPUT_RESET:
			printf("✅ %sReset: rolled back %zu migration%s and dropped the tracking table \"%s\" in %s.%s\n",
			       output_on(o, stdout, OUTPUT_SGR_GREEN), o->nplan, s,
			       o->table, took, output_off(o, stdout));
			break;
		}
		free(batches);
	}
	if (dry_run)
		printf("Dry run: nothing was changed.\n");
	fflush(stdout);
}

/*
 * Write s as a JSON string: quotes, backslashes and control characters
 * escaped; bytes that are not UTF-8 become U+FFFD, so the output stays
 * valid JSON whatever a file name holds. NULL writes null.
 */
void output_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	while (*p != '\0') {
		size_t n;

		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7F) {
				fprintf(f, "\\u%04x", *p);
			} else if (*p < 0x80) {
				fputc(*p, f);
			} else if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0) {
				/* C1 controls: valid JSON raw, but a terminal
				   showing the JSON may obey them. */
				fprintf(f, "\\u%04x", p[1]);
				p += 2;
				continue;
			} else if ((n = output_utf8_len(p)) > 0) {
				fwrite(p, 1, n, f);
				p += n;
				continue;
			} else {
				fputs("\\ufffd", f);
			}
			break;
		}
		p++;
	}
	fputc('"', f);
}

