/*
 * checksum.h - the checksum recorded for each applied migration: SHA-256
 * (libcrypto) of the file's content with CRLF line endings normalised to
 * LF, as 64 lowercase hex digits. The algorithm is frozen: changing it
 * would flag every applied migration as modified.
 */
#ifndef DBMIGRATE_CHECKSUM_H
#define DBMIGRATE_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Checksum of a (alen bytes) followed by b (blen bytes; b may be NULL),
 * each normalised separately. For a .up.sql/.down.sql pair, a is the up
 * file and b the down file. Returns false when libcrypto fails.
 */
bool checksum_compute(const char *a, size_t alen, const char *b, size_t blen,
		      char out[65]);

#endif
