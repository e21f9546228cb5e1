/*
 * parse-sql.c - the SQL formats. NNN_name.sql is dbmate's (or goose's,
 * when its first annotation is `-- +goose ...`: parse-goose.c): a line
 * `-- migrate:up` starts the up section, `-- migrate:down` the down
 * section, each optionally followed by options such as
 * `transaction:false`; markers are case-sensitive, as in dbmate, so a
 * file dbmate reads means the same here. A .up.sql/.down.sql pair has
 * no markers: each file is one direction, whole.
 *
 * Bodies are not copies: they point into the migration's text, so a
 * data migration of many MB is held once. Each must end in a NUL, so
 * the up section of a .sql file is ended by writing a NUL over the
 * first byte of its `-- migrate:down` line, once the checksum is taken;
 * the text keeps its length and its line breaks, so offsets, lines and
 * columns still map every position of a body back to the file.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "migration.h"

/* A marker line found in the file. */
struct parse_sql_marker {
	bool found;
	size_t start;   /* offset of the marker line */
	size_t body;    /* offset just after its line break */
	unsigned line;
};

/* The state of one parse. */
struct parse_sql_state {
	struct migration *m;
	dbmigrate_error *err;
	struct parse_sql_marker up, down;
	unsigned near_miss;     /* first line that looks like a marker but is
				   not, 0 for none */
	size_t near_off;        /* and its offset */
};

