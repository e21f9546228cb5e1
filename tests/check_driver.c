/*
 * check_driver.c - driver.c: drivers are found by name on the search
 * path only (first directory wins, no relative entries, no symlinks),
 * broken drivers are refused with a message saying why (the four in
 * tests/drivers/), the mock driver loads, and the wrappers handle
 * absent optional operations and drivers that fail without a word.
 *
 * The harness puts the build tree's drivers on DBMIGRATE_DRIVER_PATH
 * (drivers/mock/.libs, tests/.libs); tests that need another path set
 * it themselves, which stays in their forked process.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"
#include "errors.h"
#include "testutil.h"

/* The path of file in the harness's DBMIGRATE_DRIVER_PATH; fails the
   test when it is missing, since make check always builds it. */
static char *find_driver(const char *file)
{
	const char *env = getenv("DBMIGRATE_DRIVER_PATH");
	char path[1024];

	ck_assert_msg(env != NULL, "DBMIGRATE_DRIVER_PATH is not set; run "
		      "the tests with make check");
	while (*env != '\0') {
		size_t len = strcspn(env, ":");

		snprintf(path, sizeof path, "%.*s/%s", (int)len, env, file);
		if (len > 0 && access(path, R_OK) == 0)
			return strdup(path);
		env += len;
		if (*env == ':')
			env++;
	}
	ck_abort_msg("%s is not in DBMIGRATE_DRIVER_PATH (%s); make check "
		     "builds it", file, getenv("DBMIGRATE_DRIVER_PATH"));
	return NULL;
}

/* Copy the file src to dir/name (a regular file, not a link). */
static void copy_file(const char *src, const char *dir, const char *name)
{
	char dst[1024], buf[8192];
	int in, out;
	ssize_t n;

	snprintf(dst, sizeof dst, "%s/%s", dir, name);
	in = open(src, O_RDONLY);
	ck_assert_int_ge(in, 0);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
}

/* A new directory under tmp named name. */
static char *subdir(const char *tmp, const char *name)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/%s", tmp, name);
	ck_assert_int_eq(mkdir(path, 0777), 0);
	return strdup(path);
}

/* Load name expecting a refusal with code; returns the error. */
static dbmigrate_error refused(const char *name, dbmigrate_code code)
{
	struct driver d = { 0 };
	dbmigrate_error e = { 0 };

	ck_assert_msg(driver_load(name, &d, &e) == code, "%s: %s", name,
		      e.message ? e.message : "(loaded)");
	ck_assert_ptr_null(d.vt);
	ck_assert_ptr_null(d.path);
	ck_assert_ptr_nonnull(e.message);
	return e;
}

START_TEST(invalid_names)
{
	static const char *const names[] = {
		"", "Mock", "../mock", "a/b", "..", "mock.so", "x y",
		"/usr/lib/evil", "mo-ck",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		dbmigrate_error e = refused(names[i], DBMIGRATE_ECONNECT);

		ck_assert_ptr_nonnull(strstr(e.message, "invalid driver name"));
		ck_assert_ptr_nonnull(e.hint);
		errors_clear(&e);
	}
}
END_TEST

