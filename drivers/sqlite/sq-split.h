/*
 * sq-split.h - SQLite's notion of where a statement ends, as a splitter
 * with byte offsets. Needs only the driver ABI's header (not
 * libsqlite3), so that the fuzz harness builds it alone and checks it
 * against sqlite3_complete().
 */
#ifndef DBMIGRATE_SQ_SPLIT_H
#define DBMIGRATE_SQ_SPLIT_H

#include <stddef.h>

#include "dbmigrate/driver.h"

/*
 * Split text (len bytes, not NUL-terminated) into statements exactly
 * where sqlite3_complete() says a statement is complete: at a semicolon
 * outside quotes ('x', "x", `x`, [x]) and comments (-- and block
 * comments, which do not nest), except inside a CREATE TRIGGER body,
 * which ends at "END;". Calls fn once per statement as the driver ABI's
 * split() documents; a last statement without its semicolon counts. An
 * unterminated quote, comment or trigger body is DBMIGRATE_EFILES with
 * err filled (offset: where the construct starts).
 */
dbmigrate_code sq_split_text(const char *text, size_t len,
			     dbmigrate_span_fn fn, void *ctx,
			     struct dbmigrate_split_error *err);

#endif
