/*
 * driver-load.c - finding, loading and checking drivers, and listing
 * them (`dbmigrate drivers`). A driver is <name>.so, looked up by name
 * only in the directories of DBMIGRATE_DRIVER_PATH and then in the
 * installed driver directory (never in the current directory, never by a
 * path the user gives), loaded RTLD_NOW | RTLD_LOCAL, and checked field by
 * field before any of its function pointers is touched (PostgreSQL's fmgr
 * magic block, collectd's plugin loader). driver.c calls what is loaded.
 *
 * Drivers are never dlclose()d, not even one refused by the checks: a
 * driver linking libpq pulls in OpenSSL, which registers atexit()
 * handlers that would run into unmapped code at exit, and
 * LeakSanitizer cannot symbolise the stacks of code that was unloaded.
 * A process loads a handful of drivers at most, so nothing accumulates.
 */
#include "driver.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "strbuf.h"

#ifndef DBMIGRATE_DRIVER_DIR
/* The build defines it from configure's driverdir; this is for direct
   compiles of the sources. */
#define DBMIGRATE_DRIVER_DIR "/usr/local/lib/dbmigrate/drivers"
#endif

/* One directory of the search path: a slice of a longer string. */
struct driver_dir {
	const char *s;
	size_t len;
};

/* The search path: DBMIGRATE_DRIVER_PATH's entries, then the installed
   directory; relative entries are left out and listed in ignored. */
struct driver_path {
	struct driver_dir *v;
	size_t n;
	struct strbuf ignored;
};

const char *driver_installed_dir(void)
{
	return DBMIGRATE_DRIVER_DIR;
}

/* True for a driver name: [a-z0-9_]+. */
static int driver_valid_name(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Append the directory s (len bytes) unless the path has it already,
   so a directory listed twice is neither searched nor listed twice. */
static void driver_path_add(struct driver_path *dp, const char *s, size_t len)
{
	for (size_t i = 0; i < dp->n; i++)
		if (dp->v[i].len == len && memcmp(dp->v[i].s, s, len) == 0)
			return;
	dp->v[dp->n].s = s;
	dp->v[dp->n].len = len;
	dp->n++;
}

/* Build the search path; false when out of memory. */
static int driver_path_init(struct driver_path *dp)
{
	const char *env = getenv("DBMIGRATE_DRIVER_PATH");
	const char *p;
	size_t max = 1;

	memset(dp, 0, sizeof *dp);
	if (env != NULL)
		for (p = env; *p != '\0'; p++)
			max += *p == ':';
	max += env != NULL;
	dp->v = calloc(max, sizeof *dp->v);
	if (dp->v == NULL)
		return 0;
	for (p = env; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, ":");

		/* Empty entries are skipped rather than taken as ".", and
		   relative ones refused: either would make the current
		   directory (an untrusted checkout, /tmp) a source of code. */
		if (len > 0 && p[0] == '/') {
			driver_path_add(dp, p, len);
		} else if (len > 0) {
			if (dp->ignored.len > 0)
				strbuf_puts(&dp->ignored, ", ");
			strbuf_add(&dp->ignored, p, len);
		}
		p += len;
		if (*p == ':')
			p++;
	}
	driver_path_add(dp, DBMIGRATE_DRIVER_DIR, strlen(DBMIGRATE_DRIVER_DIR));
	return !strbuf_failed(&dp->ignored);
}

/* Free the search path. */
static void driver_path_free(struct driver_path *dp)
{
	free(dp->v);
	strbuf_free(&dp->ignored);
}

static char **driver_scan(const char *dir, size_t *n, int *nomem);

/* dir/file as a new string, or NULL. */
static char *driver_join(const struct driver_dir *dir, const char *file,
			 size_t flen)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_add(&b, dir->s, dir->len);
	if (dir->len == 0 || dir->s[dir->len - 1] != '/')
		strbuf_putc(&b, '/');
	strbuf_add(&b, file, flen);
	return strbuf_steal(&b);
}

