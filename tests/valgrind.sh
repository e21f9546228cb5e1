#!/usr/bin/env bash
#
# tests/valgrind.sh - the CLI's main paths under valgrind memcheck: no
# invalid read or write, no use of uninitialised memory, no definite
# leak, on the paths users take every day and on the failing ones.
#
#   tests/valgrind.sh [DBMIGRATE_BINARY]
#
# Each path runs once under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite
#            --error-exitcode=99
# and must exit with its own expected status (99 means valgrind found
# something; its log is printed). Paths: help, version, drivers, create,
# validate, init, status (text and JSON), up, down, reset, a failing
# migration, a parse error, a usage error, a refused connection and a
# lock timeout, against the mock driver (file-backed) and a real
# PostgreSQL server. The server is DBMIGRATE_TEST_URL when given (a
# database this script may fill), else a private one started with
# scripts/devdb in a scratch directory and stopped at the end.
#
# Environment: DBMIGRATE_BIN (or the argument), DBMIGRATE_DRIVER_PATH
# (default: the build tree next to the binary), DBMIGRATE_TEST_URL.
# Prints one line per path and a summary; exits 1 when any path failed,
# 77 (skipped) when valgrind is missing.
set -uo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

bin=${1:-${DBMIGRATE_BIN:-}}
if [[ -z $bin || ! -x $bin ]]; then
	echo "usage: tests/valgrind.sh DBMIGRATE_BINARY (or set DBMIGRATE_BIN)" >&2
	exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
builddir=$(dirname "$bin")
if [[ -z ${DBMIGRATE_DRIVER_PATH:-} ]]; then
	DBMIGRATE_DRIVER_PATH=$builddir/drivers/mock/.libs:$builddir/drivers/postgres/.libs
fi
export DBMIGRATE_DRIVER_PATH

if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP: valgrind is not installed (Debian: apt-get install valgrind)"
	exit 77
fi

# A build tree's dbmigrate is libtool's wrapper script: let libtool run
# valgrind on the real program with the right library path.
vg=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --error-exitcode=99 --num-callers=30)
if head -c 2 "$bin" | grep -q '#!' && [[ -x $builddir/libtool ]]; then
	vg=("$builddir/libtool" --mode=execute "${vg[@]}")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/dbmigrate-valgrind.XXXXXX") || exit 2
chmod 755 "$work"
own_server=0
# status's cache stays in the scratch directory, not in ~/.cache.
export DBMIGRATE_CACHE_DIR=$work/status-cache

# Stop the private server (by its data directory's PID) and clean up.
cleanup() {
	if ((own_server)); then
		DEVDB_DIR=$work/server "$top/scripts/devdb" stop >/dev/null 2>&1
	fi
	rm -rf "$work"
}
trap cleanup EXIT

runs=0
clean=0
declare -a failures=()

# Run one path: name, expected exit status, directory, then arguments.
path() {
	local name=$1 want=$2 dir=$3 log rc
	shift 3
	runs=$((runs + 1))
	log=$work/vg.$runs.log
	(cd "$dir" && exec env -u DATABASE_URL -u DB_HOST -u DB_PORT -u DB_NAME \
		-u DB_USER -u DB_PASSWORD -u PGHOST -u PGPORT -u PGDATABASE \
		-u PGUSER -u PGPASSWORD NO_COLOR=1 \
		"${vg[@]}" --log-file="$log" "$bin" "$@") >"$log.out" 2>"$log.err" </dev/null
	rc=$?
	if ((rc == want)) && [[ ! -s $log ]]; then
		clean=$((clean + 1))
		printf 'ok    %-44s exit %d, no valgrind errors\n' "$name" "$rc"
		return
	fi
	if ((rc == 99)); then
		printf 'FAIL  %-44s valgrind found errors:\n' "$name"
	elif [[ -s $log ]]; then
		printf 'FAIL  %-44s exit %d (expected %d); valgrind said:\n' "$name" "$rc" "$want"
	else
		printf 'FAIL  %-44s exit %d (expected %d); stderr:\n' "$name" "$rc" "$want"
		sed 's/^/        /' "$log.err" | head -n 10
	fi
	sed 's/^/        /' "$log" | head -n 60
	failures+=("$name")
}

# A directory with two good migrations and room for trouble.
project() {
	local d=$1
	mkdir -p "$d/migrations"
	cat >"$d/migrations/001_create_users.sql" <<'EOF'
-- migrate:up
CREATE TABLE vg_users (id SERIAL PRIMARY KEY, email TEXT NOT NULL);
INSERT INTO vg_users (email) VALUES ('a@example.com');

-- migrate:down
DROP TABLE vg_users;
EOF
	cat >"$d/migrations/002_add_index.ts" <<'EOF'
export const up = `
  CREATE INDEX vg_users_email ON vg_users (email);
`;
export const down = `
  DROP INDEX vg_users_email;
`;
EOF
}

