## tests/ - Check programs, one per module, plus the CLI and the
## PostgreSQL integration suites. Every program links the core's
## convenience library, so internals are reachable despite hidden symbols.

EXTRA_DIST += tests/data tests/fuzz-smoke.sh

# Drivers come from the build tree, exactly as a user's dlopen path.
AM_TESTS_ENVIRONMENT = \
	DBMIGRATE_DRIVER_PATH='$(abs_top_builddir)/drivers/mock/.libs:$(abs_top_builddir)/drivers/postgres/.libs:$(abs_top_builddir)/drivers/sqlite/.libs:$(abs_top_builddir)/drivers/mysql/.libs:$(abs_top_builddir)/tests/.libs'; \
	export DBMIGRATE_DRIVER_PATH; \
	DBMIGRATE_BIN='$(abs_top_builddir)/dbmigrate'; export DBMIGRATE_BIN; \
	DBMIGRATE_SRCDIR='$(abs_top_srcdir)'; export DBMIGRATE_SRCDIR; \
	DBMIGRATE_BUILDDIR='$(abs_top_builddir)'; export DBMIGRATE_BUILDDIR; \
	CK_VERBOSITY=normal; export CK_VERBOSITY; \
	DBMIGRATE_CACHE_DIR='$(abs_top_builddir)/tests/status-cache'; \
	export DBMIGRATE_CACHE_DIR;

if TESTS
# The libFuzzer harnesses of fuzz/, a few seconds each (needs clang).
TESTS += tests/fuzz-smoke.sh

TEST_CPPFLAGS = $(AM_CPPFLAGS) $(CORE_INCLUDES) -I$(top_srcdir)/tests \
	-DDBMIGRATE_DEFAULT_DRIVER='"$(DEFAULT_DRIVER)"'
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_LDADD = src/libdbmigrate-core.la $(CHECK_LIBS)

# Broken drivers the loader must refuse; never installed.
check_LTLIBRARIES += tests/bad_abi.la tests/no_entry.la tests/bad_size.la tests/bad_name.la \
	tests/old_abi.la
TEST_DRIVER_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -rpath /nowhere
tests_bad_abi_la_SOURCES = tests/drivers/bad_abi.c
tests_bad_abi_la_LDFLAGS = $(TEST_DRIVER_LDFLAGS)
tests_no_entry_la_SOURCES = tests/drivers/no_entry.c
tests_no_entry_la_LDFLAGS = $(TEST_DRIVER_LDFLAGS)
tests_old_abi_la_SOURCES = tests/drivers/old_abi.c
tests_old_abi_la_LDFLAGS = $(TEST_DRIVER_LDFLAGS)
tests_bad_size_la_SOURCES = tests/drivers/bad_size.c
tests_bad_size_la_LDFLAGS = $(TEST_DRIVER_LDFLAGS)
tests_bad_name_la_SOURCES = tests/drivers/bad_name.c
tests_bad_name_la_LDFLAGS = $(TEST_DRIVER_LDFLAGS)

