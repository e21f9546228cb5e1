/*
 * parse-flyway.c - Flyway's SQL migrations: V<version>__<name>.sql is
 * the up, the whole file; U<version>__<name>.sql its undo (the down);
 * R__<name>.sql a repeatable migration. The files hold plain SQL, no
 * markers. Flyway runs an empty script, so an empty file is a migration
 * that does nothing.
 *
 * Flyway replaces ${name} placeholders anywhere in a script (strings and
 * comments included) with configured values, and fails on one it has no
 * value for. dbmigrate has no placeholders, so a ${...} is an error at
 * its line: sending it as written would run other SQL than Flyway did.
 *
 * Also Flyway's checksum (import compares it with the one Flyway kept):
 * java.util.zip.CRC32 over the UTF-8 bytes of each line read by
 * BufferedReader.readLine(), which drops the line breaks (\n, \r\n,
 * \r), with a byte order mark left out of the first line; stored as a
 * signed 32-bit integer.
 */
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "migration.h"

/* Length of a UTF-8 byte order mark at the start of s. */
static size_t flyway_bom(const char *s, size_t len)
{
	return len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* Point b at the whole of text (after a BOM). */
static void flyway_body(struct migration_body *b, const char *path,
			char *text, size_t len)
{
	size_t off = flyway_bom(text, len);

	memset(b, 0, sizeof *b);
	b->present = true;
	b->sql = text + off;
	b->len = len - off;
	b->verbatim = true;
	b->path = path;
	b->offset = off;
	b->line = 1;
	b->column = (unsigned)off + 1;
}

/* Refuse a ${placeholder} in text (of file path); DBMIGRATE_OK if none. */
static dbmigrate_code flyway_placeholders(const char *path, const char *text,
					  size_t len, dbmigrate_error *err)
{
	for (size_t i = 0; i + 1 < len; i++) {
		size_t j;

		if (text[i] != '$' || text[i + 1] != '{')
			continue;
		for (j = i + 2; j < len && text[j] != '}' && text[j] != '\n'; j++)
			;
		if (j >= len || text[j] != '}')
			continue;
		errors_set(err, DBMIGRATE_EFILES,
			   "Flyway placeholder %.*s in %s", (int)(j + 1 - i > 80 ? 80 : j + 1 - i),
			   text + i, path);
		errors_detail(err, "Flyway replaces ${name} with a value from its "
			      "configuration before it runs the script; dbmigrate "
			      "has no placeholders and would send the text as "
			      "written.");
		errors_hint(err, "Write the value into the SQL (Flyway's "
			    "${flyway:defaultSchema} is usually the schema "
			    "public), then run dbmigrate again.");
		errors_location_at(err, path, text, len, i);
		return DBMIGRATE_EFILES;
	}
	return DBMIGRATE_OK;
}

dbmigrate_code parse_flyway(struct migration *m, dbmigrate_error *err)
{
	dbmigrate_code rc = flyway_placeholders(m->path, m->text, m->text_len,
						err);

	if (rc == DBMIGRATE_OK && m->down_text != NULL)
		rc = flyway_placeholders(m->down_path, m->down_text,
					 m->down_text_len, err);
	if (rc != DBMIGRATE_OK)
		return rc;
	flyway_body(&m->up, m->path, m->text, m->text_len);
	/* The down body's path is m->down_path itself: callers compare it. */
	if (m->down_path != NULL && m->down_text != NULL)
		flyway_body(&m->down, m->down_path, m->down_text,
			    m->down_text_len);
	return DBMIGRATE_OK;
}

long parse_flyway_checksum(const char *text, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;

	/* The lines without their breaks, one after the other: every byte
	   but CR and LF. */
	for (size_t i = flyway_bom(text, len); i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n' || c == '\r')
			continue;
		crc ^= c;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	crc ^= 0xFFFFFFFFu;
	return (long)(int32_t)crc;
}
