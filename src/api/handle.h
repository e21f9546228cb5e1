/*
 * handle.h - the state behind a dbmigrate handle (the public API's
 * opaque struct), and the event helpers of handle.c. It sits below
 * everything that uses it: the migrator's parts (session.c, prepare.c,
 * execute.c, migrator.c), lint.c and verify.c; it includes only what
 * describes the state (config, driver).
 */
#ifndef DBMIGRATE_HANDLE_H
#define DBMIGRATE_HANDLE_H

#include <signal.h>
#include <stdbool.h>

#include "config.h"
#include "dbmigrate.h"
#include "driver.h"

struct dbmigrate {
	struct config cfg;
	dbmigrate_error err;           /* the last call's failure */
	dbmigrate_event_fn on_event;
	void *event_ctx;
	struct driver drv;             /* drv.vt once loaded, drv.conn once open */
	struct dbmigrate_host host;    /* what the driver gets; ctx = this */
	volatile sig_atomic_t interrupted; /* set by dbmigrate_interrupt() */
	size_t drv_statement;          /* from the driver's last error */
	unsigned drv_position;
	char driver_name[64];          /* dbmigrate_get("driver") from a URL */
	struct dbmigrate_settings sent; /* what configure() last received */
	bool settings_sent;            /* sent is valid for this connection */
};

/* handle.c: events to the caller; used by every part of the migrator. */

/* Seconds on the monotonic clock. */
double handle_now(void);

/* Deliver an event to the caller's callback, if any. */
void handle_emit(dbmigrate *m, const dbmigrate_event *ev);

/* Emit a message event of the given kind. */
void handle_message(dbmigrate *m, dbmigrate_event_kind kind,
		    const char *message);

/* Emit a formatted warning. */
void handle_warn(dbmigrate *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
