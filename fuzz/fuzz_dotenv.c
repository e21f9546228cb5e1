/*
 * fuzz_dotenv.c - libFuzzer harness for the ./.env parser: a .env file
 * is whatever the user (or a tool) left in the directory, so any bytes
 * must parse or be refused with a line number and a reason. Every
 * assignment must have a valid name and come in line order; stopping
 * early must stop; and each value must survive a round trip: written
 * back as KEY='value' or KEY="escaped value", it reads as itself.
 *
 * tests/fuzz-smoke.sh builds it (make check, make fuzz); by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_dotenv.c src/util/dotenv.c src/util/errors.c src/util/strbuf.c \
 *       -o fuzz_dotenv
 *   mkdir -p corpus && ./fuzz_dotenv -max_total_time=60 corpus \
 *       tests/data/fuzz/dotenv
 *
 * (The first directory receives new inputs: never the seed corpus.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "dotenv.h"

/* What the main pass saw. */
struct fuzz_seen {
	unsigned lines;     /* lines of the input */
	unsigned last_line; /* line of the last assignment */
	unsigned calls;
};

/* What a round-trip pass expects to read back. */
struct fuzz_expect {
	const char *key;
	const char *value;
	unsigned calls;
};

/* True for a valid variable name. */
static int fuzz_valid_key(const char *k)
{
	if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_'))
		return 0;
	for (k++; *k != '\0'; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

/* dotenv_fn of a round trip: exactly the expected assignment, once. */
static int fuzz_expect_fn(void *ctx, const char *key, const char *value,
			  unsigned line)
{
	struct fuzz_expect *e = ctx;

	FUZZ_ASSERT(line == 1);
	FUZZ_ASSERT(strcmp(key, e->key) == 0);
	FUZZ_ASSERT(strcmp(value, e->value) == 0);
	e->calls++;
	return 0;
}

/* Parse text and check it yields exactly key=value on line 1. */
static void fuzz_reparse(const char *text, size_t len, const char *key,
			 const char *value)
{
	struct fuzz_expect e = { key, value, 0 };
	unsigned bad = 0;
	const char *why = NULL;

	FUZZ_ASSERT(dotenv_parse(text, len, fuzz_expect_fn, &e, &bad, &why) == 0);
	FUZZ_ASSERT(e.calls == 1);
}

/* Write key and value back in both quoted forms and read them again. */
static void fuzz_round_trip(const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value), n = 0;
	char *buf = malloc(kl + 2 * vl + 4);

	if (buf == NULL)
		abort();
	/* Single quotes take no escapes: only for values without them and
	   without line breaks. */
	if (strchr(value, '\'') == NULL && strchr(value, '\n') == NULL) {
		n = (size_t)sprintf(buf, "%s='%s'", key, value);
		fuzz_reparse(buf, n, key, value);
	}
	/* Double quotes: \\, \" and \n are the escapes. */
	memcpy(buf, key, kl);
	n = kl;
	buf[n++] = '=';
	buf[n++] = '"';
	for (const char *v = value; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"') {
			buf[n++] = '\\';
			buf[n++] = *v;
		} else if (*v == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *v;
		}
	}
	buf[n++] = '"';
	fuzz_reparse(buf, n, key, value);
	free(buf);
}

/* dotenv_fn of the main pass: check each assignment. */
static int fuzz_seen_fn(void *ctx, const char *key, const char *value,
			unsigned line)
{
	struct fuzz_seen *s = ctx;

	FUZZ_ASSERT(fuzz_valid_key(key));
	FUZZ_ASSERT(line >= 1 && line <= s->lines);
	FUZZ_ASSERT(line > s->last_line);
	s->last_line = line;
	s->calls++;
	fuzz_round_trip(key, value);
	return 0;
}

/* dotenv_fn that stops at once. */
static int fuzz_stop_fn(void *ctx, const char *key, const char *value,
			unsigned line)
{
	(void)key;
	(void)value;
	*(unsigned *)ctx = line;
	return 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly size bytes, so ASan sees a read past the end. */
	char *text = malloc(size ? size : 1);
	struct fuzz_seen seen = { 1, 0, 0 };
	unsigned bad = 0, stop_line = 0;
	const char *why = NULL;
	int rc, rc2;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	for (size_t i = 0; i < size; i++)
		if (text[i] == '\n')
			seen.lines++;
	rc = dotenv_parse(text, size, fuzz_seen_fn, &seen, &bad, &why);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_ASSERT(why != NULL && why[0] != '\0');
		FUZZ_ASSERT(bad >= 1 && bad <= seen.lines);
		FUZZ_ASSERT(bad > seen.last_line);
	}
	/* A callback's nonzero return stops the parse and is returned. */
	bad = 0;
	rc2 = dotenv_parse(text, size, fuzz_stop_fn, &stop_line, &bad, &why);
	if (seen.calls > 0) {
		FUZZ_ASSERT(rc2 == 7);
	} else {
		FUZZ_ASSERT(rc2 == rc);
		FUZZ_ASSERT(stop_line == 0);
	}
	free(text);
	return 0;
}
