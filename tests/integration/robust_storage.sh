#!/bin/sh
# robust_storage.sh - storage the module cannot use (a missing or
# unwritable directory, an unreadable file, a full disk for GDBM and for
# LMDB) is answered per on_error and logged, through Exim.
. "$(dirname "$0")/../lib.sh"
plan 17
R=user@test.example

write_exim_conf

# ---- 3. unusable storage ----
write_gl_conf "on_error = accept"
sed -i "s|^database = .*|database = $T/missing/dir/g.gdbm|" "$T/greylist.conf"
expect_rcpt 250 "database directory missing: on_error answer" 192.0.2.5 d@x.example
check "... logged with the file and the reason" grep -q "greylist: $T/missing/dir/g.gdbm: cannot open database: .*No such file or directory" "$T/bh.err"

# As Debian-exim (as in production): a directory it cannot write.
AS_EXIM_USER=1 write_exim_conf
mkdir -p "$T/rodb"; chmod 0755 "$T/rodb"
write_gl_conf "on_error = defer"
sed -i "s|^database = .*|database = $T/rodb/g.gdbm|" "$T/greylist.conf"
expect_rcpt "451 " "directory not writable by the Exim user, on_error=defer: 451" 192.0.2.5 e@x.example
check "... logged: permission denied" grep -q "greylist: $T/rodb/g.gdbm: cannot open database: .*Permission denied" "$T/bh.err"
"$H/gl-hammer" "$T/greylist.conf" 3 200 >/dev/null 2>&1   # as root: a file Debian-exim cannot read
chmod 0600 "$T/rodb/g.gdbm"
write_gl_conf "on_error = accept"
sed -i "s|^database = .*|database = $T/rodb/g.gdbm|" "$T/greylist.conf"
expect_rcpt 250 "database file unreadable by the Exim user: on_error answer" 192.0.2.5 e@x.example
check "... logged: permission denied" grep -q "Permission denied" "$T/bh.err"
write_exim_conf

# A full disk: a 256 KiB tmpfs filled up after some records.
mkdir -p "$T/small"
if mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
	write_gl_conf "on_error = accept"
	sed -i "s|^database = .*|database = $T/small/g.gdbm|" "$T/greylist.conf"
	r=$(rcpt 192.0.2.6 keep@x.example)
	dd if=/dev/zero of="$T/small/fill" bs=4k 2>/dev/null
	i=0; r=250
	while [ $i -lt 400 ]; do
		# letters, not digits: sender_normalize folds digit runs
		r=$(rcpt 192.0.2.6 "full$(echo $i | tr 0-9 a-j)@x.example")
		case $r in 250*) break ;; esac
		i=$((i + 1))
	done
	case $r in 250*) ok "disk full: the RCPT gets the on_error answer after $i writes" ;; *) nok "disk full: '$r'" ;; esac
	check "... the log says why" grep -q -E "greylist: $T/small/g.gdbm: .*(No space left|cannot write|cannot close|cannot open)" "$T/bh.err"
	check "... what was written before is still there" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' list | grep -q 'keep@x.example'"
	rm -f "$T/small/fill"
	umount "$T/small"
else
	for d in "disk full: the on_error answer" "... the log says why" "... what was written before is still there"; do
		skip "$d" "cannot mount a tmpfs here"
	done
fi

# A full disk with backend = lmdb, which writes through a shared map: a
# page the filesystem cannot back must be an error, never a SIGBUS.
if mount -t tmpfs -o size=2m tmpfs "$T/small" 2>/dev/null; then
	write_gl_conf "on_error = accept" "backend = lmdb"
	sed -i "s|^database = .*|database = $T/small/g.lmdb|" "$T/greylist.conf"
	r=$(rcpt 192.0.2.6 keep@x.example)
	dd if=/dev/zero of="$T/small/fill" bs=4k 2>/dev/null
	"$H/gl-hammer" "$T/greylist.conf" 3 20000 "$(date +%s)" v 2>"$T/hammer.err"
	rc=$?
	check "lmdb, disk full: 20000 decisions end normally, no signal (exit $rc)" test $rc -eq 0
	check "... their writes fail saying why" \
		grep -q "g.lmdb: cannot write (allocating space): No space left" "$T/hammer.err"
	expect_rcpt 250 "lmdb, disk full: the RCPT gets the on_error answer" 192.0.2.6 fullnew@x.example
	check "... the log says why" grep -q "greylist: $T/small/g.lmdb: cannot write (allocating space): No space left" "$T/bh.err"
	check "... what was written before is still there" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' list | grep -q 'keep@x.example'"
	# the writer lock file is made anew on the full disk: an error too
	rm -f "$T/small/g.lmdb.wlock"
	dd if=/dev/zero of="$T/small/fill2" bs=4k 2>/dev/null
	expect_rcpt 250 "lmdb, disk full, no writer lock file: the on_error answer" 192.0.2.6 nolock@x.example
	check "... the log says why" grep -q "g.lmdb.wlock: cannot size lock file: No space left" "$T/bh.err"
	rm -f "$T/small/fill" "$T/small/fill2"
	expect_rcpt "451 4.7.1 " "lmdb: space again, greylisting again" 192.0.2.6 after@x.example
	umount "$T/small"
else
	for d in "lmdb, disk full: no signal" "... their writes fail saying why" \
		"lmdb, disk full: the on_error answer" "... the log says why" \
		"... what was written before is still there" \
		"lmdb, disk full, no writer lock file: the on_error answer" \
		"... the log says why" "lmdb: space again, greylisting again"; do
		skip "$d" "cannot mount a tmpfs here"
	done
fi
