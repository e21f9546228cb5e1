/*
 * check_layers.c - the core's includes run down its layers, never up,
 * and never in a circle. Every file of src/ belongs to a layer (the
 * table below, the same as HACKING.md's map) and sits in its layer's
 * folder (src/util/ ... src/api/); a file may include the
 * headers of its own layer and of those below it. A new file of src/
 * fails the test until it is given a layer, and an include that runs
 * back up (a parser including the status cache, a command's header
 * read by the layer below) fails it at once.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The layers' folders of src/, bottom first (the index is the layer). */
static const char *const layers_folders[] = { "util", "host", "files",
	"plan", "api" };

/* The layers, bottom first; a file's base name without .c or .h. The
   migrator's parts rank within api/ (4-8): handle < session < prepare,
   lint, verify < execute < migrator. */
static const struct {
	const char *name;
	int layer;
} layers_table[] = {
	/* 0: utilities that know nothing of migrations */
	{ "errors", 0 }, { "strbuf", 0 }, { "fsutil", 0 }, { "url", 0 },
	{ "dotenv", 0 }, { "checksum", 0 }, { "config", 0 },
	/* 1: the driver host: loading, calling, the lexical services */
	{ "lexer", 1 }, { "txcontrol", 1 }, { "driver", 1 },
	{ "driver-load", 1 },
	/* 2: migration files: names, formats, the status cache */
	{ "migration", 2 }, { "name", 2 }, { "discover", 2 },
	{ "parse-sql", 2 }, { "parse-js", 2 }, { "parse-goose", 2 },
	{ "parse-flyway", 2 }, { "directive", 2 }, { "create", 2 },
	{ "cache", 2 },
	/* 3: plans: files and rows merged, statements split, imports */
	{ "plan", 3 }, { "split", 3 }, { "import", 3 },
	/* 4-8 (api/): the migrator, handle to commands; lint and verify */
	{ "handle", 4 }, { "session", 5 }, { "prepare", 6 }, { "lint", 6 },
	{ "verify", 6 }, { "execute", 7 }, { "migrator", 8 },
};

#define LAYERS_MAX_FILES 128
#define LAYERS_MAX_INCLUDES 32

/* One file of src/ and the project headers it includes. */
struct layers_file {
	char base[64];          /* "plan" for plan.c and plan.h */
	char folder[16];        /* "plan" for src/plan/ */
	int is_header;
	int layer;              /* -1: not in the table */
	char inc[LAYERS_MAX_INCLUDES][64]; /* bases of included headers */
	size_t ninc;
};

/* The layer of base name b, or -1. */
static int layers_of(const char *b)
{
	for (size_t i = 0; i < sizeof layers_table / sizeof layers_table[0]; i++)
		if (strcmp(layers_table[i].name, b) == 0)
			return layers_table[i].layer;
	return -1;
}

/* The folder of src/ that holds layer l. */
static const char *layers_folder(int l)
{
	return layers_folders[l < 4 ? l : 4];
}

/* Read the #include "x.h" lines of path into f. */
static void layers_read(const char *path, struct layers_file *f)
{
	char line[512];
	FILE *fp = fopen(path, "r");

	ck_assert_msg(fp != NULL, "cannot read %s", path);
	while (fgets(line, sizeof line, fp) != NULL) {
		char name[64];

		if (sscanf(line, "#include \"%63[^\"]\"", name) != 1)
			continue;
		if (strchr(name, '/') != NULL || strcmp(name, "dbmigrate.h") == 0)
			continue; /* public headers: below everything */
		ck_assert(f->ninc < LAYERS_MAX_INCLUDES);
		name[strlen(name) - 2] = '\0'; /* drop .h */
		strcpy(f->inc[f->ninc++], name);
	}
	fclose(fp);
}

/* Read every .c and .h of dir (not its subdirectories) into v + n,
   each marked with folder; returns the new count. */
static size_t layers_scan_dir(const char *dir, const char *folder,
			      struct layers_file *v, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char path[1024];

		if (len < 3 || len > 60 || e->d_name[len - 2] != '.' ||
		    (e->d_name[len - 1] != 'c' && e->d_name[len - 1] != 'h'))
			continue;
		ck_assert(n < LAYERS_MAX_FILES);
		memset(&v[n], 0, sizeof v[n]);
		memcpy(v[n].base, e->d_name, len - 2);
		snprintf(v[n].folder, sizeof v[n].folder, "%s", folder);
		v[n].is_header = e->d_name[len - 1] == 'h';
		v[n].layer = layers_of(v[n].base);
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		layers_read(path, &v[n]);
		n++;
	}
	closedir(d);
	return n;
}

/* Read every file of src/ and of its layers' folders into v. */
static size_t layers_scan(const char *src, struct layers_file *v)
{
	char dir[1024];
	size_t n = layers_scan_dir(src, "", v, 0);

	for (size_t i = 0; i < sizeof layers_folders / sizeof layers_folders[0]; i++) {
		snprintf(dir, sizeof dir, "%s/%s", src, layers_folders[i]);
		n = layers_scan_dir(dir, layers_folders[i], v, n);
	}
	return n;
}

