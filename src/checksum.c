/*
 * checksum.c - the drift checksum: SHA-256 (libcrypto's EVP interface,
 * already in libpq's closure) of a migration's text with each CRLF
 * turned into LF, so that a checkout with Windows line endings does not
 * look modified. A lone CR is content and is kept. Frozen: any change
 * here flags every applied migration as modified.
 */
#include "checksum.h"

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

/* SHA-256 of a then b, each with CRLF read as LF, in lowercase hex. */
bool checksum_compute(const char *a, size_t alen, const char *b, size_t blen,
		      char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	bool ok;

	out[0] = '\0';
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return false;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     checksum_feed(ctx, a, alen) &&
	     (b == NULL || checksum_feed(ctx, b, blen)) &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return false;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0F];
	}
	out[64] = '\0';
	return true;
}
