## src/cli/ - the dbmigrate command: a user of the public API only.

bin_PROGRAMS += dbmigrate
dbmigrate_SOURCES = \
	src/cli/main.c \
	src/cli/cli.h \
	src/cli/cmd.c \
	src/cli/cmd-create.c \
	src/cli/cmd-down.c \
	src/cli/cmd-drivers.c \
	src/cli/cmd-help.c \
	src/cli/cmd-import.c \
	src/cli/cmd-init.c \
	src/cli/cmd-lint.c \
	src/cli/cmd-mark.c \
	src/cli/cmd-redo.c \
	src/cli/cmd-repair.c \
	src/cli/cmd-reset.c \
	src/cli/cmd-status.c \
	src/cli/cmd-targets.c \
	src/cli/cmd-targets.h \
	src/cli/cmd-targets-file.c \
	src/cli/cmd-targets-report.c \
	src/cli/cmd-up.c \
	src/cli/cmd-validate.c \
	src/cli/cmd-verify.c \
	src/cli/cmd-version.c \
	src/cli/output.c \
	src/cli/xalloc.c
dbmigrate_LDADD = src/libdbmigrate.la

# The bash completion is shipped in the tarball; see its header for where
# to install it (bash-completion wants it named plainly "dbmigrate").
EXTRA_DIST += scripts/dbmigrate.bash-completion
