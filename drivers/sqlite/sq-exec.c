/*
 * sq-exec.c - running statements on SQLite and reporting what went
 * wrong: SQLite's message, the name of its extended result code
 * ("SQLITE_CONSTRAINT_FOREIGNKEY") as the error's backend code, and the
 * character position sqlite3_error_offset() points at, which the core
 * maps to file:line:column. A PRAGMA foreign_key_check (or
 * integrity_check, quick_check) that finds a problem fails, so that a
 * table rebuild that broke a foreign key rolls back instead of
 * committing it.
 */
#include "sq.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/drvkit.h"

/* Rows of a failed check quoted in the error's detail. */
#define SQ_CHECK_SHOWN 5

#define SQ_CODE(x) { x, #x }

/* Every result code of SQLite 3.38 and later, primary and extended. */
static const struct {
	int code;
	const char *name;
} sq_codes[] = {
	SQ_CODE(SQLITE_ERROR),
	SQ_CODE(SQLITE_INTERNAL),
	SQ_CODE(SQLITE_PERM),
	SQ_CODE(SQLITE_ABORT),
	SQ_CODE(SQLITE_BUSY),
	SQ_CODE(SQLITE_LOCKED),
	SQ_CODE(SQLITE_NOMEM),
	SQ_CODE(SQLITE_READONLY),
	SQ_CODE(SQLITE_INTERRUPT),
	SQ_CODE(SQLITE_IOERR),
	SQ_CODE(SQLITE_CORRUPT),
	SQ_CODE(SQLITE_NOTFOUND),
	SQ_CODE(SQLITE_FULL),
	SQ_CODE(SQLITE_CANTOPEN),
	SQ_CODE(SQLITE_PROTOCOL),
	SQ_CODE(SQLITE_EMPTY),
	SQ_CODE(SQLITE_SCHEMA),
	SQ_CODE(SQLITE_TOOBIG),
	SQ_CODE(SQLITE_CONSTRAINT),
	SQ_CODE(SQLITE_MISMATCH),
	SQ_CODE(SQLITE_MISUSE),
	SQ_CODE(SQLITE_NOLFS),
	SQ_CODE(SQLITE_AUTH),
	SQ_CODE(SQLITE_FORMAT),
	SQ_CODE(SQLITE_RANGE),
	SQ_CODE(SQLITE_NOTADB),
	SQ_CODE(SQLITE_NOTICE),
	SQ_CODE(SQLITE_WARNING),
	SQ_CODE(SQLITE_ROW),
	SQ_CODE(SQLITE_DONE),
	SQ_CODE(SQLITE_ERROR_MISSING_COLLSEQ),
	SQ_CODE(SQLITE_ERROR_RETRY),
	SQ_CODE(SQLITE_ERROR_SNAPSHOT),
	SQ_CODE(SQLITE_IOERR_READ),
	SQ_CODE(SQLITE_IOERR_SHORT_READ),
	SQ_CODE(SQLITE_IOERR_WRITE),
	SQ_CODE(SQLITE_IOERR_FSYNC),
	SQ_CODE(SQLITE_IOERR_DIR_FSYNC),
	SQ_CODE(SQLITE_IOERR_TRUNCATE),
	SQ_CODE(SQLITE_IOERR_FSTAT),
	SQ_CODE(SQLITE_IOERR_UNLOCK),
	SQ_CODE(SQLITE_IOERR_RDLOCK),
	SQ_CODE(SQLITE_IOERR_DELETE),
	SQ_CODE(SQLITE_IOERR_BLOCKED),
	SQ_CODE(SQLITE_IOERR_NOMEM),
	SQ_CODE(SQLITE_IOERR_ACCESS),
	SQ_CODE(SQLITE_IOERR_CHECKRESERVEDLOCK),
	SQ_CODE(SQLITE_IOERR_LOCK),
	SQ_CODE(SQLITE_IOERR_CLOSE),
	SQ_CODE(SQLITE_IOERR_DIR_CLOSE),
	SQ_CODE(SQLITE_IOERR_SHMOPEN),
	SQ_CODE(SQLITE_IOERR_SHMSIZE),
	SQ_CODE(SQLITE_IOERR_SHMLOCK),
	SQ_CODE(SQLITE_IOERR_SHMMAP),
	SQ_CODE(SQLITE_IOERR_SEEK),
	SQ_CODE(SQLITE_IOERR_DELETE_NOENT),
	SQ_CODE(SQLITE_IOERR_MMAP),
	SQ_CODE(SQLITE_IOERR_GETTEMPPATH),
	SQ_CODE(SQLITE_IOERR_CONVPATH),
	SQ_CODE(SQLITE_IOERR_VNODE),
	SQ_CODE(SQLITE_IOERR_AUTH),
	SQ_CODE(SQLITE_IOERR_BEGIN_ATOMIC),
	SQ_CODE(SQLITE_IOERR_COMMIT_ATOMIC),
	SQ_CODE(SQLITE_IOERR_ROLLBACK_ATOMIC),
	SQ_CODE(SQLITE_IOERR_DATA),
	SQ_CODE(SQLITE_IOERR_CORRUPTFS),
	SQ_CODE(SQLITE_LOCKED_SHAREDCACHE),
	SQ_CODE(SQLITE_LOCKED_VTAB),
	SQ_CODE(SQLITE_BUSY_RECOVERY),
	SQ_CODE(SQLITE_BUSY_SNAPSHOT),
	SQ_CODE(SQLITE_BUSY_TIMEOUT),
	SQ_CODE(SQLITE_CANTOPEN_NOTEMPDIR),
	SQ_CODE(SQLITE_CANTOPEN_ISDIR),
	SQ_CODE(SQLITE_CANTOPEN_FULLPATH),
	SQ_CODE(SQLITE_CANTOPEN_CONVPATH),
	SQ_CODE(SQLITE_CANTOPEN_DIRTYWAL),
	SQ_CODE(SQLITE_CANTOPEN_SYMLINK),
	SQ_CODE(SQLITE_CORRUPT_VTAB),
	SQ_CODE(SQLITE_CORRUPT_SEQUENCE),
	SQ_CODE(SQLITE_CORRUPT_INDEX),
	SQ_CODE(SQLITE_READONLY_RECOVERY),
	SQ_CODE(SQLITE_READONLY_CANTLOCK),
	SQ_CODE(SQLITE_READONLY_ROLLBACK),
	SQ_CODE(SQLITE_READONLY_DBMOVED),
	SQ_CODE(SQLITE_READONLY_CANTINIT),
	SQ_CODE(SQLITE_READONLY_DIRECTORY),
	SQ_CODE(SQLITE_ABORT_ROLLBACK),
	SQ_CODE(SQLITE_CONSTRAINT_CHECK),
	SQ_CODE(SQLITE_CONSTRAINT_COMMITHOOK),
	SQ_CODE(SQLITE_CONSTRAINT_FOREIGNKEY),
	SQ_CODE(SQLITE_CONSTRAINT_FUNCTION),
	SQ_CODE(SQLITE_CONSTRAINT_NOTNULL),
	SQ_CODE(SQLITE_CONSTRAINT_PRIMARYKEY),
	SQ_CODE(SQLITE_CONSTRAINT_TRIGGER),
	SQ_CODE(SQLITE_CONSTRAINT_UNIQUE),
	SQ_CODE(SQLITE_CONSTRAINT_VTAB),
	SQ_CODE(SQLITE_CONSTRAINT_ROWID),
	SQ_CODE(SQLITE_CONSTRAINT_PINNED),
	SQ_CODE(SQLITE_CONSTRAINT_DATATYPE),
	SQ_CODE(SQLITE_NOTICE_RECOVER_WAL),
	SQ_CODE(SQLITE_NOTICE_RECOVER_ROLLBACK),
	SQ_CODE(SQLITE_WARNING_AUTOINDEX),
	SQ_CODE(SQLITE_AUTH_USER),
};

