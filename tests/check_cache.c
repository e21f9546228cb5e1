/*
 * check_cache.c - the status cache (src/files/cache.c): what it remembers,
 * when it must not trust what it remembers, and what it does with a
 * cache file it cannot use. Times are passed in, so no test waits for
 * files to settle.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "errors.h"
#include "migration.h"
#include "testutil.h"

/* A migrations directory and a cache directory. */
struct fixture {
	char *dir;
	char *cdir;
	struct migration_set set;
};

static const char sql1[] = "-- migrate:up\nCREATE TABLE a (id int);\n"
			   "-- migrate:down\nDROP TABLE a;\n";
static const char sql2[] = "-- migrate:up transaction:false\n"
			   "CREATE INDEX CONCURRENTLY i ON a (id);\n";

/* Two migrations on disk in dir/m, discovered and loaded; the cache
   goes to dir/cache/sub (made when written). */
static struct fixture setup(void)
{
	struct fixture f = { tu_mkdtemp(), NULL, { 0 } };
	char *m;
	dbmigrate_error err = { 0 };

	m = malloc(strlen(f.dir) + sizeof "/m");
	f.cdir = malloc(strlen(f.dir) + sizeof "/cache/sub");
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(f.cdir);
	sprintf(m, "%s/m", f.dir);
	sprintf(f.cdir, "%s/cache/sub", f.dir);
	ck_assert_int_eq(mkdir(m, 0700), 0);
	free(tu_write(m, "001_a.sql", sql1));
	free(tu_write(m, "002_b.sql", sql2));
	ck_assert_int_eq(discover_dir(m, &f.set, &err), DBMIGRATE_OK);
	ck_assert_uint_eq(f.set.n, 2);
	ck_assert_int_eq(migration_load_set(&f.set, NULL, &err), DBMIGRATE_OK);
	free(m);
	return f;
}

static void teardown(struct fixture *f)
{
	migration_set_free(&f->set);
	tu_rm_rf(f->dir);
	free(f->dir);
	free(f->cdir);
}

/* stat() of migration i's file. */
static struct stat stat_of(const struct fixture *f, size_t i)
{
	struct stat st;

	ck_assert_int_eq(stat(f->set.v[i].path, &st), 0);
	return st;
}

/* A time well after every file's: they have all settled. */
static struct timespec later(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 60;
	return t;
}

/* Store both migrations and write the cache. */
static void fill(struct fixture *f)
{
	struct cache *c = cache_open(f->cdir, f->set.dir);
	struct timespec t = later();

	ck_assert_ptr_nonnull(c);
	for (size_t i = 0; i < f->set.n; i++) {
		struct stat st = stat_of(f, i);

		ck_assert(!cache_lookup(c, &f->set.v[i], &st));
		cache_store(c, &f->set.v[i], &st, &t);
	}
	cache_close(c);
}

/* The one cache file of the cache directory (to free), or NULL. */
static char *cache_file(const struct fixture *f)
{
	char cmd[4096];
	char *out;
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof cmd, "ls %s 2>/dev/null", f->cdir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	out = calloc(1, 512);
	n = fread(out, 1, 511, p);
	pclose(p);
	if (n == 0) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = '\0';
	{
		char *path = malloc(strlen(f->cdir) + strlen(out) + 2);

		sprintf(path, "%s/%s", f->cdir, out);
		free(out);
		return path;
	}
}

/* A migration as status would see it before the cache answers. */
static struct migration blank_like(const struct migration *m)
{
	struct migration b = { 0 };

	b.path = m->path;
	b.format = m->format;
	return b;
}

