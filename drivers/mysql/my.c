/*
 * my.c - the MySQL/MariaDB driver: its vtable, its URLs, connecting,
 * transactions and cancelling. Splitting and classifying live in
 * my-split.c, running migrations in my-apply.c, the tracking table in
 * my-table.c, the runner lock in my-lock.c, verify in my-snapshot.c.
 *
 * URLs: mysql://USER:PASS@HOST:PORT/DB or mariadb://..., with query
 * options named as the mysql client names them (socket, ssl-ca,
 * ssl-cert, ssl-key, ssl-mode...). A URL without a password reads the
 * option files as the mysql client does ([client] of /etc/my.cnf,
 * /etc/mysql/my.cnf and ~/.my.cnf; MYSQL_READ_DEFAULT_GROUP), so a
 * password kept in ~/.my.cnf is never typed on a command line.
 *
 * cancel() runs in a signal handler: it only writes a byte into a pipe.
 * A thread of the connection's own reads it and sends KILL QUERY over a
 * second connection, which it opens when first needed; the statement of
 * the main connection then returns with "Query execution was
 * interrupted", so nothing of ours is left running on the server.
 *
 * The driver keeps no global state: everything is in the connection.
 */
#include "my.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/drvkit.h"

/* The URL options, as the mysql client names them. */
enum my_opt {
	MY_OPT_SOCKET,
	MY_OPT_SSL_CA,
	MY_OPT_SSL_CAPATH,
	MY_OPT_SSL_CERT,
	MY_OPT_SSL_KEY,
	MY_OPT_SSL_CIPHER,
	MY_OPT_SSL_CRL,
	MY_OPT_SSL_MODE,
	MY_OPT_TLS_VERSION,
	MY_OPT_TLS,
	MY_OPT_CONNECT_TIMEOUT,
	MY_OPT_DEFAULTS_FILE,
	MY_OPT_USER,
	MY_OPT_PASSWORD,
	MY_OPT_N
};

static const char *const my_opt_names[MY_OPT_N] = {
	"socket",  "ssl-ca",	      "ssl-capath",	 "ssl-cert",
	"ssl-key", "ssl-cipher",      "ssl-crl",	 "ssl-mode",
	"tls-version", "tls",	      "connect-timeout", "defaults-file",
	"user",	   "password"};

static const char my_opt_list[] =
	"socket, ssl-ca, ssl-capath, ssl-cert, ssl-key, ssl-cipher, ssl-crl, "
	"ssl-mode, tls-version, tls, connect-timeout, defaults-file, user, "
	"password";

/* Report an error before a connection exists (message: a fixed one,
   well under DRVKIT_ERROR_MAX). */
static dbmigrate_code my_host_error(const struct dbmigrate_host *host,
				    dbmigrate_code code, const char *message,
				    const char *detail, const char *hint)
{
	return drvkit_error(host, code, detail, hint, "%s", message);
}

/* A percent-decoded copy of s[0, n); NULL when out of memory. */
static char *my_decode(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	size_t o = 0;

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && drvkit_hex(s[i + 1]) >= 0 &&
		    drvkit_hex(s[i + 2]) >= 0) {
			d[o++] = (char)(drvkit_hex(s[i + 1]) * 16 +
					 drvkit_hex(s[i + 2]));
			i += 2;
		} else {
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	return d;
}