check_PROGRAMS += tests/check_util
TESTS += tests/check_util
tests_check_util_SOURCES = tests/check_util.c tests/testutil.c tests/testutil.h
tests_check_util_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_util_CFLAGS = $(TEST_CFLAGS)
tests_check_util_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_name
TESTS += tests/check_name
tests_check_name_SOURCES = tests/check_name.c tests/testutil.c tests/testutil.h
tests_check_name_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_name_CFLAGS = $(TEST_CFLAGS)
tests_check_name_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_discover
TESTS += tests/check_discover
tests_check_discover_SOURCES = tests/check_discover.c tests/testutil.c tests/testutil.h
tests_check_discover_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_discover_CFLAGS = $(TEST_CFLAGS)
tests_check_discover_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_parse_peers
TESTS += tests/check_parse_peers
tests_check_parse_peers_SOURCES = tests/check_parse_peers.c tests/testutil.c tests/testutil.h
tests_check_parse_peers_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_parse_peers_CFLAGS = $(TEST_CFLAGS)
tests_check_parse_peers_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_parse
TESTS += tests/check_parse
tests_check_parse_SOURCES = tests/check_parse.c tests/testutil.c tests/testutil.h
tests_check_parse_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_parse_CFLAGS = $(TEST_CFLAGS)
tests_check_parse_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_cache
TESTS += tests/check_cache
tests_check_cache_SOURCES = tests/check_cache.c tests/testutil.c tests/testutil.h
tests_check_cache_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_cache_CFLAGS = $(TEST_CFLAGS)
tests_check_cache_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_checksum
TESTS += tests/check_checksum
tests_check_checksum_SOURCES = tests/check_checksum.c tests/testutil.c tests/testutil.h
tests_check_checksum_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_checksum_CFLAGS = $(TEST_CFLAGS)
tests_check_checksum_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_lexer
TESTS += tests/check_lexer
tests_check_lexer_SOURCES = tests/check_lexer.c tests/testutil.c tests/testutil.h
tests_check_lexer_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_lexer_CFLAGS = $(TEST_CFLAGS)
tests_check_lexer_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_txcontrol
TESTS += tests/check_txcontrol
tests_check_txcontrol_SOURCES = tests/check_txcontrol.c tests/testutil.c tests/testutil.h
tests_check_txcontrol_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_txcontrol_CFLAGS = $(TEST_CFLAGS)
tests_check_txcontrol_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_dotenv
TESTS += tests/check_dotenv
tests_check_dotenv_SOURCES = tests/check_dotenv.c tests/testutil.c tests/testutil.h
tests_check_dotenv_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_dotenv_CFLAGS = $(TEST_CFLAGS)
tests_check_dotenv_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_config
TESTS += tests/check_config
tests_check_config_SOURCES = tests/check_config.c tests/testutil.c tests/testutil.h
tests_check_config_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_config_CFLAGS = $(TEST_CFLAGS)
tests_check_config_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_core_neutral
TESTS += tests/check_core_neutral
tests_check_core_neutral_SOURCES = tests/check_core_neutral.c tests/testutil.c tests/testutil.h
tests_check_core_neutral_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_core_neutral_CFLAGS = $(TEST_CFLAGS)
tests_check_core_neutral_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_layers
TESTS += tests/check_layers
tests_check_layers_SOURCES = tests/check_layers.c tests/testutil.c tests/testutil.h
tests_check_layers_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_layers_CFLAGS = $(TEST_CFLAGS)
tests_check_layers_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_driver
TESTS += tests/check_driver
tests_check_driver_SOURCES = tests/check_driver.c tests/testutil.c tests/testutil.h
tests_check_driver_CPPFLAGS = $(TEST_CPPFLAGS)
if POSTGRES
tests_check_driver_CPPFLAGS += -DHAVE_POSTGRES_DRIVER
endif
tests_check_driver_CFLAGS = $(TEST_CFLAGS)
tests_check_driver_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_create
TESTS += tests/check_create
tests_check_create_SOURCES = tests/check_create.c tests/testutil.c tests/testutil.h
tests_check_create_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_create_CFLAGS = $(TEST_CFLAGS)
tests_check_create_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_plan
TESTS += tests/check_plan
tests_check_plan_SOURCES = tests/check_plan.c tests/testutil.c tests/testutil.h
tests_check_plan_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_plan_CFLAGS = $(TEST_CFLAGS)
tests_check_plan_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_mock
TESTS += tests/check_mock
tests_check_mock_SOURCES = tests/check_mock.c tests/testutil.c tests/testutil.h
tests_check_mock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_mock_CFLAGS = $(TEST_CFLAGS)
tests_check_mock_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_import
TESTS += tests/check_import
tests_check_import_SOURCES = tests/check_import.c tests/testutil.c tests/testutil.h
tests_check_import_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_import_CFLAGS = $(TEST_CFLAGS)
tests_check_import_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_api
TESTS += tests/check_api
tests_check_api_SOURCES = tests/check_api.c tests/testutil.c tests/testutil.h
tests_check_api_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_api_CFLAGS = $(TEST_CFLAGS)
tests_check_api_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_lint
TESTS += tests/check_lint
tests_check_lint_SOURCES = tests/check_lint.c tests/testutil.c tests/testutil.h tests/tjson.c tests/tjson.h
# The PostgreSQL rules need only the driver, no server: tested whenever
# it is built.
if POSTGRES
tests_check_lint_CPPFLAGS = $(TEST_CPPFLAGS) -DCHECK_LINT_POSTGRES
else
tests_check_lint_CPPFLAGS = $(TEST_CPPFLAGS)
endif
tests_check_lint_CFLAGS = $(TEST_CFLAGS)
tests_check_lint_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_cli
TESTS += tests/check_cli
tests_check_cli_SOURCES = tests/check_cli.c tests/testutil.c tests/testutil.h
tests_check_cli_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_cli_CFLAGS = $(TEST_CFLAGS)
tests_check_cli_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/check_targets
TESTS += tests/check_targets
tests_check_targets_SOURCES = tests/check_targets.c tests/testutil.c tests/testutil.h tests/tjson.c tests/tjson.h
tests_check_targets_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_targets_CFLAGS = $(TEST_CFLAGS)
tests_check_targets_LDADD = $(TEST_LDADD)
if SQLITE
tests_check_targets_CPPFLAGS += -DCHECK_TARGETS_SQLITE
tests_check_targets_CFLAGS += $(SQLITE3_CFLAGS)
tests_check_targets_LDADD += $(SQLITE3_LIBS)
endif

