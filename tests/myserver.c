/*
 * myserver.c - see myserver.h. Test-only code: a harness that cannot go
 * on says why and exits, rather than returning errors.
 *
 * The server's state lives in file-scope variables: they are set once,
 * in main() before the tests fork, and only read afterwards.
 */
#define _GNU_SOURCE /* asprintf, vasprintf in test code */
#include "myserver.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "testutil.h"

static char *myserver_dir_s;   /* scratch directory */
static char *myserver_daemon;  /* mariadbd or mysqld */
static char *myserver_install; /* mariadb-install-db or mysql_install_db */
static char myserver_port_s[16];
static char myserver_pw[33];
static char *myserver_sock;
static struct tu_server_user myserver_runas; /* who runs the server */
static pid_t myserver_owner;
static pid_t myserver_reaper;
static int myserver_reaper_fd = -1;
static int myserver_status_fd = -1; /* the watchdog writes 'd' when the
				       server exited on its own */
static unsigned myserver_seq;

/* Say why the harness cannot go on and exit 1. */
__attribute__((noreturn)) static void myserver_die(const char *what,
						   const char *arg)
{
	fprintf(stderr, "myserver: %s%s%s\n", what, arg != NULL ? ": " : "",
		arg != NULL ? arg : "");
	exit(1);
}

/* Skip the program (exit 77), or fail it (exit 1) when CI=true: only
   for want of the server's binaries. With them installed, a server that
   cannot be set up is a failure (myserver_die()), never a skip. */
__attribute__((noreturn)) static void myserver_skip(const char *why)
{
	const char *ci = getenv("CI");

	if (ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr, "FAIL: %s; CI=true, so this is an error, not a skip\n",
			why);
		exit(1);
	}
	fprintf(stderr, "\n**********\nSKIP: %s\n**********\n\n", why);
	exit(77);
}

/* The first of names found executable in the directories of dirs. */
static char *myserver_find(const char *dirs, const char *const *names)
{
	char *copy = strdup(dirs), *save = NULL, *path;

	if (copy == NULL)
		return NULL;
	for (char *d = strtok_r(copy, ":", &save); d != NULL;
	     d = strtok_r(NULL, ":", &save))
		for (size_t i = 0; names[i] != NULL; i++) {
			if (asprintf(&path, "%s/%s", d, names[i]) < 0)
				continue;
			if (access(path, X_OK) == 0) {
				free(copy);
				return path;
			}
			free(path);
		}
	free(copy);
	return NULL;
}

/* Find the server and its installer. */
static void myserver_find_binaries(void)
{
	static const char *const daemons[] = {"mariadbd", "mysqld", NULL};
	static const char *const installs[] = {"mariadb-install-db",
					       "mysql_install_db", NULL};
	const char *forced = getenv("DBMIGRATE_MYSQL_BINDIR");
	char *dirs;

	if (forced != NULL && *forced != '\0')
		dirs = strdup(forced);
	else if (asprintf(&dirs, "%s:/usr/sbin:/usr/bin:/usr/local/bin",
			  getenv("PATH") != NULL ? getenv("PATH") : "") < 0)
		dirs = NULL;
	if (dirs == NULL)
		myserver_die("out of memory", NULL);
	myserver_daemon = myserver_find(dirs, daemons);
	myserver_install = myserver_find(dirs, installs);
	free(dirs);
	if (myserver_daemon == NULL || myserver_install == NULL)
		myserver_skip("MariaDB server binaries (mariadbd and "
			      "mariadb-install-db) not found; install "
			      "mariadb-server");
}

/* Choose the unprivileged user that runs the server when we are root. */
static void myserver_pick_user(void)
{
	static const char *const names[] = {"mysql", "dbmigrate", "nobody",
					    NULL};

	if (tu_server_user_pick(&myserver_runas, names) != 0)
		myserver_die("running as root and no user (mysql, dbmigrate, "
			     "nobody) exists to run the MariaDB server",
			     NULL);
}

/* In a child: become the server's user, output to DIR/name. */
static void myserver_child_setup(const char *name)
{
	char *log;

	if (asprintf(&log, "%s/%s", myserver_dir_s, name) < 0)
		_exit(126);
	tu_server_child(log, &myserver_runas,
			"myserver: cannot switch to the server's user");
}

/* Run mariadb-install-db; its exit status. */
static int myserver_install_db(void)
{
	char *datadir;
	int rc;

	if (asprintf(&datadir, "--datadir=%s/data", myserver_dir_s) < 0)
		myserver_die("out of memory", NULL);
	char *argv[] = {myserver_install, "--no-defaults", datadir,
			"--auth-root-authentication-method=normal",
			"--skip-test-db", "--skip-name-resolve", NULL};

	rc = tu_server_run(argv, myserver_dir_s, &myserver_runas, "myserver");
	free(datadir);
	return rc;
}

/* Print the end of the logs, to explain a failure. */
static void myserver_show_logs(void)
{
	tu_show_log_end(myserver_dir_s, "setup.log");
	tu_show_log_end(myserver_dir_s, "server.log");
}

