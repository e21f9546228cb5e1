/*
 * migration.h - a migration as the core knows it, and the functions that
 * find migrations in a directory (discover.c), read and parse them
 * (migration.c, parse-sql.c, parse-js.c) and name them (name.c).
 *
 * Life of a migration: discover_dir() lists the directory and turns file
 * names into migrations (id, number, name, paths), rejecting malformed
 * names and duplicate numbers; migration_load() then reads the file(s),
 * checks the text, computes the checksum and parses the up and down
 * sections with the parser of its format.
 */
#ifndef DBMIGRATE_MIGRATION_H
#define DBMIGRATE_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbmigrate.h"

/* Ids are at most this many digits, so the number fits in a uint64_t. */
#define MIGRATION_MAX_DIGITS 18

enum migration_format {
	MIGRATION_FORMAT_SQL,  /* NNN_name.sql with -- migrate:up / down */
	MIGRATION_FORMAT_JS,   /* NNN_name.ts or .js, export const up = `...` */
	MIGRATION_FORMAT_PAIR  /* NNN_name.up.sql + NNN_name.down.sql */
};

/* A byte range of a body's sql. */
struct migration_segment {
	size_t offset;
	size_t len;
};

/* The SQL of one direction, and where it sits in its file. */
struct migration_body {
	bool present;     /* the file defines this direction */
	char *sql;        /* NUL-terminated; points into the file text
			     unless owned */
	size_t len;
	bool owned;       /* sql was allocated (JS unescaping) rather than
			     pointing into the file text */
	bool verbatim;    /* sql is a byte-exact slice of the file text, so
			     offsets map one to one */
	const char *path; /* the file it comes from (points into migration) */
	size_t offset;    /* byte offset of sql[0] in that file's text */
	unsigned line;    /* 1-based line of sql[0] in that file */
	unsigned column;  /* 1-based column (bytes) of sql[0] */
	/* Byte ranges of sql that are one statement each, whatever the
	   driver's splitter would make of them (goose's StatementBegin ...
	   StatementEnd); sorted, not overlapping; NULL when none. */
	const struct migration_segment *whole;
	size_t nwhole;
};

struct migration {
	char *id;         /* digit string as written: "001" */
	uint64_t number;  /* its numeric value; order and identity */
	char *name;       /* "create_users_table" */
	char *label;      /* "001_create_users_table" */
	char *path;       /* the file; the .up.sql of a pair */
	char *down_path;  /* the .down.sql of a pair, else NULL */
	enum migration_format format;

	bool loaded;      /* migration_load() succeeded */
	char *text;       /* contents of path, NUL-terminated; the .sql
			     parser ends the up body in place with a NUL
			     over the first byte of the down marker line */
	size_t text_len;
	char *down_text;  /* contents of down_path (pairs) */
	size_t down_text_len;

	struct migration_body up;
	struct migration_body down;
	bool no_transaction;          /* transaction:false declared */
	unsigned no_transaction_line; /* where it was declared */
	char checksum[65];            /* hex SHA-256, "" until loaded */
};

/* The migrations of a directory, sorted by number. */
struct migration_set {
	char *dir;
	struct migration *v;
	size_t n;
};

/* What a file name is. */
enum name_kind {
	NAME_IGNORED,   /* not a migration: README, dotfiles, no leading digit */
	NAME_MIGRATION, /* a migration file */
	NAME_MALFORMED  /* starts with a digit but is not a valid name */
};

/* The role of a migration file within its migration. */
enum name_role { NAME_ROLE_SQL, NAME_ROLE_JS, NAME_ROLE_UP, NAME_ROLE_DOWN };

struct name_info {
	char id[MIGRATION_MAX_DIGITS + 1]; /* digits as written */
	uint64_t number;
	const char *name; /* points into the file name */
	size_t name_len;
	enum name_role role;
};

/*
 * Classify a file name (no directory part). For NAME_MALFORMED, *why gets
 * a static sentence saying what is wrong and how a good name looks.
 */
enum name_kind name_parse(const char *filename, struct name_info *out,
			  const char **why);

/*
 * List dir and fill out with its migrations (not loaded), sorted by
 * number. Malformed names, duplicate numbers (other than an up/down
 * pair), a .down.sql without its .up.sql, and unreadable entries are
 * DBMIGRATE_EFILES errors naming the file and the fix. A missing
 * directory is DBMIGRATE_EFILES with a hint to run `dbmigrate init`.
 */
dbmigrate_code discover_dir(const char *dir, struct migration_set *out,
			    dbmigrate_error *err);

/*
 * Read m's file(s), check the text (no NUL bytes, valid UTF-8), compute
 * the checksum and parse both directions by format. Errors are
 * DBMIGRATE_EFILES (or EIO) with file, line and column set.
 */
dbmigrate_code migration_load(struct migration *m, dbmigrate_error *err);

/*
 * migration_load() for every migration of s (select NULL), or those
 * whose select[i] is true, in order, stopping at the first failure.
 * Cheaper than one call each: they share one hashing context.
 */
dbmigrate_code migration_load_set(struct migration_set *s, const bool *select,
				  dbmigrate_error *err);

/*
 * What `status` needs of every migration of s: its checksum, whether it
 * has a down section, transaction:false. A file the status cache in
 * directory cache_dir knows unchanged (src/cache.h) is not read: it is
 * left unloaded (no text, no bodies) with those three set. Others are
 * loaded as migration_load_set() does, and remembered. cache_dir NULL:
 * no cache, every file is loaded.
 */
dbmigrate_code migration_load_status(struct migration_set *s,
				     const char *cache_dir,
				     dbmigrate_error *err);

/* Parse m->text as the .sql format (parse-sql.c). */
dbmigrate_code parse_sql(struct migration *m, dbmigrate_error *err);

/* Parse m->text as the .ts/.js format (parse-js.c). */
dbmigrate_code parse_js(struct migration *m, dbmigrate_error *err);

/* Find the migration numbered number, or NULL. */
struct migration *migration_set_find(const struct migration_set *s,
				     uint64_t number);

/* Free one migration's members. */
void migration_free(struct migration *m);

/* Point err (file, line, column, source line) at byte off of body b. */
void migration_locate(dbmigrate_error *err, const struct migration *mig,
		      const struct migration_body *b, size_t off);

/* Free the set's members and reset it. */
void migration_set_free(struct migration_set *s);

/*
 * Parse an id string (digits only, 1..18 of them) into *number.
 * Returns false when it is not one.
 */
bool migration_parse_id(const char *id, uint64_t *number);

#endif