/* Free what a target holds. */
void my_target_free(struct my_target *t)
{
	char **fields[] = {&t->host,	   &t->socket,	   &t->user,
			   &t->password,   &t->database,   &t->program,
			   &t->ssl_ca,	   &t->ssl_capath, &t->ssl_cert,
			   &t->ssl_key,	   &t->ssl_cipher, &t->ssl_crl,
			   &t->ssl_mode,   &t->tls_version, &t->defaults_file};

	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (*fields[i] != NULL && fields[i] == &t->password)
			memset(t->password, 0, strlen(t->password));
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

/* Deep copy of a target; 0 on success. */
int my_target_copy(struct my_target *dst, const struct my_target *src)
{
	const char *const *from[] = {
	    (const char *const *)&src->host,	   (const char *const *)&src->socket,
	    (const char *const *)&src->user,	   (const char *const *)&src->password,
	    (const char *const *)&src->database,   (const char *const *)&src->program,
	    (const char *const *)&src->ssl_ca,	   (const char *const *)&src->ssl_capath,
	    (const char *const *)&src->ssl_cert,   (const char *const *)&src->ssl_key,
	    (const char *const *)&src->ssl_cipher, (const char *const *)&src->ssl_crl,
	    (const char *const *)&src->ssl_mode,   (const char *const *)&src->tls_version,
	    (const char *const *)&src->defaults_file};
	char **to[] = {&dst->host,	 &dst->socket,	   &dst->user,
		       &dst->password,	 &dst->database,   &dst->program,
		       &dst->ssl_ca,	 &dst->ssl_capath, &dst->ssl_cert,
		       &dst->ssl_key,	 &dst->ssl_cipher, &dst->ssl_crl,
		       &dst->ssl_mode,	 &dst->tls_version, &dst->defaults_file};
	int failed = 0;

	memset(dst, 0, sizeof *dst);
	dst->port = src->port;
	dst->timeout = src->timeout;
	dst->read_defaults = src->read_defaults;
	for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
		if (*from[i] != NULL && (*to[i] = strdup(*from[i])) == NULL)
			failed = 1;
	if (failed)
		my_target_free(dst);
	return failed ? -1 : 0;
}

/* Store an option's decoded value into the target; 0 or an error code. */
static dbmigrate_code my_set_opt(const struct dbmigrate_host *host,
				 struct my_target *t, enum my_opt o, char *v)
{
	char **slot = NULL;

	switch (o) {
	case MY_OPT_SOCKET: slot = &t->socket; break;
	case MY_OPT_SSL_CA: slot = &t->ssl_ca; break;
	case MY_OPT_SSL_CAPATH: slot = &t->ssl_capath; break;
	case MY_OPT_SSL_CERT: slot = &t->ssl_cert; break;
	case MY_OPT_SSL_KEY: slot = &t->ssl_key; break;
	case MY_OPT_SSL_CIPHER: slot = &t->ssl_cipher; break;
	case MY_OPT_SSL_CRL: slot = &t->ssl_crl; break;
	case MY_OPT_TLS_VERSION: slot = &t->tls_version; break;
	case MY_OPT_DEFAULTS_FILE: slot = &t->defaults_file; break;
	case MY_OPT_USER: slot = &t->user; break;
	case MY_OPT_PASSWORD: slot = &t->password; break;
	case MY_OPT_SSL_MODE:
	case MY_OPT_TLS: {
		/* tls=true|false|preferred|skip-verify (Go's driver, SPEC),
		   ssl-mode as the mysql client spells it */
		static const char *const modes[][2] = {
		    {"disabled", "DISABLED"},	{"preferred", "PREFERRED"},
		    {"required", "REQUIRED"},	{"verify_ca", "VERIFY_CA"},
		    {"verify-ca", "VERIFY_CA"}, {"verify_identity", "VERIFY_IDENTITY"},
		    {"verify-identity", "VERIFY_IDENTITY"},
		    {"true", "VERIFY_IDENTITY"}, {"false", "DISABLED"},
		    {"skip-verify", "REQUIRED"}, {NULL, NULL}};

		for (size_t i = 0; modes[i][0] != NULL; i++)
			if (strcasecmp(v, modes[i][0]) == 0) {
				free(t->ssl_mode);
				t->ssl_mode = strdup(modes[i][1]);
				free(v);
				return t->ssl_mode != NULL ? DBMIGRATE_OK
							   : DBMIGRATE_ENOMEM;
			}
		free(v);
		return my_host_error(
		    host, DBMIGRATE_EUSAGE, "invalid ssl-mode in the URL", NULL,
		    "Use ssl-mode=DISABLED, PREFERRED, REQUIRED, VERIFY_CA or "
		    "VERIFY_IDENTITY, as the mysql client spells it (tls=true "
		    "and tls=false also work).");
	}
	case MY_OPT_CONNECT_TIMEOUT: {
		char *end;
		double d = strtod(v, &end);

		free(v);
		if (*end != '\0' || d <= 0 || d > 1e6)
			return my_host_error(host, DBMIGRATE_EUSAGE,
					     "invalid connect-timeout in the URL",
					     NULL, "Give a number of seconds.");
		t->timeout = (unsigned)(d + 0.999);
		return DBMIGRATE_OK;
	}
	case MY_OPT_N:
		break;
	}
	if (slot == NULL) {
		free(v);
		return DBMIGRATE_EUSAGE;
	}
	free(*slot);
	*slot = v;
	return DBMIGRATE_OK;
}

/* Parse the query of a URL (after '?'). */
static dbmigrate_code my_parse_query(const struct dbmigrate_host *host,
				     struct my_target *t, const char *q)
{
	while (*q != '\0') {
		size_t plen = strcspn(q, "&");
		const char *eq = memchr(q, '=', plen);
		size_t klen = eq != NULL ? (size_t)(eq - q) : plen;
		char key[32];
		size_t k;
		char *v;
		dbmigrate_code rc;

		if (klen >= sizeof key)
			klen = sizeof key - 1;
		memcpy(key, q, klen);
		key[klen] = '\0';
		for (char *p = key; *p != '\0'; p++)
			if (*p == '_')
				*p = '-';
		for (k = 0; k < MY_OPT_N; k++)
			if (strcasecmp(key, my_opt_names[k]) == 0)
				break;
		if (k == MY_OPT_N) {
			char msg[128], hint[512];

			snprintf(msg, sizeof msg, "unknown URL option \"%s\"", key);
			snprintf(hint, sizeof hint,
				 "The mysql driver knows %s. Other options of the "
				 "mysql client can go in ~/.my.cnf [client].",
				 my_opt_list);
			return my_host_error(host, DBMIGRATE_EUSAGE, msg, NULL,
					     hint);
		}
		v = eq != NULL ? my_decode(eq + 1, plen - klen - 1) : strdup("");
		if (v == NULL)
			return my_host_error(host, DBMIGRATE_ENOMEM,
					     "out of memory", NULL, NULL);
		if ((rc = my_set_opt(host, t, (enum my_opt)k, v)) != DBMIGRATE_OK)
			return rc;
		q += plen;
		if (*q == '&')
			q++;
	}
	return DBMIGRATE_OK;
}

/* Parse mysql://USER:PASS@HOST:PORT/DB?opts (or mariadb://). */
static dbmigrate_code my_parse_url(const struct dbmigrate_host *host,
				   struct my_target *t, const char *url)
{
	const char *p = strstr(url, "://");
	const char *auth, *at = NULL, *hp, *end, *colon;
	size_t alen;

	if (p == NULL)
		return my_host_error(
		    host, DBMIGRATE_EUSAGE, "invalid MySQL URL", NULL,
		    "Write it as mysql://USER:PASSWORD@HOST:PORT/DATABASE, "
		    "or mysql://USER@/DATABASE?socket=/path/to/mysqld.sock.");
	auth = p + 3;
	alen = strcspn(auth, "/?");
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (at != NULL) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon != NULL) {
			t->user = my_decode(auth, (size_t)(colon - auth));
			t->password = my_decode(colon + 1,
						(size_t)(at - colon - 1));
		} else {
			t->user = my_decode(auth, (size_t)(at - auth));
		}
		if (t->user != NULL && *t->user == '\0') {
			free(t->user);
			t->user = NULL;
		}
		hp = at + 1;
	} else {
		hp = auth;
	}
	end = auth + alen;
	if (hp < end && *hp == '[') {
		const char *rb = memchr(hp, ']', (size_t)(end - hp));

		if (rb == NULL)
			return my_host_error(host, DBMIGRATE_EUSAGE,
					     "invalid MySQL URL: unclosed [ in "
					     "the host",
					     NULL, NULL);
		t->host = my_decode(hp + 1, (size_t)(rb - hp - 1));
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else if (end > hp) {
		colon = memchr(hp, ':', (size_t)(end - hp));
		t->host = my_decode(hp, (size_t)((colon != NULL ? colon : end) -
						 hp));
	} else {
		colon = NULL;
	}
	if (colon != NULL && colon + 1 < end) {
		char *pend;
		long port = strtol(colon + 1, &pend, 10);

		if (pend != end || port <= 0 || port > 65535)
			return my_host_error(host, DBMIGRATE_EUSAGE,
					     "invalid port in the MySQL URL",
					     NULL, "Give a port from 1 to 65535.");
		t->port = (unsigned)port;
	}
	if (t->host != NULL && *t->host == '\0') {
		free(t->host);
		t->host = NULL;
	}
	p = end;
	if (*p == '/') {
		size_t dlen = strcspn(p + 1, "?");

		if (dlen > 0)
			t->database = my_decode(p + 1, dlen);
		p += 1 + dlen;
	}
	if (*p == '?')
		return my_parse_query(host, t, p + 1);
	return DBMIGRATE_OK;
}

