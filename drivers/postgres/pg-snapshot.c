/*
 * pg-snapshot.c - what `verify` needs of PostgreSQL: a scratch database
 * made and dropped on the server of the connection, and the schema of a
 * database as text lines, read from pg_catalog (not pg_dump, which would
 * be a second program of a matching version to find and run).
 *
 * A line per object or attribute, "kind qualified.name details", with
 * everything a migration can change and nothing that differs between two
 * runs of the same migrations (no OIDs, no sizes, no sequence values):
 * schemas, extensions, tables (partitioning, inheritance, persistence,
 * row security, options), columns (type, collation, not null, default,
 * identity, generated), constraints, indexes, sequences, views and
 * materialized views, functions and procedures (definition digest),
 * triggers, types (enum, domain, range, composite), policies, rules,
 * comments on relations and columns, and privileges on relations. Column
 * order is left out: PostgreSQL cannot put a column back where a down
 * found it, so comparing it would fail downs that are as right as they
 * can be. Roles and other cluster-wide objects are not in a database.
 */
#include "pg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The driver's own vtable (pg.c): scratch connections are opened and
   closed exactly as open() and close() do. */
const struct dbmigrate_driver *dbmigrate_driver_entry(void);

/* Names of scratch databases start so; nothing else is ever dropped. */
#define PG_SCRATCH_PREFIX "dbmigrate_verify_"

/* The oldest server the snapshot query reads (prokind: 11, attgenerated:
   12). */
#define PG_SNAPSHOT_MIN_VERSION 120000

/*
 * The schema as lines. $1 is the tracking table, quoted as in SQL text;
 * it, its indexes and its constraints are left out, as are objects that
 * belong to an extension (the extension's own line stands for them,
 * schemas included), the public schema and plpgsql, which every new
 * database has, and Citus's extensions, which every database of a
 * Citus cluster has (a scratch database gets them, pg_scratch_open()).
 * On Citus, a line per distributed, reference or Citus local table
 * follows (pg_snapshot_citus()).
 */
