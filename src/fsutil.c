/*
 * fsutil.c - reading whole files, checking that text is text, joining
 * paths and creating files without overwriting. Shared by every parser
 * so that all of them refuse the same bad inputs with the same words.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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

/*
 * Read a whole regular file. Errors are DBMIGRATE_EFILES: the callers
 * read migration files, and a migration that cannot be read is a bad
 * migration file (exit 3).
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
	/* The size is only a first guess: the file may grow while read. */
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		return errors_nomem(err);
	}
	for (;;) {
		ssize_t got;

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
		got = read(fd, buf + n, cap - n - 1);
		if (got == 0)
			break;
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
	}
	close(fd);
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

/* Find the first NUL byte or invalid UTF-8 sequence, if any. */
bool fsutil_check_text(const char *text, size_t len, size_t *bad,
		       const char **why)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		size_t k;

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