if POSTGRES
check_PROGRAMS += tests/check_pg
TESTS += tests/check_pg
tests_check_pg_SOURCES = tests/check_pg.c tests/testutil.c tests/testutil.h tests/pgserver.c tests/pgserver.h
tests_check_pg_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pg_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_pg_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)

check_PROGRAMS += tests/check_pg_import
TESTS += tests/check_pg_import
tests_check_pg_import_SOURCES = tests/check_pg_import.c tests/import-cases.c tests/import-cases.h tests/testutil.c tests/testutil.h tests/pgserver.c tests/pgserver.h
tests_check_pg_import_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pg_import_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_pg_import_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)

check_PROGRAMS += tests/check_pg_targets
TESTS += tests/check_pg_targets
tests_check_pg_targets_SOURCES = tests/check_pg_targets.c tests/testutil.c tests/testutil.h tests/pgserver.c tests/pgserver.h tests/tjson.c tests/tjson.h
tests_check_pg_targets_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pg_targets_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_pg_targets_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)

check_PROGRAMS += tests/check_pg_cli
TESTS += tests/check_pg_cli
tests_check_pg_cli_SOURCES = tests/check_pg_cli.c tests/testutil.c tests/testutil.h tests/pgserver.c tests/pgserver.h
tests_check_pg_cli_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pg_cli_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_pg_cli_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)

check_PROGRAMS += tests/check_pg_connect
TESTS += tests/check_pg_connect
tests_check_pg_connect_SOURCES = tests/check_pg_connect.c tests/testutil.c tests/testutil.h tests/pgserver.c tests/pgserver.h
tests_check_pg_connect_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pg_connect_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_pg_connect_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)

check_PROGRAMS += tests/check_pg_bigbatch
TESTS += tests/check_pg_bigbatch
tests_check_pg_bigbatch_SOURCES = tests/check_pg_bigbatch.c tests/testutil.c tests/testutil.h tests/pgserver.c tests/pgserver.h
tests_check_pg_bigbatch_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pg_bigbatch_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_pg_bigbatch_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)

check_PROGRAMS += tests/check_pg_versions
TESTS += tests/check_pg_versions
tests_check_pg_versions_SOURCES = tests/check_pg_versions.c tests/testutil.c tests/testutil.h tests/pgserver.c tests/pgserver.h
tests_check_pg_versions_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pg_versions_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_pg_versions_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)

check_PROGRAMS += tests/check_verify
TESTS += tests/check_verify
tests_check_verify_SOURCES = tests/check_verify.c tests/testutil.c tests/testutil.h tests/pgserver.c tests/pgserver.h
tests_check_verify_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_verify_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_verify_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)

