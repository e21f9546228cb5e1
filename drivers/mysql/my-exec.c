/*
 * my-exec.c - running one statement on the server and reporting what
 * it said: its results are read and dropped, its notes and warnings
 * forwarded to the host ("Note: ...", "Warning: ..."), its error
 * reported with the server's number (backend_code), SQLSTATE and the
 * position a syntax error points at. Also the driver's growing strings.
 */
#include "my.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/drvkit.h"

/* Server errors that mean a statement was stopped by KILL QUERY, by a
   lost connection or by max_statement_time. */
#define MY_ER_QUERY_INTERRUPTED 1317
#define MY_ER_CONNECTION_KILLED 1927
#define MY_ER_STATEMENT_TIMEOUT 1969 /* MariaDB max_statement_time */
#define MY_ER_QUERY_TIMEOUT 3024     /* MySQL max_execution_time */
#define MY_CR_SERVER_LOST 2013
#define MY_CR_SERVER_GONE 2006

/* Forward the server's notes and warnings of the last statement. */
static void my_exec_warnings(dbmigrate_conn *c)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (mysql_warning_count(c->my) == 0)
		return;
	if (mysql_real_query(c->my, "SHOW WARNINGS", 13) != 0 ||
	    (res = mysql_store_result(c->my)) == NULL)
		return;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[2] == NULL)
			continue;
		my_exec_log(c, DBMIGRATE_LOG_NOTICE, "%s: %s (code %s)", row[0],
			    row[2], row[1] != NULL ? row[1] : "?");
	}
	mysql_free_result(res);
}

/* Read and drop every result of the statement just sent; 0 or -1. */
static int my_exec_drain(dbmigrate_conn *c)
{
	for (;;) {
		MYSQL_RES *res = mysql_use_result(c->my);
		int more;

		if (res != NULL) {
			while (mysql_fetch_row(res) != NULL)
				;
			mysql_free_result(res);
			if (mysql_errno(c->my) != 0)
				return -1;
		} else if (mysql_field_count(c->my) != 0) {
			return -1;
		}
		more = mysql_next_result(c->my);
		if (more > 0)
			return -1;
		if (more < 0)
			return 0;
	}
}

/* Run one statement; see my.h. */
int my_exec(dbmigrate_conn *c, const char *sql, size_t len)
{
	if (mysql_real_query(c->my, sql, (unsigned long)len) != 0 ||
	    my_exec_drain(c) != 0)
		return -1;
	my_exec_warnings(c);
	return 0;
}

/* my_exec() of a string. */
int my_exec_str(dbmigrate_conn *c, const char *sql)
{
	return my_exec(c, sql, strlen(sql));
}

/* Run a query and keep its first result; see my.h. */
MYSQL_RES *my_exec_query(dbmigrate_conn *c, const char *sql, int *ok)
{
	MYSQL_RES *res;

	*ok = 0;
	if (mysql_real_query(c->my, sql, (unsigned long)strlen(sql)) != 0)
		return NULL;
	res = mysql_store_result(c->my);
	if (res == NULL && mysql_field_count(c->my) != 0)
		return NULL;
	/* a CALL's status result, or more: drop the rest */
	while (mysql_more_results(c->my)) {
		MYSQL_RES *more;

		if (mysql_next_result(c->my) > 0) {
			mysql_free_result(res);
			return NULL;
		}
		if ((more = mysql_store_result(c->my)) != NULL)
			mysql_free_result(more);
	}
	*ok = 1;
	return res;
}

/* Characters (not bytes) in s[0, n). */
static unsigned my_exec_chars(const char *s, size_t n)
{
	unsigned k = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k++;
	return k;
}

