#!/bin/sh
# lexer-bench.sh - measure lexer_split on a generated ~100 MB INSERT-heavy
# migration: builds bench/lexer-bench.c with -O2 (unless LEXER_BENCH names
# a built program), splits the file 5 times and prints the median MB/s
# with the min-max range next to the 200 MB/s target. Exits 1 when the
# median misses the target.
#
#   bench/lexer-bench.sh [MB]        (default 100)
#   CC=clang CFLAGS=-O3 bench/lexer-bench.sh
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
mb=${1:-100}
runs=5
target=200
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lexer-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

bench=${LEXER_BENCH:-}
if [ -z "$bench" ]; then
	bench=$tmp/lexer-bench
	# CFLAGS holds several flags: split it on purpose.
	# shellcheck disable=SC2086
	${CC:-cc} -std=c11 -D_DEFAULT_SOURCE ${CFLAGS:--O2} \
		-I"$srcdir/include" -I"$srcdir/src/host" \
		"$srcdir/bench/lexer-bench.c" "$srcdir/src/host/lexer.c" -o "$bench"
fi

"$bench" generate "$tmp/bench.sql" "$mb"
"$bench" "$tmp/bench.sql" "$runs" >"$tmp/runs"

sort -n "$tmp/runs" | awk -v target="$target" -v runs="$runs" '
	{ v[NR] = $1 }
	END {
		if (NR != runs) { print "lexer-bench: missing runs" > "/dev/stderr"; exit 1 }
		median = v[int((NR + 1) / 2)]
		printf "lexer_split: median %.0f MB/s (min %.0f, max %.0f) over %d runs; target %d MB/s: %s\n",
			median, v[1], v[NR], NR, target, (median >= target ? "ok" : "MISSED")
		if (median < target)
			exit 1

	}'
