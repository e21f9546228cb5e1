/*
 * errors.h - filling a dbmigrate_error: the one way the core reports a
 * failure. Every setter copies its strings; the error owns them. When
 * memory runs out while formatting, the message degrades to a static
 * "out of memory" rather than being lost.
 */
#ifndef DBMIGRATE_ERRORS_H
#define DBMIGRATE_ERRORS_H

#include <stddef.h>

#include "dbmigrate.h"

#define ERRORS_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Free every string of e and reset it to DBMIGRATE_OK. */
void errors_clear(dbmigrate_error *e);

/* Replace e with a new error; returns code, so `return errors_set(...)`. */
dbmigrate_code errors_set(dbmigrate_error *e, dbmigrate_code code,
			  const char *fmt, ...) ERRORS_PRINTF(3, 4);

/* strerror(errnum) into buf (n bytes), safe beside other threads
   (strerror() need not be): returns buf. */
const char *errors_strerror(int errnum, char *buf, size_t n);

/* Like errors_set, with ": strerror(errnum)" appended to the message. */
dbmigrate_code errors_set_errno(dbmigrate_error *e, dbmigrate_code code,
				int errnum, const char *fmt, ...)
	ERRORS_PRINTF(4, 5);

/* Out of memory; returns DBMIGRATE_ENOMEM. Allocates nothing. */
dbmigrate_code errors_nomem(dbmigrate_error *e);

/* Set (replace) the detail or the hint: full sentences. */
void errors_detail(dbmigrate_error *e, const char *fmt, ...) ERRORS_PRINTF(2, 3);
void errors_hint(dbmigrate_error *e, const char *fmt, ...) ERRORS_PRINTF(2, 3);

/* Set the SQLSTATE (NULL clears it). */
void errors_sqlstate(dbmigrate_error *e, const char *sqlstate);

/* Set the backend's own code for the error (NULL clears it). */
void errors_backend_code(dbmigrate_error *e, const char *code);

/* Set the migration label, e.g. "001_create_users_table". */
void errors_migration(dbmigrate_error *e, const char *label);

/*
 * Set the location: file, 1-based line and column, and the text of that
 * line (src of srclen bytes, up to but excluding the newline; NULL none).
 */
void errors_location(dbmigrate_error *e, const char *file, unsigned line,
		     unsigned column, const char *src, size_t srclen);

/*
 * Set the location from a byte offset into a file's text: computes line,
 * column (in characters) and the source line. Offsets past the end are
 * clamped.
 */
void errors_location_at(dbmigrate_error *e, const char *file,
			const char *text, size_t len, size_t offset);

/* Move src into dst (dst is cleared first, src left empty). */
void errors_move(dbmigrate_error *dst, dbmigrate_error *src);

#endif
