#!/bin/sh
# concurrency.sh - 16 concurrent SMTP sessions x 25 RCPTs of distinct
# triplets through a real Exim daemon: all 400 deferred, exactly 400
# records stored; after the delay the same 400 all accepted. For GDBM
# and LMDB, and for GDBM as installed (on a tmpfs, with a snapshot: each
# decision is then one writer session, see store.h).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 24

for backend in gdbm lmdb gdbm-tmpfs; do
extra="backend = $backend"
if [ $backend = gdbm-tmpfs ]; then
	mkdir -p "$T/tmpfs"
	if ! mount -t tmpfs -o size=64m,mode=0755 tmpfs "$T/tmpfs" 2>/dev/null; then
		for c in 1 2 3 4 5 6 7 8; do skip "gdbm on a tmpfs, check $c" "no tmpfs can be mounted here"; done
		continue
	fi
	chown "$EXIM_USER" "$T/tmpfs"
	extra="backend = gdbm
database = $T/tmpfs/greylist.gdbm
snapshot = $T/$backend/db/greylist.gdbm"
fi
# lock_timeout 2s: this test is about nothing lost or duplicated under
# concurrency, on a machine that may be loaded (sanitizers, CI); the bound
# on waiting is robust_database.sh's test.
RNAME=$backend GL_DELAY=3s GL_EXTRA="auto_whitelist_clients = 0
lock_timeout = 2s
$extra" start_receiver || { nok "receiving Exim ($backend) started"; exit 1; }
rcpts=""
j=0
while [ $j -lt 25 ]; do
	rcpts="$rcpts${rcpts:+,}user$(echo $j | tr 0-9 a-j)@test.example"
	j=$((j + 1))
done

# round N: 16 swaks sessions at once, each MAIL + 25 RCPTs.
round() {
	pids=""
	i=0
	while [ $i -lt 16 ]; do
		swaks --server 127.0.0.1 --port "$RPORT" --timeout 60 \
			--from "sender$(echo $i | tr 0-9 a-j)@concurrent.example" \
			--to "$rcpts" --body "round $1" >"$T/$backend-r$1-$i.out" 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p"; done
}

round 1
n451=$(cat "$T"/$backend-r1-*.out | grep -c '^<\*\* *451 4.7.1 Greylisted')
check "$backend round 1: all 400 RCPTs answered 451 4.7.1 (got $n451)" test "$n451" -eq 400
nrec=$("$GL_ADMIN" -c "$R/greylist.conf" list --json | wc -l)
npend=$("$GL_ADMIN" -c "$R/greylist.conf" list --json --state pending | sort -u | wc -l)
check "$backend: exactly 400 records stored (got $nrec), all distinct and pending ($npend)" \
	test "$nrec" -eq 400 -a "$npend" -eq 400
check "no 'database busy' or error in the receiver's log" \
	sh -c "! grep -q -E 'greylist: .*(busy|error|cannot)' '$R/log/mainlog'"
sleep 4
round 2
n250=$(cat "$T"/$backend-r2-*.out | grep -c '^<- *250 Accepted')
check "$backend round 2, after the delay: all 400 RCPTs accepted (got $n250)" test "$n250" -eq 400
check "no 'database busy' or error in the log in round 2 either" \
	sh -c "! grep -q -E 'greylist: .*(busy|error|cannot)' '$R/log/mainlog'"
npass=$("$GL_ADMIN" -c "$R/greylist.conf" list --json --state passed | wc -l)
check "$backend: 400 passed triplets (got $npass)" test "$npass" -eq 400
check "the daemon is still running" kill -0 "$RPID"
check "no sanitizer report" sanitizer_clean "$R/daemon.out"
kill "$RPID"; wait "$RPID" 2>/dev/null
if [ $backend = gdbm-tmpfs ]; then
	i=0
	while ! umount "$T/tmpfs" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ $i -lt 50 ] || umount -l "$T/tmpfs"
fi
done
