/*
 * my-split.c - MySQL's dialect: how the mysql client splits a script
 * into statements, and what each statement does to a transaction.
 *
 * Splitting follows the mysql client: ';' ends a statement outside
 * quotes and comments; '...' and "..." are strings with backslash
 * escapes and doubled quotes, `...` a name; '#' and "-- " (the space is
 * required) comment to the end of the line, block comments do not nest,
 * and an executable comment (a block comment opened with '!' and an
 * optional version number, or MariaDB's "M!") is code. A DELIMITER line, the client's own command,
 * changes the terminator and is never sent. With the terminator ';', the
 * body of a stored program (CREATE PROCEDURE, FUNCTION, TRIGGER, EVENT,
 * and MariaDB's BEGIN NOT ATOMIC) is kept whole by counting its
 * BEGIN ... END, IF ... END IF, CASE ... END, LOOP, WHILE, REPEAT and
 * FOR blocks, as the server's own parser does when a script is sent
 * whole; a file written with DELIMITER lines needs none of that.
 */
#include "my.h"

#include <string.h>

/* The longest terminator a DELIMITER line may set. */
#define MY_DELIM_MAX 16

/* Words of a statement's head that classify() and split() read. */
#define MY_HEAD_WORDS 12

/* The split of one text: what the scanner carries from byte to byte. */
struct my_scan {
	const unsigned char *t;
	size_t len;
	char delim[MY_DELIM_MAX + 1];
	size_t dlen;
	/* the statement being read */
	size_t start;      /* first byte of code, or SIZE_MAX: none yet */
	size_t code_end;   /* end of its last byte of code */
	size_t nwords;     /* words of it seen so far */
	int head_create;   /* its first word is CREATE or ALTER */
	int compound;      /* a stored program: count its blocks */
	int object_seen;   /* the object word after CREATE was seen */
	int depth;         /* open blocks */
	int at_start;      /* the next word starts an inner statement */
	int after_end;     /* the last word was END */
	int exec;          /* inside an executable comment */
	size_t exec_open;  /* where that comment opened */
	int begin_first;   /* the first word was BEGIN */
	int not_second;    /* ... and the second NOT */
};

/* ASCII lower case. */
static unsigned char my_lower(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch - 'A' + 'a') : ch;
}

/* True for a byte of an unquoted name (and of any UTF-8 sequence). */
static int my_is_word(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '$' || ch >= 0x80;
}

/* True for white space. */
static int my_is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\f' || ch == '\v';
}

/* True when the n bytes at s spell kw (lower case), in any case. */
static int my_word_is(const unsigned char *s, size_t n, const char *kw)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kw[i] == '\0' || my_lower(s[i]) != (unsigned char)kw[i])
			return 0;
	return kw[i] == '\0';
}

/* True when the -- at i starts a comment: MySQL wants white space or a
   control byte after it, or the end of the text. */
static int my_dash_comment(const struct my_scan *s, size_t i)
{
	return i + 1 < s->len && s->t[i] == '-' && s->t[i + 1] == '-' &&
	       (i + 2 >= s->len || s->t[i + 2] <= ' ');
}

/* End of the line at i (the offset of its '\n', or len). */
static size_t my_eol(const struct my_scan *s, size_t i)
{
	while (i < s->len && s->t[i] != '\n')
		i++;
	return i;
}

/*
 * End of the quoted string or name opened at i by q, or SIZE_MAX when it
 * does not end: a backslash escapes the next byte in strings (not in
 * `names`), and a doubled quote stands for itself.
 */
static size_t my_quote_end(const struct my_scan *s, size_t i, unsigned char q)
{
	for (i++; i < s->len; i++) {
		if (s->t[i] == '\\' && q != '`') {
			i++;
		} else if (s->t[i] == q) {
			if (i + 1 < s->len && s->t[i + 1] == q)
				i++;
			else
				return i + 1;
		}
	}
	return (size_t)-1;
}

/* True when the terminator starts at i (compared case-insensitively, as
   the mysql client does). */
static int my_at_delim(const struct my_scan *s, size_t i)
{
	if (i + s->dlen > s->len)
		return 0;
	for (size_t k = 0; k < s->dlen; k++)
		if (my_lower(s->t[i + k]) != my_lower((unsigned char)s->delim[k]))
			return 0;
	return 1;
}

/* Forget the statement just ended. */
static void my_scan_reset(struct my_scan *s)
{
	s->start = (size_t)-1;
	s->code_end = 0;
	s->nwords = 0;
	s->head_create = s->compound = s->object_seen = 0;
	s->depth = 0;
	s->at_start = 1;
	s->after_end = 0;
	s->begin_first = s->not_second = 0;
}