/* Length of a UTF-8 byte order mark at the start of s: not content. */
static size_t parse_sql_bom(const char *s, size_t len)
{
	return len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* Set err's location to offset off of m's text and return EFILES. */
static dbmigrate_code parse_sql_at(struct parse_sql_state *p, size_t off)
{
	errors_location_at(p->err, p->m->path, p->m->text, p->m->text_len, off);
	return DBMIGRATE_EFILES;
}

/*
 * Is line s[0, n) (no line break) a marker? Returns 'u' for up, 'd' for
 * down, 0 for none; *opts is where the options start. Leading white
 * space and white space after "--" are tolerated (dbmate: ^--\s*).
 */
static int parse_sql_marker_kind(const char *s, size_t n, size_t *opts,
				 bool *near)
{
	size_t i = 0, k;
	int kind;

	*near = false;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < 2 || s[i] != '-' || s[i + 1] != '-')
		return 0;
	for (i += 2; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (n - i >= 10 && memcmp(s + i, "migrate:up", 10) == 0) {
		kind = 'u';
		k = i + 10;
	} else if (n - i >= 12 && memcmp(s + i, "migrate:down", 12) == 0) {
		kind = 'd';
		k = i + 12;
	} else {
		kind = 0;
		k = i;
	}
	if (kind != 0 && (k == n || s[k] == ' ' || s[k] == '\t')) {
		*opts = k;
		return kind;
	}
	/* "-- Migrate:Up", "-- migrate: up": worth a word if no marker. */
	if (n - i >= 8 && strncasecmp(s + i, "migrate:", 8) == 0)
		*near = true;
	return 0;
}

/* Parse the options after a marker on line s[0, n) starting at line_off. */
static dbmigrate_code parse_sql_options(struct parse_sql_state *p,
					const char *s, size_t n, size_t opts,
					size_t line_off, unsigned line,
					const char *marker)
{
	size_t i = opts;

	while (i < n) {
		size_t tok, colon = 0, end;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;
		tok = i;
		while (i < n && s[i] != ' ' && s[i] != '\t') {
			if (s[i] == ':' && colon == 0)
				colon = i;
			i++;
		}
		end = i;
		if (colon == 0) {
			errors_set(p->err, DBMIGRATE_EFILES,
				   "unexpected text after %s in %s", marker,
				   p->m->path);
			errors_hint(p->err, "Only options such as transaction:false "
				    "may follow the marker; put comments on a "
				    "line of their own.");
			return parse_sql_at(p, line_off + tok);
		}
		if (colon - tok != 11 || memcmp(s + tok, "transaction", 11) != 0) {
			errors_set(p->err, DBMIGRATE_EFILES,
				   "unknown option %.*s after %s in %s",
				   (int)(colon - tok), s + tok, marker,
				   p->m->path);
			errors_hint(p->err, "The one option is transaction:false, "
				    "to run the migration outside a transaction.");
			return parse_sql_at(p, line_off + tok);
		}
		if (end - colon - 1 == 5 && memcmp(s + colon + 1, "false", 5) == 0) {
			if (!p->m->no_transaction) {
				p->m->no_transaction = true;
				p->m->no_transaction_line = line;
			}
		} else if (end - colon - 1 != 4 ||
			   memcmp(s + colon + 1, "true", 4) != 0) {
			if (end - colon - 1 == 0)
				errors_set(p->err, DBMIGRATE_EFILES,
					   "missing value for transaction in %s",
					   p->m->path);
			else
				errors_set(p->err, DBMIGRATE_EFILES,
					   "invalid value %.*s for transaction "
					   "in %s", (int)(end - colon - 1),
					   s + colon + 1, p->m->path);
			errors_hint(p->err, "Write transaction:false to run the "
				    "migration outside a transaction, or leave "
				    "the option out.");
			return parse_sql_at(p, line_off + colon + 1);
		}
	}
	return DBMIGRATE_OK;
}

/* Report a second marker of a kind; the first is at first->line. */
static dbmigrate_code parse_sql_duplicate(struct parse_sql_state *p, size_t off,
					  const char *marker,
					  const struct parse_sql_marker *first)
{
	errors_set(p->err, DBMIGRATE_EFILES, "duplicate %s in %s", marker,
		   p->m->path);
	errors_detail(p->err, "The first %s is at line %u.", marker,
		      first->line);
	errors_hint(p->err, "A migration has one up section and at most one "
		    "down section; merge the two.");
	return parse_sql_at(p, off);
}

/* Find the markers, line by line, and read their options. */
static dbmigrate_code parse_sql_scan(struct parse_sql_state *p)
{
	const char *s = p->m->text;
	size_t len = p->m->text_len, pos = 0;
	unsigned line = 1;

	for (pos = parse_sql_bom(s, len); pos < len; line++) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t next = nl != NULL ? (size_t)(nl - s) + 1 : len;
		size_t n = (nl != NULL ? (size_t)(nl - s) : len) - pos, opts = 0;
		struct parse_sql_marker *mk;
		const char *marker;
		bool near;
		int kind;

		if (n > 0 && s[pos + n - 1] == '\r')
			n--;            /* CRLF */
		kind = parse_sql_marker_kind(s + pos, n, &opts, &near);
		if (kind == 0) {
			if (near && p->near_miss == 0) {
				p->near_miss = line;
				p->near_off = pos;
			}
			pos = next;
			continue;
		}
		mk = kind == 'u' ? &p->up : &p->down;
		marker = kind == 'u' ? "-- migrate:up" : "-- migrate:down";
		if (mk->found)
			return parse_sql_duplicate(p, pos, marker, mk);
		if (kind == 'd' && !p->up.found) {
			errors_set(p->err, DBMIGRATE_EFILES,
				   "-- migrate:down before -- migrate:up in %s",
				   p->m->path);
			errors_hint(p->err, "Put the up section first: "
				    "`-- migrate:up` and the SQL to apply, then "
				    "`-- migrate:down` and the SQL that undoes it.");
			return parse_sql_at(p, pos);
		}
		mk->found = true;
		mk->start = pos;
		mk->body = next;
		mk->line = line;
		if (parse_sql_options(p, s + pos, n, opts, pos, line, marker) !=
		    DBMIGRATE_OK)
			return DBMIGRATE_EFILES;
		pos = next;
	}
	return DBMIGRATE_OK;
}

/*
 * Point b at text[off, end) of the file path, which ends in a NUL: the
 * text's own, or the one parse_sql writes over the down marker.
 */
