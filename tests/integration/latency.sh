#!/bin/sh
# latency.sh - "make latency" works and what it reports is what happened:
# a short replay (Yahoo from one address, Gmail from addresses in
# different /24s with SPF pass, Exchange Online's pool for a domain
# without SPF, a one-shot spammer; 15 minutes of their schedules, time
# scaled 1/60) through real Exim daemons with a real DNS
# server in private namespaces. Every expectation is read from the
# profiles and the run (which attempt is the first at or after the
# delay, which keys and yields the module logged), none is a constant.
. "$(dirname "$0")/../lib.sh"
N=16
plan $N
L=$T/lat
names="yahoo gmail exo-nospf spammer"
LATENCY_DIR=$L LATENCY_PROFILES=$names LATENCY_MINUTES=15 LATENCY_SCALE=60 \
	GL_SO="$GL_SO" SNIPPETS="$SNIPPETS" GL_PRELOAD="$GL_PRELOAD" GL_SMTP="$H/gl-smtp" \
	TMPDIR="$T" timeout 150 sh "$TOP/tests/latency/replay.sh" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ]; then
	why=$(cat "$T/err")
	i=0
	while [ $i -lt $N ]; do i=$((i + 1)); skip "replay check $i" "$why"; done
	exit 0
fi
check "the replay ran (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || { sed 's/^/# /' "$T/err"; exit 1; }

# res NAME CONFIG: the run's result line (see tests/latency/replay.sh):
# NAME CONFIG KIND OUTCOME ATTEMPTS WAIT_S MEASURED_S EXPECTED ENDED KEYS DECISIONS
res() { awk -v n="$1" -v c="$2" '$1 == n && $2 == c' "$L/results"; }
f() { echo "$1" | awk -v i="$2" '{ print $i }'; }
# accepted_first NAME CONFIG: accepted, at the first attempt at or after
# the delay (EXPECTED, from the profile's schedule).
accepted_first() {
	l=$(res "$1" "$2")
	[ "$(f "$l" 4)" = accepted ] && [ "$(f "$l" 8)" != - ] && [ "$(f "$l" 5)" = "$(f "$l" 8)" ]
}

check "dnsmasq and three Exim daemons ran in the namespaces and were all stopped" \
	sh -c "grep -q '^dnsmasq pid ' '$L/setup' && test \$(grep -c '^exim ' '$L/setup') -eq 3 && grep -qx 'stopped: all' '$L/setup'"
check "Exim verified the clients' host names through the DNS server (PTR, then A)" \
	sh -c "grep -q 'SMTP connection from mail-wr1-f41.google.example \[198.18.16.41\]' '$L/macros/log/mainlog' &&
	       grep -q 'SMTP connection from sonic301-20.consmr.mail.ne1.yahoo.example \[198.18.32.20\]' '$L/default/log/mainlog'"
check "with the macros, Exim's SPF check passed Gmail's domain through its redirect (key spf:gmail.example)" \
	test "$(f "$(res gmail macros)" 10)" = spf:gmail.example
check "... and failed the spammer's forged domain (its key is not spf:)" \
	sh -c "! echo '$(f "$(res spammer macros)" 10)' | grep -q '^spf:'"

for c in default macros nopools; do
	check "yahoo ($c): one address, accepted at the first retry after the delay ($(res yahoo $c | cut -d' ' -f4-9))" \
		accepted_first yahoo $c
done
check "yahoo: its retry before the delay was deferred as early" \
	sh -c "echo '$(f "$(res yahoo default)" 11)' | grep -q '^new,early,pass\$'"
check "spammer: never accepted under any configuration" \
	sh -c "test '$(f "$(res spammer default)" 4) $(f "$(res spammer macros)" 4) $(f "$(res spammer nopools)" 4)' = 'deferred deferred deferred'"
check "gmail, macros on: accepted at the first retry after the delay, from another /24 ($(res gmail macros | cut -d' ' -f4-11))" \
	accepted_first gmail macros
l=$(res gmail default)
check "gmail, macros off: the retry from a new /24 is deferred again as new ($(f "$l" 10) $(f "$l" 11))" \
	sh -c "test '$(f "$l" 4)' = deferred && test '$(f "$l" 11)' = new,new && test \$(echo '$(f "$l" 10)' | tr , '\n' | sort -u | wc -l) -eq 2"
l=$(res gmail nopools)
check "gmail, match_pools = no: deferred again from the new /24 ($(f "$l" 10) $(f "$l" 11))" \
	sh -c "test '$(f "$l" 4)' = deferred && test '$(f "$l" 11)' = new,new"
# host_pool NAME CONFIG: accepted at the first retry after the delay, the
# module having used one key, a pool of verified host names.
host_pool() {
	accepted_first "$1" "$2" && echo "$(f "$(res "$1" "$2")" 10)" | grep -q '^host:[^,]*$'
}
check "exo-nospf, macros on: no SPF, keyed on its host names' pool ($(f "$(res exo-nospf macros)" 10)), accepted at the first retry after the delay" \
	host_pool exo-nospf macros
check "the table and the target line are printed (target met for these profiles)" \
	sh -c "grep -q '^profile  *| default ' '$T/out' && grep -q '^target macros on: .*: met\$' '$T/out'"
check "no sanitizer report from the daemons" \
	sh -c "! cat '$L'/*/daemon.out | grep -q -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer'"
