/*
 * fuzz-split.h - what the parser harnesses do next with each body, as
 * the migrator does: split_body() with a driver of PostgreSQL's dialect
 * (the host's splitter and transaction-control classifier, which the
 * postgres and mock drivers choose), built here so that nothing is
 * loaded. A body must split, or fail with an error inside the file.
 */
#ifndef DBMIGRATE_FUZZ_SPLIT_H
#define DBMIGRATE_FUZZ_SPLIT_H

#include "driver.h"
#include "errors.h"
#include "fuzz.h"
#include "split.h"

/* split(): PostgreSQL's splitter, the host's. */
static dbmigrate_code fuzz_split_text(const struct dbmigrate_host *h,
				      const char *text, size_t len,
				      dbmigrate_span_fn fn, void *ctx,
				      struct dbmigrate_split_error *err)
{
	return h->split_postgres(text, len, fn, ctx, err);
}

/* classify(): transaction control, as most dialects have it. */
static void fuzz_split_classify(const struct dbmigrate_host *h, const char *sql,
				size_t len, struct dbmigrate_stmt_class *out)
{
	h->classify_txcontrol(DBMIGRATE_LEX_POSTGRES, sql, len, out);
}

/* Do what migrator_prepare() does with a body: split, check BEGIN/COMMIT. */
static void fuzz_prepare(const struct migration *m,
			 const struct migration_body *b)
{
	static const struct dbmigrate_driver vt = {
		.name = "fuzz",
		.split = fuzz_split_text,
		.classify = fuzz_split_classify,
	};
	const struct driver d = { .vt = &vt };
	struct dbmigrate_host host = { .abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
				       .struct_size = sizeof host };
	struct split_result r = { 0 };
	dbmigrate_error err = { .code = DBMIGRATE_OK };
	dbmigrate_code rc;

	driver_host_services(&host);
	rc = split_body(&d, &host, m, b, &r, &err);
	FUZZ_ASSERT(rc == DBMIGRATE_OK || rc == DBMIGRATE_EFILES);
	if (rc == DBMIGRATE_OK) {
		FUZZ_ASSERT(r.first <= r.n && r.count <= r.n - r.first);
		/* Unwrapping drops exactly BEGIN and COMMIT. */
		FUZZ_ASSERT(!r.unwrapped || (r.first == 1 && r.count + 2 == r.n));
		FUZZ_ASSERT(r.unwrapped || (r.first == 0 && r.count == r.n));
		/* In order, inside the body, not overlapping. */
		for (size_t i = 0, end = 0; i < r.n; i++) {
			FUZZ_ASSERT(r.v[i].len > 0 && r.v[i].offset >= end &&
				    r.v[i].offset <= b->len &&
				    r.v[i].len <= b->len - r.v[i].offset);
			end = r.v[i].offset + r.v[i].len;
		}
	} else {
		FUZZ_ASSERT(err.message != NULL && err.line > 0);
	}
	errors_clear(&err);
	split_result_free(&r);
}

#endif
