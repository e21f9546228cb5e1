/*
 * pg.c - the PostgreSQL driver: its vtable, connecting, transactions and
 * cancelling. The tracking table, applying migrations, the runner lock
 * and statement classification live in pg-table.c, pg-apply.c,
 * pg-lock.c and pg-classify.c.
 *
 * The driver keeps no global state: everything is in the connection,
 * and the host's services come in through open().
 */
#include "pg.h"

#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/drvkit.h"

/* What replaces a password found in a message. */
#define PG_MASK "********"

/* The most secrets one connection attempt can carry (see pg_secrets). */
#define PG_SECRETS 4

/* Forward a server message to the host as "SEVERITY: message" (NOTICE,
   WARNING, INFO...), with its detail and hint lines: the host prints it
   as it is, so the severity word comes from here, once. */
static void pg_notice(void *arg, const PGresult *res)
{
	dbmigrate_conn *c = arg;
	const char *sev =
	    PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	enum dbmigrate_log_level level = DBMIGRATE_LOG_NOTICE;

	if (sev == NULL)
		sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	if (sev == NULL)
		sev = "NOTICE";
	if (msg == NULL)
		return;
	/* DEBUG and LOG reach us only if a migration lowered
	   client_min_messages: that is detail, not news. */
	if (strncmp(sev, "DEBUG", 5) == 0 || strcmp(sev, "LOG") == 0)
		level = DBMIGRATE_LOG_DEBUG;
	pg_exec_log(c, level, "%s: %s%s%s%s%s", sev, msg,
		    detail != NULL ? "\nDETAIL: " : "",
		    detail != NULL ? detail : "",
		    hint != NULL ? "\nHINT: " : "", hint != NULL ? hint : "");
}

/* Add s (len bytes) to the secrets to mask, as a new string. */
static void pg_secret_add(char **secrets, size_t *n, const char *s, size_t len)
{
	char *d;

	if (s == NULL || len == 0 || *n >= PG_SECRETS)
		return;
	if ((d = malloc(len + 1)) == NULL)
		return;
	memcpy(d, s, len);
	d[len] = '\0';
	secrets[(*n)++] = d;
}

/*
 * The password of a URL as written (still percent-encoded) and of a
 * keyword string as written, found by hand: libpq quotes the raw text in
 * some of its parse errors, where PQconninfoParse() cannot help.
 */
static void pg_secret_raw(const char *url, char **secrets, size_t *n)
{
	const char *p = strstr(url, "://");
	const char *end;
	const char *colon;

	if (p != NULL) {
		p += 3;
		end = p + strcspn(p, "@/");
		colon = memchr(p, ':', (size_t)(end - p));
		if (*end == '@' && colon != NULL)
			pg_secret_add(secrets, n, colon + 1,
				      (size_t)(end - colon - 1));
		return;
	}
	for (p = strstr(url, "password"); p != NULL;
	     p = strstr(p + 1, "password")) {
		const char *v = p + 8;

		while (*v == ' ')
			v++;
		if (*v++ != '=')
			continue;
		while (*v == ' ')
			v++;
		if (*v == '\'') {
			v++;
			end = strchr(v, '\'');
			if (end == NULL)
				end = v + strlen(v);
		} else {
			end = v + strcspn(v, " \t\n");
		}
		pg_secret_add(secrets, n, v, (size_t)(end - v));
		return;
	}
}

/* Collect every form of the password the connection attempt carried. */
static size_t pg_secrets(const struct dbmigrate_params *p, char **secrets)
{
	size_t n = 0;

	if (p->password != NULL)
		pg_secret_add(secrets, &n, p->password, strlen(p->password));
	if (p->url != NULL) {
		PQconninfoOption *opts = PQconninfoParse(p->url, NULL);

		for (PQconninfoOption *o = opts; o != NULL && o->keyword; o++)
			if (strcmp(o->keyword, "password") == 0 &&
			    o->val != NULL)
				pg_secret_add(secrets, &n, o->val,
					      strlen(o->val));
		PQconninfoFree(opts);
		pg_secret_raw(p->url, secrets, &n);
	}
	return n;
}

