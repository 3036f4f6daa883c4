#!/bin/sh
# metrics.sh - the decision counters and greylist-admin metrics: decisions
# made through the real Exim (host-checking sessions, expansion mode, a
# daemon with parallel clients) move exim_greylist_decisions_total by
# exactly the number made, per reason; the output passes promtool and the
# Prometheus client library's parser; --output replaces its file
# atomically; a damaged counters file is replaced, never a reason to
# answer on_error.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 43
PY=/usr/bin/python3
CNT=$T/db/greylist.counters

# value METRICS-FILE SAMPLE: the value of one sample (name with labels,
# exactly as printed), or "missing".
value() {
	awk -v s="$2" '$1 == s { v = $2 } END { print (v == "" ? "missing" : v) }' "$1"
}
dec() { echo "exim_greylist_decisions_total{verdict=\"$1\",reason=\"$2\"}"; }

write_exim_conf
echo "whitelisted.example" >"$T/wl"
write_gl_conf "retry_window = 8s" "auto_whitelist_clients = 1" "whitelist = $T/wl"
sed 's/^log = all/on_error = defer/' "$T/greylist.conf" >"$T/greylist-defer.conf"

A metrics >"$T/m0"; rc=$?
check "metrics before any decision: exit $rc, counters all 0" \
	sh -c "test $rc -eq 0 && test '$(value "$T/m0" "$(dec defer new)")' = 0"
check "... and no counters file made by it" test ! -e "$CNT"

# ---- decisions through exim -bh and -be, each reason at least once ----
expect_rcpt "451 " "new triplet" 192.0.2.1 a@sender.example
check "the module created the counters file ($(stat -c %s "$CNT" 2>/dev/null) bytes)" test -s "$CNT"
expect_rcpt "451 " "early retry" 192.0.2.1 a@sender.example
expect_rcpt "451 " "a second new triplet (another subnet)" 198.51.100.7 r@restart.example
sleep 2.5
expect_rcpt "250 " "retry after the delay passes" 192.0.2.1 a@sender.example
expect_rcpt "250 " "known" 192.0.2.1 a@sender.example
expect_rcpt "250 " "whitelisted sender" 203.0.113.9 x@whitelisted.example
expect_rcpt "250 " "auto-whitelisted client, new triplet" 192.0.2.2 b@sender.example
sleep 6.5
expect_rcpt "451 " "retry after the retry window restarts" 198.51.100.7 r@restart.example
y1=$(exim_run -C "$T/exim.conf" -be "\${dlfunc{$GL_SO}{greylist}{$T/greylist.conf}{not-an-ip}{a@b.example}{c@test.example}}" 2>/dev/null)
y2=$(exim_run -C "$T/exim.conf" -be "\${dlfunc{$GL_SO}{greylist}{$T/greylist-defer.conf}{not-an-ip}{a@b.example}{c@test.example}}" 2>/dev/null)
check "two errors through -be ('$y1', '$y2')" test "$y1 / $y2" = "accept error / defer 2 error"

A metrics >"$T/m1"
bad=""
for want in "defer new 2" "defer early 1" "defer restart 1" "accept pass 1" \
	"accept known 1" "accept whitelist 1" "accept auto 1" "accept error 1" \
	"defer error 1"; do
	set -- $want
	got=$(value "$T/m1" "$(dec "$1" "$2")")
	[ "$got" = "$3" ] || bad="$bad $1/$2=$got(want $3)"
done
check "decisions_total moved by exactly the decisions made, per reason${bad:+:$bad}" test -z "$bad"
check "the pass is in the delay histogram: count 1, le=60 1" \
	sh -c "test '$(value "$T/m1" exim_greylist_pass_delay_seconds_count)' = 1 &&
	       test '$(value "$T/m1" 'exim_greylist_pass_delay_seconds_bucket{le="60"}')' = 1"
s=$(value "$T/m1" exim_greylist_pass_delay_seconds_sum)
check "... with the delay it saw (sum $s s, between 2 and 5)" test "$s" -ge 2 -a "$s" -le 5
# stored: the passed triplet and the restarted one (whitelisted and
# auto-whitelisted mail leaves no record)
check "triplets by state: 1 pending, 1 passed" \
	sh -c "test '$(value "$T/m1" 'exim_greylist_triplets{state="pending"}')' = 1 &&
	       test '$(value "$T/m1" 'exim_greylist_triplets{state="passed"}')' = 1"
