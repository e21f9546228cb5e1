/*
 * check_pg.c - the postgres driver against a real server: connecting,
 * the tracking table, applying migrations in and out of transactions,
 * the runner lock, cancelling, and statement classification.
 *
 * The driver is loaded with dlopen() from DBMIGRATE_DRIVER_PATH, as the
 * core loads it, and driven through a test host that records what the
 * driver reports. One server runs for the whole program (pgserver.h);
 * each test works in a database of its own. pg_driver_suite() is one
 * suite; more (the CLI against PostgreSQL) can be added in main().
 */
#define _GNU_SOURCE /* strcasestr in test code */
#include <check.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dbmigrate/driver.h"
#include "driver.h"
#include "pgserver.h"
#include "testutil.h"

/* The driver's vtable, loaded in main() before the tests fork. */
static const struct dbmigrate_driver *vt;

/* A test host: records the last error and every log message. */
struct host {
	struct dbmigrate_host h;
	dbmigrate_code code;
	char message[4096];
	char detail[4096];
	char hint[2048];
	char sqlstate[8];
	unsigned position;
	size_t statement;
	int errors;
	char log[16384];
	int lock_waits;
	int notices;
	atomic_int interrupted;
};

/* host->error: keep a copy of the error. */
static void host_error(void *ctx, const struct dbmigrate_driver_error *e)
{
	struct host *h = ctx;

	h->errors++;
	h->code = e->code;
	snprintf(h->message, sizeof h->message, "%s",
		 e->message != NULL ? e->message : "(null)");
	snprintf(h->detail, sizeof h->detail, "%s",
		 e->detail != NULL ? e->detail : "");
	snprintf(h->hint, sizeof h->hint, "%s", e->hint != NULL ? e->hint : "");
	snprintf(h->sqlstate, sizeof h->sqlstate, "%s",
		 e->sqlstate != NULL ? e->sqlstate : "");
	h->position = e->position;
	h->statement = e->statement;
}

/* host->log: append "[level] message" lines. */
static void host_log(void *ctx, enum dbmigrate_log_level level,
		     const char *message)
{
	static const char *const names[] = {"debug", "notice", "warning",
					    "lock-wait"};
	struct host *h = ctx;
	size_t o = strlen(h->log);

	if (level == DBMIGRATE_LOG_LOCK_WAIT)
		h->lock_waits++;
	if (level == DBMIGRATE_LOG_NOTICE)
		h->notices++;
	if (o < sizeof h->log)
		snprintf(h->log + o, sizeof h->log - o, "[%s] %s\n",
			 (unsigned)level < 4 ? names[level] : "?", message);
}

/* host->interrupted. */
static int host_interrupted(void *ctx)
{
	struct host *h = ctx;

	return atomic_load(&h->interrupted);
}

/* A new test host (with the core's own services). */
static struct host *host_new(void)
{
	struct host *h = calloc(1, sizeof *h);

	ck_assert_ptr_nonnull(h);
	h->h.abi_version = DBMIGRATE_DRIVER_ABI_VERSION;
	h->h.struct_size = sizeof h->h;
	h->h.ctx = h;
	h->h.error = host_error;
	h->h.log = host_log;
	h->h.interrupted = host_interrupted;
	driver_host_services(&h->h);
	h->statement = DBMIGRATE_NO_STATEMENT;
	atomic_init(&h->interrupted, 0);
	return h;
}

/* Forget the last error (before a call expected to succeed or fail). */
static void host_reset(struct host *h)
{
	h->errors = 0;
	h->code = DBMIGRATE_OK;
	h->message[0] = h->detail[0] = h->hint[0] = h->sqlstate[0] = '\0';
	h->position = 0;
	h->statement = DBMIGRATE_NO_STATEMENT;
}

