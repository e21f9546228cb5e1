/*
 * drvkit.h - small pieces every driver needs the same way: reading the
 * host's limits whatever its version, URL hex digits, the pid in a lock
 * file and who holds it, a failed split, the monotonic clock and an
 * interruptible nap, an error or a log line of the driver's own
 * formatted through the host, and a growing string for the SQL a driver
 * writes. A source of the drivers' own (see lintkit.h), compiled into
 * each driver.
 */
#ifndef DBMIGRATE_DRVKIT_H
#define DBMIGRATE_DRVKIT_H

#include <stdarg.h>
#include <stddef.h>

#include "dbmigrate/driver.h"

/*
 * The limits configure() got (s) into *out: all of them from a host
 * whose struct holds lock_retries, none (zero: no limits) from an older,
 * shorter one. 0, or -1 when a timeout is negative or not a number (the
 * driver says so in its own words).
 */
int drvkit_settings(const struct dbmigrate_settings *s,
		    struct dbmigrate_settings *out);

/* Write this process's pid ("PID\n") over the lock file fd holds, for
   the message of whoever waits for the lock; -1 (errno set) when it
   cannot. */
int drvkit_write_pid(int fd);

/* Describe the holder of the lock file fd holds into buf, from the pid
   drvkit_write_pid() wrote there: "pid 42", or "another process" while
   none is written yet. */
void drvkit_lock_who(int fd, char *buf, size_t size);

/* A split() that fails: *err filled (message and hint static, offset
   the byte where the trouble starts); returns DBMIGRATE_EFILES. */
dbmigrate_code drvkit_split_fail(struct dbmigrate_split_error *err,
				 const char *message, const char *hint,
				 size_t offset);

/* The value of hex digit ch (either case), or -1. */
int drvkit_hex(char ch);

/* Seconds on the monotonic clock. */
double drvkit_now(void);

/* Sleep seconds (nothing when <= 0), in naps of at most slice seconds,
   asking host->interrupted() before each: 1 as soon as it says yes, 0
   once the time has passed. */
int drvkit_nap(const struct dbmigrate_host *host, double seconds,
	       double slice);

/* The longest message drvkit_error() and drvkit_vlog() pass on (with
   the NUL); a longer one is cut. */
#define DRVKIT_ERROR_MAX 1024
#define DRVKIT_LOG_MAX 2048

/*
 * Report an error the driver found (no SQLSTATE, no statement): its
 * message made from fmt, with detail and hint (either NULL). Returns
 * code.
 */
dbmigrate_code drvkit_error(const struct dbmigrate_host *host,
			    dbmigrate_code code, const char *detail,
			    const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
dbmigrate_code drvkit_verror(const struct dbmigrate_host *host,
			     dbmigrate_code code, const char *detail,
			     const char *hint, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/*
 * Every driver's three reporters, on its connection c (whose host
 * field is the host it was opened with): PREFIX_error(c, code, detail,
 * hint, fmt, ...) as drvkit_error(), PREFIX_nomem(c) and
 * PREFIX_log(c, level, fmt, ...). Declared by each driver's header as
 * macros on these and the two below, so that the code is written once.
 */

/* Report running out of memory; returns DBMIGRATE_ENOMEM. */
dbmigrate_code drvkit_nomem(const struct dbmigrate_host *host);

/* Send a line made from fmt to the host's log at level. */
void drvkit_log(const struct dbmigrate_host *host,
		enum dbmigrate_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void drvkit_vlog(const struct dbmigrate_host *host,
		 enum dbmigrate_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/*
 * A growing string (s NUL-terminated once anything was added) with a
 * sticky failure: once an append fails, the rest are skipped and failed
 * says why, DRVKIT_TEXT_NOMEM or a reason of the caller's own. Starts
 * as {0}; the caller frees s.
 */
struct drvkit_text {
	char *s;
	size_t len;
	size_t cap;
	int failed;
};

#define DRVKIT_TEXT_NOMEM 1

/* Make room in t for n more bytes and the NUL: 0, or -1 when t has
   failed (now or before). */
int drvkit_text_room(struct drvkit_text *t, size_t n);

/* Append len bytes of s to t. */
void drvkit_text_add(struct drvkit_text *t, const char *s, size_t len);

/* Append the string s to t. */
void drvkit_text_puts(struct drvkit_text *t, const char *s);

#endif