# ---- the mock driver: no server needed

m=$work/mock
project "$m"
murl=mock:$work/mock.state
path "help" 0 "$m" help
path "help up (--help)" 0 "$m" --help up
path "version" 0 "$m" version
path "drivers" 0 "$m" drivers
path "validate (files only)" 0 "$m" validate
path "create" 0 "$m" create "Add Posts Table"
rm -f "$m"/migrations/003_*.sql
path "mock: init" 0 "$m" --url "$murl" init
path "mock: status" 0 "$m" --url "$murl" status
path "mock: up" 0 "$m" --url "$murl" up
path "mock: status --format json" 0 "$m" --url "$murl" status --format json
path "mock: validate against the database" 0 "$m" --url "$murl" validate
path "mock: down" 0 "$m" --url "$murl" down
path "mock: up --dry-run" 0 "$m" --url "$murl" up --dry-run
path "mock: up -v" 0 "$m" --url "$murl" -v up
path "mock: reset --force" 0 "$m" --url "$murl" reset --force
path "mock: failing migration (injected)" 1 "$m" --url "$murl?fail=vg_users_email" up
path "mock: connection refused" 4 "$m" --url "mock:?refuse=1" status
path "mock: lock held elsewhere" 5 "$m" --url "mock:?lock=held" --lock-timeout 0.2 up
path "usage error" 2 "$m" up --no-such-option
path "unknown command" 2 "$m" frobnicate
bad=$work/bad
mkdir -p "$bad/migrations"
printf -- "-- migrate:up\nSELECT 'unterminated;\n" >"$bad/migrations/001_bad.sql"
path "parse error" 3 "$bad" --url "$murl" up
# shellcheck disable=SC2016 # the ${x} is JavaScript, for dbmigrate to refuse
printf 'export const up = `SELECT ${x}`;\n' >"$bad/migrations/001_bad.ts"
rm -f "$bad/migrations/001_bad.sql"
path "parse error (.ts interpolation)" 3 "$bad" --url "$murl" up

# ---- a real PostgreSQL server

url=${DBMIGRATE_TEST_URL:-}
if [[ -z $url ]]; then
	if url=$(DEVDB_DIR=$work/server "$top/scripts/devdb" start 2>"$work/devdb.err"); then
		own_server=1
		url=${url##*$'\n'}
	else
		echo "note: no PostgreSQL server (scripts/devdb start failed), real-server paths not run:"
		sed 's/^/        /' "$work/devdb.err"
		failures+=("no server")
		url=
	fi
fi
if [[ -n $url ]]; then
	p=$work/pg
	project "$p"
	path "postgres: init" 0 "$p" --url "$url" init
	path "postgres: status (nothing applied)" 0 "$p" --url "$url" status
	path "postgres: up" 0 "$p" --url "$url" up
	path "postgres: status" 0 "$p" --url "$url" status
	path "postgres: status --format json" 0 "$p" --url "$url" status --format json
	path "postgres: validate against the database" 0 "$p" --url "$url" validate
	path "postgres: down" 0 "$p" --url "$url" down
	path "postgres: up -v" 0 "$p" --url "$url" -v up
	cat >"$p/migrations/003_concurrently.sql" <<'EOF'
-- migrate:up
CREATE INDEX CONCURRENTLY vg_users_id_email ON vg_users (id, email);

-- migrate:down
DROP INDEX CONCURRENTLY vg_users_id_email;
EOF
	path "postgres: up (outside a transaction)" 0 "$p" --url "$url" up
	path "postgres: reset --force" 0 "$p" --url "$url" reset --force
	cat >"$p/migrations/004_fails.sql" <<'EOF'
-- migrate:up
SELECT 1 / 0;
EOF
	path "postgres: failing migration" 1 "$p" --url "$url" up
	rm -f "$p/migrations/004_fails.sql"
	path "postgres: parse error" 3 "$bad" --url "$url" up
	path "postgres: wrong password" 4 "$p" --url "$(printf '%s' "$url" | sed 's|://\([^:]*\):[^@]*@|://\1:wrong@|')" status
	path "postgres: reset --force (clean up)" 0 "$p" --url "$url" reset --force
fi

echo "valgrind memcheck: $runs runs of the CLI, $clean clean, $((runs - clean)) with errors or wrong exit status"
((${#failures[@]} == 0))
