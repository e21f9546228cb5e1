/*
 * checksum.h - the checksum recorded for each applied migration: SHA-256
 * (Nettle) of the file's content with CRLF line endings normalised to
 * LF, as 64 lowercase hex digits. The algorithm is frozen: changing it
 * would flag every applied migration as modified.
 */
#ifndef DBMIGRATE_CHECKSUM_H
#define DBMIGRATE_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A reusable hashing context (Nettle's SHA-256 state): loading many
 * files, take one rather than a context per file.
 */
struct checksum;

/* A new context; NULL when out of memory. */
struct checksum *checksum_new(void);

/* Free a context (NULL is fine). */
void checksum_free(struct checksum *ck);

/*
 * Checksum of a (alen bytes) followed by b (blen bytes; b may be NULL),
 * each normalised separately, with context ck. For a .up.sql/.down.sql
 * pair, a is the up file and b the down file. Returns true (it cannot
 * fail; the bool is kept for callers written for a library that could).
 */
bool checksum_run(struct checksum *ck, const char *a, size_t alen,
		  const char *b, size_t blen, char out[65]);

/* checksum_run() with a context of its own, for a single checksum. */
bool checksum_compute(const char *a, size_t alen, const char *b, size_t blen,
		      char out[65]);

#endif