static const char pg_snapshot_sql[] =
	"WITH ns AS ("
	" SELECT oid, nspname FROM pg_namespace"
	" WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
	" AND nspname NOT LIKE 'pg!_temp!_%' ESCAPE '!'"
	" AND nspname NOT LIKE 'pg!_toast!_temp!_%' ESCAPE '!'),"
	" ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),"
	" rel AS ("
	" SELECT c.oid, c.relkind, c.relpersistence, c.relispartition,"
	" c.relpartbound, c.reloptions, c.relowner, c.relrowsecurity,"
	" c.relforcerowsecurity,"
	" CASE WHEN c.relacl::text <> acldefault(CASE c.relkind WHEN 'S'"
	" THEN 's'::\"char\" ELSE 'r'::\"char\" END, c.relowner)::text"
	" THEN (SELECT string_agg(x::text, ',' ORDER BY x::text)"
	" FROM unnest(c.relacl) x) END AS acl,"
	" format('%I.%I', n.nspname, c.relname) AS name"
	" FROM pg_class c JOIN ns n ON n.oid = c.relnamespace"
	" WHERE c.oid IS DISTINCT FROM to_regclass($1)::oid"
	" AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid ="
	" 'pg_class'::regclass AND ext.objid = c.oid))"

	/* schemas */
	" SELECT format('schema %I', nspname) FROM ns WHERE nspname <> 'public'"
	" AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid ="
	" 'pg_namespace'::regclass AND ext.objid = ns.oid)"

	/* extensions */
	" UNION ALL SELECT format('extension %I version %s schema %I',"
	" e.extname, e.extversion, n.nspname)"
	" FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
	" WHERE e.extname NOT IN ('plpgsql', 'citus', 'citus_columnar')"

	/* tables */
	" UNION ALL SELECT concat(CASE r.relkind WHEN 'f' THEN 'foreign table '"
	" ELSE 'table ' END, r.name,"
	" CASE WHEN r.relpersistence = 'u' THEN ' unlogged' END,"
	" CASE WHEN r.relkind = 'p' THEN ' partition by ' ||"
	" pg_get_partkeydef(r.oid) END,"
	" CASE WHEN r.relispartition THEN (SELECT ' partition of ' ||"
	" i.inhparent::regclass::text FROM pg_inherits i"
	" WHERE i.inhrelid = r.oid) || ' ' ||"
	" pg_get_expr(r.relpartbound, r.oid) END,"
	" (SELECT ' inherits ' || string_agg(i.inhparent::regclass::text, ', '"
	" ORDER BY i.inhseqno) FROM pg_inherits i"
	" WHERE i.inhrelid = r.oid AND NOT r.relispartition),"
	" (SELECT ' server ' || quote_ident(s.srvname) FROM pg_foreign_table ft"
	" JOIN pg_foreign_server s ON s.oid = ft.ftserver"
	" WHERE ft.ftrelid = r.oid),"
	" CASE WHEN r.relrowsecurity THEN ' row level security' END,"
	" CASE WHEN r.relforcerowsecurity THEN ' forced' END,"
	" CASE WHEN r.reloptions IS NOT NULL THEN ' with (' ||"
	" array_to_string(r.reloptions, ', ') || ')' END)"
	" FROM rel r WHERE r.relkind IN ('r', 'p', 'f')"

	/* columns */
	" UNION ALL SELECT concat('column ', r.name, '.', quote_ident(a.attname),"
	" ' ', format_type(a.atttypid, a.atttypmod),"
	" CASE WHEN a.attcollation <> t.typcollation THEN (SELECT ' collate ' ||"
	" format('%I.%I', cn.nspname, co.collname) FROM pg_collation co"
	" JOIN pg_namespace cn ON cn.oid = co.collnamespace"
	" WHERE co.oid = a.attcollation) END,"
	" CASE WHEN a.attnotnull THEN ' not null' END,"
	" CASE a.attidentity WHEN 'a' THEN ' generated always as identity'"
	" WHEN 'd' THEN ' generated by default as identity' END,"
	" CASE WHEN a.attgenerated <> '' THEN ' generated always as (' ||"
	" pg_get_expr(d.adbin, d.adrelid) || CASE a.attgenerated WHEN 's'"
	" THEN ') stored' ELSE ') virtual' END"
	" WHEN d.adbin IS NOT NULL THEN ' default ' ||"
	" pg_get_expr(d.adbin, d.adrelid) END,"
	" CASE WHEN cardinality(a.attacl) > 0 THEN ' privileges ' ||"
	" (SELECT string_agg(x::text, ',' ORDER BY x::text)"
	" FROM unnest(a.attacl) x) END)"
	" FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0"
	" AND NOT a.attisdropped"
	" JOIN pg_type t ON t.oid = a.atttypid"
	" LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
	" WHERE r.relkind IN ('r', 'p', 'f')"

	/* constraints of tables */
	" UNION ALL SELECT concat('constraint ', r.name, '.',"
	" quote_ident(co.conname), ' ', pg_get_constraintdef(co.oid, true))"
	" FROM rel r JOIN pg_constraint co ON co.conrelid = r.oid"

	/* indexes */
	" UNION ALL SELECT concat('index ', format('%I.%I', n.nspname,"
	" ic.relname), CASE WHEN i.indisunique THEN ' unique' END, ' on ',"
	" r.name, substring(pg_get_indexdef(i.indexrelid) FROM ' USING .*$'),"
	" CASE WHEN NOT i.indisvalid THEN ' invalid' END)"
	" FROM rel r JOIN pg_index i ON i.indrelid = r.oid"
	" JOIN pg_class ic ON ic.oid = i.indexrelid"
	" JOIN pg_namespace n ON n.oid = ic.relnamespace"

	/* sequences */
	" UNION ALL SELECT concat('sequence ', r.name, ' as ',"
	" format_type(s.seqtypid, NULL), ' start ', s.seqstart, ' increment ',"
	" s.seqincrement, ' min ', s.seqmin, ' max ', s.seqmax, ' cache ',"
	" s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' END,"
	" CASE WHEN r.relpersistence = 'u' THEN ' unlogged' END,"
	" (SELECT ' owned by ' || d.refobjid::regclass::text || '.' ||"
	" quote_ident(a.attname) FROM pg_depend d JOIN pg_attribute a"
	" ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
	" WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid"
	" AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
	" LIMIT 1))"
	" FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid"

	/* views */
	" UNION ALL SELECT concat(CASE r.relkind WHEN 'm' THEN"
	" 'materialized view ' ELSE 'view ' END, r.name,"
	" CASE WHEN r.reloptions IS NOT NULL THEN ' with (' ||"
	" array_to_string(r.reloptions, ', ') || ')' END, ' as ',"
	" regexp_replace(btrim(pg_get_viewdef(r.oid, true)), '[[:space:]]+',"
	" ' ', 'g'))"
	" FROM rel r WHERE r.relkind IN ('v', 'm')"

	/* privileges on relations other than the owner's own */
	" UNION ALL SELECT concat('privileges ', r.name, ' ', r.acl)"
	" FROM rel r WHERE r.acl IS NOT NULL"

	/* functions, procedures, aggregates (not a range type's own
	   constructors, which come and go with it) */
	" UNION ALL SELECT concat(CASE p.prokind WHEN 'p' THEN 'procedure '"
	" WHEN 'a' THEN 'aggregate ' WHEN 'w' THEN 'window function '"
	" ELSE 'function ' END, format('%I.%I', n.nspname, p.proname), '(',"
	" pg_get_function_identity_arguments(p.oid), ')',"
	" CASE WHEN p.prokind <> 'p' THEN ' returns ' ||"
	" pg_get_function_result(p.oid) END,"
	" CASE WHEN p.prokind <> 'a' THEN ' definition md5 ' ||"
	" left(md5(pg_get_functiondef(p.oid)), 12) END)"
	" FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace"
	" WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid ="
	" 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))"

	/* triggers */
	" UNION ALL SELECT concat('trigger ', r.name, '.', quote_ident(t.tgname),"
	" ' ', pg_get_triggerdef(t.oid, true),"
	" CASE t.tgenabled WHEN 'D' THEN ' disabled' WHEN 'R' THEN"
	" ' enabled replica' WHEN 'A' THEN ' enabled always' END)"
	" FROM rel r JOIN pg_trigger t ON t.tgrelid = r.oid"
	" WHERE NOT t.tgisinternal"

	/* types */
	" UNION ALL SELECT CASE ty.typtype"
	" WHEN 'e' THEN concat('type ', tn.name, ' as enum (',"
	" (SELECT string_agg(quote_literal(e.enumlabel), ', '"
	" ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = ty.oid),"
	" ')')"
	" WHEN 'd' THEN concat('domain ', tn.name, ' as ',"
	" format_type(ty.typbasetype, ty.typtypmod),"
	" CASE WHEN ty.typnotnull THEN ' not null' END,"
	" ' default ' || ty.typdefault)"
	" WHEN 'r' THEN concat('type ', tn.name, ' as range (subtype = ',"
	" (SELECT format_type(rg.rngsubtype, NULL) FROM pg_range rg"
	" WHERE rg.rngtypid = ty.oid), ')')"
	" ELSE concat('type ', tn.name, ' as (',"
	" (SELECT string_agg(quote_ident(a.attname) || ' ' ||"
	" format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)"
	" FROM pg_attribute a WHERE a.attrelid = ty.typrelid AND a.attnum > 0"
	" AND NOT a.attisdropped), ')') END"
	" FROM pg_type ty JOIN ns n ON n.oid = ty.typnamespace"
	" CROSS JOIN LATERAL (SELECT format('%I.%I', n.nspname, ty.typname)"
	" AS name) tn"
	" WHERE (ty.typtype IN ('e', 'd', 'r') OR (ty.typtype = 'c' AND"
	" (SELECT c.relkind FROM pg_class c WHERE c.oid = ty.typrelid) = 'c'))"
	" AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid ="
	" 'pg_type'::regclass AND ext.objid = ty.oid)"

	/* constraints of domains */
	" UNION ALL SELECT concat('constraint ', format('%I.%I', n.nspname,"
	" ty.typname), '.', quote_ident(co.conname), ' ',"
	" pg_get_constraintdef(co.oid, true))"
	" FROM pg_constraint co JOIN pg_type ty ON ty.oid = co.contypid"
	" JOIN ns n ON n.oid = ty.typnamespace"

	/* row security policies */
	" UNION ALL SELECT concat('policy ', r.name, '.', quote_ident(po.polname),"
	" CASE WHEN po.polpermissive THEN ' permissive' ELSE ' restrictive' END,"
	" ' for ', CASE po.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'"
	" WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END, ' to ',"
	" (SELECT string_agg(q.role, ', ' ORDER BY q.role) FROM (SELECT CASE"
	" WHEN x = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(x)) END"
	" AS role FROM unnest(po.polroles) x) q),"
	" ' using (' || pg_get_expr(po.polqual, po.polrelid) || ')',"
	" ' with check (' || pg_get_expr(po.polwithcheck, po.polrelid) || ')')"
	" FROM rel r JOIN pg_policy po ON po.polrelid = r.oid"

	/* rules other than those that make views */
	" UNION ALL SELECT concat('rule ', r.name, '.', quote_ident(rw.rulename),"
	" ' ', regexp_replace(btrim(pg_get_ruledef(rw.oid, true)),"
	" '[[:space:]]+', ' ', 'g'))"
	" FROM rel r JOIN pg_rewrite rw ON rw.ev_class = r.oid"
	" WHERE rw.rulename <> '_RETURN'"

	/* comments on relations and their columns */
	" UNION ALL SELECT concat('comment ', r.name,"
	" CASE WHEN d.objsubid > 0 THEN '.' || quote_ident(a.attname) END,"
	" ' ', quote_literal(d.description))"
	" FROM rel r JOIN pg_description d ON d.classoid = 'pg_class'::regclass"
	" AND d.objoid = r.oid"
	" LEFT JOIN pg_attribute a ON a.attrelid = r.oid"
	" AND a.attnum = d.objsubid";

