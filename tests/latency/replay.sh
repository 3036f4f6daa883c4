#!/bin/sh
# replay.sh - how long real senders wait: replays the retry schedules of
# tests/latency/profiles through real Exim daemons with the module, with
# a real DNS server (dnsmasq) answering their SPF, PTR and A records, and
# prints for each profile whether it was accepted, after how many
# attempts and after how long (in unscaled minutes), under three
# configurations:
#   default   the snippet as shipped (no SPF check, no host name passed)
#   macros    GREYLIST_USE_SPF = yes and GREYLIST_USE_HOST_NAME = yes
#   nopools   the same macros, and match_pools = no in greylist.conf
# Time is scaled down by LATENCY_SCALE (default 60): every time of a
# schedule, the delay (5m), retry_window and pass_lifetime are divided by
# it. Called by "make latency" and by tests/integration/latency.sh.
#
# Everything runs in private namespaces (unshare: mount, network, PID):
# the network has only its own loopback, where dnsmasq answers on
# 127.0.0.1:53 and /etc/resolv.conf is bind-mounted (in that mount
# namespace only) to name it, so Exim's resolver, its SPF library and its
# host name verification ask dnsmasq; clients connect from the addresses
# of each profile (198.18.0.0/15, made local on that loopback). Nothing
# is written outside the work directory; every process started is
# stopped by its PID, and the PID namespace ends whatever would outlive
# its first process.
#
# Environment: LATENCY_SCALE (60; 300 must be a multiple of it),
# LATENCY_MINUTES (240: the horizon, unscaled), LATENCY_PROFILES (names,
# default all), LATENCY_CONFIGS (default "default macros nopools"),
# LATENCY_DIR (work directory; default a new one under $TMPDIR, removed
# at the end unless KEEP=1), GL_SO, SNIPPETS (the snippet directory),
# EXIM, GL_PRELOAD (a sanitizer runtime to preload into Exim), GL_SMTP
# (the client, tests/tools/gl-smtp.c; default build/tests/gl-smtp).
# Output: the table on stdout; in the work directory "results" (one line
# per profile and configuration, see results) and "attempts" (see
# run_one).
# Exit: 0 when the replay ran (whatever it found), 1 when it could not,
# 3 when this machine cannot make the namespaces (not root, no unshare).
set -u
set -f                         # no globbing: schedule times carry '*'
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${GL_TOP:-$(cd "$HERE/../.." && pwd)}
EXIM=${EXIM:-/usr/sbin/exim4}
GL_SO=${GL_SO:-$TOP/module/greylist.so}
SNIPPETS=${SNIPPETS:-$TOP/exim-conf-snippets}
GL_PRELOAD=${GL_PRELOAD:-}
GL_SMTP=${GL_SMTP:-$TOP/build/tests/gl-smtp}
F=${LATENCY_SCALE:-60}
MINUTES=${LATENCY_MINUTES:-240}
CONFIGS=${LATENCY_CONFIGS:-default macros nopools}
PROFILES=${LATENCY_PROFILES:-}
RCPT=bob@test.example
EXIM_USER=Debian-exim
DELAY=300                      # the default delay, unscaled

now() { date +%s.%N; }
die() { echo "replay: $*" >&2; exit 1; }

