/*
 * limit-mysql.c - the physical limit of a migration tool on MySQL: the
 * server executing the same statements with nothing in between. It
 * connects with libmariadb and sends each statement of each FILE as one
 * query, in order, waiting for each (MySQL commits DDL on its own, so a
 * tool that records how far a migration got must write its tracking row
 * between the statements: bench/mysql-run writes those rows into the
 * files, as dbmigrate's driver sends them).
 *
 *   limit-mysql URL FILE...   statements separated by NUL bytes;
 *                             exit 0 when every one ran
 *   limit-mysql --read DIR URL FILE...
 *                             first read every file of DIR whole, as a
 *                             tool must read its migrations to know
 *                             their SQL (bench/limit.c does the same for
 *                             status)
 *
 * URL: mysql://USER:PASS@HOST:PORT/DB. Nothing is timed here: the bench
 * times this whole process (start, connect, queries, exit) as it times
 * dbmigrate.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mysql.h>

/* Read a whole file; NULL (reported) on failure. */
static char *limit_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;

	if (f == NULL || fstat(fileno(f), &st) != 0 ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "limit-mysql: cannot read %s\n", path);
		free(buf);
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	fclose(f);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

/* Read every file of dir whole, as cheaply as it can be done. */
static int limit_read_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char buf[65536];

	if (d == NULL) {
		fprintf(stderr, "limit-mysql: cannot list %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		while (read(fd, buf, sizeof buf) > 0)
			;
		close(fd);
	}
	closedir(d);
	return 0;
}

/* Split mysql://USER:PASS@HOST:PORT/DB in place. */
static int limit_url(char *url, char **user, char **pass, char **host,
		     unsigned *port, char **db)
{
	char *p = strstr(url, "://"), *at, *colon, *slash;

	if (p == NULL)
		return -1;
	p += 3;
	*user = *pass = *db = NULL;
	*port = 0;
	if ((at = strrchr(p, '@')) != NULL) {
		*at = '\0';
		*user = p;
		if ((colon = strchr(p, ':')) != NULL) {
			*colon = '\0';
			*pass = colon + 1;
		}
		p = at + 1;
	}
	if ((slash = strchr(p, '/')) != NULL) {
		*slash = '\0';
		*db = slash + 1;
	}
	if ((colon = strchr(p, ':')) != NULL) {
		*colon = '\0';
		*port = (unsigned)atoi(colon + 1);
	}
	*host = p;
	return 0;
}

/* Run one statement and drop its results; 0 on success. */
static int limit_exec(MYSQL *my, const char *sql, size_t len)
{
	int more;

	if (mysql_real_query(my, sql, (unsigned long)len) != 0)
		return -1;
	do {
		MYSQL_RES *res = mysql_use_result(my);

		if (res != NULL) {
			while (mysql_fetch_row(res) != NULL)
				;
			mysql_free_result(res);
		} else if (mysql_field_count(my) != 0) {
			return -1;
		}
	} while ((more = mysql_next_result(my)) == 0);
	return more > 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	char *user, *pass, *host, *db;
	unsigned port;
	MYSQL *my;

	if (argc >= 3 && strcmp(argv[1], "--read") == 0) {
		if (limit_read_dir(argv[2]) != 0)
			return 1;
		argv += 2;
		argc -= 2;
	}
	if (argc < 3 || limit_url(argv[1], &user, &pass, &host, &port, &db) != 0) {
		fprintf(stderr, "usage: limit-mysql [--read DIR] mysql://USER:PASS@HOST:PORT/DB FILE...\n");
		return 2;
	}
	my = mysql_init(NULL);
	mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(my, host, user, pass, db, port, NULL,
			       CLIENT_MULTI_RESULTS) == NULL) {
		fprintf(stderr, "limit-mysql: %s\n", mysql_error(my));
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		size_t len, off = 0;
		char *text = limit_read(argv[i], &len);

		if (text == NULL)
			return 1;
		while (off < len) {
			size_t n = strlen(text + off);

			if (n > 0 && limit_exec(my, text + off, n) != 0) {
				fprintf(stderr, "limit-mysql: %s: %s\n", argv[i],
					mysql_error(my));
				return 1;
			}
			off += n + 1;
		}
		free(text);
	}
	mysql_close(my);
	return 0;
}
