/*
 * pgserver.c - see pgserver.h. Test-only code: a harness that cannot go
 * on says why and exits, rather than returning errors.
 *
 * The server's state lives in file-scope variables: they are set once,
 * in main() before the tests fork, and only read afterwards.
 */
#define _GNU_SOURCE /* asprintf, strndup in test code */
#include "pgserver.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
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

#define PGSERVER_USER "postgres"

static char *pgserver_dir;    /* scratch directory of the cluster */
static char *pgserver_bindir; /* where initdb, pg_ctl, postgres are */
static char pgserver_port_s[16];
static char pgserver_pw[33];
static char *pgserver_sockdir; /* NULL when the path would be too long */
static struct tu_server_user pgserver_runas; /* who runs the server */
static pid_t pgserver_owner;  /* the process that started it */
static pid_t pgserver_reaper; /* the watchdog process */
static int pgserver_reaper_fd = -1;
static unsigned pgserver_seq; /* per process; names add the pid */

/* Say why the harness cannot go on ("what: arg") and exit 1. */
__attribute__((noreturn)) static void pgserver_die(const char *what,
						   const char *arg)
{
	fprintf(stderr, "pgserver: %s%s%s\n", what, arg != NULL ? ": " : "",
		arg != NULL ? arg : "");
	exit(1);
}

/* True when dir holds initdb, pg_ctl and postgres, all executable. */
static int pgserver_bindir_ok(const char *dir)
{
	static const char *const progs[] = {"initdb", "pg_ctl", "postgres"};
	char path[4096];

	for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		if (snprintf(path, sizeof path, "%s/%s", dir, progs[i]) >=
			(int)sizeof path ||
		    access(path, X_OK) != 0)
			return 0;
	}
	return 1;
}

/* Major version in /usr/lib/postgresql/<N>/bin, for sorting. */
static long pgserver_glob_version(const char *path)
{
	const char *p = strrchr(path, '/');

	/* path ends in "/<N>/bin": step back over "/bin". */
	while (p != NULL && p > path && p[-1] != '/')
		p--;
	return p != NULL ? strtol(p, NULL, 10) : 0;
}

/*
 * Find the server binaries: DBMIGRATE_PG_BINDIR alone when set (to pick
 * a version), else PATH, pg_config --bindir, then Debian's newest.
 */
static char *pgserver_find_bindir(void)
{
	const char *path = getenv("PATH");
	const char *forced = getenv("DBMIGRATE_PG_BINDIR");
	char line[4096];
	char *copy;
	glob_t g;
	FILE *f;

	if (forced != NULL && *forced != '\0')
		return pgserver_bindir_ok(forced) ? strdup(forced) : NULL;
	if (path != NULL && (copy = strdup(path)) != NULL) {
		char *save = NULL, *found = NULL;

		for (char *d = strtok_r(copy, ":", &save); d != NULL;
		     d = strtok_r(NULL, ":", &save))
			if (pgserver_bindir_ok(d)) {
				found = strdup(d);
				break;
			}
		free(copy);
		if (found != NULL)
			return found;
	}
	if ((f = popen("pg_config --bindir 2>/dev/null", "r")) != NULL) {
		int ok = fgets(line, sizeof line, f) != NULL;

		pclose(f);
		line[strcspn(line, "\n")] = '\0';
		if (ok && pgserver_bindir_ok(line))
			return strdup(line);
	}
	if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) == 0) {
		char *best = NULL;
		long bestv = -1;

		for (size_t i = 0; i < g.gl_pathc; i++) {
			long v = pgserver_glob_version(g.gl_pathv[i]);

			if (v > bestv && pgserver_bindir_ok(g.gl_pathv[i])) {
				free(best);
				best = strdup(g.gl_pathv[i]);
				bestv = v;
			}
		}
		globfree(&g);
		if (best != NULL)
			return best;
	}
	return NULL;
}

/* Skip the program (exit 77), or fail it (exit 1) when CI=true. */
__attribute__((noreturn)) static void pgserver_skip(const char *why)
{
	const char *ci = getenv("CI");

	if (ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr,
			"FAIL: %s; CI=true, so this is an error, "
			"not a skip\n",
			why);
		exit(1);
	}
	fprintf(stderr, "\n**********\nSKIP: %s\n**********\n\n", why);
	exit(77);
}

/* Choose the unprivileged user that runs the server when we are root. */
static void pgserver_pick_user(void)
{
	static const char *const names[] = {"dbmigrate", "nobody", NULL};

	if (tu_server_user_pick(&pgserver_runas, names) != 0)
		pgserver_skip("running as root and neither user dbmigrate nor "
			      "nobody exists to run the PostgreSQL server");
}

/*
 * Run argv (a program of the bindir) as the server's user, its output
 * appended to DIR/setup.log. Returns the exit status, or -1.
 */
static int pgserver_run(char *const *argv)
{
	return tu_server_run(argv, pgserver_dir, &pgserver_runas, "pgserver");
}

