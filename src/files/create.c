/*
 * create.c - `dbmigrate create NAME`: turn NAME into snake_case, pick the
 * next number after the migrations already there, and write
 * DIR/NNN_name.sql with empty up and down sections. The file is created
 * with O_EXCL, so an existing migration is never overwritten, even by a
 * second `create` racing this one.
 */
#include "create.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "strbuf.h"

/* What a new migration holds: the two sections, each with a blank line
   to write into. */
static const char create_template[] = "-- migrate:up\n\n\n-- migrate:down\n\n";

/* create_snake_case's reason when memory runs out, told apart by address. */
static const char create_nomem[] = "out of memory";

/* The longest snake_case name accepted: with an 18-digit id, '_' and
   ".sql" the file name stays well under NAME_MAX (255). */
#define CREATE_NAME_MAX 200

/* Character classes in the C locale, whatever the process's locale. */
static int create_isupper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* True for a lowercase ASCII letter. */
static int create_islower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* True for an ASCII digit. */
static int create_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Lowercase snake_case of name. Non-ASCII letters count as separators:
 * migration names are [A-Za-z0-9_-] only, and transliterating is not
 * this tool's job.
 */
char *create_snake_case(const char *name, const char **why)
{
	size_t len = strlen(name);
	/* Worst case: a '_' before every character. */
	char *out = malloc(2 * len + 1);
	size_t n = 0;
	int sep = 0;

	if (out == NULL) {
		*why = create_nomem;
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i], prev = i > 0 ? name[i - 1] : '\0';

		if (!create_isupper(c) && !create_islower(c) &&
		    !create_isdigit(c)) {
			sep = 1;
			continue;
		}
		/* A word starts at an uppercase letter after a lowercase
		   letter or digit ("addUsers"), or at the last capital of
		   an acronym followed by lowercase ("HTTPServer"). */
		if (create_isupper(c) &&
		    (create_islower(prev) || create_isdigit(prev) ||
		     (create_isupper(prev) && create_islower(name[i + 1]))))
			sep = 1;
		if (sep && n > 0)
			out[n++] = '_';
		sep = 0;
		out[n++] = create_isupper(c) ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		*why = "the name has no letters or digits";
		return NULL;
	}
	return out;
}

dbmigrate_code create_next_id(const struct migration_set *set, char *out,
			      size_t n, dbmigrate_error *err)
{
	uint64_t max = 0;
	int width = 3;
	int len;

	for (size_t i = 0; set != NULL && i < set->n; i++) {
		size_t w = strlen(set->v[i].id);

		if (set->v[i].number > max)
			max = set->v[i].number;
		if (w > (size_t)width)
			width = (int)w;
	}
	len = snprintf(out, n, "%0*" PRIu64, width, max + 1);
	if (len > MIGRATION_MAX_DIGITS) {
		errors_set(err, DBMIGRATE_EFILES,
			   "no id left after migration %" PRIu64, max);
		errors_detail(err, "Migration ids have at most %d digits.",
			      MIGRATION_MAX_DIGITS);
		errors_hint(err, "Renumber the migrations with smaller ids; "
				 "dbmigrate orders them by number, not by "
				 "width.");
		return DBMIGRATE_EFILES;
	}
	if (len < 0 || (size_t)len >= n)
		return errors_set(err, DBMIGRATE_EUSAGE,
				  "no room for a %d-digit migration id", len);
	return DBMIGRATE_OK;
}

/* mkdir dir and its missing parents, like mkdir -p. */
static dbmigrate_code create_mkdirs(const char *dir, dbmigrate_error *err)
{
	struct stat st;
	char *p, *copy;

	if (*dir == '\0')
		return errors_set(err, DBMIGRATE_EUSAGE,
				  "the migrations directory name is empty");
	if ((copy = strdup(dir)) == NULL)
		return errors_nomem(err);
	/* Each prefix ending before a '/', then the whole path. */
	for (p = copy + 1;; p++) {
		char c = *p;
		int e;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		e = mkdir(copy, 0777) == 0 ? 0 : errno;
		/* An existing directory may also fail with EACCES or EROFS
		   where mkdir checks those first. */
		if (e != 0 && e != EEXIST &&
		    !(stat(copy, &st) == 0 && S_ISDIR(st.st_mode))) {
			errors_set_errno(err, DBMIGRATE_EIO, e,
					 "cannot create directory %s", copy);
			free(copy);
			return DBMIGRATE_EIO;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	/* EEXIST also comes from a file in the way. */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		errors_set(err, DBMIGRATE_EIO,
			   "migrations directory %s is not a directory", dir);
		errors_hint(err, "Move the file away, or choose another "
				 "directory with --dir.");
		return DBMIGRATE_EIO;
	}
	return DBMIGRATE_OK;
}

/* Write all of buf to fd; errno on failure, else 0. */
static int create_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Create path (which must not exist) holding the template. */
static dbmigrate_code create_file(const char *path, dbmigrate_error *err)
{
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST) {
		errors_set(err, DBMIGRATE_EFILES, "%s already exists", path);
		errors_detail(err, "create never overwrites a migration.");
		errors_hint(err, "Run create again to take the next number, "
				 "or choose another name.");
		return DBMIGRATE_EFILES;
	}
	if (fd < 0)
		return errors_set_errno(err, DBMIGRATE_EIO, errno,
					"cannot create %s", path);
	e = create_write_all(fd, create_template, sizeof create_template - 1);
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e != 0) {
		/* Leave no half-written migration behind. */
		unlink(path);
		return errors_set_errno(err, DBMIGRATE_EIO, e,
					"cannot write %s", path);
	}
	return DBMIGRATE_OK;
}

dbmigrate_code create_migration(const char *dir,
				const struct migration_set *set,
				const char *name, char **path_out,
				dbmigrate_error *err)
{
	struct strbuf b = STRBUF_INIT;
	char id[MIGRATION_MAX_DIGITS + 1];
	const char *why = NULL;
	char *snake, *path;
	dbmigrate_code rc;

	if (path_out != NULL)
		*path_out = NULL;
	snake = create_snake_case(name, &why);
	if (snake == NULL && why == create_nomem)
		return errors_nomem(err);
	if (snake == NULL || strlen(snake) > CREATE_NAME_MAX) {
		errors_set(err, DBMIGRATE_EUSAGE,
			   "invalid migration name \"%s\"", name);
		errors_detail(err, "%s.",
			      snake == NULL ? "It has no letters or digits"
					    : "It is longer than 200 characters");
		errors_hint(err, "Describe the change in a few words, such as "
				 "dbmigrate create add_users_table.");
		free(snake);
		return DBMIGRATE_EUSAGE;
	}
	rc = create_next_id(set, id, sizeof id, err);
	if (rc == DBMIGRATE_OK)
		rc = create_mkdirs(dir, err);
	if (rc != DBMIGRATE_OK) {
		free(snake);
		return rc;
	}
	strbuf_puts(&b, dir);
	if (b.len > 0 && b.s[b.len - 1] != '/')
		strbuf_putc(&b, '/');
	strbuf_printf(&b, "%s_%s.sql", id, snake);
	free(snake);
	path = strbuf_steal(&b);
	if (path == NULL)
		return errors_nomem(err);
	rc = create_file(path, err);
	if (rc == DBMIGRATE_OK && path_out != NULL)
		*path_out = path;
	else
		free(path);
	return rc;
}
