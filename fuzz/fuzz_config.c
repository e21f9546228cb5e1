/*
 * fuzz_config.c - libFuzzer harness for what the user types as options:
 * the driver a URL names (url_driver), the printable copy of a URL
 * (url_redact), the CLI's in-place masking of --url in argv and -v
 * output (url_mask), and option values (config_set).
 *
 * Passwords are checked against libpq itself, which is what finally
 * reads the URL: whatever password PQconninfoParse() finds in the
 * original, it must not find that same password in the redacted or
 * masked copy. Option values must be refused exactly when they are
 * invalid, the URL and the password never (so a secret never reaches an
 * error message), and a value that is kept must be kept as given.
 *
 * The first input byte picks the option key and its source; the rest,
 * up to the first NUL, is the value (also used as the URL).
 *
 * tests/fuzz-smoke.sh builds it (make check, make fuzz); by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE \
 *       -Iinclude -Isrc -Isrc/cli $(pkg-config --cflags libpq) \
 *       fuzz/fuzz_config.c src/[a-z]*.c src/cli/output.c src/cli/xalloc.c \
 *       -lcrypto -ldl $(pkg-config --libs libpq) -o fuzz_config
 *   mkdir -p corpus && ./fuzz_config -max_total_time=60 corpus \
 *       tests/data/fuzz/config
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fuzz.h"
#include "config.h"
#include "errors.h"
#include "url.h"

/* The password libpq reads from conninfo (to free), or NULL for none. */
static char *fuzz_libpq_password(const char *conninfo, int *parsed)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	char *pw = NULL;

	*parsed = opts != NULL;
	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0' && (pw = strdup(o->val)) == NULL)
			abort();
	PQconninfoFree(opts);
	return pw;
}

/* True when s is made of '*' only (what masking writes). */
static int fuzz_all_stars(const char *s)
{
	return strspn(s, "*") == strlen(s);
}

/*
 * Check that libpq, reading the copy, does not find the password it
 * finds in the original.
 */
static void fuzz_check_hidden(const char *password, const char *copy)
{
	int parsed;
	char *seen = fuzz_libpq_password(copy, &parsed);

	if (password != NULL && seen != NULL && !fuzz_all_stars(password))
		FUZZ_ASSERT(strcmp(seen, password) != 0);
	free(seen);
}

/* url_driver: a lowercase copy of the scheme, "postgres" for both. */
static void fuzz_url_driver(const char *url)
{
	char buf[64];
	const char *d = url_driver(url, buf, sizeof buf);
	size_t n;

	if (d == NULL)
		return;
	FUZZ_ASSERT(d == buf);
	n = strlen(d);
	FUZZ_ASSERT(n > 0 && n < sizeof buf);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(!(d[i] >= 'A' && d[i] <= 'Z'));
	if (strcmp(d, "postgres") == 0)
		FUZZ_ASSERT(url[8] == ':' || url[10] == ':');
	else
		FUZZ_ASSERT(url[n] == ':');
}

/* url_redact and url_mask (dbmigrate_mask_password) hide what libpq would read. */
static void fuzz_passwords(const char *url)
{
	int parsed;
	char *password = fuzz_libpq_password(url, &parsed);
	char *redacted = url_redact(url);
	char *masked;

	FUZZ_ASSERT(redacted != NULL);
	if (!url_has_password(url))
		FUZZ_ASSERT(strcmp(redacted, url) == 0);
	fuzz_check_hidden(password, redacted);
	/* Masking works in place and keeps the length (argv). */
	if ((masked = strdup(url)) == NULL)
		abort();
	url_mask(masked);
	FUZZ_ASSERT(strlen(masked) == strlen(url));
	fuzz_check_hidden(password, masked);
	free(masked);
	free(redacted);
	free(password);
}

/* True for a driver name: [a-z0-9_]+. */
static int fuzz_valid_driver(const char *s)
{
	return *s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
				     strlen(s);
}

/* config_set: refused exactly when invalid; kept as given. */
static void fuzz_config_set(unsigned sel, const char *value)
{
	struct config c;
	dbmigrate_error err = { .code = DBMIGRATE_OK };
	enum config_key k = (enum config_key)(sel % CONFIG_NKEYS);
	enum config_source src = (enum config_source)(1 + sel / CONFIG_NKEYS % 3);
	char buf[64];
	dbmigrate_code rc;

	memset(&c, 0, sizeof c);
	rc = config_set(&c, k, value, src, &err);
	FUZZ_ASSERT(rc == DBMIGRATE_OK || rc == DBMIGRATE_EUSAGE);
	if (k == CONFIG_URL || k == CONFIG_PASSWORD)
		FUZZ_ASSERT(rc == DBMIGRATE_OK); /* never echoed in an error */
	if (rc != DBMIGRATE_OK) {
		FUZZ_ASSERT(err.code == rc && err.message != NULL);
		FUZZ_ASSERT(c.value[k] == NULL && c.source[k] == CONFIG_UNSET);
		if (k == CONFIG_DRIVER)
			FUZZ_ASSERT(!fuzz_valid_driver(value));
	} else {
		FUZZ_ASSERT(c.value[k] != NULL && strcmp(c.value[k], value) == 0);
		FUZZ_ASSERT(c.source[k] == src);
		switch (k) {
		case CONFIG_DRIVER:
			FUZZ_ASSERT(fuzz_valid_driver(value));
			FUZZ_ASSERT(strcmp(config_driver(&c, buf, sizeof buf), value) == 0);
			break;
		case CONFIG_PORT: {
			char *end;
			long port = strtol(value, &end, 10);

			FUZZ_ASSERT(*end == '\0' && port >= 1 && port <= 65535);
			FUZZ_ASSERT(value[0] >= '0' && value[0] <= '9');
			break;
		}
		case CONFIG_TABLE:
			FUZZ_ASSERT(strcmp(config_table(&c), value) == 0);
			FUZZ_ASSERT(strspn(value, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.") ==
				    strlen(value));
			break;
		case CONFIG_LOCK_TIMEOUT: {
			double t = config_lock_timeout(&c);

			FUZZ_ASSERT(isfinite(t) && t >= 0);
			break;
		}
		case CONFIG_CONNECT_TIMEOUT: {
			double t = config_connect_timeout(&c);

			FUZZ_ASSERT(isfinite(t) && t >= 0);
			break;
		}
		case CONFIG_URL: {
			/* The driver it names is what the loader checks. */
			const char *d = config_driver(&c, buf, sizeof buf);

			FUZZ_ASSERT(d != NULL && d[0] != '\0');
			break;
		}
		default:
			break;
		}
		/* Unsetting frees and forgets. */
		FUZZ_ASSERT(config_set(&c, k, NULL, src, &err) == DBMIGRATE_OK);
		FUZZ_ASSERT(c.value[k] == NULL);
	}
	errors_clear(&err);
	config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value;

	if (size < 1)
		return 0;
	/* A command-line value is a C string: it ends at the first NUL. */
	if ((value = malloc(size)) == NULL)
		abort();
	memcpy(value, data + 1, size - 1);
	value[size - 1] = '\0';
	fuzz_url_driver(value);
	fuzz_passwords(value);
	fuzz_config_set(data[0], value);
	free(value);
	return 0;
}