/*
 * Check that path is a regular file we may load. Returns 0 when it is,
 * 1 when it does not exist, -1 with err set otherwise.
 */
static int driver_stat(const char *path, dbmigrate_error *err)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		errors_set_errno(err, DBMIGRATE_ECONNECT, errno,
				 "cannot access driver file %s", path);
		return -1;
	}
	/*
	 * A symbolic link would let whoever can write the link's target
	 * (anywhere on the system) choose the code dbmigrate runs, which
	 * defeats keeping drivers to a few known directories; the
	 * installed layout never needs one.
	 */
	if (S_ISLNK(st.st_mode)) {
		errors_set(err, DBMIGRATE_ECONNECT,
			   "driver file %s is a symbolic link", path);
		errors_detail(err, "Symbolic links are refused, so that only "
				   "files placed in a driver directory are "
				   "loaded.");
		errors_hint(err, "Copy the driver into the directory, or add "
				 "the directory it really lives in to "
				 "DBMIGRATE_DRIVER_PATH.");
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errors_set(err, DBMIGRATE_ECONNECT,
			   "driver file %s is not a regular file", path);
		errors_hint(err, "Remove it, or put a driver built with "
				 "dbmigrate/driver.h in its place.");
		return -1;
	}
	return 0;
}

/*
 * Check that vt has the operations every driver needs, and those its
 * capabilities promise: lock and unlock with DBMIGRATE_CAP_LOCK, cancel
 * with DBMIGRATE_CAP_CANCEL, record_progress when its DDL commits on its
 * own.
 */
static dbmigrate_code driver_check_ops(const struct dbmigrate_driver *vt,
				       const char *name, dbmigrate_error *err)
{
	const struct {
		const char *op;
		int present;
		const char *why; /* NULL: every driver needs it */
	} ops[] = {
		{ "split", vt->split != NULL, NULL },
		{ "open", vt->open != NULL, NULL },
		{ "close", vt->close != NULL, NULL },
		{ "begin", vt->begin != NULL, NULL },
		{ "commit", vt->commit != NULL, NULL },
		{ "rollback", vt->rollback != NULL, NULL },
		{ "ensure_table", vt->ensure_table != NULL, NULL },
		{ "table_exists", vt->table_exists != NULL, NULL },
		{ "read_rows", vt->read_rows != NULL, NULL },
		{ "drop_table", vt->drop_table != NULL, NULL },
		{ "apply", vt->apply != NULL, NULL },
		{ "lock", vt->lock != NULL || !(vt->caps & DBMIGRATE_CAP_LOCK),
		  "it declares DBMIGRATE_CAP_LOCK" },
		{ "unlock", vt->unlock != NULL || !(vt->caps & DBMIGRATE_CAP_LOCK),
		  "it declares DBMIGRATE_CAP_LOCK" },
		{ "cancel", vt->cancel != NULL || !(vt->caps & DBMIGRATE_CAP_CANCEL),
		  "it declares DBMIGRATE_CAP_CANCEL" },
		{ "record_progress",
		  vt->record_progress != NULL ||
			  (vt->caps & DBMIGRATE_CAP_TRANSACTIONAL_DDL),
		  "its DDL commits on its own (no DBMIGRATE_CAP_TRANSACTIONAL_DDL), so the core records how far a migration got" },
	};

	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (ops[i].present)
			continue;
		errors_set(err, DBMIGRATE_ECONNECT,
			   "driver %s lacks the mandatory operation %s()",
			   name, ops[i].op);
		if (ops[i].why != NULL)
			errors_detail(err, "The driver needs %s() because %s.",
				      ops[i].op, ops[i].why);
		else
			errors_detail(err, "Every driver implements split, "
					   "open, close, begin, commit, "
					   "rollback, ensure_table, "
					   "table_exists, read_rows, "
					   "drop_table and apply.");
		errors_hint(err, "Fix the driver; drivers/mock/mock.c is the "
				 "template.");
		return DBMIGRATE_ECONNECT;
	}
	return DBMIGRATE_OK;
}

