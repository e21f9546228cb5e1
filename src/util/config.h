/*
 * config.h - the migrator's options and where each came from.
 * Precedence: what the caller sets (the CLI's flags) > process
 * environment > ./.env > built-in defaults. config_set() validates each
 * value as it arrives, so a bad value is reported against its source.
 */
#ifndef DBMIGRATE_CONFIG_H
#define DBMIGRATE_CONFIG_H

#include "dbmigrate.h"

enum config_key {
	CONFIG_URL,
	CONFIG_DRIVER,
	CONFIG_HOST,
	CONFIG_PORT,
	CONFIG_DATABASE,
	CONFIG_USER,
	CONFIG_PASSWORD,
	CONFIG_DIR,
	CONFIG_TABLE,
	CONFIG_LOCK_TIMEOUT,
	CONFIG_CONNECT_TIMEOUT,
	CONFIG_APPLICATION_NAME,
	CONFIG_STATEMENT_TIMEOUT, /* the migrations' statements, not the tool's */
	CONFIG_SQL_LOCK_TIMEOUT,  /* their wait for a table or row lock */
	CONFIG_LOCK_RETRIES,      /* retries of a migration that gave up waiting */
	CONFIG_CACHE_DIR,         /* the status cache's directory; "off" */
	CONFIG_SCHEMA,            /* the schema the migrations run in */
	CONFIG_NKEYS
};

enum config_source {
	CONFIG_UNSET,
	CONFIG_FROM_CALLER,  /* dbmigrate_set(): the CLI's flags */
	CONFIG_FROM_ENV,     /* the process environment */
	CONFIG_FROM_DOTENV   /* the .env file */
};

struct config {
	char *value[CONFIG_NKEYS];
	enum config_source source[CONFIG_NKEYS];
	char *qualified; /* "schema.table" when a schema is set and the
			    table is not qualified, else NULL */
};

/* The key named name ("url", "lock_timeout"...), or -1. */
int config_key(const char *name);

/* The name of key k. */
const char *config_key_name(enum config_key k);

/*
 * Validate and set key k (NULL value unsets). Checks: driver is
 * [a-z0-9_]+; port is 1..65535; timeouts are non-negative numbers;
 * table is [A-Za-z_][A-Za-z0-9_$]* optionally "schema." qualified;
 * schema is such an identifier, unqualified; dir not empty. Errors are DBMIGRATE_EUSAGE naming the key and the source.
 */
dbmigrate_code config_set(struct config *c, enum config_key k,
			  const char *value, enum config_source src,
			  dbmigrate_error *err);

/*
 * Fill unset keys from the environment (DATABASE_URL, DB_HOST, DB_PORT,
 * DB_NAME, DB_USER, DB_PASSWORD, DBMIGRATE_DRIVER, DBMIGRATE_DIR,
 * DBMIGRATE_TABLE, DBMIGRATE_STATEMENT_TIMEOUT, DBMIGRATE_SQL_LOCK_TIMEOUT,
 * DBMIGRATE_LOCK_RETRIES, DBMIGRATE_CACHE_DIR, DBMIGRATE_SCHEMA), then
 * from the dotenv
 * file (same names). Only
 * the variables listed are read from .env; other lines are ignored.
 */
dbmigrate_code config_load_env(struct config *c, const char *dotenv_path,
			       dbmigrate_error *err);

/* The migrations directory: the dir key, else ./migrations, else
   ./db/migrations when only that one exists. */
const char *config_dir(const struct config *c);

/* The status cache's directory (src/files/cache.h): the cache_dir key unless
   it is empty or "off"; else NULL, no cache. */
const char *config_cache_dir(const struct config *c);

/* The tracking table: the table key, else "migrations"; qualified by
   the schema key when that is set and the table is not qualified. */
const char *config_table(const struct config *c);

/* The driver name: the driver key, else the URL's scheme, else
   "postgres". buf (size n) holds a scheme-derived name. */
const char *config_driver(const struct config *c, char *buf, size_t n);

/* The lock timeout in seconds (default 60) and connect timeout (0). */
double config_lock_timeout(const struct config *c);
double config_connect_timeout(const struct config *c);

/*
 * Parse a duration: a non-negative number of seconds ("30", "0.5"), or
 * a number with the unit ms, s or min ("500ms", "30s", "2min"). Returns
 * 0 and sets *seconds, or -1 when s is not one.
 */
int config_parse_duration(const char *s, double *seconds);

/* The limits on the migrations' own statements, in seconds (0: the
   server's own). */
double config_statement_timeout(const struct config *c);
double config_sql_lock_timeout(const struct config *c);

/* The lock_retries key, or -1 when unset (the caller's default then
   depends on whether a lock timeout is in effect). */
int config_lock_retries(const struct config *c);

/* Free every value. */
void config_free(struct config *c);

#endif
