/*
 * drvkit.c - see drvkit.h.
 */
#include "drvkit.h"

#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int drvkit_settings(const struct dbmigrate_settings *s,
		    struct dbmigrate_settings *out)
{
	struct dbmigrate_settings v = { .struct_size = sizeof v };

	/* A host's struct may be older (shorter) than ours. */
	if (s->struct_size >= offsetof(struct dbmigrate_settings, lock_retries) +
				  sizeof s->lock_retries)
		v = *s;
	if (!(v.lock_timeout >= 0) || !(v.statement_timeout >= 0))
		return -1;
	*out = v;
	return 0;
}

int drvkit_write_pid(int fd)
{
	if (ftruncate(fd, 0) != 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0)
		return -1;
	return 0;
}

int drvkit_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

double drvkit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int drvkit_nap(const struct dbmigrate_host *host, double seconds,
	       double slice)
{
	double until = drvkit_now() + seconds;

	while (!host->interrupted(host->ctx)) {
		double left = until - drvkit_now();
		struct timespec ts;

		if (left <= 0)
			return 0;
		if (left > slice)
			left = slice;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
	return 1;
}
