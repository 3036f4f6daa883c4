#!/bin/sh
# lmdb.sh - backend = lmdb through a real Exim daemon (as Debian-exim):
# greylisting works, "greylist-admin snapshot" writes a consistent copy,
# and after the file is lost (a reboot with the file on tmpfs) the module
# restores the snapshot by itself, passed triplets included.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/mail.sh"
plan 10

mkdir -p "$T/snap"
chown Debian-exim "$T/snap"
extra="backend = lmdb
lmdb_snapshot = $T/snap/greylist.snap
auto_whitelist_clients = 0"
RNAME=mx GL_EXTRA="$extra" start_receiver || { nok "receiving Exim started"; exit 1; }
send() { swaks --server 127.0.0.1 --port "$RPORT" --from "$1" --to bob@test.example \
	--timeout 20 --body lmdb >"$2" 2>&1; }
send alice@sender.example "$T/s1"
check "first contact: 451 4.7.1" grep -q '^<\*\* *451 4.7.1 Greylisted' "$T/s1"
sleep 3
send alice@sender.example "$T/s2"
check "retry after the delay: 250" grep -q '^<- *250 Accepted' "$T/s2"
# The daemon loaded the module and LMDB's library (the configuration read
# in a child of the daemon), and not GDBM's.
check "the daemon loaded LMDB's library, not GDBM's" \
	sh -c "grep -q liblmdb /proc/$RPID/maps && ! grep -q libgdbm /proc/$RPID/maps"
out=$(su -s /bin/sh Debian-exim -c "'$GL_ADMIN' -c '$R/greylist.conf' snapshot" 2>&1)
check "snapshot as the Exim user: '$out'" test -s "$T/snap/greylist.snap"
kill "$RPID"; wait "$RPID" 2>/dev/null
db=$(sed -n 's/^database = //p' "$R/greylist.conf")
rm -f "$db" "$db-lock"
check "the database file is gone" test ! -e "$db"
RNAME=mx GL_EXTRA="$extra" start_receiver || { nok "receiving Exim restarted"; exit 1; }
send alice@sender.example "$T/s3"
check "after losing the file, the passed triplet is still passed (restored)" grep -q '^<- *250 Accepted' "$T/s3"
check "the module restored the file" test -s "$db"
send carol@sender.example "$T/s4"
check "and new triplets are greylisted as before" grep -q '^<\*\* *451 4.7.1' "$T/s4"
check "greylist-admin lists both" test "$("$GL_ADMIN" -c "$R/greylist.conf" list --json | wc -l)" -eq 2
check "no sanitizer report" sanitizer_clean "$R/daemon.out"
