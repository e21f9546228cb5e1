/*
 * xalloc.c - allocators that never return NULL, for the CLI only. A
 * command-line program that runs out of memory can only stop, so these
 * print one line and exit 1; the library instead returns
 * DBMIGRATE_ENOMEM and lets its caller decide.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Say that memory ran out and exit (exit code 1, as ENOMEM maps to). */
static void xalloc_die(void)
{
	static const char msg[] = "dbmigrate: error: out of memory\n";

	/* write(2), not stdio: stdio may itself need memory. */
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
		_exit(CLI_EXIT_FAILED);
	exit(CLI_EXIT_FAILED);
}

/* malloc, or exit. */
void *xmalloc(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL)
		xalloc_die();
	return p;
}

/* realloc of n elements of size bytes, checking the multiplication. */
void *xreallocarray(void *p, size_t n, size_t size)
{
	void *q;

	if (size != 0 && n > SIZE_MAX / size)
		xalloc_die();
	q = realloc(p, n * size != 0 ? n * size : 1);
	if (q == NULL)
		xalloc_die();
	return q;
}

/* strdup, or exit. */
char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

/* A newly allocated formatted string from a va_list, or exit. */
char *xvasprintf(const char *fmt, va_list ap)
{
	va_list copy;
	char *s;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		xalloc_die();
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* A newly allocated formatted string, or exit. */
char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}
