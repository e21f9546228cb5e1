## drivers/mysql/ - the MySQL/MariaDB driver on libmariadb (MariaDB
## Connector/C).

if MYSQL
driver_LTLIBRARIES += drivers/mysql/mysql.la
drivers_mysql_mysql_la_SOURCES = drivers/mysql/my.c drivers/mysql/my.h \
	drivers/mysql/my-apply.c drivers/mysql/my-exec.c drivers/mysql/my-lint.c \
	drivers/mysql/my-lock.c drivers/mysql/my-snapshot.c drivers/mysql/my-split.c \
	drivers/mysql/my-table.c \
	drivers/common/drvkit.c drivers/common/drvkit.h \
	drivers/common/lintkit.c drivers/common/lintkit.h
drivers_mysql_mysql_la_CFLAGS = $(AM_CFLAGS) $(LIBMARIADB_CFLAGS)
drivers_mysql_mysql_la_LIBADD = $(LIBMARIADB_LIBS) -lpthread -lm
drivers_mysql_mysql_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-export-symbols-regex '^dbmigrate_driver_entry$$'
endif
