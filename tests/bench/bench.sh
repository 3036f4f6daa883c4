#!/bin/sh
# bench.sh - "make bench": RCPT throughput and latency through real Exim
# daemons on 127.0.0.1 that differ only in the greylister their RCPT ACL
# asks:
#   exim      no greylisting (the ACL without the greylisting statement)
#   greylistd greylistd through ${readsocket}, as its documentation wires it
#   postgrey  postgrey's policy protocol through ${readsocket}
#   floor     tests/bench/gl-floor.c: the module's call and yields, its
#             table in the Exim process's memory: what any greylister in
#             Exim can reach
#   module    this module as installed (GDBM on a tmpfs, with a snapshot;
#             the daemon loads the module once)
#   lmdb      this module with backend = lmdb, the file on a tmpfs
#   redis     this module with backend = redis on loopback
# Every greylisting variant runs the module's snippet (rcpt-acl.conf) as
# it is, only the expansion asking the greylister differs, and every
# deferral is logged the same way: Exim's own reject line in its main log
# (BENCH_EXIM_LOG, the snippet's GREYLIST_EXIM_LOG; the module's line off,
# log = none). Delay 1 s, auto-whitelisting off.
# Part 1: gl-load sends MAIL/RCPT/RSET over persistent connections (with
# BENCH_MODE=connect, one connection per RCPT) at each concurrency, with
# BENCH_REPEAT% repeated triplets that pass.
# Part 1b: an MX's traffic, one connection per message with 1 to 3 RCPTs
# (no DATA): 60% of messages from one-shot senders, 30% from known
# senders whose triplets passed before, 10% retries after the delay
# (gl-load -m), after a warm-up, the same for every variant, that sends
# the known messages and the retries' first attempts and then passes the
# known ones (gl-load -W; so the known triplets passed seconds before the
# runs, and the module's refresh of a passed record's last_seen, once per
# pass_lifetime/64, does not occur in them); and the same traffic with
# one RCPT per connection (mx1). postgrey is left out of part 1b.
# Runs BENCH_REPS rounds, each of every variant in turn on a fresh daemon
# and store (so a drift of the machine's speed moves all alike), and
# prints the medians over the rounds, the ratios, and whether each target
# of the benchmark is met (on the medians, and in how many rounds), and
# keeps the raw lines in BENCH_OUT. Part 2
# times the store alone (GDBM and LMDB) at 10k, 100k and 1M records, and
# the slowest decision while purge runs.
#   BENCH_QUICK=1     a few hundred RCPTs, 8 clients, one run (make check)
#   BENCH_SECS, BENCH_REPS, BENCH_RCPTS   seconds (8), runs (3) and RCPTs
#                     (40000) at most per point; a run ends at either limit
#   BENCH_CONCS, BENCH_MX_CONCS, BENCH_MX1_CONCS   clients of part 1
#                     (1 8 32), 1b (8 32) and 1b with one RCPT (8)
#   BENCH_MX_MSGS, BENCH_KNOWN   messages per 1b run at most (3000), known
#                     messages (1000)
#   BENCH_VARIANTS, BENCH_MX_VARIANTS, BENCH_NO_STORE=1, BENCH_MODE=connect
#   BENCH_EXIM_LOG    log_reject_target of every variant (main; empty: none)
# The variant logall is the module as installed (GDBM on a tmpfs) with
# its own line for every decision (log = all) on top: beside "module" it says what log = all
# costs (part 1 only).
GL_TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$GL_TOP/tests/lib.sh"
. "$TOP/tests/mail.sh"

LOAD=${GL_LOAD:-$TOP/build/tests/gl-load}
FLOOR=${GL_FLOOR:-$(dirname "$LOAD")/gl-floor.so}
REPEAT=${BENCH_REPEAT:-30}
MODE=${BENCH_MODE:-persistent}
EXIM_LOG=${BENCH_EXIM_LOG-main}
if [ -n "${BENCH_QUICK:-}" ]; then
	CONCS=${BENCH_CONCS:-8}; REPS=1; N=300; SECS=10
	MX_CONCS=${BENCH_MX_CONCS-8}; MX1_CONCS=${BENCH_MX1_CONCS-8}
	MX_N=50; KNOWN=20