static void parse_sql_body(struct migration_body *b, const char *path,
			   char *text, size_t off, size_t end)
{
	b->sql = text + off;
	b->len = end - off;
	b->owned = false;
	b->verbatim = true;
	b->path = path;
	b->offset = off;
	migration_line_col(text, off, &b->line, &b->column);
	b->present = migration_code_start(b->sql, b->len) < b->len;
}

/* A .up.sql/.down.sql pair: each file whole is one direction. */
static dbmigrate_code parse_sql_pair(struct migration *m, dbmigrate_error *err)
{
	parse_sql_body(&m->up, m->path, m->text,
		       parse_sql_bom(m->text, m->text_len), m->text_len);
	if (!m->up.present) {
		errors_set(err, DBMIGRATE_EFILES, "%s holds no SQL", m->path);
		errors_detail(err, "It has only comments and white space.");
		errors_hint(err, "Write the SQL to apply in it.");
		errors_location(err, m->path, 0, 0, NULL, 0);
		return DBMIGRATE_EFILES;
	}
	/* The down body's path is m->down_path itself: callers compare it. */
	if (m->down_path != NULL && m->down_text != NULL)
		parse_sql_body(&m->down, m->down_path, m->down_text,
			       parse_sql_bom(m->down_text, m->down_text_len),
			       m->down_text_len);
	return DBMIGRATE_OK;
}

/* Parse m as a .sql file, or as a .up.sql/.down.sql pair. */
dbmigrate_code parse_sql(struct migration *m, dbmigrate_error *err)
{
	struct parse_sql_state p = { .m = m, .err = err };
	size_t bom, code, up_end;

	if (m->format == MIGRATION_FORMAT_PAIR)
		return parse_sql_pair(m, err);
	/* The first annotation tells goose's files from dbmate's. */
	if (parse_goose_detect(m->text, m->text_len))
		return parse_goose(m, err);
	if (parse_sql_scan(&p) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	if (!p.up.found) {
		errors_set(err, DBMIGRATE_EFILES, "no -- migrate:up marker in %s",
			   m->path);
		if (p.near_miss != 0)
			errors_detail(err, "Line %u looks like a marker, but "
				      "markers are written exactly `-- migrate:up` "
				      "and `-- migrate:down` (lowercase, no space "
				      "after the colon).", p.near_miss);
		errors_hint(err, "Start the file with a line `-- migrate:up` and "
			    "the SQL to apply; then, to allow rolling back, a "
			    "line `-- migrate:down` and the SQL that undoes it "
			    "(goose's `-- +goose Up` and `-- +goose Down` work "
			    "too). A file of plain SQL is named NNN_name.up.sql.");
		if (p.near_miss != 0)
			return parse_sql_at(&p, p.near_off);
		errors_location(err, m->path, 0, 0, NULL, 0);
		return DBMIGRATE_EFILES;
	}
	bom = parse_sql_bom(m->text, m->text_len);
	code = bom + migration_code_start(m->text + bom, p.up.start - bom);
	if (code < p.up.start) {
		errors_set(err, DBMIGRATE_EFILES,
			   "SQL before -- migrate:up in %s", m->path);
		errors_hint(err, "Only comments and blank lines may come before "
			    "`-- migrate:up`; move this SQL into the up section.");
		return parse_sql_at(&p, code);
	}
	up_end = p.down.found ? p.down.start : m->text_len;
	parse_sql_body(&m->up, m->path, m->text, p.up.body, up_end);
	if (!m->up.present) {
		errors_set(err, DBMIGRATE_EFILES,
			   "the up section is empty in %s", m->path);
		errors_hint(err, "Write the SQL to apply below the "
			    "`-- migrate:up` line.");
		return parse_sql_at(&p, p.up.start);
	}
	/* An empty down section is no down section: it cannot roll back. */
	if (p.down.found) {
		parse_sql_body(&m->down, m->path, m->text, p.down.body,
			       m->text_len);
		/* The up body's end: the marker line is parsed and done. */
		m->text[p.down.start] = '\0';
	}
	return DBMIGRATE_OK;
}
