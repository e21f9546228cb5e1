/*
 * sq-lock.c - the runner lock: an exclusive open-file-description lock
 * (fcntl F_OFD_SETLK) on a file beside the database, DATABASE-dbmigrate.lock,
 * which holds the holder's pid for the message of whoever waits.
 *
 * The kernel drops the lock when its holder's file is closed, whatever
 * ends the process (kill -9 too), so no lock outlives its runner and
 * there is nothing to clear by hand: the file itself stays (deleting a
 * lock file races with a runner that just opened it) and is truncated
 * on release; a pid left in it by a killed runner is overwritten by the
 * next. An OFD lock, unlike a POSIX one, belongs to the open file, not
 * the process: two connections of one process exclude each other, and
 * SQLite closing its own descriptors releases nothing of it. The lock
 * keeps runners apart per database, whatever the tracking table: they
 * would wait for each other's write transactions anyway. It is tried
 * without blocking, with a backoff from 10 to 200 ms, so that an
 * interrupt is seen.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "sq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/drvkit.h"

#define SQ_LOCK_SUFFIX "-dbmigrate.lock"
#define SQ_LOCK_FIRST 0.01 /* first wait between tries, seconds */
#define SQ_LOCK_MAX 0.2    /* longest wait between tries */

/* Try the lock once: 0 taken, 1 held by another, -1 error (errno). */
static int sq_lock_try(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : -1;
}

/* Report the timeout, naming the holder. */
static dbmigrate_code sq_lock_timeout(dbmigrate_conn *c, int fd,
				      const char *path, double timeout)
{
	char who[64], detail[600];

	drvkit_lock_who(fd, who, sizeof who);
	snprintf(detail, sizeof detail,
		 "The lock on %s is held by %s (another dbmigrate migrating "
		 "the same database). It ends with that process, however it "
		 "ends.",
		 path, who);
	return sq_error(c, DBMIGRATE_ELOCK, detail,
			"Wait for it to finish, or wait longer with "
			"--lock-timeout SECONDS.",
			"could not acquire the migration lock within %g s "
			"(held by %s)",
			timeout, who);
}

/* Take the runner lock; see driver.h's lock(). */
dbmigrate_code sq_lock(dbmigrate_conn *c, const char *table, double timeout)
{
	double deadline = drvkit_now() + (timeout > 0 ? timeout : 0);
	double nap = SQ_LOCK_FIRST;
	size_t plen;
	char *path;
	int fd, waited = 0, r;
	dbmigrate_code rc = DBMIGRATE_OK;

	(void)table;
	if (timeout > 0)
		c->busy_wait = timeout;
	if (c->memory || c->lock_fd >= 0)
		return DBMIGRATE_OK;
	plen = strlen(c->path);
	if ((path = malloc(plen + sizeof SQ_LOCK_SUFFIX)) == NULL)
		return sq_nomem(c);
	memcpy(path, c->path, plen);
	memcpy(path + plen, SQ_LOCK_SUFFIX, sizeof SQ_LOCK_SUFFIX);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		rc = sq_error(c, DBMIGRATE_EDATABASE, NULL,
			      "dbmigrate keeps its runner lock in a file beside "
			      "the database: its directory must be writable "
			      "(SQLite needs that too, for its journal).",
			      "cannot open the lock file %s: %s", path,
			      strerror(errno));
		free(path);
		return rc;
	}
	while ((r = sq_lock_try(fd)) != 0) {
		double left = deadline - drvkit_now();

		if (r < 0) {
			rc = sq_error(c, DBMIGRATE_EDATABASE, NULL, NULL,
				      "cannot lock %s: %s", path,
				      strerror(errno));
			break;
		}
		if (c->host->interrupted(c->host->ctx)) {
			rc = sq_error(c, DBMIGRATE_EINTERRUPTED, NULL, NULL,
				      "interrupted while waiting for the "
				      "migration lock");
			break;
		}
		if (left <= 0) {
			rc = sq_lock_timeout(c, fd, path, timeout);
			break;
		}
		if (!waited++) {
			char who[64];

			drvkit_lock_who(fd, who, sizeof who);
			sq_log(c, DBMIGRATE_LOG_LOCK_WAIT,
			       "waiting up to %g s for the migration lock on "
			       "%s, held by %s",
			       timeout, c->path, who);
		}
		(void)drvkit_nap(c->host, nap < left ? nap : left, 0.05);
		nap = nap * 2 < SQ_LOCK_MAX ? nap * 2 : SQ_LOCK_MAX;
	}
	free(path);
	if (rc != DBMIGRATE_OK) {
		close(fd);
		return rc;
	}
	c->lock_fd = fd;
	/* The pid, for the message of whoever waits for us. */
	if (drvkit_write_pid(fd) != 0)
		sq_log(c, DBMIGRATE_LOG_DEBUG,
		       "sqlite: cannot write the pid into the lock file: %s",
		       strerror(errno));
	if (waited)
		sq_log(c, DBMIGRATE_LOG_DEBUG, "acquired the migration lock");
	return DBMIGRATE_OK;
}

/* Release the lock, if held: the pid cleared, the file closed. */
void sq_lock_release(dbmigrate_conn *c)
{
	if (c->lock_fd < 0)
		return;
	/* A failed truncate only leaves a stale pid for a message. */
	if (ftruncate(c->lock_fd, 0) != 0)
		sq_log(c, DBMIGRATE_LOG_DEBUG,
		       "sqlite: cannot clear the lock file: %s",
		       strerror(errno));
	close(c->lock_fd);
	c->lock_fd = -1;
}

/* Release the runner lock; see driver.h's unlock(). */
dbmigrate_code sq_unlock(dbmigrate_conn *c, const char *table)
{
	(void)table;
	sq_lock_release(c);
	return DBMIGRATE_OK;
}