/* Note code at [i, end). */
static void my_scan_code(struct my_scan *s, size_t i, size_t end)
{
	if (s->start == (size_t)-1)
		s->start = i;
	s->code_end = end;
}

/* The first non-space byte at or after i, or 0 at the end. */
static unsigned char my_next_byte(const struct my_scan *s, size_t i)
{
	while (i < s->len && my_is_space(s->t[i]))
		i++;
	return i < s->len ? s->t[i] : 0;
}

/*
 * True when the IF at [i, end) starts an IF statement rather than
 * calling the IF() function: not followed by '(', or followed by a
 * parenthesised condition and THEN.
 */
static int my_if_statement(const struct my_scan *s, size_t end)
{
	size_t i = end;
	int level = 0;

	while (i < s->len && my_is_space(s->t[i]))
		i++;
	if (i >= s->len || s->t[i] != '(')
		return 1;
	for (; i < s->len; i++) {
		unsigned char ch = s->t[i];

		if (ch == '\'' || ch == '"' || ch == '`') {
			size_t e = my_quote_end(s, i, ch);

			if (e == (size_t)-1)
				return 0;
			i = e - 1;
		} else if (ch == '(') {
			level++;
		} else if (ch == ')' && --level == 0) {
			i++;
			break;
		}
	}
	while (i < s->len && my_is_space(s->t[i]))
		i++;
	return i + 4 <= s->len && my_word_is(s->t + i, 4, "then") &&
	       (i + 4 == s->len || !my_is_word(s->t[i + 4]));
}

/* Words that name what a CREATE or ALTER makes: the first of them says
   whether the statement is a stored program. */
static const char *const my_objects[] = {
	"table",    "view",	  "index",   "database", "schema",
	"user",	    "sequence",	  "role",    "server",	 "tablespace",
	"temporary", "unique",	  "fulltext", "spatial", "logfile",
	"online",   "offline",	  "ignore",  NULL};

static const char *const my_programs[] = {"procedure", "function", "trigger",
					  "event", "package", NULL};

/* True when the n bytes at w are one of the words of list. */
static int my_word_in(const unsigned char *w, size_t n,
		      const char *const *list)
{
	for (size_t k = 0; list[k] != NULL; k++)
		if (my_word_is(w, n, list[k]))
			return 1;
	return 0;
}

/* Take the word [i, end) into the statement's block count. */
static void my_scan_word(struct my_scan *s, size_t i, size_t end)
{
	const unsigned char *w = s->t + i;
	size_t n = end - i;
	int start = s->at_start, after_end = s->after_end;

	s->nwords++;
	s->at_start = 0;
	s->after_end = 0;
	if (s->nwords == 1) {
		s->head_create = my_word_is(w, n, "create") ||
				 my_word_is(w, n, "alter");
		s->begin_first = my_word_is(w, n, "begin");
		return;
	}
	if (s->begin_first && s->nwords == 2) {
		s->not_second = my_word_is(w, n, "not");
		return;
	}
	if (s->begin_first && s->not_second && s->nwords == 3) {
		if (my_word_is(w, n, "atomic")) {
			s->compound = 1;
			s->depth = 1;
			s->at_start = 1;
		}
		return;
	}
	if (s->head_create && !s->object_seen && s->nwords <= MY_HEAD_WORDS) {
		if (my_word_in(w, n, my_programs)) {
			s->compound = 1;
			s->object_seen = 1;
		} else if (my_word_in(w, n, my_objects)) {
			s->object_seen = 1;
		}
		return;
	}
	if (!s->compound)
		return;
	if (after_end && (my_word_is(w, n, "if") || my_word_is(w, n, "case") ||
			  my_word_is(w, n, "loop") ||
			  my_word_is(w, n, "while") ||
			  my_word_is(w, n, "repeat") || my_word_is(w, n, "for")))
		return; /* END IF, END LOOP...: closed by the END */
	if (my_word_is(w, n, "end")) {
		if (s->depth > 0)
			s->depth--;
		s->after_end = 1;
		return;
	}
	if (my_word_is(w, n, "begin") || my_word_is(w, n, "case")) {
		s->depth++;
		s->at_start = my_word_is(w, n, "begin");
		return;
	}
	if (start && (my_word_is(w, n, "loop") || my_word_is(w, n, "while") ||
		      my_word_is(w, n, "for") ||
		      (my_word_is(w, n, "repeat") && my_next_byte(s, end) != '(') ||
		      (my_word_is(w, n, "if") && my_if_statement(s, end)))) {
		s->depth++;
		s->at_start = my_word_is(w, n, "loop") ||
			      my_word_is(w, n, "repeat");
		return;
	}
	/* Inner statements start after these. */
	if (my_word_is(w, n, "then") || my_word_is(w, n, "else") ||
	    my_word_is(w, n, "do") || my_word_is(w, n, "row"))
		s->at_start = 1;
	/* A label ("name:"), not an assignment (":="). */
	if (my_next_byte(s, end) == ':') {
		size_t k = end;

		while (k < s->len && s->t[k] != ':')
			k++;
		if (k + 1 >= s->len || s->t[k + 1] != '=')
			s->at_start = start;
	}
}

