#!/bin/sh
# exim_daemon.sh - real mail end to end: a receiving Exim daemon with the
# module (running as Debian-exim), a sending Exim that is deferred, keeps
# the message queued, retries after the delay and delivers it exactly
# once; swaks as a one-shot sender that never gets through.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 21

start_receiver; rc=$?
check "receiving Exim daemon started (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || exit 1
check "it listens on 127.0.0.1:$RPORT (pid $RPID)" \
	sh -c "kill -0 $RPID && ss -ltn 'sport = :$RPORT' | grep -q 127.0.0.1:$RPORT"
make_sender
mid="<e2e-$$-$(date +%s)@sender.example>"
cat >"$T/msg" <<EOM
From: Alice <alice@sender.example>
To: Bob <bob@test.example>
Subject: greylisting end to end
Message-ID: $mid

The body, line one.
EOM
line2=$(printf 'Line two, with = and + and 8-bit: caf\303\251.')
echo "$line2" >>"$T/msg"
send_queued alice@sender.example bob@test.example "$T/msg"
check "the message is queued on the sender" test "$(queue_count)" -eq 1
queue_run
check "first attempt deferred with 451 4.7.1 (sender's log)" \
	grep -q '451 4.7.1 Greylisted: please try again in [12] seconds' "$S/log/mainlog"
check "the message stays queued after the deferral" test "$(queue_count)" -eq 1
check "nothing delivered yet" test ! -s "$R/mail/inbox"

sleep 3
i=0
while [ "$(queue_count)" -ne 0 ] && [ $i -lt 5 ]; do
	queue_run
	[ "$(queue_count)" -eq 0 ] || sleep 1
	i=$((i + 1))
done
check "a queue run after the delay delivers it" test "$(queue_count)" -eq 0
check "the sender logged the delivery (=>)" grep -q '=> bob@test.example .*C="250' "$S/log/mainlog"
check "it arrived exactly once" test "$(grep -cxF "Message-ID: $mid" "$R/mail/inbox" 2>/dev/null)" = 1
check "its body is intact" grep -qxF "$line2" "$R/mail/inbox"

# A one-shot sender gets 451 4.7.1 and nothing of it arrives.
swaks --server 127.0.0.1 --port "$RPORT" --from spammer@oneshot.example \
	--to bob@test.example --h-Subject oneshot --body 'one shot' \
	--timeout 20 >"$T/swaks.out" 2>&1
check "swaks one-shot: 451 4.7.1" grep -q '<\*\* 451 4.7.1 Greylisted' "$T/swaks.out"
check "nothing of the one-shot arrived" sh -c "! grep -q 'one shot' '$R/mail/inbox'"
check "the receiver's main log has the greylisting line" \
	grep -q 'greylist: defer [12] new client=127.0.0.0/24 ip=127.0.0.1 sender=<alice@sender.example> rcpt=<bob@test.example>' "$R/log/mainlog"
check "the receiver's log shows the pass" grep -q 'greylist: accept pass client=127.0.0.0/24' "$R/log/mainlog"
check "each deferral is logged once (no Exim reject line)" \
	sh -c "! grep -q 'temporarily rejected' '$R/log/mainlog' '$R/log/rejectlog' 2>/dev/null"
check "the daemon is still running" kill -0 "$RPID"
# greylist-setup-exim4's smtp_accept_max_per_host line: the daemon has
# the module loaded (and GDBM's library, the backend configured), so the
# connection processes inherit it; it sets no limit per host.
check "the daemon loaded the module once (smtp_accept_max_per_host)" \
	grep -q "$R/greylist.so" "/proc/$RPID/maps"
check "... and the configured backend's library only" \
	sh -c "grep -q 'libgdbm' '/proc/$RPID/maps' && ! grep -q 'liblmdb\|libhiredis' '/proc/$RPID/maps'"
check "the panic log has nothing from the module" sh -c "! grep -q greylist '$R/log/paniclog' 2>/dev/null"
check "the database belongs to the Exim user" test "$(stat -c %U "$R/db/greylist.gdbm")" = "$EXIM_USER"
check "no sanitizer report" sanitizer_clean "$R/daemon.out"
