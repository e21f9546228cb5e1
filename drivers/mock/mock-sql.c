/*
 * mock-sql.c - what the mock driver's emulated server checks, read from
 * the first words of a statement (through host->words(), which skips
 * comments and the contents of strings). The mock does not parse SQL: it
 * catches the mistakes that show in object names, as PostgreSQL would
 * report them, and accepts everything else as it is.
 *
 * The catalogue:
 *  - CREATE [OR REPLACE] [UNIQUE|TEMP|UNLOGGED|MATERIALIZED|RECURSIVE...]
 *    TABLE|INDEX [CONCURRENTLY]|VIEW|SEQUENCE|TYPE|FUNCTION|SCHEMA|
 *    EXTENSION|TRIGGER [IF NOT EXISTS] name adds the object, or fails
 *    when the name is taken: 42P07 for tables, indexes, views and
 *    sequences (relations, one namespace), 42710 for types, extensions
 *    and triggers (per table), 42723 for functions, 42P06 for schemas;
 *    IF NOT EXISTS skips with a notice, OR REPLACE replaces;
 *  - CREATE INDEX ... ON t and CREATE TRIGGER ... ON t need the relation
 *    t (42P01); an index goes to t's schema; an unnamed index adds
 *    nothing;
 *  - DROP kind [CONCURRENTLY] [IF EXISTS] name [, name...] removes them,
 *    or fails when one is missing (42P01 tables, views and sequences,
 *    42704 indexes, types, extensions and triggers, 42883 functions,
 *    3F000 schemas) or is of another kind (42809); dropping a relation
 *    drops its indexes and triggers, dropping a schema its objects;
 *  - ALTER TABLE|INDEX|VIEW|SEQUENCE [IF EXISTS] [ONLY] name ... needs
 *    the relation (42P01); ... RENAME TO new renames it (42P07 if taken).
 * Names: lowercased unless quoted, each part cut at 63 bytes, and
 * "public.x" is "x" (the default search_path). Functions are known by
 * name only, without overloading; no other dependency is tracked.
 *
 * Statements PostgreSQL refuses inside a transaction block: the postgres
 * driver's list (pg-classify.c) with its reasons, so that a plan reads
 * the same on both, as of PostgreSQL 12 and later.
 */
#include "mock.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOCK_SQL_WORDS 256    /* words of a statement looked at */
#define MOCK_SQL_IDENT_MAX 63 /* bytes of an identifier, as PostgreSQL */

/* A kind's keyword and the SQLSTATEs PostgreSQL gives for it. */
const struct mock_kind_info mock_sql_kinds[MOCK_NKINDS] = {
	[MOCK_TABLE] = { "table", 1, "42P07", "42P01" },
	[MOCK_INDEX] = { "index", 1, "42P07", "42704" },
	[MOCK_VIEW] = { "view", 1, "42P07", "42P01" },
	[MOCK_SEQUENCE] = { "sequence", 1, "42P07", "42P01" },
	[MOCK_TYPE] = { "type", 0, "42710", "42704" },
	[MOCK_FUNCTION] = { "function", 0, "42723", "42883" },
	[MOCK_SCHEMA] = { "schema", 0, "42P06", "3F000" },
	[MOCK_EXTENSION] = { "extension", 0, "42710", "42704" },
	[MOCK_TRIGGER] = { "trigger", 0, "42710", "42704" },
};

/* Words between CREATE and the kind that do not change the name. */
static const char *const mock_sql_create_modifiers[] = {
	"UNIQUE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL",
	"MATERIALIZED", "RECURSIVE", "CONSTRAINT", NULL
};

/*
 * Statements PostgreSQL refuses inside a transaction block, by their
 * first words; "..." before a keyword finds it anywhere later. The
 * reasons are the postgres driver's, so a plan reads the same on both.
 * REINDEX and CLUSTER take options and are handled in code.
 */
