/*
 * check_config.c - config.c and url.c: option validation with errors
 * naming the value and its source, the precedence caller > environment
 * > .env > defaults, .env never reaching the process environment, the
 * defaults, and the URL helpers (driver from the scheme, passwords
 * masked). Check forks every test, so setenv() here stays local.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "testutil.h"
#include "url.h"

/* Every variable config reads, unset at the start of each test. */
static const char *const vars[] = {
	"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER",
	"DB_PASSWORD", "DBMIGRATE_DRIVER", "DBMIGRATE_DIR", "DBMIGRATE_TABLE",
	"DBMIGRATE_STATEMENT_TIMEOUT", "DBMIGRATE_SQL_LOCK_TIMEOUT",
	"DBMIGRATE_LOCK_RETRIES", "DBMIGRATE_SCHEMA",
};

/* Start each test from a clean environment. */
static void clean_env(void)
{
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

/* True when any string field of e contains needle. */
static int error_mentions(const dbmigrate_error *e, const char *needle)
{
	const char *f[] = { e->message, e->detail, e->hint, e->source_line };

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i] != NULL && strstr(f[i], needle) != NULL)
			return 1;
	return 0;
}

START_TEST(key_names)
{
	ck_assert_int_eq(config_key("url"), CONFIG_URL);
	ck_assert_int_eq(config_key("lock_timeout"), CONFIG_LOCK_TIMEOUT);
	ck_assert_int_eq(config_key("application_name"), CONFIG_APPLICATION_NAME);
	ck_assert_int_eq(config_key("nosuch"), -1);
	ck_assert_int_eq(config_key("URL"), -1);
	for (int k = 0; k < CONFIG_NKEYS; k++)
		ck_assert_int_eq(config_key(config_key_name((enum config_key)k)), k);
}
END_TEST

