/*
 * citus.c - see citus.h. Test-only code: a harness that cannot go on
 * says why and exits, rather than returning errors.
 *
 * The cluster's state lives in file-scope variables: they are set once,
 * in main() before the tests fork, and only read afterwards.
 */
#define _GNU_SOURCE /* asprintf */
#include "citus.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "testutil.h"

#define CITUS_NODES (1 + CITUS_WORKERS)
#define CITUS_DEFAULT_BINDIR "/usr/lib/postgresql/15/bin"

static char *citus_dir;    /* scratch directory of the three clusters */
static char *citus_bindir; /* initdb, pg_ctl, postgres */
static int citus_ports[CITUS_NODES]; /* 0: the coordinator */
static struct tu_server_user citus_runas; /* who runs the servers */
static pid_t citus_owner;  /* the process that started it */
static pid_t citus_reaper;
static int citus_reaper_fd = -1;
static unsigned citus_seq; /* per process; names add the pid */

/* Say why the harness cannot go on and exit 1. */
__attribute__((noreturn)) static void citus_die(const char *what,
						const char *arg)
{
	fprintf(stderr, "citus: %s%s%s\n", what, arg != NULL ? ": " : "",
		arg != NULL ? arg : "");
	exit(1);
}

/* Skip the program (exit 77), or fail it when DBMIGRATE_REQUIRE_CITUS=1. */
__attribute__((noreturn)) static void citus_skip(const char *why)
{
	const char *req = getenv("DBMIGRATE_REQUIRE_CITUS");

	if (req != NULL && strcmp(req, "1") == 0) {
		fprintf(stderr,
			"FAIL: %s; DBMIGRATE_REQUIRE_CITUS=1, so this is an "
			"error, not a skip\n",
			why);
		exit(1);
	}
	fprintf(stderr,
		"\n**********\nSKIP: %s (install it with "
		"../shared/citus/build.sh; DBMIGRATE_REQUIRE_CITUS=1 makes "
		"this a failure)\n**********\n\n",
		why);
	exit(77);
}

/* Run argv as the servers' user, output appended to DIR/setup.log;
   the exit status, or -1. */
static int citus_run(char *const *argv)
{
	return tu_server_run(argv, citus_dir, &citus_runas, "citus");
}

/* Print the end of setup.log and of each server's log. */
static void citus_show_logs(void)
{
	tu_show_log_end(citus_dir, "setup.log");
	for (int i = 0; i < CITUS_NODES; i++) {
		char name[32];

		snprintf(name, sizeof name, "node%d.log", i);
		tu_show_log_end(citus_dir, name);
	}
}

/* A program of the bindir, to free(). */
static char *citus_prog(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", citus_bindir, name) < 0)
		citus_die("out of memory", NULL);
	return p;
}

/* DIR/nodeI, to free(). */
static char *citus_data(int i)
{
	char *p;

	if (asprintf(&p, "%s/node%d", citus_dir, i) < 0)
		citus_die("out of memory", NULL);
	return p;
}

/* True when citus.so is in the pkglibdir of bindir's server: Debian's
   BINDIR/../lib, else what BINDIR/pg_config says. */
static int citus_installed(void)
{
	char *cmd, line[4096], *so;
	FILE *f;
	int ok = 0;

	if (asprintf(&so, "%s/../lib/citus.so", citus_bindir) >= 0) {
		ok = access(so, R_OK) == 0;
		free(so);
	}
	if (ok || asprintf(&cmd, "%s/pg_config --pkglibdir 2>/dev/null",
			   citus_bindir) < 0)
		return ok;
	f = popen(cmd, "r");
	free(cmd);
	if (f == NULL)
		return 0;
	if (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (asprintf(&so, "%s/citus.so", line) >= 0) {
			ok = access(so, R_OK) == 0;
			free(so);
		}
	}
	pclose(f);
	return ok;
}

/* True when the server has the setting name (a Debian build of 15.20
   added output_plugin_libraries). */
static int citus_has_setting(const char *name)
{
	char *cmd;
	int rc;

	if (asprintf(&cmd, "%s/postgres --describe-config 2>/dev/null | "
			   "grep -q '^%s\t'",
		     citus_bindir, name) < 0)
		return 0;
	rc = system(cmd);
	free(cmd);
	return rc == 0;
}

