/*
 * mock-data.c - the rows of ordinary tables, for table_columns() and
 * read_table() (driver ABI 4): `dbmigrate import` reads another tool's
 * history table, and core tests make one with migrations of plain SQL.
 *
 * The mock keeps no table data of its own: it replays the journal of
 * committed statements (which the state file keeps) for the table
 * asked about. Understood:
 *  - CREATE TABLE [IF NOT EXISTS] t (col type ..., CONSTRAINT ...):
 *    the columns, in order (table constraints are not columns);
 *  - ALTER TABLE t ADD [COLUMN] [IF NOT EXISTS] col ...;
 *  - INSERT INTO t [(cols)] VALUES (...), (...): literals only ('text'
 *    with '' doubled, numbers, TRUE and FALSE as PostgreSQL renders them,
 *    "t" and "f", NULL; a ::type cast is dropped; anything else, such as
 *    now(), is NULL);
 *  - DELETE FROM t (every row; a WHERE col = literal deletes those
 *    rows), TRUNCATE t, DROP TABLE t.
 * Existence comes from the catalogue (mock-sql.c), as for every object.
 */
#include "mock.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOCK_DATA_WORDS 512  /* words of a statement looked at */
#define MOCK_DATA_COLUMNS 64 /* columns of a table, at most */

/* A table as the journal builds it. */
struct mock_data {
	char *col[MOCK_DATA_COLUMNS];
	size_t ncol;
	char **cell; /* nrow * ncol, row-major; NULL for SQL NULL */
	size_t nrow, cap;
	int nomem;
};

/* True when word i is the keyword kw. */
static int mock_data_at(const struct dbmigrate_word *w, size_t n, size_t i,
			const char *kw)
{
	return i < n && w[i].len == strlen(kw) &&
	       strncasecmp(w[i].s, kw, w[i].len) == 0;
}

/* Identifier word as a normalised name into out (MOCK_NAME_MAX). */
static void mock_data_ident(const struct dbmigrate_word *w, char *out)
{
	size_t n = 0;

	if (w->len >= 2 && w->s[0] == '"') {
		for (size_t i = 1; i + 1 < w->len && n + 1 < MOCK_NAME_MAX; i++) {
			if (w->s[i] == '"' && i + 2 < w->len && w->s[i + 1] == '"')
				i++;
			out[n++] = w->s[i];
		}
	} else {
		for (size_t i = 0; i < w->len && n + 1 < MOCK_NAME_MAX; i++)
			out[n++] = (char)(w->s[i] >= 'A' && w->s[i] <= 'Z'
					      ? w->s[i] - 'A' + 'a'
					      : w->s[i]);
	}
	out[n] = '\0';
}

/* The table name at word *i (maybe "s.t"; public. dropped) into out. */
static int mock_data_name(const struct dbmigrate_word *w, size_t n, size_t *i,
			  char *out)
{
	char part[MOCK_NAME_MAX];

	if (*i >= n)
		return 0;
	mock_data_ident(&w[*i], out);
	(*i)++;
	while (mock_data_at(w, n, *i, ".") && *i + 1 < n) {
		size_t len = strlen(out);

		mock_data_ident(&w[*i + 1], part);
		if (strcmp(out, "public") == 0)
			len = 0;
		else if (len + 1 < MOCK_NAME_MAX)
			out[len++] = '.';
		snprintf(out + len, MOCK_NAME_MAX - len, "%s", part);
		*i += 2;
	}
	return 1;
}

/* Free a table's data and reset it. */
static void mock_data_clear(struct mock_data *d, int columns)
{
	for (size_t i = 0; i < d->nrow * d->ncol; i++)
		free(d->cell[i]);
	free(d->cell);
	d->cell = NULL;
	d->nrow = d->cap = 0;
	if (!columns)
		return;
	for (size_t k = 0; k < d->ncol; k++)
		free(d->col[k]);
	d->ncol = 0;
}

/* Add column name (unless there). */
static void mock_data_add_column(struct mock_data *d, const char *name)
{
	if (d->nrow > 0 || d->ncol == MOCK_DATA_COLUMNS)
		return; /* rows of fewer columns: keep it simple */
	for (size_t k = 0; k < d->ncol; k++)
		if (strcmp(d->col[k], name) == 0)
			return;
	if ((d->col[d->ncol] = strdup(name)) == NULL)
		d->nomem = 1;
	else
		d->ncol++;
}

