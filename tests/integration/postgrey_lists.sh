#!/bin/sh
# postgrey_lists.sh - postgrey's whitelist_clients and whitelist_recipients
# through the real Exim (exim -bh, the snippet with GREYLIST_USE_HOST_NAME,
# the verified name given with -oMs): Debian's own files load unchanged,
# and a file with a /regex/, a domain, an address and an a.b.c line lets
# through exactly the clients postgrey would; matches are logged with
# file and line; bad lines are named and skipped.
. "$(dirname "$0")/../lib.sh"
plan 23

# Debian's files, copied: every entry in force, no problem reported.
if [ -r /etc/postgrey/whitelist_clients ] && [ -r /etc/postgrey/whitelist_recipients ]; then
	cp /etc/postgrey/whitelist_clients "$T/deb_clients"
	cp /etc/postgrey/whitelist_recipients "$T/deb_recipients"
	ok "Debian's postgrey lists copied"
else
	nok "no /etc/postgrey/whitelist_clients or whitelist_recipients (make check-deps installs postgrey)"
	: >"$T/deb_clients"; : >"$T/deb_recipients"
fi
n=$(cat "$T/deb_clients" "$T/deb_recipients" | sed 's/#.*//' | grep -c '[^[:space:]]')
write_gl_conf "whitelist_clients = $T/deb_clients" "whitelist_recipients = $T/deb_recipients"
A check --no-exim >"$T/deb.out" 2>&1
check "greylist-admin check: Debian's lists are usable as they are" grep -q '^everything the module uses is usable' "$T/deb.out"
check "... all $n entries in force" grep -q "2 whitelist files, $n entries in force" "$T/deb.out"
check "... at least 150 of them (the files are not empty)" test "$n" -ge 150

# A list of our own in postgrey's format.
cat >"$T/pg_clients" <<EOC
# postgrey format
/^mail\\d+\\.relay\\.example\$/
partner.example
192.0.2.7
198.51.100
bad line here
EOC
cat >"$T/pg_rcpts" <<EOC
postmaster@
sales@test.example
EOC
write_gl_conf "whitelist_clients = $T/pg_clients" "whitelist_recipients = $T/pg_rcpts" \
	"whitelist_recipients = $T/deb_recipients"
write_exim_conf
{ echo "GREYLIST_USE_HOST_NAME = yes"; cat "$T/exim.conf"; } >"$T/e" &&
	mv "$T/e" "$T/exim.conf"

# hb IP NAME RCPT: the reply to RCPT from a client whose verified name is
# NAME ("" for none); Exim's log lines in $T/bh.err.
hb() {
	: >"$T/bh.err"
	if [ -n "$2" ]; then set -- "$1" -oMs "$2" "$3"; else set -- "$1" "$3"; fi
	eval "r_to=\${$#}"
	printf 'EHLO c.example\r\nMAIL FROM:<a@sender.example>\r\nRCPT TO:<%s>\r\nQUIT\r\n' "$r_to" |
		exim_run -C "$T/exim.conf" -bh "$@" 2>>"$T/bh.err" |
		tr -d '\r' | grep -E '^[0-9]{3} ' | sed -n 4p
}
# pass DESC IP NAME RCPT LINE: accepted, and the log names FILE:LINE.
pass() {
	r=$(hb "$2" "$3" "$4")
	case $r in
	250*) if grep -q "greylist: accept whitelist .*whitelist=$5\$" "$T/bh.err"; then
			ok "$1: $r, logged whitelist=$5"
		else
			nok "$1: $r, but the log says: $(grep 'greylist: ' "$T/bh.err" | tail -1)"
		fi ;;
	*) nok "$1: got '$r'" ;;
	esac
}
# grey DESC IP NAME RCPT: greylisted.
grey() {
	r=$(hb "$2" "$3" "$4")
	case $r in "451 4.7.1 "*) ok "$1: $r" ;; *) nok "$1: got '$r'" ;; esac
}
U=user@test.example
pass "the address line" 192.0.2.7 "" $U "$T/pg_clients:4"
grey "the next address" 192.0.2.8 "" $U
pass "a.b.c: an address in its /24" 198.51.100.77 "" $U "$T/pg_clients:5"
grey "a.b.c: the next /24" 198.51.101.1 "" $U
pass "the regex on the verified name" 203.0.113.5 mail7.relay.example $U "$T/pg_clients:2"
pass "the regex is caseless" 203.0.113.6 MAIL12.Relay.Example $U "$T/pg_clients:2"
grey "the regex does not match mailx.relay.example" 203.0.113.7 mailx.relay.example $U
grey "no verified name: name entries never match" 203.0.113.8 "" $U
pass "the domain line: the name itself" 203.0.113.9 partner.example $U "$T/pg_clients:3"
pass "the domain line: a subdomain" 203.0.113.10 smtp.out.partner.example $U "$T/pg_clients:3"
grey "the domain line: notpartner.example is not a subdomain" 203.0.113.11 notpartner.example $U
pass "recipient user@: postmaster at any domain, with +ext" 203.0.113.12 "" postmaster+x@test.example "$T/pg_rcpts:1"
pass "recipient user@domain" 203.0.113.13 "" sales@test.example "$T/pg_rcpts:2"
pass "Debian's recipient list: abuse@" 203.0.113.14 "" abuse@test.example "$T/deb_recipients:7"
grey "another recipient is greylisted" 203.0.113.15 "" bob@test.example
check "the bad line is logged with file and line" \
	sh -c "grep -q 'greylist: $T/pg_clients:6: .bad line here.: white space inside' '$T/bh.err'"

# greylist-admin: explain shows the entry and its origin; check names the
# bad line and exits 1.
A explain 203.0.113.5 a@sender.example user@test.example host=mail7.relay.example >"$T/ex" 2>&1
check "explain: accept whitelist" grep -q '^answer: *accept whitelist' "$T/ex"
check "explain: the regex entry and its file and line" \
	grep -qF "whitelist: /^mail\\d+\\.relay\\.example\$/ ($T/pg_clients:2)" "$T/ex"
A check --no-exim >"$T/chk" 2>&1; rc=$?
check "check exits 1 and names the bad line ($rc)" \
	sh -c "test $rc = 1 && grep -q 'problem: $T/pg_clients:6:' '$T/chk'"
