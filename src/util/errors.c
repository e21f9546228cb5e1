/*
 * errors.c - filling a dbmigrate_error. Strings are owned by the error
 * (the public struct shows them as const). An allocation failure while
 * formatting leaves the static "out of memory" message, which errors.c
 * recognises by address and never frees.
 */
#include "errors.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static const char nomem_message[] = "out of memory";

/* Free one owned string of an error. */
static void errors_free_str(const char **p)
{
	if (*p != NULL && *p != nomem_message)
		free((void *)(uintptr_t)*p);
	*p = NULL;
}

/* Copy n bytes of s as a NUL-terminated string, or NULL. */
static char *errors_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void errors_clear(dbmigrate_error *e)
{
	errors_free_str(&e->message);
	errors_free_str(&e->detail);
	errors_free_str(&e->hint);
	errors_free_str(&e->sqlstate);
	errors_free_str(&e->backend_code);
	errors_free_str(&e->migration);
	errors_free_str(&e->file);
	errors_free_str(&e->source_line);
	memset(e, 0, sizeof *e);
	e->code = DBMIGRATE_OK;
}

/* Replace e with code and an already formatted message (taken). */
static dbmigrate_code errors_take(dbmigrate_error *e, dbmigrate_code code,
				  char *msg)
{
	errors_clear(e);
	e->code = code;
	e->message = msg != NULL ? msg : nomem_message;
	return code;
}

dbmigrate_code errors_set(dbmigrate_error *e, dbmigrate_code code,
			  const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = str_vformat(fmt, ap);
	va_end(ap);
	return errors_take(e, code, msg);
}

const char *errors_strerror(int errnum, char *buf, size_t n)
{
	/* The XSI strerror_r (_DEFAULT_SOURCE, not _GNU_SOURCE). */
	if (strerror_r(errnum, buf, n) != 0)
		snprintf(buf, n, "error %d", errnum);
	return buf;
}

dbmigrate_code errors_set_errno(dbmigrate_error *e, dbmigrate_code code,
				int errnum, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full = NULL, buf[256];

	va_start(ap, fmt);
	msg = str_vformat(fmt, ap);
	va_end(ap);
	if (msg != NULL) {
		const char *why = errors_strerror(errnum, buf, sizeof buf);
		size_t n = strlen(msg) + strlen(why) + 3;

		full = malloc(n);
		if (full != NULL)
			snprintf(full, n, "%s: %s", msg, why);
		free(msg);
	}
	return errors_take(e, code, full);
}

dbmigrate_code errors_nomem(dbmigrate_error *e)
{
	errors_clear(e);
	e->code = DBMIGRATE_ENOMEM;
	e->message = nomem_message;
	return DBMIGRATE_ENOMEM;
}

void errors_detail(dbmigrate_error *e, const char *fmt, ...)
{
	va_list ap;

	errors_free_str(&e->detail);
	va_start(ap, fmt);
	e->detail = str_vformat(fmt, ap);
	va_end(ap);
}

void errors_hint(dbmigrate_error *e, const char *fmt, ...)
{
	va_list ap;

	errors_free_str(&e->hint);
	va_start(ap, fmt);
	e->hint = str_vformat(fmt, ap);
	va_end(ap);
}

void errors_sqlstate(dbmigrate_error *e, const char *sqlstate)
{
	errors_free_str(&e->sqlstate);
	if (sqlstate != NULL)
		e->sqlstate = errors_strndup(sqlstate, strlen(sqlstate));
}

void errors_backend_code(dbmigrate_error *e, const char *code)
{
	errors_free_str(&e->backend_code);
	if (code != NULL)
		e->backend_code = errors_strndup(code, strlen(code));
}

void errors_migration(dbmigrate_error *e, const char *label)
{
	errors_free_str(&e->migration);
	if (label != NULL)
		e->migration = errors_strndup(label, strlen(label));
}

void errors_location(dbmigrate_error *e, const char *file, unsigned line,
		     unsigned column, const char *src, size_t srclen)
{
	errors_free_str(&e->file);
	errors_free_str(&e->source_line);
	if (file != NULL)
		e->file = errors_strndup(file, strlen(file));
	e->line = line;
	e->column = column;
	if (src != NULL) {
		if (srclen > 0 && src[srclen - 1] == '\r')
			srclen--;
		e->source_line = errors_strndup(src, srclen);
	}
}

void errors_location_at(dbmigrate_error *e, const char *file,
			const char *text, size_t len, size_t offset)
{
	unsigned line = 1, column = 1;
	size_t start = 0, end;

	if (text == NULL) {
		errors_location(e, file, 0, 0, NULL, 0);
		return;
	}
	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			line++;
			start = i + 1;
		}
	}
	/* Columns count characters: skip UTF-8 continuation bytes. */
	for (size_t i = start; i < offset; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			column++;
	for (end = start; end < len && text[end] != '\n'; end++)
		;
	errors_location(e, file, line, column, text + start, end - start);
}

void errors_move(dbmigrate_error *dst, dbmigrate_error *src)
{
	if (dst == src)
		return;
	errors_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
	src->code = DBMIGRATE_OK;
}
