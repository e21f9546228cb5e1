/*
 * parse-js.c - the seed's .ts/.js migrations, read without running any
 * JavaScript: the top level of the file is scanned (comments, strings,
 * templates and regular expressions of other code skipped) for
 *
 *	export const up = `...`;
 *	export const down = `...`;
 *	export const transaction = false;
 *
 * with an optional TypeScript annotation (`up: string`). The values must
 * be single string literals, decoded as JavaScript would (escapes, line
 * continuations, CRLF in templates read as LF). Anything that would need
 * evaluation - ${...}, names, calls, concatenation - is an error naming
 * the file, line and column, since guessing would run the wrong SQL.
 */
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "migration.h"
#include "strbuf.h"

/* Deeper ${ `${ ... }` } nesting than this is refused (bounded stack). */
#define PARSE_JS_MAX_NESTING 64

/* Said wherever the expected form helps. */
#define PARSE_JS_FORM "export const up = `CREATE TABLE ...`; " \
	"export const down = `DROP TABLE ...`;"

/* The state of one parse. */
struct parse_js_state {
	struct migration *m;
	dbmigrate_error *err;
	const char *s;
	size_t len;
	size_t pos;
	bool newline;           /* the last skip of space crossed a line break */
	size_t up_at;           /* offset of `up` in its export, or SIZE_MAX */
	size_t down_at;
	size_t tx_at;
	size_t fn_at;           /* `export function up/down`, or SIZE_MAX */
	const char *fn_name;
};

/* Set err's location to offset off of the file and return EFILES. */
static dbmigrate_code parse_js_fail(struct parse_js_state *js, size_t off)
{
	errors_location_at(js->err, js->m->path, js->s, js->len, off);
	return DBMIGRATE_EFILES;
}

/* True for a byte that may start an identifier (non-ASCII included). */
static bool parse_js_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$' || c >= 0x80;
}

/* True for a byte that may continue an identifier. */
static bool parse_js_ident_char(unsigned char c)
{
	return parse_js_ident_start(c) || (c >= '0' && c <= '9');
}

/* Length of a line terminator at i (LF, CR, CRLF, U+2028, U+2029). */
static size_t parse_js_line_break(const struct parse_js_state *js, size_t i)
{
	const char *s = js->s;

	if (i >= js->len)
		return 0;
	if (s[i] == '\n')
		return 1;
	if (s[i] == '\r')
		return i + 1 < js->len && s[i + 1] == '\n' ? 2 : 1;
	if (js->len - i >= 3 && memcmp(s + i, "\xE2\x80", 2) == 0 &&
	    (s[i + 2] == '\xA8' || s[i + 2] == '\xA9'))
		return 3;
	return 0;
}

/* Length of white space (not a line break) at i: ASCII, NBSP, BOM. */
static size_t parse_js_blank(const struct parse_js_state *js, size_t i)
{
	const char *s = js->s;

	if (s[i] == ' ' || s[i] == '\t' || s[i] == '\v' || s[i] == '\f')
		return 1;
	if (js->len - i >= 2 && memcmp(s + i, "\xC2\xA0", 2) == 0)
		return 2;
	if (js->len - i >= 3 && memcmp(s + i, "\xEF\xBB\xBF", 3) == 0)
		return 3;
	return 0;
}

/* Move js->pos to the end of its line (before the line break). */
static void parse_js_skip_line(struct parse_js_state *js)
{
	while (js->pos < js->len && parse_js_line_break(js, js->pos) == 0)
		js->pos++;
}

/* True when an identifier starts at js->pos. */
static bool parse_js_at_ident(const struct parse_js_state *js)
{
	return js->pos < js->len &&
	       parse_js_ident_start((unsigned char)js->s[js->pos]);
}

