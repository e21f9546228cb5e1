/*
 * config.c - the migrator's options, where each came from, and the
 * defaults. Every value is validated when it arrives, so an error can
 * say which source gave it ("invalid port \"abc\" from DB_PORT in
 * ./.env"). Values from the environment and .env only fill keys that are
 * still unset, which gives the precedence caller > environment > .env >
 * defaults whatever order the sources are loaded in.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dotenv.h"
#include "errors.h"
#include "url.h"

#ifndef DBMIGRATE_DEFAULT_DRIVER
/* The build names it (src/local.mk): the core names no backend. */
#error "DBMIGRATE_DEFAULT_DRIVER must be defined"
#endif

/* The shortest identifier limit of the backends (PostgreSQL truncates
   longer names, NAMEDATALEN - 1), which would make the table the tool
   creates differ from the one it looks for. */
#define CONFIG_IDENT_MAX 63

/* Each key: its option name and the variable that sets it, if any. */
static const struct config_entry {
	const char *name;
	const char *env;
} config_entries[CONFIG_NKEYS] = {
	[CONFIG_URL] = { "url", "DATABASE_URL" },
	[CONFIG_DRIVER] = { "driver", "DBMIGRATE_DRIVER" },
	[CONFIG_HOST] = { "host", "DB_HOST" },
	[CONFIG_PORT] = { "port", "DB_PORT" },
	[CONFIG_DATABASE] = { "database", "DB_NAME" },
	[CONFIG_USER] = { "user", "DB_USER" },
	[CONFIG_PASSWORD] = { "password", "DB_PASSWORD" },
	[CONFIG_DIR] = { "dir", "DBMIGRATE_DIR" },
	[CONFIG_TABLE] = { "table", "DBMIGRATE_TABLE" },
	[CONFIG_LOCK_TIMEOUT] = { "lock_timeout", NULL },
	[CONFIG_CONNECT_TIMEOUT] = { "connect_timeout", NULL },
	[CONFIG_APPLICATION_NAME] = { "application_name", NULL },
	[CONFIG_STATEMENT_TIMEOUT] = { "statement_timeout",
				       "DBMIGRATE_STATEMENT_TIMEOUT" },
	[CONFIG_SQL_LOCK_TIMEOUT] = { "sql_lock_timeout",
				      "DBMIGRATE_SQL_LOCK_TIMEOUT" },
	[CONFIG_LOCK_RETRIES] = { "lock_retries", "DBMIGRATE_LOCK_RETRIES" },
	[CONFIG_CACHE_DIR] = { "cache_dir", "DBMIGRATE_CACHE_DIR" },
	[CONFIG_SCHEMA] = { "schema", "DBMIGRATE_SCHEMA" },
};

/* The most retries lock_retries allows: each waits, with backoff. */
#define CONFIG_MAX_RETRIES 100

int config_key(const char *name)
{
	for (int k = 0; k < CONFIG_NKEYS; k++)
		if (strcmp(config_entries[k].name, name) == 0)
			return k;
	return -1;
}

const char *config_key_name(enum config_key k)
{
	return config_entries[k].name;
}

/*
 * Parse a non-negative decimal number of seconds ("60", "0.5", ".5").
 * Done by hand rather than with strtod, which depends on the locale's
 * decimal point and accepts hex, exponents, "inf" and "nan".
 */
static int config_parse_seconds(const char *s, double *out)
{
	double v = 0, scale = 0.1;
	int digits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++)
		v = v * 10 + (*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
			v += (*s - '0') * scale;
			scale /= 10;
		}
	/* Four hundred digits overflow to infinity. */
	if (*s != '\0' || digits == 0 || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int config_parse_duration(const char *s, double *seconds)
{
	static const struct { const char *unit; double scale; } units[] = {
		{ "", 1 }, { "s", 1 }, { "ms", 0.001 }, { "min", 60 },
	};
	size_t n = 0;
	char num[64];
	double v;

	while ((s[n] >= '0' && s[n] <= '9') || s[n] == '.')
		n++;
	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (config_parse_seconds(num, &v) != 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(s + n, units[i].unit) == 0) {
			*seconds = v * units[i].scale;
			return 0;
		}
	}
	return -1;
}

/* Parse a whole number, digits only, min..max; -1 when it is not one. */
static int config_parse_uint(const char *s, long min, long max)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v >= min ? (int)v : -1;
}

/* A count of retries, 0..CONFIG_MAX_RETRIES. */
static int config_parse_retries(const char *s)
{
	return config_parse_uint(s, 0, CONFIG_MAX_RETRIES);
}

