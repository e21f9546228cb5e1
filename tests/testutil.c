/*
 * testutil.c - see testutil.h. Test-only code: aborts on failure rather
 * than returning errors, since a broken harness must stop the test.
 */
#define _GNU_SOURCE /* asprintf, strndup in test code */
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "split.h"

extern char **environ;

/* Print why the harness cannot go on, and abort the test process. */
static void tu_die(const char *what)
{
	fprintf(stderr, "testutil: %s: %s\n", what, strerror(errno));
	abort();
}

char *tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *p;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (asprintf(&p, "%s/dbmigrate-test.XXXXXX", tmp) < 0)
		tu_die("asprintf");
	if (mkdtemp(p) == NULL)
		tu_die("mkdtemp");
	return p;
}

/* nftw callback removing one entry. */
static int tu_rm_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void tu_rm_rf(const char *path)
{
	if (path != NULL)
		nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_write_n(const char *dir, const char *name, const char *content,
		 size_t len)
{
	char *path;
	FILE *f;

	if (dir != NULL) {
		if (asprintf(&path, "%s/%s", dir, name) < 0)
			tu_die("asprintf");
	} else if ((path = strdup(name)) == NULL) {
		tu_die("strdup");
	}
	f = fopen(path, "wb");
	if (f == NULL)
		tu_die(path);
	if (len > 0 && fwrite(content, 1, len, f) != len)
		tu_die(path);
	if (fclose(f) != 0)
		tu_die(path);
	return path;
}

char *tu_write(const char *dir, const char *name, const char *content)
{
	return tu_write_n(dir, name, content, strlen(content));
}

char *tu_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap * 2 + 4096;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				tu_die("realloc");
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

int tu_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Append n bytes to a growing string. */
static void tu_append(char **s, size_t *len, const char *p, size_t n)
{
	*s = realloc(*s, *len + n + 1);
	if (*s == NULL)
		tu_die("realloc");
	memcpy(*s + *len, p, n);
	*len += n;
	(*s)[*len] = '\0';
}

void tu_apply_env(const char *const *env)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');

		if (eq == NULL) {
			unsetenv(env[i]);
		} else {
			char *k = strndup(env[i], (size_t)(eq - env[i]));

			setenv(k, eq + 1, 1);
			free(k);
		}
	}
}