dbmigrate_code driver_check(const struct dbmigrate_driver *vt,
			    const char *name, const char *path,
			    dbmigrate_error *err)
{
	static const char rebuild[] =
		"Rebuild the driver against the dbmigrate/driver.h of this "
		"dbmigrate, or reinstall dbmigrate and its drivers together.";
	size_t need;

	/* The version comes first: in a block of another ABI, the members
	   after it may not even be where this one expects them. */
	if (vt->abi_version >= 1 && vt->abi_version < DBMIGRATE_DRIVER_ABI_MIN) {
		errors_set(err, DBMIGRATE_ECONNECT,
			   "driver %s was built for driver ABI %u, which this "
			   "dbmigrate no longer loads",
			   name, vt->abi_version);
		errors_detail(err, "%s declares abi_version %u. Driver ABI %u "
				   "moved the SQL dialect into the driver (how "
				   "statements split, which ones cannot run in "
				   "a transaction), which a driver of ABI %u "
				   "cannot answer for; this dbmigrate loads ABI "
				   "%u to %u.",
			      path, vt->abi_version, DBMIGRATE_DRIVER_ABI_MIN,
			      vt->abi_version, DBMIGRATE_DRIVER_ABI_MIN,
			      DBMIGRATE_DRIVER_ABI_VERSION);
		errors_hint(err, "%s", rebuild);
		return DBMIGRATE_ECONNECT;
	}
	if (vt->abi_version < DBMIGRATE_DRIVER_ABI_MIN ||
	    vt->abi_version > DBMIGRATE_DRIVER_ABI_VERSION) {
		errors_set(err, DBMIGRATE_ECONNECT,
			   "driver %s was built for driver ABI %u, this "
			   "dbmigrate loads ABI %u to %u",
			   name, vt->abi_version, DBMIGRATE_DRIVER_ABI_MIN,
			   DBMIGRATE_DRIVER_ABI_VERSION);
		errors_detail(err, "%s declares abi_version %u; this dbmigrate "
				   "accepts %u to %u.",
			      path, vt->abi_version, DBMIGRATE_DRIVER_ABI_MIN,
			      DBMIGRATE_DRIVER_ABI_VERSION);
		errors_hint(err, "%s", rebuild);
		return DBMIGRATE_ECONNECT;
	}
	/* Every driver of ABI 4, the oldest loaded, has the whole struct of
	   ABI 4. Members a later ABI appends count as NULL beyond a
	   driver's end (DRIVER_OP). */
	need = offsetof(struct dbmigrate_driver, read_table) +
	       sizeof vt->read_table;
	if (vt->struct_size < need) {
		errors_set(err, DBMIGRATE_ECONNECT,
			   "driver %s has a truncated vtable", name);
		errors_detail(err, "%s declares struct_size %zu, but driver "
				   "ABI %u needs at least %zu bytes.",
			      path, vt->struct_size, vt->abi_version, need);
		errors_hint(err, "%s", rebuild);
		return DBMIGRATE_ECONNECT;
	}
	if (vt->name == NULL || strcmp(vt->name, name) != 0) {
		errors_set(err, DBMIGRATE_ECONNECT,
			   "driver file %s calls itself \"%s\", not \"%s\"",
			   path, vt->name != NULL ? vt->name : "", name);
		errors_detail(err, "The name in a driver's vtable must equal "
				   "its file name without .so.");
		errors_hint(err, "Rename the file after the driver, or "
				 "rebuild the driver with the right name.");
		return DBMIGRATE_ECONNECT;
	}
	return driver_check_ops(vt, name, err);
}

/* dlopen path (a regular file) as driver name, check it, fill d. */
static dbmigrate_code driver_load_file(const char *name, const char *path,
				       struct driver *d, dbmigrate_error *err)
{
	const struct dbmigrate_driver *vt;
	dbmigrate_driver_entry_fn entry;
	void *handle, *sym;
	char *copy;
	const char *why;
	dbmigrate_code rc;