START_TEST(unknown_driver_lists_where_it_looked)
{
	char *tmp = tu_mkdtemp();
	char path[2048];
	dbmigrate_error e;

	snprintf(path, sizeof path, "%s:relative/dir:", tmp);
	setenv("DBMIGRATE_DRIVER_PATH", path, 1);
	e = refused("nosuch_driver", DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver \"nosuch_driver\" not found");
	ck_assert_ptr_nonnull(strstr(e.detail, "nosuch_driver.so"));
	ck_assert_ptr_nonnull(strstr(e.detail, tmp));
	ck_assert_ptr_nonnull(strstr(e.detail, driver_installed_dir()));
	/* the relative entry is not searched, and the user is told */
	ck_assert_ptr_nonnull(strstr(e.detail, "ignored: relative/dir"));
	ck_assert_ptr_nonnull(strstr(e.hint, "dbmigrate drivers"));
	errors_clear(&e);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(refuses_a_newer_abi)
{
	dbmigrate_error e = refused("bad_abi", DBMIGRATE_ECONNECT);

	/* struct_size is garbage too: the version is what is reported */
	ck_assert_str_eq(e.message, "driver bad_abi was built for driver ABI 99, "
				    "this dbmigrate loads ABI 4 to 5");
	ck_assert_ptr_nonnull(strstr(e.detail, "bad_abi.so"));
	ck_assert_ptr_nonnull(strstr(e.hint, "Rebuild"));
	errors_clear(&e);
}
END_TEST

/* A driver built against the ABI 3 header: refused, never misread. */
START_TEST(refuses_an_abi3_driver)
{
	dbmigrate_error e = refused("old_abi", DBMIGRATE_ECONNECT);

	ck_assert_str_eq(e.message, "driver old_abi was built for driver ABI 3, "
				    "which this dbmigrate no longer loads");
	ck_assert_ptr_nonnull(strstr(e.detail, "old_abi.so declares abi_version 3"));
	ck_assert_ptr_nonnull(strstr(e.detail, "dialect"));
	ck_assert_ptr_nonnull(strstr(e.hint, "Rebuild the driver"));
	errors_clear(&e);
}
END_TEST

START_TEST(refuses_a_file_without_entry)
{
	dbmigrate_error e = refused("no_entry", DBMIGRATE_ECONNECT);

	ck_assert_ptr_nonnull(strstr(e.message, "no_entry.so is not a dbmigrate driver"));
	ck_assert_ptr_nonnull(strstr(e.detail, "dbmigrate_driver_entry"));
	ck_assert_ptr_nonnull(strstr(e.hint, "DBMIGRATE_DRIVER_DEFINE"));
	errors_clear(&e);
}
END_TEST

START_TEST(refuses_a_truncated_vtable)
{
	dbmigrate_error e = refused("bad_size", DBMIGRATE_ECONNECT);

	ck_assert_str_eq(e.message, "driver bad_size has a truncated vtable");
	ck_assert_ptr_nonnull(strstr(e.detail, "struct_size"));
	errors_clear(&e);
}
END_TEST

START_TEST(refuses_a_misnamed_driver)
{
	dbmigrate_error e = refused("bad_name", DBMIGRATE_ECONNECT);

	ck_assert_ptr_nonnull(strstr(e.message, "calls itself \"other\", not \"bad_name\""));
	ck_assert_ptr_nonnull(strstr(e.message, "bad_name.so"));
	errors_clear(&e);
}
END_TEST

START_TEST(refuses_an_unloadable_file)
{
	char *tmp = tu_mkdtemp();
	dbmigrate_error e;

	free(tu_write(tmp, "broken.so", "this is not an ELF file\n"));
	setenv("DBMIGRATE_DRIVER_PATH", tmp, 1);
	e = refused("broken", DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "cannot load driver broken"));
	ck_assert_ptr_nonnull(e.detail);          /* dlerror() */
	ck_assert_ptr_nonnull(strstr(e.hint, "ldd"));
	errors_clear(&e);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

/* host->error for the tests: copy into the dbmigrate_error in ctx. */
static void host_error(void *ctx, const struct dbmigrate_driver_error *de)
{
	errors_set(ctx, de->code, "%s", de->message);
}

/* host->log for the tests: nothing to show. */
static void host_log(void *ctx, enum dbmigrate_log_level level,
		     const char *message)
{
	(void)ctx;
	(void)level;
	(void)message;
}

/* host->interrupted for the tests: never. */
static int host_interrupted(void *ctx)
{
	(void)ctx;
	return 0;
}


/* A host whose errors land in e, as the migrator's land in its handle. */
static struct dbmigrate_host make_host(dbmigrate_error *e)
{
	struct dbmigrate_host h = {
		.abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
		.struct_size = sizeof h,
		.ctx = e,
		.error = host_error,
		.log = host_log,
		.interrupted = host_interrupted,
	};

	driver_host_services(&h);
	return h;
}

START_TEST(mock_loads_and_connects)
{
	struct driver d = { 0 };
	dbmigrate_error e = { 0 };
	struct dbmigrate_host h = make_host(&e);
	struct dbmigrate_params p = { .struct_size = sizeof p, .url = "mock:" };

	ck_assert_msg(driver_load("mock", &d, &e) == DBMIGRATE_OK,
		      "the mock driver must load (make check builds it): %s",
		      e.message);
	ck_assert_str_eq(d.vt->name, "mock");
	ck_assert_uint_eq(d.vt->abi_version, DBMIGRATE_DRIVER_ABI_VERSION);
	ck_assert_ptr_nonnull(d.vt->description);
	ck_assert_int_eq(d.path[0], '/');
	ck_assert_str_eq(d.path + strlen(d.path) - 8, "/mock.so");
	ck_assert_ptr_null(d.conn);
	ck_assert_int_eq(driver_open(&d, &h, &p, &e), DBMIGRATE_OK);
	ck_assert_ptr_nonnull(d.conn);
	ck_assert_int_eq(e.code, DBMIGRATE_OK);
	driver_close(&d);
	ck_assert_ptr_null(d.conn);
	driver_close(&d); /* twice is harmless */
	free(d.path);
}
END_TEST

START_TEST(symlinks_are_refused)
{
	char *tmp = tu_mkdtemp();
	char *real = find_driver("mock.so");
	char link[1024];
	dbmigrate_error e;

	snprintf(link, sizeof link, "%s/mock.so", tmp);
	ck_assert_int_eq(symlink(real, link), 0);
	setenv("DBMIGRATE_DRIVER_PATH", tmp, 1);
	e = refused("mock", DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "is a symbolic link"));
	ck_assert_ptr_nonnull(strstr(e.message, link));
	ck_assert_ptr_nonnull(e.detail);
	ck_assert_ptr_nonnull(strstr(e.hint, "DBMIGRATE_DRIVER_PATH"));
	errors_clear(&e);
	/* so is anything but a regular file */
	unlink(link);
	ck_assert_int_eq(mkdir(link, 0777), 0);
	e = refused("mock", DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "is not a regular file"));
	errors_clear(&e);
	free(real);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(first_directory_wins)
{
	char *tmp = tu_mkdtemp();
	char *other = find_driver("bad_name.so");
	char *abi = find_driver("bad_abi.so");
	char *a = subdir(tmp, "a"), *b = subdir(tmp, "b"), *c;
	char path[2048];
	struct driver d = { 0 };
	dbmigrate_error e = { 0 };

	/* bad_name.so calls itself "other": as other.so it is valid */
	copy_file(other, a, "other.so");
	copy_file(other, b, "other.so");
	snprintf(path, sizeof path, "%s:%s", a, b);
	setenv("DBMIGRATE_DRIVER_PATH", path, 1);
	ck_assert_int_eq(driver_load("other", &d, &e), DBMIGRATE_OK);
	ck_assert_ptr_eq(strstr(d.path, a), d.path);
	free(d.path);
	memset(&d, 0, sizeof d);

	snprintf(path, sizeof path, "::%s::%s:", b, a); /* empty entries skipped */
	setenv("DBMIGRATE_DRIVER_PATH", path, 1);
	ck_assert_int_eq(driver_load("other", &d, &e), DBMIGRATE_OK);
	ck_assert_ptr_eq(strstr(d.path, b), d.path);
	free(d.path);
	memset(&d, 0, sizeof d);

	/* a refused driver first on the path is not skipped over (a new
	   directory: a loaded file must not be rewritten in place) */
	c = subdir(tmp, "c");
	copy_file(abi, c, "other.so");
	snprintf(path, sizeof path, "%s:%s", c, b);
	setenv("DBMIGRATE_DRIVER_PATH", path, 1);
	e = refused("other", DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "ABI 99"));
	errors_clear(&e);
	free(other);
	free(abi);
	free(a);
	free(b);
	free(c);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

