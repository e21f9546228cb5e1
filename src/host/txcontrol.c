/*
 * txcontrol.c - recognising the transaction control most SQL dialects
 * share (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, and the
 * two-phase and chained forms a batch cannot hold), from the words of a
 * statement. A service the host offers drivers
 * (host->classify_txcontrol): which statement is transaction control is
 * the driver's answer, and the core decides what to do with it from the
 * flags alone (split.c).
 */
#include "txcontrol.h"

#include "lexer.h"

/* What a statement does to the transaction, finer than the public kind. */
enum txcontrol_what {
	TXW_NONE,
	TXW_BEGIN,
	TXW_COMMIT,
	TXW_ABORT,
	TXW_CHAIN,    /* COMMIT AND CHAIN / END AND CHAIN */
	TXW_PREPARE,  /* PREPARE TRANSACTION */
	TXW_PREPARED  /* COMMIT PREPARED, ROLLBACK PREPARED */
};

/* Why each kind of statement is refused (static sentences). */
static const char txcontrol_why_chain[] =
	"COMMIT AND CHAIN would commit the batch half-way and carry on in a "
	"new transaction; remove it (dbmigrate runs each batch in a "
	"transaction) or mark the migration transaction:false.";
static const char txcontrol_why_prepare[] =
	"PREPARE TRANSACTION would take the batch transaction away for a "
	"two-phase commit that dbmigrate never finishes; remove it or mark "
	"the migration transaction:false.";
static const char txcontrol_why_prepared[] =
	"COMMIT PREPARED and ROLLBACK PREPARED cannot run inside a "
	"transaction block, so they would fail the batch; run them outside "
	"dbmigrate or in a migration marked transaction:false.";

/* The words of one statement under rules lex. */
#define TXCONTROL_WORDS 5

/* Index of the first word after an optional WORK or TRANSACTION. */
static size_t txcontrol_skip_noise(const struct dbmigrate_word *w, size_t n,
				   size_t k)
{
	if (k < n && (lexer_word_is(&w[k], "work") ||
		      lexer_word_is(&w[k], "transaction")))
		k++;
	return k;
}

/* True when words k.. say AND CHAIN (not AND NO CHAIN). */
static int txcontrol_chains(const struct dbmigrate_word *w, size_t n, size_t k)
{
	return k + 1 < n && lexer_word_is(&w[k], "and") &&
	       lexer_word_is(&w[k + 1], "chain");
}

/* What one statement does to the transaction. */
static enum txcontrol_what txcontrol_what(unsigned lex, const char *sql,
					  size_t len)
{
	struct dbmigrate_word w[TXCONTROL_WORDS];
	size_t n = lexer_words(lex, sql, len, w, TXCONTROL_WORDS);

	if (n == 0)
		return TXW_NONE;
	/* BEGIN ATOMIC only appears inside CREATE FUNCTION, never first. */
	if (lexer_word_is(&w[0], "begin"))
		return TXW_BEGIN;
	if (lexer_word_is(&w[0], "start"))
		return n > 1 && lexer_word_is(&w[1], "transaction") ? TXW_BEGIN
								    : TXW_NONE;
	if (lexer_word_is(&w[0], "commit") || lexer_word_is(&w[0], "end")) {
		if (n > 1 && lexer_word_is(&w[0], "commit") &&
		    lexer_word_is(&w[1], "prepared"))
			return TXW_PREPARED;
		return txcontrol_chains(w, n, txcontrol_skip_noise(w, n, 1))
			       ? TXW_CHAIN
			       : TXW_COMMIT;
	}
	if (lexer_word_is(&w[0], "rollback")) {
		size_t k = txcontrol_skip_noise(w, n, 1);

		if (n > 1 && lexer_word_is(&w[1], "prepared"))
			return TXW_PREPARED;
		/* ROLLBACK TO SAVEPOINT stays inside the transaction. */
		if (k < n && lexer_word_is(&w[k], "to"))
			return TXW_NONE;
		return TXW_ABORT;
	}
	if (lexer_word_is(&w[0], "abort"))
		return TXW_ABORT;
	if (lexer_word_is(&w[0], "prepare") && n > 1 &&
	    lexer_word_is(&w[1], "transaction"))
		return TXW_PREPARE;
	return TXW_NONE;
}

/* Classify one statement; see txcontrol.h. */
void txcontrol_classify(unsigned lex, const char *sql, size_t len,
			struct dbmigrate_stmt_class *out)
{
	switch (txcontrol_what(lex, sql, len)) {
	case TXW_BEGIN:
		out->flags |= DBMIGRATE_STMT_BEGIN;
		break;
	case TXW_COMMIT:
		out->flags |= DBMIGRATE_STMT_COMMIT;
		break;
	case TXW_ABORT:
		out->flags |= DBMIGRATE_STMT_ROLLBACK;
		break;
	case TXW_CHAIN:
		out->flags |= DBMIGRATE_STMT_TXCONTROL;
		out->reason = txcontrol_why_chain;
		break;
	case TXW_PREPARE:
		out->flags |= DBMIGRATE_STMT_TXCONTROL;
		out->reason = txcontrol_why_prepare;
		break;
	case TXW_PREPARED:
		out->flags |= DBMIGRATE_STMT_TXCONTROL;
		out->reason = txcontrol_why_prepared;
		break;
	case TXW_NONE:
		break;
	}
}