/* Fill a target from the host's parameters. */
static dbmigrate_code my_target_from(const struct dbmigrate_host *host,
				     const struct dbmigrate_params *p,
				     struct my_target *t)
{
	dbmigrate_code rc = DBMIGRATE_OK;

	memset(t, 0, sizeof *t);
	if (p->url != NULL) {
		rc = my_parse_url(host, t, p->url);
	} else {
		if (p->host != NULL && *p->host != '\0') {
			if (p->host[0] == '/')
				t->socket = strdup(p->host);
			else
				t->host = strdup(p->host);
		}
		if (p->port != NULL && *p->port != '\0')
			t->port = (unsigned)strtoul(p->port, NULL, 10);
		if (p->user != NULL)
			t->user = strdup(p->user);
		if (p->password != NULL)
			t->password = strdup(p->password);
		if (p->database != NULL)
			t->database = strdup(p->database);
	}
	t->program = strdup(p->application_name != NULL ? p->application_name
							 : "dbmigrate");
	if (p->connect_timeout > 0 && t->timeout == 0)
		t->timeout = (unsigned)(p->connect_timeout + 0.999);
	/* No password given: read it (and the rest) as the mysql client
	   would, from the option files' [client] group. */
	t->read_defaults = t->password == NULL || t->defaults_file != NULL;
	if (rc == DBMIGRATE_OK && t->program == NULL)
		rc = my_host_error(host, DBMIGRATE_ENOMEM, "out of memory",
				   NULL, NULL);
	return rc;
}