/* Print the end of setup.log and the server log, to explain a failure. */
static void pgserver_show_logs(void)
{
	tu_show_log_end(pgserver_dir, "setup.log");
	tu_show_log_end(pgserver_dir, "server.log");
}

/* Write a file the server's user owns. */
static void pgserver_write_owned(const char *name, const char *text, int append)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", pgserver_dir, name) < 0)
		pgserver_die("out of memory", NULL);
	f = fopen(path, append ? "a" : "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		pgserver_die("cannot write", path);
	if (pgserver_runas.as_other &&
	    chown(path, pgserver_runas.uid, pgserver_runas.gid) != 0)
		pgserver_die("cannot chown", path);
	chmod(path, 0600);
	free(path);
}

/* initdb the cluster into DIR/data with the generated password. */
static int pgserver_initdb(void)
{
	char *prog, *data, *pwopt;
	int rc;

	if (tu_random_hex(pgserver_pw, sizeof pgserver_pw) != 0)
		pgserver_die("cannot read", "/dev/urandom");
	pgserver_write_owned("pwfile", pgserver_pw, 0);
	if (asprintf(&prog, "%s/initdb", pgserver_bindir) < 0 ||
	    asprintf(&data, "%s/data", pgserver_dir) < 0 ||
	    asprintf(&pwopt, "--pwfile=%s/pwfile", pgserver_dir) < 0)
		pgserver_die("out of memory", NULL);
	{
		char *argv[] = {prog,
				"-D",
				data,
				"-U",
				PGSERVER_USER,
				pwopt,
				"--auth-local=trust",
				"--auth-host=scram-sha-256",
				"-E",
				"UTF8",
				"--no-locale",
				"--no-sync",
				NULL};

		rc = pgserver_run(argv);
	}
	free(prog);
	free(data);
	free(pwopt);
	return rc;
}

/* Write the settings of this run: port, addresses, speed over safety. */
static void pgserver_configure(int port)
{
	char conf[8192];

	snprintf(pgserver_port_s, sizeof pgserver_port_s, "%d", port);
	snprintf(conf, sizeof conf,
		 "\n# pgserver.c\n"
		 "listen_addresses = '127.0.0.1'\n"
		 "port = %d\n"
		 "unix_socket_directories = '%s'\n"
		 "fsync = off\n"
		 "full_page_writes = off\n"
		 "synchronous_commit = off\n"
		 "max_connections = 40\n"
		 "shared_buffers = 16MB\n",
		 port, pgserver_sockdir != NULL ? pgserver_sockdir : "");
	pgserver_write_owned("data/postgresql.conf", conf, 1);
}

/* pg_ctl start, waiting until the server accepts connections. */
static int pgserver_pg_ctl_start(void)
{
	char *prog, *data, *log;
	int rc;

	if (asprintf(&prog, "%s/pg_ctl", pgserver_bindir) < 0 ||
	    asprintf(&data, "%s/data", pgserver_dir) < 0 ||
	    asprintf(&log, "%s/server.log", pgserver_dir) < 0)
		pgserver_die("out of memory", NULL);
	{
		char *argv[] = {prog, "-D", data, "-l",	   log,
				"-w", "-t", "60", "start", NULL};

		rc = pgserver_run(argv);
	}
	free(prog);
	free(data);
	free(log);
	return rc;
}

/* pg_ctl stop -m immediate: by the PID in postmaster.pid. */
static void pgserver_pg_ctl_stop(void)
{
	char *prog, *data;

	if (asprintf(&prog, "%s/pg_ctl", pgserver_bindir) < 0 ||
	    asprintf(&data, "%s/data", pgserver_dir) < 0)
		return;
	{
		char *argv[] = {prog,	     "-D", data,   "-m",
				"immediate", "-w", "stop", NULL};

		(void)pgserver_run(argv);
	}
	free(prog);
	free(data);
}

/*
 * Fork the watchdog: it waits until every copy of the pipe's write end
 * is closed - the test program ended, however it ended - then stops the
 * server and removes the directory.
 */
static void pgserver_start_reaper(void)
{
	int p[2];
	char c;

	if (pipe(p) != 0)
		pgserver_die("pipe failed", NULL);
	/* Programs the tests run must not keep the server alive. */
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	pgserver_reaper = fork();
	if (pgserver_reaper < 0)
		pgserver_die("fork failed", NULL);
	if (pgserver_reaper == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		pgserver_pg_ctl_stop();
		tu_rm_rf(pgserver_dir);
		_exit(0);
	}
	close(p[0]);
	pgserver_reaper_fd = p[1];
}

/* atexit: stop the server when the starting process ends. */
static void pgserver_atexit(void)
{
	/* Forked test processes exit too: only the owner stops it. */
	if (getpid() == pgserver_owner)
		pgserver_stop();
}