struct tu_result tu_run(const char *const *argv, const char *cwd,
			const char *const *env, const char *in)
{
	struct tu_result r = { -1, NULL, NULL };
	int outp[2], errp[2], inp[2];
	size_t outlen = 0, errlen = 0;
	pid_t pid;
	int st;
	time_t deadline = time(NULL) + 120;

	if (pipe(outp) < 0 || pipe(errp) < 0 || pipe(inp) < 0)
		tu_die("pipe");
	pid = fork();
	if (pid < 0)
		tu_die("fork");
	if (pid == 0) {
		dup2(inp[0], 0);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(inp[0]); close(inp[1]);
		close(outp[0]); close(outp[1]);
		close(errp[0]); close(errp[1]);
		if (in == NULL) {
			int fd = open("/dev/null", O_RDONLY);
			if (fd >= 0) {
				dup2(fd, 0);
				close(fd);
			}
		}
		if (cwd != NULL && chdir(cwd) < 0)
			_exit(126);
		tu_apply_env(env);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	close(inp[0]);
	if (in != NULL) {
		size_t n = strlen(in);
		signal(SIGPIPE, SIG_IGN);
		if (write(inp[1], in, n) < 0 && errno != EPIPE)
			tu_die("write");
	}
	close(inp[1]);
	tu_append(&r.out, &outlen, "", 0);
	tu_append(&r.err, &errlen, "", 0);
	for (int open_fds = 2; open_fds > 0;) {
		struct pollfd p[2] = { { outp[0], POLLIN, 0 },
				       { errp[0], POLLIN, 0 } };
		char buf[8192];
		int n = poll(p, 2, 1000);

		if (n < 0 && errno != EINTR)
			tu_die("poll");
		if (time(NULL) > deadline) {
			kill(pid, SIGKILL);
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t got;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			got = read(p[i].fd, buf, sizeof buf);
			if (got <= 0) {
				close(p[i].fd);
				if (i == 0)
					outp[0] = -1;
				else
					errp[0] = -1;
				open_fds--;
			} else if (i == 0) {
				tu_append(&r.out, &outlen, buf, (size_t)got);
			} else {
				tu_append(&r.err, &errlen, buf, (size_t)got);
			}
		}
	}
	if (outp[0] >= 0)
		close(outp[0]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (waitpid(pid, &st, 0) < 0)
		tu_die("waitpid");
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r;
}

/* The environment of every run of dbmigrate: no colours, and none of
   the caller's connection settings. */
static const char *const scrub[] = {
	"NO_COLOR=1", "DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME",
	"DB_USER", "DB_PASSWORD", "DBMIGRATE_DIR", "DBMIGRATE_TABLE",
	"DBMIGRATE_DRIVER", "DBMIGRATE_SCHEMA", "PGHOST", "PGPORT",
	"PGDATABASE", "PGUSER", "PGPASSWORD", NULL
};

static struct tu_result tu_vdbmigrate(const char *cwd, const char *const *env,
				      va_list ap)
{
	const char *argv[64];
	const char *allenv[128];
	size_t n = 0, e = 0;
	const char *a;

	argv[n++] = tu_env("DBMIGRATE_BIN");
	while ((a = va_arg(ap, const char *)) != NULL && n < 63)
		argv[n++] = a;
	argv[n] = NULL;
	for (size_t i = 0; scrub[i] != NULL; i++)
		allenv[e++] = scrub[i];
	for (size_t i = 0; env != NULL && env[i] != NULL && e < 127; i++)
		allenv[e++] = env[i];
	allenv[e] = NULL;
	return tu_run(argv, cwd, allenv, NULL);
}

struct tu_result tu_dbmigrate(const char *cwd, const char *const *env, ...)
{
	struct tu_result r;
	va_list ap;

	va_start(ap, env);
	r = tu_vdbmigrate(cwd, env, ap);
	va_end(ap);
	return r;
}

void tu_dbmigrate_expect(int status, const char *cwd, const char *const *env,
			 ...)
{
	struct tu_result r;
	va_list ap;

	va_start(ap, env);
	r = tu_vdbmigrate(cwd, env, ap);
	va_end(ap);
	tu_expect_status(&r, status);
	tu_result_free(&r);
}

dbmigrate *tu_migrator(const char *url, const char *dir)
{
	dbmigrate *m = dbmigrate_new();

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(dbmigrate_set(m, "url", url), DBMIGRATE_OK);
	ck_assert_int_eq(dbmigrate_set(m, "dir", dir), DBMIGRATE_OK);
	return m;
}

struct tu_bg tu_start(const char *cwd, const char *const *args)
{
	static unsigned serial;
	const char *argv[64];
	struct tu_bg b;
	size_t n = 0;

	argv[n++] = tu_env("DBMIGRATE_BIN");
	for (size_t i = 0; args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	serial++;
	ck_assert_int_ne(asprintf(&b.out, "%s/bg-%ld-%u.out", cwd,
				  (long)getpid(), serial), -1);
	ck_assert_int_ne(asprintf(&b.err, "%s/bg-%ld-%u.err", cwd,
				  (long)getpid(), serial), -1);
	fflush(NULL);
	b.pid = fork();
	ck_assert_int_ge(b.pid, 0);
	if (b.pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(b.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(b.err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (in < 0 || out < 0 || err < 0 || chdir(cwd) != 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		tu_apply_env(scrub);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return b;
}

int tu_wait(struct tu_bg *b, double timeout)
{
	double t0 = tu_now();
	int st;
	pid_t got;

	if (timeout <= 0)
		got = waitpid(b->pid, &st, 0);
	else
		while ((got = waitpid(b->pid, &st, WNOHANG)) == 0 &&
		       tu_now() - t0 < timeout)
			tu_nap(20);
	if (got == 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, &st, 0);
		ck_abort_msg("dbmigrate did not end within %.1f s", timeout);
	}
	ck_assert_int_eq(got, b->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void tu_bg_free(struct tu_bg *b)
{
	free(b->out);
	free(b->err);
}

void tu_result_free(struct tu_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

const struct tu_file tu_seed[] = {
	{ "001_create_users_table.ts",
	  "export const up = `\n"
	  "  CREATE TABLE users (\n"
	  "    id SERIAL PRIMARY KEY,\n"
	  "    email VARCHAR(255) UNIQUE NOT NULL,\n"
	  "    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP\n"
	  "  );\n"
	  "`;\n\n"
	  "export const down = `\n"
	  "  DROP TABLE users;\n"
	  "`;\n" },
	{ "002_create_user_sessions_table.sql",
	  "-- migrate:up\n"
	  "CREATE TABLE user_sessions (\n"
	  "  id SERIAL PRIMARY KEY,\n"
	  "  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE\n"
	  ");\n\n"
	  "-- migrate:down\n"
	  "DROP TABLE user_sessions;\n" },
	{ "003_add_email_index_to_users.ts",
	  "export const up = `\n"
	  "  CREATE INDEX CONCURRENTLY idx_users_email_lower\n"
	  "  ON users(LOWER(email));\n"
	  "`;\n\n"
	  "export const down = `\n"
	  "  DROP INDEX CONCURRENTLY IF EXISTS idx_users_email_lower;\n"
	  "`;\n" },
	{ NULL, NULL },
};

const char tu_status_2_1[] =
	"📊 Migration Status:\n"
	"===================\n"
	"✅ Executed 001_create_users_table (batch: 1)\n"
	"✅ Executed 002_create_user_sessions_table (batch: 1)\n"
	"⏳ Pending 003_add_email_index_to_users\n"
	"\n"
	"Total: 3 | Executed: 2 | Pending: 1\n";

void tu_write_seed(const char *dir)
{
	for (size_t i = 0; tu_seed[i].name != NULL; i++)
		free(tu_write(dir, tu_seed[i].name, tu_seed[i].text));
}

struct tu_project tu_project_new(const char *db_name)
{
	struct tu_project p = { NULL, NULL, NULL, NULL };

	p.root = tu_mkdtemp();
	ck_assert_int_ne(asprintf(&p.dir, "%s/migrations", p.root), -1);
	ck_assert_int_eq(mkdir(p.dir, 0755), 0);
	if (db_name != NULL)
		ck_assert_int_ne(asprintf(&p.db, "%s/%s", p.root, db_name), -1);
	return p;
}

void tu_add(const struct tu_project *p, const char *name, const char *text)
{
	free(tu_write(p->dir, name, text));
}

void tu_project_free(struct tu_project *p)
{
	tu_rm_rf(p->root);
	free(p->root);
	free(p->dir);
	free(p->db);
	free(p->url);
}

void tu_expect_value(const char *what, char *got, const char *expected)
{
	if (expected == NULL)
		ck_assert_msg(got == NULL, "%s returned %s, expected nothing",
			      what, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, expected) == 0,
			      "%s returned %s, expected %s", what,
			      got != NULL ? got : "(nothing)", expected);
	free(got);
}

double tu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tu_nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void tu_expect_status(const struct tu_result *r, int status)
{
	ck_assert_msg(r->status == status,
		      "exit status %d, expected %d\n--- stdout:\n%.4000s\n"
		      "--- stderr:\n%.4000s",
		      r->status, status, r->out, r->err);
}

void tu_expect_has(const char *what, const char *haystack, const char *needle)
{
	ck_assert_msg(strstr(haystack, needle) != NULL,
		      "%s lacks \"%s\":\n%.4000s", what, needle, haystack);
}

void tu_expect_lacks(const char *what, const char *haystack,
		     const char *needle)
{
	ck_assert_msg(strstr(haystack, needle) == NULL,
		      "%s holds \"%s\":\n%.4000s", what, needle, haystack);
}

const char *tu_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr,
			"testutil: %s is not set; run the tests with make check\n",
			name);
		abort();
	}
	return v;
}

int tu_count(const char *haystack, const char *needle)
{
	int n = 0;
	size_t len = strlen(needle);

	if (len == 0)
		return 0;
	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += len)
		n++;
	return n;
}

int tu_run_suite(struct Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

struct TCase *tu_tcase(struct Suite *s, const char *name, double timeout,
		       const struct TTest *const tests[])
{
	TCase *tc = tcase_create(name);

	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	for (size_t i = 0; tests[i] != NULL; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return tc;
}

struct Suite *tu_suite(const char *name, double timeout,
		       const struct TTest *const tests[])
{
	Suite *s = suite_create(name);

	tu_tcase(s, name, timeout, tests);
	return s;
}

dbmigrate_code tu_split_body(const struct migration *mig,
			     const struct migration_body *b,
			     struct split_result *out, dbmigrate_error *err)
{
	struct driver d = { 0 };
	struct dbmigrate_host h = { .abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
				    .struct_size = sizeof h };
	dbmigrate_code rc = driver_load("mock", &d, err);

	ck_assert_msg(rc == DBMIGRATE_OK, "the mock driver: %s", err->message);
	/* split() and classify() use the services alone, never error(). */
	driver_host_services(&h);
	rc = split_body(&d, &h, mig, b, out, err);
	free(d.path);
	return rc;
}

int tu_server_user_pick(struct tu_server_user *u, const char *const *names)
{
	struct passwd *pw = NULL;

	u->as_other = 0;
	if (geteuid() != 0)
		return 0;
	for (size_t i = 0; pw == NULL && names[i] != NULL; i++)
		pw = getpwnam(names[i]);
	if (pw == NULL)
		return -1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->as_other = 1;
	return 0;
}

void tu_server_child(const char *log, const struct tu_server_user *u,
		     const char *what)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	if (u->as_other && (setgroups(0, NULL) != 0 || setgid(u->gid) != 0 ||
			    setuid(u->uid) != 0)) {
		perror(what);
		_exit(126);
	}
}

void tu_show_log_end(const char *dir, const char *name)
{
	char *path, *text;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return;
	text = tu_read(path);
	if (text != NULL) {
		size_t n = strlen(text);

		fprintf(stderr, "--- %s (end) ---\n%s\n", path,
			n > 3000 ? text + n - 3000 : text);
	}
	free(text);
	free(path);
}

int tu_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int tu_random_hex(char *out, size_t size)
{
	unsigned char raw[16];
	FILE *f = fopen("/dev/urandom", "rb");
	int ok = f != NULL && fread(raw, 1, sizeof raw, f) == sizeof raw;

	if (f != NULL)
		fclose(f);
	if (!ok)
		return -1;
	for (size_t i = 0; i < sizeof raw && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* Run a test server's setup program as its user; see testutil.h. */
int tu_server_run(char *const *argv, const char *dir,
		  const struct tu_server_user *u, const char *who)
{
	char *log;
	pid_t pid;
	int st;

	if (asprintf(&log, "%s/setup.log", dir) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		tu_server_child(log, u, who);
		if (chdir(dir) != 0 || access(dir, W_OK | X_OK) != 0) {
			fprintf(stderr,
				"%s: the server's user cannot use %s; set "
				"TMPDIR to a directory every user can "
				"traverse\n",
				who, dir);
			_exit(126);
		}
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	free(log);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