/* CREATE TABLE t (...): the columns, from word i (after the name). */
static void mock_data_create(struct mock_data *d, const struct dbmigrate_word *w,
			     size_t n, size_t i)
{
	int depth = 0, start = 1;

	mock_data_clear(d, 1);
	if (!mock_data_at(w, n, i, "("))
		return;
	for (i++; i < n; i++) {
		char col[MOCK_NAME_MAX];

		if (mock_data_at(w, n, i, "(")) {
			depth++;
			continue;
		}
		if (mock_data_at(w, n, i, ")")) {
			if (depth-- == 0)
				break;
			continue;
		}
		if (depth == 0 && mock_data_at(w, n, i, ",")) {
			start = 1;
			continue;
		}
		if (!start)
			continue;
		start = 0;
		if (mock_data_at(w, n, i, "CONSTRAINT") ||
		    mock_data_at(w, n, i, "PRIMARY") ||
		    mock_data_at(w, n, i, "UNIQUE") ||
		    mock_data_at(w, n, i, "CHECK") ||
		    mock_data_at(w, n, i, "FOREIGN") ||
		    mock_data_at(w, n, i, "EXCLUDE") ||
		    mock_data_at(w, n, i, "LIKE"))
			continue;
		mock_data_ident(&w[i], col);
		mock_data_add_column(d, col);
	}
}

/* One literal at *p of sql[0, len): *out a new string or NULL (SQL
   NULL or not a literal); *p past it and a ::cast. */