/* Skip white space and comments; sets js->newline. */
static dbmigrate_code parse_js_skip_space(struct parse_js_state *js)
{
	js->newline = false;
	/* A #! line may start a script run directly by node or bun. */
	if (js->pos == 0 && js->len >= 2 && js->s[0] == '#' && js->s[1] == '!')
		parse_js_skip_line(js);
	while (js->pos < js->len) {
		size_t k;

		if ((k = parse_js_line_break(js, js->pos)) > 0) {
			js->newline = true;
			js->pos += k;
		} else if ((k = parse_js_blank(js, js->pos)) > 0) {
			js->pos += k;
		} else if (js->s[js->pos] == '/' && js->pos + 1 < js->len &&
			   js->s[js->pos + 1] == '/') {
			parse_js_skip_line(js);
		} else if (js->s[js->pos] == '/' && js->pos + 1 < js->len &&
			   js->s[js->pos + 1] == '*') {
			size_t start = js->pos;

			for (js->pos += 2; js->pos < js->len; js->pos++) {
				if (js->s[js->pos] == '*' && js->pos + 1 < js->len &&
				    js->s[js->pos + 1] == '/')
					break;
				if (parse_js_line_break(js, js->pos) > 0)
					js->newline = true;
			}
			if (js->pos >= js->len) {
				errors_set(js->err, DBMIGRATE_EFILES,
					   "unterminated comment in %s",
					   js->m->path);
				errors_hint(js->err, "Close the comment with */.");
				return parse_js_fail(js, start);
			}
			js->pos += 2;
		} else {
			break;
		}
	}
	return DBMIGRATE_OK;
}

/* Read an identifier at js->pos; returns its length. */
static size_t parse_js_ident(struct parse_js_state *js)
{
	size_t start = js->pos;
	const unsigned char *s = (const unsigned char *)js->s;

	while (js->pos < js->len && parse_js_ident_char(s[js->pos]))
		js->pos++;
	return js->pos - start;
}

/* True when s[start, start+n) is the word w. */
static bool parse_js_is(const struct parse_js_state *js, size_t start, size_t n,
			const char *w)
{
	return strlen(w) == n && memcmp(js->s + start, w, n) == 0;
}

/* True for the keywords after which a '/' starts a regular expression. */
static bool parse_js_expr_keyword(const struct parse_js_state *js, size_t start,
				  size_t n)
{
	static const char *const kw[] = {
		"return", "typeof", "instanceof", "in", "of", "new", "delete",
		"void", "throw", "case", "do", "else", "yield", "await",
		"extends",
	};

	for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
		if (parse_js_is(js, start, n, kw[i]))
			return true;
	return false;
}

/* Report an unterminated literal starting at start. */
static dbmigrate_code parse_js_unterminated(struct parse_js_state *js,
					    size_t start)
{
	if (js->s[start] == '`') {
		errors_set(js->err, DBMIGRATE_EFILES,
			   "unterminated template literal in %s", js->m->path);
		errors_hint(js->err, "Close the template literal with a "
			    "backtick (`); a backtick inside it is written \\`.");
	} else {
		errors_set(js->err, DBMIGRATE_EFILES,
			   "unterminated string literal in %s", js->m->path);
		errors_hint(js->err, "A '...' or \"...\" string ends on its "
			    "own line; for SQL over several lines use a "
			    "template literal (`...`).");
	}
	return parse_js_fail(js, start);
}

/* Skip a '...' or "..." string of other code. */
static dbmigrate_code parse_js_skip_string(struct parse_js_state *js)
{
	size_t start = js->pos;
	char q = js->s[js->pos++];

	while (js->pos < js->len) {
		char c = js->s[js->pos];

		if (c == '\\') {
			size_t k = parse_js_line_break(js, js->pos + 1);

			js->pos += k > 0 ? 1 + k : 2;
		} else if (c == q) {
			js->pos++;
			return DBMIGRATE_OK;
		} else if (c == '\n' || c == '\r') {
			break;
		} else {
			js->pos++;
		}
	}
	return parse_js_unterminated(js, start);
}

/* Skip a regular expression literal of other code (/.../flags). */
static void parse_js_skip_regex(struct parse_js_state *js)
{
	bool klass = false;

	for (js->pos++; js->pos < js->len; js->pos++) {
		char c = js->s[js->pos];

		if (c == '\\')
			js->pos++;
		else if (c == '[')
			klass = true;
		else if (c == ']')
			klass = false;
		else if (c == '/' && !klass)
			break;
		else if (c == '\n' || c == '\r')
			return;         /* not a regex after all; carry on */
	}
	if (js->pos < js->len)
		js->pos++;
}