/* Load postgres.so from DBMIGRATE_DRIVER_PATH, as the core does. */
static const struct dbmigrate_driver *load_driver(void)
{
	char *path = strdup(tu_env("DBMIGRATE_DRIVER_PATH"));
	char *save = NULL;

	for (char *d = strtok_r(path, ":", &save); d != NULL;
	     d = strtok_r(NULL, ":", &save)) {
		char file[4096];
		dbmigrate_driver_entry_fn entry;
		void *so;

		snprintf(file, sizeof file, "%s/postgres.so", d);
		if (access(file, R_OK) != 0)
			continue;
		/* Never unloaded: libpq does not like it (see STYLE.md). */
		so = dlopen(file, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
		if (so == NULL) {
			fprintf(stderr, "check_pg: %s\n", dlerror());
			exit(EXIT_FAILURE);
		}
		*(void **)&entry = dlsym(so, DBMIGRATE_DRIVER_ENTRY_SYMBOL);
		if (entry == NULL) {
			fprintf(stderr, "check_pg: %s has no entry\n", file);
			exit(EXIT_FAILURE);
		}
		free(path);
		return entry();
	}
	fprintf(stderr, "check_pg: no postgres.so in DBMIGRATE_DRIVER_PATH\n");
	exit(EXIT_FAILURE);
}

/* Open a connection by URL; fails the test when it cannot. */
static dbmigrate_conn *open_url(struct host *h, const char *url,
				const char *app)
{
	struct dbmigrate_params p = {
	    .struct_size = sizeof p, .url = url, .application_name = app};
	dbmigrate_conn *c = NULL;

	ck_assert_msg(vt->open(&h->h, &p, &c) == DBMIGRATE_OK,
		      "open failed: %s", h->message);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* A new database and a connection to it (most tests'). */
struct pgconn {
	char *url;
	struct host *h;
	dbmigrate_conn *c;
};

/* A connection to url (taken, freed by pgconn_close) as app. */
static struct pgconn pgconn_on(char *url, const char *app)
{
	struct pgconn db;

	ck_assert_ptr_nonnull(url);
	db.url = url;
	db.h = host_new();
	db.c = open_url(db.h, db.url, app);
	return db;
}

static struct pgconn pgconn_open(void)
{
	return pgconn_on(pgserver_new_database(), NULL);
}

static void pgconn_close(struct pgconn *db)
{
	vt->close(db->c);
	free(db->url);
	free(db->h);
}

/* Assert that sql on url returns expected (NULL: no row or NULL). */
static void assert_sql(const char *url, const char *sql, const char *expected)
{
	tu_expect_value(sql, pgserver_psql(url, sql), expected);
}

/* A statement for apply(). */
static struct dbmigrate_stmt stmt(const char *sql)
{
	struct dbmigrate_stmt s = {sql, strlen(sql)};

	return s;
}

/* The application_name of the other session on url's database. */
static char *other_app(const char *url)
{
	return pgserver_psql(url,
			     "SELECT string_agg(application_name, ',') FROM "
			     "pg_stat_activity WHERE datname = "
			     "current_database() AND pid <> pg_backend_pid()");
}

/* Rows read by read_rows, as collected by collect_row. */
struct rows {
	int n;
	int stop_after;
	struct dbmigrate_row v[8];
	char text[8][5][80];
};

/* read_rows callback: copy the row. */
static int collect_row(void *ctx, const struct dbmigrate_row *r)
{
	struct rows *rs = ctx;

	if (rs->n < 8) {
		const char *f[5] = {r->id, r->name, r->executed_at, r->checksum,
				    NULL};
		struct dbmigrate_row *d = &rs->v[rs->n];

		for (int i = 0; i < 4; i++)
			if (f[i] != NULL)
				snprintf(rs->text[rs->n][i], 80, "%s", f[i]);
		d->id = rs->text[rs->n][0];
		d->name = rs->text[rs->n][1];
		d->executed_at = r->executed_at ? rs->text[rs->n][2] : NULL;
		d->checksum = r->checksum ? rs->text[rs->n][3] : NULL;
		d->batch = r->batch;
	}
	rs->n++;
	return rs->stop_after > 0 && rs->n >= rs->stop_after;
}

/* True when s looks like 2026-11-24T10:00:00Z. */
static int is_iso_utc(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";

	if (s == NULL || strlen(s) != sizeof pat - 1)
		return 0;
	for (size_t i = 0; pat[i] != '\0'; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	return 1;
}

static const char checksum64[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* ---- connecting ---- */

START_TEST(connect_by_url)
{
	char *url = pgserver_new_database();
	struct host *h = host_new();
	dbmigrate_conn *c = open_url(h, url, NULL);
	char *app = other_app(url);

	ck_assert_str_eq(app, "dbmigrate");
	ck_assert_msg(strstr(h->log, "[debug] connected to PostgreSQL ") !=
			  NULL,
		      "no server version in the log: %s", h->log);
	vt->close(c);
	free(app);
	free(url);
	free(h);
}
END_TEST

START_TEST(connect_by_parts)
{
	char *url = pgserver_new_database();
	struct host *h = host_new();
	struct dbmigrate_params p = {.struct_size = sizeof p,
				     .host = pgserver_host(),
				     .port = pgserver_port(),
				     .database = pgserver_dbname(url),
				     .user = pgserver_user(),
				     .password = pgserver_password(),
				     .application_name = "parts-app",
				     .connect_timeout = 5};
	dbmigrate_conn *c = NULL;
	char *app;

	ck_assert_int_eq(vt->open(&h->h, &p, &c), DBMIGRATE_OK);
	app = other_app(url);
	ck_assert_str_eq(app, "parts-app");
	vt->close(c);
	free(app);
	free(url);
	free(h);
}
END_TEST

START_TEST(url_application_name_wins)
{
	char *url = pgserver_new_database();
	char full[512];
	struct host *h = host_new();
	dbmigrate_conn *c;
	char *app;

	snprintf(full, sizeof full, "%s?application_name=from-url", url);
	c = open_url(h, full, "from-params");
	app = other_app(url);
	ck_assert_str_eq(app, "from-url");
	vt->close(c);
	free(app);
	free(url);
	free(h);
}
END_TEST

START_TEST(wrong_password)
{
	static const char bad[] = "Wr0ng-Passw0rd-4711";
	char *url = pgserver_new_database();
	char badurl[512];
	struct host *h = host_new();
	struct dbmigrate_params p = {.struct_size = sizeof p, .url = badurl};
	struct dbmigrate_params q = {.struct_size = sizeof q,
				     .host = pgserver_host(),
				     .port = pgserver_port(),
				     .database = pgserver_dbname(url),
				     .user = pgserver_user(),
				     .password = bad};
	dbmigrate_conn *c = NULL;

	snprintf(badurl, sizeof badurl, "postgres://%s:%s@%s:%s/%s",
		 pgserver_user(), bad, pgserver_host(), pgserver_port(),
		 pgserver_dbname(url));
	ck_assert_int_eq(vt->open(&h->h, &p, &c), DBMIGRATE_ECONNECT);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(h->message, "password authentication failed"),
		      "message: %s", h->message);
	ck_assert_ptr_null(strstr(h->message, bad));
	ck_assert_ptr_null(strstr(h->detail, bad));
	ck_assert_ptr_nonnull(strstr(h->hint, "password"));
	ck_assert_msg(h->message[strlen(h->message) - 1] != '\n',
		      "message ends with a newline");

	host_reset(h);
	ck_assert_int_eq(vt->open(&h->h, &q, &c), DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(h->message, "password authentication"));
	ck_assert_ptr_null(strstr(h->message, bad));
	free(url);
	free(h);
}
END_TEST

/* libpq quotes a malformed URI whole in its error: the password must not
   come out with it. */
START_TEST(malformed_url_hides_password)
{
	struct host *h = host_new();
	struct dbmigrate_params p = {.struct_size = sizeof p,
				     .url =
					 "postgres://bob:S3cret-Pw%21@[::1/db"};
	dbmigrate_conn *c = NULL;

	ck_assert_int_eq(vt->open(&h->h, &p, &c), DBMIGRATE_ECONNECT);
	ck_assert_msg(h->message[0] != '\0', "no message");
	ck_assert_msg(strstr(h->message, "S3cret") == NULL &&
			  strstr(h->detail, "S3cret") == NULL,
		      "password leaked: %s / %s", h->message, h->detail);
	free(h);
}
END_TEST

START_TEST(refused_port_fails_fast)
{
	struct host *h = host_new();
	struct dbmigrate_params p = {.struct_size = sizeof p,
				     .host = "127.0.0.1",
				     .port = "1",
				     .database = "x",
				     .user = "x",
				     .connect_timeout = 2};
	dbmigrate_conn *c = NULL;
	double t0 = tu_now();

	ck_assert_int_eq(vt->open(&h->h, &p, &c), DBMIGRATE_ECONNECT);
	ck_assert_double_lt(tu_now() - t0, 3.0);
	ck_assert_msg(strstr(h->message, "127.0.0.1") != NULL,
		      "message does not name the server: %s", h->message);
	free(h);
}
END_TEST

/*
 * A server that accepts TCP connections and then says nothing: a
 * listening socket nobody accepts on. Returns it; *port gets its port.
 */
static int silent_server(char *port, size_t size)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(port, size, "%d", ntohs(a.sin_port));
	return fd;
}

/* connect_timeout ends the wait for a server that never answers. */
START_TEST(silent_server_times_out)
{
	struct host *h = host_new();
	char port[16];
	int fd = silent_server(port, sizeof port);
	struct dbmigrate_params p = {.struct_size = sizeof p,
				     .host = "127.0.0.1",
				     .port = port,
				     .database = "x",
				     .user = "x",
				     .connect_timeout = 1.5};
	dbmigrate_conn *c = NULL;
	double t0, dt;

	t0 = tu_now();
	ck_assert_int_eq(vt->open(&h->h, &p, &c), DBMIGRATE_ECONNECT);
	dt = tu_now() - t0;
	/* 1.5 s rounds up to libpq's whole seconds: 2. */
	ck_assert_msg(dt > 1.5 && dt < 4.0, "took %.2f s", dt);
	ck_assert_msg(strstr(h->message, "timeout") != NULL &&
			  strstr(h->message, port) != NULL,
		      "message: %s", h->message);
	ck_assert_ptr_nonnull(strstr(h->hint, "--connect-timeout"));
	close(fd);
	free(h);
}
END_TEST

/* ---- the tracking table ---- */

START_TEST(ensure_table_fresh)
{
	struct pgconn db = pgconn_open();
	int exists = -1;

	ck_assert_int_eq(vt->table_exists(db.c, "migrations", &exists),
			 DBMIGRATE_OK);
	ck_assert_int_eq(exists, 0);
	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->table_exists(db.c, "migrations", &exists),
			 DBMIGRATE_OK);
	ck_assert_int_eq(exists, 1);
	assert_sql(db.url,
		   "SELECT string_agg(column_name || ' ' || data_type, ', ' "
		   "ORDER BY ordinal_position) FROM information_schema.columns "
		   "WHERE table_name = 'migrations'",
		   "id character varying, name character varying, "
		   "executed_at timestamp with time zone, batch integer, "
		   "checksum character varying, down_sql text");
	/* Idempotent, and without "already exists, skipping" notices. */
	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(db.h->notices, 0);
	pgconn_close(&db);
}
END_TEST

/* The seed tool's tracking table (no checksum, no down_sql) with one
   row, applied at 12:00 in UTC+2. */
static void seed_table(const char *url)
{
	free(pgserver_psql(
	    url, "CREATE TABLE migrations (id VARCHAR(255) PRIMARY KEY, "
		 "name VARCHAR(255) NOT NULL, executed_at TIMESTAMP "
		 "WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP, batch "
		 "INTEGER NOT NULL);"
		 "INSERT INTO migrations VALUES ('001', "
		 "'create_users_table', '2026-11-24 12:00:00+02', 1)"));
}

START_TEST(seed_table_is_adopted)
{
	char *url = pgserver_new_database();
	struct host *h = host_new();
	struct rows rs = {0};
	dbmigrate_conn *c;

	seed_table(url);
	c = open_url(h, url, NULL);
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(h->notices, 0);
	assert_sql(url,
		   "SELECT data_type FROM information_schema.columns WHERE "
		   "table_name = 'migrations' AND column_name = 'checksum'",
		   "character varying");
	ck_assert_int_eq(vt->read_rows(c, "migrations", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 1);
	ck_assert_str_eq(rs.v[0].id, "001");
	ck_assert_str_eq(rs.v[0].name, "create_users_table");
	ck_assert_str_eq(rs.v[0].executed_at, "2026-11-24T10:00:00Z");
	ck_assert_ptr_null(rs.v[0].checksum);
	ck_assert_int_eq(rs.v[0].batch, 1);
	vt->close(c);
	free(url);
	free(h);
}
END_TEST

START_TEST(schema_qualified_table)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_row row = {.id = "001", .name = "first", .batch = 1};
	struct rows rs = {0};

	ck_assert_int_eq(vt->ensure_table(db.c, "app.migrations"),
			 DBMIGRATE_EDATABASE);
	ck_assert_msg(strstr(db.h->message, "schema \"app\"") != NULL &&
			  strstr(db.h->message, "does not exist") != NULL,
		      "message: %s", db.h->message);
	ck_assert_msg(strstr(db.h->hint, "CREATE SCHEMA") != NULL, "hint: %s",
		      db.h->hint);
	free(pgserver_psql(db.url, "CREATE SCHEMA app"));
	ck_assert_int_eq(vt->ensure_table(db.c, "app.migrations"), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT to_regclass('app.migrations') IS NOT NULL",
		   "t");
	assert_sql(db.url, "SELECT to_regclass('public.migrations') IS NULL", "t");
	ck_assert_int_eq(vt->apply(db.c, "app.migrations", NULL, 0, &row, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->read_rows(db.c, "app.migrations", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 1);
	ck_assert_str_eq(rs.v[0].name, "first");
	pgconn_close(&db);
}
END_TEST

/* A name needing quotes is used as written and cannot inject SQL. */
START_TEST(table_name_needing_quotes)
{
	static const char name[] = "Odd \"Table\"; DROP TABLE x --";
	struct pgconn db = pgconn_open();
	struct dbmigrate_row row = {
	    .id = "7", .name = "n", .batch = 2, .checksum = checksum64};
	struct rows rs = {0};
	int exists = 0;

	free(pgserver_psql(db.url, "CREATE TABLE x (a int)"));
	ck_assert_int_eq(vt->ensure_table(db.c, name), DBMIGRATE_OK);
	ck_assert_int_eq(vt->table_exists(db.c, name, &exists), DBMIGRATE_OK);
	ck_assert_int_eq(exists, 1);
	ck_assert_int_eq(vt->apply(db.c, name, NULL, 0, &row, NULL), DBMIGRATE_OK);
	assert_sql(
	    db.url, "SELECT checksum FROM \"Odd \"\"Table\"\"; DROP TABLE x --\"",
	    checksum64);
	assert_sql(db.url, "SELECT to_regclass('x') IS NOT NULL", "t");
	ck_assert_int_eq(vt->read_rows(db.c, name, collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 1);
	ck_assert_int_eq(rs.v[0].batch, 2);
	ck_assert_int_eq(vt->drop_table(db.c, name), DBMIGRATE_OK);
	ck_assert_int_eq(vt->table_exists(db.c, name, &exists), DBMIGRATE_OK);
	ck_assert_int_eq(exists, 0);
	pgconn_close(&db);
}
END_TEST

START_TEST(bad_table_names)
{
	static const char *const bad[] = {"a.b.c", ".x", "x.", ""};
	struct pgconn db = pgconn_open();

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		host_reset(db.h);
		ck_assert_int_eq(vt->ensure_table(db.c, bad[i]), DBMIGRATE_EUSAGE);
		ck_assert_ptr_nonnull(strstr(db.h->message, "table name"));
	}
	pgconn_close(&db);
}
END_TEST

START_TEST(read_rows_without_table_and_stopping)
{
	struct pgconn db = pgconn_open();
	struct rows rs = {0};

	ck_assert_int_eq(vt->read_rows(db.c, "migrations", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 0);
	ck_assert_int_eq(db.h->errors, 0);
	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	free(pgserver_psql(db.url, "INSERT INTO migrations (id, name, batch) "
				"VALUES ('1', 'a', 1), ('2', 'b', 1), "
				"('3', 'c', 2)"));
	rs.stop_after = 1;
	ck_assert_int_eq(vt->read_rows(db.c, "migrations", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 1);
	ck_assert_msg(is_iso_utc(rs.v[0].executed_at), "executed_at %s",
		      rs.v[0].executed_at);
	pgconn_close(&db);
}
END_TEST

/*
 * Rows are read in one query when the table has today's columns; a
 * table of the seed's tool (no checksum, no down_sql) is read all the
 * same, without being altered, outside a transaction and inside one,
 * which must stay usable: a failed first guess would have aborted it.
 */
START_TEST(older_table_is_read_as_it_is)
{
	char *url = pgserver_new_database();
	struct host *h = host_new();
	struct dbmigrate_stmt stmt = {"CREATE TABLE made_in_tx (a int)", 31};
	struct rows rs = {0};
	dbmigrate_conn *c;

	seed_table(url);
	c = open_url(h, url, NULL);
	ck_assert_int_eq(vt->read_rows(c, "migrations", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 1);
	ck_assert_str_eq(rs.v[0].name, "create_users_table");
	ck_assert_str_eq(rs.v[0].executed_at, "2026-11-24T10:00:00Z");
	ck_assert_ptr_null(rs.v[0].checksum);
	ck_assert_int_eq(h->errors, 0);
	assert_sql(url,
		   "SELECT count(*) FROM information_schema.columns WHERE "
		   "table_name = 'migrations'", "4");
	/* Inside a transaction: read, then keep using it. */
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	rs.n = 0;
	ck_assert_int_eq(vt->read_rows(c, "migrations", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 1);
	ck_assert_int_eq(vt->apply(c, "migrations", &stmt, 1, NULL, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
	assert_sql(url, "SELECT to_regclass('made_in_tx') IS NOT NULL", "t");
	/* A missing schema or table: no rows, no error. */
	rs.n = 0;
	ck_assert_int_eq(vt->read_rows(c, "nowhere.migrations", collect_row,
				       &rs), DBMIGRATE_OK);
	ck_assert_int_eq(vt->read_rows(c, "nothing", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 0);
	ck_assert_int_eq(h->errors, 0);
	vt->close(c);
	free(url);
	free(h);
}
END_TEST

/* ---- apply ---- */

/*
 * In a new transaction, apply n statements (recording row) and expect
 * the failure SQLSTATE state at statement index stmt and character
 * position pos of it; then roll back.
 */
static void expect_apply_fails(dbmigrate_conn *c, const struct host *h,
			       const struct dbmigrate_stmt *s, size_t n,
			       const struct dbmigrate_row *row,
			       const char *state, size_t stmt, unsigned pos)
{
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", s, n, row, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_str_eq(h->sqlstate, state);
	ck_assert_uint_eq(h->statement, stmt);
	ck_assert_uint_eq(h->position, pos);
	ck_assert_int_eq(vt->rollback(c), DBMIGRATE_OK);
}

START_TEST(apply_in_transaction_second_fails)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[3] = {stmt("CREATE TABLE t1 (id int)"),
				      stmt("INSERT INTO nosuch VALUES (1)"),
				      stmt("CREATE TABLE t2 (id int)")};
	struct dbmigrate_row row = {.id = "001", .name = "m", .batch = 1};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 3, &row, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(db.h->statement, 1);
	ck_assert_str_eq(db.h->sqlstate, "42P01");
	ck_assert_uint_eq(db.h->position, 13);
	ck_assert_str_eq(db.h->message, "relation \"nosuch\" does not exist");
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT to_regclass('t1')", NULL);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");
	/* The connection is usable again. */
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 1, &row, NULL),
			 DBMIGRATE_OK);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "1");
	pgconn_close(&db);
}
END_TEST

START_TEST(apply_records_and_unrecords)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[2] = {stmt("CREATE TABLE users (id int)"),
				      stmt("INSERT INTO users VALUES (1)")};
	struct dbmigrate_stmt d[1] = {stmt("DROP TABLE users")};
	struct dbmigrate_row row = {.id = "001",
				    .name = "create_users",
				    .batch = 3,
				    .checksum = checksum64};
	struct rows rs = {0};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 2, &row, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->read_rows(db.c, "migrations", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_int_eq(rs.n, 1);
	ck_assert_str_eq(rs.v[0].id, "001");
	ck_assert_str_eq(rs.v[0].name, "create_users");
	ck_assert_str_eq(rs.v[0].checksum, checksum64);
	ck_assert_int_eq(rs.v[0].batch, 3);
	ck_assert_msg(is_iso_utc(rs.v[0].executed_at), "executed_at %s",
		      rs.v[0].executed_at);
	assert_sql(db.url, "SELECT count(*) FROM users", "1");

	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", d, 1, NULL, "001"),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");
	assert_sql(db.url, "SELECT to_regclass('users')", NULL);
	pgconn_close(&db);
}
END_TEST

/* A given executed_at is stored as given. */
START_TEST(apply_keeps_given_time)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_row row = {.id = "9",
				    .name = "n",
				    .batch = 1,
				    .executed_at = "2026-01-02T03:04:05Z"};
	struct rows rs = {0};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", NULL, 0, &row, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->read_rows(db.c, "migrations", collect_row, &rs),
			 DBMIGRATE_OK);
	ck_assert_str_eq(rs.v[0].executed_at, "2026-01-02T03:04:05Z");
	pgconn_close(&db);
}
END_TEST

/* The position counts characters, not bytes. */
START_TEST(error_position_in_characters)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[1] = {
	    stmt("SELECT '\xc3\xa9\xc3\xa9', nosuchcol")};

	expect_apply_fails(db.c, db.h, s, 1, NULL, "42703", 0, 14);
	pgconn_close(&db);
}
END_TEST

/*
 * A migration's statements travel as one query string. A syntax error
 * fails the whole string before anything runs: its position must still
 * name the statement it is in, and count from that statement's start,
 * in characters, past multibyte ones in the statements before it.
 */
START_TEST(syntax_error_names_its_statement)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[3] = {
	    stmt("CREATE TABLE t1 (note text DEFAULT '\xc3\xa9\xc3\xa9\xc3\xa9')"),
	    stmt("SELECT '\xc3\xa9\xc3\xa9' FROM WHERE"),
	    stmt("CREATE TABLE t2 (id int)")};
	struct dbmigrate_row row = {.id = "001", .name = "m", .batch = 1};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	/* "SELECT 'éé' FROM " is 17 characters: WHERE is the 18th. */
	expect_apply_fails(db.c, db.h, s, 3, &row, "42601", 1, 18);
	assert_sql(db.url, "SELECT to_regclass('t1')", NULL);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");
	pgconn_close(&db);
}
END_TEST

/* An error with no position is placed by counting the statements that
   succeeded before it. */
START_TEST(error_without_position_names_its_statement)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[4] = {stmt("CREATE TABLE t (a int)"),
				      stmt("INSERT INTO t VALUES (1)"),
				      stmt("SELECT 1 / (a - 1) FROM t"),
				      stmt("CREATE TABLE u (a int)")};
	struct dbmigrate_row row = {.id = "001", .name = "m", .batch = 1};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	expect_apply_fails(db.c, db.h, s, 4, &row, "22012", 2, 0);
	assert_sql(db.url, "SELECT to_regclass('t')", NULL);
	pgconn_close(&db);
}
END_TEST

