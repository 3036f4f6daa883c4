#!/bin/sh
# redis_mx.sh - several MX hosts, one greylist: two receiving Exim daemons
# share a real redis-server. The first attempt to MX1 is deferred, the
# retry to MX2 after the delay is accepted; with Redis stopped both
# answer per on_error within the bound; GDBM -> Redis -> GDBM through
# export and import keeps every record.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 26

start_redis; rc=$?
check "redis-server started (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || exit 1
check "it answers PING on 127.0.0.1:$REDIS_PORT" \
	sh -c "redis-cli -p $REDIS_PORT ping | grep -q PONG"
extra="backend = redis
redis = 127.0.0.1:$REDIS_PORT
redis_timeout = 200ms
on_error = defer
auto_whitelist_clients = 0"
RNAME=mx1 GL_EXTRA="$extra" start_receiver || { nok "MX1 started"; exit 1; }
P1=$RPID; PORT1=$RPORT; R1=$R
RNAME=mx2 GL_EXTRA="$extra" start_receiver || { nok "MX2 started"; exit 1; }
P2=$RPID; PORT2=$RPORT; R2=$R

send() { # PORT FROM OUT
	swaks --server 127.0.0.1 --port "$1" --from "$2" --to bob@test.example \
		--timeout 20 --body "via $1" >"$3" 2>&1
}
send $PORT1 alice@sender.example "$T/a1"
check "first attempt to MX1: 451 4.7.1" grep -q '^<\*\* *451 4.7.1 Greylisted' "$T/a1"
# The TTL a decision gives a triplet's key: until its record stops
# counting, retry_window (2 days) pending, pass_lifetime (36 days) passed.
ttl_of_triplet() {
	redis-cli -p "$REDIS_PORT" EVAL "local k = redis.call('KEYS', 'greylist:t*') if #k ~= 1 then return -9 end return redis.call('TTL', k[1])" 0
}
ttl=$(ttl_of_triplet)
check "the pending triplet's key expires in retry_window, 2 days ($ttl s)" \
	sh -c "test '$ttl' -gt 172680 && test '$ttl' -le 172800"
send $PORT2 alice@sender.example "$T/a2"
check "an early retry to MX2 is deferred too (same greylist)" grep -q '^<\*\* *451 4.7.1' "$T/a2"
sleep 3
send $PORT2 alice@sender.example "$T/a3"
check "the retry to MX2 after the delay is accepted" grep -q '^<- *250 Accepted' "$T/a3"
check "MX2's log shows the pass" grep -q 'greylist: accept pass client=127.0.0.0/24' "$R2/log/mainlog"
ttl=$(ttl_of_triplet)
check "... and once passed, in pass_lifetime, 36 days ($ttl s)" \
	sh -c "test '$ttl' -gt 3110280 && test '$ttl' -le 3110400"
send $PORT1 alice@sender.example "$T/a4"
check "and MX1 now knows it too" grep -q '^<- *250 Accepted' "$T/a4"
check "greylist-admin on Redis lists it as passed" \
	sh -c "'$GL_ADMIN' -c '$R1/greylist.conf' list --json | grep -q '\"sender\":\"alice@sender.example\".*\"state\":\"passed\"'"

# Redis slow (a 3 s stall): answered per on_error within the bound.
redis-cli -p "$REDIS_PORT" DEBUG SLEEP 3 >/dev/null 2>&1 &
sleep 0.3
t0=$(date +%s%N)
send $PORT1 dave@sender.example "$T/slow"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "Redis stalled: 451 (on_error = defer)" grep -q '^<\*\* *451' "$T/slow"
check "... the whole SMTP session took ${ms} ms, not the 3 s stall" test "$ms" -lt 1500
check "... logged as a timeout" grep -q 'greylist: redis 127.0.0.1:[0-9]*: timed out' "$R1/log/mainlog"
sleep 3

