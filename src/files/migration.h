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

/* A name (the part after the id) is at most this many bytes: the
   tracking table's name column is VARCHAR(255). */
#define MIGRATION_MAX_NAME 255

enum migration_format {
	MIGRATION_FORMAT_SQL,    /* NNN_name.sql with -- migrate:up / down, or
				    goose's -- +goose Up / Down (told by the
				    first annotation, parse-goose.c) */
	MIGRATION_FORMAT_JS,     /* NNN_name.ts or .js, export const up = `...` */
	MIGRATION_FORMAT_PAIR,   /* NNN_name.up.sql + NNN_name.down.sql */
	MIGRATION_FORMAT_FLYWAY  /* V<version>__name.sql + U<version>__name.sql,
				    or R__name.sql (parse-flyway.c) */
};

/* A byte range of body->sql that is one statement. */
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
	/* Ranges of sql sent as one statement each, whatever the backend's
	   splitter would make of them (goose's StatementBegin/End): sorted,
	   non-overlapping; NULL/0 when none. The text between them is split
	   as usual; a range's trailing white space and one final ';' are
	   not sent. */
	const struct migration_segment *whole;
	size_t nwhole;
	bool whole_owned; /* whole was allocated by the parser */
};

/*
 * Ids. A versioned migration's id is its version as written in the file
 * name: "001", "20240101120000", Flyway's "1.1" or "2_1". Versions are
 * compared part by part as numbers ('.' and '_' separate parts, missing
 * parts count as 0): 1 < 1.2 < 1.10 < 2, and 001 == 1 == 1.0. A
 * repeatable migration (Flyway's R__name.sql) has the id "R__name" and
 * comes after every versioned one, repeatables ordered by name.
 */
struct migration {
	char *id;         /* as written: "001", "1.1", "R__views" */
	uint64_t number;  /* the value of the id's first part (saturated);
			     0 for a repeatable; `create` counts from it */
	bool repeatable;  /* R__name.sql: applied after the versioned
			     ones, again whenever its checksum changes */
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

/* The migrations of a directory, in migration_id_cmp() order. */
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
enum name_role {
	NAME_ROLE_SQL,       /* NNN_name.sql */
	NAME_ROLE_JS,        /* NNN_name.ts, .js */
	NAME_ROLE_UP,        /* NNN_name.up.sql */
	NAME_ROLE_DOWN,      /* NNN_name.down.sql */
	NAME_ROLE_FLYWAY_V,  /* V<version>__name.sql */
	NAME_ROLE_FLYWAY_U,  /* U<version>__name.sql, the undo of a V */
	NAME_ROLE_REPEATABLE /* R__name.sql */
};

struct name_info {
	const char *id;   /* points into the file name: the version as
			     written, or "R__name" for a repeatable */
	size_t id_len;
	uint64_t number;  /* the id's first part (saturated) */
	const char *name; /* points into the file name */
	size_t name_len;
	enum name_role role;
};

/*
 * Classify a file name (no directory part). A name starting with a
 * digit, V or U and a digit, R__, or a Flyway callback's name is meant
 * to be a migration: it is NAME_MIGRATION or NAME_MALFORMED, never
 * ignored. For NAME_MALFORMED, *why gets a static sentence saying what
 * is wrong and how a good name looks.
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

struct checksum;

/*
 * Read, check, checksum (with ck, from checksum_new()) and parse one
 * migration, as migration_load_set() does for each; on failure m is
 * left unloaded.
 */
dbmigrate_code migration_load_with(struct migration *m, struct checksum *ck,
				   dbmigrate_error *err);

/* Parse m->text as the .sql format (parse-sql.c). */
dbmigrate_code parse_sql(struct migration *m, dbmigrate_error *err);

/* Parse m->text as the .ts/.js format (parse-js.c). */
dbmigrate_code parse_js(struct migration *m, dbmigrate_error *err);

/* True when the text of a .sql file's first annotation is goose's. */
bool parse_goose_detect(const char *text, size_t len);

/* Parse m->text as a goose file, -- +goose Up / Down (parse-goose.c). */
dbmigrate_code parse_goose(struct migration *m, dbmigrate_error *err);

/*
 * The StatementBegin/End ranges of goose SQL sql[0, len) that is no
 * file's (the down SQL a tracking row kept): *out (free it) gets the
 * ranges, *n their count; 0 and NULL when there is none. False when out
 * of memory.
 */
bool parse_goose_segments(const char *sql, size_t len,
			  struct migration_segment **out, size_t *n);

/* Parse a Flyway migration (V with its U, or R) (parse-flyway.c). */
dbmigrate_code parse_flyway(struct migration *m, dbmigrate_error *err);

/*
 * Flyway's checksum of text[0, len): CRC-32 of the bytes of each line
 * without its line break (\n, \r\n or \r), a UTF-8 byte order mark
 * at the start left out, as the signed 32-bit number Flyway stores.
 */
long parse_flyway_checksum(const char *text, size_t len);

/* Find the migration whose id means the same as id, or NULL. */
struct migration *migration_set_find(const struct migration_set *s,
				     const char *id);

/* Free one migration's members. */
void migration_free(struct migration *m);

/*
 * Offset of the first byte of s[0, n) that is neither white space nor
 * inside a -- or (nested) block comment; n when there is none: where a
 * body's SQL starts, for the parsers. An unterminated block comment runs
 * to the end; the statement splitter reports it when it matters.
 */
size_t migration_code_start(const char *s, size_t n);

/* Line (1-based) and column (bytes) of offset off of s. */
void migration_line_col(const char *s, size_t off, unsigned *line,
			unsigned *column);

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

/* True when s[0, len) is a version: runs of digits separated by single
   '.' or '_' characters ("001", "1.1", "2_1"). */
bool migration_is_version(const char *s, size_t len);

/* Compare versions a and b part by part as numbers (see above): <0, 0
   or >0. Both must be migration_is_version(). */
int migration_version_cmp(const char *a, size_t alen, const char *b,
			  size_t blen);

/* The kind of an id: 0 a version, 1 a repeatable's ("R__name"), 2 any
   other text (a tracking row no file name could give). */
int migration_id_class(const char *id);

/* The order of ids: versions by migration_version_cmp(), then
   repeatables, then other text, each by strcmp(). 0: the same
   migration. */
int migration_id_cmp(const char *a, const char *b);

#endif
