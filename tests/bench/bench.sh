#!/bin/sh
# bench.sh - "make bench": RCPT throughput and latency through real Exim
# daemons on 127.0.0.1 that differ only in their RCPT ACL:
#   exim      no greylisting
#   greylistd greylistd through ${readsocket}, as its documentation wires it
#   postgrey  postgrey's policy protocol through ${readsocket}
#   module    this module (GDBM, the default)
#   lmdb      this module with backend = lmdb, the file on a tmpfs
#   lmdb-nolog  the same with log = none (not in the default list)
#   redis     this module with backend = redis on loopback
# gl-load sends MAIL/RCPT/RSET over persistent connections (and, with
# BENCH_MODE=connect, one connection per RCPT) at each concurrency, with
# BENCH_REPEAT% repeated triplets and a 1 s greylisting delay so repeats
# pass. Prints medians over BENCH_REPS runs, the module's ratios and
# whether each target of the benchmark is met, and keeps the raw lines in
# BENCH_OUT. Part 2 times the store alone (GDBM and LMDB) at 10k, 100k and
# 1M records, and the slowest decision while purge runs.
#   BENCH_QUICK=1   a few hundred RCPTs, 8 clients, one run (make check)
GL_TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$GL_TOP/tests/lib.sh"
. "$TOP/tests/mail.sh"

LOAD=${GL_LOAD:-$TOP/build/tests/gl-load}
REPEAT=${BENCH_REPEAT:-30}
MODE=${BENCH_MODE:-persistent}
if [ -n "${BENCH_QUICK:-}" ]; then
	CONCS=${BENCH_CONCS:-8}; REPS=1; N=300; SECS=10
else
	CONCS=${BENCH_CONCS:-1 8 32}; REPS=${BENCH_REPS:-3}; N=${BENCH_RCPTS:-40000}; SECS=${BENCH_SECS:-8}
fi
OUT=${BENCH_OUT:-$TOP/build/bench/results-$(date +%Y%m%d-%H%M%S).txt}
mkdir -p "$(dirname "$OUT")"
: >"$OUT"
VARIANTS=${BENCH_VARIANTS:-exim greylistd postgrey module lmdb redis}
HZ=$(getconf CLK_TCK)

# cpu_ticks PID [children]: utime+stime of PID, or of its reaped children.
cpu_ticks() {
	[ -r "/proc/$1/stat" ] || { echo 0; return; }
	# fields after the ")" : state is $1, utime $12, stime $13, cutime $14, cstime $15
	sed 's/.*) //' "/proc/$1/stat" | awk -v c="${2:-}" '{ if (c != "") print $14 + $15; else print $12 + $13 }'
}

