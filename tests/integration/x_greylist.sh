#!/bin/sh
# x_greylist.sh - the X-Greylist: header, end to end: a message from a
# real sending Exim to two recipients is greylisted, retried and
# delivered carrying exactly one X-Greylist: header per copy, with a
# delay within a few seconds of the true one; mail from a known sender
# and from a whitelisted one carries none; GREYLIST_NO_X_HEADER turns it
# off.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 14

# headers MBOX: per message in MBOX, how many X-Greylist: lines its
# header has ("1 1" for two messages with one each).
headers() {
	awk '/^From / { if (n++) printf "%d ", c; c = 0; h = 1; next }
	     h && /^$/ { h = 0 }
	     h && /^X-Greylist:/ { c++ }
	     END { if (n) printf "%d", c; print "" }' "$1"
}
# deliver_all: queue runs until the sender's queue is empty (10 at most).
deliver_all() {
	i=0
	while [ "$(queue_count)" -ne 0 ] && [ $i -lt 10 ]; do
		queue_run
		[ "$(queue_count)" -eq 0 ] || sleep 1
		i=$((i + 1))
	done
}
# send2 FROM NAME: queues $T/NAME.msg on the sending Exim for bob and carol.
send2() {
	exim_run -C "$S/exim.conf" -odq -f "$1" bob@test.example \
		carol@test.example <"$T/$2.msg"
}
msg() {
	printf 'From: %s\nTo: bob@test.example, carol@test.example\nSubject: %s\nMessage-ID: <%s-%s@sender.example>\n\nbody of %s\n' \
		"$1" "$2" "$2" "$$" "$2" >"$T/$2.msg"
}

echo "friend.example" >"$T/wl"
chmod 0644 "$T/wl"
GL_DELAY=3s GL_EXTRA="whitelist = $T/wl
auto_whitelist_clients = 0" start_receiver || { nok "receiving Exim started"; exit 1; }
make_sender

# ---- greylisted, retried, delivered: one header per copy ----
msg alice@sender.example held
send2 alice@sender.example held
t0=$(date +%s)
queue_run
check "first attempt deferred for both recipients" \
	test "$(grep -c '451 4.7.1 Greylisted' "$S/log/mainlog")" -ge 1 -a "$(queue_count)" -eq 1
sleep 3
deliver_all
t1=$(date +%s)
check "a retry after the delay delivers it" test "$(queue_count)" -eq 0
n=$(headers "$R/mail/inbox")
check "two copies (bob, carol), each with exactly one X-Greylist: header ('$n')" test "$n" = "1 1"
h=$(grep -m1 '^X-Greylist:' "$R/mail/inbox")
check "the header's form: '$h'" \
	sh -c "echo '$h' | grep -Eq '^X-Greylist: delayed [0-9]+ seconds by exim-greylist at mx.test.example; [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}\$'"
dly=$(echo "$h" | sed -n 's/^X-Greylist: delayed \([0-9]*\) seconds.*/\1/p')
# The true delay: from the receiver's first deferral of the message to
# its pass (Exim's log timestamps), and at most the test's own clock.
tn=$(grep -m1 'greylist: defer [0-9]* new .*rcpt=<bob@test.example>' "$R/log/mainlog" | cut -c1-19)
tp=$(grep -m1 'greylist: accept pass .*rcpt=<bob@test.example>' "$R/log/mainlog" | cut -c1-19)
true_d=$(( $(date -d "$tp" +%s) - $(date -d "$tn" +%s) ))
check "its delay ${dly}s is within a second of the true one (${true_d}s by the log, at most $((t1 - t0))s)" \
	test "${dly:-0}" -ge 3 -a "${dly:-0}" -ge $((true_d - 1)) -a "${dly:-0}" -le $((true_d + 1)) \
	-a "${dly:-0}" -le $((t1 - t0 + 1))
ld=$(grep 'greylist: accept pass ' "$R/log/mainlog" | sed -n 's/.* delay=\([0-9]*\)$/\1/p' | head -1)
check "the module's log line has delay=$ld, the header's value ($dly)" test "$ld" = "$dly"

# ---- a known sender: no header ----
: >"$R/mail/inbox"
msg alice@sender.example known
send2 alice@sender.example known
deliver_all
check "mail of the known triplets is delivered at once" \
	test "$(queue_count)" -eq 0 -a "$(grep -c '^Subject: known' "$R/mail/inbox")" -eq 2
check "... and carries no X-Greylist: ('$(headers "$R/mail/inbox")')" test "$(headers "$R/mail/inbox")" = "0 0"

# ---- a whitelisted sender: no header ----
: >"$R/mail/inbox"
msg pal@friend.example wl
send2 pal@friend.example wl
deliver_all
check "whitelisted mail is delivered at once, without X-Greylist: ('$(headers "$R/mail/inbox")')" \
	test "$(queue_count)" -eq 0 -a "$(headers "$R/mail/inbox")" = "0 0"
check "the daemon is still running" kill -0 "$RPID"
check "no sanitizer report" sanitizer_clean "$R/daemon.out"
kill "$RPID"; wait "$RPID" 2>/dev/null

# ---- GREYLIST_NO_X_HEADER: held mail carries none ----
RNAME=r2 GL_DELAY=2s EXIM_MACROS="GREYLIST_NO_X_HEADER = yes" start_receiver ||
	{ nok "second receiving Exim started"; exit 1; }
make_sender
msg dave@sender.example off
send2 dave@sender.example off
queue_run
check "GREYLIST_NO_X_HEADER: still greylisted" test "$(queue_count)" -eq 1
sleep 2
deliver_all
check "... delivered after the retry" test "$(grep -c '^Subject: off' "$R/mail/inbox" 2>/dev/null)" -eq 2
check "... with no X-Greylist: ('$(headers "$R/mail/inbox")')" test "$(headers "$R/mail/inbox")" = "0 0"