/* A URL scheme that names no driver file is served by the driver that
   lists it: the one whose name begins the scheme first, else any. */
START_TEST(schemes_name_their_driver)
{
	char *tmp = tu_mkdtemp();
	char *other = find_driver("bad_name.so");
	char *mock = find_driver("mock.so");
	struct driver d = { 0 };
	dbmigrate_error e = { 0 };

	copy_file(other, tmp, "other.so");
	copy_file(mock, tmp, "mock.so");
	setenv("DBMIGRATE_DRIVER_PATH", tmp, 1);
	ck_assert_int_eq(driver_load("otherdb", &d, &e), DBMIGRATE_OK);
	ck_assert_str_eq(d.vt->name, "other");
	free(d.path);
	memset(&d, 0, sizeof d);
	/* no name in common: every driver is asked */
	ck_assert_int_eq(driver_load("elsewhere", &d, &e), DBMIGRATE_OK);
	ck_assert_str_eq(d.vt->name, "other");
	free(d.path);
	memset(&d, 0, sizeof d);
	e = refused("nosuchdb", DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver \"nosuchdb\" not found");
	errors_clear(&e);
	unsetenv("DBMIGRATE_DRIVER_PATH");
	tu_rm_rf(tmp);
	free(tmp);
	free(other);
	free(mock);
}
END_TEST

