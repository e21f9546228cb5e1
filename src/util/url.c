/*
 * url.c - the little the core must know of a connection string without
 * knowing any backend: which driver its scheme names, and where its
 * passwords are so that a copy can be printed safely. Two shapes exist:
 * URIs ("postgres://u:pw@h/db?password=pw", "mock:state.db") and libpq
 * keyword strings ("host=h password='pw' dbname=d").
 */
#include "url.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* Called for each password value found: bytes [off, off + len) of url. */
typedef void (*url_span_fn)(void *ctx, size_t off, size_t len);

/* True for an ASCII letter. */
static int url_isalpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* True for the white space libpq skips between keywords. */
static int url_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/*
 * Length of the scheme of url ([A-Za-z][A-Za-z0-9+.-]* followed by ':',
 * RFC 3986), or 0 when it has none, as in a keyword string.
 */
static size_t url_scheme_len(const char *url)
{
	size_t i = 0;

	if (!url_isalpha(url[0]))
		return 0;
	while (url_isalpha(url[i]) || (url[i] >= '0' && url[i] <= '9') ||
	       url[i] == '+' || url[i] == '.' || url[i] == '-')
		i++;
	return url[i] == ':' ? i : 0;
}

/* True when the n bytes at s spell "password", in any case. */
static int url_is_password_key(const char *s, size_t n)
{
	static const char key[] = "password";

	if (n != sizeof key - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != key[i])
			return 0;
	}
	return 1;
}

/* True when the n bytes at s, percent-decoded as libpq decodes a query
   parameter's name ("pass%77ord"), spell "password" in any case. */
static int url_is_encoded_password_key(const char *s, size_t n)
{
	char key[sizeof "password"];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%' && i + 2 < n &&
		    str_hexval(s[i + 1]) >= 0 && str_hexval(s[i + 2]) >= 0) {
			c = (char)(str_hexval(s[i + 1]) * 16 + str_hexval(s[i + 2]));
			i += 2;
		}
		if (k == sizeof key - 1)
			return 0;
		key[k++] = c;
	}
	return url_is_password_key(key, k);
}

/* Find the passwords of a URI: in its userinfo and its query. */
static void url_scan_uri(const char *url, size_t scheme, url_span_fn fn,
			 void *ctx)
{
	const char *p = url + scheme + 1, *q;

	if (p[0] == '/' && p[1] == '/') {
		const char *auth = p + 2;
		/* libpq ends the userinfo at the first '@' before any '/', even
		   past a '?' or '#'; a lenient reader takes the last '@'. Mask
		   from the first ':' to the last '@' before a '/', which covers
		   both readings. */
		size_t alen = strcspn(auth, "/");
		const char *at = NULL;

		for (size_t i = 0; i < alen; i++)
			if (auth[i] == '@')
				at = auth + i;
		if (at != NULL) {
			const char *colon = memchr(auth, ':',
						   (size_t)(at - auth));

			if (colon != NULL && at > colon + 1)
				fn(ctx, (size_t)(colon + 1 - url),
				   (size_t)(at - colon - 1));
			auth = at + 1;
		}
		p = auth + strcspn(auth, "/?#");
	}
	q = strchr(p, '?');
	if (q == NULL)
		return;
	/* libpq reads every parameter to the end of the string: a '#' is
	   not a fragment to it, so neither is it here. */
	for (q++; *q != '\0';) {
		size_t plen = strcspn(q, "&");
		const char *eq = memchr(q, '=', plen);

		if (eq != NULL &&
		    url_is_encoded_password_key(q, (size_t)(eq - q)) &&
		    plen > (size_t)(eq - q) + 1)
			fn(ctx, (size_t)(eq + 1 - url),
			   plen - (size_t)(eq - q) - 1);
		q += plen;
		if (*q == '&')
			q++;
	}
}

/*
 * Find the password of a libpq keyword string: key = value pairs, a
 * value either 'single quoted' or a word, both with backslash escapes.
 */
static void url_scan_keywords(const char *url, url_span_fn fn, void *ctx)
{
	const char *p = url;

	while (*p != '\0') {
		const char *k, *v;
		size_t klen;

		while (url_isspace(*p))
			p++;
		k = p;
		while (*p != '\0' && *p != '=' && !url_isspace(*p))
			p++;
		klen = (size_t)(p - k);
		while (url_isspace(*p))
			p++;
		if (*p != '=')
			continue; /* a stray word: skip it */
		p++;
		while (url_isspace(*p))
			p++;
		v = p;
		if (*p == '\'') {
			for (p++; *p != '\0' && *p != '\''; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\'')
				p++;
		} else {
			for (; *p != '\0' && !url_isspace(*p); p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
		}
		if (url_is_password_key(k, klen) && p > v)
			fn(ctx, (size_t)(v - url), (size_t)(p - v));
	}
}

/* Call fn for each password in url, in order of position. */
static void url_scan(const char *url, url_span_fn fn, void *ctx)
{
	size_t scheme = url_scheme_len(url);

	if (scheme > 0)
		url_scan_uri(url, scheme, fn, ctx);
	else
		url_scan_keywords(url, fn, ctx);
}

const char *url_driver(const char *url, char *buf, size_t n)
{
	size_t len;

	if (url == NULL || (len = url_scheme_len(url)) == 0 || len >= n)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = url[i];

		buf[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	buf[len] = '\0';
	return buf;
}

/* url_span_fn for url_mask: star the span out. */
static void url_mask_span(void *ctx, size_t off, size_t len)
{
	memset((char *)ctx + off, '*', len);
}

void url_mask(char *url)
{
	if (url != NULL)
		url_scan(url, url_mask_span, url);
}

/* State of url_redact: the copy and how far url was copied. */
struct url_redact_state {
	const char *url;
	struct strbuf out;
	size_t done;
};

/* url_span_fn for url_redact: copy up to the password, then mask it. */
static void url_redact_span(void *ctx, size_t off, size_t len)
{
	struct url_redact_state *st = ctx;

	strbuf_add(&st->out, st->url + st->done, off - st->done);
	strbuf_puts(&st->out, "***");
	st->done = off + len;
}

char *url_redact(const char *url)
{
	struct url_redact_state st = { url, STRBUF_INIT, 0 };

	url_scan(url, url_redact_span, &st);
	strbuf_puts(&st.out, url + st.done);
	return strbuf_steal(&st.out);
}

/* url_span_fn for url_has_password: count. */
static void url_count_span(void *ctx, size_t off, size_t len)
{
	(void)off;
	(void)len;
	++*(int *)ctx;
}

int url_has_password(const char *url)
{
	int n = 0;

	url_scan(url, url_count_span, &n);
	return n > 0;
}