/* Defined below: skipping a template needs scanning its ${...}. */
static dbmigrate_code parse_js_scan(struct parse_js_state *js, unsigned level,
				    size_t open);

/* Skip a template literal of other code, with its ${...} parts. */
static dbmigrate_code parse_js_skip_template(struct parse_js_state *js,
					     unsigned level)
{
	size_t start = js->pos;

	if (level >= PARSE_JS_MAX_NESTING) {
		errors_set(js->err, DBMIGRATE_EFILES,
			   "template literals nested too deeply in %s",
			   js->m->path);
		errors_hint(js->err, "Simplify this code; dbmigrate reads only "
			    "the up, down and transaction exports.");
		return parse_js_fail(js, start);
	}
	for (js->pos++; js->pos < js->len;) {
		char c = js->s[js->pos];

		if (c == '\\') {
			js->pos += 2;
		} else if (c == '`') {
			js->pos++;
			return DBMIGRATE_OK;
		} else if (c == '$' && js->pos + 1 < js->len &&
			   js->s[js->pos + 1] == '{') {
			js->pos += 2;
			if (parse_js_scan(js, level + 1, start) != DBMIGRATE_OK)
				return DBMIGRATE_EFILES;
		} else {
			js->pos++;
		}
	}
	return parse_js_unterminated(js, start);
}

/* Append code point cp (valid, not a surrogate) as UTF-8. */
static void parse_js_put_utf8(struct strbuf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	strbuf_add(b, u, n);
}

/*
 * Decode the \u escape at i (the backslash): \uHHHH or \u{H...}. Returns
 * the offset after it and sets *cp, or returns 0 when malformed.
 */
static size_t parse_js_escape_u(const struct parse_js_state *js, size_t i,
				uint32_t *cp)
{
	uint32_t v = 0;
	size_t j = i + 2;

	if (j < js->len && js->s[j] == '{') {
		size_t digits = 0;

		for (j++; j < js->len && str_hexval(js->s[j]) >= 0; j++) {
			digits++;
			v = v * 16 + (uint32_t)str_hexval(js->s[j]);
			if (v > 0x10FFFF)
				return 0;
		}
		if (digits == 0 || j >= js->len || js->s[j] != '}')
			return 0;
		*cp = v;
		return j + 1;
	}
	for (int k = 0; k < 4; k++, j++) {
		if (j >= js->len || str_hexval(js->s[j]) < 0)
			return 0;
		v = v * 16 + (uint32_t)str_hexval(js->s[j]);
	}
	*cp = v;
	return j;
}

/* Report a bad escape at off, with a hint. */
static dbmigrate_code parse_js_bad_escape(struct parse_js_state *js, size_t off,
				    const char *what, const char *hint)
{
	errors_set(js->err, DBMIGRATE_EFILES, "%s in %s", what, js->m->path);
	errors_hint(js->err, "%s", hint);
	return parse_js_fail(js, off);
}

/*
 * Decode the escape at js->pos (the backslash) into b and move past it,
 * as JavaScript does in a string or template literal of a module.
 */
static dbmigrate_code parse_js_escape(struct parse_js_state *js,
				      struct strbuf *b)
{
	size_t at = js->pos, k;
	uint32_t cp;
	char e;

