/*
 * checksum.c - the drift checksum: SHA-256 (Nettle's) of a migration's
 * text with each CRLF turned into LF, so that a checkout with Windows
 * line endings does not look modified. A lone CR is content and is kept.
 * Frozen: any change here flags every applied migration as modified.
 *
 * Nettle, not libcrypto: OpenSSL 3 sets up its provider tables at the
 * first digest, 5.3 M instructions and about 2 ms of a run on the bench
 * VM (a program hashing 1,000 small texts: 2.6 ms with EVP, 1.0 ms with
 * Nettle, 0.7 ms hashing nothing), a third of what `dbmigrate up` adds
 * to SQLite's own work on 1,000 migrations. Nettle is plain functions on
 * a context on the stack.
 */
#include "checksum.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <nettle/sha2.h>

/* Feed text to ctx with every CRLF of it fed as LF. */
static void checksum_feed(struct sha256_ctx *ctx, const char *text, size_t len)
{
	size_t start = 0, from = 0;
	const char *cr;

	if (len == 0)
		return;
	while ((cr = memchr(text + from, '\r', len - from)) != NULL) {
		size_t at = (size_t)(cr - text);

		from = at + 1;
		/* A CR at the very end is lone: each text is normalised alone. */
		if (at + 1 < len && text[at + 1] == '\n') {
			sha256_update(ctx, at - start,
				      (const uint8_t *)text + start);
			start = at + 1;         /* the LF goes with what follows */
		}
		if (from == len)
			break;
	}
	sha256_update(ctx, len - start, (const uint8_t *)text + start);
}

struct checksum {
	struct sha256_ctx ctx;
};

struct checksum *checksum_new(void)
{
	return calloc(1, sizeof(struct checksum));
}

void checksum_free(struct checksum *ck)
{
	free(ck);
}

/* SHA-256 of a then b, each with CRLF read as LF, in lowercase hex. */
bool checksum_run(struct checksum *ck, const char *a, size_t alen,
		  const char *b, size_t blen, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t md[SHA256_DIGEST_SIZE];

	sha256_init(&ck->ctx);
	checksum_feed(&ck->ctx, a, alen);
	if (b != NULL)
		checksum_feed(&ck->ctx, b, blen);
	sha256_digest(&ck->ctx, sizeof md, md);
	for (size_t i = 0; i < sizeof md; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0F];
	}
	out[64] = '\0';
	return true;
}

bool checksum_compute(const char *a, size_t alen, const char *b, size_t blen,
		      char out[65])
{
	struct checksum ck;

	return checksum_run(&ck, a, alen, b, blen, out);
}
