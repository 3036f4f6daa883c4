#!/bin/sh
# bench_quick.sh - "make bench" works: its quick mode (a few hundred RCPTs
# per variant, and fifty messages of an MX's traffic) runs, prints its
# tables and target lines, and every greylister in it, the floor
# included, makes the decisions the traffic calls for. It measures
# nothing here.
. "$(dirname "$0")/../lib.sh"
[ -n "${GL_SANITIZED:-}" ] && skip_all "once is enough: the plain suite runs it"
plan 27
BENCH_QUICK=1 BENCH_OUT="$T/bench.txt" GL_LOAD="$GL_HELPERS/gl-load" \
	TMPDIR="$T" timeout 240 sh "$TOP/tests/bench/bench.sh" >"$T/out" 2>&1
rc=$?
check "make bench's quick mode exits 0" test $rc -eq 0
check "it states the one ACL shape and logging of every variant" \
	grep -q '^# acl: every greylisting variant runs the module.s snippet .* log_reject_target = main; the module.s own line off (log = none)' "$T/out"
check "it prints the table header" grep -q '^VARIANT *CLIENTS *RCPT/s *p50_ms *p99_ms' "$T/out"
check "with a row for Exim alone, the floor and the module" \
	sh -c "grep -q '^exim  *8 ' '$T/out' && grep -q '^floor  *8 ' '$T/out' && grep -q '^module  *8 ' '$T/out'"
check "every RCPT to the module was answered" grep -q '^variant=module mode=persistent clients=8 run=1 rcpts=300 .* failed_clients=0' "$T/bench.txt"
check "and the ratios to Exim alone, greylistd and the floor" \
	grep -q '^clients=8 module/exim=[0-9.-]* module/greylistd=[0-9.-]* module/postgrey=[0-9.-]* module/floor=[0-9.]*$' "$T/out"
check "it states what log = all costs (the logall variant beside the module)" \
	grep -q '^log = all: clients=8 [0-9]* RCPT/s against [0-9]* without it, logall/module=[0-9.]*$' "$T/out"
# The MX traffic: 50 messages, one connection each; with one RCPT per
# connection exactly 30 come from one-shot senders (deferred), 15 from
# known senders and 5 are retries (accepted).
for v in module floor; do
	check "the MX traffic reached the $v over one connection per message" \
		grep -q "^variant=$v mode=mx clients=8 run=1 rcpts=[0-9]* conns=50 .* failed_clients=0" "$T/bench.txt"
	check "the $v answered it as a greylister would (mx and mx1: no unexpected answer)" \
		sh -c "grep -q '^variant=$v mode=mx clients=8 run=1 .* unexpected=0 ' '$T/bench.txt' && grep -q '^variant=$v mode=mx1 clients=8 run=1 .* unexpected=0 ' '$T/bench.txt'"
	check "with one RCPT per connection the $v deferred the 30 one-shot senders and accepted the 20 others" \
		grep -q "^variant=$v mode=mx1 clients=8 run=1 rcpts=50 conns=50 .* accepted=20 deferred=30 other=0 unexpected=0 " "$T/bench.txt"
done
check "the module's warm-up passed the known senders (no unexpected answer)" \
	grep -q '^warmup variant=module run=1 known=20 retries=[0-9]* rcpts=[0-9]* .* unexpected=0 .* failed_clients=0$' "$T/bench.txt"
check "the MX table has RCPT/s, connections/s and the ratios" \
	sh -c "grep -q '^VARIANT *MIX *CLIENTS *RCPT/s *CONN/s *p50_ms *p99_ms */exim */greylistd */floor$' '$T/out' && grep -q '^module  *mx1  *8  *[0-9]*  *[0-9]*  *[0-9.]*  *[0-9.]*  *[0-9.]*  *[0-9.-]*  *[0-9.]*$' '$T/out'"
# With one round, the round's verdict is the medians' verdict.
check "a target line for LMDB against the floor, met or NOT met, and in how many rounds" \
	sh -c "grep -q '^target lmdb clients=8: [0-9]* RCPT/s, want 0.9x floor ([0-9]*): \(met (in 1\|NOT met (in 0\) of 1 rounds)$' '$T/out' && grep -q '^target lmdb one RCPT per connection (clients=8): [0-9]* RCPT/s, want 0.9x floor ([0-9]*): \(met (in 1\|NOT met (in 0\) of 1 rounds)$' '$T/out'"
# greylistd is installed by "make bench", not by "make check": without
# it the line says the target was not measured.
if command -v greylistd >/dev/null; then
	check "and for the module against greylistd" grep -q '^target module clients=8: [0-9]* RCPT/s, want 1.5x greylistd ([0-9]*): \(met (in 1\|NOT met (in 0\) of 1 rounds)$' "$T/out"
else
	check "and for the module against greylistd (greylistd absent)" grep -q '^target module clients=8: [0-9]* RCPT/s, not measured: no figure for greylistd in this run$' "$T/out"
fi
left=$(pgrep -f "^(/usr/sbin/exim4|redis-server|/usr/bin/perl|/usr/bin/python3|postgrey|greylistd).*$T" | wc -l)
check "it stopped every daemon it started ($left left)" test "$left" -eq 0
for b in gdbm lmdb floor; do
	check "the connection cost ($b) was measured loaded by each connection and by the daemon" \
		sh -c "grep -q '^conncost variant=$b loaded_by=connection n=50 load_us=[0-9]* .* total_us=[0-9]*$' '$T/out' &&
			grep -q '^conncost variant=$b loaded_by=daemon n=50 load_us=[0-9]* .* total_us=[0-9]*$' '$T/out'"
done
for b in gdbm lmdb; do
	check "the store benchmark ($b) ran with 1 and 8 processes" \
		sh -c "grep -q '^store=$b records=2000 procs=1 .* errors=0' '$T/out' && grep -q '^store=$b records=2000 procs=8 .* errors=0' '$T/out'"
	check "and timed a purge under load ($b)" grep -q "^purge store=$b records=2000 secs=[0-9.]* status=0 " "$T/out"
	check "and checked the store targets ($b)" grep -q "^target $b slowest decision during purge of 2000: " "$T/out"
done
