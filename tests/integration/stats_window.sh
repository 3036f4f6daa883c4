#!/bin/sh
# stats_window.sh - greylist-admin stats shows the last 24 hours beside
# the totals, and --since DURATION any other window: records imported
# with first attempts and passes at known ages.
. "$(dirname "$0")/../lib.sh"
plan 9

write_gl_conf
now=$(date +%s)
# trip SENDER STATE FIRST-AGO LAST-AGO ATTEMPTS PASSED-AGO (0: not passed)
trip() {
	pa=0
	[ "$6" -gt 0 ] && pa=$((now - $6))
	printf '{"type":"triplet","client":"192.0.2.0/24","sender":"%s","recipient":"bob@test.example","state":"%s","first_seen":%d,"last_seen":%d,"attempts":%d,"passed_at":%d}\n' \
		"$1" "$2" $((now - $3)) $((now - $4)) "$5" "$pa"
}
{
	trip a@one.example pending 3600 3600 1 0         # 24h: never retried
	trip b@one.example passed 7200 6900 2 6900       # 24h: passed after 300s
	trip c@one.example passed 200000 199400 2 199400 # 7d only: 600s
	trip d@one.example pending 600 300 3 0           # 24h: retried, waiting
	trip e@one.example passed 90000 82800 2 82800    # first 25h ago, passed 23h ago: 7200s
} >"$T/records.json"
A import <"$T/records.json" >/dev/null
A stats >"$T/s24"; rc=$?
check "stats: exit $rc, totals as before" \
	sh -c "test $rc -eq 0 && grep -q '^triplets: *2 pending, 3 passed\$' '$T/s24'"
check "the last 24 hours beside them: $(grep '^last' "$T/s24")" \
	grep -qx 'last 24h:   3 first contacts (2 retried, 1 never came back), 2 passed, delay median 300s, p95 7200s' "$T/s24"
A stats --since 7d >"$T/s7"
check "--since 7d: $(grep '^last' "$T/s7")" \
	grep -qx 'last 7d:    5 first contacts (4 retried, 1 never came back), 3 passed, delay median 600s, p95 7200s' "$T/s7"
A stats --since 5m >"$T/s5"
check "--since 5m: $(grep '^last' "$T/s5")" \
	grep -qx 'last 5m:    0 first contacts (0 retried, 0 never came back), 0 passed' "$T/s5"
A stats --json >"$T/sj"
check "--json: a window object for 24 hours" \
	grep -q '"window":{"since":'$((now - 86400))'\|"window":{"since":'$((now - 86399))'' "$T/sj"
check "... with its figures" \
	grep -q '"seconds":86400,"first_contacts":3,"retried":2,"never_retried":1,"passed":2,"delay":{"median":300,"p95":7200}}' "$T/sj"
A stats --json --since 2d >"$T/sj2"
check "--json --since 2d: 172800 seconds, 4 first contacts, 2 passed ($(grep -o '"window":{[^}]*' "$T/sj2"))" \
	grep -q '"seconds":172800,"first_contacts":4,"retried":3,"never_retried":1,"passed":2' "$T/sj2"
A stats --since soon 2>"$T/bad.err"; rc=$?
check "--since with a bad duration: exit 2 naming it" \
	sh -c "test $rc -eq 2 && grep -q 'since soon' '$T/bad.err'"
A stats --since 1h --by-domain >/dev/null 2>&1; rc=$?
check "--since with --by-domain is a usage error (exit $rc)" test $rc -eq 2
