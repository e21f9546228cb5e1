/*
 * parse-goose.c - goose's SQL files: NNN_name.sql (or a timestamp) with
 * a line `-- +goose Up`, the SQL to apply, and optionally `-- +goose
 * Down` and the SQL that undoes it. Told from dbmate's format by the
 * file's first annotation.
 *
 * As goose reads them (its sqlparser): an annotation is a line that
 * starts with "--" (no white space before it; an indented one, which
 * goose takes for a comment, is refused here) followed by "+goose" and
 * one of up, down, statementbegin, statementend, no transaction, envsub
 * on, envsub off, compared without regard to case; an unknown one is an
 * error. The text between `-- +goose StatementBegin` and `-- +goose
 * StatementEnd` is one statement whatever semicolons it holds: the body
 * keeps it as a range of its SQL (struct migration_body's whole), and
 * the splitter sends it whole. `-- +goose NO TRANSACTION` anywhere is
 * transaction:false. `-- +goose ENVSUB ON` (goose substitutes
 * ${VAR} from the environment) is refused: dbmigrate never reads the
 * environment into SQL. An empty Down section is a down that does
 * nothing, as in goose.
 *
 * Like parse-sql.c, bodies point into the text: the up body is ended by
 * a NUL written over the first byte of the `-- +goose Down` line.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "migration.h"
#include "strbuf.h"

/* The annotations, as goose names them. */
enum goose_kind {
	GOOSE_NONE,    /* not an annotation */
	GOOSE_UNKNOWN, /* -- +goose something else */
	GOOSE_UP,
	GOOSE_DOWN,
	GOOSE_BEGIN,
	GOOSE_END,
	GOOSE_NO_TX,
	GOOSE_ENVSUB_ON,
	GOOSE_ENVSUB_OFF
};

/* Where the parse is: before Up, in a section, in a statement block. */
enum goose_state { GOOSE_START, GOOSE_IN_UP, GOOSE_IN_DOWN };

/* A growing list of ranges. */
struct goose_segs {
	struct migration_segment *v;
	size_t n, cap;
	bool nomem;
};

/* Append a range; memory failures are sticky. */
static void goose_segs_add(struct goose_segs *s, size_t off, size_t len)
{
	if (s->nomem)
		return;
	if (!array_grow(&s->v, &s->cap, s->n, sizeof *s->v, 4)) {
		s->nomem = true;
		return;
	}
	s->v[s->n].offset = off;
	s->v[s->n].len = len;
	s->n++;
}

/* True when s[0, n) equals word, ASCII case-insensitively. */
static bool goose_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

/*
 * What line s[0, n) (no line break) is. "-- +goose no  transaction"
 * matches with any white space between words, as goose compares the
 * trimmed text.
 */
static enum goose_kind goose_kind_of(const char *s, size_t n)
{
	size_t i = 2, a, b, c;

	if (n < 2 || s[0] != '-' || s[1] != '-')
		return GOOSE_NONE;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < 6 || strncasecmp(s + i, "+goose", 6) != 0)
		return GOOSE_NONE;
	i += 6;
	if (i < n && s[i] != ' ' && s[i] != '\t')
		return GOOSE_NONE; /* "+gooseberry" */
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	/* First word [i, a), then the rest after white space [b, n). */
	for (a = i; a < n && s[a] != ' ' && s[a] != '\t'; a++)
		;
	for (b = a; b < n && (s[b] == ' ' || s[b] == '\t'); b++)
		;
	c = n;
	if (b == n) {
		if (goose_is(s + i, a - i, "up"))
			return GOOSE_UP;
		if (goose_is(s + i, a - i, "down"))
			return GOOSE_DOWN;
		if (goose_is(s + i, a - i, "statementbegin"))
			return GOOSE_BEGIN;
		if (goose_is(s + i, a - i, "statementend"))
			return GOOSE_END;
		return GOOSE_UNKNOWN;
	}
	if (goose_is(s + i, a - i, "no") && goose_is(s + b, c - b, "transaction"))
		return GOOSE_NO_TX;
	if (goose_is(s + i, a - i, "envsub") && goose_is(s + b, c - b, "on"))
		return GOOSE_ENVSUB_ON;
	if (goose_is(s + i, a - i, "envsub") && goose_is(s + b, c - b, "off"))
		return GOOSE_ENVSUB_OFF;
	return GOOSE_UNKNOWN;
}

