## src/ - the core library, in folders by layer (bottom first: util/,
## host/, files/, plan/, api/; each has a README saying what it owns and
## what it may call; tests/check_layers holds them to it). libdbmigrate-core
## is a convenience library linked into libdbmigrate (which exports only
## dbmigrate_*) and into the Check programs, so tests reach the internals.

# Every layer's headers, for the core and for the tests.
CORE_INCLUDES = -I$(top_srcdir)/src/util -I$(top_srcdir)/src/host \
	-I$(top_srcdir)/src/files -I$(top_srcdir)/src/plan -I$(top_srcdir)/src/api
EXTRA_DIST += src/util/README src/host/README src/files/README \
	src/plan/README src/api/README

include_HEADERS = include/dbmigrate.h
dbmigrateincludedir = $(includedir)/dbmigrate
dbmigrateinclude_HEADERS = include/dbmigrate/driver.h

noinst_LTLIBRARIES += src/libdbmigrate-core.la
src_libdbmigrate_core_la_SOURCES = \
	src/util/checksum.c src/util/checksum.h \
	src/util/config.c src/util/config.h \
	src/util/dotenv.c src/util/dotenv.h \
	src/util/errors.c src/util/errors.h \
	src/util/fsutil.c src/util/fsutil.h \
	src/util/strbuf.c src/util/strbuf.h \
	src/util/url.c src/util/url.h \
	src/host/driver-load.c \
	src/host/driver.c src/host/driver.h \
	src/host/lexer.c src/host/lexer.h \
	src/host/txcontrol.c src/host/txcontrol.h \
	src/files/cache.c src/files/cache.h \
	src/files/create.c src/files/create.h \
	src/files/directive.c src/files/directive.h \
	src/files/discover.c \
	src/files/migration.c src/files/migration.h \
	src/files/name.c \
	src/files/parse-flyway.c \
	src/files/parse-goose.c \
	src/files/parse-js.c \
	src/files/parse-sql.c \
	src/plan/import.c src/plan/import.h \
	src/plan/plan.c src/plan/plan.h \
	src/plan/split.c src/plan/split.h \
	src/api/execute.c src/api/execute.h \
	src/api/handle.c src/api/handle.h \
	src/api/lint.c src/api/lint.h \
	src/api/migrator.c \
	src/api/prepare.c src/api/prepare.h \
	src/api/session.c src/api/session.h \
	src/api/verify.c
src_libdbmigrate_core_la_CPPFLAGS = $(AM_CPPFLAGS) $(CORE_INCLUDES) \
	-DDBMIGRATE_DRIVER_DIR='"$(driverdir)"' \
	-DDBMIGRATE_DEFAULT_DRIVER='"$(DEFAULT_DRIVER)"' \
	-DDBMIGRATE_VERSION='"$(PACKAGE_VERSION)"'
src_libdbmigrate_core_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(LIBCRYPTO_CFLAGS)
src_libdbmigrate_core_la_LIBADD = $(LIBCRYPTO_LIBS)

lib_LTLIBRARIES += src/libdbmigrate.la
src_libdbmigrate_la_SOURCES =
# A C source the linker can be told about (the library has none of its own).
nodist_EXTRA_src_libdbmigrate_la_SOURCES = dummy.c
src_libdbmigrate_la_LIBADD = src/libdbmigrate-core.la $(LIBCRYPTO_LIBS)
src_libdbmigrate_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBDBMIGRATE_LT_VERSION) \
	-export-symbols-regex '^dbmigrate_'
