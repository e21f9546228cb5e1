/*
 * mock-report.c - the bottom of the mock driver: errors and log messages
 * to the host. Every other file of the driver reports through these;
 * they call nothing of the driver's but the connection's host.
 */
#include "mock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/drvkit.h"

/* Report an error through the host; returns its code. */
static dbmigrate_code mock_vreport(dbmigrate_conn *c, dbmigrate_code code,
				   const char *sqlstate, const char *detail,
				   const char *hint, const char *fmt,
				   va_list ap)
	__attribute__((format(printf, 6, 0)));

static dbmigrate_code mock_vreport(dbmigrate_conn *c, dbmigrate_code code,
				   const char *sqlstate, const char *detail,
				   const char *hint, const char *fmt,
				   va_list ap)
{
	struct dbmigrate_driver_error e;
	char message[2048];

	vsnprintf(message, sizeof message, fmt, ap);
	memset(&e, 0, sizeof e);
	e.code = code;
	e.message = message;
	e.detail = detail;
	e.hint = hint;
	e.sqlstate = sqlstate;
	e.position = 0; /* the mock never knows where in a statement */
	e.statement = c->stmt;
	if (c->holding) {
		/* Only the last error counts: a retry may succeed. */
		c->held.set = 1;
		c->held.code = code;
		snprintf(c->held.sqlstate, sizeof c->held.sqlstate, "%s",
			 sqlstate != NULL ? sqlstate : "");
		snprintf(c->held.message, sizeof c->held.message, "%s",
			 message);
		snprintf(c->held.detail, sizeof c->held.detail, "%s",
			 detail != NULL ? detail : "");
		snprintf(c->held.hint, sizeof c->held.hint, "%s",
			 hint != NULL ? hint : "");
		c->held.statement = c->stmt;
		return code;
	}
	c->host->error(c->host->ctx, &e);
	return code;
}

/* Report the error apply() held back, if any, and stop holding. */
void mock_release_held(dbmigrate_conn *c)
{
	struct dbmigrate_driver_error e;

	c->holding = 0;
	if (!c->held.set)
		return;
	c->held.set = 0;
	memset(&e, 0, sizeof e);
	e.code = c->held.code;
	e.message = c->held.message;
	e.detail = c->held.detail[0] != '\0' ? c->held.detail : NULL;
	e.hint = c->held.hint[0] != '\0' ? c->held.hint : NULL;
	e.sqlstate = c->held.sqlstate[0] != '\0' ? c->held.sqlstate : NULL;
	e.statement = c->held.statement;
	c->host->error(c->host->ctx, &e);
}

/* Report an error of the driver itself (no SQLSTATE). */
dbmigrate_code mock_report(dbmigrate_conn *c, dbmigrate_code code,
			   const char *detail, const char *hint,
			   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = mock_vreport(c, code, NULL, detail, hint, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * The hint a driver gives for the limits' errors, as the postgres
 * driver words it (hint is the buffer), or NULL.
 */
static const char *mock_hint(const dbmigrate_conn *c, const char *sqlstate,
			     char *hint, size_t size)
{
	if (strcmp(sqlstate, "57014") == 0 && c->limits.statement_timeout > 0) {
		snprintf(hint, size,
			 "The statement ran longer than the statement timeout "
			 "of %g s set for this migration.",
			 c->limits.statement_timeout);
		return hint;
	}
	if (strcmp(sqlstate, "55P03") == 0) {
		unsigned tries = c->limits.lock_retries + 1;

		snprintf(hint, size,
			 "Another session held a lock this migration needed "
			 "for longer than the lock timeout, %u time%s in a row.",
			 tries, tries == 1 ? "" : "s");
		return hint;
	}
	return NULL;
}

/* Report an error of the emulated server, with its SQLSTATE. */
dbmigrate_code mock_server_error(dbmigrate_conn *c, const char *sqlstate,
				 const char *detail, const char *fmt, ...)
{
	va_list ap;
	dbmigrate_code code;
	char buf[256];
	const char *hint = mock_hint(c, sqlstate, buf, sizeof buf);

	va_start(ap, fmt);
	code = mock_vreport(c, c->sql_code, sqlstate, detail, hint, fmt, ap);
	va_end(ap);
	return code;
}

/* Report a statement cancelled by an interrupt, as PostgreSQL words it. */
dbmigrate_code mock_cancelled(dbmigrate_conn *c)
{
	struct dbmigrate_driver_error e;

	memset(&e, 0, sizeof e);
	e.code = DBMIGRATE_EINTERRUPTED;
	e.message = "canceling statement due to user request";
	e.sqlstate = "57014";
	e.statement = c->stmt;
	c->host->error(c->host->ctx, &e);
	return e.code;
}

/* Report that memory ran out. */
dbmigrate_code mock_nomem(dbmigrate_conn *c)
{
	return mock_report(c, DBMIGRATE_ENOMEM, NULL, NULL, "out of memory");
}
