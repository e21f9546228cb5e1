/*
 * bad_name.c - a test driver that calls itself "other" in its vtable
 * while its file is bad_name.so. Everything else is a complete driver
 * (every operation fails politely), so only the name check can
 * refuse it; copied to other.so it loads, which the tests use as a
 * second valid driver, serving the URL schemes otherdb and elsewhere.
 */
#include <dbmigrate/driver.h>

/* Every operation refuses: this driver is only ever loaded. */
static dbmigrate_code bad_name_open(const struct dbmigrate_host *host,
				    const struct dbmigrate_params *params,
				    dbmigrate_conn **out)
{
	static const struct dbmigrate_driver_error e = {
		.code = DBMIGRATE_ECONNECT,
		.message = "the bad_name test driver cannot connect",
		.statement = DBMIGRATE_NO_STATEMENT,
	};

	(void)params;
	*out = NULL;
	host->error(host->ctx, &e);
	return DBMIGRATE_ECONNECT;
}

/* split: the whole text is one statement. */
static dbmigrate_code bad_name_split(const struct dbmigrate_host *host,
				     const char *text, size_t len,
				     dbmigrate_span_fn fn, void *ctx,
				     struct dbmigrate_split_error *err)
{
	(void)host;
	(void)text;
	(void)err;
	return len > 0 && fn(ctx, 0, len) != 0 ? DBMIGRATE_ENOMEM : DBMIGRATE_OK;
}

/* Nothing to free: open never succeeds. */
static void bad_name_close(dbmigrate_conn *c)
{
	(void)c;
}

/* begin, commit, rollback: unreachable without a connection. */
static dbmigrate_code bad_name_tx(dbmigrate_conn *c)
{
	(void)c;
	return DBMIGRATE_EUNSUPPORTED;
}

/* ensure_table and drop_table. */
static dbmigrate_code bad_name_table(dbmigrate_conn *c, const char *table)
{
	(void)c;
	(void)table;
	return DBMIGRATE_EUNSUPPORTED;
}

/* table_exists. */
static dbmigrate_code bad_name_exists(dbmigrate_conn *c, const char *table,
				      int *exists)
{
	(void)c;
	(void)table;
	*exists = 0;
	return DBMIGRATE_EUNSUPPORTED;
}

/* read_rows. */
static dbmigrate_code bad_name_rows(dbmigrate_conn *c, const char *table,
				    dbmigrate_row_fn fn, void *ctx)
{
	(void)c;
	(void)table;
	(void)fn;
	(void)ctx;
	return DBMIGRATE_EUNSUPPORTED;
}

/* apply. */
static dbmigrate_code bad_name_apply(dbmigrate_conn *c, const char *table,
				     const struct dbmigrate_stmt *stmts,
				     size_t n, const struct dbmigrate_row *record,
				     const char *unrecord_id)
{
	(void)c;
	(void)table;
	(void)stmts;
	(void)n;
	(void)record;
	(void)unrecord_id;
	return DBMIGRATE_EUNSUPPORTED;
}

/* The URL schemes it serves besides its name. */
static const char *const bad_name_schemes[] = { "otherdb", "elsewhere", NULL };

static const struct dbmigrate_driver bad_name_driver = {
	.abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
	.struct_size = sizeof(struct dbmigrate_driver),
	.name = "other",
	.description = "a test driver that calls itself other",
	.caps = DBMIGRATE_CAP_TRANSACTIONAL_DDL,
	.schemes = bad_name_schemes,
	.split = bad_name_split,
	.open = bad_name_open,
	.close = bad_name_close,
	.begin = bad_name_tx,
	.commit = bad_name_tx,
	.rollback = bad_name_tx,
	.ensure_table = bad_name_table,
	.table_exists = bad_name_exists,
	.read_rows = bad_name_rows,
	.drop_table = bad_name_table,
	.apply = bad_name_apply,
};

DBMIGRATE_DRIVER_DEFINE(bad_name_driver)
