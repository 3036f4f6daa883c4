#!/bin/sh
# fuzz_smoke.sh - each libFuzzer target runs 20000 inputs from its seeds
# without a crash (make fuzz runs them for minutes).
. "$(dirname "$0")/../lib.sh"
[ -n "${GL_SANITIZED:-}" ] && skip_all "once is enough: the plain suite runs it"
# One check per fuzz target in the source tree: a target that was not
# built fails rather than vanishing from the count.
plan "$(ls "$TOP"/tests/fuzz/fuzz_*.c | wc -l)"
for src in "$TOP"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	f=$TOP/build/fuzz/$name
	mkdir -p "$T/$name"
	if [ ! -x "$f" ]; then
		nok "$name: not built ($f)"
	elif (cd "$T" && TMPDIR="$T" "$f" -runs=20000 -artifact_prefix="$T/" \
		"$T/$name" "$TOP/tests/fuzz/corpus/$name" >"$T/$name.log" 2>&1); then
		ok "$name: 20000 inputs, no crash"
	else
		nok "$name: $(grep -m1 -E 'ERROR|SUMMARY|Trap' "$T/$name.log")"
	fi
done
