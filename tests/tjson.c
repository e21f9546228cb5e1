/*
 * tjson.c - a strict JSON reader for the tests (see tjson.h): a
 * recursive descent over RFC 8259, refusing what a lenient reader would
 * let through (raw control characters, bad escapes, lone surrogates,
 * leading zeros, trailing commas, text after the value), so that a test
 * parsing a command's output also proves the output is valid JSON.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tjson.h"

/* Nesting deeper than this is refused (no command prints so deep). */
#define TJSON_MAX_DEPTH 64

/* The parser's position and its first error. */
struct tjson_parser {
	const char *text;
	const char *p;
	const char *error;
};

static struct tjson *tjson_value(struct tjson_parser *ps, int depth);

/* Record the first error at the current position; returns NULL. */
static void *tjson_fail(struct tjson_parser *ps, const char *error)
{
	if (ps->error == NULL)
		ps->error = error;
	return NULL;
}

/* Skip the four kinds of JSON white space. */
static void tjson_ws(struct tjson_parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	       *ps->p == '\r')
		ps->p++;
}

/* A new value of type t (aborts the test when memory runs out). */
static struct tjson *tjson_new(enum tjson_type t)
{
	struct tjson *v = calloc(1, sizeof *v);

	ck_assert_ptr_nonnull(v);
	v->type = t;
	return v;
}

/* Read four hex digits at p; -1 when they are not. */
static long tjson_hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Append code point cp to out as UTF-8; returns the new end. */
static char *tjson_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		*out++ = (char)cp;
	} else if (cp < 0x800) {
		*out++ = (char)(0xC0 | (cp >> 6));
		*out++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*out++ = (char)(0xE0 | (cp >> 12));
		*out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*out++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*out++ = (char)(0xF0 | (cp >> 18));
		*out++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*out++ = (char)(0x80 | (cp & 0x3F));
	}
	return out;
}

/* The length of the UTF-8 sequence at p (1 to 4 bytes), or 0 when it
   is not valid UTF-8 (overlong, a surrogate, beyond U+10FFFF). */
static size_t tjson_utf8_len(const unsigned char *p)
{
	unsigned long cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	cp = p[0] & (0x7F >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* A string at ps->p (on its opening quote), decoded; NULL on error. */
static char *tjson_string_text(struct tjson_parser *ps)
{
	const char *p = ps->p + 1;
	/* Escapes never decode longer than they are written. */
	char *out = malloc(strlen(p) + 1), *o = out;

	ck_assert_ptr_nonnull(out);
	for (; *p != '"'; p++) {
		unsigned char c = (unsigned char)*p;
		long cp, lo;

		if (c == '\0' || c < 0x20) {
			ps->p = p;
			free(out);
			return tjson_fail(ps, c == '\0' ? "unterminated string"
						: "raw control character in a string");
		}
		if (c >= 0x80) {
			size_t n = tjson_utf8_len((const unsigned char *)p);

			if (n == 0) {
				ps->p = p;
				free(out);
				return tjson_fail(ps, "invalid UTF-8 in a string");
			}
			memcpy(o, p, n);
			o += n;
			p += n - 1;
			continue;
		}
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		switch (*++p) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if ((cp = tjson_hex4(p + 1)) < 0)
				goto bad_escape;
			p += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				goto bad_escape;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (p[1] != '\\' || p[2] != 'u' ||
				    (lo = tjson_hex4(p + 3)) < 0xDC00 ||
				    lo > 0xDFFF)
					goto bad_escape;
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
				p += 6;
			}
			o = tjson_utf8(o, (unsigned long)cp);
			break;
		default:
			goto bad_escape;
		}
	}
	*o = '\0';
	ps->p = p + 1;
	return out;
bad_escape:
	ps->p = p;
	free(out);
	return tjson_fail(ps, "bad escape in a string");
}

/* A number at ps->p, as RFC 8259 writes them. */
static struct tjson *tjson_number(struct tjson_parser *ps)
{
	const char *p = ps->p, *digits;
	struct tjson *v;

	if (*p == '-')
		p++;
	digits = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == digits || (*digits == '0' && p - digits > 1))
		return tjson_fail(ps, "bad number");
	if (*p == '.') {
		digits = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits)
			return tjson_fail(ps, "bad number");
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		digits = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits)
			return tjson_fail(ps, "bad number");
	}
	v = tjson_new(TJSON_NUMBER);
	v->number = strtod(ps->p, NULL);
	ps->p = p;
	return v;
}

/* Add item (named key, for objects) to container v. */
static void tjson_push(struct tjson *v, char *key, struct tjson *item)
{
	v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
	ck_assert_ptr_nonnull(v->items);
	if (v->type == TJSON_OBJECT) {
		v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
		ck_assert_ptr_nonnull(v->keys);
		v->keys[v->n] = key;
	}
	v->items[v->n++] = item;
}