/* Exec mariadbd in the reaper's child. */
__attribute__((noreturn)) static void myserver_exec_daemon(int port)
{
	char *datadir, *sock, *portopt, *pidfile;

	if (asprintf(&datadir, "--datadir=%s/data", myserver_dir_s) < 0 ||
	    asprintf(&sock, "--socket=%s", myserver_sock) < 0 ||
	    asprintf(&portopt, "--port=%d", port) < 0 ||
	    asprintf(&pidfile, "--pid-file=%s/mariadbd.pid", myserver_dir_s) < 0)
		_exit(126);
	myserver_child_setup("server.log");
	{
		char *argv[] = {myserver_daemon,
				"--no-defaults",
				datadir,
				sock,
				portopt,
				pidfile,
				"--bind-address=127.0.0.1",
				"--skip-name-resolve",
				"--skip-log-bin",
				"--innodb-buffer-pool-size=32M",
				"--innodb-log-file-size=16M",
				"--innodb-flush-log-at-trx-commit=2",
				"--innodb-doublewrite=0",
				"--max-connections=100",
				"--character-set-server=utf8mb4",
				"--collation-server=utf8mb4_general_ci",
				NULL};

		execv(argv[0], argv);
	}
	perror("mariadbd");
	_exit(127);
}

/*
 * Fork the watchdog: it starts the server as its child, then waits until
 * every copy of the lifeline's write end is closed - the test program
 * ended, however it ended - and stops the server by its pid (SIGTERM,
 * SIGKILL after 20 s) and removes the directory. A 'r' read first
 * (a start that failed) keeps the directory for the next attempt.
 */
static void myserver_start_reaper(int port)
{
	int p[2], q[2];

	if (pipe(p) != 0 || pipe(q) != 0)
		myserver_die("pipe failed", NULL);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	fcntl(q[0], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	myserver_reaper = fork();
	if (myserver_reaper < 0)
		myserver_die("fork failed", NULL);
	if (myserver_reaper == 0) {
		pid_t server;
		int keep = 0, st, alive = 1;
		char ch;

		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(p[1]);
		close(q[0]);
		server = fork();
		if (server == 0) {
			close(p[0]);
			close(q[1]);
			myserver_exec_daemon(port);
		}
		for (;;) {
			struct pollfd pfd = {.fd = p[0], .events = POLLIN};
			int ready = poll(&pfd, 1, 200);
			ssize_t r;

			if (alive && server > 0 &&
			    waitpid(server, &st, WNOHANG) == server) {
				alive = 0;
				(void)!write(q[1], "d", 1);
			}
			if (ready <= 0)
				continue;
			r = read(p[0], &ch, 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			if (ch == 'r')
				keep = 1;
		}
		if (alive && server > 0) {
			kill(server, SIGTERM);
			for (int i = 0; i < 200; i++) {
				if (waitpid(server, &st, WNOHANG) == server) {
					alive = 0;
					break;
				}
				usleep(100000);
			}
			if (alive) {
				kill(server, SIGKILL);
				waitpid(server, &st, 0);
			}
		}
		if (!keep)
			tu_rm_rf(myserver_dir_s);
		_exit(0);
	}
	close(p[0]);
	close(q[1]);
	fcntl(q[0], F_SETFL, O_NONBLOCK);
	myserver_reaper_fd = p[1];
	myserver_status_fd = q[0];
}

/* Connect as root over the socket; NULL on failure (msg filled). */
static MYSQL *myserver_connect(const char *db, char *msg, size_t size)
{
	MYSQL *my = mysql_init(NULL);
	unsigned timeout = 10;

	if (my == NULL) {
		snprintf(msg, size, "out of memory");
		return NULL;
	}
	mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(my, "localhost", "root", "", db, 0, myserver_sock,
			       CLIENT_MULTI_RESULTS) == NULL) {
		snprintf(msg, size, "%s", mysql_error(my));
		mysql_close(my);
		return NULL;
	}
	return my;
}

/* Wait up to 60 s for the server to accept connections; 0 when it does. */
static int myserver_wait(void)
{
	char msg[512];

	for (int i = 0; i < 600; i++) {
		MYSQL *my;

		char ch;

		if (read(myserver_status_fd, &ch, 1) == 1)
			return -1; /* the server exited: a port taken? */
		if ((my = myserver_connect(NULL, msg, sizeof msg)) != NULL) {
			mysql_close(my);
			return 0;
		}
		usleep(100000);
	}
	return -1;
}

/* Give root@127.0.0.1 (TCP) the generated password. */
static void myserver_set_password(void)
{
	char *sql;
	char *v;

	if (tu_random_hex(myserver_pw, sizeof myserver_pw) != 0)
		myserver_die("cannot read", "/dev/urandom");
	if (asprintf(&sql, "ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '%s'",
		     myserver_pw) < 0)
		myserver_die("out of memory", NULL);
	v = myserver_query(NULL, sql);
	free(v);
	free(sql);
}

/* atexit: stop the server when the starting process ends. */
static void myserver_atexit(void)
{
	if (getpid() == myserver_owner)
		myserver_stop();
}

/* Find the binaries, make the data directory and start (myserver.h). */
void myserver_start(void)
{
	int rc = -1;

	if (myserver_dir_s != NULL)
		return;
	myserver_find_binaries();
	myserver_pick_user();
	myserver_dir_s = tu_mkdtemp();
	if (chmod(myserver_dir_s, 0711) != 0 ||
	    (myserver_runas.as_other &&
	     chown(myserver_dir_s, myserver_runas.uid, myserver_runas.gid) != 0))
		myserver_die("cannot chown", myserver_dir_s);
	if (asprintf(&myserver_sock, "%s/mysqld.sock", myserver_dir_s) < 0)
		myserver_die("out of memory", NULL);
	if (strlen(myserver_sock) > 100)
		myserver_die("the socket path is too long; set TMPDIR to a "
			     "shorter directory",
			     myserver_sock);
	myserver_owner = getpid();
	if (myserver_install_db() != 0) {
		myserver_show_logs();
		tu_rm_rf(myserver_dir_s);
		myserver_die("mariadb-install-db failed (its output is above)",
			     myserver_install);
	}
	atexit(myserver_atexit);
	for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
		int port = tu_free_port();

		if (port < 0)
			break;
		snprintf(myserver_port_s, sizeof myserver_port_s, "%d", port);
		myserver_start_reaper(port);
		rc = myserver_wait();
		if (rc != 0) {
			/* Stop this attempt but keep the data directory. */
			(void)!write(myserver_reaper_fd, "r", 1);
			close(myserver_reaper_fd);
			myserver_reaper_fd = -1;
			waitpid(myserver_reaper, NULL, 0);
			close(myserver_status_fd);
		}
	}
	if (rc != 0) {
		myserver_show_logs();
		tu_rm_rf(myserver_dir_s);
		myserver_die("the MariaDB server did not start (its log is above)",
			     myserver_daemon);
	}
	myserver_set_password();
}