/* Set an option that takes a string, when given. */
static void my_opt_str(MYSQL *my, enum mysql_option o, const char *v)
{
	if (v != NULL)
		mysql_optionsv(my, o, v);
}

/* Set the connection options of a target on a new handle. */
static void my_options(MYSQL *my, const struct my_target *t)
{
	unsigned timeout = t->timeout;
	my_bool on = 1;

	if (t->read_defaults) {
		if (t->defaults_file != NULL)
			mysql_optionsv(my, MYSQL_READ_DEFAULT_FILE,
				       t->defaults_file);
		mysql_optionsv(my, MYSQL_READ_DEFAULT_GROUP, "client");
	}
	mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (timeout > 0)
		mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(my, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name",
		       t->program != NULL ? t->program : "dbmigrate");
	my_opt_str(my, MYSQL_OPT_SSL_KEY, t->ssl_key);
	my_opt_str(my, MYSQL_OPT_SSL_CERT, t->ssl_cert);
	my_opt_str(my, MYSQL_OPT_SSL_CA, t->ssl_ca);
	my_opt_str(my, MYSQL_OPT_SSL_CAPATH, t->ssl_capath);
	my_opt_str(my, MYSQL_OPT_SSL_CIPHER, t->ssl_cipher);
	my_opt_str(my, MYSQL_OPT_SSL_CRL, t->ssl_crl);
	my_opt_str(my, MARIADB_OPT_TLS_VERSION, t->tls_version);
	if (t->ssl_mode != NULL) {
		my_bool off = 0;

		if (strcmp(t->ssl_mode, "DISABLED") == 0) {
			mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &off);
		} else if (strcmp(t->ssl_mode, "PREFERRED") != 0) {
			mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &on);
			if (strcmp(t->ssl_mode, "REQUIRED") == 0)
				mysql_optionsv(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
					       &off);
			else
				mysql_optionsv(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
					       &on);
		}
	} else if (t->ssl_ca != NULL || t->ssl_capath != NULL) {
		mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_optionsv(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
	}
}

