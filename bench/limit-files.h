/*
 * limit-files.h - what both limits (bench/limit.c, bench/sqlite-limit.c)
 * do with files: read one whole, and read every file of a directory as
 * a tool must to know its migrations. Included by the one .c file of
 * each program; LIMIT_NAME names the program in errors.
 */
#ifndef LIMIT_FILES_H
#define LIMIT_FILES_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read a whole file into a NUL-terminated buffer; NULL (reported) on failure. */
static char *limit_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;

	if (f == NULL || fstat(fileno(f), &st) != 0 ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, LIMIT_NAME ": cannot read %s: %s\n", path,
			strerror(errno));
		free(buf);
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	fclose(f);
	buf[st.st_size] = '\0';
	return buf;
}

/* Read every file of dir whole, as cheaply as it can be done. */
static int limit_read_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char buf[65536];

	if (d == NULL) {
		fprintf(stderr, LIMIT_NAME ": cannot list %s: %s\n", dir,
			strerror(errno));
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

/* With "--read DIR" first (after the program's name), read every file
   of DIR (limit_read_dir()) and take the two arguments off; nonzero
   when DIR cannot be read. */
static int limit_read_option(int *argc, char ***argv)
{
	if (*argc >= 3 && strcmp((*argv)[1], "--read") == 0) {
		if (limit_read_dir((*argv)[2]) != 0)
			return 1;
		*argv += 2;
		*argc -= 2;
	}
	return 0;
}

#endif
