/*
 * migration.c - loading one migration: read its file(s), refuse what is
 * not text (a NUL byte, invalid UTF-8, an empty file) with the place of
 * the fault, compute the drift checksum over the text as read, and hand
 * the text to the parser of its format. Also the set's lookup and the
 * destructors.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checksum.h"
#include "errors.h"
#include "fsutil.h"
#include "migration.h"
#include "strbuf.h"

/* At most this many bytes of a bad line are shown (binary files). */
#define MIGRATION_SHOWN_LINE 200

/* Free a body's SQL when it owns it, and reset the body. */
static void migration_body_free(struct migration_body *b)
{
	if (b->owned)
		free(b->sql);
	if (b->whole_owned)
		free((void *)(uintptr_t)b->whole);
	memset(b, 0, sizeof *b);
}

/* Drop what a (failed or earlier) load left: texts, bodies, checksum. */
static void migration_unload(struct migration *m)
{
	free(m->text);
	free(m->down_text);
	m->text = m->down_text = NULL;
	m->text_len = m->down_text_len = 0;
	migration_body_free(&m->up);
	migration_body_free(&m->down);
	m->no_transaction = false;
	m->no_transaction_line = 0;
	m->checksum[0] = '\0';
	m->loaded = false;
}

/*
 * Point err at the bad byte at offset bad of text. The shown line is a
 * copy with every byte that is not valid text replaced by '?', so the
 * terminal showing the error gets text; the column counts characters.
 */