/* Find the binaries, make the cluster and start it (see pgserver.h). */
void pgserver_start(void)
{
	int rc = -1;

	if (pgserver_dir != NULL)
		return;
	pgserver_bindir = pgserver_find_bindir();
	if (pgserver_bindir == NULL)
		pgserver_skip("PostgreSQL server binaries not found; install "
			      "postgresql");
	pgserver_pick_user();
	pgserver_dir = tu_mkdtemp();
	if (pgserver_runas.as_other &&
	    chown(pgserver_dir, pgserver_runas.uid, pgserver_runas.gid) != 0)
		pgserver_die("cannot chown", pgserver_dir);
	/* A unix socket path has room for about 107 bytes. */
	if (strlen(pgserver_dir) + sizeof "/.s.PGSQL.65535.lock" < 100)
		pgserver_sockdir = pgserver_dir;
	pgserver_owner = getpid();
	if (pgserver_initdb() != 0) {
		pgserver_show_logs();
		tu_rm_rf(pgserver_dir);
		pgserver_skip("initdb failed (its output is above)");
	}
	pgserver_start_reaper();
	atexit(pgserver_atexit);
	/* The free port can be taken before the server binds it: retry. */
	for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
		int port = tu_free_port();

		if (port < 0)
			break;
		pgserver_configure(port);
		rc = pgserver_pg_ctl_start();
	}
	if (rc != 0) {
		pgserver_show_logs();
		pgserver_skip("the PostgreSQL server did not start (its log "
			      "is above)");
	}
}

/* Let the watchdog stop the server, and wait for it. */
void pgserver_stop(void)
{
	if (pgserver_reaper_fd < 0)
		return;
	close(pgserver_reaper_fd);
	pgserver_reaper_fd = -1;
	while (waitpid(pgserver_reaper, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Connect to url; a URL of this server goes through the unix socket when
 * there is one, which skips scram-sha-256's deliberately slow hashing.
 */
static PGconn *pgserver_connect(const char *url)
{
	const char *keys[] = {"dbname", "host", NULL};
	const char *vals[] = {url, pgserver_sockdir, NULL};
	char prefix[256];

	snprintf(prefix, sizeof prefix, "postgres://%s:%s@127.0.0.1:%s/",
		 PGSERVER_USER, pgserver_pw, pgserver_port_s);
	if (pgserver_sockdir == NULL ||
	    strncmp(url, prefix, strlen(prefix)) != 0)
		return PQconnectdb(url);
	return PQconnectdbParams(keys, vals, 1);
}

/* The URL of database name on the server. */
static char *pgserver_url(const char *name)
{
	char *url;

	if (asprintf(&url, "postgres://%s:%s@127.0.0.1:%s/%s", PGSERVER_USER,
		     pgserver_pw, pgserver_port_s, name) < 0)
		ck_abort_msg("pgserver: out of memory");
	return url;
}

/* Create a fresh database and return its URL. */
char *pgserver_new_database(void)
{
	char name[64], sql[128];
	char *admin = pgserver_url("postgres");
	PGconn *pg;
	PGresult *res;

	if (pgserver_dir == NULL)
		ck_abort_msg("pgserver_start() was not called in main()");
	snprintf(name, sizeof name, "t_%ld_%u", (long)getpid(), ++pgserver_seq);
	pg = pgserver_connect(admin);
	free(admin);
	/* FILE_COPY (PostgreSQL 15+) is faster for a tiny template. */
	snprintf(sql, sizeof sql, "CREATE DATABASE %s%s", name,
		 PQserverVersion(pg) >= 150000 ? " STRATEGY FILE_COPY" : "");
	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		char msg[2048];

		snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
		PQclear(res);
		PQfinish(pg);
		ck_abort_msg("pgserver: %s: %s", sql, msg);
	}
	PQclear(res);
	PQfinish(pg);
	return pgserver_url(name);
}

/* The part of url after its last slash. */
const char *pgserver_dbname(const char *url)
{
	const char *slash = strrchr(url, '/');

	return slash != NULL ? slash + 1 : url;
}

/* The server's address. */
const char *pgserver_host(void)
{
	return "127.0.0.1";
}

/* The server's port, as text. */
const char *pgserver_port(void)
{
	return pgserver_port_s;
}

/* The superuser to log in as. */
const char *pgserver_user(void)
{
	return PGSERVER_USER;
}

/* The superuser's password. */
const char *pgserver_password(void)
{
	return pgserver_pw;
}

/* The unix socket directory, or NULL. */
const char *pgserver_socket_dir(void)
{
	return pgserver_sockdir;
}

/* Run sql and return the first value (see pgserver.h). */
char *pgserver_psql(const char *url, const char *sql)
{
	PGconn *pg = pgserver_connect(url);
	PGresult *res;
	char *value = NULL;
	char msg[2048];

	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
		PQfinish(pg);
		ck_abort_msg("pgserver_psql: cannot connect: %s", msg);
	}
	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
		PQclear(res);
		PQfinish(pg);
		ck_abort_msg("pgserver_psql: %s: %s", sql, msg);
	}
	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
		value = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(pg);
	return value;
}

int pgserver_run_suite(struct Suite *s)
{
	int status;

	pgserver_start();
	status = tu_run_suite(s);
	pgserver_stop();
	return status;
}
