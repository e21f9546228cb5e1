/*
 * strbuf.c - a growable byte buffer with a sticky allocation-failure
 * flag, so builders can append freely and check once at the end.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool strbuf_reserve(struct strbuf *b, size_t n)
{
	size_t want, cap;
	char *s;

	if (b->failed)
		return false;
	if (n > SIZE_MAX - b->len - 1) {
		b->failed = true;
		return false;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	s = realloc(b->s, cap);
	if (s == NULL) {
		b->failed = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

bool strbuf_add(struct strbuf *b, const void *p, size_t n)
{
	if (!strbuf_reserve(b, n))
		return false;
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return true;
}

bool strbuf_puts(struct strbuf *b, const char *s)
{
	return strbuf_add(b, s, strlen(s));
}

bool strbuf_putc(struct strbuf *b, char c)
{
	return strbuf_add(b, &c, 1);
}

bool array_grow(void *arrayp, size_t *cap, size_t n, size_t size,
		size_t first)
{
	size_t ncap = *cap == 0 ? first : *cap * 2;
	void *v;

	if (n < *cap)
		return true;
	if (ncap < *cap || ncap > SIZE_MAX / size)
		return false;
	memcpy(&v, arrayp, sizeof v);
	v = realloc(v, ncap * size);
	if (v == NULL)
		return false;
	memcpy(arrayp, &v, sizeof v);
	*cap = ncap;
	return true;
}

char *str_vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

bool strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return false;
	}
	if (!strbuf_reserve(b, (size_t)n))
		return false;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

char *strbuf_steal(struct strbuf *b)
{
	char *s;

	if (b->failed) {
		strbuf_free(b);
		return NULL;
	}
	if (b->s == NULL && !strbuf_reserve(b, 0))
		return NULL;
	if (b->len == 0)
		b->s[0] = '\0';
	s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void strbuf_free(struct strbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

char *str_dup(const char *s, bool *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = true;
	return d;
}

int str_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
