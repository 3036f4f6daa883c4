#!/bin/sh
# postgrey_lists.sh - postgrey's whitelist_clients and whitelist_recipients
# through the real Exim (exim -bh, the snippet with GREYLIST_USE_HOST_NAME,
# the verified name given with -oMs): Debian's own files load unchanged,
# and a file with a /regex/, a domain, an address and an a.b.c line lets
# through exactly the clients postgrey would; matches are logged with
# file and line; bad lines are named and skipped. Last, postgrey itself
# (on loopback, with the same files) answers a set of clients, and
# greylist-admin explain must whitelist exactly those postgrey passes.
. "$(dirname "$0")/../lib.sh"
plan 52

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
198.18
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

# postgrey, with the same four files, against explain: the same clients
# and recipients are let through.
write_gl_conf "whitelist_clients = $T/pg_clients" "whitelist_clients = $T/deb_clients" \
	"whitelist_recipients = $T/pg_rcpts" "whitelist_recipients = $T/deb_recipients"
cat >"$T/queries" <<EOQ
192.0.2.7 - user@test.example
192.0.2.8 - user@test.example
198.51.100.77 - user@test.example
198.51.101.1 - user@test.example
198.18.0.9 - user@test.example
198.18.1.9 - user@test.example
203.0.113.5 mail7.relay.example user@test.example
203.0.113.6 MAIL12.Relay.Example user@test.example
203.0.113.7 mailx.relay.example user@test.example
203.0.113.9 partner.example user@test.example
203.0.113.10 smtp.out.partner.example user@test.example
203.0.113.11 notpartner.example user@test.example
203.0.113.12 - postmaster+x@test.example
203.0.113.13 - sales@test.example
203.0.113.14 - sales+x@test.example
203.0.113.15 - bob@test.example
203.0.113.16 lists.debian.org user@test.example
203.0.113.17 mail3.telekom.de user@test.example
203.0.113.18 mailx.telekom.de user@test.example
195.235.39.200 - user@test.example
66.216.126.174 - user@test.example
203.0.113.19 smtp-out.google.com user@test.example
203.0.113.20 google.com.evil.example user@test.example
203.0.113.21 fmr12.intel.com user@test.example
203.0.113.22 - abuse@test.example
203.0.113.23 psmtp1.wxs.nl user@test.example
203.0.113.24 debian.org.example user@test.example
EOQ
cat >"$T/ask.pl" <<'EOP'
# ask.pl PORT < queries: postgrey's action for each "IP NAME RCPT" line
use strict; use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 5) or die "connect: $!";
my $i = 0;
while (my $q = <STDIN>) {
	chomp $q; my ($ip, $name, $rcpt) = split / /, $q; $i++;
	print $s "request=smtpd_access_policy\nclient_address=$ip\nclient_name=" .
		($name eq '-' ? 'unknown' : $name) . "\nrecipient=$rcpt\nsender=q$i\@sender.example\n\n";
	local $/ = "\n\n"; my $a = <$s>; defined $a or die "no answer";
	$a =~ s/\s+$//; print "$q $a\n";
}
EOP
if ! command -v postgrey >/dev/null || ! id postgrey >/dev/null 2>&1; then
	nok "postgrey is not installed (make check-deps installs it)"
else
	ok "postgrey is installed"
fi
port=$(free_port)
mkdir -p "$T/pgdb" && chown postgrey "$T/pgdb" 2>/dev/null
postgrey --inet="127.0.0.1:$port" --dbdir="$T/pgdb" --user=postgrey --group=postgrey \
	--pidfile="$T/pgdb/pid" --whitelist-clients="$T/pg_clients" \
	--whitelist-clients="$T/deb_clients" --whitelist-recipients="$T/pg_rcpts" \
	--whitelist-recipients="$T/deb_recipients" >"$T/postgrey.log" 2>&1 &
PIDS="$PIDS $!"
i=0
while [ $i -lt 100 ] && ! ss -Htln 2>/dev/null | grep -q "127.0.0.1:$port "; do sleep 0.1; i=$((i+1)); done
timeout 30 perl "$T/ask.pl" "$port" <"$T/queries" >"$T/answers" 2>"$T/ask.err"
check "postgrey answered every query" test "$(wc -l <"$T/answers")" = "$(wc -l <"$T/queries")"
while read -r ip name rcpt; do
	pg=$(grep "^$ip $name $rcpt action=" "$T/answers" | sed 's/.* action=//')
	case $pg in DUNNO) pgw=whitelisted ;; DEFER_IF_PERMIT*) pgw=greylisted ;; *) pgw="unknown ($pg)" ;; esac
	if [ "$name" = - ]; then A explain "$ip" a@sender.example "$rcpt" >"$T/ex" 2>&1
	else A explain "$ip" a@sender.example "$rcpt" "host=$name" >"$T/ex" 2>&1; fi
	if grep -q '^answer: *accept whitelist' "$T/ex"; then us=whitelisted; else us=greylisted; fi
	check "$ip $name $rcpt: postgrey $pgw, this module $us" test "$pgw" = "$us"
done <"$T/queries"