#ifdef HAVE_POSTGRES_DRIVER
/* postgresql:// is the postgres driver's, as libpq spells it. */
START_TEST(postgresql_is_the_postgres_driver)
{
	struct driver d = { 0 };
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(driver_load("postgresql", &d, &e), DBMIGRATE_OK);
	ck_assert_str_eq(d.vt->name, "postgres");
	ck_assert_str_eq(d.vt->backend, "PostgreSQL");
	free(d.path);
}
END_TEST
#endif

START_TEST(never_the_current_directory)
{
	char *tmp = tu_mkdtemp();
	char *other = find_driver("bad_name.so");
	char *rel = subdir(tmp, "rel");
	dbmigrate_error e;

	copy_file(other, tmp, "other.so");
	copy_file(other, rel, "other.so");
	ck_assert_int_eq(chdir(tmp), 0);
	setenv("DBMIGRATE_DRIVER_PATH", "", 1);
	e = refused("other", DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "not found"));
	errors_clear(&e);
	setenv("DBMIGRATE_DRIVER_PATH", "rel:.:./rel", 1);
	e = refused("other", DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "not found"));
	ck_assert_ptr_nonnull(strstr(e.detail, "rel, ., ./rel"));
	errors_clear(&e);
	free(other);
	free(rel);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

/* Calls the stubs of in-process vtables received. */
static int calls_lock, calls_unlock, calls_classify, calls_cancel, calls_close;

/* begin, commit, rollback: succeed. */
static dbmigrate_code stub_tx(dbmigrate_conn *c)
{
	(void)c;
	return DBMIGRATE_OK;
}

/* close: count. */
static void stub_close(dbmigrate_conn *c)
{
	(void)c;
	calls_close++;
}

/* ensure_table, drop_table: succeed. */
static dbmigrate_code stub_table(dbmigrate_conn *c, const char *t)
{
	(void)c;
	(void)t;
	return DBMIGRATE_OK;
}

/* table_exists: never. */
static dbmigrate_code stub_exists(dbmigrate_conn *c, const char *t, int *x)
{
	(void)c;
	(void)t;
	*x = 0;
	return DBMIGRATE_OK;
}

/* read_rows: none. */
static dbmigrate_code stub_rows(dbmigrate_conn *c, const char *t,
				dbmigrate_row_fn fn, void *ctx)
{
	(void)c;
	(void)t;
	(void)fn;
	(void)ctx;
	return DBMIGRATE_OK;
}

/* apply: succeed. */
static dbmigrate_code stub_apply(dbmigrate_conn *c, const char *t,
				 const struct dbmigrate_stmt *s, size_t n,
				 const struct dbmigrate_row *r, const char *u)
{
	(void)c;
	(void)t;
	(void)s;
	(void)n;
	(void)r;
	(void)u;
	return DBMIGRATE_OK;
}