/* True for a dbmate marker line: "-- migrate:up", "--migrate:down". */
static bool goose_dbmate_marker(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < 2 || s[i] != '-' || s[i + 1] != '-')
		return false;
	for (i += 2; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	return n - i >= 8 && strncasecmp(s + i, "migrate:", 8) == 0;
}

/* The line at *pos of s[0, len): its length without the line break
   (and a CR before it); *pos moves to the next line. */
static size_t goose_line(const char *s, size_t len, size_t *pos)
{
	const char *nl = memchr(s + *pos, '\n', len - *pos);
	size_t end = nl != NULL ? (size_t)(nl - s) : len, n = end - *pos;

	if (n > 0 && s[*pos + n - 1] == '\r')
		n--;
	*pos = nl != NULL ? end + 1 : len;
	return n;
}

bool parse_goose_detect(const char *text, size_t len)
{
	/* A byte order mark is not part of the first line. */
	size_t pos = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

	while (pos < len) {
		size_t start = pos, n = goose_line(text, len, &pos);
		enum goose_kind k = goose_kind_of(text + start, n);

		if (k != GOOSE_NONE)
			return true;
		if (goose_dbmate_marker(text + start, n))
			return false;
	}
	return false;
}

bool parse_goose_segments(const char *sql, size_t len,
			  struct migration_segment **out, size_t *n)
{
	struct goose_segs segs = { 0 };
	size_t pos = 0, begin = 0;
	bool open = false;

	while (pos < len) {
		size_t start = pos, k = goose_line(sql, len, &pos);
		enum goose_kind kind = goose_kind_of(sql + start, k);

		if (kind == GOOSE_BEGIN && !open) {
			open = true;
			begin = pos;
		} else if (kind == GOOSE_END && open) {
			open = false;
			goose_segs_add(&segs, begin, start - begin);
		}
	}
	if (segs.nomem) {
		free(segs.v);
		*out = NULL;
		*n = 0;
		return false;
	}
	*out = segs.v;
	*n = segs.n;
	return true;
}

/* The state of one parse. */
struct goose_parse {
	struct migration *m;
	dbmigrate_error *err;
	struct goose_segs up, down;
	size_t up_body, up_end, down_line, down_body;
	unsigned up_line, down_no, begin_line;
	bool have_up, have_down;
};

/* Set err's location to offset off of the text and return EFILES. */
static dbmigrate_code goose_at(struct goose_parse *p, size_t off)
{
	errors_location_at(p->err, p->m->path, p->m->text, p->m->text_len, off);
	return DBMIGRATE_EFILES;
}

/* Report an annotation out of place at offset off. */
static dbmigrate_code goose_misplaced(struct goose_parse *p, size_t off,
				      const char *message, const char *hint)
{
	errors_set(p->err, DBMIGRATE_EFILES, "%s in %s", message, p->m->path);
	errors_hint(p->err, "%s", hint);
	return goose_at(p, off);
}

