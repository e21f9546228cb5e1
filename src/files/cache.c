/*
 * cache.c - the status cache (see cache.h).
 *
 * One file per migrations directory, named after a hash of the
 * directory's real path, in the cache directory. It is read whole and
 * used in place, with no parsing (ten thousand text lines took 10 ms to
 * parse, a third of what status may spend): a header, the dbmigrate
 * version and the directory it describes, then fixed-size records sorted
 * by file name, then the names. Native byte order and sizes: a cache
 * belongs to one machine, and a header that does not match (another
 * machine, version or layout) makes the cache empty.
 *
 * It is written whole to a temporary file renamed over the old one, so
 * a reader sees either version; two runs writing at once each write a
 * correct cache, and the later rename wins.
 *
 * It pays: with `--cache-dir off`, `status` over 10,000 unchanged files
 * takes 1.37x and 1.53x as long (bench/compare, median of the paired
 * ratios, IQR 1.26-1.64 and 1.23-1.66, two runs of 31 pairs on a busy
 * 2-core VM, 2026-12-07, with files loaded before connecting and no
 * heap tuning; 2.0x, IQR 1.60-2.40, when both were still there).
 */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"
#include "errors.h"

/* The version of the dbmigrate that wrote a cache (from the build). */
#ifndef DBMIGRATE_VERSION
#define DBMIGRATE_VERSION "unknown"
#endif

/* The start of the file, and the layout's version. */
#define CACHE_MAGIC "dbmigrate-cache"
#define CACHE_FORMAT 1u
#define CACHE_ENDIAN 0x01020304u

/* A cache file larger than this is not read (10,000 files: ~1.1 MB). */
#define CACHE_MAX_SIZE (64L * 1024 * 1024)

/* Cache files of other directories not written for this long are
   deleted when a cache is written: a directory that is gone (a CI
   checkout, a temporary project) leaves no file behind for good. */
#define CACHE_MAX_AGE_SECONDS (30L * 24 * 60 * 60)

/* Flags of a record. */
#define CACHE_HAS_DOWN 0x1u
#define CACHE_NO_TX 0x2u

struct cache_header {
	char magic[16];       /* CACHE_MAGIC, NUL-padded */
	uint32_t format;      /* CACHE_FORMAT */
	uint32_t endian;      /* CACHE_ENDIAN as this machine writes it */
	uint32_t record_size; /* sizeof(struct cache_record) */
	uint32_t count;       /* records */
	uint32_t version_len; /* then the version, the directory's real */
	uint32_t dir_len;     /* path, padded to 8 bytes, the records, and
				 the names */
};

/* What one file was found to be. */
struct cache_record {
	uint64_t dev, ino, size;
	int64_t msec, csec;   /* modification and change times */
	int32_t mnsec, cnsec;
	uint32_t name_off;    /* in the names that follow the records */
	uint32_t name_len;
	uint32_t no_tx_line;
	uint32_t flags;       /* CACHE_HAS_DOWN, CACHE_NO_TX */
	uint8_t sum[32];      /* the checksum, binary */
};

/* A record stored this run, with its name. */
struct cache_added {
	struct cache_record r;
	char *name;
};

struct cache {
	char *path;  /* the cache file; NULL when there is none to use */
	char *cdir;  /* the cache directory */
	char *real;  /* the migrations directory's real path */
	char *data;  /* the file as read */
	const struct cache_record *rec; /* in data, sorted by name */
	const char *names;
	size_t count;
	size_t names_len;
	bool *used;  /* rec[i] was looked up: its file is still there */
	struct cache_added *add;
	size_t nadd, capadd;
	bool dirty;
};

/* Bytes of the header, the version and the directory, padded to 8. */
static size_t cache_head_size(size_t version_len, size_t dir_len)
{
	return (sizeof(struct cache_header) + version_len + dir_len + 7) & ~(size_t)7;
}

