#!/bin/sh
# admin_concurrent.sh - several greylist-admin processes add and delete
# database whitelist entries at once, on GDBM, LMDB and Redis: every
# entry added and not deleted is there at the end, and nothing else.
. "$(dirname "$0")/../lib.sh"
WRITERS=4 ADDS=8 DELS=3
plan 7
start_redis; rc=$?
check "redis-server started (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || exit 1

# writer N CONF: adds its entries one command at a time, then deletes
# the first DELS of them again.
writer() {
	i=0
	while [ $i -lt $ADDS ]; do
		"$GL_ADMIN" -c "$2" whitelist add "w$1-e$i.example" --owner "w$1" >/dev/null || echo "add w$1-e$i failed"
		i=$((i + 1))
	done
	i=0
	while [ $i -lt $DELS ]; do
		"$GL_ADMIN" -c "$2" whitelist del "W$1-E$i.EXAMPLE" >/dev/null || echo "del w$1-e$i failed"
		i=$((i + 1))
	done
}

for backend in gdbm lmdb redis; do
	conf=$T/$backend.conf
	case $backend in
	gdbm) printf 'database = %s/db/c.gdbm\nlock_timeout = 5s\n' "$T" ;;
	lmdb) printf 'backend = lmdb\ndatabase = %s/db/c.lmdb\nlock_timeout = 5s\n' "$T" ;;
	redis) printf 'backend = redis\nredis = 127.0.0.1:%s\nredis_prefix = conc:\nredis_timeout = 5s\n' "$REDIS_PORT" ;;
	esac >"$conf"
	mkdir -p "$T/db"
	pids=""
	w=0
	while [ $w -lt $WRITERS ]; do
		writer $w "$conf" >"$T/$backend-w$w.err" 2>&1 &
		pids="$pids $!"
		w=$((w + 1))
	done
	wait $pids
	"$GL_ADMIN" -c "$conf" whitelist list --json |
		sed -n 's/.*"entry":"\([^"]*\)".*/\1/p' | sort >"$T/$backend.got"
	w=0
	while [ $w -lt $WRITERS ]; do
		i=$DELS
		while [ $i -lt $ADDS ]; do echo "w$w-e$i.example"; i=$((i + 1)); done
		w=$((w + 1))
	done | sort >"$T/want"
	check "$backend: exactly the $(wc -l <"$T/want") entries added and not deleted ($(wc -l <"$T/$backend.got") there)" \
		cmp -s "$T/want" "$T/$backend.got"
	check "$backend: every command succeeded" sh -c "! cat '$T'/$backend-w*.err | grep -q ."
done