/*
 * A DELIMITER line at i (the first word of a line, no statement begun):
 * set the terminator from its argument and return the end of the line,
 * or return i when it is not one. SIZE_MAX - 1 when its argument is
 * missing or too long.
 */
static size_t my_scan_delimiter(struct my_scan *s, size_t i)
{
	size_t e = i, a, b;

	while (e < s->len && my_is_word(s->t[e]))
		e++;
	if (!my_word_is(s->t + i, e - i, "delimiter") ||
	    (e < s->len && !my_is_space(s->t[e])))
		return i;
	for (size_t k = i; k > 0 && s->t[k - 1] != '\n'; k--)
		if (!my_is_space(s->t[k - 1]))
			return i; /* not the first word of its line */
	a = e;
	while (a < s->len && (s->t[a] == ' ' || s->t[a] == '\t'))
		a++;
	b = a;
	while (b < s->len && !my_is_space(s->t[b]))
		b++;
	if (b == a || b - a > MY_DELIM_MAX)
		return (size_t)-2;
	memcpy(s->delim, s->t + a, b - a);
	s->delim[b - a] = '\0';
	s->dlen = b - a;
	return my_eol(s, b);
}

/* Report the statement read so far, if any; nonzero when fn failed. */
static int my_scan_emit(struct my_scan *s, dbmigrate_span_fn fn, void *ctx)
{
	int r = 0;

	if (s->start != (size_t)-1)
		r = fn(ctx, s->start, s->code_end - s->start);
	my_scan_reset(s);
	return r;
}

/* Split a migration's text as the mysql client would; see driver.h. */
dbmigrate_code my_split(const struct dbmigrate_host *host, const char *text,
			size_t len, dbmigrate_span_fn fn, void *ctx,
			struct dbmigrate_split_error *err)
{
	struct my_scan s = {.t = (const unsigned char *)text, .len = len,
			    .delim = ";", .dlen = 1};
	size_t i = 0;