/* Handle one annotation of kind at line start (line number line). */
static dbmigrate_code goose_annotation(struct goose_parse *p,
				       enum goose_kind kind,
				       enum goose_state *state, bool *block,
				       size_t *begin, size_t start, size_t next,
				       unsigned line)
{
	const char *s = p->m->text;

	switch (kind) {
	case GOOSE_UP:
		if (p->have_up)
			return goose_misplaced(p, start, "duplicate -- +goose Up",
				"A goose file has one Up section and at most one "
				"Down section; merge the two.");
		p->have_up = true;
		p->up_body = next;
		p->up_line = line;
		*state = GOOSE_IN_UP;
		return DBMIGRATE_OK;
	case GOOSE_DOWN:
		if (*block)
			return goose_misplaced(p, start,
				"-- +goose Down inside a StatementBegin block",
				"End the statement with `-- +goose StatementEnd` "
				"before the Down section.");
		if (*state != GOOSE_IN_UP)
			return goose_misplaced(p, start, *state == GOOSE_START ?
				"-- +goose Down before -- +goose Up" :
				"duplicate -- +goose Down",
				"Put the Up section first: `-- +goose Up` and the "
				"SQL to apply, then `-- +goose Down` and the SQL "
				"that undoes it.");
		p->have_down = true;
		p->up_end = start;
		p->down_line = start;
		p->down_body = next;
		p->down_no = line;
		*state = GOOSE_IN_DOWN;
		return DBMIGRATE_OK;
	case GOOSE_BEGIN:
		if (*state == GOOSE_START)
			return goose_misplaced(p, start,
				"-- +goose StatementBegin before -- +goose Up",
				"A statement block belongs in the Up or the Down "
				"section.");
		if (*block)
			return goose_misplaced(p, start,
				"-- +goose StatementBegin inside another block",
				"End the first statement with `-- +goose "
				"StatementEnd` before beginning the next.");
		*block = true;
		*begin = next;
		p->begin_line = line;
		return DBMIGRATE_OK;
	case GOOSE_END: {
		size_t base = *state == GOOSE_IN_UP ? p->up_body : p->down_body;

		if (!*block)
			return goose_misplaced(p, start,
				"-- +goose StatementEnd without StatementBegin",
				"Begin the statement with `-- +goose "
				"StatementBegin`, or delete this line.");
		*block = false;
		goose_segs_add(*state == GOOSE_IN_UP ? &p->up : &p->down,
			       *begin - base, start - *begin);
		return DBMIGRATE_OK;
	}
	case GOOSE_NO_TX:
		if (!p->m->no_transaction) {
			p->m->no_transaction = true;
			p->m->no_transaction_line = line;
		}
		return DBMIGRATE_OK;
	case GOOSE_ENVSUB_ON:
		errors_set(p->err, DBMIGRATE_EFILES,
			   "-- +goose ENVSUB ON in %s: dbmigrate does not "
			   "substitute environment variables", p->m->path);
		errors_detail(p->err, "goose replaces ${VAR} in the SQL after "
			      "this line with the value of the environment "
			      "variable VAR; dbmigrate sends the SQL as written.");
		errors_hint(p->err, "Write the values into the SQL (a migration "
			    "should mean the same on every machine), then "
			    "delete the ENVSUB lines.");
		return goose_at(p, start);
	case GOOSE_ENVSUB_OFF:
		return DBMIGRATE_OK;
	default: {
		size_t n = next - start;

		while (n > 0 && (s[start + n - 1] == '\n' || s[start + n - 1] == '\r'))
			n--;
		errors_set(p->err, DBMIGRATE_EFILES,
			   "unknown goose annotation \"%.*s\" in %s",
			   (int)(n > 80 ? 80 : n), s + start, p->m->path);
		errors_hint(p->err, "goose knows -- +goose Up, Down, "
			    "StatementBegin, StatementEnd, NO TRANSACTION and "
			    "ENVSUB ON/OFF; a plain comment must not start with "
			    "+goose.");
		return goose_at(p, start);
	}
	}
}

/* True when s[0, n) is only white space. */
static bool goose_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' &&
		    s[i] != '\v')
			return false;
	return true;
}

