## drivers/postgres/ - the PostgreSQL driver on libpq.

if POSTGRES
driver_LTLIBRARIES += drivers/postgres/postgres.la
drivers_postgres_postgres_la_SOURCES = drivers/postgres/pg.c drivers/postgres/pg.h \
	drivers/postgres/pg-apply.c drivers/postgres/pg-classify.c \
	drivers/postgres/pg-exec.c drivers/postgres/pg-lint.c drivers/postgres/pg-lock.c \
	drivers/postgres/pg-snapshot.c drivers/postgres/pg-table.c \
	drivers/common/drvkit.c drivers/common/drvkit.h \
	drivers/common/lintkit.c drivers/common/lintkit.h
drivers_postgres_postgres_la_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS)
drivers_postgres_postgres_la_LIBADD = $(LIBPQ_LIBS)
drivers_postgres_postgres_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-export-symbols-regex '^dbmigrate_driver_entry$$'
endif
