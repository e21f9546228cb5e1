## bench/ - benchmark scripts; they print figures, they are not tests.
EXTRA_DIST += bench/lexer-bench.c bench/lexer-bench.sh bench/run bench/limit.c \
	bench/stopwatch.c bench/sqlite-limit.c bench/limit-files.h bench/compare \
	bench/count-roundtrips