/* Point b at text[off, end) of m's file with its ranges. */
static void goose_body(struct migration *m, struct migration_body *b,
		       size_t off, size_t end, struct goose_segs *segs)
{
	b->present = true;
	b->sql = m->text + off;
	b->len = end - off;
	b->owned = false;
	b->verbatim = true;
	b->path = m->path;
	b->offset = off;
	migration_line_col(m->text, off, &b->line, &b->column);
	b->whole = segs->n > 0 ? segs->v : NULL;
	b->nwhole = segs->n;
	b->whole_owned = segs->n > 0;
	if (segs->n == 0)
		free(segs->v);
	segs->v = NULL;
	segs->n = segs->cap = 0;
}

dbmigrate_code parse_goose(struct migration *m, dbmigrate_error *err)
{
	struct goose_parse p = { .m = m, .err = err };
	enum goose_state state = GOOSE_START;
	const char *s = m->text;
	size_t len = m->text_len, pos = 0, begin = 0;
	unsigned line = 0;
	bool block = false;
	dbmigrate_code rc = DBMIGRATE_OK;

	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	while (rc == DBMIGRATE_OK && pos < len) {
		size_t start = pos, n = goose_line(s, len, &pos);
		enum goose_kind kind = goose_kind_of(s + start, n);

		line++;
		if (kind == GOOSE_NONE) {
			size_t i = start;

			while (i < start + n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i > start && goose_kind_of(s + i, n - (i - start)) != GOOSE_NONE) {
				/* goose reads it as a comment: a Down section would
				   silently become part of the up. */
				errors_set(err, DBMIGRATE_EFILES,
					   "indented goose annotation in %s", m->path);
				errors_detail(err, "goose only reads an annotation at "
					      "the start of its line; this one it "
					      "takes for a plain comment.");
				errors_hint(err, "Move `-- +goose` to the start of "
					    "the line, or write the comment "
					    "without +goose.");
				rc = goose_at(&p, i);
				continue;
			}
		}
		if (kind != GOOSE_NONE) {
			rc = goose_annotation(&p, kind, &state, &block, &begin,
					      start, pos, line);
			continue;
		}
		if (state == GOOSE_START && !goose_blank(s + start, n)) {
			size_t i = start;

			while (i < start + n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (n - (i - start) >= 2 && s[i] == '-' && s[i + 1] == '-')
				continue; /* a comment */
			errors_set(err, DBMIGRATE_EFILES,
				   "SQL before -- +goose Up in %s", m->path);
			errors_hint(err, "Only comments, blank lines and `-- "
				    "+goose NO TRANSACTION` may come before `-- "
				    "+goose Up`; move this SQL into the Up "
				    "section.");
			rc = goose_at(&p, i);
		}
	}
	if (rc == DBMIGRATE_OK && block) {
		errors_set(err, DBMIGRATE_EFILES,
			   "-- +goose StatementBegin at line %u has no "
			   "StatementEnd in %s", p.begin_line, m->path);
		errors_hint(err, "End the statement with a line `-- +goose "
			    "StatementEnd`.");
		errors_location(err, m->path, p.begin_line, 1, NULL, 0);
		rc = DBMIGRATE_EFILES;
	}
	if (rc == DBMIGRATE_OK && !p.have_up) {
		errors_set(err, DBMIGRATE_EFILES,
			   "no -- +goose Up annotation in %s", m->path);
		errors_hint(err, "Start the file with a line `-- +goose Up` "
			    "and the SQL to apply; then, to allow rolling back, "
			    "a line `-- +goose Down` and the SQL that undoes it.");
		errors_location(err, m->path, 0, 0, NULL, 0);
		rc = DBMIGRATE_EFILES;
	}
	if (rc == DBMIGRATE_OK && (p.up.nomem || p.down.nomem))
		rc = errors_nomem(err);
	if (rc != DBMIGRATE_OK) {
		free(p.up.v);
		free(p.down.v);
		return rc;
	}
	goose_body(m, &m->up, p.up_body, p.have_down ? p.up_end : len, &p.up);
	if (p.have_down) {
		goose_body(m, &m->down, p.down_body, len, &p.down);
		m->text[p.down_line] = '\0';
	}
	return DBMIGRATE_OK;
}
