/*
 * my-snapshot.c - what `verify` needs of MySQL: a scratch database made
 * and dropped on the server of the connection, and the schema of a
 * database as text lines read from information_schema.
 *
 * A line per object or attribute, "kind name details", names without
 * the database (the scratch database's name differs from run to run):
 * tables (engine, collation, comment), columns (type, null, default,
 * extra, collation, comment), indexes (unique, type, columns), foreign
 * keys (columns, referenced table and columns, rules), views, routines,
 * triggers and events (an MD5 of the definition). Column order is left
 * out, as on PostgreSQL, so that a down which adds a column back at the
 * end is as right as it can be. The tracking table is left out.
 */
#include "my.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Names of scratch databases start so; nothing else is ever dropped. */
#define MY_SCRATCH_PREFIX "dbmigrate_verify_"

/* The snapshot's query; %1$s is the database and %2$s the tracking
   table, both as string literals. */
static const char my_snapshot_sql[] =
	"SELECT CONCAT('table ', TABLE_NAME, ' engine ', IFNULL(ENGINE, ''),"
	" ' collation ', IFNULL(TABLE_COLLATION, ''),"
	" IF(TABLE_COMMENT <> '', CONCAT(' comment ', QUOTE(TABLE_COMMENT)), ''))"
	" FROM information_schema.TABLES WHERE TABLE_SCHEMA = %1$s"
	" AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> %2$s"
	" UNION ALL SELECT CONCAT('column ', TABLE_NAME, '.', COLUMN_NAME, ' ',"
	" COLUMN_TYPE, IF(IS_NULLABLE = 'NO', ' not null', ''),"
	" IF(COLUMN_DEFAULT IS NULL, '', CONCAT(' default ', COLUMN_DEFAULT)),"
	" IF(EXTRA <> '', CONCAT(' ', EXTRA), ''),"
	" IF(COLLATION_NAME IS NULL, '', CONCAT(' collate ', COLLATION_NAME)),"
	" IF(COLUMN_COMMENT <> '', CONCAT(' comment ', QUOTE(COLUMN_COMMENT)), ''))"
	" FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %1$s"
	" AND TABLE_NAME <> %2$s"
	" AND TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.TABLES"
	" WHERE TABLE_SCHEMA = %1$s AND TABLE_TYPE = 'BASE TABLE')"
	" UNION ALL SELECT CONCAT('index ', TABLE_NAME, '.', INDEX_NAME,"
	" IF(NON_UNIQUE = 0, ' unique', ''), ' ', INDEX_TYPE, ' (',"
	" GROUP_CONCAT(CONCAT(COLUMN_NAME, IFNULL(CONCAT('(', SUB_PART, ')'), ''))"
	" ORDER BY SEQ_IN_INDEX SEPARATOR ', '), ')')"
	" FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %1$s"
	" AND TABLE_NAME <> %2$s GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE,"
	" INDEX_TYPE"
	" UNION ALL SELECT CONCAT('constraint ', k.TABLE_NAME, '.',"
	" k.CONSTRAINT_NAME, ' foreign key (', GROUP_CONCAT(k.COLUMN_NAME ORDER BY"
	" k.ORDINAL_POSITION SEPARATOR ', '), ') references ',"
	" k.REFERENCED_TABLE_NAME, ' (', GROUP_CONCAT(k.REFERENCED_COLUMN_NAME"
	" ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), ') on update ',"
	" r.UPDATE_RULE, ' on delete ', r.DELETE_RULE)"
	" FROM information_schema.KEY_COLUMN_USAGE k"
	" JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
	" ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA"
	" AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME"
	" WHERE k.TABLE_SCHEMA = %1$s AND k.REFERENCED_TABLE_NAME IS NOT NULL"
	" AND k.TABLE_NAME <> %2$s"
	" GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME,"
	" r.UPDATE_RULE, r.DELETE_RULE"
	" UNION ALL SELECT CONCAT('view ', TABLE_NAME, ' ', MD5(VIEW_DEFINITION))"
	" FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %1$s"
	" UNION ALL SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME, ' ',"
	" MD5(IFNULL(ROUTINE_DEFINITION, '')))"
	" FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %1$s"
	" UNION ALL SELECT CONCAT('trigger ', TRIGGER_NAME, ' ', ACTION_TIMING,"
	" ' ', EVENT_MANIPULATION, ' on ', EVENT_OBJECT_TABLE, ' ',"
	" MD5(ACTION_STATEMENT))"
	" FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %1$s"
	" UNION ALL SELECT CONCAT('event ', EVENT_NAME, ' ',"
	" MD5(EVENT_DEFINITION))"
	" FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %1$s";

