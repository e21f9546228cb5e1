## drivers/mock/ - the mock driver: in-memory or file-backed, the
## reference implementation of the driver ABI.

driver_LTLIBRARIES += drivers/mock/mock.la
drivers_mock_mock_la_SOURCES = drivers/mock/mock.c drivers/mock/mock.h \
	drivers/mock/mock-data.c drivers/mock/mock-exec.c drivers/mock/mock-report.c \
	drivers/mock/mock-url.c \
	drivers/mock/mock-snapshot.c drivers/mock/mock-sql.c drivers/mock/mock-state.c \
	drivers/common/drvkit.c drivers/common/drvkit.h
drivers_mock_mock_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-export-symbols-regex '^dbmigrate_driver_entry$$'