start_greylistd() {
	mkdir -p "$T/greylistd"
	chmod 0755 "$T/greylistd"
	cat >"$T/greylistd/config" <<EOC
[timeouts]
retryMin = 1
retryMax = 28800
expire = 5184000
[socket]
path = $T/greylistd/socket
mode = 0666
[data]
update = 600
statefile = $T/greylistd/states
tripletfile = $T/greylistd/triplets
savetriplets = false
EOC
	greylistd "$T/greylistd/config" >"$T/greylistd/out" 2>&1 &
	AUX_PID=$!
	PIDS="$PIDS $AUX_PID"
	i=0; while [ ! -S "$T/greylistd/socket" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	[ -S "$T/greylistd/socket" ] || return 1
	cat >"$T/acl-greylistd" <<EOC
  defer
    message   = 451 4.7.1 greylisted
    condition = \${readsocket{$T/greylistd/socket}{--grey \${mask:\$sender_host_address/24} \$sender_address \$local_part@\$domain}{5s}{}{false}}
EOC
	RCPT_ACL=$T/acl-greylistd
}

start_postgrey() {
	mkdir -p "$T/postgrey"
	chown postgrey "$T/postgrey" 2>/dev/null
	PGPORT=$(free_port) || return 1
	postgrey --inet=127.0.0.1:$PGPORT --dbdir="$T/postgrey" --delay=1 \
		--pidfile="$T/postgrey/pid" >"$T/postgrey/out" 2>&1 &
	AUX_PID=$!
	PIDS="$PIDS $AUX_PID"
	i=0; while ! ss -Hltn | awk '{print $4}' | grep -q ":$PGPORT\$" && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	ss -Hltn | awk '{print $4}' | grep -q ":$PGPORT\$" || return 1
	cat >"$T/acl-postgrey" <<EOC
  defer
    message   = 451 4.7.1 greylisted
    condition = \${if match{\${readsocket{inet:127.0.0.1:$PGPORT}{request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=\$sender_host_address\nclient_name=unknown\nreverse_client_name=unknown\nhelo_name=\$sender_helo_name\nsender=\$sender_address\nrecipient=\$local_part@\$domain\nrecipient_count=0\nqueue_id=\nsize=0\ninstance=\$acl_m0\n\n}{5s}{}{action=DUNNO}}}{^action=DEFER}}
EOC
	RCPT_ACL=$T/acl-postgrey
}

# setup VARIANT: starts what the variant needs and its receiving Exim.
setup() {
	AUX_PID=""; RCPT_ACL=""; GL_EXTRA="auto_whitelist_clients = 0"
	case $1 in
	exim) : >"$T/acl-none"; RCPT_ACL=$T/acl-none ;;
	greylistd) command -v greylistd >/dev/null || return 2; start_greylistd || return 1 ;;
	postgrey) command -v postgrey >/dev/null || return 2; start_postgrey || return 1 ;;
	module) ;;
	lmdb|lmdb-nolog)
		# The README's fastest setup: the file on a tmpfs (mounted
		# inside $T, so nothing is written outside it).
		db=$T/mx-$1/db/greylist.lmdb # without a tmpfs: the receiver's own db/
		mkdir -p "$T/lmdb-tmpfs"
		if mount -t tmpfs -o size=512m,mode=0755 tmpfs "$T/lmdb-tmpfs" 2>/dev/null; then
			MOUNTED="$T/lmdb-tmpfs"
			chown "$EXIM_USER" "$T/lmdb-tmpfs"
			db=$T/lmdb-tmpfs/greylist.lmdb
			echo "# lmdb: database on a tmpfs" | tee -a "$OUT"
		else
			echo "# lmdb: no tmpfs could be mounted; database in $T" | tee -a "$OUT"
		fi
		GL_EXTRA="auto_whitelist_clients = 0
backend = lmdb
database = $db"
		# lmdb-nolog: the same without the module's line per deferral
		[ "$1" = lmdb-nolog ] && GL_EXTRA="$GL_EXTRA
log = none" ;;
	redis)
		command -v redis-server >/dev/null || return 2
		start_redis || return 1
		AUX_PID=$REDIS_PID
		GL_EXTRA="auto_whitelist_clients = 0
backend = redis
redis = 127.0.0.1:$REDIS_PORT" ;;
	esac
	RNAME=mx-$1 RCPT_ACL=$RCPT_ACL GL_DELAY=1s GL_LOG=defer GL_EXTRA=$GL_EXTRA start_receiver
}

MOUNTED=""; RPID=""; AUX_PID=""
# unmount: the tmpfs, once the daemon's last children let go of it.
unmount() {
	[ -n "$MOUNTED" ] || return 0
	i=0
	while ! umount "$MOUNTED" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ $i -lt 50 ] || umount -l "$MOUNTED"
	MOUNTED=""
}
trap 'teardown; cleanup' EXIT INT TERM

