#!/bin/sh
# run.sh - runs every test against the plain build and the sanitizer build
# and ends with one line "N passed, N failed". Called by "make check".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
log=$(mktemp -d "${TMPDIR:-/tmp}/gl-check-XXXXXX")
pass=0
fail=0
skip=0

# count FILE NAME [PLANNED]: adds up the "ok", "not ok" and "... # SKIP"
# lines of a TAP output file (cmocka writes a skipped test as "not ok N
# # SKIP": a skip, whether "ok" or "not ok" comes before it). With
# PLANNED (integration scripts), the file must state its plan ("1..N",
# or "1..0 # SKIP why" for a script skipped whole) and make exactly N
# checks: one that ended short fails.
count() {
	s=$(grep -Ec '^(not )?ok .*# SKIP' "$1")
	p=$(grep '^ok ' "$1" | grep -vc '# SKIP')
	f=$(grep '^not ok ' "$1" | grep -vc '# SKIP')
	if [ -n "${3:-}" ]; then
		planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$1" | head -1)
		if grep -q '^1\.\.0 # SKIP' "$1"; then
			s=$((s + 1))
		elif [ -z "$planned" ]; then
			echo "not ok - $2 states no plan (1..N)" >>"$1"
			f=$((f + 1))
		elif [ "$planned" -ne $((p + s + f)) ]; then
			echo "not ok - $2 planned $planned checks, made $((p + s + f))" >>"$1"
			f=$((f + 1))
		fi
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	echo "$2: $p passed, $f failed, $s skipped"
	[ "$f" -eq 0 ] || grep '^not ok \|^# ' "$1" | grep -v '# SKIP' | sed 's/^/    /' | head -40
	[ "$s" -eq 0 ] || grep '# SKIP' "$1" | sed 's/^/    /' | head -10
}

# suite NAME BINDIR SO ADMIN [env...]
suite() {
	name=$1 bindir=$2 so=$3 admin=$4
	shift 4
	export GL_HELPERS="$top/$bindir/tests"
	for t in "$bindir"/tests/test_*; do
		[ -x "$t" ] || continue
		out="$log/$name-$(basename "$t").tap"
		env "$@" CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>&1
		rc=$?
		# A crash before cmocka reports counts as a failure.
		if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
			echo "not ok - $(basename "$t") exited $rc" >>"$out"
		fi
		count "$out" "$name unit $(basename "$t")"
	done
	for t in tests/integration/*.sh; do
		out="$log/$name-$(basename "$t" .sh).tap"
		env "$@" GL_SO="$top/$so" GL_ADMIN="$top/$admin" \
			timeout 300 sh "$t" >"$out" 2>&1
		rc=$?
		if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
			echo "not ok - $(basename "$t") exited $rc" >>"$out"
		fi
		count "$out" "$name $(basename "$t" .sh)" planned
	done
}

# One redis-server for the unit tests of the Redis store.
. "$top/tests/port.sh"
rport=$(free_port) || { echo "not ok - no free port for redis-server"; exit 1; }
mkdir -p "$log/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$log/redis" --save '' \
	--appendonly no --daemonize no >"$log/redis/log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null' EXIT INT TERM
i=0
while ! redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
export GL_REDIS="127.0.0.1:$rport"

suite plain build module/greylist.so tools/greylist-admin

asan=$(gcc -print-file-name=libasan.so)
suite sanitized build/san build/san/greylist.so build/san/greylist-admin \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	GL_PRELOAD="$asan" GL_SANITIZED=1

kill $rpid 2>/dev/null
wait $rpid 2>/dev/null
if [ "$fail" -eq 0 ]; then
	rm -rf "$log"
else
	echo "test output kept in $log"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