	if (at + 1 >= js->len) {
		/* The caller reports the unterminated literal. */
		js->pos = js->len;
		return DBMIGRATE_OK;
	}
	e = js->s[at + 1];
	if ((k = parse_js_line_break(js, at + 1)) > 0) {
		js->pos = at + 1 + k;   /* line continuation: nothing */
		return DBMIGRATE_OK;
	}
	js->pos = at + 2;
	switch (e) {
	case 'n': strbuf_putc(b, '\n'); return DBMIGRATE_OK;
	case 'r': strbuf_putc(b, '\r'); return DBMIGRATE_OK;
	case 't': strbuf_putc(b, '\t'); return DBMIGRATE_OK;
	case 'b': strbuf_putc(b, '\b'); return DBMIGRATE_OK;
	case 'f': strbuf_putc(b, '\f'); return DBMIGRATE_OK;
	case 'v': strbuf_putc(b, '\v'); return DBMIGRATE_OK;
	case 'x':
		if (at + 3 >= js->len || str_hexval(js->s[at + 2]) < 0 ||
		    str_hexval(js->s[at + 3]) < 0)
			return parse_js_bad_escape(js, at, "invalid \\x escape",
					     "Write \\x followed by two hex "
					     "digits, e.g. \\x41.");
		cp = (uint32_t)(str_hexval(js->s[at + 2]) * 16 +
				str_hexval(js->s[at + 3]));
		js->pos = at + 4;
		break;
	case 'u':
		k = parse_js_escape_u(js, at, &cp);
		if (k == 0)
			return parse_js_bad_escape(js, at, "invalid \\u escape",
					     "Write \\u followed by four hex "
					     "digits, or \\u{...} with at most "
					     "10FFFF, e.g. \\u00e9 or \\u{1F600}.");
		js->pos = k;
		if (cp >= 0xD800 && cp <= 0xDBFF && js->pos + 1 < js->len &&
		    js->s[js->pos] == '\\' && js->s[js->pos + 1] == 'u') {
			uint32_t lo;
			size_t k2 = parse_js_escape_u(js, js->pos, &lo);

			if (k2 != 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				js->pos = k2;
			}
		}
		if (cp >= 0xD800 && cp <= 0xDFFF)
			return parse_js_bad_escape(js, at, "lone surrogate escape",
					     "A \\uD800-\\uDFFF escape must be "
					     "half of a surrogate pair; write "
					     "the character itself or \\u{...}.");
		break;
	case '0':
		if (at + 2 < js->len && js->s[at + 2] >= '0' && js->s[at + 2] <= '9')
			return parse_js_bad_escape(js, at, "octal escape sequence",
					     "Octal escapes are not allowed in "
					     "modules; write \\x or \\u escapes.");
		cp = 0;
		break;
	default:
		if (e >= '1' && e <= '9')
			return parse_js_bad_escape(js, at, "octal escape sequence",
					     "Octal escapes are not allowed in "
					     "modules; write \\x or \\u escapes.");
		/* \\ \' \" \` \$ and any other character stand for themselves. */
		if ((unsigned char)e < 0x80)
			strbuf_putc(b, e);
		else
			js->pos = at + 1;       /* copy the multibyte character */
		return DBMIGRATE_OK;
	}
	if (cp == 0)
		return parse_js_bad_escape(js, at, "escape of a NUL character",
				     "A NUL character cannot be sent to the "
				     "database; remove it.");
	parse_js_put_utf8(b, cp);
	return DBMIGRATE_OK;
}

/* Read the string or template literal at js->pos into body b. */
static dbmigrate_code parse_js_literal(struct parse_js_state *js,
				       struct migration_body *b,
				       const char *name)
{
	struct strbuf out = STRBUF_INIT;
	size_t start = js->pos;
	char q = js->s[js->pos++];
	bool verbatim = true;

	for (;;) {
		char c;

		if (js->pos >= js->len) {
			strbuf_free(&out);
			return parse_js_unterminated(js, start);
		}
		c = js->s[js->pos];
		if (c == q) {
			js->pos++;
			break;
		}
		if (q == '`' && c == '$' && js->pos + 1 < js->len &&
		    js->s[js->pos + 1] == '{') {
			strbuf_free(&out);
			errors_set(js->err, DBMIGRATE_EFILES,
				   "${...} in the value of %s in %s", name,
				   js->m->path);
			errors_detail(js->err, "dbmigrate reads .ts and .js "
				      "migrations without running them, so it "
				      "cannot evaluate an interpolation.");
			errors_hint(js->err, "Write the SQL literally; for a "
				    "literal ${ in the SQL, write \\${.");
			return parse_js_fail(js, js->pos);
		}
		if (c == '\\') {
			verbatim = false;
			if (parse_js_escape(js, &out) != DBMIGRATE_OK) {
				strbuf_free(&out);
				return DBMIGRATE_EFILES;
			}
		} else if (c == '\r' || c == '\n') {
			if (q != '`') {
				strbuf_free(&out);
				return parse_js_unterminated(js, start);
			}
			/* Templates read CRLF and CR as LF, as JavaScript does. */
			if (c == '\r') {
				verbatim = false;
				js->pos += parse_js_line_break(js, js->pos) - 1;
			}
			strbuf_putc(&out, '\n');
			js->pos++;
		} else {
			size_t run = js->pos;

			/* Copy plain text in runs, not byte by byte. */
			while (run < js->len && !strchr("\\$\r\n", js->s[run]) &&
			       js->s[run] != q)
				run++;
			if (run == js->pos)
				run++;          /* a '$' not followed by '{' */
			strbuf_add(&out, js->s + js->pos, run - js->pos);
			js->pos = run;
		}
	}
	if (strbuf_failed(&out)) {
		strbuf_free(&out);
		return errors_nomem(js->err);
	}
	b->len = out.len;
	b->sql = strbuf_steal(&out);
	b->owned = true;
	b->verbatim = verbatim;
	b->path = js->m->path;
	b->offset = start + 1;
	migration_line_col(js->s, start + 1, &b->line, &b->column);
	b->present = migration_code_start(b->sql, b->len) < b->len;
	return DBMIGRATE_OK;
}

