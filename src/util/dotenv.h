/*
 * dotenv.h - the ./.env file: KEY=VALUE lines, # comments, blank lines,
 * an optional leading "export ", values optionally in single or double
 * quotes (double quotes take \n \" \\ escapes). Parsed into callbacks;
 * never exported to the process environment.
 */
#ifndef DBMIGRATE_DOTENV_H
#define DBMIGRATE_DOTENV_H

#include <stddef.h>

#include "dbmigrate.h"

/* Called per assignment; key and value are NUL-terminated temporaries.
   A nonzero return stops parsing and is returned by dotenv_parse. */
typedef int (*dotenv_fn)(void *ctx, const char *key, const char *value,
			 unsigned line);

/*
 * Parse text. A line that is not an assignment (no '=', a key that is
 * not [A-Za-z_][A-Za-z0-9_]*, an unterminated quote, a NUL byte) is an
 * error: returns -1 with *bad_line and *why (static) set. -2 means out
 * of memory. 0 on success, or fn's nonzero return.
 */
int dotenv_parse(const char *text, size_t len, dotenv_fn fn, void *ctx,
		 unsigned *bad_line, const char **why);

/*
 * Read and parse the file at path. A missing file is success with no
 * calls. Errors are DBMIGRATE_EUSAGE naming path:line, or EIO.
 */
dbmigrate_code dotenv_load(const char *path, dotenv_fn fn, void *ctx,
			   dbmigrate_error *err);

#endif