else
	CONCS=${BENCH_CONCS:-1 8 32}; REPS=${BENCH_REPS:-3}; N=${BENCH_RCPTS:-40000}; SECS=${BENCH_SECS:-8}
	MX_CONCS=${BENCH_MX_CONCS-8 32}; MX1_CONCS=${BENCH_MX1_CONCS-8}
	MX_N=${BENCH_MX_MSGS:-3000}; KNOWN=${BENCH_KNOWN:-1000}
fi
OUT=${BENCH_OUT:-$TOP/build/bench/results-$(date +%Y%m%d-%H%M%S).txt}
mkdir -p "$(dirname "$OUT")"
: >"$OUT"
VARIANTS=${BENCH_VARIANTS:-exim greylistd postgrey floor module logall lmdb redis}
# postgrey answers ~1.5k policy requests/s: in part 1b it would be timed
# mostly in its warm-up; its part 1 figures show its place.
MX_VARIANTS=${BENCH_MX_VARIANTS:-$(echo "$VARIANTS" | tr ' ' '\n' | grep -vxE 'postgrey|logall' | tr '\n' ' ')}
HZ=$(getconf CLK_TCK)
# The retries each MX run may use (messages numbered g send a retry when
# g % 10 == 9), and the retries the warm-up prepares for all of them.
BUDGET=$((MX_N / 10 + 1))
set -- $MX_CONCS $MX1_CONCS
POOL=$((BUDGET * $#)) # each round starts a fresh store

# cpu_ticks PID [children]: utime+stime of PID, or of its reaped children.
cpu_ticks() {
	[ -r "/proc/$1/stat" ] || { echo 0; return; }
	# fields after the ")" : state is $1, utime $12, stime $13, cutime $14, cstime $15
	sed 's/.*) //' "/proc/$1/stat" | awk -v c="${2:-}" '{ if (c != "") print $14 + $15; else print $12 + $13 }'
}

# make_acl FILE [EXPR]: the module's snippet with each deferral logged as
# $EXIM_LOG says (its GREYLIST_EXIM_LOG), and, given EXPR (an expansion
# yielding "defer SECONDS REASON" or "accept REASON" as the module does),
# EXPR in place of the module's ${dlfunc}: one ACL shape for every variant.
make_acl() {
	EXPR=${2:-} awk -v lg="$EXIM_LOG" '
		skip { if ($0 == ".endif") skip = 0; next }
		$0 == ".ifdef GREYLIST_EXIM_LOG" {
			print "    log_reject_target = " lg; skip = 1; next }
		call { if ($0 ~ /^[ \t]*}[ \t]*$/) call = 0; next }
		ENVIRON["EXPR"] != "" && $0 ~ /^[ \t]*set acl_m_greylist = \$\{dlfunc/ {
			print "    set acl_m_greylist = " ENVIRON["EXPR"]; call = 1; next }
		{ print }' "$SNIPPETS/rcpt-acl.conf" >"$1"
	if ! grep -qx "    log_reject_target = $EXIM_LOG" "$1" ||
	   { [ -n "${2:-}" ] && ! grep -qxF "    set acl_m_greylist = $2" "$1"; }; then
		echo "# bench: the snippet's shape changed; cannot make $1 from it" >&2
		return 1
	fi
}

start_greylistd() {
	rm -rf "$T/greylistd" # a fresh state each round
	mkdir -p "$T/greylistd"
	chmod 0755 "$T/greylistd"
	# greylistd passes a retry when first + retryMin < now, in whole
	# seconds; the module when now - first >= delay: retryMin = 0 is
	# the module's (and the floor's) delay = 1 s.
	cat >"$T/greylistd/config" <<EOC
[timeouts]
retryMin = 0
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
	make_acl "$T/acl-greylistd" "\${if bool{\${readsocket{$T/greylistd/socket}{--grey \${mask:\$sender_host_address/24} \$sender_address \$local_part@\$domain}{5s}{}{false}}}{defer 1 greylistd}{accept greylistd}}" || return 1
	RCPT_ACL=$T/acl-greylistd
}

start_postgrey() {
	rm -rf "$T/postgrey" # a fresh database each round
	mkdir -p "$T/postgrey"
	chown postgrey "$T/postgrey" 2>/dev/null
	PGPORT=$(free_port) || return 1
	postgrey --inet=127.0.0.1:$PGPORT --dbdir="$T/postgrey" --delay=1 \
		--auto-whitelist-clients=0 \
		--pidfile="$T/postgrey/pid" >"$T/postgrey/out" 2>&1 &
	AUX_PID=$!
	PIDS="$PIDS $AUX_PID"
	i=0; while ! ss -Hltn | awk '{print $4}' | grep -q ":$PGPORT\$" && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	ss -Hltn | awk '{print $4}' | grep -q ":$PGPORT\$" || return 1
	make_acl "$T/acl-postgrey" "\${if match{\${readsocket{inet:127.0.0.1:$PGPORT}{request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=\$sender_host_address\nclient_name=unknown\nreverse_client_name=unknown\nhelo_name=\$sender_helo_name\nsender=\$sender_address\nrecipient=\$local_part@\$domain\nrecipient_count=0\nqueue_id=\nsize=0\ninstance=\$acl_m0\n\n}{5s}{}{action=DUNNO}}}{^action=DEFER}{defer 1 postgrey}{accept postgrey}}" || return 1
	RCPT_ACL=$T/acl-postgrey
}

# tmpfs_dir VARIANT: a tmpfs mounted inside $T (so nothing is written
# outside it), owned by the Exim user, for the database; without one, the
# receiver's own db/ directory (said in the output). Prints the directory.
tmpfs_dir() {
	mkdir -p "$T/$1-tmpfs"
	if mount -t tmpfs -o size=512m,mode=0755 tmpfs "$T/$1-tmpfs" 2>/dev/null; then
		echo "$T/$1-tmpfs" >>"$T/mounted"
		chown "$EXIM_USER" "$T/$1-tmpfs"
		echo "# $1: database on a tmpfs" | tee -a "$OUT" >&2
		echo "$T/$1-tmpfs"
	else
		echo "# $1: no tmpfs could be mounted; database in $T" | tee -a "$OUT" >&2
		mkdir -p "$T/mx-$1/db"
		echo "$T/mx-$1/db"
	fi
}

# setup VARIANT: starts what the variant needs and its receiving Exim.
setup() {
	AUX_PID=""; RCPT_ACL=$T/acl-snippet; GL_EXTRA="auto_whitelist_clients = 0"
	rm -rf "$T/mx-$1" # a fresh receiver (and store) each round
	so=$GL_SO; log=none
	case $1 in
	exim) : >"$T/acl-none"; RCPT_ACL=$T/acl-none ;;
	greylistd) command -v greylistd >/dev/null || return 2; start_greylistd || return 1 ;;
	postgrey) command -v postgrey >/dev/null || return 2; start_postgrey || return 1 ;;
	floor) [ -f "$FLOOR" ] || return 2; GL_SO=$FLOOR ;;
	module|logall)
		# The installed configuration: the file on a tmpfs (/run),
		# its snapshot on disk. logall: the same with log = all.
		dir=$(tmpfs_dir $1)
		[ $1 = logall ] && log=all
		GL_EXTRA="auto_whitelist_clients = 0
