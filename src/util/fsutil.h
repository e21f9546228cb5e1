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
 * The largest file fsutil_read_file reads: 64 MiB. Every migration is
 * read whole and checked before anything runs, and a file of hundreds of
 * MB sent as SQL text is a mistake better caught here (split it, or load
 * the data with COPY) than by the server's 1 GB message limit halfway
 * through a batch. A 200,000-row data migration is about 15 MB.
 */
#define FSUTIL_MAX_FILE (64ULL * 1024 * 1024)

/*
 * Read a whole regular file into *text (NUL-terminated, *len bytes).
 * Refuses a directory, a device, a FIFO and a file larger than
 * FSUTIL_MAX_FILE; errors (DBMIGRATE_EFILES) name the path.
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