# ---------------------------------------------------------------- inside
# The namespaces' first process: loopback, resolv.conf, dnsmasq, the
# daemons, the replay; stops what it started and exits.
inner() {
	W=$1
	PIDS=""
	stop_all() {
		for p in $PIDS; do kill "$p" 2>/dev/null; done
		for p in $PIDS; do
			i=0
			while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
			kill -9 "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		done
		PIDS=""
	}
	trap 'stop_all; exit 1' INT TERM
	# The senders' addresses: all of 198.18.0.0/15, local on the loopback.
	ip link set lo up && ip route add local 198.18.0.0/15 dev lo ||
		die "cannot set up the namespace's loopback"
	printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"$W/resolv.conf"
	mount --bind "$W/resolv.conf" /etc/resolv.conf ||
		die "cannot bind-mount a private /etc/resolv.conf"
	# dnsmasq: only what dns.conf holds; everything else under .example
	# and the reverse zones of 198.18.0.0/15 is NXDOMAIN, nothing is
	# forwarded.
	{
		echo "no-hosts"
		echo "no-resolv"
		echo "no-poll"
		echo "listen-address=127.0.0.1"
		echo "bind-interfaces"
		echo "port=53"
		echo "user=root"
		echo "pid-file="
		echo "local=/example/"
		echo "local=/18.198.in-addr.arpa/"
		echo "local=/19.198.in-addr.arpa/"
		echo "log-queries"
		echo "log-facility=$W/dns.log"
		cat "$HERE/dns.conf"
	} >"$W/dnsmasq.conf"
	dnsmasq --keep-in-foreground --conf-file="$W/dnsmasq.conf" >"$W/dnsmasq.out" 2>&1 &
	DNS_PID=$!
	PIDS="$PIDS $DNS_PID"
	listening 127.0.0.1:53 u "$DNS_PID" || { cat "$W/dnsmasq.out" >&2; stop_all; die "dnsmasq did not start"; }
	echo "dnsmasq pid $DNS_PID" >>"$W/setup"

	port=2500
	for c in $CONFIGS; do
		port=$((port + 1))
		start_daemon "$W" "$c" "$port" || { stop_all; die "Exim ($c) did not start"; }
	done

	# Every profile under every configuration at once: they share no
	# address, sender or key, so they cannot meet in a database. Their
	# first attempts are started 0.1 s apart: all at once they are a
	# burst no MX sees from eight senders, and GDBM's writers, one at a
	# time, then wait past lock_timeout (answered per on_error).
	: >"$W/attempts"
	jobs=""
	for name in $PROFILES; do
		for c in $CONFIGS; do
			(trap - INT TERM; run_one "$W" "$name" "$c") &
			jobs="$jobs $!"
			sleep 0.1
		done
	done
	for j in $jobs; do wait "$j"; done
	stop_all
	left=""
	for p in $DNS_PID $DAEMONS; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
	echo "stopped:${left:- all}" >>"$W/setup"
	exit 0
}