/*
 * Copy a libpq message with every secret replaced by a mask, runs of
 * spaces squeezed ("FATAL:  x") and trailing white space removed.
 * NULL when out of memory.
 */
static char *pg_clean(const char *msg, char *const *secrets, size_t n)
{
	size_t cap = strlen(msg) * (sizeof PG_MASK) + 1;
	char *out = malloc(cap);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (const char *s = msg; *s != '\0';) {
		size_t i;

		for (i = 0; i < n; i++) {
			size_t len = strlen(secrets[i]);

			if (strncmp(s, secrets[i], len) == 0) {
				memcpy(out + o, PG_MASK, sizeof PG_MASK - 1);
				o += sizeof PG_MASK - 1;
				s += len;
				break;
			}
		}
		if (i < n)
			continue;
		if (*s == ' ' && o > 0 && out[o - 1] == ' ') {
			s++;
			continue;
		}
		out[o++] = *s++;
	}
	while (o > 0 && (out[o - 1] == '\n' || out[o - 1] == ' ' ||
			 out[o - 1] == '\t' || out[o - 1] == '\r'))
		o--;
	out[o] = '\0';
	return out;
}

/*
 * Report a failed connection: libpq's first line as the message, the
 * other lines (libpq's advice, other addresses tried) as the detail.
 */
static dbmigrate_code pg_connect_error(dbmigrate_conn *c,
				       const struct dbmigrate_params *p)
{
	char *secrets[PG_SECRETS];
	size_t n = pg_secrets(p, secrets);
	char *msg = pg_clean(PQerrorMessage(c->pg), secrets, n);
	const char *hint = NULL;
	char *detail = NULL;
	dbmigrate_code rc;

	if (msg == NULL) {
		rc = pg_exec_nomem(c);
	} else {
		if ((detail = strchr(msg, '\n')) != NULL) {
			*detail++ = '\0';
			/* libpq indents its advice with tabs. */
			for (char *d = detail; *d != '\0'; d++)
				if (*d == '\t')
					*d = ' ';
			while (*detail == ' ')
				detail++;
		}
		if (strstr(msg, "password authentication failed") != NULL ||
		    strstr(msg, "no password supplied") != NULL)
			hint = "Check the password given in the URL, "
			       "DB_PASSWORD, PGPASSWORD or ~/.pgpass.";
		if (*msg == '\0')
			rc = pg_exec_error(c, DBMIGRATE_ECONNECT, NULL, NULL,
					   "could not connect to the database");
		else
			rc = pg_exec_error(c, DBMIGRATE_ECONNECT, detail, hint,
					   "%s", msg);
	}
	free(msg);
	for (size_t i = 0; i < n; i++)
		free(secrets[i]);
	return rc;
}

/* Tell the host (for -v) what it connected to. */
static void pg_log_server(dbmigrate_conn *c)
{
	const char *version = PQparameterStatus(c->pg, "server_version");

	pg_exec_log(c, DBMIGRATE_LOG_DEBUG,
		    "connected to PostgreSQL %s at %s port %s, database "
		    "\"%s\", user \"%s\"",
		    version != NULL ? version : "(unknown version)",
		    PQhost(c->pg), PQport(c->pg), PQdb(c->pg), PQuser(c->pg));
}

/*
 * Drive a connection started by PQconnectStartParams() to its end,
 * polling so that the user can interrupt it, until deadline (drvkit_now()
 * seconds; 0: no limit) - libpq leaves the limit to us in this mode.
 * Reports an interruption or the deadline (*final set: no retry); a
 * failure of libpq's is left in c->pg for the caller to report, as a
 * retry may follow (*final clear).
 */