START_TEST(remembers_checksum_and_flags)
{
	struct fixture f = setup();
	struct cache *c;
	char *file;

	fill(&f);
	file = cache_file(&f);
	ck_assert_ptr_nonnull(file);
	/* Only its owner may read it: it says which files changed. */
	{
		struct stat st;

		ck_assert_int_eq(stat(file, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
	}
	c = cache_open(f.cdir, f.set.dir);
	for (size_t i = 0; i < 2; i++) {
		struct migration b = blank_like(&f.set.v[i]);
		struct stat st = stat_of(&f, i);

		ck_assert(cache_lookup(c, &b, &st));
		ck_assert_str_eq(b.checksum, f.set.v[i].checksum);
		ck_assert_int_eq(b.down.present, f.set.v[i].down.present);
		ck_assert_int_eq(b.no_transaction, f.set.v[i].no_transaction);
		ck_assert_uint_eq(b.no_transaction_line,
				  f.set.v[i].no_transaction_line);
		ck_assert(!b.loaded);
	}
	/* 001 has a down section; 002 runs outside a transaction. */
	ck_assert(f.set.v[0].down.present && !f.set.v[1].down.present);
	ck_assert(!f.set.v[0].no_transaction && f.set.v[1].no_transaction);
	cache_close(c);
	free(file);
	teardown(&f);
}
END_TEST

/* Any difference in what stat() says is a changed file. */
START_TEST(any_change_of_identity_misses)
{
	struct fixture f = setup();
	struct cache *c;
	struct stat st, changed;
	struct migration b;

	fill(&f);
	c = cache_open(f.cdir, f.set.dir);
	st = stat_of(&f, 0);
	for (int k = 0; k < 6; k++) {
		changed = st;
		switch (k) {
		case 0: changed.st_size++; break;
		case 1: changed.st_mtim.tv_nsec ^= 1; break;
		case 2: changed.st_mtim.tv_sec--; break;
		case 3: changed.st_ctim.tv_nsec ^= 1; break;
		case 4: changed.st_ino++; break;
		default: changed.st_dev++; break;
		}
		b = blank_like(&f.set.v[0]);
		ck_assert_msg(!cache_lookup(c, &b, &changed), "change %d hit", k);
		ck_assert_str_eq(b.checksum, "");
	}
	b = blank_like(&f.set.v[0]);
	ck_assert(cache_lookup(c, &b, &st));
	cache_close(c);
	teardown(&f);
}
END_TEST

/*
 * The same size and modification time, new content: the change time
 * moved (a user cannot set it back), so the file is read again.
 */
START_TEST(rewritten_with_same_size_and_mtime_misses)
{
	struct fixture f = setup();
	struct cache *c;
	struct stat before, after;
	struct timespec times[2];
	struct migration b;
	char *text = strdup(sql1);

	fill(&f);
	before = stat_of(&f, 0);
	text[strlen("-- migrate:up\nCREATE TABLE ")] = 'z'; /* a -> z */
	{
		/* In place: the same inode, as an editor saving over it. */
		int fd = open(f.set.v[0].path, O_WRONLY | O_TRUNC);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, text, strlen(text)),
				 (ssize_t)strlen(text));
		close(fd);
	}
	times[0] = before.st_atim;
	times[1] = before.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, f.set.v[0].path, times, 0), 0);
	after = stat_of(&f, 0);
	ck_assert_int_eq(after.st_size, before.st_size);
	ck_assert_int_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	ck_assert_int_eq(after.st_ino, before.st_ino);
	c = cache_open(f.cdir, f.set.dir);
	b = blank_like(&f.set.v[0]);
	ck_assert(!cache_lookup(c, &b, &after));
	cache_close(c);
	free(text);
	teardown(&f);
}
END_TEST

/* A file changed within CACHE_SETTLE_SECONDS is not remembered. */
START_TEST(unsettled_files_are_not_stored)
{
	struct fixture f = setup();
	struct cache *c = cache_open(f.cdir, f.set.dir);
	struct stat st = stat_of(&f, 0);
	struct timespec now = st.st_ctim;
	struct migration b;

	now.tv_sec += CACHE_SETTLE_SECONDS - 1;
	cache_store(c, &f.set.v[0], &st, &now);
	cache_close(c);
	c = cache_open(f.cdir, f.set.dir);
	b = blank_like(&f.set.v[0]);
	ck_assert(!cache_lookup(c, &b, &st));
	cache_close(c);
	teardown(&f);
}
END_TEST

/* A cache file that is not one: ignored, then replaced by a good one. */
START_TEST(damaged_cache_is_ignored_and_rewritten)
{
	static const char *const junk[] = {
		"",
		"dbmigrate-cache",
		"dbmigrate-status-cache\t1\t0.1.0\t/x\n001_a.sql\t1\t2\n",
		"\x64\x62\x6d\x69\x67\x72\x61\x74\x65\x2d\x63\x61\x63\x68\x65\0"
		"\x01\0\0\0\x04\x03\x02\x01\x60\0\0\0\xff\xff\xff\x7f",
	};

	for (size_t k = 0; k < sizeof junk / sizeof junk[0]; k++) {
		struct fixture f = setup();
		struct cache *c;
		struct stat st = stat_of(&f, 0);
		struct migration b;
		char *file;
		int fd;

		fill(&f);
		file = cache_file(&f);
		ck_assert_ptr_nonnull(file);
		fd = open(file, O_WRONLY | O_TRUNC);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, junk[k], k == 3 ? 32 : strlen(junk[k])),
				 k == 3 ? 32 : (ssize_t)strlen(junk[k]));
		close(fd);
		c = cache_open(f.cdir, f.set.dir);
		b = blank_like(&f.set.v[0]);
		ck_assert_msg(!cache_lookup(c, &b, &st), "junk %zu was used", k);
		cache_close(c);
		/* Rewritten, empty: a status that loads the files fills it. */
		fill(&f);
		c = cache_open(f.cdir, f.set.dir);
		b = blank_like(&f.set.v[0]);
		ck_assert_msg(cache_lookup(c, &b, &st), "junk %zu not replaced", k);
		cache_close(c);
		free(file);
		teardown(&f);
	}
}
END_TEST

