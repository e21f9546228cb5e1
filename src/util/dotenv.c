/*
 * dotenv.c - reading ./.env: KEY=VALUE lines handed to a callback one by
 * one. The file is parsed strictly (a line that is not an assignment is
 * an error naming its line) because a silently skipped line would leave
 * a setting quietly unapplied. Nothing here touches the process
 * environment: .env values must never leak into child processes.
 *
 * Error reports name the file and the line but never quote the line: a
 * broken line is often the one holding DB_PASSWORD.
 */
#include "dotenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"

/* True for the blanks allowed around keys, '=' and values. */
static int dotenv_isblank(char c)
{
	return c == ' ' || c == '\t';
}

/* True for a character that may start a variable name. */
static int dotenv_iskeystart(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* True for a character that may continue a variable name. */
static int dotenv_iskey(char c)
{
	return dotenv_iskeystart(c) || (c >= '0' && c <= '9');
}

/*
 * After a closing quote only blanks and a "# comment" may follow.
 * Returns 0 when that holds.
 */
static int dotenv_check_tail(const char *p, const char *end)
{
	while (p < end && dotenv_isblank(*p))
		p++;
	return p < end && *p != '#' ? -1 : 0;
}

/*
 * Parse one line (without its newline or CR) into key and value, both
 * written into buf (at least end - p + 2 bytes). Returns 1 for an
 * assignment, 0 for a blank or comment line, -1 with *why for garbage.
 */
static int dotenv_line(const char *p, const char *end, char *buf,
		       const char **key, const char **value, const char **why)
{
	const char *k, *eq;
	char *out;

	if (memchr(p, '\0', (size_t)(end - p)) != NULL) {
		*why = "the line contains a NUL byte";
		return -1;
	}
	while (p < end && dotenv_isblank(*p))
		p++;
	if (p == end || *p == '#')
		return 0;
	/* "export KEY=v" is accepted so a file can also be sourced by sh. */
	if (end - p > 7 && memcmp(p, "export", 6) == 0 &&
	    dotenv_isblank(p[6])) {
		p += 7;
		while (p < end && dotenv_isblank(*p))
			p++;
	}
	k = p;
	if (p < end && dotenv_iskeystart(*p))
		while (p < end && dotenv_iskey(*p))
			p++;
	eq = p;
	while (eq < end && dotenv_isblank(*eq))
		eq++;
	if (p == k || eq == end || *eq != '=') {
		if (memchr(k, '=', (size_t)(end - k)) == NULL)
			*why = "the line is not a KEY=VALUE assignment";
		else
			*why = "the variable name is not letters, digits and "
			       "underscores starting with a letter or underscore";
		return -1;
	}
	memcpy(buf, k, (size_t)(p - k));
	buf[p - k] = '\0';
	*key = buf;
	out = buf + (p - k) + 1;
	*value = out;

	p = eq + 1;
	while (p < end && dotenv_isblank(*p))
		p++;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end) {
				switch (p[1]) {
				case 'n':
					*out++ = '\n';
					p++;
					continue;
				case '"':
				case '\\':
					*out++ = p[1];
					p++;
					continue;
				default:
					/* Other backslashes are kept as
					   written (a Windows path, a regex). */
					break;
				}
			}
			*out++ = *p;
		}
		if (p == end) {
			*why = "the double quote is not closed on this line";
			return -1;
		}
		if (dotenv_check_tail(p + 1, end) != 0) {
			*why = "text follows the closing double quote";
			return -1;
		}
	} else if (p < end && *p == '\'') {
		/* Single quotes are literal: no escapes at all, as in sh. */
		for (p++; p < end && *p != '\''; p++)
			*out++ = *p;
		if (p == end) {
			*why = "the single quote is not closed on this line";
			return -1;
		}
		if (dotenv_check_tail(p + 1, end) != 0) {
			*why = "text follows the closing single quote";
			return -1;
		}
	} else {
		const char *v = p, *ve = p;

		/* An unquoted value ends at " #" (a comment) or the end of
		   the line; a '#' inside a word ("a#b") is part of it. */
		for (; p < end; p++) {
			if (*p == '#' && p > v && dotenv_isblank(p[-1]))
				break;
			if (!dotenv_isblank(*p))
				ve = p + 1;
		}
		memcpy(out, v, (size_t)(ve - v));
		out += ve - v;
	}
	*out = '\0';
	return 1;
}

int dotenv_parse(const char *text, size_t len, dotenv_fn fn, void *ctx,
		 unsigned *bad_line, const char **why)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	char *buf = NULL;
	size_t cap = 0;
	int rc = 0;

	/* A UTF-8 byte order mark, as some Windows editors write. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		const char *key, *value;
		size_t need;
		int r;

		line++;
		if (le > p && le[-1] == '\r')
			le--;
		/* key and value never together exceed the line plus two
		   terminators: escapes only shrink the text. */
		need = (size_t)(le - p) + 2;
		if (need > cap) {
			char *nb = realloc(buf, need);

			if (nb == NULL) {
				rc = -2;
				break;
			}
			buf = nb;
			cap = need;
		}
		r = dotenv_line(p, le, buf, &key, &value, why);
		if (r < 0) {
			*bad_line = line;
			rc = -1;
			break;
		}
		if (r > 0 && (rc = fn(ctx, key, value, line)) != 0)
			break;
		p = nl != NULL ? nl + 1 : end;
	}
	free(buf);
	return rc;
}

/* Read the whole of fd into *out (NUL-terminated); errno on failure. */
static int dotenv_read(int fd, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return ENOMEM;
	for (;;) {
		ssize_t r;

		if (cap - n < 2) {
			char *nb = cap > ((size_t)-1) / 2 ? NULL
							   : realloc(buf, cap * 2);

			if (nb == NULL) {
				free(buf);
				return ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/*
 * The callback's nonzero return stops the parse; dotenv_load returns it
 * as a dbmigrate_code, so a callback reports its own error into err
 * (config.c passes err in ctx) and returns that error's code.
 */
dbmigrate_code dotenv_load(const char *path, dotenv_fn fn, void *ctx,
			   dbmigrate_error *err)
{
	const char *why = NULL;
	unsigned bad = 0;
	char *text = NULL;
	size_t len = 0;
	int fd, e, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return DBMIGRATE_OK;
	if (fd < 0)
		return errors_set_errno(err, DBMIGRATE_EIO, errno,
					"cannot open %s", path);
	e = dotenv_read(fd, &text, &len);
	close(fd);
	if (e == ENOMEM)
		return errors_nomem(err);
	if (e != 0)
		return errors_set_errno(err, DBMIGRATE_EIO, e, "cannot read %s",
					path);
	rc = dotenv_parse(text, len, fn, ctx, &bad, &why);
	free(text);
	if (rc == -2)
		return errors_nomem(err);
	if (rc == -1) {
		errors_set(err, DBMIGRATE_EUSAGE, "invalid line %u in %s: %s",
			   bad, path, why);
		/* No source line: it may be the one holding a password. */
		errors_location(err, path, bad, 0, NULL, 0);
		errors_hint(err, "Write one KEY=VALUE per line, quote a value "
				 "that has spaces or a '#', and start comments "
				 "with #.");
		return DBMIGRATE_EUSAGE;
	}
	return (dbmigrate_code)rc;
}