check "last 24 hours: 2 first contacts, 1 pass, 1 never retried" \
	sh -c "test '$(value "$T/m1" 'exim_greylist_window_first_contacts{window="24h"}')' = 2 &&
	       test '$(value "$T/m1" 'exim_greylist_window_passes{window="24h"}')' = 1 &&
	       test '$(value "$T/m1" 'exim_greylist_window_never_retried{window="24h"}')' = 1"
check "whitelist entries: 1 in files; 1 auto-whitelisted client" \
	sh -c "test '$(value "$T/m1" 'exim_greylist_whitelist_entries{source="file"}')' = 1 &&
	       test '$(value "$T/m1" exim_greylist_auto_whitelisted_clients)' = 1"
check "database size is reported" test "$(value "$T/m1" exim_greylist_database_size_bytes)" -gt 0

# ---- the format: promtool, the client library's parser, conventions ----
promtool check metrics <"$T/m1" >"$T/promtool.out" 2>&1; rc=$?
check "promtool check metrics: no problem (exit $rc$(head -c 200 "$T/promtool.out"))" \
	sh -c "test $rc -eq 0 && test ! -s '$T/promtool.out'"
cat >"$T/parse.py" <<'EOP'
import sys
from prometheus_client.parser import text_string_to_metric_families
n = 0
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    assert f.name.startswith("exim_greylist_"), f.name
    assert f.documentation, f.name
    assert f.type in ("counter", "gauge", "histogram"), f.type
    for s in f.samples:
        n += 1
print(n)
EOP
np=$($PY "$T/parse.py" "$T/m1" 2>"$T/parse.err"); rc=$?
check "prometheus_client's parser reads every family ($np samples, exit $rc)" \
	sh -c "test $rc -eq 0 && test '$np' -gt 30"
nh=$(grep -c '^# HELP ' "$T/m1"); nt=$(grep -c '^# TYPE ' "$T/m1")
nf=$(grep -v '^#' "$T/m1" | sed 's/[{ ].*//; s/_bucket$//; s/_sum$//; s/_count$//' | sort -u | wc -l)
check "every metric has HELP and TYPE ($nh, $nt, $nf names)" test "$nh" = "$nf" -a "$nt" = "$nf"

# ---- --output replaces its file atomically ----
mkdir -p "$T/prom"
A metrics --output "$T/prom/gl.prom"; rc=$?
check "--output writes the file (exit $rc), mode 0644" \
	sh -c "test $rc -eq 0 && test '$(stat -c %a "$T/prom/gl.prom")' = 644"
lines=$(wc -l <"$T/prom/gl.prom")
( i=0; while [ $i -lt 40 ]; do A metrics --output "$T/prom/gl.prom"; i=$((i + 1)); done ) &
wpid=$!
PIDS="$PIDS $wpid"
short=0 reads=0
while kill -0 $wpid 2>/dev/null && [ $reads -lt 2000 ]; do
	n=$(wc -l <"$T/prom/gl.prom")
	[ "$n" -eq "$lines" ] || short=$((short + 1))
	reads=$((reads + 1))
done
wait $wpid
check "a reader never saw half a file ($reads reads while 40 rewrites, $short short)" \
	test "$short" -eq 0 -a "$reads" -gt 0
check "no temporary file left beside it" test "$(ls "$T/prom")" = gl.prom
A metrics --output "$T/nodir/gl.prom" 2>"$T/nodir.err"; rc=$?
check "--output into a missing directory: exit 1 with one line" \
	sh -c "test $rc -eq 1 && test \$(wc -l <'$T/nodir.err') -eq 1"

# ---- purge is recorded ----
A purge >/dev/null
A metrics >"$T/m2"
lp=$(value "$T/m2" exim_greylist_last_purge_timestamp_seconds)
check "purge recorded its time ($lp)" test "$lp" -ge "$(($(date +%s) - 60))"