/* A statement whose last line ends in a -- comment still ends where it
   should: the next statement is not swallowed by the comment. */
START_TEST(statement_ending_in_a_comment)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[3] = {stmt("CREATE TABLE t (a int)"),
				      stmt("INSERT INTO t VALUES (1) -- one"),
				      stmt("INSERT INTO t VALUES (2)")};
	struct dbmigrate_row row = {.id = "001", .name = "m", .batch = 1};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 3, &row, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT string_agg(a::text, ',' ORDER BY a) FROM t",
		   "1,2");
	pgconn_close(&db);
}
END_TEST

/* A migration of about 2.5 MB: CREATE TABLE t, then INSERTs of ~500
   bytes into it; statement bad (if < n) is bad_sql. */
struct big {
	struct dbmigrate_stmt *v;
	char **text;
	size_t n;
};

static struct big big_migration(size_t n, size_t bad, const char *bad_sql)
{
	struct big b = {calloc(n, sizeof *b.v), calloc(n, sizeof *b.text), n};

	ck_assert_ptr_nonnull(b.v);
	ck_assert_ptr_nonnull(b.text);
	b.v[0] = stmt("CREATE TABLE t (i int, pad text)");
	for (size_t i = 1; i < n; i++) {
		char *q = b.text[i] = malloc(600);

		ck_assert_ptr_nonnull(q);
		if (i == bad)
			snprintf(q, 600, "%s", bad_sql);
		else
			snprintf(q, 600, "INSERT INTO t VALUES (%zu, '%0480d')",
				 i, 0);
		b.v[i] = stmt(q);
	}
	return b;
}

