/*
 * handle.c - a dbmigrate handle: made, configured and closed; events to
 * the caller's callback; the services the host gives a driver (errors,
 * log, the interrupt flag); the small getters of the public API. The
 * bottom of the migrator: it calls no other part of it.
 */
#include "handle.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "errors.h"
#include "url.h"

#ifndef DBMIGRATE_VERSION
#define DBMIGRATE_VERSION "unknown"
#endif

/* Seconds on the monotonic clock. */
double handle_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Deliver an event to the caller's callback, if any. */
void handle_emit(dbmigrate *m, const dbmigrate_event *ev)
{
	if (m->on_event != NULL)
		m->on_event(ev, m->event_ctx);
}

/* Emit a message event of the given kind. */
void handle_message(dbmigrate *m, dbmigrate_event_kind kind,
		    const char *message)
{
	dbmigrate_event ev = { .kind = kind, .message = message };

	handle_emit(m, &ev);
}

/* Emit a formatted warning. */
void handle_warn(dbmigrate *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	handle_message(m, DBMIGRATE_EVENT_WARNING, buf);
}

/* host->error: copy the driver's error into the handle. */
static void handle_host_error(void *ctx, const struct dbmigrate_driver_error *e)
{
	dbmigrate *m = ctx;
	dbmigrate_code code = e->code != DBMIGRATE_OK ? e->code : DBMIGRATE_EDATABASE;

	errors_set(&m->err, code, "%s", e->message != NULL ? e->message : "database error");
	if (e->detail != NULL)
		errors_detail(&m->err, "%s", e->detail);
	if (e->hint != NULL)
		errors_hint(&m->err, "%s", e->hint);
	errors_sqlstate(&m->err, e->sqlstate);
	errors_backend_code(&m->err, e->backend_code);
	m->drv_statement = e->statement;
	m->drv_position = e->position;
}

/* host->log: forward as an event. */
static void handle_host_log(void *ctx, enum dbmigrate_log_level level,
			    const char *message)
{
	static const dbmigrate_event_kind kinds[] = {
		[DBMIGRATE_LOG_DEBUG] = DBMIGRATE_EVENT_DEBUG,
		[DBMIGRATE_LOG_NOTICE] = DBMIGRATE_EVENT_NOTICE,
		[DBMIGRATE_LOG_WARNING] = DBMIGRATE_EVENT_WARNING,
		[DBMIGRATE_LOG_LOCK_WAIT] = DBMIGRATE_EVENT_LOCK_WAIT,
	};
	dbmigrate_event_kind kind = DBMIGRATE_EVENT_DEBUG;

	if ((unsigned)level < sizeof kinds / sizeof kinds[0])
		kind = kinds[level];
	handle_message(ctx, kind, message);
}

/* host->interrupted: the user's interrupt. */
static int handle_host_interrupted(void *ctx)
{
	dbmigrate *m = ctx;

	return m->interrupted != 0;
}

dbmigrate *dbmigrate_new(void)
{
	dbmigrate *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->err.code = DBMIGRATE_OK;
	m->host.abi_version = DBMIGRATE_DRIVER_ABI_VERSION;
	m->host.struct_size = sizeof m->host;
	m->host.ctx = m;
	m->host.error = handle_host_error;
	m->host.log = handle_host_log;
	m->host.interrupted = handle_host_interrupted;
	driver_host_services(&m->host);
	m->drv_statement = DBMIGRATE_NO_STATEMENT;
	return m;
}

dbmigrate_code dbmigrate_set(dbmigrate *m, const char *key, const char *value)
{
	int k;

	errors_clear(&m->err);
	if (m->drv.conn != NULL)
		return errors_set(&m->err, DBMIGRATE_EUSAGE,
				  "options cannot change once the migrator is open");
	k = key != NULL ? config_key(key) : -1;
	if (k < 0)
		return errors_set(&m->err, DBMIGRATE_EUSAGE, "unknown option \"%s\"",
				  key != NULL ? key : "(null)");
	return config_set(&m->cfg, (enum config_key)k, value, CONFIG_FROM_CALLER, &m->err);
}

const char *dbmigrate_get(dbmigrate *m, const char *key)
{
	int k = key != NULL ? config_key(key) : -1;

	switch (k) {
	case -1:
	case CONFIG_PASSWORD:
		return NULL;
	case CONFIG_DIR:
		return config_dir(&m->cfg);
	case CONFIG_TABLE:
		return config_table(&m->cfg);
	case CONFIG_DRIVER:
		return config_driver(&m->cfg, m->driver_name, sizeof m->driver_name);
	default:
		return m->cfg.value[k];
	}
}

dbmigrate_code dbmigrate_load_env(dbmigrate *m, const char *dotenv_path)
{
	errors_clear(&m->err);
	return config_load_env(&m->cfg, dotenv_path != NULL ? dotenv_path : ".env",
			       &m->err);
}

void dbmigrate_on_event(dbmigrate *m, dbmigrate_event_fn fn, void *ctx)
{
	m->on_event = fn;
	m->event_ctx = ctx;
}

const dbmigrate_error *dbmigrate_last_error(const dbmigrate *m)
{
	return &m->err;
}

const char *dbmigrate_errmsg(const dbmigrate *m)
{
	return m->err.message != NULL ? m->err.message : "";
}

void dbmigrate_interrupt(dbmigrate *m)
{
	m->interrupted = 1;
	driver_cancel(&m->drv);
}

void dbmigrate_close(dbmigrate *m)
{
	if (m == NULL)
		return;
	driver_close(&m->drv);
	free(m->drv.path);
	config_free(&m->cfg);
	errors_clear(&m->err);
	free(m);
}

void dbmigrate_mask_password(char *s)
{
	url_mask(s);
}

dbmigrate_code dbmigrate_list_drivers(dbmigrate_driver_fn fn, void *ctx)
{
	return driver_list(fn, ctx);
}

const char *dbmigrate_version(void)
{
	return DBMIGRATE_VERSION;
}

unsigned dbmigrate_driver_abi(void)
{
	return DBMIGRATE_DRIVER_ABI_VERSION;
}

const char *dbmigrate_driver_dir(void)
{
	return driver_installed_dir();
}

const char *dbmigrate_code_name(dbmigrate_code code)
{
	static const char *const names[] = {
		[DBMIGRATE_OK] = "success",
		[DBMIGRATE_EMIGRATION] = "migration failed",
		[DBMIGRATE_EUSAGE] = "usage error",
		[DBMIGRATE_EFILES] = "bad migration files",
		[DBMIGRATE_ECONNECT] = "cannot connect",
		[DBMIGRATE_ELOCK] = "lock not acquired",
		[DBMIGRATE_EINTERRUPTED] = "interrupted",
		[DBMIGRATE_EDATABASE] = "database error",
		[DBMIGRATE_EIO] = "file error",
		[DBMIGRATE_ENOMEM] = "out of memory",
		[DBMIGRATE_EUNSUPPORTED] = "not supported by the driver",
	};

	if ((unsigned)code < sizeof names / sizeof names[0] && names[code] != NULL)
		return names[code];
	return "unknown error";
}