/* A TCP port, 1..65535. */
static int config_parse_port(const char *s)
{
	return config_parse_uint(s, 1, 65535);
}

/* True for a driver name: [a-z0-9_]+. */
static int config_valid_driver(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

/* Length of the identifier [A-Za-z_][A-Za-z0-9_$]* at s, 0 if none. */
static size_t config_ident_len(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	      s[0] == '_'))
		return 0;
	while ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
	       (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '$')
		i++;
	return i;
}

/*
 * True for a tracking table name: an identifier, optionally qualified
 * by one schema identifier. Kept strict so that the name is safe in SQL
 * and in messages whatever the driver does with it.
 */
static int config_valid_table(const char *s)
{
	size_t n = config_ident_len(s);

	if (n == 0 || n > CONFIG_IDENT_MAX)
		return 0;
	if (s[n] == '.') {
		s += n + 1;
		n = config_ident_len(s);
		if (n == 0 || n > CONFIG_IDENT_MAX)
			return 0;
	}
	return s[n] == '\0';
}

/* Overwrite a secret before freeing it, so it does not linger in the
   heap (and in core dumps) longer than needed. */
static void config_wipe_free(char *s)
{
	if (s == NULL)
		return;
	for (volatile char *p = s; *p != '\0'; p++)
		*p = '\0';
	free(s);
}

/* Free the value of key k and mark it unset. */
static void config_unset(struct config *c, enum config_key k)
{
	/* The URL may embed the password. */
	if (k == CONFIG_PASSWORD || k == CONFIG_URL)
		config_wipe_free(c->value[k]);
	else
		free(c->value[k]);
	c->value[k] = NULL;
	c->source[k] = CONFIG_UNSET;
}

/*
 * Report a bad value for key k. origin names the source ("DB_PORT in
 * ./.env") or is NULL for the caller, whose option the user just typed.
 * The password and the URL are never checked, so their values (secrets)
 * never reach a message.
 */
static dbmigrate_code config_bad(enum config_key k, const char *value,
				 const char *origin, dbmigrate_error *err,
				 const char *hint)
{
	const char *name = config_entries[k].name;

	if (origin != NULL)
		errors_set(err, DBMIGRATE_EUSAGE, "invalid %s \"%s\" from %s",
			   name, value, origin);
	else
		errors_set(err, DBMIGRATE_EUSAGE, "invalid %s \"%s\"", name,
			   value);
	errors_hint(err, "%s", hint);
	return DBMIGRATE_EUSAGE;
}

/* Check value for key k; EUSAGE naming origin when it is bad. */
static dbmigrate_code config_check(enum config_key k, const char *value,
				   const char *origin, dbmigrate_error *err)
{
	double secs;

	switch (k) {
	case CONFIG_DRIVER:
		if (!config_valid_driver(value))
			return config_bad(k, value, origin, err,
					  "A driver name is lowercase letters, "
					  "digits and underscores; `dbmigrate "
					  "drivers` lists those installed.");
		break;
	case CONFIG_PORT:
		if (config_parse_port(value) < 0)
			return config_bad(k, value, origin, err,
					  "A port is a number from 1 to "
					  "65535, such as 5432.");
		break;
	case CONFIG_TABLE:
		if (!config_valid_table(value))
			return config_bad(k, value, origin, err,
					  "A table name is letters, digits, "
					  "underscores and $, not starting "
					  "with a digit, at most 63 characters, "
					  "optionally after a schema name and "
					  "a dot: migrations or "
					  "public.schema_migrations.");
		break;
	case CONFIG_SCHEMA:
		if (config_ident_len(value) == 0 ||
		    config_ident_len(value) > CONFIG_IDENT_MAX ||
		    value[config_ident_len(value)] != '\0')
			return config_bad(k, value, origin, err,
					  "A schema name is letters, digits, "
					  "underscores and $, not starting "
					  "with a digit, at most 63 "
					  "characters: tenant_42.");
		break;
	case CONFIG_LOCK_TIMEOUT:
	case CONFIG_CONNECT_TIMEOUT:
		if (config_parse_seconds(value, &secs) != 0)
			return config_bad(k, value, origin, err,
					  "Give a number of seconds, such as "
					  "60 or 0.5.");
		break;
	case CONFIG_STATEMENT_TIMEOUT:
	case CONFIG_SQL_LOCK_TIMEOUT:
		if (config_parse_duration(value, &secs) != 0)
			return config_bad(k, value, origin, err,
					  "Give a duration: seconds (30, 0.5) "
					  "or a number with the unit ms, s or "
					  "min (500ms, 30s, 2min); 0 leaves "
					  "the server's own limit.");
		break;
	case CONFIG_LOCK_RETRIES:
		if (config_parse_retries(value) < 0)
			return config_bad(k, value, origin, err,
					  "Give a whole number from 0 to 100.");
		break;
	case CONFIG_DIR:
		if (*value == '\0')
			return config_bad(k, value, origin, err,
					  "Give the migrations directory, "
					  "such as migrations or "
					  "db/migrations.");
		break;
	default:
		/* url, host, database, user, password, application_name
		   are handed to the driver as they are. */
		break;
	}
	return DBMIGRATE_OK;
}