/* Refuse a server older than the snapshot query reads. */
static dbmigrate_code pg_snapshot_check_version(dbmigrate_conn *c)
{
	if (c->server_version >= PG_SNAPSHOT_MIN_VERSION)
		return DBMIGRATE_OK;
	return pg_exec_error(c, DBMIGRATE_EUNSUPPORTED, NULL,
			     "Run verify against PostgreSQL 12 or later (a "
			     "scratch server of a newer version will do).",
			     "verify needs PostgreSQL 12 or later; the server "
			     "runs %d.%d",
			     c->server_version / 10000,
			     c->server_version % 10000);
}

/*
 * Pass one line to fn with newlines escaped ("\n"), so that a comment
 * or an expression spanning lines stays one line of the snapshot.
 */
static int pg_snapshot_line(const char *s, dbmigrate_line_fn fn, void *ctx,
			    int *nomem)
{
	size_t n = strlen(s), extra = 0;
	char *d, *o;
	int r;

	for (size_t i = 0; i < n; i++)
		extra += s[i] == '\n' || s[i] == '\r';
	if (extra == 0)
		return fn(ctx, s);
	if ((d = malloc(n + extra + 1)) == NULL) {
		*nomem = 1;
		return 1;
	}
	o = d;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r') {
			*o++ = '\\';
			*o++ = s[i] == '\n' ? 'n' : 'r';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	r = fn(ctx, d);
	free(d);
	return r;
}

