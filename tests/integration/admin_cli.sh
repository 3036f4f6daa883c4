#!/bin/sh
# admin_cli.sh - greylist-admin over a database the module wrote through
# Exim: list (text, JSON, filters), explain (changes nothing), purge,
# delete, and its errors.
. "$(dirname "$0")/../lib.sh"
plan 67

write_gl_conf "retry_window = 6s"
write_exim_conf
dl() { exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{$1}{$2}{$3}}" 2>>"$T/be.err"; }

t0=$(date +%s)
dl 192.0.2.7 Alice@Sender.example bob@test.example >/dev/null
dl 198.51.100.7 carol@other.example bob@test.example >/dev/null
dl 2001:db8::7 dave@six.example erin@test.example >/dev/null
sleep 2
y=$(dl 192.0.2.7 alice@sender.example bob@test.example)
check "the first triplet passes (yield '$y')" test "${y% [0-9]*}" = "accept pass"

A list >"$T/list.txt" 2>"$T/err"
check "list exits 0 with a header and 3 rows" test "$(wc -l <"$T/list.txt")" -eq 4
check "list shows the passed triplet with its delay" \
	grep -q '^192.0.2.0/24 *passed .* 2 *[2-9]s  alice@sender.example -> bob@test.example$' "$T/list.txt"
check "list shows the IPv6 /64" grep -q '^2001:db8::/64 *pending' "$T/list.txt"
A list --json >"$T/list.json"
check "list --json: one object a line" test "$(wc -l <"$T/list.json")" -eq 3
check "list --json has every field" grep -q \
	'^{"client":"192.0.2.0/24","sender":"alice@sender.example","recipient":"bob@test.example","state":"passed","first_seen":[0-9]*,"last_seen":[0-9]*,"attempts":2,"passed_at":[0-9]*,"delay":[2-9]}$' \
	"$T/list.json"
check "--state pending filters" test "$(A list --json --state pending | wc -l)" -eq 2
check "--client CIDR filters" test "$(A list --json --client 198.51.100.0/22 | wc -l)" -eq 1
check "--client substring filters" test "$(A list --json --client 2001: | wc -l)" -eq 1
check "--client ADDRESS finds the subnet it is keyed on" \
	test "$(A list --json --client 192.0.2.200 | grep -c '"client":"192.0.2.0/24"')" -eq 1
check "--client ADDRESS of another subnet finds nothing" test "$(A list --json --client 192.0.3.7 | wc -l)" -eq 0
check "--client IPv6 ADDRESS finds its /64" test "$(A list --json --client 2001:db8::ff:1 | wc -l)" -eq 1
check "--sender filters" test "$(A list --json --sender carol | wc -l)" -eq 1
check "--recipient filters" test "$(A list --json --recipient erin@ | wc -l)" -eq 1

cp "$T/db/greylist.gdbm" "$T/before.gdbm"
A explain 192.0.2.99 alice@sender.example bob@test.example >"$T/explain.txt"
check "explain: accept known" grep -q '^answer: *accept known$' "$T/explain.txt"
check "explain shows the key's client" grep -q "^client: *192.0.2.0/24 (the client's subnet)\$" "$T/explain.txt"
check "explain shows the record" grep -q '^record: *passed, first seen' "$T/explain.txt"
A explain 203.0.113.1 new@x.example bob@test.example >"$T/explain2.txt"
check "explain of a new triplet: defer 2 new" grep -q '^answer: *defer 2 new$' "$T/explain2.txt"
check "explain changed nothing (byte-identical file)" cmp -s "$T/before.gdbm" "$T/db/greylist.gdbm"

out=$(A delete 192.0.2.1 ALICE@sender.example bob@test.example)
check "delete by an address in the client's /24: '$out'" \
	test "$out" = "deleted 192.0.2.0/24 alice@sender.example bob@test.example"
