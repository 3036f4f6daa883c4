#!/bin/sh
# valgrind.sh - the module through Exim (-bh) under valgrind's memcheck,
# which sees what AddressSanitizer cannot (reads of uninitialised
# memory): a call with too few arguments, a store that cannot be opened,
# and normal decisions, each with log = all so every path is logged;
# verified host names (libpsl loaded) and postgrey's lists (PCRE2).
. "$(dirname "$0")/../lib.sh"
[ -n "${GL_SANITIZED:-}" ] && skip_all "valgrind and AddressSanitizer do not mix; the plain suite runs it"
command -v valgrind >/dev/null || { plan 1; nok "valgrind is installed (make check installs it)"; exit 1; }
plan 11
# valgrind will not run a set-user-id binary: a plain copy (run as root).
cp "$EXIM" "$T/bin/exim-plain"
write_exim_conf
sed -i '/^acl_check_rcpt:/a\
  warn set acl_m_few = ${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{$sender_host_address}}' "$T/exim.conf"
# vg NAME [EXIM-ARGS]: one SMTP session through exim -bh under memcheck.
vg() {
	n=$1; shift
	printf 'EHLO client.example\r\nMAIL FROM:<a@sender.example>\r\nRCPT TO:<user@test.example>\r\nQUIT\r\n' |
		valgrind --error-exitcode=0 --log-file="$T/vg-$n.log" \
		"$T/bin/exim-plain" -C "$T/exim.conf" -bh 192.0.2.1 "$@" >"$T/vg-$n.out" 2>&1
	grep 'ERROR SUMMARY' "$T/vg-$n.log"
}
for path in normal "unopenable store"; do
	case $path in
	normal) write_gl_conf "on_error = defer" ;;
	*) write_gl_conf "on_error = defer" "backend = lmdb" "database = $T/missing/dir/greylist.lmdb" ;;
	esac
	s=$(vg "$(echo "$path" | tr ' ' _)")
	check "$path: too few arguments and a decision: memcheck finds nothing ($s)" \
		sh -c "echo '$s' | grep -q 'ERROR SUMMARY: 0 errors'"
done
check "... the call with too few arguments was made and logged" \
	grep -q 'greylist: called with 2 arguments' "$T/vg-normal.out"
check "... the normal decision was made (451)" grep -q '^451 4.7.1 Greylisted' "$T/vg-normal.out"
check "... the store failed and was answered per on_error" \
	sh -c "grep -q 'greylist: defer 2 error ' '$T/vg-unopenable_store.out' && grep -q '$T/missing/dir' '$T/vg-unopenable_store.out'"
write_gl_conf "on_error = defer"
s=$(vg second)
check "a retry in a second process: memcheck finds nothing ($s)" \
	sh -c "echo '$s' | grep -q 'ERROR SUMMARY: 0 errors'"
check "... and it was a real decision on the stored triplet (early or pass)" \
	grep -q -E 'greylist: (defer [0-9]+ early|accept pass) ' "$T/vg-second.out"

# Host names through the snippet (-oMs: the name Exim verified) and a
# postgrey list with a pattern.
printf '/^mail\\d+\\.relay\\.example$/\npartner.example\n' >"$T/pgc"
write_gl_conf "on_error = defer" "whitelist_clients = $T/pgc"
{ echo "GREYLIST_USE_HOST_NAME = yes"; cat "$T/exim.conf"; } >"$T/e" && mv "$T/e" "$T/exim.conf"
s=$(vg pool -oMs mail-a1.out.bigmail.example)
check "a pool name (libpsl and the list loaded): memcheck finds nothing ($s)" \
	sh -c "echo '$s' | grep -q 'ERROR SUMMARY: 0 errors'"
check "... keyed on the pool" grep -q 'greylist: defer 2 new client=host:out.bigmail.example' "$T/vg-pool.out"
s=$(vg regex -oMs mail7.relay.example)
check "a name a postgrey pattern matches (PCRE2 loaded): memcheck finds nothing ($s)" \
	sh -c "echo '$s' | grep -q 'ERROR SUMMARY: 0 errors'"
check "... whitelisted by it" grep -q "greylist: accept whitelist .*whitelist=$T/pgc:1" "$T/vg-regex.out"