static dbmigrate_code pg_connect(dbmigrate_conn *c,
				 const struct dbmigrate_params *p,
				 double deadline, int *final)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	*final = 1;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		*final = 0;
		return DBMIGRATE_ECONNECT;
	}
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		struct pollfd pfd = {
		    .fd = PQsocket(c->pg),
		    .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
		int ready = 1;

		if (pfd.fd >= 0)
			ready = poll(&pfd, 1, 100) > 0;
		if (c->host->interrupted(c->host->ctx))
			return pg_exec_error(c, DBMIGRATE_EINTERRUPTED, NULL,
					     NULL,
					     "interrupted while connecting");
		if (deadline > 0 && drvkit_now() > deadline) {
			return pg_exec_error(
			    c, DBMIGRATE_ECONNECT, NULL,
			    "Check that the server runs and that nothing "
			    "between here and there drops the connection, "
			    "or allow more time with --connect-timeout.",
			    "connection to server at \"%s\", port %s failed: "
			    "timeout expired after %g s",
			    PQhost(c->pg), PQport(c->pg), p->connect_timeout);
		}
		if (ready)
			st = PQconnectPoll(c->pg);
	}
	if (st == PGRES_POLLING_OK)
		return DBMIGRATE_OK;
	*final = 0;
	return DBMIGRATE_ECONNECT;
}

/*
 * Is the failure of a connection attempt one that waiting can cure? Ask
 * the server the way pg_isready does (PQpingParams): no answer at all
 * (not started yet, connection refused, no socket file) or "running
 * but not accepting connections" (starting up, recovering: SQLSTATE
 * 57P03) is worth a retry. A server that accepts connections refused
 * ours for a reason of its own - a wrong password, no such database or
 * role - and retrying would only hide that.
 */
static int pg_transient(const char *const *keys, const char *const *vals)
{
	PGPing ping = PQpingParams(keys, vals, 1);

	return ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT;
}

/*
 * Connect c->pg: one attempt without a connect timeout (libpq's own
 * behaviour); with one, attempts until the timeout runs out, as long as
 * the server is merely not up yet (pg_transient), with a backoff from
 * 0.25 s doubling to 2 s. The first retry is logged as a warning.
 */
static dbmigrate_code pg_connect_retry(dbmigrate_conn *c,
				       const struct dbmigrate_params *p,
				       const char *const *keys,
				       const char *const *vals)
{
	double deadline = p->connect_timeout > 0
			      ? drvkit_now() + p->connect_timeout
			      : 0;
	double backoff = 0.25;
	unsigned attempt = 1;

	for (;;) {
		dbmigrate_code rc;
		int final;

		c->pg = PQconnectStartParams(keys, vals, 1);
		if (c->pg == NULL)
			return pg_exec_nomem(c);
		/* At once: a server WARNING during startup must not reach
		   stderr. */
		PQsetNoticeReceiver(c->pg, pg_notice, c);
		rc = pg_connect(c, p, deadline, &final);
		if (rc == DBMIGRATE_OK || final)
			return rc;
		if (deadline == 0 || drvkit_now() + backoff > deadline ||
		    !pg_transient(keys, vals))
			return pg_connect_error(c, p);
		if (attempt == 1)
			pg_exec_log(c, DBMIGRATE_LOG_WARNING,
				    "the server at \"%s\", port %s is not "
				    "accepting connections yet; retrying for up "
				    "to %g s (--connect-timeout)",
				    PQhost(c->pg), PQport(c->pg),
				    p->connect_timeout);
		else
			pg_exec_log(c, DBMIGRATE_LOG_DEBUG,
				    "connection attempt %u failed; retrying "
				    "in %g s",
				    attempt, backoff);
		PQfinish(c->pg);
		c->pg = NULL;
		(void)drvkit_nap(c->host, backoff, 0.1);
		if (c->host->interrupted(c->host->ctx)) {
			struct dbmigrate_driver_error e = {
			    .code = DBMIGRATE_EINTERRUPTED,
			    .message = "interrupted while connecting",
			    .statement = DBMIGRATE_NO_STATEMENT};

			c->host->error(c->host->ctx, &e);
			return DBMIGRATE_EINTERRUPTED;
		}
		backoff = backoff * 2 < 2 ? backoff * 2 : 2;
		attempt++;
	}
}

/*
 * Put schema (params->schema, ABI 5) first on the session's
 * search_path, before what the server or the URL set: unqualified names
 * in the migrations then resolve and are created there.
 */
