/*
 * check_cli.c - the dbmigrate command as a user runs it: the built binary
 * ($DBMIGRATE_BIN) against the mock driver, in scratch directories with
 * migration files written here. Covers help and usage errors, the seed
 * workflow with the seed's exact status text, JSON, options after the
 * command, prefixes, every exit code class, dry runs, --step/--to, the
 * reset prompt on a terminal, colours, configuration precedence,
 * signals, and that a password never shows (not even in ps).
 */
#define _GNU_SOURCE /* asprintf, posix_openpt in test code */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* Run dbmigrate in cwd with extra env and the given arguments. */
#define RUN(cwd, env, ...) TU_RUN((cwd), (env), __VA_ARGS__)
#define RUN_EXPECT TU_RUN_EXPECT



/* A scratch project: root (the cwd of every run), root/migrations, and
   a file-backed mock database root/state.db (db). This one is empty:
   no migrations directory. */
static struct tu_project project_empty(void)
{
	struct tu_project p = tu_project_new("state.db");

	ck_assert_int_eq(rmdir(p.dir), 0);
	ck_assert_int_ne(asprintf(&p.url, "mock:%s", p.db), -1);
	return p;
}

/* Make a project holding the seed's three migrations. */
static struct tu_project project_new(void)
{
	struct tu_project p = project_empty();

	ck_assert_int_eq(mkdir(p.dir, 0755), 0);
	tu_write_seed(p.dir);
	return p;
}

/* Remove dir/name. */
static void remove_file(const char *dir, const char *name)
{
	char *path;

	ck_assert_int_ne(asprintf(&path, "%s/%s", dir, name), -1);
	ck_assert_int_eq(unlink(path), 0);
	free(path);
}

/* The project's URL with a suffix such as "?fail=boom" (to free). */
static char *url_with(const struct tu_project *p, const char *suffix)
{
	char *u;

	ck_assert_int_ne(asprintf(&u, "%s%s", p->url, suffix), -1);
	return u;
}

/* Run status on the project and return its stdout (to free). */
static char *status_of(const struct tu_project *p)
{
	struct tu_result r = RUN(p->root, NULL, "status", "--url", p->url);
	char *out;

	tu_expect_status(&r, 0);
	out = r.out;
	r.out = NULL;
	tu_result_free(&r);
	return out;
}

/* Assert the project's status has this totals line. */
static void expect_totals(const struct tu_project *p, const char *totals)
{
	char *out = status_of(p);

	tu_expect_has("status", out, totals);
	free(out);
}

/* --- a small JSON checker, to prove --format json is valid JSON --- */

static const char *json_value(const char *p, int depth);

/* Skip JSON white space. */
static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* End of the JSON string at p, or NULL. */
static const char *json_string(const char *p)
{
	if (p == NULL || *p != '"')
		return NULL;
	for (p++; *p != '"'; p++) {
		if (*p == '\0' || (unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)p[i]))
					return NULL;
			p += 4;
		} else if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL) {
			return NULL;
		}
	}
	return p + 1;
}

/* End of the JSON number at p, or NULL. */
static const char *json_number(const char *p)
{
	const char *start;

	if (*p == '-')
		p++;
	start = p;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == start || (*start == '0' && p - start > 1))
		return NULL;
	if (*p == '.') {
		start = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == start)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		start = p;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == start)
			return NULL;
	}
	return p;
}

/* End of the members of an object or array at p (after the bracket). */
static const char *json_members(const char *p, int depth, bool object)
{
	char close = object ? '}' : ']';

	p = json_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			p = json_string(json_ws(p));
			if (p == NULL || *(p = json_ws(p)) != ':')
				return NULL;
			p++;
		}
		p = json_value(p, depth + 1);
		if (p == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p++;
	}
}

/* End of the JSON value at p, or NULL when it is not one. */
static const char *json_value(const char *p, int depth)
{
	if (depth > 64)
		return NULL;
	p = json_ws(p);
	switch (*p) {
	case '{':
		return json_members(p + 1, depth, true);
	case '[':
		return json_members(p + 1, depth, false);
	case '"':
		return json_string(p);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		return json_number(p);
	}
}

/* True when s is exactly one JSON value (and white space). */
static bool json_valid(const char *s)
{
	const char *end = json_value(s, 0);

	return end != NULL && *json_ws(end) == '\0';
}

/* --- running with a terminal, and in the background --- */

/* Variables a test must not inherit from the developer's shell. */
static const char *const scrubbed[] = {
	"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER",
	"DB_PASSWORD", "DBMIGRATE_DIR", "DBMIGRATE_TABLE", "DBMIGRATE_DRIVER",
	"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "NO_COLOR",
	NULL
};

/* In a child: clean environment plus env ("K=V", or "K" to unset). */
static void child_env(const char *const *env)
{
	for (size_t i = 0; scrubbed[i] != NULL; i++)
		unsetenv(scrubbed[i]);
	tu_apply_env(env);
}