/* Connect a handle to a target; NULL with *my_errno and msg set. */
static MYSQL *my_connect_handle(const struct my_target *t, unsigned *err,
				char *msg, size_t size)
{
	MYSQL *my = mysql_init(NULL);

	*err = 0;
	if (my == NULL) {
		snprintf(msg, size, "out of memory");
		return NULL;
	}
	my_options(my, t);
	if (mysql_real_connect(my, t->host, t->user, t->password, t->database,
			       t->port, t->socket, CLIENT_MULTI_RESULTS) ==
	    NULL) {
		*err = mysql_errno(my);
		snprintf(msg, size, "%s", mysql_error(my));
		mysql_close(my);
		return NULL;
	}
	/* libmariadb 3.3 enforces TLS only when it verifies the server:
	   REQUIRED (encrypt, do not verify) is checked here. */
	if (t->ssl_mode != NULL && strcmp(t->ssl_mode, "DISABLED") != 0 &&
	    strcmp(t->ssl_mode, "PREFERRED") != 0 &&
	    mysql_get_ssl_cipher(my) == NULL) {
		*err = 2026; /* CR_SSL_CONNECTION_ERROR */
		snprintf(msg, size,
			 "TLS/SSL error: ssl-mode=%s, but the connection is not "
			 "encrypted (the server does not support TLS)",
			 t->ssl_mode);
		mysql_close(my);
		return NULL;
	}
	return my;
}

/* Replace every copy of secret in s by a mask. */
static void my_mask(char *s, const char *secret)
{
	size_t n;
	char *p;

	if (secret == NULL || (n = strlen(secret)) == 0)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memset(p, '*', n);
	}
}

/* True for the client errors a server that is not up yet gives. */
static int my_transient(unsigned err)
{
	return err == 2002 || err == 2003 || err == 2013 || err == 1053;
}

/* The cancel thread: KILL QUERY for each byte cancel() writes. */
static void *my_killer_main(void *arg)
{
	dbmigrate_conn *c = arg;
	MYSQL *killer = NULL;
	char b;

	for (;;) {
		ssize_t r = read(c->killer.fds[0], &b, 1);
		char sql[64], msg[256];
		unsigned err;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || b == 'q')
			break;
		if (killer == NULL) {
			struct my_target t = c->target;

			if (t.timeout == 0 || t.timeout > 5)
				t.timeout = 5;
			killer = my_connect_handle(&t, &err, msg, sizeof msg);
			if (killer == NULL)
				continue;
		}
		snprintf(sql, sizeof sql, "KILL QUERY %lu", c->killer.victim);
		if (mysql_real_query(killer, sql, (unsigned long)strlen(sql)) == 0)
			c->killer.kills++;
	}
	if (killer != NULL)
		mysql_close(killer);
	return NULL;
}

/* Start the cancel thread, with every signal blocked in it. */
static int my_killer_start(dbmigrate_conn *c)
{
	sigset_t all, old;
	int rc;

	c->killer.fds[0] = c->killer.fds[1] = -1;
	if (pipe(c->killer.fds) != 0)
		return -1;
	c->killer.victim = mysql_thread_id(c->my);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&c->killer.thread, NULL, my_killer_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(c->killer.fds[0]);
		close(c->killer.fds[1]);
		c->killer.fds[0] = c->killer.fds[1] = -1;
		return -1;
	}
	c->killer.started = 1;
	return 0;
}

/* Stop the cancel thread after the KILL it may be sending. */
static void my_killer_stop(dbmigrate_conn *c)
{
	if (!c->killer.started)
		return;
	close(c->killer.fds[1]); /* read() then returns 0 */
	pthread_join(c->killer.thread, NULL);
	close(c->killer.fds[0]);
	c->killer.started = 0;
}