# listening ADDR:PORT t|u PID: waits (5 s at most) until something
# listens there; fails at once when PID has ended.
listening() {
	i=0
	while [ $i -lt 50 ]; do
		ss -Hln"$2" 2>/dev/null | awk '{print $4}' | grep -qx "$1" && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start_daemon W CONFIG PORT: a receiving Exim daemon as Debian's (host
# lookups for every client) with greylisting as greylist-setup-exim4 sets
# it up (the snippet in the RCPT ACL, the module preloaded by the daemon),
# in W/CONFIG.
DAEMONS=""
start_daemon() {
	R=$1/$2
	mkdir -p "$R/spool" "$R/log" "$R/db"
	chown -R "$EXIM_USER:$EXIM_USER" "$R/spool" "$R/log" "$R/db"
	{
		echo "database = $R/db/greylist.gdbm"
		echo "delay = $((DELAY / F))s"
		echo "retry_window = $((172800 / F))s"
		echo "pass_lifetime = $((3110400 / F))s"
		echo "log = all"
		[ "$2" = nopools ] && echo "match_pools = no"
	} >"$R/greylist.conf"
	macros=""
	[ "$2" != default ] && macros="GREYLIST_USE_SPF = yes
GREYLIST_USE_HOST_NAME = yes"
	cat >"$R/exim.conf" <<EOC
GREYLIST_SO = $1/bin/greylist.so
GREYLIST_CONF = $R/greylist.conf
$macros
primary_hostname = mx.test.example
keep_environment =
spool_directory = $R/spool
log_file_path = $R/log/%slog
log_selector = +smtp_connection
daemon_smtp_ports = $3
local_interfaces = 127.0.0.1
host_lookup = *
rfc1413_hosts =
tls_advertise_hosts =
smtp_accept_max = 100
smtp_connect_backlog = 128
smtp_accept_max_per_host = \${if exists{GREYLIST_SO}{\${dlfunc{GREYLIST_SO}{greylist_preload}{GREYLIST_CONF}}}}
domainlist local_domains = test.example
hostlist relay_from_hosts = 192.0.2.250
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
.include $1/bin/rcpt-acl.conf
  accept domains = +local_domains
  deny   message = relay not permitted

begin routers
local:
  driver = redirect
  domains = +local_domains
  data = :blackhole:
EOC
	if [ -n "$GL_PRELOAD" ]; then
		env LD_PRELOAD="$GL_PRELOAD" ASAN_OPTIONS=detect_leaks=0 \
			"$EXIM" -C "$R/exim.conf" -bdf -oX "$3" >"$R/daemon.out" 2>&1 &
	else
		"$EXIM" -C "$R/exim.conf" -bdf -oX "$3" >"$R/daemon.out" 2>&1 &
	fi
	pid=$!
	PIDS="$PIDS $pid"
	DAEMONS="$DAEMONS $pid"
	echo "$2 port $3" >"$R/port"
	echo "exim $2 pid $pid port $3" >>"$1/setup"
	listening "127.0.0.1:$3" t "$pid" || { cat "$R/daemon.out" >&2; return 1; }
}

# field NAME N: field N of profile NAME.
field() { awk -v n="$1" -v f="$2" '$1 == n { print $f; exit }' "$HERE/profiles"; }

# hm SECONDS: as 4h, 15m or 1h30m.
hm() { awk -v s="$1" 'BEGIN { h = int(s / 3600); m = int((s % 3600) / 60)
	printf "%s%s", h ? h "h" : "", m || !h ? m "m" : "" }'; }

# seconds [[H:]M:]SS[*]: whole seconds.
seconds() { echo "$1" | tr -d '*' | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }

# helo_of ADDRESS: the name dns.conf gives the address (as its PTR), which
# the sender also uses in EHLO; else the address literal.
helo_of() {
	n=$(sed -n "s/^host-record=\([^,]*\),$1\$/\1/p" "$HERE/dns.conf" | head -1)
	echo "${n:-[$1]}"
}

# run_one W NAME CONFIG: the profile's attempts against CONFIG's daemon,
# until one is accepted, the schedule ends or the horizon is passed. Each
# attempt's RCPT goes out at its scheduled time after the reply to the
# first one (as a sender schedules its retry after a deferral), by
# gl-smtp, started LEAD seconds ahead so that its own start, the
# connection and the SMTP dialogue up to MAIL do not make it late.
# Appends one line per attempt to W/attempts:
#   NAME CONFIG N SCHEDULED_S ADDRESS MEASURED_S LATE_MS REPLY...
# SCHEDULED_S: unscaled, as the schedule says; MEASURED_S: from the reply
# to the first RCPT to the reply to this one, real seconds times the
# scale; LATE_MS: how much later than scheduled the RCPT went out (real
# milliseconds); REPLY: the reply to RCPT, or "none".
LEAD=2
run_one() {
	port=$(awk '{print $3}' "$1/$3/port")
	sender=$(field "$2" 3)
	addrs=$(field "$2" 4 | tr , ' ')
	set -- "$1" "$2" "$3" $addrs
	W=$1 name=$2 c=$3
	shift 3
	naddr=$#
	n=0
	r1=""
	for t in $(field "$name" 5 | tr , ' '); do
		[ "$t" = end ] && break
		ts=$(seconds "$t")
		[ "$ts" -le $((MINUTES * 60)) ] || break
		# The address of attempt n: the (n mod naddr)-th, counting from 1.
		i=$((n % naddr + 1))
		eval "addr=\${$i}"
		at=0
		if [ -n "$r1" ]; then
			at=$(awk -v r="$r1" -v t="$ts" -v f="$F" 'BEGIN { printf "%.6f", r + t / f }')
			d=$(awk -v a="$at" -v l="$LEAD" -v now="$(now)" \
				'BEGIN { d = a - l - now; printf "%.3f", (d > 0 ? d : 0) }')
			sleep "$d"
		fi
		out=$(timeout 60 "$GL_SMTP" "$port" "$addr" "$(helo_of "$addr")" "$sender" \
			"$RCPT" "$at" 2>>"$W/client.err")
		n=$((n + 1))
		if [ -z "$out" ]; then
			echo "$name $c $n $ts $addr 0 0 none" >>"$W/attempts"
			continue
		fi
		sent=${out%% *}
		rest=${out#* }
		replied=${rest%% *}
		reply=${rest#* }
		[ -n "$r1" ] || r1=$replied
		echo "$name $c $n $ts $addr $(awk -v a="$replied" -v b="$r1" -v f="$F" -v s="$sent" -v t="$at" \
			'BEGIN { printf "%.0f %.0f", (a - b) * f, (t > 0 && s > t ? (s - t) * 1000 : 0) }') $reply" >>"$W/attempts"
		case $reply in 250*) break ;; esac
	done
}

# ---------------------------------------------------------------- report
# results W: one line per profile and configuration, in W/results:
#   NAME CONFIG KIND OUTCOME ATTEMPTS WAIT_S MEASURED_S EXPECTED ENDED KEYS DECISIONS WITHIN_S ERRORS LATE
# OUTCOME accepted or deferred; ATTEMPTS made; WAIT_S the scheduled
# (unscaled) time of the accepted or last attempt, MEASURED_S the same as
# measured; EXPECTED the attempt that is the first retry at or after the
# delay ("-" for spam or when the schedule has none); ENDED why the
# attempts ended (accepted; gave-up: the sender gave up; never: it never
# retried; horizon: the replay ended, the sender would go on; incomplete:
# fewer attempts than scheduled were made); KEYS the client keys the
# module logged for the profile's sender; DECISIONS its yields in order
# (new, early, pass, ...); WITHIN_S how far (unscaled) the replay went;
# ERRORS how many of those yields were "error" (the module could not
# decide and answered per on_error); LATE how many RCPTs went out over
# half a second (real) after their time: the replay did not keep to the
# schedule there.
results() {
	W=$1
	: >"$W/results"
	for name in $PROFILES; do
		kind=$(field "$name" 2)
		sender=$(field "$name" 3)
		times=$(field "$name" 5 | tr , ' ')
		# "end" after the last time: the sender gives up there. Without
		# it the schedule goes on beyond the replay.
		gives_up=no
		case " $times " in *" end "*) gives_up=yes ;; esac
		expected=-
		nt=0 k=0 last=0
		for t in $times; do
			[ "$t" = end ] && break
			ts=$(seconds "$t")
			k=$((k + 1))
			[ "$expected" = - ] && [ "$kind" = legit ] && [ "$ts" -ge "$DELAY" ] && expected=$k
			[ "$ts" -le $((MINUTES * 60)) ] && { nt=$k; last=$ts; }
		done
		# How far the replay went: the horizon, or the last time listed.
		within=$last
		[ "$nt" -lt "$k" ] && within=$((MINUTES * 60))
		for c in $CONFIGS; do
			awk -v n="$name" -v c="$c" '$1 == n && $2 == c' "$W/attempts" |
				sort -n -k3 >"$W/a.tmp"
			na=$(wc -l <"$W/a.tmp")
			lastl=$(tail -1 "$W/a.tmp")
			set -- $lastl
			wait_s=${4:-0} meas=${6:-0}
			case ${8:-none} in 250) out=accepted ended=accepted ;; *) out=deferred ;; esac
			# Attempts whose RCPT went out over half a second late.
			late=$(awk '$7 > 500' "$W/a.tmp" | wc -l)
			if [ "$out" = deferred ]; then
				if [ "$na" -lt "$nt" ]; then ended=incomplete
				elif [ $gives_up = yes ] && [ "$nt" -eq "$k" ]; then
					ended=gave-up
					[ "$k" -eq 1 ] && ended=never
				else ended=horizon; fi
			fi
			keys=$(grep -h "greylist: .* sender=<$sender>" "$W/$c/log/mainlog" 2>/dev/null |
				sed -n 's/.* client=\([^ ]*\) .*/\1/p' | awk '!seen[$0]++' | paste -sd, -)
			dec=$(grep -h "greylist: .* sender=<$sender>" "$W/$c/log/mainlog" 2>/dev/null |
				sed -n 's/.*greylist: \(accept\|defer [0-9]*\) \([a-z]*\) .*/\2/p' | paste -sd, -)
			errs=$(echo "$dec" | tr , '\n' | grep -cx error)
			echo "$name $c $kind $out $na $wait_s $meas $expected $ended ${keys:--} ${dec:--} $within $errs $late" >>"$W/results"
		done
	done
	rm -f "$W/a.tmp"
}