whitelist = $SNIPPETS/greylist-whitelist
database = $dir/greylist.gdbm
snapshot = $T/mx-$1/db/greylist.gdbm" ;;
	lmdb)
		# The README's fastest setup: the file on a tmpfs.
		dir=$(tmpfs_dir lmdb)
		GL_EXTRA="auto_whitelist_clients = 0
whitelist = $SNIPPETS/greylist-whitelist
backend = lmdb
database = $dir/greylist.lmdb" ;;
	redis)
		command -v redis-server >/dev/null || return 2
		start_redis || return 1
		AUX_PID=$REDIS_PID
		GL_EXTRA="auto_whitelist_clients = 0
whitelist = $SNIPPETS/greylist-whitelist
backend = redis
redis = 127.0.0.1:$REDIS_PORT" ;;
	*) return 2 ;;
	esac
	# The module's variants as installed, and the floor alike: the daemon
	# loads the library once (greylist-setup-exim4's
	# smtp_accept_max_per_host line); the others load nothing in the
	# daemon.
	case $1 in floor|module|logall|lmdb|redis) load=yes ;; *) load=no ;; esac
	RNAME=mx-$1 RCPT_ACL=$RCPT_ACL GL_DELAY=1s GL_LOG=$log GL_EXTRA=$GL_EXTRA \
		GL_DAEMON_LOAD=$load start_receiver
	rc=$?
	GL_SO=$so
	return $rc
}

