/*
 * limit.c - the physical limit a migration tool is measured against: the
 * server executing the same SQL with nothing in between. It connects
 * with libpq, sends each FILE as ONE query string (the simple protocol:
 * one message, one round trip, however many statements it holds) and
 * waits for the result. bench/run writes the files: the migrations'
 * statements and their tracking rows between BEGIN and COMMIT, so the
 * server does exactly the work dbmigrate asks of it.
 *
 *   limit URL FILE...   exit 0 when every file ran; errors on stderr
 *   limit --read DIR URL FILE...
 *                       first read every file of DIR, as a tool must
 *                       read its migrations to find what changed: the
 *                       limit of `status` is reading the files plus one
 *                       query for the tracking rows
 *
 * Nothing is timed here: bench/run times this whole process (start,
 * connect, query, exit) the same way it times dbmigrate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define LIMIT_NAME "limit"
#include "limit-files.h"

/* Send one file as one query string; 0 when every statement succeeded. */
static int limit_run(PGconn *pg, const char *path)
{
	char *sql = limit_read(path);
	PGresult *res;
	int ok;

	if (sql == NULL)
		return 1;
	res = PQexec(pg, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	     PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "limit: %s: %s", path, PQerrorMessage(pg));
	PQclear(res);
	free(sql);
	return !ok;
}

int main(int argc, char **argv)
{
	PGconn *pg;
	int rc = 0;

	if (limit_read_option(&argc, &argv) != 0)
		return 1;
	if (argc < 3) {
		fprintf(stderr, "usage: limit [--read DIR] URL FILE...\n");
		return 2;
	}
	pg = PQconnectdb(argv[1]);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "limit: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return 1;
	}
	for (int i = 2; i < argc && rc == 0; i++)
		rc = limit_run(pg, argv[i]);
	PQfinish(pg);
	return rc;
}