/* open that succeeds with a dummy connection. */
static dbmigrate_code open_ok(const struct dbmigrate_host *h,
			      const struct dbmigrate_params *p,
			      dbmigrate_conn **out)
{
	static int dummy;

	(void)h;
	(void)p;
	*out = (dbmigrate_conn *)&dummy;
	return DBMIGRATE_OK;
}

/* open that fails and says why, as the ABI asks. */
static dbmigrate_code open_reports(const struct dbmigrate_host *h,
				   const struct dbmigrate_params *p,
				   dbmigrate_conn **out)
{
	struct dbmigrate_driver_error de = {
		.code = DBMIGRATE_ECONNECT,
		.message = "connection refused by stub",
		.statement = DBMIGRATE_NO_STATEMENT,
	};

	(void)p;
	*out = NULL;
	h->error(h->ctx, &de);
	return DBMIGRATE_ECONNECT;
}

/* open that fails without a word. */
static dbmigrate_code open_silent(const struct dbmigrate_host *h,
				  const struct dbmigrate_params *p,
				  dbmigrate_conn **out)
{
	(void)h;
	(void)p;
	*out = NULL;
	return DBMIGRATE_ECONNECT;
}

/* lock: count, and time out. */
static dbmigrate_code stub_lock(dbmigrate_conn *c, const char *t, double s)
{
	(void)c;
	(void)t;
	(void)s;
	calls_lock++;
	return DBMIGRATE_ELOCK;
}

/* unlock: count. */
static dbmigrate_code stub_unlock(dbmigrate_conn *c, const char *t)
{
	(void)c;
	(void)t;
	calls_unlock++;
	return DBMIGRATE_OK;
}

/* classify: VACUUM runs outside a transaction. */
static void stub_classify(const struct dbmigrate_host *h, const char *sql,
			  size_t len, struct dbmigrate_stmt_class *out)
{
	(void)h;
	(void)len;
	calls_classify++;
	if (strncmp(sql, "VACUUM", 6) != 0)
		return;
	out->flags = DBMIGRATE_STMT_NO_TRANSACTION;
	out->reason = "VACUUM cannot run inside a transaction block";
}

/* split: the whole text is one statement. */
static dbmigrate_code stub_split(const struct dbmigrate_host *h,
				 const char *text, size_t len,
				 dbmigrate_span_fn fn, void *ctx,
				 struct dbmigrate_split_error *err)
{
	(void)h;
	(void)text;
	(void)err;
	return len > 0 && fn(ctx, 0, len) != 0 ? DBMIGRATE_ENOMEM : DBMIGRATE_OK;
}

/* cancel: count. */
static void stub_cancel(dbmigrate_conn *c)
{
	(void)c;
	calls_cancel++;
}

/* A vtable with every mandatory operation, named name, with the given
   open. */
static struct dbmigrate_driver stub_vtable(const char *name,
					   dbmigrate_code (*op)(const struct dbmigrate_host *,
								const struct dbmigrate_params *,
								dbmigrate_conn **))
{
	struct dbmigrate_driver vt = {
		.abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
		.struct_size = sizeof vt,
		.name = name,
		.description = "stub",
		.caps = DBMIGRATE_CAP_TRANSACTIONAL_DDL,
		.split = stub_split,
		.open = op,
		.close = stub_close,
		.begin = stub_tx,
		.commit = stub_tx,
		.rollback = stub_tx,
		.ensure_table = stub_table,
		.table_exists = stub_exists,
		.read_rows = stub_rows,
		.drop_table = stub_table,
		.apply = stub_apply,
	};

	return vt;
}

/*
 * Drivers of ABI 1 to 3 are refused whatever they declare; one of ABI 4
 * declares at least the whole ABI-4 vtable, and one of a later ABI may
 * be bigger (members after the host's own end are never read).
 */
