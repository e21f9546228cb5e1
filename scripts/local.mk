## scripts/ - developer tools (the throwaway PostgreSQL and MariaDB servers, the test,
## demo, PostgreSQL-matrix and packaging checks) and the bash completion.
dist_noinst_SCRIPTS += scripts/devdb scripts/devdb-mysql scripts/deps scripts/check scripts/test-summary scripts/demo scripts/pg-matrix \
	scripts/package-check

# The integration suites on PostgreSQL 13 to 18 (npm's embedded-postgres
# binaries, cached outside the tree); see scripts/pg-matrix.
check-matrix: all $(check_PROGRAMS) $(check_LTLIBRARIES)
	$(top_srcdir)/scripts/pg-matrix '$(abs_top_builddir)'
.PHONY: check-matrix

# bash-completion loads a command's completion on demand from a file named
# after the command, so the file is installed as "dbmigrate".
EXTRA_DIST += scripts/dbmigrate.bash-completion
install-data-local: scripts-install-completion
uninstall-local: scripts-uninstall-completion

scripts-install-completion:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) '$(srcdir)/scripts/dbmigrate.bash-completion' \
		'$(DESTDIR)$(bashcompletiondir)/dbmigrate'

scripts-uninstall-completion:
	rm -f '$(DESTDIR)$(bashcompletiondir)/dbmigrate'

.PHONY: scripts-install-completion scripts-uninstall-completion

# The reliability scenarios against a private server (concurrent runners,
# kill -9, a lost server, signals, the lock, hostile input, valgrind;
# about five minutes), and valgrind alone over the CLI's main paths. CI
# runs check-reliability; see tests/reliability/run.
dist_noinst_SCRIPTS += tests/reliability/run tests/valgrind.sh
check-reliability: all
	'$(top_srcdir)/tests/reliability/run' '$(abs_top_builddir)/dbmigrate'
check-valgrind: all
	'$(top_srcdir)/tests/valgrind.sh' '$(abs_top_builddir)/dbmigrate'
.PHONY: check-reliability check-valgrind
