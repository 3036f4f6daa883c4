# lib.sh - helpers for the integration tests (sourced, POSIX sh).
# Each test makes its own directory under $TMPDIR, prints "ok - ..." or
# "not ok - ..." lines, and removes what it made when it exits.
set -u
TOP=${GL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
GL_SO=${GL_SO:-$TOP/module/greylist.so}
GL_ADMIN=${GL_ADMIN:-$TOP/tools/greylist-admin}
GL_PRELOAD=${GL_PRELOAD:-}
EXIM=${EXIM:-/usr/sbin/exim4}
. "$TOP/tests/port.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/gl-it-XXXXXX")
chmod 0755 "$T"
PIDS=""
# stop_pids PID...: TERM to each, then KILL to any still there after 5 s.
stop_pids() {
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
		kill -9 "$p" 2>/dev/null
	done
}
cleanup() {
	# shellcheck disable=SC2086 # a word list on purpose
	stop_pids $PIDS
	# What those started and may outlive them: an Exim daemon's
	# connection and delivery processes (their command line names
	# $T/.../exim.conf). Left running, one that logs after the rm below
	# makes $T again (Exim creates its log and spool directories).
	# Found by $T in their command line, stopped by PID.
	# shellcheck disable=SC2046 # a word list on purpose
	stop_pids $(pgrep -f "$T/" 2>/dev/null)
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

# The clone may lie where Exim's user cannot enter (a clone in /root, or
# under any mode-0700 directory): what that user loads, reads or runs
# is copied into $T (0755) and used from there.
mkdir -p "$T/bin"
if [ -f "$GL_SO" ]; then cp "$GL_SO" "$T/bin/greylist.so"; GL_SO=$T/bin/greylist.so; fi
if [ -f "$GL_ADMIN" ]; then cp "$GL_ADMIN" "$T/bin/greylist-admin"; GL_ADMIN=$T/bin/greylist-admin; fi
SNIPPETS=$T/bin/snippets
cp -R "$TOP/exim-conf-snippets" "$SNIPPETS"
chmod -R a+rX "$T/bin"

# Every script states how many checks it makes (plan N) before the
# first; tests/run.sh fails a script whose count differs (one that ended
# short). skip DESC WHY counts as skipped, never as passed; skip_all WHY
# skips a whole script.
plan() { echo "1..$1"; }
skip() { echo "ok - $1 # SKIP $2"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
H=${GL_HELPERS:-$TOP/build/tests}  # the C helpers of the tests
DB=$T/db/greylist.gdbm              # the database write_gl_conf names
# A ARGS: greylist-admin on the configuration write_gl_conf writes.
A() { "$GL_ADMIN" -c "$T/greylist.conf" "$@"; }

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	d=$1; shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}

# Runs exim (with the sanitizer runtime preloaded for a sanitized module).
exim_run() {
	if [ -n "$GL_PRELOAD" ]; then
		env LD_PRELOAD="$GL_PRELOAD" \
		    ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 "$EXIM" "$@"
	else
		"$EXIM" "$@"
	fi
}

# write_gl_conf EXTRA-LINES: the module's configuration in $T/greylist.conf.
write_gl_conf() {
	mkdir -p "$T/db"
	{
		echo "database = $T/db/greylist.gdbm"
		echo "delay = 2s"
		echo "log = all"
		printf '%s\n' "$@"
	} >"$T/greylist.conf"
}

# exim_conf_tail ACL-FILE MAILBOX [USER]: the ACL, router and transport
# sections every receiving Exim of the tests shares: ACL-FILE included in
# the RCPT ACL, local mail appended to MAILBOX (as USER when given).
exim_conf_tail() {
	cat <<EOC
begin acl
acl_check_rcpt:
.include $1
  accept domains = +local_domains
  deny   message = relay not permitted

begin routers
local:
  driver = accept
  domains = +local_domains
  transport = mbox

begin transports
mbox:
  driver = appendfile
  file = $2
${3:+  user = $3}
EOC
}

# write_exim_conf: a receiving Exim for -bh/-be with the snippet included.
write_exim_conf() {
	mkdir -p "$T/spool" "$T/log" "$T/mail"
	if [ -n "${AS_EXIM_USER:-}" ]; then
		# Exim drops to Debian-exim as in production: the module and
		# everything it reads must be readable by that user.
		user=""
		chown -R Debian-exim "$T/spool" "$T/log"
	else
		user="exim_user = root
exim_group = root"
	fi
	cat >"$T/exim.conf" <<EOC
GREYLIST_SO = $GL_SO
GREYLIST_CONF = $T/greylist.conf
$user
primary_hostname = mx.test.example
spool_directory = $T/spool
log_file_path = $T/log/%slog
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
domainlist local_domains = test.example
hostlist relay_from_hosts = 10.9.9.0/24
acl_smtp_rcpt = acl_check_rcpt

$(exim_conf_tail "$SNIPPETS/rcpt-acl.conf" "$T/mail/inbox" "")

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if eq{\$auth3}{secret}}
  server_set_id = \$auth2
EOC
}