static const struct mock_sql_rule {
	const char *words[5];
	const char *reason;
} mock_sql_rules[] = {
	{ { "CREATE", "INDEX", "CONCURRENTLY" },
	  "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" },
	{ { "CREATE", "UNIQUE", "INDEX", "CONCURRENTLY" },
	  "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" },
	{ { "DROP", "INDEX", "CONCURRENTLY" },
	  "DROP INDEX CONCURRENTLY cannot run inside a transaction block" },
	{ { "VACUUM" }, "VACUUM cannot run inside a transaction block" },
	{ { "CREATE", "DATABASE" },
	  "CREATE DATABASE cannot run inside a transaction block" },
	{ { "DROP", "DATABASE" },
	  "DROP DATABASE cannot run inside a transaction block" },
	{ { "CREATE", "TABLESPACE" },
	  "CREATE TABLESPACE cannot run inside a transaction block" },
	{ { "DROP", "TABLESPACE" },
	  "DROP TABLESPACE cannot run inside a transaction block" },
	{ { "ALTER", "SYSTEM" },
	  "ALTER SYSTEM cannot run inside a transaction block" },
	{ { "CREATE", "SUBSCRIPTION" },
	  "CREATE SUBSCRIPTION cannot run inside a transaction block when it "
	  "creates a replication slot, so it always runs on its own" },
	{ { "DROP", "SUBSCRIPTION" },
	  "DROP SUBSCRIPTION cannot run inside a transaction block when it "
	  "drops a replication slot, so it always runs on its own" },
	{ { "ALTER", "SUBSCRIPTION" },
	  "ALTER SUBSCRIPTION cannot run inside a transaction block when it "
	  "refreshes the publication, so it always runs on its own" },
	{ { "ALTER", "DATABASE", "...SET", "TABLESPACE" },
	  "ALTER DATABASE ... SET TABLESPACE cannot run inside a transaction "
	  "block" },
	{ { "ALTER", "TABLE", "...DETACH", "PARTITION", "...CONCURRENTLY" },
	  "ALTER TABLE ... DETACH PARTITION CONCURRENTLY cannot run inside a "
	  "transaction block" },
	{ { "DISCARD", "ALL" },
	  "DISCARD ALL cannot run inside a transaction block" },
};

/* True when name lies in schema (is "schema.something"). */
static int mock_sql_in_schema(const char *name, const char *schema)
{
	size_t n = strlen(schema);

	return name != NULL && strncmp(name, schema, n) == 0 && name[n] == '.';
}

/* The words of a statement under PostgreSQL's rules, through the host
   (which skips comments and string contents). */
static size_t mock_sql_words(const struct dbmigrate_host *host, const char *sql,
			     size_t len, struct dbmigrate_word *w, size_t max)
{
	return host->words(DBMIGRATE_LEX_POSTGRES, sql, len, w, max);
}

/* True when word i exists and is the keyword kw (case-insensitive). */
static int mock_sql_at(const struct dbmigrate_word *w, size_t n, size_t i,
		       const char *kw)
{
	return i < n && w[i].len == strlen(kw) &&
	       strncasecmp(w[i].s, kw, w[i].len) == 0;
}

/* The kind a keyword names, or MOCK_NKINDS. */
static enum mock_kind mock_sql_kind_at(const struct dbmigrate_word *w, size_t n,
				       size_t i)
{
	int k;

	for (k = 0; k < MOCK_NKINDS; k++)
		if (mock_sql_at(w, n, i, mock_sql_kinds[k].word))
			break;
	return (enum mock_kind)k;
}