/* The name of a result code; see sq.h. NULL when unknown. */
const char *sq_code_name(int code)
{
	for (size_t i = 0; i < sizeof sq_codes / sizeof sq_codes[0]; i++)
		if (sq_codes[i].code == code)
			return sq_codes[i].name;
	for (size_t i = 0; i < sizeof sq_codes / sizeof sq_codes[0]; i++)
		if (sq_codes[i].code == (code & 0xff))
			return sq_codes[i].name;
	return NULL;
}

/* Report e through host. */
static dbmigrate_code sq_report(const struct dbmigrate_host *host,
				struct dbmigrate_driver_error *e)
{
	host->error(host->ctx, e);
	return e->code;
}

/* The 1-based character position of byte offset off in sql (UTF-8). */
static unsigned sq_exec_position(const char *sql, size_t off)
{
	unsigned chars = 0;

	for (size_t i = 0; i < off; i++)
		if (((unsigned char)sql[i] & 0xc0) != 0x80)
			chars++;
	return chars + 1;
}

/* The hint for a failure with extended result code ext, or NULL. */
static const char *sq_exec_hint(int ext)
{
	switch (ext & 0xff) {
	case SQLITE_BUSY:
		return "Another connection (the application, a sqlite3 "
		       "shell, a backup) held a lock on the database for "
		       "longer than dbmigrate waits. Wait longer with "
		       "--sql-lock-timeout (or -- dbmigrate:lock-timeout in "
		       "the migration), or end the other connection's "
		       "transaction.";
	case SQLITE_READONLY:
		return "The database file, or its directory (SQLite writes "
		       "its journal beside it), is not writable by this "
		       "user.";
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return "Check the file with `sqlite3 FILE 'PRAGMA "
		       "integrity_check'` and restore it from a backup.";
	default:
		break;
	}
	if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
		return "Foreign keys are enforced on dbmigrate's connection "
		       "(PRAGMA foreign_keys=ON). `PRAGMA foreign_key_check` "
		       "lists the rows whose parent is missing.";
	return NULL;
}