static void migration_locate_bad(dbmigrate_error *err, const char *path,
				 const char *text, size_t len, size_t bad)
{
	size_t start = bad, end = bad, i;
	unsigned line = 1, column = 1;
	struct strbuf b = STRBUF_INIT;

	while (start > 0 && text[start - 1] != '\n')
		start--;
	for (i = 0; i < start; i++)
		if (text[i] == '\n')
			line++;
	/* Everything before bad is valid UTF-8: count its characters. */
	for (i = start; i < bad; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			column++;
	while (end < len && text[end] != '\n' &&
	       end - start < MIGRATION_SHOWN_LINE)
		end++;
	for (i = start; i < end;) {
		size_t at;
		const char *why;

		if (fsutil_check_text(text + i, end - i, &at, &why)) {
			strbuf_add(&b, text + i, end - i);
			break;
		}
		strbuf_add(&b, text + i, at);
		strbuf_putc(&b, '?');
		i += at + 1;
	}
	errors_location(err, path, line, column, strbuf_failed(&b) ? NULL : b.s,
			b.len);
	strbuf_free(&b);
}

/* Read one file of m and check that it is non-empty text. */
static dbmigrate_code migration_read(const struct migration *m,
				     const char *path, char **text,
				     size_t *len, dbmigrate_error *err)
{
	dbmigrate_code rc;
	const char *why;
	size_t bad;

	rc = fsutil_read_file(path, text, len, err);
	if (rc != DBMIGRATE_OK) {
		errors_location(err, path, 0, 0, NULL, 0);
		return rc;
	}
	/* Flyway runs an empty script (a migration emptied on purpose). */
	if (*len == 0 && m->format != MIGRATION_FORMAT_FLYWAY) {
		errors_set(err, DBMIGRATE_EFILES, "empty migration file %s", path);
		if (m->format == MIGRATION_FORMAT_SQL)
			errors_hint(err, "Write the migration: a line `-- migrate:up`, "
				    "the SQL to apply, then `-- migrate:down` and "
				    "the SQL that undoes it.");
		else if (m->format == MIGRATION_FORMAT_JS)
			errors_hint(err, "Write the migration: export const up = "
				    "`...SQL to apply...`; export const down = "
				    "`...SQL that undoes it...`;");
		else
			errors_hint(err, "Write the SQL in it, or delete it if "
				    "it is a .down.sql and the migration cannot "
				    "be rolled back.");
		errors_location(err, path, 0, 0, NULL, 0);
		return DBMIGRATE_EFILES;
	}
	if (!fsutil_check_text(*text, *len, &bad, &why)) {
		errors_set(err, DBMIGRATE_EFILES, "%s in %s", why, path);
		if ((*text)[bad] == '\0')
			errors_hint(err, "Migration files are text; this one "
				    "looks binary. Check that it is the file "
				    "you meant.");
		else
			errors_hint(err, "Save the file as UTF-8 (most editors "
				    "offer it under \"encoding\").");
		migration_locate_bad(err, path, *text, *len, bad);
		return DBMIGRATE_EFILES;
	}
	return DBMIGRATE_OK;
}

/* Read, check, checksum (with ck) and parse m: see migration.h. */
dbmigrate_code migration_load_with(struct migration *m,
					  struct checksum *ck,
					  dbmigrate_error *err)
{
	dbmigrate_code rc;

	migration_unload(m);
	rc = migration_read(m, m->path, &m->text, &m->text_len, err);
	if (rc == DBMIGRATE_OK && (m->format == MIGRATION_FORMAT_PAIR ||
				   m->format == MIGRATION_FORMAT_FLYWAY) &&
	    m->down_path != NULL)
		rc = migration_read(m, m->down_path, &m->down_text,
				    &m->down_text_len, err);
	if (rc == DBMIGRATE_OK &&
	    !checksum_run(ck, m->text, m->text_len, m->down_text,
			  m->down_text_len, m->checksum))
		rc = errors_set(err, DBMIGRATE_EIO,
				"cannot compute the checksum of %s: libcrypto "
				"failed", m->path);
	if (rc == DBMIGRATE_OK) {
		switch (m->format) {
		case MIGRATION_FORMAT_SQL:
		case MIGRATION_FORMAT_PAIR:
			rc = parse_sql(m, err);
			break;
		case MIGRATION_FORMAT_JS:
			rc = parse_js(m, err);
			break;
		case MIGRATION_FORMAT_FLYWAY:
			rc = parse_flyway(m, err);
			break;
		default:
			rc = errors_set(err, DBMIGRATE_EFILES,
					"unknown format of migration %s",
					m->path);
			break;
		}
	}
	if (rc != DBMIGRATE_OK) {
		if (rc != DBMIGRATE_ENOMEM)
			errors_migration(err, m->label);
		migration_unload(m);
		return rc;
	}
	m->loaded = true;
	return DBMIGRATE_OK;
}

dbmigrate_code migration_load(struct migration *m, dbmigrate_error *err)
{
	const bool all[1] = {true};
	struct migration_set one = {.v = m, .n = 1};

	return migration_load_set(&one, all, err);
}

dbmigrate_code migration_load_set(struct migration_set *s, const bool *select,
				  dbmigrate_error *err)
{
	struct checksum *ck = checksum_new();
	dbmigrate_code rc = DBMIGRATE_OK;

	if (ck == NULL)
		return errors_set(err, DBMIGRATE_EIO,
				  "cannot compute checksums: libcrypto failed "
				  "(or out of memory)");
	for (size_t i = 0; rc == DBMIGRATE_OK && i < s->n; i++)
		if (select == NULL || select[i])
			rc = migration_load_with(&s->v[i], ck, err);
	checksum_free(ck);
	return rc;
}

/* Binary search: the set is sorted by migration_id_cmp(). */
struct migration *migration_set_find(const struct migration_set *s,
				     const char *id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = migration_id_cmp(s->v[mid].id, id);

		if (c == 0)
			return &s->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Free m's members and zero it. */
void migration_free(struct migration *m)
{
	migration_unload(m);
	free(m->id);
	free(m->name);
	free(m->label);
	free(m->path);
	free(m->down_path);
	memset(m, 0, sizeof *m);
}

/* Free every migration of s, and s's own members. */
void migration_set_free(struct migration_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		migration_free(&s->v[i]);
	free(s->v);
	free(s->dir);
	memset(s, 0, sizeof *s);
}

/* Parse an id of 1 to 18 digits; *number is untouched on failure. */
bool migration_parse_id(const char *id, uint64_t *number)
{
	uint64_t v = 0;
	size_t n;

	for (n = 0; id[n] != '\0'; n++) {
		if (id[n] < '0' || id[n] > '9' || n == MIGRATION_MAX_DIGITS)
			return false;
		v = v * 10 + (uint64_t)(id[n] - '0');
	}
	if (n == 0)
		return false;
	*number = v;
	return true;
}

bool migration_is_version(const char *s, size_t len)
{
	bool digit = false; /* the previous character was a digit */

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = true;
		else if ((s[i] == '.' || s[i] == '_') && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

/* The next part of version s[*i, len): its digits without leading
   zeros as [*start, *end); *i moves past it and its separator. A part
   beyond the end is zero (empty). */
static void migration_version_part(const char *s, size_t len, size_t *i,
				   size_t *start, size_t *end)
{
	while (*i < len && s[*i] == '0')
		(*i)++;
	*start = *i;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	*end = *i;
	if (*i < len)
		(*i)++; /* the separator */
}

int migration_version_cmp(const char *a, size_t alen, const char *b,
			  size_t blen)
{
	size_t i = 0, j = 0;

	/* Digits without leading zeros: longer is bigger, else bytes. */
	while (i < alen || j < blen) {
		size_t as, ae, bs, be;
		int c;

		migration_version_part(a, alen, &i, &as, &ae);
		migration_version_part(b, blen, &j, &bs, &be);
		if (ae - as != be - bs)
			return ae - as < be - bs ? -1 : 1;
		if ((c = memcmp(a + as, b + bs, ae - as)) != 0)
			return c;
	}
	return 0;
}

int migration_id_class(const char *id)
{
	if (migration_is_version(id, strlen(id)))
		return 0;
	if (strncmp(id, "R__", 3) == 0 && id[3] != '\0')
		return 1;
	return 2;
}

int migration_id_cmp(const char *a, const char *b)
{
	int ca = migration_id_class(a), cb = migration_id_class(b);

	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (ca == 0)
		return migration_version_cmp(a, strlen(a), b, strlen(b));
	return strcmp(a, b);
}

/*
 * Point err at byte off of body b of mig: through the file's text when
 * the body is a verbatim slice of it (line, column and the source line
 * from the file itself), else counting within the decoded body (a JS
 * template literal with escapes) from where it starts in the file.
 */
size_t migration_code_start(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
		    s[i] == '\f' || s[i] == '\v') {
			i++;
		} else if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
			while (i < n && s[i] != '\n')
				i++;
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			unsigned depth = 1;

			for (i += 2; i < n && depth > 0; i++) {
				char next = i + 1 < n ? s[i + 1] : '\0';

				if (s[i] == '/' && next == '*') {
					depth++;
					i++;
				} else if (s[i] == '*' && next == '/') {
					depth--;
					i++;
				}
			}
		} else {
			return i;
		}
	}
	return n;
}

void migration_line_col(const char *s, size_t off, unsigned *line,
			unsigned *column)
{
	const char *p = s, *end = s + off;
	size_t start = 0;

	*line = 1;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		(*line)++;
		start = (size_t)(++p - s);
	}
	*column = (unsigned)(off - start) + 1;
}

void migration_locate(dbmigrate_error *err, const struct migration *mig,
		      const struct migration_body *b, size_t off)
{
	bool down_file = mig->down_path != NULL && b->path == mig->down_path;
	const char *text = down_file ? mig->down_text : mig->text;
	size_t len = down_file ? mig->down_text_len : mig->text_len;
	size_t start = 0, end;
	unsigned line = b->line, column;

	if (off > b->len)
		off = b->len;
	if (b->verbatim && text != NULL) {
		errors_location_at(err, b->path, text, len, b->offset + off);
		return;
	}
	for (size_t i = 0; i < off; i++) {
		if (b->sql[i] == '\n') {
			line++;
			start = i + 1;
		}
	}
	column = start == 0 ? b->column : 1;
	for (size_t i = start; i < off; i++)
		if (((unsigned char)b->sql[i] & 0xC0) != 0x80)
			column++;
	for (end = off; end < b->len && b->sql[end] != '\n'; end++)
		;
	errors_location(err, b->path, line, column, b->sql + start, end - start);
}