/* True when word i can be (part of) a name: bare or quoted identifier. */
static int mock_sql_is_ident(const struct dbmigrate_word *w, size_t n, size_t i)
{
	unsigned char ch;

	if (i >= n || w[i].len == 0)
		return 0;
	ch = (unsigned char)w[i].s[0];
	return ch == '"' || ch == '_' || ch >= 0x80 ||
	       (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/*
 * Append identifier word to out at len (at most MOCK_SQL_IDENT_MAX
 * bytes, cut on a UTF-8 boundary as PostgreSQL does): a quoted one
 * without its quotes and with "" undoubled, a bare one lowercased.
 * Returns the new length.
 */
static size_t mock_sql_ident(const struct dbmigrate_word *word, char *out,
			     size_t len)
{
	const char *s = word->s;
	size_t n = word->len, start = len, i;
	int quoted = 0;

	/* U&"name" keeps its escapes as written: close enough for names. */
	if (n >= 3 && (s[0] == 'U' || s[0] == 'u') && s[1] == '&' &&
	    s[2] == '"') {
		s += 2;
		n -= 2;
	}
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		quoted = 1;
		s++;
		n -= 2;
	}
	for (i = 0; i < n && len - start < MOCK_SQL_IDENT_MAX; i++) {
		char ch = s[i];

		if (quoted && ch == '"' && i + 1 < n && s[i + 1] == '"')
			i++;
		else if (!quoted && ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		out[len++] = ch;
	}
	/* Cut inside a UTF-8 character: drop the bytes of it we kept. */
	if (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) {
		while (len > start &&
		       ((unsigned char)out[len - 1] & 0xC0) == 0x80)
			len--;
		if (len > start)
			len--;
	}
	return len;
}

/*
 * Read a name at word *i, maybe qualified ("s.t", "db.s.t"), into out
 * (MOCK_NAME_MAX bytes) and move *i past it. "public.x" becomes "x",
 * PostgreSQL's default search_path. Returns 0 when there is no name.
 */
static int mock_sql_name(const struct dbmigrate_word *w, size_t n, size_t *i,
			 char *out)
{
	size_t at = *i, len = 0, parts = 0;

	if (!mock_sql_is_ident(w, n, at))
		return 0;
	for (;;) {
		len = mock_sql_ident(&w[at], out, len);
		at++;
		parts++;
		if (parts == 3 || !mock_sql_at(w, n, at, ".") ||
		    !mock_sql_is_ident(w, n, at + 1))
			break;
		out[len++] = '.';
		at++;
	}
	out[len] = '\0';
	if (parts == 2 && strncmp(out, "public.", 7) == 0)
		memmove(out, out + 7, len - 7 + 1);
	*i = at;
	return 1;
}

/* The schema part of a qualified name into out (empty when none). */
static void mock_sql_schema_of(const char *name, char *out)
{
	const char *dot = strrchr(name, '.');
	size_t n = dot != NULL ? (size_t)(dot - name) : 0;

	memcpy(out, name, n);
	out[n] = '\0';
}

/* Qualify an unqualified name with the schema of like ("s.t": "s.name"). */
static void mock_sql_same_schema(char *name, const char *like)
{
	char schema[MOCK_NAME_MAX];
	size_t s, n = strlen(name);

	mock_sql_schema_of(like, schema);
	s = strlen(schema);
	if (s == 0 || strchr(name, '.') != NULL || s + 1 + n >= MOCK_NAME_MAX)
		return;
	memmove(name + s + 1, name, n + 1);
	memcpy(name, schema, s);
	name[s] = '.';
}

/* Normalise the table argument of an operation ("public.migrations"). */
dbmigrate_code mock_sql_table_name(dbmigrate_conn *c, const char *table,
				   char *out)
{
	struct dbmigrate_word w[8] = { { NULL, 0 } };
	size_t n, i = 0;

	n = table != NULL ? mock_sql_words(c->host, table, strlen(table), w, 8) : 0;
	if (!mock_sql_name(w, n, &i, out) || i != n)
		return mock_report(c, DBMIGRATE_EDATABASE, NULL, NULL,
				   "mock: invalid table name \"%s\"",
				   table != NULL ? table : "(null)");
	return DBMIGRATE_OK;
}

/* Fail: a relation the statement needs does not exist. */
static dbmigrate_code mock_sql_no_relation(dbmigrate_conn *c, const char *name)
{
	return mock_server_error(c, "42P01", NULL,
				 "relation \"%s\" does not exist", name);
}

/*
 * Read "ON [ONLY] table" at or after word *i (CREATE INDEX, CREATE and
 * DROP TRIGGER) into owner. Returns 0 when there is none.
 */
static int mock_sql_on_relation(const struct dbmigrate_word *w, size_t n,
				size_t i, char *owner)
{
	while (i < n && !mock_sql_at(w, n, i, "ON"))
		i++;
	if (i >= n)
		return 0;
	i++;
	if (mock_sql_at(w, n, i, "ONLY"))
		i++;
	return mock_sql_name(w, n, &i, owner);
}

/* CREATE ...: add the object, or fail when its name is taken. */
static dbmigrate_code mock_sql_create(dbmigrate_conn *c,
				      const struct dbmigrate_word *w, size_t n)
{
	char name[MOCK_NAME_MAX], owner[MOCK_NAME_MAX];
	int replace = 0, if_not_exists = 0, named, has_owner = 0;
	enum mock_kind k;
	size_t i = 1, m;
	long at;

	for (;;) {
		if (mock_sql_at(w, n, i, "OR") &&
		    mock_sql_at(w, n, i + 1, "REPLACE")) {
			replace = 1;
			i += 2;
			continue;
		}
		for (m = 0; mock_sql_create_modifiers[m] != NULL; m++)
			if (mock_sql_at(w, n, i, mock_sql_create_modifiers[m]))
				break;
		if (mock_sql_create_modifiers[m] == NULL)
			break;
		i++;
	}
	if ((k = mock_sql_kind_at(w, n, i++)) == MOCK_NKINDS)
		return DBMIGRATE_OK;
	if (k == MOCK_INDEX && mock_sql_at(w, n, i, "CONCURRENTLY"))
		i++;
	if (mock_sql_at(w, n, i, "IF") && mock_sql_at(w, n, i + 1, "NOT") &&
	    mock_sql_at(w, n, i + 2, "EXISTS")) {
		if_not_exists = 1;
		i += 3;
	}
	if (k == MOCK_SCHEMA && mock_sql_at(w, n, i, "AUTHORIZATION"))
		i++; /* CREATE SCHEMA AUTHORIZATION role names it after role */
	named = !(k == MOCK_INDEX && mock_sql_at(w, n, i, "ON")) &&
		mock_sql_name(w, n, &i, name);
	if (k == MOCK_INDEX || k == MOCK_TRIGGER) {
		has_owner = mock_sql_on_relation(w, n, i, owner);
		if (has_owner && mock_state_object_find(&c->state, MOCK_TABLE,
							owner, NULL) < 0)
			return mock_sql_no_relation(c, owner);
		/* An index lives in the schema of its table. */
		if (has_owner && named && k == MOCK_INDEX)
			mock_sql_same_schema(name, owner);
	}
	if (!named)
		return DBMIGRATE_OK;
	at = mock_state_object_find(&c->state, k, name,
				    has_owner ? owner : NULL);
	if (at >= 0) {
		if (replace)
			return DBMIGRATE_OK;
		if (if_not_exists) {
			mock_log(c, DBMIGRATE_LOG_NOTICE,
				 "NOTICE: %s \"%s\" already exists, skipping",
				 mock_sql_kinds[k].relation
				     ? "relation"
				     : mock_sql_kinds[k].word,
				 name);
			return DBMIGRATE_OK;
		}
		if (mock_sql_kinds[k].relation)
			return mock_server_error(
			    c, mock_sql_kinds[k].exists, NULL,
			    "relation \"%s\" already exists", name);
		if (k == MOCK_TRIGGER && has_owner)
			return mock_server_error(c, mock_sql_kinds[k].exists,
						 NULL,
						 "trigger \"%s\" for relation "
						 "\"%s\" already exists",
						 name, owner);
		if (k == MOCK_FUNCTION)
			return mock_server_error(
			    c, mock_sql_kinds[k].exists, NULL,
			    "function \"%s\" already exists "
			    "with same argument types",
			    name);
		return mock_server_error(c, mock_sql_kinds[k].exists, NULL,
					 "%s \"%s\" already exists",
					 mock_sql_kinds[k].word, name);
	}
	if (mock_state_object_add(&c->state, k, name,
				  has_owner ? owner : NULL) != 0)
		return mock_nomem(c);
	return DBMIGRATE_OK;
}

/* Remove the objects that go with a dropped relation or schema. */
static void mock_sql_drop_dependents(struct mock_state *st, enum mock_kind k,
				     const char *name)
{
	size_t i = 0;

	while (i < st->nobjects) {
		const struct mock_object *o = &st->objects[i];
		int dep;

		if (k == MOCK_SCHEMA)
			dep = mock_sql_in_schema(o->name, name) ||
			      mock_sql_in_schema(o->owner, name);
		else
			dep = o->owner != NULL && strcmp(o->owner, name) == 0;
		if (dep)
			mock_state_object_remove(st, i);
		else
			i++;
	}
}

/* Drop one object named in a DROP statement. */
static dbmigrate_code mock_sql_drop_one(dbmigrate_conn *c, enum mock_kind k,
					const char *name, const char *owner,
					int if_exists)
{
	const struct mock_kind_info *ki = &mock_sql_kinds[k];
	long at = mock_state_object_find(&c->state, k, name, owner);
	enum mock_kind found;

	if (at < 0) {
		if (if_exists) {
			mock_log(c, DBMIGRATE_LOG_NOTICE,
				 "NOTICE: %s \"%s\" does not exist, skipping",
				 ki->word, name);
			return DBMIGRATE_OK;
		}
		if (k == MOCK_TRIGGER && owner != NULL)
			return mock_server_error(c, ki->missing, NULL,
						 "trigger \"%s\" for table "
						 "\"%s\" does not exist",
						 name, owner);
		return mock_server_error(c, ki->missing, NULL,
					 "%s \"%s\" does not exist", ki->word,
					 name);
	}
	found = c->state.objects[at].kind;
	if (found != k)
		return mock_server_error(c, "42809", NULL,
					 "\"%s\" is not a%s %s", name,
					 k == MOCK_INDEX ? "n" : "", ki->word);
	mock_state_object_remove(&c->state, (size_t)at);
	if (ki->relation || k == MOCK_SCHEMA)
		mock_sql_drop_dependents(&c->state, k, name);
	return DBMIGRATE_OK;
}

/* DROP ...: remove each object named, or fail when one is missing. */
static dbmigrate_code mock_sql_drop(dbmigrate_conn *c,
				    const struct dbmigrate_word *w, size_t n)
{
	char name[MOCK_NAME_MAX], owner[MOCK_NAME_MAX];
	int if_exists = 0, depth;
	dbmigrate_code rc;
	enum mock_kind k;
	size_t i = 1;

	if (mock_sql_at(w, n, i, "MATERIALIZED"))
		i++;
	if ((k = mock_sql_kind_at(w, n, i++)) == MOCK_NKINDS)
		return DBMIGRATE_OK;
	if (mock_sql_at(w, n, i, "CONCURRENTLY"))
		i++;
	if (mock_sql_at(w, n, i, "IF") && mock_sql_at(w, n, i + 1, "EXISTS")) {
		if_exists = 1;
		i += 2;
	}
	while (mock_sql_name(w, n, &i, name)) {
		/* DROP FUNCTION f(int, text): skip the argument list. */
		if (k == MOCK_FUNCTION && mock_sql_at(w, n, i, "(")) {
			for (depth = 0; i < n; i++) {
				depth += mock_sql_at(w, n, i, "(") -
					 mock_sql_at(w, n, i, ")");
				if (depth == 0) {
					i++;
					break;
				}
			}
		}
		if (k == MOCK_TRIGGER && mock_sql_at(w, n, i, "ON")) {
			i++;
			if (!mock_sql_name(w, n, &i, owner))
				return DBMIGRATE_OK;
			rc = mock_sql_drop_one(c, k, name, owner, if_exists);
		} else {
			rc = mock_sql_drop_one(c, k, name, NULL, if_exists);
		}
		if (rc != DBMIGRATE_OK)
			return rc;
		if (!mock_sql_at(w, n, i, ","))
			break;
		i++;
	}
	return DBMIGRATE_OK;
}

/* ALTER TABLE|INDEX|VIEW|SEQUENCE name ...: needs it; follows RENAME TO. */
static dbmigrate_code mock_sql_alter(dbmigrate_conn *c,
				     const struct dbmigrate_word *w, size_t n)
{
	char name[MOCK_NAME_MAX], to[MOCK_NAME_MAX];
	struct mock_object *o;
	int if_exists = 0;
	enum mock_kind k;
	size_t i = 1;
	long at;
	char *dup;

	if (mock_sql_at(w, n, i, "MATERIALIZED"))
		i++;
	k = mock_sql_kind_at(w, n, i++);
	if (k == MOCK_NKINDS || !mock_sql_kinds[k].relation)
		return DBMIGRATE_OK;
	if (mock_sql_at(w, n, i, "IF") && mock_sql_at(w, n, i + 1, "EXISTS")) {
		if_exists = 1;
		i += 2;
	}
	if (mock_sql_at(w, n, i, "ONLY"))
		i++;
	if (mock_sql_at(w, n, i, "ALL") && mock_sql_at(w, n, i + 1, "IN"))
		return DBMIGRATE_OK; /* ALTER TABLE ALL IN TABLESPACE */
	if (!mock_sql_name(w, n, &i, name))
		return DBMIGRATE_OK;
	if ((at = mock_state_object_find(&c->state, k, name, NULL)) < 0) {
		if (!if_exists)
			return mock_sql_no_relation(c, name);
		mock_log(c, DBMIGRATE_LOG_NOTICE,
			 "NOTICE: relation \"%s\" does not exist, skipping",
			 name);
		return DBMIGRATE_OK;
	}
	if (!mock_sql_at(w, n, i, "RENAME") || !mock_sql_at(w, n, i + 1, "TO"))
		return DBMIGRATE_OK;
	i += 2;
	if (!mock_sql_name(w, n, &i, to))
		return DBMIGRATE_OK;
	mock_sql_same_schema(to, name); /* RENAME TO keeps the schema */
	if (mock_state_object_find(&c->state, k, to, NULL) >= 0)
		return mock_server_error(c, "42P07", NULL,
					 "relation \"%s\" already exists", to);
	if ((dup = strdup(to)) == NULL)
		return mock_nomem(c);
	o = &c->state.objects[at];
	free(o->name);
	o->name = dup;
	for (size_t j = 0; j < c->state.nobjects; j++) {
		o = &c->state.objects[j];
		if (o->owner != NULL && strcmp(o->owner, name) == 0) {
			if ((dup = strdup(to)) == NULL)
				return mock_nomem(c);
			free(o->owner);
			o->owner = dup;
		}
	}
	return DBMIGRATE_OK;
}

/* Apply a statement's effect on the catalogue, or fail as PostgreSQL. */
dbmigrate_code mock_sql_catalogue(dbmigrate_conn *c,
				  const struct dbmigrate_stmt *s)
{
	struct dbmigrate_word w[MOCK_SQL_WORDS];
	size_t n = mock_sql_words(c->host, s->sql, s->len, w, MOCK_SQL_WORDS);

	if (mock_sql_at(w, n, 0, "CREATE"))
		return mock_sql_create(c, w, n);
	if (mock_sql_at(w, n, 0, "DROP"))
		return mock_sql_drop(c, w, n);
	if (mock_sql_at(w, n, 0, "ALTER"))
		return mock_sql_alter(c, w, n);
	return DBMIGRATE_OK;
}

/* True when a rule of mock_sql_rules matches the words. */
static int mock_sql_rule_matches(const struct mock_sql_rule *r,
				 const struct dbmigrate_word *w, size_t n)
{
	size_t i = 0;

	for (size_t k = 0; k < 5 && r->words[k] != NULL; k++) {
		const char *kw = r->words[k];

		if (strncmp(kw, "...", 3) == 0) {
			kw += 3;
			while (i < n && !mock_sql_at(w, n, i, kw))
				i++;
		}
		if (!mock_sql_at(w, n, i, kw))
			return 0;
		i++;
	}
	return 1;
}

/*
 * Skip a parenthesised option list at word i (REINDEX, CLUSTER); sets
 * *concurrently when it holds CONCURRENTLY not followed by a false value.
 */
static size_t mock_sql_options(const struct dbmigrate_word *w, size_t n,
			       size_t i, int *concurrently)
{
	if (!mock_sql_at(w, n, i, "("))
		return i;
	for (i++; i < n && !mock_sql_at(w, n, i, ")"); i++)
		if (mock_sql_at(w, n, i, "CONCURRENTLY") &&
		    !mock_sql_at(w, n, i + 1, "FALSE") &&
		    !mock_sql_at(w, n, i + 1, "OFF") &&
		    !mock_sql_at(w, n, i + 1, "0"))
			*concurrently = 1;
	return i < n ? i + 1 : i;
}

/* The reason a statement cannot run in a transaction block, or NULL. */
const char *mock_sql_refusal(const struct dbmigrate_host *host, const char *sql,
			     size_t len)
{
	struct dbmigrate_word w[16];
	size_t n = mock_sql_words(host, sql, len, w, 16), i;
	int concurrently = 0;

	for (size_t r = 0; r < sizeof mock_sql_rules / sizeof mock_sql_rules[0];
	     r++)
		if (mock_sql_rule_matches(&mock_sql_rules[r], w, n))
			return mock_sql_rules[r].reason;
	if (mock_sql_at(w, n, 0, "REINDEX")) {
		i = mock_sql_options(w, n, 1, &concurrently);
		if (concurrently || mock_sql_at(w, n, i + 1, "CONCURRENTLY"))
			return "REINDEX CONCURRENTLY cannot run inside a "
			       "transaction block";
		if (mock_sql_at(w, n, i, "SCHEMA"))
			return "REINDEX SCHEMA cannot run inside a transaction "
			       "block";
		if (mock_sql_at(w, n, i, "DATABASE"))
			return "REINDEX DATABASE cannot run inside a "
			       "transaction block";
		if (mock_sql_at(w, n, i, "SYSTEM"))
			return "REINDEX SYSTEM cannot run inside a transaction "
			       "block";
	}
	if (mock_sql_at(w, n, 0, "CLUSTER")) {
		i = mock_sql_options(w, n, 1, &concurrently);
		if (mock_sql_at(w, n, i, "VERBOSE"))
			i++;
		if (i >= n)
			return "CLUSTER without a table name cannot run inside "
			       "a transaction block";
	}
	return NULL;
}
