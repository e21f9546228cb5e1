/*
 * segments.h - splitting a body into statements where some ranges of it
 * must go whole (goose's StatementBegin/End, struct migration_body's
 * whole): the text between the ranges goes through the lexer, each
 * range is one statement. A bridge until the driver owns the splitting
 * (driver ABI 4); the runner and lint both call it.
 */
#ifndef DBMIGRATE_SEGMENTS_H
#define DBMIGRATE_SEGMENTS_H

#include "lexer.h"
#include "migration.h"

/*
 * lexer_split() of b's SQL, honouring b->whole: each range is one
 * statement, without leading white space and -- comments, trailing
 * white space and one final ';' (a range of nothing else is dropped).
 * Offsets are in b->sql, as lexer_split() gives them.
 */
enum lexer_status segments_split(const struct migration_body *b,
				 struct lexer_result *out,
				 struct lexer_error *err);

#endif
