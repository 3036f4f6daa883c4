#!/bin/sh
# first_hour.sh - what a postmaster does in the first hour never switches
# greylisting off: root's greylist-admin creates only files the Exim user
# can use, greylist-admin check names what is wrong (and passes once it
# is mended), and a missing module makes Exim skip greylisting rather
# than defer all mail. Exim runs as Debian-exim, as in production.
. "$(dirname "$0")/../lib.sh"
plan 24
R=user@test.example
owner() { stat -c %U "$1" 2>/dev/null; }
rcpt() { : >"$T/bh.err"; smtp_bh "$1" "$2" $R; }
# Exim for check: with the sanitizer runtime when the module has it.
printf '#!/bin/sh\nexec env %s %s "$@"\n' \
	"${GL_PRELOAD:+LD_PRELOAD=$GL_PRELOAD ASAN_OPTIONS=detect_leaks=0}" "$EXIM" >"$T/bin/exim"
chmod 0755 "$T/bin/exim"
CHK() { A check --exim "$T/bin/exim" --exim-config "$T/exim.conf" "$@"; }

AS_EXIM_USER=1 write_exim_conf
write_gl_conf
chown Debian-exim:Debian-exim "$T/db"

# ---- root's first commands create files Exim's user owns ----
out=$(A whitelist add 203.0.113.10 2>&1); rc=$?
check "root's whitelist add on a missing database works (exit $rc)" test $rc -eq 0
check "... and the new database belongs to Debian-exim ($(owner "$T/db/greylist.gdbm"))" \
	test "$(owner "$T/db/greylist.gdbm")" = Debian-exim
r=$(rcpt 192.0.2.1 new@sender.example)
check "then a new triplet is greylisted by Exim ('$r')" sh -c "echo '$r' | grep -q '^451 4.7.1 Greylisted'"
check "... not answered 'accept error'" sh -c "! grep -q 'accept error\|Permission denied' '$T/bh.err'"
r=$(rcpt 203.0.113.10 new@sender.example)
check "and the whitelisted client is accepted ('$r')" sh -c "echo '$r' | grep -q '^250 '"

rm -f "$T/db/greylist.gdbm"
printf '{"type":"whitelist","entry":"198.51.100.0/24","owner":"ops","expires":0,"comment":""}\n' | A import >"$T/imp.out" 2>&1
check "root's import on a missing database: Debian-exim owns it" test "$(owner "$T/db/greylist.gdbm")" = Debian-exim
r=$(rcpt 192.0.2.1 other@sender.example)
check "... and Exim greylists ('$r')" sh -c "echo '$r' | grep -q '^451 '"

# ---- a root-owned database: named, with the command that mends it ----
chown root:root "$T/db/greylist.gdbm"
chmod 0640 "$T/db/greylist.gdbm"
A list >/dev/null 2>"$T/own.err"
check "greylist-admin warns about a file Debian-exim cannot write" \
	grep -q "^greylist-admin: warning: $T/db/greylist.gdbm belongs to root:root with mode 0640, so Debian-exim cannot write it; mend it with: chown Debian-exim:Debian-exim '$T/db/greylist.gdbm'" "$T/own.err"
CHK >"$T/chk1" 2>&1; rc=$?
check "check: exit 1 naming the root-owned database (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q '^problem: $T/db/greylist.gdbm belongs to root:root' '$T/chk1'"
chown Debian-exim:Debian-exim "$T/db/greylist.gdbm"
CHK >"$T/chk2" 2>&1; rc=$?
check "check: exit 0 once mended (exit $rc)" test $rc -eq 0
check "... saying what it checked, as Debian-exim" \
	sh -c "grep -q '^info: Exim loads $GL_SO (exim-greylist ' '$T/chk2' && grep -q 'usable (as Debian-exim)' '$T/chk2'"
CHK --json >"$T/chk.json"
check "check --json: one object, ok true" grep -q '^{"ok":true,"config":"[^"]*","exim_user":"Debian-exim","problems":\[\],' "$T/chk.json"

# ---- check names a bad duration, a bad whitelist line, a wrong module ----
write_gl_conf "delay = 5 minutes"
CHK >"$T/chk3" 2>&1; rc=$?
check "check: a bad duration, exit 1 with file, line and key (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q \"^problem: $T/greylist.conf:4: key 'delay': bad value '5 minutes'\" '$T/chk3'"
printf '192.0.2.0/24\nnot an entry!\n' >"$T/wl"
write_gl_conf "whitelist = $T/wl"
CHK >"$T/chk4" 2>&1; rc=$?
check "check: a bad whitelist line, exit 1 with file and line (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q '^problem: $T/wl:2: ' '$T/chk4'"
printf '192.0.2.0/24\n' >"$T/wl"
CHK >/dev/null 2>&1; rc=$?
check "check: exit 0 once the line is mended (exit $rc)" test $rc -eq 0
sed -i "s,^GREYLIST_SO = .*,GREYLIST_SO = $T/nowhere/greylist.so," "$T/exim.conf"
CHK >"$T/chk5" 2>&1; rc=$?
check "check: a GREYLIST_SO that does not exist, exit 1 (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q '^problem: GREYLIST_SO names $T/nowhere/greylist.so, which does not exist' '$T/chk5'"

# ---- a missing module: Exim skips greylisting and says so ----
r=$(rcpt 192.0.2.77 fresh@sender.example)
check "with GREYLIST_SO pointing nowhere a new sender gets 250 ('$r')" sh -c "echo '$r' | grep -q '^250 '"
check "... and the log says the module is missing" \
	grep -q "greylist: module $T/nowhere/greylist.so not found, greylisting skipped" "$T/bh.err"
sed -i "s,^GREYLIST_SO = .*,GREYLIST_SO = $GL_SO," "$T/exim.conf"
CHK >/dev/null 2>&1; rc=$?
check "check: exit 0 with the module back (exit $rc)" test $rc -eq 0

# ---- backend = lmdb: even a read-only command as root ----
write_gl_conf "backend = lmdb" "database = $T/db/greylist.lmdb"
A stats >/dev/null 2>&1; rc=$?
check "root's stats on a missing LMDB database works (exit $rc)" test $rc -eq 0
bad=""
for f in "$T"/db/greylist.lmdb*; do
	[ "$(owner "$f")" = Debian-exim ] || bad="$bad $f"
done
check "... every LMDB file it made belongs to Debian-exim:${bad:- yes}" test -z "$bad"
r=$(rcpt 192.0.2.1 lmdb@sender.example)
check "... and Exim greylists with it ('$r')" sh -c "echo '$r' | grep -q '^451 '"
CHK >"$T/chk6" 2>&1; rc=$?
check "check on LMDB: exit 0 with the map's use (exit $rc)" \
	sh -c "test $rc -eq 0 && grep -q 'of lmdb_mapsize in use' '$T/chk6'"
check "no sanitizer report from Exim" sanitizer_clean "$T/bh.err"
