#!/bin/sh
# run.sh SECONDS - runs every libFuzzer target for SECONDS each ("make
# fuzz"), starting from tests/fuzz/corpus/NAME, in a scratch directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-120}
work=$(mktemp -d "${TMPDIR:-/tmp}/gl-fuzz-XXXXXX")
rc=0
for f in "$top"/build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="$top/build/fuzz/corpus-$name"
	mkdir -p "$corpus"
	echo "== $name for ${secs}s"
	(cd "$work" && TMPDIR="$work" "$f" -max_total_time="$secs" \
		-artifact_prefix="$corpus/" "$corpus" \
		"$top/tests/fuzz/corpus/$name" 2>&1 | tail -3) || rc=1
done
rm -rf "$work"
exit $rc
