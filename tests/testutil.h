/*
 * testutil.h - helpers shared by the Check programs: scratch directories,
 * files, and running the built dbmigrate binary with a chosen
 * environment and capturing what it prints.
 */
#ifndef DBMIGRATE_TESTUTIL_H
#define DBMIGRATE_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "dbmigrate.h"

/* A new empty directory under $TMPDIR (or /tmp); caller frees the name. */
char *tu_mkdtemp(void);

/* Remove a directory tree (best effort). */
void tu_rm_rf(const char *path);

/* Write content to dir/name (dir may be NULL: name is a path). Returns
   the path, to free. Aborts the test on failure. */
char *tu_write(const char *dir, const char *name, const char *content);

/* Like tu_write with an explicit length (content may hold NUL bytes). */
char *tu_write_n(const char *dir, const char *name, const char *content,
		 size_t len);

/* Read a whole file (NUL-terminated), or NULL when it cannot be read. */
char *tu_read(const char *path);

/* True when path exists. */
int tu_exists(const char *path);

/* The result of tu_run(). */
struct tu_result {
	int status;  /* exit code, or 128 + signal number */
	char *out;   /* everything written to stdout */
	char *err;   /* everything written to stderr */
};

/* Set the environment to env's "K=V" strings ("K" alone unsets K). */
void tu_apply_env(const char *const *env);

/*
 * Run argv[0] (a path) with argv in directory cwd (NULL: current), its
 * environment the current one plus env (NULL-terminated "K=V" strings;
 * "K" alone unsets K), stdin from in (NULL: /dev/null). Waits at most
 * 120 s. Free with tu_result_free().
 */
struct tu_result tu_run(const char *const *argv, const char *cwd,
			const char *const *env, const char *in);

/*
 * Run the built dbmigrate ($DBMIGRATE_BIN) with the given arguments
 * (NULL-terminated), in cwd, with extra env. NO_COLOR=1 is always set
 * and DATABASE_URL, DB_* and PG* variables of the caller are unset
 * (pass them in env to test them).
 */
struct tu_result tu_dbmigrate(const char *cwd, const char *const *env, ...);

void tu_result_free(struct tu_result *r);

/* A library handle with url and dir set; fails the test when it cannot
   be made. */
dbmigrate *tu_migrator(const char *url, const char *dir);

/* A dbmigrate started by tu_start(): its pid, and the files its stdout
   and stderr go to. */
struct tu_bg {
	pid_t pid;
	char *out;
	char *err;
};

/*
 * Start the built dbmigrate with args (NULL-terminated) in cwd, in the
 * background: its environment scrubbed and NO_COLOR=1 as tu_dbmigrate's,
 * stdin /dev/null, stdout and stderr into files of cwd. Does not wait.
 */
struct tu_bg tu_start(const char *cwd, const char *const *args);

/* Wait for b to end, at most timeout seconds (0: as long as it takes;
   when it runs longer it is killed and the test fails); its exit
   status, 128 + the signal's number when killed. */
int tu_wait(struct tu_bg *b, double timeout);

/* Free what tu_start() allocated. */
void tu_bg_free(struct tu_bg *b);

/* Run the built dbmigrate in cwd with extra env (NULL: none) and the
   given arguments; the NULL that ends them is added. */
#define TU_RUN(cwd, env, ...) \
	tu_dbmigrate((cwd), (env), __VA_ARGS__, (const char *)NULL)

/* As TU_RUN, and assert that the exit status is status (showing what
   the command printed if not); the result is freed. */
void tu_dbmigrate_expect(int status, const char *cwd, const char *const *env,
			 ...);
#define TU_RUN_EXPECT(status, cwd, env, ...)                                  \
	tu_dbmigrate_expect((status), (cwd), (env), __VA_ARGS__,              \
			    (const char *)NULL)

/* A file of a test's migrations directory. */
struct tu_file {
	const char *name;
	const char *text;
};

/* The seed's three demo migrations (001 .ts, 002 .sql, 003 .ts with
   CREATE INDEX CONCURRENTLY), then { NULL, NULL }. */
extern const struct tu_file tu_seed[];

/* What `status` prints with the seed's 001 and 002 executed in batch 1
   and 003 pending (SPEC's example). */
extern const char tu_status_2_1[];

/* Write the seed's migrations into dir. */
void tu_write_seed(const char *dir);

