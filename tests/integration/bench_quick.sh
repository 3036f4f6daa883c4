#!/bin/sh
# bench_quick.sh - "make bench" works: its quick mode (a few hundred RCPTs
# per variant) runs and prints its table. It measures nothing here.
. "$(dirname "$0")/../lib.sh"
[ -n "${GL_SANITIZED:-}" ] && { ok "bench quick mode # SKIP once is enough (plain suite)"; exit 0; }
BENCH_QUICK=1 BENCH_OUT="$T/bench.txt" GL_LOAD="$GL_HELPERS/gl-load" \
	TMPDIR="$T" timeout 240 sh "$TOP/tests/bench/bench.sh" >"$T/out" 2>&1
rc=$?
check "make bench's quick mode exits 0" test $rc -eq 0
check "it prints the table header" grep -q '^VARIANT *CLIENTS *RCPT/s *p50_ms *p99_ms' "$T/out"
check "with a row for Exim alone and one for the module" \
	sh -c "grep -q '^exim  *8 ' '$T/out' && grep -q '^module  *8 ' '$T/out'"
check "every RCPT to the module was answered" grep -q '^variant=module clients=8 run=1 rcpts=300 .* failed_clients=0' "$T/bench.txt"
check "and the ratios to Exim alone and greylistd" \
	grep -q '^clients=8 module/exim=[0-9.-]* module/greylistd=[0-9.-]* ' "$T/out"
# greylistd is installed by "make bench", not by "make check": without
# it the line says the target was not measured.
if command -v greylistd >/dev/null; then
	check "and a target line per measured point" grep -q '^target lmdb clients=8: [0-9]* RCPT/s, want .*: \(met\|NOT met\)$' "$T/out"
else
	check "and a target line per measured point (greylistd absent)" grep -q '^target lmdb clients=8: [0-9]* RCPT/s, not measured: no figure for greylistd in this run$' "$T/out"
fi
left=$(pgrep -f "^(/usr/sbin/exim4|redis-server|/usr/bin/perl|/usr/bin/python3|postgrey|greylistd).*$T" | wc -l)
check "it stopped every daemon it started ($left left)" test "$left" -eq 0
for b in gdbm lmdb; do
	check "the store benchmark ($b) ran with 1 and 8 processes" \
		sh -c "grep -q '^store=$b records=2000 procs=1 .* errors=0' '$T/out' && grep -q '^store=$b records=2000 procs=8 .* errors=0' '$T/out'"
	check "and timed a purge under load ($b)" grep -q "^purge store=$b records=2000 secs=[0-9.]* status=0 " "$T/out"
	check "and checked the store targets ($b)" grep -q "^target $b slowest decision during purge of 2000: " "$T/out"
done
