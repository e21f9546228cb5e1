/*
 * checksum.c - the drift checksum: SHA-256 (libcrypto's EVP interface,
 * already in libpq's closure) of a migration's text with each CRLF
 * turned into LF, so that a checkout with Windows line endings does not
 * look modified. A lone CR is content and is kept. Frozen: any change
 * here flags every applied migration as modified.
 */
#include "checksum.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Feed text to ctx with every CRLF of it fed as LF. */
static bool checksum_feed(EVP_MD_CTX *ctx, const char *text, size_t len)
{
	size_t start = 0, from = 0;
	const char *cr;

	if (len == 0)
		return true;
	while ((cr = memchr(text + from, '\r', len - from)) != NULL) {
		size_t at = (size_t)(cr - text);

		from = at + 1;
		/* A CR at the very end is lone: each text is normalised alone. */
		if (at + 1 < len && text[at + 1] == '\n') {
			if (EVP_DigestUpdate(ctx, text + start, at - start) != 1)
				return false;
			start = at + 1;         /* the LF goes with what follows */
		}
		if (from == len)
			break;
	}
	return EVP_DigestUpdate(ctx, text + start, len - start) == 1;
}

struct checksum {
	EVP_MD *md; /* fetched once; NULL before OpenSSL 3 */
	EVP_MD_CTX *ctx;
};

struct checksum *checksum_new(void)
{
	struct checksum *ck = calloc(1, sizeof *ck);

	if (ck == NULL)
		return NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	ck->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (ck->md == NULL) {
		free(ck);
		return NULL;
	}
#endif
	ck->ctx = EVP_MD_CTX_new();
	if (ck->ctx == NULL) {
		checksum_free(ck);
		return NULL;
	}
	return ck;
}

void checksum_free(struct checksum *ck)
{
	if (ck == NULL)
		return;
	EVP_MD_CTX_free(ck->ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(ck->md);
#endif
	free(ck);
}

/* SHA-256 of a then b, each with CRLF read as LF, in lowercase hex. */
bool checksum_run(struct checksum *ck, const char *a, size_t alen,
		  const char *b, size_t blen, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	const EVP_MD *type = ck->md;
#else
	const EVP_MD *type = EVP_sha256();
#endif

	out[0] = '\0';
	if (EVP_DigestInit_ex(ck->ctx, type, NULL) != 1 ||
	    !checksum_feed(ck->ctx, a, alen) ||
	    (b != NULL && !checksum_feed(ck->ctx, b, blen)) ||
	    EVP_DigestFinal_ex(ck->ctx, md, &mdlen) != 1 || mdlen != 32)
		return false;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0F];
	}
	out[64] = '\0';
	return true;
}

bool checksum_compute(const char *a, size_t alen, const char *b, size_t blen,
		      char out[65])
{
	struct checksum *ck = checksum_new();
	bool ok;

	out[0] = '\0';
	if (ck == NULL)
		return false;
	ok = checksum_run(ck, a, alen, b, blen, out);
	checksum_free(ck);
	return ok;
}
