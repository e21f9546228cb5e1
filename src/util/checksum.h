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
 * A reusable hashing context. Loading many files, take one: with
 * OpenSSL 3, a digest named at every initialisation is looked up by name
 * in the provider tables each time, which costs more than hashing a
 * small migration; the context fetches SHA-256 once.
 */
struct checksum;

/* A new context; NULL when libcrypto fails (or out of memory). */
struct checksum *checksum_new(void);

/* Free a context (NULL is fine). */
void checksum_free(struct checksum *ck);

/*
 * Checksum of a (alen bytes) followed by b (blen bytes; b may be NULL),
 * each normalised separately, with context ck. For a .up.sql/.down.sql
 * pair, a is the up file and b the down file. Returns false when
 * libcrypto fails.
 */
bool checksum_run(struct checksum *ck, const char *a, size_t alen,
		  const char *b, size_t blen, char out[65]);

/* checksum_run() with a context of its own, for a single checksum. */
bool checksum_compute(const char *a, size_t alen, const char *b, size_t blen,
		      char out[65]);

#endif