/* Words of a statement searched for a name SQLite's message quotes. */
#define SQ_NAME_WORDS 512

/*
 * Where the name an error message quotes first appears in sql, as a
 * word (quoted or not, any case), for the messages SQLite 3.40 gives
 * no offset for ("no such table: x", "table x already exists"); -1 when
 * it does not.
 */
static int sq_exec_name_offset(dbmigrate_conn *c, const char *sql,
			       const char *msg)
{
	static const char *const prefixes[] = { "no such table: ",
						"no such index: ",
						"no such view: ",
						"no such trigger: " };
	static const char *const kinds[] = { "table ", "index ", "view ",
					     "trigger " };
	struct dbmigrate_word w[SQ_NAME_WORDS];
	const char *name = NULL, *dot;
	size_t len = 0, n;

	for (size_t i = 0; name == NULL && i < 4; i++) {
		size_t pl = strlen(prefixes[i]), kl = strlen(kinds[i]);
		const char *tail;

		if (strncmp(msg, prefixes[i], pl) == 0) {
			name = msg + pl;
			len = strlen(name);
		} else if (strncmp(msg, kinds[i], kl) == 0 &&
			   (tail = strstr(msg + kl, " already exists")) != NULL &&
			   tail[15] == '\0') {
			name = msg + kl;
			len = (size_t)(tail - name);
		}
	}
	if (name == NULL || len == 0)
		return -1;
	if ((dot = memchr(name, '.', len)) != NULL) {
		len -= (size_t)(dot + 1 - name);
		name = dot + 1;
	}
	n = c->host->words(SQ_LEX, sql, strlen(sql), w, SQ_NAME_WORDS);
	for (size_t i = 0; i < n; i++) {
		const char *s = w[i].s;
		size_t l = w[i].len;

		if (l >= 2 && (s[0] == '"' || s[0] == '`' || s[0] == '[')) {
			s++;
			l -= 2;
		}
		if (l == len && strncasecmp(s, name, len) == 0)
			return (int)(w[i].s - sql);
	}
	return -1;
}

/* Report what SQLite said of the last call, whose SQL text began skip
   bytes into sql; see sq_fail(). */
static dbmigrate_code sq_fail_at(dbmigrate_conn *c, dbmigrate_code code,
				 int rc, const char *sql, size_t skip,
				 size_t statement, const char *what)
{
	int ext = c->db != NULL ? sqlite3_extended_errcode(c->db) : rc;
	const char *msg = c->db != NULL ? sqlite3_errmsg(c->db)
					: sqlite3_errstr(rc);
	char buf[1200], hint[256];
	struct dbmigrate_driver_error e = { .code = code, .message = buf,
					    .statement = statement };
	int off = c->db != NULL ? sqlite3_error_offset(c->db) : -1;

	if ((ext & 0xff) != (rc & 0xff))
		ext = rc;
	e.backend_code = sq_code_name(ext);
	e.hint = sq_exec_hint(ext);
	if ((rc & 0xff) == SQLITE_INTERRUPT && c->timed_out) {
		e.code = DBMIGRATE_EMIGRATION;
		snprintf(hint, sizeof hint,
			 "Allow more time with --statement-timeout, or -- "
			 "dbmigrate:statement-timeout in the migration "
			 "(now %g s).",
			 c->limits.statement_timeout);
		e.hint = hint;
		msg = "statement timeout: the statement was stopped";
	} else if ((rc & 0xff) == SQLITE_INTERRUPT) {
		e.code = DBMIGRATE_EINTERRUPTED;
		msg = "interrupted";
	} else if ((rc & 0xff) == SQLITE_BUSY &&
		   c->host->interrupted(c->host->ctx)) {
		/* The busy handler gave up the wait for the user. */
		e.code = DBMIGRATE_EINTERRUPTED;
		e.hint = NULL;
		msg = "interrupted while waiting for another connection's lock";
	}
	if (sql != NULL && off < 0)
		off = sq_exec_name_offset(c, sql + skip, msg);
	if (sql != NULL && off >= 0 && skip + (size_t)off < strlen(sql))
		e.position = sq_exec_position(sql, skip + (size_t)off);
	if (what != NULL)
		snprintf(buf, sizeof buf, "%s: %s", what, msg);
	else
		snprintf(buf, sizeof buf, "%s", msg);
	return sq_report(c->host, &e);
}