static dbmigrate_code pg_set_schema(dbmigrate_conn *c, const char *schema)
{
	const char *params[1] = {schema};
	PGresult *res = pg_exec_run(
	    c,
	    "SELECT pg_catalog.set_config('search_path', "
	    "pg_catalog.quote_ident($1) || COALESCE(', ' || "
	    "NULLIF(pg_catalog.current_setting('search_path'), ''), ''), "
	    "false)",
	    1, params, PG_EXEC_CANCELLABLE);
	dbmigrate_code rc = DBMIGRATE_OK;

	if (!pg_exec_ok(res))
		rc = pg_exec_fail(c, DBMIGRATE_ECONNECT, res,
				  DBMIGRATE_NO_STATEMENT,
				  "cannot set the search path");
	else
		pg_exec_log(c, DBMIGRATE_LOG_DEBUG, "search_path = %s",
			    PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* The schema of params, when the host's params are new enough. */
static const char *pg_params_schema(const struct dbmigrate_params *p)
{
	if (p->struct_size < offsetof(struct dbmigrate_params, schema) +
				 sizeof p->schema)
		return NULL;
	return p->schema;
}

/* Connect with libpq; see driver.h. */
static dbmigrate_code pg_open(const struct dbmigrate_host *host,
			      const struct dbmigrate_params *p,
			      dbmigrate_conn **out)
{
	const char *keys[9];
	const char *vals[9];
	char timeout[32];
	dbmigrate_conn *c;
	dbmigrate_code rc;
	int n = 0;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		struct dbmigrate_driver_error e = {.code = DBMIGRATE_ENOMEM,
						   .message = "out of memory",
						   .statement =
						       DBMIGRATE_NO_STATEMENT};

		host->error(host->ctx, &e);
		return DBMIGRATE_ENOMEM;
	}
	c->host = host;
	c->citus = -1;
	/*
	 * Before dbname: with expand_dbname, a URL's own application_name
	 * comes later and wins. After it: an explicit connect timeout
	 * overrides the URL's.
	 */
	keys[n] = "application_name";
	vals[n++] =
	    p->application_name != NULL ? p->application_name : "dbmigrate";
	if (p->url != NULL) {
		keys[n] = "dbname";
		vals[n++] = p->url;
	} else {
		keys[n] = "dbname";
		vals[n++] = p->database;
		keys[n] = "host";
		vals[n++] = p->host;
		keys[n] = "port";
		vals[n++] = p->port;
		keys[n] = "user";
		vals[n++] = p->user;
		keys[n] = "password";
		vals[n++] = p->password;
	}
	if (p->connect_timeout > 0) {
		/* libpq takes whole seconds and treats 1 as 2: round up. */
		long t = p->connect_timeout < 1e6 ? (long)p->connect_timeout
						  : 1000000;

		if ((double)t < p->connect_timeout)
			t++;
		snprintf(timeout, sizeof timeout, "%ld", t < 2 ? 2 : t);
		keys[n] = "connect_timeout";
		vals[n++] = timeout;
	}
	keys[n] = NULL;
	vals[n] = NULL;

	rc = pg_connect_retry(c, p, keys, vals);
	if (rc != DBMIGRATE_OK) {
		PQfinish(c->pg);
		free(c);
		return rc;
	}
	c->server_version = PQserverVersion(c->pg);
	if ((c->cancel = PQgetCancel(c->pg)) == NULL ||
	    PQsetnonblocking(c->pg, 1) != 0) {
		rc = pg_exec_error(c, DBMIGRATE_ECONNECT, NULL, NULL,
				   "could not prepare the connection: %s",
				   PQerrorMessage(c->pg));
		if (c->cancel != NULL)
			PQfreeCancel(c->cancel);
		PQfinish(c->pg);
		free(c);
		return rc;
	}
	pg_log_server(c);
	if (pg_params_schema(p) != NULL &&
	    (rc = pg_set_schema(c, pg_params_schema(p))) != DBMIGRATE_OK) {
		PQfreeCancel(c->cancel);
		PQfinish(c->pg);
		free(c);
		return rc;
	}
	*out = c;
	return DBMIGRATE_OK;
}

/* Disconnect; the server then releases the advisory lock too. */
static void pg_close(dbmigrate_conn *c)
{
	if (c == NULL)
		return;
	if (c->cancel != NULL)
		PQfreeCancel(c->cancel);
	PQfinish(c->pg);
	free(c);
}

/* Run a transaction command; code is what a server refusal reports. */
static dbmigrate_code pg_tx(dbmigrate_conn *c, const char *sql,
			    dbmigrate_code code, const char *what)
{
	PGresult *res = pg_exec_run(c, sql, 0, NULL, 0);
	dbmigrate_code rc = DBMIGRATE_OK;

	if (!pg_exec_ok(res))
		rc = pg_exec_fail(c, res != NULL ? code : DBMIGRATE_EDATABASE,
				  res, DBMIGRATE_NO_STATEMENT, what);
	PQclear(res);
	return rc;
}

/* BEGIN. */
static dbmigrate_code pg_begin(dbmigrate_conn *c)
{
	return pg_tx(c, "BEGIN", DBMIGRATE_EDATABASE,
		     "cannot start a transaction");
}

/*
 * COMMIT. The server answers COMMIT in an aborted transaction with
 * ROLLBACK and no error: that is a failure too. A server error here
 * (a deferred constraint) is the migrations' fault, so EMIGRATION.
 */
static dbmigrate_code pg_commit(dbmigrate_conn *c)
{
	PGresult *res = pg_exec_run(c, "COMMIT", 0, NULL, 0);
	dbmigrate_code rc = DBMIGRATE_OK;

	if (!pg_exec_ok(res))
		rc = pg_exec_fail(
		    c, res != NULL ? DBMIGRATE_EMIGRATION : DBMIGRATE_EDATABASE,
		    res, DBMIGRATE_NO_STATEMENT,
		    "cannot commit the transaction");
	else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		rc = pg_exec_error(c, DBMIGRATE_EDATABASE,
				   "A statement of the transaction had failed, "
				   "so the server rolled it back instead.",
				   NULL,
				   "the transaction was rolled back, "
				   "not committed");
	PQclear(res);
	return rc;
}

/* ROLLBACK. */
static dbmigrate_code pg_rollback(dbmigrate_conn *c)
{
	return pg_tx(c, "ROLLBACK", DBMIGRATE_EDATABASE,
		     "cannot roll back the transaction");
}

/* Cancel the running statement; async-signal-safe (see pg_exec_cancel). */
static void pg_cancel(dbmigrate_conn *c)
{
	pg_exec_cancel(c);
}

/* The URL schemes the driver serves besides its name. */
static const char *const pg_schemes[] = { "postgresql", NULL };

static const struct dbmigrate_driver pg_driver = {
    .abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
    .struct_size = sizeof(struct dbmigrate_driver),
    .name = "postgres",
    .description = "PostgreSQL through libpq",
    .caps = DBMIGRATE_CAP_TRANSACTIONAL_DDL | DBMIGRATE_CAP_LOCK |
	    DBMIGRATE_CAP_CANCEL | DBMIGRATE_CAP_SCHEMA,
    .backend = "PostgreSQL",
    .schemes = pg_schemes,
    .lock_kind = "a session-level advisory lock (pg_try_advisory_lock), polled",
    .lock_table_note = "PostgreSQL: \"out of shared memory\", "
		       "max_locks_per_transaction",
    .split = pg_split,
    .classify = pg_classify,
    .open = pg_open,
    .close = pg_close,
    .cancel = pg_cancel,
    .configure = pg_apply_configure,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .lock = pg_lock,
    .unlock = pg_lock_release,
    .ensure_table = pg_table_ensure,
    .table_exists = pg_table_exists,
    .read_rows = pg_table_read,
    .read_rows_brief = pg_table_read_brief,
    .drop_table = pg_table_drop,
    .apply = pg_apply,
    .apply_batch = pg_apply_batch,
    .scratch_open = pg_scratch_open,
    .scratch_close = pg_scratch_close,
    .snapshot = pg_snapshot,
    .lint = pg_lint,
    .table_columns = pg_table_columns,
    .read_table = pg_table_read_any,
};

DBMIGRATE_DRIVER_DEFINE(pg_driver)
