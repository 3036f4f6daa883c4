#!/bin/sh
# demo.sh - "make demo": the main job on a scratch directory. A receiving
# Exim daemon with the module on 127.0.0.1, a sending Exim that is
# greylisted, keeps the message queued, retries and gets through, then
# greylist-admin's view of it. KEEP=1 keeps the scratch directory.
GL_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$GL_TOP/tests/lib.sh"
. "$TOP/tests/mail.sh"

GL_DELAY=${GL_DELAY:-3s}
step() { printf '\n== %s\n' "$*"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
show() { sed 's/^/   /'; }
# The SMTP lines of "exim -v", without EHLO's capability list.
transcript() { grep -E '^ *SMTP' | grep -vE 'SMTP<< 250-[A-Z]|SMTP<< 250 HELP$' | show; }

echo "exim-greylist demo; scratch directory: $T"
[ -n "${KEEP:-}" ] && echo "(KEEP is set: it stays after the demo)"

step "Starting a receiving Exim on 127.0.0.1 with the module (greylist delay $GL_DELAY)"
start_receiver || fail "the receiving Exim did not start"
echo "   pid $RPID, port $RPORT, running as $EXIM_USER; database $R/db/greylist.gdbm"
make_sender

step "A sending Exim queues a message for bob@test.example"
cat >"$T/msg" <<EOM
From: Alice <alice@sender.example>
To: Bob <bob@test.example>
Subject: Hello through greylisting
Message-ID: <demo-$$@sender.example>

Hello Bob, this message was greylisted once and then delivered.
EOM
send_queued alice@sender.example bob@test.example "$T/msg" || fail "could not queue the message"
echo "   queued: $(queue_count) message"

step "First delivery attempt (SMTP transcript of the sending Exim)"
"$EXIM" -C "$S/exim.conf" -qff -v 2>&1 | transcript
grep -q '451 4.7.1' "$S/log/mainlog" || fail "the first attempt was not deferred with 451 4.7.1"
[ "$(queue_count)" -eq 1 ] || fail "the message did not stay queued"
echo "   -> deferred with 451 4.7.1; the message stays on the sender's queue"

secs=$(grep -o 'try again in [0-9]* seconds' "$S/log/mainlog" | head -1 | grep -o '[0-9]*')
step "Waiting ${secs:-3} seconds, as the server asked"
sleep $(( ${secs:-3} + 1 ))

step "Retry (SMTP transcript)"
i=0
while [ "$(queue_count)" -ne 0 ] && [ $i -lt 5 ]; do
	"$EXIM" -C "$S/exim.conf" -qff -v 2>&1 | transcript
	[ "$(queue_count)" -eq 0 ] || sleep 1
	i=$((i + 1))
done
[ "$(queue_count)" -eq 0 ] || fail "the retry did not deliver the message"
echo "   -> accepted (250) and delivered"

step "The delivered message's headers"
[ -s "$R/mail/inbox" ] || fail "nothing arrived"
sed -n '2,/^$/p' "$R/mail/inbox" | grep -E '^(Received|From|To|Subject|Message-ID|Date):' | show

step "greylist-admin list"
"$GL_ADMIN" -c "$R/greylist.conf" list | show
step "greylist-admin stats"
"$GL_ADMIN" -c "$R/greylist.conf" stats | show
step "The receiver's main log"
grep 'greylist:' "$R/log/mainlog" | show

printf '\ndemo: OK - deferred once, retried after the delay, delivered exactly once.\n'