# print_table W: the table and the target line, from W/results.
print_table() {
	awk -v scale="$F" -v configs="$CONFIGS" '
	function dur(s) {
		s = int(s + 0.5)
		if (s >= 3600) return sprintf("%dh%02dm", int(s / 3600), int((s % 3600) / 60))
		return sprintf("%dm%02ds", int(s / 60), s % 60)
	}
	function cell(i) {
		return cell1(i) (errs[i] ? sprintf(" (%d error%s)", errs[i], errs[i] > 1 ? "s" : "") : "") \
			(late[i] ? sprintf(" (%d late)", late[i]) : "")
	}
	function cell1(i) {
		if (out[i] == "accepted")
			return sprintf("yes, try %d, %s", na[i], dur(wait[i]))
		if (ended[i] == "never") return "no (never retried)"
		if (ended[i] == "gave-up") return sprintf("no, gave up: %d tries, %s", na[i], dur(wait[i]))
		if (ended[i] == "horizon") return sprintf("no within %s, %d tries", dur(within[i]), na[i])
		return sprintf("no, %d tries (replay incomplete)", na[i])
	}
	{
		i = $1 SUBSEP $2
		if (!($1 in seen)) { seen[$1] = 1; order[++np] = $1 }
		kind[$1] = $3; out[i] = $4; na[i] = $5; wait[i] = $6; meas[i] = $7
		exp_[$1] = $8; ended[i] = $9; keys[i] = $10; dec[i] = $11; within[i] = $12; errs[i] = $13; late[i] = $14
	}
	END {
		nc = split(configs, C, " ")
		title["default"] = "default"
		title["macros"] = "SPF and host-name macros on"
		title["nopools"] = "macros on, match_pools = no"
		printf "%-9s", "profile"
		for (j = 1; j <= nc; j++) printf " | %-36s", (C[j] in title ? title[C[j]] : C[j])
		printf "\n"
		for (p = 1; p <= np; p++) {
			printf "%-9s", order[p]
			for (j = 1; j <= nc; j++) printf " | %-36s", cell(order[p] SUBSEP C[j])
			printf "\n"
		}
		printf "\nkeys the module used (and its yields, in order):\n"
		for (p = 1; p <= np; p++)
			for (j = 1; j <= nc; j++) {
				i = order[p] SUBSEP C[j]
				printf "  %-9s %-8s %s  (%s)\n", order[p], C[j], keys[i], dec[i]
			}
		printf "\nmeasured (real seconds x %d) from the reply to the first RCPT to the reply to the accepted or last one:\n", scale
		for (p = 1; p <= np; p++) {
			printf "  %-9s", order[p]
			for (j = 1; j <= nc; j++) {
				i = order[p] SUBSEP C[j]
				printf "  %s %s (scheduled %s)", C[j], dur(meas[i]), dur(wait[i])
			}
			printf "\n"
		}
		# The target, with the macros on.
		t = "macros"; met = 1; why = ""
		for (p = 1; p <= np; p++) {
			i = order[p] SUBSEP t
			if (!(i in out)) { met = 0; why = why " " order[p] ": not replayed with the macros;"; continue }
			if (kind[order[p]] == "spam") {
				if (out[i] == "accepted") { met = 0; why = why " " order[p] ": accepted;" }
			} else if (out[i] != "accepted" || na[i] != exp_[order[p]]) {
				met = 0
				why = why sprintf(" %s: %s, want try %s;", order[p],
					out[i] == "accepted" ? "accepted at try " na[i] : "not accepted", exp_[order[p]])
			}
		}
		printf "\ntarget macros on: every legitimate profile accepted at its first retry after the delay, the spammer never: %s%s\n",
			met ? "met" : "NOT met", met ? "" : " (" substr(why, 2) ")"
	}' "$1/results"
}

