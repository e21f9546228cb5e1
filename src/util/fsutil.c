/*
 * fsutil.c - reading whole files, checking that text is text, joining
 * paths and creating files without overwriting. Shared by every parser
 * so that all of them refuse the same bad inputs with the same words.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"

/* Name the kind of a non-regular file for an error message. */
static const char *fsutil_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a regular file";
}

/* A size for messages: "70.0 MiB (73400320 bytes)". */
static void fsutil_size_text(char *out, size_t n, unsigned long long size)
{
	snprintf(out, n, "%.1f MiB (%llu bytes)",
		 (double)size / (1024.0 * 1024.0), size);
}

/* Refuse a file larger than FSUTIL_MAX_FILE; size is what is known of it. */
static dbmigrate_code fsutil_too_large(const char *path,
				       unsigned long long size,
				       dbmigrate_error *err)
{
	char have[64], max[64];

	fsutil_size_text(have, sizeof have, size);
	fsutil_size_text(max, sizeof max, FSUTIL_MAX_FILE);
	errors_set(err, DBMIGRATE_EFILES, "%s is too large: %s", path, have);
	errors_detail(err, "A migration file may hold at most %s; dbmigrate "
		      "reads each file whole and checks all of them before "
		      "running any.", max);
	errors_hint(err, "Split it into several migrations, or load bulk "
		    "data with COPY (psql's \\copy) rather than as SQL text.");
	return DBMIGRATE_EFILES;
}

/*
 * Read a whole regular file. Errors are DBMIGRATE_EFILES: the callers
 * read migration files, and a migration that cannot be read is a bad
 * migration file (exit 3).
 *
 * The buffer is allocated at the size fstat reports, plus the NUL, and
 * filled by asking for one byte more than that: a short read of a
 * regular file is its end, so a file that did not change takes one
 * read() and no reallocation (10,000 small migrations are 10,000 files;
 * a data migration of many MB is not held twice while it grows). A file
 * that grew meanwhile is read on, growing the buffer.
 */
dbmigrate_code fsutil_read_file(const char *path, char **text, size_t *len,
				dbmigrate_error *err)
{
	struct stat st;
	size_t cap, n = 0;
	char *buf;
	int fd;

	*text = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not hang waiting for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errors_set_errno(err, DBMIGRATE_EFILES, errno,
					"cannot read %s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return errors_set_errno(err, DBMIGRATE_EFILES, e,
					"cannot read %s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errors_set(err, DBMIGRATE_EFILES, "cannot read %s: it is %s",
			   path, fsutil_kind(st.st_mode));
		errors_hint(err, "Only regular files can be read here.");
		return DBMIGRATE_EFILES;
	}
	if ((unsigned long long)st.st_size > FSUTIL_MAX_FILE) {
		close(fd);
		return fsutil_too_large(path, (unsigned long long)st.st_size,
					err);
	}
	/* Room for the file, one byte to see its end, and the NUL. */
	cap = (size_t)st.st_size + 2;
	buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		return errors_nomem(err);
	}
	for (;;) {
		ssize_t got;
		size_t want;

		if (n > FSUTIL_MAX_FILE) {
			/* It grew past the limit while being read. */
			free(buf);
			close(fd);
			return fsutil_too_large(path, n, err);
		}
		if (cap - n < 2) {
			char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);

			if (nb == NULL) {
				free(buf);
				close(fd);
				return errors_nomem(err);
			}
			buf = nb;
			cap *= 2;
		}
		want = cap - n - 1;
		got = read(fd, buf + n, want);
		if (got < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(buf);
			close(fd);
			return errors_set_errno(err, DBMIGRATE_EFILES, e,
						"cannot read %s", path);
		}
		n += (size_t)got;
		/* Short of what was asked: the end of a regular file. */
		if ((size_t)got < want)
			break;
	}
	close(fd);
	if (n > FSUTIL_MAX_FILE) {
		free(buf);
		return fsutil_too_large(path, n, err);
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return DBMIGRATE_OK;
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it
 * is invalid: overlong forms, surrogates (U+D800..DFFF) and code points
 * above U+10FFFF are refused, as RFC 3629 requires.
 */
static size_t fsutil_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;      /* overlong below U+0800 */
		else if (c == 0xED)
			hi = 0x9F;      /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;      /* overlong below U+10000 */
		else if (c == 0xF4)
			hi = 0x8F;      /* above U+10FFFF */
	} else {
		return 0;               /* 0x80..0xC1, 0xF5..0xFF */
	}
	if (n < need + 1 || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return need + 1;
}

/*
 * The top bit of every byte of w that is not plain ASCII or is NUL: a
 * byte is zero when subtracting 1 borrows into its top bit while it had
 * none. (A borrow may also mark a byte next to a flagged one; only
 * whether any is flagged matters.)
 */
static inline uint64_t fsutil_flags8(const unsigned char *s)
{
	const uint64_t ones = 0x0101010101010101u, tops = 0x8080808080808080u;
	uint64_t w;

	memcpy(&w, s, sizeof w);
	return (w | ((w - ones) & ~w)) & tops;
}

/* True when the 32 bytes at s are all ASCII and none is NUL. */
static inline bool fsutil_plain32(const unsigned char *s)
{
	return (fsutil_flags8(s) | fsutil_flags8(s + 8) | fsutil_flags8(s + 16) |
		fsutil_flags8(s + 24)) == 0;
}

/* Find the first NUL byte or invalid UTF-8 sequence, if any. */
bool fsutil_check_text(const char *text, size_t len, size_t *bad,
		       const char **why)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		size_t k;

		/* The common case, plain ASCII, a few words at a time. */
		while (len - i >= 32 && fsutil_plain32(s + i))
			i += 32;
		while (len - i >= 8 && fsutil_flags8(s + i) == 0)
			i += 8;
		if (i == len)
			break;
		if (s[i] == '\0') {
			*bad = i;
			*why = "a NUL byte (binary file?)";
			return false;
		}
		k = fsutil_utf8_len(s + i, len - i);
		if (k == 0) {
			*bad = i;
			*why = "invalid UTF-8";
			return false;
		}
		i += k;
	}
	return true;
}

/* dir + "/" + name, without doubling a slash dir ends with. */
char *fsutil_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool slash = dl > 0 && dir[dl - 1] != '/';
	char *p;

	if (dl == 0)
		slash = false;
	p = malloc(dl + slash + nl + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, dir, dl);
	if (slash)
		p[dl] = '/';
	memcpy(p + dl + slash, name, nl + 1);
	return p;
}

/* Create path with text, refusing to overwrite anything. */
dbmigrate_code fsutil_write_new(const char *path, const char *text,
				size_t len, dbmigrate_error *err)
{
	size_t done = 0;
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
		  0666);
	if (fd < 0)
		return errors_set_errno(err, DBMIGRATE_EIO, errno,
					"cannot create %s", path);
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return DBMIGRATE_OK;
fail:
	/* Leave no half-written file behind: it would block the next try. */
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(path);
	return errors_set_errno(err, DBMIGRATE_EIO, e, "cannot write %s", path);
}
