## fuzz/ - libFuzzer harnesses for the parsers (configure --enable-fuzzing,
## CC=clang). `make fuzz` runs each for FUZZ_SECONDS on a scratch corpus
## seeded from tests/data/fuzz/<name>/.

EXTRA_DIST += fuzz/fuzz_lexer.c tests/data/fuzz
FUZZ_SECONDS = 60
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g

if FUZZING
FUZZ_TARGETS = fuzz/fuzz_lexer
noinst_PROGRAMS += $(FUZZ_TARGETS)
fuzz_fuzz_lexer_SOURCES = fuzz/fuzz_lexer.c src/lexer.c
fuzz_fuzz_lexer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
fuzz_fuzz_lexer_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
fuzz_fuzz_lexer_LDFLAGS = $(FUZZ_FLAGS)

fuzz: $(FUZZ_TARGETS)
	@for f in $(FUZZ_TARGETS); do \
		name=$${f#fuzz/fuzz_}; \
		mkdir -p fuzz-corpus/$$name; \
		echo "fuzzing $$name for $(FUZZ_SECONDS) s"; \
		./$$f -max_total_time=$(FUZZ_SECONDS) fuzz-corpus/$$name \
			$(top_srcdir)/tests/data/fuzz/$$name || exit 1; \
	done
else
fuzz:
	@echo "configure with CC=clang --enable-fuzzing to build the fuzzers"; exit 1
endif
.PHONY: fuzz
