#!/bin/sh
# logs.sh - logs a tool can read: every decision line of the module
# follows the documented key=value format; the README's command counts
# decisions from the main log exactly as the module's counters do; with
# GREYLIST_EXIM_LOG = main, eximstats sees the deferrals as temporary
# rejections.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 7

EXIM_MACROS="GREYLIST_EXIM_LOG = main" GL_LOG=all GL_DELAY=4s \
	GL_EXTRA="auto_whitelist_clients = 0" \
	start_receiver || { nok "receiving Exim started"; exit 1; }
sw() {
	swaks --server 127.0.0.1 --port "$RPORT" --timeout 20 --from "$1" \
		--to bob@test.example >>"$T/swaks.out" 2>&1
}
sw one@a.example; sw one@a.example                 # new, early
sw two@b.example; sw three@c.example
sleep 4
sw one@a.example; sw one@a.example                 # pass, known
n=$(grep -c '^<\*\* *451 4.7.1' "$T/swaks.out")
check "4 deferrals and 2 accepts over SMTP ($n deferrals)" test "$n" -eq 4

# The documented format (README, "Logs").
re='^[0-9-]{10} [0-9:]{8} greylist: (defer [0-9]+ (new|early|restart|error)|accept (pass|known|whitelist|auto|error)) client=[^ ]+ ip=[^ ]+ sender=<[^>]*> rcpt=<[^>]*>( whitelist=[^ ]+)?( delay=[0-9]+)?$'
nl=$(grep -c ' greylist: \(defer\|accept\) ' "$R/log/mainlog")
ng=$(grep -cE "$re" "$R/log/mainlog")
check "every decision line ($nl) follows the documented format ($ng)" test "$nl" -eq 6 -a "$ng" -eq 6
check "the pass carries delay=" grep -qE 'greylist: accept pass client=127.0.0.0/24 .* delay=[0-9]+$' "$R/log/mainlog"

# The README's command, against the counters.
grep -oE 'greylist: (defer [0-9]+|accept) [a-z]+' "$R/log/mainlog" |
	awk '{ print $2, $NF }' | sort | uniq -c | awk '{ print $2, $3, $1 }' >"$T/fromlog"
"$GL_ADMIN" -c "$R/greylist.conf" metrics |
	sed -n 's/^exim_greylist_decisions_total{verdict="\([a-z]*\)",reason="\([a-z]*\)"} \([1-9][0-9]*\)$/\1 \2 \3/p' |
	sort >"$T/fromcounters"
check "counted from the log: $(tr '\n' ',' <"$T/fromlog")" \
	test "$(tr '\n' ',' <"$T/fromlog")" = "accept known 1,accept pass 1,defer early 1,defer new 3,"
check "... exactly what the counters say" cmp -s "$T/fromlog" "$T/fromcounters"

# eximstats with GREYLIST_EXIM_LOG = main.
check "Exim's own line for each deferral (GREYLIST_EXIM_LOG = main)" \
	test "$(grep -c 'temporarily rejected RCPT <bob@test.example>: greylisted: defer' "$R/log/mainlog")" -eq 4
eximstats -nr -t5 "$R/log/mainlog" >"$T/eximstats" 2>&1
check "eximstats counts them as temporary rejections: $(grep -i 'greylisted' "$T/eximstats" | head -1 | tr -s ' ')" \
	grep -Eiq '^ *4 +Temporarily rejected RCPT: greylisted' "$T/eximstats"