static void mock_data_literal(const char *sql, size_t len, size_t *p,
			      char **out, int *nomem)
{
	size_t i = *p, start;

	*out = NULL;
	if (i < len && sql[i] == '\'') {
		char *s = malloc(len - i + 1);
		size_t n = 0;

		if (s == NULL) {
			*nomem = 1;
			return;
		}
		for (i++; i < len; i++) {
			if (sql[i] == '\'' && i + 1 < len && sql[i + 1] == '\'') {
				s[n++] = '\'';
				i++;
			} else if (sql[i] == '\'') {
				i++;
				break;
			} else {
				s[n++] = sql[i];
			}
		}
		s[n] = '\0';
		*out = s;
	} else {
		int depth = 0;

		start = i;
		while (i < len && (depth > 0 || (sql[i] != ',' && sql[i] != ')'))) {
			depth += (sql[i] == '(') - (sql[i] == ')');
			i++;
		}
		while (i > start && (sql[i - 1] == ' ' || sql[i - 1] == '\t' ||
				     sql[i - 1] == '\n' || sql[i - 1] == '\r'))
			i--;
		if (i - start == 4 && strncasecmp(sql + start, "true", 4) == 0)
			*out = strdup("t");
		else if (i - start == 5 && strncasecmp(sql + start, "false", 5) == 0)
			*out = strdup("f");
		else if (i > start && (sql[start] == '-' ||
				       (sql[start] >= '0' && sql[start] <= '9')))
			*out = strndup(sql + start, i - start);
		/* else NULL, now(), DEFAULT...: SQL NULL */
		if (*out == NULL && i > start &&
		    !(i - start == 4 && strncasecmp(sql + start, "null", 4) == 0) &&
		    (sql[start] == '-' || (sql[start] >= '0' && sql[start] <= '9') ||
		     strncasecmp(sql + start, "true", 4) == 0 ||
		     strncasecmp(sql + start, "false", 5) == 0))
			*nomem = 1;
	}
	/* A cast, '...'::timestamp: the literal as written. */
	while (i < len && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t'))
		i++;
	if (i + 1 < len && sql[i] == ':' && sql[i + 1] == ':')
		for (i += 2; i < len && sql[i] != ',' && sql[i] != ')'; i++)
			;
	*p = i;
}

/* Skip white space at *p. */
static void mock_data_space(const char *sql, size_t len, size_t *p)
{
	while (*p < len && (sql[*p] == ' ' || sql[*p] == '\t' ||
			    sql[*p] == '\n' || sql[*p] == '\r'))
		(*p)++;
}

/* INSERT INTO t [(cols)] VALUES (...), ...: from word i (after the name). */
static void mock_data_insert(struct mock_data *d, const char *sql, size_t len,
			     const struct dbmigrate_word *w, size_t n, size_t i)
{
	size_t map[MOCK_DATA_COLUMNS], nmap = 0, p;

	if (mock_data_at(w, n, i, "(")) {
		for (i++; i < n && !mock_data_at(w, n, i, ")"); i++) {
			char col[MOCK_NAME_MAX];
			size_t k;

			if (mock_data_at(w, n, i, ","))
				continue;
			mock_data_ident(&w[i], col);
			for (k = 0; k < d->ncol && strcmp(d->col[k], col) != 0; k++)
				;
			if (nmap < MOCK_DATA_COLUMNS)
				map[nmap++] = k; /* k == ncol: no such column */
		}
		i++;
	} else {
		for (nmap = 0; nmap < d->ncol; nmap++)
			map[nmap] = nmap;
	}
	if (!mock_data_at(w, n, i, "VALUES"))
		return;
	p = (size_t)(w[i].s - sql) + w[i].len;
	for (;;) {
		char **row;

		mock_data_space(sql, len, &p);
		if (p >= len || sql[p] != '(')
			return;
		p++;
		if ((d->nrow + 1) * d->ncol > d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 16 * (d->ncol + 1);
			char **v = realloc(d->cell, cap * sizeof *v);

			if (v == NULL) {
				d->nomem = 1;
				return;
			}
			d->cell = v;
			d->cap = cap;
		}
		row = d->cell + d->nrow * d->ncol;
		for (size_t k = 0; k < d->ncol; k++)
			row[k] = NULL;
		d->nrow++;
		for (size_t k = 0; p < len; k++) {
			char *v;

			mock_data_space(sql, len, &p);
			mock_data_literal(sql, len, &p, &v, &d->nomem);
			if (k < nmap && map[k] < d->ncol)
				row[map[k]] = v;
			else
				free(v);
			mock_data_space(sql, len, &p);
			if (p < len && sql[p] == ',') {
				p++;
				continue;
			}
			break;
		}
		if (p < len && sql[p] == ')')
			p++;
		mock_data_space(sql, len, &p);
		if (p >= len || sql[p] != ',')
			return;
		p++;
	}
}

/* DELETE FROM t [WHERE col = literal]: from word i (after the name). */
static void mock_data_delete(struct mock_data *d, const char *sql, size_t len,
			     const struct dbmigrate_word *w, size_t n, size_t i)
{
	char col[MOCK_NAME_MAX], *value = NULL;
	size_t k = d->ncol, keep = 0, p;

	if (!mock_data_at(w, n, i, "WHERE")) {
		mock_data_clear(d, 0);
		return;
	}
	if (i + 2 >= n || !mock_data_at(w, n, i + 2, "="))
		return;
	mock_data_ident(&w[i + 1], col);
	for (k = 0; k < d->ncol && strcmp(d->col[k], col) != 0; k++)
		;
	p = (size_t)(w[i + 2].s - sql) + 1;
	mock_data_space(sql, len, &p);
	mock_data_literal(sql, len, &p, &value, &d->nomem);
	for (size_t r = 0; r < d->nrow; r++) {
		char **row = d->cell + r * d->ncol;
		int match = k < d->ncol && row[k] != NULL && value != NULL &&
			    strcmp(row[k], value) == 0;

		if (match) {
			for (size_t c = 0; c < d->ncol; c++)
				free(row[c]);
			continue;
		}
		memmove(d->cell + keep * d->ncol, row, d->ncol * sizeof *row);
		keep++;
	}
	d->nrow = keep;
	free(value);
}

/* Replay the journal for table name into d; *seen when it was made. */
static void mock_data_replay(dbmigrate_conn *c, const char *name,
			     struct mock_data *d)
{
	struct dbmigrate_word *w = malloc(MOCK_DATA_WORDS * sizeof *w);

	if (w == NULL) {
		d->nomem = 1;
		return;
	}
	for (size_t j = 0; j < c->state.njournal && !d->nomem; j++) {
		const char *sql = c->state.journal[j];
		size_t len = strlen(sql), i = 0;
		size_t n = c->host->words(DBMIGRATE_LEX_POSTGRES, sql, len, w,
					  MOCK_DATA_WORDS);
		char t[MOCK_NAME_MAX];
		int kind;

		if (mock_data_at(w, n, 0, "CREATE")) {
			for (i = 1; i < n && !mock_data_at(w, n, i, "TABLE") &&
				    !mock_data_at(w, n, i, "("); i++)
				;
			kind = 'c';
		} else if (mock_data_at(w, n, 0, "INSERT") &&
			   mock_data_at(w, n, 1, "INTO")) {
			i = 2;
			kind = 'i';
		} else if (mock_data_at(w, n, 0, "DELETE") &&
			   mock_data_at(w, n, 1, "FROM")) {
			i = 2;
			kind = 'd';
		} else if (mock_data_at(w, n, 0, "TRUNCATE")) {
			i = mock_data_at(w, n, 1, "TABLE") ? 2 : 1;
			kind = 't';
		} else if (mock_data_at(w, n, 0, "DROP") &&
			   mock_data_at(w, n, 1, "TABLE")) {
			i = 2;
			kind = 'x';
		} else if (mock_data_at(w, n, 0, "ALTER") &&
			   mock_data_at(w, n, 1, "TABLE")) {
			i = 2;
			kind = 'a';
		} else {
			continue;
		}
		if (kind == 'c') {
			if (!mock_data_at(w, n, i, "TABLE"))
				continue;
			i++;
		}
		if ((kind == 'c' && mock_data_at(w, n, i, "IF")) ||
		    ((kind == 'x' || kind == 'a') && mock_data_at(w, n, i, "IF")))
			i += kind == 'c' ? 3 : 2;
		if (kind == 'a' && mock_data_at(w, n, i, "ONLY"))
			i++;
		if (!mock_data_name(w, n, &i, t) || strcmp(t, name) != 0)
			continue;
		switch (kind) {
		case 'c':
			mock_data_create(d, w, n, i);
			break;
		case 'i':
			mock_data_insert(d, sql, len, w, n, i);
			break;
		case 'd':
			mock_data_delete(d, sql, len, w, n, i);
			break;
		case 't':
			mock_data_clear(d, 0);
			break;
		case 'x':
			mock_data_clear(d, 1);
			break;
		default:
			if (mock_data_at(w, n, i, "ADD")) {
				char col[MOCK_NAME_MAX];

				i++;
				if (mock_data_at(w, n, i, "COLUMN"))
					i++;
				if (mock_data_at(w, n, i, "IF"))
					i += 3;
				if (i < n) {
					mock_data_ident(&w[i], col);
					mock_data_add_column(d, col);
				}
			}
			break;
		}
	}
	free(w);
}

dbmigrate_code mock_data_columns(dbmigrate_conn *c, const char *table,
				 int *exists, dbmigrate_name_fn fn, void *ctx)
{
	char name[MOCK_NAME_MAX];
	struct mock_data d = { .ncol = 0 };
	dbmigrate_code rc;

	*exists = 0;
	if ((rc = mock_sql_table_name(c, table, name)) != DBMIGRATE_OK)
		return rc;
	if (mock_state_object_find(&c->state, MOCK_TABLE, name, NULL) < 0)
		return DBMIGRATE_OK;
	*exists = 1;
	mock_data_replay(c, name, &d);
	for (size_t k = 0; k < d.ncol && !d.nomem; k++)
		if (fn(ctx, d.col[k]) != 0)
			break;
	rc = d.nomem ? mock_nomem(c) : DBMIGRATE_OK;
	mock_data_clear(&d, 1);
	return rc;
}

dbmigrate_code mock_data_read(dbmigrate_conn *c, const char *table,
			      const char *const *columns, size_t ncolumns,
			      dbmigrate_values_fn fn, void *ctx)
{
	char name[MOCK_NAME_MAX];
	struct mock_data d = { .ncol = 0 };
	size_t *map;
	const char **values;
	dbmigrate_code rc;

	if ((rc = mock_sql_table_name(c, table, name)) != DBMIGRATE_OK)
		return rc;
	if (mock_state_object_find(&c->state, MOCK_TABLE, name, NULL) < 0)
		return mock_server_error(c, "42P01", NULL,
					 "relation \"%s\" does not exist", name);
	mock_data_replay(c, name, &d);
	map = calloc(ncolumns + 1, sizeof *map);
	values = calloc(ncolumns + 1, sizeof *values);
	if (d.nomem || map == NULL || values == NULL) {
		free(map);
		free(values);
		mock_data_clear(&d, 1);
		return mock_nomem(c);
	}
	for (size_t k = 0; k < ncolumns; k++) {
		for (map[k] = 0; map[k] < d.ncol &&
				 strcmp(d.col[map[k]], columns[k]) != 0; map[k]++)
			;
		if (map[k] == d.ncol) {
			rc = mock_server_error(c, "42703", NULL,
					       "column \"%s\" does not exist",
					       columns[k]);
			break;
		}
	}
	for (size_t r = 0; rc == DBMIGRATE_OK && r < d.nrow; r++) {
		for (size_t k = 0; k < ncolumns; k++)
			values[k] = d.cell[r * d.ncol + map[k]];
		if (fn(ctx, values, ncolumns) != 0)
			break;
	}
	free(map);
	free(values);
	mock_data_clear(&d, 1);
	return rc;
}
