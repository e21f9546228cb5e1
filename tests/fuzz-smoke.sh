#!/bin/sh
# Build every libFuzzer harness in fuzz/ with clang and run each for a few
# seconds on its seed corpus (tests/data/fuzz/<name>/). Part of make check;
# `make fuzz` (configure --enable-fuzzing) runs them for longer. Skips
# (exit 77) when clang or its libFuzzer runtime is missing, except in CI.
#
# In make check the run is reproducible: a fixed seed (FUZZ_SMOKE_SEED,
# default 1), a fixed number of inputs per harness (FUZZ_SMOKE_RUNS,
# default 100000) and a fresh scratch corpus, so CI and a developer see
# the same inputs; FUZZ_SMOKE_SECONDS only caps the time. `make fuzz`
# sets FUZZ_SMOKE_RUNS=0: a random seed, for FUZZ_SECONDS, on a corpus
# that it keeps and grows between runs.
set -u
srcdir=${DBMIGRATE_SRCDIR:?run from make check}
out=${DBMIGRATE_BUILDDIR:?run from make check}/tests/fuzz-smoke
seconds=${FUZZ_SMOKE_SECONDS:-120}
runs=${FUZZ_SMOKE_RUNS:-100000}
seed=${FUZZ_SMOKE_SEED:-1}
CLANG=${CLANG:-clang}
flags="-g -O1 -std=c11 -D_DEFAULT_SOURCE -fsanitize=fuzzer-no-link,address,undefined -I$srcdir/include -I$srcdir/src/util -I$srcdir/src/host -I$srcdir/src/files -I$srcdir/src/plan -I$srcdir/src/api $(pkg-config --cflags libpq 2>/dev/null)"
libs="-lcrypto -ldl $(pkg-config --libs libpq 2>/dev/null)"

skip() {
	echo "SKIP: $1"
	[ "${CI:-}" = true ] && { echo "CI=true: the fuzz smoke test must run in CI"; exit 1; }
	exit 77
}
# CI runs the smoke test in its main build and in distcheck (which
# proves that distclean removes what it builds); the ASan run sets
# DBMIGRATE_FUZZ_SMOKE=off (the fuzzers carry ASan themselves), and so
# does a Debian package build (debian/rules).
if [ "${DBMIGRATE_FUZZ_SMOKE:-on}" = off ]; then
	echo "SKIP: disabled by DBMIGRATE_FUZZ_SMOKE=off"
	exit 77
fi
command -v "$CLANG" >/dev/null 2>&1 || skip "clang not found (install clang to run the fuzzers)"
mkdir -p "$out/obj"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; return (int)n * 0; }\n' >"$out/probe.c"
if ! "$CLANG" -fsanitize=fuzzer "$out/probe.c" -o "$out/probe" >"$out/probe.log" 2>&1; then
	cat "$out/probe.log"
	skip "clang cannot link libFuzzer (install libclang-rt-dev or clang's compiler-rt)"
fi

# The core, compiled once with coverage instrumentation.
objs=
for c in "$srcdir"/src/util/*.c "$srcdir"/src/host/*.c "$srcdir"/src/files/*.c \
	 "$srcdir"/src/plan/*.c "$srcdir"/src/api/*.c; do
	o="$out/obj/$(basename "$c" .c).o"
	"$CLANG" $flags -DDBMIGRATE_DRIVER_DIR='"/nowhere"' -DDBMIGRATE_DEFAULT_DRIVER='"mock"' -c "$c" -o "$o" || exit 1
	objs="$objs $o"
done
rm -f "$out/libcore.a"
ar rcs "$out/libcore.a" $objs || exit 1

status=0 total=0
for h in "$srcdir"/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	corpus="$srcdir/tests/data/fuzz/${name#fuzz_}"
	extra=
	case $name in
	fuzz_sqlite_*)
		# The SQLite driver's splitter, against sqlite3_complete().
		if ! pkg-config --exists sqlite3; then
			[ "${CI:-}" = true ] && { echo "$name: libsqlite3 missing in CI"; exit 1; }
			echo "$name: skipped (libsqlite3 not found by pkg-config)"
			continue
		fi
		extra="$srcdir/drivers/sqlite/sq-split.c $srcdir/drivers/common/drvkit.c $(pkg-config --cflags --libs sqlite3)" ;;
	fuzz_mysql_*)
		# The MySQL driver's splitter (libmariadb's headers only).
		if ! pkg-config --exists libmariadb; then
			[ "${CI:-}" = true ] && { echo "$name: libmariadb missing in CI"; exit 1; }
			echo "$name: skipped (libmariadb not found by pkg-config)"
			continue
		fi
		extra="$srcdir/drivers/mysql/my-split.c $srcdir/drivers/common/drvkit.c $(pkg-config --cflags libmariadb)" ;;
	esac
	"$CLANG" $flags -fsanitize=fuzzer "$h" $extra "$out/libcore.a" $libs -o "$out/$name" || exit 1
	log="$out/$name.log"
	if [ "$runs" -gt 0 ]; then
		rm -rf "$out/corpus-$name"
		limits="-seed=$seed -runs=$runs"
	else
		limits=
	fi
	mkdir -p "$out/corpus-$name"
	if "$out/$name" $limits -max_total_time="$seconds" -rss_limit_mb=2048 \
		-artifact_prefix="$out/$name-" "$out/corpus-$name" \
		$( [ -d "$corpus" ] && echo "$corpus" ) >"$log" 2>&1; then
		done_runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' | tail -n1)
		total=$((total + ${done_runs:-0}))
		echo "$name: ${done_runs:-?} executions${limits:+ (${limits})}, no crash"
	else
		echo "$name: FAILED (the fuzzer's log follows: $log)"
		grep -v '^#[0-9]' "$log" | tail -n 60
		for a in "$out/$name-"*; do
			[ -f "$a" ] || continue
			echo "input that failed ($a), as hex:"
			od -An -tx1 -v "$a" | head -n 20
		done
		status=1
	fi
done
echo "fuzz smoke: $total executions"
exit $status