check "delete of a missing triplet fails" sh -c "! '$GL_ADMIN' -c '$T/greylist.conf' delete 192.0.2.0/24 x@y z@w 2>/dev/null"

# Wait (at most 10 s) until the two pending triplets are past retry_window.
i=0
while [ "$(date +%s)" -le $((t0 + 7)) ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
out=$(A purge)
check "purge removes the 2 expired pending triplets: '$out'" \
	test "$out" = "purged 2 expired triplets (2 pending, 0 passed), 0 client records, 0 whitelist entries"
check "nothing left" test "$(A list --json | wc -l)" -eq 0

# Errors: one line on stderr, exit 1 (2 for usage).
"$GL_ADMIN" -c "$T/nope.conf" list >/dev/null 2>"$T/e1"; rc=$?
check "missing configuration: exit 1" test $rc -eq 1
check "missing configuration: one line naming the file" \
	sh -c "test \$(wc -l <'$T/e1') -eq 1 && grep -q '$T/nope.conf' '$T/e1'"
printf 'delay = 5m\nipv4_prefix = 33\n' >"$T/bad.conf"
"$GL_ADMIN" -c "$T/bad.conf" list >/dev/null 2>"$T/e2"; rc=$?
check "bad prefix: exit 1, file:line:key on stderr" \
	sh -c "test $rc -eq 1 && grep -q \"^greylist-admin: $T/bad.conf:2: key 'ipv4_prefix'\" '$T/e2'"
A frobnicate >/dev/null 2>"$T/e3"; rc=$?
check "unknown command: exit 2" test $rc -eq 2
check "unknown command: named on the first line of stderr" \
	sh -c "head -1 '$T/e3' | grep -q \"^greylist-admin: unknown command 'frobnicate'\""
"$GL_ADMIN" --help >"$T/help" 2>"$T/help.err"; rc=$?
check "--help: usage on stdout, exit 0" \
	sh -c "test $rc -eq 0 && grep -q '^usage: greylist-admin' '$T/help' && grep -q '^  check ' '$T/help' && ! test -s '$T/help.err'"
out=$("$GL_ADMIN" --version); rc=$?
check "--version: '$out'" sh -c "test $rc -eq 0 && echo '$out' | grep -q '^greylist-admin [0-9][0-9.]*\$'"
# A command that fails prints no table header before its error.
mkdir -p "$T/bad" && head -c 4096 /dev/urandom >"$T/bad/greylist.gdbm"
printf 'database = %s\n' "$T/bad/greylist.gdbm" >"$T/badhdr.conf"
"$GL_ADMIN" -c "$T/badhdr.conf" list >"$T/hdr.out" 2>"$T/hdr.err"; rc=$?
check "a failing list prints nothing on stdout (exit $rc)" \
	sh -c "test $rc -eq 1 && ! test -s '$T/hdr.out' && test -s '$T/hdr.err'"
"$GL_ADMIN" -c "$T/badhdr.conf" clients >"$T/hdr.out" 2>"$T/hdr.err"; rc=$?
check "a failing clients prints nothing on stdout (exit $rc)" \
	sh -c "test $rc -eq 1 && ! test -s '$T/hdr.out'"
check "no sanitizer report from Exim" sanitizer_clean "$T/be.err"

# ---- whitelists with owner and expiry, in files and in the database ----
printf 'rcpt:postmaster@test.example owner=ops # RFC 5321\n' >"$T/wl"
write_gl_conf "whitelist = $T/wl"
y=$(dl 203.0.113.50 new@x.example postmaster@test.example)
check "a file entry exempts postmaster ('$y')" test "$y" = "accept whitelist"
y=$(dl 203.0.113.50 new@vendor.example bob@test.example)
check "a new sender is greylisted ('$y')" test "$y" = "defer 2 new"
out=$(A whitelist add .vendor.example --owner alice --expires 30d --comment "vendor relays, ticket 42")
check "whitelist add: '$out'" sh -c "echo '$out' | grep -q '^added .vendor.example (owner alice, expires 20[0-9][0-9]-[01][0-9]-[0-3][0-9] [0-9:]* UTC) # vendor relays, ticket 42\$'"
y=$(dl 203.0.113.51 other@mail.vendor.example bob@test.example)
check "the database entry takes effect at the next RCPT ('$y')" test "$y" = "accept whitelist"
A whitelist add 198.51.100.0/24 --expires 2020-01-01 >/dev/null 2>"$T/exp.err"
check "adding an entry that has already expired warns" \
	grep -q '^greylist-admin: warning: 198.51.100.0/24 expired at 2020-01-01 23:59:59 UTC: it will never match' "$T/exp.err"
y=$(dl 198.51.100.9 z@expired.example bob@test.example)
check "an expired entry does not match ('$y')" test "$y" = "defer 2 new"
A whitelist list >"$T/wl.txt"
check "whitelist list shows the file entry with file:line" grep -q "^rcpt:postmaster@test.example *ops .*never .*$T/wl:1 *RFC 5321\$" "$T/wl.txt"
check "whitelist list shows owner, expiry and comment" grep -q '^\.vendor\.example *alice *20[0-9-]* [0-9:]* *database *vendor relays, ticket 42$' "$T/wl.txt"
check "whitelist list marks the expired entry" grep -q '^198.51.100.0/24 .*2020-01-01 23:59:59\*' "$T/wl.txt"
check "whitelist list --json" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' whitelist list --json | grep -q '\"entry\":\".vendor.example\",\"owner\":\"alice\",\"comment\":\"vendor relays, ticket 42\",\"origin\":\"database\",\"expired\":false,\"expires\":[0-9]*'"
A explain 203.0.113.51 a@vendor.example bob@test.example >"$T/ex3"
check "explain names the entry, owner and expiry" grep -q '^whitelist: .vendor.example (database) owner=alice, expires 20.* # vendor relays, ticket 42$' "$T/ex3"
check "whitelist del" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' whitelist del .vendor.example | grep -q 'removed .vendor.example'"
y=$(dl 203.0.113.51 other@mail.vendor.example bob@test.example)
check "a deleted entry stops matching ('$y')" test "$y" = "defer 2 new"
check "deleting a missing entry fails" sh -c "! '$GL_ADMIN' -c '$T/greylist.conf' whitelist del nothere.example 2>/dev/null"
check "a bad entry is refused with a reason" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' whitelist add 192.0.2.0/33 2>&1 | grep -q 'not an address or CIDR block'"

# ---- stats: counts and the delay passed mail saw ----
sleep 2
y1=$(dl 203.0.113.50 new@vendor.example bob@test.example)
y2=$(dl 198.51.100.9 z@expired.example bob@test.example)
check "two deferred triplets pass ('$y1', '$y2')" test "${y1% [0-9]*} ${y2% [0-9]*}" = "accept pass accept pass"
A stats >"$T/stats"
check "stats counts by state" grep -q '^triplets: *[0-9]* pending, 2 passed$' "$T/stats"
check "stats shows the delay passed mail saw" grep -q '^delay seen by passed mail: 2 triplets, median [2-9]s, p95 [2-9]s, max [2-9]s$' "$T/stats"
check "stats --json" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' stats --json | grep -q '\"passed\":2,\"whitelist\":{\"files\":1,\"database\":1},\"auto_whitelisted_clients\":0,\"delay\":{\"count\":2,\"median\":[0-9]*,\"p95\":[0-9]*,\"max\":[0-9]*}'"
A stats --by-domain >"$T/bydom"
check "stats --by-domain: one row per sender domain" grep -q '^expired.example *[0-9]* *1 *[0-9]*s *[0-9]*s$' "$T/bydom"

# ---- export, import into an empty database, the same list ----
A export >"$T/export.json"
A list --json | sort >"$T/list1"
A whitelist list --json | sort >"$T/wl1"
mv "$T/db/greylist.gdbm" "$T/db/old.gdbm"
out=$(A import <"$T/export.json")
check "import says how many whitelist entries it took: '$out'" sh -c "echo '$out' | grep -q '^imported [0-9]* records and 1 whitelist entries\$'"
A list --json | sort >"$T/list2"
A whitelist list --json | sort >"$T/wl2"
check "export then import gives the same list --json" cmp -s "$T/list1" "$T/list2"
check "... and the same whitelist" cmp -s "$T/wl1" "$T/wl2"
printf '{"type":"triplet","client":"x"}\n' >"$T/badimport"
"$GL_ADMIN" -c "$T/greylist.conf" import <"$T/badimport" >"$T/imp.out" 2>&1; rc=$?
check "a bad import line is named, exit 1 (exit $rc), nothing is written" \
	sh -c "test $rc -eq 1 && grep -q 'stdin:1: a triplet wants' '$T/imp.out' && ! grep -q '^imported' '$T/imp.out'"

# ---- recover a damaged file ----
i=0
while [ $i -lt 300 ]; do
	printf '{"type":"triplet","client":"192.0.2.0/24","sender":"s%d@x.example","recipient":"r@test.example","state":"pending","first_seen":%d,"last_seen":%d,"attempts":1,"passed_at":0}\n' $i "$(date +%s)" "$(date +%s)"
	i=$((i + 1))
done >"$T/many.json"
A import <"$T/many.json" >/dev/null
sz=$(stat -c %s "$T/db/greylist.gdbm")
dd if=/dev/urandom of="$T/db/greylist.gdbm" bs=1 count=3000 seek=$((sz / 2)) conv=notrunc 2>/dev/null
A recover >"$T/rec.out" 2>&1; rc=$?
check "recover succeeds on a damaged file" test $rc -eq 0
check "recover says what it kept and lost" grep -q '^recovered .*: kept [0-9]* records, lost [0-9]*' "$T/rec.out"
check "after recover, list works" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' list --json >/dev/null"

# ---- snapshot and restore with GDBM (a database on a tmpfs) ----
write_gl_conf "snapshot = $T/snap.gdbm"
rm -f "$T/db/greylist.gdbm"
dl 192.0.2.7 keep@snap.example bob@test.example >/dev/null
out=$(A snapshot)
check "snapshot of a GDBM database: '$out'" \
	test "$out" = "snapshot of $T/db/greylist.gdbm written to $T/snap.gdbm"
rm -f "$T/db/greylist.gdbm"
y=$(dl 192.0.2.7 keep@snap.example bob@test.example)
check "the file lost, the module restores the snapshot: an early retry, not a new triplet ('$y')" \
	sh -c "echo '$y' | grep -q '^defer [12] early\$'"
# A whitelist change is on disk at once (a crash right after keeps it).
rm -f "$T/snap.gdbm"
A whitelist add 192.0.2.77 --comment "saved at once" >"$T/wlsnap.out" 2>&1
check "whitelist add with a snapshot configured writes the snapshot at once" test -s "$T/snap.gdbm"
rm -f "$T/db/greylist.gdbm"
check "... the entry comes back with the snapshot" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' whitelist list | grep -q 192.0.2.77"
check "snapshot --if-configured with a snapshot configured writes it" \
	sh -c "'$GL_ADMIN' -c '$T/greylist.conf' snapshot --if-configured | grep -q '^snapshot of'"
write_gl_conf
out=$(A snapshot --if-configured 2>&1); rc=$?
check "snapshot --if-configured without a snapshot: nothing to do, exit 0 ('$out')" test $rc -eq 0 -a -z "$out"
A snapshot >/dev/null 2>&1
check "plain snapshot without a snapshot configured fails (exit 1)" test $? -eq 1