START_TEST(refuses_drivers_before_abi4)
{
	struct dbmigrate_driver vt = stub_vtable("stub", open_ok);
	dbmigrate_error e = { 0 };

	for (unsigned abi = 1; abi < DBMIGRATE_DRIVER_ABI_MIN; abi++) {
		vt.abi_version = abi;
		ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e),
				 DBMIGRATE_ECONNECT);
		ck_assert_ptr_nonnull(strstr(e.message, "no longer loads"));
		ck_assert_ptr_nonnull(strstr(e.hint, "Rebuild"));
	}
	vt.abi_version = DBMIGRATE_DRIVER_ABI_MIN;
	vt.struct_size = sizeof vt - 1;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "truncated"));
	vt.struct_size = sizeof vt;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_OK);
	errors_clear(&e);
}
END_TEST

/* What a driver's capabilities promise, it must offer. */
START_TEST(capabilities_need_their_operations)
{
	struct dbmigrate_driver vt = stub_vtable("stub", open_ok);
	dbmigrate_error e = { 0 };

	vt.split = NULL;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver stub lacks the mandatory operation split()");
	vt.split = stub_split;
	vt.caps |= DBMIGRATE_CAP_LOCK;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver stub lacks the mandatory operation lock()");
	ck_assert_ptr_nonnull(strstr(e.detail, "DBMIGRATE_CAP_LOCK"));
	vt.lock = stub_lock;
	vt.unlock = stub_unlock;
	vt.caps |= DBMIGRATE_CAP_CANCEL;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver stub lacks the mandatory operation cancel()");
	vt.cancel = stub_cancel;
	vt.caps &= ~DBMIGRATE_CAP_TRANSACTIONAL_DDL;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver stub lacks the mandatory operation record_progress()");
	ck_assert_ptr_nonnull(strstr(e.detail, "commits on its own"));
	vt.caps |= DBMIGRATE_CAP_TRANSACTIONAL_DDL;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_OK);
	errors_clear(&e);
}
END_TEST

START_TEST(vtable_checks_in_order)
{
	struct dbmigrate_driver vt = stub_vtable("stub", open_ok);
	dbmigrate_error e = { 0 };

	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_OK);

	vt.abi_version = 0;
	vt.struct_size = 3;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver stub was built for driver ABI 0, "
				    "this dbmigrate loads ABI 4 to 5");
	vt.abi_version = DBMIGRATE_DRIVER_ABI_VERSION + 1;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "ABI 6"));

	vt.abi_version = DBMIGRATE_DRIVER_ABI_VERSION;
	vt.struct_size = sizeof vt - 1;
	vt.name = NULL;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "truncated"));

	vt.struct_size = sizeof vt + 64; /* a newer minor layout is fine */
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "calls itself \"\""));

	vt.name = "stub";
	vt.apply = NULL;
	vt.lock = NULL;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver stub lacks the mandatory operation apply()");
	vt.apply = stub_apply;
	vt.open = NULL;
	ck_assert_int_eq(driver_check(&vt, "stub", "/x/stub.so", &e), DBMIGRATE_ECONNECT);
	ck_assert_ptr_nonnull(strstr(e.message, "open()"));
	errors_clear(&e);
}
END_TEST

START_TEST(open_reports_errors)
{
	struct dbmigrate_driver vt = stub_vtable("stub", open_reports);
	struct driver d = { .vt = &vt, .path = (char *)"/x/stub.so" };
	dbmigrate_error e = { 0 };
	struct dbmigrate_host h = make_host(&e);
	struct dbmigrate_params p = { .struct_size = sizeof p };

	/* a stale error from before does not count as the driver's */
	errors_set(&e, DBMIGRATE_ECONNECT, "stale");
	ck_assert_int_eq(driver_open(&d, &h, &p, &e), DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "connection refused by stub");
	ck_assert_ptr_null(d.conn);

	vt.open = open_silent;
	errors_set(&e, DBMIGRATE_ECONNECT, "stale");
	ck_assert_int_eq(driver_open(&d, &h, &p, &e), DBMIGRATE_ECONNECT);
	ck_assert_str_eq(e.message, "driver stub could not connect");
	ck_assert_ptr_nonnull(e.detail);
	ck_assert_ptr_null(d.conn);

	vt.open = open_ok;
	ck_assert_int_eq(driver_open(&d, &h, &p, &e), DBMIGRATE_OK);
	ck_assert_int_eq(e.code, DBMIGRATE_OK);
	ck_assert_ptr_nonnull(d.conn);
	driver_close(&d);
	ck_assert_int_eq(calls_close, 1);
	ck_assert_ptr_null(d.conn);
	errors_clear(&e);
}
END_TEST