/*
 * Keep c->qualified in step with the table and schema keys: the table
 * inside the schema when a schema is set and the table names none (a
 * table that names one is refused with the schema when the migrator
 * opens). Returns nonzero when out of memory.
 */
static int config_qualify(struct config *c)
{
	const char *table = c->value[CONFIG_TABLE] != NULL
				    ? c->value[CONFIG_TABLE]
				    : "migrations";
	const char *schema = c->value[CONFIG_SCHEMA];
	size_t n;

	free(c->qualified);
	c->qualified = NULL;
	if (schema == NULL || strchr(table, '.') != NULL)
		return 0;
	n = strlen(schema) + strlen(table) + 2;
	if ((c->qualified = malloc(n)) == NULL)
		return -1;
	snprintf(c->qualified, n, "%s.%s", schema, table);
	return 0;
}

/* config_set() with the source described for error messages. */
static dbmigrate_code config_set_from(struct config *c, enum config_key k,
				      const char *value,
				      enum config_source src,
				      const char *origin, dbmigrate_error *err)
{
	char *copy;
	dbmigrate_code rc;

	if ((unsigned)k >= CONFIG_NKEYS)
		return errors_set(err, DBMIGRATE_EUSAGE, "unknown option");
	if (value == NULL) {
		config_unset(c, k);
	} else {
		rc = config_check(k, value, origin, err);
		if (rc != DBMIGRATE_OK)
			return rc;
		copy = strdup(value);
		if (copy == NULL)
			return errors_nomem(err);
		config_unset(c, k);
		c->value[k] = copy;
		c->source[k] = src;
	}
	if ((k == CONFIG_TABLE || k == CONFIG_SCHEMA) && config_qualify(c) != 0)
		return errors_nomem(err);
	return DBMIGRATE_OK;
}

dbmigrate_code config_set(struct config *c, enum config_key k,
			  const char *value, enum config_source src,
			  dbmigrate_error *err)
{
	return config_set_from(c, k, value, src, NULL, err);
}

/* True when source a takes precedence over source b. */
static int config_outranks(enum config_source a, enum config_source b)
{
	/* The enum lists the sources from the strongest. */
	return a != CONFIG_UNSET && (b == CONFIG_UNSET || a < b);
}

/*
 * Whether a value for key k from src may fill it. Only unset keys are
 * filled; a later line of the same .env replaces an earlier one. A URL
 * is not taken from a source weaker than one that already gave a
 * connection setting: with `--host x` and DATABASE_URL in the
 * environment the URL would otherwise win in the driver and the flag
 * would be ignored without a word.
 */
static int config_may_fill(const struct config *c, enum config_key k,
			   enum config_source src)
{
	static const enum config_key parts[] = {
		CONFIG_HOST, CONFIG_PORT, CONFIG_DATABASE, CONFIG_USER,
		CONFIG_PASSWORD
	};

	if (c->source[k] != CONFIG_UNSET &&
	    !(c->source[k] == CONFIG_FROM_DOTENV && src == CONFIG_FROM_DOTENV))
		return 0;
	if (k == CONFIG_URL)
		for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
			if (config_outranks(c->source[parts[i]], src))
				return 0;
	return 1;
}

/* Fill k from a variable named var of src, described as origin. */
static dbmigrate_code config_fill(struct config *c, enum config_key k,
				  const char *value, enum config_source src,
				  const char *origin, dbmigrate_error *err)
{
	/* An empty variable counts as unset: a template .env often lists
	   every variable with no value. */
	if (value == NULL || *value == '\0' || !config_may_fill(c, k, src))
		return DBMIGRATE_OK;
	return config_set_from(c, k, value, src, origin, err);
}