RPID=""; AUX_PID=""
# unmount: the tmpfs, once the daemon's last children let go of it.
unmount() {
	[ -s "$T/mounted" ] || return 0
	while read -r m; do
		i=0
		while ! umount "$m" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		[ $i -lt 50 ] || umount -l "$m"
	done <"$T/mounted"
	: >"$T/mounted"
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
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

# measure VARIANT TRAFFIC CLIENTS RUN GL-LOAD-ARGS...: one run, one raw line.
measure() {
	v=$1; m=$2; c=$3; r=$4; shift 4
	e0=$(cpu_ticks "$RPID" children); a0=$(cpu_ticks "${AUX_PID:-0}")
	line=$("$LOAD" -p "$RPORT" -c "$c" -t "$SECS" -d 1100 \
		-o "$T/raw-$v-$m-$c-$r" "$@")
	sleep 0.3 # let the daemon reap its children
	e1=$(cpu_ticks "$RPID" children); a1=$(cpu_ticks "${AUX_PID:-0}")
	n=$(field "$line" rcpts)
	cpu=$(( (e1 - e0) * 1000000 / HZ / (n > 0 ? n : 1) ))
	aux=$(( (a1 - a0) * 1000000 / HZ / (n > 0 ? n : 1) ))
	echo "variant=$v mode=$m clients=$c run=$r $line exim_cpu_us=$cpu aux_cpu_us=$aux" | tee -a "$OUT"
	u=$(field "$line" unexpected)
	if [ "$v" != exim ] && [ "${u:-0}" != 0 ]; then
		echo "# WARNING $v $m clients=$c run=$r: $u RCPTs answered otherwise than a greylister would" | tee -a "$OUT"
	fi
	if [ "$(field "$line" exhausted)" = 1 ]; then
		echo "# WARNING $v $m clients=$c run=$r: ended early, its $BUDGET retries used up" | tee -a "$OUT"
	fi
}

[ "$MODE" = connect ] && PMODE=connect || PMODE=persistent
make_acl "$T/acl-snippet" || exit 1
echo "# bench: part 1 mode=$MODE repeat=$REPEAT% clients=[$CONCS]; part 1b MX traffic clients=[$MX_CONCS], one RCPT per connection clients=[$MX1_CONCS]; reps=$REPS rcpts<=$N messages<=$MX_N secs<=$SECS $(nproc) cores" | tee -a "$OUT"
echo "# acl: every greylisting variant runs the module's snippet (rcpt-acl.conf) with only the expansion that asks the greylister changed; Exim alone has no greylisting statement. Logging: each deferral by Exim's reject line, log_reject_target = ${EXIM_LOG:-(none)}; the module's own line off (log = none), except in logall (log = all). Delay 1 s, auto-whitelisting off; the module's variants read the whitelist file the package installs (greylist-whitelist), as installed." | tee -a "$OUT"
echo "# floor: gl-floor.so through the same snippet, loaded once in the Exim daemon as the module is; it stores nothing across connections: for the MX traffic it decides from gl-load's sender names (mxk- known, mxr- retry), the decisions a greylister would make for this traffic, without any storage" | tee -a "$OUT"
# Rounds: each runs every variant once, each point once, on a fresh
# daemon and store; the medians are over the rounds. Interleaved so, a
# machine whose speed drifts during the benchmark (a shared virtual
# machine) moves every variant alike, and the ratios stay fair.
rep=1
while [ $rep -le $REPS ]; do
for v in $VARIANTS; do
	setup "$v"; rc=$?
	if [ $rc -eq 2 ]; then
		[ $rep -gt 1 ] || echo "# $v: not installed, skipped" | tee -a "$OUT"
		continue
	fi
	[ $rc -eq 0 ] || { echo "# $v: could not start" | tee -a "$OUT"; teardown; continue; }
	"$LOAD" -p "$RPORT" -c 4 -n 200 -t 5 -s 999 >/dev/null 2>&1 # warm-up
	sleep 0.3
	if [ "$v" = floor ] && [ "$PMODE" = connect ]; then
		[ $rep -gt 1 ] || echo "# floor: not in part 1 with BENCH_MODE=connect (it cannot tell a repeat on a new connection)" | tee -a "$OUT"
	else
		for c in $CONCS; do
			measure "$v" "$PMODE" "$c" "$rep" -n "$N" -r "$REPEAT" \
				-s "$c$rep" $( [ "$PMODE" = connect ] && echo -1)
		done
	fi
	if has "$MX_VARIANTS" "$v" && [ -n "$MX_CONCS$MX1_CONCS" ]; then
		line=$("$LOAD" -p "$RPORT" -W -c 8 -K "$KNOWN" -R 0 -M "$POOL" -d 1100 -s 1)
		echo "warmup variant=$v run=$rep known=$KNOWN retries=$POOL $line" | tee -a "$OUT"
		u=$(field "$line" unexpected)
		case $v in exim|floor) ;; *)
			[ "${u:-0}" = 0 ] || echo "# WARNING $v warm-up: $u RCPTs answered otherwise than a greylister would" | tee -a "$OUT" ;;
		esac
		off=0
		for m in mx mx1; do
			[ $m = mx ] && { cs=$MX_CONCS; k=3; } || { cs=$MX1_CONCS; k=1; }
			for c in $cs; do
				measure "$v" "$m" "$c" "$rep" -m -k "$k" -n "$MX_N" \
					-K "$KNOWN" -R "$off" -M "$BUDGET" \
					-s "$( [ $m = mx ] && echo 2 || echo 3)$c$rep"
				off=$((off + BUDGET))
			done
		done
	fi
	teardown