START_TEST(values_are_validated)
{
	static const struct {
		enum config_key k;
		const char *value;
		int ok;
	} cases[] = {
		{ CONFIG_PORT, "5432", 1 }, { CONFIG_PORT, "1", 1 },
		{ CONFIG_PORT, "65535", 1 }, { CONFIG_PORT, "0", 0 },
		{ CONFIG_PORT, "65536", 0 }, { CONFIG_PORT, "-1", 0 },
		{ CONFIG_PORT, "abc", 0 }, { CONFIG_PORT, " 80", 0 },
		{ CONFIG_PORT, "80x", 0 }, { CONFIG_PORT, "", 0 },
		{ CONFIG_PORT, "99999999999999999999", 0 },
		{ CONFIG_DRIVER, "postgres", 1 }, { CONFIG_DRIVER, "my_db2", 1 },
		{ CONFIG_DRIVER, "../evil", 0 }, { CONFIG_DRIVER, "a/b", 0 },
		{ CONFIG_DRIVER, "..", 0 }, { CONFIG_DRIVER, "Postgres", 0 },
		{ CONFIG_DRIVER, "mock.so", 0 }, { CONFIG_DRIVER, "", 0 },
		{ CONFIG_TABLE, "migrations", 1 },
		{ CONFIG_TABLE, "public.schema_migrations", 1 },
		{ CONFIG_TABLE, "_t$1", 1 }, { CONFIG_TABLE, "T2", 1 },
		{ CONFIG_TABLE, "x; DROP TABLE y", 0 }, { CONFIG_TABLE, "a.b.c", 0 },
		{ CONFIG_TABLE, "\"quoted\"", 0 }, { CONFIG_TABLE, "two words", 0 },
		{ CONFIG_TABLE, ".t", 0 }, { CONFIG_TABLE, "s.", 0 },
		{ CONFIG_TABLE, "1t", 0 }, { CONFIG_TABLE, "$t", 0 },
		{ CONFIG_TABLE, "", 0 },
		{ CONFIG_TABLE, "a123456789012345678901234567890123456789012345678901234567890123", 0 },
		{ CONFIG_TABLE, "a12345678901234567890123456789012345678901234567890123456789012", 1 },
		{ CONFIG_LOCK_TIMEOUT, "60", 1 }, { CONFIG_LOCK_TIMEOUT, "0", 1 },
		{ CONFIG_LOCK_TIMEOUT, "0.5", 1 }, { CONFIG_LOCK_TIMEOUT, ".5", 1 },
		{ CONFIG_LOCK_TIMEOUT, "10.", 1 }, { CONFIG_LOCK_TIMEOUT, "-1", 0 },
		{ CONFIG_LOCK_TIMEOUT, "inf", 0 }, { CONFIG_LOCK_TIMEOUT, "nan", 0 },
		{ CONFIG_LOCK_TIMEOUT, "1x", 0 }, { CONFIG_LOCK_TIMEOUT, ".", 0 },
		{ CONFIG_LOCK_TIMEOUT, "0x10", 0 }, { CONFIG_LOCK_TIMEOUT, "", 0 },
		{ CONFIG_CONNECT_TIMEOUT, "1e3", 0 }, { CONFIG_CONNECT_TIMEOUT, "3", 1 },
		{ CONFIG_DIR, "db/migrations", 1 }, { CONFIG_DIR, "", 0 },
		{ CONFIG_HOST, "/var/run/postgresql", 1 },
		{ CONFIG_PASSWORD, "any thing; at all", 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config c = { 0 };
		dbmigrate_error e = { 0 };
		dbmigrate_code rc = config_set(&c, cases[i].k, cases[i].value,
					       CONFIG_FROM_CALLER, &e);

		if (cases[i].ok) {
			ck_assert_msg(rc == DBMIGRATE_OK, "%s=\"%s\" refused: %s",
				      config_key_name(cases[i].k), cases[i].value,
				      e.message);
			ck_assert_str_eq(c.value[cases[i].k], cases[i].value);
			ck_assert_int_eq(c.source[cases[i].k], CONFIG_FROM_CALLER);
		} else {
			ck_assert_msg(rc == DBMIGRATE_EUSAGE, "%s=\"%s\" accepted",
				      config_key_name(cases[i].k), cases[i].value);
			/* the message names the key and the value */
			ck_assert_ptr_nonnull(strstr(e.message, config_key_name(cases[i].k)));
			ck_assert_ptr_nonnull(strstr(e.message, cases[i].value));
			ck_assert_ptr_nonnull(e.hint);
			ck_assert_ptr_null(c.value[cases[i].k]);
		}
		errors_clear(&e);
		config_free(&c);
	}
}
END_TEST

START_TEST(bad_value_keeps_the_old_one)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(config_set(&c, CONFIG_PORT, "5432", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_int_eq(config_set(&c, CONFIG_PORT, "x", CONFIG_FROM_CALLER, &e), DBMIGRATE_EUSAGE);
	ck_assert_str_eq(c.value[CONFIG_PORT], "5432");
	ck_assert_str_eq(e.message, "invalid port \"x\"");
	/* NULL unsets */
	ck_assert_int_eq(config_set(&c, CONFIG_PORT, NULL, CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_ptr_null(c.value[CONFIG_PORT]);
	ck_assert_int_eq(c.source[CONFIG_PORT], CONFIG_UNSET);
	errors_clear(&e);
	config_free(&c);
}
END_TEST

START_TEST(defaults)
{
	struct config c = { 0 };
	char buf[64];
	char *dir = tu_mkdtemp();

	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_str_eq(config_table(&c), "migrations");
	ck_assert_str_eq(config_driver(&c, buf, sizeof buf), "postgres");
	ck_assert(config_lock_timeout(&c) == 60);
	ck_assert(config_connect_timeout(&c) == 0);
	ck_assert_str_eq(config_dir(&c), "migrations");
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A schema puts an unqualified tracking table inside it, whichever is
   set first; a bad schema name is refused and changes nothing. */
START_TEST(schema_qualifies_the_table)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(config_set(&c, CONFIG_SCHEMA, "tenant_42", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_table(&c), "tenant_42.migrations");
	ck_assert_int_eq(config_set(&c, CONFIG_TABLE, "schema_migrations", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_table(&c), "tenant_42.schema_migrations");
	/* A qualified table stays as given (the migrator refuses the pair). */
	ck_assert_int_eq(config_set(&c, CONFIG_TABLE, "other.t", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_table(&c), "other.t");
	ck_assert_int_eq(config_set(&c, CONFIG_TABLE, NULL, CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_table(&c), "tenant_42.migrations");
	ck_assert_int_eq(config_set(&c, CONFIG_SCHEMA, "a.b", CONFIG_FROM_CALLER, &e), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(e.message, "invalid schema"));
	errors_clear(&e);
	ck_assert_int_eq(config_set(&c, CONFIG_SCHEMA, "1x", CONFIG_FROM_CALLER, &e), DBMIGRATE_EUSAGE);
	errors_clear(&e);
	ck_assert_str_eq(config_table(&c), "tenant_42.migrations");
	ck_assert_int_eq(config_set(&c, CONFIG_SCHEMA, NULL, CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_table(&c), "migrations");
	config_free(&c);
}
END_TEST

START_TEST(timeouts_are_numbers)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(config_set(&c, CONFIG_LOCK_TIMEOUT, "0.25", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_int_eq(config_set(&c, CONFIG_CONNECT_TIMEOUT, "12", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_double_eq_tol(config_lock_timeout(&c), 0.25, 1e-9);
	ck_assert_double_eq_tol(config_connect_timeout(&c), 12, 1e-9);
	config_free(&c);
}
END_TEST

START_TEST(durations_and_retries)
{
	static const struct {
		const char *s;
		double secs; /* -1: refused */
	} cases[] = {
		{ "30", 30 }, { "0.5", 0.5 }, { "30s", 30 }, { "500ms", 0.5 },
		{ "2min", 120 }, { "0", 0 }, { "1.5min", 90 }, { "", -1 },
		{ "s", -1 }, { "5 s", -1 }, { "5h", -1 }, { "-1", -1 },
		{ "1e3", -1 }, { "10sec", -1 }, { "ms", -1 },
	};
	struct config c = { 0 };
	dbmigrate_error e = { 0 };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double v = -2;
		int rc = config_parse_duration(cases[i].s, &v);

		if (cases[i].secs < 0) {
			ck_assert_msg(rc != 0, "\"%s\" accepted", cases[i].s);
		} else {
			ck_assert_msg(rc == 0, "\"%s\" refused", cases[i].s);
			ck_assert_msg(v > cases[i].secs - 1e-9 && v < cases[i].secs + 1e-9,
				      "\"%s\" is %g s", cases[i].s, v);
		}
	}
	/* Unset: no limits, and retries left to the caller's default. */
	ck_assert(config_statement_timeout(&c) == 0);
	ck_assert(config_sql_lock_timeout(&c) == 0);
	ck_assert_int_eq(config_lock_retries(&c), -1);
	ck_assert_int_eq(config_set(&c, CONFIG_STATEMENT_TIMEOUT, "2min", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert(config_statement_timeout(&c) == 120);
	ck_assert_int_eq(config_set(&c, CONFIG_SQL_LOCK_TIMEOUT, "250ms", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert(config_sql_lock_timeout(&c) == 0.25);
	ck_assert_int_eq(config_set(&c, CONFIG_LOCK_RETRIES, "0", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_int_eq(config_lock_retries(&c), 0);
	ck_assert_int_eq(config_set(&c, CONFIG_LOCK_RETRIES, "101", CONFIG_FROM_CALLER, &e), DBMIGRATE_EUSAGE);
	ck_assert(error_mentions(&e, "lock_retries"));
	ck_assert_int_eq(config_set(&c, CONFIG_STATEMENT_TIMEOUT, "soon", CONFIG_FROM_CALLER, &e), DBMIGRATE_EUSAGE);
	ck_assert(error_mentions(&e, "500ms"));
	ck_assert(config_statement_timeout(&c) == 120);
	errors_clear(&e);
	config_free(&c);
}
END_TEST

START_TEST(dir_falls_back_to_db_migrations)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char *dir = tu_mkdtemp();

	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(mkdir("db", 0777), 0);
	ck_assert_int_eq(mkdir("db/migrations", 0777), 0);
	ck_assert_str_eq(config_dir(&c), "db/migrations");
	/* ./migrations wins once it exists */
	ck_assert_int_eq(mkdir("migrations", 0777), 0);
	ck_assert_str_eq(config_dir(&c), "migrations");
	/* the dir key wins over both */
	ck_assert_int_eq(config_set(&c, CONFIG_DIR, "sql", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_dir(&c), "sql");
	config_free(&c);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(driver_from_key_then_url)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char buf[64];

	ck_assert_int_eq(config_set(&c, CONFIG_URL, "mock:state.db", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_driver(&c, buf, sizeof buf), "mock");
	/* The scheme as written: the driver that serves it is found when
	   it is loaded (driver_load()). */
	ck_assert_int_eq(config_set(&c, CONFIG_URL, "postgresql://h/db", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_driver(&c, buf, sizeof buf), "postgresql");
	/* No scheme: the build's default driver. */
	ck_assert_int_eq(config_set(&c, CONFIG_URL, "host=h dbname=d", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_driver(&c, buf, sizeof buf), DBMIGRATE_DEFAULT_DRIVER);
	ck_assert_int_eq(config_set(&c, CONFIG_URL, "mock:", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_int_eq(config_set(&c, CONFIG_DRIVER, "postgres", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(config_driver(&c, buf, sizeof buf), "postgres");
	config_free(&c);
}
END_TEST

START_TEST(precedence_caller_env_dotenv_default)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char *dir = tu_mkdtemp();
	char *env = tu_write(dir, ".env",
			     "DB_HOST=from-dotenv\n"
			     "DB_USER=dotenv-user\n"
			     "DB_NAME=dotenv-db\n"
			     "DBMIGRATE_TABLE=dotenv_table\n");

	clean_env();
	setenv("DB_USER", "env-user", 1);
	setenv("DB_NAME", "env-db", 1);
	ck_assert_int_eq(config_set(&c, CONFIG_DATABASE, "caller-db", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_OK);
	/* caller > env > .env > default */
	ck_assert_str_eq(c.value[CONFIG_DATABASE], "caller-db");
	ck_assert_int_eq(c.source[CONFIG_DATABASE], CONFIG_FROM_CALLER);
	ck_assert_str_eq(c.value[CONFIG_USER], "env-user");
	ck_assert_int_eq(c.source[CONFIG_USER], CONFIG_FROM_ENV);
	ck_assert_str_eq(c.value[CONFIG_HOST], "from-dotenv");
	ck_assert_int_eq(c.source[CONFIG_HOST], CONFIG_FROM_DOTENV);
	ck_assert_str_eq(config_table(&c), "dotenv_table");
	ck_assert_ptr_null(c.value[CONFIG_PORT]);
	ck_assert_int_eq(c.source[CONFIG_PORT], CONFIG_UNSET);
	/* a caller value set after loading still wins */
	ck_assert_int_eq(config_set(&c, CONFIG_HOST, "flag-host", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_str_eq(c.value[CONFIG_HOST], "flag-host");
	config_free(&c);
	free(env);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(every_variable_is_read)
{
	static const struct {
		const char *var, *value;
		enum config_key k;
	} map[] = {
		{ "DATABASE_URL", "mock:", CONFIG_URL },
		{ "DB_HOST", "h", CONFIG_HOST },
		{ "DB_PORT", "6000", CONFIG_PORT },
		{ "DB_NAME", "d", CONFIG_DATABASE },
		{ "DB_USER", "u", CONFIG_USER },
		{ "DB_PASSWORD", "pw", CONFIG_PASSWORD },
		{ "DBMIGRATE_DRIVER", "mock", CONFIG_DRIVER },
		{ "DBMIGRATE_DIR", "sql", CONFIG_DIR },
		{ "DBMIGRATE_TABLE", "s.t", CONFIG_TABLE },
		{ "DBMIGRATE_STATEMENT_TIMEOUT", "30s", CONFIG_STATEMENT_TIMEOUT },
		{ "DBMIGRATE_SQL_LOCK_TIMEOUT", "500ms", CONFIG_SQL_LOCK_TIMEOUT },
		{ "DBMIGRATE_LOCK_RETRIES", "5", CONFIG_LOCK_RETRIES },
		{ "DBMIGRATE_SCHEMA", "tenant_1", CONFIG_SCHEMA },
	};
	char *dir = tu_mkdtemp();
	char path[512];

	snprintf(path, sizeof path, "%s/.env", dir);
	for (int from_file = 0; from_file < 2; from_file++) {
		struct config c = { 0 };
		dbmigrate_error e = { 0 };
		char text[1024] = "";

		clean_env();
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
			if (from_file) {
				strcat(text, map[i].var);
				strcat(text, "=");
				strcat(text, map[i].value);
				strcat(text, "\n");
			} else {
				setenv(map[i].var, map[i].value, 1);
			}
		}
		if (from_file)
			free(tu_write(NULL, path, text));
		ck_assert_int_eq(config_load_env(&c, path, &e), DBMIGRATE_OK);
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
			ck_assert_str_eq(c.value[map[i].k], map[i].value);
			ck_assert_int_eq(c.source[map[i].k],
					 from_file ? CONFIG_FROM_DOTENV : CONFIG_FROM_ENV);
		}
		config_free(&c);
	}
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(dotenv_never_reaches_the_environment)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char *dir = tu_mkdtemp();
	char *env = tu_write(dir, ".env",
			     "DB_HOST=dotenv-host\n"
			     "PATH=/evil\n"
			     "LD_PRELOAD=/evil.so\n"
			     "SECRET_TOKEN=abc\n");
	char *path_before = strdup(getenv("PATH"));

	clean_env();
	unsetenv("LD_PRELOAD");
	unsetenv("SECRET_TOKEN");
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_OK);
	ck_assert_str_eq(c.value[CONFIG_HOST], "dotenv-host");
	ck_assert_ptr_null(getenv("DB_HOST"));
	ck_assert_str_eq(getenv("PATH"), path_before);
	ck_assert_ptr_null(getenv("LD_PRELOAD"));
	ck_assert_ptr_null(getenv("SECRET_TOKEN"));
	free(path_before);
	config_free(&c);
	free(env);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(errors_name_the_source)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char *dir = tu_mkdtemp();
	char *env = tu_write(dir, ".env", "# settings\nDB_PORT=abc\n"
				       "DB_PASSWORD=s3cret-pw\n");
	char want[600];

	clean_env();
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_EUSAGE);
	snprintf(want, sizeof want, "invalid port \"abc\" from DB_PORT in %s", env);
	ck_assert_str_eq(e.message, want);
	ck_assert_str_eq(e.file, env);
	ck_assert_uint_eq(e.line, 2);
	ck_assert_ptr_nonnull(e.hint);
	config_free(&c);
	errors_clear(&e);

	setenv("DB_PORT", "70000", 1);
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_EUSAGE);
	ck_assert_str_eq(e.message,
			 "invalid port \"70000\" from DB_PORT in the environment");
	config_free(&c);
	errors_clear(&e);

	setenv("DBMIGRATE_TABLE", "t; drop", 1);
	unsetenv("DB_PORT");
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_EUSAGE);
	ck_assert_ptr_nonnull(strstr(e.message, "DBMIGRATE_TABLE"));
	ck_assert(!error_mentions(&e, "s3cret-pw"));
	config_free(&c);
	errors_clear(&e);
	free(env);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(empty_variables_count_as_unset)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char *dir = tu_mkdtemp();
	char *env = tu_write(dir, ".env", "DB_PORT=\nDB_HOST=dotenv-host\n");

	clean_env();
	setenv("DB_HOST", "", 1);
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_OK);
	ck_assert_ptr_null(c.value[CONFIG_PORT]);
	ck_assert_str_eq(c.value[CONFIG_HOST], "dotenv-host");
	config_free(&c);
	free(env);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(later_dotenv_line_wins)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char *dir = tu_mkdtemp();
	char *env = tu_write(dir, ".env", "DB_HOST=first\nDB_HOST=second\n");

	clean_env();
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_OK);
	ck_assert_str_eq(c.value[CONFIG_HOST], "second");
	config_free(&c);
	free(env);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(weaker_url_does_not_hide_stronger_parts)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char *dir = tu_mkdtemp();
	char *env = tu_write(dir, ".env", "DATABASE_URL=postgres://dotenv/db\n");

	clean_env();
	/* --host with DATABASE_URL in the environment: the flag counts */
	setenv("DATABASE_URL", "postgres://env/db", 1);
	ck_assert_int_eq(config_set(&c, CONFIG_HOST, "flag", CONFIG_FROM_CALLER, &e), DBMIGRATE_OK);
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_OK);
	ck_assert_ptr_null(c.value[CONFIG_URL]);
	config_free(&c);

	/* DB_HOST in the environment, DATABASE_URL only in .env */
	unsetenv("DATABASE_URL");
	setenv("DB_HOST", "envhost", 1);
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_OK);
	ck_assert_ptr_null(c.value[CONFIG_URL]);
	ck_assert_str_eq(c.value[CONFIG_HOST], "envhost");
	config_free(&c);

	/* both from the environment: the URL is taken */
	setenv("DATABASE_URL", "postgres://env/db", 1);
	ck_assert_int_eq(config_load_env(&c, env, &e), DBMIGRATE_OK);
	ck_assert_str_eq(c.value[CONFIG_URL], "postgres://env/db");
	config_free(&c);
	free(env);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(missing_dotenv_is_fine_and_bad_dotenv_is_not)
{
	struct config c = { 0 };
	dbmigrate_error e = { 0 };
	char *dir = tu_mkdtemp();
	char path[512];
	char *bad = tu_write(dir, "bad.env", "DB_HOST=h\nnonsense\n");

	clean_env();
	snprintf(path, sizeof path, "%s/none.env", dir);
	ck_assert_int_eq(config_load_env(&c, path, &e), DBMIGRATE_OK);
	ck_assert_int_eq(config_load_env(&c, bad, &e), DBMIGRATE_EUSAGE);
	ck_assert_uint_eq(e.line, 2);
	ck_assert_str_eq(e.file, bad);
	errors_clear(&e);
	/* the default path is ./.env */
	ck_assert_int_eq(chdir(dir), 0);
	config_free(&c);
	free(tu_write(dir, ".env", "DB_USER=cwd-user\n"));
	ck_assert_int_eq(config_load_env(&c, NULL, &e), DBMIGRATE_OK);
	ck_assert_str_eq(c.value[CONFIG_USER], "cwd-user");
	config_free(&c);
	free(bad);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(url_driver_names)
{
	static const struct {
		const char *url, *driver;
	} cases[] = {
		{ "postgres://u@h/db", "postgres" },
		{ "postgresql://h:5432/db", "postgresql" },
		{ "PostgreSQL://h/db", "postgresql" },
		{ "mock:", "mock" },
		{ "mock:state.db", "mock" },
		{ "mock:///tmp/x.db", "mock" },
		{ "mock://x", "mock" },
		{ "MySQL://h/db", "mysql" },
		{ "sqlite3:db.sqlite", "sqlite3" },
		{ "host=localhost dbname=x", NULL },
		{ "dbname=x", NULL },
		{ "", NULL },
		{ "1abc://x", NULL },
		{ "://x", NULL },
		{ "a b://x", NULL },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = url_driver(cases[i].url, buf, sizeof buf);

		if (cases[i].driver == NULL)
			ck_assert_msg(got == NULL, "%s gave %s", cases[i].url, got);
		else
			ck_assert_msg(got != NULL && strcmp(got, cases[i].driver) == 0,
				      "%s gave %s", cases[i].url, got ? got : "(null)");
	}
	/* a scheme that does not fit the buffer is not truncated */
	ck_assert_ptr_null(url_driver("postgres://h", buf, 5));
	ck_assert_ptr_null(url_driver(NULL, buf, sizeof buf));
}
END_TEST

START_TEST(url_passwords_are_masked)
{
	static const struct {
		const char *url, *redacted;
		int has;
	} cases[] = {
		{ "postgres://u:secret@h/db", "postgres://u:***@h/db", 1 },
		{ "postgresql://u:p%40ss@h:5432/db?sslmode=require&password=x",
		  "postgresql://u:***@h:5432/db?sslmode=require&password=***", 1 },
		{ "postgres://h/db?PASSWORD=x&user=u", "postgres://h/db?PASSWORD=***&user=u", 1 },
		{ "postgres://u:p@ss@h/db", "postgres://u:***@h/db", 1 },
		{ "postgres://u@h/db", "postgres://u@h/db", 0 },
		{ "postgres://u:@h/db", "postgres://u:@h/db", 0 },
		{ "postgres://h:5432/db", "postgres://h:5432/db", 0 },
		{ "postgres://h/db?passwordx=1", "postgres://h/db?passwordx=1", 0 },
		{ "host=h password=secret dbname=d", "host=h password=*** dbname=d", 1 },
		{ "host=h password='se cret' dbname=d", "host=h password=*** dbname=d", 1 },
		{ "password = 'it\\'s' user=u", "password = *** user=u", 1 },
		{ "host=h dbname=d", "host=h dbname=d", 0 },
		{ "mock:state.db", "mock:state.db", 0 },
		{ "", "", 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *r = url_redact(cases[i].url);

		ck_assert_ptr_nonnull(r);
		ck_assert_msg(strcmp(r, cases[i].redacted) == 0, "%s -> %s",
			      cases[i].url, r);
		ck_assert_msg(url_has_password(cases[i].url) == cases[i].has,
			      "has_password(%s)", cases[i].url);
		free(r);
	}
}
END_TEST

/* Regressions found by fuzz/fuzz_config.c: passwords libpq would read
   must be masked, in a copy (url_redact) and in place (url_mask). */
START_TEST(fuzz_found_password_leaks)
{
	static const char *const cases[][2] = {
		{ "user='a'password=secret host=h", "secret" },
		{ "postgres://u:pa?s3cret@127.0.0.1:1/db", "s3cret" },
		{ "postgres://u:p#w@h/db", "p#w" },
		/* libpq reads a query to its end: '#' starts no fragment */
		{ "postgres://u@1287.0.0.1:54/db?sslmode=disable&password=#ther",
		  "#ther" },
		{ "postgres://h/db?a=1#x&password=s3cret", "s3cret" },
		/* and it percent-decodes parameter names */
		{ "postgres://h/db?pass%77ord=s3cret", "s3cret" },
		{ "postgres://h/db?%70ASSWORD=s3cret&sslmode=disable", "s3cret" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *copy = url_redact(cases[i][0]);
		char *inplace = strdup(cases[i][0]);

		url_mask(inplace);
		ck_assert_msg(strstr(copy, cases[i][1]) == NULL, "redact: %s", copy);
		ck_assert_msg(strstr(inplace, cases[i][1]) == NULL, "mask: %s", inplace);
		ck_assert_uint_eq(strlen(inplace), strlen(cases[i][0]));
		free(copy);
		free(inplace);
	}
}
END_TEST

int main(void)
{
	const TTest *const config[] = {
		key_names, values_are_validated, bad_value_keeps_the_old_one,
		defaults, timeouts_are_numbers, durations_and_retries,
		dir_falls_back_to_db_migrations, driver_from_key_then_url,
		precedence_caller_env_dotenv_default, every_variable_is_read,
		dotenv_never_reaches_the_environment, errors_name_the_source,
		empty_variables_count_as_unset, later_dotenv_line_wins,
		weaker_url_does_not_hide_stronger_parts,
		missing_dotenv_is_fine_and_bad_dotenv_is_not,
		schema_qualifies_the_table, url_driver_names,
		url_passwords_are_masked, fuzz_found_password_leaks, NULL
	};
	Suite *s = suite_create("config");

	tcase_add_checked_fixture(tu_tcase(s, "config", 0, config), clean_env,
				  NULL);
	return tu_run_suite(s);
}