# ---------------------------------------------------------------- outside
if [ "${1:-}" = --inner ]; then
	shift
	PROFILES=$2
	inner "$1"
fi

[ -n "$PROFILES" ] || PROFILES=$(awk '!/^#/ && NF { print $1 }' "$HERE/profiles")
for name in $PROFILES; do
	[ -n "$(field "$name" 1)" ] || die "no profile named '$name' in $HERE/profiles"
done
[ $((DELAY % F)) -eq 0 ] && [ "$F" -ge 1 ] && [ "$F" -le 300 ] ||
	die "LATENCY_SCALE=$F: want a divisor of 300 (the delay in seconds), such as 60, 100 or 150"
[ "$(id -u)" = 0 ] || { echo "replay: needs root (network and mount namespaces)" >&2; exit 3; }
unshare -m -n -p --fork --mount-proc true 2>/dev/null ||
	{ echo "replay: cannot create namespaces here (unshare -m -n -p failed)" >&2; exit 3; }
command -v dnsmasq >/dev/null || die "dnsmasq is missing (apt-get install dnsmasq-base)"
[ -x "$GL_SMTP" ] || die "no SMTP client at $GL_SMTP (make build/tests/gl-smtp)"
GL_SMTP=$(cd "$(dirname "$GL_SMTP")" && pwd)/$(basename "$GL_SMTP")
export GL_SMTP
[ -f "$GL_SO" ] || die "no module at $GL_SO (run make)"

