/*
 * cache.h - the status cache: what loading each unchanged migration file
 * found (its checksum, whether it has a down section, transaction:false),
 * kept between runs so that `status` need not read and hash every file
 * again. Ten thousand files are forty thousand system calls and as many
 * checksums; the cache makes them ten thousand stat() calls.
 *
 * A file is "unchanged" when stat() gives the same device, inode, size,
 * modification time and change time (nanoseconds) as when it was read.
 * The change time cannot be set by a user: any write, rename onto or
 * touch of the file moves it to the present. To close the window where
 * a file is changed twice within one tick of the file system's clock, a
 * file is remembered only once both its times are CACHE_SETTLE_SECONDS
 * old (git calls such entries "racily clean").
 *
 * Only `status` reads it; every command that runs SQL (up, down, redo,
 * validate, verify, lint) reads every file, whatever the cache says.
 * A cache that cannot be read, is malformed, belongs to another user or
 * another dbmigrate version is ignored; one that cannot be written is
 * not written. It is never an error: it is only a cache. Writing one
 * deletes the cache files of the directory not written for 30 days.
 *
 * (The file's layout is described in cache.c.)
 */
#ifndef DBMIGRATE_CACHE_H
#define DBMIGRATE_CACHE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "migration.h"

/* How old both times of a file must be before it is remembered. */
#define CACHE_SETTLE_SECONDS 2

struct cache;

/*
 * The cache of migrations directory dir, kept in directory cache_dir
 * (created when written). NULL when out of memory; a missing or unusable
 * cache file gives an empty cache.
 */
struct cache *cache_open(const char *cache_dir, const char *dir);

/*
 * When the cache knows file st (stat() of m->path) unchanged, set m's
 * checksum, down.present and no_transaction from it and return true.
 */
bool cache_lookup(struct cache *c, struct migration *m, const struct stat *st);

/*
 * Remember loaded migration m, whose file stat() gave st before it was
 * read, unless its times are younger than CACHE_SETTLE_SECONDS before
 * now.
 */
void cache_store(struct cache *c, const struct migration *m,
		 const struct stat *st, const struct timespec *now);

/* Write the cache back when it changed (quietly: see the top), and free
   it. NULL is fine. */
void cache_close(struct cache *c);

/*
 * What `status` needs of every migration of s: its checksum, whether it
 * has a down section, transaction:false. A file the cache in directory
 * cache_dir knows unchanged is not read: it is left unloaded (no text, no
 * bodies) with those three set. Others are loaded as migration_load_set()
 * does, and remembered. cache_dir NULL: no cache, every file is loaded.
 */
dbmigrate_code cache_load_status(struct migration_set *s, const char *cache_dir,
				 dbmigrate_error *err);

#endif