/* Say for -v what we connected to. */
static void my_log_server(dbmigrate_conn *c)
{
	const char *info = mysql_get_host_info(c->my);

	my_exec_log(c, DBMIGRATE_LOG_DEBUG,
		    "connected to %s %s via %s, database %s%s%s, connection id %lu",
		    c->mariadb ? "MariaDB" : "MySQL",
		    mysql_get_server_info(c->my), info != NULL ? info : "?",
		    c->target.database != NULL ? "`" : "",
		    c->target.database != NULL ? c->target.database : "(none)",
		    c->target.database != NULL ? "`" : "",
		    mysql_thread_id(c->my));
}

/* Connect to a target, retrying while the server is not up within the
   connect timeout; see driver.h (open). */
dbmigrate_code my_connect_target(const struct dbmigrate_host *host,
				 const struct my_target *t, dbmigrate_conn **out)
{
	double deadline = t->timeout > 0 ? drvkit_now() + t->timeout : 0;
	double backoff = 0.25;
	dbmigrate_conn *c;
	char msg[1024];
	unsigned err;
	MYSQL *my;
	int attempt = 1;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return my_host_error(host, DBMIGRATE_ENOMEM, "out of memory",
				     NULL, NULL);
	c->host = host;
	c->killer.fds[0] = c->killer.fds[1] = -1;
	if (my_target_copy(&c->target, t) != 0) {
		free(c);
		return my_host_error(host, DBMIGRATE_ENOMEM, "out of memory",
				     NULL, NULL);
	}
	while ((my = my_connect_handle(t, &err, msg, sizeof msg)) == NULL) {
		my_mask(msg, t->password);
		if (deadline == 0 || !my_transient(err) ||
		    drvkit_now() + backoff > deadline ||
		    host->interrupted(host->ctx)) {
			char code[16], text[1200];
			struct dbmigrate_driver_error e = {
			    .code = host->interrupted(host->ctx)
					? DBMIGRATE_EINTERRUPTED
					: DBMIGRATE_ECONNECT,
			    .message = text,
			    .backend_code = code,
			    .statement = DBMIGRATE_NO_STATEMENT};

			snprintf(code, sizeof code, "%u", err);
			snprintf(text, sizeof text, "cannot connect to MySQL: %s",
				 msg);
			if (err == 1045)
				e.hint = t->password != NULL
					     ? "Check the user and the password "
					       "given in the URL (or DB_PASSWORD)."
					     : "No password was given, so the "
					       "[client] group of the option "
					       "files (~/.my.cnf) was read: give "
					       "the password there (password=...) "
					       "or in the URL.";
			else if (err == 1049)
				e.hint = "Create the database first (CREATE "
					 "DATABASE name), or name another one "
					 "in the URL.";
			else if (err == 2026)
				e.hint = "Enable TLS on the server (ssl_cert, "
					 "ssl_key), or give a weaker ssl-mode= in "
					 "the URL if the network is trusted.";
			else if (my_transient(err))
				e.hint = "Check that the server runs and listens "
					 "there (host, port or ?socket=), or "
					 "allow it time to start with "
					 "--connect-timeout.";
			host->error(host->ctx, &e);
			my_target_free(&c->target);
			free(c);
			return e.code;
		}
		if (attempt++ == 1) {
			char line[1300];

			snprintf(line, sizeof line,
				 "the MySQL server is not accepting connections "
				 "yet (%s); retrying for up to %u s "
				 "(--connect-timeout)",
				 msg, t->timeout);
			host->log(host->ctx, DBMIGRATE_LOG_WARNING, line);
		}
		if (drvkit_nap(host, backoff, 0.1))
			continue;
		backoff = backoff * 2 < 2 ? backoff * 2 : 2;
	}
	c->my = my;
	c->version = mysql_get_server_version(my);
	c->mariadb = strstr(mysql_get_server_info(my), "MariaDB") != NULL;
	if (my_killer_start(c) != 0) {
		mysql_close(my);
		my_target_free(&c->target);
		free(c);
		return my_host_error(host, DBMIGRATE_ECONNECT,
				     "cannot start the cancel thread", NULL,
				     NULL);
	}
	/* No database in the URL: the one my.cnf chose, if any (a round
	   trip only then). */
	if (c->target.database == NULL) {
		int ok;
		MYSQL_RES *res = my_exec_query(c, "SELECT DATABASE()", &ok);
		MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;

		if (row != NULL && row[0] != NULL)
			c->target.database = strdup(row[0]);
		mysql_free_result(res);
	}
	my_log_server(c);
	*out = c;
	return DBMIGRATE_OK;
}