	/* RTLD_NOW: a missing symbol fails here, with a message, rather
	   than in the middle of a migration. RTLD_LOCAL: a driver's
	   symbols (and its libpq) stay out of the global namespace. */
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		why = dlerror();
		errors_set(err, DBMIGRATE_ECONNECT,
			   "cannot load driver %s from %s", name, path);
		errors_detail(err, "%s", why != NULL ? why : "dlopen failed");
		errors_hint(err, "Check its dependencies with ldd(1): ldd %s",
			    path);
		return DBMIGRATE_ECONNECT;
	}
	dlerror();
	sym = dlsym(handle, DBMIGRATE_DRIVER_ENTRY_SYMBOL);
	if (sym == NULL) {
		errors_set(err, DBMIGRATE_ECONNECT,
			   "%s is not a dbmigrate driver", path);
		errors_detail(err, "It does not export the function "
				   "%s().",
			      DBMIGRATE_DRIVER_ENTRY_SYMBOL);
		errors_hint(err, "A driver defines its entry point with "
				 "DBMIGRATE_DRIVER_DEFINE() from "
				 "dbmigrate/driver.h.");
		return DBMIGRATE_ECONNECT;
	}
	/* POSIX guarantees a function's address survives the trip through
	   void *; memcpy avoids the object-to-function pointer cast. */
	memcpy(&entry, &sym, sizeof entry);
	vt = entry();
	if (vt == NULL) {
		errors_set(err, DBMIGRATE_ECONNECT,
			   "driver %s returned no vtable", name);
		errors_detail(err, "%s() in %s returned NULL.",
			      DBMIGRATE_DRIVER_ENTRY_SYMBOL, path);
		errors_hint(err, "Fix the driver; drivers/mock/mock.c is the "
				 "template.");
		return DBMIGRATE_ECONNECT;
	}
	rc = driver_check(vt, name, path, err);
	if (rc != DBMIGRATE_OK)
		return rc;
	copy = strdup(path);
	if (copy == NULL)
		return errors_nomem(err);
	d->vt = vt;
	d->path = copy;
	d->conn = NULL;
	return DBMIGRATE_OK;
}

/* True when the driver vt lists scheme among its URL schemes. */
static int driver_serves(const struct dbmigrate_driver *vt, const char *scheme)
{
	for (size_t i = 0; vt->schemes != NULL && vt->schemes[i] != NULL; i++)
		if (strcmp(vt->schemes[i], scheme) == 0)
			return 1;
	return 0;
}

/* True when one of a and b (b of blen bytes) begins the other:
   "postgres" and "postgresql", "sqlite" and "sqlite3". */
static int driver_related(const char *a, const char *b, size_t blen)
{
	size_t alen = strlen(a), n = alen < blen ? alen : blen;

	return n > 0 && strncmp(a, b, n) == 0;
}

/*
 * Load the driver that lists scheme among its URL schemes, looking at
 * every loadable driver of the search path in order; the drivers whose
 * name and the scheme begin one another (postgres for postgresql) are
 * tried first, so that the usual aliases load only the driver they
 * name. DBMIGRATE_EUNSUPPORTED (err untouched) when none serves it. A
 * driver loaded to be asked stays loaded, as every driver does.
 */
static dbmigrate_code driver_load_scheme(const struct driver_path *dp,
					 const char *scheme, struct driver *d,
					 dbmigrate_error *err)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < dp->n; i++) {
			char *dir = driver_join(&dp->v[i], "", 0);
			char **files = NULL;
			size_t n = 0;
			int nomem = dir == NULL, found = 0;

			if (dir != NULL)
				files = driver_scan(dir, &n, &nomem);
			for (size_t j = 0; j < n; j++) {
				size_t nlen = strlen(files[j]) - 3;
				dbmigrate_error e = { .code = DBMIGRATE_OK };
				struct driver cand = { 0 };
				char *path;

				if (found || nomem || !driver_valid_name(files[j], nlen) ||
				    driver_related(scheme, files[j], nlen) != (pass == 0)) {
					free(files[j]);
					continue;
				}
				path = driver_join(&dp->v[i], files[j], nlen + 3);
				files[j][nlen] = '\0';
				if (path == NULL)
					nomem = 1;
				else if (driver_stat(path, &e) == 0 &&
					 driver_load_file(files[j], path, &cand,
							  &e) == DBMIGRATE_OK) {
					if (driver_serves(cand.vt, scheme)) {
						*d = cand;
						found = 1;
					} else {
						free(cand.path);
					}
				}
				errors_clear(&e);
				free(path);
				free(files[j]);
			}
			free(files);
			free(dir);
			if (nomem)
				return errors_nomem(err);
			if (found)
				return DBMIGRATE_OK;
		}
	}
	return DBMIGRATE_EUNSUPPORTED;
}