/* Append this run's settings to node i's postgresql.conf. */
static void citus_configure(int i)
{
	char *path, conf[2048];
	FILE *f;
	/* create_distributed_table_concurrently() decodes WAL with Citus's
	   own output plugin, which such a server must be told to allow. */
	const char *plugins =
		citus_has_setting("output_plugin_libraries")
			? "output_plugin_libraries = 'pgoutput, test_decoding, "
			  "citus'\n"
			: "";

	snprintf(conf, sizeof conf,
		 "\n# tests/citus.c\n"
		 "listen_addresses = '127.0.0.1'\n"
		 "port = %d\n"
		 "unix_socket_directories = ''\n"
		 "shared_preload_libraries = 'citus'\n"
		 "citus.node_conninfo = 'sslmode=disable'\n"
		 /* Four shards: every DDL still reaches both workers. */
		 "citus.shard_count = 4\n"
		 "max_prepared_transactions = 40\n"
		 /* Each database with the extension keeps a background
		    worker (Citus's maintenance daemon); logical replication
		    (create_distributed_table_concurrently()) needs slots
		    beside them, or it waits for one forever. */
		 "max_worker_processes = 32\n"
		 "max_logical_replication_workers = 8\n"
		 /* create_distributed_table_concurrently() decodes WAL. */
		 "wal_level = logical\n"
		 "max_connections = 80\n"
		 "fsync = off\n"
		 "full_page_writes = off\n"
		 "synchronous_commit = off\n"
		 "shared_buffers = 16MB\n"
		 "%s",
		 citus_ports[i], plugins);
	if (asprintf(&path, "%s/node%d/postgresql.conf", citus_dir, i) < 0)
		citus_die("out of memory", NULL);
	f = fopen(path, "a");
	if (f == NULL || fputs(conf, f) < 0 || fclose(f) != 0)
		citus_die("cannot write", path);
	free(path);
}

/* pg_ctl start node i, waiting until it accepts connections. */
static int citus_pg_ctl_start(int i)
{
	char *prog = citus_prog("pg_ctl"), *data = citus_data(i), *log;
	int rc;

	if (asprintf(&log, "%s/node%d.log", citus_dir, i) < 0)
		citus_die("out of memory", NULL);
	{
		char *argv[] = {prog, "-D", data, "-l",	  log,
				"-w", "-t", "60", "start", NULL};

		rc = citus_run(argv);
	}
	free(prog);
	free(data);
	free(log);
	return rc;
}

/* pg_ctl stop -m immediate: by the PID in postmaster.pid. */
static void citus_pg_ctl_stop(int i)
{
	char *prog = citus_prog("pg_ctl"), *data = citus_data(i), *pidfile;

	if (asprintf(&pidfile, "%s/postmaster.pid", data) >= 0) {
		if (tu_exists(pidfile)) {
			char *argv[] = {prog,	     "-D", data,   "-m",
					"immediate", "-w", "stop", NULL};

			(void)citus_run(argv);
		}
		free(pidfile);
	}
	free(prog);
	free(data);
}

/* Fork the watchdog: once every copy of the pipe's write end is closed
   (the program ended, however), it stops the nodes and removes DIR. */
static void citus_start_reaper(void)
{
	int p[2];
	char c;

	if (pipe(p) != 0)
		citus_die("pipe failed", NULL);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	citus_reaper = fork();
	if (citus_reaper < 0)
		citus_die("fork failed", NULL);
	if (citus_reaper == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		for (int i = CITUS_NODES - 1; i >= 0; i--)
			citus_pg_ctl_stop(i);
		tu_rm_rf(citus_dir);
		_exit(0);
	}
	close(p[0]);
	citus_reaper_fd = p[1];
}

/* atexit: only the starting process stops the cluster. */
static void citus_atexit(void)
{
	if (getpid() == citus_owner)
		citus_stop();
}

/* The URL of database db on node i, to free(). */
static char *citus_url(int i, const char *db)
{
	char *url;

	if (asprintf(&url, "postgres://postgres@127.0.0.1:%d/%s",
		     citus_ports[i], db) < 0)
		citus_die("out of memory", NULL);
	return url;
}

/* Run sql on url; the error message (to free()) or NULL; *value gets the
   first value when value is not NULL. */