/* Connect; see driver.h. */
static dbmigrate_code my_open(const struct dbmigrate_host *host,
			      const struct dbmigrate_params *p,
			      dbmigrate_conn **out)
{
	struct my_target t;
	dbmigrate_code rc = my_target_from(host, p, &t);

	*out = NULL;
	if (rc == DBMIGRATE_OK)
		rc = my_connect_target(host, &t, out);
	my_target_free(&t);
	return rc;
}

/* Disconnect; the server releases GET_LOCK's lock with the session. */
void my_close(dbmigrate_conn *c)
{
	if (c == NULL)
		return;
	my_killer_stop(c);
	if (c->my != NULL)
		mysql_close(c->my);
	my_target_free(&c->target);
	free(c->scratch_db);
	free(c);
}

/* Ask the cancel thread to KILL QUERY; async-signal-safe: one write(). */
static void my_cancel(dbmigrate_conn *c)
{
	int saved = errno;

	if (c != NULL && c->killer.started)
		(void)!write(c->killer.fds[1], "k", 1);
	errno = saved;
}

/* START TRANSACTION. */
static dbmigrate_code my_begin(dbmigrate_conn *c)
{
	if (my_exec_str(c, "START TRANSACTION") != 0)
		return my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				    NULL, 0, "cannot start a transaction");
	c->in_tx = 1;
	return DBMIGRATE_OK;
}

/* COMMIT. */
static dbmigrate_code my_commit(dbmigrate_conn *c)
{
	c->in_tx = 0;
	if (my_exec_str(c, "COMMIT") != 0)
		return my_exec_fail(c, DBMIGRATE_EMIGRATION, DBMIGRATE_NO_STATEMENT,
				    NULL, 0, "cannot commit the transaction");
	return DBMIGRATE_OK;
}

/* ROLLBACK. */
static dbmigrate_code my_rollback(dbmigrate_conn *c)
{
	c->in_tx = 0;
	if (my_exec_str(c, "ROLLBACK") != 0)
		return my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				    NULL, 0, "cannot roll back the transaction");
	return DBMIGRATE_OK;
}

/* The URL schemes the driver serves besides its name. */
static const char *const my_schemes[] = {"mariadb", NULL};

static const struct dbmigrate_driver my_driver = {
    .abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
    .struct_size = sizeof(struct dbmigrate_driver),
    .name = "mysql",
    .description = "MySQL and MariaDB through libmariadb (MariaDB Connector/C)",
    .caps = DBMIGRATE_CAP_LOCK | DBMIGRATE_CAP_CANCEL,
    .backend = "MySQL",
    .schemes = my_schemes,
    .lock_kind = "a named lock (GET_LOCK), polled",
    .lock_table_note = NULL,
    .split = my_split,
    .classify = my_classify,
    .open = my_open,
    .close = my_close,
    .cancel = my_cancel,
    .configure = my_apply_configure,
    .begin = my_begin,
    .commit = my_commit,
    .rollback = my_rollback,
    .lock = my_lock,
    .unlock = my_lock_release,
    .ensure_table = my_table_ensure,
    .table_exists = my_table_exists,
    .read_rows = my_table_read,
    .read_rows_brief = my_table_read_brief,
    .drop_table = my_table_drop,
    .record_progress = my_table_progress,
    .apply = my_apply,
    .scratch_open = my_scratch_open,
    .scratch_close = my_scratch_close,
    .snapshot = my_snapshot,
    .lint = my_lint,
    .table_columns = my_table_columns,
    .read_table = my_table_read_any,
};

DBMIGRATE_DRIVER_DEFINE(my_driver)