/* Records of files that are gone are dropped when the cache is written. */
START_TEST(files_gone_are_forgotten)
{
	struct fixture f = setup();
	struct cache *c;
	struct stat st0 = stat_of(&f, 0), st1 = stat_of(&f, 1);
	struct migration b;
	char *file;
	struct stat cs;
	off_t full;

	fill(&f);
	file = cache_file(&f);
	ck_assert_int_eq(stat(file, &cs), 0);
	full = cs.st_size;
	/* A status that finds only 001 (002 was deleted). */
	c = cache_open(f.cdir, f.set.dir);
	b = blank_like(&f.set.v[0]);
	ck_assert(cache_lookup(c, &b, &st0));
	cache_close(c);
	ck_assert_int_eq(stat(file, &cs), 0);
	ck_assert_int_lt(cs.st_size, full);
	c = cache_open(f.cdir, f.set.dir);
	b = blank_like(&f.set.v[1]);
	ck_assert(!cache_lookup(c, &b, &st1));
	b = blank_like(&f.set.v[0]);
	ck_assert(cache_lookup(c, &b, &st0));
	cache_close(c);
	free(file);
	teardown(&f);
}
END_TEST

/* Writing a cache deletes other cache files not written for 30 days,
   and nothing else. */
START_TEST(old_cache_files_are_pruned)
{
	struct fixture f = setup();
	const long day = 24L * 60 * 60;
	const char *names[3] = { "status-00000000000000aa", /* 31 days */
				 "status-00000000000000bb", /* 29 days */
				 "notes.txt" };           /* 31 days */
	const long age[3] = { 31 * day, 29 * day, 31 * day };
	char *path[3];
	struct cache *c;
	struct timespec now = later();
	struct stat st = stat_of(&f, 0);

	fill(&f); /* makes the cache directory */
	for (int k = 0; k < 3; k++) {
		struct timespec t[2];

		path[k] = malloc(strlen(f.cdir) + strlen(names[k]) + 2);
		sprintf(path[k], "%s/%s", f.cdir, names[k]);
		free(tu_write(f.cdir, names[k], "x"));
		clock_gettime(CLOCK_REALTIME, &t[0]);
		t[0].tv_sec -= age[k];
		t[1] = t[0];
		ck_assert_int_eq(utimensat(AT_FDCWD, path[k], t, 0), 0);
	}
	/* A status that changes its own cache writes it, and prunes. */
	c = cache_open(f.cdir, f.set.dir);
	cache_store(c, &f.set.v[0], &st, &now);
	cache_close(c);
	ck_assert(!tu_exists(path[0]));
	ck_assert(tu_exists(path[1]));
	ck_assert(tu_exists(path[2]));
	for (int k = 0; k < 3; k++)
		free(path[k]);
	teardown(&f);
}
END_TEST

/* No cache directory can be made: nothing is written, nothing fails. */
START_TEST(unwritable_cache_dir_is_quiet)
{
	struct fixture f = setup();
	char *blocker = malloc(strlen(f.dir) + sizeof "/cache");
	struct cache *c;
	struct stat st = stat_of(&f, 0);
	struct migration b;

	sprintf(blocker, "%s/cache", f.dir);
	free(tu_write(f.dir, "cache", "a file where a directory should be\n"));
	fill(&f);
	c = cache_open(f.cdir, f.set.dir);
	b = blank_like(&f.set.v[0]);
	ck_assert(!cache_lookup(c, &b, &st));
	cache_close(c);
	free(blocker);
	teardown(&f);
}
END_TEST

/* The loader: status's way through the cache gives what loading gives. */
START_TEST(load_status_matches_a_full_load)
{
	struct fixture f = setup();
	struct migration_set s2 = { 0 };
	dbmigrate_error err = { 0 };

	/* Filled as a status long after the files were written. */
	fill(&f);
	ck_assert_int_eq(discover_dir(f.set.dir, &s2, &err), DBMIGRATE_OK);
	ck_assert_int_eq(cache_load_status(&s2, f.cdir, &err), DBMIGRATE_OK);
	for (size_t i = 0; i < 2; i++) {
		ck_assert(!s2.v[i].loaded); /* answered by the cache */
		ck_assert_str_eq(s2.v[i].checksum, f.set.v[i].checksum);
		ck_assert_int_eq(s2.v[i].down.present, f.set.v[i].down.present);
		ck_assert_int_eq(s2.v[i].no_transaction, f.set.v[i].no_transaction);
	}
	migration_set_free(&s2);
	/* Without a cache directory every file is loaded. */
	ck_assert_int_eq(discover_dir(f.set.dir, &s2, &err), DBMIGRATE_OK);
	ck_assert_int_eq(cache_load_status(&s2, NULL, &err), DBMIGRATE_OK);
	ck_assert(s2.v[0].loaded && s2.v[1].loaded);
	migration_set_free(&s2);
	teardown(&f);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		remembers_checksum_and_flags, any_change_of_identity_misses,
		rewritten_with_same_size_and_mtime_misses,
		unsettled_files_are_not_stored,
		damaged_cache_is_ignored_and_rewritten,
		files_gone_are_forgotten, old_cache_files_are_pruned,
		unwritable_cache_dir_is_quiet, load_status_matches_a_full_load,
		NULL
	};

	return tu_run_suite(tu_suite("cache", 0, tests));
}
