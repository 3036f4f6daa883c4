#!/bin/sh
# robust_database.sh - a damaged or locked database never breaks or
# slows an SMTP session: random bytes, a truncated file, a record the
# decoder refuses, a lock held elsewhere; recover repairs, through Exim.
. "$(dirname "$0")/../lib.sh"
plan 32
R=user@test.example

write_exim_conf

# ---- 1. corrupt databases ----
for mode in accept defer; do
	write_gl_conf "on_error = $mode"
	head -c 8192 /dev/urandom >"$DB"
	want=250; [ $mode = defer ] && want=451
	expect_rcpt "$want " "random-bytes database, on_error=$mode" 192.0.2.1 a@x.example
	check "... one log line names the file and the problem" \
		test "$(grep -c "greylist: $DB: cannot open database" "$T/bh.err")" -eq 1
done
write_gl_conf "on_error = accept"
A list >/dev/null 2>"$T/adm.err"; rc=$?
check "greylist-admin on a random-bytes file: exit 1 with one line" \
	sh -c "test $rc -eq 1 && test \$(wc -l <'$T/adm.err') -eq 1 && grep -q '$DB' '$T/adm.err'"
A recover >"$T/rec.out" 2>&1
check "recover brings a random-bytes file back (old one kept aside)" \
	sh -c "grep -q 'header was unreadable' '$T/rec.out' && ls '$DB'.broken-* >/dev/null"
expect_rcpt "451 4.7.1 " "after recover, greylisting works again" 192.0.2.1 a@x.example

rm -f "$DB"*
"$H/gl-hammer" "$T/greylist.conf" 7 3000 >/dev/null 2>&1
sz=$(stat -c %s "$DB")
truncate -s $((sz / 3)) "$DB"
expect_rcpt "250|451 4.7.1 " "truncated database: answered, Exim not killed" 192.0.2.1 b@x.example
check "... and its log has no sanitizer report" sanitizer_clean "$T/bh.err"
A recover >"$T/rec2.out" 2>&1
check "recover on a truncated file says what it kept ($(head -c 80 "$T/rec2.out"))" \
	grep -q '^recovered .*: kept [0-9]* records, lost' "$T/rec2.out"
check "after recover the admin reads it" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' list >/dev/null"

rm -f "$DB"*
"$H/gl-poke" "$DB" 192.0.2.0/24 c@x.example $R "not a record"
for mode in accept defer; do
	write_gl_conf "on_error = $mode"
	want=250; [ $mode = defer ] && want=451
	expect_rcpt "$want " "a record the decoder refuses, on_error=$mode" 192.0.2.9 c@x.example
	check "... the log says which file and what" grep -q "greylist: $DB: record of 12 bytes, want 32 (client 192.0.2.0/24)" "$T/bh.err"
done
expect_rcpt "451 4.7.1 " "other triplets are unaffected" 192.0.2.9 other@x.example
A list >/dev/null 2>"$T/adm2.err"; rc=$?
check "greylist-admin list: exit 1, one line pointing at recover" \
	sh -c "test $rc -eq 1 && grep -q 'could not be read (see .recover.)' '$T/adm2.err'"
A recover >"$T/rec3.out"
check "recover drops the bad record: $(cat "$T/rec3.out")" grep -q 'kept 1 records, lost 1' "$T/rec3.out"

# ---- 2. a held lock: answered within the bound, per on_error ----
write_gl_conf "on_error = accept" "lock_timeout = 200ms"
"$H/gl-holdlock" "$DB" 8 >"$T/lock.out" &
LPID=$!
PIDS="$PIDS $LPID"
i=0; while ! grep -q locked "$T/lock.out" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
t0=$(date +%s%N)
expect_rcpt 250 "lock held elsewhere, on_error=accept" 192.0.2.77 busy@x.example
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "... the log says the database was busy" grep -q 'database busy: lock not granted within 200 ms' "$T/bh.err"
check "... the whole Exim session took ${ms} ms (bound: 2 x lock_timeout + Exim start, < 2000)" test "$ms" -lt 2000
write_gl_conf "on_error = defer" "lock_timeout = 200ms"
expect_rcpt "451 " "lock held elsewhere, on_error=defer: 451" 192.0.2.77 busy@x.example
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null || true

