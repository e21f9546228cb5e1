/*
 * mock-snapshot.c - the mock driver's part of `verify`: a scratch
 * database is a new in-memory one (nothing to create on a server, and
 * nothing left behind), and the schema is the catalogue mock-sql.c keeps
 * of the objects statements create, one line each. The mock knows no
 * columns or definitions, so a down that drops a table but forgets an
 * index or a sequence shows; one that gets a column wrong does not.
 */
#include "mock.h"

#include <stdio.h>

/* The driver's own vtable (mock.c): a scratch connection is opened and
   closed exactly as open() and close() do. */
const struct dbmigrate_driver *dbmigrate_driver_entry(void);

/*
 * Optional. Make a new, empty database next to c's and connect to it:
 * for the mock, a fresh in-memory database, gone when scratch_close()
 * disconnects. c's own database is not touched.
 */
dbmigrate_code mock_scratch_open(dbmigrate_conn *c, dbmigrate_conn **out)
{
	struct dbmigrate_params p = { .struct_size = sizeof p, .url = "mock:" };

	mock_log(c, DBMIGRATE_LOG_DEBUG, "mock: scratch database in memory");
	return dbmigrate_driver_entry()->open(c->host, &p, out);
}

/* Optional (with scratch_open). Disconnect scratch; the in-memory
   database goes with it. */
dbmigrate_code mock_scratch_close(dbmigrate_conn *c, dbmigrate_conn *scratch)
{
	(void)c;
	dbmigrate_driver_entry()->close(scratch);
	return DBMIGRATE_OK;
}

/*
 * Optional. One line per object of the catalogue: "table users",
 * "index users_email_idx on users", "trigger t on users". Tracking tables
 * live apart from the catalogue, so table needs no filtering. A
 * file-backed database is reread first when another connection changed
 * it, as every read outside a transaction does.
 */
dbmigrate_code mock_snapshot(dbmigrate_conn *c, const char *table,
			     dbmigrate_line_fn fn, void *ctx)
{
	dbmigrate_code rc;

	(void)table;
	if (!c->in_tx && c->path != NULL &&
	    (rc = mock_state_refresh(c, DBMIGRATE_EDATABASE)) != DBMIGRATE_OK)
		return rc;
	for (size_t i = 0; i < c->state.nobjects; i++) {
		const struct mock_object *o = &c->state.objects[i];
		char line[3 * MOCK_NAME_MAX];

		snprintf(line, sizeof line, "%s %s%s%s",
			 mock_sql_kinds[o->kind].word, o->name,
			 o->owner != NULL ? " on " : "",
			 o->owner != NULL ? o->owner : "");
		if (fn(ctx, line) != 0)
			break;
	}
	return DBMIGRATE_OK;
}