/* Report a value that is not what name needs, at off. */
static dbmigrate_code parse_js_not_literal(struct parse_js_state *js,
					   size_t off, const char *name)
{
	if (strcmp(name, "transaction") == 0) {
		errors_set(js->err, DBMIGRATE_EFILES,
			   "the value of transaction in %s is not true or false",
			   js->m->path);
		errors_hint(js->err, "Write `export const transaction = false;` "
			    "to run the migration outside a transaction, or "
			    "leave it out.");
		return parse_js_fail(js, off);
	}
	errors_set(js->err, DBMIGRATE_EFILES,
		   "the value of %s in %s is not a single string literal", name,
		   js->m->path);
	errors_detail(js->err, "dbmigrate reads .ts and .js migrations "
		      "without running them, so the SQL must be one string "
		      "literal: no names, calls, numbers or concatenation.");
	errors_hint(js->err, "Write the SQL inline, e.g. " PARSE_JS_FORM);
	return parse_js_fail(js, off);
}

/* After a value: an optional ';', else the end of the statement. */
static dbmigrate_code parse_js_value_end(struct parse_js_state *js,
					 const char *name)
{
	unsigned char c;

	if (parse_js_skip_space(js) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	if (js->pos >= js->len)
		return DBMIGRATE_OK;
	c = (unsigned char)js->s[js->pos];
	/* TypeScript's `as const` / `as string` changes nothing. */
	if (!js->newline && parse_js_ident_start(c)) {
		size_t start = js->pos, n = parse_js_ident(js);

		if (parse_js_is(js, start, n, "as")) {
			if (parse_js_skip_space(js) != DBMIGRATE_OK)
				return DBMIGRATE_EFILES;
			if (parse_js_at_ident(js)) {
				parse_js_ident(js);
				return parse_js_value_end(js, name);
			}
		}
		return parse_js_not_literal(js, start, name);
	}
	if (c == ';') {
		js->pos++;
		return DBMIGRATE_OK;
	}
	/* A line break ends the statement unless the next token continues it. */
	if (js->newline && (parse_js_ident_start(c) || c == '}' || c == '\'' ||
			    c == '"' || c == '@' || c == '#'))
		return DBMIGRATE_OK;
	return parse_js_not_literal(js, js->pos, name);
}

/* Handle `export const NAME` at js->pos (just after NAME). */
static dbmigrate_code parse_js_declaration(struct parse_js_state *js,
					   const char *name, size_t name_at)
{
	size_t *seen = name[0] == 'u' ? &js->up_at
		     : name[0] == 'd' ? &js->down_at : &js->tx_at;
	struct migration_body *b = name[0] == 'u' ? &js->m->up
				 : name[0] == 'd' ? &js->m->down : NULL;
	size_t value;
	unsigned line, column;

	if (*seen != SIZE_MAX) {
		migration_line_col(js->s, *seen, &line, &column);
		errors_set(js->err, DBMIGRATE_EFILES,
			   "duplicate export const %s in %s", name, js->m->path);
		errors_detail(js->err, "The first one is at line %u.", line);
		errors_hint(js->err, "Keep one of them.");
		return parse_js_fail(js, name_at);
	}
	*seen = name_at;
	if (parse_js_skip_space(js) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	if (js->pos < js->len && js->s[js->pos] == ':') {
		js->pos++;
		if (parse_js_skip_space(js) != DBMIGRATE_OK)
			return DBMIGRATE_EFILES;
		if (!parse_js_at_ident(js)) {
			errors_set(js->err, DBMIGRATE_EFILES,
				   "expected a type after %s: in %s", name,
				   js->m->path);
			errors_hint(js->err, "Write `%s: %s`, or leave the "
				    "annotation out.", name,
				    b != NULL ? "string" : "boolean");
			return parse_js_fail(js, js->pos);
		}
		parse_js_ident(js);
		if (parse_js_skip_space(js) != DBMIGRATE_OK)
			return DBMIGRATE_EFILES;
	}
	if (js->pos >= js->len || js->s[js->pos] != '=' ||
	    (js->pos + 1 < js->len &&
	     (js->s[js->pos + 1] == '=' || js->s[js->pos + 1] == '>'))) {
		errors_set(js->err, DBMIGRATE_EFILES,
			   "expected = after export const %s in %s", name,
			   js->m->path);
		errors_hint(js->err, "The form is " PARSE_JS_FORM);
		return parse_js_fail(js, js->pos);
	}
	js->pos++;
	if (parse_js_skip_space(js) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	value = js->pos;
	if (b == NULL) {
		size_t n = 0;

		if (parse_js_at_ident(js))
			n = parse_js_ident(js);
		if (parse_js_is(js, value, n, "false")) {
			migration_line_col(js->s, name_at, &line, &column);
			js->m->no_transaction = true;
			js->m->no_transaction_line = line;
		} else if (!parse_js_is(js, value, n, "true")) {
			return parse_js_not_literal(js, value, name);
		}
	} else {
		char c = js->pos < js->len ? js->s[js->pos] : '\0';

		if (c != '`' && c != '\'' && c != '"')
			return parse_js_not_literal(js, value, name);
		if (parse_js_literal(js, b, name) != DBMIGRATE_OK)
			return js->err->code;
	}
	return parse_js_value_end(js, name);
}

/* Handle what follows `export` at the top level. */
static dbmigrate_code parse_js_export(struct parse_js_state *js)
{
	size_t start, n;

	if (parse_js_skip_space(js) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	if (!parse_js_at_ident(js))
		return DBMIGRATE_OK;    /* export { ... }, export * from */
	start = js->pos;
	n = parse_js_ident(js);
	if (parse_js_is(js, start, n, "const") ||
	    parse_js_is(js, start, n, "let") ||
	    parse_js_is(js, start, n, "var")) {
		if (parse_js_skip_space(js) != DBMIGRATE_OK)
			return DBMIGRATE_EFILES;
		if (!parse_js_at_ident(js))
			return DBMIGRATE_OK;
		start = js->pos;
		n = parse_js_ident(js);
		if (parse_js_is(js, start, n, "up"))
			return parse_js_declaration(js, "up", start);
		if (parse_js_is(js, start, n, "down"))
			return parse_js_declaration(js, "down", start);
		if (parse_js_is(js, start, n, "transaction"))
			return parse_js_declaration(js, "transaction", start);
		return DBMIGRATE_OK;
	}
	if (parse_js_is(js, start, n, "async")) {
		if (parse_js_skip_space(js) != DBMIGRATE_OK)
			return DBMIGRATE_EFILES;
		start = js->pos;
		n = parse_js_ident(js);
	}
	if (!parse_js_is(js, start, n, "function"))
		return DBMIGRATE_OK;
	/* Knex-style `export function up(knex)`: remembered for the error. */
	if (parse_js_skip_space(js) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	if (js->pos < js->len && js->s[js->pos] == '*')
		js->pos++;
	if (parse_js_skip_space(js) != DBMIGRATE_OK)
		return DBMIGRATE_EFILES;
	start = js->pos;
	n = parse_js_ident(js);
	if (js->fn_at == SIZE_MAX && (parse_js_is(js, start, n, "up") ||
				      parse_js_is(js, start, n, "down"))) {
		js->fn_at = start;
		js->fn_name = js->s[start] == 'u' ? "up" : "down";
	}
	return DBMIGRATE_OK;
}

/*
 * Scan code: the top level (level 0, to the end of the file, handling
 * exports) or the inside of a ${ opened in the template at open (to its
 * closing brace).
 */
static dbmigrate_code parse_js_scan(struct parse_js_state *js, unsigned level,
				    size_t open)
{
	unsigned depth = 0;
	bool value = false;     /* the last token ends a value: '/' divides */

	for (;;) {
		unsigned char c;

		if (parse_js_skip_space(js) != DBMIGRATE_OK)
			return DBMIGRATE_EFILES;
		if (js->pos >= js->len && level == 0)
			return DBMIGRATE_OK;
		if (js->pos >= js->len)
			return parse_js_unterminated(js, open);
		c = (unsigned char)js->s[js->pos];
		if (parse_js_ident_start(c)) {
			size_t start = js->pos, n = parse_js_ident(js);

			if (level == 0 && depth == 0 &&
			    parse_js_is(js, start, n, "export")) {
				if (parse_js_export(js) != DBMIGRATE_OK)
					return DBMIGRATE_EFILES;
				value = false;
				continue;
			}
			value = !parse_js_expr_keyword(js, start, n);
		} else if (c >= '0' && c <= '9') {
			while (js->pos < js->len &&
			       (parse_js_ident_char((unsigned char)js->s[js->pos]) ||
				js->s[js->pos] == '.'))
				js->pos++;
			value = true;
		} else if (c == '\'' || c == '"') {
			if (parse_js_skip_string(js) != DBMIGRATE_OK)
				return DBMIGRATE_EFILES;
			value = true;
		} else if (c == '`') {
			if (parse_js_skip_template(js, level) != DBMIGRATE_OK)
				return DBMIGRATE_EFILES;
			value = true;
		} else if (c == '/' && !value) {
			parse_js_skip_regex(js);
			value = true;
		} else if (c == '{' || c == '(' || c == '[') {
			depth++;
			js->pos++;
			value = false;
		} else if (c == '}' || c == ')' || c == ']') {
			js->pos++;
			if (c == '}' && level > 0 && depth == 0)
				return DBMIGRATE_OK;
			if (depth > 0)
				depth--;
			value = true;
		} else {
			js->pos++;
			value = false;
		}
	}
}

/* Parse m as a .ts/.js file. */
dbmigrate_code parse_js(struct migration *m, dbmigrate_error *err)
{
	struct parse_js_state js = {
		.m = m, .err = err, .s = m->text, .len = m->text_len,
		.up_at = SIZE_MAX, .down_at = SIZE_MAX, .tx_at = SIZE_MAX,
		.fn_at = SIZE_MAX,
	};

	if (parse_js_scan(&js, 0, 0) != DBMIGRATE_OK)
		return err->code;
	if (js.fn_at != SIZE_MAX) {
		errors_set(err, DBMIGRATE_EFILES,
			   "%s in %s is a function, not SQL", js.fn_name,
			   m->path);
		errors_detail(err, "dbmigrate reads .ts and .js migrations "
			      "without running them, so up and down must be "
			      "string literals holding the SQL.");
		errors_hint(err, "Write the SQL as " PARSE_JS_FORM);
		return parse_js_fail(&js, js.fn_at);
	}
	if (js.up_at == SIZE_MAX) {
		errors_set(err, DBMIGRATE_EFILES, "no export const up in %s",
			   m->path);
		errors_hint(err, "A .ts or .js migration exports its SQL as "
			    "string literals: " PARSE_JS_FORM);
		errors_location(err, m->path, 0, 0, NULL, 0);
		return DBMIGRATE_EFILES;
	}
	if (!m->up.present) {
		errors_set(err, DBMIGRATE_EFILES,
			   "the up migration in %s is empty", m->path);
		errors_hint(err, "Write the SQL to apply inside the literal: "
			    "export const up = `CREATE TABLE ...`;");
		return parse_js_fail(&js, js.up_at);
	}
	return DBMIGRATE_OK;
}