/*
 * Citus's metadata, when the database has it: a line per Citus table,
 * "citus distributed s.t by col", "citus reference s.t" or "citus local
 * s.t", so that a down that forgets undistribute_table() is caught.
 */
static const char pg_snapshot_citus_sql[] =
	"SELECT format('citus %s %I.%I%s',"
	" CASE WHEN p.partmethod = 'h' THEN 'distributed'"
	" WHEN p.repmodel = 't' THEN 'reference' ELSE 'local' END,"
	" n.nspname, c.relname,"
	" CASE WHEN p.partmethod = 'h' THEN ' by ' ||"
	" quote_ident(column_to_column_name(p.logicalrelid, p.partkey)) END)"
	" FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid"
	" JOIN pg_namespace n ON n.oid = c.relnamespace";

/* The Citus lines of the snapshot (none without the extension). */
static dbmigrate_code pg_snapshot_citus(dbmigrate_conn *c,
					dbmigrate_line_fn fn, void *ctx)
{
	PGresult *res = pg_exec_run(
		c, "SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL",
		0, NULL, 0);
	dbmigrate_code rc = DBMIGRATE_OK;
	int has = pg_exec_ok(res) && PQntuples(res) == 1 &&
		  strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	int nomem = 0;

	if (!pg_exec_ok(res))
		rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, res,
				  DBMIGRATE_NO_STATEMENT,
				  "cannot read the schema from the catalogs");
	PQclear(res);
	if (rc != DBMIGRATE_OK || !has)
		return rc;
	res = pg_exec_run(c, pg_snapshot_citus_sql, 0, NULL, PG_EXEC_CANCELLABLE);
	if (!pg_exec_ok(res)) {
		rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, res,
				  DBMIGRATE_NO_STATEMENT,
				  "cannot read Citus's metadata");
		PQclear(res);
		return rc;
	}
	for (int i = 0; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 0) &&
		    pg_snapshot_line(PQgetvalue(res, i, 0), fn, ctx, &nomem))
			break;
	PQclear(res);
	return nomem ? pg_exec_nomem(c) : DBMIGRATE_OK;
}

