/*
 * create.h - `dbmigrate create NAME`: the next number, a snake_case name,
 * a new NNN_name.sql with empty up and down sections, never overwriting.
 */
#ifndef DBMIGRATE_CREATE_H
#define DBMIGRATE_CREATE_H

#include "dbmigrate.h"
#include "migration.h"

/*
 * NAME in lowercase snake_case: letters and digits kept (lowercased),
 * CamelCase split ("AddUsers" -> "add_users"), runs of anything else
 * become one '_', no leading or trailing '_'. NULL when nothing is left
 * or out of memory (*why says which).
 */
char *create_snake_case(const char *name, const char **why);

/*
 * The id for a new migration after those in set: max + 1, written with
 * at least 3 digits and at least as many as the widest existing id.
 * Fails when it would pass MIGRATION_MAX_DIGITS.
 */
dbmigrate_code create_next_id(const struct migration_set *set, char *out,
			      size_t n, dbmigrate_error *err);

/*
 * Create dir if missing, then write dir/ID_name.sql (O_EXCL). set holds
 * the migrations already in dir. *path_out (may be NULL) gets the path.
 */
dbmigrate_code create_migration(const char *dir,
				const struct migration_set *set,
				const char *name, char **path_out,
				dbmigrate_error *err);

#endif