/* Free what big_migration() made. */
static void big_migration_free(struct big *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->text[i]);
	free(b->text);
	free(b->v);
}

/*
 * A migration of megabytes is cut into several query strings: all of it
 * runs, and a failure in a later string still names its statement and
 * its position in it.
 */
START_TEST(long_migration_is_cut_between_statements)
{
	struct pgconn db = pgconn_open();
	const size_t n = 5000;
	struct big b = big_migration(n, n, NULL);
	struct dbmigrate_row row = {.id = "001", .name = "big", .batch = 1};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", b.v, n, &row, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT count(*) || ' ' || sum(i) FROM t",
		   "4999 12497500");
	assert_sql(db.url, "SELECT name FROM migrations", "big");
	big_migration_free(&b);

	/* A syntax error in statement 4000, past the first megabyte. */
	free(pgserver_psql(db.url, "DROP TABLE t; DELETE FROM migrations"));
	b = big_migration(n, 4000, "INSERT INTO t VALUES (1, 'x' 'y')");
	host_reset(db.h);
	expect_apply_fails(db.c, db.h, b.v, n, &row, "42601", 4000, 30);
	big_migration_free(&b);

	/* An error with no position, as far into the migration. */
	b = big_migration(n, 4500, "SELECT 1 / 0");
	host_reset(db.h);
	expect_apply_fails(db.c, db.h, b.v, n, &row, "22012", 4500, 0);
	assert_sql(db.url, "SELECT to_regclass('t')", NULL);
	big_migration_free(&b);
	pgconn_close(&db);
}
END_TEST

/* The tracking row's values travel quoted in the query string: quotes,
   backslashes, dollar signs and newlines arrive exactly as given. */
START_TEST(tracking_values_arrive_exactly)
{
	struct pgconn db = pgconn_open();
	static const char down[] =
	    "DROP TABLE \"it's\"; -- a \\ backslash, $$ and $1\n"
	    "SELECT E'\\n', '''' ; /* \xc3\xa9 */\n";
	struct dbmigrate_row row = {.id = "001",
				    .name = "o'brien\\",
				    .batch = 7,
				    .checksum = checksum64,
				    .executed_at = "2026-01-02T03:04:05Z",
				    .down_sql = down};
	char sql[512];

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", NULL, 0, &row, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	snprintf(sql, sizeof sql,
		 "SELECT down_sql = $q$%s$q$ AND name = $q$%s$q$ AND batch = 7 "
		 "FROM migrations",
		 down, row.name);
	assert_sql(db.url, sql, "t");
	/* And the delete finds the row by the same quoting. */
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", NULL, 0, NULL, "001"),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");
	pgconn_close(&db);
}
END_TEST

START_TEST(tracking_failure_has_no_statement)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[1] = {stmt("CREATE TABLE t (a int)")};
	struct dbmigrate_row row = {.id = "001", .name = "m", .batch = 1};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	free(pgserver_psql(db.url, "INSERT INTO migrations (id, name, batch) "
				"VALUES ('001', 'm', 1)"));
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 1, &row, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(db.h->statement, DBMIGRATE_NO_STATEMENT);
	ck_assert_str_eq(db.h->sqlstate, "23505");
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT to_regclass('t')", NULL);
	pgconn_close(&db);
}
END_TEST

START_TEST(apply_outside_transaction_concurrently)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[2] = {
	    stmt("CREATE INDEX CONCURRENTLY t_a ON t (a)"),
	    stmt("DROP INDEX CONCURRENTLY IF EXISTS nosuch_index")};
	struct dbmigrate_row row = {.id = "002", .name = "index", .batch = 1};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	free(pgserver_psql(db.url, "CREATE TABLE t (a int)"));
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 2, &row, NULL),
			 DBMIGRATE_OK);
	assert_sql(db.url, "SELECT to_regclass('t_a') IS NOT NULL", "t");
	assert_sql(db.url, "SELECT name FROM migrations WHERE id = '002'",
		   "index");
	/* Inside a transaction the server refuses it: hence classify(). */
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 1, NULL, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_str_eq(db.h->sqlstate, "25001");
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	pgconn_close(&db);
}
END_TEST

START_TEST(apply_outside_transaction_stops_at_failure)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[3] = {stmt("CREATE TABLE a1 (x int)"),
				      stmt("CREATE TABLE a1 (x int)"),
				      stmt("CREATE TABLE a2 (x int)")};
	struct dbmigrate_row row = {.id = "003", .name = "m", .batch = 1};

	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 3, &row, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(db.h->statement, 1);
	ck_assert_str_eq(db.h->sqlstate, "42P07");
	assert_sql(db.url, "SELECT to_regclass('a1') IS NOT NULL", "t");
	assert_sql(db.url, "SELECT to_regclass('a2')", NULL);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");
	pgconn_close(&db);
}
END_TEST