/* argv for execv: $DBMIGRATE_BIN then args (NULL-terminated). */
static void make_argv(const char **argv, size_t max, const char *const *args)
{
	size_t n = 0;

	argv[n++] = tu_env("DBMIGRATE_BIN");
	for (size_t i = 0; args[i] != NULL && n < max - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
}

/* Append n bytes to a growing NUL-terminated string. */
static void append(char **s, size_t *len, const char *p, size_t n)
{
	*s = realloc(*s, *len + n + 1);
	ck_assert_ptr_nonnull(*s);
	memcpy(*s + *len, p, n);
	*len += n;
	(*s)[*len] = '\0';
}

/* What run_pty saw. */
struct pty_result {
	int status;    /* exit status, or 128 + signal */
	char *out;     /* stdout and stderr together, as the terminal showed */
	char *cmdline; /* /proc/PID/cmdline when the prompt appeared */
};

/* The command line of a running process, NULs turned into spaces. */
static char *proc_cmdline(pid_t pid)
{
	char path[64], buf[8192], *s;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	f = fopen(path, "rb");
	if (f != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		s[i] = buf[i] == '\0' ? ' ' : buf[i];
	s[n] = '\0';
	return s;
}

/*
 * Run dbmigrate with stdin, stdout and stderr on a new terminal. When
 * prompt appears in its output, record its /proc cmdline and type
 * answer. TERM is xterm; NO_COLOR is unset unless env sets it.
 */
static struct pty_result run_pty(const char *cwd, const char *const *env,
				 const char *const *args, const char *prompt,
				 const char *answer)
{
	struct pty_result r = { -1, NULL, NULL };
	const char *argv[32];
	size_t len = 0;
	bool sent = false;
	time_t deadline = time(NULL) + 60;
	int master, st;
	char *slave;
	pid_t pid;

	make_argv(argv, 32, args);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = strdup(ptsname(master));
	ck_assert_ptr_nonnull(slave);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd;

		setsid();
		fd = open(slave, O_RDWR); /* becomes the controlling terminal */
		if (fd < 0)
			_exit(126);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		close(master);
		if (chdir(cwd) < 0)
			_exit(126);
		setenv("TERM", "xterm", 1);
		child_env(env);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	free(slave);
	append(&r.out, &len, "", 0);
	while (time(NULL) < deadline) {
		struct pollfd pfd = { master, POLLIN, 0 };
		char buf[4096];
		ssize_t got;

		if (poll(&pfd, 1, 500) <= 0)
			continue;
		got = read(master, buf, sizeof buf);
		if (got <= 0)
			break; /* EIO: the child closed the terminal */
		append(&r.out, &len, buf, (size_t)got);
		if (prompt != NULL && !sent && strstr(r.out, prompt) != NULL) {
			r.cmdline = proc_cmdline(pid);
			ck_assert_int_eq(write(master, answer, strlen(answer)),
					 (ssize_t)strlen(answer));
			sent = true;
		}
	}
	if (time(NULL) >= deadline)
		kill(pid, SIGKILL);
	close(master);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (r.cmdline == NULL)
		r.cmdline = strdup("");
	return r;
}

static void pty_result_free(struct pty_result *r)
{
	free(r->out);
	free(r->cmdline);
}

/*
 * Start dbmigrate in cwd, wait until its stdout holds marker (or a few
 * seconds pass), send sig, and return how it ended: exited says whether
 * it exited by itself (rather than being killed by the signal).
 */
static int run_and_signal(const char *cwd, const char *const *args,
			  const char *marker, int sig, bool *exited,
			  char **out_text)
{
	const char *argv[32];
	int outp[2];
	char *out = NULL;
	size_t len = 0;
	bool signalled = false;
	struct timespec t0, now;
	int st;
	pid_t pid;

	make_argv(argv, 32, args);
	ck_assert_int_eq(pipe(outp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 2);
		dup2(outp[1], 1);
		close(outp[0]);
		close(outp[1]);
		if (chdir(cwd) < 0)
			_exit(126);
		child_env((const char *const[]){ "NO_COLOR=1", NULL });
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(outp[1]);
	append(&out, &len, "", 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { outp[0], POLLIN, 0 };
		char buf[4096];
		ssize_t got;
		double waited;

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (double)(now.tv_sec - t0.tv_sec) +
			 (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (!signalled && (strstr(out, marker) != NULL || waited > 5)) {
			/* Give the run a moment to be inside the migration. */
			usleep(200000);
			kill(pid, sig);
			signalled = true;
		}
		if (waited > 60) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		got = read(outp[0], buf, sizeof buf);
		if (got <= 0)
			break;
		append(&out, &len, buf, (size_t)got);
	}
	close(outp[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	*exited = WIFEXITED(st);
	*out_text = out;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- the tests --- */

START_TEST(help_and_version_exit_0)
{
	char *root = tu_mkdtemp();
	struct tu_result r;
	static const char *const commands[] = {
		"help", "init", "create", "up", "migrate", "status", "down",
		"rollback", "reset", "validate", "version", "drivers", NULL
	};

	r = RUN(root, NULL, "help");
	tu_expect_status(&r, 0);
	tu_expect_has("help", r.out, "Usage: dbmigrate");
	for (size_t i = 0; commands[i] != NULL; i++)
		tu_expect_has("help", r.out, commands[i]);
	tu_expect_has("help", r.out, "--lock-timeout");
	tu_expect_has("help", r.out, "DATABASE_URL");
	tu_expect_has("help", r.out, "DBMIGRATE_DRIVER_PATH");
	tu_expect_has("help", r.out, "130");
	ck_assert_str_eq(r.err, "");
	tu_result_free(&r);

	r = RUN(root, NULL, "--help");
	tu_expect_status(&r, 0);
	tu_expect_has("--help", r.out, "Usage: dbmigrate [OPTIONS] COMMAND");
	tu_result_free(&r);

	/* --help anywhere shows that command's help, even after a bad option */
	r = RUN(root, NULL, "status", "--step", "1", "--help");
	tu_expect_status(&r, 0);
	tu_expect_has("status --help", r.out, "Usage: dbmigrate status");
	tu_expect_has("status --help", r.out, "--format");
	tu_expect_lacks("status --help", r.out, "--step");
	tu_result_free(&r);

	r = RUN(root, NULL, "-h", "roll");
	tu_expect_status(&r, 0);
	tu_expect_has("-h roll", r.out, "Usage: dbmigrate down");
	tu_result_free(&r);

	r = RUN(root, NULL, "help", "up");
	tu_expect_status(&r, 0);
	tu_expect_has("help up", r.out, "Usage: dbmigrate up");
	tu_expect_has("help up", r.out, "migrate");
	tu_expect_has("help up", r.out, "--dry-run");
	tu_result_free(&r);

	r = RUN(root, NULL, "version");
	tu_expect_status(&r, 0);
	{
		unsigned abi = 0;
		char end[4] = "";

		/* "dbmigrate VERSION (driver ABI N)\n" */
		ck_assert_int_eq(strncmp(r.out, "dbmigrate ", 10), 0);
		ck_assert_msg(sscanf(strstr(r.out, "(driver ABI ") != NULL ?
				     strstr(r.out, "(driver ABI ") : "",
				     "(driver ABI %u%3[)\n]", &abi, end) == 2 &&
			      abi >= 1 && strcmp(end, ")\n") == 0,
			      "version says: %s", r.out);
	}
	tu_result_free(&r);

	r = RUN(root, NULL, "--version");
	tu_expect_status(&r, 0);
	tu_expect_has("--version", r.out, "(driver ABI ");
	tu_result_free(&r);

	r = RUN(root, NULL, "-V");
	tu_expect_status(&r, 0);
	tu_expect_has("-V", r.out, "(driver ABI ");
	tu_result_free(&r);

	/* No command: usage on stderr, nothing on stdout, exit 2. */
	r = RUN(root, NULL, "-q");
	tu_expect_status(&r, 2);
	ck_assert_str_eq(r.out, "");
	tu_expect_has("usage", r.err, "Usage: dbmigrate");
	tu_result_free(&r);
	tu_rm_rf(root);
	free(root);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	static const struct {
		const char *argv[6];
		const char *says;
	} cases[] = {
		{ { "frobnicate" }, "unknown command 'frobnicate'" },
		{ { "--frob", "status" }, "--frob" },
		{ { "-x", "status" }, "-x" },
		{ { "status", "--step", "1" }, "--step" },
		{ { "up", "--format", "json" }, "--format" },
		{ { "status", "--force" }, "--force" },
		{ { "create", "--url", "mock:" }, "--url" },
		{ { "create" }, "NAME" },
		{ { "create", "a", "b" }, "'b'" },
		{ { "status", "extra" }, "extra" },
		{ { "up", "--step", "abc" }, "--step" },
		{ { "up", "--step", "0" }, "--step" },
		{ { "down", "--step=-1" }, "--step" },
		{ { "--lock-timeout", "soon", "up" }, "--lock-timeout" },
		{ { "--connect-timeout", "-3", "status" }, "--connect-timeout" },
		{ { "status", "--format", "xml" }, "xml" },
		{ { "status", "--url" }, "--url" },
		{ { "--force=yes", "reset" }, "--force" },
		{ { "r" }, "rollback" },
		{ { "help", "nosuch" }, "nosuch" },
		{ { "up", "--", "--step" }, "--step" },
	};
	char *root = tu_mkdtemp();

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *const *a = cases[i].argv;
		struct tu_result r = RUN(root, NULL, a[0], a[1], a[2], a[3], a[4]);

		ck_assert_msg(r.status == 2, "case %zu (%s %s): exit %d\n%s%s", i,
			      a[0], a[1] ? a[1] : "", r.status, r.out, r.err);
		tu_expect_has("usage error", r.err, cases[i].says);
		tu_expect_has("usage error", r.err, "Try 'dbmigrate help'.");
		ck_assert_str_eq(r.out, "");
		tu_result_free(&r);
	}
	/* An ambiguous prefix names every candidate. */
	{
		struct tu_result r = RUN(root, NULL, "r");

		tu_expect_has("ambiguous", r.err, "reset");
		tu_expect_has("ambiguous", r.err, "rollback");
		tu_result_free(&r);
	}
	tu_rm_rf(root);
	free(root);
}
END_TEST

START_TEST(seed_workflow)
{
	struct tu_project p = project_empty();
	struct tu_result r;
	char *path, *nl;

	/* init creates ./migrations and the table; a second init is fine */
	r = RUN(p.root, NULL, "init", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("init", r.out, "migrations");
	ck_assert(tu_exists(p.dir));
	tu_result_free(&r);
	RUN_EXPECT(0, p.root, NULL, "init", "--url", p.url);

	/* create prints the new file's path and nothing else */
	r = RUN(p.root, NULL, "create", "Create Users Table");
	tu_expect_status(&r, 0);
	nl = strchr(r.out, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_str_eq(nl, "\n");
	*nl = '\0';
	tu_expect_has("create", r.out, "001_create_users_table.sql");
	if (r.out[0] == '/')
		path = strdup(r.out);
	else
		ck_assert_int_ne(asprintf(&path, "%s/%s", p.root, r.out), -1);
	ck_assert_msg(tu_exists(path), "%s not created", path);
	tu_result_free(&r);
	/* Fill it in (.sql replaces the empty template), add two more. */
	unlink(path);
	free(path);
	tu_write_seed(p.dir);

	r = RUN(p.root, NULL, "up", "--url", p.url, "--to", "002");
	tu_expect_status(&r, 0);
	tu_expect_has("up", r.out, "✅ Applied 001_create_users_table (");
	tu_expect_has("up", r.out, "✅ Applied 002_create_user_sessions_table (");
	/* The two small ones travelled together, and the lines say so. */
	ck_assert_int_eq(tu_count(r.out, " for 2 sent together)\n"), 2);
	tu_expect_lacks("up", r.out, "003_");
	tu_result_free(&r);

	/* status: exactly the seed's format */
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, tu_status_2_1);
	ck_assert_str_eq(r.err, "");
	tu_result_free(&r);

	/* the plan says 003 runs outside the transaction, and why */
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("up", r.out, "Batch 2:");
	tu_expect_has("up", r.out, "003_add_email_index_to_users  (outside the transaction");
	tu_expect_has("up", r.out, "CONCURRENTLY");
	tu_expect_has("up", r.out, "✅ Applied 003_add_email_index_to_users (");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_has("status", r.out, "✅ Executed 003_add_email_index_to_users (batch: 2)\n");
	tu_expect_has("status", r.out, "Total: 3 | Executed: 3 | Pending: 0\n");
	tu_result_free(&r);

	/* up again: nothing to do */
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("up", r.out, "Nothing to migrate");
	tu_result_free(&r);

	/* down undoes batch 2 only */
	r = RUN(p.root, NULL, "down", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("down", r.out, "Rolled back 003_add_email_index_to_users");
	tu_expect_lacks("down", r.out, "Rolled back 002");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "status", "--url", p.url);
	ck_assert_str_eq(r.out, tu_status_2_1);
	tu_result_free(&r);

	/* reset --force rolls back everything */
	r = RUN(p.root, NULL, "reset", "--force", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("reset", r.out, "Rolled back 001_create_users_table");
	tu_result_free(&r);
	expect_totals(&p, "Total: 3 | Executed: 0 | Pending: 3\n");

	/* down with nothing applied */
	r = RUN(p.root, NULL, "down", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("down", r.out, "Nothing to roll back.");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(status_json_is_valid_json)
{
	struct tu_project p = project_new();
	struct tu_result r, r2;

	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url, "--step", "2");
	r = RUN(p.root, NULL, "status", "--format", "json", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_msg(json_valid(r.out), "not JSON:\n%s", r.out);
	tu_expect_has("json", r.out, "\"migrations\": [");
	tu_expect_has("json", r.out, "{\"id\": \"001\", \"name\": \"create_users_table\", \"state\": \"executed\", \"batch\": 1, \"executed_at\": \"");
	tu_expect_has("json", r.out, "{\"id\": \"003\", \"name\": \"add_email_index_to_users\", \"state\": \"pending\", \"batch\": null, \"executed_at\": null, \"modified\": false, \"out_of_order\": false");
	tu_expect_has("json", r.out, "\"total\": 3");
	tu_expect_has("json", r.out, "\"executed\": 2");
	tu_expect_has("json", r.out, "\"pending\": 1");
	ck_assert_int_eq(tu_count(r.out, "\"state\": \"executed\""), 2);
	/* the same with the option before the command, and a prefix */
	r2 = RUN(p.root, NULL, "--format", "json", "--url", p.url, "stat");
	tu_expect_status(&r2, 0);
	ck_assert_str_eq(r2.out, r.out);
	tu_result_free(&r2);
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(options_after_command_and_prefixes)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *elsewhere = tu_mkdtemp();

	/* "mig" is the alias migrate; options after the command; -d DIR
	   from another working directory */
	RUN_EXPECT(0, elsewhere, NULL, "mig", "-d", p.dir, "--url", p.url, "--step", "2");
	r = RUN(p.root, NULL, "st", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, tu_status_2_1);
	tu_result_free(&r);
	r = RUN(elsewhere, NULL, "--url", p.url, "--dir", p.dir, "roll", "--step=1");
	tu_expect_status(&r, 0);
	tu_expect_has("roll", r.out, "Rolled back 002_create_user_sessions_table");
	tu_result_free(&r);
	expect_totals(&p, "Executed: 1 | Pending: 2\n");
	tu_rm_rf(elsewhere);
	free(elsewhere);
	tu_project_free(&p);
}
END_TEST

START_TEST(failing_migration_exit_1_names_file_and_line)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *bad = url_with(&p, "?fail=boom");

	remove_file(p.dir, "003_add_email_index_to_users.ts");
	free(tu_write(p.dir, "003_bad.sql",
		      "-- migrate:up\nCREATE TABLE posts (id int);\n"
		      "INSERT INTO posts VALUES (1);\n  SELECT boom FROM posts;\n"
		      "-- migrate:down\nDROP TABLE posts;\n"));
	r = RUN(p.root, NULL, "up", "--url", bad);
	tu_expect_status(&r, 1);
	tu_expect_has("stderr", r.err, "003_bad.sql:4:");
	tu_expect_has("stderr", r.err, "error: ");
	tu_expect_has("stderr", r.err, "[SQLSTATE ");
	tu_expect_has("stderr", r.err, "SELECT boom FROM posts;");
	tu_expect_has("stderr", r.err, "^");
	tu_expect_has("stderr", r.err, "rolled back");
	tu_expect_lacks("stdout", r.out, "Batch 1: applied");
	tu_result_free(&r);
	/* nothing of the batch was recorded */
	expect_totals(&p, "Total: 3 | Executed: 0 | Pending: 3\n");
	free(bad);
	tu_project_free(&p);
}
END_TEST

/*
 * A migration whose statements commit on their own (the mock's stand-in
 * for MySQL's DDL) that fails part-way: the plan said it cannot roll
 * back, status shows how far it got (text and JSON), up refuses with
 * exit 3 naming it, and mark says what the database holds.
 */
START_TEST(failed_part_way_is_shown_and_guarded)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *bad = url_with(&p, "?fail=boom");

	remove_file(p.dir, "003_add_email_index_to_users.ts");
	free(tu_write(p.dir, "003_ddl.sql",
		      "-- migrate:up\n"
		      "CREATE TABLE /* mock:implicit-commit */ posts (id int);\n"
		      "SELECT 'boom';\n"
		      "-- migrate:down\nDROP TABLE posts;\n"));
	r = RUN(p.root, NULL, "up", "--url", bad);
	tu_expect_status(&r, 1);
	tu_expect_has("stdout", r.out, "003_ddl  (cannot roll back, recorded as it runs: mock: the statement commits on its own)");
	tu_expect_has("stderr", r.err, "003_ddl.sql:3:");
	tu_expect_has("stderr", r.err, "statement 1 of 2 ran and stays");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("status", r.out, "❌ Failed part-way 003_ddl (batch: 1) 1 of 2 statements of its up ran\n");
	tu_expect_has("status", r.out, "Total: 3 | Executed: 2 | Pending: 0 | Failed part-way: 1\n");
	tu_expect_has("status", r.out, "dbmigrate mark ID --applied");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "status", "--url", p.url, "--format", "json");
	tu_expect_status(&r, 0);
	ck_assert_msg(json_valid(r.out), "not JSON:\n%s", r.out);
	tu_expect_has("json", r.out, "\"state\": \"partial\", \"batch\": 1");
	tu_expect_has("json", r.out, "\"progress\": {\"direction\": \"up\", \"done\": 1, \"total\": 2}");
	tu_expect_has("json", r.out, "\"partial\": 1}");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "1 migration failed part-way: 003_ddl (1 of 2 statements of its up ran)");
	tu_result_free(&r);
	RUN_EXPECT(0, p.root, NULL, "mark", "003", "--pending", "--url", p.url);
	expect_totals(&p, "Total: 3 | Executed: 2 | Pending: 1\n");
	free(bad);
	tu_project_free(&p);
}
END_TEST

START_TEST(bad_file_exit_3_nothing_applied)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *path = tu_write(p.dir, "004-oops.sql", "-- migrate:up\nSELECT 1;\n");

	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "004-oops.sql");
	tu_result_free(&r);
	ck_assert(!tu_exists(p.db));
	unlink(path);
	free(path);
	/* an unterminated quote: exit 3, file and line named */
	free(tu_write(p.dir, "004_quote.sql", "-- migrate:up\nSELECT 1;\nSELECT 'oops;\n"));
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "004_quote.sql:3:");
	tu_result_free(&r);
	/* validate says the same, with exit 3 */
	r = RUN(p.root, NULL, "validate");
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "004_quote.sql:3:");
	tu_result_free(&r);
	remove_file(p.dir, "004_quote.sql");
	expect_totals(&p, "Total: 3 | Executed: 0 | Pending: 3\n");
	r = RUN(p.root, NULL, "validate");
	tu_expect_status(&r, 0);
	tu_expect_has("validate", r.out, "3 migrations valid");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

/* True when s holds a byte a terminal would obey: C0 but \t \n, DEL, C1. */
static int has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7F ||
		    (p[0] == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0))
			return 1;
	return 0;
}

/*
 * File names and source lines reach the terminal escaped: an ESC, BEL
 * or C1 byte in a migration cannot clear the screen, retitle the window
 * or forge output. Colours are off (NO_COLOR), so any control byte on
 * stdout or stderr came from the files.
 */
START_TEST(control_characters_are_escaped)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *path;

	/* in a file name: a malformed name, exit 3, named escaped */
	path = tu_write(p.dir, "004-x\x1b[2J\a.sql", "-- migrate:up\nSELECT 1;\n");
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "004-x\\x1B[2J\\x07.sql");
	ck_assert_msg(!has_control(r.err) && !has_control(r.out),
		      "a control byte reached the terminal:\n%s", r.err);
	tu_result_free(&r);
	unlink(path);
	free(path);
	/* in a name that is valid: status shows it escaped (C1 CSI too) */
	free(tu_write(p.dir, "004_a\xc2\x9b" "31m.sql", "-- migrate:up\nSELECT 1;\n"));
	r = RUN(p.root, NULL, "status", "--url", p.url);
	ck_assert_msg(!has_control(r.err) && !has_control(r.out),
		      "a control byte reached the terminal:\n%s%s", r.out, r.err);
	tu_result_free(&r);
	remove_file(p.dir, "004_a\xc2\x9b" "31m.sql");
	/* in a source line shown under an error, with its caret */
	free(tu_write(p.dir, "004_quote.sql",
		      "-- migrate:up\nSELECT 1;\nSELECT '\x1b]0;owned\a;\n"));
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "004_quote.sql:3:");
	tu_expect_has("stderr", r.err, "SELECT '\\x1B]0;owned\\x07;");
	ck_assert_msg(!has_control(r.err) && !has_control(r.out),
		      "a control byte reached the terminal:\n%s", r.err);
	tu_result_free(&r);
	expect_totals(&p, "Total: 4 | Executed: 0 | Pending: 4\n");
	tu_project_free(&p);
}
END_TEST

