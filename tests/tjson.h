/*
 * tjson.h - a strict JSON reader for the tests: it parses what a
 * command printed into a tree, so that a test can check the document's
 * shape and read its values (lint --format json and sarif) instead of
 * searching the text for substrings.
 */
#ifndef DBMIGRATE_TJSON_H
#define DBMIGRATE_TJSON_H

#include <stdbool.h>
#include <stddef.h>

enum tjson_type {
	TJSON_NULL,
	TJSON_BOOL,
	TJSON_NUMBER,
	TJSON_STRING,
	TJSON_ARRAY,
	TJSON_OBJECT
};

/* One JSON value. Arrays and objects hold n items; an object's keys[i]
   names items[i], in the document's order. */
struct tjson {
	enum tjson_type type;
	bool boolean;
	double number;
	char *string; /* decoded (escapes resolved), UTF-8 */
	size_t n;
	struct tjson **items;
	char **keys;
};

/* Parse text, which must be exactly one JSON value (RFC 8259) with
   white space around it; NULL when it is not, with *error (when not
   NULL) set to a static description and *at to the byte offset. */
struct tjson *tjson_parse(const char *text, const char **error, size_t *at);

/* The value at path below v: keys and array indexes separated by dots,
   as in "runs.0.tool.driver.name"; NULL when there is none. */
const struct tjson *tjson_path(const struct tjson *v, const char *path);

/* The string at path, or NULL when it is missing or not a string. */
const char *tjson_str(const struct tjson *v, const char *path);

/* The number at path; aborts the test when it is missing or not one. */
double tjson_num(const struct tjson *v, const char *path);

/* The number of items of the array at path; aborts the test when it is
   missing or not an array. */
size_t tjson_len(const struct tjson *v, const char *path);

void tjson_free(struct tjson *v);

#endif
