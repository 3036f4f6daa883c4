#!/bin/sh
# fuzz_smoke.sh - each libFuzzer target runs 20000 inputs from its seeds
# without a crash (make fuzz runs them for minutes).
. "$(dirname "$0")/../lib.sh"
[ -n "${GL_SANITIZED:-}" ] && { ok "fuzz smoke run # SKIP once is enough (plain suite)"; exit 0; }
for f in "$TOP"/build/fuzz/fuzz_*; do
	name=$(basename "$f")
	mkdir -p "$T/$name"
	if (cd "$T" && TMPDIR="$T" "$f" -runs=20000 -artifact_prefix="$T/" \
		"$T/$name" "$TOP/tests/fuzz/corpus/$name" >"$T/$name.log" 2>&1); then
		ok "$name: 20000 inputs, no crash"
	else
		nok "$name: $(grep -m1 -E 'ERROR|SUMMARY|Trap' "$T/$name.log")"
	fi
done