if [ -n "${LATENCY_DIR:-}" ]; then
	W=$LATENCY_DIR
	mkdir -p "$W"
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/gl-latency-XXXXXX")
fi
chmod 0755 "$W"
mkdir -p "$W/bin"
cp "$GL_SO" "$W/bin/greylist.so"
cp "$SNIPPETS/rcpt-acl.conf" "$W/bin/rcpt-acl.conf"
chmod -R a+rX "$W/bin"
: >"$W/setup"

# The namespaces' first process is this script again (--inner); when it
# ends, the kernel ends every process left in its PID namespace, and
# --kill-child ends it when unshare is killed.
unshare -m -n -p --fork --kill-child --mount-proc sh "$0" --inner "$W" "$PROFILES" &
upid=$!
trap 'kill $upid 2>/dev/null; wait $upid 2>/dev/null; exit 1' INT TERM
wait $upid
rc=$?
trap - INT TERM
[ $rc -eq 0 ] || { echo "replay: the replay failed (exit $rc); see $W" >&2; exit 1; }

results "$W"
echo "# replay of tests/latency/profiles: time scaled 1/$F (delay 5m = $((DELAY / F)) s), horizon $(hm $((MINUTES * 60))), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -n)"
echo "# accepted: yes/no, at which attempt (try 1 is the first), after how long (unscaled, after the first try)"
print_table "$W"
# What the module logged besides its decisions (errors, answered per
# on_error), so that an "accept error" is never read as a pass.
for c in $CONFIGS; do
	grep -h 'greylist: ' "$W/$c/log/mainlog" 2>/dev/null |
		grep -v 'greylist: \(accept\|defer [0-9]*\) [a-z]* client='
done >"$W/problems"
if [ -s "$W/problems" ]; then
	echo
	echo "the module logged problems ($(wc -l <"$W/problems") lines; the first 5):"
	head -5 "$W/problems" | sed 's/^/  /'
fi
if [ -z "${LATENCY_DIR:-}" ] && [ -z "${KEEP:-}" ]; then rm -rf "$W"; fi
exit 0
