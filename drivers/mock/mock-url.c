/*
 * mock-url.c - the mock's URL: its path, the fault parameters after "?"
 * (percent-decoded), and the check that a file's directory exists.
 * Below mock.c; calls only mock-report.c.
 */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "../common/drvkit.h"


#define MOCK_SLEEP_MAX 86400000u /* sleep=: a day at most */

/* Decode %XX escapes of s[0, len) into a new string; a malformed
   escape stays as written. NULL when out of memory. */
static char *mock_decode(const char *s, size_t len)
{
	char *d = malloc(len + 1), *w = d;

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && drvkit_hex(s[i + 1]) >= 0 &&
		    drvkit_hex(s[i + 2]) >= 0) {
			*w++ = (char)(drvkit_hex(s[i + 1]) * 16 +
				      drvkit_hex(s[i + 2]));
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return d;
}

/* The parameters a mock URL may carry, in the order of mock_param(). */
static const char *const mock_params[] = {
	"fail", "refuse", "lock", "log", "sleep", "busy", "busy_times", NULL};

/* Apply one URL parameter; *refuse is set by refuse=1. */
static dbmigrate_code mock_param(dbmigrate_conn *c, const char *key,
				 const char *value, unsigned *seen, int *refuse)
{
	static const char hint[] =
		"The mock driver's URL parameters are fail=TEXT, refuse=1, "
		"lock=held, log=PATH, sleep=MS, busy=TEXT and busy_times=N.";
	unsigned long ms;
	char *end;
	size_t p;

	for (p = 0; mock_params[p] != NULL; p++)
		if (strcmp(key, mock_params[p]) == 0)
			break;
	if (mock_params[p] == NULL)
		return mock_report(c, DBMIGRATE_ECONNECT, NULL, hint,
				   "mock: unknown URL parameter \"%s\"", key);
	if (*seen & (1u << p))
		return mock_report(c, DBMIGRATE_ECONNECT, NULL, hint,
				   "mock: URL parameter \"%s\" given twice",
				   key);
	*seen |= 1u << p;
	if (value == NULL || value[0] == '\0')
		return mock_report(c, DBMIGRATE_ECONNECT, NULL, hint,
				   "mock: URL parameter \"%s\" needs a value",
				   key);
	switch (p) {
	case 0:
		if ((c->fail = strdup(value)) == NULL)
			return mock_nomem(c);
		return DBMIGRATE_OK;
	case 1:
		if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
			return mock_report(c, DBMIGRATE_ECONNECT, NULL, hint,
					   "mock: refuse must be 0 or 1, not "
					   "\"%s\"",
					   value);
		*refuse = value[0] == '1';
		return DBMIGRATE_OK;
	case 2:
		if (strcmp(value, "held") != 0)
			return mock_report(c, DBMIGRATE_ECONNECT, NULL, hint,
					   "mock: lock must be \"held\", not "
					   "\"%s\"",
					   value);
		c->lock_held = 1;
		return DBMIGRATE_OK;
	case 3:
		if ((c->log_path = strdup(value)) == NULL)
			return mock_nomem(c);
		return DBMIGRATE_OK;
	case 5:
		if ((c->busy = strdup(value)) == NULL)
			return mock_nomem(c);
		return DBMIGRATE_OK;
	case 6:
		errno = 0;
		ms = strtoul(value, &end, 10);
		if (errno != 0 || *end != '\0' || value[0] < '0' ||
		    value[0] > '9' || ms > 1000)
			return mock_report(c, DBMIGRATE_ECONNECT, NULL, hint,
					   "mock: busy_times must be a number "
					   "up to 1000, not \"%s\"",
					   value);
		c->busy_times = (unsigned)ms;
		return DBMIGRATE_OK;
	default:
		errno = 0;
		ms = strtoul(value, &end, 10);
		if (errno != 0 || *end != '\0' || value[0] < '0' ||
		    value[0] > '9' || ms > MOCK_SLEEP_MAX)
			return mock_report(c, DBMIGRATE_ECONNECT, NULL, hint,
					   "mock: sleep must be a number of "
					   "milliseconds up to %u, not \"%s\"",
					   MOCK_SLEEP_MAX, value);
		c->sleep_ms = (unsigned)ms;
		return DBMIGRATE_OK;
	}
}

/*
 * Take a mock URL apart: "mock:" or "mock://", then the state file path
 * (none: in memory), then "?" and parameters joined by "&". The URL is
 * never quoted in a message: a URL meant for another driver may hold a
 * password.
 */
dbmigrate_code mock_parse_url(dbmigrate_conn *c, const char *url)
{
	const char *rest, *q, *end, *amp, *eq;
	unsigned seen = 0;
	int refuse = 0;
	dbmigrate_code rc = DBMIGRATE_OK;

	if (strncasecmp(url, "mock:", 5) != 0)
		return mock_report(
		    c, DBMIGRATE_ECONNECT, NULL,
		    "Use \"mock:\" for an in-memory database, or "
		    "\"mock:PATH\" for one kept in the file PATH.",
		    "mock: the URL does not start with \"mock:\"");
	rest = url + 5;
	if (rest[0] == '/' && rest[1] == '/')
		rest += 2;
	q = strchr(rest, '?');
	end = q != NULL ? q : rest + strlen(rest);
	if (end > rest &&
	    (c->path = mock_decode(rest, (size_t)(end - rest))) == NULL)
		return mock_nomem(c);
	for (const char *p = q != NULL ? q + 1 : end;
	     *p != '\0' && rc == DBMIGRATE_OK;
	     p = *amp != '\0' ? amp + 1 : amp) {
		char *key, *value = NULL;

		amp = p + strcspn(p, "&");
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		key = mock_decode(p, (size_t)((eq != NULL ? eq : amp) - p));
		if (eq != NULL)
			value = mock_decode(eq + 1, (size_t)(amp - eq - 1));
		if (key == NULL || (eq != NULL && value == NULL))
			rc = mock_nomem(c);
		else
			rc = mock_param(c, key, value, &seen, &refuse);
		free(key);
		free(value);
	}
	if (rc == DBMIGRATE_OK && refuse)
		rc = mock_report(
		    c, DBMIGRATE_ECONNECT,
		    "The URL asks the mock driver to act as a "
		    "server that refuses connections.",
		    NULL, "mock: connection refused (refuse=1 in the URL)");
	return rc;
}

/* Check that a state file that does not exist yet can be created. */
dbmigrate_code mock_check_dir(dbmigrate_conn *c)
{
	char *dir = mock_state_dirname(c->path);
	const char *why = NULL;
	struct stat st;
	dbmigrate_code rc = DBMIGRATE_OK;

	if (dir == NULL)
		return mock_nomem(c);
	if (stat(dir, &st) != 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	if (why != NULL)
		rc = mock_report(c, DBMIGRATE_ECONNECT, NULL,
				 "The mock driver creates the state file, but "
				 "not its directory.",
				 "mock: cannot use state file %s: %s: %s",
				 c->path, dir, why);
	free(dir);
	return rc;
}
