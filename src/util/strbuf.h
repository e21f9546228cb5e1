/*
 * strbuf.h - a growable, always NUL-terminated byte buffer. An allocation
 * failure sets a sticky flag instead of aborting (the library never
 * exits); check strbuf_failed() once at the end.
 */
#ifndef DBMIGRATE_STRBUF_H
#define DBMIGRATE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *s;     /* NUL-terminated once anything was added; may be NULL */
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed; contents are incomplete */
};

#define STRBUF_INIT { NULL, 0, 0, false }

/* Append n bytes of p. Returns false (and sets failed) on no memory. */
bool strbuf_add(struct strbuf *b, const void *p, size_t n);
/* Append a NUL-terminated string. */
bool strbuf_puts(struct strbuf *b, const char *s);
/* Append one byte. */
bool strbuf_putc(struct strbuf *b, char c);
/* Append formatted text. */
bool strbuf_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Make room for n more bytes. */
bool strbuf_reserve(struct strbuf *b, size_t n);
/* Take the buffer (never NULL unless failed: "" for an empty one). */
char *strbuf_steal(struct strbuf *b);
/* Free the buffer and reset it. */
void strbuf_free(struct strbuf *b);
/* strdup with the same sticky flag: NULL stays NULL; on no memory it
   returns NULL and sets *failed (check it once, after the copies). */
char *str_dup(const char *s, bool *failed);

/*
 * Make room for element n of the array *arrayp (a pointer to a T *, of
 * elements of size bytes, *cap of them allocated): when n is *cap, the
 * array grows to first elements, or twice its size. False when out of
 * memory, the array as it was.
 */
bool array_grow(void *arrayp, size_t *cap, size_t n, size_t size,
		size_t first);

/* vasprintf without _GNU_SOURCE: a new string, NULL when out of memory. */
char *str_vformat(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* The value of hex digit c (either case), or -1. */
int str_hexval(char c);

/* True when an allocation failed. */
static inline bool strbuf_failed(const struct strbuf *b) { return b->failed; }

#endif