	(void)host;
	my_scan_reset(&s);
	while (i < len) {
		unsigned char ch = s.t[i];
		size_t e;

		if (my_is_space(ch)) {
			i++;
			continue;
		}
		if (s.start == (size_t)-1 && !s.exec &&
		    (ch == 'd' || ch == 'D')) {
			e = my_scan_delimiter(&s, i);
			if (e == (size_t)-2)
				return drvkit_split_fail(
				    err, "DELIMITER needs a terminator of 1 to 16 characters",
				    "Write the new terminator after DELIMITER "
				    "on the same line, as in DELIMITER $$, and "
				    "DELIMITER ; to go back.",
				    i);
			if (e != i) {
				i = e;
				continue;
			}
		}
		if (ch == '#' || my_dash_comment(&s, i)) {
			i = my_eol(&s, i);
			continue;
		}
		if (ch == '/' && i + 1 < len && s.t[i + 1] == '*') {
			size_t k = i + 2;

			if (k < len && s.t[k] == 'M' && k + 1 < len &&
			    s.t[k + 1] == '!')
				k++;
			if (k < len && s.t[k] == '!' && !s.exec) {
				/* Executable: its opening and version are
				   code, and so is what follows. */
				for (k++; k < len && s.t[k] >= '0' && s.t[k] <= '9';
				     k++)
					;
				my_scan_code(&s, i, k);
				s.exec = 1;
				s.exec_open = i;
				i = k;
				continue;
			}
			for (k = i + 2; k + 1 < len; k++)
				if (s.t[k] == '*' && s.t[k + 1] == '/')
					break;
			if (k + 1 >= len)
				return drvkit_split_fail(err, "unterminated /* comment",
							 NULL, i);
			i = k + 2;
			continue;
		}
		if (s.exec && ch == '*' && i + 1 < len && s.t[i + 1] == '/') {
			s.exec = 0;
			my_scan_code(&s, i, i + 2);
			i += 2;
			continue;
		}
		if (my_at_delim(&s, i) && (s.dlen != 1 || s.depth == 0)) {
			if (my_scan_emit(&s, fn, ctx) != 0)
				return DBMIGRATE_ENOMEM;
			i += s.dlen;
			continue;
		}
		if (ch == '\'' || ch == '"' || ch == '`') {
			e = my_quote_end(&s, i, ch);
			if (e == (size_t)-1)
				return drvkit_split_fail(
				    err,
				    ch == '`' ? "unterminated quoted name"
					      : "unterminated quoted string",
				    ch == '`' ? NULL
					      : "Close the string; inside it a "
						"backslash escapes the next "
						"character, so a string ending "
						"in \\ needs \\\\.",
				    i);
			my_scan_code(&s, i, e);
			s.at_start = 0;
			s.after_end = 0;
			i = e;
			continue;
		}
		if (my_is_word(ch)) {
			/* "END$$": the terminator may end a word. */
			e = i;
			while (e < len && my_is_word(s.t[e]) &&
			       (e == i || !my_at_delim(&s, e)))
				e++;
			my_scan_code(&s, i, e);
			if (s.dlen == 1 && s.delim[0] == ';')
				my_scan_word(&s, i, e);
			i = e;
			continue;
		}
		my_scan_code(&s, i, i + 1);
		if (ch != ':')
			s.after_end = 0;
		if (ch == ';')
			s.at_start = 1; /* an inner statement ends */
		else if (ch != ':' && ch != '(')
			s.at_start = 0;
		i++;
	}
	if (s.exec)
		return drvkit_split_fail(err, "unterminated executable comment /*!",
					 NULL, s.exec_open);
	if (s.compound && s.depth > 0 && s.start != (size_t)-1)
		return drvkit_split_fail(
		    err, "unterminated BEGIN ... END block",
		    "Close every BEGIN, IF, CASE, LOOP, WHILE and REPEAT of "
		    "the stored program with its END, or put the program "
		    "between DELIMITER $$ and DELIMITER ; lines and end it "
		    "with $$, as the mysql client wants.",
		    s.start);
	if (my_scan_emit(&s, fn, ctx) != 0)
		return DBMIGRATE_ENOMEM;
	return DBMIGRATE_OK;
}

/* ---- classify ---- */

/* Why a statement cannot roll back, by its first word. */
struct my_commit_word {
	const char *word;
	const char *reason;
};

static const struct my_commit_word my_commits[] = {
	{"create", "MySQL commits CREATE on its own"},
	{"alter", "MySQL commits ALTER on its own"},
	{"drop", "MySQL commits DROP on its own"},
	{"rename", "MySQL commits RENAME on its own"},
	{"truncate", "MySQL commits TRUNCATE on its own"},
	{"grant", "MySQL commits GRANT on its own"},
	{"revoke", "MySQL commits REVOKE on its own"},
	{"analyze", "MySQL commits ANALYZE TABLE on its own"},
	{"optimize", "MySQL commits OPTIMIZE TABLE on its own"},
	{"repair", "MySQL commits REPAIR TABLE on its own"},
	{"check", "MySQL commits CHECK TABLE on its own"},
	{"flush", "MySQL commits FLUSH on its own"},
	{"install", "MySQL commits INSTALL on its own"},
	{"uninstall", "MySQL commits UNINSTALL on its own"},
	{"cache", "MySQL commits CACHE INDEX on its own"},
	{"reset", "MySQL commits RESET on its own"},
	{"purge", "MySQL commits PURGE on its own"},
	{"call", "CALL runs a stored procedure, whose statements may commit on their own"},
	{"execute", "EXECUTE runs a prepared statement, which may commit on its own"},
	{"change", "MySQL commits CHANGE MASTER on its own"},
	{"start", "MySQL commits START SLAVE on its own"},
	{"stop", "MySQL commits STOP SLAVE on its own"},
	{"backup", "MySQL commits BACKUP on its own"},
	{NULL, NULL}};

static const char my_why_lock[] =
	"LOCK TABLES and UNLOCK TABLES commit the open transaction, and a "
	"table lock outlives the migration; remove them (dbmigrate takes a "
	"lock of its own against other runners) or mark the migration "
	"transaction:false.";
static const char my_why_autocommit[] =
	"SET autocommit changes how every later statement of the "
	"connection commits, including dbmigrate's own; remove it or mark "
	"the migration transaction:false.";