START_TEST(dry_run_changes_nothing)
{
	struct tu_project p = project_new();
	struct tu_result r;

	r = RUN(p.root, NULL, "up", "--dry-run", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("up --dry-run", r.out, "001_create_users_table");
	tu_expect_has("up --dry-run", r.out, "003_add_email_index_to_users");
	tu_expect_has("up --dry-run", r.out, "Dry run: nothing was changed.");
	tu_expect_lacks("up --dry-run", r.out, "Applied");
	tu_result_free(&r);
	ck_assert(!tu_exists(p.db));
	expect_totals(&p, "Executed: 0 | Pending: 3\n");

	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	r = RUN(p.root, NULL, "down", "--dry-run", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("down --dry-run", r.out, "Dry run: nothing was changed.");
	tu_result_free(&r);
	/* reset --dry-run needs no --force: it changes nothing */
	r = RUN(p.root, NULL, "reset", "--dry-run", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("reset --dry-run", r.out, "Dry run: nothing was changed.");
	tu_result_free(&r);
	expect_totals(&p, "Executed: 3 | Pending: 0\n");
	tu_project_free(&p);
}
END_TEST

START_TEST(step_and_to)
{
	struct tu_project p = project_new();
	char *out;

	RUN_EXPECT(0, p.root, NULL, "up", "--step", "1", "--url", p.url);
	expect_totals(&p, "Executed: 1 | Pending: 2\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--to", "002", "--url", p.url);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	out = status_of(&p);
	tu_expect_has("status", out, "✅ Executed 001_create_users_table (batch: 1)\n");
	tu_expect_has("status", out, "✅ Executed 002_create_user_sessions_table (batch: 2)\n");
	tu_expect_has("status", out, "✅ Executed 003_add_email_index_to_users (batch: 3)\n");
	free(out);

	/* down --step 2 crosses batches */
	RUN_EXPECT(0, p.root, NULL, "down", "--step", "2", "--url", p.url);
	expect_totals(&p, "Executed: 1 | Pending: 2\n");
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	/* down --to 001 keeps 001 */
	RUN_EXPECT(0, p.root, NULL, "down", "--to", "001", "--url", p.url);
	out = status_of(&p);
	tu_expect_has("status", out, "✅ Executed 001_create_users_table (batch: 1)\n");
	tu_expect_has("status", out, "Executed: 1 | Pending: 2\n");
	free(out);
	/* an id that does not exist is a usage error */
	RUN_EXPECT(2, p.root, NULL, "up", "--to", "9", "--url", p.url);
	expect_totals(&p, "Executed: 1 | Pending: 2\n");
	tu_project_free(&p);
}
END_TEST

START_TEST(reset_needs_force_without_a_terminal)
{
	struct tu_project p = project_new();
	struct tu_result r;

	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	/* tu_dbmigrate's stdin is /dev/null: not a terminal */
	r = RUN(p.root, NULL, "reset", "--url", p.url);
	tu_expect_status(&r, 2);
	tu_expect_has("reset", r.err, "--force");
	tu_expect_has("reset", r.err, "not a terminal");
	tu_result_free(&r);
	expect_totals(&p, "Executed: 3 | Pending: 0\n");
	RUN_EXPECT(0, p.root, NULL, "reset", "--url", p.url, "--force");
	expect_totals(&p, "Executed: 0 | Pending: 3\n");
	tu_project_free(&p);
}
END_TEST

START_TEST(reset_prompt_on_a_terminal)
{
	struct tu_project p = project_new();
	struct pty_result t;
	const char *prompt = "Type 'yes' to roll back every migration";

	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);

	t = run_pty(p.root, NULL,
		    (const char *const[]){ "reset", "--url", p.url, NULL },
		    prompt, "no\n");
	ck_assert_msg(t.status == 1, "exit %d:\n%s", t.status, t.out);
	tu_expect_has("terminal", t.out, prompt);
	tu_expect_has("terminal", t.out, "reset cancelled; nothing was changed");
	pty_result_free(&t);
	expect_totals(&p, "Executed: 3 | Pending: 0\n");

	t = run_pty(p.root, NULL,
		    (const char *const[]){ "reset", "--url", p.url, NULL },
		    prompt, "yes\n");
	ck_assert_msg(t.status == 0, "exit %d:\n%s", t.status, t.out);
	pty_result_free(&t);
	expect_totals(&p, "Executed: 0 | Pending: 3\n");
	tu_project_free(&p);
}
END_TEST

START_TEST(colors_only_on_a_terminal_without_no_color)
{
	static const char *const unset_no_color[] = { "NO_COLOR", NULL };
	struct tu_project p = project_new();
	struct tu_result r;
	struct pty_result t;

	t = run_pty(p.root, NULL,
		    (const char *const[]){ "status", "--url", p.url, NULL }, NULL, NULL);
	ck_assert_int_eq(t.status, 0);
	tu_expect_has("terminal", t.out, "\033[");
	tu_expect_has("terminal", t.out, "Migration Status:");
	pty_result_free(&t);

	t = run_pty(p.root, (const char *const[]){ "NO_COLOR=1", NULL },
		    (const char *const[]){ "status", "--url", p.url, NULL }, NULL, NULL);
	ck_assert_int_eq(t.status, 0);
	tu_expect_lacks("NO_COLOR", t.out, "\033");
	tu_expect_has("NO_COLOR", t.out, "Migration Status:");
	pty_result_free(&t);

	t = run_pty(p.root, NULL,
		    (const char *const[]){ "status", "--no-color", "--url", p.url, NULL },
		    NULL, NULL);
	ck_assert_int_eq(t.status, 0);
	tu_expect_lacks("--no-color", t.out, "\033");
	pty_result_free(&t);

	/* errors on a terminal are coloured too, and not through a pipe */
	t = run_pty(p.root, NULL, (const char *const[]){ "frob", NULL }, NULL, NULL);
	ck_assert_int_eq(t.status, 2);
	tu_expect_has("terminal", t.out, "\033[");
	pty_result_free(&t);
	r = RUN(p.root, unset_no_color, "frob");
	tu_expect_status(&r, 2);
	tu_expect_lacks("pipe", r.err, "\033");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(password_never_printed)
{
	struct tu_project p = project_new();
	struct tu_result r;
	struct pty_result t;
	static const char *const urls[] = {
		"postgres://u:SECRETPW@127.0.0.1:1/db",
		"postgresql://u:SECRETPW@127.0.0.1:1/db?sslmode=disable",
		"host=127.0.0.1 port=1 dbname=db user=u password=SECRETPW",
		NULL
	};
	static const char *const db_env[] = {
		"DB_HOST=127.0.0.1", "DB_PORT=1", "DB_PASSWORD=SECRETPW", NULL
	};

	for (size_t i = 0; urls[i] != NULL; i++) {
		r = RUN(p.root, NULL, "status", "-v", "--url", urls[i],
			"--connect-timeout", "1");
		tu_expect_status(&r, 4);
		tu_expect_lacks("stdout", r.out, "SECRETPW");
		tu_expect_lacks("stderr", r.err, "SECRETPW");
		tu_result_free(&r);
	}
	/* DB_PASSWORD from the environment neither */
	r = RUN(p.root, db_env, "up", "-v", "--connect-timeout", "1");
	tu_expect_status(&r, 4);
	tu_expect_lacks("stderr", r.err, "SECRETPW");
	tu_expect_lacks("stdout", r.out, "SECRETPW");
	tu_result_free(&r);

	/* nor in ps: the reset prompt keeps the process alive to look */
	t = run_pty(p.root, NULL,
		    (const char *const[]){ "reset", "--url", urls[0], NULL },
		    "Type 'yes'", "no\n");
	ck_assert_int_eq(t.status, 1);
	tu_expect_has("cmdline", t.cmdline, "--url postgres://u:");
	tu_expect_has("cmdline", t.cmdline, "@127.0.0.1:1/db");
	tu_expect_lacks("cmdline", t.cmdline, "SECRETPW");
	tu_expect_lacks("terminal", t.out, "SECRETPW");
	pty_result_free(&t);
	tu_project_free(&p);
}
END_TEST

START_TEST(driver_and_connection_errors)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *url;

	r = RUN(p.root, NULL, "status", "--driver", "nosuch", "--url", p.url);
	tu_expect_status(&r, 4);
	tu_expect_has("stderr", r.err, "nosuch");
	tu_result_free(&r);

	/* a driver name is never a path */
	r = RUN(p.root, NULL, "status", "--driver", "../x", "--url", p.url);
	ck_assert_msg(r.status == 2 || r.status == 4, "exit %d\n%s", r.status, r.err);
	tu_expect_has("stderr", r.err, "driver");
	tu_result_free(&r);

	url = url_with(&p, "?refuse=1");
	RUN_EXPECT(4, p.root, NULL, "up", "--url", url);
	free(url);

	url = url_with(&p, "?lock=held");
	r = RUN(p.root, NULL, "up", "--url", url, "--lock-timeout", "0.3");
	tu_expect_status(&r, 5);
	tu_expect_has("stderr", r.err, "lock");
	tu_result_free(&r);
	free(url);
	expect_totals(&p, "Executed: 0 | Pending: 3\n");

	/* down refuses a batch with a migration that has no down section */
	free(tu_write(p.dir, "004_nodown.sql", "-- migrate:up\nCREATE TABLE x (id int);\n"));
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	r = RUN(p.root, NULL, "down", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "004_nodown");
	tu_result_free(&r);
	expect_totals(&p, "Executed: 4 | Pending: 0\n");
	tu_project_free(&p);
}
END_TEST

/* Set the checksum of row id in the project's mock state file to NULL,
   as a row written by an older tool has it. */
static void forget_checksum(const struct tu_project *p, const char *id)
{
	char *text = tu_read(p->db), *prefix, *row, *field, *end, *out;
	int tabs = 0;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_ne(asprintf(&prefix, "\nrow\tmigrations\t%s\t", id), -1);
	row = strstr(text, prefix);
	ck_assert_msg(row != NULL, "no row %s in %s", id, p->db);
	/* row, table, id, name, executed_at, batch, then the checksum. */
	for (field = row + 1; tabs < 6; field++)
		tabs += *field == '\t';
	end = field + strcspn(field, "\t\n");
	ck_assert_int_ne(asprintf(&out, "%.*s\\N%s", (int)(field - text), text, end), -1);
	free(tu_write(NULL, p->db, out));
	free(out);
	free(prefix);
	free(text);
}

/*
 * down refuses a batch holding a migration it cannot roll back, and
 * says for each why: its file has no down section, or its file is gone
 * and its row kept none (written by an older tool when the row has no
 * checksum). Nothing is rolled back; the hint's fix works.
 */
START_TEST(down_refusal_says_why_per_migration)
{
	struct tu_project p = project_empty();
	struct tu_result r;

	ck_assert_int_eq(mkdir(p.dir, 0755), 0);
	free(tu_write(p.dir, "001_a.sql",
		      "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n"));
	free(tu_write(p.dir, "002_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n"));
	free(tu_write(p.dir, "003_c.sql", "-- migrate:up\nCREATE TABLE c (id int);\n"));
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);

	/* Both files lack a down: that, and nothing about the table. */
	r = RUN(p.root, NULL, "down", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err, "cannot roll back 2 migrations: ");
	tu_expect_has("stderr", r.err, "003_c (its file has no down section)");
	tu_expect_has("stderr", r.err, "002_b (its file has no down section)");
	tu_expect_lacks("stderr", r.err, "older");
	tu_expect_lacks("stderr", r.err, "driver that cannot");
	tu_expect_lacks("stderr", r.err, "restore");
	tu_expect_has("stderr", r.err, "Nothing was rolled back.");
	tu_result_free(&r);
	expect_totals(&p, "Executed: 3 | Pending: 0\n");

	/* 003's file is gone; its row (this version's) kept no down. */
	remove_file(p.dir, "003_c.sql");
	r = RUN(p.root, NULL, "down", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err,
		      "003_c (its file is gone, and its tracking row kept no down SQL), "
		      "002_b (its file has no down section)");
	tu_expect_has("stderr", r.err, "its file had no down section then");
	tu_expect_has("stderr", r.err, "restore the missing files");
	tu_result_free(&r);

	/* A row without a checksum was written by an older tool. */
	forget_checksum(&p, "003");
	r = RUN(p.root, NULL, "down", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("stderr", r.err,
		      "003_c (its file is gone, and its tracking row, written by "
		      "an older tool, kept no down SQL)");
	tu_expect_has("stderr", r.err, "002_b (its file has no down section)");
	tu_result_free(&r);
	expect_totals(&p, "Executed: 2 | Pending: 0 | Missing: 1\n");

	/* The hint's fix: a down for 002, 003's file back with one. */
	free(tu_write(p.dir, "002_b.sql",
		      "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n"));
	free(tu_write(p.dir, "003_c.sql",
		      "-- migrate:up\nCREATE TABLE c (id int);\n-- migrate:down\nDROP TABLE c;\n"));
	RUN_EXPECT(0, p.root, NULL, "down", "--url", p.url);
	expect_totals(&p, "Executed: 0 | Pending: 3\n");
	tu_project_free(&p);
}
END_TEST

/* The server's notices (here the mock's, as PostgreSQL words them)
   reach stderr once, with one "NOTICE:" in front. */
START_TEST(notices_have_one_prefix)
{
	struct tu_project p = project_empty();
	struct tu_result r;

	ck_assert_int_eq(mkdir(p.dir, 0755), 0);
	free(tu_write(p.dir, "001_a.sql",
		      "-- migrate:up\nDROP TABLE IF EXISTS nope;\n"
		      "CREATE TABLE a (id int);\nCREATE TABLE IF NOT EXISTS a (id int);\n"
		      "-- migrate:down\nDROP TABLE a;\n"));
	r = RUN(p.root, NULL, "up", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("stderr", r.err, "NOTICE: table \"nope\" does not exist, skipping\n");
	tu_expect_has("stderr", r.err, "NOTICE: relation \"a\" already exists, skipping\n");
	ck_assert_int_eq(tu_count(r.err, "NOTICE:"), 2);
	tu_result_free(&r);
	/* -q: errors only. */
	r = RUN(p.root, NULL, "redo", "-q", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_lacks("stderr of -q", r.err, "NOTICE");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(database_url_precedence)
{
	struct tu_project p = project_new();
	struct tu_result r;
	char *path;
	const char *const env[] = { "DATABASE_URL=mock:env.db", NULL };

	free(tu_write(p.root, ".env", "# the project's database\nDATABASE_URL=\"mock:dotenv.db\"\n"));
	/* .env alone */
	RUN_EXPECT(0, p.root, NULL, "up", "--step", "1");
	ck_assert_int_ne(asprintf(&path, "%s/dotenv.db", p.root), -1);
	ck_assert(tu_exists(path));
	free(path);
	/* the environment wins over .env */
	RUN_EXPECT(0, p.root, env, "up", "--step", "2");
	ck_assert_int_ne(asprintf(&path, "%s/env.db", p.root), -1);
	ck_assert(tu_exists(path));
	free(path);
	r = RUN(p.root, env, "status");
	tu_expect_has("status", r.out, "Executed: 2 | Pending: 1\n");
	tu_result_free(&r);
	/* the flag wins over both */
	RUN_EXPECT(0, p.root, env, "up", "--url", p.url);
	ck_assert(tu_exists(p.db));
	r = RUN(p.root, NULL, "status");
	tu_expect_has("status", r.out, "Executed: 1 | Pending: 2\n");
	tu_result_free(&r);
	expect_totals(&p, "Executed: 3 | Pending: 0\n");
	tu_project_free(&p);
}
END_TEST

/* dir/name (to free). */
static char *join(const char *dir, const char *name)
{
	char *path;

	ck_assert_int_ne(asprintf(&path, "%s/%s", dir, name), -1);
	return path;
}

/* The name of the first entry of dir that is not a dot file (to free),
   or NULL. */
static char *first_entry(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *name = NULL;

	if (d == NULL)
		return NULL;
	while (name == NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			name = strdup(de->d_name);
	closedir(d);
	return name;
}

/*
 * status remembers unchanged files in its cache and reads them no more;
 * a file rewritten in place with the same size and modification time
 * is still seen as changed (its change time moved), and --cache-dir off
 * leaves no cache behind.
 */
START_TEST(status_cache_sees_a_file_changed_in_place)
{
	struct tu_project p = project_new();
	char *cache = join(p.root, "cache");
	char *file = join(p.dir, "001_create_users_table.ts");
	char *text, *cachefile;
	struct tu_result r, first;
	struct stat before;
	struct timespec times[2];
	struct timespec settle = { 2, 300000000 }; /* CACHE_SETTLE_SECONDS */
	int fd;

	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	nanosleep(&settle, NULL);
	first = RUN(p.root, NULL, "status", "--url", p.url, "--cache-dir", cache);
	tu_expect_status(&first, 0);
	cachefile = first_entry(cache);
	ck_assert_msg(cachefile != NULL, "no cache file in %s", cache);
	/* Answered from the cache: the same listing. */
	r = RUN(p.root, NULL, "status", "--url", p.url, "--cache-dir", cache);
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, first.out);
	tu_result_free(&r);
	tu_expect_has("status", first.out, "✅ Executed 001_create_users_table (batch: 1)\n");
	/* One character changed in place; size and mtime put back. */
	ck_assert_int_eq(stat(file, &before), 0);
	text = tu_read(file);
	ck_assert_ptr_nonnull(strstr(text, "users"));
	*strstr(text, "users") = 'U';
	fd = open(file, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	times[0] = before.st_atim;
	times[1] = before.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, file, times, 0), 0);
	r = RUN(p.root, NULL, "status", "--url", p.url, "--cache-dir", cache);
	tu_expect_status(&r, 0);
	tu_expect_has("status", r.out, "✅ Executed 001_create_users_table (batch: 1) ⚠️ modified since applied\n");
	tu_result_free(&r);
	/* Off: nothing is written. */
	tu_rm_rf(cache);
	r = RUN(p.root, NULL, "status", "--url", p.url, "--cache-dir", "off");
	tu_expect_status(&r, 0);
	tu_expect_has("status", r.out, "⚠️ modified since applied\n");
	ck_assert(!tu_exists(cache));
	tu_result_free(&r);
	tu_result_free(&first);
	free(text);
	free(cachefile);
	free(file);
	free(cache);
	tu_project_free(&p);
}
END_TEST

START_TEST(drift_is_shown_and_validate_fails)
{
	struct tu_project p = project_new();
	struct tu_result r;

	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	free(tu_write(p.dir, "001_create_users_table.ts", "export const up = `SELECT 2;`;\n"));
	remove_file(p.dir, "003_add_email_index_to_users.ts");
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0); /* status reports; validate judges */
	tu_expect_has("status", r.out, "✅ Executed 001_create_users_table (batch: 1) ⚠️ modified since applied\n");
	tu_expect_has("status", r.out, "❌ Missing 003_add_email_index_to_users (batch: 1) file not found\n");
	tu_expect_has("status", r.out, "dbmigrate validate");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "status", "--format", "json", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_msg(json_valid(r.out), "not JSON:\n%s", r.out);
	tu_expect_has("json", r.out, "\"state\": \"missing\"");
	tu_expect_has("json", r.out, "\"modified\": true");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "validate", "--url", p.url);
	tu_expect_status(&r, 3);
	tu_expect_has("validate", r.out, "001_create_users_table");
	tu_expect_has("validate", r.out, "003_add_email_index_to_users");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

START_TEST(quiet_and_verbose)
{
	struct tu_project p = project_new();
	struct tu_result r;

	r = RUN(p.root, NULL, "up", "-q", "--url", p.url, "--step", "1");
	tu_expect_status(&r, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	tu_result_free(&r);
	r = RUN(p.root, NULL, "-v", "up", "--url", p.url);
	tu_expect_status(&r, 0);
	tu_expect_has("-v", r.err, "debug: ");
	tu_expect_has("-v", r.out, "Applying 002_create_user_sessions_table");
	tu_result_free(&r);
	/* -q keeps errors */
	r = RUN(p.root, NULL, "-q", "status", "--driver", "nosuch", "--url", p.url);
	tu_expect_status(&r, 4);
	tu_expect_has("-q", r.err, "error");
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

/*
 * A big directory (64 KiB of entries: some 2,000 files on ext4) runs
 * up and status like a small one.
 */
START_TEST(big_directory_runs)
{
	struct tu_project p = project_empty();
	struct tu_result r;
	struct stat st;
	char name[64], sql[64], *totals;
	int n = 0;

	ck_assert_int_eq(mkdir(p.dir, 0755), 0);
	/* File systems count a directory's size their own way: add files
	   until it is big enough, or until there are plenty. */
	do {
		n++;
		snprintf(name, sizeof name, "%05d_create_table_number_%d.sql", n, n);
		snprintf(sql, sizeof sql, "-- migrate:up\nCREATE TABLE t%d (a int);\n", n);
		free(tu_write(p.dir, name, sql));
		ck_assert_int_eq(stat(p.dir, &st), 0);
	} while (st.st_size < 65536 && n < 12000);
	RUN_EXPECT(0, p.root, NULL, "up", "--url", p.url);
	r = RUN(p.root, NULL, "status", "--url", p.url);
	tu_expect_status(&r, 0);
	ck_assert_int_ne(asprintf(&totals, "Total: %d | Executed: %d | Pending: 0\n",
				  n, n), -1);
	tu_expect_has("status", r.out, totals);
	free(totals);
	tu_result_free(&r);
	tu_project_free(&p);
}
END_TEST

/* Interrupt a slow up with sig; expect 128 + sig and nothing applied. */
static void interrupt_with(int sig)
{
	struct tu_project p = project_new();
	char *slow = url_with(&p, "?sleep=5000");
	bool exited;
	char *out;
	int status;

	status = run_and_signal(p.root,
				(const char *const[]){ "up", "--url", slow, NULL },
				"Batch 1", sig, &exited, &out);
	/* It exited by itself (handled the signal), with 128 + sig. */
	ck_assert_msg(exited, "killed by the signal instead of handling it:\n%s", out);
	ck_assert_int_eq(status, 128 + sig);
	free(out);
	free(slow);
	expect_totals(&p, "Executed: 0 | Pending: 3\n");
	tu_project_free(&p);
}

START_TEST(sigint_exits_130)
{
	interrupt_with(SIGINT);
}
END_TEST

START_TEST(sigterm_exits_143)
{
	interrupt_with(SIGTERM);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		help_and_version_exit_0, usage_errors_exit_2, seed_workflow,
		status_json_is_valid_json, options_after_command_and_prefixes,
		failing_migration_exit_1_names_file_and_line,
		failed_part_way_is_shown_and_guarded,
		bad_file_exit_3_nothing_applied,
		control_characters_are_escaped, dry_run_changes_nothing,
		step_and_to, reset_needs_force_without_a_terminal,
		reset_prompt_on_a_terminal,
		colors_only_on_a_terminal_without_no_color,
		password_never_printed, driver_and_connection_errors,
		database_url_precedence, down_refusal_says_why_per_migration,
		notices_have_one_prefix, drift_is_shown_and_validate_fails,
		status_cache_sees_a_file_changed_in_place, quiet_and_verbose,
		big_directory_runs, sigint_exits_130, sigterm_exits_143, NULL
	};

	return tu_run_suite(tu_suite("cli", 60, tests));
}