/* Report what SQLite said of the last call; see sq.h. */
dbmigrate_code sq_fail(dbmigrate_conn *c, dbmigrate_code code, int rc,
		       const char *sql, size_t statement, const char *what)
{
	return sq_fail_at(c, code, rc, sql, 0, statement, what);
}

/* The checks whose rows are problems: 1 foreign_key_check (any row), 2
   integrity_check or quick_check (a row other than "ok"), else 0. */
static int sq_exec_check_kind(dbmigrate_conn *c, const char *sql, size_t len)
{
	size_t n;
	int assigns;
	const char *p = sq_classify_pragma(c->host, sql, len, &n, &assigns);

	if (p == NULL)
		return 0;
	if (n == 17 && strncasecmp(p, "foreign_key_check", n) == 0)
		return 1;
	if ((n == 15 && strncasecmp(p, "integrity_check", n) == 0) ||
	    (n == 11 && strncasecmp(p, "quick_check", n) == 0))
		return 2;
	return 0;
}

/* Append one row of a failed check to the detail. */
static void sq_exec_check_row(struct drvkit_text *d, sqlite3_stmt *st, int kind)
{
	char line[512];
	const char *table = (const char *)sqlite3_column_text(st, 0);
	const char *parent = (const char *)sqlite3_column_text(st, 2);

	if (kind == 1 && sqlite3_column_type(st, 1) == SQLITE_NULL)
		snprintf(line, sizeof line,
			 "A row of \"%s\" (WITHOUT ROWID) has no parent in "
			 "\"%s\".",
			 table != NULL ? table : "?",
			 parent != NULL ? parent : "?");
	else if (kind == 1)
		snprintf(line, sizeof line,
			 "Row %lld of \"%s\" has no parent in \"%s\".",
			 (long long)sqlite3_column_int64(st, 1),
			 table != NULL ? table : "?",
			 parent != NULL ? parent : "?");
	else
		snprintf(line, sizeof line, "%s", table != NULL ? table : "?");
	if (d->len > 0)
		drvkit_text_puts(d, " ");
	drvkit_text_puts(d, line);
}

/* Report a check that found n problems. */
static dbmigrate_code sq_exec_check_fail(dbmigrate_conn *c, int kind,
					 size_t n, struct drvkit_text *d,
					 size_t statement)
{
	char msg[160];
	struct dbmigrate_driver_error e = {
		.code = DBMIGRATE_EMIGRATION, .message = msg,
		.statement = statement,
	};

	if (n > SQ_CHECK_SHOWN) {
		char more[64];

		snprintf(more, sizeof more, " (%zu more)", n - SQ_CHECK_SHOWN);
		drvkit_text_puts(d, more);
	}
	if (d->failed)
		return sq_nomem(c);
	e.detail = d->s;
	if (kind == 1) {
		snprintf(msg, sizeof msg,
			 "PRAGMA foreign_key_check found %zu row%s whose parent "
			 "is missing",
			 n, n == 1 ? "" : "s");
		e.backend_code = "SQLITE_CONSTRAINT_FOREIGNKEY";
		e.hint = "Make the migration keep every parent its child "
			 "rows reference (a table rebuild copies every row "
			 "before the old table is dropped), or delete the "
			 "orphans before the check.";
	} else {
		snprintf(msg, sizeof msg,
			 "PRAGMA integrity_check found %zu problem%s", n,
			 n == 1 ? "" : "s");
		e.backend_code = "SQLITE_CORRUPT";
	}
	return sq_report(c->host, &e);
}

