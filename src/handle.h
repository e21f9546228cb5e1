/*
 * handle.h - the state behind a dbmigrate handle (the public API's
 * opaque struct). It sits below the commands that use it: migrator.c
 * (sessions, up, down, status...), lint.c and verify.c include it; it
 * includes only what describes the state (config, driver).
 */
#ifndef DBMIGRATE_HANDLE_H
#define DBMIGRATE_HANDLE_H

#include <signal.h>
#include <stdatomic.h>
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
	atomic_int files_failed;       /* the session's files failed to load
					  while it connected: stop connecting */
	size_t drv_statement;          /* from the driver's last error */
	unsigned drv_position;
	char driver_name[64];          /* dbmigrate_get("driver") from a URL */
	struct dbmigrate_settings sent; /* what configure() last received */
	bool settings_sent;            /* sent is valid for this connection */
};

#endif
