/*
 * fsutil.h - reading files and checking text: the file-system helpers
 * every parser shares.
 */
#ifndef DBMIGRATE_FSUTIL_H
#define DBMIGRATE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "dbmigrate.h"

/*
 * Read a whole regular file into *text (NUL-terminated, *len bytes).
 * Refuses a directory, a device, a FIFO; errors name the path.
 */
dbmigrate_code fsutil_read_file(const char *path, char **text, size_t *len,
				dbmigrate_error *err);

/*
 * Check that text is valid UTF-8 without NUL bytes. On failure returns
 * false and sets *bad to the offset of the first bad byte and *why to a
 * static description ("a NUL byte (binary file?)", "invalid UTF-8").
 */
bool fsutil_check_text(const char *text, size_t len, size_t *bad,
		       const char **why);

/* Join a directory and a file name with one '/'; NULL on no memory. */
char *fsutil_join(const char *dir, const char *name);

/*
 * Write a new file that must not exist yet (O_EXCL), with mode 0666
 * less umask; fails with DBMIGRATE_EIO naming path when it exists.
 */
dbmigrate_code fsutil_write_new(const char *path, const char *text,
				size_t len, dbmigrate_error *err);

#endif