/* What the dotenv callback needs. */
struct config_dotenv_ctx {
	struct config *c;
	const char *path;
	dbmigrate_error *err;
};

/* dotenv_fn: take the variables dbmigrate knows, ignore the others. */
static int config_dotenv_var(void *ctx, const char *key, const char *value,
			     unsigned line)
{
	struct config_dotenv_ctx *d = ctx;
	char origin[512];

	for (int k = 0; k < CONFIG_NKEYS; k++) {
		const char *env = config_entries[k].env;
		dbmigrate_code rc;

		if (env == NULL || strcmp(env, key) != 0)
			continue;
		snprintf(origin, sizeof origin, "%s in %s", env, d->path);
		rc = config_fill(d->c, (enum config_key)k, value,
				 CONFIG_FROM_DOTENV, origin, d->err);
		if (rc == DBMIGRATE_EUSAGE)
			errors_location(d->err, d->path, line, 0, NULL, 0);
		return (int)rc;
	}
	return 0;
}

dbmigrate_code config_load_env(struct config *c, const char *dotenv_path,
			       dbmigrate_error *err)
{
	struct config_dotenv_ctx d = { c, dotenv_path, err };
	char origin[128];

	if (d.path == NULL)
		d.path = ".env";

	for (int k = 0; k < CONFIG_NKEYS; k++) {
		const char *env = config_entries[k].env;
		dbmigrate_code rc;

		if (env == NULL)
			continue;
		snprintf(origin, sizeof origin, "%s in the environment", env);
		rc = config_fill(c, (enum config_key)k, getenv(env),
				 CONFIG_FROM_ENV, origin, err);
		if (rc != DBMIGRATE_OK)
			return rc;
	}
	return dotenv_load(d.path, config_dotenv_var, &d, err);
}

/* True when path is a directory. */
static int config_isdir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *config_dir(const struct config *c)
{
	if (c->value[CONFIG_DIR] != NULL)
		return c->value[CONFIG_DIR];
	/* A missing ./migrations falls back to the Rails-style layout. */
	if (!config_isdir("migrations") && config_isdir("db/migrations"))
		return "db/migrations";
	return "migrations";
}

const char *config_cache_dir(const struct config *c)
{
	const char *v = c->value[CONFIG_CACHE_DIR];

	return v == NULL || *v == '\0' || strcmp(v, "off") == 0 ? NULL : v;
}

const char *config_table(const struct config *c)
{
	if (c->qualified != NULL)
		return c->qualified;
	return c->value[CONFIG_TABLE] != NULL ? c->value[CONFIG_TABLE]
					      : "migrations";
}

const char *config_driver(const struct config *c, char *buf, size_t n)
{
	const char *name;

	if (c->value[CONFIG_DRIVER] != NULL)
		return c->value[CONFIG_DRIVER];
	if (c->value[CONFIG_URL] != NULL &&
	    (name = url_driver(c->value[CONFIG_URL], buf, n)) != NULL)
		return name;
	return DBMIGRATE_DEFAULT_DRIVER;
}

/* The seconds of key k (validated by config_set), or def when unset. */
static double config_seconds(const struct config *c, enum config_key k,
			     double def)
{
	double v;

	if (c->value[k] == NULL || config_parse_seconds(c->value[k], &v) != 0)
		return def;
	return v;
}

double config_lock_timeout(const struct config *c)
{
	return config_seconds(c, CONFIG_LOCK_TIMEOUT, 60);
}

double config_connect_timeout(const struct config *c)
{
	return config_seconds(c, CONFIG_CONNECT_TIMEOUT, 0);
}

/* The duration of key k (validated by config_set), or 0 when unset. */
static double config_duration(const struct config *c, enum config_key k)
{
	double v;

	if (c->value[k] == NULL || config_parse_duration(c->value[k], &v) != 0)
		return 0;
	return v;
}

double config_statement_timeout(const struct config *c)
{
	return config_duration(c, CONFIG_STATEMENT_TIMEOUT);
}

double config_sql_lock_timeout(const struct config *c)
{
	return config_duration(c, CONFIG_SQL_LOCK_TIMEOUT);
}

int config_lock_retries(const struct config *c)
{
	if (c->value[CONFIG_LOCK_RETRIES] == NULL)
		return -1;
	return config_parse_retries(c->value[CONFIG_LOCK_RETRIES]);
}

void config_free(struct config *c)
{
	for (int k = 0; k < CONFIG_NKEYS; k++)
		config_unset(c, (enum config_key)k);
	free(c->qualified);
	c->qualified = NULL;
}