/* Read the cache file and check it; on any fault the cache stays empty. */
static void cache_read(struct cache *c)
{
	int fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	const size_t vlen = strlen(DBMIGRATE_VERSION), dlen = strlen(c->real);
	struct cache_header h;
	struct stat st;
	size_t len = 0, head, recs;

	if (fd < 0)
		return;
	/* Only a regular file of this user's, of a sane size. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_size < (off_t)sizeof h ||
	    st.st_size > CACHE_MAX_SIZE ||
	    (c->data = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, c->data + len, (size_t)st.st_size - len);

		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	memcpy(&h, c->data, sizeof h);
	head = cache_head_size(vlen, dlen);
	if (len != (size_t)st.st_size ||
	    memcmp(h.magic, CACHE_MAGIC, sizeof CACHE_MAGIC) != 0 ||
	    h.format != CACHE_FORMAT || h.endian != CACHE_ENDIAN ||
	    h.record_size != sizeof(struct cache_record) ||
	    h.version_len != vlen || h.dir_len != dlen || len < head ||
	    memcmp(c->data + sizeof h, DBMIGRATE_VERSION, vlen) != 0 ||
	    memcmp(c->data + sizeof h + vlen, c->real, dlen) != 0 ||
	    h.count > (len - head) / sizeof(struct cache_record))
		goto bad;
	recs = (size_t)h.count * sizeof(struct cache_record);
	c->rec = (const struct cache_record *)(void *)(c->data + head);
	c->names = c->data + head + recs;
	c->names_len = len - head - recs;
	for (size_t i = 0; i < h.count; i++)
		if (c->rec[i].name_len == 0 ||
		    c->rec[i].name_off > c->names_len ||
		    c->rec[i].name_len > c->names_len - c->rec[i].name_off)
			goto bad;
	c->used = calloc(h.count + 1, sizeof *c->used);
	if (c->used == NULL)
		goto bad;
	c->count = h.count;
	return;
bad:
	/* Ignored, and rewritten at close. */
	c->rec = NULL;
	c->count = 0;
	c->dirty = true;
}