/* Let the watchdog stop the server, and wait for it. */
void myserver_stop(void)
{
	if (myserver_reaper_fd < 0)
		return;
	close(myserver_reaper_fd);
	myserver_reaper_fd = -1;
	while (waitpid(myserver_reaper, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Create a fresh database and return its URL. */
char *myserver_new_database(void)
{
	char name[64];
	char *url, *v;

	if (myserver_dir_s == NULL)
		ck_abort_msg("myserver_start() was not called in main()");
	snprintf(name, sizeof name, "t_%ld_%u", (long)getpid(), ++myserver_seq);
	v = myserver_queryf(NULL, "CREATE DATABASE %s", name);
	free(v);
	if (asprintf(&url, "mysql://root:%s@127.0.0.1:%s/%s", myserver_pw,
		     myserver_port_s, name) < 0)
		ck_abort_msg("myserver: out of memory");
	return url;
}

/* The part of url after its last slash. */
const char *myserver_dbname(const char *url)
{
	const char *slash = strrchr(url, '/');

	return slash != NULL ? slash + 1 : url;
}

const char *myserver_port(void)
{
	return myserver_port_s;
}

const char *myserver_password(void)
{
	return myserver_pw;
}

const char *myserver_socket(void)
{
	return myserver_sock;
}

const char *myserver_dir(void)
{
	return myserver_dir_s;
}

/* Run sql and return the first value (myserver.h). */
char *myserver_query(const char *db, const char *sql)
{
	char msg[1024];
	MYSQL *my = myserver_connect(db, msg, sizeof msg);
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *value = NULL;

	if (my == NULL)
		ck_abort_msg("myserver_query: cannot connect: %s", msg);
	if (mysql_query(my, sql) != 0) {
		snprintf(msg, sizeof msg, "%s", mysql_error(my));
		mysql_close(my);
		ck_abort_msg("myserver_query: %s: %s", sql, msg);
	}
	res = mysql_store_result(my);
	if (res != NULL && (row = mysql_fetch_row(res)) != NULL &&
	    mysql_num_fields(res) > 0 && row[0] != NULL)
		value = strdup(row[0]);
	mysql_free_result(res);
	while (mysql_more_results(my) && mysql_next_result(my) == 0)
		mysql_free_result(mysql_store_result(my));
	mysql_close(my);
	return value;
}

/* myserver_query() of a formatted statement. */
char *myserver_queryf(const char *db, const char *fmt, ...)
{
	va_list ap;
	char *sql, *v;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		ck_abort_msg("myserver: out of memory");
	va_end(ap);
	v = myserver_query(db, sql);
	free(sql);
	return v;
}

/* The first value as a number. */
long myserver_count(const char *db, const char *sql)
{
	char *v = myserver_query(db, sql);
	long n = v != NULL ? strtol(v, NULL, 10) : 0;

	free(v);
	return n;
}