/* A scratch project: root (a new temporary directory), dir (root's
   "migrations", made), db (root/DB_NAME, not made; NULL without one) and
   url (NULL, for the test to set; freed with the rest). */
struct tu_project {
	char *root;
	char *dir;
	char *db;
	char *url;
};

/* A new project; db_name may be NULL. Aborts the test on failure. */
struct tu_project tu_project_new(const char *db_name);

/* Write a migration file into the project's directory. */
void tu_add(const struct tu_project *p, const char *name, const char *text);

/* Remove the project's directory tree and free it. */
void tu_project_free(struct tu_project *p);

/* Assert that got (a query's first value, NULL for none; freed here) is
   expected (NULL: none); what names the query in the message. */
void tu_expect_value(const char *what, char *got, const char *expected);

/* Seconds on the monotonic clock. */
double tu_now(void);

/* Sleep for ms milliseconds (resumed after a signal). */
void tu_nap(long ms);

/* Assert r's exit status, showing what the command printed if not (the
   first 4,000 bytes of each stream). */
void tu_expect_status(const struct tu_result *r, int status);

/* Assert that haystack (named what: "stdout", "-v"...) contains needle. */
void tu_expect_has(const char *what, const char *haystack, const char *needle);

/* Assert that haystack (named what) does not contain needle. */
void tu_expect_lacks(const char *what, const char *haystack,
		     const char *needle);

/* The value of an environment variable the harness must set (aborts
   with a clear message when it is missing). */
const char *tu_env(const char *name);

/* Count non-overlapping occurrences of needle in haystack. */
int tu_count(const char *haystack, const char *needle);

/*
 * Split body b of migration mig as the runner does (split_body()), with
 * the mock driver, which speaks PostgreSQL's dialect: statements into
 * out (zeroed; free it with split_result_free()), errors into err.
 */
struct migration;
struct migration_body;
struct split_result;
dbmigrate_code tu_split_body(const struct migration *mig,
			     const struct migration_body *b,
			     struct split_result *out, dbmigrate_error *err);

/* Run every test of suite s (Check's normal output) and free it;
   EXIT_SUCCESS when none failed, else EXIT_FAILURE. */
struct Suite;
int tu_run_suite(struct Suite *s);

/*
 * Suites from tables. tests is a NULL-terminated array of the names
 * START_TEST defined (each a `const TTest *`), e.g.
 *
 *	const TTest *const tests[] = { first, second, NULL };
 *	return tu_run_suite(tu_suite("name", 60, tests));
 *
 * tu_tcase() adds a test case named name to s holding tests, with a
 * timeout of timeout seconds (0: Check's default, CK_DEFAULT_TIMEOUT),
 * and returns it for fixtures or loop tests. tu_suite() is a new suite
 * with one such case of its own name.
 */
struct TCase;
struct TTest;
struct TCase *tu_tcase(struct Suite *s, const char *name, double timeout,
		       const struct TTest *const tests[]);
struct Suite *tu_suite(const char *name, double timeout,
		       const struct TTest *const tests[]);

/* ---- for the test servers (pgserver.c, myserver.c, citus.c) ---- */

#include <sys/types.h>

/* Who runs a server: when we are root, another user (as_other). */
struct tu_server_user {
	int as_other;
	uid_t uid;
	gid_t gid;
};

/* Pick u: nobody else unless root, then the first of names (NULL-ended)
   that exists. 0, or -1 when root and none exists. */
int tu_server_user_pick(struct tu_server_user *u, const char *const *names);

/* In a forked child: stdout and stderr appended to log, then become u's
   user; on failure perror(what) and _exit(126). */
void tu_server_child(const char *log, const struct tu_server_user *u,
		     const char *what);

/* Print the end of dir/name (its last 3000 bytes) to stderr, if any. */
void tu_show_log_end(const char *dir, const char *name);

/* A TCP port on 127.0.0.1 that nothing listens on right now, or -1. */
int tu_free_port(void);

/* 32 random hex digits into out (shorter if size < 33); 0, or -1 when
   /dev/urandom cannot be read. */
int tu_random_hex(char *out, size_t size);

/* Run argv (argv[0] a path) as u, its output appended to dir/setup.log,
   in dir (who, e.g. "pgserver", names it in messages when u cannot
   switch or use dir); the exit status, or -1. */
int tu_server_run(char *const *argv, const char *dir,
		  const struct tu_server_user *u, const char *who);

#endif
