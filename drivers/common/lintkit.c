/*
 * lintkit.c - see lintkit.h.
 */
#include "lintkit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int lintkit_is(const struct lintkit *l, size_t i, const char *kw)
{
	return i < l->n && l->w[i].len == strlen(kw) &&
	       strncasecmp(l->w[i].s, kw, l->w[i].len) == 0;
}

size_t lintkit_find(const struct lintkit *l, size_t i, size_t end,
		    const char *kw)
{
	while (i < end && !lintkit_is(l, i, kw))
		i++;
	return i;
}

int lintkit_name(const struct lintkit *l, size_t i,
		 int (*ident)(const struct lintkit *l, size_t i),
		 void (*copy)(const struct lintkit *l, size_t i, char *out),
		 struct lintkit_name *nm)
{
	if (!ident(l, i))
		return 0;
	while (lintkit_is(l, i + 1, ".") && ident(l, i + 2))
		i += 2;
	copy(l, i, nm->s);
	nm->next = i + 1;
	return 1;
}

/* lintkit_emit() with its arguments as a va_list. */
static void lintkit_vemit(struct lintkit *l, struct dbmigrate_lint_report *r,
			  size_t i, const char *fmt, va_list ap)
{
	char msg[512];

	if (l->stop)
		return;
	r->offset = i < l->n ? (size_t)(l->w[i].s - l->sql) : 0;
	if (fmt != NULL) {
		vsnprintf(msg, sizeof msg, fmt, ap);
		r->message = msg;
	}
	l->stop = l->fn(l->ctx, r) != 0;
}

void lintkit_emit(struct lintkit *l, struct dbmigrate_lint_report *r,
		  size_t i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lintkit_vemit(l, r, i, fmt, ap);
	va_end(ap);
}

void lintkit_report(struct lintkit *l, enum dbmigrate_lint_kind kind,
		    const char *rule, size_t i, const char *table,
		    unsigned flags, const char *hint, const char *fmt, ...)
{
	struct dbmigrate_lint_report r = {
		.kind = kind,
		.rule = rule,
		.hint = hint,
		.table = table,
		.flags = flags,
	};
	va_list ap;

	va_start(ap, fmt);
	lintkit_vemit(l, &r, i, fmt, ap);
	va_end(ap);
}

void lintkit_rename(struct lintkit *l, const char *table, size_t i,
		    size_t end,
		    int (*name)(const struct lintkit *l, size_t i,
				struct lintkit_name *nm),
		    const char *table_hint, const char *column_hint)
{
	struct lintkit_name col;
	size_t k = i + 1;

	if (lintkit_is(l, k, "TO")) {
		lintkit_report(l, DBMIGRATE_LINT_WARNING, "rename", i, table,
			       DBMIGRATE_LINT_EXISTING_TABLE, table_hint,
			       "renaming table %s breaks the running code that "
			       "still uses the old name",
			       table);
		return;
	}
	if (lintkit_is(l, k, "COLUMN"))
		k++;
	if (k >= end || !name(l, k, &col))
		return;
	lintkit_report(l, DBMIGRATE_LINT_WARNING, "rename", i, table,
		       DBMIGRATE_LINT_EXISTING_TABLE, column_hint,
		       "renaming column %s.%s breaks the running code that "
		       "still uses the old name",
		       table, col.s);
}