/* Describe the schema of c's database; see driver.h. */
dbmigrate_code pg_snapshot(dbmigrate_conn *c, const char *table,
			   dbmigrate_line_fn fn, void *ctx)
{
	struct pg_table t;
	const char *params[1];
	dbmigrate_code rc;
	PGresult *res;
	int nomem = 0;

	if ((rc = pg_snapshot_check_version(c)) != DBMIGRATE_OK)
		return rc;
	if ((rc = pg_table_parse(c, table, &t)) != DBMIGRATE_OK)
		return rc;
	params[0] = t.quoted;
	res = pg_exec_run(c, pg_snapshot_sql, 1, params, PG_EXEC_CANCELLABLE);
	pg_table_free(&t);
	if (!pg_exec_ok(res)) {
		rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, res,
				  DBMIGRATE_NO_STATEMENT,
				  "cannot read the schema from the catalogs");
		PQclear(res);
		return rc;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		if (PQgetisnull(res, i, 0))
			continue;
		if (pg_snapshot_line(PQgetvalue(res, i, 0), fn, ctx, &nomem))
			break;
	}
	PQclear(res);
	if (nomem)
		return pg_exec_nomem(c);
	return c->citus != 0 ? pg_snapshot_citus(c, fn, ctx) : DBMIGRATE_OK;
}

/* Append "key='value' " to b, value quoted as libpq wants. */
static void pg_kw_add(struct drvkit_text *b, const char *key, const char *value)
{
	drvkit_text_puts(b, key);
	drvkit_text_puts(b, "='");
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			drvkit_text_add(b, "\\", 1);
		drvkit_text_add(b, p, 1);
	}
	drvkit_text_puts(b, "' ");
}

/*
 * The connection parameters of c with the database replaced by name:
 * every option libpq used (user, password, TLS files...), so that the
 * scratch connection is made exactly as c was. When c was given several
 * hosts, the one it reached, since the database was created there.
 */