/* The position a syntax error points at; see my.h. */
unsigned my_exec_position(const char *msg, const char *stmt, size_t len)
{
	const char *near = strstr(msg, "near '");
	const char *at, *p;
	size_t off = 0, snip;
	long line;

	if (near == NULL || stmt == NULL)
		return 0;
	near += 6;
	/* The snippet may hold "' at line": take the last one. */
	at = NULL;
	for (p = strstr(near, "' at line "); p != NULL;
	     p = strstr(p + 1, "' at line "))
		at = p;
	if (at == NULL)
		return 0;
	line = strtol(at + 10, NULL, 10);
	for (long l = 1; l < line && off < len; off++)
		if (stmt[off] == '\n')
			l++;
	snip = (size_t)(at - near);
	if (snip == 0)
		return my_exec_chars(stmt, len) + 1;
	/* The server cuts the snippet at 80 characters: look for a prefix
	   short enough not to be cut. */
	if (snip > 40)
		snip = 40;
	for (size_t i = off; i + snip <= len; i++)
		if (memcmp(stmt + i, near, snip) == 0)
			return my_exec_chars(stmt, i) + 1;
	return my_exec_chars(stmt, off) + 1;
}

/* Report the last statement's failure; see my.h. */
dbmigrate_code my_exec_fail(dbmigrate_conn *c, dbmigrate_code code,
			    size_t statement, const char *stmt, size_t len,
			    const char *what)
{
	unsigned err = mysql_errno(c->my);
	const char *msg = mysql_error(c->my);
	const char *state = mysql_sqlstate(c->my);
	char number[16], text[1024];
	const char *hint = NULL;
	struct dbmigrate_driver_error e = {.code = code, .statement = statement};

	snprintf(number, sizeof number, "%u", err);
	if (c->host->interrupted(c->host->ctx) &&
	    (err == MY_ER_QUERY_INTERRUPTED || err == MY_ER_CONNECTION_KILLED ||
	     err == MY_CR_SERVER_LOST || err == MY_CR_SERVER_GONE)) {
		e.code = DBMIGRATE_EINTERRUPTED;
		e.detail = "The statement was stopped on the server (KILL QUERY).";
	}
	if (err == MY_ER_STATEMENT_TIMEOUT || err == MY_ER_QUERY_TIMEOUT)
		hint = "The statement ran longer than its statement timeout "
		       "(--statement-timeout, -- dbmigrate:statement-timeout).";
	else if (err == 1205)
		hint = "The statement waited longer than its lock timeout for "
		       "a lock another session holds (--lock-timeout, -- "
		       "dbmigrate:lock-timeout; MySQL's lock_wait_timeout and "
		       "innodb_lock_wait_timeout).";
	else if (err == 1045)
		hint = "Check the user and password given in the URL, or in "
		       "~/.my.cnf ([client] password=) when the URL has none.";
	else if (err == MY_CR_SERVER_LOST || err == MY_CR_SERVER_GONE)
		hint = "The connection to the server broke; what the statement "
		       "did is unknown until you look.";
	if (what != NULL)
		snprintf(text, sizeof text, "%s: %s", what, msg);
	else
		snprintf(text, sizeof text, "%s", msg);
	e.message = text;
	e.hint = hint;
	if (state != NULL && strlen(state) == 5 && strcmp(state, "00000") != 0)
		e.sqlstate = state;
	e.backend_code = err != 0 ? number : NULL;
	if (err == 1064 || err == 1149)
		e.position = my_exec_position(msg, stmt, len);
	c->host->error(c->host->ctx, &e);
	return e.code;
}

/* Append a formatted string. */
void my_text_printf(struct drvkit_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || drvkit_text_room(t, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* Append a string literal, or NULL. */
void my_text_literal(dbmigrate_conn *c, struct drvkit_text *t, const char *s)
{
	size_t n;

	if (s == NULL) {
		drvkit_text_puts(t, "NULL");
		return;
	}
	n = strlen(s);
	if (drvkit_text_room(t, 2 * n + 2) != 0)
		return;
	t->s[t->len++] = '\'';
	t->len += mysql_real_escape_string(c->my, t->s + t->len, s,
					   (unsigned long)n);
	t->s[t->len++] = '\'';
	t->s[t->len] = '\0';
}

/* Append `name`, doubling backticks. */
void my_text_ident(struct drvkit_text *t, const char *s)
{
	drvkit_text_add(t, "`", 1);
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '`')
			drvkit_text_add(t, "`", 1);
		drvkit_text_add(t, p, 1);
	}
	drvkit_text_add(t, "`", 1);
}
