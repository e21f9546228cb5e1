/*
 * txcontrol.h - the transaction control most SQL dialects share, as a
 * service for drivers' classify() (host->classify_txcontrol).
 */
#ifndef DBMIGRATE_TXCONTROL_H
#define DBMIGRATE_TXCONTROL_H

#include <stddef.h>

#include "dbmigrate/driver.h"

/*
 * Add to *out the DBMIGRATE_STMT_* flags of the transaction control most
 * SQL dialects share, read from the words of sql under the lexical rules
 * lex: BEGIN (any words after it) and START TRANSACTION; COMMIT and END;
 * ROLLBACK and ABORT (not ROLLBACK TO SAVEPOINT); and, refused with a
 * reason, COMMIT/END AND CHAIN, PREPARE TRANSACTION, COMMIT/ROLLBACK
 * PREPARED. A service for drivers (host->classify_txcontrol).
 */
void txcontrol_classify(unsigned lex, const char *sql, size_t len,
			struct dbmigrate_stmt_class *out);

#endif