struct cache *cache_open(const char *cache_dir, const char *dir)
{
	struct cache *c = calloc(1, sizeof *c);
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	if (c == NULL)
		return NULL;
	c->real = realpath(dir, NULL);
	c->cdir = strdup(cache_dir);
	if (c->real == NULL || c->cdir == NULL)
		return c; /* no cache file to use: every lookup misses */
	/* The file is named after the directory; its header says which
	   directory it is for, so a collision only costs a re-read. */
	for (const char *p = c->real; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	c->path = malloc(strlen(cache_dir) + sizeof "/status-" + 16);
	if (c->path == NULL)
		return c;
	sprintf(c->path, "%s/status-%016llx", cache_dir, (unsigned long long)h);
	cache_read(c);
	return c;
}

/* Compare the name of record r with name (len bytes), as strcmp would. */
static int cache_cmp_name(const struct cache *c, const struct cache_record *r,
			  const char *name, size_t len)
{
	size_t n = r->name_len < len ? r->name_len : len;
	int d = memcmp(c->names + r->name_off, name, n);

	if (d != 0)
		return d;
	return r->name_len < len ? -1 : r->name_len > len;
}

/* The index of the record of file name, or -1. */
static long cache_find(const struct cache *c, const char *name)
{
	size_t lo = 0, hi = c->count, len = strlen(name);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = cache_cmp_name(c, &c->rec[mid], name, len);

		if (d == 0)
			return (long)mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The file name of a migration: the last part of its path. */
static const char *cache_name(const struct migration *m)
{
	const char *slash = strrchr(m->path, '/');

	return slash != NULL ? slash + 1 : m->path;
}

/* Fill record r from st. */
static void cache_identity(struct cache_record *r, const struct stat *st)
{
	r->dev = (uint64_t)st->st_dev;
	r->ino = (uint64_t)st->st_ino;
	r->size = (uint64_t)st->st_size;
	r->msec = (int64_t)st->st_mtim.tv_sec;
	r->mnsec = (int32_t)st->st_mtim.tv_nsec;
	r->csec = (int64_t)st->st_ctim.tv_sec;
	r->cnsec = (int32_t)st->st_ctim.tv_nsec;
}

/* True when r describes the file st is. */
static bool cache_same(const struct cache_record *r, const struct stat *st)
{
	struct cache_record now;

	cache_identity(&now, st);
	return r->dev == now.dev && r->ino == now.ino && r->size == now.size &&
	       r->msec == now.msec && r->mnsec == now.mnsec &&
	       r->csec == now.csec && r->cnsec == now.cnsec;
}

bool cache_lookup(struct cache *c, struct migration *m, const struct stat *st)
{
	static const char hex[] = "0123456789abcdef";
	const struct cache_record *r;
	long i;

	/* Two files make one checksum (a pair, Flyway's V and U): not kept. */
	if (c == NULL || c->rec == NULL || m->format == MIGRATION_FORMAT_PAIR ||
	    m->format == MIGRATION_FORMAT_FLYWAY)
		return false;
	i = cache_find(c, cache_name(m));
	if (i < 0)
		return false;
	r = &c->rec[i];
	if (!cache_same(r, st)) {
		c->dirty = true; /* replaced by what cache_store() finds */
		return false;
	}
	c->used[i] = true;
	for (size_t k = 0; k < 32; k++) {
		m->checksum[2 * k] = hex[r->sum[k] >> 4];
		m->checksum[2 * k + 1] = hex[r->sum[k] & 0x0F];
	}
	m->checksum[64] = '\0';
	m->down.present = (r->flags & CACHE_HAS_DOWN) != 0;
	m->no_transaction = (r->flags & CACHE_NO_TX) != 0;
	m->no_transaction_line = r->no_tx_line;
	return true;
}

/* True when time t is at least CACHE_SETTLE_SECONDS before now. */
static bool cache_settled(const struct timespec *t, const struct timespec *now)
{
	return t->tv_sec + CACHE_SETTLE_SECONDS < now->tv_sec ||
	       (t->tv_sec + CACHE_SETTLE_SECONDS == now->tv_sec &&
		t->tv_nsec <= now->tv_nsec);
}

/* The value of hex digit h (checked by the caller's source: checksums
   are lowercase hex). */
static unsigned cache_hexval(char h)
{
	return h >= 'a' ? (unsigned)(h - 'a' + 10) : (unsigned)(h - '0');
}

void cache_store(struct cache *c, const struct migration *m,
		 const struct stat *st, const struct timespec *now)
{
	struct cache_added a;
	const char *name;

	if (c == NULL || c->path == NULL || !m->loaded ||
	    m->format == MIGRATION_FORMAT_PAIR ||
	    m->format == MIGRATION_FORMAT_FLYWAY || strlen(m->checksum) != 64 ||
	    !cache_settled(&st->st_mtim, now) || !cache_settled(&st->st_ctim, now))
		return;
	name = cache_name(m);
	memset(&a, 0, sizeof a);
	cache_identity(&a.r, st);
	for (size_t k = 0; k < 32; k++)
		a.r.sum[k] = (uint8_t)(cache_hexval(m->checksum[2 * k]) << 4 |
				       cache_hexval(m->checksum[2 * k + 1]));
	a.r.flags = (m->down.present ? CACHE_HAS_DOWN : 0) |
		    (m->no_transaction ? CACHE_NO_TX : 0);
	a.r.no_tx_line = m->no_transaction_line;
	if (c->nadd == c->capadd) {
		size_t cap = c->capadd ? c->capadd * 2 : 64;
		struct cache_added *v = realloc(c->add, cap * sizeof *v);

		if (v == NULL)
			return;
		c->add = v;
		c->capadd = cap;
	}
	if ((a.name = strdup(name)) == NULL)
		return;
	c->add[c->nadd++] = a;
	c->dirty = true;
}

/* An entry to write: a record and its name. */
struct cache_out {
	const struct cache_record *r;
	const char *name;
	size_t len;
};

/* Order entries by name, as cache_find() searches them. */
static int cache_cmp_out(const void *pa, const void *pb)
{
	const struct cache_out *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int d = memcmp(a->name, b->name, n);

	return d != 0 ? d : (a->len > b->len) - (a->len < b->len);
}

/* Create directory path and its missing parents (mode 0700). */
static bool cache_mkdirs(char *path)
{
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return false;
		}
		*p = '/';
	}
	return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/*
 * Delete the cache files (status-*, and temporary files a crashed run
 * left) of the cache directory not written for CACHE_MAX_AGE_SECONDS.
 * Best effort, like everything here.
 */
static void cache_prune(const struct cache *c)
{
	int dfd = open(c->cdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct timespec now;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return;
	if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strncmp(de->d_name, "status-", 7) != 0 ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) ||
		    st.st_mtim.tv_sec > now.tv_sec - CACHE_MAX_AGE_SECONDS)
			continue;
		(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

/* Write buf to a new file renamed over the cache file. */
static void cache_replace(const struct cache *c, const char *buf, size_t len)
{
	char *tmp = malloc(strlen(c->path) + 48);
	int fd;
	size_t done = 0;

	if (tmp == NULL)
		return;
	/* The pid and the cache's address: threads of one process, each
	   with a handle of its own (dbmigrate status --targets), write
	   their own temporary files too. */
	sprintf(tmp, "%s.%ld.%lx.tmp", c->path, (long)getpid(),
		(unsigned long)(uintptr_t)c);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		while (done < len) {
			ssize_t w = write(fd, buf + done, len - done);

			if (w <= 0)
				break;
			done += (size_t)w;
		}
		if (close(fd) != 0 || done != len || rename(tmp, c->path) != 0)
			unlink(tmp);
	}
	free(tmp);
}

/* Write the records still in use and the new ones, sorted by name. */
static void cache_write(struct cache *c)
{
	const size_t vlen = strlen(DBMIGRATE_VERSION), dlen = strlen(c->real);
	size_t n = 0, names = 0, head = cache_head_size(vlen, dlen), size;
	struct cache_out *v = malloc((c->count + c->nadd + 1) * sizeof *v);
	struct cache_header h;
	struct cache_record *rec;
	char *buf, *np;

	if (v == NULL)
		return;
	for (size_t i = 0; i < c->count; i++)
		if (c->used[i])
			v[n++] = (struct cache_out){ &c->rec[i],
						     c->names + c->rec[i].name_off,
						     c->rec[i].name_len };
	for (size_t i = 0; i < c->nadd; i++)
		v[n++] = (struct cache_out){ &c->add[i].r, c->add[i].name,
					     strlen(c->add[i].name) };
	qsort(v, n, sizeof *v, cache_cmp_out);
	for (size_t i = 0; i < n; i++)
		names += v[i].len;
	size = head + n * sizeof *rec + names;
	if (names > UINT32_MAX || n > UINT32_MAX || size > CACHE_MAX_SIZE ||
	    (buf = calloc(1, size)) == NULL) {
		free(v);
		return;
	}
	rec = (struct cache_record *)(void *)(buf + head);
	np = buf + head + n * sizeof *rec;
	/* Every name once: a record is either looked up (and kept) or, its
	   file changed, missed and stored again, never both. */
	for (size_t i = 0; i < n; i++) {
		rec[i] = *v[i].r;
		rec[i].name_off = (uint32_t)(np - (buf + head + n * sizeof *rec));
		rec[i].name_len = (uint32_t)v[i].len;
		memcpy(np, v[i].name, v[i].len);
		np += v[i].len;
	}
	free(v);
	memset(&h, 0, sizeof h);
	memcpy(h.magic, CACHE_MAGIC, sizeof CACHE_MAGIC);
	h.format = CACHE_FORMAT;
	h.endian = CACHE_ENDIAN;
	h.record_size = sizeof *rec;
	h.count = (uint32_t)n;
	h.version_len = (uint32_t)vlen;
	h.dir_len = (uint32_t)dlen;
	memcpy(buf, &h, sizeof h);
	memcpy(buf + sizeof h, DBMIGRATE_VERSION, vlen);
	memcpy(buf + sizeof h + vlen, c->real, dlen);
	if (cache_mkdirs(c->cdir)) {
		cache_replace(c, buf, size);
		cache_prune(c);
	}
	free(buf);
}

void cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->path != NULL) {
		/* A file gone from the directory leaves an unused record. */
		for (size_t i = 0; !c->dirty && i < c->count; i++)
			if (!c->used[i])
				c->dirty = true;
		if (c->dirty)
			cache_write(c);
	}
	for (size_t i = 0; i < c->nadd; i++)
		free(c->add[i].name);
	free(c->add);
	free(c->used);
	free(c->data);
	free(c->path);
	free(c->cdir);
	free(c->real);
	free(c);
}