START_TEST(optional_operations)
{
	struct dbmigrate_driver vt = stub_vtable("stub", open_ok);
	struct driver d = { .vt = &vt, .path = (char *)"/x/stub.so" };
	dbmigrate_error e = { 0 };
	struct dbmigrate_host h = make_host(&e);
	struct dbmigrate_params p = { .struct_size = sizeof p };
	struct dbmigrate_stmt_class cls = { .flags = 0xff, .reason = "untouched" };

	/* cancel before anything is connected does nothing */
	vt.cancel = stub_cancel;
	driver_cancel(&d);
	ck_assert_int_eq(calls_cancel, 0);
	vt.cancel = NULL;
	ck_assert_int_eq(driver_open(&d, &h, &p, &e), DBMIGRATE_OK);

	/* absent: lock and unlock succeed, classify says nothing (and
	   clears what was there), cancel is a no-op */
	ck_assert_int_eq(driver_lock(&d, "migrations", 1), DBMIGRATE_OK);
	ck_assert_int_eq(driver_unlock(&d, "migrations"), DBMIGRATE_OK);
	driver_classify(&d, &h, "VACUUM", 6, &cls);
	ck_assert_uint_eq(cls.flags, 0);
	ck_assert_ptr_null(cls.reason);
	driver_cancel(&d);

	/* present: forwarded */
	vt.lock = stub_lock;
	vt.unlock = stub_unlock;
	vt.classify = stub_classify;
	vt.cancel = stub_cancel;
	ck_assert_int_eq(driver_lock(&d, "migrations", 1), DBMIGRATE_ELOCK);
	ck_assert_int_eq(driver_unlock(&d, "migrations"), DBMIGRATE_OK);
	driver_classify(&d, &h, "VACUUM", 6, &cls);
	ck_assert_uint_eq(cls.flags, DBMIGRATE_STMT_NO_TRANSACTION);
	ck_assert_str_eq(cls.reason, "VACUUM cannot run inside a transaction block");
	driver_classify(&d, &h, "SELECT 1", 8, &cls);
	ck_assert_uint_eq(cls.flags, 0);
	driver_cancel(&d);
	ck_assert_int_eq(calls_lock, 1);
	ck_assert_int_eq(calls_unlock, 1);
	ck_assert_int_eq(calls_classify, 2);
	ck_assert_int_eq(calls_cancel, 1);
	driver_close(&d);
	errors_clear(&e);

	/* cancel on a driver never loaded (interrupt before open) */
	memset(&d, 0, sizeof d);
	driver_cancel(&d);
}
END_TEST

/* What driver_list reported. */
struct listing {
	int n;
	char name[16][64];
	char path[16][1024];
	char desc[16][128];
	char problem[16][1024]; /* "" when loadable */
};

/* driver_list_fn recording each report. */
static void record(const char *name, const char *path, const char *desc,
		   const char *problem, void *ctx)
{
	struct listing *l = ctx;

	ck_assert_int_lt(l->n, 16);
	snprintf(l->name[l->n], sizeof l->name[0], "%s", name);
	snprintf(l->path[l->n], sizeof l->path[0], "%s", path);
	snprintf(l->desc[l->n], sizeof l->desc[0], "%s", desc ? desc : "");
	snprintf(l->problem[l->n], sizeof l->problem[0], "%s", problem ? problem : "");
	l->n++;
}