done
rep=$((rep + 1))
done

# The medians of each variant's runs at each point, one line each in $OUT:
#   median variant=V mode=M clients=C rps=.. cps=.. p50_us=.. p99_us=.. exim_cpu_us=.. aux_cpu_us=..
# (of an even number of runs, the lower middle one).
awk '$1 ~ /^variant=/ && $2 ~ /^mode=/ && $3 ~ /^clients=/ {
	p = $1 " " $2 " " $3
	if (!(p in runs)) order[++np] = p
	r = ++runs[p]
	for (i = 5; i <= NF; i++) {
		eq = index($i, "=")
		val[p, substr($i, 1, eq - 1), r] = substr($i, eq + 1) + 0
	}
}
END {
	nk = split("rps cps p50_us p99_us exim_cpu_us aux_cpu_us", keys, " ")
	for (j = 1; j <= np; j++) {
		p = order[j]; n = runs[p]; line = "median " p
		for (k = 1; k <= nk; k++) {
			for (i = 1; i <= n; i++) x[i] = val[p, keys[k], i]
			for (i = 2; i <= n; i++) # insertion sort: a few runs
				for (m = i; m > 1 && x[m - 1] > x[m]; m--) {
					t = x[m]; x[m] = x[m - 1]; x[m - 1] = t
				}
			line = line " " keys[k] "=" x[int((n + 1) / 2)]
		}
		print line
	}
}' "$OUT" >"$T/medians"
cat "$T/medians" >>"$OUT"
med() {
	awk -v v="$1" -v m="$2" -v c="$3" -v k="$4=" '$1 == "median" &&
		$2 == "variant=" v && $3 == "mode=" m && $4 == "clients=" c {
		for (i = 5; i <= NF; i++)
			if (index($i, k) == 1)
				print substr($i, length(k) + 1) }' "$T/medians"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a/b }'; }