# ---- a damaged counters file is replaced, never an error ----
head -c 100 /dev/urandom >"$CNT"
A metrics >/dev/null 2>"$T/dmg.err"
check "metrics warns about the damaged file" grep -q "not a valid counters file" "$T/dmg.err"
expect_rcpt "451 " "a decision with a damaged counters file is answered as usual" 203.0.113.50 d@sender.example
check "... not per on_error" sh -c "! grep -q 'error' '$T/bh.err'"
A metrics >"$T/m3"
check "... and the file was replaced: counting starts again (new = 1)" \
	test "$(value "$T/m3" "$(dec defer new)")" = 1
dd if=/dev/zero of="$T/big" bs=1024 count=100 2>/dev/null
write_gl_conf "counters = $T/big"
expect_rcpt "451 " "a foreign counters file (100 KiB): answered as usual" 203.0.113.51 e@sender.example
check "... left alone, and the log says decisions are not counted" \
	sh -c "test \$(stat -c %s '$T/big') -eq 102400 && grep -q 'not a counters file.*decisions are not counted' '$T/bh.err'"
A check --no-exim >"$T/chk.out" 2>&1
check "check names the foreign counters file as a problem" \
	grep -q "^problem: $T/big is not a counters file and is left alone" "$T/chk.out"
write_gl_conf "counters = greylist.counters"
A metrics >/dev/null 2>"$T/rel.err"; rc=$?
check "counters must be an absolute name or none (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q \"key 'counters': bad value 'greylist.counters': want an absolute file name or none\" '$T/rel.err'"
write_gl_conf "counters = none"
rm -f "$CNT"
expect_rcpt "451 " "counters = none" 203.0.113.52 f@sender.example
check "... makes no counters file" test ! -e "$CNT"

# ---- backend = redis: counted on this host, beside the database's name ----
if start_redis; then
	write_gl_conf "backend = redis" "redis = 127.0.0.1:$REDIS_PORT" "redis_prefix = gl$$:"
	expect_rcpt "451 " "redis: a new triplet" 192.0.2.60 g@sender.example
	A metrics >"$T/m5"
	check "redis: counted in this host's file (defer new $(value "$T/m5" "$(dec defer new)"), database up)" \
		sh -c "test -s '$CNT' && test '$(value "$T/m5" "$(dec defer new)")' = 1 &&
		       test '$(value "$T/m5" exim_greylist_database_up)' = 1"
	kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null
	A metrics >"$T/m6" 2>"$T/m6.err"; rc=$?
	check "redis down: exit $rc, database_up 0, the counters still there" \
		sh -c "test $rc -eq 1 && test '$(value "$T/m6" exim_greylist_database_up)' = 0 &&
		       test '$(value "$T/m6" "$(dec defer new)")' = 1 && test -s '$T/m6.err'"
else
	nok "redis-server started"
	nok "redis-server started"
fi

# ---- a daemon as Debian-exim, 8 clients at once: no increment lost ----
GL_EXTRA="auto_whitelist_clients = 0
lock_timeout = 2s" start_receiver || { nok "receiving Exim started"; exit 1; }
rcpts=""
j=0
while [ $j -lt 10 ]; do
	rcpts="$rcpts${rcpts:+,}u$(echo $j | tr 0-9 a-j)@test.example"
	j=$((j + 1))
done
pids=""
i=0
while [ $i -lt 8 ]; do
	swaks --server 127.0.0.1 --port "$RPORT" --timeout 60 \
		--from "s$(echo $i | tr 0-9 a-j)@parallel.example" \
		--to "$rcpts" >"$T/par-$i.out" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
n451=$(cat "$T"/par-*.out | grep -c '^<\*\* *451 4.7.1')
"$GL_ADMIN" -c "$R/greylist.conf" metrics >"$T/m4"
got=$(value "$T/m4" "$(dec defer new)")
check "8 parallel sessions x 10 RCPTs: $n451 deferrals, counted $got" \
	test "$n451" -eq 80 -a "$got" = 80
check "the daemon's counters file belongs to Debian-exim" \
	test "$(stat -c %U "$R/db/greylist.counters")" = Debian-exim
check "no sanitizer report" sanitizer_clean "$R/daemon.out"
