## drivers/sqlite/ - the SQLite driver on libsqlite3.

if SQLITE
driver_LTLIBRARIES += drivers/sqlite/sqlite.la
drivers_sqlite_sqlite_la_SOURCES = drivers/sqlite/sq.c drivers/sqlite/sq.h \
	drivers/sqlite/sq-apply.c drivers/sqlite/sq-classify.c \
	drivers/sqlite/sq-exec.c drivers/sqlite/sq-lint.c drivers/sqlite/sq-lock.c \
	drivers/sqlite/sq-snapshot.c drivers/sqlite/sq-split.c drivers/sqlite/sq-split.h \
	drivers/sqlite/sq-table.c drivers/common/drvkit.c drivers/common/drvkit.h \
	drivers/common/lintkit.c drivers/common/lintkit.h
drivers_sqlite_sqlite_la_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS)
drivers_sqlite_sqlite_la_LIBADD = $(SQLITE3_LIBS)
drivers_sqlite_sqlite_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-export-symbols-regex '^dbmigrate_driver_entry$$'
endif
