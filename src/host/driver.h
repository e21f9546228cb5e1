/*
 * driver.h - loading a driver and calling it. driver_load() finds
 * <name>.so in DBMIGRATE_DRIVER_PATH then the installed directory (never
 * the current directory), dlopens it RTLD_NOW|RTLD_LOCAL and checks the
 * vtable's identity before any function pointer is touched. The
 * driver_* wrappers turn a NULL optional operation into a clear
 * "not supported" error. Drivers are never unloaded (see driver.c).
 */
#ifndef DBMIGRATE_DRIVER_INTERNAL_H
#define DBMIGRATE_DRIVER_INTERNAL_H

#include <stddef.h>

#include "dbmigrate.h"
#include "dbmigrate/driver.h"

/*
 * The operation op of d's vtable, or NULL when the driver lacks it or
 * its ABI predates it (the member lies beyond its struct_size). Every
 * member "since ABI 5" or later is read through this; those of ABI 4,
 * the oldest loaded, are always there.
 */
#define DRIVER_OP(d, op)                                                   \
	(offsetof(struct dbmigrate_driver, op) + sizeof((d)->vt->op) <=    \
			 (d)->vt->struct_size                              \
		 ? (d)->vt->op                                             \
		 : NULL)

struct driver {
	const struct dbmigrate_driver *vt;
	char *path;           /* the file it was loaded from */
	dbmigrate_conn *conn; /* after driver_open() */
};

/* Called for each candidate driver file by driver_list(). */
typedef void (*driver_list_fn)(const char *name, const char *path,
			       const char *description, const char *problem,
			       void *ctx);

/*
 * Load the driver called name, or else the one that lists name among
 * its URL schemes (postgresql). Errors (DBMIGRATE_ECONNECT): a name that
 * is not [a-z0-9_]+, no such driver (listing where it looked), a file
 * that is not a regular file, dlopen failure (with dlerror and a hint to
 * check ldd), a missing entry symbol, a wrong ABI version or struct size.
 * d must not hold a driver yet; on success d->vt and d->path (the
 * caller frees it) are set and d->conn is NULL.
 */
dbmigrate_code driver_load(const char *name, struct driver *d,
			   dbmigrate_error *err);

/*
 * Check a driver's vtable as driver_load() does once the file is open:
 * abi_version first (DBMIGRATE_DRIVER_ABI_MIN..DBMIGRATE_DRIVER_ABI_VERSION,
 * with a message of its own for the drivers of ABI 1 to 3), then
 * struct_size, then that its name equals name, then the mandatory
 * operations and those its capabilities promise. path
 * names the file in messages. DBMIGRATE_ECONNECT when it is refused.
 */
dbmigrate_code driver_check(const struct dbmigrate_driver *vt,
			    const char *name, const char *path,
			    dbmigrate_error *err);

/*
 * Report each <name>.so of the search path, loadable or not, in search
 * order (sorted by name within a directory). A driver hidden by one of
 * the same name earlier on the path is reported with that problem.
 */
dbmigrate_code driver_list(driver_list_fn fn, void *ctx);

/* The installed driver directory (DBMIGRATE_DRIVER_DIR), searched after
   the directories of DBMIGRATE_DRIVER_PATH. */
const char *driver_installed_dir(void);

/*
 * Connect. err is cleared first, and host->error() must write into the
 * same err (the migrator's host does: both are the handle's error). So
 * when open fails, err already holds what the driver reported; if the
 * driver failed without reporting, a generic error naming it is set.
 */
dbmigrate_code driver_open(struct driver *d, const struct dbmigrate_host *host,
			   const struct dbmigrate_params *p,
			   dbmigrate_error *err);

/* Fill the services a host offers drivers (words, split_postgres,
   classify_txcontrol); the caller sets the rest of h. */
void driver_host_services(struct dbmigrate_host *h);

/* Close the connection, keep the driver loaded. */
void driver_close(struct driver *d);

/* Optional lock ops: DBMIGRATE_EUNSUPPORTED-free no-ops when absent
   (a driver without locking simply cannot exclude other runners). */
dbmigrate_code driver_lock(struct driver *d, const char *table, double timeout);
dbmigrate_code driver_unlock(struct driver *d, const char *table);

/* What the driver says of one statement (*out zeroed first); nothing
   when it has no classify operation. Needs no connection. */
void driver_classify(const struct driver *d, const struct dbmigrate_host *host,
		     const char *sql, size_t len,
		     struct dbmigrate_stmt_class *out);

/* Cancel; nothing when absent. Async-signal-safe. */
void driver_cancel(struct driver *d);

/*
 * verify's operations. driver_scratch_open() and
 * driver_snapshot() fail with DBMIGRATE_EUNSUPPORTED in err when the
 * driver lacks them; driver_scratch_close() disconnects and drops the
 * scratch database made on d's connection.
 */
dbmigrate_code driver_scratch_open(struct driver *d, dbmigrate_conn **out,
				   dbmigrate_error *err);
dbmigrate_code driver_scratch_close(struct driver *d, dbmigrate_conn *scratch);
dbmigrate_code driver_snapshot(struct driver *d, const char *table,
			       dbmigrate_line_fn fn, void *ctx,
			       dbmigrate_error *err);

/*
 * Lint one statement: the driver's findings go to fn. Needs no
 * connection. Returns 0 without calling fn when the driver has no lint
 * operation (it has no rules), else 1 with *rc set to what the driver
 * returned.
 */
int driver_lint(const struct driver *d, const struct dbmigrate_host *host,
		const char *sql, size_t len, dbmigrate_lint_fn fn, void *ctx,
		dbmigrate_code *rc);

/*
 * Set the limits on the migrations' statements (configure). A driver
 * without the operation accepts all-zero settings (the server's
 * own limits) and refuses others with DBMIGRATE_EUNSUPPORTED in err.
 */
/*
 * The columns of table through the driver's table_columns() (ABI 4);
 * DBMIGRATE_EUNSUPPORTED, with what for in the message, when the
 * driver lacks it.
 */
dbmigrate_code driver_table_columns(struct driver *d, const char *table,
				    int *exists, dbmigrate_name_fn fn,
				    void *ctx, const char *what,
				    dbmigrate_error *err);

/* The rows of table through the driver's read_table() (ABI 4); as
   driver_table_columns() when the driver lacks it. */
dbmigrate_code driver_read_table(struct driver *d, const char *table,
				 const char *const *columns, size_t n,
				 dbmigrate_values_fn fn, void *ctx,
				 const char *what, dbmigrate_error *err);

dbmigrate_code driver_configure(struct driver *d,
				const struct dbmigrate_settings *s,
				dbmigrate_error *err);

#endif