/* The upward includes and unplaced files of v, as lines in out. */
static size_t layers_check(const struct layers_file *v, size_t n, char *out,
			   size_t outsz)
{
	size_t bad = 0, used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (v[i].layer < 0) {
			used += (size_t)snprintf(out + used, outsz - used,
				"%s.%c has no layer: add it to layers_table "
				"(and HACKING.md's map)\n", v[i].base,
				v[i].is_header ? 'h' : 'c');
			bad++;
			continue;
		}
		if (strcmp(v[i].folder, layers_folder(v[i].layer)) != 0) {
			used += (size_t)snprintf(out + used, outsz - used,
				"%s.%c is in src/%s/, its layer's folder is "
				"src/%s/\n", v[i].base, v[i].is_header ? 'h' : 'c',
				v[i].folder, layers_folder(v[i].layer));
			bad++;
		}
		for (size_t k = 0; k < v[i].ninc && used < outsz; k++) {
			int l = layers_of(v[i].inc[k]);

			if (l > v[i].layer) {
				used += (size_t)snprintf(out + used, outsz - used,
					"%s.%c (layer %d) includes %s.h of layer %d, "
					"above it\n", v[i].base,
					v[i].is_header ? 'h' : 'c', v[i].layer,
					v[i].inc[k], l);
				bad++;
			}
		}
		if (used >= outsz)
			break;
	}
	return bad;
}

/* True when header h reaches itself through the headers' includes. */
static int layers_reaches(const struct layers_file *v, size_t n,
			  const char *from, const char *target, int depth)
{
	if (depth > 64)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].is_header || strcmp(v[i].base, from) != 0)
			continue;
		for (size_t k = 0; k < v[i].ninc; k++)
			if (strcmp(v[i].inc[k], target) == 0 ||
			    layers_reaches(v, n, v[i].inc[k], target, depth + 1))
				return 1;
	}
	return 0;
}

START_TEST(includes_run_down_the_layers)
{
	static struct layers_file v[LAYERS_MAX_FILES];
	char dir[1024], report[8192];
	size_t n;

	snprintf(dir, sizeof dir, "%s/src", tu_env("DBMIGRATE_SRCDIR"));
	n = layers_scan(dir, v);
	ck_assert_uint_gt(n, 40);
	ck_assert_msg(layers_check(v, n, report, sizeof report) == 0,
		      "includes against the layers:\n%s", report);
}
END_TEST

START_TEST(no_header_reaches_itself)
{
	static struct layers_file v[LAYERS_MAX_FILES];
	char dir[1024];
	size_t n;

	snprintf(dir, sizeof dir, "%s/src", tu_env("DBMIGRATE_SRCDIR"));
	n = layers_scan(dir, v);
	for (size_t i = 0; i < n; i++)
		if (v[i].is_header)
			ck_assert_msg(!layers_reaches(v, n, v[i].base, v[i].base, 0),
				      "%s.h includes itself through others: a circle",
				      v[i].base);
}
END_TEST

/* The check itself fails on what it must catch. */
START_TEST(the_rules_catch_an_upward_include)
{
	struct layers_file v[2];
	char report[1024];

	memset(v, 0, sizeof v);
	strcpy(v[0].base, "migration");
	strcpy(v[0].folder, "files");
	v[0].layer = layers_of("migration");
	strcpy(v[0].inc[v[0].ninc++], "cache"); /* same layer: allowed */
	strcpy(v[0].inc[v[0].ninc++], "handle"); /* above: refused */
	strcpy(v[1].base, "newfile");
	v[1].layer = layers_of("newfile");
	ck_assert_uint_eq(layers_check(v, 2, report, sizeof report), 2);
	strcpy(v[0].folder, "util");
	ck_assert_uint_eq(layers_check(v, 1, report, sizeof report), 2);
	ck_assert_ptr_nonnull(strstr(report, "migration.c is in src/util/, its layer's folder is src/files/"));
	strcpy(v[0].folder, "files");
	ck_assert_uint_eq(layers_check(v, 2, report, sizeof report), 2);
	ck_assert_ptr_nonnull(strstr(report, "migration.c (layer 2) includes handle.h"));
	ck_assert_ptr_nonnull(strstr(report, "newfile.c has no layer"));

	memset(v, 0, sizeof v);
	strcpy(v[0].base, "a");
	v[0].is_header = 1;
	strcpy(v[0].inc[v[0].ninc++], "b");
	strcpy(v[1].base, "b");
	v[1].is_header = 1;
	strcpy(v[1].inc[v[1].ninc++], "a");
	ck_assert(layers_reaches(v, 2, "a", "a", 0));
}
END_TEST

int main(void)
{
	const TTest *const core[] = {
		the_rules_catch_an_upward_include,
		includes_run_down_the_layers, no_header_reaches_itself, NULL
	};
	Suite *s = suite_create("layers");

	tu_tcase(s, "core", 0, core);
	return tu_run_suite(s);
}
