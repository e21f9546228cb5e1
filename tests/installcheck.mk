## tests/installcheck.mk - the README's library example, kept honest.
##
## `make check` checks that the example program in README.md ("The C
## library") is tests/example.c, byte for byte. `make installcheck` (which
## distcheck runs after its install) builds tests/example.c against the
## installed headers and library, found through the installed
## dbmigrate.pc only, runs it on the installed mock driver over the demo
## migrations and compares its output with the README's; it also runs the
## installed dbmigrate (version, drivers). After `make install
## DESTDIR=...`, `make installcheck DESTDIR=...` checks the staged tree.

EXTRA_DIST += tests/example.c
CLEANFILES += tests/example tests/example.out tests/example.expected \
	tests/example.readme.c tests/example.drivers

# awk programs printing the first ```c and ```text block of the section.
README_C_BLOCK = /^\#+ The C library$$/ { s = 1; next } \
	s && /^\#+ / { exit } \
	s && /^```c$$/ { f = 1; next } f && /^```$$/ { exit } f
README_TEXT_BLOCK = /^\#+ The C library$$/ { s = 1; next } \
	s && /^\#+ / { exit } \
	s && /^```text$$/ { f = 1; next } f && /^```$$/ { exit } f

check-local: installcheck-readme-code
installcheck-local: installcheck-example

installcheck-readme-code:
	@$(MKDIR_P) tests
	@$(AWK) '$(README_C_BLOCK)' '$(srcdir)/README.md' >tests/example.readme.c
	@if cmp -s tests/example.readme.c '$(srcdir)/tests/example.c'; then \
		echo "PASS: the example in README.md is tests/example.c"; \
	else \
		diff -u tests/example.readme.c '$(srcdir)/tests/example.c' || :; \
		echo "FAIL: the example in README.md (\"The C library\") differs from tests/example.c"; \
		exit 1; \
	fi

# Only the installed files may be used: pkg-config sees the installed
# dbmigrate.pc alone, the loader finds the installed library, and the
# drivers come from the installed driver directory (compiled into the
# library; with DESTDIR, from the staged copy of that directory).
installcheck-example: installcheck-readme-code
	@set -e; \
	unset DBMIGRATE_DRIVER_PATH PKG_CONFIG_PATH; \
	PKG_CONFIG_LIBDIR='$(DESTDIR)$(libdir)/pkgconfig'; \
	export PKG_CONFIG_LIBDIR; \
	if test -n '$(DESTDIR)'; then \
		PKG_CONFIG_SYSROOT_DIR='$(DESTDIR)'; \
		DBMIGRATE_DRIVER_PATH='$(DESTDIR)$(driverdir)'; \
		export PKG_CONFIG_SYSROOT_DIR DBMIGRATE_DRIVER_PATH; \
	fi; \
	LD_LIBRARY_PATH='$(DESTDIR)$(libdir)'$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}; \
	export LD_LIBRARY_PATH; \
	cflags=`$(PKG_CONFIG) --cflags dbmigrate`; \
	libs=`$(PKG_CONFIG) --libs dbmigrate`; \
	echo "  CCLD     tests/example ($$cflags $$libs)"; \
	$(CC) $(DBM_WARN_CFLAGS) $(DBM_SAN_CFLAGS) $(CPPFLAGS) $(CFLAGS) \
		$$cflags '$(srcdir)/tests/example.c' -o tests/example \
		$(LDFLAGS) $(DBM_SAN_LDFLAGS) $$libs; \
	'$(DESTDIR)$(bindir)/dbmigrate' version; \
	'$(DESTDIR)$(bindir)/dbmigrate' --no-color drivers >tests/example.drivers; \
	cat tests/example.drivers; \
	if ! grep -F '($(DESTDIR)$(driverdir)/mock.so)' tests/example.drivers >/dev/null; then \
		echo "FAIL: the installed dbmigrate does not list $(DESTDIR)$(driverdir)/mock.so"; \
		exit 1; \
	fi; \
	(cd tests && ./example mock: '$(abs_top_srcdir)/migrations') >tests/example.out; \
	$(AWK) '$(README_TEXT_BLOCK)' '$(srcdir)/README.md' >tests/example.expected; \
	if ! diff -u tests/example.expected tests/example.out; then \
		echo "FAIL: tests/example's output differs from the README's (above)"; \
		exit 1; \
	fi; \
	echo "PASS: tests/example, built against the installed library, prints what README.md says"

.PHONY: installcheck-readme-code installcheck-example