ms() { awk -v x="$1" 'BEGIN{ if (x == "" || x == "-") print "-"; else printf "%.2f", x/1000 }'; }

# Part 1's table: medians per variant and concurrency.
echo
echo "Part 1: $PMODE connections, $REPEAT% repeated triplets (medians of $REPS)"
printf '%-10s %7s %9s %9s %9s %9s %9s\n' VARIANT CLIENTS RCPT/s p50_ms p99_ms exim_us helper_us
for v in $VARIANTS; do
	for c in $CONCS; do
		[ -n "$(med "$v" "$PMODE" "$c" rps)" ] || continue
		printf '%-10s %7s %9s %9s %9s %9s %9s\n' "$v" "$c" "$(med "$v" "$PMODE" "$c" rps)" \
			"$(ms "$(med "$v" "$PMODE" "$c" p50_us)")" "$(ms "$(med "$v" "$PMODE" "$c" p99_us)")" \
			"$(med "$v" "$PMODE" "$c" exim_cpu_us)" "$(med "$v" "$PMODE" "$c" aux_cpu_us)"
	done
done
echo
for c in $CONCS; do
	for v in floor module lmdb redis; do
		m=$(med $v "$PMODE" "$c" rps)
		[ -n "$m" ] || continue
		line="clients=$c"
		for base in exim greylistd postgrey floor; do
			[ $base = $v ] && continue
			line="$line $v/$base=$(ratio "$m" "$(med $base "$PMODE" "$c" rps)")"
		done
		echo "$line"
	done
done | tee -a "$OUT"
# What log = all costs: the module with its line for every decision,
# against the same module without it.
for c in $CONCS; do
	a=$(med logall "$PMODE" "$c" rps); m=$(med module "$PMODE" "$c" rps)
	[ -n "$a" ] && [ -n "$m" ] || continue
	echo "log = all: clients=$c $a RCPT/s against $m without it, logall/module=$(ratio "$a" "$m")"
done | tee -a "$OUT"

# Part 1b's table.
if grep -q "^median variant=[a-z]* mode=mx1* " "$OUT"; then
	echo
	echo "Part 1b: an MX's traffic, one connection per message (EHLO, MAIL, RCPTs, QUIT; no DATA):"
	echo "60% one-shot senders, 30% known senders (passed in the warm-up), 10% retries after the delay;"
	echo "mx: 1 to 3 RCPTs a message, mx1: one RCPT per connection (medians of $REPS; latency per RCPT)"
	printf '%-10s %-5s %7s %9s %9s %9s %9s %7s %7s %7s\n' VARIANT MIX CLIENTS RCPT/s CONN/s p50_ms p99_ms /exim /greylistd /floor
	for v in $VARIANTS; do
		for m in mx mx1; do
			[ $m = mx ] && cs=$MX_CONCS || cs=$MX1_CONCS
			for c in $cs; do
				x=$(med "$v" $m "$c" rps)
				[ -n "$x" ] || continue
				printf '%-10s %-5s %7s %9s %9s %9s %9s %7s %7s %7s\n' "$v" $m "$c" "$x" \
					"$(med "$v" $m "$c" cps)" "$(ms "$(med "$v" $m "$c" p50_us)")" \
					"$(ms "$(med "$v" $m "$c" p99_us)")" \
					"$(ratio "$x" "$(med exim $m "$c" rps)")" \
					"$(ratio "$x" "$(med greylistd $m "$c" rps)")" \
					"$(ratio "$x" "$(med floor $m "$c" rps)")"
			done
		done
	done
