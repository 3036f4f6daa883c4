# mail.sh - a receiving Exim daemon with the module and a sending Exim
# that queues and retries, on 127.0.0.1 (sourced after lib.sh).
# Used by tests/integration/exim_daemon.sh and by "make demo".

EXIM_USER=Debian-exim

# start_receiver: the receiving daemon in $T/r, running as Debian-exim as
# in production; sets RPORT and RPID.
start_receiver() {
	R=$T/${RNAME:-r}
	mkdir -p "$R/spool" "$R/log" "$R/mail" "$R/db"
	cp "$GL_SO" "$R/greylist.so"
	cp "$SNIPPETS/rcpt-acl.conf" "$R/rcpt-acl.conf"
	chmod 0755 "$R"
	chmod 0644 "$R/greylist.so" "$R/rcpt-acl.conf"
	chown -R "$EXIM_USER:$EXIM_USER" "$R/spool" "$R/log" "$R/mail" "$R/db"
	{
		echo "database = $R/db/greylist.gdbm"
		echo "delay = ${GL_DELAY:-2s}"
		echo "log = ${GL_LOG:-all}"
		[ -n "${GL_EXTRA:-}" ] && printf '%s\n' "$GL_EXTRA"
	} >"$R/greylist.conf"
	chmod 0644 "$R/greylist.conf"
	RPORT=$(free_port) || return 1
	# As greylist-setup-exim4 writes it: the daemon loads the module once
	# (GL_DAEMON_LOAD=no: each connection loads it, as for the benchmark's
	# other greylisters).
	daemon_load=""
	[ "${GL_DAEMON_LOAD:-yes}" = yes ] &&
		daemon_load='smtp_accept_max_per_host = ${if exists{GREYLIST_SO}{${dlfunc{GREYLIST_SO}{greylist_preload}{GREYLIST_CONF}}}}'
	cat >"$R/exim.conf" <<EOC
${EXIM_MACROS:-}
GREYLIST_SO = $R/greylist.so
GREYLIST_CONF = $R/greylist.conf
primary_hostname = mx.test.example
spool_directory = $R/spool
log_file_path = $R/log/%slog
daemon_smtp_ports = $RPORT
local_interfaces = 127.0.0.1
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
smtp_accept_max = 100
smtp_connect_backlog = 128
smtp_accept_max_per_connection = 0
smtp_accept_max_nonmail_hosts =
domainlist local_domains = test.example
hostlist relay_from_hosts = 192.0.2.250
acl_smtp_rcpt = acl_check_rcpt
$daemon_load

$(exim_conf_tail "${RCPT_ACL:-$R/rcpt-acl.conf}" "$R/mail/inbox" "$EXIM_USER")
EOC
	# Not through the exim_run function: "func &" would fork a subshell
	# and $! would be its PID, not the daemon's.
	if [ -n "$GL_PRELOAD" ]; then
		env LD_PRELOAD="$GL_PRELOAD" ASAN_OPTIONS=detect_leaks=0 \
			"$EXIM" -C "$R/exim.conf" -bdf -oX "$RPORT" >"$R/daemon.out" 2>&1 &
	else
		"$EXIM" -C "$R/exim.conf" -bdf -oX "$RPORT" >"$R/daemon.out" 2>&1 &
	fi
	RPID=$!
	PIDS="$PIDS $RPID"
	i=0
	while [ $i -lt 100 ]; do
		ss -Hltn 2>/dev/null | awk '{print $4}' | grep -q "^127.0.0.1:$RPORT\$" && return 0
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	echo "# receiving Exim did not listen on 127.0.0.1:$RPORT" >&2
	cat "$R/daemon.out" >&2
	return 1
}

# make_sender: a sending Exim in $T/s routing everything to the receiver.
make_sender() {
	S=$T/s
	mkdir -p "$S/spool" "$S/log"
	chown -R "$EXIM_USER:$EXIM_USER" "$S/spool" "$S/log"
	cat >"$S/exim.conf" <<EOC
primary_hostname = sender.example
spool_directory = $S/spool
log_file_path = $S/log/%slog
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
daemon_smtp_ports = 0
begin routers
to_mx:
  driver = manualroute
  route_list = * 127.0.0.1::$RPORT
  self = send
  transport = remote
begin transports
remote:
  driver = smtp
  allow_localhost
  hosts_avoid_tls = *
begin retry
* * F,5m,1s
EOC
}

# send_queued FROM TO MSGFILE: queues a message on the sending Exim.
send_queued() {
	exim_run -C "$S/exim.conf" -odq -f "$1" "$2" <"$3"
}

# queue_run: one forced queue run of the sending Exim (waits for it).
queue_run() {
	timeout 60 "$EXIM" -C "$S/exim.conf" -qff
}

# queue_count: messages on the sending Exim's queue.
queue_count() {
	"$EXIM" -C "$S/exim.conf" -bpc
}
