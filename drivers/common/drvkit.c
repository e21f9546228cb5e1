/*
 * drvkit.c - see drvkit.h.
 */
#include "drvkit.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void drvkit_lock_who(int fd, char *buf, size_t size)
{
	char pid[32];
	ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
	long holder = 0;

	if (n > 0) {
		pid[n] = '\0';
		holder = strtol(pid, NULL, 10);
	}
	if (holder > 0)
		snprintf(buf, size, "pid %ld", holder);
	else
		snprintf(buf, size, "another process");
}

dbmigrate_code drvkit_split_fail(struct dbmigrate_split_error *err,
				 const char *message, const char *hint,
				 size_t offset)
{
	err->message = message;
	err->hint = hint;
	err->offset = offset;
	return DBMIGRATE_EFILES;
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

dbmigrate_code drvkit_verror(const struct dbmigrate_host *host,
			     dbmigrate_code code, const char *detail,
			     const char *hint, const char *fmt, va_list ap)
{
	char msg[DRVKIT_ERROR_MAX];
	struct dbmigrate_driver_error e = { .code = code, .message = msg,
					    .detail = detail, .hint = hint,
					    .statement = DBMIGRATE_NO_STATEMENT };

	vsnprintf(msg, sizeof msg, fmt, ap);
	host->error(host->ctx, &e);
	return code;
}

dbmigrate_code drvkit_error(const struct dbmigrate_host *host,
			    dbmigrate_code code, const char *detail,
			    const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = drvkit_verror(host, code, detail, hint, fmt, ap);
	va_end(ap);
	return code;
}

dbmigrate_code drvkit_nomem(const struct dbmigrate_host *host)
{
	return drvkit_error(host, DBMIGRATE_ENOMEM, NULL, NULL,
			    "out of memory");
}

void drvkit_log(const struct dbmigrate_host *host,
		enum dbmigrate_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	drvkit_vlog(host, level, fmt, ap);
	va_end(ap);
}

void drvkit_vlog(const struct dbmigrate_host *host,
		 enum dbmigrate_log_level level, const char *fmt, va_list ap)
{
	char msg[DRVKIT_LOG_MAX];

	vsnprintf(msg, sizeof msg, fmt, ap);
	host->log(host->ctx, level, msg);
}

int drvkit_text_room(struct drvkit_text *t, size_t n)
{
	size_t cap;
	char *s;

	if (t->failed)
		return -1;
	if (t->s != NULL && n < t->cap - t->len)
		return 0;
	cap = t->cap != 0 ? t->cap : 256;
	while (n >= cap - t->len) {
		if (cap > (size_t)-1 / 2) {
			t->failed = DRVKIT_TEXT_NOMEM;
			return -1;
		}
		cap *= 2;
	}
	if ((s = realloc(t->s, cap)) == NULL) {
		t->failed = DRVKIT_TEXT_NOMEM;
		return -1;
	}
	t->s = s;
	t->cap = cap;
	return 0;
}

void drvkit_text_add(struct drvkit_text *t, const char *s, size_t len)
{
	if (drvkit_text_room(t, len) != 0)
		return;
	memcpy(t->s + t->len, s, len);
	t->len += len;
	t->s[t->len] = '\0';
}

void drvkit_text_puts(struct drvkit_text *t, const char *s)
{
	drvkit_text_add(t, s, strlen(s));
}