START_TEST(list_reports_every_candidate)
{
	char *tmp = tu_mkdtemp();
	char *other = find_driver("bad_name.so");
	char *abi = find_driver("bad_abi.so");
	char *a = subdir(tmp, "a"), *b = subdir(tmp, "b");
	char path[2048], link[1100];
	struct listing l;

	memset(&l, 0, sizeof l);
	copy_file(other, a, "other.so");
	copy_file(abi, a, "bad_abi.so");
	copy_file(abi, a, "Bad-Name.so");
	free(tu_write(a, "README", "not a driver"));
	snprintf(link, sizeof link, "%s/link.so", a);
	ck_assert_int_eq(symlink(other, link), 0);
	copy_file(other, b, "other.so");
	/* a directory listed twice is listed once */
	snprintf(path, sizeof path, "%s:%s:%s", a, b, a);
	setenv("DBMIGRATE_DRIVER_PATH", path, 1);

	ck_assert_int_eq(driver_list(record, &l), DBMIGRATE_OK);
	ck_assert_int_ge(l.n, 5);
	/* a's files sorted, then b's */
	ck_assert_str_eq(l.name[0], "Bad-Name");
	ck_assert_ptr_nonnull(strstr(l.problem[0], "not a valid driver name"));
	ck_assert_str_eq(l.name[1], "bad_abi");
	ck_assert_ptr_nonnull(strstr(l.problem[1], "ABI 99"));
	ck_assert_str_eq(l.name[2], "link");
	ck_assert_ptr_nonnull(strstr(l.problem[2], "symbolic link"));
	ck_assert_str_eq(l.name[3], "other");
	ck_assert_str_eq(l.problem[3], "");
	ck_assert_str_eq(l.desc[3], "a test driver that calls itself other");
	snprintf(link, sizeof link, "%s/other.so", a);
	ck_assert_str_eq(l.path[3], link);
	ck_assert_str_eq(l.name[4], "other");
	ck_assert_ptr_nonnull(strstr(l.problem[4], "hidden by"));
	ck_assert_ptr_nonnull(strstr(l.problem[4], link));
	ck_assert_ptr_nonnull(strstr(l.path[4], b));
	/* nothing else of a or b (README is not a candidate) */
	for (int i = 5; i < l.n; i++)
		ck_assert_ptr_eq(strstr(l.path[i], driver_installed_dir()), l.path[i]);
	free(other);
	free(abi);
	free(a);
	free(b);
	tu_rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(list_shows_the_build_tree_drivers)
{
	struct listing l;
	int mock = 0;

	memset(&l, 0, sizeof l);
	ck_assert_int_eq(driver_list(record, &l), DBMIGRATE_OK);
	for (int i = 0; i < l.n; i++) {
		if (strcmp(l.name[i], "mock") == 0 && l.problem[i][0] == '\0')
			mock++;
		if (strcmp(l.name[i], "no_entry") == 0)
			ck_assert_ptr_nonnull(strstr(l.problem[i], "not a dbmigrate driver"));
		if (strcmp(l.name[i], "bad_size") == 0)
			ck_assert_ptr_nonnull(strstr(l.problem[i], "truncated"));
	}
	ck_assert_int_ge(mock, 1);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		invalid_names, unknown_driver_lists_where_it_looked,
		refuses_a_newer_abi, refuses_a_file_without_entry,
		refuses_a_truncated_vtable, refuses_a_misnamed_driver,
		refuses_an_unloadable_file, mock_loads_and_connects,
		symlinks_are_refused, first_directory_wins,
		never_the_current_directory, vtable_checks_in_order,
		refuses_drivers_before_abi4,
		capabilities_need_their_operations, refuses_an_abi3_driver,
		schemes_name_their_driver,
#ifdef HAVE_POSTGRES_DRIVER
		postgresql_is_the_postgres_driver,
#endif
		open_reports_errors, optional_operations,
		list_reports_every_candidate,
		list_shows_the_build_tree_drivers, NULL
	};

	return tu_run_suite(tu_suite("driver", 0, tests));
}