static const char my_why_xa[] =
	"XA transactions cannot run inside the migration's transaction; run "
	"them outside dbmigrate or in a migration marked transaction:false.";

/* True when word w equals kw (lower case), in any case. */
static int my_w(const struct dbmigrate_word *w, const char *kw)
{
	return my_word_is((const unsigned char *)w->s, w->len, kw);
}

/* What one statement is; see driver.h. */
void my_classify(const struct dbmigrate_host *host, const char *sql,
		 size_t len, struct dbmigrate_stmt_class *out)
{
	struct dbmigrate_word w[4];
	size_t n = host->words(MY_LEX, sql, len, w, 4);

	if (n == 0)
		return;
	/* MariaDB's anonymous block: it may hold anything. */
	if (n >= 3 && my_w(&w[0], "begin") && my_w(&w[1], "not") &&
	    my_w(&w[2], "atomic")) {
		out->flags |= DBMIGRATE_STMT_IMPLICIT_COMMIT;
		out->reason = "a BEGIN NOT ATOMIC block may hold statements "
			      "that commit on their own";
		return;
	}
	if (my_w(&w[0], "lock") || my_w(&w[0], "unlock")) {
		out->flags |= DBMIGRATE_STMT_TXCONTROL;
		out->reason = my_why_lock;
		return;
	}
	if (my_w(&w[0], "xa")) {
		out->flags |= DBMIGRATE_STMT_TXCONTROL;
		out->reason = my_why_xa;
		return;
	}
	if (my_w(&w[0], "set")) {
		size_t k = 1;

		if (k < n && my_w(&w[k], "password")) {
			out->flags |= DBMIGRATE_STMT_IMPLICIT_COMMIT;
			out->reason = "MySQL commits SET PASSWORD on its own";
			return;
		}
		if (k < n && (my_w(&w[k], "session") || my_w(&w[k], "local")))
			k++;
		if (k < n && (my_w(&w[k], "autocommit") ||
			      my_w(&w[k], "@@autocommit") ||
			      (w[k].len == 1 && w[k].s[0] == '@'))) {
			/* "@@autocommit" arrives as '@', '@', autocommit */
			size_t m = k;

			while (m < n && w[m].len == 1 && w[m].s[0] == '@')
				m++;
			if (m < n && my_w(&w[m], "autocommit")) {
				out->flags |= DBMIGRATE_STMT_TXCONTROL;
				out->reason = my_why_autocommit;
			} else if (m < n && (my_w(&w[m], "session") ||
					     my_w(&w[m], "local"))) {
				/* @@session.autocommit: '.' then the name */
				struct dbmigrate_word more[8];
				size_t mn = host->words(MY_LEX, sql, len, more, 8);

				for (size_t q = 0; q < mn; q++)
					if (my_w(&more[q], "autocommit")) {
						out->flags |= DBMIGRATE_STMT_TXCONTROL;
						out->reason = my_why_autocommit;
					}
			}
		}
		return;
	}
	if (my_w(&w[0], "end"))
		return; /* not COMMIT in MySQL: the server refuses it */
	if ((my_w(&w[0], "start") && n > 1 && !my_w(&w[1], "transaction")))
		;       /* START SLAVE / REPLICA: below */
	else {
		host->classify_txcontrol(MY_LEX, sql, len, out);
		if (out->flags != 0)
			return;
	}
	/* CREATE TEMPORARY TABLE and DROP TEMPORARY TABLE do not commit. */
	if (n > 1 && (my_w(&w[0], "create") || my_w(&w[0], "drop")) &&
	    my_w(&w[1], "temporary"))
		return;
	if (n > 1 && my_w(&w[0], "check") && !my_w(&w[1], "table"))
		return;
	if (n > 1 && my_w(&w[0], "start") && !my_w(&w[1], "slave") &&
	    !my_w(&w[1], "replica") && !my_w(&w[1], "all"))
		return;
	if (n > 1 && my_w(&w[0], "stop") && !my_w(&w[1], "slave") &&
	    !my_w(&w[1], "replica") && !my_w(&w[1], "all"))
		return;
	if (n > 1 && my_w(&w[0], "change") && !my_w(&w[1], "master") &&
	    !my_w(&w[1], "replication"))
		return;
	for (size_t k = 0; my_commits[k].word != NULL; k++)
		if (my_w(&w[0], my_commits[k].word)) {
			out->flags |= DBMIGRATE_STMT_IMPLICIT_COMMIT;
			out->reason = my_commits[k].reason;
			return;
		}
}