static char *pg_scratch_conninfo(dbmigrate_conn *c, const char *name)
{
	PQconninfoOption *opts = PQconninfo(c->pg);
	struct drvkit_text b = { 0 };
	int multi = 0;

	if (opts == NULL)
		return NULL;
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "host") == 0 && o->val != NULL &&
		    strchr(o->val, ',') != NULL)
			multi = 1;
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0' ||
		    strcmp(o->keyword, "dbname") == 0)
			continue;
		if (multi && (strcmp(o->keyword, "host") == 0 ||
			      strcmp(o->keyword, "hostaddr") == 0 ||
			      strcmp(o->keyword, "port") == 0))
			continue;
		pg_kw_add(&b, o->keyword, o->val);
	}
	if (multi) {
		pg_kw_add(&b, "host", PQhost(c->pg));
		pg_kw_add(&b, "port", PQport(c->pg));
	}
	pg_kw_add(&b, "dbname", name);
	PQconninfoFree(opts);
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/*
 * Run "verb name [WITH (FORCE)]" on c, outside any transaction (CREATE
 * and DROP DATABASE refuse to run in one). name needs no quoting.
 */
static PGresult *pg_scratch_exec(dbmigrate_conn *c, const char *verb,
				 const char *name, int force)
{
	char sql[256];

	snprintf(sql, sizeof sql, "%s %s%s", verb, name,
		 force && c->server_version >= 130000 ? " WITH (FORCE)" : "");
	return pg_exec_run(c, sql, 0, NULL, PG_EXEC_SIMPLE);
}

/* Drop database name from c, quietly: a clean-up after another error. */
static void pg_scratch_drop_quietly(dbmigrate_conn *c, const char *name)
{
	PQclear(pg_scratch_exec(c, "DROP DATABASE IF EXISTS", name, 1));
}

/* A name for a scratch database nobody else uses. */
static void pg_scratch_name(dbmigrate_conn *c, char *buf, size_t n,
			    unsigned attempt)
{
	struct timespec ts;
	uint32_t r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = (uint32_t)ts.tv_nsec ^ ((uint32_t)ts.tv_sec << 7) ^
	    (uint32_t)(uintptr_t)c ^ (attempt * 2654435761u);
	snprintf(buf, n, PG_SCRATCH_PREFIX "%ld_%08x", (long)getpid(),
		 (unsigned)r);
}

/*
 * 1 when c's database has the Citus extension, 0 when not, -1 when
 * asking failed (reported). The migrations of such a database call
 * create_distributed_table() and friends, so the scratch database gets
 * the extension too.
 */
static int pg_scratch_has_citus(dbmigrate_conn *c)
{
	PGresult *res;
	int r = -1;

	if (c->citus == 0)
		return 0;
	res = pg_exec_run(c,
			  "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension "
			  "WHERE extname = 'citus')",
			  0, NULL, 0);
	if (pg_exec_ok(res) && PQntuples(res) == 1)
		r = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	else
		pg_exec_fail(c, DBMIGRATE_EDATABASE, res, DBMIGRATE_NO_STATEMENT,
			     "cannot ask whether the database has the Citus "
			     "extension");
	PQclear(res);
	return r;
}

/*
 * CREATE EXTENSION citus in a new scratch database. It is a cluster of
 * one node (Citus makes the coordinator hold the shards when it has no
 * workers): verify proves the coordinator's schema, not the workers'.
 */
static dbmigrate_code pg_scratch_citus(dbmigrate_conn *scratch)
{
	PGresult *res = pg_exec_run(scratch, "CREATE EXTENSION citus", 0, NULL,
				    PG_EXEC_SIMPLE);
	dbmigrate_code rc = DBMIGRATE_OK;

	if (!pg_exec_ok(res))
		rc = pg_exec_fail(scratch, DBMIGRATE_EDATABASE, res,
				  DBMIGRATE_NO_STATEMENT,
				  "cannot create the Citus extension in the "
				  "scratch database");
	else
		pg_exec_log(scratch, DBMIGRATE_LOG_DEBUG,
			    "created the Citus extension in the scratch "
			    "database (a cluster of one node)");
	PQclear(res);
	return rc;
}