/* What status needs of every migration of s: see cache.h. */
dbmigrate_code cache_load_status(struct migration_set *s, const char *cache_dir,
				 dbmigrate_error *err)
{
	struct cache *c = NULL;
	struct checksum *ck = NULL;
	struct timespec now;
	dbmigrate_code rc = DBMIGRATE_OK;
	int dfd;

	if (cache_dir == NULL)
		return migration_load_set(s, NULL, err);
	c = cache_open(cache_dir, s->dir);
	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		now.tv_sec = now.tv_nsec = 0; /* nothing is settled */
	/* fstatat() by name in the directory: no path to walk each time. */
	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; rc == DBMIGRATE_OK && i < s->n; i++) {
		struct migration *m = &s->v[i];
		const char *base = strrchr(m->path, '/');
		struct stat st;
		bool known = dfd >= 0 && base != NULL
				     ? fstatat(dfd, base + 1, &st, 0) == 0
				     : stat(m->path, &st) == 0;

		if (known && cache_lookup(c, m, &st))
			continue;
		if (ck == NULL && (ck = checksum_new()) == NULL) {
			rc = errors_set(err, DBMIGRATE_EIO,
					"cannot compute checksums: libcrypto "
					"failed (or out of memory)");
			break;
		}
		rc = migration_load_with(m, ck, err);
		if (rc == DBMIGRATE_OK && known)
			cache_store(c, m, &st, &now);
	}
	if (dfd >= 0)
		close(dfd);
	/* What was learnt is kept even when a later file failed. */
	cache_close(c);
	checksum_free(ck);
	return rc;
}
