## src/ - the core library. libdbmigrate-core is a convenience library
## linked into libdbmigrate (which exports only dbmigrate_*) and into the
## Check programs, so tests reach the internals.

include_HEADERS = include/dbmigrate.h
dbmigrateincludedir = $(includedir)/dbmigrate
dbmigrateinclude_HEADERS = include/dbmigrate/driver.h

noinst_LTLIBRARIES += src/libdbmigrate-core.la
src_libdbmigrate_core_la_SOURCES = \
	src/cache.c src/cache.h \
	src/checksum.c src/checksum.h \
	src/config.c src/config.h \
	src/create.c src/create.h \
	src/directive.c src/directive.h \
	src/discover.c \
	src/dotenv.c src/dotenv.h \
	src/driver.c src/driver-load.c src/driver.h \
	src/errors.c src/errors.h \
	src/fsutil.c src/fsutil.h \
	src/lexer.c src/lexer.h \
	src/lint.c src/lint.h \
	src/migration.c src/migration.h \
	src/migrator.c src/handle.h src/handle.c \
	src/session.c src/session.h src/prepare.c src/prepare.h \
	src/execute.c src/execute.h \
	src/name.c \
	src/import.c src/import.h \
	src/parse-flyway.c \
	src/parse-goose.c \
	src/parse-js.c \
	src/parse-sql.c \
	src/plan.c src/plan.h \
	src/split.c src/split.h \
	src/strbuf.c src/strbuf.h \
	src/txcontrol.c src/txcontrol.h \
	src/url.c src/url.h \
	src/verify.c
src_libdbmigrate_core_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src \
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