# Citus: a coordinator and two workers (tests/citus.c); skipped where
# Citus is not installed, unless DBMIGRATE_REQUIRE_CITUS=1.
check_PROGRAMS += tests/check_citus
TESTS += tests/check_citus
tests_check_citus_SOURCES = tests/check_citus.c tests/testutil.c tests/testutil.h tests/citus.c tests/citus.h
tests_check_citus_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_citus_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_citus_LDADD = $(TEST_LDADD) $(LIBPQ_LIBS)
endif
if SQLITE
# The SQLite driver on real files: no server needed.
SQLITE_TEST_CFLAGS = $(TEST_CFLAGS) $(SQLITE3_CFLAGS) -pthread
SQLITE_TEST_LDADD = $(TEST_LDADD) $(SQLITE3_LIBS) -lpthread
SQLITE_TEST_SOURCES = tests/testutil.c tests/testutil.h tests/sqliteutil.c tests/sqliteutil.h

check_PROGRAMS += tests/check_sqlite
TESTS += tests/check_sqlite
tests_check_sqlite_SOURCES = tests/check_sqlite.c $(SQLITE_TEST_SOURCES)
tests_check_sqlite_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_sqlite_CFLAGS = $(SQLITE_TEST_CFLAGS)
tests_check_sqlite_LDADD = $(SQLITE_TEST_LDADD)

check_PROGRAMS += tests/check_sqlite_cli
TESTS += tests/check_sqlite_cli
tests_check_sqlite_cli_SOURCES = tests/check_sqlite_cli.c $(SQLITE_TEST_SOURCES)
tests_check_sqlite_cli_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_sqlite_cli_CFLAGS = $(SQLITE_TEST_CFLAGS)
tests_check_sqlite_cli_LDADD = $(SQLITE_TEST_LDADD)

check_PROGRAMS += tests/check_sqlite_import
TESTS += tests/check_sqlite_import
tests_check_sqlite_import_SOURCES = tests/check_sqlite_import.c tests/import-cases.c tests/import-cases.h $(SQLITE_TEST_SOURCES)
tests_check_sqlite_import_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_sqlite_import_CFLAGS = $(SQLITE_TEST_CFLAGS)
tests_check_sqlite_import_LDADD = $(SQLITE_TEST_LDADD)
endif

if MYSQL
# Against a private MariaDB server (tests/myserver.c).
check_PROGRAMS += tests/check_mysql
TESTS += tests/check_mysql
tests_check_mysql_SOURCES = tests/check_mysql.c tests/testutil.c tests/testutil.h tests/myserver.c tests/myserver.h
tests_check_mysql_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_mysql_CFLAGS = $(TEST_CFLAGS) $(LIBMARIADB_CFLAGS)
tests_check_mysql_LDADD = $(TEST_LDADD) $(LIBMARIADB_LIBS)

# The dialect without a server: split and classify through the driver.
check_PROGRAMS += tests/check_mysql_split
TESTS += tests/check_mysql_split
tests_check_mysql_split_SOURCES = tests/check_mysql_split.c tests/testutil.c tests/testutil.h
tests_check_mysql_split_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_mysql_split_CFLAGS = $(TEST_CFLAGS)
tests_check_mysql_split_LDADD = $(TEST_LDADD)
endif
endif

# The status cache the tests' dbmigrate runs write (AM_TESTS_ENVIRONMENT).
clean-local: clean-status-cache clean-fuzz-smoke
clean-status-cache:
	-rm -rf tests/status-cache
.PHONY: clean-status-cache

# What tests/fuzz-smoke.sh builds in tests/fuzz-smoke/ (with clang, when
# there is one): make clean removes the objects, harnesses, logs and
# crash inputs; make distclean also the corpora, which `make fuzz` keeps
# and grows between runs. distcheck fails on anything left.
clean-fuzz-smoke:
	-rm -rf tests/fuzz-smoke/obj tests/fuzz-smoke/libcore.a \
		tests/fuzz-smoke/probe tests/fuzz-smoke/probe.c \
		tests/fuzz-smoke/probe.log tests/fuzz-smoke/fuzz_*
distclean-local: distclean-fuzz-smoke
distclean-fuzz-smoke:
	-rm -rf tests/fuzz-smoke
.PHONY: clean-fuzz-smoke distclean-fuzz-smoke