fi

# The targets of "make bench" (issue 16), from this run:
#   the default configuration (module, GDBM): at least 1.5x greylistd's
#   RCPT/s at 8 and 32 clients, at least greylistd's at 1 client and with
#   one RCPT per connection (part 1b, mx1), p99 at 32 clients below
#   greylistd's and under 10 ms;
#   LMDB: at least 0.9x the floor's RCPT/s at 1, 8 and 32 clients and with
#   one RCPT per connection.
# per_round V B MODE C KEY: V's and B's figure KEY ("V B"), one line per
# round that has both (the rounds run one after the other, each on fresh
# daemons).
per_round() {
	awk -v v="$1" -v b="$2" -v m="$3" -v c="$4" -v k="$5=" '
		$2 == "mode=" m && $3 == "clients=" c &&
		($1 == "variant=" v || $1 == "variant=" b) {
			r = x = ""
			for (i = 4; i <= NF; i++) {
				if (index($i, "run=") == 1) r = substr($i, 5)
				if (index($i, k) == 1) x = substr($i, length(k) + 1)
			}
			if ($1 == "variant=" v) a[r] = x; else g[r] = x
		}
		END {
			for (r in a)
				if (r in g && a[r] != "" && g[r] != "") print a[r], g[r]
		}' "$OUT"
}
# in_rounds F COND: " (in K of N rounds)" for per_round's lines on
# standard input, K those for which the awk expression COND holds ($1 is
# V's figure, $2 B's, f is F); nothing when there was no round. How far
# the verdict on the medians stands above the noise of this machine.
in_rounds() {
	awk -v f="$1" "{ n++; if ($2) k++ }
		END { if (n) printf \" (in %d of %d rounds)\", k, n }"
}
# target WHO WHAT RCPT/S BASE BASE_RCPT/S FACTOR [MODE CLIENTS]: one
# line, met or NOT met on the medians; with MODE and CLIENTS, in how
# many rounds it was met too.
target() {
	if [ -z "$3" ]; then
		echo "target $1 $2: not measured in this run"
	elif [ -z "$5" ]; then
		echo "target $1 $2: $3 RCPT/s, not measured: no figure for $4 in this run"
	else
		need=$(awk -v b="$5" -v f="$6" 'BEGIN{ printf "%.0f", b * f }')
		verdict=met; [ "$3" -ge "$need" ] || verdict="NOT met"
		# the bar rounded as need is
		per=""
		[ -n "${8:-}" ] && per=$(per_round "$1" "$4" "$7" "$8" rps |
			in_rounds "$6" '$1 + 0 >= sprintf("%.0f", f * $2) + 0')
		echo "target $1 $2: $3 RCPT/s, want ${6}x $4 ($need): $verdict$per"
	fi
}
echo
c1=$(echo "$MX1_CONCS" | awk '{print $1}')
{
	for c in 8 32; do
		has "$CONCS" $c || continue
		target module "clients=$c" "$(med module "$PMODE" $c rps)" greylistd "$(med greylistd "$PMODE" $c rps)" 1.5 "$PMODE" $c
	done
	has "$CONCS" 1 && target module "clients=1" "$(med module "$PMODE" 1 rps)" greylistd "$(med greylistd "$PMODE" 1 rps)" 1 "$PMODE" 1
	[ -n "$c1" ] && target module "one RCPT per connection (clients=$c1)" "$(med module mx1 "$c1" rps)" greylistd "$(med greylistd mx1 "$c1" rps)" 1 mx1 "$c1"
	if has "$CONCS" 32; then
		m=$(med module "$PMODE" 32 p99_us); g=$(med greylistd "$PMODE" 32 p99_us)
		if [ -n "$m" ] && [ -n "$g" ]; then
			verdict=met; [ "$m" -lt "$g" ] && [ "$m" -lt 10000 ] || verdict="NOT met"
			per=$(per_round module greylistd "$PMODE" 32 p99_us |
				in_rounds "" '$1 + 0 < $2 + 0 && $1 + 0 < 10000')
			echo "target module p99 at 32 clients: $m us, want below greylistd's ($g us) and 10000 us: $verdict$per"
		elif [ -n "$m" ]; then
			echo "target module p99 at 32 clients: not measured: no figure for greylistd in this run"
		else
			echo "target module p99 at 32 clients: not measured: no figure for the module in this run"
		fi
	fi
	for c in $CONCS; do
		has "1 8 32" "$c" || continue
		target lmdb "clients=$c" "$(med lmdb "$PMODE" "$c" rps)" floor "$(med floor "$PMODE" "$c" rps)" 0.9 "$PMODE" "$c"
	done
	[ -n "$c1" ] && target lmdb "one RCPT per connection (clients=$c1)" "$(med lmdb mx1 "$c1" rps)" floor "$(med floor mx1 "$c1" rps)" 0.9 mx1 "$c1"
} | tee -a "$OUT"
# Part 3: where a connection's share goes (gl-conncost): each of N fresh
# processes, forked from one that has Exim's libraries loaded (so symbol
# lookups walk Exim's scope), loads the module, makes a first decision
# (configuration, store library, store) and a second one; CPU time per
# step, medians. "daemon" runs are the same with the module (and the
# store library) loaded in the parent first, as greylist-setup-exim4's
# smtp_accept_max_per_host line has the Exim daemon do (gl-conncost -d).
if [ -z "${BENCH_NO_CONNCOST:-}" ]; then
	CC_BIN=$(dirname "$LOAD")/gl-conncost
	CC_N=${BENCH_CONNCOST_N:-500}; [ -n "${BENCH_QUICK:-}" ] && CC_N=50
	exim_libs=$(ldd "$EXIM" 2>/dev/null | awk '$3 ~ /^\// { print "-g " $3 }')
	echo
	echo "# connection cost: $CC_N processes each, CPU microseconds (median): load = dlopen of the module, first = first decision (configuration, store library, store open, write), next = a second decision" | tee -a "$OUT"
	mkdir -p "$T/cc"
	mount -t tmpfs -o size=256m tmpfs "$T/cc" 2>/dev/null && CC_MOUNTED=yes || CC_MOUNTED=""
	for b in gdbm lmdb floor; do
		printf 'database = %s/cc/%s.db\nbackend = %s\nlog = none\nauto_whitelist_clients = 0\nwhitelist = %s\n' \
			"$T" "$b" "$( [ $b = floor ] && echo gdbm || echo $b)" \
			"$SNIPPETS/greylist-whitelist" >"$T/cc/$b.conf"
		so=$GL_SO; [ $b = floor ] && so=$FLOOR
		for how in connection daemon; do
			pre=""
			[ $how = daemon ] && pre="-d"
			# shellcheck disable=SC2086 # word lists on purpose
			line=$("$CC_BIN" -n "$CC_N" $exim_libs $pre "$so" "$T/cc/$b.conf" 2>/dev/null) ||
				line="failed"
			echo "conncost variant=$b loaded_by=$how $line" | tee -a "$OUT"
		done
	done
	[ -n "$CC_MOUNTED" ] && { umount "$T/cc" 2>/dev/null || umount -l "$T/cc"; }
fi

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