dbmigrate_code driver_load(const char *name, struct driver *d,
			   dbmigrate_error *err)
{
	struct driver_path dp;
	struct strbuf where = STRBUF_INIT;
	char file[256];
	size_t nlen = strlen(name);
	dbmigrate_code rc = DBMIGRATE_OK;

	if (!driver_valid_name(name, nlen) || nlen + 4 > sizeof file) {
		errors_set(err, DBMIGRATE_ECONNECT, "invalid driver name \"%s\"",
			   name);
		errors_hint(err, "A driver name is lowercase letters, digits "
				 "and underscores, as `dbmigrate drivers` lists "
				 "them; "
				 "it is looked up as NAME.so in the driver "
				 "directories, never as a path.");
		return DBMIGRATE_ECONNECT;
	}
	memcpy(file, name, nlen);
	memcpy(file + nlen, ".so", 4);
	if (!driver_path_init(&dp)) {
		driver_path_free(&dp);
		return errors_nomem(err);
	}
	for (size_t i = 0; i < dp.n; i++) {
		char *path = driver_join(&dp.v[i], file, nlen + 3);
		int r;

		if (path == NULL) {
			strbuf_free(&where);
			driver_path_free(&dp);
			return errors_nomem(err);
		}
		r = driver_stat(path, err);
		if (r == 0)
			rc = driver_load_file(name, path, d, err);
		free(path);
		if (r <= 0) {
			strbuf_free(&where);
			driver_path_free(&dp);
			return r == 0 ? rc : DBMIGRATE_ECONNECT;
		}
		if (i > 0)
			strbuf_puts(&where, i + 1 < dp.n ? ", " : " and ");
		strbuf_add(&where, dp.v[i].s, dp.v[i].len);
	}
	if (strbuf_failed(&where)) {
		strbuf_free(&where);
		driver_path_free(&dp);
		return errors_nomem(err);
	}
	/* Not a driver's name: perhaps one of the URL schemes a driver
	   serves besides its name (postgresql://). */
	rc = driver_load_scheme(&dp, name, d, err);
	if (rc != DBMIGRATE_EUNSUPPORTED) {
		strbuf_free(&where);
		driver_path_free(&dp);
		return rc;
	}
	errors_set(err, DBMIGRATE_ECONNECT, "driver \"%s\" not found", name);
	if (dp.ignored.len > 0)
		errors_detail(err, "Looked for %s in %s. Relative entries of "
				   "DBMIGRATE_DRIVER_PATH are ignored: %s.",
			      file, where.s, dp.ignored.s);
	else
		errors_detail(err, "Looked for %s in %s.", file, where.s);
	errors_hint(err, "Run `dbmigrate drivers` to see the drivers it can "
			 "load, or add the directory holding %s to "
			 "DBMIGRATE_DRIVER_PATH.",
		    file);
	strbuf_free(&where);
	driver_path_free(&dp);
	return DBMIGRATE_ECONNECT;
}

/* qsort comparison of two strings. */
static int driver_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.so names of dir, sorted; *n of them. NULL with *n = 0 when the
   directory cannot be read; *nomem when out of memory. */
