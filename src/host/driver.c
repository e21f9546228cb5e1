/*
 * driver.c - calling a loaded driver: the NULL-safe wrappers of its
 * operations (an optional operation the driver lacks gets the answer the
 * core expects, in one place), and the services the host offers every
 * driver (driver_host_services()). Finding and checking drivers is
 * driver-load.c's.
 */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "lexer.h"
#include "strbuf.h"
#include "txcontrol.h"

dbmigrate_code driver_open(struct driver *d, const struct dbmigrate_host *host,
			   const struct dbmigrate_params *p,
			   dbmigrate_error *err)
{
	dbmigrate_conn *conn = NULL;
	dbmigrate_code rc;

	if (d->conn != NULL)
		return DBMIGRATE_OK;
	errors_clear(err);
	rc = d->vt->open(host, p, &conn);
	if (rc == DBMIGRATE_OK && conn != NULL) {
		d->conn = conn;
		return DBMIGRATE_OK;
	}
	if (conn != NULL)
		d->vt->close(conn); /* the contract says NULL; be safe */
	if (rc == DBMIGRATE_OK)
		rc = DBMIGRATE_ECONNECT;
	/* host->error() writes into err: a code there means the driver
	   said what went wrong. */
	if (err->code == DBMIGRATE_OK) {
		errors_set(err, rc, "driver %s could not connect",
			   d->vt->name);
		errors_detail(err, "The driver failed without describing the "
				   "error.");
		errors_hint(err, "Report this as a bug of the %s driver (%s).",
			    d->vt->name, d->path != NULL ? d->path : "?");
	}
	return rc;
}

void driver_host_services(struct dbmigrate_host *h)
{
	h->words = lexer_words;
	h->split_postgres = lexer_split_postgres;
	h->classify_txcontrol = txcontrol_classify;
}

void driver_close(struct driver *d)
{
	if (d->vt != NULL && d->conn != NULL)
		d->vt->close(d->conn);
	d->conn = NULL;
}

dbmigrate_code driver_lock(struct driver *d, const char *table, double timeout)
{
	if (d->vt->lock == NULL)
		return DBMIGRATE_OK;
	return d->vt->lock(d->conn, table, timeout);
}

dbmigrate_code driver_unlock(struct driver *d, const char *table)
{
	if (d->vt->unlock == NULL)
		return DBMIGRATE_OK;
	return d->vt->unlock(d->conn, table);
}

void driver_classify(const struct driver *d, const struct dbmigrate_host *host,
		     const char *sql, size_t len,
		     struct dbmigrate_stmt_class *out)
{
	memset(out, 0, sizeof *out);
	if (d->vt->classify != NULL)
		d->vt->classify(host, sql, len, out);
}

void driver_cancel(struct driver *d)
{
	/* Called from a signal handler, possibly before anything was
	   loaded or after the connection closed. */
	if (d->vt != NULL && d->vt->cancel != NULL && d->conn != NULL)
		d->vt->cancel(d->conn);
}

dbmigrate_code driver_configure(struct driver *d,
				const struct dbmigrate_settings *s,
				dbmigrate_error *err)
{
	if (d->vt->configure != NULL)
		return d->vt->configure(d->conn, s);
	if (s->lock_timeout <= 0 && s->statement_timeout <= 0 && s->lock_retries == 0)
		return DBMIGRATE_OK;
	/* Silently running without the limit asked for would defeat its
	   purpose, which is to protect a production database. */
	errors_set(err, DBMIGRATE_EUNSUPPORTED,
		   "driver %s cannot limit the migrations' statements (statement timeout, lock timeout, lock retries)",
		   d->vt->name);
	errors_detail(err, "The driver has no configure operation.");
	errors_hint(err, "Remove --statement-timeout, --sql-lock-timeout and --lock-retries (and the DBMIGRATE_ variables and -- dbmigrate: directives that set them), or use a driver that offers them.");
	return DBMIGRATE_EUNSUPPORTED;
}

int driver_lint(const struct driver *d, const struct dbmigrate_host *host,
		const char *sql, size_t len, dbmigrate_lint_fn fn, void *ctx,
		dbmigrate_code *rc)
{
	*rc = DBMIGRATE_OK;
	if (d->vt->lint == NULL)
		return 0;
	*rc = d->vt->lint(host, sql, len, fn, ctx);
	return 1;
}

/* The error for a verify operation the driver lacks. */
static dbmigrate_code driver_no_verify(const struct driver *d,
				       dbmigrate_error *err)
{
	errors_set(err, DBMIGRATE_EUNSUPPORTED,
		   "driver %s cannot verify migrations (no scratch database or schema snapshot)",
		   d->vt->name);
	errors_detail(err, "The driver has no scratch_open, scratch_close and snapshot operations.");
	errors_hint(err, "Run verify with a driver that offers them (`dbmigrate drivers` lists the drivers), or update this one.");
	return DBMIGRATE_EUNSUPPORTED;
}

dbmigrate_code driver_scratch_open(struct driver *d, dbmigrate_conn **out,
				   dbmigrate_error *err)
{
	*out = NULL;
	if (d->vt->scratch_open == NULL || d->vt->scratch_close == NULL ||
	    d->vt->snapshot == NULL)
		return driver_no_verify(d, err);
	return d->vt->scratch_open(d->conn, out);
}

dbmigrate_code driver_scratch_close(struct driver *d, dbmigrate_conn *scratch)
{
	/* Only reached after scratch_open(), which needs scratch_close. */
	if (d->vt->scratch_close == NULL || scratch == NULL)
		return DBMIGRATE_OK;
	return d->vt->scratch_close(d->conn, scratch);
}

dbmigrate_code driver_snapshot(struct driver *d, const char *table,
			       dbmigrate_line_fn fn, void *ctx,
			       dbmigrate_error *err)
{
	if (d->vt->snapshot == NULL)
		return driver_no_verify(d, err);
	return d->vt->snapshot(d->conn, table, fn, ctx);
}

/* The error of a driver without the operations that read other tables. */
static dbmigrate_code driver_no_tables(struct driver *d, const char *what,
				       dbmigrate_error *err)
{
	errors_set(err, DBMIGRATE_EUNSUPPORTED,
		   "driver %s cannot read other tables of the database (%s)",
		   d->vt->name, what);
	errors_detail(err, "The driver does not offer table_columns() and "
			   "read_table().");
	return DBMIGRATE_EUNSUPPORTED;
}

dbmigrate_code driver_table_columns(struct driver *d, const char *table,
				    int *exists, dbmigrate_name_fn fn,
				    void *ctx, const char *what,
				    dbmigrate_error *err)
{
	*exists = 0;
	if (d->vt->table_columns == NULL)
		return driver_no_tables(d, what, err);
	return d->vt->table_columns(d->conn, table, exists, fn, ctx);
}

dbmigrate_code driver_read_table(struct driver *d, const char *table,
				 const char *const *columns, size_t n,
				 dbmigrate_values_fn fn, void *ctx,
				 const char *what, dbmigrate_error *err)
{
	if (d->vt->read_table == NULL)
		return driver_no_tables(d, what, err);
	return d->vt->read_table(d->conn, table, columns, n, fn, ctx);
}
