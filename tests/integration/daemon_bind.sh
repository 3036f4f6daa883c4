#!/bin/sh
# daemon_bind.sh - what a connection process inherits from an Exim daemon
# that ran greylist_preload (greylist-setup-exim4's smtp_accept_max_per_host
# line): libcidr's functions already resolved, so no connection process
# walks Exim's ~45 libraries to bind them again (about 0.7 ms of CPU per
# connection before). gl-conncost forks processes from one that loaded
# Exim's libraries, as the Exim daemon has; ld.so's LD_DEBUG=bindings
# names every symbol it resolves, and in which process.
. "$(dirname "$0")/../lib.sh"
# What ld.so binds is the plain build's business: the sanitizer's runtime
# intercepts and binds libc's functions itself.
[ -n "${GL_SANITIZED:-}" ] && skip_all "symbol binding is checked in the plain build"
plan 5

CC=$H/gl-conncost
[ -x "$CC" ] || { echo "# $CC missing: make tests" >&2; exit 1; }
# Exim's own libraries, loaded first as in the daemon (same lookup scope).
LIBS=$(ldd "$EXIM" | awk '$3 ~ /^\// {print "-g " $3}')
mkdir -p "$T/db"
cat >"$T/greylist.conf" <<EOF
database = $T/db/greylist.gdbm
delay = 1s
log = none
EOF

# run NAME [-d]: three connection processes; prints their result line.
run() {
	n=$1; shift
	LD_DEBUG=bindings LD_DEBUG_OUTPUT="$T/ld-$n" \
		"$CC" -n 3 $LIBS "$@" "$GL_SO" "$T/greylist.conf" 2>"$T/err-$n"
}
# binds NAME WHO [PATTERN]: how many libcidr bindings (matching PATTERN)
# the parent (WHO = parent) or the processes it forked (WHO = children)
# made; LD_DEBUG_OUTPUT is suffixed with the parent's PID.
binds() {
	f=$(ls "$T"/ld-"$1".* 2>/dev/null | head -1)
	[ -n "$f" ] || { echo 999; return; }
	awk -v p="${f##*.}:" -v who="$2" -v pat="${3:-}" \
		'($1 == p) == (who == "parent") && /binding file [^ ]*libcidr/ &&
		 (pat == "" || index($0, pat))' "$f" | wc -l
}

out=$(run each)
check "loaded by each connection: three decisions made ($out)" \
	sh -c "echo '$out' | grep -q '^n=3 '"
b=$(binds each children)
# The control: this is what the check below would see without the fix.
check "... and each connection process binds libcidr itself ($b bindings)" \
	test "$b" -ge 3
out=$(run daemon -d)
check "loaded by the daemon: three decisions made ($out)" \
	sh -c "echo '$out' | grep -q '^n=3 '"
b=$(binds daemon children)
check "... and no connection process binds a libcidr symbol ($b)" test "$b" -eq 0
# libcidr calls calloc() only when it makes an address: at load nothing
# binds it, the preload's calls do.
b=$(binds daemon parent "\`calloc'")
check "the daemon bound them itself, in greylist_preload ($b)" test "$b" -ge 1
