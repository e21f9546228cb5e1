/*
 * url.h - what the core needs to know of a connection URL without
 * knowing any backend: its scheme (to pick the driver) and a copy safe
 * to print (password masked).
 */
#ifndef DBMIGRATE_URL_H
#define DBMIGRATE_URL_H

#include <stddef.h>

/*
 * The driver a URL names: its scheme, lowercased ("postgresql" for
 * PostgreSQL://, "mock" for mock: URLs; a driver may serve schemes
 * besides its name, which driver_load() resolves), NULL for a libpq
 * keyword string ("host=... dbname=...") or "".
 * Writes into buf (size n); returns buf or NULL.
 */
const char *url_driver(const char *url, char *buf, size_t n);

/*
 * A copy of url with any password replaced by "***": the userinfo
 * password of a URI, a password= query parameter, and a password=
 * keyword of a keyword string. NULL on no memory.
 */
char *url_redact(const char *url);

/* Overwrite each of those passwords in place with '*' characters; the
   length never changes, so it works on argv strings. */
void url_mask(char *url);

/* True when url contains a password in any of those forms. */
int url_has_password(const char *url);

#endif