/* Step one prepared statement of a migration to the end; see sq_exec(). */
static dbmigrate_code sq_exec_step(dbmigrate_conn *c, sqlite3_stmt *st,
				   int kind, const char *sql, size_t skip,
				   size_t statement)
{
	struct drvkit_text detail = { 0 };
	size_t problems = 0;
	dbmigrate_code rc = DBMIGRATE_OK;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v;

		if (kind == 2 && (v = (const char *)sqlite3_column_text(st, 0)) != NULL &&
		    strcmp(v, "ok") == 0)
			continue;
		if (kind != 0 && problems++ < SQ_CHECK_SHOWN)
			sq_exec_check_row(&detail, st, kind);
	}
	if (r != SQLITE_DONE)
		rc = sq_fail_at(c, DBMIGRATE_EMIGRATION, r, sql, skip,
				statement, NULL);
	else if (problems > 0)
		rc = sq_exec_check_fail(c, kind, problems, &detail, statement);
	free(detail.s);
	return rc;
}

/* Run every statement of sql (sq_exec() with the interrupt watched). */
static dbmigrate_code sq_exec_watched(dbmigrate_conn *c, const char *sql,
				      size_t len, size_t statement)
{
	const char *p = sql, *end = sql + len;

	if (len > INT_MAX)
		return sq_error(c, DBMIGRATE_EMIGRATION, NULL, NULL,
				"statement too long for SQLite (%zu bytes)",
				len);
	while (p < end) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		dbmigrate_code rc;
		int r;

		if (c->host->interrupted(c->host->ctx))
			return sq_error(c, DBMIGRATE_EINTERRUPTED, NULL, NULL,
					"interrupted");
		sq_exec_arm(c);
		r = sqlite3_prepare_v2(c->db, p, (int)(end - p), &st, &tail);
		if (r != SQLITE_OK) {
			sqlite3_finalize(st);
			return sq_fail_at(c, DBMIGRATE_EMIGRATION, r, sql,
					  (size_t)(p - sql), statement, NULL);
		}
		if (st == NULL)
			break; /* only white space and comments were left */
		rc = sq_exec_step(c, st,
				  sq_exec_check_kind(c, p, (size_t)(tail - p)),
				  sql, (size_t)(p - sql), statement);
		sqlite3_finalize(st);
		if (rc != DBMIGRATE_OK)
			return rc;
		p = tail;
	}
	return DBMIGRATE_OK;
}

/* Run every statement of sql; see sq.h. */
dbmigrate_code sq_exec(dbmigrate_conn *c, const char *sql, size_t len,
		       size_t statement)
{
	dbmigrate_code rc;

	c->watch = 1;
	rc = sq_exec_watched(c, sql, len, statement);
	c->watch = 0;
	return rc;
}

/* Run a statement of the driver's own; see sq.h. */
dbmigrate_code sq_exec_own(dbmigrate_conn *c, const char *sql,
			   const char *what)
{
	sqlite3_stmt *st = sq_prepare(c, sql, what);
	dbmigrate_code rc;
	int r;

	if (st == NULL)
		return DBMIGRATE_EDATABASE;
	r = sq_step_all(c, st);
	/* Reported before the statement goes, which holds its message. */
	rc = r != SQLITE_DONE ? sq_fail(c, DBMIGRATE_EDATABASE, r, NULL,
					DBMIGRATE_NO_STATEMENT, what)
			      : DBMIGRATE_OK;
	sqlite3_finalize(st);
	return rc;
}

/* Prepare a statement of the driver's own; see sq.h. */
sqlite3_stmt *sq_prepare(dbmigrate_conn *c, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;
	int r;

	sq_exec_arm(c);
	r = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (r != SQLITE_OK) {
		sq_fail(c, DBMIGRATE_EDATABASE, r, NULL, DBMIGRATE_NO_STATEMENT,
			what);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Step st to the end; see sq.h. */
int sq_step_all(dbmigrate_conn *c, sqlite3_stmt *st)
{
	int r;

	sq_exec_arm(c);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		;
	return r;
}

/* Arm the limits for one statement; see sq.h. */
void sq_exec_arm(dbmigrate_conn *c)
{
	c->deadline = c->limits.statement_timeout > 0
			      ? drvkit_now() + c->limits.statement_timeout
			      : 0;
	c->timed_out = 0;
	c->busy_start = 0;
	c->busy_logged = 0;
}

void sq_text_ident(struct drvkit_text *t, const char *s, size_t len)
{
	drvkit_text_add(t, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			drvkit_text_add(t, "\"", 1);
		drvkit_text_add(t, s + i, 1);
	}
	drvkit_text_add(t, "\"", 1);
}