static char **driver_scan(const char *dir, size_t *n, int *nomem)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (dh == NULL)
		return NULL;
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);
		char *copy;

		if (len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		if (!array_grow(&v, &cap, *n, sizeof *v, 16))
			break;
		if ((copy = strdup(de->d_name)) == NULL)
			break;
		v[(*n)++] = copy;
	}
	if (de != NULL)
		*nomem = 1;
	closedir(dh);
	if (*n > 1)
		qsort(v, *n, sizeof *v, driver_cmp);
	return v;
}

/* The path among seen (nseen of them) of a file named file, or NULL. */
static const char *driver_seen(char *const *seen, size_t nseen,
			       const char *file)
{
	for (size_t i = 0; i < nseen; i++) {
		const char *base = strrchr(seen[i], '/');

		if (strcmp(base != NULL ? base + 1 : seen[i], file) == 0)
			return seen[i];
	}
	return NULL;
}

/* Report one candidate file to fn; seen holds the paths of the files
   found earlier in the search order, which hide later namesakes. */
static void driver_list_one(const char *file, const char *path,
			    char *const *seen, size_t nseen,
			    driver_list_fn fn, void *ctx)
{
	dbmigrate_error err = { .code = DBMIGRATE_OK };
	struct driver d = { 0 };
	size_t nlen = strlen(file) - 3;
	const char *first = driver_seen(seen, nseen, file);
	const char *desc = "", *problem = NULL;
	char *name = strdup(file), *full = NULL;

	if (name == NULL)
		return;
	name[nlen] = '\0';
	if (first != NULL) {
		errors_set(&err, DBMIGRATE_ECONNECT,
			   "hidden by %s, found first", first);
	} else if (!driver_valid_name(name, nlen)) {
		errors_set(&err, DBMIGRATE_ECONNECT,
			   "\"%s\" is not a valid driver name (lowercase "
			   "letters, digits and underscores)",
			   name);
	} else if (driver_stat(path, &err) == 0 &&
		   driver_load_file(name, path, &d, &err) == DBMIGRATE_OK) {
		if (d.vt->description != NULL)
			desc = d.vt->description;
	}
	if (err.code != DBMIGRATE_OK) {
		struct strbuf b = STRBUF_INIT;

		/* One line: the detail carries dlerror() and the like. */
		if (err.detail != NULL &&
		    strbuf_printf(&b, "%s: %s", err.message, err.detail))
			full = strbuf_steal(&b);
		problem = full != NULL ? full : err.message;
	}
	fn(name, path, desc, problem, ctx);
	free(full);
	free(d.path);
	free(name);
	errors_clear(&err);
}

dbmigrate_code driver_list(driver_list_fn fn, void *ctx)
{
	struct driver_path dp;
	char **seen = NULL;
	size_t nseen = 0, cap = 0;
	int nomem = 0;

	if (!driver_path_init(&dp)) {
		driver_path_free(&dp);
		return DBMIGRATE_ENOMEM;
	}
	for (size_t i = 0; i < dp.n && !nomem; i++) {
		char *dir = driver_join(&dp.v[i], "", 0);
		char **files = NULL;
		size_t n = 0;

		if (dir == NULL)
			nomem = 1;
		else
			files = driver_scan(dir, &n, &nomem);
		for (size_t j = 0; j < n; j++) {
			char *path = NULL;

			if (!nomem && nseen == cap) {
				size_t ncap = cap == 0 ? 16 : cap * 2;
				char **nv = realloc(seen, ncap * sizeof *nv);

				if (nv != NULL) {
					seen = nv;
					cap = ncap;
				}
			}
			if (!nomem && nseen < cap)
				path = driver_join(&dp.v[i], files[j],
						   strlen(files[j]));
			if (path != NULL) {
				driver_list_one(files[j], path, seen, nseen,
						fn, ctx);
				seen[nseen++] = path;
			} else {
				nomem = 1;
			}
			free(files[j]);
		}
		free(files);
		free(dir);
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	driver_path_free(&dp);
	return nomem ? DBMIGRATE_ENOMEM : DBMIGRATE_OK;
}
