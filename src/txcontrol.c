/*
 * txcontrol.c - transaction control written inside a migration. The seed
 * tells users to wrap each migration in BEGIN; ... COMMIT;, but dbmigrate
 * runs a whole batch in one transaction, where that COMMIT would commit
 * the batch half-way. A whole-body wrapper is therefore recognised and
 * left out; any other transaction control is refused before anything
 * runs, with a sentence saying what it would break and how to fix it.
 */
#include "txcontrol.h"

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
static const char txcontrol_why_commit_middle[] =
	"COMMIT in the middle of a migration would commit the batch "
	"half-way, so a later failure could no longer roll it back; remove "
	"it (dbmigrate runs each batch in a transaction) or mark the "
	"migration transaction:false.";
static const char txcontrol_why_commit_alone[] =
	"COMMIT at the end of a migration that does not start with BEGIN "
	"would commit the batch half-way; remove it (dbmigrate runs each "
	"batch in a transaction), wrap the whole migration in BEGIN; ... "
	"COMMIT;, or mark the migration transaction:false.";
static const char txcontrol_why_begin_open[] =
	"BEGIN at the start of a migration must be matched by COMMIT as its "
	"last statement, or the migration would not run the way it reads "
	"inside the batch transaction; end it with COMMIT, remove the BEGIN "
	"(dbmigrate runs each batch in a transaction), or mark the migration "
	"transaction:false.";
static const char txcontrol_why_begin_inner[] =
	"BEGIN after the first statement of a migration does not start a "
	"transaction (the batch transaction is already open), so the COMMIT "
	"or ROLLBACK meant for it would end the batch half-way; remove it or "
	"mark the migration transaction:false.";
static const char txcontrol_why_abort[] =
	"ROLLBACK in a migration would abort the whole batch, including the "
	"migrations before it, and let the statements after it run outside "
	"any transaction; remove it (a failing statement already rolls the "
	"batch back) or mark the migration transaction:false.";
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
static enum txcontrol_what txcontrol_what(const char *sql, size_t len)
{
	struct dbmigrate_word w[5];
	size_t n = lexer_words(sql, len, w, sizeof w / sizeof w[0]);

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
enum txcontrol_kind txcontrol_classify(const char *sql, size_t len)
{
	switch (txcontrol_what(sql, len)) {
	case TXW_BEGIN:
		return TXCONTROL_BEGIN;
	case TXW_COMMIT:
		return TXCONTROL_COMMIT;
	case TXW_ABORT:
		return TXCONTROL_ABORT;
	case TXW_CHAIN:
	case TXW_PREPARE:
	case TXW_PREPARED:
		return TXCONTROL_OTHER;
	case TXW_NONE:
		break;
	}
	return TXCONTROL_NONE;
}

/* What statement i of r does. */
static enum txcontrol_what txcontrol_at(const char *text,
					const struct lexer_result *r, size_t i)
{
	return txcontrol_what(text + r->v[i].offset, r->v[i].len);
}

/* Check the statements of one body; see txcontrol.h. */
int txcontrol_check(const char *text, const struct lexer_result *r,
		    size_t *first, size_t *count, int *unwrapped, size_t *bad,
		    const char **why)
{
	size_t n = r->n, lo = 0, hi = n;
	int opened = 0;

	*first = 0;
	*count = n;
	*unwrapped = 0;
	*bad = 0;
	*why = NULL;
	if (n > 0 && txcontrol_at(text, r, 0) == TXW_BEGIN) {
		opened = 1;
		lo = 1;
		if (n > 1 && txcontrol_at(text, r, n - 1) == TXW_COMMIT)
			hi = n - 1;
	}
	for (size_t i = lo; i < hi; i++) {
		const char *reason = NULL;

		switch (txcontrol_at(text, r, i)) {
		case TXW_NONE:
			continue;
		case TXW_BEGIN:
			reason = txcontrol_why_begin_inner;
			break;
		case TXW_COMMIT:
			reason = i == n - 1 && !opened
					 ? txcontrol_why_commit_alone
					 : txcontrol_why_commit_middle;
			break;
		case TXW_ABORT:
			reason = txcontrol_why_abort;
			break;
		case TXW_CHAIN:
			reason = txcontrol_why_chain;
			break;
		case TXW_PREPARE:
			reason = txcontrol_why_prepare;
			break;
		case TXW_PREPARED:
			reason = txcontrol_why_prepared;
			break;
		}
		*bad = i;
		*why = reason;
		return -1;
	}
	if (opened && hi == n) {
		/* BEGIN with no COMMIT closing the body (and nothing worse). */
		*bad = 0;
		*why = txcontrol_why_begin_open;
		return -1;
	}
	if (opened) {
		*first = 1;
		*count = n - 2;
		*unwrapped = 1;
	}
	return 0;
}
