#!/bin/sh
# daemon_config.sh - the configuration the Exim daemon parsed in
# greylist_preload (greylist-setup-exim4's smtp_accept_max_per_host line)
# is used by a connection process only while its files are unchanged: a
# whitelist edited, replaced, or rewritten with its old times put back
# takes effect at the very next connection, and once the files settled
# the connection processes read none of them (strace -f on the daemon).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 11

# rcpt WHO: one SMTP session up to RCPT TO:<WHO@test.example>.
rcpt() {
	swaks --server 127.0.0.1 --port "$RPORT" --from s@sender.example \
		--to "$1@test.example" --quit-after RCPT --timeout 20 \
		>"$T/swaks.$1" 2>&1
}
# whitelisted WHO: the module's last line for WHO says "accept whitelist".
whitelisted() {
	grep "rcpt=<$1@test.example>" "$R/log/mainlog" | tail -1 |
		grep -q 'greylist: accept whitelist'
}
deferred() {
	grep "rcpt=<$1@test.example>" "$R/log/mainlog" | tail -1 |
		grep -q 'greylist: defer'
}

WL=$T/r/greylist-whitelist
mkdir -p "$T/r"
echo "rcpt:a@test.example" >"$WL"
chmod 0644 "$WL"
GL_EXTRA="whitelist = $WL" GL_DELAY=1h start_receiver; rc=$?
check "receiving Exim daemon started (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || exit 1
sleep 3 # the files settle (GL_SETTLE_SECS)
rcpt a; rcpt a
check "a whitelisted recipient is accepted" whitelisted a

# The daemon has parsed the files; now a connection reads none of them.
sp=""
if command -v strace >/dev/null; then
	strace -f -qq -e trace=open,openat -o "$T/strace" -p "$RPID" 2>"$T/strace.err" &
	sp=$!
	sleep 1 # attached, or failed (no ptrace here)
	kill -0 "$sp" 2>/dev/null || sp=""
fi
if [ -n "$sp" ]; then
	rcpt a
	sleep 1.2 # the daemon's next look at the files is in a new second
	rcpt x
	kill "$sp"; wait "$sp" 2>/dev/null
	both() { whitelisted a && deferred x; }
	check "both decided (traced)" both
	n=$(grep -c 'greylist\.conf\|greylist-whitelist' "$T/strace")
	check "... and no process opened the configuration or the whitelist ($n)" \
		test "$n" -eq 0
else
	skip "both decided (traced)" "strace cannot attach here"
	skip "no process opened the configuration" "strace cannot attach here"
fi

# An edit takes effect at the next connection, settled or not.
echo "rcpt:b@test.example" >>"$WL"
rcpt b
check "a recipient added to the whitelist is accepted at once" whitelisted b
sleep 3
rcpt b; rcpt b
check "... and still once the edit settled" whitelisted b

# Replaced by rename, with the old file's size and times: b is gone (d
# is in its place).
printf 'rcpt:a@test.example\nrcpt:d@test.example\n' >"$WL.new"
touch -r "$WL" "$WL.new"
[ "$(stat -c %s "$WL")" = "$(stat -c %s "$WL.new")" ] || echo "# sizes differ" >&2
mv "$WL.new" "$WL"
rcpt b
check "a whitelist replaced by rename (same size and times) is read again" deferred b

# Rewritten in place with the same size and its times put back: only its
# change time tells (c replaces a, same length).
sleep 3
rcpt a; rcpt a
touch -r "$WL" "$T/times"
echo "rcpt:c@test.example" >"$WL"
touch -r "$T/times" "$WL"
rcpt c
check "a whitelist rewritten in place with its old times is read again" whitelisted c
check "the panic log has nothing from the module" sh -c "! grep -q greylist '$R/log/paniclog' 2>/dev/null"

# One process that preloads and then decides (exim -be): the skipped
# whitelist line it inherits from its own preload is logged, once.
echo "rcpt:not an entry" >>"$WL"
sleep 3
exim_run -C "$R/exim.conf" -be "\${dlfunc{$R/greylist.so}{greylist_preload}{$R/greylist.conf}}\${dlfunc{$R/greylist.so}{greylist}{$R/greylist.conf}{192.0.2.1}{s@sender.example}{c@test.example}}" >"$T/be.out" 2>&1
# (-be writes Exim's log lines to its standard error)
n=$(cat "$T/be.out" "$R/log/mainlog" | grep -c 'greylist: .*greylist-whitelist:2: unexpected')
check "exim -be: preload then a decision logs the skipped line once ($n)" \
	test "$n" = 1
check "... and decides with the whitelist (c is on it)" \
	grep -q 'accept whitelist' "$T/be.out"
