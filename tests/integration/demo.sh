#!/bin/sh
# demo.sh - "make demo" works: it exits 0 and tells the story in order.
. "$(dirname "$0")/../lib.sh"
plan 7
GL_DELAY=2s TMPDIR="$T" sh "$TOP/tests/demo.sh" >"$T/demo.out" 2>&1
rc=$?
check "make demo's script exits 0" test $rc -eq 0
check "it shows the 451 4.7.1 deferral" grep -q 'SMTP<< 451 4.7.1 Greylisted: please try again in [12] seconds' "$T/demo.out"
check "then the acceptance" sh -c "sed -n '/== Retry/,\$p' '$T/demo.out' | grep -q 'SMTP<< 250 Accepted'"
check "then the delivered headers" grep -q '^   Subject: Hello through greylisting$' "$T/demo.out"
check "then list with the passed triplet and its delay" grep -q '^   127.0.0.0/24 *passed .* [2-9]s  alice@sender.example -> bob@test.example$' "$T/demo.out"
check "then stats with the delay" grep -q '^   delay seen by passed mail: 1 triplets' "$T/demo.out"
check "it removed its scratch directory" sh -c "! ls -d '$T'/gl-it-* >/dev/null 2>&1"
