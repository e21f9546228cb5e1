/*
 * check_pg_connect.c - connecting to a server that is not up yet, as a
 * deploy job does when it starts beside its database.
 *
 * With --connect-timeout, dbmigrate keeps trying while the server does
 * not answer (refused, no socket file yet) or answers "not accepting
 * connections" (starting up, recovering: 57P03), with a backoff, until
 * the timeout runs out. A server that answers and refuses us (wrong
 * password, no such database) is not retried: waiting cannot cure it.
 * Without --connect-timeout there is one attempt, as with libpq.
 *
 * "Not up yet" is made real without stopping the shared server: a unix
 * socket directory that is empty at first and gets a link to the
 * server's socket a moment later, as when the postmaster creates it.
 */
#define _GNU_SOURCE /* asprintf in test code */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgserver.h"
#include "testutil.h"

/* The message of the first retry (src: drivers/postgres/pg.c). */
#define RETRYING "not accepting connections yet; retrying"

/* A scratch project with an empty migrations directory. */
static char *project(void)
{
	char *dir = tu_mkdtemp();
	char *mig;

	ck_assert_int_ne(asprintf(&mig, "%s/migrations", dir), -1);
	ck_assert_int_eq(mkdir(mig, 0700), 0);
	free(mig);
	return dir;
}

/* Run `dbmigrate status` with the URL and extra arguments; time it. */
static struct tu_result status(const char *dir, const char *url,
			       const char *timeout, double *elapsed)
{
	double t0 = tu_now();
	struct tu_result r =
		timeout != NULL
			? tu_dbmigrate(dir, NULL, "status", "--url", url,
				       "--connect-timeout", timeout,
				       (const char *)NULL)
			: tu_dbmigrate(dir, NULL, "status", "--url", url,
				       (const char *)NULL);

	*elapsed = tu_now() - t0;
	return r;
}

/*
 * The server's socket appears 1.5 s after dbmigrate started: it waits,
 * says once that it is waiting, and then works.
 */
START_TEST(waits_for_a_server_starting_up)
{
	const char *real = pgserver_socket_dir();
	char *dir = project(), *sockdir = tu_mkdtemp();
	char *url, *target, *link;
	struct tu_result r;
	double elapsed;
	pid_t pid;
	int st;

	if (real == NULL) {
		fprintf(stderr, "no unix socket: test not applicable\n");
		return;
	}
	ck_assert_int_ne(asprintf(&target, "%s/.s.PGSQL.%s", real,
				  pgserver_port()), -1);
	ck_assert_int_ne(asprintf(&link, "%s/.s.PGSQL.%s", sockdir,
				  pgserver_port()), -1);
	ck_assert_int_ne(asprintf(&url, "host=%s port=%s dbname=postgres "
					"user=%s", sockdir, pgserver_port(),
				  pgserver_user()), -1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct timespec ts = { 1, 500000000 };

		nanosleep(&ts, NULL);
		_exit(symlink(target, link) == 0 ? 0 : 1);
	}
	r = status(dir, url, "30", &elapsed);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "could not link the socket");
	ck_assert_msg(r.status == 0, "exit %d, stderr:\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, RETRYING) != NULL,
		      "no word of waiting on stderr:\n%s", r.err);
	ck_assert_int_eq(tu_count(r.err, RETRYING), 1);
	ck_assert_msg(elapsed >= 1.4, "connected after %.2f s, before the "
				      "socket existed", elapsed);
	ck_assert_ptr_nonnull(strstr(r.out, "Total: 0"));
	tu_result_free(&r);
	free(url);
	free(target);
	free(link);
	tu_rm_rf(sockdir);
	tu_rm_rf(dir);
	free(sockdir);
	free(dir);
}
END_TEST

/* Nobody listens: retried until --connect-timeout, then exit 4. */
START_TEST(refused_is_retried_until_the_timeout)
{
	char *dir = project();
	double elapsed;
	struct tu_result r = status(dir, "postgres://x@127.0.0.1:1/db", "2",
				    &elapsed);

	ck_assert_msg(r.status == 4, "exit %d, stderr:\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, RETRYING) != NULL, "stderr:\n%s", r.err);
	ck_assert_msg(strstr(r.err, "127.0.0.1") != NULL, "stderr:\n%s", r.err);
	ck_assert_msg(elapsed >= 1.5, "gave up after %.2f s of 2", elapsed);
	tu_result_free(&r);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* Without --connect-timeout: one attempt, no retry. */
START_TEST(no_timeout_no_retry)
{
	char *dir = project();
	double elapsed;
	struct tu_result r = status(dir, "postgres://x@127.0.0.1:1/db", NULL,
				    &elapsed);

	ck_assert_msg(r.status == 4, "exit %d, stderr:\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "retrying") == NULL, "stderr:\n%s", r.err);
	tu_result_free(&r);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* The server answers and refuses: no retry, whatever the timeout. */
START_TEST(refusals_are_not_retried)
{
	char *dir = project();
	char *urls[2];
	double elapsed;

	ck_assert_int_ne(asprintf(&urls[0], "postgres://%s:%s@%s:%s/no_such_db",
				  pgserver_user(), pgserver_password(),
				  pgserver_host(), pgserver_port()), -1);
	ck_assert_int_ne(asprintf(&urls[1], "postgres://%s:wrong@%s:%s/postgres",
				  pgserver_user(), pgserver_host(),
				  pgserver_port()), -1);
	for (int i = 0; i < 2; i++) {
		struct tu_result r = status(dir, urls[i], "60", &elapsed);

		ck_assert_msg(r.status == 4, "%s: exit %d, stderr:\n%s",
			      urls[i], r.status, r.err);
		ck_assert_msg(strstr(r.err, "retrying") == NULL,
			      "%s was retried:\n%s", urls[i], r.err);
		/* Far below the 60 s a retry loop would spend. */
		ck_assert_msg(elapsed < 20, "%s: %.1f s", urls[i], elapsed);
		ck_assert_msg(strstr(r.err, i == 0 ? "no_such_db" : "password"),
			      "stderr:\n%s", r.err);
		ck_assert_msg(strstr(r.err, "wrong") == NULL,
			      "the password was printed:\n%s", r.err);
		tu_result_free(&r);
		free(urls[i]);
	}
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

static Suite *connect_suite(void)
{
	const TTest *const retry[] = {
		waits_for_a_server_starting_up,
		refused_is_retried_until_the_timeout, no_timeout_no_retry,
		refusals_are_not_retried, NULL
	};

	Suite *s = suite_create("connecting");

	tu_tcase(s, "retry", 90, retry);
	return s;
}

int main(void)
{
	return pgserver_run_suite(connect_suite());
}