# smtp_bh IP FROM RCPT [AUTH]: one SMTP dialogue through exim -bh;
# prints the server's reply to RCPT (its first line). MAIL_OPTS are added
# to MAIL FROM.
smtp_bh() {
	{
		printf 'EHLO client.example\r\n'
		[ -n "${4:-}" ] && printf 'AUTH PLAIN %s\r\n' "$4"
		printf 'MAIL FROM:<%s>%s\r\nRCPT TO:<%s>\r\nQUIT\r\n' "$2" \
			"${MAIL_OPTS:-}" "$3"
	} | { exim_run -C "$T/exim.conf" -bh "$1" 2>>"$T/bh.err"; echo $? >"$T/bh.rc"; } |
		tr -d '\r' >"$T/bh.out"
	# Replies: banner, EHLO (multi-line), [AUTH], MAIL, RCPT, QUIT.
	grep -E '^[0-9]{3} ' "$T/bh.out" | sed -n "$(( ${4:+1} + 4 ))p"
}

# rcpt IP FROM: the reply to one RCPT TO:<$RCPT_TO> (default
# user@test.example) through exim -bh; Exim's log lines in $T/bh.err
# (emptied first), its exit status in $T/bh.rc.
rcpt() { : >"$T/bh.err"; smtp_bh "$1" "$2" "${RCPT_TO:-user@test.example}"; }

# expect_rcpt WANT DESC IP FROM: one check, ok when the reply to RCPT
# starts with WANT (several prefixes separated by '|') and Exim ended
# normally (not by a signal). The reply is left in $r.
expect_rcpt() {
	r=$(rcpt "$3" "$4")
	erc=$(cat "$T/bh.rc" 2>/dev/null)
	match=""
	old_ifs=$IFS; IFS='|'
	for w in $1; do case $r in "$w"*) match=1 ;; esac; done
	IFS=$old_ifs
	if [ -n "$match" ] && [ "${erc:-0}" -lt 128 ]; then
		ok "$2 ($r)"
	else
		nok "$2: got '$r' (Exim exit ${erc:-?}), want $1"
	fi
}

# start_srv DIR PORT ARGS...: runs ARGS (a redis-server or a
# redis-sentinel on 127.0.0.1:PORT, its output in DIR/log) until it
# answers PING (at most 5 s); its PID in SRV_PID, added to PIDS.
start_srv() {
	dir=$1 port=$2
	shift 2
	mkdir -p "$dir"
	"$@" >"$dir/log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
	j=0
	while [ $j -lt 50 ]; do
		redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
		j=$((j + 1))
	done
	return 1
}

# start_redis: a redis-server on 127.0.0.1 in $T/redis; sets REDIS_PORT
# and REDIS_PID. A port taken meanwhile: another one, five times at most.
start_redis() {
	i=0
	while [ $i -lt 5 ]; do
		REDIS_PORT=$(free_port) || return 1
		if start_srv "$T/redis" "$REDIS_PORT" redis-server \
			--port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" \
			--save '' --appendonly no --daemonize no \
			--enable-debug-command yes; then
			REDIS_PID=$SRV_PID
			return 0
		fi
		kill "$SRV_PID" 2>/dev/null
		i=$((i + 1))
	done
	return 1
}

# sanitizer_clean FILE: no report from ASan or UBSan in FILE.
sanitizer_clean() {
	! grep -q -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$1"
}