START_TEST(copy_is_refused_cleanly)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt in[3] = {stmt("CREATE TABLE c (x int)"),
				       stmt("COPY c FROM STDIN"),
				       stmt("CREATE TABLE d (x int)")};
	struct dbmigrate_stmt out[1] = {stmt("COPY (SELECT 1) TO STDOUT")};
	struct dbmigrate_stmt ok[1] = {stmt("SELECT 1")};

	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", in, 3, NULL, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(db.h->statement, 1);
	ck_assert_ptr_nonnull(strstr(db.h->message, "COPY"));
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT to_regclass('c')", NULL);

	host_reset(db.h);
	ck_assert_int_eq(vt->apply(db.c, "migrations", out, 1, NULL, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(db.h->statement, 0);
	ck_assert_ptr_nonnull(strstr(db.h->message, "COPY"));
	/* Both left the connection in a usable state. */
	ck_assert_int_eq(vt->apply(db.c, "migrations", ok, 1, NULL, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", ok, 1, NULL, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	pgconn_close(&db);
}
END_TEST

/* COMMIT of a failed transaction answers ROLLBACK: not a success. */
START_TEST(commit_after_failure_fails)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[2] = {stmt("CREATE TABLE k (x int)"),
				      stmt("SELECT 1/0")};

	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 2, NULL, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_str_eq(db.h->sqlstate, "22012");
	host_reset(db.h);
	ck_assert_int_ne(vt->commit(db.c), DBMIGRATE_OK);
	ck_assert_ptr_nonnull(strstr(db.h->message, "rolled back"));
	assert_sql(db.url, "SELECT to_regclass('k')", NULL);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	pgconn_close(&db);
}
END_TEST

START_TEST(notices_are_forwarded)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[2] = {
	    stmt("DO $$BEGIN RAISE NOTICE 'hello from %', 'migration'; END$$"),
	    stmt("DO $$BEGIN RAISE WARNING 'careful'; END$$")};

	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 2, NULL, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	ck_assert_msg(strstr(db.h->log, "[notice] NOTICE: hello from migration"),
		      "log: %s", db.h->log);
	ck_assert_msg(strstr(db.h->log, "[notice] WARNING: careful"), "log: %s",
		      db.h->log);
	pgconn_close(&db);
}
END_TEST

/* ---- the lock ---- */

/* What a helper thread does after its delay. */
struct later {
	int delay_ms;
	struct host *interrupt; /* set its interrupted flag */
	dbmigrate_conn *cancel; /* cancel what runs on it */
	dbmigrate_conn *unlock; /* release its lock */
	pthread_t thread;
};

/* Thread body: sleep, then act. */
static void *later_run(void *arg)
{
	struct later *l = arg;
	struct timespec ts = {l->delay_ms / 1000,
			      (long)(l->delay_ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
	if (l->interrupt != NULL)
		atomic_store(&l->interrupt->interrupted, 1);
	if (l->cancel != NULL)
		vt->cancel(l->cancel);
	if (l->unlock != NULL)
		vt->unlock(l->unlock, "migrations");
	return NULL;
}

/* Start the helper thread. */
static void later_start(struct later *l)
{
	ck_assert_int_eq(pthread_create(&l->thread, NULL, later_run, l), 0);
}

/* Wait for the helper thread. */
static void later_join(struct later *l)
{
	pthread_join(l->thread, NULL);
}

START_TEST(lock_timeout_names_holder)
{
	struct pgconn a = pgconn_on(pgserver_new_database(), "holder-app");
	struct pgconn b = pgconn_on(strdup(a.url), NULL);
	char *pid = pgserver_psql(a.url, "SELECT pid FROM pg_stat_activity "
				       "WHERE application_name = 'holder-app'");
	char want[64];
	double t0, dt;

	ck_assert_ptr_nonnull(pid);
	ck_assert_int_eq(vt->lock(a.c, "migrations", 1), DBMIGRATE_OK);
	t0 = tu_now();
	ck_assert_int_eq(vt->lock(b.c, "migrations", 1), DBMIGRATE_ELOCK);
	dt = tu_now() - t0;
	ck_assert_msg(dt >= 0.9 && dt < 2.5, "waited %.2f s", dt);
	ck_assert_str_eq(b.h->message,
			 "could not acquire the migration lock within 1 s");
	snprintf(want, sizeof want, "PID %s", pid);
	ck_assert_msg(strstr(b.h->detail, want) != NULL &&
			  strstr(b.h->detail, "holder-app") != NULL &&
			  strstr(b.h->detail, "from 127.0.0.1") != NULL,
		      "detail: %s", b.h->detail);
	ck_assert_ptr_nonnull(strstr(b.h->hint, "--lock-timeout"));
	ck_assert_int_eq(b.h->lock_waits, 1);
	ck_assert_ptr_nonnull(strstr(b.h->log, "holder-app"));

	/* Other tables, or the same name in another schema, are free. */
	ck_assert_int_eq(vt->lock(b.c, "other", 0), DBMIGRATE_OK);
	ck_assert_int_eq(vt->unlock(b.c, "other"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->lock(b.c, "app.migrations", 0), DBMIGRATE_OK);
	ck_assert_int_eq(vt->unlock(b.c, "app.migrations"), DBMIGRATE_OK);
	/* The unqualified name is keyed on its schema: the same lock. */
	ck_assert_int_eq(vt->lock(b.c, "public.migrations", 0), DBMIGRATE_ELOCK);

	ck_assert_int_eq(vt->unlock(a.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->lock(b.c, "migrations", 0), DBMIGRATE_OK);
	/* Session-level: it survives a transaction's rollback. */
	ck_assert_int_eq(vt->begin(b.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->rollback(b.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->lock(a.c, "migrations", 0), DBMIGRATE_ELOCK);
	free(pid);
	pgconn_close(&a);
	pgconn_close(&b);
}
END_TEST

/* a takes the lock; l starts; b waits for it up to timeout s and gets
   want. The seconds b waited. */
static double lock_wait(struct pgconn *a, struct pgconn *b, struct later *l,
			int timeout, int want)
{
	double t0, dt;

	ck_assert_int_eq(vt->lock(a->c, "migrations", 1), DBMIGRATE_OK);
	later_start(l);
	t0 = tu_now();
	ck_assert_int_eq(vt->lock(b->c, "migrations", timeout), want);
	dt = tu_now() - t0;
	later_join(l);
	return dt;
}

START_TEST(lock_waits_for_release)
{
	struct pgconn a = pgconn_on(pgserver_new_database(), NULL);
	struct pgconn b = pgconn_on(strdup(a.url), NULL);
	struct later l = {.delay_ms = 200, .unlock = a.c};
	double dt = lock_wait(&a, &b, &l, 10, DBMIGRATE_OK);

	ck_assert_msg(dt >= 0.15 && dt < 2.0, "waited %.2f s", dt);
	ck_assert_int_eq(b.h->lock_waits, 1);
	pgconn_close(&a);
	pgconn_close(&b);
}
END_TEST

START_TEST(lock_released_by_close)
{
	struct pgconn a = pgconn_on(pgserver_new_database(), NULL);
	struct pgconn b = pgconn_on(strdup(a.url), NULL);

	ck_assert_int_eq(vt->lock(a.c, "migrations", 1), DBMIGRATE_OK);
	pgconn_close(&a);
	ck_assert_int_eq(vt->lock(b.c, "migrations", 5), DBMIGRATE_OK);
	pgconn_close(&b);
}
END_TEST

START_TEST(lock_wait_is_interruptible)
{
	struct pgconn a = pgconn_on(pgserver_new_database(), NULL);
	struct pgconn b = pgconn_on(strdup(a.url), NULL);
	struct later l = {.delay_ms = 300, .interrupt = b.h};
	double dt = lock_wait(&a, &b, &l, 30, DBMIGRATE_EINTERRUPTED);

	ck_assert_msg(dt < 1.5, "took %.2f s", dt);
	pgconn_close(&a);
	pgconn_close(&b);
}
END_TEST

/* ---- cancel ---- */

/* In a transaction, db applies s while l acts; the apply returns want.
   The seconds it took. */
static double apply_while(struct pgconn *db, struct later *l,
			  const struct dbmigrate_stmt *s, size_t n, int want)
{
	double t0, dt;

	ck_assert_int_eq(vt->begin(db->c), DBMIGRATE_OK);
	later_start(l);
	t0 = tu_now();
	ck_assert_int_eq(vt->apply(db->c, "migrations", s, n, NULL, NULL), want);
	dt = tu_now() - t0;
	later_join(l);
	return dt;
}

START_TEST(cancel_from_thread)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[2] = {stmt("CREATE TABLE z (x int)"),
				      stmt("SELECT pg_sleep(30)")};
	struct later l = {.delay_ms = 300, .cancel = db.c};
	double dt = apply_while(&db, &l, s, 2, DBMIGRATE_EMIGRATION);

	ck_assert_msg(dt < 2.0, "took %.2f s", dt);
	ck_assert_str_eq(db.h->sqlstate, "57014");
	ck_assert_uint_eq(db.h->statement, 1);
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT to_regclass('z')", NULL);
	pgconn_close(&db);
}
END_TEST

/* The connection a SIGALRM handler cancels. */
static dbmigrate_conn *volatile alarm_conn;
static struct host *volatile alarm_host;

/* SIGALRM: what the CLI's SIGINT handler does. */
static void on_alarm(int sig)
{
	(void)sig;
	atomic_store(&alarm_host->interrupted, 1);
	vt->cancel(alarm_conn);
}

/* Interrupted by a signal, outside a transaction: EINTERRUPTED. */
START_TEST(cancel_from_signal_handler)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[2] = {stmt("SELECT pg_sleep(30)"),
				      stmt("CREATE TABLE never (x int)")};
	struct itimerval it = {.it_value = {0, 300000}};
	struct sigaction sa = {.sa_handler = on_alarm};
	double t0, dt;

	alarm_conn = db.c;
	alarm_host = db.h;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = tu_now();
	ck_assert_int_eq(vt->apply(db.c, "migrations", s, 2, NULL, NULL),
			 DBMIGRATE_EINTERRUPTED);
	dt = tu_now() - t0;
	ck_assert_msg(dt < 2.0, "took %.2f s", dt);
	ck_assert_str_eq(db.h->sqlstate, "57014");
	ck_assert_uint_eq(db.h->statement, 0);
	assert_sql(db.url, "SELECT to_regclass('never')", NULL);
	pgconn_close(&db);
}
END_TEST

/*
 * An interrupt whose cancel request was lost (sent before the statement
 * started): the driver notices the flag while waiting and cancels.
 */
START_TEST(interrupt_without_cancel_still_stops)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt s[1] = {stmt("SELECT pg_sleep(30)")};
	struct later l = {.delay_ms = 300, .interrupt = db.h};
	double dt = apply_while(&db, &l, s, 1, DBMIGRATE_EINTERRUPTED);

	ck_assert_msg(dt < 2.0, "took %.2f s", dt);
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	pgconn_close(&db);
}
END_TEST

/* Without a timeout, an interrupt still ends the wait for a server. */
START_TEST(connect_is_interruptible)
{
	struct host *h = host_new();
	char port[16];
	int fd = silent_server(port, sizeof port);
	struct dbmigrate_params p = {.struct_size = sizeof p,
				     .host = "127.0.0.1",
				     .port = port,
				     .database = "x",
				     .user = "x"};
	struct later l = {.delay_ms = 300, .interrupt = h};
	dbmigrate_conn *c = NULL;
	double t0, dt;

	later_start(&l);
	t0 = tu_now();
	ck_assert_int_eq(vt->open(&h->h, &p, &c), DBMIGRATE_EINTERRUPTED);
	dt = tu_now() - t0;
	later_join(&l);
	ck_assert_ptr_null(c);
	ck_assert_msg(dt < 1.5, "took %.2f s", dt);
	close(fd);
	free(h);
}
END_TEST

/* ---- classify ---- */

START_TEST(classify_statements)
{
	static const struct {
		const char *sql;
		const char *reason; /* a part of the reason, NULL: in a tx */
	} cases[] = {
	    {"CREATE INDEX CONCURRENTLY i ON t (a)",
	     "CREATE INDEX CONCURRENTLY"},
	    {"create unique index concurrently i on t (a)",
	     "CREATE INDEX CONCURRENTLY"},
	    {"CREATE /* c */ INDEX\n  CONCURRENTLY IF NOT EXISTS i ON t (a)",
	     "CREATE INDEX CONCURRENTLY"},
	    {"CREATE INDEX i ON t (a)", NULL},
	    {"CREATE INDEX \"concurrently\" ON t (a)", NULL},
	    {"DROP INDEX CONCURRENTLY IF EXISTS i", "DROP INDEX CONCURRENTLY"},
	    {"DROP INDEX i", NULL},
	    {"REINDEX INDEX CONCURRENTLY i", "REINDEX CONCURRENTLY"},
	    {"REINDEX TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"},
	    {"REINDEX (VERBOSE) TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"},
	    {"REINDEX (CONCURRENTLY, VERBOSE) TABLE t", "REINDEX CONCURRENTLY"},
	    {"REINDEX (CONCURRENTLY false) TABLE t", NULL},
	    {"REINDEX TABLE t", NULL},
	    {"REINDEX SCHEMA public", "REINDEX SCHEMA"},
	    {"REINDEX DATABASE d", "REINDEX DATABASE"},
	    {"REINDEX SYSTEM d", "REINDEX SYSTEM"},
	    {"VACUUM", "VACUUM"},
	    {"vacuum (analyze) t", "VACUUM"},
	    {"ANALYZE t", NULL},
	    {"CREATE DATABASE x", "CREATE DATABASE"},
	    {"DROP DATABASE IF EXISTS x", "DROP DATABASE"},
	    {"CREATE TABLESPACE s LOCATION '/x'", "CREATE TABLESPACE"},
	    {"DROP TABLESPACE s", "DROP TABLESPACE"},
	    {"ALTER SYSTEM SET work_mem = '8MB'", "ALTER SYSTEM"},
	    {"CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p",
	     "CREATE SUBSCRIPTION"},
	    {"ALTER SUBSCRIPTION s REFRESH PUBLICATION", "ALTER SUBSCRIPTION"},
	    {"DROP SUBSCRIPTION s", "DROP SUBSCRIPTION"},
	    {"ALTER DATABASE d SET TABLESPACE s", "SET TABLESPACE"},
	    {"ALTER DATABASE d SET work_mem = '8MB'", NULL},
	    {"CLUSTER", "CLUSTER without a table name"},
	    {"CLUSTER VERBOSE", "CLUSTER without a table name"},
	    {"CLUSTER t USING i", NULL},
	    {"CLUSTER VERBOSE t", NULL},
	    {"DISCARD ALL", "DISCARD ALL"},
	    {"DISCARD PLANS", NULL},
	    {"ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
	     "DETACH PARTITION CONCURRENTLY"},
	    {"ALTER TABLE p DETACH PARTITION c", NULL},
	    /* Fine from PostgreSQL 12 on; the test server is newer. */
	    {"ALTER TYPE mood ADD VALUE 'meh'", NULL},
	    {"REFRESH MATERIALIZED VIEW CONCURRENTLY v", NULL},
	    {"SELECT 'VACUUM'", NULL},
	    {"-- VACUUM\nSELECT 1", NULL},
	    {"CREATE TABLE vacuum (a int)", NULL},
	};
	struct host *h = host_new();

	/* No connection: the dialect is the driver's, not the server's. */
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dbmigrate_stmt_class cls = { 0 };
		int r;

		vt->classify(&h->h, cases[i].sql, strlen(cases[i].sql), &cls);
		r = (cls.flags & DBMIGRATE_STMT_NO_TRANSACTION) != 0;
		if (cases[i].reason == NULL) {
			ck_assert_msg(r == 0, "%s: classified as \"%s\"",
				      cases[i].sql, cls.reason);
		} else {
			ck_assert_msg(r == 1 && cls.reason != NULL &&
					  strstr(cls.reason, cases[i].reason) &&
					  strstr(cls.reason, "transaction block"),
				      "%s: got %d \"%s\"", cases[i].sql, r,
				      r ? cls.reason : "");
		}
	}
	free(h);
}
END_TEST

/* The driver's tests, one TCase: the lead adds CLI suites beside it. */
/* ---- ABI 2: down SQL in the table, limits on the statements ---- */

/* What rows_down collects: the id and down_sql of each row. */
struct down_rows {
	int n;
	char id[8][16];
	char down[8][128];
	int has_down[8];
};

/* read_rows callback: keep id and down_sql. */
static int rows_down(void *ctx, const struct dbmigrate_row *r)
{
	struct down_rows *d = ctx;

	if (d->n < 8) {
		snprintf(d->id[d->n], sizeof d->id[0], "%s", r->id);
		d->has_down[d->n] = r->down_sql != NULL;
		snprintf(d->down[d->n], sizeof d->down[0], "%s",
			 r->down_sql != NULL ? r->down_sql : "");
	}
	d->n++;
	return 0;
}

/* The columns of the table migrations, in order. */
static const char columns_sql[] =
	"SELECT string_agg(column_name, ',' ORDER BY ordinal_position) "
	"FROM information_schema.columns WHERE table_name = 'migrations'";

START_TEST(previous_table_gets_down_sql)
{
	char *url = pgserver_new_database();
	struct host *h = host_new();
	struct down_rows d = {0};
	struct dbmigrate_stmt s[1] = {stmt("CREATE TABLE t (id int)")};
	struct dbmigrate_row row = {.id = "002", .name = "t", .batch = 2,
				    .checksum = checksum64,
				    .down_sql = "DROP TABLE t;\n"};
	dbmigrate_conn *c;

	/* The table as the previous dbmigrate made it. */
	free(pgserver_psql(
	    url, "CREATE TABLE migrations (id VARCHAR(255) PRIMARY KEY, "
		 "name VARCHAR(255) NOT NULL, executed_at TIMESTAMP WITH TIME "
		 "ZONE DEFAULT CURRENT_TIMESTAMP, batch INTEGER NOT NULL, "
		 "checksum VARCHAR(64));"
		 "INSERT INTO migrations VALUES ('001', 'old', now(), 1, NULL)"));
	c = open_url(h, url, NULL);
	/* Reading (status) works and never alters the table. */
	ck_assert_int_eq(vt->read_rows(c, "migrations", rows_down, &d),
			 DBMIGRATE_OK);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.has_down[0], 0);
	assert_sql(url, columns_sql, "id,name,executed_at,batch,checksum");
	/* ensure_table adopts it; the old row keeps a NULL down_sql. */
	ck_assert_int_eq(vt->ensure_table(c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(h->notices, 0);
	assert_sql(url, columns_sql,
		   "id,name,executed_at,batch,checksum,down_sql");
	ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(c, "migrations", s, 1, &row, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(vt->read_rows(c, "migrations", rows_down, &d),
			 DBMIGRATE_OK);
	ck_assert_int_eq(d.n, 2);
	for (int i = 0; i < 2; i++) {
		if (strcmp(d.id[i], "002") == 0) {
			ck_assert_int_eq(d.has_down[i], 1);
			ck_assert_str_eq(d.down[i], "DROP TABLE t;\n");
		} else {
			ck_assert_int_eq(d.has_down[i], 0);
		}
	}
	/* Brief (status): whether there is one, not its text; the same on
	   the previous table, which has no down_sql column at all. */
	for (int pass = 0; pass < 2; pass++) {
		memset(&d, 0, sizeof d);
		ck_assert_int_eq(vt->read_rows_brief(c, "migrations", rows_down,
						     &d), DBMIGRATE_OK);
		ck_assert_int_eq(d.n, 2);
		for (int i = 0; i < 2; i++) {
			ck_assert_int_eq(d.has_down[i],
					 pass == 0 && strcmp(d.id[i], "002") == 0);
			ck_assert_str_eq(d.down[i], "");
		}
		if (pass == 0)
			free(pgserver_psql(url, "ALTER TABLE migrations "
						"DROP COLUMN down_sql"));
	}
	vt->close(c);
	free(url);
	free(h);
}
END_TEST

START_TEST(statement_timeout_stops_pg_sleep)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt slow[2] = {stmt("CREATE TABLE t (id int)"),
					 stmt("SELECT pg_sleep(5)")};
	struct dbmigrate_stmt nap[1] = {stmt("SELECT pg_sleep(0.4)")};
	struct dbmigrate_stmt quick[1] = {stmt("SELECT 1")};
	struct dbmigrate_row row = {.id = "001", .name = "slow", .batch = 1};
	struct dbmigrate_settings lim = {.struct_size = sizeof lim,
					 .statement_timeout = 0.2};
	struct dbmigrate_settings none = {.struct_size = sizeof none};
	double t0;

	ck_assert_ptr_nonnull(vt->configure);
	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->configure(db.c, &lim), DBMIGRATE_OK);
	/* In a transaction (pipelined, SET LOCAL). */
	t0 = tu_now();
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", slow, 2, &row, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_str_eq(db.h->sqlstate, "57014");
	ck_assert_uint_eq(db.h->statement, 1);
	ck_assert_ptr_nonnull(strstr(db.h->message, "statement timeout"));
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	ck_assert_msg(tu_now() - t0 < 3, "took %.1f s", tu_now() - t0);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");
	assert_sql(db.url, "SELECT to_regclass('t')", NULL);
	/* Outside a transaction (SET, then RESET). */
	host_reset(db.h);
	ck_assert_int_eq(vt->apply(db.c, "migrations", slow, 2, &row, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_str_eq(db.h->sqlstate, "57014");
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");
	/* The limit ends with the migration: the next one, configured
	   without limits, naps longer than it in the same transaction. */
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", nap, 0, NULL, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->configure(db.c, &lim), DBMIGRATE_OK);
	row.id = "002";
	ck_assert_int_eq(vt->apply(db.c, "migrations", quick, 1, &row, NULL),
			 DBMIGRATE_OK);
	ck_assert_int_eq(vt->configure(db.c, &none), DBMIGRATE_OK);
	ck_assert_msg(vt->apply(db.c, "migrations", nap, 1, NULL, NULL) ==
			  DBMIGRATE_OK, "%s", db.h->message);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	/* And outside one, RESET restored the session. */
	ck_assert_msg(vt->apply(db.c, "migrations", nap, 1, NULL, NULL) ==
			  DBMIGRATE_OK, "%s", db.h->message);
	pgconn_close(&db);
}
END_TEST

/* A second session holding an ACCESS EXCLUSIVE lock on table t. */
struct blocker {
	struct host *h;
	dbmigrate_conn *c;
	struct host *watch;   /* release once its log says "retry 1 of" */
	pthread_t thread;
};

/* Thread body: wait for the first retry warning, then commit. */
static void *blocker_release(void *arg)
{
	struct blocker *b = arg;

	for (int i = 0; i < 200; i++) {
		struct timespec ts = {0, 20 * 1000000L};

		if (strstr(b->watch->log, "retry 1 of") != NULL)
			break;
		nanosleep(&ts, NULL);
	}
	vt->commit(b->c);
	return NULL;
}

/* Take the lock on t in a transaction of another session. */
static void blocker_take(struct blocker *b, const char *url)
{
	struct dbmigrate_stmt lk[1] = {
	    stmt("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")};

	b->h = host_new();
	b->c = open_url(b->h, url, "blocker");
	ck_assert_int_eq(vt->begin(b->c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(b->c, "migrations", lk, 1, NULL, NULL),
			 DBMIGRATE_OK);
}

/* Let b commit (release its lock) once h's log shows a first retry;
   h starts with no errors and an empty log. */
static void blocker_release_on_retry(struct blocker *b, struct host *h)
{
	host_reset(h);
	h->log[0] = '\0';
	b->watch = h;
	ck_assert_int_eq(pthread_create(&b->thread, NULL, blocker_release, b),
			 0);
}

/* After a run that got through on a retry: b released, no error, at
   least one retry warning in h's log; then close b. */
static void blocker_done(struct blocker *b, const struct host *h)
{
	pthread_join(b->thread, NULL);
	ck_assert_int_eq(h->errors, 0);
	ck_assert_int_ge(tu_count(h->log, "[warning]"), 1);
	vt->close(b->c);
	free(b->h);
}

START_TEST(lock_timeout_is_retried)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt alter[1] = {
	    stmt("ALTER TABLE t ADD COLUMN x int")};
	struct dbmigrate_stmt outside[2] = {
	    stmt("CREATE TABLE u (id int)"),
	    stmt("CREATE INDEX CONCURRENTLY t_x ON t (x)")};
	struct dbmigrate_row row = {.id = "002", .name = "alter", .batch = 1};
	struct dbmigrate_settings lim = {.struct_size = sizeof lim,
					 .lock_timeout = 0.2,
					 .lock_retries = 2};
	struct blocker b = {0};

	free(pgserver_psql(db.url, "CREATE TABLE t (id int)"));
	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	ck_assert_int_eq(vt->configure(db.c, &lim), DBMIGRATE_OK);

	/* Held throughout: three tries, two warnings, then 55P03. */
	blocker_take(&b, db.url);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply(db.c, "migrations", alter, 1, &row, NULL),
			 DBMIGRATE_EMIGRATION);
	ck_assert_str_eq(db.h->sqlstate, "55P03");
	ck_assert_uint_eq(db.h->statement, 0);
	ck_assert_int_eq(tu_count(db.h->log, "[warning]"), 2);
	ck_assert_ptr_nonnull(strstr(db.h->log, "retry 2 of 2"));
	ck_assert_ptr_nonnull(strstr(db.h->log, "ALTER TABLE t ADD COLUMN x int"));
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");

	/* Released after the first failure: the retry gets through. */
	blocker_release_on_retry(&b, db.h);
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_msg(vt->apply(db.c, "migrations", alter, 1, &row, NULL) ==
			  DBMIGRATE_OK, "%s", db.h->message);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	blocker_done(&b, db.h);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "1");
	assert_sql(db.url, "SELECT count(*) FROM information_schema.columns "
			"WHERE table_name = 't' AND column_name = 'x'", "1");

	/* Outside a transaction the failed statement alone runs again. */
	blocker_take(&b, db.url);
	blocker_release_on_retry(&b, db.h);
	row.id = "003";
	ck_assert_msg(vt->apply(db.c, "migrations", outside, 2, &row, NULL) ==
			  DBMIGRATE_OK, "%s", db.h->message);
	blocker_done(&b, db.h);
	ck_assert_ptr_nonnull(strstr(db.h->log, "CREATE INDEX CONCURRENTLY"));
	assert_sql(db.url, "SELECT count(*) FROM migrations", "2");
	assert_sql(db.url, "SELECT indisvalid FROM pg_index WHERE indexrelid = "
			"'t_x'::regclass", "t");
	pgconn_close(&db);
}
END_TEST

/*
 * apply_batch (ABI 3): several migrations of one transaction sent
 * together. All succeed; a failure names its migration and statement
 * (a runtime error found by counting results, a syntax error by its
 * position in the joined string); a lock wait in the second migration
 * is retried from its own savepoint, the first staying done.
 */
START_TEST(batch_of_migrations)
{
	struct pgconn db = pgconn_open();
	struct dbmigrate_stmt a[2] = {stmt("CREATE TABLE a (id int)"),
				      stmt("INSERT INTO a VALUES (1)")};
	struct dbmigrate_stmt b[1] = {stmt("CREATE TABLE b (id int)")};
	struct dbmigrate_stmt bad[2] = {stmt("CREATE TABLE c (id int)"),
					stmt("SELECT 1/0")};
	struct dbmigrate_stmt syntax[2] = {stmt("CREATE TABLE d (id int)"),
					   stmt("CREATE TABLE é (id int")};
	struct dbmigrate_stmt alter[1] = {stmt("ALTER TABLE t ADD COLUMN x int")};
	struct dbmigrate_stmt u[1] = {stmt("CREATE TABLE u (id int)")};
	struct dbmigrate_row r1 = {.id = "001", .name = "a", .batch = 1},
			     r2 = {.id = "002", .name = "b", .batch = 1},
			     r3 = {.id = "003", .name = "c", .batch = 1};
	struct dbmigrate_batch_item items[3] = {{a, 2, &r1, NULL},
						{b, 1, &r2, NULL},
						{bad, 2, &r3, NULL}};
	struct dbmigrate_settings lim = {.struct_size = sizeof lim,
					 .lock_timeout = 0.2,
					 .lock_retries = 2};
	struct blocker bl = {0};
	size_t failed = 99;

	ck_assert_ptr_nonnull(vt->apply_batch);
	ck_assert_int_eq(vt->ensure_table(db.c, "migrations"), DBMIGRATE_OK);
	/* The third fails at its statement 1: nothing of the three stays. */
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply_batch(db.c, "migrations", items, 3, &failed),
			 DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(failed, 2);
	ck_assert_str_eq(db.h->sqlstate, "22012");
	ck_assert_uint_eq(db.h->statement, 1);
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "0");
	assert_sql(db.url, "SELECT to_regclass('a') IS NULL", "t");
	/* A syntax error in the second: placed by its position. */
	host_reset(db.h);
	items[1].stmts = syntax;
	items[1].n = 2;
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_int_eq(vt->apply_batch(db.c, "migrations", items, 2, &failed),
			 DBMIGRATE_EMIGRATION);
	ck_assert_uint_eq(failed, 1);
	ck_assert_str_eq(db.h->sqlstate, "42601");
	ck_assert_uint_eq(db.h->statement, 1);
	ck_assert_uint_eq(db.h->position, 23); /* end of input, in characters */
	ck_assert_int_eq(vt->rollback(db.c), DBMIGRATE_OK);
	/* All good: one transaction, every row. */
	host_reset(db.h);
	items[1].stmts = b;
	items[1].n = 1;
	bad[1] = stmt("SELECT 1");
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_msg(vt->apply_batch(db.c, "migrations", items, 3, &failed) ==
			  DBMIGRATE_OK, "%s", db.h->message);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	assert_sql(db.url, "SELECT string_agg(id || ' ' || name, ',' ORDER BY id) "
			"FROM migrations", "001 a,002 b,003 c");
	assert_sql(db.url, "SELECT count(*) FROM a", "1");
	/* A lock wait in the second: retried from its savepoint only. */
	free(pgserver_psql(db.url, "CREATE TABLE t (id int)"));
	ck_assert_int_eq(vt->configure(db.c, &lim), DBMIGRATE_OK);
	blocker_take(&bl, db.url);
	blocker_release_on_retry(&bl, db.h);
	r1.id = "004";
	r2.id = "005";
	items[0] = (struct dbmigrate_batch_item){u, 1, &r1, NULL};
	items[1] = (struct dbmigrate_batch_item){alter, 1, &r2, NULL};
	ck_assert_int_eq(vt->begin(db.c), DBMIGRATE_OK);
	ck_assert_msg(vt->apply_batch(db.c, "migrations", items, 2, &failed) ==
			  DBMIGRATE_OK, "%s", db.h->message);
	ck_assert_int_eq(vt->commit(db.c), DBMIGRATE_OK);
	blocker_done(&bl, db.h);
	assert_sql(db.url, "SELECT count(*) FROM migrations", "5");
	assert_sql(db.url, "SELECT count(*) FROM information_schema.columns "
			"WHERE table_name = 't' AND column_name = 'x'", "1");
	pgconn_close(&db);
}
END_TEST

/*
 * On a plain server the statements Citus wants alone (ALTER TABLE,
 * CREATE INDEX...) stay joined with the others in one query string, as
 * current_query() of the statement after them shows; with the runner
 * lock taken, the lock's own query said there is no Citus. Without the
 * lock the driver asks once, then still joins.
 */
START_TEST(plain_server_keeps_ddl_joined)
{
	char *url = pgserver_new_database();
	struct host *h = host_new();
	struct dbmigrate_stmt s[5] = {
		stmt("CREATE TABLE seen (q text)"),
		stmt("ALTER TABLE seen ADD COLUMN x int"),
		stmt("CREATE INDEX seen_x ON seen (x)"),
		stmt("ALTER TABLE seen DROP COLUMN x"),
		stmt("INSERT INTO seen SELECT current_query()")};
	struct dbmigrate_row r1 = {.id = "001", .name = "a", .batch = 1},
			     r2 = {.id = "002", .name = "b", .batch = 1};

	for (int locked = 1; locked >= 0; locked--) {
		dbmigrate_conn *c = open_url(h, url, NULL);

		if (locked)
			ck_assert_int_eq(vt->lock(c, "migrations", 5),
					 DBMIGRATE_OK);
		ck_assert_int_eq(vt->ensure_table(c, "migrations"),
				 DBMIGRATE_OK);
		ck_assert_int_eq(vt->begin(c), DBMIGRATE_OK);
		ck_assert_msg(vt->apply(c, "migrations", s, 5,
					locked ? &r1 : &r2, NULL) ==
				  DBMIGRATE_OK,
			      "%s", h->message);
		ck_assert_int_eq(vt->commit(c), DBMIGRATE_OK);
		assert_sql(url,
			   "SELECT q LIKE 'CREATE TABLE seen%ALTER TABLE seen "
			   "ADD%CREATE INDEX seen_x%ALTER TABLE seen DROP%"
			   "INSERT INTO seen%INSERT INTO \"migrations\"%' FROM "
			   "seen",
			   "t");
		free(pgserver_psql(url, "DROP TABLE seen"));
		if (locked)
			ck_assert_int_eq(vt->unlock(c, "migrations"),
					 DBMIGRATE_OK);
		vt->close(c);
	}
	free(url);
	free(h);
}
END_TEST

static Suite *pg_driver_suite(void)
{
	const TTest *const driver[] = {
		connect_by_url, connect_by_parts, url_application_name_wins,
		wrong_password, malformed_url_hides_password,
		refused_port_fails_fast, silent_server_times_out,
		ensure_table_fresh, seed_table_is_adopted,
		schema_qualified_table, table_name_needing_quotes,
		bad_table_names, read_rows_without_table_and_stopping,
		older_table_is_read_as_it_is, apply_in_transaction_second_fails,
		apply_records_and_unrecords, apply_keeps_given_time,
		error_position_in_characters, tracking_failure_has_no_statement,
		syntax_error_names_its_statement,
		error_without_position_names_its_statement,
		statement_ending_in_a_comment,
		long_migration_is_cut_between_statements,
		tracking_values_arrive_exactly,
		apply_outside_transaction_concurrently,
		apply_outside_transaction_stops_at_failure,
		copy_is_refused_cleanly, commit_after_failure_fails,
		notices_are_forwarded, lock_timeout_names_holder,
		lock_waits_for_release, lock_released_by_close,
		lock_wait_is_interruptible, cancel_from_thread,
		cancel_from_signal_handler,
		interrupt_without_cancel_still_stops, connect_is_interruptible,
		classify_statements, previous_table_gets_down_sql,
		statement_timeout_stops_pg_sleep, lock_timeout_is_retried,
		batch_of_migrations, plain_server_keeps_ddl_joined, NULL
	};

	Suite *s = suite_create("postgres driver");

	tu_tcase(s, "driver", 30, driver);
	return s;
}

/* Load the driver, start the server, run the suite. */
int main(void)
{
	vt = load_driver();
	return pgserver_run_suite(pg_driver_suite());
}