/* Create a scratch database on c's server and connect; see driver.h. */
dbmigrate_code pg_scratch_open(dbmigrate_conn *c, dbmigrate_conn **out)
{
	struct dbmigrate_params p = { .struct_size = sizeof p };
	char name[64];
	char *conninfo;
	dbmigrate_code rc;
	PGresult *res = NULL;
	const char *state;
	int citus;

	*out = NULL;
	if ((rc = pg_snapshot_check_version(c)) != DBMIGRATE_OK)
		return rc;
	if ((citus = pg_scratch_has_citus(c)) < 0)
		return DBMIGRATE_EDATABASE;
	/* A name already taken (42P04) gets another try. */
	for (unsigned attempt = 0; attempt < 5; attempt++) {
		PQclear(res);
		pg_scratch_name(c, name, sizeof name, attempt);
		res = pg_scratch_exec(c, "CREATE DATABASE", name, 0);
		state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
				    : NULL;
		if (state == NULL || strcmp(state, "42P04") != 0)
			break;
	}
	if (!pg_exec_ok(res)) {
		state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
				    : NULL;
		if (state != NULL && strcmp(state, "42501") == 0)
			rc = pg_exec_error(
			    c, DBMIGRATE_EDATABASE,
			    "verify works in a database of its own, which it "
			    "creates on the server and drops at the end; the "
			    "server refused to create it.",
			    "Give verify an existing, empty database instead "
			    "(dbmigrate verify --url SCRATCH_URL), or grant "
			    "the privilege: ALTER ROLE ... CREATEDB.",
			    "cannot create a scratch database: user \"%s\" "
			    "lacks the CREATEDB privilege",
			    PQuser(c->pg));
		else
			rc = pg_exec_fail(c, DBMIGRATE_EDATABASE, res,
					  DBMIGRATE_NO_STATEMENT,
					  "cannot create a scratch database");
		PQclear(res);
		return rc;
	}
	PQclear(res);
	pg_exec_log(c, DBMIGRATE_LOG_DEBUG,
		    "created the scratch database \"%s\" on %s port %s", name,
		    PQhost(c->pg), PQport(c->pg));
	if ((conninfo = pg_scratch_conninfo(c, name)) == NULL) {
		pg_scratch_drop_quietly(c, name);
		return pg_exec_nomem(c);
	}
	p.url = conninfo;
	rc = dbmigrate_driver_entry()->open(c->host, &p, out);
	free(conninfo);
	if (rc == DBMIGRATE_OK && citus)
		rc = pg_scratch_citus(*out);
	if (rc != DBMIGRATE_OK) {
		if (*out != NULL)
			dbmigrate_driver_entry()->close(*out);
		*out = NULL;
		pg_scratch_drop_quietly(c, name);
	}
	return rc;
}

/* Disconnect from the scratch database and drop it; see driver.h. */
dbmigrate_code pg_scratch_close(dbmigrate_conn *c, dbmigrate_conn *scratch)
{
	char name[64];
	const char *db = scratch != NULL ? PQdb(scratch->pg) : NULL;
	dbmigrate_code rc = DBMIGRATE_OK;
	PGresult *res;

	if (scratch == NULL)
		return DBMIGRATE_OK;
	snprintf(name, sizeof name, "%s", db != NULL ? db : "");
	dbmigrate_driver_entry()->close(scratch);
	/* Only what scratch_open() made: its name, and no quoting needed. */
	if (strncmp(name, PG_SCRATCH_PREFIX, strlen(PG_SCRATCH_PREFIX)) != 0 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
		return pg_exec_error(c, DBMIGRATE_EDATABASE, NULL, NULL,
				     "refusing to drop \"%s\": not a scratch "
				     "database of dbmigrate",
				     name);
	res = pg_scratch_exec(c, "DROP DATABASE", name, 1);
	if (!pg_exec_ok(res)) {
		const char *msg =
		    res != NULL
			? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			: NULL;
		char hint[160];

		snprintf(hint, sizeof hint, "Drop it by hand: DROP DATABASE %s;",
			 name);
		rc = pg_exec_error(c, DBMIGRATE_EDATABASE, NULL, hint,
				   "cannot drop the scratch database \"%s\": %s",
				   name,
				   msg != NULL ? msg : PQerrorMessage(c->pg));
	} else {
		pg_exec_log(c, DBMIGRATE_LOG_DEBUG,
			    "dropped the scratch database \"%s\"", name);
	}
	PQclear(res);
	return rc;
}