/* An array or object at ps->p (on its opening bracket). */
static struct tjson *tjson_container(struct tjson_parser *ps, int depth,
				     bool object)
{
	struct tjson *v = tjson_new(object ? TJSON_OBJECT : TJSON_ARRAY);
	char close = object ? '}' : ']';

	ps->p++;
	tjson_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		struct tjson *item;

		if (object) {
			tjson_ws(ps);
			if (*ps->p != '"' ||
			    (key = tjson_string_text(ps)) == NULL) {
				tjson_fail(ps, "expected a key");
				goto fail;
			}
			tjson_ws(ps);
			if (*ps->p != ':') {
				free(key);
				tjson_fail(ps, "expected ':'");
				goto fail;
			}
			ps->p++;
		}
		if ((item = tjson_value(ps, depth + 1)) == NULL) {
			free(key);
			goto fail;
		}
		tjson_push(v, key, item);
		tjson_ws(ps);
		if (*ps->p == close) {
			ps->p++;
			return v;
		}
		if (*ps->p != ',') {
			tjson_fail(ps, object ? "expected ',' or '}'"
					      : "expected ',' or ']'");
			goto fail;
		}
		ps->p++;
	}
fail:
	tjson_free(v);
	return NULL;
}

/* The literal word at ps->p, which must be exactly lit. */
static struct tjson *tjson_literal(struct tjson_parser *ps, const char *lit,
				   enum tjson_type t, bool b)
{
	struct tjson *v;

	if (strncmp(ps->p, lit, strlen(lit)) != 0)
		return tjson_fail(ps, "unexpected character");
	ps->p += strlen(lit);
	v = tjson_new(t);
	v->boolean = b;
	return v;
}

/* Any value at ps->p, white space before it skipped. */
static struct tjson *tjson_value(struct tjson_parser *ps, int depth)
{
	struct tjson *v;
	char *s;

	if (depth > TJSON_MAX_DEPTH)
		return tjson_fail(ps, "nested too deep");
	tjson_ws(ps);
	switch (*ps->p) {
	case '{':
		return tjson_container(ps, depth, true);
	case '[':
		return tjson_container(ps, depth, false);
	case '"':
		if ((s = tjson_string_text(ps)) == NULL)
			return NULL;
		v = tjson_new(TJSON_STRING);
		v->string = s;
		return v;
	case 't':
		return tjson_literal(ps, "true", TJSON_BOOL, true);
	case 'f':
		return tjson_literal(ps, "false", TJSON_BOOL, false);
	case 'n':
		return tjson_literal(ps, "null", TJSON_NULL, false);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return tjson_number(ps);
		return tjson_fail(ps, *ps->p == '\0' ? "unexpected end"
						     : "unexpected character");
	}
}

struct tjson *tjson_parse(const char *text, const char **error, size_t *at)
{
	struct tjson_parser ps = { .text = text, .p = text };
	struct tjson *v = tjson_value(&ps, 0);

	if (v != NULL) {
		tjson_ws(&ps);
		if (*ps.p != '\0') {
			tjson_fail(&ps, "text after the value");
			tjson_free(v);
			v = NULL;
		}
	}
	if (error != NULL)
		*error = ps.error;
	if (at != NULL)
		*at = (size_t)(ps.p - text);
	return v;
}

const struct tjson *tjson_path(const struct tjson *v, const char *path)
{
	while (v != NULL && *path != '\0') {
		size_t len = strcspn(path, ".");
		const struct tjson *next = NULL;

		if (v->type == TJSON_OBJECT) {
			for (size_t i = 0; i < v->n && next == NULL; i++)
				if (strlen(v->keys[i]) == len &&
				    strncmp(v->keys[i], path, len) == 0)
					next = v->items[i];
		} else if (v->type == TJSON_ARRAY) {
			char *end;
			unsigned long i = strtoul(path, &end, 10);

			if (end == path + len && i < v->n)
				next = v->items[i];
		}
		v = next;
		path += len;
		if (*path == '.')
			path++;
	}
	return v;
}

const char *tjson_str(const struct tjson *v, const char *path)
{
	const struct tjson *s = tjson_path(v, path);

	return s != NULL && s->type == TJSON_STRING ? s->string : NULL;
}

double tjson_num(const struct tjson *v, const char *path)
{
	const struct tjson *n = tjson_path(v, path);

	ck_assert_msg(n != NULL && n->type == TJSON_NUMBER,
		      "JSON: no number at %s", path);
	return n->number;
}

size_t tjson_len(const struct tjson *v, const char *path)
{
	const struct tjson *a = tjson_path(v, path);

	ck_assert_msg(a != NULL && a->type == TJSON_ARRAY,
		      "JSON: no array at %s", path);
	return a->n;
}

void tjson_free(struct tjson *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		tjson_free(v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
	free(v);
}