# Redis stopped: each MX answers per on_error (defer), fast, and says why.
kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null
for port in $PORT1 $PORT2; do
	t0=$(date +%s%N)
	send $port carol@sender.example "$T/down$port"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "Redis down, MX on $port: 451 (on_error = defer)" grep -q '^<\*\* *451' "$T/down$port"
	check "... the whole SMTP session took ${ms} ms (RCPT bound: redis_timeout + 100 ms)" test "$ms" -lt 1500
done
check "the logs say why" grep -q 'greylist: redis 127.0.0.1:[0-9]*: Connection refused' "$R1/log/mainlog"
"$GL_ADMIN" -c "$R1/greylist.conf" check --no-exim >"$T/chk.down" 2>&1; rc=$?
check "greylist-admin check with Redis down: exit 1 naming it (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q '^problem: the database cannot be used: redis 127.0.0.1:[0-9]*: Connection refused' '$T/chk.down'"
check "both daemons still run" sh -c "kill -0 $P1 && kill -0 $P2"

# GDBM -> Redis -> GDBM with export and import.
start_redis || { nok "second redis-server started"; exit 1; }
printf 'database = %s/g.gdbm\ndelay = 1s\n' "$T" >"$T/gdbm.conf"
printf 'backend = redis\nredis = 127.0.0.1:%s\nredis_prefix = moved:\n' "$REDIS_PORT" >"$T/redis.conf"
"$GL_HELPERS/gl-hammer" "$T/gdbm.conf" 5 2000 >/dev/null 2>&1
"$GL_ADMIN" -c "$T/gdbm.conf" whitelist add 192.0.2.0/24 --owner ops --comment "moved too" >/dev/null
"$GL_ADMIN" -c "$T/gdbm.conf" list --json | sort >"$T/l1"
"$GL_ADMIN" -c "$T/gdbm.conf" export | "$GL_ADMIN" -c "$T/redis.conf" import >/dev/null
"$GL_ADMIN" -c "$T/redis.conf" check --no-exim >"$T/chk.up" 2>&1; rc=$?
check "greylist-admin check with Redis up: exit 0, one round trip (exit $rc)" \
	sh -c "test $rc -eq 0 && grep -q '^info: Redis at 127.0.0.1:$REDIS_PORT answers' '$T/chk.up'"
printf 'backend = redis\nredis = 127.0.0.1:%s\nredis_password_file = %s/pw\n' "$REDIS_PORT" "$T" >"$T/pw.conf"
echo wrong >"$T/pw"
"$GL_ADMIN" -c "$T/pw.conf" check --no-exim >"$T/chk.pw" 2>&1; rc=$?
check "greylist-admin check with a password Redis refuses: exit 1 (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q '^problem: the database cannot be used: .*AUTH' '$T/chk.pw'"
"$GL_ADMIN" -c "$T/redis.conf" list --json | sort >"$T/l2"
check "GDBM -> Redis: the same list --json ($(wc -l <"$T/l1") triplets)" cmp -s "$T/l1" "$T/l2"
check "... and the whitelist entry" sh -c "'$GL_ADMIN' -c '$T/redis.conf' whitelist list | grep -q '^192.0.2.0/24 *ops'"
printf 'database = %s/back.gdbm\n' "$T" >"$T/back.conf"
"$GL_ADMIN" -c "$T/redis.conf" export | "$GL_ADMIN" -c "$T/back.conf" import >/dev/null
"$GL_ADMIN" -c "$T/back.conf" list --json | sort >"$T/l3"
check "Redis -> GDBM: the same list --json again" cmp -s "$T/l1" "$T/l3"
nttl=$(redis-cli -p "$REDIS_PORT" EVAL "local n = 0 for _, k in ipairs(redis.call('KEYS', 'moved:t*')) do if redis.call('TTL', k) > 0 then n = n + 1 end end return n" 0)
check "every triplet in Redis carries a TTL ($nttl of $(wc -l <"$T/l1"))" test "$nttl" -eq "$(wc -l <"$T/l1")"
