## fuzz/ - libFuzzer harnesses for every parser. tests/fuzz-smoke.sh
## builds them with clang and runs each for a few seconds in make check;
## `make fuzz` runs each for FUZZ_SECONDS (default 60) on a scratch corpus
## (tests/fuzz-smoke/ in the build tree) seeded from tests/data/fuzz/<name>/.

# Files, not the directory: "fuzz" is also the phony target below.
EXTRA_DIST += fuzz/fuzz.h fuzz/fuzz-split.h fuzz/fuzz_config.c fuzz/fuzz_dotenv.c fuzz/fuzz_lexer.c \
	fuzz/fuzz_name.c fuzz/fuzz_parse_flyway.c fuzz/fuzz_parse_goose.c \
	fuzz/fuzz_parse_js.c fuzz/fuzz_parse_sql.c fuzz/fuzz_sqlite_split.c \
	fuzz/fuzz_mysql_split.c tests/data/fuzz
FUZZ_SECONDS = 60

fuzz:
	DBMIGRATE_SRCDIR='$(abs_top_srcdir)' DBMIGRATE_BUILDDIR='$(abs_top_builddir)' \
	FUZZ_SMOKE_RUNS=0 FUZZ_SMOKE_SECONDS=$(FUZZ_SECONDS) $(SHELL) '$(top_srcdir)/tests/fuzz-smoke.sh'
.PHONY: fuzz