static char *citus_exec(const char *url, const char *sql, char **value)
{
	PGconn *pg = PQconnectdb(url);
	PGresult *res;
	char *err = NULL;

	if (value != NULL)
		*value = NULL;
	if (PQstatus(pg) != CONNECTION_OK) {
		err = strdup(PQerrorMessage(pg));
		PQfinish(pg);
		return err;
	}
	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		err = strdup(PQresultErrorMessage(res));
	} else if (value != NULL && PQntuples(res) > 0 && PQnfields(res) > 0 &&
		   !PQgetisnull(res, 0, 0)) {
		*value = strdup(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	PQfinish(pg);
	return err;
}

/* Find the binaries, make the nodes and start them (see citus.h). */
void citus_start(void)
{
	static const char *const names[] = {"dbmigrate", "nobody", NULL};
	const char *forced = getenv("DBMIGRATE_CITUS_BINDIR");
	char *initdb, *data0;

	if (citus_dir != NULL)
		return;
	citus_bindir = strdup(forced != NULL && *forced != '\0'
				      ? forced
				      : CITUS_DEFAULT_BINDIR);
	{
		char *pg = citus_prog("postgres"), why[4200];
		int there = access(pg, X_OK) == 0;

		free(pg);
		if (!there) {
			snprintf(why, sizeof why,
				 "Citus needs PostgreSQL 15's server, and there "
				 "is none in %s (DBMIGRATE_CITUS_BINDIR picks "
				 "another)",
				 citus_bindir);
			citus_skip(why);
		}
		if (!citus_installed()) {
			snprintf(why, sizeof why,
				 "Citus is not installed for the PostgreSQL "
				 "server in %s",
				 citus_bindir);
			citus_skip(why);
		}
	}
	if (tu_server_user_pick(&citus_runas, names) != 0)
		citus_skip("running as root and neither user dbmigrate "
			   "nor nobody exists to run the servers");
	citus_dir = tu_mkdtemp();
	if (citus_runas.as_other && chown(citus_dir, citus_runas.uid, citus_runas.gid) != 0)
		citus_die("cannot chown", citus_dir);
	citus_owner = getpid();
	initdb = citus_prog("initdb");
	data0 = citus_data(0);
	{
		char *argv[] = {initdb,	   "-D",	  data0,
				"-U",	   "postgres",	  "--auth=trust",
				"-E",	   "UTF8",	  "--no-locale",
				"--no-sync", NULL};

		if (citus_run(argv) != 0) {
			citus_show_logs();
			tu_rm_rf(citus_dir);
			citus_die("initdb failed (its output is above)", NULL);
		}
	}
	/* The workers start as copies of the fresh cluster. */
	for (int i = 1; i < CITUS_NODES; i++) {
		char *data = citus_data(i);
		char *argv[] = {"/bin/cp", "-a", data0, data, NULL};

		if (citus_run(argv) != 0)
			citus_die("cannot copy the cluster to", data);
		free(data);
	}
	free(initdb);
	free(data0);
	citus_start_reaper();
	atexit(citus_atexit);
	for (int i = 0; i < CITUS_NODES; i++) {
		int rc = -1;

		/* The free port can be taken before the server binds it. */
		for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
			citus_ports[i] = tu_free_port();
			if (citus_ports[i] < 0)
				break;
			citus_configure(i);
			rc = citus_pg_ctl_start(i);
		}
		if (rc != 0) {
			citus_show_logs();
			citus_die("a node did not start (its log is above)",
				  NULL);
		}
	}
}

/* Let the watchdog stop the cluster, and wait for it. */
void citus_stop(void)
{
	if (citus_reaper_fd < 0)
		return;
	close(citus_reaper_fd);
	citus_reaper_fd = -1;
	while (waitpid(citus_reaper, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Run sql on database db of node i; fail the test saying why. */
static void citus_node_sql(int i, const char *db, const char *sql)
{
	char *url = citus_url(i, db);
	char *err = citus_exec(url, sql, NULL);

	free(url);
	if (err != NULL)
		ck_abort_msg("citus: node %d: %s: %s", i, sql, err);
}

/*
 * A new database on every node with the extension; the coordinator
 * registers itself and adds the workers (see citus.h). A template
 * would be quicker, but Citus keeps sessions open on a database with
 * the extension, and CREATE DATABASE refuses a template in use.
 */
char *citus_new_database(void)
{
	char name[64], sql[160];

	if (citus_dir == NULL)
		ck_abort_msg("citus_start() was not called in main()");
	snprintf(name, sizeof name, "c_%ld_%u", (long)getpid(), ++citus_seq);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s STRATEGY FILE_COPY",
		 name);
	for (int i = 0; i < CITUS_NODES; i++) {
		citus_node_sql(i, "postgres", sql);
		citus_node_sql(i, name, "CREATE EXTENSION citus");
	}
	snprintf(sql, sizeof sql,
		 "SELECT citus_set_coordinator_host('127.0.0.1', %d)",
		 citus_ports[0]);
	citus_node_sql(0, name, sql);
	for (int i = 1; i < CITUS_NODES; i++) {
		snprintf(sql, sizeof sql,
			 "SELECT citus_add_node('127.0.0.1', %d)",
			 citus_ports[i]);
		citus_node_sql(0, name, sql);
	}
	return citus_url(0, name);
}

/* Drop the database of url on every node (best effort). */
void citus_drop_database(const char *url)
{
	const char *slash = strrchr(url, '/');
	char sql[160];

	if (citus_dir == NULL || slash == NULL)
		return;
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 slash + 1);
	for (int i = 0; i < CITUS_NODES; i++) {
		char *admin = citus_url(i, "postgres");

		free(citus_exec(admin, sql, NULL));
		free(admin);
	}
}

/* The database name at the end of url. */
static const char *citus_dbname(const char *url)
{
	const char *slash = strrchr(url, '/');

	return slash != NULL ? slash + 1 : url;
}

/* The same database on worker i. */
char *citus_worker_url(const char *coordinator_url, int i)
{
	ck_assert_int_ge(i, 0);
	ck_assert_int_lt(i, CITUS_WORKERS);
	return citus_url(1 + i, citus_dbname(coordinator_url));
}

/* Run sql and return the first value (see citus.h). */
char *citus_psql(const char *url, const char *sql)
{
	char *value, *err = citus_exec(url, sql, &value);

	if (err != NULL) {
		char msg[2048];

		snprintf(msg, sizeof msg, "%s", err);
		free(err);
		ck_abort_msg("citus_psql: %s: %s", sql, msg);
	}
	return value;
}

/* Run sql; its error message or NULL. */
char *citus_psql_error(const char *url, const char *sql)
{
	return citus_exec(url, sql, NULL);
}