# ---- 3. a file of exim-greylist 0.1: plain keys, then rekey ----
write_gl_conf "on_error = defer"
rm -f "$DB"*
"$H/gl-poke" -p "$DB" 192.0.2.0/24 old@x.example $R =passed
chmod 666 "$DB"
ino0=$(stat -c %i "$DB")
expect_rcpt 250 "a triplet passed in a file of plain keys is still known" 192.0.2.5 old@x.example
expect_rcpt "451 4.7.1 " "... and a new one is greylisted in it" 192.0.2.5 new@x.example
A check --no-exim >"$T/chk1.out" 2>&1
check "check names the plain keys and the command that salts them" \
	grep -q "$DB has the plain keys of exim-greylist 0.1.*greylist-admin rekey" "$T/chk1.out"
A rekey >"$T/rekey.out" 2>&1; rc=$?
check "rekey: exit 0, $(cat "$T/rekey.out")" \
	sh -c "test $rc -eq 0 && grep -q '^rekeyed $DB (it had plain keys): kept 2 records, dropped 0' '$T/rekey.out'"
check "... a new file, with the old one's mode" \
	sh -c "test \$(stat -c %i '$DB') != $ino0 && test \$(stat -c %a '$DB') = 666"
expect_rcpt 250 "after rekey the passed triplet is still known" 192.0.2.5 old@x.example
expect_rcpt "451 4.7.1 " "... and the pending one is still pending" 192.0.2.5 new@x.example
A check --no-exim >"$T/chk2.out" 2>&1
check "check no longer names plain keys" sh -c "! grep -q 'plain keys' '$T/chk2.out'"

# ---- 4. recipients a sender chose to collide in GDBM's hash ----
# GDBM's hash weighs byte i by 2^(5i mod 24): in the key (client
# 192.0.2.0/24, sender x@x.example, then the recipient from byte 27),
# byte i up by 2d and byte i+5 down by d leave it as it was. 200 such
# recipients share one hash; in a file of plain keys GDBM refuses the
# 167th ("Bucket directory overflow") after seconds of trying, holding
# the writers' lock (this session ran for over 5 minutes), and with
# on_error = accept they would pass ungreylisted.
write_gl_conf "on_error = accept"
rm -f "$DB"*
awk 'BEGIN {
	printf "EHLO client.example\r\nMAIL FROM:<x@x.example>\r\n"
	for (n = 0; n < 200; n++) {
		for (j = 0; j < 20; j++) c[j] = 109   # "m"
		for (j = 0; j < 4; j++) {
			d = int(n / 4 ^ j) % 4
			c[j] += 2 * d; c[j + 5] -= d
		}
		s = ""
		for (j = 0; j < 20; j++) s = s sprintf("%c", c[j])
		printf "RCPT TO:<%s@test.example>\r\n", s
	}
	printf "QUIT\r\n"
}' >"$T/coll.smtp"
# bounded: with plain keys this session ran for minutes
exim_run -C "$T/exim.conf" -bh 192.0.2.1 <"$T/coll.smtp" >"$T/coll.raw" 2>"$T/coll.err" &
epid=$!
PIDS="$PIDS $epid"
i=0; while kill -0 $epid 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
kill $epid 2>/dev/null; wait $epid 2>/dev/null
tr -d '\r' <"$T/coll.raw" >"$T/coll.out"
check "200 recipients made to collide in GDBM's hash: all 200 greylisted within 60 s ($(grep -c '^451 4.7.1 ' "$T/coll.out"), $((i / 10)) s)" \
	test "$(grep -c '^451 4.7.1 ' "$T/coll.out")" -eq 200
check "... none answered per on_error, nothing in the log about it" \
	sh -c "grep -q '^221 ' '$T/coll.out' && ! grep -q '^250 Accepted' '$T/coll.out' && ! grep -q 'overflow' '$T/coll.err'"
