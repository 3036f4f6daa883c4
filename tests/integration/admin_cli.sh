#!/bin/sh
# admin_cli.sh - greylist-admin over a database the module wrote through
# Exim: list (text, JSON, filters), explain (changes nothing), purge,
# delete, and its errors.
. "$(dirname "$0")/../lib.sh"

write_gl_conf "retry_window = 3s"
write_exim_conf
A() { "$GL_ADMIN" -c "$T/greylist.conf" "$@"; }
dl() { exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{$1}{$2}{$3}}" 2>>"$T/be.err"; }

dl 192.0.2.7 Alice@Sender.example bob@test.example >/dev/null
dl 198.51.100.7 carol@other.example bob@test.example >/dev/null
dl 2001:db8::7 dave@six.example erin@test.example >/dev/null
sleep 2
y=$(dl 192.0.2.7 alice@sender.example bob@test.example)
check "the first triplet passes (yield '$y')" test "$y" = "accept pass"

A list >"$T/list.txt" 2>"$T/err"
check "list exits 0 with a header and 3 rows" test "$(wc -l <"$T/list.txt")" -eq 4
check "list shows the passed triplet with its delay" \
	grep -q '^192.0.2.0/24 *passed .* 2 *2s  alice@sender.example -> bob@test.example$' "$T/list.txt"
check "list shows the IPv6 /64" grep -q '^2001:db8::/64 *pending' "$T/list.txt"
A list --json >"$T/list.json"
check "list --json: one object a line" test "$(wc -l <"$T/list.json")" -eq 3
check "list --json has every field" grep -q \
	'^{"client":"192.0.2.0/24","sender":"alice@sender.example","recipient":"bob@test.example","state":"passed","first_seen":[0-9]*,"last_seen":[0-9]*,"attempts":2,"passed_at":[0-9]*,"delay":2}$' \
	"$T/list.json"
check "--state pending filters" test "$(A list --json --state pending | wc -l)" -eq 2
check "--client CIDR filters" test "$(A list --json --client 198.51.100.0/22 | wc -l)" -eq 1
check "--client substring filters" test "$(A list --json --client 2001: | wc -l)" -eq 1
check "--sender filters" test "$(A list --json --sender carol | wc -l)" -eq 1
check "--recipient filters" test "$(A list --json --recipient erin@ | wc -l)" -eq 1

cp "$T/db/greylist.gdbm" "$T/before.gdbm"
A explain 192.0.2.99 alice@sender.example bob@test.example >"$T/explain.txt"
check "explain: accept known" grep -q '^answer: *accept known$' "$T/explain.txt"
check "explain shows the key's client" grep -q '^client: *192.0.2.0/24$' "$T/explain.txt"
check "explain shows the record" grep -q '^record: *passed, first seen' "$T/explain.txt"
A explain 203.0.113.1 new@x.example bob@test.example >"$T/explain2.txt"
check "explain of a new triplet: defer 2 new" grep -q '^answer: *defer 2 new$' "$T/explain2.txt"
check "explain changed nothing (byte-identical file)" cmp -s "$T/before.gdbm" "$T/db/greylist.gdbm"

out=$(A delete 192.0.2.1 ALICE@sender.example bob@test.example)
check "delete by an address in the client's /24: '$out'" \
	test "$out" = "deleted 192.0.2.0/24 alice@sender.example bob@test.example"
check "delete of a missing triplet fails" sh -c "! '$GL_ADMIN' -c '$T/greylist.conf' delete 192.0.2.0/24 x@y z@w 2>/dev/null"

sleep 2 # the two pending triplets are now past retry_window (3s)
out=$(A purge)
check "purge removes the 2 expired pending triplets: '$out'" test "$out" = "purged 2 expired triplets"
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
A frobnicate >/dev/null 2>&1; rc=$?
check "unknown command: exit 2" test $rc -eq 2
check "no sanitizer report from Exim" sanitizer_clean "$T/be.err"