/* Make a scratch database beside c's and connect to it. */
dbmigrate_code my_scratch_open(dbmigrate_conn *c, dbmigrate_conn **out)
{
	struct my_target t;
	struct drvkit_text q = {0};
	char name[64];
	unsigned r;
	dbmigrate_code rc;

	*out = NULL;
	r = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^
	    (unsigned)(size_t)c;
	snprintf(name, sizeof name, MY_SCRATCH_PREFIX "%ld_%08x", (long)getpid(),
		 r);
	drvkit_text_puts(&q, "CREATE DATABASE ");
	my_text_ident(&q, name);
	drvkit_text_puts(&q, " CHARACTER SET utf8mb4");
	if (q.failed) {
		free(q.s);
		return my_exec_nomem(c);
	}
	if (my_exec(c, q.s, q.len) != 0) {
		unsigned err = mysql_errno(c->my);

		free(q.s);
		my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT, NULL,
			     0, "cannot create a scratch database");
		if (err == 1044 || err == 1227)
			my_exec_log(c, DBMIGRATE_LOG_DEBUG,
				    "the user lacks the CREATE privilege on "
				    "*.* or on %s%%",
				    MY_SCRATCH_PREFIX);
		return DBMIGRATE_EDATABASE;
	}
	free(q.s);
	if (my_target_copy(&t, &c->target) != 0)
		return my_exec_nomem(c);
	free(t.database);
	t.database = strdup(name);
	rc = t.database != NULL ? my_connect_target(c->host, &t, out)
				: my_exec_nomem(c);
	my_target_free(&t);
	if (rc == DBMIGRATE_OK && ((*out)->scratch_db = strdup(name)) == NULL)
		rc = my_exec_nomem(c);
	if (rc != DBMIGRATE_OK) {
		struct drvkit_text d = {0};

		my_close(*out);
		*out = NULL;
		drvkit_text_puts(&d, "DROP DATABASE IF EXISTS ");
		my_text_ident(&d, name);
		if (!d.failed)
			(void)my_exec(c, d.s, d.len);
		free(d.s);
		return rc;
	}
	(*out)->is_scratch = 1;
	return DBMIGRATE_OK;
}

/* Close the scratch connection and drop its database. */
dbmigrate_code my_scratch_close(dbmigrate_conn *c, dbmigrate_conn *scratch)
{
	struct drvkit_text q = {0};
	dbmigrate_code rc = DBMIGRATE_OK;
	char *name;

	if (scratch == NULL)
		return DBMIGRATE_OK;
	name = scratch->scratch_db;
	scratch->scratch_db = NULL;
	my_close(scratch);
	if (name == NULL || strncmp(name, MY_SCRATCH_PREFIX,
				    sizeof MY_SCRATCH_PREFIX - 1) != 0) {
		free(name);
		return DBMIGRATE_OK;
	}
	drvkit_text_puts(&q, "DROP DATABASE IF EXISTS ");
	my_text_ident(&q, name);
	if (q.failed)
		rc = my_exec_nomem(c);
	else if (my_exec(c, q.s, q.len) != 0)
		rc = my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				  NULL, 0, "cannot drop the scratch database");
	free(q.s);
	free(name);
	return rc;
}

/* The schema of c's database as lines. */
dbmigrate_code my_snapshot(dbmigrate_conn *c, const char *table,
			   dbmigrate_line_fn fn, void *ctx)
{
	struct my_table t;
	struct drvkit_text db = {0}, name = {0}, q = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ok;
	dbmigrate_code rc = my_table_parse(c, table, &t);

	if (rc != DBMIGRATE_OK)
		return rc;
	my_text_literal(c, &db, c->target.database);
	my_text_literal(c, &name, t.name);
	my_text_printf(&q, my_snapshot_sql, db.s, name.s);
	free(db.s);
	free(name.s);
	my_table_free(&t);
	if (q.failed || db.failed || name.failed) {
		free(q.s);
		return my_exec_nomem(c);
	}
	if (my_exec_str(c, "SET SESSION group_concat_max_len = 1048576") != 0) {
		free(q.s);
		return my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				    NULL, 0, "cannot read the schema");
	}
	res = my_exec_query(c, q.s, &ok);
	free(q.s);
	if (!ok)
		return my_exec_fail(c, DBMIGRATE_EDATABASE, DBMIGRATE_NO_STATEMENT,
				    NULL, 0, "cannot read the schema");
	while (res != NULL && (row = mysql_fetch_row(res)) != NULL)
		if (row[0] != NULL && fn(ctx, row[0]) != 0)
			break;
	mysql_free_result(res);
	return DBMIGRATE_OK;
}