teardown() {
	if [ -n "${RPID:-}" ]; then
		kill "$RPID" ${AUX_PID:+"$AUX_PID"} 2>/dev/null
		wait "$RPID" ${AUX_PID:+"$AUX_PID"} 2>/dev/null
	fi
	RPID=""; AUX_PID=""
	unmount
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

echo "# bench: mode=$MODE repeat=$REPEAT% clients=[$CONCS] reps=$REPS rcpts<=$N secs<=$SECS $(nproc) cores" | tee -a "$OUT"
for v in $VARIANTS; do
	setup "$v"; rc=$?
	if [ $rc -eq 2 ]; then echo "# $v: not installed, skipped" | tee -a "$OUT"; continue; fi
	[ $rc -eq 0 ] || { echo "# $v: could not start" | tee -a "$OUT"; teardown; continue; }
	"$LOAD" -p "$RPORT" -c 4 -n 200 -t 5 -s 999 >/dev/null 2>&1 # warm-up
	sleep 0.3
	for c in $CONCS; do
		r=1
		while [ $r -le $REPS ]; do
			e0=$(cpu_ticks "$RPID" children); a0=$(cpu_ticks "${AUX_PID:-0}")
			line=$("$LOAD" -p "$RPORT" -c "$c" -n "$N" -t "$SECS" -r "$REPEAT" \
				-d 1100 -s "$c$r" ${MODE:+$( [ "$MODE" = connect ] && echo -1)} \
				-o "$T/raw-$v-$c-$r")
			sleep 0.3 # let the daemon reap its children
			e1=$(cpu_ticks "$RPID" children); a1=$(cpu_ticks "${AUX_PID:-0}")
			n=$(field "$line" rcpts)
			cpu=$(( (e1 - e0) * 1000000 / HZ / (n > 0 ? n : 1) ))
			aux=$(( (a1 - a0) * 1000000 / HZ / (n > 0 ? n : 1) ))
			echo "variant=$v clients=$c run=$r $line exim_cpu_us=$cpu aux_cpu_us=$aux" | tee -a "$OUT"
			r=$((r + 1))
		done
	done
	teardown
done

# The table: medians per variant and concurrency.
echo
printf '%-10s %7s %9s %9s %9s %9s %9s\n' VARIANT CLIENTS RCPT/s p50_ms p99_ms exim_us helper_us
for v in $VARIANTS; do
	for c in $CONCS; do
		grep -q "^variant=$v clients=$c " "$OUT" || continue
		rows=$(grep "^variant=$v clients=$c " "$OUT")
		rps=$(echo "$rows" | sed 's/.* rps=\([0-9]*\).*/\1/' | median)
		p50=$(echo "$rows" | sed 's/.* p50_us=\([0-9]*\).*/\1/' | median)
		p99=$(echo "$rows" | sed 's/.* p99_us=\([0-9]*\).*/\1/' | median)
		cpu=$(echo "$rows" | sed 's/.* exim_cpu_us=\([0-9]*\).*/\1/' | median)
		aux=$(echo "$rows" | sed 's/.* aux_cpu_us=\([0-9]*\).*/\1/' | median)
		printf '%-10s %7s %9s %9s %9s %9s %9s\n' "$v" "$c" "$rps" \
			"$(awk -v x="$p50" 'BEGIN{printf "%.2f", x/1000}')" \
			"$(awk -v x="$p99" 'BEGIN{printf "%.2f", x/1000}')" "$cpu" "$aux"
		echo "median variant=$v clients=$c rps=$rps p50_us=$p50 p99_us=$p99 exim_cpu_us=$cpu" >>"$OUT"
	done
done
echo
med() { sed -n "s/^median variant=$1 clients=$2 .*$3=\([0-9]*\).*/\1/p" "$OUT"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a/b }'; }
for c in $CONCS; do
	for v in module lmdb redis; do
		m=$(med $v "$c" rps)
		[ -n "$m" ] || continue
		line="clients=$c"
		for base in exim greylistd postgrey; do
			line="$line $v/$base=$(ratio "$m" "$(med $base "$c" rps)")"
		done
		echo "$line"
	done
done | tee -a "$OUT"
# The targets of "make bench", for each variant of the module: 2x
# greylistd's RCPT/s (where Exim alone is not itself 2x greylistd, within
# 10% of Exim alone instead), and p99 at 32 clients below greylistd's
# and under 10 ms.
echo
for v in module lmdb redis; do
	for c in $CONCS; do
		m=$(med $v "$c" rps); g=$(med greylistd "$c" rps); e=$(med exim "$c" rps)
		[ -n "$m" ] || continue
		if [ -z "$e" ]; then
			echo "target $v clients=$c: $m RCPT/s, not measured: no figure for Exim alone in this run"
			continue
		elif [ -z "$g" ]; then
			echo "target $v clients=$c: $m RCPT/s, not measured: no figure for greylistd in this run"
			continue
		fi
		if [ "$e" -ge $((2 * g)) ]; then
			want="2x greylistd ($((2 * g)))"; need=$((2 * g))
		else
			want="0.9x Exim alone ($((e * 9 / 10)); Exim alone is not 2x greylistd)"
			need=$((e * 9 / 10))
		fi
		verdict=met; [ "$m" -ge "$need" ] || verdict="NOT met"
		echo "target $v clients=$c: $m RCPT/s, want $want: $verdict"
	done
	m=$(med $v 32 p99_us); g=$(med greylistd 32 p99_us)
	if [ -n "$m" ] && [ -n "$g" ]; then
		verdict=met; [ "$m" -lt "$g" ] && [ "$m" -lt 10000 ] || verdict="NOT met"
		echo "target $v p99 at 32 clients: $m us, want below greylistd's ($g us) and 10000 us: $verdict"
	fi
done | tee -a "$OUT"
# Part 2: the store alone, by database size, and purge under load.
if [ -z "${BENCH_NO_STORE:-}" ]; then
	SIZES=${BENCH_SIZES:-10000 100000 1000000}
	[ -n "${BENCH_QUICK:-}" ] && SIZES=2000 && BENCH_DECISIONS=2000
	echo
	echo "# store: decision cost by size (70% repeats, 30% new), 1 and 8 processes; purge of 10%" | tee -a "$OUT"
	for b in ${BENCH_STORES:-gdbm lmdb}; do
		for n in $SIZES; do
			mkdir -p "$T/store-$n"
			{
				printf 'database = %s/store-%s/g.db\n' "$T" "$n"
				echo "backend = $b"
			} >"$T/store-$n/c"
			# LMDB decides in microseconds: more decisions, so that
			# a point is not a few milliseconds of timer noise
			k=${BENCH_DECISIONS:-20000}
			[ -z "${BENCH_DECISIONS:-}" ] && [ "$b" = lmdb ] && k=200000
			"$(dirname "$LOAD")/gl-storebench" "$T/store-$n/c" "$n" \
				"$k" "$GL_ADMIN" 2>&1 |
				grep -E '^(store=|purge )' | tee -a "$OUT"
			rm -rf "$T/store-$n"
		done
		lo=$(echo "$SIZES" | awk '{print $1}'); hi=$(echo "$SIZES" | awk '{print $NF}')
		a=$(sed -n "s/^store=$b records=$lo procs=1 .* per_s=\([0-9]*\).*/\1/p" "$OUT" | tail -1)
		z=$(sed -n "s/^store=$b records=$hi procs=1 .* per_s=\([0-9]*\).*/\1/p" "$OUT" | tail -1)
		w=$(sed -n "s/^purge store=$b records=$hi .* worst_decision_us=\([0-9]*\).*/\1/p" "$OUT" | tail -1)
		if [ "$lo" != "$hi" ] && [ -n "$a" ] && [ -n "$z" ] && [ "$z" -gt 0 ]; then
			r=$(ratio "$a" "$z")
			verdict=met; awk -v r="$r" 'BEGIN{exit !(r <= 1.5)}' || verdict="NOT met"
			echo "target $b decision cost at $hi records: ${r}x that at $lo, want <= 1.5x: $verdict" | tee -a "$OUT"
		fi
		if [ -n "$w" ]; then
			verdict=met; [ "$w" -lt 100000 ] || verdict="NOT met"
			echo "target $b slowest decision during purge of $hi: $w us, want < 100000 us: $verdict" | tee -a "$OUT"
		fi
	done
fi
echo "raw lines: $OUT"
