#!/bin/sh
# redis_sentinel.sh - several MX hosts without a single point of failure:
# a Redis master, a replica and three sentinels on 127.0.0.1, two
# receiving Exim daemons finding the master through the sentinels (MX1
# as a Redis ACL user that may touch only its prefix). Shared state
# works; the master is SIGKILLed: while the sentinels fail over, every
# RCPT is answered within redis_timeout, then by the promoted replica,
# and triplets that passed before are still passed; the old master,
# restarted, comes back as a replica and is never used; a manual
# failover moves one long-lived process to the new master; greylist-
# admin check and stats name the master and the sentinel.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 35

if ! command -v redis-sentinel >/dev/null 2>&1; then
	nok "redis-sentinel is installed (apt-get install redis-sentinel; make deps)"
	exit 1
fi
TIMEOUT_MS=300
NAME=mymaster

redis_srv() { # NAME PORT [ARGS...]
	n=$1 p=$2
	shift 2
	start_srv "$T/$n" "$p" redis-server --port "$p" --bind 127.0.0.1 \
		--dir "$T/$n" --save '' --appendonly no --daemonize no "$@"
}
# sentinel_master PORT: HOST:PORT of the master that sentinel names.
sentinel_master() {
	redis-cli -p "$1" SENTINEL get-master-addr-by-name "$NAME" 2>/dev/null |
		tr '\n' ' ' | awk 'NF == 2 { print $1 ":" $2 }'
}
role() { redis-cli -p "$1" ROLE 2>/dev/null | head -1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

MPORT=$(free_port) && RPORT_=$(free_port) && DEAD=$(free_port) || {
	nok "free ports"; exit 1; }
redis_srv master "$MPORT" || { nok "master started"; exit 1; }
MPID=$SRV_PID
redis_srv replica "$RPORT_" --replicaof 127.0.0.1 "$MPORT" ||
	{ nok "replica started"; exit 1; }
# The ACL user of MX1: its prefix only, the commands the module uses.
# ACLs are not replicated: the same user on every server.
for p in $MPORT $RPORT_; do
	redis-cli -p "$p" ACL SETUSER gl on '>gl-secret' resetkeys '~sent:*' \
		resetchannels -@all +mget +get +set +del +evalsha +script\|load \
		+scan +role +ping >/dev/null
done
SPORTS=""
SENTINELS=""
for n in 1 2 3; do
	sp=$(free_port) || { nok "free port"; exit 1; }
	mkdir -p "$T/s$n"
	cat >"$T/s$n/sentinel.conf" <<EOC
port $sp
bind 127.0.0.1
daemonize no
dir $T/s$n
sentinel monitor $NAME 127.0.0.1 $MPORT 2
sentinel down-after-milliseconds $NAME 1000
sentinel failover-timeout $NAME 3000
sentinel parallel-syncs $NAME 1
EOC
	start_srv "$T/s$n" "$sp" redis-sentinel "$T/s$n/sentinel.conf" ||
		{ nok "sentinel $n started"; exit 1; }
	SPORTS="$SPORTS $sp"
	SENTINELS="$SENTINELS${SENTINELS:+, }127.0.0.1:$sp"
done
S1=${SPORTS# }; S1=${S1%% *}
# Each sentinel must know the replica and the two other sentinels.
i=0
while [ $i -lt 150 ]; do
	n=0
	for sp in $SPORTS; do
		redis-cli -p "$sp" SENTINEL master "$NAME" 2>/dev/null |
			tr '\n' ' ' | grep -q 'num-slaves 1 .*num-other-sentinels 2 ' &&
			n=$((n + 1))
	done
	[ $n -eq 3 ] && break
	sleep 0.1
	i=$((i + 1))
done
check "master :$MPORT, replica :$RPORT_, three sentinels that know each other" test "$n" -eq 3

extra="backend = redis
redis_sentinels = $SENTINELS
redis_master_name = $NAME
redis_prefix = sent:
redis_timeout = ${TIMEOUT_MS}ms
on_error = defer
auto_whitelist_clients = 0"
RNAME=mx1 GL_EXTRA="$extra
redis_user = gl
redis_password_file = $T/mx1/redis.pw" start_receiver || { nok "MX1 started"; exit 1; }
P1=$RPID; PORT1=$RPORT; R1=$R
printf 'gl-secret\n' >"$R1/redis.pw"
chown "root:$EXIM_USER" "$R1/redis.pw"; chmod 0640 "$R1/redis.pw"
# MX2 lists a dead sentinel first: it is skipped.
RNAME=mx2 GL_EXTRA="$(printf '%s\n' "$extra" |
	sed "s/^redis_sentinels = /redis_sentinels = 127.0.0.1:$DEAD, /")" \
	start_receiver || { nok "MX2 started"; exit 1; }
P2=$RPID; PORT2=$RPORT; R2=$R

# send PORT FROM OUT: one SMTP session; the RCPT's answer time in
# $T/lapse (ms).
send() {
	swaks --server 127.0.0.1 --port "$1" --from "$2" --to bob@test.example \
		--timeout 20 -stl --body "via $1" >"$3" 2>&1
	awk '/-> RCPT TO/ { r = 1; next }
	     r && /response in/ { sub(/.*response in /, ""); sub(/s$/, "");
				  printf "%d\n", $0 * 1000; exit }' "$3" >"$T/lapse"
}
accepted() { grep -q '^<- *250 Accepted' "$1"; }
deferred() { grep -q '^<\*\* *451 4.7.1' "$1"; }

send $PORT1 alice@sender.example "$T/a1"
send $PORT2 bob@sender.example "$T/b1"
check "first attempts are deferred (MX1 as ACL user gl, MX2 as default)" \
	sh -c "grep -q '^<\*\* *451 4.7.1 Greylisted' '$T/a1' && grep -q '^<\*\* *451 4.7.1 Greylisted' '$T/b1'"
sleep 3
send $PORT2 alice@sender.example "$T/a2"
check "alice: deferred on MX1, retry passes on MX2 after the delay" accepted "$T/a2"
send $PORT1 bob@sender.example "$T/b2"
check "bob: deferred on MX2, retry passes on MX1 after the delay" accepted "$T/b2"
check "no error in either log" sh -c "! grep -q ' error client=' '$R1/log/mainlog' '$R2/log/mainlog'"
check "the keys are on the master, under the prefix" \
	test "$(redis-cli -p "$MPORT" --scan --pattern 'sent:*' | wc -l)" -ge 2
check "user gl may not touch other keys (NOPERM)" sh -c \
	"redis-cli -p $MPORT --user gl --pass gl-secret --no-auth-warning SET other:x 1 | grep -q NOPERM"

"$GL_ADMIN" -c "$R1/greylist.conf" check --no-exim >"$T/chk" 2>&1; rc=$?
check "greylist-admin check: exit 0, names the master and its sentinel (exit $rc)" \
	sh -c "test $rc -eq 0 && grep -q \"^info: Redis master '$NAME' at 127.0.0.1:$MPORT (named by sentinel 127.0.0.1:[0-9]*) answers\" '$T/chk'"
check "... and each sentinel's answer" sh -c \
	"test \$(grep -c '^info: sentinel 127.0.0.1:[0-9]*: master .* at 127.0.0.1:$MPORT' '$T/chk') -eq 3"
"$GL_ADMIN" -c "$R2/greylist.conf" check --no-exim >"$T/chk2" 2>&1; rc=$?
check "check with a dead sentinel in the list: exit 1, naming it (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q '^problem: redis sentinel 127.0.0.1:$DEAD: Connection refused' '$T/chk2'"
"$GL_ADMIN" -c "$R1/greylist.conf" stats >"$T/stats" 2>&1
check "greylist-admin stats names the master and the sentinel" \
	grep -q "^redis: *master '$NAME' at 127.0.0.1:$MPORT, named by sentinel 127.0.0.1:[0-9]*" "$T/stats"
"$GL_ADMIN" -c "$R1/greylist.conf" stats --json >"$T/stats.json" 2>&1
check "... stats --json too" grep -q "\"redis\": *{[^}]*\"master\": *\"127.0.0.1:$MPORT\"" "$T/stats.json"
sed 's/gl-secret/wrong/' "$R1/redis.pw" >"$T/wrong.pw"
sed "s,^redis_password_file = .*,redis_password_file = $T/wrong.pw," "$R1/greylist.conf" >"$T/wrong.conf"
"$GL_ADMIN" -c "$T/wrong.conf" check --no-exim >"$T/chk.wrong" 2>&1; rc=$?
check "a wrong password for user gl: check exits 1 and says so (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q \"^problem: the database cannot be used: redis .*AUTH as user 'gl' refused: WRONGPASS\" '$T/chk.wrong'"

# Everything written so far is on the replica before the master dies.
acked=$(redis-cli -p "$MPORT" WAIT 1 3000)
check "the replica acknowledged every write (WAIT: $acked)" test "$acked" = 1

# await_failover: RCPTs to both MX hosts until one is accepted with the
# sentinels naming :$RPORT_ as master (at most 20 s). Sets recovered (ms
# after the start, or ""), n (RCPTs sent), maxl (the slowest, ms) and
# slow (how many took longer than redis_timeout + 200 ms).
await_failover() {
	t0=$(now_ms)
	maxl=0; slow=0; n=0; recovered=""
	while [ $(( $(now_ms) - t0 )) -lt 20000 ]; do
		for port in $PORT1 $PORT2; do
			send $port alice@sender.example "$T/f"
			l=$(cat "$T/lapse"); l=${l:-99999}
			n=$((n + 1))
			[ "$l" -gt "$maxl" ] && maxl=$l
			[ "$l" -gt $((TIMEOUT_MS + 200)) ] && slow=$((slow + 1))
			if accepted "$T/f" && [ "$(sentinel_master "$S1")" = "127.0.0.1:$RPORT_" ]; then
				recovered=${recovered:-$(( $(now_ms) - t0 ))}
			fi
		done
		[ -n "$recovered" ] && break
		sleep 0.2
	done
}

# SIGKILL the master. Until the sentinels promote the replica each RCPT
# is answered per on_error within redis_timeout; then by the new master.
kill -9 "$MPID"
await_failover
check "answered by the new master ${recovered:-never} ms after the kill (sentinels: down after 1 s, failover)" \
	test -n "$recovered" -a "${recovered:-99999}" -lt 15000
check "each of the $n RCPTs during the failover answered within ${TIMEOUT_MS} ms + 200 ms of Exim (slowest: $maxl ms)" \
	test "$slow" -eq 0
l1=$(wc -l <"$R1/log/mainlog"); l2=$(wc -l <"$R2/log/mainlog")
ok=0
for i in 1 2 3; do
	for port in $PORT1 $PORT2; do
		send $port alice@sender.example "$T/g1"; accepted "$T/g1" && ok=$((ok + 1))
		send $port bob@sender.example "$T/g2"; accepted "$T/g2" && ok=$((ok + 1))
	done
done
check "after that, alice and bob (passed before the kill) pass on both MX ($ok of 12)" test "$ok" -eq 12
check "... with no error in the logs after the failover" sh -c \
	"! tail -n +$((l1 + 1)) '$R1/log/mainlog' | grep -q ' error client=' &&
	 ! tail -n +$((l2 + 1)) '$R2/log/mainlog' | grep -q ' error client='"
check "... as decisions on their records (pass or known)" sh -c \
	"tail -n +$((l1 + 1)) '$R1/log/mainlog' | grep -q -E 'accept (pass|known) .*sender=<alice@sender.example>'"
send $PORT1 carol@sender.example "$T/c1"
sleep 3
send $PORT2 carol@sender.example "$T/c2"
check "a new triplet on the new master: deferred on MX1, passes on MX2" \
	sh -c "deferred() { grep -q '^<\*\* *451 4.7.1' \"\$1\"; }; deferred '$T/c1' && grep -q '^<- *250 Accepted' '$T/c2'"

# The old master restarts (empty, believing it is a master); the
# sentinels turn it into a replica of the new master. No greylist
# command may ever reach it.
redis_srv master "$MPORT" || { nok "old master restarted"; exit 1; }
MPID=$SRV_PID
for p in $MPORT; do
	redis-cli -p "$p" ACL SETUSER gl on '>gl-secret' resetkeys '~sent:*' \
		resetchannels -@all +mget +get +set +del +evalsha +script\|load \
		+scan +role +ping >/dev/null
done
i=0
while [ "$(role "$MPORT")" != slave ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
check "the restarted old master is now a replica" test "$(role "$MPORT")" = slave
for port in $PORT1 $PORT2; do
	send $port alice@sender.example "$T/h1"
	send $port dave@sender.example "$T/h2"
done
"$GL_ADMIN" -c "$R1/greylist.conf" list >/dev/null 2>&1
check "... and no greylist command reached it (no MGET, EVALSHA, SCAN in its commandstats)" \
	sh -c "! redis-cli -p $MPORT INFO commandstats | grep -q -E 'cmdstat_(mget|evalsha|eval|scan):'"
check "... while the MX hosts still pass alice" accepted "$T/h1"

# A manual failover while one process keeps its connection: it follows
# the sentinels to the new master (lost connection or READONLY, then
# asking again).
printf '%s\n' "$extra" | sed "s,^redis_prefix = .*,redis_prefix = sent:hammer:," >"$T/hammer.conf"
"$GL_HELPERS/gl-hammer" "$T/hammer.conf" 7 100000000 "$(date +%s)" v \
	>/dev/null 2>"$T/hammer.err" &
HPID=$!
PIDS="$PIDS $HPID"
sleep 1
calls() { # PORT: EVALSHA calls on that server
	redis-cli -p "$1" INFO commandstats | tr -d '\r' |
		sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p'
}
before=$(calls "$RPORT_")
check "a long-lived process writes to the master :$RPORT_ (${before:-0} EVALSHA)" test "${before:-0}" -gt 0
redis-cli -p "$S1" SENTINEL FAILOVER "$NAME" >/dev/null
i=0
while [ $i -lt 150 ]; do
	[ "$(sentinel_master "$S1")" = "127.0.0.1:$MPORT" ] &&
		[ "$(role "$RPORT_")" = slave ] && break
	sleep 0.1
	i=$((i + 1))
done
check "manual failover: :$MPORT is the master again, :$RPORT_ a replica" \
	test "$(role "$RPORT_")" = slave -a "$(role "$MPORT")" = master
sleep 1
redis-cli -p "$RPORT_" CONFIG RESETSTAT >/dev/null
a=$(calls "$MPORT")
sleep 1
b=$(calls "$MPORT")
check "the same process now writes to :$MPORT (${a:-0} -> ${b:-0} EVALSHA)" test "${b:-0}" -gt "${a:-0}"
check "... and not to the demoted :$RPORT_" test -z "$(calls "$RPORT_")"
kill "$HPID" 2>/dev/null; wait "$HPID" 2>/dev/null
grep -v 'unavailable' "$T/hammer.err" | sort | uniq -c | sort -rn | head -5 | sed 's/^/# hammer: /'

# The master hangs (SIGSTOP: connections are accepted by the kernel,
# nothing answers, as with a host gone from the network). Each RCPT
# waits at most redis_timeout, then the sentinels promote :$RPORT_.
kill -STOP "$MPID"
await_failover
check "master hung: answered by :$RPORT_ ${recovered:-never} ms after the SIGSTOP" \
	test -n "$recovered" -a "${recovered:-99999}" -lt 15000
check "... each of the $n RCPTs meanwhile answered within ${TIMEOUT_MS} ms + 200 ms (slowest: $maxl ms)" \
	test "$slow" -eq 0
check "... the hung master logged as timed out" grep -q "greylist: redis .*127.0.0.1:$MPORT.*timed out" "$R1/log/mainlog" "$R2/log/mainlog"
kill -CONT "$MPID"
i=0
while [ "$(role "$MPORT")" != slave ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
check "... and, continued, it is turned into a replica" test "$(role "$MPORT")" = slave

# Every sentinel gone: answered per on_error at once, naming them.
for sp in $SPORTS; do
	redis-cli -p "$sp" SHUTDOWN NOSAVE >/dev/null 2>&1
done
sleep 0.5
send $PORT2 erin@sender.example "$T/e1"
l=$(cat "$T/lapse")
check "every sentinel down: 451 (on_error = defer) within ${TIMEOUT_MS} ms (${l:-?} ms)" \
	sh -c "grep -q '^<\*\* *451' '$T/e1' && test '${l:-99999}' -le $((TIMEOUT_MS + 200))"
check "... and the log names the sentinels" \
	grep -q "greylist: redis sentinels 127.0.0.1:$DEAD, 127.0.0.1:[0-9]*, .*: no sentinel answered" "$R2/log/mainlog"
check "both daemons still run" sh -c "kill -0 $P1 && kill -0 $P2"
check "no sanitizer report from the daemons" sh -c \
	"cat '$R1/daemon.out' '$R2/daemon.out' '$T/hammer.err' >'$T/san'; ! grep -q -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' '$T/san'"
